r"""Cyclical schedules: the second table of L0's schedule slides (after Schmidt et al. 2021).

Cyclical learning rates (Smith 2017: triangular, triangular + decay, triangular + exponential
decay) and cosine with warm restarts (SGDR, Loshchilov & Hutter 2017; with decaying peaks).
"""
from __future__ import annotations

import math

from . import _validate as v
from ._math import lerp
from .base import Schedule, _Formula

__all__ = ["CyclicalLR", "CosineWarmRestarts", "SGDR"]


class CyclicalLR(Schedule):
    r"""Cyclical learning rate (Smith 2017, "Cyclical learning rates for training neural
    networks"): a triangle wave between ``base_lr`` :math:`\alpha_b` and ``max_lr``
    :math:`\alpha_m`, rising for ``step_size_up`` :math:`s_u` steps and falling for
    ``step_size_down`` :math:`s_d` (default :math:`s_u`) steps:

    .. math::
        c = \Bigl\lfloor 1+\frac{t}{s_u+s_d}\Bigr\rfloor,\quad
        x = 1+\frac{t}{s_u+s_d}-c,\quad r=\frac{s_u}{s_u+s_d},\quad
        h = \begin{cases} x/r & x\le r\\ (x-1)/(r-1) & x>r\end{cases}

    .. math:: \alpha_t = \alpha_b + (\alpha_m-\alpha_b)\,h\,\sigma,\qquad
        \sigma = \begin{cases} 1 & \text{triangular}\\ 2^{-(c-1)} & \text{triangular2
        (triangular + decay)}\\ \gamma^{t} & \text{exp\_range (triangular + exponential decay)}
        \end{cases}

    Follows ``torch.optim.lr_scheduler.CyclicLR`` (same formula, same parameter names). With
    ``cycle_momentum=True`` the schedule carries ``momentum``, a :class:`Schedule` cycled the
    opposite way, :math:`\beta_t = \beta_{\max} - (\beta_{\max}-\beta_{\min})\,h\,\sigma`;
    unlike torch, ``cycle_momentum`` defaults to ``False`` here, because an optimizer that finds
    ``lr.momentum`` uses it in place of its own momentum.
    """

    def __init__(self, base_lr: float, max_lr: float, step_size_up: float = 2000,
                 step_size_down: float | None = None, mode: str = "triangular",
                 gamma: float = 1.0, cycle_momentum: bool = False,
                 base_momentum: float = 0.8, max_momentum: float = 0.9):
        name = "CyclicalLR"
        self.base_lr = v.nonnegative(name, "base_lr", base_lr)
        self.max_lr = v.nonnegative(name, "max_lr", max_lr)
        if self.max_lr < self.base_lr:
            raise ValueError(f"{name}: max_lr must be >= base_lr={self.base_lr!r}, got {max_lr!r}")
        self.step_size_up = v.positive(name, "step_size_up", step_size_up)
        self.step_size_down = (self.step_size_up if step_size_down is None
                               else v.positive(name, "step_size_down", step_size_down))
        self.mode = v.one_of(name, "mode", mode, ("triangular", "triangular2", "exp_range"))
        self.gamma = v.in_interval(name, "gamma", gamma, 0.0, 1.0, lo_open=True)
        self.cycle_momentum = bool(cycle_momentum)
        self.base_momentum = v.nonnegative(name, "base_momentum", base_momentum)
        self.max_momentum = v.nonnegative(name, "max_momentum", max_momentum)
        if self.max_momentum < self.base_momentum:
            raise ValueError(f"{name}: max_momentum must be >= base_momentum="
                             f"{self.base_momentum!r}, got {max_momentum!r}")
        if self.cycle_momentum:
            bm, mm = self.base_momentum, self.max_momentum
            self.momentum = _Formula(
                lambda t, m: lerp(mm, bm, self._height(t, m), m),
                (bm, mm), f"momentum of {self!r}")

    def _height(self, t, m):
        """:math:`h\\,\\sigma` in [0, 1]: where the wave is, times the mode's amplitude."""
        total = self.step_size_up + self.step_size_down
        ratio = self.step_size_up / total
        done = m.floor(t / total)  # completed cycles: torch's cycle - 1
        x = t / total - done  # torch's 1 + t/total - cycle, without its rounding at x = ratio
        h = m.where(x <= ratio, x / ratio, (x - 1.0) / (ratio - 1.0))
        if self.mode == "triangular2":
            h = h * 0.5 ** done
        elif self.mode == "exp_range":
            h = h * self.gamma ** t
        return h

    def _eval(self, t, m):
        return lerp(self.base_lr, self.max_lr, self._height(t, m), m)

    @property
    def bounds(self):
        return (self.base_lr, self.max_lr)


