"""A MkDocs hook: ``[[optimizers.adam.Adam._update]]`` in any page becomes a link to that line
of its source page, so that a formula on a topic page links to the code that implements it.

It is the formula map's mechanism (``docs/_gen/formula_map.py``: :func:`render` resolves each
reference with ``docs/_gen/refs.py`` and links the line on the source page ``code/<path>.md``)
applied to every page written by hand; a reference that does not resolve stops the build.
mkdocs.yml loads it: ``hooks: [docs/_ext/code_refs.py]``.
"""
from __future__ import annotations

import pathlib
import sys

_DOCS = pathlib.Path(__file__).resolve().parents[1]
for _path in (str(_DOCS.parent), str(_DOCS)):  # the repository (its packages), docs/ (_gen)
    if _path not in sys.path:
        sys.path.insert(0, _path)


def on_page_markdown(markdown, page, config, files):
    # only the pages written by hand: a generated page (a source page holds code, where
    # "[[" means something else) comes from the generator's own folder, not from docs/
    written = pathlib.Path(page.file.abs_src_path or "").resolve()
    if "[[" not in markdown or pathlib.Path(config["docs_dir"]).resolve() not in written.parents:
        return markdown
    from _gen import formula_map

    return formula_map.render(markdown, page.file.src_uri)
