"""Formula comments of the code to LaTeX, for the literate pages.

The code writes each formula line as one code line with a comment stating the formula in plain
text: ``# m_t = beta1 m_{t-1} + (1 - beta1) g_t``, ``# x_r = x_bar + rho (x_bar - x_{n+1})``,
``# u ~ N(0, I)``. :func:`convert` splits such a comment into runs of text and runs of math and
writes each math run in LaTeX: Greek names become letters (``beta1`` is :math:`\\beta_1`,
``eps`` is :math:`\\epsilon`), ``_t`` / ``_{t-1}`` / ``^T`` become scripts, ``x_hat`` /
``x_bar`` / ``g~`` accents, ``sqrt(...)`` a root, ``<-`` an arrow, ``*`` a product (``\\cdot``
next to a number, the entrywise ``\\odot`` otherwise) and ``@`` a matrix product.

Words are read by what they are and where they stand: a single letter, a Greek name, a name
with a short subscript or a known function (``sqrt``, ``max``, ``sign``, ...) is math; an
English word is text unless it stands next to an operator (``x - lr g`` has the step ``lr``
in it, ``look-ahead`` and ``(if lambda > 0)`` keep their words as text). A run whose LaTeX
fails the structural checks of :func:`is_wellformed` (balanced braces, no empty or doubled
scripts) is shown as text: a comment is never rendered as broken LaTeX.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

GREEK = {
    "alpha": r"\alpha", "beta": r"\beta", "gamma": r"\gamma", "delta": r"\delta",
    "epsilon": r"\epsilon", "eps": r"\epsilon", "varepsilon": r"\varepsilon", "zeta": r"\zeta",
    "eta": r"\eta", "theta": r"\theta", "iota": r"\iota", "kappa": r"\kappa",
    "lambda": r"\lambda", "mu": r"\mu", "nu": r"\nu", "xi": r"\xi", "pi": r"\pi",
    "rho": r"\rho", "sigma": r"\sigma", "tau": r"\tau", "upsilon": r"\upsilon", "phi": r"\phi",
    "chi": r"\chi", "psi": r"\psi", "omega": r"\omega",
    "Gamma": r"\Gamma", "Delta": r"\Delta", "Theta": r"\Theta", "Lambda": r"\Lambda",
    "Xi": r"\Xi", "Pi": r"\Pi", "Sigma": r"\Sigma", "Phi": r"\Phi", "Psi": r"\Psi",
    "Omega": r"\Omega",
}

#: names written as an operator name (followed by their argument, or alone)
OPERATOR_NAMES = {
    "sqrt": None,  # special: \sqrt{...}
    "abs": None,   # special: |...|
    "exp": r"\exp", "log": r"\log", "ln": r"\ln", "max": r"\max", "min": r"\min",
    "sin": r"\sin", "cos": r"\cos", "tanh": r"\tanh", "det": r"\det",
    "sign": r"\mathrm{sign}", "clip": r"\mathrm{clip}", "Clip": r"\mathrm{Clip}",
    "diag": r"\mathrm{diag}", "tr": r"\mathrm{tr}", "softmax": r"\mathrm{softmax}",
    "argmin": r"\mathrm{argmin}", "argmax": r"\mathrm{argmax}", "mean": r"\mathrm{mean}",
    "norm": r"\mathrm{norm}", "eig": r"\mathrm{eig}", "floor": r"\mathrm{floor}",
    "ceil": r"\mathrm{ceil}", "lmo": r"\mathrm{lmo}", "LMO": r"\mathrm{LMO}",
    "RMS": r"\mathrm{RMS}", "polar": r"\mathrm{polar}", "Var": r"\mathrm{Var}",
    "sum": r"\sum", "prod": r"\prod", "grad": r"\nabla",
}

#: words that are always text, whatever stands next to them (English, and code words)
STOPWORDS = set("""
eq eqs see vs
an and are as at be by do does each else every for from has if is it its no nor not of on
one only or per so than that the then this to two up was we when where which while with
without yes new old all any but can few may none once same too via
""".split())

#: subscripts spelled as words: how to write them
SUB_WORDS = {"max": r"\max", "min": r"\min", "inf": r"\infty", "infinity": r"\infty",
             "star": "*"}
#: accents spelled as subscripts: ``x_hat``, ``x_bar``, ``x_tilde``
ACCENTS = {"hat": r"\hat", "bar": r"\bar", "tilde": r"\tilde"}

BINARY = {"<-": r"\leftarrow", "->": r"\to", "<=": r"\leq", ">=": r"\geq", "!=": r"\neq",
          "==": "=", "=": "=", "+": "+", "-": "-", "/": "/", "<": "<", ">": ">",
          "~": r"\sim", "+-": r"\pm", "*": None, "@": r"\,", "**": None, "|": "|",
          "||": r"\|", "...": r"\dots", "..": r"\dots", ".": r"\cdot", ":": ":", ";": ";",
          "^": None, "_": None}
OPENERS = {"(": "(", "[": "[", "{": r"\{"}
CLOSERS = {")": ")", "]": "]", "}": r"\}"}


@dataclass
class Tok:
    kind: str          # ws ident num op open close comma angle text
    text: str          # the source text
    start: int
    end: int
    math: bool = False
    strong: bool = False          # math by itself (not only next to an operator)
    base: str = ""                # ident / angle: the name
    subs: list = field(default_factory=list)
    sups: list = field(default_factory=list)
    accents: list = field(default_factory=list)
    prime: int = 0


# ------------------------------------------------------------------ tokenizer
_OPS = sorted([k for k in BINARY if k not in ("^", "_", ".", ":", ";")], key=len, reverse=True)


def _braced(s: str, i: int, open_: str = "{", close: str = "}"):
    """``s[i]`` is ``open_``: the index after the matching ``close``, or None."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] == open_:
            depth += 1
        elif s[j] == close:
            depth -= 1
            if depth == 0:
                return j + 1
    return None


