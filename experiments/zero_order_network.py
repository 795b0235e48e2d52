r"""Zero-order methods on a small network, against GD, counted in function evaluations (L1;
FORMULAS sections 1 and 7).

L1 lists zero-order methods (Nelder–Mead, evolutionary methods, zero-order GD
:math:`x_{k+1}=x_k-\alpha_kG` with a two-point estimate :math:`G`) next to first-order ones, and
its table shows the price: zero-order GD's rates carry a factor :math:`n`, the number of
parameters (:math:`O(n/k)`, :math:`(1-\frac{\mu}{nL})^k`), "the curse of dimensionality of
zero-order methods". ``zero-order-dimension`` measures it on quadratics; this experiment trains
a network.

**Problem.** ``problems.TeacherStudent``: a tanh MLP ``[d_in, 8, 1]`` fits, in mean squared error
over ``m = 512`` Gaussian inputs, the outputs of a teacher network of the same architecture
(another seed), so :math:`f^*=0` is attained at the teacher's weights. Sizes: ``d_in`` in
4, 16, 60, i.e. :math:`n` = 49, 145, 497 parameters (``--quick``: 49 and 145); every size has
fewer parameters than samples. The variable is the flat vector of all parameters.

**Methods and cost convention.** One *evaluation* is one forward pass over the ``m`` samples
(:math:`f(x)`). A gradient by reverse mode costs a small constant times that (the cheap-gradient
principle); each GD step is charged ``C_GRAD = 4`` evaluations (our engine measures 2.5–4.5
under load; the run reports it), so the count does not favour GD.

* GD: ``optimizers.SGD``, full batch, through :func:`experiments.runner.run`, ``E/4`` steps;
* zero-order GD: ``optimizers.zo_gd``, two-point estimate
  :math:`G=\frac n{2\tau}(f(x+\tau e)-f(x-\tau e))e`, :math:`\tau=10^{-4}`, 2 evaluations per step,
  ``E/2`` steps;
* CMA-ES: ``optimizers.cmaes`` (default population :math:`4+\lfloor3\ln n\rfloor`), ``E``
  evaluations; its loss is the best value seen (what it returns).

*Rate rule*: each method's learning rate (CMA-ES: its initial step :math:`\sigma_0`) is the one of
a small log grid with the lowest final loss; the grids are GD :math:`\{0.1,0.3,1,3\}`, ZO-GD
:math:`\{0.003,0.01,0.03,0.1,0.3\}`, CMA-ES :math:`\{0.003,0.01,0.03,0.1\}`. Every run is saved; the
choice is made by :func:`analyse` from the saved traces. The zero-order methods query the
network through its closed form (:func:`make_oracle`: the same tanh MLP written with array
operations, checked equal to the problem's ``f`` at two points), ten times cheaper than a
minigrad forward pass; the loss of zero-order GD's iterates is recorded every 4 steps and not
counted.

**Verdict** (PASS when both hold):

1. at an equal budget of ``E`` evaluations (6000; ``--quick``: 2000), at the largest size, GD's
   final loss is at least 2 times below the best loss of zero-order GD and of CMA-ES (any rate of
   their grids);
2. the relative cost of zero-order GD grows with :math:`n`: with :math:`\tau_n` the loss GD
   reaches after ``K = 25`` steps (100 evaluations) at size :math:`n`, the ratio
   :math:`R(n)=` (evaluations zero-order GD needs to reach :math:`\tau_n`, at its best rate of the
   grid for that target) / 100 has a log-log slope against :math:`n` of at least 0.5 (on a
   quadratic the theory gives 1; 0.5 separates growth from a constant with a margin), and every
   :math:`\tau_n` is reached within the budget. The same ratio for CMA-ES is reported.
"""
from __future__ import annotations

import math
import pathlib
import time

import numpy as np

