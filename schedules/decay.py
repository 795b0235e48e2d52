r"""Constant and decaying schedules: the first table of L0's schedule slides (after Schmidt et
al. 2021, "Descending through a crowded valley"), docs/lectures.md section 8.

All are closed-form functions of the 0-based step ``t``; after their horizon they hold their
last value (optax's convention) unless a docstring says otherwise.
"""
from __future__ import annotations

import math

from . import _validate as v
from ._math import lerp
from .base import Schedule

__all__ = [
    "Constant", "StepDecay", "MultiStepDecay", "LinearDecay", "PolynomialDecay",
    "ExponentialDecay", "InverseTimeDecay", "CosineDecay", "LinearCosineDecay",
    "NoisyLinearCosineDecay",
]


class Constant(Schedule):
    r"""Constant step: :math:`\alpha_t = \alpha_0`.

    Reference: L0 schedules table ("constant"); torch and optax agree
    (``optax.constant_schedule``).
    """

    def __init__(self, value: float):
        self.value = v.nonnegative("Constant", "value", value)

    def _eval(self, t, m):
        return self.value

    @property
    def bounds(self):
        return (self.value, self.value)


class StepDecay(Schedule):
    r"""Step decay: multiply by :math:`\gamma` every ``step_size`` steps,
    :math:`\alpha_t = \alpha_0\,\gamma^{\lfloor t/s\rfloor}`.

    Reference: L0 table ("step decay, constant factor"). Follows ``torch.optim.lr_scheduler.StepLR``
    (the first decay happens at ``t = step_size``).
    """

    def __init__(self, init_value: float, step_size: int, gamma: float = 0.1):
        self.init_value = v.nonnegative("StepDecay", "init_value", init_value)
        self.step_size = v.positive_int("StepDecay", "step_size", step_size)
        self.gamma = v.in_interval("StepDecay", "gamma", gamma, 0.0, 1.0, lo_open=True)

    def _eval(self, t, m):
        return self.init_value * self.gamma ** m.floor(t / self.step_size)

    @property
    def bounds(self):
        return (0.0, self.init_value)


class MultiStepDecay(Schedule):
    r"""Multi-step decay: multiply by :math:`\gamma` at each milestone,
    :math:`\alpha_t = \alpha_0\,\gamma^{\#\{i:\ m_i\le t\}}`.

    Reference: L0 table ("multi-step"); Goyal et al. 2017 use it after warmup. Follows
    ``torch.optim.lr_scheduler.MultiStepLR`` (the decay applies from the milestone on).
    """

    def __init__(self, init_value: float, milestones, gamma: float = 0.1):
        self.init_value = v.nonnegative("MultiStepDecay", "init_value", init_value)
        self.milestones = v.increasing("MultiStepDecay", "milestones", milestones, minimum=1)
        self.gamma = v.in_interval("MultiStepDecay", "gamma", gamma, 0.0, 1.0, lo_open=True)

    def _eval(self, t, m):
        passed = 0.0
        for milestone in self.milestones:
            passed = passed + m.where(t >= milestone, 1.0, 0.0)
        return self.init_value * self.gamma ** passed

    @property
    def bounds(self):
        return (self.init_value * self.gamma ** len(self.milestones), self.init_value)


class PolynomialDecay(Schedule):
    r"""Polynomial decay from :math:`\alpha_0` to :math:`\alpha_T` over ``total_steps`` :math:`T`:

    .. math:: \alpha_t = \alpha_T + (\alpha_0-\alpha_T)\Bigl(1-\frac{\min(t,T)}{T}\Bigr)^{p}

    Reference: L0 table ("polynomial decay"). Follows ``optax.polynomial_schedule`` (held at
    :math:`\alpha_T` after :math:`T`); torch's ``PolynomialLR`` is the case :math:`\alpha_T=0`.
    """

    def __init__(self, init_value: float, end_value: float, total_steps: int,
                 power: float = 1.0):
        name = type(self).__name__
        self.init_value = v.nonnegative(name, "init_value", init_value)
        self.end_value = v.nonnegative(name, "end_value", end_value)
        self.total_steps = v.positive_int(name, "total_steps", total_steps)
        self.power = v.positive(name, "power", power)

    def _eval(self, t, m):
        frac = m.minimum(t, float(self.total_steps)) / self.total_steps
        return lerp(self.end_value, self.init_value, (1.0 - frac) ** self.power, m)

    @property
    def bounds(self):
        return (min(self.init_value, self.end_value), max(self.init_value, self.end_value))


