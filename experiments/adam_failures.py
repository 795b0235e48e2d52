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

**The rule in force** (version 2, :data:`RULES`): every check above (the thresholds of
``theorems.REDDI_CONVERGENCE`` for part A: ``X_TOL`` = 0.05, ``REGRET_KEEP`` = 0.9,
``REGRET_DECAY`` = 0.5, ``REGRET_SMALL`` = 0.1; ``DRIFT_TOL``, ``CYCLE_TOL`` and ``CONVERGED``
for the rest, with the reasons given with each check), one condition per measured number,
and the three controls below. PASS when every condition holds.

**The controls** (same run), each outside a hypothesis and required to violate the claim's
bound:

* **AMSGrad with a constant step** :math:`\alpha_t=\alpha` (``ALPHA_THM``; the convergence
  theorem of Reddi et al. needs :math:`\alpha_t=\alpha/\sqrt t`), Theorem 1's setting,
  ``CONTROL_T`` = 3000 steps in both budgets: AMSGrad's convergence check must fail on it, its
  final :math:`x` above :math:`-1+0.05` and its :math:`R_T/T` above
  :math:`0.5\,R_{T/10}/(T/10)` (at :math:`-1` the constant step keeps bouncing it off the
  boundary: :math:`x` settles on a cycle about 0.17 above :math:`-1`, and the regret rate
  stays);
* **SGD with the step** :math:`2/L=1` on :math:`w^2` (:math:`L=2`; the convergent range is
  :math:`(0,2/L)`): :math:`w_{k+1}=-w_k`, so :math:`|w_T|=\eta/2` and the convergence check
  :math:`|w_T|\le10^{-6}` must fail;
* **Adam with** :math:`\epsilon=1` (the cycle needs :math:`\epsilon=0`, i.e.
  :math:`\epsilon\ll\sqrt{\hat v}`), :math:`\beta_1=0`, :math:`\beta_2=0.999`, from
  :math:`\eta/2`: the step becomes about :math:`\eta g`, Adam converges, and the cycle check
  (tail mean of :math:`|w|` within 2% of :math:`\eta/2`) must fail.

The controls run the same loops as the claim's runs (``reddi_run``, the runner), with
``CONTROL_T`` = 3000 and the cycle part's ``cycle_steps``.

**Statistics.** The claim is deterministic: the online losses, the starts and the methods have
no randomness (``seed`` is not used), and every checked number is an exact function of the
run, reproduced bit for bit; one run per setting therefore suffices.

**History.** Version 1 (the rule before the protocol): the same checks, no control. It is still
evaluated on every run (``earlier_rules``) and gives PASS on this code. Version 2 adds the
three controls.
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
from experiments.protocol import Condition, Rule, decide
from experiments.protocol import verdict as protocol_verdict
from experiments.registry import register
from experiments.runner import run as run_trace
from experiments.trace import Trace, load_traces, save_traces
from theorems import REDDI_CONVERGENCE

CLAIM = ("Adam fails on simple convex problems: on Reddi et al.'s online problem Adam ends at "
         "+1 (non-vanishing average regret) while AMSGrad goes to the minimiser -1; on w^2 "
         "Adam (beta1=0, eps=0) settles on the cycle |w|=eta/2 while SGD and heavy ball "
         "converge.")
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
CONTROL_T = 3000         # AMSGrad with a constant step: steps (both budgets)
CONTROL_SGD_STEP = 1.0   # SGD on w^2 at 2/L (L = 2): outside (0, 2/L)
CONTROL_EPS = 1.0        # Adam on w^2 with eps = 1: outside the cycle's eps = 0


def _conditions(rows, role: str = "claim") -> tuple:
    """``Condition(key, text, op, threshold, role)`` for each row ``(key, op, threshold, text)``."""
    return tuple(Condition(key, text, op, thr, role=role) for key, op, thr, text in rows)


