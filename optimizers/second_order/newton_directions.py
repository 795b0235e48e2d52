r"""The Newton direction :math:`d_k`, :math:`\nabla^2 f(x_k)\,d_k = -\nabla f(x_k)`, from a dense
Hessian (:func:`newton_direction`) or from Hessian-vector products (:func:`cg_newton_direction`),
with the handling of curvature that is negative or too small to trust.

Dense (Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006, section 3.4, "Hessian
modification"): :math:`\nabla^2 f = Q\Lambda Q^\top` (symmetric eigendecomposition) and
:math:`d = -Q\tilde\Lambda^{-1}Q^\top\nabla f`, where :math:`\tilde\Lambda = \Lambda` when
:math:`\lambda_{\min} \ge \delta` and otherwise

.. math::
    \text{flip:}\quad \tilde\lambda_i = \max(|\lambda_i|, \delta), \qquad
    \text{shift:}\quad \tilde\lambda_i = \lambda_i + \tau,\ \tau = \delta - \lambda_{\min}
    \quad \text{(N\&W eq. 3.43)},

with :math:`\delta = \texttt{min\_curvature}\cdot\max(1, \max_i|\lambda_i|)`
(``modification="none"``: never, the lecture's unmodified direction). The flip keeps
the size of each curvature and reverses the negative ones (a descent direction that still uses
the curvature's size); the shift is the smallest change of :math:`\nabla^2 f` in the 2-norm that
makes it positive definite, the Levenberg–Marquardt form :math:`(\nabla^2 f + \tau I)\,d =
-\nabla f` with the damping :math:`\tau` read off the spectrum.

Hessian-vector products (N&W Algorithm 7.1, line search Newton-CG): conjugate gradients on the
Newton system from :math:`z_0 = 0` (:func:`minigrad.solvers.conjugate_gradient`), stopped at the
residual :math:`\|r_j\|_2 \le \varepsilon_k = \eta_k\|\nabla f(x_k)\|_2` with the forcing term

.. math::
    \text{quadratic:}\ \eta_k = \min(0.5, \|\nabla f(x_k)\|_2), \qquad
    \text{superlinear (Algorithm 7.1):}\ \eta_k = \min(0.5, \sqrt{\|\nabla f(x_k)\|_2}),

(N&W Theorem 7.2: both give superlinear convergence, the first a quadratic one), after
``max_iter`` products, or at the first direction :math:`p_j` with :math:`p_j^\top\nabla^2 f\,p_j
\le 0`: then the iterate so far :math:`z_j`, or the steepest descent direction when
:math:`j = 0`, either :math:`-\nabla f` (N&W) or, with ``scale_descent``, the steepest descent
step scaled by the curvature's size, :math:`-\frac{\nabla f^\top\nabla f}{|\nabla f^\top
\nabla^2 f\,\nabla f|}\nabla f` (SciPy's Newton-CG; its length matches the gradient's scale).
"""
from __future__ import annotations

import math

from minigrad import backend as B
from minigrad.solvers import conjugate_gradient

__all__ = ["newton_direction", "modified_direction", "cg_newton_direction", "forcing_tolerance",
           "MODIFICATIONS", "FORCINGS"]

MODIFICATIONS = ("flip", "shift", "none")
FORCINGS = ("quadratic", "superlinear")


