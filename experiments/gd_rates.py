r"""GD's three rates of L1 (docs/lectures.md section 1, first row), checked at every iterate of
real runs.

Gradient descent :math:`x_{k+1}=x_k-\frac1L\nabla f(x_k)` (``optimizers.SGD`` with the full
gradient, through :func:`experiments.runner.run`):

1. **Smooth convex** (:math:`f` convex and :math:`L`-smooth, :math:`R=\|x_0-x^*\|`):
   :math:`f(x_k)-f^*\le\frac{LR^2}{4k+2}` for every :math:`k` (Drori & Teboulle 2014, Theorem
   3.1, the tight form of L1's :math:`O(1/k)`). Runs: Drori & Teboulle's Huber function
   (``problems.HuberWorstCase``) built for :math:`N` steps, on which GD attains the bound at
   :math:`k=N`, for several :math:`N`; and random convex quadratics with spectrum in
   :math:`[0,L]` (a zero eigenvalue included), which stay well under it. For a quadratic with a
   kernel the minimisers form an affine set and :math:`R` is the distance to the nearest one.
2. **Smooth strongly convex**: :math:`\|x_k-x^*\|^2\le(1-\mu/L)^k\|x_0-x^*\|^2`. Runs: random
   quadratics with spectrum in :math:`[\mu,L]` (random dimension, :math:`L`, condition number
   from 10 to 300), one of them started along the eigenvector of :math:`\mu` (the worst start:
   there :math:`\|x_k-x^*\|^2=(1-\mu/L)^{2k}\|x_0-x^*\|^2` exactly, so the lecture's bound is
   valid with room to spare, a factor :math:`(1-\mu/L)^k`), and a strongly convex logistic
   regression (not a quadratic; :math:`x^*` by Newton's method).
3. **Smooth non-convex**: :math:`\min_{i<k}\|\nabla f(x_i)\|^2\le\frac{2L(f(x_0)-f^*)}{k}`
   (sum the descent lemma :math:`f(x_{i+1})\le f(x_i)-\frac1{2L}\|\nabla f(x_i)\|^2` over
   :math:`i<k`; :math:`f^*` is the global minimum, a lower bound). Runs: ``problems.PLSine``
   (:math:`\sum_j x_j^2+3\sin^2x_j`, not convex, :math:`L=8`) and ``problems.Rastrigin``
   (:math:`Ad+\sum_j x_j^2-A\cos2\pi x_j`, a lattice of local minima, :math:`L=2+4\pi^2A`),
   from random starts.

**The rule in force** (version 2, :data:`RULES`): no iterate of any run exceeds its bound
(ratio measured/bound at most :math:`1+10^{-9}` at every :math:`k`, the allowance for
round-off), the Huber runs come within 0.1% of the convex bound at :math:`k=N` (the bound is
attained, so it cannot be improved: a check that only asked "below the bound" would accept a
much weaker theorem), no run of the claim diverged, and every **control** violates its bound.

**The controls** (same run): GD with the step :math:`2.5/L`, outside the theorems' range
:math:`(0,1/L]` and beyond the stability limit :math:`2/L`, for 100 steps on one problem of
each class (a convex quadratic with a kernel, a strongly convex quadratic, ``PLSine``). The
same ratio is computed on them and must exceed 1 (a diverged control counts as ``inf``).
Why beyond :math:`2/L`: the bounds are not sensitive to a step below it (measured: at
:math:`1.5/L` and :math:`1.9/L` no ratio exceeds 1 on the Huber worst case, a strongly convex
quadratic or ``PLSine``; on quadratics the step :math:`h/L` contracts every component as long
as :math:`h<2`), so a control at :math:`1.5/L` could not show anything; just beyond,
at :math:`2.05/L`, the same check already flags all three classes.

**Statistics.** The claim is deterministic: GD with the full gradient has no randomness, the
bounds hold at every iterate of every run (not in expectation), and the random draws
(dimensions, spectra, starts) choose instances, they are not noise to average over. One run
per instance therefore suffices, and the same seed reproduces every trace bit for bit.

**History.** Version 1 (the rule before the protocol) had the same five conditions and no
control; it is still evaluated on every run (``earlier_rules`` of the verdict) and gives PASS
on this code. Version 2 adds the three controls.

Traces are saved first; the figure and the verdict are computed from the saved traces only
(:func:`draw`, :func:`judge`).
"""
from __future__ import annotations

