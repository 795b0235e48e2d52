r"""Warmup schedules: the third table of L0's schedule slides (after Schmidt et al. 2021) and
L1's "gradual warmup" slide.

Constant warmup (He et al. 2016), gradual warmup (Goyal et al. 2017, :math:`\alpha_t =
\alpha_{\max} t/T_w`), gradual warmup + multi-step decay, warmup + inverse square root decay
(Vaswani et al. 2017), warmup + cosine (optax's ``warmup_cosine_decay_schedule``) and the
slanted triangular schedule (Howard & Ruder 2018). :class:`Warmup` puts a warmup in front of
any schedule; :func:`schedules.compose.warmup` is its functional spelling.
"""
from __future__ import annotations

import math

from . import _validate as v
from ._math import lerp
from .base import Schedule, as_schedule
from .decay import Constant, CosineDecay, MultiStepDecay

__all__ = [
    "Warmup", "GradualWarmup", "ConstantWarmup", "WarmupMultiStep", "WarmupInverseSqrt",
    "WarmupCosine", "SlantedTriangular",
]


class Warmup(Schedule):
    r"""A warmup of ``warmup_steps`` :math:`T_w` steps in front of ``schedule`` :math:`s`.

    Linear (gradual) warmup, Goyal et al. 2017, from ``init_value`` :math:`\alpha_{init}`
    (0 in the lecture's :math:`\alpha_t=\alpha_{\max}t/T_w`) to the target :math:`\alpha^\star`:

    .. math:: \alpha_t = \begin{cases}\alpha_{init} + (\alpha^\star-\alpha_{init})\,t/T_w & t<T_w\\
              s(t-T_w) & t\ge T_w\end{cases}\qquad \alpha^\star = s(0)

    Constant warmup (``mode="constant"``, He et al. 2016): :math:`\alpha_t=\alpha_{init}` for
    :math:`t<T_w`. Either way the rate equals :math:`\alpha^\star` exactly at :math:`t=T_w`.

    ``shift=True`` (default) follows optax (``join_schedules``: the schedule after the warmup
    starts from its own step 0, so the warmup is not counted in its horizon). ``shift=False``
    follows the papers' and torch's milestones counted from the start of training: after the
    warmup the schedule sees the global step, :math:`\alpha_t=s(t)`, and the target is
    :math:`\alpha^\star = s(T_w)` (used by :class:`WarmupMultiStep`).
    """

    def __init__(self, schedule, warmup_steps: int, init_value: float = 0.0,
                 mode: str = "linear", shift: bool = True):
        name = type(self).__name__
        self.schedule = as_schedule(schedule)
        self.warmup_steps = v.nonnegative_int(name, "warmup_steps", warmup_steps)
        self.init_value = v.nonnegative(name, "init_value", init_value)
        self.mode = v.one_of(name, "mode", mode, ("linear", "constant"))
        self.shift = bool(shift)
        self.target = float(self.schedule(0 if self.shift else self.warmup_steps))

    def _eval(self, t, m):
        after = (self.schedule._eval(m.maximum(t - self.warmup_steps, 0.0), m) if self.shift
                 else self.schedule._eval(t, m))
        if self.warmup_steps == 0:
            return after
        if self.mode == "linear":
            ramp = lerp(self.init_value, self.target, t / self.warmup_steps, m)
        else:
            ramp = self.init_value
        return m.where(t < self.warmup_steps, ramp, after)

    @property
    def bounds(self):
        lo, hi = self.schedule.bounds
        return (min(lo, self.init_value), max(hi, self.init_value))


class GradualWarmup(Warmup):
    r"""Gradual warmup to a constant (Goyal et al. 2017; L1):
    :math:`\alpha_t = \alpha_{init} + (\alpha_{\max}-\alpha_{init})\,t/T_w` for :math:`t<T_w`,
    then :math:`\alpha_{\max}`. With ``init_value = 0`` this is the lecture's
    :math:`\alpha_t = \alpha_{\max}\,t/T_w` (so :math:`\alpha_0 = 0`).

    torch's ``LinearLR(start_factor, total_iters)`` is the same ramp with
    ``init_value = start_factor * peak_value`` (torch requires ``start_factor > 0``).
    """

    def __init__(self, peak_value: float, warmup_steps: int, init_value: float = 0.0):
        self.peak_value = v.nonnegative("GradualWarmup", "peak_value", peak_value)
        super().__init__(Constant(peak_value), warmup_steps, init_value, mode="linear")


