r"""SGD with a constant step on the lectures' strongly convex logistic regression (docs/lectures.md
section 1, theorem 1; L1, L2): linear convergence to a neighbourhood of :math:`f^*` whose size
grows with the step, and no convergence to :math:`f^*` itself.

Claim (the bound, for :math:`\alpha<\frac1{2\mu}`, :math:`L`-smooth, :math:`\mu`-strongly convex
:math:`f`, :math:`\mathbb E\|\nabla f_i(x_k)\|^2\le\sigma^2`):

.. math:: \mathbb E[f(x_k)-f^*]\le(1-2\alpha\mu)^k\,[f(x_0)-f^*]+\frac{L\sigma^2\alpha}{4\mu}.

Set-up: ``LogisticRegression(m=200, dim=10, mu=1)`` (data seed = the CLI seed), start
:math:`x_0=x^*+2u` (:math:`u` a seeded random unit vector, so :math:`f(x_0)-f^*\approx2.4` and
the linear phase is visible), single-sample SGD (batch 1), three steps
:math:`\alpha\in\{0.05, 0.15, 0.45\}` below :math:`\frac1{2\mu}=0.5`, a fixed set of seeds each.

:math:`\sigma^2` is measured honestly: :math:`\sigma^2(x)=\frac1n\sum_i\|\nabla f_i(x)\|^2` (exact,
all :math:`n` terms) at **every iterate from which a step was taken, of every seed**; the bound
uses its maximum over that visited region (per step size), which is what the theorem assumes.

Verdict (PASS when all hold):

1. the bound holds in expectation: at every recorded :math:`k` and for every :math:`\alpha`,
   ``mean - 3 SE <= bound`` (mean and standard error over the seeds: the statistical margin);
2. the neighbourhood grows with :math:`\alpha`: the floors (per seed, the time average of
   :math:`f(x_k)-f^*` over the last half of the run; then mean and SE over seeds) increase with
   :math:`\alpha`, each by more than 3 combined standard errors;
3. no convergence: for every :math:`\alpha`, the mean gap over the last quarter of the run is at
   least half the mean gap over the third quarter (a plateau, not a decay).

The runs over seeds use the helpers of :mod:`experiments.stochastic`.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

from experiments.common import fmt, verdict as make_verdict
from experiments.plotting import COLORS, save, subplots
from experiments.registry import register
from experiments.stochastic import (far_start_logistic, mean_se, run_seeds, save_fresh, seeds_for,
                                    sigma2_probe)
from experiments.trace import load_traces
from theorems import SGD_CONSTANT_STEP

CLAIM = ("SGD with a constant step alpha < 1/(2 mu) on strongly convex logistic regression "
         "converges linearly to a neighbourhood of f* whose size grows with alpha, and not to f*")
BOUND = "E[f(x_k) - f*] <= (1 - 2 alpha mu)^k (f(x_0) - f*) + L sigma^2 alpha / (4 mu)"
FIGURE = "sgd_constant_step.png"
QUICK = (240, 12)   # (steps, seeds per configuration) with --quick
FULL = (600, 50)
STEM = "sgd"
ALPHAS = (0.05, 0.15, 0.45)


def analyse(traces) -> dict:
    """Everything the verdict and the figure need, from the saved traces only."""
    groups: dict = {}
    for t in traces:
        groups.setdefault(float(t.meta["alpha"]), []).append(t)
    meta = traces[0].meta
    mu, L = float(meta["mu"]), float(meta["L"])
    out = {"mu": mu, "L": L, "alphas": sorted(groups), "rows": [],
           "sigma2_star": float(meta.get("sigma2_star", math.nan))}
    for alpha in out["alphas"]:
        runs = groups[alpha]
        k, mean, se = mean_se(runs, "f_gap")
        sigma2 = max(float(t.meta["sigma2_max"]) for t in runs)
        gap0 = float(mean[0])
        bound = SGD_CONSTANT_STEP.bound(k, mu, L, alpha, sigma2, gap0)
        K = int(k[-1])
        half = k >= K / 2
        per_seed_floor = np.array([np.mean(t["f_gap"][half]) for t in runs])
        q3 = (k >= K / 2) & (k < 3 * K / 4)
        q4 = k >= 3 * K / 4
        out["rows"].append(dict(
            alpha=alpha, k=k, mean=mean, se=se, bound=bound, sigma2=sigma2, gap0=gap0,
            n_seeds=len(runs), floor=float(per_seed_floor.mean()),
            floor_se=float(per_seed_floor.std(ddof=1) / math.sqrt(len(runs))),
            floor_bound=SGD_CONSTANT_STEP.floor_term(mu, L, alpha, sigma2),
            violation=float(np.max(mean - 3 * se - bound)),
            max_ratio=float(np.max(mean / bound)),
            plateau=float(np.mean(mean[q4]) / np.mean(mean[q3]))))
    return out


def verdict(a: dict) -> dict:
    rows = a["rows"]
    ok_bound = all(r["violation"] <= 0 for r in rows)
    ok_grow = all(r2["floor"] - r1["floor"] > 3 * math.hypot(r1["floor_se"], r2["floor_se"])
                  for r1, r2 in zip(rows, rows[1:]))
    ok_plateau = all(r["plateau"] >= 0.5 for r in rows)
    measured = "; ".join(
        f"alpha={r['alpha']:g}: max mean/bound={r['max_ratio']:.2f}, floor "
        f"{fmt(r['floor'])} +- {fmt(r['floor_se'])} (bound's floor {fmt(r['floor_bound'])}, "
        f"sigma^2_max={fmt(r['sigma2'])}), last/third quarter={r['plateau']:.2f}" for r in rows)
    ok = ok_bound and ok_grow and ok_plateau
    summary = (f"{rows[0]['n_seeds']} seeds x {len(rows)} step sizes: bound "
               f"{'holds' if ok_bound else 'VIOLATED'} (mean-3SE), floors "
               f"{' < '.join(fmt(r['floor']) for r in rows)} "
               f"{'grow' if ok_grow else 'do NOT grow'} with alpha, "
               f"{'plateau' if ok_plateau else 'NO plateau'}")
    return make_verdict(ok, claim=CLAIM, bound=BOUND, measured=measured, figure=FIGURE,
                        summary=summary)


def draw(out_dir) -> pathlib.Path:
    """The figure, from the saved traces only."""
    out_dir = pathlib.Path(out_dir)
    from experiments import plotting as plot

    a = analyse(load_traces(out_dir, stem=STEM))
    fig, (ax, ax2) = subplots(1, 2, width=5.2, height=4.0)
    for c, r in zip(COLORS, a["rows"]):
        ax.semilogy(r["k"], r["mean"], color=c, lw=1.6,
                    label=f"alpha={r['alpha']:g}: mean of {r['n_seeds']} runs")
        ax.fill_between(r["k"], np.maximum(r["mean"] - 3 * r["se"], 1e-12),
                        r["mean"] + 3 * r["se"], color=c, alpha=0.18, lw=0)
        ax.semilogy(r["k"], r["bound"], "--", color=c, lw=1.1)
        ax.axhline(r["floor_bound"], color=c, ls=":", lw=0.9)
    ax.plot([], [], "k--", lw=1.1, label="bound (1-2 alpha mu)^k gap_0 + L sigma^2 alpha/(4mu)")
    ax.plot([], [], "k:", lw=0.9, label="bound's floor L sigma^2 alpha/(4mu)")
    ax.set_xlabel("iteration k")
    ax.set_ylabel("f(x_k) - f*  (band: mean +- 3 SE)")
    ax.set_title("Constant-step SGD, logistic regression (m=200, n=10, mu=1), batch 1",
                 fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    plot.decisive(ax, label="max (mean - 3 SE)/bound",
                  value=max(float(np.max((r["mean"] - 3 * r["se"]) / r["bound"]))
                            for r in a["rows"]), threshold=1.0, loc="lower left")
    al = np.array([r["alpha"] for r in a["rows"]])
    fl = np.array([r["floor"] for r in a["rows"]])
    fse = np.array([r["floor_se"] for r in a["rows"]])
    fb = np.array([r["floor_bound"] for r in a["rows"]])
    ax2.errorbar(al, fl, yerr=3 * fse, fmt="o-", color="k", capsize=3,
                 label="measured floor (mean over last half, +- 3 SE)")
    ax2.plot(al, fb, "s--", color=COLORS[1], label="bound's floor L sigma^2_max alpha/(4 mu)")
    ax2.plot(al, fl[0] * al / al[0], ":", color="grey", label="proportional to alpha")
    s2s = float(a["sigma2_star"])
    ax2.plot(al, a["L"] * s2s * al / (4 * a["mu"]), "x", color="grey", ms=7,
             label="L sigma^2(x*) alpha/(4 mu): sigma^2 at x* only (scale, not the bound)")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xticks(al, [f"{v:g}" for v in al])
    ax2.minorticks_off()
    ax2.set_xlabel("step alpha  (all < 1/(2 mu) = %g)" % (1 / (2 * a["mu"])))
    ax2.set_ylabel("neighbourhood size  E[f - f*] at the plateau")
    ax2.set_title("The neighbourhood grows with alpha (it does not converge)", fontsize=9)
    ax2.legend(fontsize=7, loc="upper left")
    return save(fig, out_dir / FIGURE)


@register("sgd-constant-step", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    out_dir = pathlib.Path(out_dir)
    steps, n_seeds = QUICK if quick else FULL
    p = far_start_logistic(seed)
    traces = []
    for alpha in ALPHAS:
        traces += run_seeds(p, alpha, steps=steps, seeds=seeds_for(seed, n_seeds),
                            batch_size=1, probe=sigma2_probe(p), label=f"alpha={alpha:g}",
                            meta=dict(alpha=alpha, mu=p.mu, L=p.L, f_star=p.f_star,
                                      sigma2_star=p.sigma2(p.x_star)))
    save_fresh(traces, out_dir, STEM)
    draw(out_dir)
    out = verdict(analyse(load_traces(out_dir, stem=STEM)))
    out.update(steps=steps, seeds=n_seeds,
               sigma2="max over every iterate x_0..x_{K-1} of every seed, exact over all n terms")
    return out
