r"""Optimizer trajectories on the 2-D landscapes of L0 (Bursky, lecture 3), with Rosenbrock and
Beale: GD, heavy ball, NAG, Adagrad, RMSProp, Adadelta, Adam, and L0's parameter sweeps (Adagrad
:math:`\epsilon\in\{10^{-7},0.1,10\}`, RMSProp :math:`\gamma`, Adam :math:`\beta_2`).

L0 shows these methods' paths and loss curves on landscapes called "rectangles", "spikes",
"basins and walls" and "hills and canyon" (``problems.landscape``; "ravine" is the classic valley
of the same discussion), and attaches a few statements to them; L3 (Nikulin) sums the same
methods up. The verdict checks four of those statements, each as a comparison over a **family of
instances fixed in advance** (:mod:`experiments.trajectory_family`): every problem of the budget
from its named start (instance 0) and from random starts near it (``--quick``: 1 per problem,
10 instances, 6 of them in valleys; full: 3 per problem, 28 instances, 12 in valleys).

1. **Momentum is faster in valleys** (L0's momentum slide: accumulate an impulse, keep the
   direction; L3: "Momentum SGD keeps the direction of the step and converges faster"). On the
   valley instances (the ravine :math:`0.1x^2+10(y-\tfrac12\sin x)^2`, Rosenbrock and
   hills-and-canyon, whose canyon has curvature about 25 across and 0.1 along), the margin of
   each instance is

   .. math:: d_i=\log_{10}\bigl(f(x_T)-f^*\bigr)_{\text{GD}}
             -\log_{10}\bigl(f(x_T)-f^*\bigr)_{\text{HB (NAG)}},

   each method at its chosen learning rate. Required: :math:`d_i\ge1` (ten times lower) on at
   least 80% of the valley instances, and the one-sided 95% t bound of the mean :math:`d` at
   least 1 decade, for the heavy ball and for NAG.

2. **Adagrad is more robust to the choice of the learning rate than GD** (L0's Adagrad slide:
   "robustness to the choice of the learning rate"). Its per-coordinate step
   :math:`|\Delta x_j|=\alpha|g_j|/\sqrt{\sum_t g_{t,j}^2+\epsilon}\le\alpha` does not scale with
   the gradient, while GD's :math:`\alpha\|g\|` does. A learning rate *works* on an instance when
   :math:`f(x_T)-f^*\le10^{-2}(f(x_0)-f^*)`; both arms use the same grid. Required: Adagrad has
   strictly more working rates than GD on at least half of the instances, the one-sided 95% t
   bound of the mean difference is above 0, and no Adagrad run diverges.

3. **No single method is best everywhere** (L3: "there is no one right algorithm for all
   cases"). The winner of an instance is the method with the lowest mean log-gap (ties: each
   tied method wins). Required: the most frequent winner wins at most 75% of the instances
   (another method wins at least one instance in four; with one method best on every instance
   the share is 1).

4. **Every method descends**: each of the seven methods, at its chosen learning rate, ends below
   its start, :math:`f(x_T)<f(x_0)`, on every instance (a check of the set-up: the grid holds a
   working step for every method).

The thresholds (80%, half, 75%, 95% confidence) were set before the family was run: a claim
about "valleys" and "robustness" should hold on most instances of its class, not on a chosen
one; 75% leaves a stated margin above the "at least two distinct winners" of rule 1.

**Controls** (outside the claims' hypotheses, in the same run; each must violate the claim's
condition):

* *isotropic bowls* :math:`\frac c2\|p\|^2` (``--quick``: 4, full: 10), with :math:`c=1/\alpha`
  for an interior rate :math:`\alpha` of the grid, started at distance 2 in a random direction:
  no valley, and GD with the step :math:`1/c` reaches :math:`x^*` in one step. The heavy ball and
  NAG must not end a decade below GD on 80% of them (claim 1's condition must fail), and the
  most frequent winner must win more than 75% of them (claim 3's condition must fail);
* *Adagrad without its adaptivity*: ``Adagrad(eps=1e30)`` with the grid's rates times
  :math:`10^{15}=\sqrt\epsilon`, whose step :math:`\alpha g/\sqrt{\sum g^2+10^{30}}` is GD's while
  :math:`\sum g^2\ll10^{30}`; it must not have more working rates than GD on half the instances
  (claim 2's condition must fail).

**Statistics.** Every comparison is paired (both arms on the same instance and grid); the
shares are the fraction of instances each arm wins, the t bounds are
:func:`experiments.stats.one_sided_t` of the per-instance margins (:math:`N-1` degrees of
freedom) with the p-value and Cohen's :math:`d_z` reported (:mod:`experiments.family_stats`).
An infinite margin (one arm diverged) enters the t bound as :math:`\pm30` decades. The runs are
deterministic given the starts; the random starts and bowls follow the seed.

**History.** Rule 1 (the rule before this protocol): on the named starts only, HB and NAG at
least a decade below GD on each of the three valleys; Adagrad more working rates than GD summed
over the problems and no divergence; at least two distinct winners; every method descends. On
this code it gives PASS (``--quick`` and full), kept under ``earlier_rules``. Rule 2 (in force)
replaced it: one start per problem made each claim an anecdote and "at least two distinct
winners" could hardly fail.

**Outcome of rule 2** (seed 0): **FAIL**. Full run: momentum wins every valley instance (HB and
NAG on 12 of 12; t bounds 9.9 and 7.0 decades), the most frequent winner (Adagrad) wins 25% of
the instances, every method descends, and every control violates the claims as required; but
Adagrad has more working rates than GD on only half the instances (GD more on 21%: on
rectangles, whose plateaus need GD's large steps, Adagrad has two fewer on all four instances),
and the mean difference, +0.43 rates, has the t bound -0.013 (p = 0.055): not significant at
95%. ``--quick`` (150 steps, 6 valley instances): FAIL on NAG's t bound (0.87 decade), Adagrad's
share (0.40) and RMSProp not descending from one Rosenbrock start.

The parameter sweeps (Adagrad's :math:`\epsilon`, RMSProp's :math:`\gamma`, Adam's
:math:`\beta_2`) are L0's panels; the lecture draws them without stating a conclusion, so they are
shown and their numbers reported (named starts), and they are not part of the verdict.

**Set-up.** Every run takes the same number of full-gradient steps (1000, ``--quick`` 150) from
its instance's start (the named starts: the landscapes' ``start_point``, Rosenbrock
:math:`(-1.2,1)`, Beale :math:`(1,1.5)`; random starts: uniform in the disc of radius 10% of the
window's smaller side around the named start). Methods: ``optimizers.SGD`` (GD), ``Momentum``
(velocity form, :math:`\mu=0.9`), ``NAG`` (look-ahead form, :math:`\gamma=0.9`), ``Adagrad``
(:math:`\epsilon=10^{-7}`, L0's smallest, inside the root), ``RMSProp`` (:math:`\gamma=0.9`, L0's),
``Adadelta`` (:math:`\gamma=\rho=0.9`, :math:`\epsilon=10^{-6}`; ``lr`` multiplies its step, 1 is
the lecture's form) and ``Adam`` (:math:`\beta=(0.9,0.999)`, :math:`\epsilon=10^{-8}`); sweeps
(named starts only): Adagrad :math:`\epsilon\in\{0.1,10\}`, RMSProp
:math:`\gamma\in\{0.5,0.99\}`, Adam :math:`\beta_2\in\{0.9,0.99\}`.

**Learning-rate rule (the same for every method, variant and instance).** Each is run with every
:math:`\alpha` of the grid :math:`10^{-3},10^{-2.5},\dots,10^{1}` (``--quick``: whole decades), and
the chosen :math:`\alpha` is the one with the lowest *mean log-gap*
:math:`\frac1{T+1}\sum_{k=0}^T\log_{10}\max(f(x_k)-f^*,10^{-14})` (the area under the
:math:`\log(f-f^*)` curve: fast and far); a run that diverges (:math:`f` not finite or
:math:`\|x\|_\infty>10^6`) is stopped there, recorded as diverged and never chosen. The floor
:math:`10^{-14}` sits above the rounding of :math:`f` near :math:`f^*` (:math:`|f^*|\le2.2`).

**How the runs are batched.** All runs on one problem (every variant times every learning rate,
and every random start) advance together: each run is its own parameter Tensor, in its own
parameter group (with its own ``lr``) of its variant's optimizer (the library's classes,
unchanged), and one vectorised evaluation of :math:`f` and its gradient at all points per step
(the problem's batched form on the last axis; the gradient of :math:`\sum_i f(p_i)` with respect
to :math:`p_i` is :math:`\nabla f(p_i)`) fills every parameter's ``grad`` before each optimizer's
``step()``. NAG needs the gradient at its look-ahead point, so its ``step(closure)`` runs first,
with the evaluation as the closure; the other optimizers then step with the gradients at their
own points. A test checks the batched runs against :func:`experiments.runner.run`, run by run.
"""
from __future__ import annotations

