r"""``minimize(f, x0, method=...)``: the SciPy-style entry point to the second- and zero-order
methods (docs/lectures.md sections 5 and 7).

>>> import minigrad as mg
>>> def rosen(x):
...     return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()
>>> res = minimize(rosen, [-1.2, 1.0], method="bfgs")
>>> res.success, res.nit <= 40
(True, True)

What ``f`` receives (as SciPy gives it, wherever SciPy gives it an array):

* the value-only methods (``"nelder-mead"``, ``"cma-es"``, ``"one-plus-one"``, ``"ga"``,
  ``"zo-gd"``) and the gradient methods with ``jac=True`` or a callable ``jac`` call ``f`` with
  a backend array of ``x0``'s shape (NumPy, CuPy or strict): an objective written with NumPy
  (``float(np.sum(x ** 2))``) works there, and so does one written with minigrad ops (its
  Tensor result is read as a number);
* the gradient methods with ``jac=None`` call ``f`` with a minigrad Tensor: minigrad
  differentiates it, so it must be written with minigrad ops (``jac=True`` means ``f`` returns
  ``(value, gradient)``; a callable ``jac`` returns the gradient). A gradient, Hessian or
  Hessian-vector product of the wrong shape is a ``ValueError`` that names its shape.

Methods (case-insensitive; SciPy's spellings are accepted where they exist):

* ``"bfgs"``: :func:`optimizers.second_order.bfgs.bfgs` (gtol, ftol, maxiter, H0, c1, c2,
  skip_eps, initial_step);
* ``"l-bfgs"`` (also ``"lbfgs"``, ``"L-BFGS-B"``): :func:`optimizers.second_order.lbfgs.lbfgs`
  (m, gtol, ftol, maxiter, H0, c1, c2, skip_eps, initial_step);
* ``"newton"``: :func:`optimizers.second_order.newton.minimize_newton`, the lecture's damped
  Newton (line_search, solver, modification, gtol, gtol_rel, xtol, ftol, maxiter, ...;
  ``line_search="strong_wolfe"`` is its robust form);
* ``"newton-cg"`` (also ``"Newton-CG"``): :func:`optimizers.second_order.newton_cg.
  minimize_newton_cg`, Newton-CG as N&W Algorithm 7.1 and SciPy run it;
* ``"trust-ncg"``: :func:`optimizers.second_order.trust_ncg.minimize_trust_ncg`, the
  trust-region Newton-CG of N&W Algorithms 4.1 and 7.2, as SciPy's ``"trust-ncg"``
  (initial_trust_radius, max_trust_radius, eta, gtol, gtol_rel, xtol, ftol, maxiter);
* ``"zo-gd"``: :func:`optimizers.zero_order.zo_gd.zo_gd` (lr, tau, estimator, maxiter, seed,
  ftarget);
* ``"nelder-mead"``: :func:`optimizers.zero_order.nelder_mead.nelder_mead` (xatol, fatol,
  adaptive, maxiter, maxfev);
* ``"cma-es"``: :func:`optimizers.zero_order.cmaes.cmaes` (sigma0, popsize, maxfev, ftarget,
  seed, active, ...);
* ``"one-plus-one"``: :func:`optimizers.zero_order.evolution.one_plus_one_es` (sigma0, maxfev,
  ftarget, seed);
* ``"ga"``: :func:`optimizers.zero_order.genetic.genetic_algorithm` (popsize, maxgen, maxfev,
  ftarget, seed, ...).

The result (:class:`OptimizeResult`) has SciPy's fields ``x, fun, jac, nit, nfev, njev, nhev,
status, success, message`` (``jac`` None and ``njev = nhev = 0`` for the value-only methods;
``hess_inv`` for BFGS, an operator for L-BFGS; ``allvecs`` with ``return_all=True``) and
method-specific extras such as ``nskip``.

SciPy's option names are accepted: ``maxcor`` (L-BFGS's memory ``m``), ``maxfun``
(``maxfev``) for the value-only methods, ``gtol`` (on the largest entry of the gradient for
BFGS and L-BFGS, as SciPy's BFGS, and on its 2-norm for Newton and Newton-CG),
``xatol``/``fatol`` (Nelder–Mead), ``disp`` (print the outcome) and ``return_all`` (the iterates in ``allvecs``, the start
first) for every method. An unknown option is a ``ValueError`` that lists the method's
options; ``bounds`` and ``constraints`` are refused (every method is unconstrained); an
exception raised by ``f`` (or by ``callback``) propagates unchanged, with its traceback.

``callback`` is called after each iteration as SciPy calls it (:mod:`optimizers.callbacks`):
``callback(intermediate_result)`` when its only parameter has that name (an
:class:`OptimizeResult` with ``x`` and ``fun``), else ``callback(xk)``; both get a copy of the
iterate, and either may raise ``StopIteration`` to end the run there (status 99).

Counting conventions
--------------------
* ``nfev`` counts evaluations of f and ``njev`` evaluations of its gradient. With minigrad
  (``jac=None``) or ``jac=True``, one call gives both (a forward and a backward pass), so each
  such call adds one to both counts; evaluations of f alone (zero-order methods, Armijo trials)
  add to ``nfev`` only. With a separate ``jac`` callable the two are counted apart.
* The evaluation at ``x0`` counts. Every evaluation counts, including those a line search makes
  at trial steps it then rejects.
* ``nit`` counts iterations: accepted steps for BFGS/L-BFGS/Newton/ZO-GD, simplex iterations for
  Nelder-Mead (as SciPy), generations for CMA-ES and the GA, trials for the (1+1)-ES.
* ``status``: a code of :class:`optimizers.results.Status`, the table shared with the line
  searches (SciPy's numbering): 0 success; 1 iteration or evaluation budget spent; 2 the line
  search failed or could make no more progress (usually rounding at the solution); 3 a
  non-finite value was met (f, its gradient, Hessian or Newton direction at an iterate; for the
  value-only methods any evaluation), reported the same way by every method and never claimed
  as success; 99 the callback raised ``StopIteration`` (SciPy's code and message, "`callback`
  raised `StopIteration`."): the run ends at the iterate the callback was shown, never as
  success.
"""
from __future__ import annotations

