r"""Second-order rates (docs/lectures.md sections 4 and 5): Newton's local quadratic rate
(Merkulov 2024 talk, L1) as a bound, :data:`NEWTON_QUADRATIC`, and BFGS's superlinear rate
(Bursky's training algorithms, L0) as an empirical claim, :data:`BFGS_SUPERLINEAR`.

**Newton.** For :math:`f` :math:`\mu`-strongly convex with an :math:`M`-Lipschitz Hessian, the
pure Newton step :math:`x_{k+1}=x_k-[\nabla^2f(x_k)]^{-1}\nabla f(x_k)` satisfies

.. math:: \|x_{k+1}-x^*\|\le\frac M{2\mu}\|x_k-x^*\|^2

at every step (:math:`x_{k+1}-x^*=[\nabla^2f(x_k)]^{-1}\int_0^1(\nabla^2f(x_k)-
\nabla^2f(x^*+t(x_k-x^*)))(x_k-x^*)\,dt`, whose norm is at most
:math:`\frac1\mu\int_0^1M(1-t)\,dt\,\|x_k-x^*\|^2`); it is informative once
:math:`\|x_k-x^*\|<2\mu/M`, and then the convergence is quadratic. :math:`M` is the instance's
``extra["M"]`` (:func:`theorems.constants.logistic_hessian_lipschitz` for logistic
regression). With :math:`x^*` computed within :math:`\delta` of the minimiser the measured
errors satisfy :math:`e_{k+1}\le\frac M{2\mu}(e_k+\delta)^2+\delta`, the bound checked; slack:
relative :math:`10^{-9}`, absolute the rounding floor :math:`10^{-12}\max(1,\|x^*\|)`. The
report fits the order :math:`p` of :math:`e_{k+1}\approx Ce_k^p` (2 in theory). Companion:
half of Newton's step (:class:`theorems.broken.HalfNewton`), a linear rate.

**BFGS** (an empirical claim, not a proved bound): near a minimiser with a positive definite
Hessian, BFGS converges superlinearly, :math:`q_k=e_{k+1}/e_k\to0`. Criterion (the
``second-order`` experiment's): the last ``last`` = 3 ratios with :math:`e_{k+1}` above the
floor are all below ``threshold`` = 0.1 (a linear rate :math:`q` keeps them near :math:`q`).
The floor is the larger of the rounding level :math:`10^{-12}\max(1,\|x^*\|)` and
:math:`10\sqrt{2\epsilon|f^*|/\lambda_{\min}}` (:math:`\lambda_{\min}` the smallest eigenvalue
of :math:`\nabla^2f(x^*)`): below :math:`\sqrt{2\epsilon|f^*|/\lambda_{\min}}` the decrease
:math:`f(x)-f^*\approx\frac{\lambda}2e^2` drowns in the rounding of :math:`f`, and a line
search on :math:`f` stalls. The criterion is a finite-run reading of an asymptotic claim: the
ratios fall to 0 irregularly, and on some problems and starts the last three are not all below
0.1 when the run reaches the floor (the experiment checks it on Rosenbrock's function from
:math:`(-1.2,1)`; run the solver into the rounding regime, e.g. ``gtol=1e-10``). Companion: GD
with the step :math:`1/L` (ratios near :math:`1-\mu/L`).
"""
from __future__ import annotations

import math

import problems as P

from minigrad import backend as B
from optimizers import SGD
from theorems import constants as C
from theorems import hypotheses as H
from theorems.base import Companion, Theorem
from theorems.broken import HalfNewton
from theorems.instance import Instance
from theorems.rates import fit_order
from theorems.report import Evaluation, Violation
from theorems.runs import run_full

__all__ = ["BFGS_SUPERLINEAR", "BFGSSuperlinear", "NEWTON_QUADRATIC", "NewtonQuadratic",
           "rounding_floor"]

np = B.host_xp()


def rounding_floor(inst) -> float:
    """Errors below :math:`10^{-12}\\max(1,\\|x^*\\|)` are rounding."""
    return 1e-12 * max(1.0, float(np.linalg.norm(inst.x_star)))


def hessian_lipschitz(inst):
    """``inst.extra["M"]``, or the logistic-regression bound; None when unknown."""
    if "M" in inst.extra:
        return float(inst.extra["M"])
    if isinstance(inst.problem, P.LogisticRegression):
        return C.logistic_hessian_lipschitz(inst.problem)
    return None


