r"""A function with counted evaluations of f and of its gradient (:class:`Objective`), and the
two line searches along a ray :math:`x + \alpha p` of it (:func:`line_search_wolfe`,
:func:`line_search_armijo`).

Along the ray the searches see the scalar function (Nocedal & Wright, *Numerical Optimization*,
2nd ed., 2006, section 3.1)

.. math::
    \phi(\alpha) = f(x + \alpha p), \qquad \phi'(\alpha) = \nabla f(x + \alpha p)^\top p,

and the result carries the new point, its value and gradient, and the objective's call counts.
"""
from __future__ import annotations

from minigrad import backend as B
from minigrad.functional import value_and_grad
from minigrad.tensor import Tensor, no_grad
from optimizers.armijo import armijo_backtracking
from optimizers.results import LineSearchResult
from optimizers.scalar_search import finite
from optimizers.wolfe import strong_wolfe

__all__ = ["Objective", "line_search_wolfe", "line_search_armijo", "derivative_array",
           "value_evaluations"]

_value_evaluations = 0  # evaluations of f alone in this process (see value_evaluations)


def value_evaluations() -> int:
    """The number of evaluations of f alone (:meth:`Objective.f`, no gradient: the work of the
    zero-order methods and of line-search trials without a gradient) run in this process so far,
    by every objective: a measure of work done, for progress displays (a gradient evaluation is
    counted by :func:`minigrad.autograd.reverse_passes` where minigrad computes it)."""
    return _value_evaluations


def count_value_evaluation() -> None:
    """Count one evaluation of f alone (every objective's ``f`` calls it)."""
    global _value_evaluations
    _value_evaluations += 1


def derivative_array(owner: str, what: str, value, shapes, like):
    """``value`` (an array or a minigrad Tensor returned by ``jac``, ``hess`` or ``hessp``) as an
    array of ``like``'s backend and dtype, checked: its shape must be one of ``shapes`` (the
    first is the one named), else a ``ValueError`` that names both: ``what`` says who returned
    it, e.g. ``"jac"`` gives "jac returned shape (3,), expected (2,)"."""
    if isinstance(value, Tensor):
        value = value.data
    try:
        arr = B.get_array_module(like).asarray(value, dtype=like.dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: {what} must return an array of shape {tuple(shapes[0])}; "
                         f"got {type(value).__name__} ({exc})") from None
    if tuple(arr.shape) not in [tuple(s) for s in shapes]:
        raise ValueError(f"{owner}: {what} returned shape {tuple(arr.shape)}, expected "
                         f"{tuple(shapes[0])}")
    return arr