_TAIL = "|tail mean |w| / (eta/2) - 1|"
_CLAIM_CONDITIONS = _conditions((
    ("theorem_adam_x_final", ">=", 1.0 - X_TOL, f"Theorem 1: Adam's final x >= 1 - {X_TOL:g}"),
    ("theorem_amsgrad_x_final", "<=", -1.0 + X_TOL,
     f"Theorem 1: AMSGrad's final x <= -1 + {X_TOL:g}"),
    ("theorem_adam_regret_over_plus_one", ">=", REGRET_KEEP,
     f"Theorem 1: Adam's R_T/T / (2 slope) >= {REGRET_KEEP:g} (the rate of playing +1)"),
    ("theorem_adam_regret_over_tenth", ">=", REGRET_KEEP,
     f"Theorem 1: Adam's R_T/T / (R_(T/10)/(T/10)) >= {REGRET_KEEP:g} (not decaying)"),
    ("theorem_amsgrad_regret_over_tenth", "<=", REGRET_DECAY,
     f"Theorem 1: AMSGrad's R_T/T / (R_(T/10)/(T/10)) <= {REGRET_DECAY:g} (decaying)"),
    ("theorem_amsgrad_regret_over_plus_one", "<=", REGRET_SMALL,
     f"Theorem 1: AMSGrad's R_T/T / (2 slope) <= {REGRET_SMALL:g}"),
    ("synthetic_adam_x_final", ">=", 1.0 - X_TOL, f"synthetic: Adam's final x >= 1 - {X_TOL:g}"),
    ("synthetic_amsgrad_x_final", "<", 0.0, "synthetic: AMSGrad's final x < 0"),
    ("synthetic_amsgrad_drift_error", "<=", DRIFT_TOL,
     f"synthetic: |AMSGrad's descent over [T/2, T] / the model's - 1| <= {DRIFT_TOL:g}"),
    ("cycle_adam_error", "<=", CYCLE_TOL,
     f"limit cycle, Adam (beta2={BETA2_CYCLE[0]:g}, w0=eta/2): {_TAIL} <= {CYCLE_TOL:g}"),
    ("cycle_adam_far_error", "<=", CYCLE_TOL,
     f"limit cycle, Adam (beta2={BETA2_CYCLE[1]:g}, w0={W0_FAR:g}): {_TAIL} <= {CYCLE_TOL:g}"),
    ("cycle_sgd_final", "<=", CONVERGED, f"limit cycle, SGD: |w_T| <= {CONVERGED:g}"),
    ("cycle_hb_final", "<=", CONVERGED, f"limit cycle, heavy ball: |w_T| <= {CONVERGED:g}"),
))
_CONTROL_CONDITIONS = _conditions((
    ("control_amsgrad_constant_x_final", ">", -1.0 + X_TOL,
     f"control, AMSGrad with a constant step (Theorem 1's setting): final x > -1 + "
     f"{X_TOL:g} (does not reach -1)"),
    ("control_amsgrad_constant_regret_over_tenth", ">", REGRET_DECAY,
     f"control, AMSGrad with a constant step: R_T/T / (R_(T/10)/(T/10)) > {REGRET_DECAY:g} "
     f"(not decaying)"),
    ("control_sgd_2_over_L_final", ">", CONVERGED,
     f"control, SGD with the step 2/L on w^2: |w_T| > {CONVERGED:g} (does not converge)"),
    ("control_adam_eps1_error", ">", CYCLE_TOL,
     f"control, Adam with eps = 1 on w^2: {_TAIL} > {CYCLE_TOL:g} (no cycle)"),
), role="control")
RULES = (
    Rule(1, _CLAIM_CONDITIONS),
    Rule(2, _CLAIM_CONDITIONS + _CONTROL_CONDITIONS,
         note="adds three controls outside the hypotheses: AMSGrad without its decreasing "
              "step, SGD at 2/L, Adam with eps = 1"),
)
BOUND = RULES[-1].text


