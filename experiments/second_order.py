r"""Second-order methods: Newton's quadratic convergence, BFGS's superlinear convergence, the
memory of L-BFGS, and GD against Newton, BFGS and L-BFGS (L1: Newton; L0: BFGS, L-BFGS;
docs/lectures.md sections 4 and 5).

Claims checked on two problems, the strongly convex logistic regression of the lectures
(``LogisticRegression(m=500, dim=50, mu=1e-3)``, start :math:`x_0=0`; ``dim=50`` so that a memory
of 30 pairs is still less than the dimension) and the 2-D Rosenbrock function from the classic
start :math:`(-1.2, 1)`; the error is :math:`e_k=\|x_k-x^*\|_2`.

* **Newton** :math:`x_{k+1}=x_k-\alpha_k[\nabla^2f(x_k)]^{-1}\nabla f(x_k)` (``minimize_newton``,
  damped by Armijo backtracking from :math:`\alpha=1`) converges quadratically once the unit step
  is accepted, :math:`e_{k+1}\le\frac{M}{2\mu}e_k^2` (:math:`M`: Lipschitz constant of the
  Hessian, :math:`\mu=\lambda_{\min}(\nabla^2f(x^*))`): the ratio :math:`r_k=e_{k+1}/e_k^2` stays
  bounded while :math:`e_k\to0`.
* **BFGS** (``bfgs``, :math:`H_0=I`, strong Wolfe search) converges superlinearly:
  :math:`q_k=e_{k+1}/e_k\to0`.
* **L-BFGS** (``lbfgs``) with memory :math:`m`: more pairs, a better model of the inverse
  Hessian, fewer iterations (:math:`m=1,3,10,30`).
* All three need far fewer iterations than **GD** :math:`x_{k+1}=x_k-\frac1L\nabla f(x_k)`
  (step :math:`1/L` with the problem's :math:`L=\mu+\|A\|_2^2/(4m)` for the logistic regression;
  :math:`1/L^*`, :math:`L^*=\lambda_{\max}(\nabla^2f(x^*))\approx1001.6`, on Rosenbrock, which is
  not globally smooth).

Set-up. Every method records its whole path through ``minimize``'s ``callback`` (GD through
an inline loop over ``optimizers.SGD`` with the full gradient and the same recorder, so that all
methods share one measurement): the error, :math:`f`, the cumulative counts of value+gradient
calls, value-only calls and Hessians (a counting wrapper around :math:`f`; a Hessian of the
engine is one recorded call of :math:`f` and :math:`n` reverse passes) and the wall-clock time
(measurement excluded). Stopping: Newton :math:`\|\nabla f\|_2\le10^{-10}`, BFGS and L-BFGS
:math:`\|\nabla f\|_\infty\le10^{-10}` (or a failed line search at the rounding level; their
relative-decrease stop is off, ``ftol=0``: at its default :math:`10^{-12}` it ends L-BFGS at about
the target's level of :math:`f`, before :math:`e_k\le10^{-6}e_0` on some data sets), GD
:math:`e_k\le10^{-6}e_0` or its budget. :math:`x^*`: Rosenbrock's :math:`(1,1)`; for the logistic
regression the problem's :math:`x^*` (Newton, :math:`\|\nabla f\|\le10^{-12}`) refined by two pure
Newton steps, so that it is exact to rounding (:math:`\approx10^{-15}`). Errors below the floor
:math:`10^{-12}\max(1,\|x^*\|)` are rounding and are left out of every ratio.

**The rule in force** (version 2, :data:`RULES`; PASS when every condition holds):

1. *Newton is quadratic* on both problems: in the local phase (the final run of iterations where
   the unit step was accepted, with :math:`e_{k+1}` above the floor) there are at least 3 pairs,
   the errors span at least 4 decades, and :math:`\max r_k/\min r_k\le100` (a linear rate
   :math:`q` would give :math:`r_k=q/e_k`, growing by :math:`10^4` or more over 4 decades; an
   order :math:`p<2` by :math:`10^{4(2-p)}`). The bound :math:`\frac M{2\mu}` itself is not
   applied (on Rosenbrock no global :math:`M,\mu` exist); the flat ratio is what the bound
   implies and what a lower order cannot give;
2. *BFGS is superlinear* on Rosenbrock: the last 3 ratios :math:`q_k` above the floor are all below
   0.1 (``theorems.BFGS_SUPERLINEAR``'s criterion; a linear rate keeps them near its
   :math:`q`). On the 50-D logistic regression the ratios are reported only: BFGS reaches the
   rounding floor before its asymptotic regime, see the docs;
3. *L-BFGS's memory*: the mean, over ``S`` logistic-regression data sets, of the iterations to
   :math:`e_k\le10^{-6}e_0` does not increase from :math:`m=1` to 3 to 10 to 30 (the largest
   increase between neighbours is at most 0), and is smaller at :math:`m=30` than at
   :math:`m=1`; the fraction of data sets on which each step of the order holds is reported;
4. *far fewer iterations than GD*: on both problems Newton, BFGS and L-BFGS (:math:`m=10`) each
   reach :math:`e_k\le10^{-6}e_0` in at most a tenth of GD's iterations (when GD does not get there
   within its budget its count is the budget, a lower bound: the ratio is then an upper bound);
   a second-order method that misses the target counts as :math:`\infty`;
5. *the controls* (same run), each required to violate the claim's bound:

   * **half of Newton's step**, :math:`x_{k+1}=x_k-\frac12[\nabla^2f(x_k)]^{-1}\nabla f(x_k)`
     (``theorems.broken.HalfNewton``, a broken update with a linear rate :math:`\frac12`), on the
     logistic regression from :math:`x_0=0` for ``CONTROL_NEWTON_STEPS`` = 20 steps: the check
     of condition 1, applied to its pairs above the floor (its step is the same, 1/2, at every
     iteration, so its whole run is its "local phase"), must give a spread above 100 (a linear
     rate :math:`q` gives :math:`r_k=q/e_k`: a spread of :math:`10^4` over 4 decades);
   * **BFGS without its curvature update** (:math:`H_k=H_0=I` at every iteration, the same
     strong Wolfe search: steepest descent with a line search, what L-BFGS with memory 0 would
     be) on Rosenbrock from :math:`(-1.2,1)` for :math:`\lfloor B_{GD}/10\rfloor+1` iterations
     (:math:`B_{GD}` GD's budget there: 201, full 2001), so that missing the target within its
     budget means more than a tenth of GD's budget. Two checks of the claim must fail on it:
     condition 2's (the largest of its last 3 ratios :math:`q_k` is at least 0.1) and condition
     4's (its iterations to :math:`10^{-6}e_0`, :math:`\infty` when it misses the target, over
     GD's iterations exceed 1/10).

   Condition 3 has no control: the memory order is an empirical trend of L-BFGS, not a theorem
   with hypotheses that a setting could leave.

**Statistics.** The claim is deterministic: the methods have no randomness, the start is fixed,
and every checked number is an exact function of one run (errors, accepted steps, iteration
counts), reproduced bit for bit by the same seed. The ``S`` data sets of the memory check (3
with ``--quick``, 10 in the full budget) are instances of the problem class, not noise; the
check is on their mean, and the fraction of data sets that follow the order is reported.

**History.** Version 1 (the rule before the protocol): conditions 1 to 4, no control. It is
still evaluated on every run (``earlier_rules``) and gives PASS on this code. Version 2 adds the
two control runs and their three conditions.
"""
from __future__ import annotations

