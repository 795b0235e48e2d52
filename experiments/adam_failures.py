r"""Adam's failures (L1, L2, L4: Adam "does not converge on some simple problems, even convex
ones"; docs/lectures.md sections 3 and 9): Reddi et al.'s online counterexample, where Adam ends at
the
worst point :math:`+1` and AMSGrad goes to the minimiser :math:`-1`, and the limit cycle on
:math:`w^2`, where :math:`|w_k|` settles at :math:`\eta/2` while SGD and the heavy ball converge.

**Part A: Reddi, Kale & Kumar (2018).** On :math:`\mathcal F=[-1,1]` the online losses
(``problems.ReddiOnline``)

.. math:: f_t(x)=\begin{cases}Cx,&t\bmod p=1\\-s\,x,&\text{otherwise}\end{cases},
          \qquad x^*=\arg\min_{x\in\mathcal F}\sum_t f_t(x)=-1\quad(C>(p-1)s),

played online: :math:`x_t` is played, :math:`\nabla f_t(x_t)` observed, then
:math:`x_{t+1}=\Pi_{\mathcal F}(x_t-\alpha_t\,\hat m_t/(\sqrt{\hat v_t}+\epsilon))` with
:math:`\alpha_t=\alpha/\sqrt t` (the real ``optimizers.Adam`` / ``optimizers.AMSGrad`` with a
schedule as ``lr``, then the projection ``problem.project``, a clip). Regret:
:math:`R_T=\sum_{t\le T}f_t(x_t)-\min_{x\in\mathcal F}\sum_{t\le T}f_t(x)`; playing :math:`+1`
forever gives :math:`R_T/T\to2\bar s`, :math:`\bar s=(C-(p-1)s)/p` the average slope; an
algorithm that converges has :math:`R_T/T\to0`. Two settings, both from :math:`x_1=1`:

* **Theorem 1** of the paper: :math:`C=3`, :math:`p=3`, :math:`s=1`, :math:`\beta_1=0`,
  :math:`\beta_2=1/(1+C^2)=0.1`, :math:`\epsilon=10^{-8}`; :math:`\alpha=\sqrt{1-\beta_2}/2`
  (the theorem needs :math:`\alpha<\sqrt{1-\beta_2}`: half of that bound is the rule);
  :math:`T` = 3000 (``--quick``) or 30 000 steps.
* **The paper's synthetic experiment** (Section 5, ``ReddiOnline.synthetic()``):
  :math:`C=1010`, :math:`p=101`, :math:`s=10`, :math:`\beta=(0.9,0.99)`; :math:`\alpha=0.5`
  (the value of the project's convergence test of AMSGrad,
  ``tests/optimizers/test_optim_convergence_claims.py``; the paper grid-searched it);
  :math:`T=101\cdot100` (``--quick``) or :math:`101\cdot1000` steps. The paper ran
  :math:`5\cdot10^6` steps; AMSGrad's drift is :math:`O(\sqrt T)` steps of size
  :math:`\alpha/\sqrt t` slowed down by its large :math:`\hat v_{\max}`, so within our budget it
  is visibly on its way to :math:`-1`, not there.

"Final :math:`x`" is the mean of :math:`x_t` over the last period (:math:`p` steps: in the
synthetic setting :math:`x_t` jumps down once per period). Checks (``analyse``):

1. Theorem setting: Adam's final :math:`x\ge1-0.05` and AMSGrad's :math:`\le-1+0.05` (within
   ``X_TOL`` = 0.05 of the two ends, 5% of the half-width of :math:`[-1, 1]`: the projection
   holds Adam at the boundary, and AMSGrad's distance to :math:`-1` shrinks like :math:`\alpha_t`);
2. theorem setting, average regret: Adam's :math:`R_T/T\ge0.9\cdot2\bar s` (at least 90% of the
   regret rate of always playing :math:`+1`) and
   :math:`R_T/T\ge0.9\,R_{T/10}/(T/10)` (not decaying); AMSGrad's
   :math:`R_T/T\le0.5\,R_{T/10}/(T/10)` (decaying: :math:`O(1/\sqrt T)` gives 0.32) and
   :math:`R_T/T\le0.1\cdot2\bar s`;
3. synthetic setting: Adam's final :math:`x\ge1-0.05`; AMSGrad's final :math:`x<0` (on the
   minimiser's side) and still moving towards :math:`-1` at the speed its frozen denominator
   allows: in the interior the gradients do not depend on :math:`x`, the momentum averages to
   the mean slope :math:`\bar s=(C-(p-1)s)/p` over a period, and :math:`\hat v_{\max}` settles
   at the periodic maximum of :math:`v`,
   :math:`v_{\max}=\frac{(1-\beta_2)C^2+\beta_2s^2(1-\beta_2^{p-1})}{1-\beta_2^p}`, so between
   :math:`T/2` and :math:`T` it should descend by
   :math:`D=\frac{\bar s}{\sqrt{v_{\max}}}\sum_{t=T/2+1}^{T}\frac{\alpha}{\sqrt t}`. Check: the
   measured descent (the mean over the period ending at :math:`T/2` minus the mean over the
   last period) within 10% of :math:`D` (``DRIFT_TOL``; the model neglects the bias
   corrections and the variation of :math:`\alpha_t` inside a period). Reaching :math:`-1`
   from :math:`x\approx-0.3` at that speed takes :math:`\sim10^6` steps. Regret is reported,
   not checked here (the start's transient dominates :math:`R_T/T` at this budget).

**Part B: the limit cycle on** :math:`L(w)=w^2` (``problems.AdamLimitCycle``,
:math:`\eta=0.1`): Adam with :math:`\beta_1=0`, :math:`\epsilon=0` from :math:`w_0=\eta/2` sees
:math:`g_k=\pm\eta`, :math:`\hat v_k=\eta^2` and steps :math:`\pm\eta`: :math:`w` alternates
:math:`\eta/2,-\eta/2,\dots` forever, :math:`L=\eta^2/4>0`. ``optimizers.Adam`` requires
:math:`\epsilon>0`, so the runs use ``EPS_ZERO`` = 5e-324, the smallest positive double: added to
:math:`\sqrt{\hat v_k}\ge10^{-300}` it changes nothing in float64, so the iterates are those of
:math:`\epsilon=0` bit for bit (a test compares them with a hand-written :math:`\epsilon=0` loop).
Runs, all with the step :math:`\eta` and through the runner (``experiments.runner.run``):
Adam, :math:`\beta_2=0.999`, from :math:`w_0=\eta/2` (the cycle of ``problems.AdamLimitCycle``,
a construction of this project; it is not in the lecture transcripts); Adam, :math:`\beta_2=0.9`, from
:math:`w_0=1` (the cycle attracts: :math:`|w|` settles at :math:`\eta/2`); SGD and the heavy ball (:math:`\beta=0.9`, the lectures' usual value) from
:math:`w_0=\eta/2`. :math:`T` = 600 (``--quick``) or 2000 steps. Checks: the mean of
:math:`|w_k|` over the second half of each Adam run within 2% of :math:`\eta/2` (``CYCLE_TOL``;
the cycle is exact up to rounding, 2% leaves room for the transient from :math:`w_0=1`), and
:math:`|w_T|\le10^{-6}` for SGD and the heavy ball (rates 0.8 and :math:`\sqrt{0.9}` per step:
far below at :math:`T=600`).

PASS when every check of both parts holds.
"""
from __future__ import annotations

