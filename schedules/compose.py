r"""Composition: joining schedules at boundaries, scaling, and a warmup in front of any schedule.

Every composite is itself a pure, vectorised :class:`~schedules.base.Schedule`. Pieces may be
schedules, numbers (constants) or plain callables of the step (which must then accept an array
when the composite is called with one).
"""
from __future__ import annotations

from . import _validate as v
from .base import Schedule, as_schedule
from .warmups import Warmup

__all__ = ["Join", "Scaled", "join", "sequence", "scale", "warmup"]


class Join(Schedule):
    r"""Schedules joined at ``boundaries`` :math:`b_1<\dots<b_{n-1}`; each piece sees its local
    step (``optax.join_schedules``; torch's ``SequentialLR`` restarts each scheduler at its
    milestone too):

    .. math:: \alpha_t = s_i(t - b_i)\quad\text{for } b_i\le t<b_{i+1},\qquad b_0=0,\ b_n=\infty.

    A join is continuous at :math:`b_i` exactly when :math:`s_{i-1}(b_i-b_{i-1}) = s_i(0)`.
    """

    def __init__(self, schedules, boundaries):
        pieces = [as_schedule(s) for s in schedules]
        if not pieces:
            raise ValueError("Join: schedules must not be empty, got []")
        self.boundaries = v.increasing("Join", "boundaries", boundaries)
        if len(self.boundaries) != len(pieces) - 1:
            raise ValueError(f"Join: boundaries must have len(schedules) - 1 = {len(pieces) - 1} "
                             f"entries, got {len(self.boundaries)}: {boundaries!r}")
        if self.boundaries and self.boundaries[0] <= 0:
            raise ValueError(f"Join: boundaries must be > 0, got {boundaries!r}")
        self.schedules = tuple(pieces)

    def _eval(self, t, m):
        value = self.schedules[0]._eval(t, m)
        for b, piece in zip(self.boundaries, self.schedules[1:]):
            local = piece._eval(m.maximum(t - b, 0.0), m)
            value = m.where(t >= b, local, value)
        return value

    @property
    def bounds(self):
        bs = [s.bounds for s in self.schedules]
        return (min(b[0] for b in bs), max(b[1] for b in bs))


class Scaled(Schedule):
    r""":math:`\alpha_t = c\,s(t)` with ``factor`` :math:`c\ge0`; the batch-size rules of L1
    (:func:`schedules.batch_size.linear_scaling`) scale a schedule this way. The momentum cycle of
    ``s`` (1cycle), if any, is carried over unscaled as ``momentum``."""

    def __init__(self, schedule, factor: float):
        self.schedule = as_schedule(schedule)
        self.factor = v.nonnegative("Scaled", "factor", factor)
        if getattr(self.schedule, "momentum", None) is not None:
            self.momentum = self.schedule.momentum

    def _eval(self, t, m):
        return self.factor * self.schedule._eval(t, m)

    @property
    def bounds(self):
        lo, hi = self.schedule.bounds
        return (self.factor * lo, self.factor * hi)


def join(schedules, boundaries) -> Join:
    """Join ``schedules`` at ``boundaries``; piece ``i`` sees ``t - boundaries[i-1]``."""
    return Join(schedules, boundaries)


sequence = join


def scale(schedule, factor: float) -> Scaled:
    """``factor * schedule`` (also written ``schedule * factor``)."""
    return Scaled(schedule, factor)


def warmup(schedule, warmup_steps: int, init_value: float = 0.0, mode: str = "linear",
           shift: bool = True) -> Warmup:
    """Put a linear (Goyal et al. 2017) or constant (He et al. 2016) warmup of
    ``warmup_steps`` steps in front of ``schedule``; see :class:`schedules.warmups.Warmup`."""
    return Warmup(schedule, warmup_steps, init_value=init_value, mode=mode, shift=shift)
