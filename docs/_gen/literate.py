"""Literate pages: the formulas beside the code that implements them, line by line.

For each family of methods (:data:`FAMILIES`, an explicit table: the page, its title and the
functions and methods it shows) a page ``literate/<family>.md`` shows the module docstring
(its math rendered), each class's docstring, and for each selected function a two-column
layout: on the left the formula the code states in its comments (converted to LaTeX by
:mod:`latex`; text where a comment is prose), on the right the code lines the comment
annotates, with a link to the line on the source page. A comment on the lines above a
statement and a comment at the end of its line both annotate that statement; statements
without a comment are shown together, beside an empty formula cell.

HTML: every row is ``<div class="literate-row">`` with a ``literate-formula`` cell (math as
``<span class="arithmatex">\\(...\\)</span>``) and a ``literate-code`` cell
(``<pre><code class="language-python">``, highlighted like the source pages).
"""
from __future__ import annotations

import ast
import functools
import html
import importlib
import posixpath
from dataclasses import dataclass

from . import latex, rst, source, urls
from .refs import RefError, _tree, locate, module_path


@dataclass(frozen=True)
class Family:
    slug: str
    title: str
    intro: str
    items: tuple  # (module, qualname): a function or method shown line by line; a class alone
    #               (no method) shows the class docstring


def _m(module, *qualnames):
    return tuple((module, q) for q in qualnames)