class LinearDecay(PolynomialDecay):
    r"""Linear decay (polynomial with :math:`p=1`):
    :math:`\alpha_t = \alpha_0 + (\alpha_T-\alpha_0)\min(t,T)/T`.

    Reference: L0 table ("linear decay", Goodfellow et al. 2016). torch (``LinearLR``, as factors
    of the base rate) and optax (``linear_schedule``) agree: held at :math:`\alpha_T` after
    :math:`T`.
    """

    def __init__(self, init_value: float, end_value: float, total_steps: int):
        super().__init__(init_value, end_value, total_steps, power=1.0)


class ExponentialDecay(Schedule):
    r"""Exponential decay :math:`\alpha_t = \alpha_0\,r^{t/s}` (staircase:
    :math:`r^{\lfloor t/s\rfloor}`), optionally clipped at ``end_value``.

    The lecture's form :math:`\eta = \eta_0 e^{-kt}` is ``decay_rate = exp(-k)``,
    ``transition_steps = 1``; torch's ``ExponentialLR(gamma)`` is ``decay_rate = gamma``,
    ``transition_steps = 1``. Follows ``optax.exponential_decay`` (a ``decay_rate > 1`` grows,
    and ``end_value`` is then an upper bound), except that optax silently turns a non-positive
    ``transition_steps`` into a constant schedule, where this class raises ``ValueError``.
    """

    def __init__(self, init_value: float, decay_rate: float, transition_steps: int = 1,
                 staircase: bool = False, end_value: float | None = None):
        self.init_value = v.nonnegative("ExponentialDecay", "init_value", init_value)
        self.decay_rate = v.positive("ExponentialDecay", "decay_rate", decay_rate)
        self.transition_steps = v.positive_int("ExponentialDecay", "transition_steps",
                                               transition_steps)
        self.staircase = bool(staircase)
        self.end_value = (None if end_value is None
                          else v.nonnegative("ExponentialDecay", "end_value", end_value))

    @classmethod
    def from_rate_constant(cls, init_value: float, k: float) -> "ExponentialDecay":
        r"""The lecture's :math:`\eta_t = \eta_0 e^{-kt}`."""
        return cls(init_value, math.exp(-v.nonnegative("ExponentialDecay", "k", k)))

    def _eval(self, t, m):
        p = t / self.transition_steps
        if self.staircase:
            p = m.floor(p)
        if self.decay_rate > 1 and self.end_value is not None and self.init_value > 0:
            # a growing rate is clipped at end_value: stop the power one step past it, so a
            # huge t cannot overflow (Python floats raise OverflowError where NumPy gives inf)
            reach = math.log(max(self.end_value, self.init_value) / self.init_value)
            p = m.minimum(p, reach / math.log(self.decay_rate) + 1.0)
        value = self.init_value * self.decay_rate ** p
        if self.end_value is not None:
            value = (m.maximum(value, self.end_value) if self.decay_rate < 1
                     else m.minimum(value, self.end_value))
        return value

    @property
    def bounds(self):
        a, end = self.init_value, self.end_value
        if self.decay_rate < 1:  # max(a r^p, end)
            return (0.0, a) if end is None else (end, max(a, end))
        return (a, math.inf) if end is None else (min(a, end), end)  # min(a r^p, end)


