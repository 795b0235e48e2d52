"""The site's page generators (``docs/_gen``) for the tests, imported as ``sitegen``.

:func:`load` imports them without writing bytecode under ``docs/`` (MkDocs would copy a
``__pycache__`` there into the site). :func:`source_page_lines` reads a generated source page
back, line number -> text, the way a browser finds the element a ``#L<n>`` link points at.
"""
from __future__ import annotations

import html
import importlib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load():
    """The ``_gen`` package with every generator imported (``_gen.pages`` imports them)."""
    old = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        if str(ROOT / "docs") not in sys.path:
            sys.path.insert(0, str(ROOT / "docs"))
        importlib.import_module("_gen.pages")
        return importlib.import_module("_gen")
    finally:
        sys.dont_write_bytecode = old


LINE = re.compile(r'<span id="L(\d+)">(.*?)\n</span>', re.S)


def source_page_lines(page_markdown: str) -> dict[int, str]:
    """The lines of a generated source page: ``{n: text}`` from its ``id="Ln"`` elements."""
    return {int(m.group(1)): html.unescape(m.group(2)) for m in LINE.finditer(page_markdown)}


def file_lines(path: str) -> list[str]:
    return (ROOT / path).read_text(encoding="utf-8").split("\n")
