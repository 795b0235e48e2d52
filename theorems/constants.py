r"""Constants the theorems need that the problem classes do not carry, derived here.

* :func:`nearest_minimiser`: for a convex quadratic with a kernel (:math:`\mu=0`) and for
  rank-deficient least squares the minimisers form an affine set; the one nearest to
  :math:`x_0`, whose distance is the :math:`R` of the convex bounds;
* :func:`logistic_minimiser`: :math:`x^*` of logistic regression with :math:`\mu=0` (the
  problem leaves it unset), by ``problems.newton_minimize``; a problem without a minimiser
  (separable data: Newton fails, or stops far out where the Hessian is below
  :math:`10^{-8}L`) is refused;
* :func:`logistic_hessian_lipschitz`: the Lipschitz constant :math:`M` of the Hessian of
  logistic regression (Newton's local theorem);
* :func:`per_sample_smoothness`: :math:`\max_i\|a_i\|^2`, the smoothness of the single terms
  of least squares.

Everything returns host (NumPy) arrays and Python floats.
"""
from __future__ import annotations

import math

import minigrad as mg
from minigrad import backend as B
from problems import LeastSquares, LogisticRegression, Quadratic, newton_minimize

__all__ = ["NEWTON_GTOL", "logistic_hessian_lipschitz", "logistic_minimiser",
           "nearest_minimiser", "per_sample_smoothness"]

np = B.host_xp()

#: the gradient-norm tolerance of ``problems.newton_minimize`` (its default): an :math:`x^*`
#: computed so lies within :math:`10^{-12}/\mu` of the true minimiser of a
#: :math:`\mu`-strongly convex function
NEWTON_GTOL = 1e-12
#: below this fraction of L, the smallest Hessian eigenvalue at Newton's point of a logistic
#: regression with mu = 0 marks separable data (the point lies far out, where f is flat)
SEPARABLE_RTOL = 1e-8


def nearest_minimiser(problem, x0):
    r"""The minimiser nearest to ``x0`` (host arrays) of a convex quadratic
    (:math:`x^*+\ker A`: remove from :math:`x_0-x^*` its part outside the kernel) or of least
    squares (:math:`x_0-A^+(Ax_0-b)`); ``problem.x_star`` for any other problem."""
    x0 = np.asarray(mg.to_numpy(x0), dtype=float)
    xs = np.asarray(mg.to_numpy(problem.x_star), dtype=float)
    if isinstance(problem, Quadratic):
        lam = mg.to_numpy(problem.eigenvalues)
        Q = mg.to_numpy(problem.eigenvectors)
        c = Q.T @ (x0 - xs)                       # x_0 - x* in the eigenbasis
        kernel = lam <= 1e-12 * lam[-1]
        return xs + Q[:, kernel] @ c[kernel]      # x* plus the kernel part of x_0 - x*
    if isinstance(problem, LeastSquares):
        A, b = mg.to_numpy(problem.A), mg.to_numpy(problem.b)
        return x0 - np.linalg.pinv(A) @ (A @ x0 - b)
    return xs


def logistic_minimiser(problem):
    """``(x*, f*)`` of a :class:`~problems.LogisticRegression` with :math:`\\mu=0` by Newton's
    method from 0 (gradient norm below ``NEWTON_GTOL``); ``ValueError`` when there is none (the
    data are linearly separable: the infimum is not attained)."""
    try:
        x, _ = newton_minimize(lambda z: problem.f(z),
                               B.asarray(np.zeros(problem.dim), backend=problem.backend))
    except RuntimeError:
        raise ValueError("logistic regression with mu = 0 on separable data has no minimiser "
                         "(Newton's method does not converge)") from None
    # on separable data the gradient also vanishes far out, where the Hessian vanishes too
    lam = float(np.linalg.eigvalsh(np.asarray(mg.to_numpy(problem.hessian(x))))[0])
    if not lam > SEPARABLE_RTOL * problem.L:
        raise ValueError(f"logistic regression with mu = 0 on separable data has no minimiser: "
                         f"Newton's point has Hessian eigenvalue {lam:.3g} < "
                         f"{SEPARABLE_RTOL:g} L (the infimum is approached at infinity)")
    return np.asarray(mg.to_numpy(x), dtype=float), problem.value(x)


def logistic_hessian_lipschitz(problem) -> float:
    r"""An upper bound :math:`M` of the Lipschitz constant of :math:`\nabla^2f` for logistic
    regression: :math:`\nabla^2f(x)=\mu I+\frac1m\sum_i s(z_i)a_ia_i^\top` with
    :math:`s=\sigma(z)\sigma(-z)`, :math:`z_i=y_ia_i^\top x`, and :math:`|s'|=|s(1-2\sigma)|\le
    \frac1{6\sqrt3}` (its maximum, at :math:`\sigma=\frac12\pm\frac1{2\sqrt3}`), so

    .. math:: \|\nabla^2f(x)-\nabla^2f(x')\|_2\le\frac1m\sum_i\frac{|a_i^\top(x-x')|}{6\sqrt3}
              \|a_i\|^2\le\underbrace{\frac{1}{6\sqrt3\,m}\sum_i\|a_i\|^3}_{M}\|x-x'\|.
    """
    if not isinstance(problem, LogisticRegression):
        raise TypeError(f"logistic_hessian_lipschitz: a LogisticRegression is needed; got "
                        f"{type(problem).__name__}")
    A = np.asarray(mg.to_numpy(problem.A), dtype=float)
    norms = np.sqrt(np.sum(A * A, axis=1))
    return float(np.sum(norms ** 3) / (6.0 * math.sqrt(3.0) * A.shape[0]))


def per_sample_smoothness(problem) -> float:
    r""":math:`\max_i\|a_i\|^2`: the smoothness constant of the worst single term
    :math:`\frac12(a_i^\top x-b_i)^2` of least squares (a step above its inverse makes that
    term's SGD step expand)."""
    A = np.asarray(mg.to_numpy(problem.A), dtype=float)
    return float(np.max(np.sum(A * A, axis=1)))
