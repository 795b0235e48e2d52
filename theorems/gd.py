r"""Gradient descent's three rates (Merkulov 2024 talk, L1; docs/lectures.md section 1):
:data:`GD_CONVEX`, :data:`GD_STRONGLY_CONVEX`, :data:`GD_NONCONVEX`.

GD is :math:`x_{k+1}=x_k-\alpha\nabla f(x_k)`; the checks run any optimizer with the full
gradient and compare it with the bound at every iterate :math:`k=0..K`.

* **Smooth convex**, :math:`\alpha=h/L`, :math:`0<h\le1`:
  :math:`f(x_k)-f^*\le\frac{LR^2}{4kh+2}`, :math:`R=\|x_0-x^*\|` (Drori & Teboulle 2014,
  "Performance of first-order methods for smooth convex minimization: a novel approach",
  Theorem 3.1: the tight form of L1's :math:`O(1/k)`; attained by ``problems.HuberWorstCase``).
  Slack: relative :math:`10^{-9}`, absolute :math:`10^{-13}(1+|f^*|)`.
* **Smooth strongly convex**, :math:`\alpha=h/L`, :math:`0<h\le1`:
  :math:`\|x_k-x^*\|^2\le(1-h\mu/L)^k\|x_0-x^*\|^2`. L1 states it for :math:`h=1`; for
  :math:`h\le1`, :math:`\|x-\alpha\nabla f(x)-x^*\|^2\le(1-\alpha\mu)\|x-x^*\|^2-
  2\alpha(1-\alpha L)(f(x)-f^*)` from :math:`\langle\nabla f(x),x-x^*\rangle\ge
  f(x)-f^*+\frac\mu2\|x-x^*\|^2` and :math:`\|\nabla f(x)\|^2\le2L(f(x)-f^*)`. Slack: relative
  :math:`10^{-9}`, absolute the squared rounding level :math:`(10^{-14}(1+\max|x^*|+\|x_0-x^*\|))^2`
  plus, where :math:`x^*` was computed (within :math:`\delta` of the minimiser),
  :math:`4\delta\|x_0-x^*\|+4\delta^2` (from :math:`\|x_k-\hat x\|\le q^{k/2}(\|x_0-\hat x\|+
  \delta)+\delta`). The report fits the linear rate of :math:`\|x_k-x^*\|^2`.
* **Smooth non-convex**, :math:`\alpha=1/L`:
  :math:`\min_{i<k}\|\nabla f(x_i)\|^2\le\frac{2L(f(x_0)-f^*)}{k}`, :math:`k\ge1` (the descent
  lemma :math:`f(x_{i+1})\le f(x_i)-\frac1{2L}\|\nabla f(x_i)\|^2` summed; :math:`f^*` any lower
  bound, here the global minimum). Slack: relative :math:`10^{-9}`, absolute :math:`10^{-12}`.

Companions (each shown to fail in tests/theorems): the step :math:`2.5/L` (outside every range
above, beyond the stability limit :math:`2/L`) and gradient ascent
(:class:`theorems.broken.AscentGD`).
"""
from __future__ import annotations

import math

import problems as P
from minigrad import backend as B
from optimizers import SGD
from theorems import hypotheses as H
from theorems.base import Companion, Theorem, relative_step
from theorems.broken import AscentGD
from theorems.instance import Instance
from theorems.rates import fit_linear_rate
from theorems.report import Evaluation
from theorems.runs import run_full

__all__ = ["GD_CONVEX", "GD_NONCONVEX", "GD_STRONGLY_CONVEX", "GDConvex", "GDNonConvex",
           "GDStronglyConvex"]

np = B.host_xp()


def _step_2_5(theorem, inst):
    return dict(optimizer=SGD, problem=inst, params={"lr": 2.5 / inst.L}, outside=True)


def _ascent(theorem, inst):
    return dict(optimizer=AscentGD, problem=inst, steps=5)


STEP_COMPANION = Companion("step 2.5/L", "GD with the step 2.5/L, outside the admissible range "
                           "(beyond the stability limit 2/L: the component along the top "
                           "eigenvector grows by 1.5 per step)", _step_2_5)
ASCENT_COMPANION = Companion("gradient ascent", "a broken update, x <- x + alpha g "
                             "(theorems.broken.AscentGD)", _ascent)


class _GD(Theorem):
    parameters_text = "lr = h/L with 0 < h <= 1 (default h = 1)"
    default_steps = 150

    def default_parameters(self, inst):
        return {"lr": 1.0 / inst.L} if inst.L else {}

    def admissible(self, inst, params):
        if not inst.L:
            return []
        return H.step_in(params, "lr", 0.0, 1.0 / inst.L, "0 < lr <= 1/L")

    def describe_parameters(self, inst, params):
        lr = params.get("lr")
        return f"lr = {relative_step(lr, 1.0 / inst.L, '/L')}" if lr is not None else ""

    #: the columns of the run the theorem reads (theorems.runs.run_full)
    need = ("f", "g2")

    def run(self, form, inst, params, steps):
        return run_full(form, inst, params, steps, need=self.need)

    @staticmethod
    def h(inst, params) -> float:
        return float(params["lr"]) * inst.L


