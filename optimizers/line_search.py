r"""Line searches: Armijo backtracking and the strong Wolfe search (docs/lectures.md section 5, L0).

Along a descent direction :math:`p_k` from :math:`x_k` a line search looks at the scalar function

.. math::
    \phi(\alpha) = f(x_k + \alpha p_k), \qquad \phi'(\alpha) = \nabla f(x_k + \alpha p_k)^\top p_k,
    \qquad \phi'(0) < 0,

and returns a step :math:`\alpha_k > 0` that satisfies (Nocedal & Wright, *Numerical
Optimization*, 2nd ed., eqs. 3.6-3.7; L0's slide "BFGS")

.. math::
    \text{sufficient decrease (Armijo):}\quad & \phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0) \\
    \text{strong curvature:}\quad & |\phi'(\alpha)| \le c_2 |\phi'(0)|, \qquad 0 < c_1 < c_2 < 1,

with :math:`c_1 = 10^{-4}` and :math:`c_2 = 0.9` by default (the values for quasi-Newton methods).

Two searches, each on a scalar function (``phi``, ``derphi``) and, for the optimizers, along a ray
of an :class:`Objective`:

* :func:`armijo_backtracking` (N&W Algorithm 3.1): the first condition alone; the step shrinks by
  quadratic and then cubic interpolation (N&W eqs. 3.57-3.58), kept in
  :math:`[0.1\,\alpha_i, 0.5\,\alpha_i]` (the safeguard of Dennis & Schnabel, Algorithm A6.3.1),
  or by a constant factor :math:`\rho` (halving for :math:`\rho = 1/2`);
* :func:`strong_wolfe` (N&W Algorithms 3.5 and 3.6): a bracketing phase that extrapolates the
  step (by cubic interpolation, at least doubling it and at most multiplying it by 10) until an
  interval containing strong-Wolfe points is found, then ``zoom``, which shrinks the
  interval by cubic interpolation with a safeguard (the trial is clamped into the middle 80% of
  the interval, so that each step removes at least a tenth of it), a quadratic fallback when the
  cubic has no minimiser, and bisection last (no usable values).

Conventions shared by both:

* a **non-finite** trial value :math:`\phi(\alpha)` (``inf`` or ``nan``, e.g. an overflow) means
  "the step is too long": the step shrinks and that value is never accepted;
* a **failure** (iteration budget spent, interval shrunk to rounding level, no descent direction,
  ``alpha_max`` reached) is not an exception: the result carries a ``status`` and a message, and the
  best point found (the trial with the lowest finite value below :math:`\phi(0)`, or
  :math:`\alpha = 0` when there is none);
* calls are counted: ``nfev`` calls of :math:`\phi` (of f) and ``njev`` calls of :math:`\phi'`
  (of the gradient). Along an :class:`Objective`, the counts are the objective's own (see there:
  with minigrad or ``jac=True`` one evaluation gives f and the gradient together).

Status codes of :class:`LineSearchResult`: 0 conditions satisfied; 1 iteration budget spent (or
``alpha_max`` reached without a bracket); 2 :math:`\phi'(0) \ge 0`, not a descent direction;
3 no acceptable step can be resolved (the interval or the step fell below rounding level).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from minigrad import backend as B
from minigrad.autograd import value_and_grad
from minigrad.tensor import Tensor, no_grad
from optimizers import _validate as V
from optimizers import nonfinite as NF
from optimizers.base import Optimizer

__all__ = ["LineSearchResult", "Objective", "armijo_backtracking", "strong_wolfe",
           "line_search_armijo", "line_search_wolfe", "check_wolfe_constants",
           "ClosureObjective", "VectorOptimizer"]

MESSAGES = {
    0: "the line search conditions are satisfied",
    1: "the line search reached its iteration budget (or alpha_max) without satisfying its "
       "conditions; the best point found is returned",
    2: "phi'(0) >= 0: p is not a descent direction; no step taken",
    3: "no acceptable step could be resolved (interval or step below rounding level); the best "
       "point found is returned",
}


@dataclass
class LineSearchResult:
    """What a line search returns.

    ``alpha``: the step (the accepted one, or the best one found on failure, 0 when none
    decreased :math:`\\phi`); ``phi``/``derphi``: :math:`\\phi(\\alpha)` and
    :math:`\\phi'(\\alpha)` (``derphi`` is None when it was not evaluated); ``nfev``/``njev``:
    calls of f and of the gradient made by the search; ``status``/``message``: see the module
    docstring; along a ray, ``x``/``f``/``g`` are the new point, its value and its gradient
    (``g`` None when not evaluated).
    """

    alpha: float
    phi: float
    derphi: float | None
    nfev: int
    njev: int
    status: int
    message: str
    x: object = None
    f: float | None = None
    g: object = None

    @property
    def success(self) -> bool:
        return self.status == 0


def check_wolfe_constants(c1, c2, owner: str = "strong_wolfe") -> tuple[float, float]:
    """``(c1, c2)`` as floats after checking :math:`0 < c_1 < c_2 < 1`."""
    c1, c2 = float(c1), float(c2)
    if not (0.0 < c1 < c2 < 1.0):
        raise ValueError(f"{owner}: the Wolfe constants need 0 < c1 < c2 < 1; got c1={c1!r}, "
                         f"c2={c2!r}")
    return c1, c2


def _finite(v) -> bool:
    return v is not None and math.isfinite(v)


class _Counted:
    """A scalar function with a call counter."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, alpha):
        self.calls += 1
        return float(self.fn(alpha))


