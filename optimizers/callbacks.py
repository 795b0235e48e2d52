r"""The per-iteration callback of the solvers of :func:`optimizers.minimize.minimize`, called as
SciPy calls it.

SciPy (``scipy.optimize.minimize``, 1.11 and later) supports two forms and tells them apart by
the name of the callback's parameter:

* ``callback(intermediate_result)``, a callable whose only parameter is named
  ``intermediate_result``: it receives an :class:`~optimizers.results.OptimizeResult` with the
  iterate ``x`` and its value ``fun`` (and method-specific fields: CMA-ES adds ``xmean`` and
  ``sigma``);
* ``callback(xk)`` (any other signature, the legacy form): it receives the iterate alone.

Both receive a copy of the iterate (a backend array of ``x0``'s shape), so that keeping it is
safe. :class:`IterationCallback` also records the iterates for ``return_all`` (SciPy's
``allvecs``: the start and every iterate).

A callback of either form that raises ``StopIteration`` stops the run, as in SciPy: the solver
returns the iterate the callback was shown, with status 99
(:data:`~optimizers.results.CALLBACK_STOP`), ``success=False`` and SciPy's message
"`callback` raised `StopIteration`." (:data:`STOP_MESSAGE`). Any other exception propagates.
"""
from __future__ import annotations

import inspect

from minigrad import backend as B
from optimizers.results import CALLBACK_STOP, CALLBACK_STOP_MESSAGE, OptimizeResult

__all__ = ["IterationCallback", "as_iteration_callback", "STATUS_CALLBACK", "STOP_MESSAGE"]

#: the status and message of a run that its callback stopped (SciPy's)
STATUS_CALLBACK, STOP_MESSAGE = CALLBACK_STOP, CALLBACK_STOP_MESSAGE


def _wants_result(callback) -> bool:
    """True when the callable's only parameter is named ``intermediate_result`` (SciPy's rule)."""
    try:
        params = inspect.signature(callback).parameters
    except (TypeError, ValueError):          # a builtin without a signature: the legacy form
        return False
    return set(params) == {"intermediate_result"}


class IterationCallback:
    """``notify(x, fun, **fields)`` after each iteration: calls the user's ``callback`` in its
    form (module docstring) and, with ``record=True``, keeps a copy of every iterate in
    ``allvecs`` (:meth:`start` records the start point). The call returns True when the
    callback raised ``StopIteration`` (the solver then stops with :data:`STATUS_CALLBACK`;
    ``stop_iteration`` records it), else False."""

    def __init__(self, callback=None, record: bool = False):
        if callback is not None and not callable(callback):
            raise TypeError(f"minimize: callback must be callable or None; got "
                            f"{type(callback).__name__}")
        self.callback = callback
        self.wants_result = callback is not None and _wants_result(callback)
        self.allvecs = [] if record else None
        self.stop_iteration = False

    @staticmethod
    def _copy(x):
        return B.get_array_module(x).array(x, copy=True)

    def start(self, x0) -> None:
        if self.allvecs is not None:
            self.allvecs.append(self._copy(x0))

    def __call__(self, x, fun, **fields) -> bool:
        if self.allvecs is not None:
            self.allvecs.append(self._copy(x))
        if self.callback is None:
            return False
        try:
            if self.wants_result:
                self.callback(intermediate_result=OptimizeResult(x=self._copy(x), fun=fun,
                                                                 **fields))
            else:
                self.callback(self._copy(x))
        except StopIteration:
            self.stop_iteration = True
            return True
        return False


def as_iteration_callback(callback):
    """``callback`` as an :class:`IterationCallback` (unchanged when it is one already), or None
    when there is none."""
    if callback is None or isinstance(callback, IterationCallback):
        return callback
    return IterationCallback(callback)