# --------------------------------------------------------------------------- the objective
class Objective:
    r"""A function of an array with counted evaluations of f and of its gradient.

    ``fun`` takes an array (or a minigrad Tensor) of ``x0``'s shape and returns a scalar.
    The gradient comes from

    * ``jac=None``: minigrad (``fun`` written with minigrad ops on a Tensor): one call of
      :func:`minigrad.value_and_grad` gives f and the gradient (a forward and a backward pass);
      it counts as one evaluation of f and one of the gradient;
    * ``jac=True``: ``fun`` returns ``(f, gradient)`` (SciPy's convention), counted the same way;
    * ``jac`` callable: ``jac(x)`` returns the gradient; f and the gradient are separate calls,
      counted separately.

    In the first two modes (``combined``) a line search evaluates f and the gradient together at
    each trial, so ``nfev == njev``. Evaluations of f alone (:meth:`f`, e.g. by zero-order
    methods) count in ``nfev`` only; with minigrad they run under ``no_grad()`` (a forward pass).

    ``values_only=True`` (the zero-order methods): ``fun`` receives the point as a backend array,
    as SciPy gives it (not a Tensor: nothing is differentiated), and may return a number, a
    one-element array or a one-element Tensor; :meth:`fg` and :meth:`g` are not available.

    The optimizers work on flat vectors; the objective reshapes to ``x0``'s shape before each
    call. Values are Python floats; gradients flat arrays of the backend of ``x0``. A gradient
    of the wrong shape is a ``ValueError`` naming both shapes.
    """

    def __init__(self, fun, x0, jac=None, args=(), name: str = "minimize",
                 values_only: bool = False):
        if not callable(fun):
            raise TypeError(f"{name}: f must be callable; got {type(fun).__name__}")
        self.fun, self.args, self.name = fun, tuple(args), name
        self.shape = tuple(x0.shape)
        self.size = int(x0.size)
        if values_only:
            if jac is not None:
                raise ValueError(f"{name} uses function values only; jac must be None")
            self.mode = "values"
        elif jac is None:
            self.mode = "autodiff"
        elif jac is True:
            self.mode = "combined"
        elif callable(jac):
            self.mode = "separate"
        else:
            raise TypeError(f"{name}: jac must be None (minigrad), True (f returns (f, grad)) or "
                            f"a callable; got {jac!r}")
        self.jac = jac
        self.nfev = 0
        self.njev = 0

    @property
    def combined(self) -> bool:
        """True when f and the gradient come from one call."""
        return self.mode in ("autodiff", "combined")

    def _shaped(self, x):
        return x.reshape(self.shape)

    def _scalar(self, value) -> float:
        if isinstance(value, Tensor):
            value = value.data
        if getattr(value, "size", 1) != 1:
            raise ValueError(f"{self.name}: f must return a scalar; got an output of shape "
                             f"{getattr(value, 'shape', '?')}")
        try:
            return float(value.item() if hasattr(value, "item") else value)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name}: f must return a scalar (a number or a one-element "
                             f"Tensor/array); got {type(value).__name__}") from None

    def _flat_grad(self, g, like, what="jac"):
        return derivative_array(self.name, what, g, (self.shape, (self.size,)), like).reshape(-1)

    def f(self, x) -> float:
        """f(x) alone (counted in ``nfev``)."""
        self.nfev += 1
        count_value_evaluation()
        xs = self._shaped(x)
        if self.mode == "autodiff":
            with B.use_backend(B.backend_name_of(xs)):  # x's backend, as in fg, not the default
                t = Tensor(xs)
            with no_grad():
                out = self.fun(t, *self.args)
        elif self.mode == "combined":
            out = self.fun(xs, *self.args)[0]
        else:                                              # "separate", "values": the array
            out = self.fun(xs, *self.args)
        value = self._scalar(out)
        see = getattr(self.fun, "see", None)  # a watcher of the values (minimize's value-only runs)
        if see is not None:
            see(value)
        return value

    def fg(self, x):
        """``(f(x), gradient at x)`` (counted in ``nfev`` and ``njev``)."""
        if self.mode == "values":
            raise TypeError(f"{self.name}: a value-only objective has no gradient")
        self.nfev += 1
        self.njev += 1
        xs = self._shaped(x)
        if self.mode == "autodiff":
            value, g = value_and_grad(lambda t: self._checked(self.fun(t, *self.args)))(xs)
            return self._scalar(value), self._flat_grad(g, x, "minigrad")
        if self.mode == "combined":
            value, g = self.fun(xs, *self.args)
            return self._scalar(value), self._flat_grad(g, x, "the gradient of f (jac=True)")
        value = self._scalar(self.fun(xs, *self.args))
        return value, self._flat_grad(self.jac(xs, *self.args), x)

    def g(self, x):
        """The gradient at x (a combined call in the first two modes, counted as such; in the
        separate mode only ``njev`` grows)."""
        if self.combined:
            return self.fg(x)[1]
        if self.mode == "values":
            raise TypeError(f"{self.name}: a value-only objective has no gradient")
        self.njev += 1
        return self._flat_grad(self.jac(self._shaped(x), *self.args), x)

    def _checked(self, out):
        if not isinstance(out, Tensor):
            raise TypeError(f"{self.name}: with jac=None, f must be written with minigrad ops and "
                            f"return a minigrad Tensor (the gradient comes from minigrad); got "
                            f"{type(out).__name__}. Pass jac= to give the gradient yourself.")
        if out.data.size != 1:
            raise ValueError(f"{self.name}: f must return a scalar; got an output of shape "
                             f"{out.shape}")
        return out