class GDConvex(_GD):
    name = "GD, smooth convex"
    statement = "$f(x_k)-f^*\\le\\frac{LR^2}{4kh+2}$ for step $h/L$, $0<h\\le1$"
    source = ("Merkulov 2024 talk (L1), GD's rate $O(1/k)$; the tight constant from Drori & "
              "Teboulle 2014, Performance of first-order methods for smooth convex "
              "minimization: a novel approach, Theorem 3.1")
    problem_class = "convex, L-smooth, with a minimiser (R = distance from x_0 to the nearest one)"
    quantity = "f(x_k) - f* at the last iterate"
    companions = (STEP_COMPANION, ASCENT_COMPANION)
    need = ("f",)

    @staticmethod
    def bound(k, L, R2, h=1.0):
        r""":math:`LR^2/(4kh+2)`."""
        return L * R2 / (4 * np.asarray(k, dtype=float) * h + 2)

    def hypotheses(self, inst):
        return H.smooth(inst) + H.convex(inst) + H.known_minimiser(inst) + H.known_minimum(inst)

    def evaluate(self, record, inst, params):
        k = record["k"]
        b = self.bound(k, inst.L, inst.R2, self.h(inst, params))
        return Evaluation(k, record["f"] - inst.f_star, b,
                          self.rtol * b + 1e-13 * (1 + abs(inst.f_star)))

    def example(self):
        q = P.Quadratic(dim=5, mu=0.0, L=1.0, spacing="linear", seed=0, x0="fastest")
        return Instance(q, words="quadratic, dimension 5, spectrum [0, 1] (linear), start "
                                 "along the top eigenvector at distance 1"), {"lr": 1.0}


class GDStronglyConvex(_GD):
    name = "GD, smooth strongly convex"
    statement = "$\\|x_k-x^*\\|^2\\le(1-h\\mu/L)^k\\|x_0-x^*\\|^2$ for step $h/L$, $0<h\\le1$"
    source = "Merkulov 2024 talk (L1), GD's linear rate (step 1/L)"
    problem_class = "mu-strongly convex, L-smooth, with its minimiser known"
    quantity = "||x_k - x*||^2 at the last iterate"
    companions = (STEP_COMPANION, ASCENT_COMPANION)
    need = ()

    @staticmethod
    def bound(k, mu, L, d2_0, h=1.0):
        r""":math:`(1-h\mu/L)^k\|x_0-x^*\|^2`."""
        return (1.0 - h * mu / L) ** np.asarray(k, dtype=float) * d2_0

    @staticmethod
    def rate(mu, L, h=1.0) -> float:
        return 1.0 - h * mu / L

    def hypotheses(self, inst):
        return H.smooth(inst) + H.strongly_convex(inst) + H.known_minimiser(inst)

    @staticmethod
    def atol(inst) -> float:
        """The absolute slack (module docstring)."""
        R = math.sqrt(inst.R2)
        scale = 1 + float(np.abs(inst.x_star).max()) + R
        d = inst.x_star_error
        return (1e-14 * scale) ** 2 + 4 * d * R + 4 * d * d

    def evaluate(self, record, inst, params):
        k, d2 = record["k"], record["d2"]
        h = self.h(inst, params)
        b = self.bound(k, inst.mu, inst.L, inst.R2, h)
        rate = fit_linear_rate(k, d2, what="per-step factor of ||x_k - x*||^2",
                               theory=self.rate(inst.mu, inst.L, h), floor=1e-20)
        return Evaluation(k, d2, b, self.rtol * b + self.atol(inst), rate=rate)

    def example(self):
        q = P.Quadratic(dim=5, mu=0.1, L=1.0, spacing="linear", seed=0, x0="fastest")
        return Instance(q, words="quadratic, dimension 5, spectrum [0.1, 1] (linear), start "
                                 "along the top eigenvector at distance 1"), {"lr": 1.0}


class GDNonConvex(_GD):
    name = "GD, smooth non-convex"
    statement = "$\\min_{i<k}\\|\\nabla f(x_i)\\|^2\\le\\frac{2L(f(x_0)-f^*)}{k}$ for step $1/L$"
    source = "Merkulov 2024 talk (L1), GD's rate on non-convex functions (the descent lemma)"
    problem_class = "L-smooth, bounded below by a known f*"
    parameters_text = "lr = 1/L"
    quantity = "min_{i<k} ||grad f(x_i)||^2, k >= 1"
    companions = (Companion("step 2.5/L", "GD with the step 2.5/L on PLSine: its only "
                            "stationary point is 0, where f'' = L, and |1 - 2.5| > 1, so the "
                            "gradient stays away from 0 while the bound goes to 0 (1000 steps: "
                            "an early iterate may pass near a small gradient)",
                            lambda t, inst: dict(optimizer=SGD, problem=inst, steps=1000,
                                                 params={"lr": 2.5 / inst.L}, outside=True)),
                  Companion("gradient ascent", "a broken update on PLSine: the gradient grows",
                            lambda t, inst: dict(optimizer=AscentGD, problem=inst,
                                                 steps=200)))

    @staticmethod
    def bound(k, L, gap0):
        r""":math:`2L(f(x_0)-f^*)/k` for :math:`k\ge1`."""
        return 2 * L * gap0 / np.asarray(k, dtype=float)

    def hypotheses(self, inst):
        return H.smooth(inst) + H.known_minimum(inst)

    def admissible(self, inst, params):
        return H.step_equals(params, "lr", 1.0 / inst.L, "1/L") if inst.L else []

    def evaluate(self, record, inst, params):
        g2 = record["g2"]
        k = record["k"][1:]
        best = np.minimum.accumulate(g2)[:-1]          # min over i < k
        b = self.bound(k, inst.L, record["f"][0] - inst.f_star)
        return Evaluation(k, best, b, self.rtol * b + 1e-12)

    def example(self):
        p = P.PLSine(dim=3, seed=1, spread=4.0)
        return Instance(p, words="PLSine (sum of x^2 + 3 sin^2 x), dimension 3, start "
                                 "uniform in [-4, 4]^3 (seed 1)"), {"lr": 1.0 / p.L}


GD_CONVEX = GDConvex()
GD_STRONGLY_CONVEX = GDStronglyConvex()
GD_NONCONVEX = GDNonConvex()
