r"""The report of a sweep: performance profiles, rank plots and a short Markdown summary, from
its tables (``runs.csv``, ``selected.csv``, ``sweep.json``) only.

**Performance profiles** (Dolan and Moré 2002, "Benchmarking optimization software with
performance profiles"): for each budget, the *solvers* :math:`s` are the optimizers, the
*problems* :math:`p` the (problem, schedule) pairs, and the cost :math:`t_{p,s}` the mean final
test loss of the selected configuration (lower is better; :math:`+\infty` when a run diverged).
With the performance ratio :math:`r_{p,s}=t_{p,s}/\min_{s'}t_{p,s'}`,

.. math:: \rho_s(\tau)=\frac{|\{p:\ r_{p,s}\le\tau\}|}{n_p},

the share of problems on which :math:`s` is within a factor :math:`\tau` of the best:
:math:`\rho_s(1)` is how often it is the best, the height for large :math:`\tau` how often it
does not fail. (When the best cost of a problem is 0, a solver with cost 0 has ratio 1 and
the others :math:`+\infty`.)

**Ranks**: on each (problem, schedule) pair the optimizers are ranked by :math:`t_{p,s}`
(1 is the best; ties share the mean of their ranks); the rank plot shows each optimizer's mean
rank against the tuning budget, as Schmidt et al. (2021) compare optimizers across budgets.
"""
from __future__ import annotations

import collections
import json
import math
import pathlib

from experiments import atomic
from experiments.sweep_store import read_table

__all__ = ["mean_ranks", "performance_profile", "ranks", "write_sweep_report"]


def performance_profile(costs: dict, taus) -> dict:
    """``{solver: [rho_s(tau) for tau in taus]}`` from ``costs = {problem: {solver: t}}``."""
    solvers = sorted({s for per in costs.values() for s in per})
    ratios = {s: [] for s in solvers}
    for per in costs.values():
        finite = [t for t in per.values() if math.isfinite(t)]
        best = min(finite) if finite else math.inf
        for s in solvers:
            t = per.get(s, math.inf)
            if not math.isfinite(t) or not math.isfinite(best):
                r = math.inf
            elif best == 0:
                r = 1.0 if t == 0 else math.inf
            else:
                r = t / best
            ratios[s].append(r)
    n = len(costs)
    return {s: [sum(r <= tau for r in ratios[s]) / n for tau in taus] for s in solvers}


def ranks(per: dict) -> dict:
    """``{solver: rank}`` on one problem (1 is the lowest cost; ties share their mean rank)."""
    order = sorted(per, key=lambda s: per[s])
    out, i = {}, 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and per[order[j + 1]] == per[order[i]]:
            j += 1
        for s in order[i:j + 1]:
            out[s] = (i + j) / 2 + 1
        i = j + 1
    return out


def mean_ranks(costs: dict) -> dict:
    """``{solver: mean rank over the problems}``."""
    total = collections.defaultdict(list)
    for per in costs.values():
        for s, r in ranks(per).items():
            total[s].append(r)
    return {s: sum(v) / len(v) for s, v in total.items()}


def _costs(selected: list) -> dict:
    """``{budget: {(problem, schedule): {optimizer: test_mean}}}``."""
    out = collections.defaultdict(dict)
    for row in selected:
        key = (row["problem"], row["schedule"])
        out[row["budget"]].setdefault(key, {})[row["optimizer"]] = float(row["test_mean"])
    return dict(sorted(out.items()))


def _labels(selected: list) -> dict:
    return {row["budget"]: row["budget_label"] for row in selected}


def _largest_ratio(costs: dict) -> float:
    """The largest finite performance ratio of ``costs`` (1 when there is none)."""
    largest = 1.0
    for per in costs.values():
        finite = [t for t in per.values() if math.isfinite(t)]
        if finite and min(finite) > 0:
            largest = max(largest, max(finite) / min(finite))
    return largest