class NewtonQuadratic(Theorem):
    name = "Newton, local quadratic rate"
    statement = "$\\|x_{k+1}-x^*\\|\\le\\frac M{2\\mu}\\|x_k-x^*\\|^2$ (pure Newton steps)"
    source = "Merkulov 2024 talk (L1), Newton's method: quadratic convergence near the minimum"
    problem_class = "mu-strongly convex with an M-Lipschitz Hessian, x* known"
    parameters_text = "the unit step (pure Newton)"
    quantity = "e_{k+1} = ||x_{k+1} - x*|| at every step"
    default_steps = 10
    companions = (Companion("half of Newton's step", "x <- x - H^{-1} g / 2 "
                            "(theorems.broken.HalfNewton): a linear rate, e_(k+1) ~ e_k/2",
                            lambda t, inst: dict(optimizer=HalfNewton(inst.problem),
                                                 problem=inst, steps=40)),)

    @staticmethod
    def bound(e_k, M, mu, delta=0.0):
        r""":math:`\frac M{2\mu}(e_k+\delta)^2+\delta`."""
        return M * (np.asarray(e_k, dtype=float) + delta) ** 2 / (2 * mu) + delta

    def hypotheses(self, inst):
        out = H.strongly_convex(inst) + H.known_minimiser(inst)
        if hessian_lipschitz(inst) is None:
            out.append(f"the Hessian's Lipschitz constant M must be known (Instance(..., M=...)):"
                       f" none for {type(inst.problem).__name__}")
        return out

    def run(self, form, inst, params, steps):
        return run_full(form, inst, params, steps, need=())

    def evaluate(self, record, inst, params):
        e = np.sqrt(record["d2"])
        M = hessian_lipschitz(inst)
        b = self.bound(e[:-1], M, inst.mu, inst.x_star_error)
        floor = rounding_floor(inst)
        rate = fit_order(e, floor=floor)
        return Evaluation(record["k"][:-1], e[1:], b, self.rtol * b + floor, rate=rate,
                          constants={"M": M},
                          notes=["at iterate k: measured e_(k+1), bound M (e_k + delta)^2/(2 mu)"
                                 " + delta, delta the accuracy of x*"])

    def example(self):
        p = P.LogisticRegression(m=40, dim=3, mu=0.5, seed=1)
        return Instance(p, words="logistic regression, m = 40, dimension 3, mu = 0.5, data "
                                 "seed 1, start 0"), {}


class BFGSSuperlinear(Theorem):
    name = "BFGS, superlinear rate (empirical)"
    statement = "$e_{k+1}/e_k\\to0$: the last 3 ratios above the rounding floor are below 0.1"
    source = ("Bursky's training algorithms (L0), the BFGS slides; the superlinear rate of "
              "Broyden, Dennis & Moré 1973, On the local and superlinear convergence of "
              "quasi-Newton methods")
    problem_class = "smooth, with a minimiser x* where the Hessian is positive definite"
    parameters_text = "the method's own (BFGS with a line search)"
    quantity = "q_k = e_{k+1}/e_k for the last 3 pairs with e_{k+1} above the floor"
    empirical = True
    default_steps = 200
    def __init__(self, last: int = 3, threshold: float = 0.1):
        #: the criterion: the last ``last`` ratios above the floor are all below ``threshold``
        self.last, self.threshold = int(last), float(threshold)
    companions = (Companion("GD", "GD with the step 1/lambda_max(Hessian at x*): a linear "
                            "rate, ratios near 1 - lambda_min/lambda_max",
                            lambda t, inst: dict(optimizer=SGD, problem=inst, steps=300, params={
                                "lr": 1.0 / float(t.hessian_eigenvalues(inst)[-1])})),)

    def holds(self, ratios) -> bool:
        """The criterion on the ratios above the floor, in order."""
        q = list(ratios)[-self.last:]
        return len(q) == self.last and max(q) < self.threshold

    @staticmethod
    def ratios_above_floor(e, floor):
        """:math:`q_k=e_{k+1}/e_k` for the pairs from :math:`k=0` until :math:`e_{k+1}` first
        drops below ``floor``; ``(ks, q)``."""
        e = np.asarray(e, dtype=float)
        ok = e[1:] >= floor
        n = int(np.argmin(ok)) if not ok.all() else ok.size
        ks = np.arange(n)
        return ks, e[ks + 1] / e[ks]

    @staticmethod
    def hessian_eigenvalues(inst):
        """The eigenvalues of the Hessian at :math:`x^*`, ascending."""
        xs = B.asarray(inst.x_star, dtype=inst.problem.dtype, backend=inst.backend)
        return np.linalg.eigvalsh(np.asarray(B.to_numpy(inst.problem.hessian(xs))))

    def lambda_min(self, inst) -> float:
        return float(self.hessian_eigenvalues(inst)[0])

    def floor(self, inst) -> float:
        """The floor of the errors (module docstring)."""
        eps = float(np.finfo(np.float64).eps)
        f_level = 10 * math.sqrt(2 * eps * abs(inst.f_star or 0.0) / self.lambda_min(inst))
        return max(rounding_floor(inst), f_level)

    def hypotheses(self, inst):
        out = H.known_minimiser(inst)
        if not out:
            lam = self.lambda_min(inst)
            if not lam > 0:
                out.append(f"the Hessian at x* must be positive definite: its smallest "
                           f"eigenvalue is {lam:.3g}")
        return out

    def run(self, form, inst, params, steps):
        return run_full(form, inst, params, steps, need=())

    def evaluate(self, record, inst, params):
        e = np.sqrt(record["d2"])
        floor = self.floor(inst)
        ks, q = self.ratios_above_floor(e, floor)
        ks, q = ks[-self.last:], q[-self.last:]
        ev = Evaluation(ks, q, np.full(q.size, self.threshold), np.zeros(q.size),
                        notes=[f"the last {q.size} ratios with e_(k+1) above the floor "
                               f"{floor:.2g}"], constants={"floor": floor})
        if q.size < self.last:
            ev.failures = [Violation(int(ks[-1]) + 1 if ks.size else 0, float(q.size),
                                     float(self.last), 0.0,
                                     f"only {q.size} ratios above the rounding floor (the "
                                     f"criterion needs {self.last})")]
        return ev

    def example(self):
        p = P.Rosenbrock(2)
        return Instance(p, words="Rosenbrock's function in 2-D from (-1.2, 1)"), {}


NEWTON_QUADRATIC = NewtonQuadratic()
BFGS_SUPERLINEAR = BFGSSuperlinear()