import copy
import math
import pathlib

import numpy as np

import minigrad as mg
import optimizers
import problems as P
from experiments.common import fmt
from experiments.common import verdict as make_verdict
from experiments.registry import register
from experiments.runner import run as run_trace
from experiments.trace import Trace, load_traces, save_traces
from theorems import REDDI_CONVERGENCE

CLAIM = ("Adam fails on simple convex problems: on Reddi et al.'s online problem Adam ends at "
         "+1 (non-vanishing average regret) while AMSGrad goes to the minimiser -1; on w^2 "
         "Adam (beta1=0, eps=0) settles on the cycle |w|=eta/2 while SGD and heavy ball "
         "converge.")
BOUND = ("Reddi: x_T(Adam) >= 1-0.05, x_T(AMSGrad) <= -1+0.05, R_T/T(Adam) >= 0.9*2*slope and "
         "not decaying, R_T/T(AMSGrad) decaying and <= 0.1*2*slope; limit cycle: "
         "mean|w| over the tail = eta/2 within 2% (Adam), |w_T| <= 1e-6 (SGD, heavy ball)")
FIGURE = "adam_failures.png"
QUICK = dict(theorem_T=3000, synthetic_periods=100, cycle_steps=600)
FULL = dict(theorem_T=30_000, synthetic_periods=1000, cycle_steps=2000)

