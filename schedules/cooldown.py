r"""Warmup-stable-decay (trapezoid) schedules with a cooldown: L1's "Cooldown" slide
(Hägele et al. 2024, "Scaling laws and compute-optimal training beyond fixed training
durations"; Zhai et al. 2022, "Scaling vision transformers") and the "long trapezoid" of L0's
table (Xing et al. 2018, "A walk with SGD").
"""
from __future__ import annotations

from . import _validate as v
from ._math import lerp
from .base import Schedule

__all__ = ["WarmupStableDecay", "LongTrapezoid"]

_COOLDOWNS = ("linear", "cosine", "1-sqrt")


class WarmupStableDecay(Schedule):
    r"""Warmup-stable-decay (WSD): a linear warmup of :math:`T_w` steps, a constant stage, and a
    cooldown of the last :math:`T_d` steps of ``total_steps`` :math:`T`:

    .. math:: \alpha_t = \begin{cases}
        \alpha_{init} + (\alpha_{\max}-\alpha_{init})\,t/T_w & t < T_w\\
        \alpha_{\max} & T_w \le t < T-T_d\\
        \alpha_{end} + (\alpha_{\max}-\alpha_{end})\,\phi(s),\ \ s=\dfrac{t-(T-T_d)}{T_d} &
        T-T_d\le t\le T\end{cases}

    and :math:`\alpha_{end}` after :math:`T`. The cooldown shape :math:`\phi` (Hägele et al.
    2024): ``"linear"`` :math:`1-s`, ``"cosine"`` :math:`\tfrac12(1+\cos\pi s)`, ``"1-sqrt"``
    :math:`1-\sqrt s` (their best). torch and optax have no WSD; in optax terms it is
    ``join_schedules`` of a linear warmup, a constant and the cooldown, the same as here.
    """

    def __init__(self, peak_value: float, total_steps: int, warmup_steps: int,
                 decay_steps: int, cooldown: str = "linear", init_value: float = 0.0,
                 end_value: float = 0.0):
        name = type(self).__name__
        self.peak_value = v.nonnegative(name, "peak_value", peak_value)
        self.total_steps = v.positive_int(name, "total_steps", total_steps)
        self.warmup_steps = v.nonnegative_int(name, "warmup_steps", warmup_steps)
        self.decay_steps = v.positive_int(name, "decay_steps", decay_steps)
        if self.warmup_steps + self.decay_steps > self.total_steps:
            raise ValueError(f"{name}: warmup_steps + decay_steps must be <= total_steps="
                             f"{self.total_steps}, got {warmup_steps!r} + {decay_steps!r}")
        self.cooldown = v.one_of(name, "cooldown", cooldown, _COOLDOWNS)
        self.init_value = v.nonnegative(name, "init_value", init_value)
        self.end_value = v.nonnegative(name, "end_value", end_value)

    def _eval(self, t, m):
        start = float(self.total_steps - self.decay_steps)
        s = m.clip((t - start) / self.decay_steps, 0.0, 1.0)
        if self.cooldown == "linear":
            phi = 1.0 - s
        elif self.cooldown == "cosine":
            phi = 0.5 * (1.0 + m.cos(m.pi * s))
        else:
            phi = 1.0 - m.sqrt(s)
        value = lerp(self.end_value, self.peak_value, phi, m)
        if self.warmup_steps > 0:
            ramp = lerp(self.init_value, self.peak_value, t / self.warmup_steps, m)
            value = m.where(t < self.warmup_steps, ramp, value)
        return value

    @property
    def bounds(self):
        vals = (self.init_value, self.peak_value, self.end_value)
        return (min(vals), max(vals))


class LongTrapezoid(WarmupStableDecay):
    r"""Long trapezoid (Xing et al. 2018, as named in Schmidt et al. 2021's table): a linear
    increase, a long constant stage, a linear decrease — WSD with a linear cooldown,

    .. math:: \alpha_t = \alpha_{\max}\min\Bigl(\frac{t}{T_w},\ 1,\ \frac{T-t}{T_d}\Bigr)^{+}
              \quad(\alpha_{init}=\alpha_{end}=0).
    """

    def __init__(self, peak_value: float, total_steps: int, warmup_steps: int,
                 decay_steps: int, init_value: float = 0.0, end_value: float = 0.0):
        super().__init__(peak_value, total_steps, warmup_steps, decay_steps, "linear",
                         init_value, end_value)