import json
import math
import pathlib
import time
from dataclasses import dataclass, field

import numpy as np

import minigrad as mg
import optimizers
import problems as P
from experiments import trajectory_family as TF
from experiments.common import fmt
from experiments.family_plots import strip
from experiments.protocol import Condition, Rule
from experiments.protocol import verdict as rule_verdict
from experiments.registry import register

CLAIM = ("L0/L3 on 2-D landscapes: momentum (heavy ball, NAG) is faster than GD in valleys; "
         "Adagrad is more robust to the choice of the learning rate than GD; no single method "
         "is best everywhere; every method (lr chosen by one rule) descends.")
FIGURE = "trajectories.png"

PROBLEMS = ("rectangles", "spikes", "basins_and_walls", "hills_and_canyon", "ravine",
            "rosenbrock", "beale")
#: the problems whose minimum lies at the end of a narrow valley (claim 1)
VALLEYS = ("ravine", "rosenbrock", "hills_and_canyon")
#: the seven methods of the comparison
MAIN = ("GD", "Momentum", "NAG", "Adagrad", "RMSProp", "Adadelta", "Adam")
#: the control of claim 2 (a variant of Adagrad without its adaptivity)
NO_ACCUMULATOR = "Adagrad eps=1e30"

GAP_FLOOR = 1e-14        # log-gaps are taken of max(f - f*, GAP_FLOOR)
GOOD_FACTOR = 1e-2       # claim 2: a learning rate "works" when gap_T <= GOOD_FACTOR * gap_0
VALLEY_DECADES = 1.0     # claim 1: momentum ends at least 10^VALLEY_DECADES lower than GD
DIVERGED_RADIUS = 1e6    # a run whose |x|_inf exceeds this (or whose f is not finite) diverged
VALLEY_SHARE = 0.8       # claim 1: required share of valley instances won by the margin
ROBUST_SHARE = 0.5       # claim 2: required share of instances with more working rates
TOP_SHARE = 0.75         # claim 3: the most frequent winner wins at most this share
CONFIDENCE = 0.95        # one-sided t bounds of the mean paired margins
MARGIN_CAP = 30.0        # decades: an infinite margin (a diverged arm) enters the t bound as
                         # +-30 (the finite margins lie within 14 + log10 gap_0 decades)


_NAMED = "named starts"
RULES = (
    Rule(1, (
        Condition("v1_valley_margin", f"{_NAMED}, valleys: log10 gap_T(HB), log10 gap_T(NAG) <= "
                  f"log10 gap_T(GD) - {VALLEY_DECADES:g} on every valley problem", ">=",
                  VALLEY_DECADES),
        Condition("v1_good_lrs_excess", f"{_NAMED}: #{{lr: gap_T <= {GOOD_FACTOR:g} gap_0}} "
                  "summed over the problems, Adagrad - GD >= 1", ">=", 1),
        Condition("v1_adagrad_diverged", f"{_NAMED}: Adagrad runs diverged <= 0", "<=", 0),
        Condition("v1_distinct_winners", f"{_NAMED}: distinct winners >= 2", ">=", 2),
        Condition("v1_not_descending", f"{_NAMED}: methods with f(x_T) >= f(x_0) <= 0", "<=",
                  0),
    )),
    Rule(2, (
        Condition("valley_hb_share", "valleys: share of instances with log10 gap_T(HB) <= "
                  f"log10 gap_T(GD) - {VALLEY_DECADES:g} >= {VALLEY_SHARE:g}", ">=",
                  VALLEY_SHARE),
        Condition("valley_nag_share", "valleys: share of instances with log10 gap_T(NAG) <= "
                  f"log10 gap_T(GD) - {VALLEY_DECADES:g} >= {VALLEY_SHARE:g}", ">=",
                  VALLEY_SHARE),
        Condition("valley_hb_bound", f"valleys: {CONFIDENCE:.0%} lower t bound of the mean of "
                  f"log10 gap_T(GD) - log10 gap_T(HB) >= {VALLEY_DECADES:g} decade", ">=",
                  VALLEY_DECADES),
        Condition("valley_nag_bound", f"valleys: {CONFIDENCE:.0%} lower t bound of the mean of "
                  f"log10 gap_T(GD) - log10 gap_T(NAG) >= {VALLEY_DECADES:g} decade", ">=",
                  VALLEY_DECADES),
        Condition("adagrad_share", "share of instances where Adagrad has more working lrs "
                  f"(gap_T <= {GOOD_FACTOR:g} gap_0) than GD >= {ROBUST_SHARE:g}", ">=",
                  ROBUST_SHARE),
        Condition("adagrad_bound", f"{CONFIDENCE:.0%} lower t bound of the mean of #working "
                  "lrs(Adagrad) - #working lrs(GD) > 0", ">", 0.0),
        Condition("adagrad_diverged", "Adagrad runs diverged, every lr and instance <= 0", "<=",
                  0),
        Condition("top_winner_share", "share of the instances won by the most frequent winner "
                  f"(lowest mean log-gap, ties shared) <= {TOP_SHARE:g}", "<=", TOP_SHARE),
        Condition("not_descending", "(instance, method) pairs with f(x_T) >= f(x_0) at the "
                  "chosen lr <= 0", "<=", 0),
        Condition("control_bowl_hb_share", "control, isotropic bowls: share with log10 "
                  f"gap_T(HB) <= log10 gap_T(GD) - {VALLEY_DECADES:g} < {VALLEY_SHARE:g}", "<",
                  VALLEY_SHARE, role="control"),
        Condition("control_bowl_nag_share", "control, isotropic bowls: share with log10 "
                  f"gap_T(NAG) <= log10 gap_T(GD) - {VALLEY_DECADES:g} < {VALLEY_SHARE:g}", "<",
                  VALLEY_SHARE, role="control"),
        Condition("control_bowl_top_share", "control, isotropic bowls: share won by the most "
                  f"frequent winner > {TOP_SHARE:g}", ">", TOP_SHARE, role="control"),
        Condition("control_no_accumulator_share", "control, Adagrad with eps = 1e30 (GD): share "
                  f"of instances with more working lrs than GD < {ROBUST_SHARE:g}", "<",
                  ROBUST_SHARE, role="control"),
    ), note="rule 1 judged one start per problem, and its 'at least 2 distinct winners' could "
            "hardly fail; rule 2 compares the methods over a family of starts with shares fixed "
            "in advance and t bounds, and adds controls that must violate the claims"),
)
BOUND = RULES[-1].text


