r"""Deliberately broken updates, shipped for the companions (a check that cannot fail is worth
nothing: each theorem has a companion run that must come out violated).

* :class:`AscentGD`: :math:`x\leftarrow x+\alpha g`, gradient *ascent* (the sign flipped);
* :class:`BiasedSGD`: :math:`x\leftarrow x-\alpha(g+\delta)`, SGD with a constant bias
  :math:`\delta` in the gradient, so that :math:`\mathbb E[g+\delta]\ne\nabla f` and the fixed
  point moves to where :math:`\nabla f=-\delta`;
* :class:`HalfNewton`: :math:`x\leftarrow x-\frac12[\nabla^2f]^{-1}\nabla f`, as a step
  function (a linear rate, not quadratic).
"""
from __future__ import annotations

from minigrad import backend as B
from optimizers import SGD

__all__ = ["AscentGD", "BiasedSGD", "HalfNewton"]


class AscentGD(SGD):
    """A broken update: :math:`x\\leftarrow x+\\alpha g` (SGD with the sign of the step
    flipped)."""

    def _update(self, p, g, state, hp):
        p.data += hp["lr"] * g                     # x <- x + alpha g


class BiasedSGD(SGD):
    r"""SGD with the biased gradient :math:`g+\delta` (``delta``: an array of the parameter's
    shape, or of its last axis for a stack of runs)."""

    def __init__(self, params, lr=1e-3, delta=None, **kw):
        super().__init__(params, lr=lr, **kw)
        if delta is None:
            raise ValueError("BiasedSGD: delta (the bias added to the gradient) is required")
        self.delta = B.host_xp().asarray(delta, dtype=float)

    def _update(self, p, g, state, hp):
        delta = B.asarray(self.delta, dtype=p.data.dtype, backend=B.backend_name_of(p.data))
        p.data -= hp["lr"] * (g + delta)           # x <- x - alpha (g + delta)


class HalfNewton:
    r"""A step function :math:`x\leftarrow x-\frac12[\nabla^2f(x)]^{-1}\nabla f(x)` on
    ``problem`` (the engine's Hessian): half of Newton's step, a linear rate
    :math:`e_{k+1}\approx e_k/2`."""

    def __init__(self, problem):
        self.problem = problem
        self.__name__ = "HalfNewton"

    def __call__(self, x, grad, k):
        xp = B.get_array_module(x)
        H = self.problem.hessian(x)
        return x - 0.5 * xp.linalg.solve(H, grad)  # x - (1/2) H^{-1} g
