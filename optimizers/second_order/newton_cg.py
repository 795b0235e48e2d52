r"""Newton-CG as SciPy's ``method="Newton-CG"`` runs it: ``minimize(f, x0, method="newton-cg")``.

The line search Newton-CG of Nocedal & Wright (*Numerical Optimization*, 2nd ed., 2006,
Algorithm 7.1), by :func:`optimizers.second_order.newton.minimize_newton` with
``solver="cg"`` and the defaults of that algorithm and of SciPy's implementation instead of the
lecture's damped Newton:

.. math::
    &\varepsilon_k = \min\big(0.5, \sqrt{\|\nabla f_k\|_2}\big)\,\|\nabla f_k\|_2
        \quad \text{(the forcing sequence of Algorithm 7.1)} \\
    &d_k:\ \text{CG on } \nabla^2 f_k\,d = -\nabla f_k \text{ from } 0 \text{ until }
        \|r_j\|_2 \le \varepsilon_k \text{, or } p_j^\top\nabla^2 f_k\,p_j \le 0
        \text{ (then } z_j \text{, or the scaled steepest descent step at } j = 0) \\
    &x_{k+1} = x_k + \alpha_k d_k, \quad \alpha_k \text{ from the strong Wolfe search from }
        \alpha = 1 \ (c_1 = 10^{-4},\ c_2 = 0.9)

The Hessian enters through Hessian-vector products only (minigrad's, or ``hessp``, or ``hess``
times a vector). The stopping tests are those of :func:`minimize_newton`
(:mod:`optimizers.second_order.termination`). SciPy's ``xtol`` (there the mean absolute step,
:math:`\|s_k\|_1 \le n\cdot\texttt{xtol}`, default :math:`10^{-5}`) is the relative step
tolerance here, coordinate by coordinate: an absolute step tolerance stops a run whose
variables are small (MGH's Powell badly scaled function has :math:`x_1^* \approx 1.1\cdot
10^{-5}`) before it converges.
"""
from __future__ import annotations

from optimizers.results import OptimizeResult
from optimizers.second_order.newton import _run

__all__ = ["minimize_newton_cg"]


def minimize_newton_cg(f, x0, jac=None, hess=None, hessp=None, args=(), callback=None,
                       gtol=1e-8, gtol_rel=1e-10, xtol=1e-8, ftol=2.220446049250313e-9,
                       maxiter=100, c1=1e-4, c2=0.9, forcing="superlinear", cg_tol=None,
                       cg_max_iter=None, scale_descent=True, line_search="strong_wolfe",
                       lr=1.0, rho=0.5, max_backtracks=60,
                       trial_gradient="auto") -> OptimizeResult:
    r"""Newton-CG (module docstring) on ``f(x, *args)`` from ``x0``: :func:`minimize_newton`
    with ``solver="cg"``, ``line_search="strong_wolfe"``, ``forcing="superlinear"`` and
    ``scale_descent=True`` by default (each may be given; ``line_search="armijo"`` with
    ``forcing="quadratic"`` and ``scale_descent=False`` is ``method="newton", solver="cg"``;
    ``trial_gradient`` as there).
    Derivatives as there: minigrad with ``jac=None``; with ``jac``, ``hessp(x, v)`` or ``hess``.
    """
    return _run("minimize(method='newton-cg')", f, x0, jac, hess, hessp, args, callback,
                dict(line_search=line_search, solver="cg", gtol=gtol, maxiter=maxiter, lr=lr,
                     c1=c1, rho=rho, min_curvature=1e-14, max_backtracks=max_backtracks,
                     cg_tol=cg_tol, cg_max_iter=cg_max_iter, gtol_rel=gtol_rel, xtol=xtol,
                     ftol=ftol, c2=c2, modification="flip", forcing=forcing,
                     scale_descent=scale_descent, trial_gradient=trial_gradient))