import json
import math
import pathlib

import numpy as np

import minigrad as mg
import optimizers
import problems as P
from experiments.common import fmt
from experiments.protocol import Condition, Rule, verdict as protocol_verdict
from experiments.registry import register
from experiments.runner import CallRecorder
from experiments.trace import Trace, load_traces, save_traces
from optimizers.objective import Objective
from optimizers.minimize import minimize
from optimizers.second_order.bfgs import InverseBFGS, quasi_newton
from theorems import BFGS_SUPERLINEAR
from theorems.broken import HalfNewton

CLAIM = ("Newton converges quadratically (e_{k+1}/e_k^2 bounded; logistic regression, "
         "Rosenbrock), BFGS superlinearly on Rosenbrock (e_{k+1}/e_k -> 0; logistic regression "
         "reported, not checked), L-BFGS needs fewer iterations with more memory (m = 1, 3, 10, "
         "30; logistic regression), and Newton, BFGS and L-BFGS need far fewer iterations than GD "
         "(logistic regression, Rosenbrock)")
FIGURE = "second_order.png"
LOGREG = {"m": 500, "dim": 50, "mu": 1e-3}   # the logistic regression (data seed: CLI seed)
#: --size large: the same claim on a logistic regression where a GPU pays off (10^6 x 10^3)
LOGREG_LARGE = {"m": 10**6, "dim": 10**3, "mu": 1e-3}
TOL = 1e-6             # target: e_k <= TOL * e_0
FLOOR = 1e-12          # errors below FLOOR * max(1, ||x*||) are rounding
GTOL = 1e-10           # stopping tolerance of Newton, BFGS, L-BFGS
MEMORIES = (1, 3, 10, 30)
QUICK = {"seeds": 3, "gd_logreg": 3000, "gd_rosen": 2000}    # memory data sets; GD budgets
FULL = {"seeds": 10, "gd_logreg": 10000, "gd_rosen": 20000}
LARGE = {"seeds": 1, "gd_logreg": 3000, "gd_rosen": 2000}  # --size large
NEWTON_SPREAD = 100.0  # max r_k / min r_k allowed in Newton's local phase
NEWTON_DECADES = 4.0   # the local phase must span this many decades of error
SUPERLINEAR = BFGS_SUPERLINEAR.threshold  # BFGS: the last 3 ratios e_{k+1}/e_k below this
GD_FACTOR = 10.0       # "far fewer": at most GD's iterations / GD_FACTOR
CONTROL_NEWTON_STEPS = 20   # half-Newton control: iterations (6 decades at rate 1/2)
STEMS = ("logreg", "rosen", "memory", "control")