@dataclass(frozen=True)
class Variant:
    """One optimizer configuration: ``key`` (its name in files and figures), the optimizer
    class name in :mod:`optimizers`, its hyperparameters (besides ``lr``) and its family."""

    key: str
    cls: str
    kwargs: dict = field(default_factory=dict)
    family: str = ""
    #: the optimizer's ``lr`` is ``lr_scale`` times the grid's rate (1 but for the control)
    lr_scale: float = 1.0

    def make(self, params, lrs):
        """The optimizer over ``params``, one parameter group (with its own ``lr``) each."""
        groups = [{"params": [p], "lr": float(lr) * self.lr_scale}
                  for p, lr in zip(params, lrs, strict=True)]
        return getattr(optimizers, self.cls)(groups, **self.kwargs)


VARIANTS = (
    Variant("GD", "SGD", {}, "GD"),
    Variant("Momentum", "Momentum", {"momentum": 0.9}, "Momentum"),
    Variant("NAG", "NAG", {"momentum": 0.9}, "NAG"),
    Variant("Adagrad", "Adagrad", {"eps": 1e-7}, "Adagrad"),
    Variant("RMSProp", "RMSProp", {"gamma": 0.9}, "RMSProp"),
    Variant("Adadelta", "Adadelta", {}, "Adadelta"),
    Variant("Adam", "Adam", {"betas": (0.9, 0.999)}, "Adam"),
    Variant("Adagrad eps=0.1", "Adagrad", {"eps": 0.1}, "Adagrad"),
    Variant("Adagrad eps=10", "Adagrad", {"eps": 10.0}, "Adagrad"),
    Variant("RMSProp gamma=0.5", "RMSProp", {"gamma": 0.5}, "RMSProp"),
    Variant("RMSProp gamma=0.99", "RMSProp", {"gamma": 0.99}, "RMSProp"),
    Variant("Adam beta2=0.9", "Adam", {"betas": (0.9, 0.9)}, "Adam"),
    Variant("Adam beta2=0.99", "Adam", {"betas": (0.9, 0.99)}, "Adam"),
    # the control of claim 2: Adagrad with its accumulator swamped by eps (step
    # lr g / sqrt(sum g^2 + 1e30) = (lr / 1e15) g while sum g^2 << 1e30: GD), lr scaled by
    # sqrt(eps) = 1e15 so that its effective rates are the grid's
    Variant(NO_ACCUMULATOR, "Adagrad", {"eps": 1e30}, "Adagrad", lr_scale=1e15),
)
#: the variants run on every instance of the family (the seven methods and the control)
FAMILY_VARIANTS = MAIN + (NO_ACCUMULATOR,)
#: L0's parameter panels: the variants drawn together (the first is the main method)
SWEEPS = {
    "Adagrad, eps": ("Adagrad", "Adagrad eps=0.1", "Adagrad eps=10"),
    "RMSProp, gamma": ("RMSProp gamma=0.5", "RMSProp", "RMSProp gamma=0.99"),
    "Adam, beta2": ("Adam beta2=0.9", "Adam beta2=0.99", "Adam"),
}
#: the value of the swept parameter of each sweep variant (for labels)
SWEEP_VALUE = {"Adagrad": "eps=1e-7", "Adagrad eps=0.1": "eps=0.1", "Adagrad eps=10": "eps=10",
               "RMSProp gamma=0.5": "gamma=0.5", "RMSProp": "gamma=0.9",
               "RMSProp gamma=0.99": "gamma=0.99", "Adam beta2=0.9": "beta2=0.9",
               "Adam beta2=0.99": "beta2=0.99", "Adam": "beta2=0.999"}

FULL = {"steps": 1000, "lr_exponents": tuple(np.arange(-3.0, 1.01, 0.5)), "problems": PROBLEMS,
        "gif": True, "starts": 3, "bowls": 10}
QUICK = {"steps": 150, "lr_exponents": (-3.0, -2.0, -1.0, 0.0, 1.0),
         "problems": ("rectangles", "hills_and_canyon", "ravine", "rosenbrock", "beale"),
         "gif": False, "starts": 1, "bowls": 4}


# ----------------------------------------------------------------------------- problems
def make_problem(name: str, backend: str = "numpy"):
    """The problem called ``name`` (a landscape, "rosenbrock" or "beale") on ``backend``."""
    if name in P.LANDSCAPES:
        problem = P.landscape(name)
    elif name == "rosenbrock":
        problem = P.Rosenbrock()
    elif name == "beale":
        problem = P.Beale()
    else:
        raise ValueError(f"trajectories: unknown problem {name!r}; choose one of {PROBLEMS}")
    return problem if problem.backend == backend else problem.to(backend)


def batched_value_and_grad(problem, points):
    r"""``(f(p_i), \nabla f(p_i))`` for every row :math:`p_i` of ``points`` (shape ``(N, 2)``),
    in one vectorised evaluation: the problem's objective on the last axis (``_f_batched``, the
    form behind ``problem.values``), differentiated through :math:`\sum_i f(p_i)`."""
    with mg.use_backend(mg.backend.backend_name_of(points)):  # the points' backend, not the default
        X = mg.Tensor(points, requires_grad=True)
    values = problem._f_batched(X)
    mg.sum(values).backward()
    return values.data, X.grad


# ----------------------------------------------------------------------------- the runs
def _start_at(problem, point):
    """A fresh parameter at ``point`` (a host point; None: the problem's ``x0``)."""
    if point is None:
        return problem.start()
    with mg.use_backend(problem.backend):
        return mg.Tensor(mg.backend.asarray(point, dtype=problem.dtype, backend=problem.backend),
                         requires_grad=True)