# ----------------------------------------------------------------------------- part A
def regret_curve(problem, xs) -> np.ndarray:
    r""":math:`R_t=\sum_{s\le t}c_sx_s+|\sum_{s\le t}c_s|` for every :math:`t` (the minimum of
    the linear :math:`(\sum c)x` over :math:`[-1,1]` is :math:`-|\sum c|`): the curve whose last
    value is ``problem.regret(xs)``."""
    xs = np.asarray(xs, dtype=float)
    c = np.array([problem.coefficient(t) for t in range(1, xs.size + 1)])
    return np.cumsum(c * xs) + np.abs(np.cumsum(c))


def reddi_run(problem, cls, *, T: int, alpha: float, betas, label: str,
              constant: bool = False, **meta) -> Trace:
    r"""``cls`` (Adam or AMSGrad) played online on ``problem`` for ``T`` steps with
    :math:`\alpha_t=\alpha/\sqrt t` (``constant``: :math:`\alpha_t=\alpha`, the control) and the
    projection onto :math:`[-1,1]` after each step. Columns: ``k`` (= :math:`t`), ``x``
    (:math:`x_t`, the point played at step :math:`t`), ``regret`` (:math:`R_t`), ``lr``."""
    x = problem.start()
    lr = alpha if constant else (lambda k: alpha / math.sqrt(k + 1))   # k counts from 0
    opt = cls([x], lr=lr, betas=betas)
    xs = np.empty(T)
    for t in range(1, T + 1):
        xs[t - 1] = float(x.data[0])            # x_t is played
        x.grad = problem.grad_at(t, x.data)     # grad f_t(x_t)
        opt.step()
        x.data[...] = problem.project(x.data)   # x_{t+1} = Pi_[-1, 1](x_t - ...)
    k = np.arange(1, T + 1, dtype=float)
    alpha_t = np.full(T, alpha) if constant else alpha / np.sqrt(k)
    cols = dict(k=k, x=xs, regret=regret_curve(problem, xs), lr=alpha_t)
    return Trace(label, cols, dict(method=cls.__name__, alpha=alpha, betas=list(betas),
                                   C=problem.C, period=problem.period, small=problem.small,
                                   slope=problem.slope, T=T, constant=constant, **meta))


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


def control_reddi_runs() -> list:
    r"""The control of part A: AMSGrad in Theorem 1's setting with the constant step
    :math:`\alpha_t=\alpha` (outside the convergence theorem's :math:`\alpha/\sqrt t`)."""
    return [reddi_run(P.ReddiOnline(C=C_THM), optimizers.AMSGrad, T=CONTROL_T,
                      alpha=ALPHA_THM, betas=(0.0, BETA2_THM), constant=True,
                      setting="theorem", control=True,
                      label=f"control: AMSGrad, constant step {ALPHA_THM:.3f}, Theorem 1")]


# ----------------------------------------------------------------------------- part B
def start_at(problem, w0: float):
    """A copy of ``problem`` whose start ``x0`` is ``w0`` (same objective, same backend)."""
    q = copy.copy(problem)
    q.x0 = mg.backend.asarray([w0], dtype=problem.dtype, backend=problem.backend)
    return q


def _adam(lr: float, beta2: float, eps: float):
    """Adam with :math:`\\beta_1=0` (the cycle's method), as a factory of the runner."""
    return lambda ps: optimizers.Adam(ps, lr=lr, betas=(0.0, beta2), eps=eps)


def _cycle_trace(prob, make, *, steps: int, label: str, **meta) -> Trace:
    """One run on ``prob`` through the runner; ``meta`` (``run``, ``method``, ``eta``, ...) and
    the start :math:`w_0` kept with the trace."""
    w0 = float(mg.backend.to_numpy(prob.x0)[0])
    tr = run_trace(prob, make, steps=steps, label=f"{label}, w0={fmt(w0)}")
    tr.meta.update(w0=w0, **meta)
    return tr


