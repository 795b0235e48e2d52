r"""The four SGD theorems (Merkulov 2024 talk, L1; Merkulov & Ostroukhov, week-14 lecture, L2;
docs/lectures.md section 1): bounds on an expectation, for a finite sum
:math:`f=\frac1n\sum_if_i` with :math:`\mathbb E_i\|\nabla f_i(x_k)\|^2\le\sigma^2`.

* :data:`SGD_CONSTANT_STEP` (theorem 1; :math:`\mu`-strongly convex, :math:`L`-smooth, constant
  :math:`\alpha<\frac1{2\mu}`):
  :math:`\mathbb E[f(x_k)-f^*]\le(1-2\alpha\mu)^k(f(x_0)-f^*)+\frac{L\sigma^2\alpha}{4\mu}`;
  ``SGDConstantStep(floor=False)`` is the same bound without its floor term, the one a method
  that converges would satisfy: constant-step SGD violates it (it does not converge);
* :data:`SGD_DECREASING_STEP` (theorem 2; :math:`\alpha_k=\frac{2k+1}{2\mu(k+1)^2}`,
  ``schedules.StronglyConvexSGDStep``): :math:`\mathbb E[f(x_k)-f^*]\le\frac{L\sigma^2}{2\mu^2k}`,
  :math:`k\ge1`, from any start;
* :data:`SGD_CONVEX_AVERAGED` (theorem 3; convex, constant :math:`\alpha`,
  :math:`\bar x_k=\frac1k\sum_{t<k}x_t`):
  :math:`\mathbb E[f(\bar x_k)-f^*]\le\frac{R^2}{2\alpha k}+\frac{\alpha\sigma^2}2`, which the
  horizon step :math:`\alpha=R/(\sigma\sqrt K)` (``schedules.HorizonSGDStep``) makes
  :math:`R\sigma/\sqrt K` at :math:`k=K`;
* :data:`SGD_INVERSE_SQRT` (theorem 4; convex, :math:`\alpha_k=\alpha_0/\sqrt{k+1}`,
  :math:`0<\alpha_0\le\frac1{4L}`, ``schedules.InverseSqrtSGDStep``,
  :math:`\bar x_k=\sum_{t<k}\alpha_tx_t/\sum_{t<k}\alpha_t`):
  :math:`\mathbb E[f(\bar x_k)-f^*]\le\frac{5R^2}{4\alpha_0\sqrt k}+5\alpha_0\sigma^2
  \frac{\log(k+1)}{\sqrt k}`.

The procedure (:class:`theorems.base.Procedure`): ``seeds`` = 40 runs, single-sample
mini-batches by default, and at every :math:`k` the mean minus 3 standard errors must lie below
the bound (no further slack: at :math:`k=0` the runs coincide and the bound holds with room).
:math:`\sigma^2` is certified on the run (:mod:`theorems.stochastic`: the maximum of the exact
:math:`\sigma^2(x)` over every iterate visited). Run options of :func:`theorems.check`:
``seeds``, ``batch``, ``rng_seed``, ``parallel`` (:func:`theorems.stochastic.run_seeds`).

Companions: a biased gradient :math:`g+\delta` (:class:`theorems.broken.BiasedSGD`), whose
fixed point is where :math:`\nabla f=-\delta`; for theorem 4 also a step :math:`\alpha_0` above
:math:`\frac1{4L}`, which ``schedules.InverseSqrtSGDStep`` refuses when given :math:`L`.
"""
from __future__ import annotations

import math

import problems as P
import schedules
from minigrad import backend as B
from theorems import hypotheses as H
from theorems.base import Companion, Procedure, Theorem, relative_step
from theorems.broken import BiasedSGD
from theorems.instance import Instance
from theorems.report import Evaluation
from theorems.stochastic import one_sided, run_seeds

__all__ = ["SGD_CONSTANT_STEP", "SGD_CONVEX_AVERAGED", "SGD_DECREASING_STEP", "SGD_INVERSE_SQRT",
           "SGDConstantStep", "SGDConvexAveraged", "SGDDecreasingStep", "SGDInverseSqrt"]

np = B.host_xp()

PROCEDURE = Procedure(seeds=40, z=3.0)


def _biased(pattern, steps: int):
    """A companion: ``BiasedSGD`` with ``delta`` = ``pattern`` repeated to the dimension."""
    def build(theorem, inst):
        delta = np.resize(np.asarray(pattern, dtype=float), inst.dim)
        return dict(optimizer=_BiasedFactory(delta), problem=inst, steps=steps)
    return build


