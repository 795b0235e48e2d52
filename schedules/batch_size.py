r"""Batch-size scaling rules for the learning rate (L1, "Linear and square root scaling rules").

- Linear (Goyal et al. 2017, for SGD): :math:`\alpha_{new}=\alpha_{base}\,B_{new}/B_{base}`.
- Square root (Granziol et al. 2022, "Learning rates as a function of batch size"; for adaptive
  methods such as Adam, RMSProp): :math:`\alpha_{new}=\alpha_{base}\sqrt{B_{new}/B_{base}}`.

``alpha_base`` may be a number (a number is returned) or a schedule (the scaled schedule is
returned, :class:`schedules.compose.Scaled`).
"""
from __future__ import annotations

import math

from . import _validate as v
from .base import Schedule

__all__ = ["linear_scaling", "sqrt_scaling"]


def _apply(name: str, alpha_base, factor: float):
    if isinstance(alpha_base, Schedule):
        from .compose import scale

        return scale(alpha_base, factor)
    return v.nonnegative(name, "alpha_base", alpha_base) * factor


def linear_scaling(alpha_base, B_base: float, B_new: float):
    r"""Linear scaling rule: :math:`\alpha_{new} = \alpha_{base}\,\dfrac{B_{new}}{B_{base}}`."""
    b0 = v.positive("linear_scaling", "B_base", B_base)
    b1 = v.positive("linear_scaling", "B_new", B_new)
    return _apply("linear_scaling", alpha_base, b1 / b0)


def sqrt_scaling(alpha_base, B_base: float, B_new: float):
    r"""Square-root scaling rule: :math:`\alpha_{new} = \alpha_{base}\sqrt{B_{new}/B_{base}}`."""
    b0 = v.positive("sqrt_scaling", "B_base", B_base)
    b1 = v.positive("sqrt_scaling", "B_new", B_new)
    return _apply("sqrt_scaling", alpha_base, math.sqrt(b1 / b0))