def _claim_conditions() -> tuple:
    """Conditions 1 to 4 of the module docstring (both versions of the rule)."""
    out = []
    for stem, name in (("logreg", "logistic regression"), ("rosen", "Rosenbrock")):
        out += [Condition(f"newton_pairs_{stem}", f"Newton, {name}: unit-step pairs above the "
                          f"floor in the local phase >= 3", ">=", 3),
                Condition(f"newton_decades_{stem}", f"Newton, {name}: the local phase spans >= "
                          f"{NEWTON_DECADES:g} decades of error", ">=", NEWTON_DECADES),
                Condition(f"newton_spread_{stem}", f"Newton, {name}: max r_k / min r_k <= "
                          f"{NEWTON_SPREAD:g}, r_k = e_(k+1)/e_k^2 in the local phase", "<=",
                          NEWTON_SPREAD)]
    out += [Condition("bfgs_last3_max_rosen", f"BFGS, Rosenbrock: the largest of the last 3 "
                      f"e_(k+1)/e_k above the floor < {SUPERLINEAR:g} (not met with fewer than 3)",
                      "<", SUPERLINEAR),
            Condition("lbfgs_mean_max_increase", "L-BFGS: mean iterations to 1e-6 e_0 over the "
                      "data sets non-increasing in m = 1, 3, 10, 30 (largest increase between "
                      "neighbours <= 0)", "<=", 0.0),
            Condition("lbfgs_mean_30_minus_1", "L-BFGS: mean iterations at m = 30 minus at "
                      "m = 1 < 0", "<", 0.0)]
    for stem, name in (("logreg", "logistic regression"), ("rosen", "Rosenbrock")):
        out.append(Condition(f"iters_over_gd_{stem}", f"{name}: max over Newton, BFGS, L-BFGS "
                             f"(m=10) of iterations to 1e-6 e_0 / GD's <= 1/{GD_FACTOR:g}", "<=",
                             1.0 / GD_FACTOR))
    return tuple(out)


RULES = (
    Rule(1, _claim_conditions()),
    Rule(2, _claim_conditions() + (
        Condition("control_half_newton_spread", f"control, half of Newton's step on the "
                  f"logistic regression: max r_k / min r_k over its pairs above the floor > "
                  f"{NEWTON_SPREAD:g} (not quadratic)", ">", NEWTON_SPREAD, role="control"),
        Condition("control_frozen_bfgs_last3_max", f"control, BFGS without its curvature "
                  f"update (H_k = I) on Rosenbrock: the largest of its last 3 e_(k+1)/e_k >= "
                  f"{SUPERLINEAR:g} (not superlinear)", ">=", SUPERLINEAR, role="control"),
        Condition("control_frozen_bfgs_iters_over_gd", f"control, BFGS without its curvature "
                  f"update on Rosenbrock: iterations to 1e-6 e_0 (inf if missed) / GD's > "
                  f"1/{GD_FACTOR:g} (not far fewer)", ">", 1.0 / GD_FACTOR, role="control")),
         note="adds controls outside the theorems' hypotheses: a broken Newton update and "
              "BFGS without curvature information"),
)
BOUND = RULES[-1].text


# ----------------------------------------------------------------------------- problems
def logistic(seed: int, config: dict = LOGREG):
    """The logistic regression of the experiment with data seed ``seed`` (sizes ``config``)."""
    return P.LogisticRegression(seed=seed, **config)


def exact_minimiser(problem):
    """:math:`x^*` as a host array, exact to rounding: the problem's own, refined by two pure
    Newton steps (quadratic convergence doubles its correct digits)."""
    res = minimize(problem.f, problem.x_star, method="newton", line_search=None, gtol=0.0,
                   maxiter=2)
    return mg.to_numpy(res.x).astype(float)


# ----------------------------------------------------------------------------- recording
class Recorder(CallRecorder):
    r"""Counts the calls of the objective and records the path of one run
    (:class:`~experiments.runner.CallRecorder`): at each iterate :math:`f(x_k)` and
    :math:`\|x_k-x^*\|^2`."""

    def __init__(self, problem, x_star, label: str, **meta):
        super().__init__(problem)
        self.label, self.meta = label, meta
        self.x_star = np.asarray(x_star, dtype=float).reshape(-1)
        self.cols = {c: [] for c in ("k", "f", "dist2", "n_fg", "n_fonly", "time")}

    def record(self, x, first: bool) -> None:
        xh = mg.to_numpy(x.data if isinstance(x, mg.Tensor) else x).astype(float).reshape(-1)
        c = self.cols
        c["k"].append(len(c["k"]))
        c["f"].append(self.problem.value(xh.reshape(self.problem.shape)))
        c["dist2"].append(float(np.sum((xh - self.x_star) ** 2)))
        c["n_fg"].append(self.n_fg)
        c["n_fonly"].append(self.n_f)
        c["time"].append(self.elapsed)

    def error(self) -> float:
        return math.sqrt(self.cols["dist2"][-1])

    def trace(self, **meta) -> Trace:
        cols = {k: np.asarray(v, dtype=float) for k, v in self.cols.items()}
        return Trace(self.label, cols, dict(self.meta, **meta))