class _BiasedFactory:
    """``BiasedSGD`` with a fixed ``delta`` as a factory ``make(params, **hp)``."""

    def __init__(self, delta):
        self.delta = delta
        self.__name__ = "BiasedSGD"

    def __call__(self, params, **hp):
        return BiasedSGD(params, delta=self.delta, **hp)


BIASED = "SGD with a constant bias delta added to the gradient (theorems.broken.BiasedSGD)"


class _SGDTheorem(Theorem):
    procedure = PROCEDURE
    default_steps = 150
    #: the averaged iterate the theorem bounds (None: the last iterate)
    average: str | None = None

    def hypotheses(self, inst):
        return (H.finite_sum(inst) + H.smooth(inst) + self._convexity(inst)
                + H.known_minimiser(inst) + H.known_minimum(inst))

    def _convexity(self, inst):
        return H.convex(inst)

    def run(self, form, inst, params, steps, seeds=None, batch=1, rng_seed=0, parallel=None):
        return run_seeds(form, inst, params, steps,
                         seeds=self.procedure.seeds if seeds is None else seeds, batch=batch,
                         rng_seed=rng_seed, average=self.average, parallel=parallel)

    def _evaluate(self, record, bound, first: int, sigma2: float):
        gaps = record["avg_gap" if self.average else "gap"]
        measured, mean, se = one_sided(gaps, self.procedure.z)
        k = record["k"]
        notes = [f"measured = mean over {gaps.shape[1]} runs - {self.procedure.z:g} standard "
                 f"errors; sigma^2 certified over the iterates visited"]
        return Evaluation(k[first:], measured[first:], bound[first:],
                          np.zeros(k.size - first), notes=notes, constants={"sigma^2": sigma2})

    def describe_parameters(self, inst, params):
        lr = params.get("lr")
        if lr is None:
            return ""
        if callable(lr):
            args = ", ".join(f"{k}={v:.6g}" for k, v in vars(lr).items()
                             if isinstance(v, (int, float)) and not isinstance(v, bool))
            return f"lr = {type(lr).__name__}({args})"
        scale = 1.0 / (2 * inst.mu) if inst.mu else (1.0 / inst.L if inst.L else None)
        return f"lr = {relative_step(lr, scale, '/(2 mu)' if inst.mu else '/L')}"


class SGDConstantStep(_SGDTheorem):
    name = "SGD theorem 1, constant step"
    source = "Merkulov 2024 talk (L1) and Merkulov & Ostroukhov week-14 lecture (L2), SGD theorem 1"
    problem_class = "finite sum, mu-strongly convex, L-smooth, E||grad f_i||^2 <= sigma^2"
    parameters_text = "constant lr = alpha with 0 < alpha < 1/(2 mu)"
    quantity = "E[f(x_k) - f*] at the last iterate"
    companions = (Companion("biased gradient", BIASED, _biased((2.0, 1.0, -1.0), 150)),)

    def __init__(self, floor: bool = True):
        self.floor = bool(floor)
        self.statement = ("$\\mathbb E[f(x_k)-f^*]\\le(1-2\\alpha\\mu)^k(f(x_0)-f^*)"
                          + ("+\\frac{L\\sigma^2\\alpha}{4\\mu}$" if floor else "$ (no floor)"))
        if not floor:
            self.name = "SGD theorem 1 without its floor term (a converging method's bound)"

    def bound(self, k, mu, L, alpha, sigma2, gap0):
        r""":math:`(1-2\alpha\mu)^k(f(x_0)-f^*)+\frac{L\sigma^2\alpha}{4\mu}` (the floor term
        only when ``floor``)."""
        k = np.asarray(k, dtype=float)
        if not self.floor:
            return (1 - 2 * alpha * mu) ** k * gap0
        return (1 - 2 * alpha * mu) ** k * gap0 + self.floor_term(mu, L, alpha, sigma2)

    @staticmethod
    def floor_term(mu, L, alpha, sigma2):
        r"""The neighbourhood :math:`\frac{L\sigma^2\alpha}{4\mu}` the bound tends to."""
        return L * sigma2 * alpha / (4 * mu)

    def _convexity(self, inst):
        return H.strongly_convex(inst)

    def default_parameters(self, inst):
        return {"lr": 0.5 / (2 * inst.mu)} if inst.mu else {}

    def admissible(self, inst, params):
        if not inst.mu:
            return []
        return H.step_in(params, "lr", 0.0, 1.0 / (2 * inst.mu), "0 < alpha < 1/(2 mu)",
                         hi_open=True)

    def evaluate(self, record, inst, params):
        sigma2 = record.meta["sigma2"]
        gap0 = float(record["gap"][0, 0])
        b = self.bound(record["k"], inst.mu, inst.L, float(params["lr"]), sigma2, gap0)
        return self._evaluate(record, b, 0, sigma2)

    def example(self):
        p = P.LogisticRegression(m=40, dim=3, mu=1.0, seed=3)
        return Instance(p, x0=Instance(p).x_star + np.array([1.0, -1.0, 0.5]),
                        words="logistic regression, m = 40, dimension 3, mu = 1, data seed 3, "
                              "start x* + (1, -1, 0.5)"), {"lr": 0.1}


