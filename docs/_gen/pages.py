"""Every generated page of the site, as ``{path under docs/: Markdown}``.

* ``lectures.md``: the formula map, its references as links (:mod:`formula_map`);
* ``literate/index.md`` and ``literate/<family>.md`` (:mod:`literate`);
* ``gallery.md``: the experiments gallery (:mod:`gallery`);
* ``code/<path>.md``: the source page of every module of ``minigrad``, ``optimizers``,
  ``schedules`` and ``problems`` and of every other file a generated page links
  (:mod:`source`).
"""
from __future__ import annotations

from . import formula_map, gallery, literate, refs, source, urls

PACKAGES = ("minigrad", "optimizers", "schedules", "problems")


def package_files() -> set[str]:
    return {p.relative_to(refs.ROOT).as_posix() for pkg in PACKAGES
            for p in (refs.ROOT / pkg).rglob("*.py")}


def pages(directory_urls: bool = True) -> dict[str, str]:
    out = {formula_map.PAGE: formula_map.render(),
           "literate/index.md": literate.index_page(),
           gallery.PAGE: gallery.render(directory_urls=directory_urls)}
    for family in literate.FAMILIES:
        out[literate.page_path(family)] = literate.family_page(family, directory_urls)
    files = (package_files() | formula_map.linked_files() | literate.linked_files()
             | set(gallery.experiment_sources().values()))
    for path in sorted(files):
        out[urls.code_page(path)] = source.page(path)
    return out
