r"""Newton's method: pure, damped (Armijo backtracking or strong Wolfe) and Newton-CG (L1).

Lecture L1 (Merkulov 2024, "second-order methods"; docs/lectures.md section 4):

.. math::

    x_{k+1} = x_k - \alpha_k \left[\nabla^2 f(x_k)\right]^{-1} \nabla f(x_k),

with :math:`\alpha_k = 1` (pure Newton: quadratic convergence near a strict minimum, one step on a
strongly convex quadratic) or :math:`\alpha_k` from a line search (damped Newton: global
convergence on strongly convex functions). Here the line search is Armijo backtracking
(Nocedal & Wright, *Numerical Optimization*, Algorithm 3.1):
:math:`\alpha \leftarrow \rho\alpha` from :math:`\alpha = 1` until
:math:`f(x_k + \alpha d_k) \le f(x_k) + c_1\alpha\nabla f(x_k)^\top d_k`.

The Newton direction :math:`d_k` solves :math:`\nabla^2 f(x_k)\,d_k = -\nabla f(x_k)`
(:mod:`optimizers.second_order.newton_directions`):

* ``solver="dense"``: the Hessian from :func:`minigrad.hessian` (``n`` reverse passes over a
  recorded gradient) and a symmetric eigendecomposition
  :math:`\nabla^2 f = Q\Lambda Q^\top`, :math:`d = -Q\Lambda^{-1}Q^\top\nabla f`;
* ``solver="cg"`` (Newton-CG, N&W Algorithm 7.1): conjugate gradients on the Newton system with
  Hessian-vector products only (:func:`minigrad.hvp`, reverse over reverse; no :math:`n\times n`
  matrix), stopped at the residual :math:`\|r\| \le \eta_k\|\nabla f\|` with the forcing term
  :math:`\eta_k = \min(0.5, \|\nabla f(x_k)\|)` (quadratic convergence of the outer iteration;
  ``forcing="superlinear"``: Algorithm 7.1's :math:`\min(0.5, \sqrt{\|\nabla f(x_k)\|})`).

Negative curvature (a Hessian that is not positive definite, away from a minimum) is handled and
reported: the dense solver replaces each eigenvalue by :math:`\max(|\lambda_i|, \delta)` with
:math:`\delta` = ``min_curvature`` :math:`\cdot\max(1, \max_i|\lambda_i|)` (the eigenvalue
modification of N&W section 3.4: a descent direction that still uses the curvature's size;
``modification="shift"`` adds :math:`\delta - \lambda_{\min}` to every eigenvalue instead,
``"none"`` keeps them); CG stops at the first direction :math:`p` with
:math:`p^\top\nabla^2 f\,p \le 0` and returns the iterate so far (or :math:`-\nabla f` if that
happens at once), as N&W Algorithm 7.1. Every iteration where it happened is listed in the
result's ``negative_curvature``.

:func:`minimize_newton` has three step rules: ``line_search="armijo"`` (the default, the
lecture's damped Newton: backtracking from :math:`\alpha = 1`; when f and the gradient come from
one call (minigrad, or ``jac=True``) each trial evaluates both, and the accepted trial's gradient
is that of :math:`x_{k+1}`, so a full step costs one evaluation, not two; ``trial_gradient``
chooses: ``"auto"``, ``True``, or ``False`` for trials of f alone and then f and the gradient
again at the accepted point), ``"strong_wolfe"`` (the robust form: the strong Wolfe search of
BFGS, whose trials give f and the gradient together, so that the accepted one is not evaluated
again; it may also lengthen the step) and ``None`` (pure Newton). Its stopping tests
(:mod:`optimizers.second_order.termination`) always end a run with a status: the gradient
(absolute ``gtol`` and relative ``gtol_rel``), a full Newton step below ``xtol``, a relative
decrease below ``ftol``, and a line search that can no longer decrease f. Its ``min_curvature``
defaults to :math:`10^{-14}` (the optimizer :class:`Newton` keeps :math:`10^{-8}`): a
:math:`\delta` of :math:`10^{-8}\max|\lambda|` raised every curvature below it and so capped the
condition number of the Hessian at :math:`10^8`; on Brown's badly scaled function (a positive
definite Hessian with condition :math:`2.5\cdot10^{11}`) that shrank every step 2,500-fold and
the run ended at maxiter with :math:`f = 2\cdot10^{11}`.

Two interfaces:

* :func:`minimize_newton` (what ``minimize(f, x0, method="newton")`` calls): ``f`` of one flat
  vector, SciPy's result;
* :class:`Newton`, an :class:`~optimizers.base.Optimizer` over parameters seen as one flat vector
  whose ``step(closure)`` makes one Newton iteration. Its closure returns the loss as a recorded
  Tensor and **does not call backward**: Newton differentiates it twice itself.
"""
from __future__ import annotations

