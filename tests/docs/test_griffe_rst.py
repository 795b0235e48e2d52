"""The site's reading of the docstrings: reStructuredText in, Markdown out.

One converter, docs/_gen/rst.py: docs/_ext/griffe_rst.py applies it to every docstring for
mkdocstrings (the API reference), the literate pages to the docstrings they show. The oracles
are the Markdown of each construct written out by hand, and, over every docstring of the
packages, the absence of any RST role or math directive after the conversion (the browser test
of test_site.py then checks that the formulas render).
"""
from __future__ import annotations

import ast
import importlib.util
import pathlib
import textwrap

import pytest
import sitegen
from sitetools import need_module

pytestmark = pytest.mark.host_only

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("minigrad", "optimizers", "schedules", "problems", "theorems", "experiments")


@pytest.fixture(scope="module")
def ext():
    need_module("griffe")
    spec = importlib.util.spec_from_file_location("griffe_rst", ROOT / "docs/_ext/griffe_rst.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def md(ext, text):
    return ext.rst_to_markdown(textwrap.dedent(text).strip("\n"))


def test_roles(ext):
    assert md(ext, r"the step :math:`\alpha\,g` of :class:`~optimizers.adam.AMSGrad`") == (
        r"the step $\alpha\,g$ of `AMSGrad`")
    assert md(ext, ":func:`minigrad.grad`, :meth:`a step <optimizers.base.Optimizer.step>`, "
                   ":py:mod:`schedules`") == "`minigrad.grad`, `a step`, `schedules`"
    # a formula broken across lines is one formula; its inner spaces are normalised
    assert md(ext, ":math:`a +\n    b` and :math:` c `") == "$a + b$ and $c$"


def test_math_directive(ext):
    text = r"""
        Adam:

        .. math::
            m &= \beta m + g \\
            x &= x - \alpha m

            y = 1 \\ z = 2

        after
        """
    assert md(ext, text) == "\n".join([
        "Adam:", "",
        "$$", r"\begin{aligned}", r"m &= \beta m + g \\", r"x &= x - \alpha m", r"\end{aligned}",
        "$$", "",
        "$$", r"\begin{gathered}", r"y = 1 \\ z = 2", r"\end{gathered}", "$$", "",
        "after"])
    # one line, in a list item: Markdown continues the item's content at four spaces
    assert md(ext, "1. the rule\n\n   .. math:: q = 1") == "\n".join([
        "1. the rule", "", "    $$", "    q = 1", "    $$"])


def test_literal_blocks(ext):
    text = """
        in this order::

            g <- grad

            m <- ema

        plain ::

            code

        ::

            only code
        """
    assert md(ext, text) == "\n".join([
        "in this order:", "", "```", "g <- grad", "", "m <- ema", "```", "",
        "plain", "", "```", "code", "```", "",
        "```", "only code", "```"])


def test_simple_tables(ext):
    with_header = r"""
        =====  ==========
        code   meaning
        =====  ==========
        0      :math:`|x|` and
               :math:`\|y\|_2`
        1      done
        =====  ==========
        """
    assert md(ext, with_header) == "\n".join([
        "| code | meaning |", "| --- | --- |",
        r"| 0 | $\vert x\vert$ and $\Vert y\Vert _2$ |", "| 1 | done |"])
    without_header = """
        ======  ======
        ``a``   first
        ``b``   second
        ======  ======

        after
        """
    assert md(ext, without_header) == "\n".join([
        "|  |  |", "| --- | --- |", "| ``a`` | first |", "| ``b`` | second |", "", "after"])


def test_section_titles(ext):
    text = """
        Intro.

        Conventions
        -----------

        * :math:`a`

        In detail
        ~~~~~~~~~
        more

        Layout
        ------
        """
    assert md(ext, text) == "\n".join([
        "Intro.", "", "## Conventions", "", "* $a$", "", "### In detail", "", "more", "",
        "## Layout"])
    assert ext.rst_to_markdown("Title\n=====\n\ntext", section_level=4) == "#### Title\n\ntext"
    # not titles: an indented line, a line of a paragraph, a table's border
    assert ext.rst_to_markdown("* item\n\n  indented\n  --------") == (
        "* item\n\n  indented\n  --------")
    assert md(ext, "one\ntwo\n---") == "one\ntwo\n---"


def test_code_block_directive(ext):
    text = """
        Use it:

        .. code-block:: python
            :caption: a check

            report = check(SGD)

            print(report)

        after
        """
    assert md(ext, text) == "\n".join([
        "Use it:", "", "```python", "report = check(SGD)", "", "print(report)", "```", "",
        "after"])
    assert md(ext, "* item\n\n  .. code:: text\n\n     a <- b") == "\n".join([
        "* item", "", "    ```text", "    a <- b", "    ```"])


def test_dollars_of_the_prose_are_not_formulas(ext):
    assert md(ext, "costs $5, :math:`x` and $6") == r"costs \$5, $x$ and \$6"
    # inside a literal a dollar (and a role) is code: left as it is
    assert md(ext, "``$HOME`` and ``:math:`x``` and :math:`y`") == (
        "``$HOME`` and ``:math:`x``` and $y$")
    assert md(ext, "=====  =====\n``$``  $1\n=====  =====") == "\n".join([
        "|  |  |", "| --- | --- |", r"| ``$`` | \$1 |"])


def test_a_docstring_as_python_stores_it(ext):
    gen = sitegen.load()

    def f():
        """The map :math:`x \\mapsto 2x`.

        .. math:: y = 2x
        """

    assert gen.rst.to_markdown(f.__doc__) == "The map $x \\mapsto 2x$.\n\n$$\ny = 2x\n$$\n"
    assert gen.rst.to_markdown(None) == gen.rst.to_markdown("") == ""


def test_one_converter_for_the_api_pages_and_the_generated_pages(ext):
    """The griffe extension's converter is the generators' (one module, not a copy), and a
    literate page shows a docstring through it: the simple table of optimizers/adam.py's
    module docstring is a Markdown table there."""
    gen = sitegen.load()
    assert ext.rst_to_markdown is gen.rst.rst_to_markdown
    assert gen.literate.rst is gen.rst
    import optimizers.adam

    page = gen.literate.family_page(next(f for f in gen.literate.FAMILIES
                                         if f.slug == "adaptive"))
    assert gen.rst.to_markdown(optimizers.adam.__doc__, section_level=3) in page
    assert "| AMSGrad | ``_denominator``: the running maximum of v" in page
    assert "<table>" not in page
    # a section title of a module docstring: one level below the module's heading (##)
    base = gen.literate.family_page(next(f for f in gen.literate.FAMILIES if f.slug == "base"))
    assert "\n### Conventions\n" in base and "\nConventions\n---" not in base


def _docstrings():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                     ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node)
                    if doc:
                        yield f"{path.relative_to(ROOT)}:{getattr(node, 'name', '')}", doc