import importlib
import inspect
import math
import numbers

from minigrad import backend as B
from minigrad.tensor import Tensor
from optimizers.callbacks import IterationCallback
from optimizers.results import OptimizeResult, Status

__all__ = ["OptimizeResult", "Status", "minimize", "METHODS", "as_vector"]

# the codes of optimizers.results.Status under the names the solvers use
STATUS_SUCCESS, STATUS_MAXITER = int(Status.SUCCESS), int(Status.MAXITER)
STATUS_LINESEARCH, STATUS_NONFINITE = int(Status.LINE_SEARCH), int(Status.NONFINITE)


def as_vector(x0, name: str = "minimize"):
    """``x0`` as a fresh flat floating-point backend array (a copy), checked.

    ``x0`` may be a list, a number, a NumPy/CuPy array or a minigrad Tensor; it must have one
    dimension (a number is taken as a vector of one entry), as SciPy requires, and at least one
    entry. Integer input becomes float64.
    """
    if isinstance(x0, Tensor):
        x0 = x0.data
    if isinstance(x0, (str, bytes)) or x0 is None:
        raise TypeError(f"{name}: x0 must be a vector of numbers; got {x0!r}")
    try:
        x = B.asarray(x0) if not B.is_array(x0) else x0
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: x0 must be a vector of numbers; got {x0!r} ({exc})") from None
    xp = B.get_array_module(x)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{name}: x0 must hold real numbers; got dtype {x.dtype}")
    x = xp.array(x, dtype=x.dtype if x.dtype.kind == "f" else float, copy=True)
    if x.ndim == 0:
        x = x.reshape(1)
    if x.ndim != 1:
        raise ValueError(f"{name}: x0 must be one-dimensional (a vector of shape (n,)), as in "
                         f"SciPy; got shape {tuple(x.shape)}. Flatten it and reshape inside f.")
    if x.size == 0:
        raise ValueError(f"{name}: x0 is empty")
    return x