import math

from minigrad import backend as B
from minigrad import ops
from minigrad.autograd import vjp_of
from minigrad.functional import hessian, hvp, value_and_grad
from minigrad.tensor import Tensor, enable_grad, no_grad
from optimizers import _validate as V
from optimizers.base import Optimizer
from optimizers.armijo import armijo_backtracking
from optimizers.callbacks import STATUS_CALLBACK, STOP_MESSAGE, as_iteration_callback
from optimizers.minimize import (STATUS_LINESEARCH, STATUS_MAXITER, STATUS_NONFINITE,
                                 STATUS_SUCCESS, OptimizeResult, as_vector)
from optimizers.objective import derivative_array, line_search_wolfe
from optimizers.second_order import termination as T
from optimizers.second_order.newton_directions import (FORCINGS, MODIFICATIONS,
                                                        cg_newton_direction, forcing_tolerance,
                                                        modified_direction, newton_direction)
from optimizers.wolfe import check_wolfe_constants

__all__ = ["Newton", "minimize_newton", "newton_direction", "cg_newton_direction",
           "modified_direction", "forcing_tolerance"]


# --------------------------------------------------------------------------- oracles
class _FunctionOracle:
    """f, its gradient, Hessian and Hessian-vector products of ``fun(x, *args)``, counted."""

    def __init__(self, fun, shape, jac, hess, hessp, args, name="minimize(method='newton')"):
        self.fun, self.shape, self.args, self.name = fun, shape, tuple(args), name
        self.jac, self.hess_fn, self.hessp_fn = jac, hess, hessp
        self.nfev = self.njev = self.nhev = 0
        # hvp's Hessian and the point (the array itself) it belongs to: the cache holds that
        # array, so a new point is a new object and the matrix is computed again there
        self._H = self._H_at = None

    def _f_tensor(self, t):
        out = self.fun(t.reshape(self.shape) if t.shape != self.shape else t, *self.args)
        if not isinstance(out, Tensor) or out.size != 1:
            raise ValueError(f"{self.name}: with jac=None, f must return a scalar minigrad "
                             f"Tensor written with minigrad ops")
        return out.reshape(())

    def f(self, x) -> float:
        self.nfev += 1
        if self.jac is None:
            with no_grad():
                return float(self._f_tensor(Tensor(x)).item())
        out = self.fun(x.reshape(self.shape), *self.args)
        out = out[0] if self.jac is True else out
        return float(out.item() if hasattr(out, "item") else out)

    @property
    def combined(self) -> bool:
        """True when f and the gradient come from one call (minigrad, or ``jac=True``)."""
        return self.jac is None or self.jac is True

    def _grad(self, g, x, what):
        n = x.size
        return derivative_array(self.name, what, g, (self.shape, (n,)), x).reshape(-1)

    def fg(self, x):
        self.nfev += 1
        self.njev += 1
        xs = x.reshape(self.shape)
        if self.jac is None:
            value, g = value_and_grad(self._f_tensor)(x)
            return float(value.item() if hasattr(value, "item") else value), g.reshape(-1)
        if self.jac is True:
            value, g = self.fun(xs, *self.args)
            what = "the gradient of f (jac=True)"
        else:
            value, g = self.fun(xs, *self.args), self.jac(xs, *self.args)
            what = "jac"
        value = value.item() if hasattr(value, "item") else value
        return float(value), self._grad(g, x, what)

    def g(self, x):
        """The gradient alone (a combined call when f and the gradient come together)."""
        if self.combined:
            return self.fg(x)[1]
        self.njev += 1
        return self._grad(self.jac(x.reshape(self.shape), *self.args), x, "jac")

    def hess(self, x):
        self.nhev += 1
        if self.hess_fn is not None:
            H = self.hess_fn(x.reshape(self.shape), *self.args)
            return derivative_array(self.name, "hess", H, ((x.size, x.size),), x)
        return hessian(self._f_tensor, x)  # minigrad.hessian: n reverse passes

    def hvp(self, x, v):
        if self.hess_fn is not None:  # the user's Hessian, once per point (counted by hess)
            if self._H_at is not x:  # the CG products at x_k reuse the matrix of x_k
                self._H, self._H_at = self.hess(x), x
            return self._H @ v
        self.nhev += 1
        if self.hessp_fn is not None:
            Hv = self.hessp_fn(x.reshape(self.shape), v.reshape(self.shape), *self.args)
            return derivative_array(self.name, "hessp", Hv, (self.shape, (x.size,)),
                                    x).reshape(-1)
        return hvp(self._f_tensor, x, v)  # minigrad.hvp: reverse over reverse


