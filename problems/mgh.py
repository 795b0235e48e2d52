r"""The eighteen unconstrained minimisation problems of Moré, Garbow & Hillstrom.

Source: J. J. Moré, B. S. Garbow and K. E. Hillstrom, "Testing Unconstrained Optimization
Software", ACM Trans. Math. Softw. 7(1):17-41, 1981 (below: MGH). Section 3 of the paper
defines 35 problems, numbered (1)-(35), each as a sum of squares

.. math:: f(x)=\sum_{i=1}^m f_i(x)^2,

with the standard start :math:`x_0` and the minimum values the authors know. The paper then
lists 18 of them (p. 30) as its unconstrained minimisation set, in the order kept here; the
same 18, numbered 1-18 in that order, are the problems of the companion code (Moré, Garbow &
Hillstrom, "Algorithm 566: FORTRAN Subroutines for Testing Unconstrained Optimization Software",
ACM Trans. Math. Softw. 7(1):136-140, 1981, subroutines ``INITPT`` and ``OBJFCN``). Each class
has both numbers: ``number`` (1-18, the set's order) and ``paper_number`` (the definition's
number in section 3).

Every problem gives its residual vector :math:`(f_1,\dots,f_m)` (``residuals(x)``, for
Gauss-Newton and Levenberg-Marquardt methods) and :math:`f` as its sum of squares, both built
from minigrad operations on the last axis of ``x`` (so ``values`` of a batch of points is one
call, and the engine differentiates them to any order). The helical valley's angle
:math:`\theta(x_1,x_2)` is one more primitive of the engine (:func:`helical_theta`), since
minigrad has no arctangent.

Minimum values that MGH print with trailing dots (``2.28767...``) are truncated decimals;
``f_star_rtol`` bounds the relative size of their last printed digit (1e-5 for MGH's six
digits; 0 where ``f_star`` is exact). Where MGH give no minimiser, ``x_star`` is None. The
problems' sizes follow MGH: ``n`` for the eight problems of variable dimension, ``m`` for those
with a variable number of residuals; the defaults are the sizes at which MGH publish a minimum,
Algorithm 566's where the paper leaves ``m`` open (Gulf: ``m = 99``), and a round ``n`` where
it leaves ``n`` open (10; 12 for the extended Powell function, whose ``n`` is a multiple of 4).
"""
from __future__ import annotations

import collections
import math
import numbers

import minigrad as mg
from minigrad import backend as B
from minigrad.primitive import PRIMITIVES, apply, defprim, defvjp
from minigrad.tensor import Tensor
from problems.test_functions import _TestFunction

__all__ = ["HelicalValley", "BiggsExp6", "GaussianMGH", "PowellBadlyScaled", "Box3D",
           "VariablyDimensioned", "Watson", "PenaltyI", "PenaltyII", "BrownBadlyScaled",
           "BrownDennis", "GulfResearch", "Trigonometric", "ExtendedRosenbrock",
           "ExtendedPowellSingular", "BealeMGH", "Wood", "Chebyquad", "MGH_PROBLEMS",
           "MGHEntry", "mgh_problem", "helical_theta"]

_TWO_PI = 2.0 * math.pi


# --------------------------------------------------------------------------- helical angle
def _theta_data(a, b):
    """MGH's angle on arrays: ``arctan(b/a)/(2 pi)``, plus 1/2 where ``a < 0``; at ``a = 0``
    the value Algorithm 566 takes, 1/4 with the sign of ``b``."""
    xp = B.get_array_module(a, b)
    base = xp.arctan(b / xp.where(a == 0, 1.0, a)) / _TWO_PI
    on_axis = xp.where(b < 0, -0.25, 0.25).astype(base.dtype)
    return xp.where(a > 0, base, xp.where(a < 0, base + 0.5, on_axis))


def _theta_vjp_a(xp, g, ans, a, b):
    return g * (-b) / (_TWO_PI * (a * a + b * b))


def _theta_vjp_b(xp, g, ans, a, b):
    return g * a / (_TWO_PI * (a * a + b * b))


_THETA = PRIMITIVES.get("mgh_helical_theta") or defvjp(
    defprim("mgh_helical_theta", _theta_data, broadcasting=True), _theta_vjp_a, _theta_vjp_b)


def helical_theta(x1: Tensor, x2: Tensor) -> Tensor:
    r"""The helical valley's angle (MGH problem (7)), elementwise:

    .. math:: \theta(x_1,x_2)=\frac1{2\pi}\arctan\frac{x_2}{x_1}\ (x_1>0),\qquad
              \frac1{2\pi}\arctan\frac{x_2}{x_1}+\frac12\ (x_1<0),

    and :math:`\pm\frac14` (the sign of :math:`x_2`) at :math:`x_1=0`, as Algorithm 566 does.
    Its gradient :math:`\frac1{2\pi(x_1^2+x_2^2)}(-x_2,\,x_1)` is the same on both branches; the
    VJPs are written with operators only, so it differentiates to any order.
    """
    return apply(_THETA, (x1, x2), {})