# method name -> (module, function); the modules are imported on first use, so that they may
# import this module (for OptimizeResult) without a cycle
METHODS = {
    "bfgs": ("optimizers.second_order.bfgs", "bfgs"),
    "l-bfgs": ("optimizers.second_order.lbfgs", "lbfgs"),
    "newton": ("optimizers.second_order.newton", "minimize_newton"),
    "newton-cg": ("optimizers.second_order.newton_cg", "minimize_newton_cg"),
    "trust-ncg": ("optimizers.second_order.trust_ncg", "minimize_trust_ncg"),
    "zo-gd": ("optimizers.zero_order.zo_gd", "zo_gd"),
    "nelder-mead": ("optimizers.zero_order.nelder_mead", "nelder_mead"),
    "cma-es": ("optimizers.zero_order.cmaes", "cmaes"),
    "one-plus-one": ("optimizers.zero_order.evolution", "one_plus_one_es"),
    "ga": ("optimizers.zero_order.genetic", "genetic_algorithm"),
}
ALIASES = {
    "lbfgs": "l-bfgs", "l-bfgs-b": "l-bfgs", "l_bfgs": "l-bfgs", "zogd": "zo-gd",
    "zo_gd": "zo-gd", "zero-order-gd": "zo-gd", "neldermead": "nelder-mead",
    "nelder_mead": "nelder-mead", "nm": "nelder-mead", "cmaes": "cma-es", "cma_es": "cma-es",
    "cma": "cma-es", "(1+1)-es": "one-plus-one", "1+1-es": "one-plus-one",
    "one_plus_one": "one-plus-one", "genetic": "ga", "genetic-algorithm": "ga",
    "newton-damped": "newton", "damped-newton": "newton", "newton_cg": "newton-cg",
    "newtoncg": "newton-cg", "trust_ncg": "trust-ncg", "trustncg": "trust-ncg",
}
GRADIENT_FREE = {"zo-gd", "nelder-mead", "cma-es", "one-plus-one", "ga"}


def _resolve(method) -> str:
    if not isinstance(method, str):
        raise TypeError(f"minimize: method must be a string; got {type(method).__name__}")
    key = method.strip().lower()
    key = ALIASES.get(key, key)
    if key not in METHODS:
        raise ValueError(f"minimize: unknown method {method!r}; known methods: "
                         f"{sorted(METHODS)} (aliases: {sorted(ALIASES)})")
    return key


#: SciPy's option names, as this project's solvers call them (per method)
SCIPY_OPTIONS = {"l-bfgs": {"maxcor": "m"},
                 **{k: {"maxfun": "maxfev"} for k in ("nelder-mead", "cma-es", "one-plus-one",
                                                      "ga")}}


def _options(key: str, solver, opts: dict) -> dict:
    """``opts`` with SciPy's names translated, checked against the solver's signature: an
    unknown option is a ``ValueError`` that lists the known ones (never a TypeError from inside
    the run, which would hide an error of f itself)."""
    for scipy_name, ours in SCIPY_OPTIONS.get(key, {}).items():
        if scipy_name in opts:
            if ours in opts:
                raise ValueError(f"minimize: {scipy_name!r} and {ours!r} name the same option "
                                 f"of {key!r}; give one")
            opts[ours] = opts.pop(scipy_name)
    params = inspect.signature(solver).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return opts  # the solver takes any keyword: it checks them itself
    known = [n for n in params if n not in ("fun", "f", "x0", "args")]
    unknown = sorted(set(opts) - set(known))
    if unknown:
        raise ValueError(f"minimize: method {key!r} got unknown option(s) {unknown}; its options: "
                         f"{sorted(set(known) - {'jac', 'callback'})}")
    return opts


class _Watched:
    """``f`` watched for non-finite values (the value-only methods): the objective
    (:class:`optimizers.objective.Objective`) shows it each value it read (``see``), so nothing
    is read twice; ``first`` is the evaluation that gave the first non-finite value, or None."""

    def __init__(self, f):
        self.f, self.seen, self.first = f, 0, None

    def __call__(self, x, *args):
        return self.f(x, *args)

    def see(self, value: float) -> None:
        self.seen += 1
        if self.first is None and not math.isfinite(value):
            self.first = self.seen