class InverseTimeDecay(Schedule):
    r"""Inverse time decay :math:`\alpha_t = \dfrac{\alpha_0}{1 + k\,t/s}` (staircase:
    :math:`\lfloor t/s\rfloor`).

    Reference: L0 table ("inverse time decay", Bottou 2012); the rate is usually written
    :math:`\eta_0/(1+kt)` (``decay_steps = 1``). Same as TensorFlow's ``InverseTimeDecay``
    (neither torch nor optax has it).
    """

    def __init__(self, init_value: float, decay_rate: float, decay_steps: int = 1,
                 staircase: bool = False):
        self.init_value = v.nonnegative("InverseTimeDecay", "init_value", init_value)
        self.decay_rate = v.nonnegative("InverseTimeDecay", "decay_rate", decay_rate)
        self.decay_steps = v.positive_int("InverseTimeDecay", "decay_steps", decay_steps)
        self.staircase = bool(staircase)

    def _eval(self, t, m):
        p = t / self.decay_steps
        if self.staircase:
            p = m.floor(p)
        return self.init_value / (1.0 + self.decay_rate * p)

    @property
    def bounds(self):
        return (0.0, self.init_value)


class CosineDecay(Schedule):
    r"""Cosine decay (cosine annealing, Loshchilov & Hutter 2017) over ``total_steps`` :math:`T`:

    .. math:: \alpha_t = \alpha_{\min} + (\alpha_0-\alpha_{\min})
              \Bigl[\tfrac12\bigl(1+\cos\tfrac{\pi\,\min(t,T)}{T}\bigr)\Bigr]^{e}

    with ``end_value`` :math:`\alpha_{\min}` and ``exponent`` :math:`e` (1 in the paper).

    Convention: with ``clamp=True`` (default) it follows ``optax.cosine_decay_schedule``: held at
    :math:`\alpha_{\min}` after :math:`T` (optax's ``alpha`` is ``end_value / init_value``).
    With ``clamp=False`` it follows ``torch.optim.lr_scheduler.CosineAnnealingLR``'s closed form,
    which is not clamped: after :math:`T` the cosine keeps going and the rate climbs back to
    :math:`\alpha_0` at :math:`t=2T` (period :math:`2T`).
    """

    def __init__(self, init_value: float, total_steps: int, end_value: float = 0.0,
                 exponent: float = 1.0, clamp: bool = True):
        self.init_value = v.nonnegative("CosineDecay", "init_value", init_value)
        self.total_steps = v.positive_int("CosineDecay", "total_steps", total_steps)
        self.end_value = v.nonnegative("CosineDecay", "end_value", end_value)
        self.exponent = v.positive("CosineDecay", "exponent", exponent)
        self.clamp = bool(clamp)

    def _eval(self, t, m):
        tc = m.minimum(t, float(self.total_steps)) if self.clamp else t
        cosine = 0.5 * (1.0 + m.cos(m.pi * tc / self.total_steps))
        cosine = m.maximum(cosine, 0.0)  # guard a -1e-17 rounding before the power
        return lerp(self.end_value, self.init_value, cosine ** self.exponent, m)

    @property
    def bounds(self):
        return (min(self.init_value, self.end_value), max(self.init_value, self.end_value))


