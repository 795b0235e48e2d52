r"""Armijo backtracking: a step with sufficient decrease (Nocedal & Wright, *Numerical
Optimization*, 2nd ed., 2006, Algorithm 3.1).

.. math::
    &\text{choose } \bar\alpha > 0,\ \rho \in (0, 1),\ c_1 \in (0, 1);\ \alpha \leftarrow \bar\alpha \\
    &\textbf{repeat until } \phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0):\quad
    \alpha \leftarrow \rho\alpha \ \text{ (or by interpolation)}

The step shrinks by quadratic and then cubic interpolation (N&W eqs. 3.57-3.58), kept in
:math:`[0.1\,\alpha_i, 0.5\,\alpha_i]` (the safeguard of Dennis & Schnabel, *Numerical Methods
for Unconstrained Optimization and Nonlinear Equations*, 1983, Algorithm A6.3.1), or by a constant
factor :math:`\rho` (halving for :math:`\rho = 1/2`). The conventions (non-finite trials, failures
as results, counting) are those of :mod:`optimizers.line_search`.
"""
from __future__ import annotations

from optimizers.results import STATUS_MESSAGES, LineSearchResult, Status
from optimizers.scalar_search import (Best, Counted, cubic_three_point_min, finite,
                                      quadratic_min)

__all__ = ["armijo_backtracking"]


def _check_armijo(c1, rho, alpha0) -> float:
    """``c1`` as a float after checking ``c1``, ``rho`` in (0, 1) and ``alpha0 > 0``."""
    c1 = float(c1)
    if not 0.0 < c1 < 1.0:
        raise ValueError(f"armijo_backtracking: c1 must be in (0, 1); got {c1!r}")
    if not 0.0 < rho < 1.0:
        raise ValueError(f"armijo_backtracking: rho must be in (0, 1); got {rho!r}")
    if not alpha0 > 0.0:
        raise ValueError(f"armijo_backtracking: alpha0 must be > 0; got {alpha0!r}")
    return c1


def _next_trial(alpha, phi_a, prev, phi0, derphi0, rho, interpolation) -> float:
    r"""The next, shorter trial after :math:`\alpha_i` = ``alpha`` failed sufficient decrease:
    :math:`\rho\alpha_i` without interpolation; :math:`0.1\,\alpha_i` after a non-finite value;
    else the cubic through :math:`\phi(0), \phi'(0), \phi(\alpha_i), \phi(\alpha_{i-1})`
    (``prev``; N&W eq. 3.58) or the quadratic through :math:`\phi(0), \phi'(0), \phi(\alpha_i)`
    (eq. 3.57), or :math:`\alpha_i / 2`, clamped to :math:`[0.1\,\alpha_i, 0.5\,\alpha_i]`."""
    if not interpolation:
        return rho * alpha                                        # alpha <- rho alpha
    if not finite(phi_a):
        return 0.1 * alpha                                        # too long: shrink hard
    new = None
    if prev is not None:                                          # cubic, N&W eq. 3.58
        new = cubic_three_point_min(0.0, phi0, derphi0, alpha, phi_a, *prev)
    if new is None:                                               # quadratic, N&W eq. 3.57
        new = quadratic_min(0.0, phi0, derphi0, alpha, phi_a)
    if new is None:
        new = 0.5 * alpha
    return min(max(new, 0.1 * alpha), 0.5 * alpha)                # safeguard [0.1, 0.5] alpha_i


def armijo_backtracking(phi, phi0=None, derphi0=None, derphi=None, alpha0=1.0, c1=1e-4,
                        rho=0.5, interpolation=True, maxiter=60, alpha_min=1e-20):
    r"""Backtracking until sufficient decrease (N&W Algorithm 3.1, module docstring).

    With ``interpolation=True`` (default) the next trial minimises the quadratic through
    :math:`\phi(0), \phi'(0), \phi(\alpha_0)` (N&W eq. 3.57), then the cubic through
    :math:`\phi(0), \phi'(0)` and the last two values (eq. 3.58), clamped to
    :math:`[0.1\,\alpha_i, 0.5\,\alpha_i]`; with ``interpolation=False`` it is
    :math:`\rho\alpha_i` (``rho=0.5``: halving). A non-finite :math:`\phi(\alpha_i)` shrinks the step
    by the strongest allowed factor (0.1, or :math:`\rho` without interpolation).

    ``phi0``/``derphi0`` are evaluated (and counted) when not given; ``derphi`` is needed only then.
    Returns a :class:`~optimizers.results.LineSearchResult` (``derphi`` None: the search never
    needs it).
    """
    c1 = _check_armijo(c1, rho, alpha0)
    phi = Counted(phi)
    dcount = 0
    if phi0 is None:
        phi0 = phi(0.0)
    if derphi0 is None:
        if derphi is None:
            raise ValueError("armijo_backtracking: give derphi0 or derphi")
        derphi0, dcount = float(derphi(0.0)), 1
    phi0, derphi0 = float(phi0), float(derphi0)

    def result(alpha, value, status):
        return LineSearchResult(alpha, value, None, phi.calls, dcount, int(status),
                                STATUS_MESSAGES[status])

    if not derphi0 < 0.0:
        return result(0.0, phi0, Status.NOT_DESCENT)
    best = Best(phi0, derphi0)
    alpha, prev = float(alpha0), None      # prev: (alpha_{i-1}, phi(alpha_{i-1})) for the cubic
    for _ in range(maxiter):
        phi_a = phi(alpha)                                        # phi(alpha_i)
        best.offer(alpha, phi_a)
        if finite(phi_a) and phi_a <= phi0 + c1 * alpha * derphi0:  # sufficient decrease
            return result(alpha, phi_a, Status.SUCCESS)
        new = _next_trial(alpha, phi_a, prev, phi0, derphi0, rho, interpolation)
        prev = (alpha, phi_a) if finite(phi_a) else None
        alpha = new
        if alpha < alpha_min:
            return result(best.alpha, best.phi, Status.LINE_SEARCH)
    return result(best.alpha, best.phi, Status.MAXITER)