class CosineWarmRestarts(Schedule):
    r"""Cosine annealing with warm restarts, SGDR (Loshchilov & Hutter 2017), optionally with
    decaying peaks. Cycle :math:`i` lasts :math:`T_i = T_0 T_{mult}^{\,i}` steps and starts at
    :math:`S_i = \sum_{j<i} T_j`; inside it :math:`T_{cur} = t - S_i` and

    .. math:: \alpha_t = \alpha_{\min} + (\alpha_{\max}-\alpha_{\min})\,d^{\,i}\,
              \tfrac12\Bigl(1+\cos\frac{\pi T_{cur}}{T_i}\Bigr)

    with ``peak_value`` :math:`\alpha_{\max}`, ``end_value`` :math:`\alpha_{\min}`,
    ``peak_decay`` :math:`d` (1: plain SGDR; < 1: "cosine + warm restarts + decay" of L0's table).

    Follows ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`` (``T_0``, ``T_mult``,
    ``eta_min`` = ``end_value``; a restart happens at :math:`t=S_i`, where the rate jumps back to
    the peak; fractional steps are allowed). torch requires an integer ``T_mult``; any real
    ``T_mult >= 1`` works here. The peak decay follows TensorFlow's ``CosineDecayRestarts``
    (``m_mul``): the amplitude above :math:`\alpha_{\min}` shrinks by :math:`d` at each restart.
    """

    def __init__(self, peak_value: float, T_0: int, T_mult: float = 1,
                 end_value: float = 0.0, peak_decay: float = 1.0):
        name = "CosineWarmRestarts"
        self.peak_value = v.nonnegative(name, "peak_value", peak_value)
        self.T_0 = v.positive_int(name, "T_0", T_0)
        self.T_mult = v.real(name, "T_mult", T_mult)
        if self.T_mult < 1:
            raise ValueError(f"{name}: T_mult must be >= 1, got {T_mult!r}")
        self.end_value = v.nonnegative(name, "end_value", end_value)
        self.peak_decay = v.in_interval(name, "peak_decay", peak_decay, 0.0, 1.0, lo_open=True)

    def _cycle(self, t, m):
        """(i, T_cur, T_i): the cycle index, the step inside it, its length."""
        T0, q = float(self.T_0), self.T_mult
        if q == 1:
            i = m.floor(t / T0)
            return i, t - i * T0, T0

        def start(k):
            return T0 * (q ** k - 1.0) / (q - 1.0)

        i = m.floor(m.log(1.0 + t * (q - 1.0) / T0) / math.log(q))
        # the logarithm may land one cycle off at a restart: correct it exactly
        i = i - m.where(t < start(i), 1.0, 0.0) + m.where(t >= start(i + 1.0), 1.0, 0.0)
        i = m.maximum(i, 0.0)
        return i, t - start(i), T0 * q ** i

    def _eval(self, t, m):
        i, t_cur, t_i = self._cycle(t, m)
        w = self.peak_decay ** i * 0.5 * (1.0 + m.cos(m.pi * t_cur / t_i))
        return lerp(self.end_value, self.peak_value, w, m)

    @property
    def bounds(self):
        return (min(self.end_value, self.peak_value), max(self.end_value, self.peak_value))


SGDR = CosineWarmRestarts
