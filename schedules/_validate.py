"""Parameter checks done once, at construction: a clear ``ValueError`` naming the parameter.

:class:`RefusesOptimizer` is the check every schedule's constructor runs first: torch's
schedulers wrap an optimizer (``CosineAnnealingLR(opt, T_max=200)``), the schedules here are
functions of the step handed to the optimizer as ``lr=``, so an optimizer among the arguments
gets a ``TypeError`` that says so (from the constructor, before its arguments are bound, and
from every failed check here, for the functions that build schedules).
"""
from __future__ import annotations

import inspect
import math
import numbers

__all__ = [
    "real", "nonnegative", "positive", "positive_int", "nonnegative_int", "in_interval",
    "one_of", "increasing", "RefusesOptimizer",
]


def _fail(owner: str, name: str, rule: str, value) -> None:
    if _is_optimizer(value):
        raise TypeError(f"{owner}: got an optimizer ({type(value).__name__}) as {name}; "
                        f"{_LR_HINT}")
    raise ValueError(f"{owner}: {name} must be {rule}, got {value!r}")


def real(owner: str, name: str, value) -> float:
    """A finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        _fail(owner, name, "a finite real number", value)
    return float(value)


def nonnegative(owner: str, name: str, value) -> float:
    v = real(owner, name, value)
    if v < 0:
        _fail(owner, name, ">= 0", value)
    return v


def positive(owner: str, name: str, value) -> float:
    v = real(owner, name, value)
    if v <= 0:
        _fail(owner, name, "> 0", value)
    return v


def _integer(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(owner, name, "an integer", value)
    return int(value)


def positive_int(owner: str, name: str, value) -> int:
    v = _integer(owner, name, value)
    if v <= 0:
        _fail(owner, name, "a positive integer", value)
    return v


def nonnegative_int(owner: str, name: str, value) -> int:
    v = _integer(owner, name, value)
    if v < 0:
        _fail(owner, name, "a non-negative integer", value)
    return v


def in_interval(owner: str, name: str, value, lo: float, hi: float, *,
                lo_open: bool = False, hi_open: bool = False) -> float:
    v = real(owner, name, value)
    bad = (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi)
    if bad:
        rule = f"in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
        _fail(owner, name, rule, value)
    return v


def one_of(owner: str, name: str, value, options) -> str:
    if value not in options:
        _fail(owner, name, "one of " + ", ".join(repr(o) for o in options), value)
    return value


def increasing(owner: str, name: str, values, *, strict: bool = True,
               minimum: float = 0.0, integer: bool = False) -> tuple:
    """A sequence of numbers >= minimum, (strictly) increasing."""
    try:
        vals = list(values)
    except TypeError:
        _fail(owner, name, "a sequence of numbers", values)
    out = []
    for i, v in enumerate(vals):
        x = _integer(owner, f"{name}[{i}]", v) if integer else real(owner, f"{name}[{i}]", v)
        if x < minimum:
            _fail(owner, f"{name}[{i}]", f">= {minimum}", v)
        if out and (x <= out[-1] if strict else x < out[-1]):
            _fail(owner, name, "strictly increasing" if strict else "non-decreasing", values)
        out.append(x)
    return tuple(out)


# --------------------------------------------------------------------------- torch's habit
_LR_HINT = ("schedules are not attached to an optimizer as in torch.optim.lr_scheduler: build "
            "the schedule from numbers and pass it to the optimizer as lr=, e.g. "
            "Adam(params, lr=CosineDecay(1e-3, 200)); the optimizer calls lr(t) at step t")


def _is_optimizer(value) -> bool:
    """An optimizer of this project or of torch: it has ``param_groups``, or ``step`` and
    ``zero_grad`` methods (the wrappers)."""
    if isinstance(value, (numbers.Number, str)):
        return False
    return hasattr(value, "param_groups") or (
        callable(getattr(value, "step", None)) and callable(getattr(value, "zero_grad", None)))


class RefusesOptimizer:
    """Base class whose ``__new__`` looks at the constructor's arguments before ``__init__``
    binds them, so that ``CosineDecay(opt, T_max=200)`` is answered with the ``lr=`` form
    rather than with an unknown keyword or a failed number check."""

    def __new__(cls, *args, **kwargs):
        for value in (*args, *kwargs.values()):
            if _is_optimizer(value):
                try:
                    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
                    shown = (str(p.replace(annotation=p.empty)) for p in params)
                    expected = f"{cls.__name__}({', '.join(shown)})"
                except (TypeError, ValueError):  # pragma: no cover - a builtin __init__
                    expected = cls.__name__
                raise TypeError(f"{cls.__name__}: got an optimizer ({type(value).__name__}) as "
                                f"an argument; {_LR_HINT}. Expected {expected}")
        return super().__new__(cls)
