"""The literate pages: every public optimizer is on one, every row has its formula cell and
its code cell, every row's link lands on the code it shows, and the converter's math parses.

The parse check uses Matplotlib's mathtext (a TeX parser of its own, a run-time dependency of
the project), independently of the converter's own structural checks.
"""
from __future__ import annotations

import html
import importlib
import inspect
import pkgutil
import re
from html.parser import HTMLParser

import pytest
import sitegen

pytestmark = pytest.mark.host_only

gen = sitegen.load()
latex, literate, source, urls = gen.latex, gen.literate, gen.source, gen.urls


@pytest.fixture(scope="module")
def family_pages():
    return {literate.page_path(f): literate.family_page(f) for f in literate.FAMILIES}


@pytest.fixture(scope="module")
def mathtext():
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")

    def parses(tex: str) -> bool:
        try:
            parser.parse(f"${tex}$")
        except Exception:
            return False
        return True

    return parses


def test_every_public_optimizer_class_is_on_a_literate_page():
    from optimizers.base import Optimizer

    modules = [importlib.import_module("optimizers")]
    for sub in ("optimizers.second_order", "optimizers.zero_order"):
        pkg = importlib.import_module(sub)
        modules += [importlib.import_module(f"{sub}.{m.name}")
                    for m in pkgutil.iter_modules(pkg.__path__)]
    public = {(obj.__module__, obj.__qualname__) for module in modules
              for obj in (getattr(module, n) for n in getattr(module, "__all__", []))
              if inspect.isclass(obj) and issubclass(obj, Optimizer)}
    assert len(public) > 30
    assert sorted(public - literate.shown_classes()) == []


def test_the_families_are_the_pages_the_site_lists(family_pages):
    slugs = [f.slug for f in literate.FAMILIES]
    assert len(set(slugs)) == len(slugs)
    for needed in ("gd", "adaptive", "sign_lion", "curvature", "geometry", "line_search",
                   "quasi_newton", "newton", "nelder_mead", "cma_es", "zero_order", "schedules"):
        assert f"literate/{needed}.md" in family_pages
    index = literate.index_page()
    for slug in slugs:
        assert f"]({slug}.md)" in index


