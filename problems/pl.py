r"""A Polyak-Lojasiewicz function that is not convex (L2's PL theorem; docs/lectures.md section 9).

.. math:: f(x) = \sum_{j=1}^d \bigl(x_j^2 + 3\sin^2 x_j\bigr),\qquad x^*=0,\ f^*=0.

Source: Karimi, Nutini & Schmidt (2016), "Linear Convergence of Gradient and Proximal-Gradient
Methods Under the Polyak-Lojasiewicz Condition", who state that :math:`x^2+3\sin^2x` satisfies
the PL inequality :math:`\tfrac12|f'(x)|^2\ge\mu(f(x)-f^*)` with :math:`\mu=1/32`, and is not
convex.

Constants:

* :math:`L=8`: :math:`f''(x)=2+6\cos 2x\in[-4,8]`, so :math:`|f''|\le8` (attained at
  :math:`x=k\pi`), and :math:`f` is not convex (:math:`f''<0` near :math:`x=\pi/2`).
* PL: Karimi et al.'s :math:`\mu=1/32` is valid but loose. The best constant of the 1-D
  function is :math:`\inf_{x\ne0}\frac{f'(x)^2}{2f(x)}`, with :math:`f'(x)=2x+3\sin2x`; the
  ratio tends to 8 at 0 and to 2 at infinity, and its minimum, found numerically (a scan of
  :math:`(0,200]` with step :math:`5\cdot10^{-5}` refined by Brent's method), is
  :math:`0.1755310\ldots` at :math:`x\approx2.20171`. ``mu_numerical = 0.1755`` (rounded down) is
  therefore a valid PL constant, 5.6 times larger than 1/32.
* The sum over coordinates keeps the same PL constant (both sides of the inequality add up
  coordinate by coordinate) and the same :math:`L` (the Hessian is diagonal).
"""
from __future__ import annotations

import minigrad as mg
from minigrad import backend as B
from problems import _validate as V
from problems.base import Problem, as_rng

__all__ = ["PLSine", "KARIMI_MU", "NUMERICAL_MU", "PL_ARGMIN"]

KARIMI_MU = 1.0 / 32.0
NUMERICAL_MU = 0.1755
#: where the PL ratio f'^2 / (2 f) is smallest (about 0.17553); a PL test at this point fails
#: for any constant above the true one
PL_ARGMIN = 2.201709176458672


class PLSine(Problem):
    r""":math:`f(x)=\sum_j x_j^2+3\sin^2x_j`: PL but not convex, :math:`x^*=0`, :math:`f^*=0`,
    :math:`L=8`.

    ``mu`` is the PL constant: ``pl_constant="karimi"`` (default) gives Karimi et al.'s
    :math:`1/32`, ``"numerical"`` the tighter :math:`0.1755` derived in the module docstring;
    both are kept as ``mu_karimi`` and ``mu_numerical``. ``x0`` defaults to a point drawn
    uniformly from :math:`[-\text{spread},\text{spread}]^d` with ``seed``.
    """

    name = "pl_sine"
    convex = False
    mu_kind = "PL"
    mu_karimi = KARIMI_MU
    mu_numerical = NUMERICAL_MU

    def __init__(self, dim: int = 1, pl_constant: str = "karimi", seed: int = 0,
                 spread: float = 5.0, x0=None, dtype="float64"):
        owner = type(self).__name__
        dim = V.positive_int(owner, "dim", dim)
        V.check_choice(owner, "pl_constant", pl_constant, ("karimi", "numerical"))
        spread = V.positive(owner, "spread", spread)
        if x0 is None:
            x0 = as_rng(seed).uniform(-spread, spread, size=dim)
        mu = KARIMI_MU if pl_constant == "karimi" else NUMERICAL_MU
        self._setup(x0, shape=(dim,), mu=mu, L=8.0,
                    x_star=B.host_xp().zeros(dim), f_star=0.0, dtype=dtype)

    def _f(self, x):
        s = mg.sin(x)
        return mg.sum(x * x + 3.0 * (s * s))

    def grad_closed_form(self, x):
        r""":math:`f'(x_j)=2x_j+3\sin 2x_j`."""
        x = self._array(x)
        xp = B.get_array_module(x)
        return 2.0 * x + 3.0 * xp.sin(2.0 * x)

    def hessian_closed_form(self, x):
        r""":math:`\mathrm{diag}(2+6\cos2x_j)`."""
        x = self._array(x)
        xp = B.get_array_module(x)
        return xp.diag(2.0 + 6.0 * xp.cos(2.0 * x))
