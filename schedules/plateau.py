r"""Reduce-on-plateau: the one stateful schedule, driven by a metric (L0's "reduce when the
validation error stops improving", L3's "Переменный learning rate").

It is not a :class:`~schedules.base.Schedule` (it is not a function of the step), but it is
callable: ``plateau(t)`` returns the current rate whatever ``t`` is, so it can be handed to an
optimizer as ``lr`` and driven from the training loop with ``plateau.step(val_loss)``.
"""
from __future__ import annotations

import math

from . import _validate as v

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(v.RefusesOptimizer):
    r"""Multiply the rate by ``factor`` when the metric has not improved for more than
    ``patience`` calls of :meth:`step`.

    Semantics of ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (one parameter group). At each
    ``step(metric)``:

    1. *better* is, for ``mode="min"``: :math:`a < b(1-\theta)` (``threshold_mode="rel"``) or
       :math:`a < b-\theta` (``"abs"``); for ``mode="max"``: :math:`a > b(1+\theta)` or
       :math:`a > b+\theta`, with :math:`b` the best metric so far (initially :math:`\pm\infty`)
       and ``threshold`` :math:`\theta`. A better metric becomes the best and resets the count
       of bad steps; otherwise the count grows by one.
    2. During a cooldown (``cooldown`` steps after a reduction) bad steps are not counted.
    3. When the count exceeds ``patience`` (so ``patience`` bad steps are tolerated and the next
       one reduces): :math:`\alpha \leftarrow \max(\alpha\cdot\text{factor},\ \alpha_{\min})`,
       unless that changes :math:`\alpha` by no more than ``eps``; the count resets and the
       cooldown starts.

    ``lr`` holds the current rate; ``state_dict()`` / ``load_state_dict()`` save and restore the
    whole state.
    """

    def __init__(self, init_lr: float, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float = 0.0, eps: float = 1e-8):
        name = "ReduceLROnPlateau"
        self.init_lr = v.nonnegative(name, "init_lr", init_lr)
        self.mode = v.one_of(name, "mode", mode, ("min", "max"))
        self.factor = v.in_interval(name, "factor", factor, 0.0, 1.0, lo_open=True, hi_open=True)
        self.patience = v.nonnegative_int(name, "patience", patience)
        self.threshold = v.nonnegative(name, "threshold", threshold)
        self.threshold_mode = v.one_of(name, "threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = v.nonnegative_int(name, "cooldown", cooldown)
        self.min_lr = v.nonnegative(name, "min_lr", min_lr)
        self.eps = v.nonnegative(name, "eps", eps)
        self.lr = self.init_lr
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_steps = 0
        self.cooldown_counter = 0
        self.last_step = 0  # number of metrics seen

    def is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (1.0 + self.threshold)
        return a > best + self.threshold

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metric) -> float:
        """Record one value of the metric; return the (possibly reduced) rate."""
        current = float(metric)
        self.last_step += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_steps = 0
        else:
            self.num_bad_steps += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_steps = 0  # bad steps in the cooldown are ignored
        if self.num_bad_steps > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_steps = 0
        return self.lr

    def __call__(self, t=None) -> float:
        """The current rate (``t`` is ignored): lets an optimizer take this object as ``lr``."""
        return self.lr

    _STATE = ("init_lr", "mode", "factor", "patience", "threshold", "threshold_mode",
              "cooldown", "min_lr", "eps", "lr", "best", "num_bad_steps", "cooldown_counter",
              "last_step")

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in self._STATE}

    def load_state_dict(self, state: dict) -> None:
        missing = [k for k in self._STATE if k not in state]
        if missing:
            raise ValueError(f"ReduceLROnPlateau.load_state_dict: state is missing {missing}")
        for k in self._STATE:
            setattr(self, k, state[k])

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(init_lr={self.init_lr!r}, mode={self.mode!r}, "
                f"factor={self.factor!r}, patience={self.patience!r}, "
                f"threshold={self.threshold!r}, threshold_mode={self.threshold_mode!r}, "
                f"cooldown={self.cooldown!r}, min_lr={self.min_lr!r})")
