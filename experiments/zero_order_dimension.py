r"""The curse of dimensionality of zero-order GD (L1; docs/lectures.md sections 1 and 7).

L1's table: on an :math:`L`-smooth, :math:`\mu`-strongly convex :math:`f` GD converges as
:math:`(1-\mu/L)^k` and zero-order GD as :math:`(1-\frac{\mu}{nL})^k`: the iterations to a given
accuracy grow in proportion to the dimension :math:`n` for zero-order GD and not at all for GD.

The run. For each dimension :math:`n` a quadratic :math:`f(x)=\frac12x^\top Ax` with the same
spectrum bounds :math:`\mu=0.25`, :math:`L=1` (eigenvalues equispaced in :math:`[\mu,L]`,
:math:`\kappa=4`), :math:`x^*=0`, :math:`f^*=0`, started at distance 1 from :math:`x^*` in a
random direction. Target: the relative gap :math:`(f(x_k)-f^*)/(f(x_0)-f^*)\le10^{-3}`.

* Zero-order GD: ``optimizers.zero_order.zo_gd`` with the two-point estimate along a random
  unit direction :math:`e` (docs/lectures.md section 7):
  :math:`G=\frac{n}{2\tau}(f(x+\tau e)-f(x-\tau e))e` (2 evaluations of :math:`f` per
  iteration, :math:`\tau=10^{-4}`; the central difference is exact on a quadratic), and the step
  the theory prescribes, :math:`\alpha=\frac1{nL}`: with :math:`\mathbb{E}G=\nabla f` and
  :math:`\mathbb{E}\|G\|^2=n\|\nabla f\|^2` the descent lemma gives
  :math:`\mathbb{E}f(x_{k+1})\le f(x_k)-\alpha\|\nabla f\|^2+\frac{L\alpha^2n}2\|\nabla f\|^2`,
  best at :math:`\alpha=1/(nL)`, and then
  :math:`\mathbb{E}[f(x_{k+1})-f^*]\le(1-\frac{\mu}{nL})(f(x_k)-f^*)`. The iteration count of
  each seed is where :math:`f` first reaches the target (``ftarget``); the seeds enter the
  statistics below.
* GD: ``optimizers.SGD`` with the full gradient and step :math:`1/L`, through
  :func:`experiments.runner.run` (stopping at the target).

Then the slope :math:`p` of :math:`\log(\text{iterations})` against :math:`\log n` is fitted by
least squares: for each seed :math:`s` of zero-order GD over its counts at every :math:`n`
(:math:`p_s`; seed :math:`s` draws the directions at every :math:`n`), and for GD over its
counts (one deterministic run per :math:`n`).

**The rule in force** (version 2, :data:`RULES`): an equivalence test on the mean slope of
zero-order GD, two one-sided t-tests at 95% (:func:`experiments.stats.one_sided_t`, :math:`S-1`
degrees of freedom): the lower confidence bound of :math:`\bar p` is at least 0.85 and the
upper bound at most 1.15; for GD :math:`|p_{GD}|\le0.15`; every run of the claim reached the
target within 20 times the bound's count :math:`n\kappa\ln(1/\varepsilon)`; and the control
violates the claim (below). Why :math:`\pm0.15`: the count is
:math:`n\kappa\ln(1/\varepsilon)` up to a constant factor and lower-order terms, so its slope is
1; the margin separates it from the nearest alternatives a mistake would give (0: no growth,
GD's; 0.5: :math:`\sqrt n`; 2: a step :math:`1/(n^2L)`) while leaving room for the
lower-order terms at :math:`n=10`.

**The control** (same run): zero-order GD with the *coordinate* estimate
:math:`G=\sum_i\frac{f(x+\tau e_i)-f(x-\tau e_i)}{2\tau}e_i` (``estimator="coordinate"``:
:math:`2n` values of :math:`f` per iteration instead of 2, exact on a quadratic) and the step
:math:`1/L`, outside the claim's method (one random direction per iteration). Its iterations do
not grow with :math:`n` (the factor :math:`n` moves into the cost of an iteration), so the same
fitted slope must fall below 0.85. A check that accepted it would accept a method that has no
curse of dimensionality in its iterations. It is deterministic (one run per :math:`n`); with
``--quick`` it runs at :math:`n\le100` only (each iteration costs :math:`2n` values).

**Statistics.** The directions are random: :math:`S` seeds (3 with ``--quick``, 10 in the full
budget), per-seed slopes, the t bounds above, the p-values of both one-sided tests and the
effect sizes (Cohen's :math:`d_z=(\bar p-p_0)/s_p`) in the verdict. GD and the control are
deterministic: one run per :math:`n` gives their counts exactly.

**History.** Version 1 (the rule before the protocol): :math:`|p-1|\le0.15` for the slope of the
*mean* count over 3 (quick) or 5 (full) seeds, :math:`|p_{GD}|\le0.15`, every run reached the
target; no confidence statement and no control. It is still evaluated on every run
(``earlier_rules``) and gives PASS on this code. Version 2 replaces the point estimate by the
t-based equivalence test on per-seed slopes (10 seeds in the full budget) and adds the
control.

Why a diagonal :math:`A` (``problems.Quadratic.from_matrix(diag(lambda))``): both methods are
invariant under rotations (GD is equivariant; the direction :math:`e` is uniform on the sphere),
so the iteration counts have the same distribution as on a randomly rotated quadratic with
the same spectrum, and the function values the zero-order method queries cost :math:`O(n)`
(its closed form :math:`\frac12\sum_i\lambda_ix_i^2`, checked equal to the problem's ``f`` at
the start) instead of a dense :math:`O(n^2)` product. That is what makes :math:`n=1000` with
several seeds fit in seconds. The zero-order iterations are not recorded by the runner (it
measures the gradient at every iterate and would need ``ZeroOrderGD``'s closure calls); the
trace of each zero-order run records :math:`f(x_k)-f^*` every few iterations through
``zo_gd``'s callback, from the same closed form.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

import minigrad as mg
import optimizers
import problems as P
from experiments import stats
from experiments.common import fmt, loglog_slope
from experiments.protocol import Condition, Rule, verdict
from experiments.registry import register
from experiments.runner import run as run_trace
from experiments.trace import Trace, load_traces, save_traces
from optimizers.zero_order.zo_gd import zo_gd
from theorems import ZERO_ORDER_GD

CLAIM = ("Zero-order GD (two-point estimate, step 1/(nL)) needs a number of iterations that grows "
         "in proportion to the dimension n (rate (1 - mu/(nL))^k), GD's does not "
         "(rate (1 - mu/L)^k): fitted slopes of log(iterations) vs log(n) near 1 and 0.")
FIGURE = "zero_order_dimension.png"
MU, L = 0.25, 1.0
EPS = 1e-3  # target relative gap
TAU = 1e-4
STEP = 1.0  # the zero-order step in units of 1/(nL) (a test sets a larger one to see a FAIL)
QUICK = {"dims": (10, 30, 100, 300), "seeds": 3, "control_dims": (10, 30, 100)}
FULL = {"dims": (10, 30, 100, 300, 1000), "seeds": 10, "control_dims": (10, 30, 100, 300, 1000)}
CONFIDENCE = 0.95
SLOPE_MARGIN = 0.15  # |slope - 1| (ZO-GD), |slope| (GD)
CAP = 20             # iteration cap, in units of the bound's count n kappa ln(1/eps)
STEM = "run"
CONTROL_STEM = "control"

_GD = Condition("gd_slope_abs", "GD: |slope of log(iterations) vs log(n)| <= 0.15", "<=",
                SLOPE_MARGIN)
_REACHED = Condition("unreached_runs", "runs of the claim that did not reach the target within "
                     "20 n kappa ln(1/eps) iterations <= 0", "<=", 0)
RULES = (
    Rule(1, (Condition("zo_mean_slope_error", "ZO-GD: |slope of log(mean iterations over the "
                       "seeds) vs log(n) - 1| <= 0.15", "<=", SLOPE_MARGIN), _GD, _REACHED)),
    Rule(2, (
        Condition("zo_slope_lower", "ZO-GD: one-sided 95% lower t bound of the mean per-seed "
                  "slope of log(iterations) vs log(n) >= 0.85", ">=", 1.0 - SLOPE_MARGIN),
        Condition("zo_slope_upper", "ZO-GD: one-sided 95% upper t bound of the mean per-seed "
                  "slope <= 1.15", "<=", 1.0 + SLOPE_MARGIN),
        _GD, _REACHED,
        Condition("control_coordinate_slope", "control, zero-order GD with the coordinate "
                  "estimate (2n values per iteration, step 1/L): slope of log(iterations) vs "
                  "log(n) < 0.85", "<", 1.0 - SLOPE_MARGIN, role="control"),
    ), note="an equivalence test (two one-sided t-tests at 95%) on per-seed slopes, 10 seeds in "
            "the full budget, replaces the point estimate of the slope of the mean; adds the "
            "control"),
)
BOUND = RULES[-1].text


def make_problem(n: int, seed: int):
    r"""The quadratic :math:`\frac12x^\top\mathrm{diag}(\lambda)x` with :math:`\lambda`
    equispaced in :math:`[\mu,L]`, :math:`x^*=0`, :math:`x_0` a random unit vector; and its
    closed-form value for the zero-order oracle."""
    lam = np.linspace(MU, L, n)
    u = np.random.default_rng([seed, n]).standard_normal(n)
    q = P.Quadratic.from_matrix(np.diag(lam), x0=u / np.linalg.norm(u))
    lam_b = mg.backend.asarray(lam, dtype=q.dtype, backend=q.backend)

    def fun(x):
        a = x.data if isinstance(x, mg.Tensor) else x  # zo_gd passes a Tensor; arrays work too
        return 0.5 * float((lam_b * a * a).sum())

    f0 = q.value(q.x0)
    if not math.isclose(fun(q.x0), f0, rel_tol=1e-12):  # the oracle is the problem's f
        raise AssertionError(f"closed form {fun(q.x0)!r} != problem's f {f0!r}")
    return q, fun


class _Diverged(Exception):
    """Raised from the callback to stop a zero-order run whose gap has blown up."""


def zo_run(q, fun, seed: int, max_iter: int, *, estimator: str = "two-point",
           lr: float | None = None, kind: str = "zo") -> Trace:
    """Zero-order GD from ``q.x0`` until the target (``estimator``, step ``lr``: by default the
    two-point estimate and ``STEP/(nL)``); the trace records ``f - f*`` every few iterations
    (and at the end). A run whose gap exceeds ``1e6 (f(x_0) - f*)`` is stopped as diverged (far
    out, the differences f(x + tau e) - f(x - tau e) drown in round-off and the iterates freeze
    instead of overflowing)."""
    n = q.dim
    lr = STEP / (n * L) if lr is None else lr
    gap0 = fun(q.x0) - q.f_star
    every = max(1, n // 20)
    ks, gaps = [0], [gap0]
    count = [0]

    def record(x):
        count[0] += 1
        if count[0] % every == 0:
            ks.append(count[0])
            gaps.append(fun(x) - q.f_star)
            if not gaps[-1] <= 1e6 * gap0:
                raise _Diverged

    try:
        res = zo_gd(fun, q.x0, lr=lr, tau=TAU, estimator=estimator,
                    maxiter=max_iter, seed=seed, ftarget=q.f_star + EPS * gap0, callback=record)
        nit, reached, nfev = int(res.nit), bool(res.success), int(res.nfev)
        if ks[-1] != nit:
            ks.append(nit)
            gaps.append(res.fun - q.f_star)
    except _Diverged:
        nit, reached, nfev = count[0], False, -1
    cols = {"k": np.array(ks, dtype=float), "f_gap": np.array(gaps, dtype=float)}
    per_iteration = 2.0 * n if estimator == "coordinate" else 2.0
    cols["n_f"] = per_iteration * cols["k"]  # values per iteration (the iterate checks aside)
    name = "ZO-GD" if estimator == "two-point" else f"ZO-GD ({estimator})"
    return Trace(f"{name} n={n} seed={seed}", cols,
                 {"kind": kind, "n": n, "seed": seed, "iterations": nit, "reached": reached,
                  "nfev": nfev, "gap0": gap0, "estimator": estimator, "lr": lr})


def gd_run(q, max_iter: int) -> Trace:
    """GD with step 1/L through the runner, stopping at the target."""
    gap0 = q.value(q.x0) - q.f_star
    tr = run_trace(q, lambda ps: optimizers.SGD(ps, lr=1.0 / L), steps=max_iter,
                   target=EPS * gap0, label=f"GD n={q.dim}")
    tr.meta.update(kind="gd", n=q.dim, iterations=int(tr["k"][-1]),
                   reached=bool(tr["f_gap"][-1] <= EPS * gap0), gap0=gap0)
    return tr


def control_run(q, fun, max_iter: int) -> Trace:
    """The control: zero-order GD with the coordinate estimate (2n values of f per iteration,
    exact on a quadratic) and the step 1/L, until the target."""
    return zo_run(q, fun, 0, max_iter, estimator="coordinate", lr=1.0 / L, kind="control")


def iteration_table(traces):
    """``(ns, zo mean, zo min, zo max, gd)`` iterations per dimension, from the traces."""
    ns = sorted({t.meta["n"] for t in traces})
    zo = [[t.meta["iterations"] for t in traces if t.meta["kind"] == "zo" and t.meta["n"] == n]
          for n in ns]
    gd = [next(t.meta["iterations"] for t in traces if t.meta["kind"] == "gd"
               and t.meta["n"] == n) for n in ns]
    return (np.array(ns, float), np.array([np.mean(z) for z in zo]),
            np.array([np.min(z) for z in zo]), np.array([np.max(z) for z in zo]),
            np.array(gd, float))


def _count(t) -> float:
    """The iterations to the target of a run; ``inf`` when it did not reach it."""
    return float(t.meta["iterations"]) if t.meta["reached"] else math.inf


def slope_of_counts(runs) -> float:
    """The least-squares slope of log(iterations) against log(n) over ``runs`` (one per
    dimension); ``inf`` when one of them did not reach the target."""
    ns = np.array([t.meta["n"] for t in runs], dtype=float)
    counts = np.array([_count(t) for t in runs])
    if not np.all(np.isfinite(counts)):
        return math.inf
    return loglog_slope(ns, counts)[0]


def per_seed_slopes(traces) -> np.ndarray:
    """The slope of each zero-order seed over its counts at every dimension."""
    seeds = sorted({t.meta["seed"] for t in traces if t.meta["kind"] == "zo"})
    return np.array([slope_of_counts([t for t in traces if t.meta["kind"] == "zo"
                                      and t.meta["seed"] == s]) for s in seeds])


def slope_tests(slopes) -> dict:
    """The two one-sided t-tests of the mean slope against ``1 -+ SLOPE_MARGIN``
    (:func:`experiments.stats.one_sided_t`); with a non-finite slope (a run that did not reach
    the target) both bounds are ``inf``."""
    lo, hi = 1.0 - SLOPE_MARGIN, 1.0 + SLOPE_MARGIN
    if not np.all(np.isfinite(slopes)):
        inf = {"bound": math.inf, "p": 1.0, "effect": math.nan}
        return {"lower": dict(inf), "upper": dict(inf), "mean": math.inf, "sd": math.nan}
    lower = stats.one_sided_t(slopes, mu0=lo, alternative="greater", confidence=CONFIDENCE)
    upper = stats.one_sided_t(slopes, mu0=hi, alternative="less", confidence=CONFIDENCE)
    return {"lower": lower, "upper": upper, "mean": lower["mean"], "sd": lower["sd"]}


def draw(out_dir) -> pathlib.Path:
    """Two panels from the saved traces: the runs, and iterations against n with the fits."""
    from experiments import plotting as plot

    traces = load_traces(out_dir, stem=STEM)
    controls = load_traces(out_dir, stem=CONTROL_STEM)
    ns, zo_mean, zo_min, zo_max, gd = iteration_table(traces)
    fig, axes = plot.subplots(1, 2, width=5.4, height=4.0,
                              title="Zero-order GD pays the dimension: iterations to "
                                    "(f - f*)/(f0 - f*) <= 1e-3, mu = 0.25, L = 1")
    ax = axes[0]
    for i, n in enumerate(ns):
        color = plot.COLORS[i % 10]
        zo = next(t for t in traces if t.meta["kind"] == "zo" and t.meta["n"] == n)
        g = next(t for t in traces if t.meta["kind"] == "gd" and t.meta["n"] == n)
        ax.loglog(np.maximum(zo["k"], 0.7), zo["f_gap"] / zo.meta["gap0"], color=color, lw=1.3,
                  label=f"ZO-GD n={n:.0f}")
        ax.loglog(np.maximum(g["k"], 0.7), g["f_gap"] / g.meta["gap0"], "o--", color=color,
                  lw=1.0, ms=2.5, label=f"GD n={n:.0f}")
    ax.axhline(EPS, color="k", lw=0.8, ls=":")
    ax.set_xlabel("iteration k (k=0 drawn at 0.7)")
    ax.set_ylabel(r"$(f(x_k)-f^*)/(f(x_0)-f^*)$")
    ax.set_title("one seed per n; dotted: the target", fontsize=9)
    ax.legend(fontsize=6, ncol=2, loc="upper right")

    ax = axes[1]
    p_zo, c_zo = loglog_slope(ns, zo_mean)
    p_gd, c_gd = loglog_slope(ns, gd)
    ax.errorbar(ns, zo_mean, yerr=[zo_mean - zo_min, zo_max - zo_mean], fmt="o",
                color=plot.COLORS[0], capsize=3, label="ZO-GD (mean, min-max over seeds)")
    zo = [t for t in traces if t.meta["kind"] == "zo"]
    ax.plot([t.meta["n"] * 1.04 for t in zo], [_count(t) for t in zo], ".", ms=3,
            color=plot.COLORS[0], alpha=0.6, label="ZO-GD, each seed")
    ax.plot(ns, gd, "s", color=plot.COLORS[1], label="GD")
    if controls:
        ax.plot([t.meta["n"] for t in controls], [_count(t) for t in controls], "x", ms=6,
                color="0.3", label=f"control: coordinate estimate, slope "
                                   f"{slope_of_counts(controls):.3f}")
    nn = np.geomspace(ns[0], ns[-1], 50)
    ax.plot(nn, np.exp(c_zo) * nn ** p_zo, "-", color=plot.COLORS[0], lw=1,
            label=f"fit: slope {p_zo:.3f}")
    ax.plot(nn, np.exp(c_gd) * nn ** p_gd, "-", color=plot.COLORS[1], lw=1,
            label=f"fit: slope {p_gd:.3f}")
    plot.reference_line(ax, nn, ZERO_ORDER_GD.iterations(EPS, MU, L) * nn,
                        r"$n\kappa\ln(1/\varepsilon)$: the bound's count (ZO, in expectation)",
                        color="0.4")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(1.0, 1e5)  # room for the legend above the points, the verdict box below
    ax.set_xlabel("dimension n")
    ax.set_ylabel("iterations to the target")
    ax.set_title("log(iterations) vs log(n): slope 1 for ZO-GD, 0 for GD", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    tests = slope_tests(per_seed_slopes(traces))
    plot.decisive(ax, label="ZO-GD: 95% lower bound of the mean per-seed slope",
                  value=tests["lower"]["bound"], threshold=1.0 - SLOPE_MARGIN, op=">=",
                  loc="lower right")
    return plot.save(fig, pathlib.Path(out_dir) / FIGURE)


def measurements(traces, controls) -> dict:
    """The numbers :data:`RULES` apply, from the saved traces."""
    ns, zo_mean, _, _, _ = iteration_table(traces)
    tests = slope_tests(per_seed_slopes(traces))
    return {"zo_mean_slope_error": abs(loglog_slope(ns, zo_mean)[0] - 1.0),
            "zo_slope_lower": tests["lower"]["bound"], "zo_slope_upper": tests["upper"]["bound"],
            "gd_slope_abs": abs(slope_of_counts([t for t in traces if t.meta["kind"] == "gd"])),
            "unreached_runs": sum(not t.meta["reached"] for t in traces),
            "control_coordinate_slope": slope_of_counts(controls) if controls else math.nan}


def judge(traces, controls) -> dict:
    """The verdict of :data:`RULES` on the saved traces of the claim and of the control."""
    values = measurements(traces, controls)
    ns, zo_mean, _, _, gd = iteration_table(traces)
    p_zo, _ = loglog_slope(ns, zo_mean)
    p_gd = slope_of_counts([t for t in traces if t.meta["kind"] == "gd"])
    slopes = per_seed_slopes(traces)
    tests = slope_tests(slopes)
    lo, up = tests["lower"], tests["upper"]
    seeds = len(slopes)
    unreached = values["unreached_runs"]
    per_n = ", ".join(f"n={n:.0f}: {z:.0f} vs {g:.0f}" for n, z, g in zip(ns, zo_mean, gd))
    ctrl = ", ".join(f"n={t.meta['n']}: {_count(t):.0f} ({t.meta['nfev']} values)"
                     for t in controls)
    measured = (f"slope of log(iterations) vs log(n), n = {', '.join(f'{n:.0f}' for n in ns)}: "
                f"ZO-GD per-seed slopes over {seeds} seeds mean {fmt(tests['mean'], 4)} (sd "
                f"{fmt(tests['sd'])}), one-sided 95% t bounds [{fmt(lo['bound'], 4)}, "
                f"{fmt(up['bound'], 4)}] (df {seeds - 1}; against 0.85: p = {fmt(lo['p'])}, "
                f"d_z = {fmt(lo['effect'])}; against 1.15: p = {fmt(up['p'])}, d_z = "
                f"{fmt(up['effect'])}); slope of the mean counts {p_zo:.3f}; GD {p_gd:.3f}; "
                f"iterations ZO vs GD: {per_n}; ZO iterations/n = "
                f"{fmt(float(np.mean(zo_mean / ns)))} on average (the bound kappa ln(1/eps) = "
                f"{fmt(ZERO_ORDER_GD.iterations(EPS, MU, L))}); {unreached} runs did not reach "
                f"the target. Control, coordinate estimate with step 1/L: slope "
                f"{fmt(values['control_coordinate_slope'], 4)} (must be < 0.85), iterations "
                f"{ctrl}")
    summary = (f"slopes: ZO-GD {fmt(tests['mean'], 3)} (95% bounds {fmt(lo['bound'], 3)}.."
               f"{fmt(up['bound'], 3)}, {seeds} seeds; claim 1), GD {p_gd:.2f} (claim 0); "
               f"control {fmt(values['control_coordinate_slope'], 3)} (must be < 0.85)")
    return verdict(RULES, values, claim=CLAIM, measured=measured, figure=FIGURE,
                   summary=summary, slope_zo=p_zo, slope_gd=p_gd, dims=ns.tolist(),
                   seeds=seeds, zo_slopes=slopes.tolist(), zo_slope_mean=tests["mean"],
                   zo_slope_p_lower=lo["p"], zo_slope_p_upper=up["p"],
                   zo_slope_effect_lower=lo["effect"], zo_slope_effect_upper=up["effect"],
                   zo_iterations=zo_mean.tolist(), gd_iterations=gd.tolist(),
                   control_slope=values["control_coordinate_slope"],
                   control_iterations=[_count(t) for t in controls])


@register("zero-order-dimension", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    """ZO-GD (several seeds), GD and the control for each dimension; save, draw, judge."""
    out_dir = pathlib.Path(out_dir)
    budget = QUICK if quick else FULL
    traces, controls = [], []
    for n in budget["dims"]:
        q, fun = make_problem(n, seed)
        cap = int(CAP * ZERO_ORDER_GD.iterations(EPS, MU, L, n))  # 20x the bound's count
        traces += [zo_run(q, fun, seed * 1000 + s, cap) for s in range(budget["seeds"])]
        traces.append(gd_run(q, 10_000))
        if n in budget["control_dims"]:
            controls.append(control_run(q, fun, 10_000))
    save_traces(traces, out_dir, stem=STEM)
    save_traces(controls, out_dir, stem=CONTROL_STEM)
    draw(out_dir)
    return judge(load_traces(out_dir, stem=STEM), load_traces(out_dir, stem=CONTROL_STEM))
