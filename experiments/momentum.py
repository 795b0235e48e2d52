r"""Heavy-ball momentum on ill-conditioned quadratics, without and with gradient noise (L0, L2,
L3; docs/lectures.md sections 1 and 2).

**Without noise** (Polyak 1964). On a quadratic with spectrum in :math:`[\mu,L]`,
:math:`\kappa=L/\mu`, the heavy ball :math:`v\leftarrow\beta v-\alpha\nabla f(w)`,
:math:`w\leftarrow w+v` (``optimizers.Momentum``, its default ``form="velocity"``:
``lr`` is :math:`\alpha`, ``momentum`` is :math:`\beta`) with the optimal parameters

.. math:: \alpha^*=\frac4{(\sqrt L+\sqrt\mu)^2},\qquad
          \beta^*=\Bigl(\frac{\sqrt\kappa-1}{\sqrt\kappa+1}\Bigr)^2

converges as :math:`\rho_{HB}^k` with :math:`\rho_{HB}=\sqrt{\beta^*}=\frac{\sqrt\kappa-1}{\sqrt\kappa+1}`
(every 2x2 block of the iteration matrix has complex eigenvalues of modulus :math:`\sqrt{\beta^*}`;
at :math:`\lambda=\mu` and :math:`\lambda=L` a double one, hence a factor :math:`k`), where GD with
its best step :math:`2/(\mu+L)` converges as :math:`\rho_{GD}^k`,
:math:`\rho_{GD}=\frac{\kappa-1}{\kappa+1}`: :math:`O(\sqrt\kappa\log\frac1\varepsilon)` iterations
instead of :math:`O(\kappa\log\frac1\varepsilon)`. Measured: the rate :math:`\hat\rho` fitted to
:math:`\log\|x_k-x^*\|` on the tail of each run (for the heavy ball the model
:math:`\log\|x_k-x^*\|=c+\log k+k\log\hat\rho`, with the power of :math:`k` fitted too, the form
that the double eigenvalue gives). Check: :math:`|\log\hat\rho/\log\rho-1|\le0.1` for both methods
at every :math:`\kappa` (the iterations per decade within 10% of the theory). This part is
deterministic (no noise, a fixed start): one run per :math:`\kappa` gives the rate exactly, up to
the fit on its tail.

**With noise** (L2: "momentum does not improve the SGD rate, only constants"). The gradient is
:math:`\nabla f(x)+\xi`, :math:`\xi\sim N(0,s^2I)` i.i.d. The stationary mean gap of the
heavy ball with a constant step (an AR(2) process per eigenvalue :math:`\lambda_i`; :math:`\beta=0`
is SGD) is

.. math:: F(\alpha,\beta)=\sum_i\frac{\alpha s^2(1+\beta)}{2(1-\beta)\,(2(1+\beta)-\alpha\lambda_i)}
          \approx\frac{\alpha}{1-\beta}\,\frac{ns^2}{4},

a function of the *effective step* :math:`\alpha/(1-\beta)` only, to first order: momentum acts as
SGD with a larger step, faster and with a higher floor, no better. Runs (``S`` seeds, the same
noise sequence in every arm of a regime: paired):

* constant steps: SGD with :math:`\alpha=0.1/L`; the heavy ball with :math:`\beta=0.9` and the
  same effective step (:math:`\alpha=0.01/L`); the heavy ball with :math:`\beta=0.9` and the same
  :math:`\alpha=0.1/L` (effective step 10 times larger). Each seed's floor is the mean of its
  gap over the second half of the run. Check: each arm's mean floor within 15% of :math:`F`, and
  the floor of the heavy ball at the same effective step within a factor 1.25 of SGD's;
* decreasing steps :math:`\alpha_k=\frac{2/\mu}{k+k_0}` (SGD) and :math:`\alpha_k(1-\beta)` with
  :math:`\beta=0.9` (heavy ball): both gaps decay as :math:`O(1/k)`, and the heavy ball does not
  decay faster. Check: the fitted slopes of :math:`\log(f(x_k)-f^*)` against
  :math:`\log(k+k_0)` on the last decade (of each seed) in :math:`[-1.15,-0.85]`, the heavy
  ball's not steeper by more than 0.1, and the ratio of the constants
  :math:`(k+k_0)(f(x_k)-f^*)` (heavy ball over SGD) in :math:`[0.7, 1.4]`. (For SGD the constant
  tends to :math:`\sum_i\frac{\lambda_ic^2s^2}{2(2c\lambda_i-1)}`, :math:`c=2/\mu`, shown for
  reference.)

**The rule in force** (version 2, :data:`RULES`; thresholds of version 1, now applied to
confidence bounds). Without noise: the rate condition above. With noise, every comparison is a
one-sided t-test at 95% over the ``S`` seeds (:func:`experiments.stats.one_sided_t`,
:math:`S-1` degrees of freedom); "within" is an equivalence test, both one-sided bounds inside
the interval. Floors: per arm, the bounds of the mean of floor/:math:`F` in
:math:`[0.85,1.15]`; the same effective step: the bounds of the mean paired
:math:`\ln(\text{floor}_{HB}/\text{floor}_{SGD})` in :math:`[-\ln1.25,\ln1.25]` (printed as the
geometric-mean ratio, in :math:`[0.8,1.25]`). Decreasing steps: per arm, the bounds of the mean
per-seed slope in :math:`[-1.15,-0.85]`; the lower bound of the mean paired slope difference
(HB minus SGD) at least :math:`-0.1`; the bounds of the geometric-mean paired ratio of the
constants in :math:`[0.7,1.4]`. The p-values and effect sizes (Cohen's :math:`d_z`) of each test
are in the verdict. The thresholds are those of version 1, fixed from the theory before any
run: 10% on the iterations per decade; 15% on the floor (the first-order formula
:math:`\frac{\alpha}{1-\beta}\frac{ns^2}4` differs from :math:`F` by a few percent here); a
factor 1.25 between floors that the theory says are equal to first order; slopes of
:math:`O(1/k)` within 0.15.

**The controls** (same run), each required to violate the claim's bound:

* the heavy ball at :math:`(\alpha^*/2,\beta^*)`, non-optimal parameters, on the same
  quadratics: its fitted rate must miss :math:`\rho_{HB}` by more than 10% at every
  :math:`\kappa` (it converges, more slowly: at :math:`\lambda=\mu` the roots become real);
* GD at :math:`2/(\mu+L)` held to the heavy ball's rate: more than 10% off at every
  :math:`\kappa` (GD does not reach the accelerated rate; no extra run);
* the heavy ball at the same :math:`\alpha` (effective step 10 times larger, an arm of the run):
  the lower bound of its geometric-mean floor ratio to SGD must exceed 1.25, so the equivalence
  test rejects it;
* SGD with :math:`\alpha_k=\frac{0.1/\mu}{k+k_0}`, so :math:`2c\mu=0.2<1`, outside the
  :math:`O(1/k)` theorem (which needs :math:`2c\mu>1`): the lower bound of its mean per-seed
  slope must exceed :math:`-0.85`. The expected gap of this schedule, computed from the
  variance recursion per eigenvalue before the run, has the slope :math:`-0.65` on the last
  decade of 10 000 steps and :math:`-0.54` of 40 000 (the constant :math:`c=0.25/\mu`, half the
  critical one, would not do: its transients give :math:`-0.99` and :math:`-0.83`).

**Statistics.** ``S`` = 24 seeds with ``--quick``, 48 in the full budget. The seeds are paired:
row :math:`i` of every arm of a regime is driven by the same noise sequence (one host generator
per regime), so the differences between arms are measured on the same noise, and the t-tests
on the paired differences have :math:`S-1` degrees of freedom. The figure shows the 25%-75%
range of the seeds' gaps as bands.

**History.** Version 1 (the rule before the protocol): the same thresholds applied to point
estimates from the mean curves (floors of the mean gap, slopes and constants of the mean gap),
with independent noise per arm and no control; it is still evaluated on every run
(``earlier_rules``) and gives PASS on this code. Version 2 applies them to one-sided t bounds
over paired seeds and adds the four controls.

The noisy runs are an inline loop (the runner has no gradient-noise option): each step sets
``X.grad`` to the exact gradient plus noise and calls ``opt.step()`` of the real optimizer
classes. The ``S`` seeds are the ``S`` rows of one parameter matrix: SGD and the heavy ball act
coordinate-wise, so the rows are independent runs from the same start, and one step moves all
seeds at once. The arms of a regime run in the same loop, each with its own parameter matrix
and optimizer, and receive the same noise matrix at every step. The noise is drawn on the host
from one seeded generator per regime.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

import minigrad as mg
import optimizers
import problems as P
from experiments import stats
from experiments.common import fmt, linear_rate, loglog_slope
from experiments.protocol import Condition, Rule, verdict
from experiments.registry import register
from experiments.runner import run as run_trace
from experiments.trace import Trace, load_traces, save_traces
from theorems import HEAVY_BALL

CLAIM = ("Heavy ball with alpha* = 4/(sqrt L + sqrt mu)^2, beta* = ((sqrt kappa - 1)/(sqrt kappa "
         "+ 1))^2 converges at rate (sqrt kappa - 1)/(sqrt kappa + 1) on quadratics, GD with step "
         "2/(mu+L) at (kappa - 1)/(kappa + 1); under gradient noise momentum does not improve "
         "SGD's rate, only constants (same floor and same O(1/k) at the same effective step).")
FIGURE = "momentum.png"
BETA = 0.9          # the heavy ball's momentum in the noisy runs (L0, L3: "usually 0.9")
NOISE = 0.1         # s: the standard deviation of each coordinate of the gradient noise
CONFIDENCE = 0.95
QUICK = {"kappas": (10, 100), "seeds": 24, "constant_steps": 2000, "decreasing_steps": 10_000}
FULL = {"kappas": (10, 100, 1000), "seeds": 48, "constant_steps": 4000,
        "decreasing_steps": 40_000}
CONSTANT_EVERY = 4    # the constant-step runs record every 4th iterate
DECREASING_RECORDS = 1000  # the decreasing-step runs record about this many iterates
CONTROL_STEP = 0.5    # the control heavy ball's step, in units of alpha*
CONTROL_C = 0.1       # the control SGD's alpha_k = (CONTROL_C/mu)/(k + k0): 2 c mu < 1

LN125 = math.log(1.25)
_RATE = Condition("rate_max_error", "no noise: max over kappa and method of |log(fitted rate) / "
                  "log(theory) - 1| <= 0.1 (HB at (alpha*, beta*) against rho_HB, GD at "
                  "2/(mu+L) against rho_GD; a diverged run counts as inf)", "<=", 0.1)
RULES = (
    Rule(1, (
        _RATE,
        Condition("floor_max_rel_error", "noise, constant steps: max over the 3 arms of "
                  "|mean floor / F(alpha, beta) - 1| <= 0.15", "<=", 0.15),
        Condition("floor_abs_log_ratio", "noise, same effective step: |ln(floor HB / floor "
                  "SGD)| <= ln 1.25", "<=", LN125),
        Condition("decreasing_slope_max_error", "noise, decreasing steps: max over SGD and HB "
                  "of |slope of log(mean gap) vs log(k+k0) + 1| <= 0.15", "<=", 0.15),
        Condition("hb_minus_sgd_slope", "noise, decreasing steps: slope HB - slope SGD >= -0.1",
                  ">=", -0.1),
        Condition("constant_ratio_low", "noise, decreasing steps: C_HB / C_SGD >= 0.7", ">=",
                  0.7),
        Condition("constant_ratio_high", "noise, decreasing steps: C_HB / C_SGD <= 1.4", "<=",
                  1.4),
    )),
    Rule(2, (
        _RATE,
        Condition("control_half_step_min_error", "control, heavy ball at (alpha*/2, beta*): "
                  "min over kappa of |log(fitted rate) / log(rho_HB) - 1| > 0.1", ">", 0.1,
                  role="control"),
        Condition("control_gd_min_error", "control, GD at 2/(mu+L) held to the heavy ball's "
                  "rate: min over kappa of |log(fitted rate) / log(rho_HB) - 1| > 0.1", ">", 0.1,
                  role="control"),
        Condition("floor_rel_error_bound", "noise, constant steps: for each of the 3 arms both "
                  "one-sided 95% t bounds of the mean per-seed floor / F(alpha, beta) within "
                  "[0.85, 1.15] (the largest distance to 1 <= 0.15)", "<=", 0.15),
        Condition("floor_ratio_lower", "noise, same effective step: one-sided 95% lower t bound "
                  "of the geometric-mean floor ratio HB / SGD over paired seeds >= 0.8", ">=",
                  0.8),
        Condition("floor_ratio_upper", "noise, same effective step: the upper bound <= 1.25",
                  "<=", 1.25),
        Condition("control_same_alpha_ratio_lower", "control, heavy ball at the same alpha "
                  "(effective step x10): one-sided 95% lower t bound of its geometric-mean "
                  "floor ratio to SGD > 1.25", ">", 1.25, role="control"),
        Condition("decreasing_slope_error_bound", "noise, decreasing steps: for SGD and HB both "
                  "one-sided 95% t bounds of the mean per-seed slope of log(gap) vs log(k+k0) "
                  "within [-1.15, -0.85] (the largest distance to -1 <= 0.15)", "<=", 0.15),
        Condition("hb_minus_sgd_slope_lower", "noise, decreasing steps: one-sided 95% lower t "
                  "bound of the mean paired slope difference HB - SGD >= -0.1", ">=", -0.1),
        Condition("constant_ratio_lower", "noise, decreasing steps: one-sided 95% lower t bound "
                  "of the geometric-mean C_HB / C_SGD over paired seeds >= 0.7", ">=", 0.7),
        Condition("constant_ratio_upper", "noise, decreasing steps: the upper bound <= 1.4",
                  "<=", 1.4),
        Condition("control_small_c_slope_lower", "control, SGD with alpha_k = (0.1/mu)/(k+k0) "
                  "(2 c mu < 1): one-sided 95% lower t bound of its mean per-seed slope > -0.85",
                  ">", -0.85, role="control"),
    ), note="the same claims judged by one-sided 95% t bounds over paired seeds (the same "
            "noise in every arm) instead of point estimates of the means, and controls for "
            "both parts"),
)
BOUND = RULES[-1].text


# ----------------------------------------------------------------------------- theory
def optimal_parameters(mu: float, L: float) -> tuple[float, float]:
    r""":math:`(\alpha^*,\beta^*)` of the heavy ball on a quadratic with spectrum in
    :math:`[\mu,L]` (Polyak 1964): ``theorems.HEAVY_BALL.optimal_parameters``."""
    return HEAVY_BALL.optimal_parameters(mu, L)


def rate_hb(kappa: float) -> float:
    r""":math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`: ``theorems.HEAVY_BALL.rate``."""
    return HEAVY_BALL.rate(1.0, kappa)


def rate_gd(kappa: float) -> float:
    r""":math:`(\kappa-1)/(\kappa+1)` (GD with step :math:`2/(\mu+L)`):
    ``theorems.HEAVY_BALL.gd_rate``."""
    return HEAVY_BALL.gd_rate(1.0, kappa)


def noise_floor(alpha: float, beta: float, eigenvalues, s: float = NOISE) -> float:
    r"""The stationary :math:`\mathbb{E}[f(x)-f^*]` of the heavy ball (SGD for ``beta = 0``) with
    a constant step on a quadratic with the given eigenvalues and gradient noise
    :math:`N(0,s^2I)`: :math:`\sum_i\frac{\alpha s^2(1+\beta)}{2(1-\beta)(2(1+\beta)-\alpha\lambda_i)}`
    (the variance of the AR(2) process
    :math:`e_{k+1}=(1+\beta-\alpha\lambda)e_k-\beta e_{k-1}-\alpha s\xi_k`, times
    :math:`\lambda/2`)."""
    lam = np.asarray(eigenvalues, dtype=float)
    return float(np.sum(alpha * s * s * (1 + beta) / (2 * (1 - beta) * (2 * (1 + beta)
                                                                       - alpha * lam))))


# ----------------------------------------------------------------------------- part A
def deterministic_runs(kappas, *, seed: int, dim: int = 100) -> list:
    """Heavy ball (optimal parameters) and GD (step 2/(mu+L)) on one quadratic per kappa, and the
    control: the heavy ball at (alpha*/2, beta*) on the same quadratic (meta ``control``)."""
    traces = []
    for i, kappa in enumerate(kappas):
        L, mu = 1.0, 1.0 / kappa
        q = P.Quadratic(dim=dim, mu=mu, L=L, spacing="linear", seed=seed * 101 + i)
        alpha, beta = optimal_parameters(mu, L)
        r_hb, r_gd = rate_hb(kappa), rate_gd(kappa)
        steps_hb = math.ceil(math.log(1e-13) / math.log(r_hb)) + 20
        steps_gd = min(math.ceil(math.log(1e-11) / math.log(r_gd)), 3000)
        hb = run_trace(q, lambda ps, a=alpha, b=beta: optimizers.Momentum(ps, lr=a, momentum=b),
                       steps=steps_hb, label=f"heavy ball, kappa={kappa:g}")
        hb.meta.update(kind="det", method="HB", kappa=kappa, rho=r_hb, alpha=alpha, beta=beta,
                       control=False)
        gd = run_trace(q, lambda ps, a=2.0 / (mu + L): optimizers.SGD(ps, lr=a), steps=steps_gd,
                       label=f"GD, kappa={kappa:g}", record_every=1 if steps_gd < 1000 else 3)
        gd.meta.update(kind="det", method="GD", kappa=kappa, rho=r_gd, alpha=2.0 / (mu + L),
                       beta=0.0, control=False)
        a_c = CONTROL_STEP * alpha
        with np.errstate(over="ignore", invalid="ignore"):
            ctrl = run_trace(q, lambda ps, a=a_c, b=beta: optimizers.Momentum(ps, lr=a,
                                                                              momentum=b),
                             steps=steps_hb, label=f"control: HB (alpha*/2, beta*), "
                                                   f"kappa={kappa:g}")
        ctrl.meta.update(kind="det", method="HB", kappa=kappa, rho=r_hb, alpha=a_c, beta=beta,
                         control=True)
        traces += [hb, gd, ctrl]
    return traces


def measured_rate(tr) -> float:
    """The fitted rate of ``||x_k - x*||``: the second half of the iterations above
    ``1e-12 ||x_0 - x*||`` (before round-off)."""
    return linear_rate(tr["k"], tr["dist2"], window=(1e-12, math.inf), sqrt=True, tail=0.5,
                       power=tr.meta["method"] == "HB")


def rate_error(tr, rho: float | None = None) -> float:
    """:math:`|\\log\\hat\\rho/\\log\\rho-1|` for the trace's fitted rate against ``rho`` (by
    default its own theory); ``inf`` when the run diverged or the fit failed or is not a
    contraction."""
    rho = tr.meta["rho"] if rho is None else rho
    r = measured_rate(tr)
    if tr.meta.get("diverged") or not (0.0 < r < 1.0):
        return math.inf
    return abs(math.log(r) / math.log(rho) - 1.0)


# ----------------------------------------------------------------------------- part B
def noisy_arms(q, arms, *, steps: int, seeds: int, seed: int, record_every: int = 1) -> list:
    r"""``seeds`` runs at once (the rows of one parameter matrix) of each arm on the quadratic
    ``q`` with the gradient :math:`A(x-x^*)+\xi`, :math:`\xi\sim N(0,s^2I)`; the **same** noise
    :math:`\xi_k` (one host generator seeded with ``seed``) drives row ``i`` of every arm, so the
    arms are paired seed by seed. ``arms``: ``(label, make_optimizer, meta)`` triples. Each trace
    records the gap of every seed (``f_gap_seeds``, one column per seed), their mean and its
    standard error."""
    xp = mg.backend.get_array_module(q.x0)
    A, x_star = q.A, q.x_star
    d = q.dim
    rng = mg.backend.host_rng(seed)
    Xs = [mg.Tensor(xp.tile(q.x0, (seeds, 1)), requires_grad=True) for _ in arms]
    opts = [make([X]) for (_, make, _), X in zip(arms, Xs)]
    rec = [{"k": [], "gaps": [], "lr": []} for _ in arms]
    for k in range(steps + 1):
        AEs = []
        for X, opt, r in zip(Xs, opts, rec):
            E = X.data - x_star                              # x_k - x*, one row per seed
            AE = E @ A                                       # A (x_k - x*) (A is symmetric)
            AEs.append(AE)
            if k % record_every == 0 or k == steps:
                r["k"].append(k)
                r["gaps"].append(mg.backend.to_numpy(0.5 * xp.sum(AE * E, axis=1)))
                r["lr"].append(float(opt.param_groups[0].get("last_lr") or math.nan))
        if k == steps:
            break
        noise = mg.backend.asarray(rng.standard_normal((seeds, d)), dtype=Xs[0].data.dtype,
                                   backend=q.backend)
        for X, opt, AE in zip(Xs, opts, AEs):
            X.grad = AE + NOISE * noise                      # grad f(x_k) + xi_k
            opt.step()
    traces = []
    for (label, _, meta), r in zip(arms, rec):
        gaps = np.array(r["gaps"], dtype=float)              # (records, seeds)
        cols = {"k": np.asarray(r["k"], dtype=float), "f_gap": gaps.mean(axis=1),
                "f_gap_se": gaps.std(axis=1, ddof=1) / math.sqrt(seeds), "f_gap_seeds": gaps,
                "lr": np.asarray(r["lr"], dtype=float)}
        traces.append(Trace(label, cols, {"kind": "noise", "seeds": seeds, "s": NOISE,
                                          "noise_seed": seed, **meta}))
    return traces


def noisy_run(q, make_optimizer, *, steps: int, seeds: int, seed: int, label: str,
              record_every: int = 1, **meta) -> Trace:
    """One arm of :func:`noisy_arms`."""
    return noisy_arms(q, [(label, make_optimizer, meta)], steps=steps, seeds=seeds, seed=seed,
                      record_every=record_every)[0]


def _sgd_or_hb(alpha, beta):
    def make(ps):
        if beta == 0.0:
            return optimizers.SGD(ps, lr=alpha)
        return optimizers.Momentum(ps, lr=alpha, momentum=beta)
    return make


def noisy_runs(*, quick: bool, seed: int) -> list:
    """Constant and decreasing steps, SGD against the heavy ball, on a kappa = 10 quadratic, and
    the control of the decreasing steps (SGD with a too small constant); every arm of a regime
    sees the same noise."""
    budget = QUICK if quick else FULL
    mu, L = 0.1, 1.0
    q = P.Quadratic(dim=20, mu=mu, L=L, spacing="linear", seed=seed * 101 + 50, radius=2.0)
    lam = mg.backend.to_numpy(q.eigenvalues)
    S = budget["seeds"]
    a = 0.1 / L
    const = [("SGD, alpha=0.1/L", 0.0, a, "SGD"),
             ("HB, beta=0.9, alpha=0.01/L (same effective step)", BETA, a * (1 - BETA),
              "HB same effective step"),
             ("HB, beta=0.9, alpha=0.1/L (same alpha)", BETA, a, "HB same alpha")]
    arms = [(label, _sgd_or_hb(alpha, beta),
             {"regime": "constant", "arm": arm, "alpha": alpha, "beta": beta,
              "floor": noise_floor(alpha, beta, lam), "mu": mu, "L": L})
            for label, beta, alpha, arm in const]
    traces = noisy_arms(q, arms, steps=budget["constant_steps"], seeds=S, seed=seed * 1000,
                        record_every=CONSTANT_EVERY)
    # decreasing steps alpha_k = (c/mu) / (k + k0) (times 1 - beta), k0 so that alpha_0 = 0.1/L
    k0 = 2.0 / (mu * a)
    steps = budget["decreasing_steps"]
    arms = []
    for label, c, beta, arm in [("SGD, alpha_k = (2/mu)/(k+k0)", 2.0, 0.0, "SGD"),
                                ("HB, beta=0.9, alpha_k (1-beta)", 2.0, BETA, "HB"),
                                (f"control: SGD, alpha_k = ({CONTROL_C:g}/mu)/(k+k0)",
                                 CONTROL_C, 0.0, "control")]:
        def sched(t, beta=beta, c=c):
            return (c / mu) / (t + k0) * (1.0 - beta)
        arms.append((label, _sgd_or_hb(sched, beta),
                     {"regime": "decreasing", "arm": arm, "beta": beta, "c": c / mu, "k0": k0,
                      "mu": mu, "L": L,
                      "constant": decreasing_constant(c / mu, lam) if c == 2.0 else math.nan}))
    traces += noisy_arms(q, arms, steps=steps, seeds=S, seed=seed * 1000 + 10,
                         record_every=max(1, steps // DECREASING_RECORDS))
    return traces


def decreasing_fit(tr, k_from: float):
    """Slope of log(gap) against log(k + k0) for ``k >= k_from`` (the step is
    ``c/(k + k0)``, so the gap is ``C/(k + k0)`` asymptotically), and the mean of
    ``(k + k0) * gap`` there (the constant C), for the mean gap over the seeds."""
    k, y = np.asarray(tr["k"]) + tr.meta["k0"], np.asarray(tr["f_gap"])
    m = np.asarray(tr["k"]) >= k_from
    slope, _ = loglog_slope(k[m], y[m])
    return slope, float(np.mean(k[m] * y[m]))


def decreasing_fit_per_seed(tr, k_from: float):
    """:func:`decreasing_fit` of each seed's gap: ``(slopes, constants)`` arrays."""
    k = np.asarray(tr["k"]) + tr.meta["k0"]
    m = np.asarray(tr["k"]) >= k_from
    gaps = np.asarray(tr["f_gap_seeds"])[m]
    slopes = np.array([loglog_slope(k[m], gaps[:, i])[0] for i in range(gaps.shape[1])])
    return slopes, np.mean(k[m][:, None] * gaps, axis=0)


def floors_per_seed(tr) -> np.ndarray:
    """Each seed's floor: the mean of its gap over the second half of the recorded iterates."""
    half = len(tr) // 2
    return np.mean(np.asarray(tr["f_gap_seeds"])[half:], axis=0)


def decreasing_constant(c: float, eigenvalues, s: float = NOISE) -> float:
    r"""The limit of :math:`(k+k_0)\,\mathbb{E}[f(x_k)-f^*]` for SGD with
    :math:`\alpha_k=c/(k+k_0)` and gradient noise :math:`N(0,s^2I)` on a quadratic:
    :math:`\sum_i\frac{\lambda_ic^2s^2}{2(2c\lambda_i-1)}` (per eigenvalue,
    :math:`\mathbb{E}e_k^2\sim\frac{c^2s^2}{(2c\lambda-1)k}` when :math:`2c\lambda>1`)."""
    lam = np.asarray(eigenvalues, dtype=float)
    return float(np.sum(lam * c * c * s * s / (2.0 * (2.0 * c * lam - 1.0))))


# ----------------------------------------------------------------------------- statistics
def _t(x, mu0: float, alternative: str) -> dict:
    """:func:`experiments.stats.one_sided_t` at :data:`CONFIDENCE`. A sample with an infinite
    value (a seed whose gap overflowed) has an infinite mean, and so are both bounds; with a
    NaN the bound is NaN (it satisfies no condition)."""
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        mean = float(np.mean(x))
        return {"bound": mean, "p": 1.0, "effect": math.nan, "mean": mean, "sd": math.nan,
                "n": x.size}
    return stats.one_sided_t(x, mu0=mu0, alternative=alternative, confidence=CONFIDENCE)


def equivalence(x, lo: float, hi: float) -> dict:
    """Both one-sided t-tests of the mean of ``x`` against ``lo`` (greater) and ``hi`` (less):
    ``lower``, ``upper`` (the 95% bounds), their p-values and effect sizes."""
    g, l_ = _t(x, lo, "greater"), _t(x, hi, "less")
    return {"lower": g["bound"], "upper": l_["bound"], "p_lower": g["p"], "p_upper": l_["p"],
            "d_lower": g["effect"], "d_upper": l_["effect"], "mean": g["mean"], "sd": g["sd"]}


def analyse(det, noisy) -> dict:
    """Every measured number of both parts, from the saved traces."""
    a = {}
    claim = [t for t in det if not t.meta["control"]]
    ctrl = [t for t in det if t.meta["control"]]
    a["rates"] = {}
    for t in claim:
        a["rates"].setdefault(str(t.meta["kappa"]), {})[t.meta["method"]] = (
            measured_rate(t), t.meta["rho"])
    a["rate_max_error"] = max(rate_error(t) for t in claim)
    a["control_rates"] = {str(t.meta["kappa"]): measured_rate(t) for t in ctrl}
    a["control_half_step_min_error"] = (min(rate_error(t) for t in ctrl) if ctrl
                                        else math.nan)
    a["control_gd_min_error"] = min(rate_error(t, rho=rate_hb(t.meta["kappa"]))
                                    for t in claim if t.meta["method"] == "GD")

    const = {t.meta["arm"]: t for t in noisy if t.meta["regime"] == "constant"}
    dec = {t.meta["arm"]: t for t in noisy if t.meta["regime"] == "decreasing"}
    a["seeds"] = const["SGD"].meta["seeds"]
    # rule 1: point estimates from the mean curves
    half = {k: len(t) // 2 for k, t in const.items()}
    a["floors"] = {k: float(np.mean(t["f_gap"][half[k]:])) for k, t in const.items()}
    a["floor_theory"] = {k: t.meta["floor"] for k, t in const.items()}
    a["floor_max_rel_error"] = max(abs(a["floors"][k] / a["floor_theory"][k] - 1.0)
                                   for k in const)
    same_eff = a["floors"]["HB same effective step"] / a["floors"]["SGD"]
    a["floor_ratio_same_effective_step"] = same_eff
    a["floor_abs_log_ratio"] = abs(math.log(same_eff)) if same_eff > 0 else math.inf
    fits = {k: decreasing_fit(t, t["k"][-1] / 10) for k, t in dec.items()}
    a["decreasing_slopes"] = {k: f[0] for k, f in fits.items()}
    a["decreasing_constants"] = {k: f[1] for k, f in fits.items()}
    a["decreasing_slope_max_error"] = max(abs(fits[k][0] + 1.0) for k in ("SGD", "HB"))
    a["hb_minus_sgd_slope"] = fits["HB"][0] - fits["SGD"][0]
    a["constant_ratio"] = fits["HB"][1] / fits["SGD"][1]
    a["constant_ratio_low"] = a["constant_ratio_high"] = a["constant_ratio"]
    a["sgd_constant_theory"] = dec["SGD"].meta["constant"]
    # rule 2: per-seed numbers, one-sided t bounds, paired where two arms are compared
    pf = {k: floors_per_seed(t) for k, t in const.items()}
    a["floor_tests"] = {k: equivalence(pf[k] / a["floor_theory"][k], 0.85, 1.15) for k in pf}
    a["floor_rel_error_bound"] = max(max(1.0 - e["lower"], e["upper"] - 1.0)
                                     for e in a["floor_tests"].values())
    d = np.log(pf["HB same effective step"]) - np.log(pf["SGD"])
    a["floor_ratio_test"] = equivalence(d, -LN125, LN125)
    a["floor_ratio_lower"] = math.exp(a["floor_ratio_test"]["lower"])
    a["floor_ratio_upper"] = math.exp(a["floor_ratio_test"]["upper"])
    d = np.log(pf["HB same alpha"]) - np.log(pf["SGD"])
    a["same_alpha_test"] = _t(d, LN125, "greater")
    a["control_same_alpha_ratio_lower"] = math.exp(a["same_alpha_test"]["bound"])
    per = {k: decreasing_fit_per_seed(t, t["k"][-1] / 10) for k, t in dec.items()}
    a["slope_tests"] = {k: equivalence(per[k][0], -1.15, -0.85) for k in ("SGD", "HB")}
    a["decreasing_slope_error_bound"] = max(max(abs(e["lower"] + 1.0), abs(e["upper"] + 1.0))
                                            for e in a["slope_tests"].values())
    a["slope_difference_test"] = _t(per["HB"][0] - per["SGD"][0], -0.1, "greater")
    a["hb_minus_sgd_slope_lower"] = a["slope_difference_test"]["bound"]
    d = np.log(per["HB"][1]) - np.log(per["SGD"][1])
    a["constant_test"] = equivalence(d, math.log(0.7), math.log(1.4))
    a["constant_ratio_lower"] = math.exp(a["constant_test"]["lower"])
    a["constant_ratio_upper"] = math.exp(a["constant_test"]["upper"])
    a["control_slope_test"] = _t(per["control"][0], -0.85, "greater")
    a["control_small_c_slope_lower"] = a["control_slope_test"]["bound"]
    return a


def values_of(a: dict) -> dict:
    """The numbers :data:`RULES` apply."""
    keys = {k for r in RULES for k in r.keys}
    return {k: a[k] for k in keys}


# ----------------------------------------------------------------------------- figure
def _band(ax, t, color):
    """The 25%-75% range of the seeds' gaps (the spread of single runs)."""
    g = np.asarray(t["f_gap_seeds"])
    lo, hi = np.quantile(g, 0.25, axis=1), np.quantile(g, 0.75, axis=1)
    ax.fill_between(t["k"][1:], lo[1:], hi[1:], color=color, alpha=0.18, lw=0)


def draw(out_dir) -> pathlib.Path:
    """Three panels from the saved traces."""
    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    det = load_traces(out_dir, stem="det")
    noisy = load_traces(out_dir, stem="noise")
    fig, axes = plot.subplots(1, 3, width=4.9, height=4.0,
                              title="Heavy ball: accelerated without noise, "
                                    "only a larger effective step with noise")
    ax = axes[0]
    kappas = sorted({t.meta["kappa"] for t in det})
    for i, kappa in enumerate(kappas):
        color = plot.COLORS[i % 10]
        for t in (t for t in det if t.meta["kappa"] == kappa):
            hb = t.meta["method"] == "HB"
            y = np.sqrt(np.asarray(t["dist2"]) / t["dist2"][0])
            if t.meta.get("control"):
                ax.semilogy(t["k"], y, ":", color=color, lw=1.0,
                            label=f"control HB (alpha*/2, beta*) kappa={kappa:g}: rate "
                                  f"{measured_rate(t):.4f}")
                continue
            ax.semilogy(t["k"], y, "-" if hb else "--", color=color, lw=1.4 if hb else 1.1,
                        label=f"{t.meta['method']} kappa={kappa:g}: rate "
                              f"{measured_rate(t):.4f} (theory {t.meta['rho']:.4f})")
    ax.set_ylim(1e-12, 3)
    ax.set_xlim(0, 1.3 * max(t["k"][-1] for t in det if t.meta["method"] == "HB"))
    ax.set_xlabel("iteration k")
    ax.set_ylabel(r"$\|x_k-x^*\|/\|x_0-x^*\|$")
    ax.set_title("no noise: solid heavy ball (alpha*, beta*), dashed GD 2/(mu+L)", fontsize=8.5)
    ax.legend(fontsize=5.5, loc="upper right")
    errors = [rate_error(t) for t in det if not t.meta.get("control")]
    plot.decisive(ax, label="max |log rate / log theory - 1|", value=max(errors),
                  threshold=0.1, loc="lower left")

    ax = axes[1]
    const = [t for t in noisy if t.meta["regime"] == "constant"]
    for i, t in enumerate(const):
        color = plot.COLORS[i % 10]
        _band(ax, t, color)
        ax.loglog(t["k"][1:], t["f_gap"][1:], color=color, lw=1.2, label=t.label)
        ax.axhline(t.meta["floor"], color=color, ls="--", lw=0.9)
    ax.set_xlabel("iteration k")
    ax.set_ylabel("$f(x_k)-f^*$: mean over the seeds\n(band: 25%-75% of the seeds)",
                  fontsize=8)
    ax.set_title(f"noise s={NOISE}, constant steps; dashed: floor F(alpha, beta)",
                 fontsize=8.5)
    ax.legend(fontsize=6.5, loc="upper right")

    ax = axes[2]
    dec = [t for t in noisy if t.meta["regime"] == "decreasing"]
    for i, t in enumerate(dec):
        slope, c = decreasing_fit(t, t["k"][-1] / 10)
        color = "0.4" if t.meta["arm"] == "control" else plot.COLORS[i + 3]
        _band(ax, t, color)
        ax.loglog(t["k"][1:], t["f_gap"][1:], color=color, lw=1.2,
                  ls=":" if t.meta["arm"] == "control" else "-",
                  label=f"{t.label}: slope {slope:.2f}, C {c:.3g}")
    sgd = next(t for t in dec if t.meta["arm"] == "SGD")
    k = np.asarray(sgd["k"][1:])
    plot.reference_line(ax, k, sgd.meta["constant"] / (k + sgd.meta["k0"]),
                        "theory C/(k+k0), SGD")
    ax.set_xlabel("iteration k")
    ax.set_ylabel("$f(x_k)-f^*$: mean over the seeds\n(band: 25%-75% of the seeds)",
                  fontsize=8)
    ax.set_title("noise, decreasing steps: both O(1/k); slope of log gap vs log(k+k0)",
                 fontsize=8.5)
    ax.legend(fontsize=6.5, loc="lower left")
    return plot.save(fig, out_dir / FIGURE)


# ----------------------------------------------------------------------------- experiment
def judge(det, noisy) -> dict:
    """The verdict of :data:`RULES` on the saved traces."""
    a = analyse(det, noisy)
    kappas = sorted(a["rates"], key=float)
    rate_text = "; ".join(
        f"kappa={k}: HB {a['rates'][k]['HB'][0]:.4f} (theory {a['rates'][k]['HB'][1]:.4f}), GD "
        f"{a['rates'][k]['GD'][0]:.4f} (theory {a['rates'][k]['GD'][1]:.4f}), control HB "
        f"(alpha*/2, beta*) {fmt(a['control_rates'].get(k), 4)}" for k in kappas)
    ft, rt, st = a["floor_tests"], a["floor_ratio_test"], a["slope_tests"]
    ct, sa, dt = a["constant_test"], a["same_alpha_test"], a["slope_difference_test"]
    floors = "; ".join(
        f"{k} {fmt(a['floors'][k])} (theory {fmt(a['floor_theory'][k])}, floor/F 95% bounds "
        f"[{ft[k]['lower']:.3f}, {ft[k]['upper']:.3f}])" for k in ft)
    measured = (
        f"rates of ||x_k-x*|| fitted on the tail: {rate_text}; max error vs theory "
        f"{fmt(a['rate_max_error'])}, control errors >= {fmt(a['control_half_step_min_error'])}, "
        f"GD against rho_HB >= {fmt(a['control_gd_min_error'])}. Noise s={NOISE}, "
        f"{a['seeds']} paired seeds (one-sided 95% t bounds, df {a['seeds'] - 1}): floors "
        f"{floors}; same effective step HB/SGD geometric-mean ratio 95% bounds "
        f"[{a['floor_ratio_lower']:.3f}, {a['floor_ratio_upper']:.3f}] (p = "
        f"{fmt(rt['p_lower'])} / {fmt(rt['p_upper'])}, d_z = {fmt(rt['d_lower'])} / "
        f"{fmt(rt['d_upper'])}); control same alpha: lower bound "
        f"{fmt(a['control_same_alpha_ratio_lower'])} (p = {fmt(sa['p'])}, d_z = "
        f"{fmt(sa['effect'])}); decreasing steps: per-seed slopes SGD mean "
        f"{fmt(st['SGD']['mean'], 4)} [{st['SGD']['lower']:.3f}, {st['SGD']['upper']:.3f}], HB "
        f"{fmt(st['HB']['mean'], 4)} [{st['HB']['lower']:.3f}, {st['HB']['upper']:.3f}]; paired "
        f"slope difference HB - SGD lower bound {a['hb_minus_sgd_slope_lower']:.3f} (p = "
        f"{fmt(dt['p'])}, d_z = {fmt(dt['effect'])}); constants C = (k+k0) gap SGD "
        f"{fmt(a['decreasing_constants']['SGD'])} (theory {fmt(a['sgd_constant_theory'])}), HB "
        f"{fmt(a['decreasing_constants']['HB'])}, paired ratio HB/SGD 95% bounds "
        f"[{a['constant_ratio_lower']:.3f}, {a['constant_ratio_upper']:.3f}] (p = "
        f"{fmt(ct['p_lower'])} / {fmt(ct['p_upper'])}, d_z = {fmt(ct['d_lower'])} / "
        f"{fmt(ct['d_upper'])}); control c = {CONTROL_C:g}/mu: slope of the mean "
        f"{a['decreasing_slopes']['control']:.3f}, per-seed lower bound "
        f"{a['control_small_c_slope_lower']:.3f}")
    last = kappas[-1]
    summary = (f"HB rate {a['rates'][last]['HB'][0]:.4f} vs GD {a['rates'][last]['GD'][0]:.4f} "
               f"at kappa={float(last):g} (theory {a['rates'][last]['HB'][1]:.4f}, "
               f"{a['rates'][last]['GD'][1]:.4f}); with noise HB/SGD floor ratio "
               f"[{a['floor_ratio_lower']:.2f}, {a['floor_ratio_upper']:.2f}], slopes "
               f"{st['SGD']['mean']:.2f}/{st['HB']['mean']:.2f} ({a['seeds']} paired seeds)")
    return verdict(RULES, values_of(a), claim=CLAIM, measured=measured, figure=FIGURE,
                   summary=summary, seeds=a["seeds"],
                   rates={k: {m: list(v) for m, v in row.items()} for k, row in a["rates"].items()},
                   control_rates=a["control_rates"], floors=list(a["floors"].values()),
                   floor_ratio_same_effective_step=a["floor_ratio_same_effective_step"],
                   decreasing_slopes=[a["decreasing_slopes"][k] for k in ("SGD", "HB")],
                   decreasing_constant_ratio=a["constant_ratio"],
                   control_decreasing_slope=a["decreasing_slopes"]["control"],
                   floor_ratio_p=[rt["p_lower"], rt["p_upper"]],
                   floor_ratio_effect=[rt["d_lower"], rt["d_upper"]],
                   constant_ratio_p=[ct["p_lower"], ct["p_upper"]],
                   constant_ratio_effect=[ct["d_lower"], ct["d_upper"]],
                   slope_difference_p=dt["p"], slope_difference_effect=dt["effect"])


@register("momentum-quadratic", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    """Both parts and their controls; save the traces, draw, judge."""
    out_dir = pathlib.Path(out_dir)
    budget = QUICK if quick else FULL
    save_traces(deterministic_runs(budget["kappas"], seed=seed), out_dir, stem="det")
    save_traces(noisy_runs(quick=quick, seed=seed), out_dir, stem="noise")
    draw(out_dir)
    return judge(load_traces(out_dir, stem="det"), load_traces(out_dir, stem="noise"))
