"""The site's generated pages, written at build time by mkdocs-gen-files.

The formula map with its code references as links, the literate pages (formula beside code),
the experiments gallery and the source pages with line anchors; the generators live in
``docs/_gen/`` (see ``docs/_gen/pages.py``). A reference that no longer resolves, or a registered
experiment without saved results, raises here and stops the build.
"""
import pathlib
import sys

sys.dont_write_bytecode = True  # no __pycache__ under docs/ (it would be copied into the site)
HERE = pathlib.Path(__file__).resolve().parent
for path in (str(HERE.parent), str(HERE)):  # the repository (its packages), docs/ (_gen)
    if path not in sys.path:
        sys.path.insert(0, path)

import mkdocs_gen_files  # noqa: E402
from _gen import pages  # noqa: E402


def main() -> None:
    directory_urls = mkdocs_gen_files.config.use_directory_urls
    for name, text in pages.pages(directory_urls).items():
        with mkdocs_gen_files.open(name, "w") as f:
            f.write(text)


main()