class _ClosureOracle:
    """The same for an optimizer's parameters (one flat vector) and a closure returning the
    loss as a recorded Tensor."""

    def __init__(self, params, closure, name, require_finite=None):
        if closure is None or not callable(closure):
            raise ValueError(f"{name}.step needs a closure: closure() recomputes the loss from the "
                             f"parameters and returns it as a recorded minigrad Tensor, without "
                             f"calling backward (Newton differentiates it twice itself)")
        self.params, self.closure, self.name = params, closure, name
        self.require_finite = require_finite  # the optimizer's check of the Hessian, if any
        self.sizes = [int(p.size) for p in params]
        self.nfev = self.njev = self.nhev = 0

    def get(self):
        xp = B.get_array_module(self.params[0].data)
        return xp.concatenate([p.data.reshape(-1) for p in self.params])

    def put(self, x):
        o = 0
        for p, n in zip(self.params, self.sizes):
            p.data[...] = x[o:o + n].reshape(p.shape)
            o += n

    def _loss(self):
        loss = self.closure()
        if not isinstance(loss, Tensor) or loss.size != 1:
            raise ValueError(f"{self.name}: the closure must return the scalar loss as a minigrad "
                             f"Tensor")
        return loss.reshape(())

    def _graph(self, x):
        """The loss and the recorded flat gradient at x."""
        self.put(x)
        with enable_grad():
            loss = self._loss()
            if not loss.requires_grad:
                raise RuntimeError(f"{self.name}: the loss does not depend on the parameters (or "
                                   f"the closure ran under no_grad, or it already called "
                                   f"backward: Newton's closure must not)")
            gs = vjp_of(loss, self.params, create_graph=True)
            g = ops.concatenate([gi.reshape(-1) for gi in gs])
        return loss, g

    def f(self, x) -> float:
        self.nfev += 1
        self.put(x)
        with no_grad():
            return float(self._loss().item())

    def fg(self, x):
        self.nfev += 1
        self.njev += 1
        self.put(x)
        with enable_grad():
            loss = self._loss()
            if not loss.requires_grad:
                return float(loss.item()), B.get_array_module(x).zeros_like(x)
            gs = vjp_of(loss, self.params)
        return float(loss.item()), B.get_array_module(x).concatenate(
            [gi.data.reshape(-1) for gi in gs])

    def hess(self, x):
        self.nhev += 1
        _, g = self._graph(x)
        xp = B.get_array_module(x)
        n = x.size
        rows = []
        with enable_grad():
            for i in range(n):  # row i: the gradient of g_i (as minigrad.hessian does)
                gi = g[i]
                if gi.requires_grad:
                    parts = vjp_of(gi, self.params, retain_graph=True)
                    rows.append(xp.concatenate([r.data.reshape(-1) for r in parts]))
                else:
                    rows.append(xp.zeros(n, dtype=x.dtype))
        H = xp.stack(rows)
        if self.require_finite is not None:
            self.require_finite([("the Hessian", H)])
        return H

    def hvp(self, x, v):
        self.nhev += 1
        _, g = self._graph(x)
        xp = B.get_array_module(x)
        with enable_grad():
            inner = (g * Tensor._const(v)).sum()  # <grad f, v>
            if not inner.requires_grad:
                return xp.zeros_like(x)
            parts = vjp_of(inner, self.params)  # grad_x <grad f, v> = H v
        Hv = xp.concatenate([r.data.reshape(-1) for r in parts])
        if self.require_finite is not None:
            self.require_finite([("a Hessian-vector product", Hv)])
        return Hv