def _script(s: str, i: int):
    """A script's content starting at ``s[i]`` (after ``_`` or ``^``): ``(content, end)``
    with content ``("braced", x)``, ``("paren", x)`` or ``("word", x)``; None if there is none."""
    if i >= len(s):
        return None
    if s[i] == "{":
        j = _braced(s, i)
        return (("braced", s[i + 1:j - 1]), j) if j else None
    if s[i] == "(":
        j = _braced(s, i, "(", ")")
        return (("paren", s[i + 1:j - 1]), j) if j else None
    if s[i] == "*":
        return ("word", "*"), i + 1
    m = re.compile(r"-?[A-Za-z0-9]+").match(s, i)
    if m:
        return ("word", m.group()), m.end()
    return None


def _scripts(s: str, j: int, tok: Tok) -> int:
    """Read the ``_x``, ``^x``, ``~`` and ``'`` that follow a name (or ``<y>``) at ``s[j]``
    into ``tok``; return the index after them."""
    while j < len(s):
        c = s[j]
        if c in "_^":
            got = _script(s, j + 1)
            if got is None:
                break
            content, j = got
            if c == "_":
                if content[0] == "word" and content[1] in ACCENTS:
                    tok.accents.append(content[1])
                else:
                    tok.subs.append(content)
            else:
                tok.sups.append(content)
        elif c == "*" and (j + 1 == len(s) or s[j + 1] in " ),;:"):
            tok.sups.append(("word", "*"))  # f*, j*: a star
            j += 1
        elif c == "~" and (j + 1 == len(s) or not s[j + 1].isalnum() and s[j + 1] != "("):
            tok.accents.append("tilde")
            j += 1
        elif c == "'" and (j + 1 == len(s) or not s[j + 1].isalpha()):
            tok.prime += 1
            j += 1
        else:
            break
    return j


#: text whatever its neighbours: an apostrophe's ending, N&W, a rule of dashes, e.g.
_TEXTY = re.compile(r"'[A-Za-z]+\b|[A-Za-z]+&[A-Za-z]+|-{3,}|={3,}|\b(?:e\.g|i\.e|cf)\."
                    r"|\b\d+-(?:d|D)\s+(?:array|arrays|tensor|tensors)\b"
                    r"|\b\d+-(?!(?:" + "|".join(GREEK) + r")\b)[a-z]{3,}\b")  # 1-based


def _is_placeholder(s: str, i: int) -> bool:
    """A lone ``.`` standing for an argument: ``max(., x)``, ``= . m``."""
    before = s[i - 1] if i > 0 else ""
    after = s[i + 1] if i + 1 < len(s) else ""
    return (before in "( " and before != "") and (after in ",) ") and after != "" \
        and not (after == " " and i + 2 >= len(s))


