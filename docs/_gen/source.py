"""Source pages: a repository file, highlighted, with an anchor on every line.

``code/optimizers/sgd.md`` shows ``optimizers/sgd.py`` whole; line ``n`` is the element with
``id="Ln"`` (the stylesheet numbers the lines), so a link to ``code/optimizers/sgd/#L44`` lands
on line 44. The literate pages show code highlighted from the standard library's tokenizer
(:func:`line_tokens`), with the short class names of the theme's (Pygments') styles.
"""
from __future__ import annotations

import builtins
import functools
import html
import io
import keyword
import tokenize

from .refs import ROOT

#: the short class names of the theme's highlighting styles (Pygments' names)
KEYWORD, CONSTANT, NAMESPACE, FUNCTION, CLASS, BUILTIN, PSEUDO, DECORATOR = \
    "k", "kc", "kn", "nf", "nc", "nb", "bp", "nd"
STRING, DOCSTRING, NUMBER, COMMENT, OPERATOR, PUNCTUATION, NAME = \
    "s2", "sd", "mi", "c1", "o", "p", "n"
_PUNCTUATION = set("()[]{},:.;")
_BUILTINS = set(dir(builtins))


def _classes(path: str, text: str):
    """``(start, end, css class)`` of the tokens of ``text`` (positions as (row, col))."""
    out = []
    previous = None  # the last significant token
    expect = None    # the class of the next name (after def / class / @)
    at_statement_start = True
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        kind, string = tok.type, tok.string
        css = None
        if kind == tokenize.NAME:
            if keyword.iskeyword(string) or keyword.issoftkeyword(string) and string in (
                    "match", "case") and at_statement_start:
                css = (CONSTANT if string in ("True", "False", "None") else
                       NAMESPACE if string in ("import", "from") else KEYWORD)
                expect = {"def": FUNCTION, "class": CLASS}.get(string)
            else:
                css = expect or (PSEUDO if string in ("self", "cls") else
                                 BUILTIN if string in _BUILTINS and previous != "." else NAME)
                expect = None
        elif kind == tokenize.OP:
            css = PUNCTUATION if string in _PUNCTUATION else OPERATOR
            if string == "@" and at_statement_start:
                css, expect = DECORATOR, DECORATOR
        elif kind == tokenize.NUMBER:
            css = NUMBER
        elif kind == tokenize.COMMENT:
            css = COMMENT
        elif kind == tokenize.STRING or kind in _FSTRING:
            css = DOCSTRING if at_statement_start and kind == tokenize.STRING else STRING
        if css is not None:
            out.append((tok.start, tok.end, css))
        if kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            at_statement_start = True
        elif kind not in (tokenize.NL, tokenize.COMMENT):
            at_statement_start = False
            previous = string
    return out


_FSTRING = {getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
            if hasattr(tokenize, n)}


@functools.lru_cache(maxsize=None)
def line_tokens(path: str) -> tuple[tuple[tuple[str, str, bool], ...], ...]:
    """The lines of ``path`` (repository-relative), each a tuple of ``(css class, text,
    is_comment)`` (css class ``""`` for the spaces between tokens); line ``n`` is item
    ``n - 1``."""
    text = (ROOT / path).read_text(encoding="utf-8")
    src = text.split("\n")
    lines: list[list[tuple[str, str, bool]]] = [[] for _ in src]
    cursor = (1, 0)

    def put(start, end, css):
        (r0, c0), (r1, c1) = start, end
        for r in range(r0, r1 + 1):
            a = c0 if r == r0 else 0
            b = c1 if r == r1 else len(src[r - 1])
            if b > a:
                lines[r - 1].append((css, src[r - 1][a:b], css == COMMENT))

    for start, end, css in _classes(path, text):
        if start > cursor:
            put(cursor, start, "")
        put(start, end, css)
        cursor = max(cursor, end)
    put(cursor, (len(src), len(src[-1])), "")
    return tuple(tuple(line) for line in lines)


def source_lines(path: str) -> list[str]:
    return (ROOT / path).read_text(encoding="utf-8").split("\n")


def render_tokens(tokens, drop_comments: bool = False, dedent: int = 0) -> str:
    """One line's HTML: its tokens in spans; without its comment (and the spaces before it)
    when ``drop_comments``; ``dedent`` leading spaces removed."""
    tokens = list(tokens)
    if drop_comments:
        while tokens and (tokens[-1][2] or not tokens[-1][1].strip()):
            tokens.pop()
    pieces: list[list[str]] = []  # [css, text], neighbours of one class merged
    for css, text, _ in tokens:
        if dedent:
            cut = min(dedent, len(text) - len(text.lstrip(" ")))
            text = text[cut:]
            dedent = dedent - cut if not text else 0
            if not text:
                continue
        if css == NAME:
            css = ""  # names in the text's colour: no span
        if pieces and pieces[-1][0] == css:
            pieces[-1][1] += text
        else:
            pieces.append([css, text])
    out = []
    for css, text in pieces:
        esc = html.escape(text, quote=False)
        out.append(f'<span class="{css}">{esc}</span>' if css else esc)
    return "".join(out)


def page(path: str) -> str:
    """The Markdown of the source page of ``path``: the text, escaped, one element per line
    (no colouring: a page of a thousand lines stays light for the site's Markdown; the
    literate pages colour the code they show)."""
    lines = source_lines(path)
    if lines and not lines[-1]:
        lines = lines[:-1]  # the end of the last line is not a line
    body = "".join(f'<span id="L{n}">{html.escape(line, quote=False)}\n</span>'
                   for n, line in enumerate(lines, start=1))
    return ("---\nhide:\n  - navigation\n  - toc\nsearch:\n  exclude: true\n---\n\n"
            f"# `{path}`\n\n"
            f'<div class="source-page"><pre><code>{body}</code></pre></div>\n')