# --------------------------------------------------------------------------- one iteration
def _iterate(oracle, x, f, g, k, opts, log):
    """One Newton iteration from (x, f, g); returns (x_new, f_new, g_new, status, alpha)."""
    xp = B.get_array_module(x)
    if opts["solver"] == "dense":
        H = oracle.hess(x)  # grad^2 f(x_k)
        d, negative, _ = newton_direction(H, g, opts["min_curvature"])  # solve H d = -g
    else:
        gnorm = float(xp.linalg.norm(g))
        tol = opts["cg_tol"] if opts["cg_tol"] is not None else min(0.5, gnorm) * gnorm
        d, negative, _ = cg_newton_direction(lambda v: oracle.hvp(x, v), g, tol,
                                             opts["cg_max_iter"] or 2 * x.size)
    if negative:
        log.append(k)
    alpha = opts["lr"]
    if opts["line_search"] is None:  # pure Newton: x_{k+1} = x_k + alpha d_k
        x_new = x + alpha * d
        f_new, g_new = oracle.fg(x_new)
        status = STATUS_SUCCESS if math.isfinite(f_new) else STATUS_NONFINITE
        return x_new, f_new, g_new, status, alpha
    derphi0 = float(xp.vdot(g, d))  # grad f_k^T d_k < 0
    res = armijo_backtracking(lambda a: oracle.f(x + a * d), f, derphi0, alpha0=alpha,
                              c1=opts["c1"], rho=opts["rho"], interpolation=False,
                              maxiter=opts["max_backtracks"])  # alpha_k by Armijo
    if res.alpha == 0.0:
        return x, f, g, STATUS_LINESEARCH, 0.0
    x_new = x + res.alpha * d  # x_{k+1} = x_k + alpha_k d_k
    f_new, g_new = oracle.fg(x_new)
    return x_new, f_new, g_new, (STATUS_SUCCESS if res.success else STATUS_LINESEARCH), res.alpha


_LINE_SEARCHES = ("armijo", None)
_SOLVERS = ("dense", "cg")


def _check_options(owner, lr, line_search, solver, c1, rho, min_curvature, max_backtracks,
                   cg_tol, cg_max_iter):
    if line_search not in _LINE_SEARCHES:
        raise ValueError(f"{owner}: invalid line_search={line_search!r}; expected 'armijo' "
                         f"(damped Newton) or None (pure Newton)")
    return dict(
        lr=V.real(owner, "lr", lr, lo=0.0, lo_open=True),
        line_search=line_search,
        solver=V.choice(owner, "solver", solver, _SOLVERS),
        c1=V.real(owner, "c1", c1, lo=0.0, hi=1.0, lo_open=True, hi_open=True),
        rho=V.real(owner, "rho", rho, lo=0.0, hi=1.0, lo_open=True, hi_open=True),
        min_curvature=V.real(owner, "min_curvature", min_curvature, lo=0.0, lo_open=True),
        max_backtracks=V.integer(owner, "max_backtracks", max_backtracks, lo=1),
        cg_tol=None if cg_tol is None else V.real(owner, "cg_tol", cg_tol, lo=0.0),
        cg_max_iter=None if cg_max_iter is None else V.integer(owner, "cg_max_iter",
                                                               cg_max_iter, lo=1),
    )


# --------------------------------------------------------------------------- minimize
#: the message of each status (the codes of optimizers.results.Status)
_MESSAGES = {STATUS_SUCCESS: "Optimization terminated successfully (gradient norm below gtol).",
             STATUS_MAXITER: "Maximum number of iterations has been exceeded.",
             STATUS_LINESEARCH: "The Armijo line search found no decrease along the Newton "
                                "direction.",
             STATUS_NONFINITE: "A non-finite value of f or of its gradient was met."}
_LS_MESSAGES = {"armijo": _MESSAGES[STATUS_LINESEARCH],
                "strong_wolfe": "The strong Wolfe line search found no acceptable step along "
                                "the Newton direction."}
#: the line search met no condition but found a decrease: its best trial is the last iterate
_BEST_TRIAL_MESSAGE = ("The line search found no step meeting its condition along the Newton "
                       "direction; the best trial, which decreases f, is returned.")
_MINIMIZE_LINE_SEARCHES = ("armijo", "strong_wolfe", None)
_EPS = 2.220446049250313e-16


class _Step:
    """What one iteration of :func:`minimize_newton` did: the new point, the step ``alpha``,
    whether it was a full step along an unmodified Hessian, and a stopping ``status`` (or None)."""

    __slots__ = ("x", "f", "g", "alpha", "full", "negative", "status", "message")

    def __init__(self, x, f, g, alpha, full=False, negative=False, status=None, message=None):
        self.x, self.f, self.g, self.alpha, self.full = x, f, g, alpha, full
        self.negative, self.status, self.message = negative, status, message