import pathlib

import numpy as np

import minigrad as mg
import optimizers
import problems as P
from experiments.common import fmt, running_min
from experiments.protocol import Condition, Rule, verdict
from experiments.registry import register
from experiments.runner import run as run_trace
from experiments.trace import load_traces, save_traces
from theorems import GD_CONVEX, GD_NONCONVEX, GD_STRONGLY_CONVEX

CLAIM = ("GD with step 1/L: f(x_k) - f* <= L R^2/(4k+2) on smooth convex f (tight: attained on "
         "the Huber worst case); ||x_k - x*||^2 <= (1 - mu/L)^k ||x_0 - x*||^2 on smooth strongly "
         "convex f; min_{i<k} ||grad f(x_i)||^2 <= 2L(f(x_0) - f*)/k on smooth non-convex f.")
FIGURE = "gd_rates.png"
STEM = "gd"
CONTROL_STEM = "control"
RTOL = 1e-9  # round-off allowance on every bound
STEP = 1.0   # the GD step in units of 1/L (the theorems' 1/L; a test sets 2.5 to see a FAIL)
CONTROL_STEP = 2.5   # the controls' step in units of 1/L: outside (0, 1], beyond 2
CONTROL_STEPS = 100  # iterations of each control run (both budgets)

_CLAIM_CONDITIONS = (
    Condition("convex_max_ratio", "convex: max over k of (f(x_k)-f*) / (L R^2/(4k+2)) "
              "<= 1 + 1e-9", "<=", 1.0 + RTOL),
    Condition("strongly_convex_max_ratio", "strongly convex: max over k of ||x_k-x*||^2 / "
              "((1-mu/L)^k ||x_0-x*||^2) <= 1 + 1e-9", "<=", 1.0 + RTOL),
    Condition("nonconvex_max_ratio", "non-convex: max over k >= 1 of min_{i<k} "
              "||grad f(x_i)||^2 / (2L(f(x_0)-f*)/k) <= 1 + 1e-9", "<=", 1.0 + RTOL),
    Condition("huber_attained", "Huber worst case: min over N of (f(x_N)-f*) / (L R^2/(4N+2)) "
              ">= 0.999 (the convex bound is attained)", ">=", 0.999),
    Condition("diverged_runs", "runs of the claim that diverged <= 0", "<=", 0),
)
RULES = (
    Rule(1, _CLAIM_CONDITIONS),
    Rule(2, _CLAIM_CONDITIONS + (
        Condition("control_convex_max_ratio", "control, GD step 2.5/L on a convex quadratic: "
                  "max over k of the ratio to L R^2/(4k+2) > 1", ">", 1.0, role="control"),
        Condition("control_strongly_convex_max_ratio", "control, GD step 2.5/L on a strongly "
                  "convex quadratic: max over k of the ratio to (1-mu/L)^k ||x_0-x*||^2 > 1",
                  ">", 1.0, role="control"),
        Condition("control_nonconvex_max_ratio", "control, GD step 2.5/L on PLSine: max over "
                  "k >= 1 of the ratio to 2L(f(x_0)-f*)/k > 1", ">", 1.0, role="control"),
    ), note="adds the controls: GD with the step 2.5/L, outside the theorems' range, on one "
            "problem of each class must violate the same bounds"),
)
BOUND = RULES[-1].text


# ----------------------------------------------------------------------------- the bounds
# the theorems' own bounds (theorems.gd), at the step 1/L
def convex_bound(k, L, R2):
    r""":math:`LR^2/(4k+2)` (Drori & Teboulle 2014, step :math:`1/L`): ``GD_CONVEX.bound``."""
    return GD_CONVEX.bound(k, L, R2)


def strongly_convex_bound(k, mu, L, dist2_0):
    r""":math:`(1-\mu/L)^k\|x_0-x^*\|^2` (L1): ``GD_STRONGLY_CONVEX.bound``."""
    return GD_STRONGLY_CONVEX.bound(k, mu, L, dist2_0)


