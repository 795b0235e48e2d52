r"""The three forms an optimizer may take for :func:`theorems.check`, and the drivers that step
them.

* **An optimizer class, or a factory, with this project's API** (torch.optim's):
  ``opt = Cls(params, **hyperparameters)``, then per step ``opt.zero_grad()``, a loss,
  ``loss.backward()``, ``opt.step()``. A factory is any callable ``make(params, **hp)`` that
  returns such an optimizer. Methods that re-evaluate the loss (those that override
  ``Optimizer.step``: look-ahead, SAM, line searches, the vector methods) get a closure that
  recomputes the same loss (the same mini-batch) and its gradient; ``optimizers.Newton``,
  which differentiates its closure's loss itself (twice), gets the loss without
  ``backward()``, as its docstring asks.
* **A step function** ``x_next = step(x, grad, k)`` for code that does not use the API:
  ``x`` and ``grad`` are copies of backend arrays of the problem's shape (on a stochastic
  theorem, ``grad`` is the stochastic gradient of that run), ``k`` counts from 0, and the
  returned array is the next iterate. It carries its own step size: declare it to the check
  (``params={"lr": ...}``) so that the theorem can check it is admissible and evaluate its
  bound (without ``params`` the theorem's default parameters are assumed). A callable whose
  signature has exactly three required positional parameters is taken as a step function.
* **A solver**, :class:`Solver`: a SciPy-style function ``fn(fun, x0, callback=..., **options)``
  that runs its own loop and reports each iterate to ``callback(x_k)`` (``optimizers.minimize``
  with a method, ``optimizers.zero_order.zo_gd``): ``Solver(minimize, method="newton")``.
"""
from __future__ import annotations

import inspect

import minigrad as mg
from minigrad import backend as B
from optimizers.base import Optimizer
from optimizers.second_order.newton import Newton

__all__ = ["OptimizerForm", "Solver", "StepForm", "as_form"]


class Solver:
    """A SciPy-style solver with fixed options: ``Solver(fn, **options)`` calls
    ``fn(fun, x0, callback=cb, **options, **params)`` (``params``: the theorem's parameters,
    e.g. ``lr``, and ``maxiter`` / ``seed`` set by the check). ``fun`` is the problem's ``f``
    (a function of a Tensor, differentiable by the engine), or its value as a float with
    ``values_only=True`` (for zero-order solvers)."""

    kind = "solver"

    def __init__(self, fn, values_only: bool = False, **options):
        if not callable(fn):
            raise TypeError(f"Solver: fn must be callable; got {type(fn).__name__}")
        self.fn, self.values_only, self.options = fn, bool(values_only), dict(options)
        self.label = getattr(fn, "__name__", type(fn).__name__) + (
            f"({', '.join(f'{k}={v!r}' for k, v in options.items())})" if options else "")

    def solve(self, fun, x0, callback, **params):
        return self.fn(fun, x0, callback=callback, **{**self.options, **params})


class OptimizerForm:
    """An optimizer class or factory with the project's API (module docstring)."""

    kind = "optimizer"

    def __init__(self, factory):
        self.factory = factory
        self.label = getattr(factory, "__name__", type(factory).__name__)

    def build(self, tensors: list, params: dict):
        opt = self.factory(tensors, **params)
        for name in ("step", "zero_grad"):
            if not callable(getattr(opt, name, None)):
                raise TypeError(f"{self.label}: the optimizer it built has no {name}() "
                                f"method; a class or factory with the optimizer API is needed")
        return OptimizerDriver(opt)


class OptimizerDriver:
    """Steps one optimizer with the gradients already in ``.grad``. ``closure(backward=True)``
    recomputes the loss (and its gradient unless ``backward=False``); it is passed only to
    methods that override ``Optimizer.step``."""

    def __init__(self, opt):
        self.opt = opt
        self.uses_closure = not (isinstance(opt, Optimizer)
                                 and type(opt).step is Optimizer.step)
        self.loss_only = isinstance(opt, Newton)

    def step(self, tensors, k: int, closure):
        if not self.uses_closure:
            self.opt.step()
        elif self.loss_only:
            self.opt.step(lambda: closure(backward=False))
        else:
            self.opt.step(closure)


class StepForm:
    """A step function ``x_next = step(x, grad, k)`` (module docstring)."""

    kind = "step function"

    def __init__(self, fn):
        self.fn = fn
        self.label = getattr(fn, "__name__", type(fn).__name__)

    def build(self, tensors: list, params: dict):
        return StepDriver(self.fn, self.label)


class StepDriver:
    def __init__(self, fn, label: str):
        self.fn, self.label = fn, label

    def step(self, tensors, k: int, closure):
        for x in tensors:
            new = self.fn(x.data.copy(), x.grad.copy(), k)
            new = B.asarray(new.data if isinstance(new, mg.Tensor) else new,
                            dtype=x.data.dtype, backend=B.backend_name_of(x.data))
            if tuple(new.shape) != tuple(x.shape):
                raise ValueError(f"{self.label}: the step function returned shape "
                                 f"{tuple(new.shape)} for an iterate of shape {tuple(x.shape)}")
            x.data[...] = new


def _required_positional(fn) -> int | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in sig.parameters.values()
               if p.kind in kinds and p.default is inspect.Parameter.empty)


def as_form(optimizer):
    """The form of ``optimizer`` (module docstring): a :class:`Solver` as it is, an
    ``Optimizer`` subclass or a factory as :class:`OptimizerForm`, a callable with three
    required positional parameters as :class:`StepForm`."""
    if isinstance(optimizer, (Solver, OptimizerForm, StepForm)):
        return optimizer
    if isinstance(optimizer, type):
        if issubclass(optimizer, Optimizer):
            return OptimizerForm(optimizer)
        raise TypeError(f"check: {optimizer.__name__} is a class but not an optimizers."
                        f"Optimizer; pass an optimizer class, a factory make(params, **hp), a "
                        f"step function step(x, grad, k) or a theorems.Solver")
    if not callable(optimizer):
        raise TypeError(f"check: the optimizer must be an optimizer class, a factory, a step "
                        f"function step(x, grad, k) or a theorems.Solver; got "
                        f"{type(optimizer).__name__}")
    n = _required_positional(optimizer)
    if n == 3:
        return StepForm(optimizer)
    if n is not None and n >= 1:
        return OptimizerForm(optimizer)
    raise TypeError("check: a callable optimizer must be a step function step(x, grad, k) "
                    "(three required positional parameters) or a factory make(params, **hp)")