def batched_runs(problem, variants, lrs, steps: int, starts=None) -> dict:
    r"""Run every variant with every learning rate for ``steps`` steps from ``problem.x0`` (or,
    with ``starts``, from each of those host points).

    Returns host arrays: ``f`` of shape ``(steps + 1, V, L)`` (:math:`f(x_k)`, NaN once a run has
    diverged), ``x`` of shape ``(steps + 1, V, L, 2)`` (the iterates) and ``diverged_at``
    ``(V, L)`` (the first iteration found diverged, -1 for none), and ``seconds``; with
    ``starts``, an axis of length ``S = len(starts)`` after the variants' (``(steps + 1, V, S,
    L)``, ...).
    """
    xp = mg.get_array_module(problem.x0)
    lrs = [float(a) for a in lrs]
    points = [None] if starts is None else list(starts)
    V, S, L = len(variants), len(points), len(lrs)
    params, plain, with_closure = [], [], []
    for v in variants:
        ps = [_start_at(problem, pt) for pt in points for _ in lrs]
        opt = v.make(ps, lrs * S)
        params += ps
        (with_closure if isinstance(opt, optimizers.NAG) else plain).append(opt)
    N = V * S * L
    f_out = np.full((steps + 1, N), np.nan)
    x_out = np.full((steps + 1, N, 2), np.nan)
    diverged_at = np.full(N, -1)
    alive = np.ones(N, dtype=bool)
    current = {}

    def closure():
        # every parameter's gradient at its current point (NAG's: at its look-ahead point),
        # and f at the iterates x_k of this step, in one evaluation of 2N points
        here = xp.stack([p.data for p in params])
        values, grads = batched_value_and_grad(problem, xp.concatenate([here, current["x"]]))
        for i, p in enumerate(params):
            p.grad = grads[i] if alive[i] else None
        current["f"] = values[N:]

    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            current["x"] = xp.stack([p.data for p in params])
            if k == steps:
                current["f"] = batched_value_and_grad(problem, current["x"])[0]
            elif with_closure:
                for opt in with_closure:
                    opt.step(closure)
            else:
                closure()
            fk = mg.to_numpy(current["f"]).astype(float)
            xk = mg.to_numpy(current["x"]).astype(float)
            bad = alive & (~np.isfinite(fk) | ~np.all(np.abs(xk) <= DIVERGED_RADIUS, axis=1))
            diverged_at[bad] = k
            alive &= ~bad
            f_out[k, alive] = fk[alive]
            x_out[k, alive] = xk[alive]
            if k == steps:
                break
            for i in np.nonzero(~alive)[0]:
                params[i].grad = None                       # a diverged run stays where it is
            for opt in plain:
                opt.step()
    shape = (V, L) if starts is None else (V, S, L)
    return {"f": f_out.reshape((steps + 1,) + shape),
            "x": x_out.reshape((steps + 1,) + shape + (2,)),
            "diverged_at": diverged_at.reshape(shape), "seconds": time.perf_counter() - t0}


def run_problem(name: str, out_dir, *, steps: int, lrs, backend: str = "numpy",
                variants=VARIANTS, grid_n: int = 161, quick: bool = False) -> pathlib.Path:
    """All runs on one problem, saved with the problem's constants and a contour grid as
    ``runs_<name>.npz``."""
    problem = make_problem(name, backend)
    res = batched_runs(problem, variants, lrs, steps)
    gx, gy, gz = (mg.to_numpy(a) for a in problem.grid(grid_n))
    meta = {"problem": name, "steps": steps, "backend": backend, "quick": quick,
            "seconds": round(res["seconds"], 3),
            "variants": [{"key": v.key, "cls": v.cls, "family": v.family,
                          "kwargs": {k: list(a) if isinstance(a, tuple) else a
                                     for k, a in v.kwargs.items()}} for v in variants]}
    path = pathlib.Path(out_dir) / f"runs_{name}.npz"
    np.savez_compressed(
        path, f=res["f"], x=res["x"].astype(np.float32), diverged_at=res["diverged_at"],
        lrs=np.asarray(lrs, dtype=float), keys=np.asarray([v.key for v in variants]),
        f_star=float(problem.f_star), x_star=mg.to_numpy(problem.x_star).astype(float),
        x0=mg.to_numpy(problem.x0).astype(float), bounds=np.asarray(problem.bounds, dtype=float),
        grid_x=gx.astype(np.float32), grid_y=gy.astype(np.float32), grid_f=gz.astype(float),
        meta=np.asarray(json.dumps(meta)))
    return path


