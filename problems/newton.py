r"""Newton's method, used once per problem to compute :math:`x^*` to high precision where it has
no closed form (a strongly convex problem: logistic and softmax regression with
:math:`\mu > 0`; the local refinement of the 2-D landscapes' minima).

.. math:: x_{k+1} = x_k - t_k\,[\nabla^2 f(x_k)]^{-1}\nabla f(x_k),

with the Hessian from the engine (:func:`minigrad.hessian`, one reverse pass per coordinate)
for small problems, or conjugate gradients on Hessian-vector products (:func:`minigrad.hvp`)
for large ones, and :math:`t_k` by Armijo backtracking from 1. It stops when
:math:`\|\nabla f(x_k)\|_2 \le` ``tol`` (default :math:`10^{-12}`, reachable in float64 for
well-scaled problems) and raises RuntimeError when it does not get there.
"""
from __future__ import annotations

import minigrad as mg
from minigrad import backend as B
from minigrad.solvers import conjugate_gradient
from minigrad.tensor import Tensor

__all__ = ["newton_minimize"]


def _cg(hv, g, xp, tol: float, max_iter: int):
    """Solve ``H d = g`` by :func:`minigrad.solvers.conjugate_gradient`, ``hv(v) = H v``; at
    once below ``tol`` (``d = 0``); along a direction of non-positive curvature, the iterate so
    far (``g`` itself when that is still zero)."""
    if float(g @ g) ** 0.5 <= tol:
        return xp.zeros_like(g)
    d, negative, _ = conjugate_gradient(hv, g, tol, max_iter)
    if negative and not d.any():
        d = g.copy()
    return d


def newton_minimize(f, x0, *, tol: float = 1e-12, max_iter: int = 100,
                    dense_max_dim: int = 300) -> tuple:
    """Minimise ``f`` (a function of a flat Tensor returning a scalar Tensor) from ``x0`` (a flat
    backend array). Returns ``(x, info)`` with ``info = {"iterations", "grad_norm", "f"}``."""
    xp = B.get_array_module(x0)
    backend = B.backend_name_of(x0)
    x = x0.astype("float64", copy=True) if x0.dtype.kind != "f" else x0.copy()
    n = x.size

    def as_t(a):
        with B.use_backend(backend):
            return Tensor(a)

    def fval(a):
        with mg.no_grad():
            return float(f(as_t(a)).item())

    vg = mg.value_and_grad(f)
    gnorm = float("inf")
    for k in range(max_iter + 1):
        fx, g = vg(as_t(x))
        fx, g = float(fx.item()), g.data
        gnorm = float(xp.linalg.norm(g))
        if gnorm <= tol:
            return x, {"iterations": k, "grad_norm": gnorm, "f": fx}
        if k == max_iter:
            break
        if n <= dense_max_dim:
            H = mg.hessian(f, as_t(x)).data
            try:
                d = xp.linalg.solve(H, g)
            except (ValueError, ArithmeticError, B.host_xp().linalg.LinAlgError):  # singular
                d = g
            slope = float(d @ g)
            if not (slope > 0 and slope < float("inf")):  # indefinite, singular or not finite
                d = g
        else:
            X = as_t(x)
            d = _cg(lambda v, X=X: mg.hvp(f, X, as_t(v)).data, g, xp,
                    tol=min(0.1, gnorm ** 0.5) * gnorm, max_iter=10 * n)
        # Armijo backtracking on f(x - t d); a tiny slack lets the last, round-off-sized steps in
        t, slope = 1.0, float(d @ g)
        slack = 1e-14 * max(1.0, abs(fx))
        for _ in range(60):
            x_new = x - t * d
            if fval(x_new) <= fx - 1e-4 * t * slope + slack:
                break
            t *= 0.5
        x = x_new
    raise RuntimeError(f"newton_minimize: no convergence after {max_iter} iterations "
                       f"(gradient norm {gnorm:.3e} > tol={tol:g})")