FAMILIES: tuple[Family, ...] = (
    Family("base", "The optimizer interface",
           "The loop every optimizer shares: the schedules evaluated at the step, one update "
           "per parameter; the wrappers and the optimizers of one vector.",
           _m("optimizers.base", "Optimizer.step", "Optimizer._hyperparameters",
              "Optimizer._coupled_decay")
           + _m("optimizers.wrapper", "Wrapper.__init__")
           + _m("optimizers.vector_optimizer", "VectorOptimizer.step")),
    Family("gd", "Gradient descent, momentum, Nesterov",
           "SGD, the heavy ball in its two written forms, Nesterov's look-ahead and its "
           "reparametrised form, and NAG-GS.",
           _m("optimizers.sgd", "SGD._update", "Momentum._update", "NAG._lookahead_step",
              "NAG._update")
           + _m("optimizers.naggs", "NAGGS._init_state", "NAGGS._update")),
    Family("adaptive", "Adaptive methods",
           "Adagrad, RMSProp, Adadelta, Adam and the methods that are Adam plus one change, "
           "AdaBound, and Lookahead.",
           _m("optimizers.adagrad", "Adagrad._update")
           + _m("optimizers.rmsprop", "RMSProp._update")
           + _m("optimizers.adadelta", "Adadelta._update", "_rms_ratio")
           + _m("optimizers.adam", "Adam._update", "Adam._second_moment", "Adam._apply",
                "AMSGrad._denominator", "AdamW._decay_weights", "AdaBelief._second_moment",
                "NAdam._apply", "RAdam._apply", "Adamax._second_moment")
           + _m("optimizers.adabound", "AdaBound._apply", "AMSBound")
           + _m("optimizers.lookahead", "Lookahead.step")),
    Family("sign_lion", "Sign methods: signSGD, Signum, Lion",
           "The sign of the gradient, of its momentum, or of an interpolation of the two.",
           _m("optimizers.sign", "SignSGD._update", "Signum._direction", "Lion._direction",
              "Lion._decay_weights")),
    Family("curvature", "Curvature and sharpness: Sophia, SAM",
           "Sophia's clipped steps with a diagonal Hessian estimate, and SAM's ascent to the "
           "worst point of a neighbourhood.",
           _m("optimizers.sophia", "hutchinson_diagonal", "gnb_diagonal",
              "Sophia.update_hessian", "Sophia._update")
           + _m("optimizers.sam", "SAM._perturbations", "SAM.step", "_ratio")),
    Family("geometry", "Geometry: steepest descent, Newton–Schulz, Muon, Shampoo",
           "Steepest descent in a norm through its linear minimisation oracle, the polar factor "
           "without an SVD, and the two optimizers built on it.",
           _m("optimizers.norms", "L2.lmo", "LInf.lmo", "L1.lmo", "Spectral.lmo")
           + _m("optimizers.steepest", "SteepestDescent._group_update", "NormalizedGD")
           + _m("optimizers.newton_schulz", "normalize", "odd_polynomial_iteration",
                "newton_schulz_cubic", "polar_express")
           + _m("optimizers.muon", "orthogonalize", "Muon._update")
           + _m("optimizers.shampoo", "inverse_root", "Shampoo._accumulate",
                "Shampoo._update")),
    Family("variance_reduced", "Variance reduction: SVRG, SAG",
           "Finite sums: a snapshot's full gradient corrects the stochastic one (SVRG), or a "
           "table of the last gradient of every component is averaged (SAG).",
           _m("optimizers.variance_reduced", "SVRG._step", "SAG._step")),
    Family("line_search", "Line searches: Armijo, strong Wolfe",
           "Backtracking until sufficient decrease, and the bracketing and zoom of the strong "
           "Wolfe search.",
           _m("optimizers.armijo", "armijo_backtracking", "_next_trial")
           + _m("optimizers.wolfe", "_Search.armijo_fails", "_Search.curvature_holds",
                "_bracket", "zoom", "zoom_trial", "_extrapolate")),
    Family("quasi_newton", "Quasi-Newton: BFGS, L-BFGS",
           "The inverse BFGS update, the L-BFGS two-loop recursion, and the loop they share.",
           _m("optimizers.second_order.bfgs", "bfgs_update", "InverseBFGS.direction",
              "InverseBFGS.update", "quasi_newton_iterations", "QuasiNewtonOptimizer._step",
              "BFGS._approx")
           + _m("optimizers.second_order.lbfgs", "two_loop", "LimitedMemoryBFGS.gamma",
                "LimitedMemoryBFGS.direction", "LimitedMemoryBFGS.update", "LBFGS._approx")),
    Family("newton", "Newton's method",
           "The Newton direction (with the Hessian's eigenvalues modified where it is not "
           "positive definite, or by conjugate gradients), the damped step, and the optimizer.",
           _m("optimizers.second_order.newton_directions", "modified_direction",
              "newton_direction", "cg_newton_direction")
           + _m("optimizers.second_order.newton", "_iterate", "Newton._step")),
    Family("nelder_mead", "Nelder–Mead",
           "Reflect, expand, contract, shrink: one iteration of the simplex method.",
           _m("optimizers.zero_order.nelder_mead", "coefficients", "initial_simplex",
              "NelderMeadSimplex.iterate", "NelderMeadSimplex._shrink", "NelderMead._step")),
    Family("cma_es", "CMA-ES",
           "The default strategy parameters, sampling, and the update of the mean, the step "
           "size and the covariance.",
           _m("optimizers.zero_order.cmaes", "cma_parameters", "CMAESState.ask",
              "CMAESState.tell", "CMAES._step")),
    Family("zero_order", "Zero-order methods: estimators, ZO-GD, (1+1)-ES, a genetic algorithm",
           "Gradients from function values, gradient descent on them, and two evolutionary "
           "methods.",
           _m("optimizers.zero_order.estimators", "two_point", "gaussian_forward",
              "gaussian_symmetric", "coordinate")
           + _m("optimizers.zero_order.zo_gd", "ZeroOrderGD._step")
           + _m("optimizers.zero_order.evolution", "one_fifth_trial", "OnePlusOneES._step")
           + _m("optimizers.zero_order.genetic", "Population._select", "Population.generation",
                "GeneticAlgorithm._step")),
    Family("schedules", "Learning-rate schedules",
           "Every schedule is a closed-form function of the step: its formula in the class "
           "docstring, its code in ``_eval``.",
           _m("schedules.base", "Schedule.__call__")
           + _m("schedules.decay", "Constant._eval", "StepDecay._eval", "MultiStepDecay._eval",
                "PolynomialDecay._eval", "LinearDecay.__init__", "ExponentialDecay._eval",
                "InverseTimeDecay._eval", "CosineDecay._eval", "LinearCosineDecay._eval",
                "NoisyLinearCosineDecay._eval")
           + _m("schedules.cyclical", "CyclicalLR._eval", "CosineWarmRestarts._eval")
           + _m("schedules.warmups", "Warmup._eval", "GradualWarmup.__init__",
                "ConstantWarmup.__init__", "WarmupMultiStep.__init__", "WarmupInverseSqrt._eval",
                "WarmupCosine.__init__", "SlantedTriangular._eval")
           + _m("schedules.cooldown", "LongTrapezoid.__init__", "WarmupStableDecay._eval")
           + _m("schedules.onecycle", "OneCycle._eval")
           + _m("schedules.theory", "StronglyConvexSGDStep._eval", "InverseSqrtSGDStep._eval",
                "HorizonSGDStep._eval")
           + _m("schedules.compose", "Join._eval", "Scaled._eval", "join", "scale",
                "warmup")
           + _m("schedules.batch_size", "linear_scaling", "sqrt_scaling")
           + _m("schedules.plateau", "ReduceLROnPlateau.step")),
)


