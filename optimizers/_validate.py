"""Checks of hyperparameters, run when an optimizer (or a parameter group) is built.

Each check returns the value normalised to a plain Python type (``float``, ``int``, ``bool``,
``str``): hyperparameters must be Python numbers so that a float32 parameter stays float32
(NumPy 2 promotes ``float32_array * numpy.float64(0.9)`` to float64, but not
``float32_array * 0.9``). An invalid value raises ``ValueError`` naming the optimizer, the
hyperparameter and the value.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["real", "learning_rate", "betas", "flag", "choice", "integer", "scheduled"]


def _fail(owner: str, name: str, value, requirement: str):
    raise ValueError(f"{owner}: invalid {name}={value!r}; {requirement}")


def _as_float(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail(owner, name, value, "expected a real number")
    x = float(value)
    if math.isnan(x):
        _fail(owner, name, value, "expected a real number, not NaN")
    return x


def real(owner: str, name: str, value, lo: float | None = None, hi: float | None = None,
         lo_open: bool = False, hi_open: bool = False, finite: bool = True) -> float:
    """A real number in the interval given by ``lo``/``hi`` (closed unless ``*_open``)."""
    x = _as_float(owner, name, value)
    left = "-inf" if lo is None else f"{lo!r}"
    right = "inf" if hi is None else f"{hi!r}"
    opening = "(" if lo_open or lo is None else "["
    closing = ")" if hi_open or hi is None else "]"
    interval = f"{opening}{left}, {right}{closing}"
    if finite and math.isinf(x):
        _fail(owner, name, value, f"expected a finite number in {interval}")
    if lo is not None and (x < lo or (lo_open and x == lo)):
        _fail(owner, name, value, f"expected a number in {interval}")
    if hi is not None and (x > hi or (hi_open and x == hi)):
        _fail(owner, name, value, f"expected a number in {interval}")
    return x


def learning_rate(owner: str, value, name: str = "lr"):
    """A learning rate: a number >= 0, or a schedule (any callable of the step count)."""
    if callable(value):
        return value
    return real(owner, name, value, lo=0.0)


def betas(owner: str, value, name: str = "betas") -> tuple[float, float]:
    """``(beta1, beta2)``, each in [0, 1)."""
    try:
        b1, b2 = value
    except (TypeError, ValueError):
        _fail(owner, name, value, "expected a pair (beta1, beta2)")
    return (real(owner, f"{name}[0]", b1, lo=0.0, hi=1.0, hi_open=True),
            real(owner, f"{name}[1]", b2, lo=0.0, hi=1.0, hi_open=True))


def flag(owner: str, name: str, value) -> bool:
    """A boolean (True/False only)."""
    if not isinstance(value, bool):
        _fail(owner, name, value, "expected True or False")
    return value


def choice(owner: str, name: str, value, choices) -> str:
    """One of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        _fail(owner, name, value, f"expected one of {tuple(choices)}")
    return value


def integer(owner: str, name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """An integer in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(owner, name, value, "expected an integer")
    n = int(value)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        _fail(owner, name, value, f"expected an integer in [{lo}, {'inf' if hi is None else hi}]")
    return n


def scheduled(owner: str, name: str, schedule, t: int, lo: float = 0.0,
              hi: float | None = None, hi_open: bool = False) -> float:
    """The value ``schedule(t)`` of a schedule, checked like a constant would be."""
    try:
        value = schedule(t)
    except Exception as exc:  # noqa: BLE001 - re-raised with context
        raise ValueError(f"{owner}: the schedule given as {name} failed at step {t}: "
                         f"{exc}") from exc
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:
        value = value.item()
    return real(owner, f"{name}({t})", value, lo=lo, hi=hi, hi_open=hi_open)