def modified_direction(H, g, min_curvature: float = 1e-8, modification: str = "flip"):
    r"""The dense Newton direction (module docstring) and what it met: ``(d, lambda_min,
    modified)``, ``modified`` when :math:`\lambda_{\min} < \delta =
    \texttt{min\_curvature}\cdot\max(1, \max|\lambda|)` changed the eigenvalues.
    ``modification="none"`` keeps them (the unmodified direction of the lecture; ``modified``
    then says that the Hessian is not positive definite, and a zero eigenvalue gives a
    non-finite direction)."""
    xp = B.get_array_module(H)
    lam, Q = xp.linalg.eigh(H)  # H = Q diag(lambda) Q^T
    lam_min = float(lam[0])
    delta = min_curvature * max(1.0, float(xp.abs(lam).max()))
    if modification == "none":  # the lecture's d = -H^{-1} grad f (1/0 at a singular Hessian)
        return -(Q @ ((Q.T @ g) / lam)), lam_min, lam_min <= 0.0
    modified = lam_min < delta
    if modified:  # not (safely) positive definite: modify the eigenvalues
        if modification == "shift":
            lam = lam + (delta - lam_min)  # lambda_i <- lambda_i + tau, tau = delta - lambda_min
        else:
            lam = xp.maximum(xp.abs(lam), delta)  # lambda_i <- max(|lambda_i|, delta)
    d = -(Q @ ((Q.T @ g) / lam))  # d = -Q Lambda^{-1} Q^T g
    return d, lam_min, modified


def newton_direction(H, g, min_curvature: float = 1e-8, modification: str = "flip"):
    r"""The dense Newton direction :math:`d = -[\nabla^2 f]^{-1}\nabla f` through
    :math:`\nabla^2 f = Q\Lambda Q^\top`; when :math:`\lambda_{\min} < \delta =
    \texttt{min\_curvature}\cdot\max(1, \max|\lambda|)` the eigenvalues are modified by
    ``modification`` (``"flip"``: :math:`\max(|\lambda_i|, \delta)`; ``"shift"``:
    :math:`\lambda_i + \delta - \lambda_{\min}`). Returns ``(d, negative_curvature: bool,
    lambda_min)``; ``negative_curvature`` is :math:`\lambda_{\min} \le 0`."""
    d, lam_min, _ = modified_direction(H, g, min_curvature, modification)
    return d, lam_min <= 0.0, lam_min


def forcing_tolerance(gnorm: float, forcing: str = "quadratic") -> float:
    r""":math:`\varepsilon_k = \eta_k\|\nabla f(x_k)\|_2` (module docstring)."""
    if forcing == "superlinear":
        return min(0.5, math.sqrt(gnorm)) * gnorm  # eta_k = min(0.5, sqrt(||grad f||))
    return min(0.5, gnorm) * gnorm                 # eta_k = min(0.5, ||grad f||)


def cg_newton_direction(hessp, g, tol: float, max_iter: int, scale_descent: bool = False):
    r"""Truncated conjugate gradients for :math:`\nabla^2 f\,d = -\nabla f` (N&W Algorithm 7.1):
    :func:`minigrad.solvers.conjugate_gradient` with :math:`b = -\nabla f`.

    ``hessp(v)`` returns :math:`\nabla^2 f\,v`. Stops when :math:`\|r_j\| \le` ``tol``, after
    ``max_iter`` products, or at negative curvature (:math:`p_j^\top\nabla^2 f p_j \le 0`: returns
    :math:`z_j`, or when :math:`j = 0` :math:`-\nabla f`, scaled by :math:`\nabla f^\top\nabla f /
    |\nabla f^\top\nabla^2 f\,\nabla f|` with ``scale_descent``). Returns ``(d,
    negative_curvature, n_products)``."""
    first = []                                            # H p_0, p_0 = -grad f

    def product(v):
        Hv = hessp(v)
        if not first:
            first.append(Hv)
        return Hv

    d, negative, n_products = conjugate_gradient(product if scale_descent else hessp, -g, tol,
                                                 max_iter)
    if negative and n_products == 1:                      # at once: the steepest descent step
        d = -g
        if scale_descent:
            xp = B.get_array_module(g)
            curv = abs(float(xp.vdot(d, first[0])))       # |p_0^T H p_0| = |g^T H g|
            if curv > 0.0 and math.isfinite(curv):
                d = d * (float(xp.vdot(g, g)) / curv)     # -(g^T g / |g^T H g|) g
    return d, negative, n_products
