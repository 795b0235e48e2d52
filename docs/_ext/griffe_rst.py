"""A griffe extension for the API reference: the docstrings' reStructuredText, in Markdown.

mkdocstrings renders Markdown; the docstrings are reStructuredText. This extension rewrites
each docstring when griffe loads it, before mkdocstrings parses it, with the site's converter
(``docs/_gen/rst.py``, :func:`rst_to_markdown`, which the generated pages use too; its module
docstring lists what it converts). mkdocs.yml loads the extension by path:
``extensions: [docs/_ext/griffe_rst.py:RstToMarkdown]``.
"""
from __future__ import annotations

import pathlib
import sys

import griffe

_DOCS = pathlib.Path(__file__).resolve().parents[1]
for _path in (str(_DOCS.parent), str(_DOCS)):  # the repository (its packages), docs/ (_gen)
    if _path not in sys.path:
        sys.path.insert(0, _path)

from _gen.rst import rst_to_markdown  # noqa: E402

__all__ = ["RstToMarkdown", "rst_to_markdown"]


class RstToMarkdown(griffe.Extension):
    """Rewrites every docstring with :func:`rst_to_markdown` as griffe loads it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