class SGDDecreasingStep(_SGDTheorem):
    name = "SGD theorem 2, decreasing step"
    statement = "$\\mathbb E[f(x_k)-f^*]\\le\\frac{L\\sigma^2}{2\\mu^2k}$, $k\\ge1$"
    source = "Merkulov 2024 talk (L1) and Merkulov & Ostroukhov week-14 lecture (L2), SGD theorem 2"
    problem_class = "finite sum, mu-strongly convex, L-smooth, E||grad f_i||^2 <= sigma^2"
    parameters_text = ("lr = schedules.StronglyConvexSGDStep(mu'), alpha_k = "
                       "(2k+1)/(2 mu'(k+1)^2), 0 < mu' <= mu")
    quantity = "E[f(x_k) - f*] at the last iterate, k >= 1"
    companions = (Companion("biased gradient", BIASED, _biased((2.0, 1.0, -1.0), 300)),)

    @staticmethod
    def bound(k, mu, L, sigma2):
        r""":math:`\frac{L\sigma^2}{2\mu^2k}`, :math:`k\ge1`."""
        return L * sigma2 / (2 * mu ** 2 * np.asarray(k, dtype=float))

    def _convexity(self, inst):
        return H.strongly_convex(inst)

    def default_parameters(self, inst):
        return {"lr": schedules.StronglyConvexSGDStep(inst.mu)} if inst.mu else {}

    def admissible(self, inst, params):
        lr = params.get("lr")
        if not isinstance(lr, schedules.StronglyConvexSGDStep):
            return [f"lr must be schedules.StronglyConvexSGDStep(mu); got {lr!r}"]
        if inst.mu and not lr.mu <= inst.mu * (1 + H.STEP_RTOL):
            return [f"the schedule's mu = {lr.mu:.6g} exceeds the problem's mu = {inst.mu:.6g}"]
        return []

    def evaluate(self, record, inst, params):
        sigma2 = record.meta["sigma2"]
        mu = params["lr"].mu if isinstance(params.get("lr"), schedules.StronglyConvexSGDStep) \
            else inst.mu
        k = record["k"]
        b = np.concatenate([[np.inf], self.bound(k[1:], mu, inst.L, sigma2)])
        return self._evaluate(record, b, 1, sigma2)

    def example(self):
        inst, _ = SGDConstantStep.example(self)
        return inst, self.default_parameters(inst)