C_THM = 3.0                              # Theorem 1's C (> 2), period 3, small slope 1
BETA2_THM = 1.0 / (1.0 + C_THM ** 2)     # beta2 = 1/(1 + C^2) = 0.1, beta1 = 0
ALPHA_THM = math.sqrt(1.0 - BETA2_THM) / 2   # half the theorem's bound alpha < sqrt(1-beta2)
BETAS_SYN = (0.9, 0.99)                  # the paper's synthetic experiment
ALPHA_SYN = 0.5
ETA = 0.1                                # the limit cycle's step
BETA2_CYCLE = (0.999, 0.9)               # Adam at the cycle's start; Adam from w0 = 1
W0_FAR = 1.0
HB_MOMENTUM = 0.9
EPS_ZERO = 5e-324                        # the smallest positive double: eps = 0 in effect

# the thresholds of theorems.REDDI_CONVERGENCE (the claim and its counterexample)
X_TOL = REDDI_CONVERGENCE.x_tol
REGRET_KEEP = REDDI_CONVERGENCE.regret_keep    # Adam: R_T/T >= 0.9 * (2 slope, R_{T/10}/(T/10))
REGRET_DECAY = REDDI_CONVERGENCE.regret_decay  # AMSGrad: R_T/T <= 0.5 * R_{T/10}/(T/10)
REGRET_SMALL = REDDI_CONVERGENCE.regret_small  # AMSGrad: R_T/T <= 0.1 * 2 slope
DRIFT_TOL = 0.10         # synthetic AMSGrad: descent over [T/2, T] within 10% of the model's
CYCLE_TOL = 0.02
CONVERGED = 1e-6


# ----------------------------------------------------------------------------- part A
def regret_curve(problem, xs) -> np.ndarray:
    r""":math:`R_t=\sum_{s\le t}c_sx_s+|\sum_{s\le t}c_s|` for every :math:`t` (the minimum of
    the linear :math:`(\sum c)x` over :math:`[-1,1]` is :math:`-|\sum c|`): the curve whose last
    value is ``problem.regret(xs)``."""
    xs = np.asarray(xs, dtype=float)
    c = np.array([problem.coefficient(t) for t in range(1, xs.size + 1)])
    return np.cumsum(c * xs) + np.abs(np.cumsum(c))


def reddi_run(problem, cls, *, T: int, alpha: float, betas, label: str, **meta) -> Trace:
    r"""``cls`` (Adam or AMSGrad) played online on ``problem`` for ``T`` steps with
    :math:`\alpha_t=\alpha/\sqrt t` and the projection onto :math:`[-1,1]` after each step.
    Columns: ``k`` (= :math:`t`), ``x`` (:math:`x_t`, the point played at step :math:`t`),
    ``regret`` (:math:`R_t`), ``lr``."""
    x = problem.start()
    opt = cls([x], lr=lambda k: alpha / math.sqrt(k + 1), betas=betas)  # k counts from 0
    xs = np.empty(T)
    for t in range(1, T + 1):
        xs[t - 1] = float(x.data[0])            # x_t is played
        x.grad = problem.grad_at(t, x.data)     # grad f_t(x_t)
        opt.step()
        x.data[...] = problem.project(x.data)   # x_{t+1} = Pi_[-1, 1](x_t - ...)
    k = np.arange(1, T + 1, dtype=float)
    cols = dict(k=k, x=xs, regret=regret_curve(problem, xs), lr=alpha / np.sqrt(k))
    return Trace(label, cols, dict(method=cls.__name__, alpha=alpha, betas=list(betas),
                                   C=problem.C, period=problem.period, small=problem.small,
                                   slope=problem.slope, T=T, **meta))