class _Best:
    """The trial with the lowest finite value so far (starting from alpha = 0)."""

    def __init__(self, phi0, derphi0):
        self.alpha, self.phi, self.derphi = 0.0, phi0, derphi0

    def offer(self, alpha, phi, derphi=None):
        if _finite(phi) and phi < self.phi:
            self.alpha, self.phi, self.derphi = alpha, phi, derphi


# --------------------------------------------------------------------------- interpolation
def _cubic_hermite_min(a, fa, da, b, fb, db):
    r"""Minimiser of the cubic that matches :math:`\phi, \phi'` at ``a`` and ``b``
    (N&W eq. 3.59), or None when it has none.

    .. math::
        d_1 = \phi'(a) + \phi'(b) - 3\frac{\phi(a) - \phi(b)}{a - b}, \quad
        d_2 = \mathrm{sign}(b - a)\sqrt{d_1^2 - \phi'(a)\phi'(b)}, \quad
        \alpha = b - (b - a)\frac{\phi'(b) + d_2 - d_1}{\phi'(b) - \phi'(a) + 2 d_2}
    """
    if a == b:
        return None
    d1 = da + db - 3.0 * (fa - fb) / (a - b)                  # d_1
    rad = d1 * d1 - da * db
    if not rad >= 0.0:
        return None
    d2 = math.copysign(math.sqrt(rad), b - a)                 # d_2
    den = db - da + 2.0 * d2
    if den == 0.0:
        return None
    alpha = b - (b - a) * (db + d2 - d1) / den                # alpha_{i+1}
    return alpha if math.isfinite(alpha) else None


def _cubic_three_point_min(a, fa, da, b, fb, c, fc):
    r"""Minimiser of the cubic through :math:`\phi(a), \phi'(a), \phi(b), \phi(c)`
    (N&W eq. 3.58 with the origin moved to ``a``), or None.

    .. math::
        \phi_c(\alpha) = A t^3 + C t^2 + \phi'(a) t + \phi(a),\ t = \alpha - a, \qquad
        \begin{bmatrix}A\\C\end{bmatrix} = \frac{1}{\delta_b^2\delta_c^2(\delta_b - \delta_c)}
        \begin{bmatrix}\delta_c^2 & -\delta_b^2\\ -\delta_c^3 & \delta_b^3\end{bmatrix}
        \begin{bmatrix}\phi(b) - \phi(a) - \phi'(a)\delta_b\\
        \phi(c) - \phi(a) - \phi'(a)\delta_c\end{bmatrix}, \qquad
        \alpha = a + \frac{-C + \sqrt{C^2 - 3A\phi'(a)}}{3A}
    """
    db_, dc_ = b - a, c - a
    denom = db_ * db_ * dc_ * dc_ * (db_ - dc_)
    if denom == 0.0:
        return None
    rb = fb - fa - da * db_
    rc = fc - fa - da * dc_
    A = (dc_ * dc_ * rb - db_ * db_ * rc) / denom
    C = (-dc_ ** 3 * rb + db_ ** 3 * rc) / denom
    if A == 0.0:
        return None
    rad = C * C - 3.0 * A * da
    if not rad >= 0.0:
        return None
    alpha = a + (-C + math.sqrt(rad)) / (3.0 * A)
    return alpha if math.isfinite(alpha) else None


def _quadratic_min(a, fa, da, b, fb):
    r"""Minimiser of the quadratic through :math:`\phi(a), \phi'(a), \phi(b)` (N&W eq. 3.57
    with the origin moved to ``a``), or None when it is not convex.

    .. math::
        \alpha = a - \frac{\phi'(a)(b - a)^2}{2\,[\phi(b) - \phi(a) - \phi'(a)(b - a)]}
    """
    d = b - a
    if d == 0.0:
        return None
    curv = fb - fa - da * d
    if not curv > 0.0:
        return None
    alpha = a - da * d * d / (2.0 * curv)
    return alpha if math.isfinite(alpha) else None


