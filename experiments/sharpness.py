r"""Sharpness: the top eigenvalue of the Hessian, :math:`\lambda_{\max}(\nabla^2f(x))`, by power
iteration on Hessian-vector products (infrastructure shared by the experiments; not an
experiment).

Power iteration. From a unit vector :math:`v_0` (a Gaussian draw from ``rng``, or a given ``v``
to warm-start from the previous call's eigenvector), with :math:`H=\nabla^2f(x)`,

.. math:: \lambda_k=v_k^\top Hv_k\quad\text{(the Rayleigh quotient)},\qquad
          v_{k+1}=\frac{Hv_k}{\|Hv_k\|},

which converges to the eigenvalue of largest *modulus* :math:`\lambda_1` (at the rate
:math:`|\lambda_2/\lambda_1|^k`). It stops after ``iters`` iterations, or earlier, when ``tol``
is given, as soon as the Rayleigh quotient changes by at most ``tol`` relatively,
:math:`|\lambda_k-\lambda_{k-1}|\le\mathrm{tol}\,|\lambda_k|`.

Shift for a negative dominant eigenvalue. When :math:`\lambda_1<0` (a saddle or a maximum
dominates), :math:`\lambda_1` is the *smallest* eigenvalue, and a second power iteration on
:math:`H-\lambda_1I`, whose eigenvalues :math:`\lambda_i-\lambda_1` are all :math:`\ge0`, finds
its top one, :math:`\mu=\lambda_{\max}-\lambda_1`; then :math:`\lambda_{\max}=\mu+\lambda_1`.

Only ``problem.hvp(x, v)`` is used (the engine's Hessian-vector product, reverse over reverse
in minigrad), so it works on the problem's backend (NumPy or CuPy): the vectors live there, and
only the scalars (Rayleigh quotients, norms) come to the host.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import minigrad as mg


@dataclass(frozen=True)
class TopEigen:
    r"""The result of :func:`top_eigenvalue`.

    * ``lam``: the estimate of :math:`\\lambda_{\\max}` (a float);
    * ``v``: the last iterate, a unit vector on the problem's backend (the approximate
      eigenvector of :math:`\lambda_{\max}`; of the shifted pass when it ran), to warm-start the
      next call (``top_eigenvalue(..., v=res.v)``);
    * ``iterations``: the Hessian-vector products used (both passes when shifted);
    * ``converged``: ``tol`` was given and met (in every pass that ran).
    """

    lam: float
    v: Any
    iterations: int
    converged: bool


def _power(problem, x, v, shift: float, iters: int, tol: float | None):
    """Power iteration on :math:`H-\\mathrm{shift}\\,I` from the unit vector ``v``; returns
    ``(lambda, v, iterations, converged)``."""
    xp = mg.backend.get_array_module(v)
    lam = math.nan
    for it in range(1, iters + 1):
        hv = problem.hvp(x, v)
        if shift:
            hv = hv - shift * v
        new = float(xp.sum(v * hv))
        n = float(xp.linalg.norm(hv))
        if n == 0.0 or not math.isfinite(n):   # Hv = 0 (or overflow): nothing to normalise
            return new, v, it, False
        v = hv / n
        if tol is not None and math.isfinite(lam) and abs(new - lam) <= tol * abs(new):
            return new, v, it, True
        lam = new
    return lam, v, iters, False


def top_eigenvalue(problem, x, *, iters: int = 30, tol: float | None = None, v=None,
                   rng=None) -> TopEigen:
    r"""The largest eigenvalue of :math:`\nabla^2f(x)` by power iteration on ``problem.hvp``.

    ``iters``: the number of iterations (of each pass), exactly when ``tol`` is None, at most
    otherwise; ``tol``: stop when the Rayleigh quotient changes by at most ``tol`` relatively;
    ``v``: the starting vector (warm start; normalised here), else a standard normal draw from
    ``rng`` (a NumPy generator, default ``host_rng(0)``), moved to the problem's backend. When
    the eigenvalue of largest modulus is negative, a second, shifted pass gives
    :math:`\lambda_{\max}` (see the module docstring). Returns a :class:`TopEigen`.
    """
    if iters < 1:
        raise ValueError(f"iters must be >= 1, got {iters}")
    rng = mg.backend.host_rng(0) if rng is None else rng

    def unit(w):
        w = mg.backend.asarray(w, dtype=problem.dtype, backend=problem.backend)
        return w / mg.backend.get_array_module(w).linalg.norm(w)

    v = unit(rng.standard_normal(problem.shape) if v is None else v)
    lam, v, n_it, conv = _power(problem, x, v, 0.0, iters, tol)
    if lam < 0:
        # the shifted pass starts afresh: the first pass's vector (the eigenvector of lambda_1)
        # lies almost in the null space of H - lambda_1 I, the worst start for this pass
        w = unit(rng.standard_normal(problem.shape))
        mu, w, n_shift, conv_shift = _power(problem, x, w, lam, iters, tol)
        return TopEigen(mu + lam, w, n_it + n_shift, conv and conv_shift)
    return TopEigen(lam, v, n_it, conv)
