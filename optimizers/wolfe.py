r"""The strong Wolfe line search (Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006,
Algorithms 3.5 and 3.6).

A step :math:`\alpha > 0` with (N&W eqs. 3.7a-b, :math:`0 < c_1 < c_2 < 1`)

.. math::
    \phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0), \qquad |\phi'(\alpha)| \le c_2 |\phi'(0)|.

Bracketing (:func:`strong_wolfe`, Algorithm 3.5), :math:`\alpha_0 = 0`, :math:`\alpha_1` =
``alpha0``:

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

zoom (:func:`zoom`, Algorithm 3.6), on an interval whose end :math:`\alpha_{lo}` has the lowest
value among the points that satisfy sufficient decrease:

.. math::
    &\textbf{repeat}:\ \alpha_j \leftarrow \text{interpolate in } [\alpha_{lo}, \alpha_{hi}] \\
    &\quad \textbf{if } \phi(\alpha_j) > \phi(0) + c_1\alpha_j\phi'(0) \textbf{ or }
        \phi(\alpha_j) \ge \phi(\alpha_{lo}):\ \alpha_{hi} \leftarrow \alpha_j \\
    &\quad \textbf{else}:\ \textbf{if } |\phi'(\alpha_j)| \le -c_2\phi'(0):\
        \alpha_* \leftarrow \alpha_j;\ \textbf{stop} \\
    &\qquad \textbf{if } \phi'(\alpha_j)(\alpha_{hi} - \alpha_{lo}) \ge 0:\
        \alpha_{hi} \leftarrow \alpha_{lo};\quad \alpha_{lo} \leftarrow \alpha_j

The interpolation (:func:`zoom_trial`): the cubic matching :math:`\phi, \phi'` at both ends
(N&W eq. 3.59) when :math:`\phi'(\alpha_{hi})` is known, else the cubic through
:math:`\phi(\alpha_{lo}), \phi'(\alpha_{lo}), \phi(\alpha_{hi})` and the value at the previous
:math:`\alpha_{hi}` (eq. 3.58); when the cubic has no minimiser, the quadratic through
:math:`\phi(\alpha_{lo}), \phi'(\alpha_{lo}), \phi(\alpha_{hi})` (eq. 3.57); the result is
clamped into the middle 80% of the interval (the safeguard: the interval shrinks by at least 10%
per trial, and a trial never sits on an end). Bisection when no interpolant exists. A non-finite
:math:`\phi(\alpha)` fails the first test (the step is too long), so it becomes :math:`\alpha_{hi}`
and the next trial bisects. The conventions (failures as results, counting) are those of
:mod:`optimizers.line_search`.

``interpolation="more-thuente"`` changes one case: when :math:`\phi(\alpha_{hi}) >
\phi(\alpha_{lo})` and both slopes are known (the step to :math:`\alpha_{hi}` was too long),
the trial is that of Moré & Thuente, "Line search algorithms with guaranteed sufficient
decrease" (1994), section 4, case 1: with :math:`\alpha_c` the minimiser of the cubic of eq. 3.59
and :math:`\alpha_q` that of the quadratic of eq. 3.57,

.. math::
    \alpha_j = \begin{cases} \alpha_c & |\alpha_c - \alpha_{lo}| < |\alpha_q - \alpha_{lo}| \\
        \tfrac12(\alpha_c + \alpha_q) & \text{otherwise,} \end{cases}

clamped by the same safeguard (:func:`more_thuente_case1`). When :math:`\phi(\alpha_{hi})` is far
above the model of :math:`\alpha_{lo}` (a first step of unknown scale), the quadratic's
minimiser lies close to :math:`\alpha_{lo}` and the trial cuts the step by a large factor where the
cubic alone may keep most of it. SciPy's L-BFGS-B uses this rule (its line search is Moré and
Thuente's ``dcsrch``); L-BFGS takes it while no curvature pair scales its step
(:mod:`optimizers.second_order.lbfgs`).
"""
from __future__ import annotations

from optimizers.results import STATUS_MESSAGES, LineSearchResult, Status
from optimizers.scalar_search import (Best, Counted, cubic_hermite_min, cubic_three_point_min,
                                      finite, quadratic_min)

__all__ = ["strong_wolfe", "zoom", "zoom_trial", "more_thuente_case1", "check_wolfe_constants",
           "INTERPOLATIONS"]

_DELTA = 0.1            # zoom's trials are clamped into the middle 80% of the interval
_EPS = 2.220446049250313e-16
#: zoom's interpolation rules (module docstring)
INTERPOLATIONS = ("cubic", "more-thuente")