def page_path(family: Family) -> str:
    return f"literate/{family.slug}.md"


# ------------------------------------------------------------------ the source of one function
def _node(path: str, qualname: str):
    scope = _tree(path).body
    node = None
    for name in qualname.split("."):
        node = next((c for c in scope if isinstance(c, (ast.ClassDef, ast.FunctionDef,
                                                        ast.AsyncFunctionDef))
                     and c.name == name), None)
        if node is None:
            raise RefError(f"{qualname!r}: no {name!r} in {path}")
        scope = node.body
    return node


def _docstring_span(node):
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                            ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[0].lineno, body[0].end_lineno
    return None


def _chunks(node, text: list[str]) -> dict[int, tuple[int, int]]:
    """Each line of a statement of ``node`` -> the span (first, last line) of the statement
    (for a compound statement: of its header, up to the last code line before its body)."""
    spans = {}

    def add(first, last):
        for n in range(first, last + 1):
            spans.setdefault(n, (first, last))

    def header(start, body0):
        end = body0.lineno - 1
        while end > start and (not text[end - 1].strip()
                               or text[end - 1].strip().startswith("#")):
            end -= 1
        add(start, max(start, end))

    def visit(stmts):
        for st in stmts:
            bodies = [getattr(st, f, None) for f in ("body", "handlers", "orelse", "finalbody")]
            bodies = [b for b in bodies if isinstance(b, list) and b]
            start = min([st.lineno] + [d.lineno for d in getattr(st, "decorator_list", [])])
            if not bodies or st.body[0].lineno == start:  # simple, or all on one line
                add(start, st.end_lineno)
                continue
            header(start, st.body[0])
            for b in bodies:
                for h in b:
                    if isinstance(h, ast.ExceptHandler):
                        header(h.lineno, h.body[0])
                        visit(h.body)
                    else:
                        visit([h])

    visit(node.body)
    return spans


@dataclass
class Row:
    lines: list          # line numbers of the code shown
    comments: list       # the comments (text without #) that annotate them


@functools.lru_cache(maxsize=None)
def rows(path: str, qualname: str) -> tuple[Row, ...]:
    """The rows of the two-column layout of one function or method (not to be modified: the
    result is cached)."""
    node = _node(path, qualname)
    toks = source.line_tokens(path)
    text = source.source_lines(path)
    doc = _docstring_span(node)
    spans = _chunks(node, text)
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    body_start = node.body[0].lineno
    header_end = (doc[0] if doc else body_start) - 1
    for n in range(start, max(start, header_end) + 1):
        spans[n] = (start, max(start, header_end))
    out: list[Row] = []
    pending: list[str] = []
    plain_open = False  # whether the last row is a plain one that can take more lines
    n = start
    while n <= node.end_lineno:
        line = text[n - 1]
        if doc and doc[0] <= n <= doc[1]:
            n += 1
            continue
        stripped = line.strip()
        if not stripped:
            plain_open = False
            n += 1
            continue
        if stripped.startswith("#"):
            pending.append(stripped[1:].strip())
            plain_open = False
            n += 1
            continue
        _, last = spans.get(n, (n, n))
        chunk = list(range(n, last + 1))
        comments = list(pending)
        pending = []
        code_lines = []
        for m in chunk:
            if text[m - 1].strip().startswith("#"):
                comments.append(text[m - 1].strip()[1:].strip())
                continue
            trailing = [t[1] for t in toks[m - 1] if t[2]]
            comments += [c.lstrip("#").strip() for c in trailing]
            code_lines.append(m)
        comments = [c for c in comments if latex.convert(c)]
        if comments or not plain_open or not out:
            out.append(Row(code_lines, comments))
            plain_open = not comments
        else:
            out[-1].lines += code_lines
        n = last + 1
    return tuple(out)


def _indent_of(path: str, node) -> int:
    line = source.source_lines(path)[node.lineno - 1]
    return len(line) - len(line.lstrip(" "))


def _formula_html(comments) -> str:
    return "".join(f'<div class="literate-line">{latex.to_html(latex.convert(c))}</div>'
                   for c in comments)