def minimize(f, x0, method: str = "bfgs", jac=None, args=(), callback=None, options=None,
             bounds=None, constraints=(), **kwargs) -> OptimizeResult:
    r"""Minimise the scalar function ``f`` from ``x0`` with ``method`` (see the module docstring).

    ``f(x, *args)`` returns a scalar (a one-element minigrad Tensor or array, or a number); with
    ``jac=None`` gradient methods differentiate it with minigrad (``x`` is then a Tensor; a
    backend array otherwise: the module docstring). Options are keyword arguments or a dict
    ``options`` (SciPy's style and names, module docstring); ``callback`` is called after each
    iteration, in SciPy's two forms; ``disp=True`` prints the outcome; ``return_all=True`` adds
    the iterates (``allvecs``). ``bounds`` and ``constraints`` are not supported (every method
    here is unconstrained) and are refused. An exception raised by ``f`` propagates unchanged.

    A value-only method that meets a non-finite value of ``f`` (NaN or an infinity) ends with
    status 3 (:attr:`Status.NONFINITE`), never with success, whatever it did next: a barrier
    that returns ``inf`` outside a domain is reported so too; return a large finite value there
    instead.

    Raises ``ValueError`` for an unknown method or option, an ``x0`` that is not a vector, or an
    ``f`` that does not return a scalar.
    """
    key = _resolve(method)
    no_constraints = constraints is None or (
        isinstance(constraints, (tuple, list, dict)) and len(constraints) == 0)
    if bounds is not None or not no_constraints:
        what = "bounds" if bounds is not None else "constraints"
        raise ValueError(f"minimize: {what} are not supported: every method here, {key!r} "
                         f"included, is unconstrained (SciPy's L-BFGS-B bounds, SLSQP and "
                         f"trust-constr constraints have no counterpart in this project)")
    opts = dict(options or {})
    clash = set(opts) & set(kwargs)
    if clash:
        raise ValueError(f"minimize: options given twice (in options= and as keywords): "
                         f"{sorted(clash)}")
    opts.update(kwargs)
    disp = bool(opts.pop("disp", False))  # SciPy's printing switch: the outcome, printed
    return_all = bool(opts.pop("return_all", False))  # SciPy's allvecs: every iterate
    if key in GRADIENT_FREE and jac is not None:
        raise ValueError(f"minimize: method {key!r} uses function values only; jac must be "
                         f"None")
    x = as_vector(x0)
    module, fname = METHODS[key]
    solver = getattr(importlib.import_module(module), fname)
    if key not in GRADIENT_FREE:
        opts["jac"] = jac
    notify = None
    if callback is not None or return_all:
        notify = IterationCallback(callback, record=return_all)
        notify.start(x)
        opts["callback"] = notify
    opts = _options(key, solver, opts)
    watched = _Watched(f) if key in GRADIENT_FREE and callable(f) else None
    res = solver(watched or f, x, args=args, **opts)
    if watched is not None and watched.first is not None and res.status != STATUS_NONFINITE:
        res.message = (f"a non-finite value of f was met (first at evaluation {watched.first}); "
                       f"the method went on and stopped with: {res.message}")
        res.status, res.success = STATUS_NONFINITE, False
    res.setdefault("nhev", 0)
    if return_all:
        res["allvecs"] = notify.allvecs
    if disp:
        print(_report(key, res))
    return res


def _report(key: str, res) -> str:
    """What ``disp=True`` prints (SciPy's summary of a run)."""
    lines = [("" if res.success else "Warning: ") + str(res.message),
             f"         Current function value: {res.fun!r}",
             f"         Iterations: {res.nit}",
             f"         Function evaluations: {res.nfev}"]
    if key not in GRADIENT_FREE:
        lines.append(f"         Gradient evaluations: {res.njev}")
    if res.get("nhev"):
        lines.append(f"         Hessian evaluations: {res.nhev}")
    return "\n".join(lines)


def _check_real(name, key, value, lo=None, lo_open=False):
    """A positive/real option as a float (used by the solvers)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: {key} must be a real number; got {value!r}")
    v = float(value)
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{name}: {key} must be {'>' if lo_open else '>='} {lo}; got {value!r}")
    return v