def run_method(problem, x_star, method: str, *, label: str, gd_steps: int = 0, lr=None,
               **options) -> Trace:
    """One run of ``method`` ("newton", "bfgs", "l-bfgs" through ``minimize``; "gd" through
    ``optimizers.SGD``) from the problem's start, recorded."""
    x_star = np.asarray(x_star, dtype=float)
    e0 = float(np.linalg.norm(mg.to_numpy(problem.x0).reshape(-1) - x_star.reshape(-1)))
    rec = Recorder(problem, x_star, label, method=method, e0=e0,
                   floor=FLOOR * max(1.0, float(np.linalg.norm(x_star))),
                   problem_name=type(problem).__name__, dim=problem.dim)
    if method == "gd":
        x = problem.start()
        opt = optimizers.SGD([x], lr=lr)
        rec.start(x)
        for _ in range(gd_steps):
            opt.zero_grad()
            rec.fun(x).backward()
            opt.step()
            rec.callback(x)
            if rec.error() <= TOL * e0 or not math.isfinite(rec.cols["f"][-1]):
                break
        reached = rec.error() <= TOL * e0
        tr = rec.trace(lr=lr, nit=len(rec.cols["k"]) - 1, status=0 if reached else 1,
                       message="target reached" if reached else "budget spent", budget=gd_steps)
        tr.columns["n_hess"] = np.zeros(len(tr))
        tr.columns["lr"] = np.full(len(tr), float(lr))
        return tr
    rec.start(problem.x0)
    if method in ("bfgs", "l-bfgs"):
        options = dict({"ftol": 0.0}, **options)   # no relative-decrease stop: the run goes on
    res = minimize(rec.fun, problem.x0, method=method, callback=rec.callback,
                   gtol=GTOL, **options)
    tr = rec.trace(nit=int(res.nit), nfev=int(res.nfev), njev=int(res.njev),
                   nhev=int(res.get("nhev", 0)), status=int(res.status), message=res.message,
                   options={k: v for k, v in options.items()})
    k = tr["k"]
    if method == "newton":
        # one Hessian per iteration (dense solver): the engine's Hessian is one recorded call
        # of f, counted above as a value+gradient call
        tr.columns["n_hess"] = k.copy()
        tr.columns["n_fg"] = tr["n_fg"] - k
        alphas = list(res.alphas) + [math.nan]
        tr.columns["lr"] = np.asarray(alphas[:len(k)], dtype=float)
    else:
        tr.columns["n_hess"] = np.zeros(len(tr))
        tr.columns["lr"] = np.full(len(tr), math.nan)
    return tr


def compare_methods(problem, x_star, *, gd_steps: int, gd_lr: float) -> list:
    """GD, Newton, BFGS and L-BFGS (m = 10) on one problem."""
    return [run_method(problem, x_star, "gd", label="GD", gd_steps=gd_steps, lr=gd_lr),
            # trials of f alone, then f and the gradient at the accepted point: the recorded
            # evaluation counts of this table
            run_method(problem, x_star, "newton", label="Newton", trial_gradient=False),
            run_method(problem, x_star, "bfgs", label="BFGS"),
            run_method(problem, x_star, "l-bfgs", label="L-BFGS m=10", m=10)]


class FrozenBFGS(InverseBFGS):
    r"""BFGS's inverse-Hessian approximation with the curvature update removed: every pair is
    refused, so :math:`H_k=H_0=I` and the direction is :math:`-\nabla f_k` (the control)."""

    def update(self, s, y) -> bool:
        self.nskip += 1
        return False


def _finite_error(rec) -> bool:
    return math.isfinite(rec.cols["f"][-1]) and math.isfinite(rec.cols["dist2"][-1])


def run_half_newton(problem, x_star, steps: int = CONTROL_NEWTON_STEPS) -> Trace:
    r"""The control :math:`x_{k+1}=x_k-\frac12[\nabla^2f(x_k)]^{-1}\nabla f(x_k)` from the
    problem's start for ``steps`` steps (stopped at the rounding floor or a non-finite value)."""
    x_star = np.asarray(x_star, dtype=float)
    e0 = float(np.linalg.norm(mg.to_numpy(problem.x0).reshape(-1) - x_star.reshape(-1)))
    floor = FLOOR * max(1.0, float(np.linalg.norm(x_star)))
    rec = Recorder(problem, x_star, "control: half of Newton's step", method="half-newton",
                   e0=e0, floor=floor, problem_name=type(problem).__name__, dim=problem.dim)
    step = HalfNewton(problem)
    x = problem.x0
    rec.start(x)
    with np.errstate(all="raise"):
        for k in range(steps):
            try:
                x = step(x, problem.grad(x), k)
                rec.callback(x)
            except (FloatingPointError, OverflowError, np.linalg.LinAlgError):
                rec.cols["dist2"][-1] = math.inf     # diverged: a measured outcome
                break
            if not _finite_error(rec) or rec.error() < floor:
                break
    tr = rec.trace(nit=len(rec.cols["k"]) - 1, control=True)
    tr.columns["lr"] = np.full(len(tr), 0.5)
    tr.columns["n_hess"] = tr["k"].copy()
    return tr