class LinearCosineDecay(Schedule):
    r"""Linear cosine decay (Bello et al. 2017, "Neural optimizer search with reinforcement
    learning"), over ``decay_steps`` :math:`T`:

    .. math:: \bar t=\min(t,T),\quad
              \alpha_t = \alpha_0\Bigl[(a + \tfrac{T-\bar t}{T})\,
              \tfrac12\bigl(1+\cos\tfrac{2\pi n\bar t}{T}\bigr) + b\Bigr]

    with ``num_periods`` :math:`n`, ``alpha`` :math:`a`, ``beta`` :math:`b`. Reference: L0 table
    ("linear cosine decay"). Follows TensorFlow's ``LinearCosineDecay`` (defaults
    :math:`n=0.5, a=0, b=10^{-3}`; held after :math:`T`); torch and optax do not have it.
    """

    def __init__(self, init_value: float, decay_steps: int, num_periods: float = 0.5,
                 alpha: float = 0.0, beta: float = 0.001):
        name = type(self).__name__
        self.init_value = v.nonnegative(name, "init_value", init_value)
        self.decay_steps = v.positive_int(name, "decay_steps", decay_steps)
        self.num_periods = v.positive(name, "num_periods", num_periods)
        self.alpha = v.nonnegative(name, "alpha", alpha)
        self.beta = v.nonnegative(name, "beta", beta)

    def _parts(self, t, m):
        tb = m.minimum(t, float(self.decay_steps))
        linear = (self.decay_steps - tb) / self.decay_steps
        cosine = 0.5 * (1.0 + m.cos(2.0 * m.pi * self.num_periods * tb / self.decay_steps))
        return tb, linear, cosine

    def _eval(self, t, m):
        _, linear, cosine = self._parts(t, m)
        return self.init_value * ((self.alpha + linear) * cosine + self.beta)

    @property
    def bounds(self):
        return (self.init_value * self.beta, self.init_value * (1.0 + self.alpha + self.beta))


class NoisyLinearCosineDecay(LinearCosineDecay):
    r"""Noisy linear cosine decay (Bello et al. 2017): linear cosine with Gaussian noise in the
    linear term,

    .. math:: \alpha_t = \alpha_0\Bigl[(a + \tfrac{T-\bar t}{T} + \varepsilon_t)\,
              \tfrac12\bigl(1+\cos\tfrac{2\pi n\bar t}{T}\bigr) + b\Bigr],\qquad
              \varepsilon_t\sim\mathcal N\Bigl(0,\ \frac{v_0}{(1+\bar t)^{d}}\Bigr)

    with ``initial_variance`` :math:`v_0` and ``variance_decay`` :math:`d` (TensorFlow's
    ``NoisyLinearCosineDecay`` defaults 1.0 and 0.55).

    The noise is seeded and a pure function of ``(seed, floor(t))`` (a SplitMix64 hash and the
    Box-Muller transform), so the schedule stays a function: the same step gives the same
    value, for a scalar or an array, on NumPy or CuPy. Departure from TensorFlow, which draws
    fresh noise at each call and can return a negative rate: with ``nonnegative=True``
    (default) the value is clipped at 0.
    """

    def __init__(self, init_value: float, decay_steps: int, initial_variance: float = 1.0,
                 variance_decay: float = 0.55, num_periods: float = 0.5, alpha: float = 0.0,
                 beta: float = 0.001, seed: int = 0, nonnegative: bool = True):
        super().__init__(init_value, decay_steps, num_periods, alpha, beta)
        self.initial_variance = v.nonnegative("NoisyLinearCosineDecay", "initial_variance",
                                              initial_variance)
        self.variance_decay = v.nonnegative("NoisyLinearCosineDecay", "variance_decay",
                                            variance_decay)
        self.seed = v.nonnegative_int("NoisyLinearCosineDecay", "seed", seed)
        self.nonnegative = bool(nonnegative)

    def noise(self, t, m):
        """Standard normal z_t (Box-Muller on two hashed uniforms of floor(t))."""
        u1 = 1.0 - m.uniform_hash(t, self.seed, 0)  # in (0, 1]
        u2 = m.uniform_hash(t, self.seed, 1)
        return m.sqrt(-2.0 * m.log(u1)) * m.cos(2.0 * m.pi * u2)

    def _eval(self, t, m):
        tb, linear, cosine = self._parts(t, m)
        std = (self.initial_variance / (1.0 + tb) ** self.variance_decay) ** 0.5
        eps = std * self.noise(t, m)
        value = self.init_value * ((self.alpha + linear + eps) * cosine + self.beta)
        return m.maximum(value, 0.0) if self.nonnegative else value

    @property
    def bounds(self):
        return (0.0 if self.nonnegative else -math.inf, math.inf)
