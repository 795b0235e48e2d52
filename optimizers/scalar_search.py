r"""What the two scalar line searches share: counted calls of :math:`\phi`, the best trial so
far, and the interpolants that propose the next trial step.

The interpolants are those of Nocedal & Wright, *Numerical Optimization* (2nd ed., 2006),
section 3.5: the quadratic through :math:`\phi(a), \phi'(a), \phi(b)` (eq. 3.57), the cubic
through :math:`\phi(a), \phi'(a)` and two more values (eq. 3.58), and the cubic that matches
:math:`\phi` and :math:`\phi'` at both ends of an interval (eq. 3.59). Each returns None when
its model has no minimiser (or a non-finite one); the searches then fall back to a simpler rule.
"""
from __future__ import annotations

import math

__all__ = ["finite", "Counted", "Best", "cubic_hermite_min", "cubic_three_point_min",
           "quadratic_min"]


def finite(v) -> bool:
    return v is not None and math.isfinite(v)


class Counted:
    """A scalar function with a call counter."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, alpha):
        self.calls += 1
        return float(self.fn(alpha))


class Best:
    """The trial with the lowest finite value so far (starting from alpha = 0)."""

    def __init__(self, phi0, derphi0):
        self.alpha, self.phi, self.derphi = 0.0, phi0, derphi0

    def offer(self, alpha, phi, derphi=None):
        if finite(phi) and phi < self.phi:
            self.alpha, self.phi, self.derphi = alpha, phi, derphi


# --------------------------------------------------------------------------- interpolation
def cubic_hermite_min(a, fa, da, b, fb, db):
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


def cubic_three_point_min(a, fa, da, b, fb, c, fc):
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


def quadratic_min(a, fa, da, b, fb):
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
