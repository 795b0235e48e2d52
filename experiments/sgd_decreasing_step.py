r"""SGD with the strongly convex theorem's decreasing step (docs/lectures.md section 1, theorem 2;
L1,
L2) on the lectures' logistic regression: an :math:`O(1/k)` rate.

Claim (for :math:`L`-smooth, :math:`\mu`-strongly convex (or PL) :math:`f` with
:math:`\mathbb E\|\nabla f_i(x_k)\|^2\le\sigma^2`, and
:math:`\alpha_k=\frac{2k+1}{2\mu(k+1)^2}` (``schedules.StronglyConvexSGDStep``)):

.. math:: \mathbb E[f(x_{k})-f^*]\le\frac{L\sigma^2}{2\mu^2k}\qquad(k\ge1),

whatever the start (the first step, :math:`\alpha_0=\frac1{2\mu}`, removes
:math:`f(x_0)-f^*` from the recursion); and the mean gap has slope :math:`-1` on a log-log plot.

Set-up: ``LogisticRegression(m=200, dim=10, mu=1)`` (data seed = the CLI seed), the lectures'
start :math:`x_0=0`, single-sample SGD, a fixed set of seeds. :math:`\sigma^2`: the maximum of
the exact :math:`\sigma^2(x)=\frac1n\sum_i\|\nabla f_i(x)\|^2` over every iterate from which a
step was taken, of every seed (the region visited).

Verdict (PASS when both hold):

1. ``mean - 3 SE <= L sigma^2 / (2 mu^2 k)`` at every recorded :math:`k\ge1` (mean and standard
   error of :math:`f(x_k)-f^*` over the seeds: the statistical margin);
2. the least-squares slope of :math:`\log(\text{mean gap})` against :math:`\log k` over
   :math:`k\in[K/10, K]` lies in :math:`[-1.25,-0.75]`.
"""
from __future__ import annotations

import pathlib

import numpy as np

import schedules
from experiments.common import fmt, verdict as make_verdict
from experiments.plotting import save, subplots
from experiments.registry import register
from experiments.stochastic import mean_se, run_seeds, save_fresh, seeds_for, sigma2_probe
from experiments.trace import load_traces
from problems import LogisticRegression
from theorems import SGD_DECREASING_STEP

CLAIM = ("SGD with alpha_k = (2k+1)/(2 mu (k+1)^2) on strongly convex logistic regression: "
         "E[f(x_k) - f*] <= L sigma^2/(2 mu^2 k), a 1/k rate (slope -1 on a log-log plot)")
BOUND = "E[f(x_k) - f*] <= L sigma^2 / (2 mu^2 k), k >= 1"
FIGURE = "sgd_decreasing_step.png"
QUICK = (600, 12)   # (steps, seeds per configuration) with --quick
FULL = (2000, 40)
STEM = "sgd"
SLOPE_RANGE = (-1.25, -0.75)


def analyse(traces) -> dict:
    meta = traces[0].meta
    mu, L = float(meta["mu"]), float(meta["L"])
    k, mean, se = mean_se(traces, "f_gap")
    sigma2 = max(float(t.meta["sigma2_max"]) for t in traces)
    pos = k >= 1
    bound = np.full_like(mean, np.nan)
    bound[pos] = SGD_DECREASING_STEP.bound(k[pos], mu, L, sigma2)
    K = k[-1]
    fit = (k >= K / 10) & pos
    slope, intercept = np.polyfit(np.log(k[fit]), np.log(mean[fit]), 1)
    return dict(mu=mu, L=L, k=k, mean=mean, se=se, bound=bound, sigma2=sigma2,
                n_seeds=len(traces), slope=float(slope), intercept=float(intercept),
                fit_from=int(np.min(k[fit])), K=int(K),
                violation=float(np.max((mean - 3 * se - bound)[pos])),
                max_ratio=float(np.max(mean[pos] / bound[pos])),
                end_ratio=float(mean[-1] / bound[-1]))