# --------------------------------------------------------------------------- Armijo
def armijo_backtracking(phi, phi0=None, derphi0=None, derphi=None, alpha0=1.0, c1=1e-4,
                        rho=0.5, interpolation=True, maxiter=60, alpha_min=1e-20):
    r"""Backtracking until sufficient decrease (N&W Algorithm 3.1).

    .. math::
        &\text{choose } \bar\alpha > 0,\ \rho \in (0, 1),\ c_1 \in (0, 1);\ \alpha \leftarrow \bar\alpha \\
        &\textbf{repeat until } \phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0):\quad
        \alpha \leftarrow \rho\alpha \ \text{ (or by interpolation)}

    With ``interpolation=True`` (default) the next trial minimises the quadratic through
    :math:`\phi(0), \phi'(0), \phi(\alpha_0)` (N&W eq. 3.57), then the cubic through
    :math:`\phi(0), \phi'(0)` and the last two values (eq. 3.58), clamped to
    :math:`[0.1\,\alpha_i, 0.5\,\alpha_i]`; with ``interpolation=False`` it is
    :math:`\rho\alpha_i` (``rho=0.5``: halving). A non-finite :math:`\phi(\alpha_i)` shrinks the step
    by the strongest allowed factor (0.1, or :math:`\rho` without interpolation).

    ``phi0``/``derphi0`` are evaluated (and counted) when not given; ``derphi`` is needed only then.
    Returns a :class:`LineSearchResult` (``derphi`` None: the search never needs it).
    """
    c1 = float(c1)
    if not 0.0 < c1 < 1.0:
        raise ValueError(f"armijo_backtracking: c1 must be in (0, 1); got {c1!r}")
    if not 0.0 < rho < 1.0:
        raise ValueError(f"armijo_backtracking: rho must be in (0, 1); got {rho!r}")
    if not alpha0 > 0.0:
        raise ValueError(f"armijo_backtracking: alpha0 must be > 0; got {alpha0!r}")
    phi = _Counted(phi)
    dcount = 0
    if phi0 is None:
        phi0 = phi(0.0)
    if derphi0 is None:
        if derphi is None:
            raise ValueError("armijo_backtracking: give derphi0 or derphi")
        derphi0, dcount = float(derphi(0.0)), 1
    phi0, derphi0 = float(phi0), float(derphi0)

    def result(alpha, value, status):
        return LineSearchResult(alpha, value, None, phi.calls, dcount, status, MESSAGES[status])

    if not derphi0 < 0.0:
        return result(0.0, phi0, 2)
    best = _Best(phi0, derphi0)
    alpha, prev = float(alpha0), None      # prev: (alpha_{i-1}, phi(alpha_{i-1})) for the cubic
    for _ in range(maxiter):
        phi_a = phi(alpha)                                        # phi(alpha_i)
        best.offer(alpha, phi_a)
        if _finite(phi_a) and phi_a <= phi0 + c1 * alpha * derphi0:  # sufficient decrease
            return result(alpha, phi_a, 0)
        if not interpolation:
            new = rho * alpha                                     # alpha <- rho alpha
        elif not _finite(phi_a):
            new = 0.1 * alpha                                     # too long: shrink hard
        else:
            new = None
            if prev is not None:                                  # cubic, N&W eq. 3.58
                new = _cubic_three_point_min(0.0, phi0, derphi0, alpha, phi_a, *prev)
            if new is None:                                       # quadratic, N&W eq. 3.57
                new = _quadratic_min(0.0, phi0, derphi0, alpha, phi_a)
            if new is None:
                new = 0.5 * alpha
            new = min(max(new, 0.1 * alpha), 0.5 * alpha)         # safeguard [0.1, 0.5] alpha_i
        prev = (alpha, phi_a) if _finite(phi_a) else None
        alpha = new
        if alpha < alpha_min:
            return result(best.alpha, best.phi, 3)
    return result(best.alpha, best.phi, 1)


# --------------------------------------------------------------------------- strong Wolfe
_DELTA = 0.1            # zoom's trials are clamped into the middle 80% of the interval
_EPS = 2.220446049250313e-16