def tokenize(s: str) -> list[Tok]:
    toks: list[Tok] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c.isspace():
            j = i
            while j < len(s) and s[j].isspace():
                j += 1
            toks.append(Tok("ws", s[i:j], i, j))
            i = j
            continue
        m = _TEXTY.match(s, i)
        if m and (c != "'" or (i > 0 and s[i - 1].isalnum())):
            toks.append(Tok("text", m.group(), i, m.end()))
            i = m.end()
            continue
        if c == "." and _is_placeholder(s, i):
            toks.append(Tok("op", ".", i, i + 1, base="."))
            i += 1
            continue
        if c.isalpha():
            m = re.compile(r"[A-Za-z][A-Za-z0-9]*").match(s, i)
            tok = Tok("ident", "", i, 0, base=m.group())
            j = _scripts(s, m.end(), tok)
            tok.text, tok.end = s[i:j], j
            toks.append(tok)
            i = j
            continue
        if c.isdigit() or (c == "." and i + 1 < len(s) and s[i + 1].isdigit()):
            m = re.compile(r"\d*\.?\d+(?:[eE][-+]?\d+)?").match(s, i)
            toks.append(Tok("num", m.group(), i, m.end()))
            i = m.end()
            continue
        if c == "<":  # <y>, <y>_w, <g, u>: an average, an inner product (angle brackets)
            m = re.compile(r"<(?=[A-Za-z])([A-Za-z0-9_(), ]*?[A-Za-z0-9_)])>").match(s, i)
            if m:
                tok = Tok("angle", "", i, 0, base=m.group(1))
                j = _scripts(s, m.end(), tok)
                tok.text, tok.end = s[i:j], j
                toks.append(tok)
                i = j
                continue
        if c in "\"`":  # a quoted string or code: text
            j = s.find(c, i + 1)
            j = len(s) if j < 0 else j + 1
            toks.append(Tok("text", s[i:j], i, j))
            i = j
            continue
        if c in OPENERS:
            toks.append(Tok("open", c, i, i + 1))
            i += 1
            continue
        if c in CLOSERS:
            tok = Tok("close", c, i, 0)
            j = _scripts(s, i + 1, tok)  # (...)^2, (...)_+
            tok.text, tok.end = s[i:j], j
            toks.append(tok)
            i = j
            continue
        if c == ",":
            toks.append(Tok("comma", c, i, i + 1))
            i += 1
            continue
        for op in _OPS:
            if s.startswith(op, i):
                tok = Tok("op", op, i, 0, base=op)
                j = i + len(op)
                if op in ("|", "||"):
                    j = _scripts(s, j, tok)  # ||x||_2
                tok.text, tok.end = s[i:j], j
                toks.append(tok)
                i = j
                break
        else:
            toks.append(Tok("text", c, i, i + 1))
            i += 1
    return toks


# ------------------------------------------------------------------ classification
def _is_mathy_sub(content) -> bool:
    kind, x = content
    if kind != "word":
        return True
    return (len(x) <= 2 or x.lstrip("-").isdigit() or x in GREEK or x in SUB_WORDS
            or x in ("eff", "lo", "hi", "cc", "new", "old", "prev", "next", "w", "max", "min"))


def _head_is_symbol(base: str) -> bool:
    """A single letter, a Greek name (``beta1`` too) or a letter with digits (``x0``)."""
    head = base.rstrip("0123456789")
    return len(head) == 1 or head in GREEK