class SGDConvexAveraged(_SGDTheorem):
    name = "SGD theorem 3, convex, constant step, averaged iterate"
    statement = ("$\\mathbb E[f(\\bar x_k)-f^*]\\le\\frac{R^2}{2\\alpha k}+\\frac{\\alpha"
                 "\\sigma^2}2$, $\\bar x_k=\\frac1k\\sum_{t<k}x_t$")
    source = "Merkulov 2024 talk (L1) and Merkulov & Ostroukhov week-14 lecture (L2), SGD theorem 3"
    problem_class = "finite sum, convex, L-smooth, with a minimiser, E||grad f_i||^2 <= sigma^2"
    parameters_text = ("constant lr = alpha > 0 (the horizon step R/(sigma sqrt K) balances the "
                       "terms)")
    quantity = "E[f(x̄_k) - f*], x̄_k the uniform average of x_0..x_{k-1}, k >= 1"
    average = "uniform"
    companions = (Companion("biased gradient", BIASED, _biased((1.0, -1.0, 1.0), 400)),)

    @staticmethod
    def bound(k, R, alpha, sigma2):
        r""":math:`\frac{R^2}{2\alpha k}+\frac{\alpha\sigma^2}2`, :math:`k\ge1`."""
        k = np.asarray(k, dtype=float)
        return R ** 2 / (2 * alpha * k) + alpha * sigma2 / 2

    def default_parameters(self, inst):
        return {"lr": 1.0 / (4 * inst.L)} if inst.L else {}

    def admissible(self, inst, params):
        return H.step_in(params, "lr", 0.0, math.inf, "alpha > 0")

    def evaluate(self, record, inst, params):
        sigma2 = record.meta["sigma2"]
        k = record["k"]
        b = np.concatenate([[np.inf], self.bound(k[1:], math.sqrt(inst.R2), float(params["lr"]),
                                                 sigma2)])
        return self._evaluate(record, b, 1, sigma2)

    def example(self):
        p = P.LogisticRegression(m=60, dim=3, mu=0.0, seed=5, label_noise=2.0)
        inst = Instance(p)
        return Instance(p, x0=inst.x_star + np.array([0.5, -0.5, 0.5]),
                        words="logistic regression, mu = 0, m = 60, dimension 3, data seed 5, "
                              "label noise 2, start x* + (0.5, -0.5, 0.5)"), {"lr": 0.1}


class SGDInverseSqrt(_SGDTheorem):
    name = "SGD theorem 4, convex, alpha_0/sqrt(k+1), weighted average"
    statement = ("$\\mathbb E[f(\\bar x_k)-f^*]\\le\\frac{5R^2}{4\\alpha_0\\sqrt k}+5\\alpha_0"
                 "\\sigma^2\\frac{\\log(k+1)}{\\sqrt k}$")
    source = "Merkulov 2024 talk (L1) and Merkulov & Ostroukhov week-14 lecture (L2), SGD theorem 4"
    problem_class = "finite sum, convex, L-smooth, with a minimiser, E||grad f_i||^2 <= sigma^2"
    parameters_text = "lr = schedules.InverseSqrtSGDStep(alpha_0), 0 < alpha_0 <= 1/(4L)"
    quantity = ("E[f(x̄_k) - f*], x̄_k the average of x_0..x_{k-1} weighted by the steps, "
                "k >= 1")
    average = "weighted"
    companions = (Companion("biased gradient", BIASED, _biased((3.0, -3.0, 3.0), 400)),)

    @staticmethod
    def bound(k, R, alpha0, sigma2):
        r""":math:`\frac{5R^2}{4\alpha_0\sqrt k}+5\alpha_0\sigma^2\frac{\log(k+1)}{\sqrt k}`."""
        k = np.asarray(k, dtype=float)
        return (5 * R ** 2 / (4 * alpha0 * np.sqrt(k))
                + 5 * alpha0 * sigma2 * np.log(k + 1) / np.sqrt(k))

    def default_parameters(self, inst):
        return {"lr": schedules.InverseSqrtSGDStep(1.0 / (4 * inst.L))} if inst.L else {}

    def admissible(self, inst, params):
        lr = params.get("lr")
        if not isinstance(lr, schedules.InverseSqrtSGDStep):
            return [f"lr must be schedules.InverseSqrtSGDStep(alpha0); got {lr!r}"]
        if inst.L and not lr.alpha0 <= (1 + H.STEP_RTOL) / (4 * inst.L):
            return [f"alpha0 = {lr.alpha0:.6g} exceeds 1/(4L) = {1 / (4 * inst.L):.6g}"]
        return []

    def evaluate(self, record, inst, params):
        sigma2 = record.meta["sigma2"]
        k = record["k"]
        b = np.concatenate([[np.inf], self.bound(k[1:], math.sqrt(inst.R2),
                                                 params["lr"].alpha0, sigma2)])
        return self._evaluate(record, b, 1, sigma2)

    def example(self):
        inst, _ = SGDConvexAveraged.example(self)
        return inst, {"lr": schedules.InverseSqrtSGDStep(1.0 / (4 * inst.L), L=inst.L)}


SGD_CONSTANT_STEP = SGDConstantStep()
SGD_DECREASING_STEP = SGDDecreasingStep()
SGD_CONVEX_AVERAGED = SGDConvexAveraged()
SGD_INVERSE_SQRT = SGDInverseSqrt()
