r"""Gallery of every learning-rate schedule (L0's tables after Schmidt et al. 2021, L1, the SGD
theorems' steps), drawn as small curves in one figure, with a measured check.

**The claim** (the package's own contract, stated by each schedule's docstring and ``bounds``):
every schedule is a finite curve within the bounds it states (``sched.bounds``), and the
vectorised call ``sched(arange(n))`` equals one call per step (relative tolerance
:math:`10^{-12}`); the momentum cycle of 1cycle lies within its bounds; the batch-size rules are
:math:`\alpha B/32` and :math:`\alpha\sqrt{B/32}`; reduce-on-plateau only reduces, never goes
below ``min_lr``, and waits more than ``patience`` steps between cuts.

**The rule in force** (version 2, :data:`RULES`): no panel fails any of these checks (each
condition counts the panels that fail one check and must be 0), and every **control** is
caught. A schedule that raises at some step records NaN there (a failed check, not an error).

**The controls** (same run, the same checks, saved with the stem ``control``, not drawn): three
schedules broken on purpose, each in one realistic way:

* a linear decay from 0.1 to 0 over 60 steps *without* the clamp at its horizon, evaluated to
  step 100: it goes negative, below its stated lower bound 0 (must be caught "outside its
  bounds");
* a step decay whose vectorised path counts the steps from 1 and its scalar path from 0 (an
  off-by-one between the two code paths; must be caught "vectorised != step by step");
* an inverse-time step :math:`\alpha_0/t` instead of :math:`\alpha_0/(t+1)`: infinite at
  :math:`t=0` (must be caught "not finite").

**Statistics.** The check is deterministic (closed-form functions of the step; the noisy
schedule and the plateau's synthetic loss are seeded): one run decides it, and the same seed
reproduces it exactly. ``--quick`` changes nothing.

**History.** Version 1 (the rule before the protocol) had the same six conditions and no
control; it is still evaluated on every run (``earlier_rules``) and gives PASS on this code.
Version 2 adds the three controls.

Traces (one ``.npz`` per panel: columns ``k``, ``lr`` and ``lr_stepwise``, and ``momentum``
where there is one) are saved first; the figure and the verdict are computed from the saved
traces only.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

import schedules as S
from experiments.protocol import Condition, Rule, verdict
from experiments.registry import register
from experiments.trace import Trace, load_traces, save_traces

CLAIM = ("Every schedule of the lectures' tables (L0 after Schmidt et al. 2021; L1's warmup, "
         "cooldown and batch-size rules; the SGD theorems' steps) is a finite curve within its "
         "stated bounds, the same vectorised as step by step.")
FIGURE = "schedules_gallery.png"
STEM = "schedule"
CONTROL_STEM = "control"
RTOL = 1e-12  # vectorised against step by step, and the bounds' allowance

_CLAIM_CONDITIONS = (
    Condition("panels_not_finite", "panels with a non-finite value <= 0", "<=", 0),
    Condition("panels_out_of_bounds", "panels outside their stated bounds (lo, hi) <= 0", "<=",
              0),
    Condition("panels_vectorised_differs", "panels where sched(arange(n)) differs from one "
              "call per step (relative 1e-12) <= 0", "<=", 0),
    Condition("momentum_out_of_bounds", "momentum cycles outside their stated bounds <= 0",
              "<=", 0),
    Condition("batch_rules_wrong", "batch-size rules off a B/32 or a sqrt(B/32) (relative "
              "1e-9) <= 0", "<=", 0),
    Condition("plateau_failures", "reduce-on-plateau failures (an increase, no cut, below "
              "min_lr, cuts within patience) <= 0", "<=", 0),
)
RULES = (
    Rule(1, _CLAIM_CONDITIONS),
    Rule(2, _CLAIM_CONDITIONS + (
        Condition("control_out_of_bounds_caught", "control, linear decay without its clamp "
                  "(negative after its horizon): caught outside its bounds (1 = caught) >= 1",
                  ">=", 1, role="control"),
        Condition("control_vectorised_caught", "control, step decay with an off-by-one between "
                  "the vectorised and the scalar path: caught (1 = caught) >= 1", ">=", 1,
                  role="control"),
        Condition("control_not_finite_caught", "control, inverse-time step a0/t: caught not "
                  "finite (1 = caught) >= 1", ">=", 1, role="control"),
    ), note="adds the controls: three schedules broken on purpose must be caught by the same "
            "checks"),
)
BOUND = RULES[-1].text

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


class _UnclampedLinear(S.Schedule):
    r"""Control, broken on purpose: :math:`\alpha_0(1-t/T)` without the clamp at :math:`T`, so
    negative after its horizon, while it states the bounds :math:`[0,\alpha_0]`."""

    def __init__(self, init_value: float, horizon: int):
        self.init_value, self.horizon = float(init_value), int(horizon)

    def _eval(self, t, m):
        return self.init_value * (1.0 - t / self.horizon)

    @property
    def bounds(self):
        return (0.0, self.init_value)


class _OffByOneStepDecay(S.Schedule):
    r"""Control, broken on purpose: :math:`\alpha_0\gamma^{\lfloor t/s\rfloor}` on the scalar
    path, :math:`\alpha_0\gamma^{\lfloor(t+1)/s\rfloor}` on the vectorised one."""

    def __init__(self, init_value: float, step_size: int, gamma: float):
        self.init_value, self.step_size, self.gamma = float(init_value), int(step_size), gamma

    def _eval(self, t, m):
        shift = 1.0 if m.is_array else 0.0
        return self.init_value * self.gamma ** m.floor((t + shift) / self.step_size)

    @property
    def bounds(self):
        return (0.0, self.init_value)


class _InverseTimeFromZero(S.Schedule):
    r"""Control, broken on purpose: :math:`\alpha_0/t` instead of :math:`\alpha_0/(t+1)`,
    infinite at :math:`t=0`."""

    def __init__(self, init_value: float):
        self.init_value = float(init_value)

    def _eval(self, t, m):
        return self.init_value / t

    @property
    def bounds(self):
        return (0.0, self.init_value)


def controls():
    """(name, what it must be caught as, schedule, number of steps) for every control."""
    return [("unclamped linear decay", "outside its bounds", _UnclampedLinear(0.1, 60), 100),
            ("off-by-one step decay", "vectorised != step by step",
             _OffByOneStepDecay(0.1, 25, 0.5), 100),
            ("inverse time a0/t", "not finite", _InverseTimeFromZero(0.1), 100)]


def _host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def _stepwise(sched, k) -> np.ndarray:
    """One call per step; a step where the schedule raises gives NaN (a failed check)."""
    out = np.empty(k.size)
    for j, i in enumerate(k):
        try:
            out[j] = sched(int(i))
        except (ArithmeticError, ValueError):
            out[j] = math.nan
    return out


def evaluate(group, name, params, sched, n, xp, **meta) -> Trace:
    """The trace of one schedule: the vectorised curve on ``xp``'s arrays, the curve step by
    step, the momentum cycle where there is one, and the stated bounds."""
    k = np.arange(n + 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        try:
            lr = _host(sched(xp.asarray(k))).astype(float)
        except (ArithmeticError, ValueError):
            lr = np.full(k.size, math.nan)
    lo, hi = sched.bounds
    cols = {"k": k, "lr": lr, "lr_stepwise": _stepwise(sched, k)}
    mom = getattr(sched, "momentum", None)
    extra = {}
    if mom is not None:
        cols["momentum"] = _host(mom(xp.asarray(k)))
        extra["momentum_bounds"] = list(mom.bounds)
    return Trace(name, cols, dict(group=group, params=params, bounds=[lo, hi], kind="schedule",
                                  **extra, **meta))


def failures_of(tr) -> list:
    """The checks a saved schedule trace fails: ``"not finite"``, ``"outside its bounds"``,
    ``"vectorised != step by step"``, ``"momentum outside its bounds"``."""
    lr, one_by_one = np.asarray(tr["lr"], float), np.asarray(tr["lr_stepwise"], float)
    lo, hi = tr.meta["bounds"]
    tol = RTOL * max(1.0, abs(hi) if math.isfinite(hi) else 1.0)
    out = []
    if not (np.all(np.isfinite(lr)) and np.all(np.isfinite(one_by_one))):
        out.append("not finite")
    with np.errstate(invalid="ignore"):
        if np.any(lr < lo - tol) or np.any(lr > hi + tol):
            out.append("outside its bounds")
        if not np.allclose(lr, one_by_one, rtol=RTOL, atol=0, equal_nan=False):
            out.append("vectorised != step by step")
        if "momentum" in tr.columns:
            mlo, mhi = tr.meta["momentum_bounds"]
            m = np.asarray(tr["momentum"], float)
            if not np.all(np.isfinite(m)) or np.any(m < mlo - RTOL) or np.any(m > mhi + RTOL):
                out.append("momentum outside its bounds")
    return out


def batch_rules_failures(tr) -> int:
    r"""The batch-size rules that differ from :math:`\alpha B/B_0` and
    :math:`\alpha\sqrt{B/B_0}` (``a`` at ``B_0``, from the trace's meta)."""
    B, a, B0 = np.asarray(tr["k"], float), tr.meta["base_lr"], tr.meta["base_batch"]
    return (int(not np.allclose(tr["lr"], a * B / B0, rtol=1e-9, atol=0))
            + int(not np.allclose(tr["lr_sqrt"], a * np.sqrt(B / B0), rtol=1e-9, atol=0)))


def plateau_failures(tr) -> int:
    """Reduce-on-plateau's failures: below ``min_lr``, no reduction at all, an increase, two
    cuts at most ``patience`` steps apart."""
    lr = np.asarray(tr["lr"], float)
    cuts = np.nonzero(np.diff(lr))[0]
    return (int(not lr.min() >= tr.meta["min_lr"]) + int(not lr[-1] < lr[0])
            + int(not np.all(np.diff(lr) <= 0))
            + int(not np.all(np.diff(cuts) > tr.meta["patience"])))


def _measure(seed: int, xp):
    """Evaluate every panel; return the traces (the checks are made on the saved traces)."""
    traces = [evaluate(*entry, xp) for entry in catalogue(seed)]

    # batch-size rules: the rate as a function of the batch size, base 0.1 at B = 32
    B = np.array([32, 64, 128, 256, 512, 1024, 2048, 4096])
    lin = np.array([S.linear_scaling(0.1, 32, b) for b in B])
    sqr = np.array([S.sqrt_scaling(0.1, 32, b) for b in B])
    traces.append(Trace("linear / sqrt scaling", {"k": B, "lr": lin, "lr_sqrt": sqr},
                        {"group": "batch size", "params": "a=0.1 at B=32 (x: batch size)",
                         "kind": "batch", "base_lr": 0.1, "base_batch": 32}))

    # reduce-on-plateau on a synthetic validation loss that flattens out (seeded noise)
    rng = np.random.default_rng(seed)
    k = np.arange(101)
    loss = 0.3 + 0.7 * np.exp(-k / 12.0) + 0.01 * rng.standard_normal(k.size)
    plateau = S.ReduceLROnPlateau(0.1, patience=8, factor=0.5, min_lr=0.01)
    lr = np.array([plateau.lr] + [plateau.step(v) for v in loss[:-1]])
    traces.append(Trace("ReduceLROnPlateau", {"k": k, "lr": lr, "metric": loss},
                        {"group": "stateful", "params": "patience 8, x0.5, min 0.01; dotted: loss",
                         "kind": "plateau", "patience": 8, "min_lr": 0.01}))
    return traces


def control_traces(xp) -> list:
    """The controls, evaluated like the panels (meta ``control``, ``expected``: the check that
    must catch it)."""
    return [evaluate("decay", name, "broken on purpose", sched, n, xp, control=True,
                     expected=expected) for name, expected, sched, n in controls()]


def measurements(traces, ctrl) -> dict:
    """The numbers :data:`RULES` apply, from the saved traces."""
    panels = [t for t in traces if t.meta["kind"] == "schedule"]
    fails = [failures_of(t) for t in panels]
    caught = {t.meta["expected"]: int(t.meta["expected"] in failures_of(t)) for t in ctrl}
    return {
        "panels_not_finite": sum("not finite" in f for f in fails),
        "panels_out_of_bounds": sum("outside its bounds" in f for f in fails),
        "panels_vectorised_differs": sum("vectorised != step by step" in f for f in fails),
        "momentum_out_of_bounds": sum("momentum outside its bounds" in f for f in fails),
        "batch_rules_wrong": sum(batch_rules_failures(t) for t in traces
                                 if t.meta["kind"] == "batch"),
        "plateau_failures": sum(plateau_failures(t) for t in traces
                                if t.meta["kind"] == "plateau"),
        "control_out_of_bounds_caught": caught.get("outside its bounds", 0),
        "control_vectorised_caught": caught.get("vectorised != step by step", 0),
        "control_not_finite_caught": caught.get("not finite", 0),
    }


def judge(traces, ctrl) -> dict:
    """The verdict of :data:`RULES` on the saved traces of the panels and the controls."""
    values = measurements(traces, ctrl)
    failed = [f"{t.label}: {f}" for t in traces if t.meta["kind"] == "schedule"
              for f in failures_of(t)]
    if values["batch_rules_wrong"]:
        failed.append("batch-size rules")
    if values["plateau_failures"]:
        failed.append("ReduceLROnPlateau")
    n = len(traces)
    bad = len({f.split(": ")[0] for f in failed})
    caught = "; ".join(f"{t.label}: {', '.join(failures_of(t)) or 'not caught'} (must be: "
                       f"{t.meta['expected']})" for t in ctrl)
    measured = (f"{n - bad}/{n} panels finite, within bounds, vectorised = per step"
                + (f"; failed: {'; '.join(failed)}" if failed else "")
                + f". Controls, broken on purpose: {caught}")
    summary = (f"{n - bad}/{n} panels pass" + (f" (failed: {'; '.join(failed)})" if failed else "")
               + f"; {sum(values[c.key] for c in RULES[-1].controls)}/{len(RULES[-1].controls)} "
               f"controls caught")
    return verdict(RULES, values, claim=CLAIM, measured=measured, figure=FIGURE,
                   summary=summary, panels=n, failed_panels=failed,
                   controls_caught={t.label: failures_of(t) for t in ctrl})


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
    """Evaluate every schedule and the controls (on the chosen backend's arrays), save, draw,
    judge."""
    out_dir = pathlib.Path(out_dir)
    if backend == "cupy":
        import cupy as xp  # the schedules run on device arrays; traces come back to the host
    else:
        xp = np
    save_traces(_measure(seed, xp), out_dir, stem=STEM)
    save_traces(control_traces(xp), out_dir, stem=CONTROL_STEM)
    traces = load_traces(out_dir, stem=STEM)
    draw(traces, out_dir / FIGURE)
    return judge(traces, load_traces(out_dir, stem=CONTROL_STEM))