def strong_wolfe(phi, derphi, phi0=None, derphi0=None, alpha0=1.0, c1=1e-4, c2=0.9,
                 alpha_max=1e20, maxiter=20, maxzoom=30, slopes_free=False):
    r"""A step satisfying the strong Wolfe conditions (N&W Algorithms 3.5 and 3.6).

    Bracketing (Algorithm 3.5), :math:`\alpha_0 = 0`, :math:`\alpha_1` = ``alpha0``:

    .. math::
        &\textbf{repeat}\ (i = 1, 2, \dots) \\
        &\quad \textbf{if } \phi(\alpha_i) > \phi(0) + c_1\alpha_i\phi'(0)
            \textbf{ or } [\phi(\alpha_i) \ge \phi(\alpha_{i-1}) \textbf{ and } i > 1]:
            \ \alpha_* \leftarrow \mathrm{zoom}(\alpha_{i-1}, \alpha_i);\ \textbf{stop} \\
        &\quad \textbf{if } |\phi'(\alpha_i)| \le -c_2\phi'(0):\ \alpha_* \leftarrow \alpha_i;\ \textbf{stop} \\
        &\quad \textbf{if } \phi'(\alpha_i) \ge 0:\ \alpha_* \leftarrow \mathrm{zoom}(\alpha_i, \alpha_{i-1});\ \textbf{stop} \\
        &\quad \alpha_{i+1} \in (\alpha_i, \alpha_{\max}]:\ \text{the minimiser of the cubic
            of eq. 3.59 through } \alpha_{i-1}, \alpha_i \text{, clamped to }
            [2\alpha_i, 10\alpha_i] \text{ (} 10\alpha_i \text{ when it has none)}

    zoom (Algorithm 3.6), an interval whose end :math:`\alpha_{lo}` has the lowest value among
    the points that satisfy sufficient decrease:

    .. math::
        &\textbf{repeat}:\ \alpha_j \leftarrow \text{interpolate in } [\alpha_{lo}, \alpha_{hi}] \\
        &\quad \textbf{if } \phi(\alpha_j) > \phi(0) + c_1\alpha_j\phi'(0) \textbf{ or }
            \phi(\alpha_j) \ge \phi(\alpha_{lo}):\ \alpha_{hi} \leftarrow \alpha_j \\
        &\quad \textbf{else}:\ \textbf{if } |\phi'(\alpha_j)| \le -c_2\phi'(0):\
            \alpha_* \leftarrow \alpha_j;\ \textbf{stop} \\
        &\qquad \textbf{if } \phi'(\alpha_j)(\alpha_{hi} - \alpha_{lo}) \ge 0:\
            \alpha_{hi} \leftarrow \alpha_{lo};\quad \alpha_{lo} \leftarrow \alpha_j

    The interpolation: the cubic matching :math:`\phi, \phi'` at both ends (N&W eq. 3.59) when
    :math:`\phi'(\alpha_{hi})` is known, else the cubic through :math:`\phi(\alpha_{lo}),
    \phi'(\alpha_{lo}), \phi(\alpha_{hi})` and a third known value (eq. 3.58); when the cubic has
    no minimiser, the quadratic through :math:`\phi(\alpha_{lo}), \phi'(\alpha_{lo}),
    \phi(\alpha_{hi})` (eq. 3.57); the result is clamped into the middle 80% of the interval
    (the safeguard: the interval shrinks by at least 10% per trial, and a trial never sits on an
    end). Bisection when no interpolant exists. A non-finite :math:`\phi(\alpha)` fails the
    first test (the step is too long), so it becomes :math:`\alpha_{hi}` and the next trial
    bisects.

    :math:`\phi'` is evaluated only where the algorithm needs it (after sufficient decrease
    holds), unless ``slopes_free=True`` says that it costs nothing once :math:`\phi` has been
    evaluated (an objective that gives f and the gradient together): then it is also taken at
    rejected trials, so that the cubic of eq. 3.59 can be used. ``phi0``/``derphi0`` are evaluated
    (and counted) when not given. Raises ``ValueError`` unless :math:`0 < c_1 < c_2 < 1`; never
    raises on a failed search (see the module docstring).
    """
    c1, c2 = check_wolfe_constants(c1, c2)
    if not alpha0 > 0.0:
        raise ValueError(f"strong_wolfe: alpha0 must be > 0; got {alpha0!r}")
    phi, derphi = _Counted(phi), _Counted(derphi)
    if phi0 is None:
        phi0 = phi(0.0)
    if derphi0 is None:
        derphi0 = derphi(0.0)
    phi0, derphi0 = float(phi0), float(derphi0)

    def result(alpha, value, slope, status):
        return LineSearchResult(alpha, value, slope, phi.calls, derphi.calls, status,
                                MESSAGES[status])

    if not derphi0 < 0.0:
        return result(0.0, phi0, derphi0, 2)
    best = _Best(phi0, derphi0)

    def armijo_fails(alpha, value):
        return not _finite(value) or value > phi0 + c1 * alpha * derphi0

    def curvature_holds(slope):
        return abs(slope) <= -c2 * derphi0

    def zoom(lo, hi, rec):
        """lo, hi: (alpha, phi, derphi or None); rec: the previous hi (alpha, phi) or None."""
        for _ in range(maxzoom):
            a, b = min(lo[0], hi[0]), max(lo[0], hi[0])
            width = b - a
            if width <= 4.0 * _EPS * b:                    # interval below rounding level
                return result(best.alpha, best.phi, best.derphi, 3)
            trial = None
            if _finite(hi[1]):
                if hi[2] is not None and _finite(hi[2]):  # cubic, N&W eq. 3.59
                    trial = _cubic_hermite_min(lo[0], lo[1], lo[2], hi[0], hi[1], hi[2])
                elif rec is not None:                      # cubic, N&W eq. 3.58
                    trial = _cubic_three_point_min(lo[0], lo[1], lo[2], hi[0], hi[1], *rec)
                if trial is None:                          # quadratic, N&W eq. 3.57
                    trial = _quadratic_min(lo[0], lo[1], lo[2], hi[0], hi[1])
                if trial is not None:                      # safeguard: the middle 80%
                    trial = min(max(trial, a + _DELTA * width), b - _DELTA * width)
            if trial is None:                              # bisection
                trial = a + 0.5 * width
            phi_j = phi(trial)                             # phi(alpha_j)
            best.offer(trial, phi_j)
            if armijo_fails(trial, phi_j) or phi_j >= lo[1]:
                rec = (hi[0], hi[1]) if _finite(hi[1]) else None
                slope = derphi(trial) if slopes_free and _finite(phi_j) else None
                hi = (trial, phi_j, slope)                 # alpha_hi <- alpha_j
                continue
            dphi_j = derphi(trial)                         # phi'(alpha_j)
            if best.alpha == trial:
                best.derphi = dphi_j
            if not _finite(dphi_j):                        # treat as too long
                rec = (hi[0], hi[1]) if _finite(hi[1]) else None
                hi = (trial, phi_j, None)
                continue
            if curvature_holds(dphi_j):
                return result(trial, phi_j, dphi_j, 0)     # alpha_* <- alpha_j
            if dphi_j * (hi[0] - lo[0]) >= 0.0:
                rec = (hi[0], hi[1]) if _finite(hi[1]) else None
                hi = lo                                    # alpha_hi <- alpha_lo
            else:
                rec = (lo[0], lo[1])
            lo = (trial, phi_j, dphi_j)                    # alpha_lo <- alpha_j
        return result(best.alpha, best.phi, best.derphi, 1)

    prev = (0.0, phi0, derphi0)                            # alpha_0 = 0
    alpha = min(float(alpha0), float(alpha_max))           # alpha_1
    for i in range(1, maxiter + 1):
        phi_i = phi(alpha)                                 # phi(alpha_i)
        best.offer(alpha, phi_i)
        if armijo_fails(alpha, phi_i) or (i > 1 and phi_i >= prev[1]):
            slope = derphi(alpha) if slopes_free and _finite(phi_i) else None
            return zoom(prev, (alpha, phi_i, slope), None)  # zoom(alpha_{i-1}, alpha_i)
        dphi_i = derphi(alpha)                             # phi'(alpha_i)
        if best.alpha == alpha:
            best.derphi = dphi_i
        if not _finite(dphi_i):
            return zoom(prev, (alpha, phi_i, None), None)
        if curvature_holds(dphi_i):
            return result(alpha, phi_i, dphi_i, 0)         # alpha_* <- alpha_i
        if dphi_i >= 0.0:
            return zoom((alpha, phi_i, dphi_i), prev, None)  # zoom(alpha_i, alpha_{i-1})
        if alpha >= alpha_max:
            break
        new = _cubic_hermite_min(prev[0], prev[1], prev[2], alpha, phi_i, dphi_i)
        new = 10.0 * alpha if new is None or not new > alpha else new
        new = min(max(new, 2.0 * alpha), 10.0 * alpha)    # extrapolate into [2, 10] alpha_i
        prev = (alpha, phi_i, dphi_i)
        alpha = min(new, float(alpha_max))                 # alpha_{i+1} in (alpha_i, alpha_max)
    return result(best.alpha, best.phi, best.derphi, 1)


