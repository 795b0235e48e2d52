r"""The worst-case function of gradient descent on :math:`L`-smooth convex functions.

Drori & Teboulle (2014, "Performance of first-order methods for smooth convex minimization: a
novel approach", Math. Programming 145, Theorem 3.1) prove that :math:`N` steps of GD with step
:math:`h/L`, :math:`0<h\le1`, on an :math:`L`-smooth convex :math:`f` give

.. math:: f(x_N)-f^* \le \frac{L\,\|x_0-x^*\|^2}{4Nh+2},

and that the bound is attained (their Theorem 3.2) by a Huber function: with
:math:`R=\|x_0-x^*\|` and :math:`\tau = R/(2Nh+1)`,

.. math:: \varphi(x) = \begin{cases} L\tau\,\|x\| - \tfrac12L\tau^2, & \|x\|\ge\tau,\\
          \tfrac12L\|x\|^2, & \|x\|<\tau. \end{cases}

Check: from :math:`x_0=Re_1` every step has gradient :math:`L\tau e_1` and moves by
:math:`h\tau`, so :math:`x_N=(R-Nh\tau)e_1` with :math:`R-Nh\tau=\tau(Nh+1)\ge\tau`, and
:math:`\varphi(x_N)=L\tau^2(Nh+1)-\tfrac12L\tau^2=\tfrac12L\tau^2(2Nh+1)=\frac{LR^2}{2(2Nh+1)}`,
the bound. The PEPit example ``examples/unconstrained_convex_minimization/gradient_descent.py``
(PerformanceEstimation/PEPit) computes the same worst case numerically,
:math:`\tau(n,L,\gamma)=L/(2(2nL\gamma+1))` for :math:`\|x_0-x^*\|=1`, and says it is tight on
Huber functions.

:math:`\varphi` is the Moreau envelope of :math:`L\tau\|\cdot\|`, hence convex and
:math:`L`-smooth; its Hessian is :math:`LI` inside the ball and
:math:`\frac{L\tau}{\|x\|}(I-\frac{xx^\top}{\|x\|^2})` outside, with eigenvalues in
:math:`[0, L]`. :math:`x^*=0`, :math:`f^*=0`, :math:`\mu=0`.
"""
from __future__ import annotations

import minigrad as mg
from minigrad import backend as B
from problems import _validate as V
from problems.base import Problem

__all__ = ["HuberWorstCase"]


class HuberWorstCase(Problem):
    r"""Drori & Teboulle's Huber function: the worst case of ``n_steps`` GD steps with step
    ``h / L`` on :math:`L`-smooth convex functions, started at :math:`x_0 = R e_1`.

    Parameters: ``L`` (> 0), ``R`` = :math:`\|x_0-x^*\|` (> 0), ``n_steps`` = :math:`N`
    (>= 1), ``h`` (the step in units of :math:`1/L`, :math:`0<h\le1`), ``dim`` (>= 1; the
    function is radial, so GD moves along :math:`e_1`). ``tau`` is the kink radius
    :math:`R/(2Nh+1)`; :meth:`gd_bound` gives :math:`LR^2/(4Nh+2)`, which GD attains exactly
    on this function after ``n_steps`` steps.
    """

    name = "huber_worst_case"
    convex = True

    def __init__(self, L: float = 1.0, R: float = 1.0, n_steps: int = 10, h: float = 1.0,
                 dim: int = 1, dtype="float64"):
        owner = type(self).__name__
        L = V.positive(owner, "L", L)
        self.R = V.positive(owner, "R", R)
        self.n_steps = V.positive_int(owner, "n_steps", n_steps)
        self.h = V.positive(owner, "h", h)
        if self.h > 1:
            raise ValueError(f"{owner}: h (the step times L) must be in (0, 1], the range of "
                             f"Drori & Teboulle's theorem; got h={h!r}")
        dim = V.positive_int(owner, "dim", dim)
        self.tau = self.R / (2 * self.n_steps * self.h + 1)
        x0 = B.host_xp().zeros(dim)
        x0[0] = self.R
        self._setup(x0, shape=(dim,), mu=0.0, L=L, x_star=B.host_xp().zeros(dim), f_star=0.0,
                    dtype=dtype)

    @property
    def step(self) -> float:
        """The GD step :math:`h/L` this worst case is built for."""
        return self.h / self.L

    def gd_bound(self, n_steps: int | None = None) -> float:
        r""":math:`\frac{LR^2}{4Nh+2}` (Drori & Teboulle 2014, Theorem 3.1)."""
        N = self.n_steps if n_steps is None else n_steps
        return self.L * self.R ** 2 / (4 * N * self.h + 2)

    def _f(self, x):
        r = mg.norm(x)
        L, tau = self.L, self.tau
        return mg.where(r.data >= tau, L * tau * r - 0.5 * L * tau * tau, 0.5 * L * mg.sum(x * x))

    def grad_closed_form(self, x):
        r""":math:`L\tau\,x/\|x\|` outside the ball of radius :math:`\tau`, :math:`Lx` inside."""
        x = self._array(x)
        xp = B.get_array_module(x)
        r = float(xp.linalg.norm(x))
        return self.L * self.tau * x / r if r >= self.tau else self.L * x
