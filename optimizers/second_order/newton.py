r"""Newton's method: pure, damped (Armijo backtracking) and Newton-CG (L1).

Lecture L1 (Merkulov 2024, "second-order methods"; docs/lectures.md section 4):

.. math::

    x_{k+1} = x_k - \alpha_k \left[\nabla^2 f(x_k)\right]^{-1} \nabla f(x_k),

with :math:`\alpha_k = 1` (pure Newton: quadratic convergence near a strict minimum, one step on a
strongly convex quadratic) or :math:`\alpha_k` from a line search (damped Newton: global
convergence on strongly convex functions). Here the line search is Armijo backtracking
(Nocedal & Wright, *Numerical Optimization*, Algorithm 3.1):
:math:`\alpha \leftarrow \rho\alpha` from :math:`\alpha = 1` until
:math:`f(x_k + \alpha d_k) \le f(x_k) + c_1\alpha\nabla f(x_k)^\top d_k`.

The Newton direction :math:`d_k` solves :math:`\nabla^2 f(x_k)\,d_k = -\nabla f(x_k)`:

* ``solver="dense"``: the Hessian from :func:`minigrad.hessian` (``n`` reverse passes over a
  recorded gradient) and a symmetric eigendecomposition
  :math:`\nabla^2 f = Q\Lambda Q^\top`, :math:`d = -Q\Lambda^{-1}Q^\top\nabla f`;
* ``solver="cg"`` (Newton-CG, N&W Algorithm 7.1): conjugate gradients on the Newton system with
  Hessian-vector products only (:func:`minigrad.hvp`, reverse over reverse; no :math:`n\times n`
  matrix), stopped at the residual :math:`\|r\| \le \eta_k\|\nabla f\|` with the forcing term
  :math:`\eta_k = \min(0.5, \|\nabla f(x_k)\|)` (quadratic convergence of the outer iteration).

Negative curvature (a Hessian that is not positive definite, away from a minimum) is handled and
reported: the dense solver replaces each eigenvalue by :math:`\max(|\lambda_i|, \delta)` with
:math:`\delta` = ``min_curvature`` :math:`\cdot\max(1, \max_i|\lambda_i|)` (the eigenvalue
modification of N&W section 3.4: a descent direction that still uses the curvature's size);
CG stops at the first direction :math:`p` with :math:`p^\top\nabla^2 f\,p \le 0` and returns the
iterate so far (or :math:`-\nabla f` if that happens at once), as N&W Algorithm 7.1. Every
iteration where it happened is listed in the result's ``negative_curvature``.

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
from minigrad.solvers import conjugate_gradient
from minigrad.tensor import Tensor, enable_grad, no_grad
from optimizers import _validate as V
from optimizers.base import Optimizer
from optimizers.armijo import armijo_backtracking
from optimizers.minimize import (STATUS_LINESEARCH, STATUS_MAXITER, STATUS_NONFINITE,
                                 STATUS_SUCCESS, OptimizeResult, as_vector)

__all__ = ["Newton", "minimize_newton", "newton_direction", "cg_newton_direction"]


# --------------------------------------------------------------------------- directions
def newton_direction(H, g, min_curvature: float = 1e-8):
    r"""The dense Newton direction :math:`d = -[\nabla^2 f]^{-1}\nabla f` through
    :math:`\nabla^2 f = Q\Lambda Q^\top`; eigenvalues below
    :math:`\delta = \texttt{min\_curvature}\cdot\max(1, \max|\lambda|)` are replaced by
    :math:`\max(|\lambda_i|, \delta)`. Returns ``(d, negative_curvature: bool, lambda_min)``."""
    xp = B.get_array_module(H)
    lam, Q = xp.linalg.eigh(H)  # H = Q diag(lambda) Q^T
    lam_min = float(lam[0])
    delta = min_curvature * max(1.0, float(xp.abs(lam).max()))
    negative = lam_min <= 0.0
    if lam_min < delta:  # not (safely) positive definite: modify the eigenvalues
        lam = xp.maximum(xp.abs(lam), delta)  # lambda_i <- max(|lambda_i|, delta)
    d = -(Q @ ((Q.T @ g) / lam))  # d = -Q Lambda^{-1} Q^T g
    return d, negative, lam_min


def cg_newton_direction(hessp, g, tol: float, max_iter: int):
    r"""Truncated conjugate gradients for :math:`\nabla^2 f\,d = -\nabla f` (N&W Algorithm 7.1):
    :func:`minigrad.solvers.conjugate_gradient` with :math:`b = -\nabla f`.

    ``hessp(v)`` returns :math:`\nabla^2 f\,v`. Stops when :math:`\|r_j\| \le` ``tol``, after
    ``max_iter`` products, or at negative curvature (:math:`p_j^\top\nabla^2 f p_j \le 0`: returns
    :math:`z_j`, or :math:`-\nabla f` when :math:`j = 0`). Returns ``(d, negative_curvature,
    n_products)``."""
    d, negative, n_products = conjugate_gradient(hessp, -g, tol, max_iter)
    if negative and n_products == 1:                      # at once: the steepest descent step
        d = -g
    return d, negative, n_products


# --------------------------------------------------------------------------- oracles
class _FunctionOracle:
    """f, its gradient, Hessian and Hessian-vector products of ``fun(x, *args)``, counted."""

    def __init__(self, fun, shape, jac, hess, hessp, args):
        self.fun, self.shape, self.args = fun, shape, tuple(args)
        self.jac, self.hess_fn, self.hessp_fn = jac, hess, hessp
        self.nfev = self.njev = self.nhev = 0

    def _f_tensor(self, t):
        out = self.fun(t.reshape(self.shape) if t.shape != self.shape else t, *self.args)
        if not isinstance(out, Tensor) or out.size != 1:
            raise ValueError("minimize(method='newton'): with jac=None, f must return a scalar "
                             "minigrad Tensor written with minigrad ops")
        return out.reshape(())

    def f(self, x) -> float:
        self.nfev += 1
        if self.jac is None:
            with no_grad():
                return float(self._f_tensor(Tensor(x)).item())
        out = self.fun(x.reshape(self.shape), *self.args)
        out = out[0] if self.jac is True else out
        return float(out.item() if hasattr(out, "item") else out)

    def fg(self, x):
        self.nfev += 1
        self.njev += 1
        xs = x.reshape(self.shape)
        if self.jac is None:
            value, g = value_and_grad(self._f_tensor)(x)
            return float(value.item() if hasattr(value, "item") else value), g.reshape(-1)
        if self.jac is True:
            value, g = self.fun(xs, *self.args)
        else:
            value, g = self.fun(xs, *self.args), self.jac(xs, *self.args)
        g = g.data if isinstance(g, Tensor) else g
        value = value.item() if hasattr(value, "item") else value
        return float(value), B.get_array_module(x).asarray(g, dtype=x.dtype).reshape(-1)

    def hess(self, x):
        self.nhev += 1
        if self.hess_fn is not None:
            H = self.hess_fn(x.reshape(self.shape), *self.args)
            return B.get_array_module(x).asarray(getattr(H, "data", H), dtype=x.dtype)
        return hessian(self._f_tensor, x)  # minigrad.hessian: n reverse passes

    def hvp(self, x, v):
        self.nhev += 1
        if self.hessp_fn is not None:
            Hv = self.hessp_fn(x.reshape(self.shape), v.reshape(self.shape), *self.args)
            return B.get_array_module(x).asarray(getattr(Hv, "data", Hv), dtype=x.dtype).reshape(-1)
        if self.hess_fn is not None:
            return self.hess(x) @ v
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


def minimize_newton(f, x0, jac=None, hess=None, hessp=None, args=(), callback=None,
                    line_search="armijo", solver="dense", gtol=1e-8, maxiter=100, lr=1.0,
                    c1=1e-4, rho=0.5, min_curvature=1e-8, max_backtracks=60, cg_tol=None,
                    cg_max_iter=None) -> OptimizeResult:
    r"""Newton's method on ``f(x, *args)`` from ``x0`` (a vector), SciPy-style.

    ``line_search="armijo"`` (damped Newton, default) or ``None`` (pure Newton, step ``lr``);
    ``solver="dense"`` (Hessian) or ``"cg"`` (Newton-CG, Hessian-vector products). Derivatives:
    with ``jac=None`` all come from minigrad (``f`` written with minigrad ops); with ``jac``
    (``True`` or a callable, SciPy's conventions) give ``hess(x)`` for the dense solver or
    ``hessp(x, v)`` (or ``hess``) for CG. Stops when :math:`\|\nabla f(x_k)\|_2 \le` ``gtol``.

    Result fields: SciPy's (``x, fun, jac, nit, nfev, njev, status, success, message``) plus
    ``nhev`` (Hessians or Hessian-vector products), ``negative_curvature`` (iterations where the
    Hessian was not positive definite) and ``alphas`` (the step of each iteration). ``status``
    (:class:`~optimizers.results.Status`): 0 converged, 1 ``maxiter`` reached, 2 the line search
    found no decrease, 3 non-finite values.
    """
    name = "minimize(method='newton')"
    opts = _check_options(name, lr, line_search, solver, c1, rho, min_curvature, max_backtracks,
                          cg_tol, cg_max_iter)
    gtol = V.real(name, "gtol", gtol, lo=0.0)
    maxiter = V.integer(name, "maxiter", maxiter, lo=0)
    shape = tuple(x0.shape) if B.is_array(x0) or isinstance(x0, Tensor) else None
    x = as_vector(x0, name)
    shape = shape if shape is not None and int(math.prod(shape)) == x.size else x.shape
    if jac is not None and hess is None and (solver == "dense" or hessp is None):
        raise ValueError(f"{name}: with jac given, pass hess= (solver='dense') or hessp= / hess= "
                         f"(solver='cg'); with jac=None minigrad gives all derivatives")
    oracle = _FunctionOracle(f, shape, jac, hess, hessp, args)
    xp = B.get_array_module(x)
    fx, g = oracle.fg(x)  # f(x_0), grad f(x_0)
    negative, alphas = [], []
    k = 0
    while True:
        if not (math.isfinite(fx) and bool(xp.all(xp.isfinite(g)))):
            status = STATUS_NONFINITE
            break
        if float(xp.linalg.norm(g)) <= gtol:  # ||grad f(x_k)|| <= gtol
            status = STATUS_SUCCESS
            break
        if k >= maxiter:
            status = STATUS_MAXITER
            break
        x, fx, g, st, alpha = _iterate(oracle, x, fx, g, k, opts, negative)  # x_{k+1}
        alphas.append(alpha)
        if st == STATUS_LINESEARCH:
            status = STATUS_LINESEARCH
            break
        k += 1
        if callback is not None:
            callback(x.reshape(shape))
    msg = _MESSAGES[status]
    if negative:
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