def cycle_runs(*, steps: int, eta: float = ETA, eps: float = EPS_ZERO) -> list:
    """Adam (beta1 = 0, eps) from eta/2 and from W0_FAR, SGD and the heavy ball from eta/2, all
    with the step eta, on ``AdamLimitCycle(eta)``."""
    p = P.AdamLimitCycle(eta)
    b2, b2_far = BETA2_CYCLE
    adam = f"eps={'0' if eps == EPS_ZERO else fmt(eps)}"
    return [
        _cycle_trace(p, _adam(eta, b2, eps), steps=steps, run="adam", method="Adam", eta=eta,
                     beta2=b2, eps=eps, label=f"Adam, beta1=0, beta2={b2:g}, {adam}"),
        _cycle_trace(start_at(p, W0_FAR), _adam(eta, b2_far, eps), steps=steps,
                     run="adam_far", method="Adam", eta=eta, beta2=b2_far, eps=eps,
                     label=f"Adam, beta1=0, beta2={b2_far:g}, {adam}"),
        _cycle_trace(p, lambda ps: optimizers.SGD(ps, lr=eta), steps=steps, run="sgd",
                     method="SGD", eta=eta, beta2=None, eps=eps, label="SGD"),
        _cycle_trace(p, lambda ps: optimizers.Momentum(ps, lr=eta, momentum=HB_MOMENTUM),
                     steps=steps, run="hb", method="HB", eta=eta, beta2=None, eps=eps,
                     label=f"heavy ball, beta={HB_MOMENTUM:g}"),
    ]


def control_cycle_runs(*, steps: int, eta: float = ETA) -> list:
    """The controls of part B, on ``AdamLimitCycle(eta)`` from eta/2: SGD with the step
    ``CONTROL_SGD_STEP`` = 2/L, and Adam (beta1 = 0, beta2 = BETA2_CYCLE[0]) with
    eps = ``CONTROL_EPS``."""
    p = P.AdamLimitCycle(eta)
    b2 = BETA2_CYCLE[0]
    return [
        _cycle_trace(p, lambda ps: optimizers.SGD(ps, lr=CONTROL_SGD_STEP), steps=steps,
                     run="sgd_2_over_L", method="SGD", eta=eta, beta2=None, control=True,
                     label=f"control: SGD, step 2/L = {CONTROL_SGD_STEP:g}"),
        _cycle_trace(p, _adam(eta, b2, CONTROL_EPS), steps=steps, run="adam_eps1",
                     method="Adam", eta=eta, beta2=b2, eps=CONTROL_EPS, control=True,
                     label=f"control: Adam, beta1=0, beta2={b2:g}, eps={CONTROL_EPS:g}"),
    ]


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