def _direction(oracle, x, g, opts):
    r"""``(d_k, negative_curvature, modified)`` at :math:`x_k`, or a :class:`_Step` that stops
    the run when the Hessian (or the direction) is not finite."""
    xp = B.get_array_module(x)
    if opts["solver"] == "dense":
        H = oracle.hess(x)  # grad^2 f(x_k)
        if not bool(xp.all(xp.isfinite(H))):
            return _Step(x, None, g, 0.0, status=STATUS_NONFINITE,
                         message="The Hessian has non-finite entries.")
        d, lam_min, modified = modified_direction(H, g, opts["min_curvature"],
                                                  opts["modification"])  # solve H d = -g
        negative = lam_min <= 0.0
    else:
        gnorm = float(xp.linalg.norm(g))
        tol = opts["cg_tol"] if opts["cg_tol"] is not None else \
            forcing_tolerance(gnorm, opts["forcing"])       # eps_k = eta_k ||grad f_k||
        d, negative, _ = cg_newton_direction(lambda v: oracle.hvp(x, v), g, tol,
                                             opts["cg_max_iter"] or 2 * x.size,
                                             opts["scale_descent"])
        modified = negative
    if not bool(xp.all(xp.isfinite(d))):
        what = "the Hessian is singular" if opts["solver"] == "dense" else \
            "a Hessian-vector product is not finite"
        return _Step(x, None, g, 0.0, negative=negative, status=STATUS_NONFINITE,
                     message=f"The Newton direction is not finite: {what}.")
    return d, negative, modified


def _minimize_step(oracle, x, f, g, opts) -> _Step:
    """One iteration of :func:`minimize_newton` from (x, f, g): the direction, then the step
    (pure, Armijo or Wolfe)."""
    xp = B.get_array_module(x)
    got = _direction(oracle, x, g, opts)
    if isinstance(got, _Step):
        return got
    d, negative, modified = got
    lr = opts["lr"]
    if opts["line_search"] is None:  # pure Newton: x_{k+1} = x_k + lr d_k
        x_new = x + lr * d
        f_new, g_new = oracle.fg(x_new)
        status = None if math.isfinite(f_new) else STATUS_NONFINITE
        return _Step(x_new, f_new, g_new, lr, full=not modified, negative=negative,
                     status=status)
    derphi0 = float(xp.vdot(g, d))  # grad f_k^T d_k < 0
    if opts["line_search"] == "strong_wolfe":
        ls = line_search_wolfe(oracle, x, d, f, g, alpha0=lr, c1=opts["c1"], c2=opts["c2"])
        if ls.alpha == 0.0:
            return _Step(x, f, g, 0.0, negative=negative, status=STATUS_LINESEARCH,
                         message=_LS_MESSAGES["strong_wolfe"])
        g_new = ls.g if ls.g is not None else oracle.g(ls.x)
        status = None if ls.success else STATUS_LINESEARCH
        return _Step(ls.x, ls.f, g_new, ls.alpha, full=ls.alpha == lr and not modified,
                     negative=negative, status=status,
                     message=None if ls.success else _LS_MESSAGES["strong_wolfe"])
    # below alpha = min_i eps |x_i| / |d_i| no coordinate of x + alpha d moves: stop there
    ratios = xp.abs(x) / xp.where(d != 0.0, xp.abs(d), 1.0)
    floor = _EPS * float(xp.where(d != 0.0, ratios, math.inf).min())
    trials = {}  # alpha -> (f, gradient) of each trial, with trial_gradient

    def phi(a):  # phi(alpha) = f(x_k + alpha d_k)
        if not opts["trial_gradient"]:
            return oracle.f(x + a * d)
        trials[a] = oracle.fg(x + a * d)  # f and the gradient in one call
        return trials[a][0]

    res = armijo_backtracking(phi, f, derphi0, alpha0=lr,
                              c1=opts["c1"], rho=opts["rho"], interpolation=False,
                              maxiter=opts["max_backtracks"],
                              alpha_min=max(1e-20, floor))  # alpha_k by Armijo
    if res.alpha == 0.0:
        return _Step(x, f, g, 0.0, negative=negative, status=STATUS_LINESEARCH,
                     message=_LS_MESSAGES["armijo"])
    x_new = x + res.alpha * d  # x_{k+1} = x_k + alpha_k d_k
    f_new, g_new = trials[res.alpha] if res.alpha in trials else oracle.fg(x_new)
    return _Step(x_new, f_new, g_new, res.alpha, full=res.alpha == lr and not modified,
                 negative=negative, status=None if res.success else STATUS_LINESEARCH,
                 message=None if res.success else _LS_MESSAGES["armijo"])


