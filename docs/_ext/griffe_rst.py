"""A griffe extension for the API reference: the docstrings' reStructuredText, in Markdown.

The docstrings of the packages are written in reStructuredText (they read well in ``help()``
and in an editor); mkdocstrings renders Markdown. This extension rewrites each docstring when
griffe loads it, before mkdocstrings parses it, so that the API pages show what the docstrings
mean:

==========================================  ==================================================
reStructuredText                            Markdown
==========================================  ==================================================
``:math:`x```                               ``$x$`` (arithmatex, then KaTeX in the browser)
``.. math::`` and its indented body         one ``$$ ... $$`` block per blank-line separated
                                            equation; an equation with ``&`` or ``\\`` is
                                            wrapped in ``aligned`` (``gathered`` without ``&``)
``:class:`~a.B```, ``:func:`f```, ...       a code span of the name (the part after ``~``:
                                            the last component)
a paragraph ending ``text::`` and the       ``text:`` and a fenced code block
indented block after it
a simple table (``====  ====`` borders)     a Markdown table; inside its cells ``|`` in a
                                            formula becomes ``\vert`` (a bare ``|`` would split
                                            the cell)
==========================================  ==================================================

Everything else (paragraphs, double-backquote literals, lists) reads the same in both.
mkdocs.yml loads the extension by path: ``extensions: [docs/_ext/griffe_rst.py]``.
"""
from __future__ import annotations

import re

import griffe

__all__ = ["rst_to_markdown", "RstToMarkdown"]

_MATH_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. math::[ \t]*(?P<rest>.*)$")
_DIRECTIVE_OPTION = re.compile(r"^\s+:[\w-]+:")
_TABLE_BORDER = re.compile(r"^(?P<indent>\s*)=+(?:[ ]+=+)+\s*$")
_MATH_ROLE = re.compile(r":math:`(?P<tex>[^`]+)`")
_XREF_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const|ref):`(?P<target>[^`]+)`")
_FENCE = "```"


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def _wrap_equation(lines: list[str]) -> str:
    """One display equation; multi-line ones in an environment KaTeX accepts."""
    tex = "\n".join(lines).strip()
    if "&" in tex:
        return "\\begin{aligned}\n" + tex + "\n\\end{aligned}"
    if "\\\\" in tex:
        return "\\begin{gathered}\n" + tex + "\n\\end{gathered}"
    return tex


def _math_role(match: re.Match, in_table: bool = False) -> str:
    tex = " ".join(match.group("tex").split())
    if in_table:
        tex = tex.replace("\\|", "\\Vert ").replace("|", "\\vert ").strip()
    return "$" + tex + "$"


def _xref_role(match: re.Match) -> str:
    target = match.group("target").strip()
    titled = re.match(r"^(?P<title>.+?)\s*<(?P<target>[^>]+)>$", target)
    if titled:
        name = titled.group("title")
    elif target.startswith("~"):
        name = target[1:].rsplit(".", 1)[-1]
    else:
        name = target
    return "`" + name + "`"


def _roles(text: str, in_table: bool = False) -> str:
    text = _MATH_ROLE.sub(lambda m: _math_role(m, in_table), text)
    return _XREF_ROLE.sub(_xref_role, text)