def render_rows(page: str, path: str, qualname: str, directory_urls: bool = True) -> str:
    """The raw HTML of the two-column layout of one function or method on ``page``."""
    node = _node(path, qualname)
    indent = _indent_of(path, node)
    toks = source.line_tokens(path)
    name = path.rsplit("/", 1)[-1]
    parts = ['<div class="literate">']
    for row in rows(path, qualname):
        if not row.lines:
            continue
        first = row.lines[0]
        link = urls.href(page, urls.code_page(path), f"L{first}", directory_urls)
        code = "".join(source.render_tokens(toks[m - 1], drop_comments=True, dedent=indent)
                       + "\n" for m in row.lines)
        parts.append(
            f'<div class="literate-row" id="{_anchor(qualname)}-L{first}">'
            f'<div class="literate-formula">{_formula_html(row.comments)}'
            f'<a class="literate-source" href="{html.escape(link)}" '
            f'title="{html.escape(path)}, line {first}">{html.escape(name)}:{first}</a></div>'
            f'<div class="literate-code no-copy"><div class="highlight"><pre><code '
            f'class="language-python">{code}</code></pre></div></div></div>')
    parts.append("</div>")
    return "\n".join(parts)


def _anchor(qualname: str) -> str:
    return qualname.replace(".", "-").replace("_", "-").strip("-").lower()


# ------------------------------------------------------------------ pages
def _object(module: str, qualname: str):
    obj = importlib.import_module(module)
    for name in qualname.split("."):
        obj = getattr(obj, name)
    return obj


def _md_link(page: str, path: str, line: int, label: str) -> str:
    """A Markdown link from ``page`` to a line of a source page (MkDocs checks and rewrites
    it)."""
    return f"[{label}]({_relative_md(page, urls.code_page(path))}#L{line})"


def _relative_md(page: str, target: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


def family_page(family: Family, directory_urls: bool = True) -> str:
    """The Markdown of one family's literate page."""
    page = page_path(family)
    out = ["---", "hide:", "  - navigation", "---", "", f"# {family.title}", "",
           "[Back to the index](../index.md) · [all the literate pages](index.md)", "",
           rst.rst_to_markdown(family.intro), "",
           "Each row: on the left the formula that the code's comment states, on the right "
           "the code it annotates; the link under a formula opens that line in the whole "
           "source. The formulas and the code come from the source files when the site is "
           "built.", ""]
    seen_modules, seen_classes = set(), set()
    for module, qualname in family.items:
        mod = importlib.import_module(module)
        path = module_path(mod)
        if module not in seen_modules:
            seen_modules.add(module)
            out += [f"## [`{module}`]({_relative_md(page, urls.code_page(path))})", "",
                    rst.to_markdown(mod.__doc__, section_level=3), ""]
        parts = qualname.split(".")
        if len(parts) > 1 or isinstance(_object(module, qualname), type):
            cls_name = parts[0]
            if (module, cls_name) not in seen_classes:
                seen_classes.add((module, cls_name))
                line, _ = locate(path, cls_name)
                cls = _object(module, cls_name)
                out += [f"### {_md_link(page, path, line, f'`{cls_name}`')}", "",
                        rst.to_markdown(cls.__doc__, section_level=4), ""]
            if len(parts) == 1:
                continue
        line, _ = locate(path, qualname)
        fn = _object(module, qualname)
        fn = getattr(fn, "fget", fn)  # a property: its getter
        heading = "####" if len(parts) > 1 else "###"
        out += [f"{heading} {_md_link(page, path, line, f'`{qualname}`')}", ""]
        if getattr(fn, "__doc__", None):
            out += [rst.to_markdown(fn.__doc__, section_level=len(heading) + 1), ""]
        out += [render_rows(page, path, qualname, directory_urls), ""]
    return "\n".join(out).rstrip() + "\n"


def index_page() -> str:
    out = ["# Literate pages: the formulas beside the code", "",
           "[Back to the index](../index.md)", "",
           "One page per family of methods. Each shows the module's formulas, then every "
           "update line by line: the formula its comment states on the left, the code on "
           "the right, with a link to the line in the whole source. The pages are generated "
           "from the source when the site is built, so they follow the code.", "",
           "| family | what it shows |", "| --- | --- |"]
    for family in FAMILIES:
        shown = ", ".join(f"`{q}`" for _, q in family.items)
        out.append(f"| [{family.title}]({family.slug}.md) | {shown} |")
    return "\n".join(out) + "\n"


def shown_classes() -> set[tuple[str, str]]:
    """``(module, class name)`` of every class a literate page shows (its docstring, and its
    methods where the table names some)."""
    out = set()
    for family in FAMILIES:
        for module, qualname in family.items:
            head = qualname.split(".")[0]
            if isinstance(_object(module, head), type):
                out.add((module, head))
    return out


def linked_files() -> set[str]:
    """The repository files the literate pages link."""
    return {module_path(importlib.import_module(m)) for f in FAMILIES for m, _ in f.items}