# --------------------------------------------------------------------------- along a ray
class _Ray:
    r"""``phi(alpha) = f(x + alpha p)`` and ``derphi(alpha) = grad f(x + alpha p)^T p`` over an
    :class:`Objective`, keeping the last evaluated point (the searches ask for
    :math:`\phi'` right after :math:`\phi` at the same step) and the best one."""

    def __init__(self, obj: Objective, x, p, need_grad: bool = True):
        self.obj, self.x, self.p = obj, x, p
        self.xp = B.get_array_module(x)
        self.need_grad = need_grad
        self.last = None   # (alpha, x_alpha, f, g or None)
        self.best = None

    def _point(self, alpha):
        if self.last is not None and self.last[0] == alpha:
            return self.last
        x_a = self.x + alpha * self.p                      # x_k + alpha p_k
        if self.obj.combined and self.need_grad:
            f, g = self.obj.fg(x_a)
        else:
            f, g = self.obj.f(x_a), None
        self.last = (alpha, x_a, f, g)
        if finite(f) and (self.best is None or f < self.best[2]):
            self.best = self.last
        return self.last

    def phi(self, alpha):
        return self._point(alpha)[2]

    def derphi(self, alpha):
        alpha_, x_a, f, g = self._point(alpha)
        if g is None:
            g = self.obj.g(x_a)
            self.last = (alpha_, x_a, f, g)
            if self.best is not None and self.best[0] == alpha_:
                self.best = self.last
        return float(self.xp.vdot(g, self.p))             # phi'(alpha) = grad f^T p

    def finish(self, res: LineSearchResult, x0_f, x0_g, nfev0, njev0) -> LineSearchResult:
        """Attach the point of ``res.alpha`` (x, f, g) and the objective's call counts."""
        res.nfev = self.obj.nfev - nfev0
        res.njev = self.obj.njev - njev0
        if res.alpha == 0.0:
            res.x, res.f, res.g = self.x, x0_f, x0_g
            return res
        for rec in (self.last, self.best):
            if rec is not None and rec[0] == res.alpha:
                res.x, res.f, res.g = rec[1], rec[2], rec[3]
                return res
        res.x = self.x + res.alpha * self.p               # pragma: no cover - defensive
        res.f = self.obj.f(res.x)
        return res


def line_search_wolfe(obj: Objective, x, p, f0: float, g0, alpha0=1.0, c1=1e-4, c2=0.9,
                      alpha_max=1e20, maxiter=20, maxzoom=30,
                      interpolation="cubic") -> LineSearchResult:
    r""":func:`strong_wolfe` along :math:`x + \alpha p` of an :class:`Objective`, from the known
    :math:`f(x)` = ``f0`` and :math:`\nabla f(x)` = ``g0`` (flat), zoom interpolating by
    ``interpolation`` (:data:`optimizers.wolfe.INTERPOLATIONS`). The result carries the new
    point ``x``, its value ``f`` and gradient ``g``, and the objective's call counts."""
    ray = _Ray(obj, x, p)
    n0, j0 = obj.nfev, obj.njev
    derphi0 = float(ray.xp.vdot(g0, p))                   # phi'(0) = grad f_k^T p_k
    res = strong_wolfe(ray.phi, ray.derphi, f0, derphi0, alpha0=alpha0, c1=c1, c2=c2,
                       alpha_max=alpha_max, maxiter=maxiter, maxzoom=maxzoom,
                       slopes_free=obj.combined, interpolation=interpolation)
    return ray.finish(res, f0, g0, n0, j0)


def line_search_armijo(obj: Objective, x, p, f0: float, g0, alpha0=1.0, c1=1e-4, rho=0.5,
                       interpolation=True, maxiter=60) -> LineSearchResult:
    r""":func:`armijo_backtracking` along :math:`x + \alpha p` of an :class:`Objective`. Trials
    evaluate f only (so ``g`` of the result is None unless the objective gives it with f); the
    caller evaluates the gradient at the accepted point when it needs it."""
    ray = _Ray(obj, x, p, need_grad=False)
    n0, j0 = obj.nfev, obj.njev
    derphi0 = float(ray.xp.vdot(g0, p))
    res = armijo_backtracking(ray.phi, f0, derphi0, alpha0=alpha0, c1=c1, rho=rho,
                              interpolation=interpolation, maxiter=maxiter)
    return ray.finish(res, f0, g0, n0, j0)