def check_wolfe_constants(c1, c2, owner: str = "strong_wolfe") -> tuple[float, float]:
    """``(c1, c2)`` as floats after checking :math:`0 < c_1 < c_2 < 1`."""
    c1, c2 = float(c1), float(c2)
    if not (0.0 < c1 < c2 < 1.0):
        raise ValueError(f"{owner}: the Wolfe constants need 0 < c1 < c2 < 1; got c1={c1!r}, "
                         f"c2={c2!r}")
    return c1, c2


class _Search:
    r"""What bracketing and zoom share: the counted :math:`\phi` and :math:`\phi'`, the values
    at 0, the constants, the best trial, the two tests and the result."""

    def __init__(self, phi, derphi, phi0, derphi0, c1, c2, slopes_free, interpolation="cubic"):
        self.phi, self.derphi = Counted(phi), Counted(derphi)
        self.interpolation = interpolation
        if phi0 is None:
            phi0 = self.phi(0.0)
        if derphi0 is None:
            derphi0 = self.derphi(0.0)
        self.phi0, self.derphi0 = float(phi0), float(derphi0)
        self.c1, self.c2, self.slopes_free = c1, c2, slopes_free
        self.best = Best(self.phi0, self.derphi0)

    def armijo_fails(self, alpha, value) -> bool:
        r"""Not :math:`\phi(\alpha) \le \phi(0) + c_1\alpha\phi'(0)` (a non-finite value fails)."""
        return not finite(value) or value > self.phi0 + self.c1 * alpha * self.derphi0

    def curvature_holds(self, slope) -> bool:
        r""":math:`|\phi'(\alpha)| \le -c_2\phi'(0)`."""
        return abs(slope) <= -self.c2 * self.derphi0

    def slope(self, alpha) -> float:
        r""":math:`\phi'(\alpha)`, also recorded for the best trial when ``alpha`` is it."""
        dphi = self.derphi(alpha)
        if self.best.alpha == alpha:
            self.best.derphi = dphi
        return dphi

    def free_slope(self, alpha, value):
        r""":math:`\phi'(\alpha)` at a rejected trial when it comes free with
        :math:`\phi(\alpha)` (``slopes_free``) and the value is finite; else None."""
        return self.derphi(alpha) if self.slopes_free and finite(value) else None

    def result(self, alpha, value, slope, status) -> LineSearchResult:
        return LineSearchResult(alpha, value, slope, self.phi.calls, self.derphi.calls,
                                int(status), STATUS_MESSAGES[status])

    def best_result(self, status) -> LineSearchResult:
        return self.result(self.best.alpha, self.best.phi, self.best.derphi, status)


def more_thuente_case1(alpha_lo, phi_lo, dphi_lo, alpha_hi, phi_hi, dphi_hi):
    r"""Moré & Thuente's trial (1994, section 4, case 1) for :math:`\phi(\alpha_{hi}) >
    \phi(\alpha_{lo})`: :math:`\alpha_c` (the cubic of N&W eq. 3.59) when it is closer to
    :math:`\alpha_{lo}` than :math:`\alpha_q` (the quadratic of eq. 3.57), else
    :math:`\frac12(\alpha_c + \alpha_q)`; None when either has no minimiser."""
    alpha_c = cubic_hermite_min(alpha_lo, phi_lo, dphi_lo, alpha_hi, phi_hi, dphi_hi)
    alpha_q = quadratic_min(alpha_lo, phi_lo, dphi_lo, alpha_hi, phi_hi)
    if alpha_c is None or alpha_q is None:
        return None
    if abs(alpha_c - alpha_lo) < abs(alpha_q - alpha_lo):
        return alpha_c                                    # alpha_c, the closer to alpha_lo
    return alpha_c + 0.5 * (alpha_q - alpha_c)            # (alpha_c + alpha_q) / 2