# --------------------------------------------------------------------------- the objective
class Objective:
    r"""A function of an array with counted evaluations of f and of its gradient.

    ``fun`` takes an array (or a minigrad Tensor) of ``x0``'s shape and returns a scalar.
    The gradient comes from

    * ``jac=None``: minigrad (``fun`` written with minigrad ops on a Tensor): one call of
      :func:`minigrad.value_and_grad` gives f and the gradient (a forward and a backward pass);
      it counts as one evaluation of f and one of the gradient;
    * ``jac=True``: ``fun`` returns ``(f, gradient)`` (SciPy's convention), counted the same way;
    * ``jac`` callable: ``jac(x)`` returns the gradient; f and the gradient are separate calls,
      counted separately.

    In the first two modes (``combined``) a line search evaluates f and the gradient together at
    each trial, so ``nfev == njev``. Evaluations of f alone (:meth:`f`, e.g. by zero-order
    methods) count in ``nfev`` only; with minigrad they run under ``no_grad()`` (a forward pass).

    The optimizers work on flat vectors; the objective reshapes to ``x0``'s shape before each
    call. Values are Python floats; gradients flat arrays of the backend of ``x0``.
    """

    def __init__(self, fun, x0, jac=None, args=(), name: str = "minimize"):
        if not callable(fun):
            raise TypeError(f"{name}: f must be callable; got {type(fun).__name__}")
        self.fun, self.args, self.name = fun, tuple(args), name
        self.shape = tuple(x0.shape)
        self.size = int(x0.size)
        if jac is None:
            self.mode = "autodiff"
        elif jac is True:
            self.mode = "combined"
        elif callable(jac):
            self.mode = "separate"
        else:
            raise TypeError(f"{name}: jac must be None (minigrad), True (f returns (f, grad)) or "
                            f"a callable; got {jac!r}")
        self.jac = jac
        self.nfev = 0
        self.njev = 0

    @property
    def combined(self) -> bool:
        """True when f and the gradient come from one call."""
        return self.mode != "separate"

    def _shaped(self, x):
        return x.reshape(self.shape)

    def _scalar(self, value) -> float:
        if isinstance(value, Tensor):
            value = value.data
        if getattr(value, "size", 1) != 1:
            raise ValueError(f"{self.name}: f must return a scalar; got an output of shape "
                             f"{getattr(value, 'shape', '?')}")
        try:
            return float(value.item() if hasattr(value, "item") else value)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name}: f must return a scalar (a number or a one-element "
                             f"Tensor/array); got {type(value).__name__}") from None

    def _flat_grad(self, g, like):
        if isinstance(g, Tensor):
            g = g.data
        xp = B.get_array_module(like)
        g = xp.asarray(g, dtype=like.dtype)
        if g.size != self.size:
            raise ValueError(f"{self.name}: the gradient has {g.size} entries but x has "
                             f"{self.size}")
        return g.reshape(-1)

    def f(self, x) -> float:
        """f(x) alone (counted in ``nfev``)."""
        self.nfev += 1
        xs = self._shaped(x)
        if self.mode == "autodiff":
            with no_grad():
                out = self.fun(Tensor(xs), *self.args)
        elif self.mode == "combined":
            out = self.fun(xs, *self.args)[0]
        else:
            out = self.fun(xs, *self.args)
        return self._scalar(out)

    def fg(self, x):
        """``(f(x), gradient at x)`` (counted in ``nfev`` and ``njev``)."""
        self.nfev += 1
        self.njev += 1
        xs = self._shaped(x)
        if self.mode == "autodiff":
            value, g = value_and_grad(lambda t: self._checked(self.fun(t, *self.args)))(xs)
            return self._scalar(value), self._flat_grad(g, x)
        if self.mode == "combined":
            value, g = self.fun(xs, *self.args)
            return self._scalar(value), self._flat_grad(g, x)
        value = self._scalar(self.fun(xs, *self.args))
        return value, self._flat_grad(self.jac(xs, *self.args), x)

    def g(self, x):
        """The gradient at x (a combined call in the first two modes, counted as such; in the
        separate mode only ``njev`` grows)."""
        if self.combined:
            return self.fg(x)[1]
        self.njev += 1
        return self._flat_grad(self.jac(self._shaped(x), *self.args), x)

    def _checked(self, out):
        if not isinstance(out, Tensor):
            raise TypeError(f"{self.name}: with jac=None, f must be written with minigrad ops and "
                            f"return a minigrad Tensor (the gradient comes from minigrad); got "
                            f"{type(out).__name__}. Pass jac= to give the gradient yourself.")
        if out.data.size != 1:
            raise ValueError(f"{self.name}: f must return a scalar; got an output of shape "
                             f"{out.shape}")
        return out