class ConstantWarmup(Warmup):
    r"""Constant warmup (He et al. 2016, ResNet-110: 0.01 for ~400 iterations, then 0.1):
    :math:`\alpha_t = \alpha_{w}` for :math:`t<T_w`, then :math:`\alpha_{\max}`.

    torch's ``ConstantLR(factor, total_iters)`` is the same with
    ``warmup_value = factor * peak_value``.
    """

    def __init__(self, peak_value: float, warmup_steps: int, warmup_value: float):
        self.peak_value = v.nonnegative("ConstantWarmup", "peak_value", peak_value)
        self.warmup_value = v.nonnegative("ConstantWarmup", "warmup_value", warmup_value)
        super().__init__(Constant(peak_value), warmup_steps, warmup_value, mode="constant")


class WarmupMultiStep(Warmup):
    r"""Gradual warmup + multi-step decay (Goyal et al. 2017: 5 warmup epochs, then
    :math:`\times0.1` at epochs 30, 60, 80):

    .. math:: \alpha_t = \begin{cases}\alpha_{init} + (\alpha_{\max}-\alpha_{init})\,t/T_w & t<T_w\\
              \alpha_{\max}\,\gamma^{\#\{i:\ m_i\le t\}} & t\ge T_w\end{cases}

    The milestones count from the start of training, as in the paper and in torch's
    ``MultiStepLR`` (``shift=False``); they must lie after the warmup.
    """

    def __init__(self, peak_value: float, warmup_steps: int, milestones, gamma: float = 0.1,
                 init_value: float = 0.0):
        name = "WarmupMultiStep"
        self.peak_value = v.nonnegative(name, "peak_value", peak_value)
        self.milestones = v.increasing(name, "milestones", milestones, minimum=1)
        self.gamma = gamma
        warmup_steps = v.nonnegative_int(name, "warmup_steps", warmup_steps)
        if self.milestones and self.milestones[0] <= warmup_steps:
            raise ValueError(f"{name}: milestones must be > warmup_steps={warmup_steps}, "
                             f"got {milestones!r}")
        super().__init__(MultiStepDecay(peak_value, self.milestones, gamma), warmup_steps,
                         init_value, mode="linear", shift=False)


class WarmupInverseSqrt(Schedule):
    r"""Warmup + inverse-square-root decay (Vaswani et al. 2017, "Attention is all you need";
    L0's "gradual warmup + step number decay"):

    .. math:: \alpha_t = \alpha_{\max}\,\min\Bigl(\frac{t}{T_w},\ \sqrt{\frac{T_w}{t}}\Bigr)

    i.e. the paper's :math:`d^{-1/2}\min(s^{-1/2}, s\,T_w^{-3/2})` with step number
    :math:`s=t` and :math:`\alpha_{\max} = d^{-1/2}T_w^{-1/2}` (use :meth:`from_d_model`).
    The peak is reached exactly at :math:`t=T_w`; :math:`\alpha_0 = 0`, as in the gradual warmup
    (the paper counts from :math:`s=1`; :math:`s=t` keeps the peak at :math:`T_w`).
    Neither torch nor optax ships it (torch users write it as a ``LambdaLR``).
    """

    def __init__(self, peak_value: float, warmup_steps: int):
        self.peak_value = v.nonnegative("WarmupInverseSqrt", "peak_value", peak_value)
        self.warmup_steps = v.positive_int("WarmupInverseSqrt", "warmup_steps", warmup_steps)

    @classmethod
    def from_d_model(cls, d_model: int, warmup_steps: int) -> "WarmupInverseSqrt":
        r"""The paper's schedule: :math:`\alpha_{\max} = d_{model}^{-1/2}\,T_w^{-1/2}`."""
        d = v.positive_int("WarmupInverseSqrt", "d_model", d_model)
        w = v.positive_int("WarmupInverseSqrt", "warmup_steps", warmup_steps)
        return cls(1.0 / math.sqrt(d * w), w)

    def _eval(self, t, m):
        tw = float(self.warmup_steps)
        ramp = t / tw
        decay = m.sqrt(tw / m.maximum(t, tw))  # = 1 during the warmup, where ramp < 1
        return self.peak_value * m.minimum(ramp, decay)

    @property
    def bounds(self):
        return (0.0, self.peak_value)