def _draw_profiles(costs, labels, path):
    import numpy as np

    from experiments import plotting as plot

    budgets = list(costs)
    fig, axes = plot.subplots(1, len(budgets), width=4.4, height=3.4,
                              title="Performance profiles (Dolan & Moré 2002): share of "
                                    "(problem, schedule) pairs within a factor tau of the best")
    for ax, b in zip(axes, budgets):
        taus = np.logspace(0, math.log10(max(10.0, 1.2 * _largest_ratio(costs[b]))), 300)
        prof = performance_profile(costs[b], taus)
        for i, (solver, rho) in enumerate(sorted(prof.items())):
            ax.step(taus, rho, where="post", color=plot.COLORS[i % len(plot.COLORS)],
                    lw=1.6, label=solver)
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("tau (ratio to the best mean test loss)")
        ax.set_ylabel("rho(tau)")
        ax.set_title(f"budget {labels[b]}", fontsize=9)
        ax.legend(fontsize=8, loc="lower right")
    return plot.save(fig, path)


def _draw_ranks(costs, labels, path):
    from experiments import plotting as plot

    budgets = list(costs)
    per_budget = {b: mean_ranks(costs[b]) for b in budgets}
    solvers = sorted({s for r in per_budget.values() for s in r})
    fig, (ax,) = plot.subplots(1, 1, width=5.2, height=3.6,
                               title="Mean rank over the (problem, schedule) pairs")
    xs = list(range(len(budgets)))
    for i, s in enumerate(solvers):
        ax.plot(xs, [per_budget[b].get(s, math.nan) for b in budgets], "o-",
                color=plot.COLORS[i % len(plot.COLORS)], lw=1.6, label=s)
    ax.set_xticks(xs, [labels[b] for b in budgets])
    ax.set_xlabel("tuning budget")
    ax.set_ylabel("mean rank (1 = best)")
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="best")
    return plot.save(fig, path)


def _fmt(x) -> str:
    from experiments.common import fmt

    return fmt(float(x), 3)


def write_sweep_report(out) -> pathlib.Path:
    """Draw ``profiles.png`` and ``ranks.png`` and write ``summary.md`` in the sweep folder
    ``out``; returns the summary's path."""
    out = pathlib.Path(out)
    meta = json.loads((out / "sweep.json").read_text())
    selected = read_table(out / "selected.csv")
    costs, labels = _costs(selected), _labels(selected)
    _draw_profiles(costs, labels, out / "profiles.png")
    _draw_ranks(costs, labels, out / "ranks.png")
    grid = meta["grid"]
    env = meta.get("environment", {})
    lines = ["# Sweep summary", "",
             f"Optimizers {', '.join(grid['optimizers'])}; problems {', '.join(grid['problems'])}; "
             f"schedules {', '.join(grid['schedules'])}.", "",
             f"**Protocol.** {meta['protocol']}", "",
             f"**Cost.** {meta.get('cells')} runs ({meta.get('cells_computed')} computed by this "
             f"call, {meta.get('cells_cached')} from the cache), {meta.get('cell_seconds')} s of "
             f"run time, {meta.get('seconds')} s wall clock; {env.get('package')} "
             f"{env.get('package_version')} (git {env.get('git_commit') or 'n/a'}), Python "
             f"{env.get('python')}, NumPy {env.get('numpy')}, {meta.get('finished')}.", "",
             "## Mean rank (1 = best) per tuning budget", "",
             "| optimizer | " + " | ".join(labels[b] for b in costs) + " |",
             "| --- |" + " --- |" * len(costs)]
    per_budget = {b: mean_ranks(costs[b]) for b in costs}
    for s in sorted({s for r in per_budget.values() for s in r}):
        lines.append(f"| {s} | " + " | ".join(f"{per_budget[b].get(s, math.nan):.2f}"
                                               for b in costs) + " |")
    top = max(costs)
    lines += ["", f"## The best optimizer per problem and schedule (budget {labels[top]})", "",
              "| problem | schedule | best | its mean test loss | runner-up |",
              "| --- | --- | --- | --- | --- |"]
    for (problem, schedule), per in sorted(costs[top].items()):
        order = sorted(per, key=lambda s: per[s])
        second = f"{order[1]} ({_fmt(per[order[1]])})" if len(order) > 1 else ""
        lines.append(f"| {problem} | {schedule} | {order[0]} | {_fmt(per[order[0]])} | "
                     f"{second} |")
    lines += ["", "![performance profiles](profiles.png)", "", "![mean ranks](ranks.png)", "",
              "The tables: `runs.csv` (one row per run), `selected.csv` (one row per optimizer, "
              "problem, schedule and budget: the selected learning rate and its test loss).", ""]
    return atomic.write_text(out / "summary.md", "\n".join(lines))
