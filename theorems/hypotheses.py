r"""The hypotheses the theorems share, each a function of an
:class:`~theorems.instance.Instance` (or of parameters) returning the failure messages (an
empty list: the hypothesis holds). The problem classes state their constants
(``problems.Problem``: ``mu``, ``mu_kind``, ``L``, ``convex``, ``x_star``, ``f_star``); these
functions read them and say in words what is missing.
"""
from __future__ import annotations

import math

from problems import FiniteSumProblem, LeastSquares, LogisticRegression, Quadratic

__all__ = ["convex", "finite_sum", "known_minimiser", "known_minimum", "linear_model",
           "quadratic", "smooth", "step_in", "step_equals", "strongly_convex"]

#: relative tolerance on a step size that must equal a value (the rounding of 1/L and the like)
STEP_RTOL = 1e-12


def _name(inst) -> str:
    return type(inst.problem).__name__


def smooth(inst) -> list:
    L = inst.L
    if L is None or not math.isfinite(L) or L <= 0:
        return [f"f must be L-smooth with a known L > 0: {_name(inst)} has L = {L!r}"]
    return []


def convex(inst) -> list:
    if not getattr(inst.problem, "convex", False):
        return [f"f must be convex: {_name(inst)} is not (problem.convex is False)"]
    return []


def strongly_convex(inst) -> list:
    kind = getattr(inst.problem, "mu_kind", None)
    if kind != "strongly convex" or inst.mu is None or not inst.mu > 0:
        return [f"f must be mu-strongly convex with mu > 0: {_name(inst)} has mu = {inst.mu!r}"
                f" (mu_kind {kind!r})"]
    return convex(inst)


def known_minimiser(inst) -> list:
    if inst.x_star is None:
        return [f"a minimiser x* must be known: {_name(inst)} has none"]
    return []


def known_minimum(inst) -> list:
    if inst.f_star is None or not math.isfinite(inst.f_star):
        return [f"the minimum f* (a lower bound of f) must be known: {_name(inst)} has "
                f"f* = {inst.f_star!r}"]
    return []


def quadratic(inst) -> list:
    if not isinstance(inst.problem, Quadratic):
        return [f"f must be a quadratic (problems.Quadratic): got {_name(inst)}"]
    return []


def finite_sum(inst) -> list:
    if not isinstance(inst.problem, FiniteSumProblem):
        return [f"f must be a finite sum (problems.FiniteSumProblem): got {_name(inst)}"]
    return []


def linear_model(inst) -> list:
    if not isinstance(inst.problem, (LogisticRegression, LeastSquares)):
        return [f"f must be a logistic regression or a least squares problem: got "
                f"{_name(inst)}"]
    return []


def step_in(params: dict, key: str, lo: float, hi: float, text: str, hi_open=False) -> list:
    """``params[key]`` in ``(lo, hi]`` (or ``(lo, hi)``), ``hi`` with a relative rounding
    tolerance when closed; ``text`` names the range in the theorem's words."""
    v = params.get(key)
    if v is None:
        return [f"the parameter {key} must be given ({text})"]
    if callable(v):
        return [f"{key} must be a number ({text}); got a schedule"]
    v = float(v)
    ok = v > lo and (v < hi if hi_open else v <= hi * (1 + STEP_RTOL))
    return [] if ok else [f"{key} = {v:.6g} is outside the admissible range {text}"]


def step_equals(params: dict, key: str, value: float, text: str) -> list:
    v = params.get(key)
    if v is None or callable(v) or abs(float(v) - value) > STEP_RTOL * abs(value):
        return [f"{key} must be {text} = {value:.6g}; got {v!r}"]
    return []