def _classify(toks: list[Tok]) -> None:
    words = [t for t in toks if t.kind in ("ident", "angle")]
    for t in words:
        glued_call = _next(toks, t, skip_ws=False)
        called = glued_call is not None and glued_call.kind == "open"
        if t.kind == "angle":
            t.strong = True
        elif t.base in STOPWORDS and not t.subs and not t.sups and not t.accents:
            t.strong = False
        elif _head_is_symbol(t.base) and all(_is_mathy_sub(c) for c in t.subs):
            t.strong = t.base != "a" or bool(t.subs or t.sups or t.accents)
        elif t.base in OPERATOR_NAMES and (called or t.subs or t.base in ("grad",)):
            t.strong = True
        elif t.base in ("inf",):
            t.strong = True
        elif called and not t.subs:
            t.strong = True  # f(...), Estimator(theta): a function applied
        t.math = t.strong
    for t in words:
        nxt = _next(toks, t)
        if t.base in ("sum", "prod") and nxt is not None and nxt.strong:
            t.strong = t.math = True  # sum w_i y_i
        before, after = _prev(toks, t, skip_ws=False), _next(toks, t, skip_ws=False)
        if (before is not None and after is not None and before.text == "["
                and after.text == "]" and not _is_stop(t)):
            t.math = True  # 1[succ]
    # operators: math, except a hyphen or slash glued between two words (look-ahead, and/or)
    for k, t in enumerate(toks):
        if t.kind == "op":
            left = toks[k - 1] if k > 0 else None
            right = toks[k + 1] if k + 1 < len(toks) else None
            glued_words = (left is not None and right is not None and left.kind == "ident"
                           and right.kind == "ident" and not left.strong and not right.strong)
            t.math = not glued_words
            if t.base in ("...", ".."):
                t.math = True
        elif t.kind == "num":
            t.math = True
    # names that are math because they stand next to an operator (x - lr g), unless prose
    # stands on the other side (= base step)
    changed = True
    while changed:
        changed = False
        for k, t in enumerate(toks):
            if t.kind != "ident" or t.math or _is_stop(t):
                continue
            left, right = _prev(toks, t), _next(toks, t)

            def is_op(n):
                return n is not None and n.kind == "op" and n.math

            def is_prose(n):  # a word that is not math: the name is probably prose too
                return n is not None and n.kind == "ident" and not n.math

            near_op = (is_op(left) and not is_prose(right)) or (is_op(right)
                                                                 and not is_prose(left))
            if near_op:
                t.math = True
                changed = True
    # "in" between two math terms is set membership
    for t in toks:
        if t.kind == "ident" and t.base == "in" and not t.subs:
            left, right = _prev(toks, t), _next(toks, t)
            if (left is not None and right is not None and (left.math or left.kind == "close")
                    and (right.math or right.kind == "open")):
                t.math = True


def _is_stop(t: Tok) -> bool:
    return t.base in STOPWORDS and not t.subs and not t.sups and not t.accents


def _prev(toks, t, skip_ws=True):
    k = toks.index(t) - 1
    while k >= 0 and skip_ws and toks[k].kind == "ws":
        k -= 1
    return toks[k] if k >= 0 else None


def _next(toks, t, skip_ws=True):
    k = toks.index(t) + 1
    while k < len(toks) and skip_ws and toks[k].kind == "ws":
        k += 1
    return toks[k] if k < len(toks) else None


# ------------------------------------------------------------------ runs
NEUTRAL = ("ws", "open", "close", "comma")


def _runs(toks: list[Tok]):
    """Split into ``[(is_math, [tokens])]``: maximal runs of math tokens (with the spaces,
    brackets and commas between them), cut at unmatched brackets and trimmed of the commas,
    spaces and binary operators that dangle at their ends."""
    out = []
    k = 0
    n = len(toks)
    while k < n:
        if toks[k].math or toks[k].kind in ("open", "close"):
            j = k
            while j < n and (toks[j].math or toks[j].kind in NEUTRAL):
                j += 1
            for piece_is_math, piece in _pieces(toks[k:j]):
                if piece_is_math:
                    head, body, tail = _trim(piece)
                    if body and _formula_like(body):
                        out += [(False, head)] if head else []
                        out.append((True, body))
                        out += [(False, tail)] if tail else []
                        continue
                out.append((False, piece))
            k = j
        else:
            out.append((False, [toks[k]]))
            k += 1
    return out


def _pieces(run):
    """Cut a run at its unmatched brackets (which become text)."""
    stack, unmatched = [], set()
    for idx, t in enumerate(run):
        if t.kind == "open":
            stack.append(idx)
        elif t.kind == "close":
            if stack:
                stack.pop()
            else:
                unmatched.add(idx)
    unmatched |= set(stack)
    pieces, current = [], []
    for idx, t in enumerate(run):
        if idx in unmatched:
            if current:
                pieces.append((True, current))
            pieces.append((False, [t]))
            current = []
        else:
            current.append(t)
    if current:
        pieces.append((True, current))
    return pieces


_LEADING_OPS = ("-", "+", "|", "||", "...", "..", "+-", ".")
_TRAILING_OPS = ("|", "||", "...", "..", ".")


def _trim(run):
    """Move the commas, spaces and binary operators that dangle at the ends out of a run
    (whose brackets match), and brackets left empty."""
    run = list(run)
    head, tail = [], []
    while run and (run[0].kind in ("ws", "comma")
                   or (run[0].kind == "op" and run[0].base not in _LEADING_OPS)):
        head.append(run.pop(0))
    while run and (run[-1].kind in ("ws", "comma")
                   or (run[-1].kind == "op" and run[-1].base not in _TRAILING_OPS)):
        tail.insert(0, run.pop())
    if _unbalanced(run):  # a trimmed operator inside brackets: give up on this run
        return [], [], head + run + tail
    return head, run, tail


