r"""The step sizes of the SGD theorems (docs/lectures.md section 1; lectures L1, L2), as schedules.

Each is the step a theorem assumes, so an experiment can run SGD with exactly that step and
check the theorem's bound. The step count :math:`k` is the 0-based step ``t`` (the lectures'
:math:`k` starts at 0 too). Neither torch nor optax has these; the formulas are the lectures'.
"""
from __future__ import annotations

import math

from . import _validate as v
from .base import Schedule

__all__ = ["StronglyConvexSGDStep", "InverseSqrtSGDStep", "HorizonSGDStep"]


class StronglyConvexSGDStep(Schedule):
    r"""Decreasing step of SGD for :math:`\mu`-strongly convex (L1) or PL (L2) objectives
    (theorem 2 of docs/lectures.md section 1):

    .. math:: \alpha_k = \frac{2k+1}{2\mu\,(k+1)^2},

    for which :math:`\mathbb E[f(x_{k+1})-f^*]\le \frac{L\sigma^2}{2\mu^2(k+1)}`. It starts at
    :math:`\alpha_0 = 1/(2\mu)` and decreases like :math:`1/(\mu k)`.
    """

    def __init__(self, mu: float):
        self.mu = v.positive("StronglyConvexSGDStep", "mu", mu)

    def _eval(self, t, m):
        return (2.0 * t + 1.0) / (2.0 * self.mu * (t + 1.0) ** 2)

    @property
    def bounds(self):
        return (0.0, 1.0 / (2.0 * self.mu))


class InverseSqrtSGDStep(Schedule):
    r"""Step :math:`\alpha_k = \dfrac{\alpha_0}{\sqrt{k+1}}` of SGD on convex objectives with the
    weighted average iterate (theorem 4 of docs/lectures.md section 1; L2), which needs
    :math:`0<\alpha_0\le\frac1{4L}`: give the smoothness constant ``L`` to have that checked.

    Bound: :math:`\mathbb E[f(\bar x_k)-f^*]\le\frac{5\|x_0-x^*\|^2}{4\alpha_0\sqrt k}
    + 5\alpha_0\sigma^2\frac{\log(k+1)}{\sqrt k}`.
    """

    def __init__(self, alpha0: float, L: float | None = None):
        self.alpha0 = v.positive("InverseSqrtSGDStep", "alpha0", alpha0)
        self.L = None if L is None else v.positive("InverseSqrtSGDStep", "L", L)
        if self.L is not None and self.alpha0 > 1.0 / (4.0 * self.L):
            raise ValueError(f"InverseSqrtSGDStep: alpha0 must be <= 1/(4L) = "
                             f"{1.0 / (4.0 * self.L)!r} for the theorem, got {alpha0!r}")

    def _eval(self, t, m):
        return self.alpha0 / m.sqrt(t + 1.0)

    @property
    def bounds(self):
        return (0.0, self.alpha0)


class HorizonSGDStep(Schedule):
    r"""Constant step for a known horizon :math:`K` (theorem 3 of docs/lectures.md section 1; L1,
    L2):
    convex objective, variance :math:`\sigma^2`, average iterate :math:`\bar x_K`,

    .. math:: \alpha = \frac{R}{\sigma\sqrt K},\qquad R = \|x_0-x^*\|,

    which balances the two terms of :math:`\frac{R^2}{2\alpha K}+\frac{\alpha\sigma^2}{2}` and
    gives :math:`\mathbb E[f(\bar x_K)-f^*]\le \frac{R\sigma}{\sqrt K}`.
    """

    def __init__(self, R: float, sigma: float, K: int):
        self.R = v.positive("HorizonSGDStep", "R", R)
        self.sigma = v.positive("HorizonSGDStep", "sigma", sigma)
        self.K = v.positive_int("HorizonSGDStep", "K", K)
        self.value = self.R / (self.sigma * math.sqrt(self.K))

    def _eval(self, t, m):
        return self.value

    @property
    def bounds(self):
        return (self.value, self.value)
