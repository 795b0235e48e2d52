r"""The docstrings' reStructuredText as Markdown: one converter for every page of the site.

The docstrings of the packages are written in reStructuredText (they read well in ``help()``
and in an editor); the site renders Markdown. The API reference (through the griffe extension
``docs/_ext/griffe_rst.py``, as mkdocstrings loads each docstring) and the generated pages
(the literate pages: :mod:`literate`) both read a docstring with :func:`rst_to_markdown`:

==========================================  ==================================================
reStructuredText                            Markdown
==========================================  ==================================================
``:math:`x```                               ``$x$`` (arithmatex, then KaTeX in the browser);
                                            a formula broken across lines is one formula
``.. math::`` and its indented body         one ``$$ ... $$`` block per blank-line separated
                                            equation; an equation with ``&`` or ``\\`` is
                                            wrapped in ``aligned`` (``gathered`` without ``&``)
``:class:`~a.B```, ``:func:`f```, ...       a code span of the name (the part after ``~``:
                                            the last component; ``title <target>``: the title)
a paragraph ending ``text::`` and the       ``text:`` and a fenced code block (``text ::``:
indented block after it                     ``text``; a bare ``::``: the block alone)
``.. code-block:: python`` and its body     a fenced code block in that language
a simple table (``====  ====`` borders)     a Markdown table; inside its cells ``|`` in a
                                            formula becomes ``\vert`` (a bare ``|`` would split
                                            the cell)
a section title (a line underlined with     an ATX heading (``##``): the first underline
``---``, ``===``, ...)                      style at ``section_level``, the next one deeper
a ``$`` of the prose                        ``\$`` (not the start of a formula)
==========================================  ==================================================

Inline literals (double backquotes) are code in both and are left as they are, roles inside
them included. Everything else (paragraphs, lists, their indentation) reads the same in both.
"""
from __future__ import annotations

import inspect
import re

__all__ = ["rst_to_markdown", "to_markdown"]

_MATH_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. math::[ \t]*(?P<rest>.*)$")
_CODE_DIRECTIVE = re.compile(
    r"^(?P<indent>\s*)\.\. (?:code-block|code|sourcecode)::[ \t]*(?P<lang>\S*)\s*$")
_DIRECTIVE_OPTION = re.compile(r"^\s+:[\w-]+:")
_TABLE_BORDER = re.compile(r"^(?P<indent>\s*)=+(?:[ ]+=+)+\s*$")
_MATH_ROLE = re.compile(r":math:`(?P<tex>[^`]+)`")
_XREF_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const|ref):`(?P<target>[^`]+)`")
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:._])\1*\s*$")
_LITERAL = re.compile(r"``.+?``(?!`)", re.S)  # ``:math:`x``` ends at its last two
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


def _prose_roles(text: str, in_table: bool) -> str:
    """Text without inline literals: its roles converted, its own ``$`` escaped."""
    out, pos = [], 0
    for m in _MATH_ROLE.finditer(text):
        out.append(_XREF_ROLE.sub(_xref_role, text[pos:m.start()]).replace("$", "\\$"))
        out.append(_math_role(m, in_table))
        pos = m.end()
    out.append(_XREF_ROLE.sub(_xref_role, text[pos:]).replace("$", "\\$"))
    return "".join(out)


def _roles(text: str, in_table: bool = False) -> str:
    """The roles of a stretch of prose (it may span lines); inline literals left as they are."""
    out, pos = [], 0
    for m in _LITERAL.finditer(text):
        out.append(_prose_roles(text[pos:m.start()], in_table))
        out.append(m.group(0))
        pos = m.end()
    out.append(_prose_roles(text[pos:], in_table))
    return "".join(out)


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


def _indented_block(lines: list[str], start: int, base: int) -> int:
    """The end (exclusive) of the block from ``start`` on indented deeper than ``base``
    (blank lines inside it kept, trailing ones left to what follows)."""
    end = start
    while end < len(lines) and (not lines[end].strip() or _indent_of(lines[end]) > base):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return end


def _pad(indent: int) -> str:
    """Markdown continues a list item's content at four spaces, RST at the item's text."""
    return " " * (-(-indent // 4) * 4)


def _fenced(block: list[str], pad: str, lang: str = "") -> list[str]:
    width = min(_indent_of(b) for b in block if b.strip())
    return ["", pad + _FENCE + lang, *((pad + b[width:]) if b.strip() else "" for b in block),
            pad + _FENCE, ""]


def _is_title(lines: list[str], i: int) -> bool:
    """Whether line ``i`` is a section title: unindented text after a blank line (or first),
    underlined by one punctuation character repeated at least as long as the text."""
    line, n = lines[i], len(lines)
    return (i + 1 < n and bool(line.strip()) and not line[0].isspace()
            and (i == 0 or not lines[i - 1].strip())
            and _UNDERLINE.match(lines[i + 1]) is not None
            and len(lines[i + 1].rstrip()) >= len(line.rstrip()) >= 1
            and not _TABLE_BORDER.match(lines[i + 1]))


def rst_to_markdown(text: str, section_level: int = 2) -> str:
    """The Markdown reading of a reStructuredText docstring, as griffe and :func:`inspect.getdoc`
    give it (its common indentation removed); see the module's table. A section title of the
    first underline style is a heading of level ``section_level`` (``##`` by default: the API
    pages shift it below the object's heading), the next style one level deeper."""
    lines = text.splitlines()
    out: list[str] = []
    styles: list[str] = []  # the underline characters of the section titles, in order
    prose: list[str] = []  # lines whose roles are converted together (a role may span lines)

    def flush():
        if prose:
            out.extend(_roles("\n".join(prose)).split("\n"))
            prose.clear()

    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        directive = _MATH_DIRECTIVE.match(line)
        code = _CODE_DIRECTIVE.match(line)
        border = _TABLE_BORDER.match(line)
        if _is_title(lines, i):
            flush()
            style = lines[i + 1].strip()[0]
            if style not in styles:
                styles.append(style)
            level = min(6, section_level + styles.index(style))
            out.extend(["", "#" * level + " " + _roles(line.strip()), ""])
            i += 2
            continue
        if directive:
            flush()
            indent = directive.group("indent")
            pad = _pad(len(indent))
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
        if code:
            flush()
            base = len(code.group("indent"))
            j = i + 1
            while j < n and _DIRECTIVE_OPTION.match(lines[j]):
                j += 1  # :linenos:, :caption: ...
            while j < n and not lines[j].strip():
                j += 1
            end = _indented_block(lines, j, base)
            if end > j:
                out.extend(_fenced(lines[j:end], _pad(base), code.group("lang")))
            i = max(end, i + 1)
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
            end = _indented_block(lines, j, base)
            if end > j and _indent_of(lines[j]) > base:
                out.extend(_fenced(lines[j:end], _pad(base)))
                i = end
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


def to_markdown(doc: str | None, section_level: int = 2) -> str:
    """A docstring as Python stores it (``obj.__doc__``: ``None``, or indented like its code)
    as Markdown: :func:`rst_to_markdown` of its cleaned text (:func:`inspect.cleandoc`)."""
    if not doc:
        return ""
    return rst_to_markdown(inspect.cleandoc(doc), section_level) + "\n"