def nonconvex_bound(k, L, gap0):
    r""":math:`2L(f(x_0)-f^*)/k` for :math:`k\ge1` (the descent lemma summed):
    ``GD_NONCONVEX.bound``; ``inf`` at :math:`k=0`."""
    k = np.asarray(k, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(k > 0, GD_NONCONVEX.bound(np.maximum(k, 1e-300), L, gap0), np.inf)


def min_grad_norm2_before(grad_norm2):
    r""":math:`\min_{i<k}\|\nabla f(x_i)\|^2` for ``k = 0, 1, ...`` (``inf`` at ``k = 0``)."""
    m = running_min(grad_norm2)
    return np.concatenate([[np.inf], m[:-1]])


def ratio_to_bound(tr) -> np.ndarray:
    """The measured quantity over its bound at every recorded iterate of a saved trace."""
    kind, m, k = tr.meta["kind"], tr.meta, np.asarray(tr["k"], dtype=float)
    if kind.startswith("convex"):
        return np.asarray(tr["f_gap"]) / convex_bound(k, m["L"], m["R2"])
    if kind == "strongly convex":
        return np.asarray(tr["dist2"]) / strongly_convex_bound(k, m["mu"], m["L"], tr["dist2"][0])
    ratio = np.full(k.shape, np.nan)  # no bound at k = 0 (a minimum over an empty set)
    ratio[1:] = (min_grad_norm2_before(tr["grad_norm2"])[1:]
                 / nonconvex_bound(k[1:], m["L"], tr["f_gap"][0]))
    return ratio


def max_ratio(tr) -> float:
    """The largest ratio measured/bound over the recorded iterates of a trace (``k >= 1`` for
    the non-convex bound, which has none at ``k = 0``); ``inf`` when the run diverged or a
    ratio is not finite (divergence is an outcome; a NaN would satisfy no condition)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        r = ratio_to_bound(tr)
    if tr.meta["kind"] == "non-convex":
        r = r[1:]
    if tr.meta.get("diverged") or not np.all(np.isfinite(r)):
        return float("inf")
    return float(np.max(r))


# ----------------------------------------------------------------------------- the runs
def _gd(problem, steps, label, step=None, **meta):
    step = STEP if step is None else step
    with np.errstate(over="ignore", invalid="ignore"):
        tr = run_trace(problem, lambda ps: optimizers.SGD(ps, lr=step / problem.L), steps=steps,
                       label=label)
    tr.meta.update(meta, L=problem.L, mu=problem.mu, step=step)
    return tr


def _distance2_to_minimisers(q) -> float:
    """Squared distance from ``x0`` to the nearest minimiser of a convex quadratic (the set
    ``x* + ker A``): the part of ``x0 - x*`` outside the kernel."""
    lam = mg.backend.to_numpy(q.eigenvalues)
    Q = mg.backend.to_numpy(q.eigenvectors)
    c = Q.T @ (mg.backend.to_numpy(q.x0) - mg.backend.to_numpy(q.x_star))
    return float(np.sum(c[lam > 1e-12 * lam[-1]] ** 2))


def runs(*, quick: bool, seed: int) -> list:
    """Every run of the experiment, as traces (meta: kind, L, mu, R2, N)."""
    rng = np.random.default_rng(seed)
    traces = []
    # 1. smooth convex: the worst case for several horizons N, and random convex quadratics
    for N in ((10, 30, 100) if quick else (10, 30, 100, 300, 1000)):
        h = P.HuberWorstCase(L=1.0, R=1.0, n_steps=N, h=1.0, dim=2)
        traces.append(_gd(h, N, f"Huber worst case, N={N}", kind="convex-huber", N=N,
                          R2=h.R ** 2))
    for i, (d, L) in enumerate([(20, 1.0), (50, 4.0), (100, 0.5)]):
        q = P.Quadratic(dim=d, mu=0.0, L=L, spacing="random", seed=seed * 101 + i,
                        radius=float(rng.uniform(0.5, 2.0)))
        traces.append(_gd(q, 100 if quick else 1000, f"quadratic d={d}, spectrum [0, {L:g}]",
                          kind="convex-quadratic", R2=_distance2_to_minimisers(q)))
    # 2. smooth strongly convex: random quadratics (one from the worst start), a logistic model
    steps = 300 if quick else 1000
    for i in range(4):
        d = int(rng.integers(10, 101))
        L = float(rng.uniform(0.5, 5.0))
        kappa = float(10 ** rng.uniform(1, 2.5))
        q = P.Quadratic(dim=d, mu=L / kappa, L=L, spacing="random", seed=seed * 101 + 10 + i,
                        x0="slowest" if i == 0 else "random")
        start = ", slowest start" if i == 0 else ""
        traces.append(_gd(q, steps, f"quadratic d={d}, kappa={kappa:.0f}{start}",
                          kind="strongly convex", slowest=i == 0))
    lr_problem = P.LogisticRegression(m=200, dim=10, mu=0.02, seed=seed)
    traces.append(_gd(lr_problem, steps, f"logistic regression, kappa="
                      f"{lr_problem.L / lr_problem.mu:.0f}", kind="strongly convex",
                      slowest=False))
    # 3. smooth non-convex: PLSine (L = 8) and Rastrigin (L = 2 + 4 pi^2 A), random starts
    steps = 200 if quick else 1000
    d = 10
    traces.append(_gd(P.PLSine(dim=d, seed=seed, spread=5.0), steps, f"PLSine d={d}, L=8",
                      kind="non-convex"))
    for A in (1.0, 10.0):
        r = P.Rastrigin(dim=d, A=A, x0=rng.uniform(-5.12, 5.12, size=d))
        traces.append(_gd(r, steps, f"Rastrigin d={d}, A={A:g}, L={r.L:.0f}", kind="non-convex"))
    return traces


def control_runs(*, seed: int) -> list:
    """The controls: GD with the step ``CONTROL_STEP / L`` (outside the theorems' range) for
    ``CONTROL_STEPS`` iterations on a convex quadratic with a kernel, a strongly convex
    quadratic and PLSine (meta ``control=True``)."""
    step, steps = CONTROL_STEP, CONTROL_STEPS
    q = P.Quadratic(dim=20, mu=0.0, L=1.0, spacing="random", seed=seed * 101 + 90)
    convex = _gd(q, steps, f"control: step {step:g}/L, quadratic d=20, spectrum [0, 1]",
                 step=step, kind="convex-quadratic", R2=_distance2_to_minimisers(q), control=True)
    q = P.Quadratic(dim=20, mu=1.0 / 30, L=1.0, spacing="random", seed=seed * 101 + 91)
    strong = _gd(q, steps, f"control: step {step:g}/L, quadratic d=20, kappa=30", step=step,
                 kind="strongly convex", slowest=False, control=True)
    nonconvex = _gd(P.PLSine(dim=10, seed=seed + 7, spread=5.0), steps,
                    f"control: step {step:g}/L, PLSine d=10", step=step, kind="non-convex",
                    control=True)
    return [convex, strong, nonconvex]


# ----------------------------------------------------------------------------- the figure
def draw(out_dir) -> pathlib.Path:
    """The three panels of the figure, from the traces saved in ``out_dir``."""
    from experiments import plotting as plot

    traces = load_traces(out_dir, stem=STEM)
    controls = {t.meta["kind"]: t for t in load_traces(out_dir, stem=CONTROL_STEM)}
    grey = {"color": "0.35", "ls": (0, (4, 2)), "lw": 1.1}
    fig, axes = plot.subplots(1, 3, width=4.8, height=3.9,
                              title="Gradient descent with step 1/L: the three rates of L1")
    ax = axes[0]
    conv = [t for t in traces if t.meta["kind"].startswith("convex")]
    kmax = max(t["k"][-1] for t in conv)
    for i, t in enumerate(conv):
        color = plot.COLORS[i % 10]
        y = np.asarray(t["f_gap"]) / (t.meta["L"] * t.meta["R2"])
        style = "-" if t.meta["kind"] == "convex-huber" else ":"
        ax.loglog(np.maximum(t["k"], 0.5), np.where(y > 0, y, np.nan), style, color=color, lw=1.3,
                  label=t.label)
        if t.meta["kind"] == "convex-huber":
            ax.plot(t.meta["N"], y[-1], "o", color=color, ms=5)
    if "convex-quadratic" in controls:
        t = controls["convex-quadratic"]
        y = np.asarray(t["f_gap"]) / (t.meta["L"] * t.meta["R2"])
        ax.loglog(np.maximum(t["k"], 0.5), np.where(y > 0, y, np.nan), label=t.label, **grey)
    k = np.arange(0, kmax + 1)
    plot.reference_line(ax, np.maximum(k, 0.5), 1.0 / (4 * k + 2), "bound 1/(4k+2)")
    ax.set_ylim(1e-12, 3.0)
    ax.set_xlabel("iteration k (k=0 drawn at 0.5)")
    ax.set_ylabel(r"$(f(x_k)-f^*)\,/\,(L R^2)$")
    ax.set_title("smooth convex: attained by the Huber worst case at k=N", fontsize=9)
    plot.decisive(ax, label="max measured/bound, all runs", threshold=1.0 + RTOL,
                  value=max(float(np.nanmax(ratio_to_bound(t))) for t in traces),
                  loc="upper right")
    ax.legend(fontsize=6, loc="lower left")

    ax = axes[1]
    strong = [t for t in traces if t.meta["kind"] == "strongly convex"]
    for i, t in enumerate(strong):
        color = plot.COLORS[i % 10]
        ax.semilogy(t["k"], np.asarray(t["dist2"]) / t["dist2"][0], color=color, lw=1.4,
                    label=t.label)
        ax.semilogy(t["k"], strongly_convex_bound(t["k"], t.meta["mu"], t.meta["L"], 1.0), "--",
                    color=color, lw=0.9)
    if "strongly convex" in controls:
        t = controls["strongly convex"]
        ax.semilogy(t["k"], np.asarray(t["dist2"]) / t["dist2"][0], label=t.label, **grey)
    ax.set_ylim(1e-12, 3.0)
    ax.set_xlabel("iteration k")
    ax.set_ylabel(r"$\|x_k-x^*\|^2/\|x_0-x^*\|^2$")
    ax.set_title("strongly convex: solid measured, dashed (1-mu/L)^k", fontsize=9)
    ax.legend(fontsize=6, loc="lower left")

    ax = axes[2]
    nonconvex = [t for t in traces if t.meta["kind"] == "non-convex"]
    for i, t in enumerate(nonconvex):
        y = min_grad_norm2_before(t["grad_norm2"]) / (2 * t.meta["L"] * t["f_gap"][0])
        ax.loglog(t["k"][1:], np.where(y[1:] > 0, y[1:], np.nan), color=plot.COLORS[i], lw=1.4,
                  label=t.label)
    if "non-convex" in controls:
        t = controls["non-convex"]
        y = min_grad_norm2_before(t["grad_norm2"]) / (2 * t.meta["L"] * t["f_gap"][0])
        ax.loglog(t["k"][1:], np.where(y[1:] > 0, y[1:], np.nan), label=t.label, **grey)
    k = np.arange(1, max(t["k"][-1] for t in nonconvex) + 1)
    plot.reference_line(ax, k, 1.0 / k, "bound 1/k")
    ax.set_ylim(1e-14, 3.0)
    ax.set_xlabel("iteration k")
    ax.set_ylabel(r"$\min_{i<k}\|\nabla f(x_i)\|^2\,/\,(2L(f(x_0)-f^*))$")
    ax.set_title("non-convex: min gradient norm vs 2L(f0-f*)/k", fontsize=9)
    ax.legend(fontsize=6, loc="lower left")
    return plot.save(fig, pathlib.Path(out_dir) / FIGURE)


# ----------------------------------------------------------------------------- the verdict
def measurements(traces, controls) -> dict:
    """The numbers :data:`RULES` apply, from the saved traces of the claim and of the
    controls."""
    values = {}
    for kind, key in (("convex", "convex"), ("strongly convex", "strongly_convex"),
                      ("non-convex", "nonconvex")):
        values[f"{key}_max_ratio"] = max(max_ratio(t) for t in traces
                                         if t.meta["kind"].startswith(kind))
        values[f"control_{key}_max_ratio"] = max(max_ratio(t) for t in controls
                                                 if t.meta["kind"].startswith(kind))
    values["huber_attained"] = min(
        float(t["f_gap"][-1] / convex_bound(t.meta["N"], t.meta["L"], t.meta["R2"]))
        for t in traces if t.meta["kind"] == "convex-huber")
    values["diverged_runs"] = sum(bool(t.meta["diverged"]) for t in traces)
    return values


def judge(traces, controls) -> dict:
    """The verdict of :data:`RULES` on the saved traces (claim runs and controls)."""
    values = measurements(traces, controls)
    worst = {}  # max ratio over k >= 1 (reported; k = 0 is checked too)
    for kind in ("convex", "strongly convex", "non-convex"):
        group = [t for t in traces if t.meta["kind"].startswith(kind)]
        worst[kind] = max(float(np.nanmax(ratio_to_bound(t)[1:])) for t in group)
    attained = values["huber_attained"]
    quad = [t for t in traces if t.meta["kind"] == "convex-quadratic"]
    quad_ratio = max(float(np.nanmax(ratio_to_bound(t)[1:])) for t in quad)
    slow = next(t for t in traces if t.meta.get("slowest"))
    k_end = slow["k"][-1]
    factor = float((slow["dist2"][-1] / slow["dist2"][0]) ** (1.0 / k_end))
    q = 1.0 - slow.meta["mu"] / slow.meta["L"]
    nonconvex_min = min(float(np.nanmax(ratio_to_bound(t))) for t in traces
                        if t.meta["kind"] == "non-convex")
    ctrl = {t.meta["kind"]: max_ratio(t) for t in controls}
    step = controls[0].meta["step"] if controls else CONTROL_STEP
    iters = sum(int(t["k"][-1]) for t in traces)
    measured = (f"max ratio measured/bound over k >= 1 in {len(traces)} runs ({iters} "
                f"iterations; k = 0 checked too): "
                f"convex {worst['convex']:.9f} (Huber worst case at k=N: min "
                f"{attained:.9f}; random quadratics: {fmt(quad_ratio)}), strongly convex "
                f"{fmt(worst['strongly convex'])}, non-convex {fmt(worst['non-convex'])} "
                f"(best run {fmt(nonconvex_min)}); {values['diverged_runs']} runs diverged; "
                f"worst-start quadratic contracts "
                f"||x_k-x*||^2 by {fmt(factor, 5)} per step = (1-mu/L)^2 = {fmt(q * q, 5)}, "
                f"the lecture's bound allows {fmt(q, 5)}. Controls, GD with step {step:g}/L "
                f"for {CONTROL_STEPS} steps (max ratio to the bound; must exceed 1): convex "
                f"quadratic {fmt(ctrl.get('convex-quadratic'))}, strongly convex quadratic "
                f"{fmt(ctrl.get('strongly convex'))}, PLSine {fmt(ctrl.get('non-convex'))}")
    summary = (f"convex bound attained ({attained:.6f} of it) on the Huber worst case, never "
               f"exceeded; strongly convex max ratio {fmt(worst['strongly convex'])}; "
               f"non-convex max ratio {fmt(worst['non-convex'])}; the controls (step "
               f"{step:g}/L) exceed their bounds: {fmt(min(ctrl.values()) if ctrl else None)} "
               f"at least")
    return verdict(RULES, values, claim=CLAIM, measured=measured, figure=FIGURE,
                   summary=summary, max_ratio=worst, huber_attained=attained,
                   worst_start_factor=factor, lecture_factor=q,
                   control_max_ratio={k: v for k, v in ctrl.items()})


# ----------------------------------------------------------------------------- the experiment
@register("gd-rates", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    """Run GD on every problem and the controls, save the traces, draw the figure, judge."""
    out_dir = pathlib.Path(out_dir)
    save_traces(runs(quick=quick, seed=seed), out_dir, stem=STEM)
    save_traces(control_runs(seed=seed), out_dir, stem=CONTROL_STEM)
    draw(out_dir)
    # the verdict reads what was saved, like the figure
    return judge(load_traces(out_dir, stem=STEM), load_traces(out_dir, stem=CONTROL_STEM))