def load_runs(out_dir) -> dict:
    """``{problem: data}`` from the saved ``runs_<problem>.npz`` files, in PROBLEMS order."""
    out = {}
    folder = pathlib.Path(out_dir)
    for name in PROBLEMS:
        path = folder / f"runs_{name}.npz"
        if not path.exists():
            continue
        with np.load(path, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
        d["keys"] = [str(k) for k in d["keys"]]
        d["meta"] = json.loads(str(d["meta"]))
        d["f_star"] = float(d["f_star"])
        out[name] = d
    if not out:
        raise FileNotFoundError(f"trajectories: no runs_*.npz in {folder}")
    return out


def _save_runs(path, res, index, variants, lrs, problem, x0, meta) -> pathlib.Path:
    """One instance of a batched family run (start ``index`` of ``res``) as ``path``."""
    np.savez_compressed(
        path, f=res["f"][:, :, index], x=res["x"][:, :, index].astype(np.float32),
        diverged_at=res["diverged_at"][:, index], lrs=np.asarray(lrs, dtype=float),
        keys=np.asarray([v.key for v in variants]), f_star=float(problem.f_star),
        x_star=mg.to_numpy(problem.x_star).astype(float), x0=np.asarray(x0, dtype=float),
        bounds=np.asarray(problem.bounds, dtype=float), meta=np.asarray(json.dumps(meta)))
    return path


def run_starts(name: str, out_dir, *, steps: int, lrs, count: int, seed: int,
               backend: str = "numpy", quick: bool = False) -> list:
    """The family's random starts on one problem (:func:`trajectory_family.random_starts`):
    every variant of FAMILY_VARIANTS with every lr from each start, batched, saved as
    ``start<j>_<name>.npz`` (j = 1..count)."""
    problem = make_problem(name, backend)
    starts = TF.random_starts(mg.to_numpy(problem.x0), problem.bounds, count,
                              TF.STARTS_SEED + 1000 * seed + PROBLEMS.index(name))
    variants = [v for v in VARIANTS if v.key in FAMILY_VARIANTS]
    res = batched_runs(problem, variants, lrs, steps, starts=starts)
    return [_save_runs(pathlib.Path(out_dir) / f"start{j}_{name}.npz", res, j - 1, variants,
                       lrs, problem, x0, {"problem": name, "instance": j, "steps": steps,
                                          "backend": backend, "quick": quick, "kind": "start"})
            for j, x0 in enumerate(starts, start=1)]


def run_bowls(out_dir, *, steps: int, lrs, count: int, seed: int, backend: str = "numpy",
              quick: bool = False) -> list:
    """The control bowls (:func:`trajectory_family.bowl_instances`): the seven methods with
    every lr, saved as ``bowl<j>.npz``."""
    variants = [v for v in VARIANTS if v.key in MAIN]
    paths = []
    for j, (c, x0) in enumerate(TF.bowl_instances(count, lrs, seed)):
        problem = TF.Bowl(c)
        problem = problem if problem.backend == backend else problem.to(backend)
        res = batched_runs(problem, variants, lrs, steps, starts=[x0])
        paths.append(_save_runs(pathlib.Path(out_dir) / f"bowl{j}.npz", res, 0, variants, lrs,
                                problem, x0, {"problem": "bowl", "instance": j, "curvature": c,
                                              "steps": steps, "backend": backend,
                                              "quick": quick, "kind": "bowl"}))
    return paths


def _load(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    d["keys"] = [str(k) for k in d["keys"]]
    d["meta"] = json.loads(str(d["meta"]))
    d["f_star"] = float(d["f_star"])
    return d


def load_family(out_dir) -> dict:
    """``{"landscape": [...], "bowls": [...]}``: the saved random-start and bowl runs, in
    PROBLEMS order then start number, and bowl number."""
    folder = pathlib.Path(out_dir)
    land = [_load(p) for p in folder.glob("start*_*.npz")]
    land.sort(key=lambda d: (PROBLEMS.index(d["meta"]["problem"]), d["meta"]["instance"]))
    bowls = sorted((_load(p) for p in folder.glob("bowl*.npz")),
                   key=lambda d: d["meta"]["instance"])
    return {"landscape": land, "bowls": bowls}


# ----------------------------------------------------------------------------- analysis
def log_gap(f, f_star: float):
    """``log10(max(f - f*, GAP_FLOOR))`` (NaN where ``f`` is NaN)."""
    with np.errstate(invalid="ignore"):
        return np.log10(np.maximum(np.asarray(f, dtype=float) - f_star, GAP_FLOOR))


def scores(d) -> np.ndarray:
    """The mean log-gap of every run, shape ``(V, L)``; ``inf`` for a run that diverged."""
    lg = log_gap(d["f"], d["f_star"])
    s = np.mean(lg, axis=0)
    return np.where(np.isnan(s), np.inf, s)


def analyse_problem(d) -> dict:
    """Chosen learning rates and the measured numbers of one problem."""
    keys, lrs = d["keys"], d["lrs"]
    f = d["f"]
    gap = f - d["f_star"]
    sc = scores(d)
    chosen = np.argmin(sc, axis=1)                       # ties: the smallest lr
    diverged = np.isnan(f[-1])
    final_lg = np.where(diverged, np.inf, log_gap(f[-1], d["f_star"]))
    good = ~diverged & (gap[-1] <= GOOD_FACTOR * gap[0])
    per = {}
    for v, key in enumerate(keys):
        j = int(chosen[v])
        per[key] = {"lr": float(lrs[j]), "index": j, "score": float(sc[v, j]),
                    "final_gap": float(gap[-1, v, j]), "final_log_gap": float(final_lg[v, j]),
                    "f0": float(f[0, v, j]), "f_end": float(f[-1, v, j]),
                    "descended": bool(f[-1, v, j] < f[0, v, j]),
                    "good_lrs": int(good[v].sum()), "diverged_lrs": int(diverged[v].sum()),
                    "at_grid_edge": j in (0, len(lrs) - 1)}
    main = [k for k in MAIN if k in per]
    winner = min(main, key=lambda k: per[k]["score"]) if main else None
    return {"methods": per, "winner": winner, "gap0": float(gap[0, 0, 0]),
            "n_lrs": len(lrs), "steps": int(f.shape[0] - 1)}


def _instance(per: dict, name: str, index: int) -> dict:
    """One instance of the family: a problem's analysis with its name, start and kind."""
    return dict(per, problem=name, instance=index, valley=name in VALLEYS or name == "bowl",
                label=f"{name}#{index}")


def analyse(out_dir) -> dict:
    """Every problem's numbers at its named start (rule 1), the comparisons over the family of
    instances and over the control bowls (rule 2), from the saved runs only."""
    runs = load_runs(out_dir)
    per = {name: analyse_problem(d) for name, d in runs.items()}
    # rule 1, at the named starts: momentum in valleys
    valley = {}
    for name in (n for n in VALLEYS if n in per):
        m = per[name]["methods"]
        gd = m["GD"]["final_log_gap"]
        valley[name] = {k: {"final_log_gap": m[k]["final_log_gap"],
                            "decades_below_gd": gd - m[k]["final_log_gap"]}
                        for k in ("Momentum", "NAG")}
        valley[name]["GD"] = {"final_log_gap": gd}
    # Adagrad's robustness to the learning rate
    good = {k: {n: per[n]["methods"][k]["good_lrs"] for n in per} for k in MAIN}
    div = {k: {n: per[n]["methods"][k]["diverged_lrs"] for n in per} for k in MAIN}
    total_good = {k: sum(good[k].values()) for k in MAIN}
    total_div = {k: sum(div[k].values()) for k in MAIN}
    winners = {n: per[n]["winner"] for n in per}
    not_descending = [(n, k) for n in per for k in MAIN if not per[n]["methods"][k]["descended"]]
    # rule 2: the family (named and random starts) and the control bowls
    fam = load_family(out_dir)
    instances = [_instance(per[n], n, 0) for n in per]
    instances += [_instance(analyse_problem(d), d["meta"]["problem"], d["meta"]["instance"])
                  for d in fam["landscape"]]
    bowls = [_instance(analyse_problem(d), "bowl", d["meta"]["instance"]) for d in fam["bowls"]]
    compare = {"faster": ("Momentum", "NAG"), "decades": VALLEY_DECADES, "cap": MARGIN_CAP,
               "adagrad": "Adagrad", "confidence": CONFIDENCE}
    family = TF.compare(instances, MAIN, control=NO_ACCUMULATOR, **compare)
    bowl = TF.compare(bowls, MAIN, control=None, **compare)
    return {"problems": per, "valley": valley, "good_lrs": good, "diverged_lrs": div,
            "total_good": total_good, "total_diverged": total_div, "winners": winners,
            "not_descending": not_descending, "family": family, "bowl": bowl,
            "instances": instances, "bowls": bowls}


def rule_values(a: dict) -> dict:
    """The measured numbers :data:`RULES` apply (every rule's keys, nothing else)."""
    fam, bowl = a["family"], a["bowl"]
    margins = [a["valley"][n][k]["decades_below_gd"] for n in a["valley"]
               for k in ("Momentum", "NAG")]
    return {
        "v1_valley_margin": min(margins) if margins else math.nan,
        "v1_good_lrs_excess": a["total_good"]["Adagrad"] - a["total_good"]["GD"],
        "v1_adagrad_diverged": a["total_diverged"]["Adagrad"],
        "v1_distinct_winners": len(set(a["winners"].values())),
        "v1_not_descending": len(a["not_descending"]),
        "valley_hb_share": fam["valley"]["Momentum"]["share"],
        "valley_nag_share": fam["valley"]["NAG"]["share"],
        "valley_hb_bound": fam["valley"]["Momentum"]["t"]["bound"],
        "valley_nag_bound": fam["valley"]["NAG"]["t"]["bound"],
        "adagrad_share": fam["robust"]["Adagrad"]["share"],
        "adagrad_bound": fam["robust"]["Adagrad"]["t"]["bound"],
        "adagrad_diverged": fam["adagrad_diverged"],
        "top_winner_share": fam["top_share"],
        "not_descending": len(fam["not_descending"]),
        "control_bowl_hb_share": bowl["valley"]["Momentum"]["share"],
        "control_bowl_nag_share": bowl["valley"]["NAG"]["share"],
        "control_bowl_top_share": bowl["top_share"],
        "control_no_accumulator_share": fam["robust"][NO_ACCUMULATOR]["share"],
    }


def _t_text(t: dict) -> str:
    return (f"95% lower t bound {t['bound']:.3g} (mean {t['mean']:.3g}, p {t['p']:.2g}, "
            f"d_z {t['effect']:.2g}, n {t['n']})")


def verdict(a: dict) -> dict:
    """PASS when every condition of the rule in force holds (module docstring)."""
    fam, bowl = a["family"], a["bowl"]
    values = rule_values(a)
    fv, fr = fam["valley"], fam["robust"]
    shares = ", ".join(f"{k} {v:.2f}" for k, v in fam["win_share"].items())
    bshares = ", ".join(f"{k} {v:.2f}" for k, v in bowl["win_share"].items())
    valley0 = "; ".join(
        f"{n}: GD {a['valley'][n]['GD']['final_log_gap']:.1f}, HB "
        f"{a['valley'][n]['Momentum']['final_log_gap']:.1f}, NAG "
        f"{a['valley'][n]['NAG']['final_log_gap']:.1f}" for n in a["valley"])
    tg, td = a["total_good"], a["total_diverged"]
    measured = (
        f"{fam['n_instances']} instances ({len(a['problems'])} problems x the named start and "
        f"{fam['n_instances'] // max(len(a['problems']), 1) - 1} random starts; "
        f"{fam['n_valley']} in valleys), {bowl['n_instances']} control bowls. "
        f"(1) valleys, share of instances with HB >= {VALLEY_DECADES:g} decade below GD "
        f"{fv['Momentum']['share']:.2f} (GD as far below HB: {fv['Momentum']['gd_share']:.2f}), "
        f"{_t_text(fv['Momentum']['t'])}; NAG {fv['NAG']['share']:.2f} (GD "
        f"{fv['NAG']['gd_share']:.2f}), {_t_text(fv['NAG']['t'])}. (2) instances where Adagrad "
        f"has more working lrs than GD {fr['Adagrad']['share']:.2f} (GD more: "
        f"{fr['Adagrad']['gd_share']:.2f}), difference {_t_text(fr['Adagrad']['t'])}; Adagrad "
        f"diverged {fam['adagrad_diverged']} runs. (3) share of instances won (ties shared): "
        f"{shares}; most frequent {fam['top']} {fam['top_share']:.2f}. (4) not descending: "
        f"{fam['not_descending'] or 'none'}. Controls: bowls, HB >= {VALLEY_DECADES:g} decade "
        f"below GD {bowl['valley']['Momentum']['share']:.2f}, NAG "
        f"{bowl['valley']['NAG']['share']:.2f}, wins {bshares}; Adagrad eps=1e30 more working "
        f"lrs than GD on {fr[NO_ACCUMULATOR]['share']:.2f} of the instances (GD more: "
        f"{fr[NO_ACCUMULATOR]['gd_share']:.2f}). Rule 1 (named starts): {valley0}; working lrs "
        f"Adagrad {tg['Adagrad']} vs GD {tg['GD']}, Adagrad diverged {td['Adagrad']}; winners "
        + ", ".join(f"{n} {w}" for n, w in a["winners"].items()) + ".")
    summary = (f"valleys: HB, NAG >= {VALLEY_DECADES:g} decade below GD on "
               f"{fv['Momentum']['share']:.2f}, {fv['NAG']['share']:.2f} of "
               f"{fam['n_valley']} instances; Adagrad more working lrs on "
               f"{fr['Adagrad']['share']:.2f}; top winner {fam['top']} "
               f"{fam['top_share']:.2f}; bowls: HB {bowl['valley']['Momentum']['share']:.2f}, "
               f"top {bowl['top']} {bowl['top_share']:.2f}")
    sweeps = {n: {k: {key: p["methods"][k][key] for key in ("lr", "score", "final_gap")}
                  for ks in SWEEPS.values() for k in ks if k in p["methods"]}
              for n, p in a["problems"].items()}
    return rule_verdict(
        RULES, values, claim=CLAIM, measured=measured, figure=FIGURE, summary=summary,
        winners=a["winners"], good_lrs=a["good_lrs"], diverged_lrs=a["diverged_lrs"],
        valley=a["valley"],
        chosen_lr={n: {k: p["methods"][k]["lr"] for k in p["methods"]}
                   for n, p in a["problems"].items()},
        mean_log_gap={n: {k: p["methods"][k]["score"] for k in MAIN}
                      for n, p in a["problems"].items()},
        sweeps=sweeps, instances=fam["n_instances"], valley_instances=fam["n_valley"],
        bowls=bowl["n_instances"],
        family={"valley_margins": {k: fv[k]["margins"] for k in fv},
                "valley_t": {k: fv[k]["t"] for k in fv},
                "working_lr_difference": {k: fr[k]["diff"] for k in fr},
                "working_lr_t": {k: fr[k]["t"] for k in fr},
                "win_share": fam["win_share"], "winners": fam["winners"],
                "labels": [d["label"] for d in a["instances"]],
                "not_descending": fam["not_descending"]},
        bowl={"valley_margins": {k: bowl["valley"][k]["margins"] for k in bowl["valley"]},
              "win_share": bowl["win_share"], "winners": bowl["winners"]})


# ----------------------------------------------------------------------------- figures
COLOR = {"GD": "k", "Momentum": "#332288", "NAG": "#88CCEE", "Adagrad": "#117733",
         "RMSProp": "#CC6677", "Adadelta": "#AA4499", "Adam": "#882255"}
SWEEP_COLORS = ("#117733", "#882255", "#332288")
TITLE = {"rectangles": "rectangles", "spikes": "spikes", "basins_and_walls": "basins and walls",
         "hills_and_canyon": "hills and canyon", "ravine": "ravine", "rosenbrock": "Rosenbrock",
         "beale": "Beale"}


def _contour(ax, d):
    """Filled contours of log10(f - f* + 1e-3) over the problem's window, x0 and x*."""
    gz = np.log10(np.maximum(d["grid_f"] - d["f_star"], 0.0) + 1e-3)
    (xl, xh), (yl, yh) = d["bounds"]
    cs = ax.contourf(d["grid_x"], d["grid_y"], gz, levels=20, cmap="viridis")
    ax.contour(d["grid_x"], d["grid_y"], gz, levels=10, colors="k", linewidths=0.3, alpha=0.4)
    ax.set_xlim(xl, xh)
    ax.set_ylim(yl, yh)
    ax.plot(*d["x0"], "o", color="white", mec="k", ms=7, zorder=5, label="start $x_0$")
    ax.plot(*d["x_star"], "*", color="red", mec="white", ms=13, zorder=6, label="optimum $x^*$")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return cs


def _paths(ax, ax_gap, d, keys, per, colors, labels):
    """Each variant's path at its chosen lr on ``ax`` (end marked), its f - f* on ``ax_gap``."""
    k_axis = np.arange(d["f"].shape[0])
    for key, color, label in zip(keys, colors, labels):
        v = d["keys"].index(key)
        j = per[key]["index"]
        xy = d["x"][:, v, j].astype(float)
        lr = per[key]["lr"]
        ax.plot(xy[:, 0], xy[:, 1], "-", color=color, lw=1.2, alpha=0.95)
        ok = np.isfinite(xy[:, 0])
        if ok.any():
            end = xy[ok][-1]
            ax.plot(*end, "s", color=color, mec="white", ms=5.5, zorder=7)
        ax_gap.plot(k_axis, log_gap(d["f"][:, v, j], d["f_star"]), color=color, lw=1.2,
                    label=f"{label}, lr={fmt(lr, 2)}: end {fmt(per[key]['final_gap'], 2)}")
    ax_gap.set_xlabel("iteration k")
    ax_gap.set_ylabel(f"log10(f(x_k) - f*)  (floor {GAP_FLOOR:g})")
    top = float(np.log10(max(np.nanmax(d["f"][0]) - d["f_star"], 1.0)))
    ax_gap.set_ylim(math.log10(GAP_FLOOR) - 0.5, top + 3)
    ax_gap.legend(fontsize=6.2, loc="lower left")


def _panel_valleys(ax, a):
    """Claim 1 and its control: the decades GD ends above HB and NAG, per instance."""
    from experiments import plotting as plot

    fv, bv = a["family"]["valley"], a["bowl"]["valley"]
    strip(ax, [("HB, valleys", fv["Momentum"]["margins"], COLOR["Momentum"]),
                ("NAG, valleys", fv["NAG"]["margins"], COLOR["NAG"]),
                ("HB, bowls (control)", bv["Momentum"]["margins"], "0.5"),
                ("NAG, bowls (control)", bv["NAG"]["margins"], "0.7")],
           VALLEY_DECADES, "log10 gap_T(GD) - log10 gap_T(method)",
           f"Decades below GD per instance (dashed: {VALLEY_DECADES:g}; bar: mean)")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.45 * (hi - lo))                  # room for the verdict box
    failed = [c for c in RULES[-1].conditions if not c.holds(rule_values(a)[c.key])]
    plot.decisive(ax, label=f"conditions of rule {RULES[-1].version} failed "
                            f"(of {len(RULES[-1].conditions)})",
                  value=len(failed), threshold=0, loc="upper right")


def _panel_robust(ax, a):
    """Claim 2 and its control: working rates minus GD's, per instance."""
    fr = a["family"]["robust"]
    strip(ax, [("Adagrad - GD", fr["Adagrad"]["diff"], COLOR["Adagrad"]),
                ("Adagrad eps=1e30 - GD (control)", fr[NO_ACCUMULATOR]["diff"], "0.5")],
           0.5, f"#lrs with gap_T <= {GOOD_FACTOR:g} gap_0, minus GD's",
           "Working lrs minus GD's, per instance")


def _panel_winners(ax, a):
    """Claim 3 and its control: each method's share of the instances it wins."""
    x = np.arange(len(MAIN))
    ax.bar(x - 0.2, [a["family"]["win_share"][k] for k in MAIN], 0.4,
           color=[COLOR[k] for k in MAIN])
    ax.bar(x + 0.2, [a["bowl"]["win_share"][k] for k in MAIN], 0.4, color="0.6")
    ax.axhline(TOP_SHARE, color="k", ls=(0, (5, 2)), lw=1.0)
    ax.set_xticks(x)
    ax.set_xticklabels(MAIN, fontsize=6.5, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of instances won (ties shared)")
    ax.set_title(f"Winners' shares: colour, {a['family']['n_instances']} landscape instances;"
                 f"\ngrey, {a['bowl']['n_instances']} bowls (control); dashed {TOP_SHARE:g}",
                 fontsize=7.5)


FAMILY_PANELS = (_panel_valleys, _panel_robust, _panel_winners)


def draw(out_dir, details: bool | None = None) -> pathlib.Path:
    """The overview figure (paths of the seven methods and their f - f* on every problem) and,
    with ``details`` (default: when the saved runs are a full run, not ``--quick``), one figure
    per problem with L0's parameter sweeps and the learning-rate sweep; from the saved runs
    only. Returns the overview's path."""
    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    a = analyse(out_dir)
    runs = load_runs(out_dir)
    names = list(runs)
    n_rows = math.ceil((2 * len(names) + 2 + len(FAMILY_PANELS)) / 4)
    fig, axes = plot.subplots(n_rows, 4, width=4.0, height=3.3,
                              title="Trajectories at each method's chosen lr (lowest mean "
                                    "log10(f - f*) over the grid); square: end, star: x*")
    for i, name in enumerate(names):
        d, per = runs[name], a["problems"][name]["methods"]
        ax, ax_gap = axes[2 * i], axes[2 * i + 1]
        ax.grid(False)
        _contour(ax, d)
        _paths(ax, ax_gap, d, MAIN, per, [COLOR[k] for k in MAIN], MAIN)
        ax.set_title(f"{TITLE[name]}: paths (contours log10(f - f* + 1e-3))", fontsize=8.5)
        ax_gap.set_title(f"{TITLE[name]}: f - f*, winner {a['winners'][name]}", fontsize=8.5)
        if i == 0:
            ax.legend(fontsize=6.5, loc="lower right")
    # learning-rate robustness: good lrs per method and problem
    ax = axes[2 * len(names)]
    width = 0.8 / len(MAIN)
    xs = np.arange(len(names))
    for m, key in enumerate(MAIN):
        ax.bar(xs + (m - len(MAIN) / 2 + 0.5) * width, [a["good_lrs"][key][n] for n in names],
               width, color=COLOR[key], label=f"{key} (total {a['total_good'][key]})")
    ax.set_xticks(xs)
    ax.set_xticklabels([TITLE[n] for n in names], rotation=30, fontsize=6.5, ha="right")
    ax.set_ylabel(f"lrs of the grid with gap_T <= {GOOD_FACTOR:g} gap_0")
    ax.set_title("Robustness to the lr: how many lrs of the grid work", fontsize=8.5)
    ax.set_ylim(top=3.2 * ax.get_ylim()[1])  # room for the verdict, then the legend
    ax.legend(fontsize=6, ncol=2, loc="upper left", bbox_to_anchor=(0.0, 0.83))
    ax = axes[2 * len(names) + 1]
    S = np.array([[a["problems"][n]["methods"][k]["score"] for n in names] for k in MAIN])
    im = ax.imshow(S, cmap="viridis_r", aspect="auto")
    for (r, c), s in np.ndenumerate(S):
        ax.text(c, r, f"{s:.1f}", ha="center", va="center", fontsize=6,
                color="k" if s < np.median(S) else "white")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([TITLE[n] for n in names], rotation=30, fontsize=6.5, ha="right")
    ax.set_yticks(range(len(MAIN)))
    ax.set_yticklabels(MAIN, fontsize=7)
    ax.set_title("Mean log10(f - f*) at the chosen lr (lower is better)", fontsize=8.5)
    ax.grid(False)
    fig.colorbar(im, ax=ax, fraction=0.046)
    first = 2 * len(names) + 2
    for ax, panel in zip(axes[first:], FAMILY_PANELS):
        panel(ax, a)
    for ax in axes[first + len(FAMILY_PANELS):]:
        ax.set_visible(False)
    path = plot.save(fig, out_dir / FIGURE, dpi=80)
    if details is None:
        details = not any(d["meta"].get("quick") for d in runs.values())
    for name in names if details else ():
        draw_problem(out_dir, name, runs[name], a["problems"][name]["methods"])
    return path


def draw_problem(out_dir, name, d, per) -> pathlib.Path:
    """L0's parameter panels on one problem (paths and f - f* of each sweep) and the mean
    log-gap of every method against the learning rate."""
    from experiments import plotting as plot

    fig, axes = plot.subplots(2, 4, width=4.0, height=3.3,
                              title=f"{TITLE[name]}: L0's parameter sweeps (each variant at its "
                                    f"own chosen lr) and the learning-rate sweep")
    for s, (sweep, keys) in enumerate(SWEEPS.items()):
        keys = [k for k in keys if k in d["keys"]]
        ax, ax_gap = axes[2 * s], axes[2 * s + 1]
        ax.grid(False)
        _contour(ax, d)
        _paths(ax, ax_gap, d, keys, per, SWEEP_COLORS, [f"{sweep.split(',')[0]} "
                                                        f"{SWEEP_VALUE[k]}" for k in keys])
        ax.set_title(f"{sweep}: paths", fontsize=8.5)
        ax_gap.set_title(f"{sweep}: f - f*", fontsize=8.5)
    ax = axes[6]
    sc = scores(d)
    for key in MAIN:
        v = d["keys"].index(key)
        s = np.where(np.isfinite(sc[v]), sc[v], np.nan)
        ax.semilogx(d["lrs"], s, "o-", color=COLOR[key], ms=3, lw=1.1, label=key)
        ax.plot(per[key]["lr"], per[key]["score"], "*", color=COLOR[key], ms=10)
    ax.set_xlabel("learning rate (missing points: diverged)")
    ax.set_ylabel("mean log10(f - f*) over the run")
    ax.set_title("The lr rule: the lowest point (star) of each curve", fontsize=8.5)
    ax.legend(fontsize=6.5)
    ax = axes[7]
    sweep_keys = [k for ks in SWEEPS.values() for k in ks if k in d["keys"]]
    for i, key in enumerate(sweep_keys):
        ax.barh(i, per[key]["score"], color=COLOR[d["meta"]["variants"][d["keys"].index(key)]
                                                   ["family"]])
        ax.text(per[key]["score"], i, f" lr {fmt(per[key]['lr'], 2)}", va="center", fontsize=6)
    ax.set_yticks(range(len(sweep_keys)))
    ax.set_yticklabels([f"{k.split()[0]} {SWEEP_VALUE[k]}" for k in sweep_keys], fontsize=6.5)
    ax.set_xlabel("mean log10(f - f*) at the chosen lr")
    ax.set_title("Sweeps: lower is better", fontsize=8.5)
    return plot.save(fig, pathlib.Path(out_dir) / f"trajectories_{name}.png", dpi=80)


def animate(out_dir, name: str, *, frames: int = 30, dpi: int = 50) -> pathlib.Path | None:
    """A GIF of the seven methods' paths on one problem (from the saved runs; frames at
    geometrically spaced iterations), or None when Pillow is missing."""
    try:
        from matplotlib.animation import PillowWriter
    except ImportError:  # pragma: no cover - Pillow is a matplotlib dependency
        return None
    import matplotlib.pyplot as plt

    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    d = load_runs(out_dir)[name]
    per = analyse_problem(d)["methods"]
    fig, (ax,) = plot.subplots(1, 1, width=5.0, height=3.8)
    ax.grid(False)
    _contour(ax, d)
    T = d["f"].shape[0] - 1
    ks = np.unique(np.round(np.geomspace(1, T, frames)).astype(int))
    lines = []
    for key in MAIN:
        (line,) = ax.plot([], [], "-", color=COLOR[key], lw=1.3, label=key)
        (dot,) = ax.plot([], [], "o", color=COLOR[key], mec="white", ms=5)
        lines.append((line, dot, d["x"][:, d["keys"].index(key), per[key]["index"]]))
    ax.legend(fontsize=6, loc="lower right")
    title = ax.set_title("", fontsize=9)
    plot.tight_layout(fig)
    path = out_dir / f"trajectories_{name}.gif"
    writer = PillowWriter(fps=6)
    with writer.saving(fig, str(path), dpi):
        for k in ks:
            for line, dot, xy in lines:
                line.set_data(xy[:k + 1, 0], xy[:k + 1, 1])
                ok = np.isfinite(xy[:k + 1, 0])
                if ok.any():
                    dot.set_data([xy[:k + 1][ok][-1, 0]], [xy[:k + 1][ok][-1, 1]])
            title.set_text(f"{TITLE[name]}: iteration {k} of {T} (each method at its chosen lr)")
            writer.grab_frame()
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- experiment
@register("trajectories", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    """Every method and variant with every lr of the grid on every problem; save, draw, check."""
    out_dir = pathlib.Path(out_dir)
    budget = QUICK if quick else FULL
    lrs = [10.0 ** e for e in budget["lr_exponents"]]
    for pattern in ("runs_*.npz", "start*_*.npz", "bowl*.npz", "trajectories_*.png",
                    "trajectories_*.gif"):
        for stale in out_dir.glob(pattern):                 # from an earlier run in this folder
            stale.unlink()
    for name in budget["problems"]:
        run_problem(name, out_dir, steps=budget["steps"], lrs=lrs, backend=backend, quick=quick)
        run_starts(name, out_dir, steps=budget["steps"], lrs=lrs, count=budget["starts"],
                   seed=seed, backend=backend, quick=quick)
    run_bowls(out_dir, steps=budget["steps"], lrs=lrs, count=budget["bowls"], seed=seed,
              backend=backend, quick=quick)
    draw(out_dir)
    if budget["gif"]:
        for name in budget["problems"]:
            animate(out_dir, name)
    return verdict(analyse(out_dir))
