r"""Linear solvers on backend arrays, shared by the layers above the engine (the Newton-CG of
``optimizers`` and the reference solver of ``problems``).

:func:`conjugate_gradient` solves :math:`A x = b` for a symmetric :math:`A` given only through
products :math:`v \mapsto A v` (Hestenes & Stiefel, "Methods of conjugate gradients for solving
linear systems", 1952; Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006, Algorithm 5.2),
from :math:`x_0 = 0`, with the truncation of N&W Algorithm 7.1 (line search Newton-CG): it stops
at the first direction of non-positive curvature and returns the iterate reached so far.

.. math::
    &x_0 = 0,\quad r_0 = b - A x_0 = b,\quad p_0 = r_0 \\
    &\textbf{for } j = 0, 1, \dots:\quad
        \textbf{if } p_j^\top A p_j \le 0: \textbf{ return } x_j \text{ (negative curvature)} \\
    &\quad \alpha_j = \frac{r_j^\top r_j}{p_j^\top A p_j},\quad x_{j+1} = x_j + \alpha_j p_j,\quad
        r_{j+1} = r_j - \alpha_j A p_j \\
    &\quad \textbf{if } \|r_{j+1}\|_2 \le \texttt{tol}: \textbf{ return } x_{j+1} \\
    &\quad \beta_{j+1} = \frac{r_{j+1}^\top r_{j+1}}{r_j^\top r_j},\quad
        p_{j+1} = r_{j+1} + \beta_{j+1} p_j

(Here :math:`r = b - Ax`; N&W write :math:`r = Ax - b`, which flips the signs of :math:`r` and of
its updates, not the iterates.) For the Newton system :math:`\nabla^2 f\,d = -\nabla f`,
:math:`b = -\nabla f`.
"""
from __future__ import annotations

import math

from minigrad import backend as B

__all__ = ["conjugate_gradient"]


def conjugate_gradient(matvec, b, tol: float, max_iter: int):
    r"""Truncated conjugate gradients for :math:`A x = b` (module docstring), ``matvec(v)`` =
    :math:`A v`, from :math:`x_0 = 0`.

    Stops when :math:`\|r_{j+1}\|_2 \le` ``tol`` (tested after each step, not at :math:`r_0`),
    after ``max_iter`` products, or at a direction with :math:`p_j^\top A p_j \le 0` (then
    :math:`x_j` is returned: zero when :math:`j = 0`). Returns ``(x, negative_curvature,
    n_products)``.
    """
    xp = B.get_array_module(b)
    x = xp.zeros_like(b)                                  # x_0 = 0
    r = b.copy()                                          # r_0 = b - A x_0
    p = r.copy()                                          # p_0 = r_0
    rr = float(xp.vdot(r, r))
    for j in range(max_iter):
        Ap = matvec(p)
        curv = float(xp.vdot(p, Ap))                      # p_j^T A p_j
        if curv <= 0.0:                                   # negative curvature
            return x, True, j + 1
        a = rr / curv                                     # alpha_j
        x = x + a * p                                     # x_{j+1} = x_j + alpha_j p_j
        r = r - a * Ap                                    # r_{j+1} = r_j - alpha_j A p_j
        rr_new = float(xp.vdot(r, r))
        if math.sqrt(rr_new) <= tol:
            return x, False, j + 1
        p = r + (rr_new / rr) * p                         # p_{j+1} = r_{j+1} + beta_{j+1} p_j
        rr = rr_new
    return x, False, max_iter
