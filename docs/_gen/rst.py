"""The code's docstrings (reStructuredText with ``:math:`` roles and ``.. math::`` blocks) as
Markdown for the site's pages, with the math in the ``$...$`` / ``$$...$$`` form the site's
arithmatex extension turns into rendered formulas.

* ``:math:`x``` becomes ``$x$``; a ``.. math::`` block becomes a display formula, inside
  ``aligned`` when it has several lines (``\\\\``) or alignment points (``&``), as Sphinx does;
* ````code```` and the cross-reference roles (``:class:`~optimizers.adam.AMSGrad```,
  ``:func:``, ``:mod:``, ...) become code;
* a paragraph ending in ``::`` introduces a literal block (a code block), a simple table
  (``====  ====`` rules) becomes an HTML table (its cells may hold math with ``|``, which a
  Markdown table would split), bullets stay bullets.
"""
from __future__ import annotations

import html
import inspect
import re

ROLE = re.compile(r":(?:py:)?(class|func|mod|meth|data|attr|exc|obj|ref):`~?([^`]+)`")
MATH_ROLE = re.compile(r":math:`([^`]*)`")
LITERAL = re.compile(r"``(.+?)``")


def inline(text: str) -> str:
    """One line or paragraph of RST text as Markdown."""
    out = []
    pos = 0
    for m in MATH_ROLE.finditer(text):
        out.append(_inline_text(text[pos:m.start()]))
        out.append("$" + m.group(1).strip() + "$")
        pos = m.end()
    out.append(_inline_text(text[pos:]))
    return "".join(out)


def _inline_text(text: str) -> str:
    def role(m):
        target = m.group(2).strip()
        shown = target.rsplit(".", 1)[-1] if m.group(0).split("`")[1].startswith("~") \
            else target
        return f"`{shown}`"

    text = ROLE.sub(role, text)
    text = LITERAL.sub(lambda m: "`" + m.group(1) + "`", text)
    return text.replace("$", r"\$")


def _display(lines: list[str]) -> list[str]:
    body = "\n".join(line.strip() for line in lines if line.strip())
    if "\\\\" in body or "&" in body:
        body = "\\begin{aligned}\n" + body + "\n\\end{aligned}"
    return ["", "$$", body, "$$", ""]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block(lines: list[str], k: int, base: int) -> tuple[list[str], int]:
    """The lines indented deeper than ``base`` from ``k`` on (blank lines inside kept)."""
    out = []
    while k < len(lines) and (not lines[k].strip() or _indent(lines[k]) > base):
        out.append(lines[k])
        k += 1
    while out and not out[-1].strip():
        out.pop()
        k -= 1
    return out, k


def inline_html(text: str) -> str:
    """One line of RST text as HTML (for a table, where Markdown is not read): math as
    ``<span class="arithmatex">``, literals and roles as code, the rest escaped."""
    out, pos = [], 0
    pattern = re.compile(MATH_ROLE.pattern + "|" + ROLE.pattern + "|" + LITERAL.pattern)
    for m in pattern.finditer(text):
        out.append(html.escape(text[pos:m.start()], quote=False))
        if m.group(1) is not None:
            out.append('<span class="arithmatex">\\(' + html.escape(m.group(1).strip(),
                                                                     quote=False) + "\\)</span>")
        else:
            code = m.group(3) if m.group(3) is not None else m.group(4)
            if m.group(3) is not None and m.group(0).split("`")[1].startswith("~"):
                code = code.rsplit(".", 1)[-1]
            out.append("<code>" + html.escape(code, quote=False) + "</code>")
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def _table(lines: list[str]) -> list[str]:
    """A simple table (``====`` rules) as an HTML table: its cells may hold math with ``|``,
    which a Markdown table would split."""
    rule = lines[0]
    spans = [(m.start(), m.end()) for m in re.finditer(r"=+", rule)]
    rows = []
    for line in lines[1:]:
        if re.fullmatch(r"[= ]+", line.strip()):
            rows.append(None)
            continue
        cells = []
        for j, (a, _) in enumerate(spans):
            b = spans[j + 1][0] if j + 1 < len(spans) else len(line)
            cells.append(line[a:b].strip())
        rows.append(cells)
    header = None
    if None in rows[:-1]:  # a header row above the middle rule
        cut = rows.index(None)
        header, rows = rows[:cut][0], rows[cut + 1:]
    rows = [r for r in rows if r is not None]
    out = ["", "<table>"]
    if header:
        out.append("<thead><tr>" + "".join(f"<th>{inline_html(c)}</th>" for c in header)
                   + "</tr></thead>")
    out.append("<tbody>")
    out += ["<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in r) + "</tr>" for r in rows]
    return out + ["</tbody>", "</table>", ""]


def to_markdown(doc: str | None) -> str:
    """A docstring as Markdown."""
    if not doc:
        return ""
    lines = inspect.cleandoc(doc).split("\n")
    out: list[str] = []
    para: list[str] = []  # the prose lines of the paragraph or bullet being read

    def flush():
        if para:
            head = para[0]
            bullet = re.match(r"[*-] ", head)
            text = " ".join(p.strip() for p in ([head[2:]] if bullet else [head]) + para[1:])
            out.append(("* " if bullet else "") + inline(text))
            para.clear()

    k = 0
    while k < len(lines):
        line = lines[k]
        stripped = line.strip()
        m = re.match(r"\.\. math::(.*)$", stripped)
        if m:
            flush()
            first = [m.group(1)] if m.group(1).strip() else []
            block, k = _block(lines, k + 1, _indent(line))
            out += _display(first + block)
            continue
        if re.fullmatch(r"=+( +=+)+", stripped):
            flush()
            j = k + 1
            while j < len(lines) and lines[j].strip():
                j += 1
            out += _table(lines[k:j])
            k = j
            continue
        if stripped.endswith("::") and not stripped.startswith(".."):
            para.append(stripped[:-2].rstrip() + ":" if stripped[:-2].strip() else "")
            if not para[-1]:
                para.pop()
            flush()
            j = k + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            block, k2 = _block(lines, j, _indent(line))
            if block:
                width = min(_indent(b) for b in block if b.strip())
                out += ["", "```text"] + [b[width:] for b in block] + ["```", ""]
                k = k2
            else:
                k += 1
            continue
        if not stripped:
            flush()
            out.append("")
        elif re.match(r"[*-] ", stripped):
            flush()
            para.append(stripped)
        else:
            para.append(stripped)
        k += 1
    flush()
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def summary(doc: str | None) -> str:
    """The first paragraph of a docstring, as Markdown on one line."""
    if not doc:
        return ""
    first = inspect.cleandoc(doc).split("\n\n", 1)[0]
    if first.lstrip().startswith(".. math::"):
        return ""
    return inline(" ".join(part.strip() for part in first.split("\n")))