import minigrad as mg
import optimizers
import problems as P
from experiments.common import fmt, loglog_slope
from experiments.common import verdict as make_verdict
from experiments.registry import register
from experiments.runner import run as run_trace
from experiments.trace import Trace, load_traces, save_traces

CLAIM = ("Zero-order methods do not scale to many parameters (L1): on a small MLP, at an equal "
         "budget of function evaluations, GD reaches a loss that zero-order GD and CMA-ES do not, "
         "and the evaluations zero-order GD needs to match GD grow with the number of parameters.")
BOUND = ("largest n: f_GD(E) <= min(f_ZO-GD, f_CMA-ES)(E) / 2; R(n) = evals_ZO(tau_n) / (4K) "
         "grows with n: slope of log R vs log n >= 0.5 (quadratic theory: 1)")
FIGURE = "zero_order_network.png"

HIDDEN = 8
SAMPLES = 512
D_IN = {True: (4, 16), False: (4, 16, 60)}
BUDGET = {True: 2000, False: 6000}       # evaluations
C_GRAD = 4                                # evaluations charged per gradient
K_TARGET = 25                             # GD steps that define the target loss
TAU = 1e-4
GD_GRID = (0.1, 0.3, 1.0, 3.0)
ZO_GRID = (0.003, 0.01, 0.03, 0.1, 0.3)
CMA_GRID = (0.003, 0.01, 0.03, 0.1)
ZO_RECORD = 4                             # record zero-order GD's loss every 4 steps
WIN = 2.0
MIN_SLOPE = 0.5


def make_problem(d_in: int, seed: int):
    """The teacher-student problem of one size (teacher = student architecture, f* = 0)."""
    return P.TeacherStudent(d_in=d_in, hidden=(HIDDEN,), d_out=1, m=SAMPLES, noise=0.0,
                            seed=seed, teacher_seed=seed + 1)


def make_oracle(p):
    r""":math:`f(x)` of the teacher-student problem ``p`` for a flat parameter vector, in array
    operations (no graph): :math:`\frac1m\sum_i\frac12(W_2\tanh(W_1a_i+b_1)+b_2-t_i)^2`, with
    the parameters in ``model.parameters()`` order; checked equal to ``p.value`` at the start and
    at a random point."""
    shapes = [tuple(q.shape) for q in p.parameters()]
    if len(shapes) != 4:
        raise AssertionError(f"make_oracle expects a one-hidden-layer MLP; got {shapes}")
    sizes = [math.prod(s) for s in shapes]
    cuts = np.cumsum([0] + sizes)
    X, T = p.X, p.T
    xp = mg.backend.get_array_module(X)

    def fun(x):
        a = (x.data if isinstance(x, mg.Tensor) else x).reshape(-1)  # zo_gd passes a Tensor
        W1, b1, W2, b2 = (a[cuts[i]:cuts[i + 1]].reshape(shapes[i]) for i in range(4))
        r = xp.tanh(X @ W1.T + b1) @ W2.T + b2 - T
        return 0.5 * float((r * r).sum()) / X.shape[0]

    x1 = p.x0 + mg.backend.asarray(np.random.default_rng(0).standard_normal(p.dim),
                                   dtype=p.dtype, backend=p.backend)
    for x in (p.x0, x1):
        if not math.isclose(fun(x), p.value(x), rel_tol=1e-10, abs_tol=1e-14):
            raise AssertionError(f"closed form {fun(x)!r} != problem's f {p.value(x)!r}")
    return fun


def gradient_cost_ratio(p, repeats: int = 30) -> float:
    """Measured seconds of one value-and-gradient over one value (both through minigrad)."""
    x = p.x0
    p.value_and_grad(x)
    t0 = time.perf_counter()
    for _ in range(repeats):
        p.value(x)
    tf = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(repeats):
        p.value_and_grad(x)
    return (time.perf_counter() - t0) / tf


class _Diverged(Exception):
    """Stops a zero-order run whose loss has blown up."""


