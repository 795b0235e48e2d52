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
  each seed is where :math:`f` first reaches the target (``ftarget``); several seeds are
  averaged.
* GD: ``optimizers.SGD`` with the full gradient and step :math:`1/L`, through
  :func:`experiments.runner.run` (stopping at the target).

Then the slope :math:`p` of :math:`\log(\text{iterations})` against :math:`\log n` is fitted by
least squares. PASS when :math:`|p_{ZO}-1|\le0.15` and :math:`|p_{GD}|\le0.15` and every run
reached the target.

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
from experiments.common import fmt, loglog_slope, verdict
from experiments.registry import register
from experiments.runner import run as run_trace
from experiments.trace import Trace, load_traces, save_traces
from optimizers.zero_order.zo_gd import zo_gd
from theorems import ZERO_ORDER_GD

CLAIM = ("Zero-order GD (two-point estimate, step 1/(nL)) needs a number of iterations that grows "
         "in proportion to the dimension n (rate (1 - mu/(nL))^k), GD's does not "
         "(rate (1 - mu/L)^k): fitted slopes of log(iterations) vs log(n) near 1 and 0.")
BOUND = ("ZO-GD: E[f(x_k)-f*] <= (1 - mu/(nL))^k (f(x_0)-f*), iterations ~ n; "
         "GD: f(x_k)-f* <= (1 - mu/L)^k (f(x_0)-f*), iterations independent of n")
FIGURE = "zero_order_dimension.png"
MU, L = 0.25, 1.0
EPS = 1e-3  # target relative gap
TAU = 1e-4
STEP = 1.0  # the zero-order step in units of 1/(nL) (a test sets a larger one to see a FAIL)


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


def zo_run(q, fun, seed: int, max_iter: int) -> Trace:
    """Zero-order GD from ``q.x0`` until the target; the trace records ``f - f*`` every few
    iterations (and at the end). A run whose gap exceeds ``1e6 (f(x_0) - f*)`` is stopped as
    diverged (far out, the differences f(x + tau e) - f(x - tau e) drown in round-off and the
    iterates freeze instead of overflowing)."""
    n = q.dim
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
        res = zo_gd(fun, q.x0, lr=STEP / (n * L), tau=TAU, estimator="two-point",
                    maxiter=max_iter, seed=seed, ftarget=q.f_star + EPS * gap0, callback=record)
        nit, reached, nfev = int(res.nit), bool(res.success), int(res.nfev)
        if ks[-1] != nit:
            ks.append(nit)
            gaps.append(res.fun - q.f_star)
    except _Diverged:
        nit, reached, nfev = count[0], False, -1
    cols = {"k": np.array(ks, dtype=float), "f_gap": np.array(gaps, dtype=float)}
    cols["n_f"] = 2.0 * cols["k"]  # two evaluations per iteration (the iterate checks aside)
    return Trace(f"ZO-GD n={n} seed={seed}", cols,
                 {"kind": "zo", "n": n, "seed": seed, "iterations": nit, "reached": reached,
                  "nfev": nfev, "gap0": gap0})


def gd_run(q, max_iter: int) -> Trace:
    """GD with step 1/L through the runner, stopping at the target."""
    gap0 = q.value(q.x0) - q.f_star
    tr = run_trace(q, lambda ps: optimizers.SGD(ps, lr=1.0 / L), steps=max_iter,
                   target=EPS * gap0, label=f"GD n={q.dim}")
    tr.meta.update(kind="gd", n=q.dim, iterations=int(tr["k"][-1]),
                   reached=bool(tr["f_gap"][-1] <= EPS * gap0), gap0=gap0)
    return tr


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


def draw(out_dir) -> pathlib.Path:
    """Two panels from the saved traces: the runs, and iterations against n with the fits."""
    from experiments import plotting as plot

    traces = load_traces(out_dir, stem="run")
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
    ax.plot(ns, gd, "s", color=plot.COLORS[1], label="GD")
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
    ax.set_xlabel("dimension n")
    ax.set_ylabel("iterations to the target")
    ax.set_title("log(iterations) vs log(n): slope 1 for ZO-GD, 0 for GD", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    plot.decisive(ax, label="max(|ZO slope - 1|, |GD slope|)",
                  value=max(abs(p_zo - 1.0), abs(p_gd)), threshold=0.15, loc="lower right")
    return plot.save(fig, pathlib.Path(out_dir) / FIGURE)


@register("zero-order-dimension", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    """ZO-GD (several seeds) and GD for each dimension; save, draw, fit the slopes."""
    out_dir = pathlib.Path(out_dir)
    ns = (10, 30, 100, 300) if quick else (10, 30, 100, 300, 1000)
    seeds = 3 if quick else 5
    traces = []
    for n in ns:
        q, fun = make_problem(n, seed)
        cap = int(20 * ZERO_ORDER_GD.iterations(EPS, MU, L, n))  # 20x the expected count
        traces += [zo_run(q, fun, seed * 1000 + s, cap) for s in range(seeds)]
        traces.append(gd_run(q, 10_000))
    save_traces(traces, out_dir, stem="run")
    draw(out_dir)
    traces = load_traces(out_dir, stem="run")
    ns_, zo_mean, _, _, gd = iteration_table(traces)
    p_zo, _ = loglog_slope(ns_, zo_mean)
    p_gd, _ = loglog_slope(ns_, gd)
    reached = all(t.meta["reached"] for t in traces)
    ok = reached and abs(p_zo - 1.0) <= 0.15 and abs(p_gd) <= 0.15
    per_n = ", ".join(f"n={n:.0f}: {z:.0f} vs {g:.0f}" for n, z, g in zip(ns_, zo_mean, gd))
    measured = (f"slope of log(iterations) vs log(n), n = {', '.join(str(n) for n in ns)}: "
                f"ZO-GD {p_zo:.3f} (mean of {seeds} seeds), GD {p_gd:.3f}; iterations ZO vs GD: "
                f"{per_n}; ZO iterations/n = {fmt(float(np.mean(zo_mean / ns_)))} on average "
                f"(the bound kappa ln(1/eps) = {fmt(ZERO_ORDER_GD.iterations(EPS, MU, L))})"
                + ("" if reached else "; some runs did not reach the target"))
    summary = f"slopes: ZO-GD {p_zo:.2f} (claim 1), GD {p_gd:.2f} (claim 0)"
    return verdict(ok, claim=CLAIM, bound=BOUND, measured=measured, figure=FIGURE,
                   summary=summary, slope_zo=p_zo, slope_gd=p_gd, dims=list(ns),
                   zo_iterations=zo_mean.tolist(), gd_iterations=gd.tolist())