# --------------------------------------------------------------------------- argument checks
def _check_size(owner: str, name: str, value, minimum: int, maximum: int | None = None,
                multiple: int = 1) -> int:
    """``value`` as an int; a ValueError naming the problem and the allowed sizes otherwise."""
    if multiple == 2:
        allowed = f"an even integer >= {minimum}"
    elif multiple > 1:
        allowed = f"a multiple of {multiple} (>= {minimum})"
    elif maximum is not None:
        allowed = f"an integer with {minimum} <= {name} <= {maximum}"
    else:
        allowed = f"an integer >= {minimum}"
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Integral)
          and value >= minimum and (maximum is None or value <= maximum)
          and value % multiple == 0)
    if not ok:
        raise ValueError(f"{owner}: {name} must be {allowed}; got {name}={value!r}")
    return int(value)


class _MGHProblem(_TestFunction):
    """A sum of squares :math:`\\sum_i f_i(x)^2` of MGH; subclasses define ``_residuals``."""

    number = 0  # the position in the unconstrained set (Algorithm 566's NPROB)
    paper_number = 0  # the definition's number in MGH section 3
    title = ""
    #: the relative size of the last printed digit of a truncated published f_star
    f_star_rtol = 0.0

    def _init(self, x0, default, *, m: int, x_star=None, f_star=None, dtype="float64",
              truncated: bool = False):
        """``truncated``: ``f_star`` is a published value printed to 6 digits, so it is known to
        a relative 1e-5 (none is needed for an exact or unknown one)."""
        if truncated:
            self.f_star_rtol = 1e-5 if f_star else 0.0
        hx = B.host_xp()
        default = hx.asarray(default, dtype="float64")
        self.n = int(default.shape[0])
        self.m = int(m)
        self._dtype = dtype
        self._setup(self._start(type(self).__name__, x0, default, self.n), shape=(self.n,),
                    x_star=x_star, f_star=f_star, dtype=dtype)

    def _const(self, values):
        """Host values as a backend array of the problem's dtype (moved by ``to``)."""
        return B.asarray(B.host_xp().asarray(values, dtype="float64"), dtype=self._dtype)

    def _residuals(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def residuals(self, x) -> Tensor:
        """The residual vector :math:`(f_1(x),\\dots,f_m(x))` as a Tensor of shape ``(m,)``."""
        x = self._tensor(x)
        self._check_shape(x)
        return self._residuals(x)

    def _f_batched(self, x):
        r = self._residuals(x)
        return mg.sum(r * r, axis=-1)

    def solved(self, f: float, atol: float = 1e-8, rtol: float = 1e-8) -> bool:
        r"""Whether the value ``f`` reaches the published minimum: :math:`f - f^* \le
        \texttt{atol} + \max(\texttt{rtol}, \texttt{f\_star\_rtol})\,|f^*|` (a lower value
        counts too: another minimiser). ``f_star_rtol`` widens the test to the digits MGH
        print. False when MGH give no minimum at this size, or ``f`` is not finite."""
        if self.f_star is None or not math.isfinite(f):
            return False
        return f - self.f_star <= atol + max(rtol, self.f_star_rtol) * abs(self.f_star)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(number={self.number}, n={self.n}, m={self.m}, "
                f"f_star={self._f_star}, backend={self.backend!r})")


def _stack(parts):
    return mg.stack(parts, axis=-1)


def _col(x, j):
    """Entry ``j`` of the last axis, kept as an axis of length 1 (to broadcast over ``t``)."""
    return x[..., j:j + 1]


# --------------------------------------------------------------------------- 1-5
class HelicalValley(_MGHProblem):
    r"""MGH (7), helical valley function (Fletcher & Powell 1963); :math:`n=m=3`:

    .. math:: f_1=10\,[x_3-10\,\theta(x_1,x_2)],\quad f_2=10\,[(x_1^2+x_2^2)^{1/2}-1],
              \quad f_3=x_3,

    :math:`\theta` as in :func:`helical_theta`. Start :math:`(-1,0,0)`; :math:`f^*=0` at
    :math:`(1,0,0)` (MGH). :math:`\theta` jumps across the half-line :math:`x_1=0,\ x_2<0`.
    """

    name = "mgh_helical_valley"
    number, paper_number, title = 1, 7, "Helical valley"

    def __init__(self, x0=None, dtype="float64"):
        self._init(x0, [-1.0, 0.0, 0.0], m=3, x_star=[1.0, 0.0, 0.0], f_star=0.0, dtype=dtype)

    def _residuals(self, x):
        x1, x2, x3 = x[..., 0], x[..., 1], x[..., 2]
        r = mg.sqrt(x1 * x1 + x2 * x2)
        return _stack([10.0 * (x3 - 10.0 * helical_theta(x1, x2)), 10.0 * (r - 1.0), x3])


class BiggsExp6(_MGHProblem):
    r"""MGH (18), Biggs EXP6 function (Biggs 1971); :math:`n=6`, :math:`m\ge n`
    (default 13):

    .. math:: f_i=x_3e^{-t_ix_1}-x_4e^{-t_ix_2}+x_6e^{-t_ix_5}-y_i,\quad t_i=0.1\,i,\quad
              y_i=e^{-t_i}-5e^{-10t_i}+3e^{-4t_i}.

    Start :math:`(1,2,1,1,1,1)`. MGH: :math:`f=5.65565\ldots\cdot10^{-3}` if :math:`m=13`
    (a local minimum, ``f_local``), and :math:`f^*=0` at :math:`(1,10,1,5,4,3)` (for any
    :math:`m`: every residual vanishes there).
    """

    name = "mgh_biggs_exp6"
    number, paper_number, title = 2, 18, "Biggs EXP6"

    def __init__(self, m: int = 13, x0=None, dtype="float64"):
        m = _check_size(type(self).__name__, "m", m, 6)
        self._init(x0, [1.0, 2.0, 1.0, 1.0, 1.0, 1.0], m=m, x_star=[1.0, 10.0, 1.0, 5.0, 4.0, 3.0],
                   f_star=0.0, dtype=dtype)
        self.f_local = 5.65565e-3 if m == 13 else None
        hx = B.host_xp()
        t = 0.1 * hx.arange(1, m + 1)
        self.t = self._const(t)
        self.y = self._const(hx.exp(-t) - 5.0 * hx.exp(-10.0 * t) + 3.0 * hx.exp(-4.0 * t))

    def _residuals(self, x):
        t = self.t
        return (_col(x, 2) * mg.exp(-t * _col(x, 0)) - _col(x, 3) * mg.exp(-t * _col(x, 1))
                + _col(x, 5) * mg.exp(-t * _col(x, 4)) - self.y)


class GaussianMGH(_MGHProblem):
    r"""MGH (9), Gaussian function (Meyer's thesis, via MGH); :math:`n=3`, :math:`m=15`:

    .. math:: f_i=x_1\exp\bigl(-\tfrac12x_2(t_i-x_3)^2\bigr)-y_i,\qquad t_i=(8-i)/2,

    with MGH's table :math:`y_i`: 0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521,
    0.3989 (:math:`i=1,\dots,8`) and :math:`y_{16-i}=y_i`. Start :math:`(0.4,1,0)`;
    :math:`f^*=1.12793\ldots\cdot10^{-8}` (MGH, no minimiser given).
    """

    name = "mgh_gaussian"
    number, paper_number, title = 3, 9, "Gaussian"
    f_star_rtol = 1e-5
    Y_HALF = (0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989)

    def __init__(self, x0=None, dtype="float64"):
        self._init(x0, [0.4, 1.0, 0.0], m=15, f_star=1.12793e-8, dtype=dtype)
        hx = B.host_xp()
        y = list(self.Y_HALF) + list(self.Y_HALF[-2::-1])
        self.t = self._const((8.0 - hx.arange(1, 16)) / 2.0)
        self.y = self._const(y)

    def _residuals(self, x):
        d = self.t - _col(x, 2)
        return _col(x, 0) * mg.exp(-0.5 * _col(x, 1) * (d * d)) - self.y


def _powell_badly_scaled_star():
    """Newton's method on :math:`e^{-x_1}+e^{-10^{-4}/x_1}=1.0001` (the second residual with
    :math:`x_2=10^{-4}/x_1` from the first) from MGH's :math:`x_1\\approx1.098\\cdot10^{-5}`."""
    x1 = 1.098e-5
    for _ in range(50):
        x2 = 1e-4 / x1
        g = math.exp(-x1) + math.exp(-x2) - 1.0001
        dg = -math.exp(-x1) + math.exp(-x2) * x2 / x1
        step = g / dg
        x1 -= step
        if abs(step) <= 1e-17 * x1:
            break
    return [x1, 1e-4 / x1]


class PowellBadlyScaled(_MGHProblem):
    r"""MGH (3), Powell badly scaled function (Powell 1970); :math:`n=m=2`:

    .. math:: f_1=10^4x_1x_2-1,\qquad f_2=e^{-x_1}+e^{-x_2}-1.0001 .

    Start :math:`(0,1)`; :math:`f^*=0` at :math:`(1.098\ldots\cdot10^{-5},\ 9.106\ldots)`
    (MGH); ``x_star`` is that root refined by Newton's method on the two equations (both
    residuals vanish to rounding there).
    """

    name = "mgh_powell_badly_scaled"
    number, paper_number, title = 4, 3, "Powell badly scaled"

    def __init__(self, x0=None, dtype="float64"):
        self._init(x0, [0.0, 1.0], m=2, x_star=_powell_badly_scaled_star(), f_star=0.0,
                   dtype=dtype)

    def _residuals(self, x):
        x1, x2 = x[..., 0], x[..., 1]
        return _stack([1e4 * (x1 * x2) - 1.0, mg.exp(-x1) + mg.exp(-x2) - 1.0001])


class Box3D(_MGHProblem):
    r"""MGH (12), Box three-dimensional function (Box 1966); :math:`n=3`, :math:`m\ge n`
    (default 10, as in Algorithm 566):

    .. math:: f_i=e^{-t_ix_1}-e^{-t_ix_2}-x_3\,(e^{-t_i}-e^{-10t_i}),\qquad t_i=0.1\,i .

    Start :math:`(0,10,20)`; :math:`f^*=0` at :math:`(1,10,1)`, :math:`(10,1,-1)` and wherever
    :math:`x_1=x_2,\ x_3=0` (MGH); ``x_star`` is :math:`(1,10,1)`.
    """

    name = "mgh_box_3d"
    number, paper_number, title = 5, 12, "Box three-dimensional"

    def __init__(self, m: int = 10, x0=None, dtype="float64"):
        m = _check_size(type(self).__name__, "m", m, 3)
        self._init(x0, [0.0, 10.0, 20.0], m=m, x_star=[1.0, 10.0, 1.0], f_star=0.0, dtype=dtype)
        hx = B.host_xp()
        t = 0.1 * hx.arange(1, m + 1)
        self.t = self._const(t)
        self.c = self._const(hx.exp(-t) - hx.exp(-10.0 * t))
        self.minimisers = ([1.0, 10.0, 1.0], [10.0, 1.0, -1.0])

    def _residuals(self, x):
        t = self.t
        return mg.exp(-t * _col(x, 0)) - mg.exp(-t * _col(x, 1)) - _col(x, 2) * self.c


# --------------------------------------------------------------------------- 6-10
class VariablyDimensioned(_MGHProblem):
    r"""MGH (25), variably dimensioned function; :math:`n` variable (default 10),
    :math:`m=n+2`:

    .. math:: f_i=x_i-1\ (i\le n),\qquad f_{n+1}=\sum_j j(x_j-1),\qquad
              f_{n+2}=\Bigl(\sum_j j(x_j-1)\Bigr)^2 .

    Start :math:`x_j=1-j/n`; :math:`f^*=0` at :math:`(1,\dots,1)` (MGH).
    """

    name = "mgh_variably_dimensioned"
    number, paper_number, title = 6, 25, "Variably dimensioned"

    def __init__(self, n: int = 10, x0=None, dtype="float64"):
        n = _check_size(type(self).__name__, "n", n, 1)
        hx = B.host_xp()
        j = hx.arange(1, n + 1)
        self._init(x0, 1.0 - j / n, m=n + 2, x_star=hx.ones(n), f_star=0.0, dtype=dtype)
        self.j = self._const(j)

    def _residuals(self, x):
        u = x - 1.0
        s = mg.sum(self.j * u, axis=-1, keepdims=True)
        return mg.concatenate([u, s, s * s], axis=-1)


class Watson(_MGHProblem):
    r"""MGH (20), Watson function (Kowalik & Osborne 1968); :math:`2\le n\le31` (default 6),
    :math:`m=31`:

    .. math:: f_i=\sum_{j=2}^n(j-1)x_jt_i^{j-2}-\Bigl(\sum_{j=1}^nx_jt_i^{j-1}\Bigr)^2-1,
              \quad t_i=i/29\ (1\le i\le29),\qquad f_{30}=x_1,\quad f_{31}=x_2-x_1^2-1 .

    Start :math:`0`. MGH: :math:`f^*=2.28767\ldots\cdot10^{-3}` (:math:`n=6`),
    :math:`1.39976\ldots\cdot10^{-6}` (:math:`n=9`), :math:`4.72238\ldots\cdot10^{-10}`
    (:math:`n=12`); None for other :math:`n`. No minimiser given.
    """

    name = "mgh_watson"
    number, paper_number, title = 7, 20, "Watson"
    F_STAR = {6: 2.28767e-3, 9: 1.39976e-6, 12: 4.72238e-10}

    def __init__(self, n: int = 6, x0=None, dtype="float64"):
        n = _check_size(type(self).__name__, "n", n, 2, maximum=31)
        f_star = self.F_STAR.get(n)
        hx = B.host_xp()
        self._init(x0, hx.zeros(n), m=31, f_star=f_star, dtype=dtype,
                   truncated=True)
        t = hx.arange(1, 30) / 29.0
        k = hx.arange(n)
        # transposed: P[j-1, i] = t_i^(j-1) and D[j-1, i] = (j-1) t_i^(j-2) (0 for j = 1)
        self.P = self._const((t[:, None] ** k[None, :]).T)
        self.D = self._const((k[None, :] * t[:, None] ** hx.maximum(k - 1, 0)[None, :]).T)

    def _residuals(self, x):
        s1 = mg.matmul(x, self.D)
        s2 = mg.matmul(x, self.P)
        x1, x2 = x[..., 0:1], x[..., 1:2]
        return mg.concatenate([s1 - s2 * s2 - 1.0, x1, x2 - x1 * x1 - 1.0], axis=-1)


class PenaltyI(_MGHProblem):
    r"""MGH (23), penalty function I (Gill, Murray & Pitfield 1972); :math:`n` variable
    (default 4), :math:`m=n+1`, :math:`a=10^{-5}`:

    .. math:: f_i=a^{1/2}(x_i-1)\ (i\le n),\qquad f_{n+1}=\Bigl(\sum_jx_j^2\Bigr)-\frac14 .

    Start :math:`x_j=j`. MGH: :math:`f^*=2.24997\ldots\cdot10^{-5}` (:math:`n=4`),
    :math:`7.08765\ldots\cdot10^{-5}` (:math:`n=10`); None for other :math:`n`.
    """

    name = "mgh_penalty_i"
    number, paper_number, title = 8, 23, "Penalty I"
    F_STAR = {4: 2.24997e-5, 10: 7.08765e-5}
    a = 1e-5

    def __init__(self, n: int = 4, x0=None, dtype="float64"):
        n = _check_size(type(self).__name__, "n", n, 1)
        f_star = self.F_STAR.get(n)
        self._init(x0, B.host_xp().arange(1, n + 1), m=n + 1, f_star=f_star, dtype=dtype,
                   truncated=True)

    def _residuals(self, x):
        tail = mg.sum(x * x, axis=-1, keepdims=True) - 0.25
        return mg.concatenate([math.sqrt(self.a) * (x - 1.0), tail], axis=-1)


class PenaltyII(_MGHProblem):
    r"""MGH (24), penalty function II (Gill, Murray & Pitfield 1972); :math:`n` variable
    (default 4), :math:`m=2n`, :math:`a=10^{-5}`:

    .. math:: f_1=x_1-0.2,\qquad f_i=a^{1/2}\bigl(e^{x_i/10}+e^{x_{i-1}/10}-y_i\bigr)
              \ (2\le i\le n),

    .. math:: f_i=a^{1/2}\bigl(e^{x_{i-n+1}/10}-e^{-1/10}\bigr)\ (n<i<2n),\qquad
              f_{2n}=\Bigl(\sum_j(n-j+1)x_j^2\Bigr)-1,

    :math:`y_i=e^{i/10}+e^{(i-1)/10}`. Start :math:`(\frac12,\dots,\frac12)`. MGH:
    :math:`f^*=9.37629\ldots\cdot10^{-6}` (:math:`n=4`), :math:`2.93660\ldots\cdot10^{-4}`
    (:math:`n=10`); None for other :math:`n`.
    """

    name = "mgh_penalty_ii"
    number, paper_number, title = 9, 24, "Penalty II"
    F_STAR = {4: 9.37629e-6, 10: 2.93660e-4}
    a = 1e-5

    def __init__(self, n: int = 4, x0=None, dtype="float64"):
        n = _check_size(type(self).__name__, "n", n, 1)
        f_star = self.F_STAR.get(n)
        hx = B.host_xp()
        self._init(x0, hx.full(n, 0.5), m=2 * n, f_star=f_star, dtype=dtype,
                   truncated=True)
        i = hx.arange(2, n + 1)
        self.y = self._const(hx.exp(i / 10.0) + hx.exp((i - 1) / 10.0))
        self.w = self._const(hx.arange(n, 0, -1))  # n - j + 1

    def _residuals(self, x):
        sa = math.sqrt(self.a)
        e = mg.exp(x / 10.0)
        first = x[..., 0:1] - 0.2
        middle = sa * (e[..., 1:] + e[..., :-1] - self.y)
        tail = sa * (e[..., 1:] - math.exp(-0.1))
        last = mg.sum(self.w * (x * x), axis=-1, keepdims=True) - 1.0
        return mg.concatenate([first, middle, tail, last], axis=-1)


class BrownBadlyScaled(_MGHProblem):
    r"""MGH (4), Brown badly scaled function; :math:`n=2`, :math:`m=3`:

    .. math:: f_1=x_1-10^6,\qquad f_2=x_2-2\cdot10^{-6},\qquad f_3=x_1x_2-2 .

    Start :math:`(1,1)`; :math:`f^*=0` at :math:`(10^6,\ 2\cdot10^{-6})` (MGH).
    """

    name = "mgh_brown_badly_scaled"
    number, paper_number, title = 10, 4, "Brown badly scaled"

    def __init__(self, x0=None, dtype="float64"):
        self._init(x0, [1.0, 1.0], m=3, x_star=[1e6, 2e-6], f_star=0.0, dtype=dtype)

    def _residuals(self, x):
        x1, x2 = x[..., 0], x[..., 1]
        return _stack([x1 - 1e6, x2 - 2e-6, x1 * x2 - 2.0])


# --------------------------------------------------------------------------- 11-15
class BrownDennis(_MGHProblem):
    r"""MGH (16), Brown and Dennis function (Brown & Dennis 1971); :math:`n=4`,
    :math:`m\ge n` (default 20):

    .. math:: f_i=(x_1+t_ix_2-e^{t_i})^2+(x_3+x_4\sin t_i-\cos t_i)^2,\qquad t_i=i/5 .

    Start :math:`(25,5,-5,-1)`; MGH: :math:`f^*=85822.2\ldots` if :math:`m=20` (None for other
    :math:`m`); no minimiser given.
    """

    name = "mgh_brown_dennis"
    number, paper_number, title = 11, 16, "Brown and Dennis"

    def __init__(self, m: int = 20, x0=None, dtype="float64"):
        m = _check_size(type(self).__name__, "m", m, 4)
        f_star = 85822.2 if m == 20 else None
        self._init(x0, [25.0, 5.0, -5.0, -1.0], m=m, f_star=f_star, dtype=dtype,
                   truncated=True)
        hx = B.host_xp()
        t = hx.arange(1, m + 1) / 5.0
        self.t, self.et = self._const(t), self._const(hx.exp(t))
        self.sin_t, self.cos_t = self._const(hx.sin(t)), self._const(hx.cos(t))

    def _residuals(self, x):
        u = _col(x, 0) + self.t * _col(x, 1) - self.et
        v = _col(x, 2) + self.sin_t * _col(x, 3) - self.cos_t
        return u * u + v * v


class GulfResearch(_MGHProblem):
    r"""MGH (11), Gulf research and development function (Cox 1969); :math:`n=3`,
    :math:`n\le m\le100` (default 99, Algorithm 566's):

    .. math:: f_i=\exp\Bigl(-\frac{|y_i-x_2|^{x_3}}{x_1}\Bigr)-t_i,\qquad t_i=i/100,\quad
              y_i=25+(-50\ln t_i)^{2/3} .

    (MGH print the argument as :math:`|y_imix_2|`; Algorithm 566 and the minimiser read it
    :math:`|y_i-x_2|`.) Start :math:`(5,\,2.5,\,0.15)`; :math:`f^*=0` at :math:`(50,25,1.5)`
    (MGH).
    """

    name = "mgh_gulf"
    number, paper_number, title = 12, 11, "Gulf research and development"

    def __init__(self, m: int = 99, x0=None, dtype="float64"):
        m = _check_size(type(self).__name__, "m", m, 3, maximum=100)
        self._init(x0, [5.0, 2.5, 0.15], m=m, x_star=[50.0, 25.0, 1.5], f_star=0.0, dtype=dtype)
        hx = B.host_xp()
        t = hx.arange(1, m + 1) / 100.0
        self.t = self._const(t)
        self.y = self._const(25.0 + (-50.0 * hx.log(t)) ** (2.0 / 3.0))

    def _residuals(self, x):
        r = mg.abs(self.y - _col(x, 1))
        return mg.exp(-(r ** _col(x, 2)) / _col(x, 0)) - self.t


class Trigonometric(_MGHProblem):
    r"""MGH (26), trigonometric function (Spedicato 1975); :math:`n` variable (default 10),
    :math:`m=n`:

    .. math:: f_i=n-\sum_{j=1}^n\cos x_j+i\,(1-\cos x_i)-\sin x_i .

    Start :math:`(\frac1n,\dots,\frac1n)`; :math:`f^*=0` (MGH), attained at :math:`x=0`
    (every residual vanishes there), the ``x_star`` given.
    """

    name = "mgh_trigonometric"
    number, paper_number, title = 13, 26, "Trigonometric"

    def __init__(self, n: int = 10, x0=None, dtype="float64"):
        n = _check_size(type(self).__name__, "n", n, 1)
        hx = B.host_xp()
        self._init(x0, hx.full(n, 1.0 / n), m=n, x_star=hx.zeros(n), f_star=0.0, dtype=dtype)
        self.i = self._const(hx.arange(1, n + 1))

    def _residuals(self, x):
        c = mg.cos(x)
        return (self.n - mg.sum(c, axis=-1, keepdims=True)) + self.i * (1.0 - c) - mg.sin(x)


class ExtendedRosenbrock(_MGHProblem):
    r"""MGH (21), extended Rosenbrock function (Spedicato 1975); :math:`n` even (default 10;
    MGH leave it open), :math:`m=n`:

    .. math:: f_{2i-1}=10\,(x_{2i}-x_{2i-1}^2),\qquad f_{2i}=1-x_{2i-1} .

    Start :math:`(-1.2,1,\dots,-1.2,1)`; :math:`f^*=0` at :math:`(1,\dots,1)` (MGH). Unlike
    :class:`Rosenbrock` (a chain), the pairs are independent.
    """

    name = "mgh_extended_rosenbrock"
    number, paper_number, title = 14, 21, "Extended Rosenbrock"

    def __init__(self, n: int = 10, x0=None, dtype="float64"):
        n = _check_size(type(self).__name__, "n", n, 2, multiple=2)
        hx = B.host_xp()
        self._init(x0, hx.tile([-1.2, 1.0], n // 2), m=n, x_star=hx.ones(n), f_star=0.0,
                   dtype=dtype)

    def _residuals(self, x):
        u, v = x[..., 0::2], x[..., 1::2]
        r = mg.stack([10.0 * (v - u * u), 1.0 - u], axis=-1)
        return mg.reshape(r, tuple(x.shape[:-1]) + (self.n,))


class ExtendedPowellSingular(_MGHProblem):
    r"""MGH (22), extended Powell singular function (Spedicato 1975); :math:`n` a multiple of 4
    (default 12; MGH leave it open), :math:`m=n`:

    .. math:: f_{4i-3}=x_{4i-3}+10x_{4i-2},\quad f_{4i-2}=5^{1/2}(x_{4i-1}-x_{4i}),\quad
              f_{4i-1}=(x_{4i-2}-2x_{4i-1})^2,\quad f_{4i}=10^{1/2}(x_{4i-3}-x_{4i})^2 .

    Start :math:`(3,-1,0,1,\dots)`; :math:`f^*=0` at the origin (MGH), where the Hessian is
    singular.
    """

    name = "mgh_extended_powell_singular"
    number, paper_number, title = 15, 22, "Extended Powell singular"

    def __init__(self, n: int = 12, x0=None, dtype="float64"):
        n = _check_size(type(self).__name__, "n", n, 4, multiple=4)
        hx = B.host_xp()
        self._init(x0, hx.tile([3.0, -1.0, 0.0, 1.0], n // 4), m=n, x_star=hx.zeros(n),
                   f_star=0.0, dtype=dtype)

    def _residuals(self, x):
        a, b, c, d = x[..., 0::4], x[..., 1::4], x[..., 2::4], x[..., 3::4]
        p, q = b - 2.0 * c, a - d
        r = mg.stack([a + 10.0 * b, math.sqrt(5.0) * (c - d), p * p, math.sqrt(10.0) * (q * q)],
                     axis=-1)
        return mg.reshape(r, tuple(x.shape[:-1]) + (self.n,))


# --------------------------------------------------------------------------- 16-18
class BealeMGH(_MGHProblem):
    r"""MGH (5), Beale function (Beale 1958) as a sum of squares; :math:`n=2`, :math:`m=3`:

    .. math:: f_i=y_i-x_1(1-x_2^i),\qquad y=(1.5,\ 2.25,\ 2.625) .

    Start :math:`(1,1)` (MGH's; :class:`Beale` starts at :math:`(1,1.5)`); :math:`f^*=0` at
    :math:`(3,\,0.5)` (MGH).
    """

    name = "mgh_beale"
    number, paper_number, title = 16, 5, "Beale"

    def __init__(self, x0=None, dtype="float64"):
        self._init(x0, [1.0, 1.0], m=3, x_star=[3.0, 0.5], f_star=0.0, dtype=dtype)

    def _residuals(self, x):
        x1, x2 = x[..., 0], x[..., 1]
        x2sq = x2 * x2
        return _stack([1.5 - x1 * (1.0 - x2), 2.25 - x1 * (1.0 - x2sq),
                       2.625 - x1 * (1.0 - x2sq * x2)])


class Wood(_MGHProblem):
    r"""MGH (14), Wood function (Colville 1968); :math:`n=4`, :math:`m=6`:

    .. math:: f_1=10(x_2-x_1^2),\ f_2=1-x_1,\ f_3=90^{1/2}(x_4-x_3^2),\ f_4=1-x_3,\
              f_5=10^{1/2}(x_2+x_4-2),\ f_6=10^{-1/2}(x_2-x_4) .

    Start :math:`(-3,-1,-3,-1)`; :math:`f^*=0` at :math:`(1,1,1,1)` (MGH).
    """

    name = "mgh_wood"
    number, paper_number, title = 17, 14, "Wood"

    def __init__(self, x0=None, dtype="float64"):
        self._init(x0, [-3.0, -1.0, -3.0, -1.0], m=6, x_star=[1.0, 1.0, 1.0, 1.0], f_star=0.0,
                   dtype=dtype)

    def _residuals(self, x):
        x1, x2, x3, x4 = x[..., 0], x[..., 1], x[..., 2], x[..., 3]
        return _stack([10.0 * (x2 - x1 * x1), 1.0 - x1, math.sqrt(90.0) * (x4 - x3 * x3),
                       1.0 - x3, math.sqrt(10.0) * (x2 + x4 - 2.0),
                       (x2 - x4) / math.sqrt(10.0)])


class Chebyquad(_MGHProblem):
    r"""MGH (35), Chebyquad function (Fletcher 1965); :math:`n` variable (default 8),
    :math:`m\ge n` (default :math:`m=n`):

    .. math:: f_i=\frac1n\sum_{j=1}^nT_i(x_j)-\int_0^1T_i(x)\,dx,

    :math:`T_i` the :math:`i`-th Chebyshev polynomial shifted to :math:`[0,1]`
    (:math:`T_i(x)=\cos(i\arccos(2x-1))`); the integral is 0 for odd :math:`i` and
    :math:`-1/(i^2-1)` for even :math:`i`. Start :math:`x_j=j/(n+1)`. MGH, for :math:`m=n`:
    :math:`f^*=0` for :math:`1\le n\le7` and :math:`n=9`, :math:`3.51687\ldots\cdot10^{-3}`
    for :math:`n=8`, :math:`6.50395\ldots\cdot10^{-3}` for :math:`n=10`; None otherwise.
    ``x_star`` (where :math:`f=0` by Gauss-Chebyshev symmetry, not from MGH) for
    :math:`n=1`: :math:`\frac12`; :math:`n=2`: :math:`\frac12\mp\frac1{2\sqrt3}`.
    """

    name = "mgh_chebyquad"
    number, paper_number, title = 18, 35, "Chebyquad"
    F_STAR = {8: 3.51687e-3, 10: 6.50395e-3}

    def __init__(self, n: int = 8, m: int | None = None, x0=None, dtype="float64"):
        owner = type(self).__name__
        n = _check_size(owner, "n", n, 1)
        m = n if m is None else _check_size(owner, "m", m, n)
        f_star = None
        if m == n:
            f_star = 0.0 if (n <= 7 or n == 9) else self.F_STAR.get(n)
        x_star = {1: [0.5], 2: [0.5 - 0.5 / math.sqrt(3.0), 0.5 + 0.5 / math.sqrt(3.0)]}
        hx = B.host_xp()
        self._init(x0, hx.arange(1, n + 1) / (n + 1.0), m=m,
                   x_star=x_star.get(n) if m == n else None, f_star=f_star, dtype=dtype,
                   truncated=True)
        self.integrals = self._const([-1.0 / (i * i - 1.0) if i % 2 == 0 else 0.0
                                      for i in range(1, m + 1)])

    def _residuals(self, x):
        y = 2.0 * x - 1.0
        prev, cur = None, y  # T_0 = 1, T_1 = y
        means = []
        for i in range(self.m):
            means.append(mg.mean(cur, axis=-1))
            nxt = 2.0 * y * cur - (1.0 if prev is None else prev)
            prev, cur = cur, nxt
        return _stack(means) - self.integrals


# --------------------------------------------------------------------------- registry
#: one problem of the set: its number, name, class and default sizes
MGHEntry = collections.namedtuple("MGHEntry", "number paper_number title cls n m")

_CLASSES = (HelicalValley, BiggsExp6, GaussianMGH, PowellBadlyScaled, Box3D,
            VariablyDimensioned, Watson, PenaltyI, PenaltyII, BrownBadlyScaled, BrownDennis,
            GulfResearch, Trigonometric, ExtendedRosenbrock, ExtendedPowellSingular, BealeMGH,
            Wood, Chebyquad)
#: the classes that take ``n``
_VARIABLE_N = {VariablyDimensioned, Watson, PenaltyI, PenaltyII, Trigonometric,
               ExtendedRosenbrock, ExtendedPowellSingular, Chebyquad}


def _entry(cls) -> MGHEntry:
    p = cls()
    return MGHEntry(cls.number, cls.paper_number, cls.title, cls, p.n, p.m)


#: the 18 problems in the order of the set (MGH p. 30, Algorithm 566), default sizes
MGH_PROBLEMS = tuple(_entry(c) for c in _CLASSES)


def mgh_problem(number: int, n: int | None = None, **kwargs):
    """Problem ``number`` (1-18) of the set, at its default size or at ``n`` (for the problems
    of variable dimension: 6, 7, 8, 9, 13, 14, 15, 18). ``kwargs`` go to the class (``m``,
    ``x0``, ``dtype``)."""
    if isinstance(number, bool) or not isinstance(number, numbers.Integral) or not (
            1 <= number <= len(_CLASSES)):
        raise ValueError(f"mgh_problem: number must be an integer from 1 to {len(_CLASSES)}; "
                         f"got number={number!r}")
    cls = _CLASSES[int(number) - 1]
    if n is None:
        return cls(**kwargs)
    if cls in _VARIABLE_N:
        return cls(n=n, **kwargs)
    fixed = MGH_PROBLEMS[int(number) - 1].n
    if n != fixed:
        raise ValueError(f"{cls.__name__} (MGH problem {cls.number}) has the fixed size n = "
                         f"{fixed}; got n={n!r}")
    return cls(**kwargs)