def _columns(border: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", border)]


def _table(lines: list[str], indent: str) -> list[str]:
    """A simple table (its lines from the first border to the last) as Markdown rows."""
    cols = _columns(lines[0])
    borders = [k for k, line in enumerate(lines) if _TABLE_BORDER.match(line)]
    header_end = borders[1] if len(borders) == 3 else None
    rows: list[list[str]] = []
    header: list[str] | None = None
    for k, line in enumerate(lines):
        if k in borders:
            if k == header_end and rows:
                header, rows = rows[0], []
            continue
        if not line.strip():
            continue
        cells = []
        for c, (start, end) in enumerate(cols):
            stop = cols[c + 1][0] if c + 1 < len(cols) else len(line)
            cells.append(line[start:stop].strip())
        if rows and not cells[0]:  # a continuation line: its text joins the row above
            rows[-1] = [(a + " " + b).strip() for a, b in zip(rows[-1], cells)]
        else:
            rows.append(cells)
    if header is None:
        header = [""] * len(cols)

    def fmt(cells: list[str]) -> str:
        return indent + "| " + " | ".join(_roles(c, in_table=True) for c in cells) + " |"

    return ["", fmt(header), indent + "|" + "|".join(" --- " for _ in cols) + "|",
            *(fmt(r) for r in rows), ""]


def _next_border(lines: list[str], start: int) -> int:
    for j in range(start, len(lines)):
        if _TABLE_BORDER.match(lines[j]):
            return j
    raise ValueError(f"a simple table opened on line {start} has no closing border")


def rst_to_markdown(text: str) -> str:
    """The Markdown reading of a reStructuredText docstring (see the module's table)."""
    lines = text.splitlines()
    out: list[str] = []
    prose: list[str] = []  # lines whose roles are converted together (a role may span lines)

    def flush():
        if prose:
            out.extend(_roles("\n".join(prose)).split("\n"))
            prose.clear()

    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        directive = _MATH_DIRECTIVE.match(line)
        border = _TABLE_BORDER.match(line)
        if directive:
            flush()
            indent = directive.group("indent")
            # Markdown continues a list item's content at four spaces, RST at the item's text
            pad = " " * (-(-len(indent) // 4) * 4)
            body = [directive.group("rest")] if directive.group("rest").strip() else []
            j = i + 1
            while j < n and _DIRECTIVE_OPTION.match(lines[j]) and not body:
                j += 1  # :label:, :nowrap: ... have no Markdown reading
            while j < n and (not lines[j].strip() or _indent_of(lines[j]) > len(indent)):
                body.append(lines[j])
                j += 1
            while j > i + 1 and not lines[j - 1].strip():
                j -= 1  # trailing blank lines belong to what follows
                body.pop()
            width = min((_indent_of(b) for b in body if b.strip()), default=0)
            equations, current = [], []
            for b in body:
                if b.strip():
                    current.append(b[width:])
                elif current:
                    equations.append(current)
                    current = []
            if current:
                equations.append(current)
            for eq in equations:
                out.extend(["", pad + "$$"])
                out.extend(pad + t for t in _wrap_equation(eq).split("\n"))
                out.extend([pad + "$$", ""])
            i = j
            continue
        if border:
            flush()
            indent = border.group("indent")
            j = _next_border(lines, i + 1)
            if j + 1 < n and lines[j + 1].strip():  # a header, then the body's border
                j = _next_border(lines, j + 1)
            out.extend(_table(lines[i:j + 1], indent))
            i = j + 1
            continue
        stripped = line.rstrip()
        if stripped.endswith("::") and not stripped.lstrip().startswith(".."):
            head = stripped[:-2]
            if head.strip():
                prose.append(head.rstrip() if head.endswith(" ") else head + ":")
            flush()
            base = _indent_of(line)
            j = i + 1
            while j < n and not lines[j].strip():
                j += 1
            block_end = j
            while block_end < n and (not lines[block_end].strip()
                                     or _indent_of(lines[block_end]) > base):
                block_end += 1
            while block_end > j and not lines[block_end - 1].strip():
                block_end -= 1
            block = lines[j:block_end]
            if block and _indent_of(block[0]) > base:
                width = min(_indent_of(b) for b in block if b.strip())
                pad = " " * base
                out.extend(["", pad + _FENCE])
                out.extend((pad + b[width:]) if b.strip() else "" for b in block)
                out.extend([pad + _FENCE, ""])
                i = block_end
            else:
                i += 1
            continue
        prose.append(line)
        i += 1
    flush()
    return "\n".join(_single_blank_lines(out)).strip("\n")


def _single_blank_lines(lines: list[str]) -> list[str]:
    """Runs of blank lines as one (the blocks above pad themselves), except in code fences."""
    kept: list[str] = []
    fenced = False
    for line in lines:
        if line.strip().startswith(_FENCE):
            fenced = not fenced
        if not fenced and not line.strip() and kept and not kept[-1].strip():
            continue
        kept.append("" if not line.strip() and not fenced else line)
    return kept


class RstToMarkdown(griffe.Extension):
    """Rewrites every docstring with :func:`rst_to_markdown` as griffe loads it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