class WarmupCosine(Warmup):
    r"""Linear warmup then cosine decay, in optax's convention
    (``optax.warmup_cosine_decay_schedule``): ``total_steps`` :math:`T` *includes* the warmup,
    so the cosine lasts :math:`T-T_w` steps:

    .. math:: \alpha_t = \begin{cases}\alpha_{init} + (\alpha_{\max}-\alpha_{init})\,t/T_w & t<T_w\\
              \alpha_{end} + (\alpha_{\max}-\alpha_{end})
              \bigl[\tfrac12(1+\cos\tfrac{\pi\min(t-T_w,\,T-T_w)}{T-T_w})\bigr]^{e}
              & t\ge T_w\end{cases}

    References: Goyal et al. 2017 (warmup), Loshchilov & Hutter 2017 (cosine). To count the
    cosine's horizon after the warmup instead, write ``warmup(CosineDecay(...), T_w)``.
    """

    def __init__(self, peak_value: float, warmup_steps: int, total_steps: int,
                 init_value: float = 0.0, end_value: float = 0.0, exponent: float = 1.0):
        name = "WarmupCosine"
        self.peak_value = v.nonnegative(name, "peak_value", peak_value)
        warmup_steps = v.nonnegative_int(name, "warmup_steps", warmup_steps)
        self.total_steps = v.positive_int(name, "total_steps", total_steps)
        if self.total_steps <= warmup_steps:
            raise ValueError(f"{name}: total_steps must be > warmup_steps={warmup_steps} "
                             f"(optax's decay_steps includes the warmup), got {total_steps!r}")
        self.end_value = v.nonnegative(name, "end_value", end_value)
        self.exponent = exponent
        cosine = CosineDecay(peak_value, self.total_steps - warmup_steps, end_value, exponent)
        super().__init__(cosine, warmup_steps, init_value, mode="linear")


class SlantedTriangular(Schedule):
    r"""Slanted triangular learning rate (Howard & Ruder 2018, ULMFiT): a short linear increase
    for a fraction ``cut_frac`` of the ``total_steps`` :math:`T`, then a long linear decay:

    .. math:: c = \lfloor T\cdot f\rfloor,\quad
              p = \begin{cases} t/c & t<c\\ 1-\dfrac{t-c}{c\,(1/f-1)} & t\ge c\end{cases},\quad
              \alpha_t = \alpha_{\max}\,\frac{1+p\,(\rho-1)}{\rho}

    with ``cut_frac`` :math:`f` (0.1 in the paper) and ``ratio`` :math:`\rho` (32): the rate
    runs from :math:`\alpha_{\max}/\rho` up to :math:`\alpha_{\max}` at :math:`t=c` and back down
    to :math:`\alpha_{\max}/\rho` at :math:`t=T`, where it stays (:math:`p` clipped at 0).
    Follows the paper's formula (neither torch nor optax has it).
    """

    def __init__(self, peak_value: float, total_steps: int, cut_frac: float = 0.1,
                 ratio: float = 32.0):
        name = "SlantedTriangular"
        self.peak_value = v.nonnegative(name, "peak_value", peak_value)
        self.total_steps = v.positive_int(name, "total_steps", total_steps)
        self.cut_frac = v.in_interval(name, "cut_frac", cut_frac, 0.0, 1.0,
                                      lo_open=True, hi_open=True)
        self.ratio = v.real(name, "ratio", ratio)
        if self.ratio < 1:
            raise ValueError(f"{name}: ratio must be >= 1, got {ratio!r}")
        self.cut = math.floor(self.total_steps * self.cut_frac)
        if self.cut < 1:
            raise ValueError(f"{name}: total_steps * cut_frac must be >= 1, got "
                             f"total_steps={total_steps!r}, cut_frac={cut_frac!r}")

    def _eval(self, t, m):
        c = float(self.cut)
        up = t / c
        down = 1.0 - (t - c) / (c * (1.0 / self.cut_frac - 1.0))
        p = m.clip(m.where(t < c, up, down), 0.0, 1.0)
        # peak (1 + p (rho - 1)) / rho, as an interpolation from peak / rho to peak
        return lerp(self.peak_value / self.ratio, self.peak_value, p, m)

    @property
    def bounds(self):
        return (self.peak_value / self.ratio, self.peak_value)