class _Rows(HTMLParser):
    """The rows of a literate page: for each ``literate-row``, the classes of its direct
    children, the math of its formula cell, its code cell's text and its source link."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.stack = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "div" and "literate-row" in classes:
            self.rows.append({"cells": [], "math": [], "code": "", "href": None, "pre": False})
            self.stack.append("row")
            return
        if self.rows and self.stack:
            row = self.rows[-1]
            if self.stack[-1] == "row" and tag == "div":
                row["cells"].append(classes[0] if classes else "")
            if tag == "span" and "arithmatex" in classes:
                self.stack.append("math")
                row["math"].append("")
                return
            if tag == "a" and "literate-source" in classes:
                row["href"] = a["href"]
            if tag == "code" and "language-python" in classes and self.stack[-1] != "math":
                row["pre"] = True
                self.stack.append("code")
                return
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not self.rows or not self.stack:
            return
        if "math" == self.stack[-1]:
            self.rows[-1]["math"][-1] += data
        elif "code" in self.stack:
            self.rows[-1]["code"] += data


def _rows(page_text):
    parser = _Rows()
    parser.feed(page_text)
    return parser.rows


def test_every_row_has_a_formula_cell_beside_a_code_cell(family_pages):
    total = with_math = 0
    for page, text in family_pages.items():
        rows = _rows(text)
        assert rows, page
        for row in rows:
            assert row["cells"] == ["literate-formula", "literate-code"], (page, row)
            assert row["pre"] and row["code"].strip(), (page, row)
            for tex in row["math"]:
                assert tex.startswith("\\(") and tex.endswith("\\)"), (page, tex)
            total += 1
            with_math += bool(row["math"])
    assert total > 300 and with_math > 150


def test_every_row_links_the_source_line_it_shows(family_pages):
    """The row's link ``code/<path>/#L<n>`` is a generated source page with the element
    ``L<n>``, and line ``n`` of the file is the first line of the code cell (less its
    comment)."""
    checked = 0
    for page, text in family_pages.items():
        for row in _rows(text):
            site_path = urls.resolve_href(page, row["href"])
            anchor = row["href"].rsplit("#L", 1)[1]
            assert site_path.startswith("code/") and site_path.endswith("/"), row["href"]
            path = site_path[len("code/"):-1] + ".py"
            n = int(anchor)
            assert n in sitegen.source_page_lines(source.page(path))
            shown = row["code"].split("\n")[0].strip()
            line = sitegen.file_lines(path)[n - 1]
            code = line.split("  #")[0].split(" # ")[0].strip()
            assert shown == code or line.strip().startswith(shown), (page, n, shown, line)
            checked += 1
    assert checked > 300


def test_the_rows_of_a_method_pair_each_comment_with_its_line():
    """Against the source read as text: each row's comments are the comment lines above its
    first line and the comments at the end of its lines, and no comment is lost."""
    path, qualname = "optimizers/second_order/lbfgs.py", "two_loop"
    text = sitegen.file_lines(path)
    rows = literate.rows(path, qualname)
    shown = [c for r in rows for c in r.comments]
    for row in rows:
        for n in row.lines:
            if "  # " in text[n - 1]:
                assert text[n - 1].split("  # ", 1)[1].strip() in row.comments
    trailing = [line.split("  # ", 1)[1].strip() for line in text
                if "  # " in line]
    start = next(i for i, line in enumerate(text) if line.startswith("def two_loop"))
    end = next(i for i in range(start + 1, len(text)) if text[i] and not text[i][0].isspace())
    inside = [t.split("  # ", 1)[1].strip() for t in text[start:end] if "  # " in t]
    assert inside and shown == inside
    assert set(inside) <= set(trailing)


EXACT = [
    ("m_t = beta1 m_{t-1} + (1 - beta1) g_t", r"m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t"),
    ("x_{k+1} = x_k - alpha_k g", r"x_{k+1} = x_k - \alpha_k g"),
    ("v = gamma v + (1-gamma) g^2", r"v = \gamma v + (1-\gamma) g^2"),
    ("v = mu v - eta g", r"v = \mu v - \eta g"),
    ("sqrt(v_hat) + eps", r"\sqrt{\hat{v}} + \epsilon"),
    ("u ~ N(0, I)", r"u \sim \mathcal{N}(0, I)"),
    ("H_0 = (y^T s / y^T y) I", r"H_0 = (y^{\top} s / y^{\top} y) I"),
    ("x_r = x_bar + rho (x_bar - x_{n+1})", r"x_r = \bar{x} + \rho (\bar{x} - x_{n+1})"),
    ("h_hat = B g_hat * g_hat", r"\hat{h} = B \hat{g} \odot \hat{g}"),
    ("alpha_* <- alpha_j", r"\alpha_* \leftarrow \alpha_j"),
    ("||g_k||_2 <= gtol", r"\|g_k\|_{2} \leq \mathrm{gtol}"),
    ("<y>_w = sum w_i y_{i:lambda}", r"\langle y\rangle_w = \sum w_i y_{i:\lambda}"),
]


@pytest.mark.parametrize("comment, expected", EXACT)
def test_exact_conversions(comment, expected):
    assert latex.convert(comment) == [("math", expected)]


@pytest.mark.parametrize("comment, segments", [
    ("(AdamW only)", [("text", "(AdamW only)")]),
    ('nonfinite="raise": nothing changed', [("text", 'nonfinite="raise": nothing changed')]),
    ("g <- g + lambda x (if lambda > 0)",
     [("math", r"g \leftarrow g + \lambda x"), ("text", " (if "), ("math", r"\lambda > 0"),
      ("text", ")")]),
    ("the look-ahead point theta_t - gamma v_{t-1}",
     [("text", "the look-ahead point "), ("math", r"\theta_t - \gamma v_{t-1}")]),
    ("noqa: E731", []),
])
def test_prose_stays_text(comment, segments):
    assert latex.convert(comment) == segments


def test_every_formula_of_the_literate_pages_parses(mathtext):
    """Every comment a literate page shows: its math runs are well formed and parse."""
    formulas = []
    for family in literate.FAMILIES:
        for module, qualname in family.items:
            path = literate.module_path(importlib.import_module(module))
            if len(qualname.split(".")) == 1 and inspect.isclass(
                    getattr(importlib.import_module(module), qualname)):
                continue
            for row in literate.rows(path, qualname):
                formulas += [(c, tex) for c in row.comments for tex in latex.math_segments(c)]
    assert len(formulas) > 250
    unique = dict((tex, c) for c, tex in formulas)  # each formula parsed once
    bad = [(c, tex) for tex, c in unique.items()
           if not (latex.is_wellformed(tex) and mathtext(tex))]
    assert bad == []


def test_the_checks_of_a_formula_can_fail(mathtext):
    for broken in (r"\sqrt{v", r"x_{t", r"a^^b", r"x__t", r"x_{t}_{k}"):
        assert not latex.is_wellformed(broken) or not mathtext(broken), broken
    assert not mathtext(r"\frac{1}{")
    assert not mathtext(r"\notamacro x")
    assert mathtext(r"\hat{m} / (\sqrt{\hat{v}} + \epsilon)")


def test_a_formula_the_checks_refuse_is_shown_as_text(monkeypatch):
    monkeypatch.setattr(latex, "is_wellformed", lambda tex: False)
    assert latex.convert("v = mu v - eta g") == [("text", "v = mu v - eta g")]


def test_the_html_of_a_formula_is_escaped():
    out = latex.to_html(latex.convert("f_r < f_1: expand"))
    assert out == '<span class="arithmatex">\\(f_r &lt; f_1\\)</span>: expand'
    assert html.unescape(re.sub("<[^>]+>", "", out)) == "\\(f_r < f_1\\): expand"