# --------------------------------------------------------------------------- along a ray
class _Ray:
    r"""``phi(alpha) = f(x + alpha p)`` and ``derphi(alpha) = grad f(x + alpha p)^T p`` over an
    :class:`Objective`, keeping the last evaluated point (the searches ask for
    :math:`\phi'` right after :math:`\phi` at the same step) and the best one."""

    def __init__(self, obj: Objective, x, p, need_grad: bool = True):
        self.obj, self.x, self.p = obj, x, p
        self.xp = B.get_array_module(x)
        self.need_grad = need_grad
        self.last = None   # (alpha, x_alpha, f, g or None)
        self.best = None

    def _point(self, alpha):
        if self.last is not None and self.last[0] == alpha:
            return self.last
        x_a = self.x + alpha * self.p                      # x_k + alpha p_k
        if self.obj.combined and self.need_grad:
            f, g = self.obj.fg(x_a)
        else:
            f, g = self.obj.f(x_a), None
        self.last = (alpha, x_a, f, g)
        if _finite(f) and (self.best is None or f < self.best[2]):
            self.best = self.last
        return self.last

    def phi(self, alpha):
        return self._point(alpha)[2]

    def derphi(self, alpha):
        alpha_, x_a, f, g = self._point(alpha)
        if g is None:
            g = self.obj.g(x_a)
            self.last = (alpha_, x_a, f, g)
            if self.best is not None and self.best[0] == alpha_:
                self.best = self.last
        return float(self.xp.vdot(g, self.p))             # phi'(alpha) = grad f^T p

    def finish(self, res: LineSearchResult, x0_f, x0_g, nfev0, njev0) -> LineSearchResult:
        """Attach the point of ``res.alpha`` (x, f, g) and the objective's call counts."""
        res.nfev = self.obj.nfev - nfev0
        res.njev = self.obj.njev - njev0
        if res.alpha == 0.0:
            res.x, res.f, res.g = self.x, x0_f, x0_g
            return res
        for rec in (self.last, self.best):
            if rec is not None and rec[0] == res.alpha:
                res.x, res.f, res.g = rec[1], rec[2], rec[3]
                return res
        res.x = self.x + res.alpha * self.p               # pragma: no cover - defensive
        res.f = self.obj.f(res.x)
        return res