def verdict(a: dict) -> dict:
    ok_bound = a["violation"] <= 0
    ok_slope = SLOPE_RANGE[0] <= a["slope"] <= SLOPE_RANGE[1]
    measured = (f"{a['n_seeds']} seeds, K={a['K']}: max over k of mean/bound = "
                f"{a['max_ratio']:.2f} (at K: {a['end_ratio']:.2f}; max of mean-3SE-bound = "
                f"{a['violation']:.3g}), sigma^2_max={fmt(a['sigma2'])}; fitted slope "
                f"{a['slope']:.3f} over k in [{a['fit_from']}, {a['K']}] (accepted "
                f"{SLOPE_RANGE[0]}..{SLOPE_RANGE[1]})")
    summary = (f"bound {'holds' if ok_bound else 'VIOLATED'} (max mean/bound "
               f"{a['max_ratio']:.2f}), slope {a['slope']:.2f}")
    return make_verdict(ok_bound and ok_slope, claim=CLAIM, bound=BOUND, measured=measured,
                        figure=FIGURE, summary=summary)


def draw(out_dir) -> pathlib.Path:
    """The figure, from the saved traces only."""
    out_dir = pathlib.Path(out_dir)
    from experiments import plotting as plot

    a = analyse(load_traces(out_dir, stem=STEM))
    k, mean, se = a["k"], a["mean"], a["se"]
    pos = k >= 1
    fig, (ax, ax2) = subplots(1, 2, width=5.2, height=4.0)
    ax.loglog(k[pos], mean[pos], color=plot.COLORS[0], lw=1.6,
              label=f"mean of {a['n_seeds']} runs (band +- 3 SE)")
    ax.fill_between(k[pos], np.maximum(mean - 3 * se, 1e-12)[pos], (mean + 3 * se)[pos],
                    color=plot.COLORS[0], alpha=0.2, lw=0)
    ax.loglog(k[pos], a["bound"][pos], "--", color=plot.COLORS[1],
              label=f"bound L sigma^2/(2 mu^2 k), sigma^2_max={fmt(a['sigma2'])}")
    kf = k[k >= a["fit_from"]]
    ax.loglog(kf, np.exp(a["intercept"]) * kf ** a["slope"], ":", color="k", lw=1.6,
              label=f"fit over [{a['fit_from']}, {a['K']}]: slope {a['slope']:.3f}")
    ax.set_xlabel("iteration k")
    ax.set_ylabel("f(x_k) - f*")
    ax.set_title("SGD, alpha_k = (2k+1)/(2 mu (k+1)^2), logistic regression, batch 1",
                 fontsize=9)
    ax.legend(fontsize=7)
    ax2.semilogx(k[pos], (mean / a["bound"])[pos], color=plot.COLORS[0], lw=1.2,
                 label="mean / bound")
    ax2.fill_between(k[pos], ((mean - 3 * se) / a["bound"])[pos],
                     ((mean + 3 * se) / a["bound"])[pos], color=plot.COLORS[0], alpha=0.2, lw=0)
    ax2.axhline(1.0, color=plot.COLORS[1], ls="--", label="bound")
    ax2.set_ylim(0, 1.2)
    ax2.set_xlabel("iteration k")
    ax2.set_ylabel("E[f(x_k) - f*] / (L sigma^2 / (2 mu^2 k))")
    ax2.set_title("Ratio to the bound: below 1, and flat (a 1/k rate)", fontsize=9)
    ax2.legend(fontsize=7)
    plot.decisive(ax2, label="max (mean - 3 SE)/bound",
                  value=float(np.max(((mean - 3 * se) / a["bound"])[pos])), threshold=1.0,
                  loc="lower left")
    return save(fig, out_dir / FIGURE)


@register("sgd-decreasing-step", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    out_dir = pathlib.Path(out_dir)
    steps, n_seeds = QUICK if quick else FULL
    p = LogisticRegression(seed=seed)  # x_0 = 0
    lr = schedules.StronglyConvexSGDStep(p.mu)
    traces = run_seeds(p, lr, steps=steps, seeds=seeds_for(seed, n_seeds), batch_size=1,
                       record_every=max(1, steps // 500),
                       probe=sigma2_probe(p), label="alpha_k=(2k+1)/(2mu(k+1)^2)",
                       meta=dict(mu=p.mu, L=p.L, f_star=p.f_star))
    save_fresh(traces, out_dir, STEM)
    draw(out_dir)
    out = verdict(analyse(load_traces(out_dir, stem=STEM)))
    out.update(steps=steps, seeds=n_seeds,
               sigma2="max over every iterate x_0..x_{K-1} of every seed, exact over all n terms")
    return out
