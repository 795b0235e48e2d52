"""The schedule protocol: a pure, vectorised function of the 0-based step count.

``sched(t)`` with ``t`` the number of optimizer steps already taken (the first step uses
``sched(0)``, as in torch's schedulers and optax) returns

- a Python ``float`` when ``t`` is an ``int``/``float`` (or a NumPy scalar);
- an array of ``t``'s shape, in ``t``'s own array library, when ``t`` is an array (NumPy or
  CuPy): ``sched(np.arange(1000))`` draws the whole curve in one call.

A list is refused with a ``TypeError`` (use ``np.asarray``); a negative step with a
``ValueError``. Parameters are checked once, when the schedule is built.

Optimizers accept any callable of the step as ``lr``; this base class is what the schedules of
this package share, not a requirement. A schedule that also drives the momentum (1cycle, and
:class:`~schedules.cyclical.CyclicalLR` with ``cycle_momentum=True``) carries it as an
attribute ``momentum``, itself a :class:`Schedule`; optimizers with a momentum / ``beta1``
hyperparameter read ``getattr(lr, "momentum", None)`` and, when it is not ``None``, use
``lr.momentum(t)`` at step ``t``. Schedules without a momentum cycle have no such attribute.
"""
from __future__ import annotations

import inspect
import math

from ._math import as_steps, finish
from ._validate import RefusesOptimizer

__all__ = ["Schedule", "as_schedule"]


class Schedule(RefusesOptimizer):
    """Base class: subclasses write their formula once in ``_eval(t, m)``.

    ``t`` is a float or a float64 array (already checked: finite, >= 0) and ``m`` the formula
    namespace of :mod:`schedules._math` (``m.cos``, ``m.where``, ``m.minimum``, ...).
    An optimizer among the constructor's arguments (torch's scheduler habit) raises a
    ``TypeError`` pointing to the ``lr=`` form (:class:`~schedules._validate.RefusesOptimizer`).
    ``bounds`` is the closed interval the schedule's values are stated to lie in.
    """

    def __call__(self, t):
        t, m = as_steps(t)
        return finish(self._eval(t, m), t, m)

    def _eval(self, t, m):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)``: every value of the schedule lies in ``[lo, hi]``."""
        return (-math.inf, math.inf)

    # ``sched * 0.5`` and ``0.5 * sched`` scale the schedule (see schedules.compose.scale).
    def __mul__(self, factor):
        from .compose import scale

        if isinstance(factor, Schedule):
            return NotImplemented
        return scale(self, factor)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        params = []
        for name, p in inspect.signature(type(self).__init__).parameters.items():
            if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if hasattr(self, name):
                params.append(f"{name}={getattr(self, name)!r}")
        return f"{type(self).__name__}({', '.join(params)})"


class _Formula(Schedule):
    """A schedule given by a formula ``fn(t, m)`` and its bounds; used for derived curves such
    as the momentum cycle of 1cycle and of the cyclical schedule."""

    def __init__(self, fn, bounds: tuple[float, float], label: str):
        self._fn = fn
        self._bounds = (float(bounds[0]), float(bounds[1]))
        self._label = label

    def _eval(self, t, m):
        return self._fn(t, m)

    @property
    def bounds(self):
        return self._bounds

    def __repr__(self) -> str:
        return self._label


class _Callable(Schedule):
    """A plain callable of the step, wrapped as a Schedule: called with a float for a scalar
    step and with the float64 array of steps for an array (it must then be vectorised)."""

    def __init__(self, fn):
        self.fn = fn

    def _eval(self, t, m):
        return self.fn(t)


def as_schedule(value) -> Schedule:
    """A Schedule from a Schedule (unchanged), a number (constant) or a plain callable."""
    if isinstance(value, Schedule):
        return value
    if callable(value):
        return _Callable(value)
    from .decay import Constant

    try:
        return Constant(value)
    except ValueError as exc:
        raise ValueError(f"expected a Schedule, a callable of the step or a number >= 0: {exc}")