def line_search_wolfe(obj: Objective, x, p, f0: float, g0, alpha0=1.0, c1=1e-4, c2=0.9,
                      alpha_max=1e20, maxiter=20, maxzoom=30) -> LineSearchResult:
    r""":func:`strong_wolfe` along :math:`x + \alpha p` of an :class:`Objective`, from the known
    :math:`f(x)` = ``f0`` and :math:`\nabla f(x)` = ``g0`` (flat). The result carries the new
    point ``x``, its value ``f`` and gradient ``g``, and the objective's call counts."""
    ray = _Ray(obj, x, p)
    n0, j0 = obj.nfev, obj.njev
    derphi0 = float(ray.xp.vdot(g0, p))                   # phi'(0) = grad f_k^T p_k
    res = strong_wolfe(ray.phi, ray.derphi, f0, derphi0, alpha0=alpha0, c1=c1, c2=c2,
                       alpha_max=alpha_max, maxiter=maxiter, maxzoom=maxzoom,
                       slopes_free=obj.combined)
    return ray.finish(res, f0, g0, n0, j0)


def line_search_armijo(obj: Objective, x, p, f0: float, g0, alpha0=1.0, c1=1e-4, rho=0.5,
                       interpolation=True, maxiter=60) -> LineSearchResult:
    r""":func:`armijo_backtracking` along :math:`x + \alpha p` of an :class:`Objective`. Trials
    evaluate f only (so ``g`` of the result is None unless the objective gives it with f); the
    caller evaluates the gradient at the accepted point when it needs it."""
    ray = _Ray(obj, x, p, need_grad=False)
    n0, j0 = obj.nfev, obj.njev
    derphi0 = float(ray.xp.vdot(g0, p))
    res = armijo_backtracking(ray.phi, f0, derphi0, alpha0=alpha0, c1=c1, rho=rho,
                              interpolation=interpolation, maxiter=maxiter)
    return ray.finish(res, f0, g0, n0, j0)


# --------------------------------------------------------------------------- closures
class ClosureObjective(Objective):
    r"""An :class:`Objective` over an optimizer's parameters seen as one flat vector :math:`x`
    (torch.optim.LBFGS's model), evaluated through the user's closure.

    ``f(x)`` / ``fg(x)`` write :math:`x` into the parameters (in place), clear their gradients,
    call ``closure()`` (which computes the loss, calls ``backward()`` when gradients are wanted,
    and returns the loss) and read the loss (and the gradients: a parameter without one counts as
    zero). Counting as for :class:`Objective` in the combined mode.
    """

    def __init__(self, params, closure, name: str, finite_values: bool = False):
        if closure is None or not callable(closure):
            raise ValueError(f"{name} evaluates the loss itself and needs step(closure), where "
                             f"closure() recomputes the loss (and, for gradient methods, calls "
                             f"backward()) and returns it")
        self.params = list(params)
        self.closure, self.name, self.args = closure, name, ()
        first = self.params[0].data
        for p in self.params:
            if B.backend_name_of(p.data) != B.backend_name_of(first) or p.dtype != first.dtype:
                raise ValueError(f"{name}: all parameters must share one backend and dtype (they "
                                 f"are optimised as one vector)")
        self.sizes = [int(p.data.size) for p in self.params]
        self.size = sum(self.sizes)
        self.shape = (self.size,)
        self.mode, self.jac = "combined", True
        self.nfev = self.njev = 0
        self.finite_values = finite_values

    def get(self):
        """The parameters as one flat vector (a copy)."""
        xp = B.get_array_module(self.params[0].data)
        return xp.concatenate([p.data.reshape(-1) for p in self.params])

    def put(self, x) -> None:
        """Write the flat vector ``x`` into the parameters, in place."""
        o = 0
        for p, n in zip(self.params, self.sizes):
            p.data[...] = x[o:o + n].reshape(p.data.shape)
            o += n

    def _call(self, x):
        self.put(x)
        for p in self.params:
            p.grad = None
        value = self._scalar(self.closure())
        if self.finite_values and not math.isfinite(value):
            raise NF.NonFiniteError(f"{self.name}: the loss returned by the closure is {value} "
                                    f"(evaluation {self.nfev} of this step); the step was not "
                                    f"taken and nothing changed")
        return value

    def f(self, x) -> float:
        self.nfev += 1
        return self._call(x)

    def fg(self, x):
        self.nfev += 1
        self.njev += 1
        value = self._call(x)
        xp = B.get_array_module(x)
        g = xp.concatenate([(p.grad if p.grad is not None else xp.zeros_like(p.data)).reshape(-1)
                            for p in self.params])
        return value, g

    def g(self, x):
        return self.fg(x)[1]