def _reddi_numbers(t, drift: bool = False) -> dict:
    """Final x (last period and the period ending at T/2), R_T/T, R_(T/10)/(T/10), the rate
    2 slope of playing +1, and (``drift``) the model's descent over [T/2, T]."""
    p = int(t.meta["period"])
    half = np.asarray(t["x"])[:len(t) // 2]
    return dict(x_final=_last_period_mean(t), x_half=float(np.mean(half[-p:])),
                avg_regret=_avg_regret(t), avg_regret_tenth=_avg_regret(t, 0.1),
                plus_one_rate=2.0 * float(t.meta["slope"]), T=len(t),
                drift_model=amsgrad_drift(t.meta, len(t) // 2, len(t)) if drift else None)


def _cycle_numbers(t) -> dict:
    """Tail mean of :math:`|w_k|` (second half) and :math:`|w_T|` of a run on :math:`w^2`."""
    w = np.sqrt(np.asarray(t["dist2"]))               # |w_k| (w* = 0)
    return dict(label=t.label, run=t.meta["run"], method=t.meta["method"], eta=t.meta["eta"],
                tail_mean=float(np.mean(w[len(w) // 2:])), final=float(w[-1]),
                w0=t.meta["w0"])


def analyse(reddi, cycle, control_reddi, control_cycle) -> dict:
    """Every number the verdict needs, from the saved traces (claim runs and controls)."""
    by = {(t.meta["setting"], t.meta["method"]): t for t in reddi}
    a = {f"{s}_{m}": _reddi_numbers(by[(s, m)], drift=(s, m) == ("synthetic", "AMSGrad"))
         for s in ("theorem", "synthetic") for m in ("Adam", "AMSGrad")}
    a["control_theorem_AMSGrad"] = _reddi_numbers(control_reddi[0])
    a["cycle"] = [_cycle_numbers(t) for t in cycle]
    a["control_cycle"] = [_cycle_numbers(t) for t in control_cycle]
    return a


def cycle_error(c) -> float:
    r""":math:`|\overline{|w|}_{\rm tail}/(\eta/2)-1|`: the distance of a run to the cycle."""
    return abs(c["tail_mean"] / (c["eta"] / 2) - 1)


def measurements(a) -> dict:
    """The numbers :data:`RULES` apply, one per condition key."""
    ta, tm = a["theorem_Adam"], a["theorem_AMSGrad"]
    sa, sm = a["synthetic_Adam"], a["synthetic_AMSGrad"]
    ctl = a["control_theorem_AMSGrad"]
    cyc = {c["run"]: c for c in a["cycle"] + a["control_cycle"]}
    return {
        "theorem_adam_x_final": ta["x_final"],
        "theorem_amsgrad_x_final": tm["x_final"],
        "theorem_adam_regret_over_plus_one": ta["avg_regret"] / ta["plus_one_rate"],
        "theorem_adam_regret_over_tenth": ta["avg_regret"] / ta["avg_regret_tenth"],
        "theorem_amsgrad_regret_over_tenth": tm["avg_regret"] / tm["avg_regret_tenth"],
        "theorem_amsgrad_regret_over_plus_one": tm["avg_regret"] / tm["plus_one_rate"],
        "synthetic_adam_x_final": sa["x_final"],
        "synthetic_amsgrad_x_final": sm["x_final"],
        "synthetic_amsgrad_drift_error":
            abs((sm["x_half"] - sm["x_final"]) / sm["drift_model"] - 1),
        "cycle_adam_error": cycle_error(cyc["adam"]),
        "cycle_adam_far_error": cycle_error(cyc["adam_far"]),
        "cycle_sgd_final": cyc["sgd"]["final"],
        "cycle_hb_final": cyc["hb"]["final"],
        "control_amsgrad_constant_x_final": ctl["x_final"],
        "control_amsgrad_constant_regret_over_tenth":
            ctl["avg_regret"] / ctl["avg_regret_tenth"],
        "control_sgd_2_over_L_final": cyc["sgd_2_over_L"]["final"],
        "control_adam_eps1_error": cycle_error(cyc["adam_eps1"]),
    }


def checks(a) -> dict:
    """Each condition of the rule in force by key: True when it holds."""
    return {c["key"]: c["passed"] for c in decide(RULES, measurements(a))["checks"]}


def _cycle_text(c) -> str:
    if c["method"] == "Adam":
        r = c["tail_mean"] / (c["eta"] / 2)
        return f"{c['label']}: tail mean |w| = {f'{r:.4f}' if r > 1e-3 else fmt(r)} eta/2"
    return f"{c['label']}: |w_T| = {fmt(c['final'])}"


def verdict(a) -> dict:
    """The verdict of :data:`RULES` on the numbers of :func:`analyse`."""
    values = measurements(a)
    ta, tm = a["theorem_Adam"], a["theorem_AMSGrad"]
    sa, sm = a["synthetic_Adam"], a["synthetic_AMSGrad"]
    ctl = a["control_theorem_AMSGrad"]
    measured = (
        f"Theorem 1 (C=3, T={ta['T']}): final x Adam {ta['x_final']:+.4f}, AMSGrad "
        f"{tm['x_final']:+.4f}; R_T/T Adam {ta['avg_regret']:.4f} (at T/10 "
        f"{ta['avg_regret_tenth']:.4f}; playing +1: {ta['plus_one_rate']:.4f}), AMSGrad "
        f"{fmt(tm['avg_regret'])} (at T/10 {fmt(tm['avg_regret_tenth'])}). Synthetic (C=1010, "
        f"p=101, T={sa['T']}): final x Adam {sa['x_final']:+.4f}, AMSGrad {sm['x_final']:+.4f} "
        f"(at T/2 {sm['x_half']:+.4f}: descent {sm['x_half'] - sm['x_final']:.4f}, model "
        f"{sm['drift_model']:.4f}); R_T/T Adam {sa['avg_regret']:.4f}, AMSGrad "
        f"{sm['avg_regret']:.4f} (playing +1: {sa['plus_one_rate']:.4f}). Limit cycle "
        f"(eta={a['cycle'][0]['eta']:g}): {'; '.join(map(_cycle_text, a['cycle']))}. "
        f"Controls: AMSGrad with the constant step {ALPHA_THM:.3f} (Theorem 1, T={ctl['T']}): "
        f"final x {ctl['x_final']:+.4f}, R_T/T {fmt(ctl['avg_regret'])} (at T/10 "
        f"{fmt(ctl['avg_regret_tenth'])}, ratio "
        f"{values['control_amsgrad_constant_regret_over_tenth']:.3f}); "
        + "; ".join(map(_cycle_text, a["control_cycle"])))
    cyc = {c["run"]: c for c in a["cycle"] + a["control_cycle"]}
    summary = (f"Adam x_T {ta['x_final']:+.3f} vs AMSGrad {tm['x_final']:+.3f} (Thm 1), "
               f"{sa['x_final']:+.3f} vs {sm['x_final']:+.3f} (synthetic); Adam |w| tail "
               f"{cyc['adam']['tail_mean'] / (cyc['adam']['eta'] / 2):.4f} eta/2, SGD/HB "
               f"{fmt(cyc['sgd']['final'])}/{fmt(cyc['hb']['final'])}; controls: AMSGrad with "
               f"a constant step x_T {ctl['x_final']:+.3f}, SGD at 2/L |w_T| "
               f"{fmt(cyc['sgd_2_over_L']['final'])}, Adam eps=1 |w| tail "
               f"{fmt(cyc['adam_eps1']['tail_mean'])}")
    numbers = {k: v for k, v in a.items() if k not in ("cycle", "control_cycle")}
    return protocol_verdict(RULES, values, claim=CLAIM, measured=measured, figure=FIGURE,
                            summary=summary, numbers=numbers, cycle=a["cycle"],
                            control_cycle=a["control_cycle"])


# ----------------------------------------------------------------------------- figure
def _pos(y):
    """NaN where ``y`` is not positive (for log axes)."""
    y = np.asarray(y, dtype=float)
    return np.where(y > 0, y, np.nan)


STEMS = ("reddi", "cycle", "control_reddi", "control_cycle")


def _fresh(out_dir, stem):
    for old in pathlib.Path(out_dir).glob(f"{stem}_*.npz"):
        old.unlink()


def load(out_dir):
    """``(reddi, cycle, control_reddi, control_cycle)``: the saved traces, the arguments of
    :func:`analyse`."""
    return tuple(load_traces(out_dir, stem=stem) for stem in STEMS)


def draw(out_dir) -> pathlib.Path:
    """Four panels from the saved traces only (controls in grey)."""
    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    reddi, cycle, control_reddi, control_cycle = load(out_dir)
    a = analyse(reddi, cycle, control_reddi, control_cycle)
    fig, axes = plot.subplots(2, 2, width=5.6, height=3.8,
                              title="Adam's failures: Reddi et al.'s counterexample and the "
                                    "limit cycle on w^2")
    colors = {"Adam": plot.COLORS[3], "AMSGrad": plot.COLORS[0]}
    grey = dict(color="0.55", lw=0.9)
    thm = [t for t in reddi if t.meta["setting"] == "theorem"]
    syn = [t for t in reddi if t.meta["setting"] == "synthetic"]

    ax = axes[0]
    for t in thm:
        ax.semilogx(t["k"], t["x"], color=colors[t.meta["method"]], lw=1.0,
                    label=f"{t.meta['method']}: final x {_last_period_mean(t):+.3f}")
    for t in control_reddi:
        ax.semilogx(t["k"], t["x"], ls=":", label=f"{t.label}: final x "
                    f"{_last_period_mean(t):+.3f}", **grey)
    ax.axhline(-1.0, color="k", ls="--", lw=0.8, label="x* = -1")
    ax.set_ylim(-1.1, 1.1)
    ax.set_xlabel("step t")
    ax.set_ylabel("x_t")
    ax.set_title(f"Theorem 1: C=3, beta1=0, beta2=1/(1+C^2), alpha_t={ALPHA_THM:.3f}/sqrt(t)",
                 fontsize=8.5)
    ax.legend(fontsize=6.5)
    held = checks(a)
    plot.decisive(ax, label=f"conditions failed (of {len(held)})",
                  value=sum(not v for v in held.values()), threshold=0, loc="lower left")

    ax = axes[1]
    for t in thm + syn:
        k = np.asarray(t["k"])
        style = "-" if t.meta["setting"] == "theorem" else ":"
        ax.loglog(k, _pos(np.asarray(t["regret"]) / k), style,
                  color=colors[t.meta["method"]], lw=1.2,
                  label=f"{t.label}: R_T/T = {fmt(_avg_regret(t))}")
    for t in control_reddi:
        k = np.asarray(t["k"])
        ax.loglog(k, _pos(np.asarray(t["regret"]) / k), ls="-.",
                  label=f"{t.label}: R_T/T = {fmt(_avg_regret(t))}", **grey)
    ax.axhline(2 * thm[0].meta["slope"], color="k", ls="--", lw=0.8,
               label=f"playing +1, Theorem 1: {2 * thm[0].meta['slope']:.3f}")
    ax.axhline(2 * syn[0].meta["slope"], color="grey", ls="--", lw=0.8,
               label=f"playing +1, synthetic: {2 * syn[0].meta['slope']:.3f}")
    ax.set_ylim(1e-3, 1e7)
    ax.set_xlabel("step T")
    ax.set_ylabel("average regret R_T / T")
    ax.set_title("Average regret: Adam's stays up, AMSGrad's goes to 0", fontsize=8.5)
    ax.legend(fontsize=6, loc="upper right")

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
        ax.semilogy(t["k"], _pos(np.sqrt(np.asarray(t["dist2"]))), styles[c["method"]],
                    color=plot.COLORS[i], lw=1.3, label=_cycle_text(c))
    for t, c, ls in zip(control_cycle, a["control_cycle"], ("--", ":")):
        ax.semilogy(t["k"], _pos(np.sqrt(np.asarray(t["dist2"]))), ls=ls,
                    label=_cycle_text(c), **grey)
    eta = a["cycle"][0]["eta"]
    ax.axhline(eta / 2, color="k", ls=":", lw=1.0, label=f"eta/2 = {eta / 2:g}")
    ax.set_ylim(1e-14, 1e14)
    ax.set_xlabel("iteration k")
    ax.set_ylabel("|w_k|")
    ax.set_title(f"L(w) = w^2, step eta = {eta:g}: Adam cycles, SGD and heavy ball converge",
                 fontsize=8.5)
    ax.legend(fontsize=5.4, loc="upper right")
    return plot.save(fig, out_dir / FIGURE, dpi=100)


# ----------------------------------------------------------------------------- experiment
@register("adam-failures", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    """Both parts and the controls (deterministic: ``seed`` is not used, nothing is random);
    save, draw, judge from the saved traces."""
    out_dir = pathlib.Path(out_dir)
    budget = QUICK if quick else FULL
    for stem in STEMS:
        _fresh(out_dir, stem)
    save_traces(reddi_runs(quick=quick), out_dir, stem="reddi")
    save_traces(cycle_runs(steps=budget["cycle_steps"]), out_dir, stem="cycle")
    save_traces(control_reddi_runs(), out_dir, stem="control_reddi")
    save_traces(control_cycle_runs(steps=budget["cycle_steps"]), out_dir, stem="control_cycle")
    draw(out_dir)
    out = verdict(analyse(*load(out_dir)))
    out.update(budget=budget, seed_used=False)
    return out