def zoom_trial(alpha_lo, phi_lo, dphi_lo, alpha_hi, phi_hi, dphi_hi, alpha_old, phi_old,
               interpolation="cubic"):
    r"""The trial :math:`\alpha_j` of zoom in :math:`[\alpha_{lo}, \alpha_{hi}]` (module
    docstring): the cubic of N&W eq. 3.59 when :math:`\phi'(\alpha_{hi})` is known and finite
    (with ``interpolation="more-thuente"`` and :math:`\phi(\alpha_{hi}) > \phi(\alpha_{lo})`:
    :func:`more_thuente_case1`), else that of eq. 3.58 through the previous :math:`\alpha_{hi}`
    (``alpha_old``, ``phi_old``; None when there is none), else the quadratic of eq. 3.57, clamped
    into the middle 80% of the interval; bisection when :math:`\phi(\alpha_{hi})` is not finite
    or nothing can be interpolated."""
    left, right = min(alpha_lo, alpha_hi), max(alpha_lo, alpha_hi)
    width = right - left
    alpha_j = None
    if finite(phi_hi):
        if dphi_hi is not None and finite(dphi_hi):
            if interpolation == "more-thuente" and phi_hi > phi_lo:  # case 1 of M&T (1994)
                alpha_j = more_thuente_case1(alpha_lo, phi_lo, dphi_lo, alpha_hi, phi_hi,
                                             dphi_hi)
            if alpha_j is None:                           # cubic, N&W eq. 3.59
                alpha_j = cubic_hermite_min(alpha_lo, phi_lo, dphi_lo, alpha_hi, phi_hi,
                                            dphi_hi)
        elif alpha_old is not None:                       # cubic, N&W eq. 3.58
            alpha_j = cubic_three_point_min(alpha_lo, phi_lo, dphi_lo, alpha_hi, phi_hi,
                                            alpha_old, phi_old)
        if alpha_j is None:                               # quadratic, N&W eq. 3.57
            alpha_j = quadratic_min(alpha_lo, phi_lo, dphi_lo, alpha_hi, phi_hi)
        if alpha_j is not None:                           # safeguard: the middle 80%
            alpha_j = min(max(alpha_j, left + _DELTA * width), right - _DELTA * width)
    if alpha_j is None:                                   # bisection
        alpha_j = left + 0.5 * width
    return alpha_j


def _finite_point(alpha, value):
    """``(alpha, value)`` when the value is finite (a usable third point), else ``(None, None)``."""
    return (alpha, value) if finite(value) else (None, None)


def zoom(search: _Search, alpha_lo, phi_lo, dphi_lo, alpha_hi, phi_hi, dphi_hi,
         maxzoom: int) -> LineSearchResult:
    r"""N&W Algorithm 3.6 (module docstring) on :math:`[\alpha_{lo}, \alpha_{hi}]`, at most
    ``maxzoom`` trials. ``dphi_hi`` is None when :math:`\phi'(\alpha_{hi})` is not known.
    Status 2 when the interval falls below rounding level, 1 when the trials are spent (then
    the best trial is returned)."""
    alpha_old = phi_old = None                # the previous alpha_hi: eq. 3.58's third point
    for _ in range(maxzoom):
        right = max(alpha_lo, alpha_hi)
        if right - min(alpha_lo, alpha_hi) <= 4.0 * _EPS * right:  # below rounding level
            return search.best_result(Status.LINE_SEARCH)
        alpha_j = zoom_trial(alpha_lo, phi_lo, dphi_lo, alpha_hi, phi_hi, dphi_hi,
                             alpha_old, phi_old, search.interpolation)
        phi_j = search.phi(alpha_j)                       # phi(alpha_j)
        search.best.offer(alpha_j, phi_j)
        if search.armijo_fails(alpha_j, phi_j) or phi_j >= phi_lo:
            alpha_old, phi_old = _finite_point(alpha_hi, phi_hi)
            dphi_hi = search.free_slope(alpha_j, phi_j)
            alpha_hi, phi_hi = alpha_j, phi_j             # alpha_hi <- alpha_j
            continue
        dphi_j = search.slope(alpha_j)                    # phi'(alpha_j)
        if not finite(dphi_j):                            # treat as too long
            alpha_old, phi_old = _finite_point(alpha_hi, phi_hi)
            alpha_hi, phi_hi, dphi_hi = alpha_j, phi_j, None
            continue
        if search.curvature_holds(dphi_j):
            return search.result(alpha_j, phi_j, dphi_j, Status.SUCCESS)  # alpha_* <- alpha_j
        if dphi_j * (alpha_hi - alpha_lo) >= 0.0:
            alpha_old, phi_old = _finite_point(alpha_hi, phi_hi)
            alpha_hi, phi_hi, dphi_hi = alpha_lo, phi_lo, dphi_lo  # alpha_hi <- alpha_lo
        else:
            alpha_old, phi_old = alpha_lo, phi_lo
        alpha_lo, phi_lo, dphi_lo = alpha_j, phi_j, dphi_j  # alpha_lo <- alpha_j
    return search.best_result(Status.MAXITER)


