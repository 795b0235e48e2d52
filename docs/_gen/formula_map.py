"""The formula map (``docs/lectures.md``) with its references turned into links.

Every ``[[reference]]`` of the page (syntax in :mod:`refs`) becomes a Markdown link to the line
of the source page (``code/<path>.md#L<n>``) or, for an experiment, to its card in the gallery
(``gallery.md#<name>``); a reference that does not resolve raises :class:`refs.RefError`. HTML
comments (where the page explains the syntax) are left out of the generated page and are not
read for references. Section 10's table also tells the gallery which lectures each
experiment's claim comes from (:func:`experiment_lectures`).
"""
from __future__ import annotations

import posixpath
import re

from . import refs, urls

PAGE = "lectures.md"
COMMENT = re.compile(r"<!--.*?-->\s*", re.S)


def source_text() -> str:
    return (refs.ROOT / "docs" / PAGE).read_text(encoding="utf-8")


def references(text: str | None = None) -> list[str]:
    """The references of the page (outside HTML comments), in order."""
    return refs.find_refs(COMMENT.sub("", source_text() if text is None else text))


def link(target: refs.Target, page: str = PAGE) -> str:
    """A Markdown link from ``page`` to a resolved reference."""
    base = posixpath.dirname(page) or "."
    if target.kind == "experiment":
        gallery = posixpath.relpath("gallery.md", base)
        return f"[experiment `{target.label}`]({gallery}#{target.experiment})"
    dest = posixpath.relpath(urls.code_page(target.path), base)
    anchor = "" if target.line == 1 and target.kind in ("module", "file") else f"#L{target.line}"
    return f"[`{target.label}`]({dest}{anchor})"


def render(text: str | None = None, page: str = PAGE) -> str:
    """The page with its references as links (raises :class:`refs.RefError` on one that does
    not resolve)."""
    text = COMMENT.sub("", source_text() if text is None else text)

    def sub(m):
        try:
            return link(refs.resolve(m.group(1)), page)
        except refs.RefError as exc:
            raise refs.RefError(f"docs/{page}: [[{m.group(1)}]] does not resolve: {exc}") \
                from None

    return refs.REF.sub(sub, text)


def experiment_lectures(text: str | None = None) -> dict[str, str]:
    """Section 10's table: experiment name -> the lectures and slides its claim comes from
    (Markdown)."""
    out = {}
    for line in (source_text() if text is None else text).splitlines():
        m = re.match(r"\|\s*\[\[experiment:([a-z0-9-]+)\]\]\s*\|(.*?)\|(.*)\|\s*$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def linked_files(text: str | None = None) -> set[str]:
    """The repository files the map links (their source pages must exist)."""
    out = set()
    for ref in references(text):
        target = refs.resolve(ref)
        if target.path:
            out.add(target.path)
    return out
