r"""Batch size on the lectures' logistic regression (L1, L2; docs/lectures.md sections 1 and 9):
SGD with
batches 1, 10, 50, 100 and GD, against iterations and against gradient evaluations.

Set-up: ``LogisticRegression(m=200, dim=10, mu=1)`` (data seed = the CLI seed), start
:math:`x_0=x^*+2u` (:math:`f(x_0)-f^*\approx2.4`, as in ``sgd-constant-step``), the same constant
step :math:`\alpha=0.1` for every batch size (mini-batches drawn uniformly without replacement;
GD uses the full gradient), a fixed set of seeds per batch size (GD is deterministic: one run).
A gradient evaluation is one per-sample gradient :math:`\nabla f_i` (a batch of :math:`B` costs
:math:`B`, a GD step costs :math:`n=200`): the runner's ``n_grad``, a proxy for FLOPs.

What is asserted (PASS when all hold), with :math:`\varepsilon=0.1` a moderate accuracy
(about 4% of :math:`f(x_0)-f^*`) and per-seed hitting iterations
:math:`k_B=\min\{k: f(x_k)-f^*\le\varepsilon\}` (mean and standard error over seeds):

1. larger batches need no more iterations: for every :math:`B>1` and GD,
   :math:`\bar k_B\le\bar k_1+3\,\mathrm{SE}`;
2. but no fewer gradient evaluations: the evaluations to :math:`\varepsilon`, :math:`B\,k_B`,
   increase with :math:`B` (each more than 3 combined SE above the previous one), GD's the most;
3. the price of a small batch is its floor: the plateau of :math:`\mathbb E[f(x_k)-f^*]`
   (time average over the last half of the run) falls as :math:`B` grows (each more than 3
   combined SE below the previous one; for sampling without replacement it scales like
   :math:`\frac{n-B}{B(n-1)}`), and GD converges (final gap below :math:`10^{-10}`).
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

from experiments.common import fmt, verdict as make_verdict
from experiments.plotting import COLORS, save, subplots
from experiments.registry import register
from experiments.stochastic import (far_start_logistic, mean_se, run_seeds, save_fresh,
                                           seeds_for)
from experiments.trace import load_traces

CLAIM = ("Batch size (logistic regression, m=200, n=10, mu=1, constant step): larger batches "
         "need no more iterations but more gradient evaluations to reach a moderate accuracy; "
         "the SGD floor falls with the batch size and only GD converges")
BOUND = ("k_B <= k_1 (iterations to eps=0.1); B k_B increasing in B; floor(B) decreasing in B, "
         "floor ~ (n-B)/(B(n-1)) x floor(1)")
FIGURE = "batch_size.png"
QUICK = (150, 10)   # (steps, seeds per configuration) with --quick
FULL = (400, 40)
STEM = "batch"
BATCHES = (1, 10, 50, 100)
ALPHA = 0.1
EPS = 0.1


def _hit(gap, eps):
    """First index where ``gap <= eps`` (NaN when never)."""
    idx = np.nonzero(np.asarray(gap) <= eps)[0]
    return float(idx[0]) if idx.size else math.nan


def _sem(v) -> float:
    """Standard error of the mean of ``v`` (0 for a single value)."""
    v = np.asarray(v, dtype=float)
    return float(np.std(v, ddof=1) / math.sqrt(v.size)) if v.size > 1 else 0.0


def analyse(traces) -> dict:
    groups: dict = {}
    for t in traces:
        groups.setdefault(int(t.meta["batch"]), []).append(t)
    n = int(traces[0].meta["n"])
    rows = []
    for B in sorted(groups):
        runs = groups[B]
        k, mean, se = mean_se(runs, "f_gap")
        _, ngrad, _ = mean_se(runs, "n_grad")
        hits = np.array([_hit(t["f_gap"], EPS) for t in runs])
        cost = B  # gradient evaluations per iteration (n for GD)
        half = k >= k[-1] / 2
        floors = np.array([np.mean(t["f_gap"][half]) for t in runs])
        m = len(runs)
        rows.append(dict(
            B=B, gd=B == n, k=k, mean=mean, se=se, n_grad=ngrad, n_seeds=m,
            hit=float(np.mean(hits)), hit_se=_sem(hits), reached=int(np.sum(np.isfinite(hits))),
            evals=float(np.mean(hits)) * cost, evals_se=_sem(hits) * cost,
            floor=float(np.mean(floors)), floor_se=_sem(floors), final=float(mean[-1])))
    return {"rows": rows, "n": n, "alpha": float(traces[0].meta["alpha"])}


def verdict(a: dict) -> dict:
    rows, n = a["rows"], a["n"]
    one = rows[0]
    reached = all(r["reached"] == r["n_seeds"] for r in rows)
    ok_iter = reached and all(r["hit"] <= one["hit"] + 3 * math.hypot(one["hit_se"], r["hit_se"])
                              for r in rows[1:])
    ok_evals = reached and all(
        r2["evals"] - r1["evals"] > 3 * math.hypot(r1["evals_se"], r2["evals_se"])
        for r1, r2 in zip(rows, rows[1:]))
    sgd = [r for r in rows if not r["gd"]]
    ok_floor = (all(r1["floor"] - r2["floor"] > 3 * math.hypot(r1["floor_se"], r2["floor_se"])
                    for r1, r2 in zip(sgd, sgd[1:]))
                and rows[-1]["gd"] and rows[-1]["final"] < 1e-10)

    def name(r):
        return "GD" if r["gd"] else f"B={r['B']}"

    measured = (f"to f - f* <= {EPS:g} (alpha={a['alpha']:g}): iterations "
                + ", ".join(f"{name(r)} {r['hit']:.1f}+-{r['hit_se']:.1f}" for r in rows)
                + "; gradient evaluations "
                + ", ".join(f"{name(r)} {r['evals']:.0f}" for r in rows)
                + "; floors " + ", ".join(f"{name(r)} {fmt(r['floor'])}" for r in sgd)
                + " (floor(1)(n-B)/(B(n-1)): "
                + ", ".join(fmt(one['floor'] * (n - r['B']) / (r['B'] * (n - 1))) for r in sgd)
                + f"), GD final gap {fmt(rows[-1]['final'])}")
    ok = ok_iter and ok_evals and ok_floor
    summary = (f"iterations to {EPS:g}: {one['hit']:.0f} (B=1) vs {rows[-1]['hit']:.0f} (GD); "
               f"evaluations {one['evals']:.0f} vs {rows[-1]['evals']:.0f}; floors fall with B"
               + ("" if ok else f" [iter {ok_iter}, evals {ok_evals}, floors {ok_floor}]"))
    return make_verdict(ok, claim=CLAIM, bound=BOUND, measured=measured,
                        figure=FIGURE, summary=summary)


def draw(out_dir) -> pathlib.Path:
    """The figure, from the saved traces only."""
    out_dir = pathlib.Path(out_dir)
    from experiments import plotting as plot

    a = analyse(load_traces(out_dir, stem=STEM))
    fig, (ax, ax2) = subplots(1, 2, width=5.2, height=4.0)
    for c, r in zip(COLORS, a["rows"]):
        lab = ("GD (full gradient)" if r["gd"] else f"SGD, batch {r['B']}")
        lab += "" if r["gd"] else f" (mean of {r['n_seeds']})"
        k = r["k"]
        ax.semilogy(k, np.maximum(r["mean"], 1e-16), color=c, lw=1.5, label=lab)
        x = np.maximum(r["n_grad"], 1)
        ax2.loglog(x, np.maximum(r["mean"], 1e-16), color=c, lw=1.5, label=lab)
        if math.isfinite(r["hit"]):
            ax.plot([r["hit"]], [EPS], "o", color=c, ms=5)
            ax2.plot([r["evals"]], [EPS], "o", color=c, ms=5)
    for axis, loc in ((ax, "upper right"), (ax2, "lower left")):
        axis.axhline(EPS, color="k", ls=":", lw=0.9, label=f"moderate accuracy eps={EPS:g}")
        axis.set_ylim(1e-6, 10)
        axis.set_ylabel("E[f(x_k) - f*]")
        axis.legend(fontsize=7, loc=loc)
    one = a["rows"][0]
    plot.decisive(ax, label="max extra iterations vs B=1, beyond 3 SE",
                  value=max(r["hit"] - one["hit"] - 3 * math.hypot(one["hit_se"], r["hit_se"])
                            for r in a["rows"][1:]), threshold=0.0, loc="lower left")
    ax.set_xlabel("iterations k")
    ax.set_title(f"Against iterations (same step alpha={a['alpha']:g})", fontsize=9)
    ax2.set_xlabel(f"gradient evaluations (per-sample; a GD step costs n={a['n']})")
    ax2.set_title("Against gradient evaluations (FLOPs)", fontsize=9)
    fig.suptitle("Batch size on logistic regression (m=200, n=10, mu=1); dots: first reach of "
                 "eps (mean over seeds of the first k with f - f* <= eps)", fontsize=10)
    return save(fig, out_dir / FIGURE)


@register("batch-size", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    out_dir = pathlib.Path(out_dir)
    steps, n_seeds = QUICK if quick else FULL
    p = far_start_logistic(seed)
    base = dict(alpha=ALPHA, n=p.n, mu=p.mu, L=p.L, f_star=p.f_star)
    traces = []
    for B in BATCHES:
        traces += run_seeds(p, ALPHA, steps=steps, seeds=seeds_for(seed, n_seeds), batch_size=B,
                            label=f"batch {B}", meta=dict(base, batch=B))
    traces += run_seeds(p, ALPHA, steps=steps, seeds=[seed], batch_size=None, label="GD",
                        meta=dict(base, batch=p.n))
    save_fresh(traces, out_dir, STEM)
    draw(out_dir)
    out = verdict(analyse(load_traces(out_dir, stem=STEM)))
    out.update(steps=steps, seeds=n_seeds)
    return out
