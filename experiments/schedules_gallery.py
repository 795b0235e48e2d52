"""Gallery of every learning-rate schedule (L0's tables after Schmidt et al. 2021, L1, the SGD
theorems' steps), drawn as small curves in one figure, with a measured check.

Check (PASS/FAIL): every curve is finite, lies within the bounds its schedule states
(``sched.bounds``), and the vectorised call ``sched(arange(n))`` equals one call per step;
the momentum cycle of 1cycle too; reduce-on-plateau reduces and never goes below ``min_lr``.

Traces (one ``.npz`` per panel: columns ``k`` and ``lr``, and ``momentum`` where there is one)
are saved first; the figure is drawn from the saved traces only.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

import schedules as S
from experiments.registry import register
from experiments.trace import Trace, load_traces, save_traces

CLAIM = ("Every schedule of the lectures' tables (L0 after Schmidt et al. 2021; L1's warmup, "
         "cooldown and batch-size rules; the SGD theorems' steps) is a finite curve within its "
         "stated bounds, the same vectorised as step by step.")
FIGURE = "schedules_gallery.png"

# group -> colour of its panels
GROUPS = {
    "decay": "#332288", "cyclical": "#882255", "warmup": "#117733", "cooldown": "#AA4499",
    "SGD theory": "#CC6677", "composition": "#555555", "batch size": "#999933",
    "stateful": "#88CCEE",
}


def catalogue(seed: int = 0):
    """(group, name, parameters as shown, schedule, number of steps) for every panel."""
    N = 100
    return [
        ("decay", "Constant", "a=0.1", S.Constant(0.1), N),
        ("decay", "StepDecay", "a0=0.1, s=25, g=0.5", S.StepDecay(0.1, 25, 0.5), N),
        ("decay", "MultiStepDecay", "a0=0.1, m=[30,60,80], g=0.3",
         S.MultiStepDecay(0.1, [30, 60, 80], 0.3), N),
        ("decay", "LinearDecay", "0.1 -> 0, T=100", S.LinearDecay(0.1, 0.0, N), N),
        ("decay", "PolynomialDecay", "0.1 -> 0, T=100, p=2", S.PolynomialDecay(0.1, 0.0, N, 2), N),
        ("decay", "ExponentialDecay", "a0=0.1, r=0.97", S.ExponentialDecay(0.1, 0.97), N),
        ("decay", "ExponentialDecay (staircase)", "a0=0.1, r=0.7, every 10",
         S.ExponentialDecay(0.1, 0.7, 10, staircase=True), N),
        ("decay", "InverseTimeDecay", "a0=0.1, k=0.1", S.InverseTimeDecay(0.1, 0.1), N),
        ("decay", "CosineDecay (optax: clamped)", "0.1 -> 0, T=70", S.CosineDecay(0.1, 70), N),
        ("decay", "CosineDecay (torch: not clamped)", "0.1 -> 0, T=40",
         S.CosineDecay(0.1, 40, clamp=False), N),
        ("decay", "LinearCosineDecay", "a0=0.1, T=100, n=4",
         S.LinearCosineDecay(0.1, N, num_periods=4), N),
        ("decay", "NoisyLinearCosineDecay", f"T=100, n=4, v0=0.1, seed {seed}",
         S.NoisyLinearCosineDecay(0.1, N, initial_variance=0.1, num_periods=4, seed=seed), N),
        ("cyclical", "CyclicalLR triangular", "0.01..0.1, up=down=12",
         S.CyclicalLR(0.01, 0.1, 12), N),
        ("cyclical", "CyclicalLR triangular2", "0.01..0.1, halved each cycle",
         S.CyclicalLR(0.01, 0.1, 12, mode="triangular2"), N),
        ("cyclical", "CyclicalLR exp_range", "0.01..0.1, g=0.98",
         S.CyclicalLR(0.01, 0.1, 12, mode="exp_range", gamma=0.98), N),
        ("cyclical", "SGDR (warm restarts)", "0.1, T0=10, Tmult=2",
         S.CosineWarmRestarts(0.1, 10, 2), N),
        ("cyclical", "SGDR + decay", "0.1, T0=20, peak x0.6",
         S.CosineWarmRestarts(0.1, 20, 1, peak_decay=0.6), N),
        ("warmup", "ConstantWarmup (He 2016)", "0.01 for 10, then 0.1",
         S.ConstantWarmup(0.1, 10, 0.01), N),
        ("warmup", "GradualWarmup (Goyal 2017)", "0.1 t/10", S.GradualWarmup(0.1, 10), N),
        ("warmup", "WarmupMultiStep (Goyal 2017)", "Tw=10, m=[50,75], g=0.1",
         S.WarmupMultiStep(0.1, 10, [50, 75]), N),
        ("warmup", "WarmupInverseSqrt (Vaswani 2017)", "peak 0.1 at Tw=10",
         S.WarmupInverseSqrt(0.1, 10), N),
        ("warmup", "WarmupCosine (optax)", "Tw=10, T=100 incl. warmup",
         S.WarmupCosine(0.1, 10, N), N),
        ("warmup", "SlantedTriangular (Howard 2018)", "peak 0.1, cut 0.1, ratio 32",
         S.SlantedTriangular(0.1, N), N),
        ("warmup", "LongTrapezoid (Xing 2018)", "up 10, down 30",
         S.LongTrapezoid(0.1, N, 10, 30), N),
        ("warmup", "OneCycle (torch)", "max 0.1; dashed: momentum 0.95..0.85",
         S.OneCycle(0.1, N), N),
        ("cooldown", "WSD linear cooldown", "Tw=5, Td=25", S.WarmupStableDecay(0.1, N, 5, 25), N),
        ("cooldown", "WSD cosine cooldown", "Tw=5, Td=25",
         S.WarmupStableDecay(0.1, N, 5, 25, "cosine"), N),
        ("cooldown", "WSD 1-sqrt cooldown", "Tw=5, Td=25 (Hagele 2024)",
         S.WarmupStableDecay(0.1, N, 5, 25, "1-sqrt"), N),
        ("SGD theory", "(2k+1)/(2mu(k+1)^2)", "mu=5 (strongly convex / PL)",
         S.StronglyConvexSGDStep(5.0), N),
        ("SGD theory", "a0/sqrt(k+1)", "a0=0.1 (convex, averaged)", S.InverseSqrtSGDStep(0.1), N),
        ("SGD theory", "R/(sigma sqrt(K))", "R=1, sigma=1, K=100", S.HorizonSGDStep(1, 1, N), N),
        ("composition", "join([...], [40, 70])", "linear, constant, cosine",
         S.join([S.LinearDecay(0.1, 0.05, 40), S.Constant(0.05), S.CosineDecay(0.05, 30)],
                [40, 70]), N),
        ("composition", "warmup(ExponentialDecay, 10)", "any schedule, 0.1 x 0.95^t",
         S.warmup(S.ExponentialDecay(0.1, 0.95), 10), N),
    ]


def _host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def _measure(seed: int, xp):
    """Evaluate every panel; return (traces, list of failed checks)."""
    traces, failures = [], []
    for group, name, params, sched, n in catalogue(seed):
        k = np.arange(n + 1)
        lr = _host(sched(xp.asarray(k)))
        lo, hi = sched.bounds
        cols = {"k": k, "lr": lr}
        one_by_one = np.array([sched(int(i)) for i in k])
        tol = 1e-12 * max(1.0, abs(hi) if math.isfinite(hi) else 1.0)
        if not np.all(np.isfinite(lr)):
            failures.append(f"{name}: not finite")
        if np.any(lr < lo - tol) or np.any(lr > hi + tol):
            failures.append(f"{name}: outside its bounds [{lo}, {hi}]")
        if not np.allclose(lr, one_by_one, rtol=1e-12, atol=0):
            failures.append(f"{name}: vectorised != step by step")
        mom = getattr(sched, "momentum", None)
        if mom is not None:
            cols["momentum"] = _host(mom(xp.asarray(k)))
            mlo, mhi = mom.bounds
            if np.any(cols["momentum"] < mlo - 1e-12) or np.any(cols["momentum"] > mhi + 1e-12):
                failures.append(f"{name}: momentum outside [{mlo}, {mhi}]")
        traces.append(Trace(name, cols, dict(group=group, params=params, bounds=[lo, hi],
                                             kind="schedule")))

    # batch-size rules: the rate as a function of the batch size, base 0.1 at B = 32
    B = np.array([32, 64, 128, 256, 512, 1024, 2048, 4096])
    lin = np.array([S.linear_scaling(0.1, 32, b) for b in B])
    sqr = np.array([S.sqrt_scaling(0.1, 32, b) for b in B])
    if not (np.allclose(lin, 0.1 * B / 32) and np.allclose(sqr, 0.1 * np.sqrt(B / 32))):
        failures.append("batch-size rules")
    traces.append(Trace("linear / sqrt scaling", {"k": B, "lr": lin, "lr_sqrt": sqr},
                        dict(group="batch size", params="a=0.1 at B=32 (x: batch size)",
                             kind="batch")))

    # reduce-on-plateau on a synthetic validation loss that flattens out (seeded noise)
    rng = np.random.default_rng(seed)
    k = np.arange(101)
    loss = 0.3 + 0.7 * np.exp(-k / 12.0) + 0.01 * rng.standard_normal(k.size)
    plateau = S.ReduceLROnPlateau(0.1, patience=8, factor=0.5, min_lr=0.01)
    lr = np.array([plateau.lr] + [plateau.step(v) for v in loss[:-1]])
    if not (lr.min() >= 0.01 and lr[-1] < 0.1 and np.all(np.diff(lr) <= 0)
            and np.all(np.diff(np.nonzero(np.diff(lr))[0]) > 8)):  # > patience between cuts
        failures.append("ReduceLROnPlateau")
    traces.append(Trace("ReduceLROnPlateau", {"k": k, "lr": lr, "metric": loss},
                        dict(group="stateful", params="patience 8, x0.5, min 0.01; dotted: loss",
                             kind="plateau")))
    return traces, failures


def draw(traces, path) -> pathlib.Path:
    """The gallery figure, from saved traces only."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from experiments import plotting as plot

    cols = 6
    rows = math.ceil(len(traces) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.55 * cols, 1.95 * rows))
    for ax in axes.flat[len(traces):]:
        ax.axis("off")
    for ax, tr in zip(axes.flat, traces):
        color = GROUPS[tr.meta["group"]]
        kind = tr.meta.get("kind")
        if kind == "batch":
            ax.plot(tr["k"], tr["lr"], "o-", color=color, ms=2.5, lw=1.2, label="linear")
            ax.plot(tr["k"], tr["lr_sqrt"], "s--", color="k", ms=2.5, lw=1.0, label="sqrt")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log", base=2)
            ax.legend(fontsize=6, frameon=False, loc="upper left")
        else:
            ax.plot(tr["k"], tr["lr"], color=color, lw=1.4,
                    drawstyle="steps-post" if kind == "plateau" else "default")
            ax.set_ylim(bottom=0)
            if "momentum" in tr.columns or "metric" in tr.columns:
                twin = ax.twinx()
                other = tr.columns.get("momentum", tr.columns.get("metric"))
                twin.plot(tr["k"], other, ":" if kind == "plateau" else "--", color="k", lw=0.9)
                twin.tick_params(labelsize=5.5, length=2)
        ax.set_title(f"{tr.label}\n{tr.meta['params']}", fontsize=7, color=color, pad=3)
        ax.tick_params(labelsize=5.5, length=2)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    handles = [plt.Line2D([], [], color=c, lw=3) for c in GROUPS.values()]
    fig.legend(handles, list(GROUPS), loc="lower right", ncol=2, fontsize=8, frameon=False,
               bbox_to_anchor=(0.98, 0.02), title="group (x axis: step t, y: lr)",
               title_fontsize=8)
    fig.suptitle("Learning-rate schedules: sched(t) for t = 0..100 "
                 "(tables of L0 after Schmidt et al. 2021; L1; SGD theorems)", fontsize=10)
    # fixed margins: tight_layout would cost seconds on 36 panels and move with the fonts
    fig.subplots_adjust(left=0.03, right=0.975, bottom=0.035, top=0.925, hspace=0.62,
                        wspace=0.38)
    spare = axes.flat[-1] if len(traces) < axes.size else axes.flat[0]
    plot.decisive(spare, label="panels out of bounds",
                  value=sum(bool(np.any(tr["lr"] < tr.meta["bounds"][0] - 1e-12)
                                 or np.any(tr["lr"] > tr.meta["bounds"][1] + 1e-12))
                            for tr in traces if "bounds" in tr.meta),
                  threshold=0, loc="upper left")
    return plot.save(fig, path, dpi=110, tight=False)


@register("schedules-gallery", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    """Evaluate every schedule (on the chosen backend's arrays), check it, save, draw."""
    out_dir = pathlib.Path(out_dir)
    if backend == "cupy":
        import cupy as xp  # the schedules run on device arrays; traces come back to the host
    else:
        xp = np
    traces, failures = _measure(seed, xp)
    save_traces(traces, out_dir, stem="schedule")
    draw(load_traces(out_dir, stem="schedule"), out_dir / FIGURE)
    n = len(traces)
    verdict = "FAIL" if failures else "PASS"
    measured = (f"{n - len(failures)}/{n} panels finite, within bounds, vectorised = per step"
                + (f"; failed: {'; '.join(failures)}" if failures else ""))
    return {"verdict": verdict, "summary": measured, "claim": CLAIM,
            "bound": "lo <= sched(t) <= hi for the stated (lo, hi) of each schedule",
            "measured": measured, "figure": FIGURE, "panels": n}
