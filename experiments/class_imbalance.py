r"""Heavy-tailed class imbalance (L1; Kunstner, Yadav, Milligan, Schmidt & Bietti 2024,
"Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent on Language Models";
docs/lectures.md section 9).

**Claim** (L1, slides "Почему Adam работает хуже для CV, чем для LLM?"): with heavy-tailed
(Zipf-like) class frequencies, gradient descent makes almost no progress on the rare classes,
while Adam (and sign descent, its deterministic skeleton) decreases the loss of every frequency
group. Per frequency group :math:`G`, with :math:`\ell_G(W)` the mean cross-entropy of its samples,
the measured quantity is the relative loss after :math:`T` steps

.. math:: r_G=\frac{\ell_G(W_T)}{\ell_G(W_0)}\qquad(\ell_G(W_0)=\log c\ \text{at}\ W_0=0).

**Set-up.** ``problems.SoftmaxRegression.heavy_tailed(k, inputs="uniform")``, the linear model
on synthetic data of Kunstner et al.: for :math:`i=0,\dots,k-1`, group :math:`i` holds
:math:`2^i` classes of :math:`2^{k-i}` samples each (every group holds :math:`2^k` samples, so
the full loss is the mean of the group losses), :math:`c=2^k-1` classes, inputs uniform on
:math:`[0,1)^d`, :math:`d=(k+1)2^k` (their code's default; the data are separable), start
:math:`W_0=0`. ``--quick``: :math:`k=6` (63 classes, 384 samples, :math:`d=448`), :math:`T=150`;
full: :math:`k=7` (127 classes, 896 samples, :math:`d=1024`, the paper's smaller size),
:math:`T=300`. Deterministic full-batch methods: GD (``optimizers.SGD`` on the full loss), Adam
(``optimizers.Adam``, defaults :math:`\beta=(0.9,0.999)`, :math:`\epsilon=10^{-8}`) and sign
descent (``optimizers.SignSGD`` on the full gradient).

**Step-size rule** (the same for the three methods): a log-spaced grid (half decades; GD
:math:`10^{-1.5}..10^{2}`, Adam :math:`10^{-3}..10^{0}`, sign descent
:math:`10^{-3.5}..10^{-1}`, each wide enough to contain step sizes that blow up), every step
size run for :math:`T` steps, and the one with the lowest final full loss kept, **among the runs
whose loss never rises above its starting value** :math:`f(W_0)=\log c` (a run that does is
stopped there and excluded). The reason for the restriction: on these separable data GD with
step sizes far beyond :math:`1/L` raises the loss at its first step, climbs by one to three
orders of magnitude (the frequent class's logits overshoot: a "catapult") and then, after about
a hundred steps, can fit every group; Adam with large steps does the same. The claim is about
the descent regime, the one the lectures analyse, and the restriction is part of the claim
(CLAIM and BOUND say so): without it the claim does not hold. The full run therefore runs the
excluded step sizes for all :math:`T` steps too (``run_grid(..., stop_on_blowup=False)``; the
selection is unchanged, it ignores them) and records the outcome of the unrestricted rule (the
lowest final loss over every run) in ``verdict.json`` under ``unrestricted``: the checks fail
there (GD's rare group falls to :math:`r\approx10^{-13}`). ``--quick`` skips this (it would take
about 11 s instead of 4) and stops those runs at their rise.

**Verdict** (PASS when all hold), with :math:`r` of the selected runs:

1. the rare group (group :math:`k-1`: :math:`2^{k-1}` classes of 2 samples each) falls at least
   10 times more, relatively, for Adam and for sign descent than for GD:
   :math:`r^{GD}_{k-1}\ge10\,r^{Adam}_{k-1}` and :math:`r^{GD}_{k-1}\ge10\,r^{sign}_{k-1}`;
2. every group decreases for Adam and sign descent: :math:`r_G\le0.5` for every :math:`G`
   (each group's loss at least halved);
3. GD barely moves on the rare classes: :math:`r^{GD}_{k-1}\ge0.5` (its rare-group loss is not
   even halved) while its frequent group does fall, :math:`r^{GD}_0<r^{GD}_{k-1}`.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

import minigrad as mg
import optimizers
import problems as P
from experiments.common import fmt
from experiments.common import verdict as make_verdict
from experiments.registry import register
from experiments.trace import Trace, load_traces, save_traces

CLAIM = ("Heavy-tailed class imbalance (Kunstner et al. 2024): on the Zipf-like softmax "
         "problem, at step sizes that never increase the loss (descent regime), GD barely "
         "reduces the loss of the rare classes while Adam and sign descent reduce the loss of "
         "every frequency group (with loss-raising step sizes GD fits every group too)")
BOUND = ("each method at its best step size among the runs whose loss never exceeds f(W_0); "
         "r_G = loss_G(W_T)/loss_G(W_0); rare group: r_GD >= 10 r_Adam and >= 10 r_sign; "
         "r_G <= 0.5 for every G for Adam and sign descent; r_GD(rare) >= 0.5 and "
         "r_GD(frequent) < r_GD(rare)")
FIGURE = "class_imbalance.png"
STEM = "imbalance"
# density: grid points per decade; unrestricted: run the step sizes that raise the loss for all
# T steps too (the unrestricted outcome in verdict.json; too slow for --quick: 3.9 s -> ~11 s)
QUICK = {"k": 6, "steps": 150, "density": 2, "unrestricted": False}
FULL = {"k": 7, "steps": 300, "density": 2, "unrestricted": True}
#: log10 range of each method's step-size grid
GRIDS = {"GD": (-1.5, 2.0), "Adam": (-3.0, 0.0), "sign descent": (-3.5, -1.0)}
METHODS = {"GD": lambda ps, lr: optimizers.SGD(ps, lr=lr),
           "Adam": lambda ps, lr: optimizers.Adam(ps, lr=lr),
           "sign descent": lambda ps, lr: optimizers.SignSGD(ps, lr=lr)}
RECORD_EVERY = 5
RARE_FACTOR = 10.0    # check 1
ALL_DECREASE = 0.5    # check 2
GD_RARE_MIN = 0.5     # check 3


def lr_grid(method: str, density: int) -> list:
    """The step sizes of ``method``: ``density`` points per decade over ``GRIDS[method]``."""
    lo, hi = GRIDS[method]
    return [10.0 ** (e / density) for e in range(round(lo * density), round(hi * density) + 1)]


def make_problem(k: int, seed: int):
    """The heavy-tailed softmax problem (data drawn from ``seed``)."""
    return P.SoftmaxRegression.heavy_tailed(k=k, inputs="uniform", seed=seed)


def run_lr(problem, method: str, lr: float, steps: int, *, stop_on_blowup: bool = True,
           record_every: int = RECORD_EVERY) -> Trace:
    r"""``steps`` full-batch steps of ``method`` with step size ``lr`` from :math:`W_0`; records
    the loss of every frequency group (columns ``g0``, ``g1``, ...) and the full loss ``f``
    every ``record_every`` steps. With ``stop_on_blowup`` the run stops at the first iterate
    whose loss exceeds :math:`f(W_0)` (recorded in ``meta["blowup_at"]``)."""
    x = problem.start()
    opt = METHODS[method]([x], lr)
    n_groups = problem.n_groups
    ks, rows = [], []
    f0, f_max, blowup_at = None, -math.inf, None

    def record(t):
        ks.append(t)
        rows.append(mg.backend.to_numpy(problem.group_losses(x.data)))

    for t in range(steps + 1):
        opt.zero_grad()
        loss = problem.f(x)                      # f(W_t), the full loss (full batch)
        f_t = float(mg.backend.to_numpy(loss.data))
        f0 = f_t if f0 is None else f0
        f_max = max(f_max, f_t)
        if not math.isfinite(f_t) or f_t > f0:
            blowup_at = t if blowup_at is None else blowup_at
            if stop_on_blowup:
                record(t)
                break
        if t % record_every == 0 or t == steps:
            record(t)
        if t == steps:
            break
        loss.backward()
        opt.step()                               # W_{t+1}
    G = np.array(rows, dtype=float)
    cols = {"k": np.asarray(ks, dtype=float), "f": G.mean(axis=1)}
    cols.update({f"g{i}": G[:, i] for i in range(n_groups)})
    meta = {"method": method, "lr": lr, "steps": steps, "k": problem.k, "n_groups": n_groups,
            "n_classes": problem.n_classes, "n": problem.n, "dim": int(problem.X.shape[1]),
            "f0": f0, "f_max": f_max, "blowup_at": blowup_at,
            "stopped": blowup_at is not None and stop_on_blowup, "L": problem.L}
    return Trace(f"{method}, lr={lr:.3g}", cols, meta)


def run_grid(problem, steps: int, density: int, *, stop_on_blowup: bool = True) -> list:
    """Every method at every step size of its grid."""
    return [run_lr(problem, m, lr, steps, stop_on_blowup=stop_on_blowup)
            for m in METHODS for lr in lr_grid(m, density)]


# ----------------------------------------------------------------------------- analysis
def group_losses(tr) -> np.ndarray:
    """The (recorded points, groups) matrix of a trace."""
    return np.stack([np.asarray(tr[f"g{i}"], dtype=float) for i in range(tr.meta["n_groups"])],
                    axis=1)


def _selection(best, grid) -> dict:
    G = group_losses(best)
    r = G[-1] / G[0]
    return {"lr": best.meta["lr"], "label": best.label, "r": r.tolist(), "final": G[-1].tolist(),
            "initial": G[0].tolist(), "f_final": float(best["f"][-1]),
            "f_max": float(best.meta["f_max"]), "grid": grid}


def analyse(traces) -> dict:
    """Select each method's step size by the rule (lowest final loss among the complete runs
    whose loss never rose above :math:`f(W_0)`); the relative group losses of the selection.
    ``unrestricted``: the same with every complete, finite run admitted (the runs that rose
    above :math:`f(W_0)` are complete when they were made with ``stop_on_blowup=False``)."""
    out = {"methods": {}, "unrestricted": {}, "k": traces[0].meta["k"],
           "steps": traces[0].meta["steps"],
           "stopped_runs": sum(bool(t.meta.get("stopped")) for t in traces)}
    for method in METHODS:
        runs = [t for t in traces if t.meta["method"] == method]
        done = [t for t in runs if t["k"][-1] == t.meta["steps"]
                and math.isfinite(float(t["f"][-1]))]
        ok = [t for t in done if t.meta["blowup_at"] is None]
        grid = [(t.meta["lr"], float(t["f"][-1]), t.meta["blowup_at"]) for t in runs]
        for key, pool in (("methods", ok), ("unrestricted", done)):
            out[key][method] = ({"lr": None, "grid": grid} if not pool else
                                _selection(min(pool, key=lambda t: float(t["f"][-1])), grid))
    return out


def checks(ms: dict) -> dict:
    """The three checks on one selection (``analyse(...)["methods"]`` or ``["unrestricted"]``)."""
    r = {m: np.asarray(ms[m]["r"]) for m in METHODS}
    gd_rare = r["GD"][-1]
    factors = {m: gd_rare / max(r[m][-1], 1e-300) for m in ("Adam", "sign descent")}
    return {"r": r, "gd_rare": gd_rare, "factors": factors,
            "ok1": all(f >= RARE_FACTOR for f in factors.values()),
            "ok2": all(np.all(r[m] <= ALL_DECREASE) for m in ("Adam", "sign descent")),
            "ok3": gd_rare >= GD_RARE_MIN and r["GD"][0] < gd_rare}


def unrestricted_outcome(a: dict) -> dict:
    """The old rule's (no descent restriction) outcome, for ``verdict.json``; ``None`` when the
    saved runs stopped at their blow-up (``stop_on_blowup=True``) and so cannot show it."""
    us = a["unrestricted"]
    if a["stopped_runs"] or any(us[m]["lr"] is None for m in METHODS):
        return None
    c = checks(us)
    return {"selected_lr": {m: us[m]["lr"] for m in METHODS},
            "final_loss": {m: us[m]["f_final"] for m in METHODS},
            "max_loss_over_start": {m: us[m]["f_max"] / a_f0(us, m) for m in METHODS},
            "relative_group_loss": {m: us[m]["r"] for m in METHODS},
            "rare_factor": c["factors"], "checks_pass": bool(c["ok1"] and c["ok2"] and c["ok3"])}


def a_f0(sel: dict, method: str) -> float:
    """:math:`f(W_0)` of a selection (the mean of the initial group losses)."""
    return float(np.mean(sel[method]["initial"]))


def verdict(a: dict) -> dict:
    ms = a["methods"]
    missing = [m for m in METHODS if ms[m]["lr"] is None]
    if missing:
        measured = f"no admissible step size for {', '.join(missing)} (every run blew up)"
        return make_verdict(False, claim=CLAIM, bound=BOUND, measured=measured,
                            figure=FIGURE, summary=measured)
    c = checks(ms)
    r, gd_rare, factors = c["r"], c["gd_rare"], c["factors"]
    ok1, ok2, ok3 = c["ok1"], c["ok2"], c["ok3"]
    un = unrestricted_outcome(a)
    if un is None:
        un_text = ("Unrestricted selection not computed (the runs stopped where their loss rose "
                   "above f(W_0); the full run computes it).")
    else:
        un_text = ("Unrestricted selection (runs whose loss rises above f(W_0) admitted, the "
                   "rule before the restriction): " + "; ".join(
                       f"{m} lr {un['selected_lr'][m]:.3g}, final loss "
                       f"{fmt(un['final_loss'][m])}, rare r "
                       f"{fmt(un['relative_group_loss'][m][-1], 2)}" for m in METHODS)
                   + f"; rare factors GD/Adam {fmt(un['rare_factor']['Adam'])}, GD/sign "
                   f"{fmt(un['rare_factor']['sign descent'])}: the checks "
                   f"{'would pass' if un['checks_pass'] else 'would FAIL'} (not the verdict).")
    per = "; ".join(f"{m} (lr {ms[m]['lr']:.3g}, final loss {fmt(ms[m]['f_final'])}): r = ["
                    + ", ".join(fmt(v, 2) for v in r[m]) + "]" for m in METHODS)
    measured = (f"k={a['k']}, T={a['steps']} steps; relative group losses r_G (group 0 = most "
                f"frequent ... group {a['k'] - 1} = rarest): {per}. Rare group: GD/Adam = "
                f"{fmt(factors['Adam'])}, GD/sign = {fmt(factors['sign descent'])} "
                f"(need >= {RARE_FACTOR:g}); max r_G Adam {fmt(r['Adam'].max())}, sign "
                f"{fmt(r['sign descent'].max())} (need <= {ALL_DECREASE}); GD rare r "
                f"{fmt(gd_rare)} (need >= {GD_RARE_MIN}), GD frequent r {fmt(r['GD'][0])}. "
                + un_text)
    summary = (f"rare-group loss ratio r: GD {fmt(gd_rare, 2)}, Adam {fmt(r['Adam'][-1], 2)}, "
               f"sign {fmt(r['sign descent'][-1], 2)}; max r over groups Adam "
               f"{fmt(r['Adam'].max(), 2)}, sign {fmt(r['sign descent'].max(), 2)}")
    return make_verdict(ok1 and ok2 and ok3, claim=CLAIM, bound=BOUND, measured=measured,
                        figure=FIGURE, summary=summary,
                        selected_lr={m: ms[m]["lr"] for m in METHODS},
                        relative_group_loss={m: ms[m]["r"] for m in METHODS},
                        rare_factor=factors, unrestricted=un)


# ----------------------------------------------------------------------------- figure
def draw(out_dir) -> pathlib.Path:
    """Loss per frequency group against the iteration, one panel per method (the selected step
    size, as in Kunstner et al. Fig. 1), and the step-size grids; from the saved traces only."""
    import matplotlib

    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    traces = load_traces(out_dir, stem=STEM)
    a = analyse(traces)
    k = a["k"]
    cmap = matplotlib.colormaps["viridis"]
    colors = [cmap(i / max(k - 1, 1)) for i in range(k)]
    fig, axes = plot.subplots(1, 4, width=4.0, height=3.6,
                              title=f"Heavy-tailed class imbalance: softmax regression, "
                                    f"{traces[0].meta['n_classes']} classes in {k} frequency "
                                    f"groups, full batch")
    top = traces[0].meta["f0"]
    for ax, method in zip(axes, METHODS):
        sel = a["methods"][method]
        tr = next((t for t in traces if t.meta["method"] == method
                   and t.meta["lr"] == sel["lr"]), None)
        if tr is None:
            ax.set_title(f"{method}: every step size blew up", fontsize=9)
            continue
        G = group_losses(tr)
        for i in range(k):
            ax.plot(tr["k"], G[:, i], color=colors[i], lw=1.5,
                    label=f"group {i}: {2 ** i} class{'es' if i else ''} x {2 ** (k - i)}")
        ax.plot(tr["k"], tr["f"], "k--", lw=1.0, label="full loss")
        ax.set_ylim(0, 1.3 * top)
        ax.set_xlabel("iteration")
        ax.set_ylabel("training loss of the group")
        ax.set_title(f"{method}, lr={sel['lr']:.3g}: rare r={fmt(sel['r'][-1], 2)}",
                     fontsize=9)
    axes[1].legend(fontsize=6.5, loc="upper right")
    if all(a["methods"][m]["lr"] is not None for m in METHODS):
        factors = checks(a["methods"])["factors"]
        plot.decisive(axes[0], label="rare group: min GD/(Adam, sign) loss",
                      value=min(factors.values()), threshold=RARE_FACTOR, op=">=",
                      loc="lower left")
    ax = axes[3]
    for j, method in enumerate(METHODS):
        grid = a["methods"][method]["grid"]
        lrs = np.array([g[0] for g in grid])
        fin = np.array([g[1] for g in grid])
        bad = np.array([g[2] is not None for g in grid])
        ax.loglog(lrs[~bad], fin[~bad], "o-", color=plot.COLORS[j], lw=1.2, ms=4,
                  label=f"{method}")
        if bad.any():
            ax.loglog(lrs[bad], np.full(bad.sum(), top), "x", color=plot.COLORS[j], ms=6)
        if a["methods"][method]["lr"] is not None:
            ax.loglog([a["methods"][method]["lr"]], [a["methods"][method]["f_final"]], "*",
                      color=plot.COLORS[j], ms=12)
    ax.set_xlabel("step size")
    ax.set_ylabel(f"full loss after {a['steps']} steps")
    ax.set_title("step-size grids (x: loss rose above its start,\nexcluded; star: selected)",
                 fontsize=9)
    ax.legend(fontsize=7)
    return plot.save(fig, out_dir / FIGURE, dpi=100)


def _save_fresh(traces, out_dir):
    for old in pathlib.Path(out_dir).glob(f"{STEM}_*.npz"):
        old.unlink()
    return save_traces(traces, out_dir, stem=STEM)


@register("heavy-tailed-imbalance", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    out_dir = pathlib.Path(out_dir)
    cfg = QUICK if quick else FULL
    problem = make_problem(cfg["k"], seed)
    _save_fresh(run_grid(problem, cfg["steps"], cfg["density"],
                         stop_on_blowup=not cfg["unrestricted"]), out_dir)
    draw(out_dir)
    out = verdict(analyse(load_traces(out_dir, stem=STEM)))
    out.update(k=cfg["k"], steps=cfg["steps"], grid_points_per_decade=cfg["density"],
               unrestricted_computed=cfg["unrestricted"])
    return out