def _formula_like(body) -> bool:
    meaningful = [t for t in body if t.kind not in NEUTRAL]
    if not meaningful:
        return False
    if any(t.kind == "op" for t in meaningful):
        return True
    if any(t.kind in ("ident", "angle") and t.strong for t in meaningful):
        return True
    return False


# ------------------------------------------------------------------ LaTeX
def _mathrm(word: str) -> str:
    return r"\mathrm{" + word.replace("_", r"\_") + "}"


def _script_latex(content) -> str:
    kind, x = content
    if kind == "braced":
        return _math_of_text(x)
    if kind == "paren":
        return "(" + _math_of_text(x) + ")"
    if x == "T":
        return r"\top"
    if x in SUB_WORDS:
        return SUB_WORDS[x]
    if x in GREEK:
        return GREEK[x]
    if x.lstrip("-").isdigit() or len(x) == 1 or (len(x) == 2 and x.isalpha()):
        return x  # t, 12, ij
    base = x.rstrip("0123456789")
    if base in GREEK:
        return GREEK[base] + x[len(base):]
    return _mathrm(x)


def _name_latex(t: Tok) -> str:
    base = t.base
    digits = ""
    head = base.rstrip("0123456789")
    if head and head != base and (len(head) == 1 or head in GREEK):
        digits = base[len(head):]
        base = head
    if t.kind == "angle":
        core = r"\langle " + _math_of_text(t.base) + r"\rangle"
        digits = ""
    elif base in GREEK:
        core = GREEK[base]
    elif base == "inf":
        core = r"\infty"
    elif base in OPERATOR_NAMES and OPERATOR_NAMES[base]:
        core = OPERATOR_NAMES[base]
    elif len(base) == 1:
        core = base
    else:
        core = _mathrm(base)
    for acc in t.accents:
        core = ACCENTS[acc] + "{" + core + "}"
    core += "'" * t.prime
    subs = ([digits] if digits else []) + [_script_latex(c) for c in t.subs]
    sups = [_script_latex(c) for c in t.sups]
    if subs:
        sub = ",".join(subs)
        core += "_" + (sub if len(sub) == 1 else "{" + sub + "}")
    if sups:
        sup = ",".join(sups)
        core += "^" + (sup if len(sup) == 1 else "{" + sup + "}")
    return core


def _close_scripts(t: Tok) -> str:
    out = ""
    if t.subs:
        sub = ",".join(_script_latex(c) for c in t.subs)
        out += "_{" + sub + "}"
    if t.sups:
        sup = ",".join(_script_latex(c) for c in t.sups)
        out += "^{" + sup + "}"
    return out


def _latex(toks: list[Tok]) -> str:
    """The LaTeX of a run of tokens (brackets balanced)."""
    parts: list[str] = []
    k = 0
    n = len(toks)

    def neighbour_is_number(idx, step):
        j = idx + step
        while 0 <= j < n and toks[j].kind == "ws":
            j += step
        return 0 <= j < n and toks[j].kind == "num"

    while k < n:
        t = toks[k]
        if t.kind == "ws":
            parts.append(" ")
        elif t.kind in ("ident", "angle"):
            nxt = toks[k + 1] if k + 1 < n else None
            if t.kind == "ident" and t.base in ("sqrt", "abs") and not t.subs and nxt is not None \
                    and nxt.kind == "open":
                end = _matching(toks, k + 1)
                inner = _latex(toks[k + 2:end])
                closer = toks[end]
                if t.base == "sqrt":
                    parts.append(r"\sqrt{" + inner + "}")
                else:
                    parts.append("|" + inner + "|")
                parts.append(_close_scripts(closer))
                k = end + 1
                continue
            if t.kind == "ident" and t.base == "E" and not t.subs and nxt is not None \
                    and nxt.kind == "open" and nxt.text == "[":
                parts.append(r"\mathbb{E}")
            elif t.kind == "ident" and t.base == "E" and not t.subs and nxt is not None \
                    and nxt.kind == "op" and nxt.base in ("|", "||"):
                parts.append(r"\mathbb{E}")
            elif t.kind == "ident" and t.base == "in" and not t.subs:
                parts.append(r"\in")
            elif t.kind == "ident" and t.base in ("sum", "prod") and (t.subs or t.sups):
                parts.append(OPERATOR_NAMES[t.base] + _close_scripts(t))
            elif t.kind == "ident" and t.base == "N" and nxt is not None and nxt.kind == "open" \
                    and not t.subs:
                parts.append(r"\mathcal{N}")
            else:
                parts.append(_name_latex(t))
        elif t.kind == "num":
            parts.append(t.text)
        elif t.kind == "op":
            if t.base == "*":
                num = neighbour_is_number(k, -1) or neighbour_is_number(k, 1)
                parts.append(r"\cdot" if num else r"\odot")
            elif t.base == "**":
                parts.append("^")
            else:
                parts.append(BINARY[t.base] + _close_scripts(t))
        elif t.kind == "open":
            parts.append(OPENERS[t.text])
        elif t.kind == "close":
            parts.append(CLOSERS[t.text[0]] + _close_scripts(t))
        elif t.kind == "comma":
            parts.append(",")
        else:
            parts.append(_mathrm(t.text))
        k += 1
    out = ""
    for part in parts:
        if part and part[0].isalpha() and re.search(r"\\[A-Za-z]+$", out):
            out += " "  # \alpha then m: a space ends the control word
        out += part
    return re.sub(r" {2,}", " ", out).strip()