def _check_minimize_options(name, line_search, modification, forcing, c1, c2, scale_descent,
                            trial_gradient="auto"):
    if line_search not in _MINIMIZE_LINE_SEARCHES:
        raise ValueError(f"{name}: invalid line_search={line_search!r}; expected 'armijo' "
                         f"(damped Newton), 'strong_wolfe' or None (pure Newton)")
    out = dict(modification=V.choice(name, "modification", modification, MODIFICATIONS),
               forcing=V.choice(name, "forcing", forcing, FORCINGS),
               scale_descent=V.flag(name, "scale_descent", scale_descent))
    if not isinstance(trial_gradient, bool) and not (isinstance(trial_gradient, str)
                                                     and trial_gradient == "auto"):
        raise ValueError(f"{name}: invalid trial_gradient={trial_gradient!r}; expected 'auto', "
                         f"True or False")
    out["trial_gradient"] = trial_gradient
    if line_search == "strong_wolfe":
        out["c1"], out["c2"] = check_wolfe_constants(c1, c2, name)
    else:
        out["c2"] = V.real(name, "c2", c2, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    return out


def minimize_newton(f, x0, jac=None, hess=None, hessp=None, args=(), callback=None,
                    line_search="armijo", solver="dense", gtol=1e-8, maxiter=100, lr=1.0,
                    c1=1e-4, rho=0.5, min_curvature=1e-14, max_backtracks=60, cg_tol=None,
                    cg_max_iter=None, gtol_rel=1e-10, xtol=1e-8, ftol=2.220446049250313e-9,
                    c2=0.9, modification="flip", forcing="quadratic",
                    scale_descent=False, trial_gradient="auto") -> OptimizeResult:
    r"""Newton's method on ``f(x, *args)`` from ``x0`` (a vector), SciPy-style.

    ``line_search="armijo"`` (damped Newton, default: backtracking by ``rho`` from ``lr``; with
    ``trial_gradient=True`` each trial is one call of f and the gradient together, counted in
    ``nfev`` and ``njev``, and the accepted trial's gradient is reused; with ``False`` trials of f
    alone, then f and the gradient at the accepted point; ``"auto"``, the default, is ``True``
    when f and the gradient come from one call, ``jac=None`` or ``jac=True``, and ``False`` with a
    separate ``jac`` callable, where a rejected trial's gradient would be a wasted call),
    ``"strong_wolfe"`` (the strong Wolfe search of BFGS from ``lr``, constants ``c1``/``c2``;
    trials give f and the gradient together, so the accepted one is not evaluated again) or
    ``None`` (pure Newton, step ``lr``); ``solver="dense"`` (Hessian) or ``"cg"`` (Newton-CG,
    Hessian-vector products; forcing term ``forcing``, ``"quadratic"`` or ``"superlinear"``,
    unless ``cg_tol`` fixes the residual; ``scale_descent`` scales the steepest descent fallback
    at negative curvature). ``modification``: what the dense solver does
    with curvature below ``min_curvature`` (``"flip"``, ``"shift"`` or ``"none"``,
    :mod:`optimizers.second_order.newton_directions`). Derivatives: with ``jac=None`` all come
    from minigrad (``f`` written with minigrad ops); with ``jac`` (``True`` or a callable,
    SciPy's conventions) give ``hess(x)`` for the dense solver or ``hessp(x, v)`` (or ``hess``)
    for CG; a derivative of the wrong shape is a ``ValueError`` naming its shape.

    Stopping (:mod:`optimizers.second_order.termination`): :math:`\|\nabla f(x_k)\|_2 \le`
    ``gtol`` (status 0); ``maxiter`` iterations (status 1); a non-finite f, gradient, Hessian or
    direction (status 3); with a line search also the relative gradient below ``gtol_rel``, a
    full Newton step below ``xtol`` (relative, coordinate by coordinate) or a relative decrease
    of f below ``ftol`` after a full step (status 0), and a line search that finds no step, can
    no longer decrease f or makes only a step below ``xtol`` (status 2). Pure Newton stops on
    ``gtol`` alone; ``gtol_rel = xtol = ftol = 0`` is that test alone for every form.

    Result fields: SciPy's (``x, fun, jac, nit, nfev, njev, nhev, status, success, message``)
    plus ``negative_curvature`` (iterations where the Hessian was not positive definite) and
    ``alphas`` (the step of each iteration). ``callback`` is called after each iteration, in
    SciPy's two forms (:mod:`optimizers.callbacks`).
    """
    return _run("minimize(method='newton')", f, x0, jac, hess, hessp, args, callback,
                dict(line_search=line_search, solver=solver, gtol=gtol, maxiter=maxiter, lr=lr,
                     c1=c1, rho=rho, min_curvature=min_curvature, max_backtracks=max_backtracks,
                     cg_tol=cg_tol, cg_max_iter=cg_max_iter, gtol_rel=gtol_rel, xtol=xtol,
                     ftol=ftol, c2=c2, modification=modification, forcing=forcing,
                     scale_descent=scale_descent, trial_gradient=trial_gradient))


def _run(name, f, x0, jac, hess, hessp, args, callback, options) -> OptimizeResult:
    """The loop of :func:`minimize_newton` (and of Newton-CG's entry point), for ``name``."""
    o = options
    line_search, solver = o["line_search"], o["solver"]
    opts = _check_options(name, o["lr"], line_search if line_search != "strong_wolfe" else
                          "armijo", solver, o["c1"], o["rho"], o["min_curvature"],
                          o["max_backtracks"], o["cg_tol"], o["cg_max_iter"])
    opts.update(_check_minimize_options(name, line_search, o["modification"], o["forcing"],
                                        o["c1"], o["c2"], o["scale_descent"],
                                        o.get("trial_gradient", "auto")))
    opts["line_search"] = line_search
    tol = T.check_tolerances(name, o["gtol"], o["gtol_rel"], o["xtol"], o["ftol"])
    pure = T.Tolerances(tol.gtol, 0.0, 0.0, 0.0)  # pure Newton: the gradient test alone
    searched = line_search is not None
    maxiter = V.integer(name, "maxiter", o["maxiter"], lo=0)
    notify = as_iteration_callback(callback)
    shape = tuple(x0.shape) if B.is_array(x0) or isinstance(x0, Tensor) else None
    x = as_vector(x0, name)
    shape = shape if shape is not None and int(math.prod(shape)) == x.size else x.shape
    if jac is not None and hess is None and (solver == "dense" or hessp is None):
        raise ValueError(f"{name}: with jac given, pass hess= (solver='dense') or hessp= / hess= "
                         f"(solver='cg'); with jac=None minigrad gives all derivatives")
    oracle = _FunctionOracle(f, shape, jac, hess, hessp, args, name)
    if opts["trial_gradient"] == "auto":  # a gradient with each trial when it comes with f
        opts["trial_gradient"] = oracle.combined
    fx, g = oracle.fg(x)  # f(x_0), grad f(x_0)
    negative, alphas = [], []
    k = 0
    # at x_0 the relative gradient test is 1e-3 times tighter (Dennis & Schnabel's start test):
    # a large |f| alone must not end the run before its first step
    first = T.Tolerances(tol.gtol, 1e-3 * tol.gtol_rel, 0.0, 0.0) if searched else pure
    stop = T.at_iterate(x, fx, g, first)
    while stop is None:
        if k >= maxiter:
            stop = STATUS_MAXITER, _MESSAGES[STATUS_MAXITER]
            break
        step = _minimize_step(oracle, x, fx, g, opts)  # x_{k+1}
        if step.negative:
            negative.append(k)
        alphas.append(step.alpha)
        if step.f is None or step.status == STATUS_LINESEARCH:  # no new iterate to go on from
            stop = step.status, step.message
            if step.alpha > 0.0 and step.f is not None:  # the best decrease the search found:
                x, fx, g = step.x, step.f, step.g        # an iterate, counted and shown
                k += 1
                stop = step.status, _BEST_TRIAL_MESSAGE
                if notify is not None and notify(x.reshape(shape), fx):
                    stop = STATUS_CALLBACK, STOP_MESSAGE
            break
        x_old, f_old = x, fx
        x, fx, g = step.x, step.f, step.g
        k += 1
        stop = T.at_iterate(x, fx, g, tol if searched else pure)
        if stop is not None and stop[0] == T.NONFINITE:  # never shown to the callback
            break
        if notify is not None and notify(x.reshape(shape), fx):
            stop = STATUS_CALLBACK, STOP_MESSAGE         # the callback raised StopIteration
            break
        if stop is None and searched:
            stop = T.after_step(x, x - x_old, f_old, fx, step.full, tol)
    status, msg = stop
    if negative and status != STATUS_CALLBACK:  # SciPy's message alone after a StopIteration
        msg += f" Negative curvature met (and handled) at iterations {negative}."
    return OptimizeResult(x=x.reshape(shape), fun=fx, jac=g.reshape(shape), nit=k,
                          nfev=oracle.nfev, njev=oracle.njev, nhev=oracle.nhev, status=status,
                          success=status == STATUS_SUCCESS, message=msg,
                          negative_curvature=negative,
                          alphas=alphas)


# --------------------------------------------------------------------------- the optimizer
class Newton(Optimizer):
    r"""Newton's method as an optimizer over all parameters seen as one flat vector (L1):

    .. math::

        x_{k+1} = x_k - \alpha_k [\nabla^2 f(x_k)]^{-1}\nabla f(x_k)

    ``Newton(params, lr=1.0, line_search="armijo", solver="dense", c1=1e-4, rho=0.5,
    min_curvature=1e-8, max_backtracks=60, cg_tol=None, cg_max_iter=None)``: ``line_search=None``
    is pure Newton with :math:`\alpha_k` = ``lr`` (the lecture's :math:`\alpha_k = 1`), ``"armijo"``
    damped Newton (backtracking by ``rho`` from ``lr``); ``solver="cg"`` is Newton-CG (see the
    module docstring, which also explains the handling of negative curvature).

    ``step(closure)``: one iteration. ``closure()`` recomputes the loss from the parameters and
    returns it as a recorded Tensor **without calling backward**; it is called several times (the
    gradient, the Hessian or its products, each line-search trial). Returns the loss before the
    step. One parameter group; all parameters share one backend and dtype. Counters ``nfev``,
    ``njev``, ``nhev`` and the list ``negative_curvature`` (step indices) are kept and saved.
    """

    #: a linear solve cannot carry a NaN to the parameters: raise (default) or skip
    nonfinite_policies = ("raise", "skip")

    def __init__(self, params, lr=1.0, line_search="armijo", solver="dense", c1=1e-4, rho=0.5,
                 min_curvature=1e-8, max_backtracks=60, cg_tol=None, cg_max_iter=None,
                 nonfinite=None):
        super().__init__(params, dict(lr=lr, line_search=line_search, solver=solver, c1=c1,
                                      rho=rho, min_curvature=min_curvature,
                                      max_backtracks=max_backtracks, cg_tol=cg_tol,
                                      cg_max_iter=cg_max_iter), nonfinite=nonfinite)
        if len(self.param_groups) != 1:
            raise ValueError(f"{self.name} treats all parameters as one vector and takes one "
                             f"parameter group; got {len(self.param_groups)}")
        first = self.param_groups[0]["params"][0].data
        for p in self.param_groups[0]["params"]:
            if B.backend_name_of(p.data) != B.backend_name_of(first) or p.dtype != first.dtype:
                raise ValueError(f"{self.name}: all parameters must share one backend and dtype")
        self.nfev = self.njev = self.nhev = 0
        self.negative_curvature: list = []

    def _validate_group(self, group):
        super()._validate_group(group)
        lr = group["lr"]
        opts = _check_options(self.name, 1.0 if callable(lr) else lr, group["line_search"],
                              group["solver"], group["c1"], group["rho"], group["min_curvature"],
                              group["max_backtracks"], group["cg_tol"], group["cg_max_iter"])
        opts.pop("lr")
        group.update(opts)

    def step(self, closure=None):
        """One Newton iteration, all or nothing under the ``nonfinite`` policy."""
        return self._undoable(self._step, closure)

    def _step(self, closure):
        group = self.param_groups[0]
        hp = self._hyperparameters(group, self.step_count)
        params = group["params"]
        oracle = _ClosureOracle(params, closure, self.name, self._require_finite)
        x = oracle.get()
        f, g = oracle.fg(x)
        xp = B.get_array_module(x)
        self._require_finite([("the loss", xp.asarray(f)),
                              ("the gradient (all parameters as one vector)", g)])
        opts = {k: hp[k] for k in ("lr", "line_search", "solver", "c1", "rho", "min_curvature",
                                   "max_backtracks", "cg_tol", "cg_max_iter")}
        x_new = _iterate(oracle, x, f, g, self.step_count, opts, self.negative_curvature)[0]
        oracle.put(x_new)  # the parameters hold x_{k+1} (x_k if the line search failed)
        self.nfev += oracle.nfev
        self.njev += oracle.njev
        self.nhev += oracle.nhev
        self.step_count += 1
        return Tensor(B.asarray(f, dtype=x.dtype, backend=B.backend_name_of(x)))

    def _extra_state(self):
        return {"nfev": self.nfev, "njev": self.njev, "nhev": self.nhev,
                "n_negative_curvature": len(self.negative_curvature)}

    def _prepare_extra(self, extra):
        self._check_extra(extra, self._extra_state())
        vals = {k: int(B.to_numpy(v).item()) if B.is_array(v) else int(v)
                for k, v in extra.items()}

        def install():
            self.nfev, self.njev, self.nhev = vals["nfev"], vals["njev"], vals["nhev"]
        return install