def _leftovers(convert):
    """What ``convert`` leaves of RST in the packages' docstrings: roles, math directives, and
    formulas that are not whole ($ and $$ must pair up outside code)."""
    left = []
    count = 0
    for where, doc in _docstrings():
        count += 1
        out = convert(doc)
        prose = "\n".join(out.split("```")[::2])  # outside code fences
        for marker in (":math:`", ".. math::", ":class:`", ":func:`", ":mod:`", ":meth:`",
                       ":data:`", ":attr:`"):
            if marker in prose:
                left.append(f"{where}: {marker}")
        singles = prose.replace("$$", "").replace(r"\$", "").count("$")
        if prose.count("$$") % 2 or singles % 2:
            left.append(f"{where}: unbalanced $")
    assert count > 300
    return left


def test_no_rst_is_left_in_any_docstring_of_the_packages(ext):
    assert _leftovers(ext.rst_to_markdown) == []
    # the companion: the docstrings as they are would fail the check
    assert len(_leftovers(lambda doc: doc)) > 300


def test_the_extension_rewrites_what_griffe_loads(ext, tmp_path):
    griffe = need_module("griffe")
    pkg = tmp_path / "demo_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('r"""The map :math:`x \\mapsto 2x`."""\n\n\n'
                                     'def f(x):\n    """See :func:`g`."""\n')
    loaded = griffe.load("demo_pkg", search_paths=[str(tmp_path)],
                         extensions=griffe.load_extensions(ext.RstToMarkdown))
    assert loaded.docstring.value == r"The map $x \mapsto 2x$."
    assert loaded["f"].docstring.value == "See `g`."
