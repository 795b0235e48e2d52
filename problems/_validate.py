"""Argument checks shared by the problems: each error is a ValueError that names the problem,
the parameter and the value it got."""
from __future__ import annotations

import math
import numbers

__all__ = ["positive", "nonnegative", "positive_int", "check_mu_L", "check_choice", "finite"]


def finite(owner: str, name: str, value) -> float:
    """``value`` as a float; a ValueError when it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{owner}: {name} must be a real number; got {name}={value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite; got {name}={value!r}")
    return value


def positive(owner: str, name: str, value) -> float:
    """``value`` as a float; a ValueError unless it is finite and > 0."""
    value = finite(owner, name, value)
    if value <= 0:
        raise ValueError(f"{owner}: {name} must be > 0; got {name}={value!r}")
    return value


def nonnegative(owner: str, name: str, value) -> float:
    """``value`` as a float; a ValueError unless it is finite and >= 0."""
    value = finite(owner, name, value)
    if value < 0:
        raise ValueError(f"{owner}: {name} must be >= 0; got {name}={value!r}")
    return value


def positive_int(owner: str, name: str, value, minimum: int = 1) -> int:
    """``value`` as an int; a ValueError unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{owner}: {name} must be an integer; got {name}={value!r}")
    if value < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}; got {name}={value!r}")
    return int(value)


def check_mu_L(owner: str, mu, L, allow_zero_mu: bool = True) -> tuple[float, float]:
    """``(mu, L)`` as floats with ``0 <= mu <= L`` (``0 < mu`` unless ``allow_zero_mu``)."""
    mu = nonnegative(owner, "mu", mu) if allow_zero_mu else positive(owner, "mu", mu)
    L = positive(owner, "L", L)
    if mu > L:
        raise ValueError(f"{owner}: mu must not exceed L; got mu={mu!r} > L={L!r}")
    return mu, L


def check_choice(owner: str, name: str, value, choices) -> str:
    """``value`` unchanged; a ValueError unless it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {sorted(choices)}; got {name}={value!r}")
    return value