def gd_run(p, lr: float, budget: int) -> Trace:
    """GD through the runner; evaluations = C_GRAD per step."""
    with np.errstate(all="ignore"):  # a diverging rate of the grid overflows, then stops
        tr = run_trace(p, lambda ps: optimizers.SGD(ps, lr=lr), steps=budget // C_GRAD,
                       record_every=5, label=f"GD lr={lr:g}")
    tr.columns["evals"] = C_GRAD * np.asarray(tr["k"], dtype=float)
    tr.meta.update(method="GD", rate=lr)
    return tr


def zo_run(p, fun, lr: float, budget: int, seed: int) -> Trace:
    """Zero-order GD, ``budget // 2`` steps; the loss of the iterate every ZO_RECORD steps."""
    f0 = fun(p.x0)
    ks, fs = [0], [f0]
    count = [0]

    def record(x):
        count[0] += 1
        if count[0] % ZO_RECORD == 0:
            ks.append(count[0])
            fs.append(fun(x))
            if not fs[-1] <= 1e6 * f0:          # also catches NaN
                raise _Diverged

    with np.errstate(all="ignore"):
        try:
            optimizers.zo_gd(fun, p.x0, lr=lr, tau=TAU, estimator="two-point",
                             maxiter=budget // 2, seed=seed, callback=record)
        except _Diverged:
            fs[-1] = math.inf
    k = np.asarray(ks, dtype=float)
    return Trace(f"ZO-GD lr={lr:g}", {"k": k, "evals": 2.0 * k, "f": np.asarray(fs)},
                 {"method": "ZO-GD", "rate": lr})


def cma_run(p, fun, sigma0: float, budget: int, seed: int) -> Trace:
    """CMA-ES with ``budget`` evaluations; the best value seen after each generation."""
    count, best = [0], [math.inf]

    def counted(x):
        v = fun(x)
        count[0] += 1
        best[0] = min(best[0], v)
        return v

    f0 = fun(p.x0)
    gens, evals, fs = [0], [0], [f0]

    def record(_m):
        gens.append(len(gens))
        evals.append(count[0])
        fs.append(best[0])

    with np.errstate(all="ignore"):
        optimizers.cmaes(counted, p.x0, sigma0=sigma0, maxfev=budget, seed=seed,
                         callback=record)
    return Trace(f"CMA-ES sigma0={sigma0:g}",
                 {"k": np.asarray(gens, float), "evals": np.asarray(evals, float),
                  "f": np.asarray(fs, float)}, {"method": "CMA-ES", "rate": sigma0})


def all_runs(*, quick: bool, seed: int) -> list:
    """Every method and rate of its grid, at every size."""
    budget = BUDGET[quick]
    traces = []
    for i, d_in in enumerate(D_IN[quick]):
        p = make_problem(d_in, seed)
        fun = make_oracle(p)
        f0 = p.value(p.x0)
        runs = [gd_run(p, lr, budget) for lr in GD_GRID]
        runs += [zo_run(p, fun, lr, budget, seed * 1000 + 10 * i) for lr in ZO_GRID]
        runs += [cma_run(p, fun, s, budget, seed * 1000 + 10 * i + 1) for s in CMA_GRID]
        ratio = gradient_cost_ratio(p)
        for tr in runs:
            tr.meta.update(n=p.dim, d_in=d_in, f0=f0, budget=budget, grad_cost=ratio)
        traces += runs
    return traces


# ----------------------------------------------------------------------------- analysis
def first_evals_below(tr, target: float):
    """The first recorded evaluation count where the loss is at or below ``target``."""
    f = np.asarray(tr["f"], dtype=float)
    hit = np.nonzero(f <= target)[0]
    return float(tr["evals"][hit[0]]) if hit.size else None


def final_loss(tr) -> float:
    """The loss at the end of the budget (inf when the run diverged or stopped short of it;
    CMA-ES may stop earlier on its own tests, and then keeps its best value)."""
    f = float(tr["f"][-1])
    if not math.isfinite(f):
        return math.inf
    if tr.meta["method"] == "GD" and tr["k"][-1] < tr.meta["budget"] // C_GRAD:
        return math.inf
    return f


def analyse(traces) -> dict:
    """Best rates, final losses, targets and cost ratios per size."""
    sizes = sorted({t.meta["n"] for t in traces})
    rows = []
    for n in sizes:
        runs = [t for t in traces if t.meta["n"] == n]
        best, final = {}, {}
        for method in ("GD", "ZO-GD", "CMA-ES"):
            mine = [t for t in runs if t.meta["method"] == method]
            t_best = min(mine, key=final_loss)
            best[method] = t_best
            final[method] = final_loss(t_best)
        gd = best["GD"]
        i = int(np.searchsorted(gd["k"], K_TARGET))
        target = float(gd["f"][i])
        cost = {}
        for method in ("ZO-GD", "CMA-ES"):
            hits = [first_evals_below(t, target) for t in runs if t.meta["method"] == method]
            hits = [h for h in hits if h is not None]
            cost[method] = min(hits) / (C_GRAD * K_TARGET) if hits else None
        rows.append({"n": n, "d_in": runs[0].meta["d_in"], "f0": runs[0].meta["f0"],
                     "final": final, "rate": {m: t.meta["rate"] for m, t in best.items()},
                     "target": target, "R": cost, "grad_cost": runs[0].meta["grad_cost"],
                     "budget": runs[0].meta["budget"]})
    ns_ = [r["n"] for r in rows]
    slopes = {}
    for method in ("ZO-GD", "CMA-ES"):
        R = [r["R"][method] for r in rows]
        slopes[method] = loglog_slope(ns_, R)[0] if all(v is not None for v in R) else math.nan
    return {"rows": rows, "slopes": slopes}


def verdict(a: dict) -> dict:
    """PASS/FAIL from the analysis (module docstring, items 1 and 2)."""
    rows = a["rows"]
    big = rows[-1]
    zo_best = min(big["final"]["ZO-GD"], big["final"]["CMA-ES"])
    margin = zo_best / big["final"]["GD"] if big["final"]["GD"] > 0 else math.inf
    ok1 = margin >= WIN
    reached = all(r["R"]["ZO-GD"] is not None for r in rows)
    ok2 = reached and a["slopes"]["ZO-GD"] >= MIN_SLOPE

    def r_text(v):
        return "not reached" if v is None else f"{v:.3g}"

    per = "; ".join(
        f"n={r['n']}: final loss GD {fmt(r['final']['GD'])} (lr {r['rate']['GD']:g}), ZO-GD "
        f"{fmt(r['final']['ZO-GD'])} (lr {r['rate']['ZO-GD']:g}), CMA-ES "
        f"{fmt(r['final']['CMA-ES'])} (sigma0 {r['rate']['CMA-ES']:g}); target (GD after "
        f"{K_TARGET} steps) {fmt(r['target'])}: R ZO-GD {r_text(r['R']['ZO-GD'])}, CMA-ES "
        f"{r_text(r['R']['CMA-ES'])}" for r in rows)
    ratios = ", ".join(f"{r['grad_cost']:.2g}" for r in rows)
    measured = (f"budget {big['budget']} evaluations, a gradient charged {C_GRAD} (measured "
                f"value_and_grad/value time ratio {ratios}). {per}. At n={big['n']} "
                f"the best zero-order loss is {margin:.3g}x GD's. Slope of log R vs log n: ZO-GD "
                f"{a['slopes']['ZO-GD']:.3g}, CMA-ES {a['slopes']['CMA-ES']:.3g}")
    summary = (f"n={big['n']}: GD {fmt(big['final']['GD'])} vs best zero-order {fmt(zo_best)} "
               f"({margin:.3g}x); ZO-GD cost ratio R "
               + " -> ".join(r_text(r["R"]["ZO-GD"]) for r in rows)
               + f" (slope {a['slopes']['ZO-GD']:.2f})")
    return make_verdict(ok1 and ok2, claim=CLAIM, bound=BOUND, measured=measured, figure=FIGURE,
                        summary=summary, checks=[ok1, ok2], margin=margin,
                        slopes=a["slopes"], rows=[{k: v for k, v in r.items()} for r in rows])


# ----------------------------------------------------------------------------- figure
COLORS = {"GD": "tab:blue", "ZO-GD": "tab:orange", "CMA-ES": "tab:green"}


def draw(out_dir) -> pathlib.Path:
    """Loss against evaluations per size (best rate of each method solid, the rest of the grid
    faint), and the cost ratio R against n."""
    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    traces = load_traces(out_dir, stem="run")
    a = analyse(traces)
    rows = a["rows"]
    fig, axes = plot.subplots(1, len(rows) + 1, width=4.4, height=3.8,
                              title=f"Teacher-student tanh MLP [d_in, {HIDDEN}, 1], m = {SAMPLES}: "
                                    f"loss against function evaluations (a gradient = {C_GRAD})")
    for ax, r in zip(axes, rows):
        runs = [t for t in traces if t.meta["n"] == r["n"]]
        for t in runs:
            m = t.meta["method"]
            is_best = t.meta["rate"] == r["rate"][m]
            f = np.asarray(t["f"], dtype=float)
            f = np.where(np.isfinite(f) & (f <= 10 * r["f0"]), f, np.nan)  # diverged: not drawn
            ax.loglog(np.maximum(t["evals"], 1.0), f, color=COLORS[m],
                      lw=1.5 if is_best else 0.6, alpha=1.0 if is_best else 0.35,
                      label=f"{m} ({'lr' if m != 'CMA-ES' else 'sigma0'} {t.meta['rate']:g})"
                      if is_best else None)
        ax.axhline(r["target"], color="k", lw=0.7, ls=":")
        ax.axvline(C_GRAD * K_TARGET, color="0.6", lw=0.7, ls=":")
        ax.set_ylim(max(1e-8, 0.3 * min(r["final"].values())), 3 * r["f0"])
        ax.set_xlabel("function evaluations (k=0 drawn at 1)")
        ax.set_ylabel("training loss f(x)")
        ax.set_title(f"n = {r['n']} parameters (d_in = {r['d_in']}); dotted: GD after "
                     f"{K_TARGET} steps", fontsize=8)
        ax.legend(fontsize=7, loc="lower left")
    ax = axes[-1]
    ns_ = [r["n"] for r in rows]
    for m, marker in (("ZO-GD", "o"), ("CMA-ES", "s")):
        R = [r["R"][m] if r["R"][m] is not None else np.nan for r in rows]
        ax.loglog(ns_, R, marker + "-", color=COLORS[m],
                  label=f"{m}: slope {a['slopes'][m]:.2f}")
    nn = np.geomspace(ns_[0], ns_[-1], 20)
    R0 = rows[0]["R"]["ZO-GD"]
    if R0:
        plot.reference_line(ax, nn, R0 * nn / ns_[0], "slope 1 (quadratic theory)", color="0.5")
    ax.axhline(1.0, color="tab:blue", lw=0.8, ls=":", label="GD (R = 1)")
    ax.set_xlabel("parameters n")
    ax.set_ylabel("evaluations to GD's 25-step loss / GD's")
    ax.set_title("relative cost R(n) of matching GD", fontsize=8.5)
    ax.legend(fontsize=7, loc="upper left")
    return plot.save(fig, out_dir / FIGURE, dpi=100)


# ----------------------------------------------------------------------------- experiment
@register("zero-order-network", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    """All runs; save, draw, check."""
    out_dir = pathlib.Path(out_dir)
    save_traces(all_runs(quick=quick, seed=seed), out_dir, stem="run")
    draw(out_dir)
    return verdict(analyse(load_traces(out_dir, stem="run")))