def reddi_runs(*, quick: bool) -> list:
    budget = QUICK if quick else FULL
    traces = []
    thm = P.ReddiOnline(C=C_THM)
    syn = P.ReddiOnline.synthetic()
    for cls in (optimizers.Adam, optimizers.AMSGrad):
        traces.append(reddi_run(thm, cls, T=budget["theorem_T"], alpha=ALPHA_THM,
                                betas=(0.0, BETA2_THM), setting="theorem",
                                label=f"{cls.__name__}, Theorem 1 (C=3)"))
    for cls in (optimizers.Adam, optimizers.AMSGrad):
        traces.append(reddi_run(syn, cls, T=syn.period * budget["synthetic_periods"],
                                alpha=ALPHA_SYN, betas=BETAS_SYN, setting="synthetic",
                                label=f"{cls.__name__}, synthetic (C=1010, p=101)"))
    return traces


# ----------------------------------------------------------------------------- part B
def start_at(problem, w0: float):
    """A copy of ``problem`` whose start ``x0`` is ``w0`` (same objective, same backend)."""
    q = copy.copy(problem)
    q.x0 = mg.backend.asarray([w0], dtype=problem.dtype, backend=problem.backend)
    return q


def cycle_runs(*, steps: int, eta: float = ETA, eps: float = EPS_ZERO) -> list:
    """Adam (beta1 = 0, eps) from eta/2 and from W0_FAR, SGD and the heavy ball from eta/2, all
    with the step eta, on ``AdamLimitCycle(eta)``."""
    p = P.AdamLimitCycle(eta)
    runs = [("Adam", p, BETA2_CYCLE[0], lambda ps, b2=BETA2_CYCLE[0]: optimizers.Adam(
                ps, lr=eta, betas=(0.0, b2), eps=eps)),
            ("Adam", start_at(p, W0_FAR), BETA2_CYCLE[1], lambda ps, b2=BETA2_CYCLE[1]:
                optimizers.Adam(ps, lr=eta, betas=(0.0, b2), eps=eps)),
            ("SGD", p, None, lambda ps: optimizers.SGD(ps, lr=eta)),
            ("HB", p, None, lambda ps: optimizers.Momentum(ps, lr=eta, momentum=HB_MOMENTUM))]
    traces = []
    for method, prob, beta2, make in runs:
        w0 = float(mg.backend.to_numpy(prob.x0)[0])
        if method == "Adam":
            label = f"Adam, beta1=0, beta2={beta2:g}, eps=0, w0={fmt(w0)}"
        elif method == "SGD":
            label = f"SGD, w0={fmt(w0)}"
        else:
            label = f"heavy ball, beta={HB_MOMENTUM:g}, w0={fmt(w0)}"
        tr = run_trace(prob, make, steps=steps, label=label)
        tr.meta.update(method=method, eta=eta, beta2=beta2, w0=w0, eps=eps)
        traces.append(tr)
    return traces


# ----------------------------------------------------------------------------- analysis
def amsgrad_drift(meta, t0: int, t1: int) -> float:
    r"""The model's descent of AMSGrad in the interior of :math:`[-1,1]` over the steps
    :math:`t_0<t\le t_1`: :math:`\frac{\bar s}{\sqrt{v_{\max}}}\sum\alpha/\sqrt t` with the
    periodic maximum :math:`v_{\max}` of :math:`v` (module docstring, check 3)."""
    C, p, s = float(meta["C"]), int(meta["period"]), float(meta["small"])
    beta2, alpha = float(meta["betas"][1]), float(meta["alpha"])
    v_max = ((1 - beta2) * C * C + beta2 * s * s * (1 - beta2 ** (p - 1))) / (1 - beta2 ** p)
    t = np.arange(t0 + 1, t1 + 1, dtype=float)
    return float(meta["slope"]) / math.sqrt(v_max) * float(np.sum(alpha / np.sqrt(t)))