def control_bfgs_steps(gd_steps: int) -> int:
    r"""The frozen-BFGS control's budget :math:`\lfloor B_{GD}/10\rfloor+1`: a run that misses
    the target within it needs more than a tenth of GD's budget."""
    return int(gd_steps // GD_FACTOR) + 1


def run_frozen_bfgs(problem, x_star, steps: int) -> Trace:
    """The control BFGS without its curvature update (:class:`FrozenBFGS`), the same strong
    Wolfe search as ``bfgs``, for at most ``steps`` iterations."""
    x_star = np.asarray(x_star, dtype=float)
    e0 = float(np.linalg.norm(mg.to_numpy(problem.x0).reshape(-1) - x_star.reshape(-1)))
    rec = Recorder(problem, x_star, "control: BFGS without its curvature update (H = I)",
                   method="frozen-bfgs", e0=e0,
                   floor=FLOOR * max(1.0, float(np.linalg.norm(x_star))),
                   problem_name=type(problem).__name__, dim=problem.dim)
    x0 = problem.x0.reshape(-1)
    rec.start(x0)
    obj = Objective(rec.fun, x0, name="bfgs")
    res = quasi_newton(obj, x0, FrozenBFGS(x0.size, x0), gtol=GTOL, maxiter=steps,
                       callback=rec.callback, name="bfgs")
    tr = rec.trace(nit=int(res.nit), status=int(res.status), message=res.message, control=True)
    tr.columns["lr"] = np.full(len(tr), math.nan)
    tr.columns["n_hess"] = np.zeros(len(tr))
    return tr


def control_runs(lr_problem, lr_star, rosen, rosen_star, gd_rosen: int) -> list:
    """The two control runs of the rule (module docstring, condition 5)."""
    return [run_half_newton(lr_problem, lr_star),
            run_frozen_bfgs(rosen, rosen_star, control_bfgs_steps(gd_rosen))]


def memory_runs(seed: int, seeds: int, first=None, config: dict = LOGREG) -> list:
    """L-BFGS with m in MEMORIES on ``seeds`` logistic-regression data sets."""
    traces = []
    for i in range(seeds):
        if i == 0 and first is not None:
            problem, x_star = first
        else:
            problem = logistic(seed * 100 + i, config)
            x_star = exact_minimiser(problem)
        for m in MEMORIES:
            tr = run_method(problem, x_star, "l-bfgs", label=f"L-BFGS m={m}", m=m)
            tr.meta.update(memory=m, data_seed=seed * 100 + i)
            traces.append(tr)
    return traces


# ----------------------------------------------------------------------------- analysis
def errors(tr) -> np.ndarray:
    return np.sqrt(np.maximum(np.asarray(tr["dist2"], dtype=float), 0.0))


def iterations_to_target(tr):
    """The first k with e_k <= TOL e_0, or None."""
    e = errors(tr)
    hits = np.nonzero(e <= TOL * e[0])[0]
    return int(hits[0]) if hits.size else None


def pairs_above_floor(tr):
    """Indices k of the pairs (e_k, e_{k+1}) with e_{k+1} above the rounding floor (the
    contiguous run from k = 0)."""
    e = errors(tr)
    ok = e[1:] >= tr.meta["floor"]
    n = int(np.argmin(ok)) if not ok.all() else ok.size
    return np.arange(n)


def newton_local_phase(tr, step: float = 1.0) -> dict:
    """Newton's local phase: the final run of steps ``step`` (the unit step; the control's
    1/2) among the pairs above the floor; the ratios r_k = e_{k+1}/e_k^2 there."""
    e = errors(tr)
    idx = pairs_above_floor(tr)
    alpha = np.asarray(tr["lr"], dtype=float)
    local = []
    for k in idx[::-1]:
        if alpha[k] != step:
            break
        local.append(int(k))
    local = np.asarray(sorted(local), dtype=int)
    if local.size == 0:
        return {"ks": [], "r": [], "spread": math.inf, "decades": 0.0, "order": math.nan,
                "n": 0}
    r = e[local + 1] / e[local] ** 2
    decades = float(np.log10(e[local[0]] / e[local[-1] + 1]))
    order = (float(np.polyfit(np.log(e[local]), np.log(e[local + 1]), 1)[0])
             if local.size >= 2 else math.nan)
    return {"ks": local.tolist(), "r": r.tolist(), "spread": float(r.max() / r.min()),
            "decades": decades, "order": order, "n": int(local.size)}


def linear_ratios(tr) -> list:
    """q_k = e_{k+1}/e_k for the pairs above the floor (``BFGS_SUPERLINEAR``'s)."""
    return BFGS_SUPERLINEAR.ratios_above_floor(errors(tr), tr.meta["floor"])[1].tolist()


def row(tr) -> dict:
    """Iterations, evaluations and time to the target (and at the stop) of one run."""
    k = iterations_to_target(tr)
    at = k if k is not None else len(tr) - 1
    return {"method": tr.label, "reached": k is not None, "iters": k if k is not None else at,
            "n_fg": int(tr["n_fg"][at]), "n_fonly": int(tr["n_fonly"][at]),
            "n_hess": int(tr["n_hess"][at]), "time": float(tr["time"][at]),
            "total_iters": len(tr) - 1, "final_error": float(errors(tr)[-1])}


def analyse(traces: dict) -> dict:
    """All the numbers of the verdict from the saved traces (``{stem: [Trace, ...]}``)."""
    out = {}
    for stem in ("logreg", "rosen"):
        runs = {t.meta["method"]: t for t in traces[stem]}
        rows = [row(t) for t in traces[stem]]
        gd = rows[0]
        newton = newton_local_phase(runs["newton"])
        out[stem] = {"rows": rows, "newton": newton,
                     "bfgs_ratios": linear_ratios(runs["bfgs"])[-3:],
                     "lbfgs_ratios": linear_ratios(runs["l-bfgs"])[-3:],
                     "gd_iters": gd["iters"], "gd_reached": gd["reached"],
                     "fewer": {r["method"]: (r["iters"] if r["reached"] else math.inf)
                               for r in rows[1:]}}
    mem = {}
    for t in traces["memory"]:
        k = iterations_to_target(t)
        mem.setdefault(int(t.meta["memory"]), []).append(math.inf if k is None else k)
    out["memory"] = {m: v for m, v in sorted(mem.items())}
    out["memory_mean"] = {m: float(np.mean(v)) for m, v in sorted(mem.items())}
    # per data set: does each step m_i -> m_(i+1) of the order hold (no more iterations)?
    per_set = np.asarray([out["memory"][m] for m in MEMORIES], dtype=float)  # memories x sets
    out["memory_order_fraction"] = [float(np.mean(per_set[i + 1] <= per_set[i]))
                                    for i in range(len(MEMORIES) - 1)]
    ctrl = {t.meta["method"]: t for t in traces.get("control", [])}
    out["control"] = {}
    if "half-newton" in ctrl:
        out["control"]["half_newton"] = newton_local_phase(ctrl["half-newton"], step=0.5)
    if "frozen-bfgs" in ctrl:
        fb = ctrl["frozen-bfgs"]
        k = iterations_to_target(fb)
        out["control"]["frozen_bfgs_ratios"] = linear_ratios(fb)[-3:]
        out["control"]["frozen_bfgs_iters"] = math.inf if k is None else k
        out["control"]["frozen_bfgs_budget"] = len(fb) - 1
        out["control"]["frozen_bfgs_final_error"] = float(errors(fb)[-1])
    return out


def _last3_max(q) -> float:
    """The largest of the last 3 ratios; NaN (no measurement, which meets no condition, the
    claim's or a control's) when fewer than 3 lie above the floor."""
    q = list(q)[-3:]
    return float(max(q)) if len(q) == 3 else math.nan


def values(a: dict) -> dict:
    """The measured number of every condition of :data:`RULES`."""
    v = {}
    for stem in ("logreg", "rosen"):
        nw = a[stem]["newton"]
        v[f"newton_pairs_{stem}"] = nw["n"]
        v[f"newton_decades_{stem}"] = nw["decades"]
        v[f"newton_spread_{stem}"] = nw["spread"]
        gd = a[stem]["gd_iters"]
        v[f"iters_over_gd_{stem}"] = max(it / gd if gd > 0 else math.inf
                                         for it in a[stem]["fewer"].values())
    v["bfgs_last3_max_rosen"] = _last3_max(a["rosen"]["bfgs_ratios"])
    means = [a["memory_mean"][m] for m in MEMORIES]
    with np.errstate(invalid="ignore"):
        v["lbfgs_mean_max_increase"] = float(max(b - c for b, c in zip(means[1:], means[:-1])))
        v["lbfgs_mean_30_minus_1"] = float(means[-1] - means[0])
    ctrl = a.get("control", {})
    v["control_half_newton_spread"] = ctrl.get("half_newton", {}).get("spread", math.nan)
    v["control_frozen_bfgs_last3_max"] = (_last3_max(ctrl["frozen_bfgs_ratios"])
                                          if "frozen_bfgs_ratios" in ctrl else math.nan)
    gd = a["rosen"]["gd_iters"]
    v["control_frozen_bfgs_iters_over_gd"] = (ctrl["frozen_bfgs_iters"] / gd if gd > 0 else
                                              math.inf) if "frozen_bfgs_iters" in ctrl else math.nan
    return v


def verdict(a: dict) -> dict:
    vals = values(a)

    def nwt(nw):
        return (f"{nw['n']} pairs over {nw['decades']:.1f} decades, r_k = e_(k+1)/e_k^2 in "
                f"[{fmt(min(nw['r']) if nw['r'] else math.nan)}, "
                f"{fmt(max(nw['r']) if nw['r'] else math.nan)}] (spread {fmt(nw['spread'])}), "
                f"order {nw['order']:.2f}")

    def iters(stem):
        return ", ".join(f"{r['method']} {r['iters']}{'' if r['reached'] else '+ (not reached)'}"
                         for r in a[stem]["rows"])
    mem = ", ".join(f"m={m}: {a['memory_mean'][m]:.1f}" for m in MEMORIES)
    frac = ", ".join(f"m={b} <= m={c} on {f:.0%}" for b, c, f in
                     zip(MEMORIES[1:], MEMORIES[:-1], a["memory_order_fraction"]))
    ctrl = a.get("control", {})
    hn = ctrl.get("half_newton")
    fb = ctrl.get("frozen_bfgs_ratios", [])
    measured = (f"Newton (unit steps), logistic regression: {nwt(a['logreg']['newton'])}; "
                f"Rosenbrock: {nwt(a['rosen']['newton'])}. BFGS last ratios e_(k+1)/e_k: "
                f"Rosenbrock {', '.join(fmt(v) for v in a['rosen']['bfgs_ratios'])}; logistic "
                f"regression {', '.join(fmt(v) for v in a['logreg']['bfgs_ratios'])} (reported "
                f"only). Iterations to e_k <= {TOL:g} e_0, logistic regression: "
                f"{iters('logreg')}; Rosenbrock: {iters('rosen')}; largest second-order/GD "
                f"ratio {fmt(vals['iters_over_gd_logreg'])} / {fmt(vals['iters_over_gd_rosen'])}. "
                f"L-BFGS mean iterations over {len(a['memory'][MEMORIES[0]])} data sets: {mem} "
                f"(per data set: {frac}). Controls: half of Newton's step, "
                + (nwt(hn) if hn else "not run")
                + f"; BFGS without its curvature update (Rosenbrock), last ratios "
                f"{', '.join(fmt(v) for v in fb) or 'none'}, iterations to the target "
                f"{fmt(ctrl.get('frozen_bfgs_iters', math.nan))} (budget "
                f"{ctrl.get('frozen_bfgs_budget', 0)}, final error "
                f"{fmt(ctrl.get('frozen_bfgs_final_error', math.nan))}), over GD's "
                f"{fmt(vals['control_frozen_bfgs_iters_over_gd'])}")
    lr = a["logreg"]["rows"]
    summary = (f"Newton spread of e_(k+1)/e_k^2 {fmt(a['logreg']['newton']['spread'])} / "
               f"{fmt(a['rosen']['newton']['spread'])}; BFGS last q "
               f"{fmt(max(a['rosen']['bfgs_ratios'] or [math.nan]))} (Rosenbrock); L-BFGS "
               f"{mem}; logreg iterations GD {lr[0]['iters']} vs Newton {lr[1]['iters']}, "
               f"BFGS {lr[2]['iters']}, L-BFGS {lr[3]['iters']}; controls: half-Newton spread "
               f"{fmt(vals['control_half_newton_spread'])}, frozen BFGS last q "
               f"{fmt(vals['control_frozen_bfgs_last3_max'])} and iterations/GD's "
               f"{fmt(vals['control_frozen_bfgs_iters_over_gd'])}")
    return protocol_verdict(RULES, vals, claim=CLAIM, measured=measured, figure=FIGURE,
                            summary=summary, table={s: a[s]["rows"] for s in ("logreg", "rosen")},
                            memory_iterations={str(m): v for m, v in a["memory"].items()},
                            memory_order_fraction=a["memory_order_fraction"],
                            newton={s: a[s]["newton"] for s in ("logreg", "rosen")},
                            bfgs_last_ratios={s: a[s]["bfgs_ratios"] for s in ("logreg", "rosen")},
                            controls=ctrl)


def load(out_dir) -> dict:
    return {stem: load_traces(out_dir, stem=stem) for stem in STEMS}


def saved_config(out_dir) -> dict:
    """The logistic regression's sizes of the saved run (``logreg.json``; the default's when a
    run saved none)."""
    path = pathlib.Path(out_dir) / "logreg.json"
    return json.loads(path.read_text()) if path.exists() else dict(LOGREG)


# ----------------------------------------------------------------------------- figure
STYLE = {"gd": ("#555555", "-"), "newton": ("#CC6677", "-"), "bfgs": ("#332288", "-"),
         "l-bfgs": ("#117733", "--")}  # the palette of experiments.plotting


def draw(out_dir) -> pathlib.Path:
    """Error against iteration on both problems, L-BFGS's memory, Newton's and BFGS's ratios
    and the table of iterations, evaluations and time, from the saved traces only."""
    import matplotlib.pyplot as plt

    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    traces = load(out_dir)
    a = analyse(traces)
    fig = plt.figure(figsize=(15.5, 8.6))
    gs = fig.add_gridspec(2, 3, width_ratios=[1, 1, 1.25])
    axes = [fig.add_subplot(gs[i, j]) for i in range(2) for j in range(3)]
    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
    fig.suptitle("Second-order methods: Newton quadratic, BFGS superlinear, L-BFGS memory, "
                 "against GD", fontsize=11)
    held = verdict(a)["checks"]
    plot.decisive(axes[1], label=f"conditions failed (of {len(held)})",
                  value=sum(not c["passed"] for c in held), threshold=0, loc="lower right")
    config = saved_config(out_dir)
    titles = {"logreg": f"logistic regression (m={config['m']}, n={config['dim']}, "
                        f"mu={config['mu']:g})",
              "rosen": "Rosenbrock 2-D from (-1.2, 1)"}
    for ax, stem in zip(axes[:2], ("logreg", "rosen")):
        second = [t for t in traces[stem] if t.meta["method"] != "gd"]
        kmax = max(len(t) for t in second)
        for t in traces[stem]:
            c, s = STYLE[t.meta["method"]]
            e = errors(t)
            ax.semilogy(t["k"], np.where(e > 0, e / e[0], np.nan), s, color=c, lw=1.4,
                        label=t.label)
        gd = a[stem]["rows"][0]
        ax.axhline(TOL, color="k", lw=0.8, ls=":")
        ax.set_xlim(0, 1.15 * kmax)
        ax.set_ylim(1e-16, 5)
        ax.annotate(f"GD: {gd['iters']}{'' if gd['reached'] else '+'} iterations to "
                    f"{TOL:g} (off the axis)", xy=(0.97, 0.97), xycoords="axes fraction",
                    ha="right", va="top", fontsize=7.5,
                    bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7"})
        ax.set_xlabel("iteration k")
        ax.set_ylabel(r"$\|x_k-x^*\|/\|x_0-x^*\|$")
        ax.set_title(titles[stem], fontsize=9)
        ax.legend(fontsize=7, loc="lower left")

    ax = axes[2]
    first_seed = traces["memory"][0].meta["data_seed"]
    for i, t in enumerate(t for t in traces["memory"] if t.meta["data_seed"] == first_seed):
        m = t.meta["memory"]
        e = errors(t)
        ax.semilogy(t["k"], np.where(e > 0, e / e[0], np.nan), color=plot.COLORS[i], lw=1.3,
                    label=f"m={m}: mean {a['memory_mean'][m]:.1f} iterations to {TOL:g}")
    ax.axhline(TOL, color="k", lw=0.8, ls=":")
    ax.set_xlabel("iteration k")
    ax.set_ylabel(r"$\|x_k-x^*\|/\|x_0-x^*\|$")
    ax.set_title(f"L-BFGS memory on logistic regression (one data set shown; means over "
                 f"{len(a['memory'][MEMORIES[0]])})", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")

    ax = axes[3]
    for stem, mk in (("logreg", "o"), ("rosen", "s")):
        t = next(t for t in traces[stem] if t.meta["method"] == "newton")
        e = errors(t)
        nw = a[stem]["newton"]
        ks = np.asarray(nw["ks"], dtype=int)
        if ks.size:
            ax.loglog(e[ks], nw["r"], mk + "-", color="#CC6677", ms=4, lw=1.2,
                      label=f"Newton, {stem}: " + r"$e_{k+1}/e_k^2$" + f" (spread "
                      f"{nw['spread']:.1f})")
        t = next(t for t in traces[stem] if t.meta["method"] == "bfgs")
        e = errors(t)
        idx = pairs_above_floor(t)
        ax.loglog(e[idx], e[idx + 1] / e[idx], mk + "--", color="#332288", ms=3, lw=1.0,
                  label=f"BFGS, {stem}: " + r"$e_{k+1}/e_k$")
    for t in traces.get("control", []):
        e = errors(t)
        idx = pairs_above_floor(t)
        if t.meta["method"] == "half-newton":
            ax.loglog(e[idx], e[idx + 1] / e[idx] ** 2, "^:", color="#999933", ms=3, lw=1.0,
                      label="control, half-Newton: " + r"$e_{k+1}/e_k^2$" + " (grows)")
        else:
            ax.loglog(e[idx[-40:]], e[idx[-40:] + 1] / e[idx[-40:]], "v:", color="#888888",
                      ms=2.5, lw=0.8, label="control, BFGS with H = I: " + r"$e_{k+1}/e_k$")
    ax.axhline(SUPERLINEAR, color="#332288", lw=0.8, ls=":")
    ax.invert_xaxis()
    ax.set_xlabel(r"error $e_k=\|x_k-x^*\|$ (decreasing to the right)")
    ax.set_ylabel("ratio")
    ax.set_title("Newton: e_(k+1)/e_k^2 stays flat; BFGS: e_(k+1)/e_k -> 0", fontsize=9)
    ax.legend(fontsize=6.5, loc="lower left")

    ax = axes[4]
    for stem, mk in (("logreg", "-"), ("rosen", "--")):
        for t in traces[stem]:
            c, _ = STYLE[t.meta["method"]]
            e = errors(t)
            keep = e > 0
            ax.loglog(np.maximum(t["time"][keep], 1e-5), e[keep] / e[0], mk, color=c, lw=1.2,
                      label=f"{t.label}, {stem}")
    ax.axhline(TOL, color="k", lw=0.8, ls=":")
    ax.set_ylim(1e-16, 5)
    ax.set_xlabel("wall-clock time (s, measurement excluded)")
    ax.set_ylabel(r"$\|x_k-x^*\|/\|x_0-x^*\|$")
    ax.set_title("error against time (solid: logistic regression, dashed: Rosenbrock)",
                 fontsize=9)
    ax.legend(fontsize=6, loc="lower left", ncol=2)

    ax = axes[5]
    ax.axis("off")
    cells = []
    for stem in ("logreg", "rosen"):
        for r in a[stem]["rows"]:
            cells.append([stem, r["method"], f"{r['iters']}{'' if r['reached'] else '+'}",
                          str(r["n_fg"]), str(r["n_fonly"]), str(r["n_hess"]),
                          f"{r['time']:.3f}"])
    table = ax.table(cellText=cells, colLabels=["problem", "method", "iterations",
                                                "f+grad calls", "f-only calls", "Hessians",
                                                "time (s)"],
                     loc="center", cellLoc="center",
                     colWidths=[0.11, 0.17, 0.13, 0.15, 0.15, 0.13, 0.13])
    table.auto_set_font_size(False)
    table.set_fontsize(7.5)
    table.scale(1.0, 1.35)
    ax.set_title(f"to e_k <= {TOL:g} e_0 (+: GD's budget, target not reached)", fontsize=9)
    # margins set by hand: tight_layout around the table costs seconds
    fig.subplots_adjust(left=0.05, right=0.99, top=0.93, bottom=0.07, wspace=0.25, hspace=0.3)
    return plot.save(fig, out_dir / FIGURE, dpi=100, tight=False)


# ----------------------------------------------------------------------------- experiment
@register("second-order", CLAIM, sizes=("default", "large"))
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy",
        size: str = "default") -> dict:
    """Both problems, the memory sweep; save the traces, draw, check. ``size="large"``: the
    logistic regression is ``LOGREG_LARGE`` (10^6 x 10^3) with the ``LARGE`` budgets."""
    out_dir = pathlib.Path(out_dir)
    config = LOGREG_LARGE if size == "large" else LOGREG
    budget = LARGE if size == "large" else QUICK if quick else FULL
    (out_dir / "logreg.json").write_text(json.dumps(config))
    lr_problem = logistic(seed * 100, config)
    lr_star = exact_minimiser(lr_problem)
    logreg = compare_methods(lr_problem, lr_star, gd_steps=budget["gd_logreg"],
                             gd_lr=1.0 / lr_problem.L)
    rosen = P.Rosenbrock(2)
    rosen_star = mg.to_numpy(rosen.x_star).astype(float)
    rosen_runs = compare_methods(rosen, rosen_star, gd_steps=budget["gd_rosen"],
                                 gd_lr=1.0 / rosen.L_star)
    memory = memory_runs(seed, budget["seeds"], first=(lr_problem, lr_star), config=config)
    control = control_runs(lr_problem, lr_star, rosen, rosen_star, budget["gd_rosen"])
    for stem, trs in (("logreg", logreg), ("rosen", rosen_runs), ("memory", memory),
                      ("control", control)):
        for old in out_dir.glob(f"{stem}_*.npz"):
            old.unlink()
        save_traces(trs, out_dir, stem=stem)
    draw(out_dir)
    return verdict(analyse(load(out_dir)))