class VectorOptimizer(Optimizer):
    r"""Base of the closure-driven optimizers that treat all parameters as one flat vector
    (BFGS, L-BFGS and the zero-order methods), as torch.optim.LBFGS does.

    * one parameter group (the methods couple all coordinates; per-group options make no sense);
    * ``step(closure)`` is required; :meth:`_objective` wraps the closure in a
      :class:`ClosureObjective`; each step adds its evaluations to ``nfev`` / ``njev``;
    * non-finite values (:mod:`optimizers.nonfinite`): ``nonfinite="raise"`` (default) or
      ``"skip"``; a step is one transaction (:meth:`Optimizer._undoable`). With
      ``finite_values`` (default, the zero-order methods) every loss the closure returns must be
      finite; methods that search along a line (BFGS, L-BFGS) set it False, since a trial point
      may overflow, and check the loss and gradient at :math:`x_k` themselves;
    * the optimizer-wide state lives in ``self.vstate`` (backend arrays whose last dimension is
      the vector size, and numbers); the host generator ``self.rng`` (when the method is random)
      is seeded by ``seed``; both are saved in the state_dict as ``extra.*`` entries
      (``extra.rng`` is the generator's state as JSON), so a loaded optimizer continues exactly.
    """

    #: the names a subclass keeps in ``vstate``
    _vstate_keys: tuple = ()
    #: a method of one vector cannot carry a NaN to the parameters: raise (default) or skip
    nonfinite_policies = ("raise", "skip")
    #: whether every loss the closure returns must be finite (see the class docstring)
    finite_values = True

    def __init__(self, params, defaults: dict, seed=None, nonfinite=None):
        super().__init__(params, defaults, nonfinite=nonfinite)
        if len(self.param_groups) != 1:
            raise ValueError(f"{self.name} optimises all parameters as one vector and takes one "
                             f"parameter group; got {len(self.param_groups)}")
        if seed is not None:
            seed = V.integer(self.name, "seed", seed, lo=0)
        self.seed = seed
        self.rng = B.host_rng(seed) if seed is not None else None
        self.vstate: dict = {}
        self.nfev = 0
        self.njev = 0

    def _shape_ok(self, key: str, shape: tuple, n: int) -> bool:
        """Whether a saved array of state ``key`` fits a vector of size ``n`` (by default: its
        last dimension is ``n``); subclasses refine it."""
        return shape[-1] == n

    def step(self, closure=None):
        """One step of the method (:meth:`_step`) on the closure's objective, all or nothing
        under the ``nonfinite`` policy."""
        obj = self._objective(closure)
        return self._undoable(self._step, obj)

    def _step(self, obj: ClosureObjective):  # pragma: no cover - abstract
        """One step on ``obj`` (the parameters as one vector); returns the loss."""
        raise NotImplementedError

    def _objective(self, closure) -> ClosureObjective:
        return ClosureObjective(self.param_groups[0]["params"], closure, self.name,
                                finite_values=self.finite_values)

    def _finish(self, obj: ClosureObjective) -> None:
        self.nfev += obj.nfev
        self.njev += obj.njev
        self.step_count += 1

    def _extra_state(self) -> dict:
        out = {"nfev": self.nfev, "njev": self.njev}
        for key, value in self.vstate.items():
            out[key] = value
        if self.rng is not None:
            out["rng"] = json.dumps(self.rng.bit_generator.state)
        return out

    def _prepare_extra(self, extra: dict):
        n = sum(int(p.data.size) for p in self.param_groups[0]["params"])
        like = self.param_groups[0]["params"][0].data
        xp = B.get_array_module(like)
        new_state, counts, rng_state = {}, {"nfev": 0, "njev": 0}, None
        for key, value in extra.items():
            if key in counts:
                counts[key] = int(B.to_numpy(value).item()) if B.is_array(value) else int(value)
            elif key == "rng":
                if self.rng is None:
                    raise ValueError(f"{self.name}.load_state_dict: a generator state was saved "
                                     f"but this optimizer has no seed")
                text = B.to_numpy(value).item() if B.is_array(value) else value
                rng_state = json.loads(text)
            elif key in self._vstate_keys:
                if B.is_array(value) and getattr(value, "ndim", 0) > 0:
                    if not self._shape_ok(key, tuple(value.shape), n):
                        raise ValueError(f"{self.name}.load_state_dict: state {key!r} has shape "
                                         f"{tuple(value.shape)}, which does not fit parameters "
                                         f"that form a vector of size {n}")
                    new_state[key] = xp.array(B.asarray(value, backend=B.backend_name_of(like)),
                                              copy=True)
                else:
                    v = B.to_numpy(value).item() if B.is_array(value) else value
                    new_state[key] = v
            else:
                raise ValueError(f"{self.name}.load_state_dict: unexpected optimizer-wide state "
                                 f"{key!r}; {self.name} keeps {sorted(self._vstate_keys)}")

        def install():
            self.vstate = new_state
            self.nfev, self.njev = counts["nfev"], counts["njev"]
            if rng_state is not None:
                self.rng.bit_generator.state = rng_state
        return install