def _matching(toks, k):
    depth = 0
    for j in range(k, len(toks)):
        if toks[j].kind == "open":
            depth += 1
        elif toks[j].kind == "close":
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced")  # _trim guarantees balance


def _math_of_text(s: str) -> str:
    """The LaTeX of a script's content (``t-1``, ``i <= mu``): every token is math."""
    toks = tokenize(s)
    for t in toks:
        t.math = True
        if t.kind == "text" and t.text in (":", ";"):
            t.kind, t.base = "op", t.text  # y_{i:lambda}
    if any(t.kind == "text" for t in toks) or _unbalanced(toks):
        return _mathrm(s) if re.fullmatch(r"[A-Za-z0-9_ ]+", s) else _escape_text_math(s)
    return _latex(toks)


def _escape_text_math(s: str) -> str:
    return "".join("\\" + c if c in "{}_^#%&$" else c for c in s
                   if c not in "\\")


def _unbalanced(toks) -> bool:
    depth = 0
    for t in toks:
        if t.kind == "open":
            depth += 1
        elif t.kind == "close":
            depth -= 1
            if depth < 0:
                return True
    return depth != 0


# ------------------------------------------------------------------ checks and entry points
def is_wellformed(tex: str) -> bool:
    """Structural checks of a converted formula: braces balance (escaped ``\\{`` aside), no
    empty group after a script, no script sign without an argument, no doubled sign."""
    depth = 0
    i = 0
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    if depth != 0:
        return False
    if re.search(r"[_^]\s*($|[_^}])", tex) or "{}" in tex.replace(r"\{\}", ""):
        return False
    if re.search(r"(?<!\\)_\{[^{}]*\}_|(?<!\\)\^\{[^{}]*\}\^|(?<![\\{])_[A-Za-z0-9]_", tex):
        return False
    return bool(tex.strip())


SKIP = re.compile(r"^\s*(noqa|pragma|type:|fmt:|isort:)")


def convert(comment: str) -> list[tuple[str, str]]:
    """A comment's text (without ``#``) as segments ``("text", s)`` / ``("math", latex)``."""
    text = comment.strip()
    if text.startswith("#"):
        text = text.lstrip("#").strip()
    if not text or SKIP.match(text):
        return []
    toks = tokenize(text)
    _classify(toks)
    segments: list[tuple[str, str]] = []
    for is_math, run in _runs(toks):
        src = text[run[0].start:run[-1].end] if run else ""
        if is_math:
            tex = _latex(run)
            if is_wellformed(tex):
                _append(segments, "math", tex)
                continue
        _append(segments, "text", src)
    return segments


def _append(segments, kind, value):
    if not value:
        return
    if segments and segments[-1][0] == "text" and kind == "text":
        segments[-1] = ("text", segments[-1][1] + value)
    else:
        segments.append((kind, value))


def math_segments(comment: str) -> list[str]:
    """The LaTeX of the math runs of a comment."""
    return [v for k, v in convert(comment) if k == "math"]


def to_html(segments) -> str:
    """Text escaped, math as ``<span class="arithmatex">\\(...\\)</span>``."""
    out = []
    for kind, value in segments:
        if kind == "math":
            out.append('<span class="arithmatex">\\(' + html.escape(value, quote=False)
                       + "\\)</span>")
        else:
            out.append(html.escape(value, quote=False))
    return "".join(out).strip()