def _last_period_mean(tr) -> float:
    return float(np.mean(np.asarray(tr["x"])[-int(tr.meta["period"]):]))


def _avg_regret(tr, frac: float = 1.0) -> float:
    T = round(len(tr) * frac)
    return float(tr["regret"][T - 1] / T)


def analyse(reddi, cycle) -> dict:
    """Every number the verdict needs, from the saved traces."""
    by = {(t.meta["setting"], t.meta["method"]): t for t in reddi}
    a = {}
    for setting in ("theorem", "synthetic"):
        for method in ("Adam", "AMSGrad"):
            t = by[(setting, method)]
            p = int(t.meta["period"])
            half = np.asarray(t["x"])[:len(t) // 2]
            a[f"{setting}_{method}"] = dict(
                x_final=_last_period_mean(t), x_half=float(np.mean(half[-p:])),
                avg_regret=_avg_regret(t), avg_regret_tenth=_avg_regret(t, 0.1),
                plus_one_rate=2.0 * float(t.meta["slope"]), T=len(t),
                drift_model=(amsgrad_drift(t.meta, len(t) // 2, len(t))
                             if (setting, method) == ("synthetic", "AMSGrad") else None))
    cyc = []
    for t in cycle:
        w = np.sqrt(np.asarray(t["dist2"]))               # |w_k| (w* = 0)
        cyc.append(dict(label=t.label, method=t.meta["method"], eta=t.meta["eta"],
                        tail_mean=float(np.mean(w[len(w) // 2:])), final=float(w[-1]),
                        w0=t.meta["w0"]))
    a["cycle"] = cyc
    return a


def checks(a) -> dict:
    """Each check of the docstring by name: True when it holds."""
    ta, tm = a["theorem_Adam"], a["theorem_AMSGrad"]
    sa, sm = a["synthetic_Adam"], a["synthetic_AMSGrad"]
    keys = ("x_final", "avg_regret", "avg_regret_tenth", "plus_one_rate")
    adam = REDDI_CONVERGENCE.counterexample(*(ta[k] for k in keys))
    ams = REDDI_CONVERGENCE.criteria(*(tm[k] for k in keys))
    out = {
        "theorem: Adam ends at +1": adam["ends at +1"],
        "theorem: AMSGrad ends at -1": ams["ends at -1"],
        "theorem: Adam's R_T/T does not vanish": adam["R_T/T does not vanish"],
        "theorem: AMSGrad's R_T/T vanishes": ams["R_T/T vanishes"],
        "synthetic: Adam ends at +1": sa["x_final"] >= 1.0 - X_TOL,
        "synthetic: AMSGrad moves towards -1 at its predicted speed":
            sm["x_final"] < 0.0
            and abs((sm["x_half"] - sm["x_final"]) / sm["drift_model"] - 1) <= DRIFT_TOL,
    }
    for c in a["cycle"]:
        if c["method"] == "Adam":
            out[f"cycle: {c['label']}"] = abs(c["tail_mean"] / (c["eta"] / 2) - 1) <= CYCLE_TOL
        else:
            out[f"cycle: {c['label']}"] = c["final"] <= CONVERGED
    return out


def verdict(a) -> dict:
    ok = checks(a)
    ta, tm = a["theorem_Adam"], a["theorem_AMSGrad"]
    sa, sm = a["synthetic_Adam"], a["synthetic_AMSGrad"]
    cyc = "; ".join(
        f"{c['label']}: tail mean |w| = {c['tail_mean'] / (c['eta'] / 2):.4f} eta/2"
        if c["method"] == "Adam" else f"{c['label']}: |w_T| = {fmt(c['final'])}"
        for c in a["cycle"])
    measured = (
        f"Theorem 1 (C=3, T={ta['T']}): final x Adam {ta['x_final']:+.4f}, AMSGrad "
        f"{tm['x_final']:+.4f}; R_T/T Adam {ta['avg_regret']:.4f} (at T/10 "
        f"{ta['avg_regret_tenth']:.4f}; playing +1: {ta['plus_one_rate']:.4f}), AMSGrad "
        f"{fmt(tm['avg_regret'])} (at T/10 {fmt(tm['avg_regret_tenth'])}). Synthetic (C=1010, "
        f"p=101, T={sa['T']}): final x Adam {sa['x_final']:+.4f}, AMSGrad {sm['x_final']:+.4f} "
        f"(at T/2 {sm['x_half']:+.4f}: descent {sm['x_half'] - sm['x_final']:.4f}, model "
        f"{sm['drift_model']:.4f}); R_T/T Adam {sa['avg_regret']:.4f}, AMSGrad "
        f"{sm['avg_regret']:.4f} (playing +1: {sa['plus_one_rate']:.4f}). Limit cycle "
        f"(eta={a['cycle'][0]['eta']:g}): {cyc}. Failed checks: "
        + (", ".join(k for k, v in ok.items() if not v) or "none"))
    summary = (f"Adam x_T {ta['x_final']:+.3f} vs AMSGrad {tm['x_final']:+.3f} (Thm 1), "
               f"{sa['x_final']:+.3f} vs {sm['x_final']:+.3f} (synthetic); Adam |w| tail "
               f"{a['cycle'][0]['tail_mean'] / (a['cycle'][0]['eta'] / 2):.4f} eta/2, SGD/HB "
               f"{fmt(a['cycle'][2]['final'])}/{fmt(a['cycle'][3]['final'])}")
    return make_verdict(all(ok.values()), claim=CLAIM, bound=BOUND, measured=measured,
                        figure=FIGURE, summary=summary, checks=ok,
                        numbers={k: v for k, v in a.items() if k != "cycle"}, cycle=a["cycle"])


# ----------------------------------------------------------------------------- figure
def _pos(y):
    """NaN where ``y`` is not positive (for log axes)."""
    y = np.asarray(y, dtype=float)
    return np.where(y > 0, y, np.nan)


def _fresh(out_dir, stem):
    for old in pathlib.Path(out_dir).glob(f"{stem}_*.npz"):
        old.unlink()


def load(out_dir):
    return load_traces(out_dir, stem="reddi"), load_traces(out_dir, stem="cycle")


def draw(out_dir) -> pathlib.Path:
    """Four panels from the saved traces only."""
    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    reddi, cycle = load(out_dir)
    a = analyse(reddi, cycle)
    fig, axes = plot.subplots(2, 2, width=5.6, height=3.8,
                              title="Adam's failures: Reddi et al.'s counterexample and the "
                                    "limit cycle on w^2")
    colors = {"Adam": plot.COLORS[3], "AMSGrad": plot.COLORS[0]}
    thm = [t for t in reddi if t.meta["setting"] == "theorem"]
    syn = [t for t in reddi if t.meta["setting"] == "synthetic"]

    ax = axes[0]
    for t in thm:
        ax.semilogx(t["k"], t["x"], color=colors[t.meta["method"]], lw=1.0,
                    label=f"{t.meta['method']}: final x {_last_period_mean(t):+.3f}")
    ax.axhline(-1.0, color="k", ls="--", lw=0.8, label="x* = -1")
    ax.set_ylim(-1.1, 1.1)
    ax.set_xlabel("step t")
    ax.set_ylabel("x_t")
    ax.set_title(f"Theorem 1: C=3, beta1=0, beta2=1/(1+C^2), alpha_t={ALPHA_THM:.3f}/sqrt(t)",
                 fontsize=8.5)
    ax.legend(fontsize=7)
    held = checks(a)
    plot.decisive(ax, label=f"checks failed (of {len(held)})",
                  value=sum(not v for v in held.values()), threshold=0, loc="lower left")

    ax = axes[1]
    for t in thm + syn:
        k = np.asarray(t["k"])
        style = "-" if t.meta["setting"] == "theorem" else ":"
        ax.loglog(k, _pos(np.asarray(t["regret"]) / k), style,
                  color=colors[t.meta["method"]], lw=1.2,
                  label=f"{t.label}: R_T/T = {fmt(_avg_regret(t))}")
    ax.axhline(2 * thm[0].meta["slope"], color="k", ls="--", lw=0.8,
               label=f"playing +1, Theorem 1: {2 * thm[0].meta['slope']:.3f}")
    ax.axhline(2 * syn[0].meta["slope"], color="grey", ls="--", lw=0.8,
               label=f"playing +1, synthetic: {2 * syn[0].meta['slope']:.3f}")
    ax.set_xlabel("step T")
    ax.set_ylabel("average regret R_T / T")
    ax.set_title("Average regret: Adam's stays up, AMSGrad's goes to 0", fontsize=8.5)
    ax.legend(fontsize=6.3, loc="upper right")

    ax = axes[2]
    for t in syn:
        ax.plot(t["k"], t["x"], color=colors[t.meta["method"]], lw=0.6,
                label=f"{t.meta['method']}: mean over the last period {_last_period_mean(t):+.3f}")
    ams = next(t for t in syn if t.meta["method"] == "AMSGrad")
    T, half = len(ams), len(ams) // 2
    tt = np.linspace(half, T, 50).astype(int)
    x_half = a["synthetic_AMSGrad"]["x_half"]
    ax.plot(tt, [x_half - amsgrad_drift(ams.meta, half, int(t)) for t in tt], "k:", lw=1.6,
            label="AMSGrad, model drift (sbar/sqrt(v_max)) sum alpha_t")
    ax.axhline(-1.0, color="k", ls="--", lw=0.8, label="x* = -1")
    ax.set_ylim(-1.1, 1.1)
    ax.set_xlabel("step t")
    ax.set_ylabel("x_t")
    ax.set_title(f"Synthetic (Sec. 5): 1010x every 101st step, else -10x; betas {BETAS_SYN}, "
                 f"alpha_t = {ALPHA_SYN}/sqrt(t)", fontsize=8)
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 0.08))

    ax = axes[3]
    styles = {"Adam": "-", "SGD": "--", "HB": "-."}
    for i, (t, c) in enumerate(zip(cycle, a["cycle"])):
        w = np.sqrt(np.asarray(t["dist2"]))
        tail = (f"tail mean {c['tail_mean'] / (c['eta'] / 2):.4f} eta/2" if c["method"] == "Adam"
                else f"|w_T| = {fmt(c['final'])}")
        ax.semilogy(t["k"], _pos(w), styles[c["method"]], color=plot.COLORS[i],
                    lw=1.3, label=f"{c['label']}: {tail}")
    eta = a["cycle"][0]["eta"]
    ax.axhline(eta / 2, color="k", ls=":", lw=1.0, label=f"eta/2 = {eta / 2:g}")
    ax.set_ylim(1e-12, 1e5)
    ax.set_xlabel("iteration k")
    ax.set_ylabel("|w_k|")
    ax.set_title(f"L(w) = w^2, step eta = {eta:g}: Adam cycles, SGD and heavy ball converge",
                 fontsize=8.5)
    ax.legend(fontsize=6.5, loc="upper right")
    return plot.save(fig, out_dir / FIGURE, dpi=100)


# ----------------------------------------------------------------------------- experiment
@register("adam-failures", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    """Both parts (deterministic: ``seed`` is not used, nothing is random); save, draw,
    check."""
    out_dir = pathlib.Path(out_dir)
    budget = QUICK if quick else FULL
    for stem in ("reddi", "cycle"):
        _fresh(out_dir, stem)
    save_traces(reddi_runs(quick=quick), out_dir, stem="reddi")
    save_traces(cycle_runs(steps=budget["cycle_steps"]), out_dir, stem="cycle")
    draw(out_dir)
    out = verdict(analyse(*load(out_dir)))
    out.update(budget=budget, seed_used=False)
    return out
