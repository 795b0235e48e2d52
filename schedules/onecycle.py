r"""1cycle (Smith & Topin 2017, "Super-convergence"): one warm-up-and-anneal cycle of the step,
with the momentum cycled the opposite way. L0's third schedule table.
"""
from __future__ import annotations

import math

from . import _validate as v
from ._math import lerp
from .base import Schedule, _Formula

__all__ = ["OneCycle"]


def _anneal(a, b, pct, m, strategy):
    """From ``a`` (pct = 0) to ``b`` (pct = 1), by half a cosine or a straight line."""
    if strategy == "cos":
        return lerp(b, a, 0.5 * (1.0 + m.cos(m.pi * pct)), m)
    return lerp(a, b, pct, m)


class OneCycle(Schedule):
    r"""1cycle: the rate rises from :math:`\alpha_0=\alpha_{\max}/\delta` to ``max_lr``
    :math:`\alpha_{\max}` and anneals to :math:`\alpha_{\min}=\alpha_0/\delta_f`, with
    ``div_factor`` :math:`\delta` and ``final_div_factor`` :math:`\delta_f`. Each phase :math:`k`
    runs from step :math:`e_{k-1}` to :math:`e_k` (:math:`e_0=0`) and interpolates from
    :math:`a_k` to :math:`b_k` with :math:`p=\frac{t-e_{k-1}}{e_k-e_{k-1}}`:

    .. math:: \text{cos: } b_k + \tfrac12(a_k-b_k)(1+\cos\pi p),\qquad
              \text{linear: } a_k + (b_k-a_k)\,p

    Two phases: :math:`\alpha_0\to\alpha_{\max}\to\alpha_{\min}`; ``three_phase=True``:
    :math:`\alpha_0\to\alpha_{\max}\to\alpha_0\to\alpha_{\min}`. After the last phase the rate
    stays at :math:`\alpha_{\min}` (torch raises an error past ``total_steps``).

    Momentum: with ``cycle_momentum=True`` (default) the schedule carries ``momentum``, a
    :class:`Schedule` cycled opposite to the step, ``max_momentum`` :math:`\to`
    ``base_momentum`` :math:`\to` ``max_momentum`` (and held at ``max_momentum`` in a third
    phase); an optimizer with a momentum or ``beta1`` hyperparameter reads
    ``lr.momentum(t)``.

    Where the phases end differs between the libraries (``convention``):

    - ``"torch"`` (default; ``torch.optim.lr_scheduler.OneCycleLR``): :math:`e_1 = p_s T - 1`,
      (three phases: :math:`e_2 = 2p_sT-2`), last :math:`e = T-1`; the peak comes one step
      before ``pct_start * total_steps`` and :math:`\alpha_{\min}` is reached at the last step
      :math:`T-1`.
    - ``"optax"`` (``optax.cosine_onecycle_schedule``, ``optax.linear_onecycle_schedule``):
      :math:`e_1=\lfloor p_sT\rfloor`, (three phases: :math:`e_2=\lfloor p_fT\rfloor` with
      ``pct_final`` :math:`p_f`, default 0.85), last :math:`e=T`: :math:`\alpha_{\min}` is
      reached at :math:`t=T`, one step after the last of :math:`T` steps.
    """

    def __init__(self, max_lr: float, total_steps: int, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 cycle_momentum: bool = True, base_momentum: float = 0.85,
                 max_momentum: float = 0.95, convention: str = "torch",
                 pct_final: float | None = None):
        name = "OneCycle"
        self.max_lr = v.nonnegative(name, "max_lr", max_lr)
        self.total_steps = v.positive_int(name, "total_steps", total_steps)
        self.pct_start = v.in_interval(name, "pct_start", pct_start, 0.0, 1.0,
                                       lo_open=True, hi_open=True)
        self.anneal_strategy = v.one_of(name, "anneal_strategy", anneal_strategy,
                                        ("cos", "linear"))
        self.div_factor = v.real(name, "div_factor", div_factor)
        if self.div_factor < 1:
            raise ValueError(f"{name}: div_factor must be >= 1, got {div_factor!r}")
        self.final_div_factor = v.positive(name, "final_div_factor", final_div_factor)
        self.three_phase = bool(three_phase)
        self.cycle_momentum = bool(cycle_momentum)
        self.base_momentum = v.nonnegative(name, "base_momentum", base_momentum)
        self.max_momentum = v.nonnegative(name, "max_momentum", max_momentum)
        if self.max_momentum < self.base_momentum:
            raise ValueError(f"{name}: max_momentum must be >= base_momentum="
                             f"{self.base_momentum!r}, got {max_momentum!r}")
        self.convention = v.one_of(name, "convention", convention, ("torch", "optax"))
        if pct_final is not None and (self.convention != "optax" or not self.three_phase):
            raise ValueError(f"{name}: pct_final is used by convention='optax' with "
                             f"three_phase=True only, got pct_final={pct_final!r}")
        self.pct_final = pct_final

        self.initial_lr = self.max_lr / self.div_factor
        self.min_lr = self.initial_lr / self.final_div_factor
        T, ps = self.total_steps, self.pct_start
        if self.convention == "torch":
            ends = [ps * T - 1, 2 * ps * T - 2, T - 1] if self.three_phase else [ps * T - 1, T - 1]
        else:
            pf = 0.85 if pct_final is None else v.in_interval(
                name, "pct_final", pct_final, ps, 1.0, lo_open=True, hi_open=True)
            ends = ([math.floor(ps * T), math.floor(pf * T), T] if self.three_phase
                    else [math.floor(ps * T), T])
        ends = [float(e) for e in ends]
        if any(b <= a for a, b in zip([0.0] + ends[:-1], ends)):
            raise ValueError(f"{name}: total_steps={T} is too small for pct_start={ps!r} "
                             f"(a phase would be empty: phase ends {ends})")
        self.phase_ends = tuple(ends)

        a0, a1, a2 = self.initial_lr, self.max_lr, self.min_lr
        b_lo, b_hi = self.base_momentum, self.max_momentum
        if self.three_phase:
            self._lr_points = [(a0, a1), (a1, a0), (a0, a2)]
            self._mom_points = [(b_hi, b_lo), (b_lo, b_hi), (b_hi, b_hi)]
        else:
            self._lr_points = [(a0, a1), (a1, a2)]
            self._mom_points = [(b_hi, b_lo), (b_lo, b_hi)]
        if self.cycle_momentum:
            self.momentum = _Formula(lambda t, m: self._phases(t, m, self._mom_points),
                                     (b_lo, b_hi), f"momentum of {self!r}")

    def _phases(self, t, m, points):
        value, start = None, 0.0
        for end, (a, b) in zip(self.phase_ends, points):
            pct = m.clip((t - start) / (end - start), 0.0, 1.0)
            piece = _anneal(a, b, pct, m, self.anneal_strategy)
            value = piece if value is None else m.where(t > start, piece, value)
            start = end
        return value

    def _eval(self, t, m):
        return self._phases(t, m, self._lr_points)

    @property
    def bounds(self):
        return (min(self.initial_lr, self.min_lr), self.max_lr)