def _extrapolate(alpha_prev, phi_prev, dphi_prev, alpha_i, phi_i, dphi_i) -> float:
    r""":math:`\alpha_{i+1}`: the minimiser of the cubic of N&W eq. 3.59 through
    :math:`\alpha_{i-1}, \alpha_i` when it lies beyond :math:`\alpha_i` (else
    :math:`10\alpha_i`), clamped to :math:`[2\alpha_i, 10\alpha_i]`."""
    alpha_next = cubic_hermite_min(alpha_prev, phi_prev, dphi_prev, alpha_i, phi_i, dphi_i)
    if alpha_next is None or not alpha_next > alpha_i:
        alpha_next = 10.0 * alpha_i
    return min(max(alpha_next, 2.0 * alpha_i), 10.0 * alpha_i)


def _bracket(search: _Search, alpha0, alpha_max, maxiter: int, maxzoom: int):
    """N&W Algorithm 3.5 (module docstring): at most ``maxiter`` trials, then zoom."""
    alpha_prev, phi_prev, dphi_prev = 0.0, search.phi0, search.derphi0  # alpha_0 = 0
    alpha_i = min(float(alpha0), float(alpha_max))                        # alpha_1
    for i in range(1, maxiter + 1):
        phi_i = search.phi(alpha_i)                       # phi(alpha_i)
        search.best.offer(alpha_i, phi_i)
        if search.armijo_fails(alpha_i, phi_i) or (i > 1 and phi_i >= phi_prev):
            dphi_i = search.free_slope(alpha_i, phi_i)    # zoom(alpha_{i-1}, alpha_i)
            return zoom(search, alpha_prev, phi_prev, dphi_prev, alpha_i, phi_i, dphi_i, maxzoom)
        dphi_i = search.slope(alpha_i)                    # phi'(alpha_i)
        if not finite(dphi_i):
            return zoom(search, alpha_prev, phi_prev, dphi_prev, alpha_i, phi_i, None, maxzoom)
        if search.curvature_holds(dphi_i):
            return search.result(alpha_i, phi_i, dphi_i, Status.SUCCESS)  # alpha_* <- alpha_i
        if dphi_i >= 0.0:                                 # zoom(alpha_i, alpha_{i-1})
            return zoom(search, alpha_i, phi_i, dphi_i, alpha_prev, phi_prev, dphi_prev, maxzoom)
        if alpha_i >= alpha_max:
            break
        alpha_next = _extrapolate(alpha_prev, phi_prev, dphi_prev, alpha_i, phi_i, dphi_i)
        alpha_prev, phi_prev, dphi_prev = alpha_i, phi_i, dphi_i
        alpha_i = min(alpha_next, float(alpha_max))       # alpha_{i+1} in (alpha_i, alpha_max]
    return search.best_result(Status.MAXITER)


def strong_wolfe(phi, derphi, phi0=None, derphi0=None, alpha0=1.0, c1=1e-4, c2=0.9,
                 alpha_max=1e20, maxiter=20, maxzoom=30, slopes_free=False,
                 interpolation="cubic"):
    r"""A step satisfying the strong Wolfe conditions (N&W Algorithms 3.5 and 3.6; the module
    docstring gives both): bracketing from :math:`\alpha_1` = ``alpha0`` (at most ``maxiter``
    trials, never beyond ``alpha_max``), then :func:`zoom` (at most ``maxzoom`` trials).

    :math:`\phi'` is evaluated only where the algorithm needs it (after sufficient decrease
    holds), unless ``slopes_free=True`` says that it costs nothing once :math:`\phi` has been
    evaluated (an objective that gives f and the gradient together): then it is also taken at
    rejected trials, so that the cubic of eq. 3.59 can be used. ``phi0``/``derphi0`` are evaluated
    (and counted) when not given. ``interpolation``: ``"cubic"`` (N&W) or ``"more-thuente"``
    (Moré & Thuente's case 1 where it applies, module docstring). Raises ``ValueError`` unless
    :math:`0 < c_1 < c_2 < 1` (or for another ``interpolation``); never raises on a failed search
    (the status codes: :class:`~optimizers.results.Status`).
    """
    c1, c2 = check_wolfe_constants(c1, c2)
    if not alpha0 > 0.0:
        raise ValueError(f"strong_wolfe: alpha0 must be > 0; got {alpha0!r}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"strong_wolfe: interpolation must be one of {INTERPOLATIONS}; got "
                         f"{interpolation!r}")
    search = _Search(phi, derphi, phi0, derphi0, c1, c2, slopes_free, interpolation)
    if not search.derphi0 < 0.0:
        return search.result(0.0, search.phi0, search.derphi0, Status.NOT_DESCENT)
    return _bracket(search, alpha0, alpha_max, maxiter, maxzoom)
