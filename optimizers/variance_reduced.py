r"""Variance-reduced methods for finite sums :math:`f(x) = \frac1n\sum_{i=1}^n f_i(x)`: SVRG
(Johnson & Zhang 2013) and SAG (Schmidt, Le Roux & Bach 2017).

Both reduce the variance of the stochastic gradient with stored gradients, so that a constant
step converges (linearly, for strongly convex :math:`f`) where SGD only reaches a neighbourhood
(section 1 of docs/lectures.md). L2 discusses why this disappoints in deep learning: SVRG pays a
full
pass over the data per snapshot and two gradients per step, SAG keeps :math:`n` gradients (a
table of the model's size per component), and the snapshot goes stale quickly on a non-convex
loss with data augmentation, so the variance is not actually reduced.

Interface
---------
The optimizer picks the components; the user's closure evaluates them::

    def closure(indices):            # a list of component indices, e.g. [3] or [0, 1, ..., n-1]
        loss = mean of f_i(x) over i in indices, built with minigrad ops
        loss.backward()              # the gradients land in p.grad (they are zeroed before each
        return loss                  # call, by the optimizer)

    opt = SVRG(params, n=len(data), lr=0.1)
    for _ in range(steps):
        opt.step(closure)

A component is whatever the closure makes of an index: one sample, or one fixed mini-batch of a
partition of the data (then ``n`` is the number of batches). Components are drawn uniformly from
a generator seeded with ``(seed, step)`` (so a run, and a run resumed from a state_dict, is
reproducible), or given by ``sampler(t) -> indices``. ``opt.grad_evals`` counts the component
gradients evaluated (the cost measure of the finite-sum theory).
"""
from __future__ import annotations

import math

from minigrad import backend as B
from optimizers.inplace import add_
from optimizers import _validate as V
from optimizers.base import Optimizer

__all__ = ["SVRG", "SAG"]


class _FiniteSum(Optimizer):
    """What SVRG and SAG share: ``n`` components, sampling, calls of ``closure(indices)``."""

    def __init__(self, params, defaults, n, batch_size, seed, sampler, nonfinite=None):
        super().__init__(params, defaults, nonfinite=nonfinite)
        self.n = V.integer(self.name, "n", n, lo=1)
        self.batch_size = V.integer(self.name, "batch_size", batch_size, lo=1, hi=self.n)
        self.seed = V.integer(self.name, "seed", seed, lo=0)
        if sampler is not None and not callable(sampler):
            raise ValueError(f"{self.name}: invalid sampler={sampler!r}; expected a callable "
                             f"t -> indices or None")
        self.sampler = sampler
        self.grad_evals = 0

    def sample(self, t: int) -> list:
        """The component indices used at step ``t``: ``batch_size`` distinct indices drawn
        uniformly (host generator seeded with ``(seed, t)``), or ``sampler(t)``."""
        if self.sampler is not None:
            idx = self.sampler(t)
            idx = [int(idx)] if isinstance(idx, int) else [int(i) for i in idx]
        else:
            rng = B.host_rng([self.seed, t])
            idx = [int(i) for i in rng.choice(self.n, size=self.batch_size, replace=False)]
        if not idx or any(not 0 <= i < self.n for i in idx):
            raise ValueError(f"{self.name}: step {t} sampled indices {idx}, outside [0, {self.n})")
        return idx

    def _call(self, closure, indices: list):
        """Zero the gradients, then ``closure(indices)``; counts the component gradients."""
        self.zero_grad()
        loss = self._call_closure(closure, indices)
        self.grad_evals += len(indices)
        return loss

    def _check_closure(self, closure):
        if closure is None:
            raise ValueError(f"{self.name} needs step(closure), where closure(indices) evaluates "
                             f"the mean of the components f_i, i in indices, at the current "
                             f"parameters, calls backward() and returns the loss")

    def _validate_group(self, group):
        super()._validate_group(group)

    def _extra_state(self) -> dict:
        return {"grad_evals": int(self.grad_evals)}

    def _prepare_extra(self, extra: dict):
        self._check_extra(extra, self._extra_state())
        evals = extra["grad_evals"]
        evals = int(evals.item() if hasattr(evals, "item") else evals)
        install_more = self._prepare_more_extra(extra)

        def install():
            self.grad_evals = evals
            install_more()
        return install

    def _prepare_more_extra(self, extra: dict):
        return lambda: None


class SVRG(_FiniteSum):
    r"""SVRG, stochastic variance-reduced gradient (Johnson & Zhang 2013):

    .. math::
        \text{every } m \text{ steps: } \tilde x = x_k,\quad
        \tilde\mu = \nabla f(\tilde x) = \frac1n \sum_{i=1}^n \nabla f_i(\tilde x) \\
        v_k = \nabla f_{B_k}(x_k) - \nabla f_{B_k}(\tilde x) + \tilde\mu, \qquad
        x_{k+1} = x_k - \alpha_k v_k

    :math:`E[v_k] = \nabla f(x_k)` and its variance vanishes as :math:`x_k, \tilde x \to x^*`.
    The snapshot is the last iterate (the paper's practical option I). Each step costs two
    mini-batch gradients, plus a full gradient (``n`` components, one ``closure(all indices)``
    call) every ``inner_steps`` steps.

    ``SVRG(params, n, lr=1e-2, batch_size=1, inner_steps=None, seed=0, sampler=None)``;
    ``inner_steps`` (:math:`m`) defaults to one pass over the data, :math:`\lceil n / b\rceil`
    (the paper suggests :math:`m = 2n` for convex problems).
    """

    def __init__(self, params, n, lr=1e-2, batch_size=1, inner_steps=None, seed=0,
                 sampler=None, nonfinite=None):
        super().__init__(params, dict(lr=lr), n, batch_size, seed, sampler, nonfinite=nonfinite)
        if inner_steps is None:
            inner_steps = math.ceil(self.n / self.batch_size)
        self.inner_steps = V.integer(self.name, "inner_steps", inner_steps, lo=1)

    def _init_state(self, p, hp):
        xp = B.get_array_module(p.data)
        return {"snapshot": xp.zeros_like(p.data), "mu": xp.zeros_like(p.data)}

    def step(self, closure=None):
        self._check_closure(closure)
        return self._undoable(self._step, closure)  # nonfinite="raise"/"skip": all or nothing

    def _step(self, closure):
        t = self.step_count
        hps = [self._hyperparameters(group, t) for group in self.param_groups]
        states = {p: self._state_of(p, hp)
                  for group, hp in zip(self.param_groups, hps, strict=True)
                  for p in group["params"]}
        if t % self.inner_steps == 0:                    # a new snapshot
            for p, st in states.items():
                st["snapshot"][...] = p.data             # x~ = x_k
            self._call(closure, list(range(self.n)))     # grad f(x~)
            self._require_finite(what="the full gradient of")
            for p, st in states.items():
                st["mu"][...] = 0 if p.grad is None else p.grad  # mu~ = grad f(x~)
        idx = self.sample(t)                             # B_k
        for p, st in states.items():                     # evaluate at x~ (swap, no copy)
            p.data, st["snapshot"] = st["snapshot"], p.data
        try:
            self._call(closure, idx)                     # grad f_B(x~)
        finally:
            for p, st in states.items():
                p.data, st["snapshot"] = st["snapshot"], p.data
        self._require_finite(what="the gradient at the snapshot of")
        g_snapshot = {p: p.grad for p in states}
        loss = self._call(closure, idx)                  # grad f_B(x_k)
        self._require_finite()
        for group, hp in zip(self.param_groups, hps, strict=True):
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                xp = B.get_array_module(p.data)
                tmp = self._scratch(p)
                gs = g_snapshot[p]
                if gs is None:
                    xp.copyto(tmp, g)
                else:
                    xp.subtract(g, gs, out=tmp)          # grad f_B(x_k) - grad f_B(x~)
                v_k = xp.add(tmp, states[p]["mu"], out=tmp)  # v_k = ... + mu~
                add_(p.data, v_k, -hp["lr"], tmp)            # x_{k+1} = x_k - alpha v_k
        self.step_count += 1
        return loss


class SAG(_FiniteSum):
    r"""SAG, stochastic average gradient (Schmidt, Le Roux & Bach 2017): keep the last gradient
    :math:`y_i` seen of every component and step along their average,

    .. math::
        i_k \sim U\{1..n\}, \qquad y_{i_k} \leftarrow \nabla f_{i_k}(x_k), \qquad
        x_{k+1} = x_k - \frac{\alpha_k}{n} \sum_{i=1}^n y_i

    (the sum :math:`d = \sum_i y_i` is kept up to date:
    :math:`d \leftarrow d - y_{i_k}^{old} + y_{i_k}^{new}`). ``divide_by="seen"`` divides by the
    number of components visited so far instead of :math:`n` (the paper's suggestion for the
    first pass). Memory: a table of :math:`n` gradients per parameter.

    ``SAG(params, n, lr=1e-2, divide_by="n", seed=0, sampler=None)``; one component per step.
    """

    def __init__(self, params, n, lr=1e-2, divide_by="n", seed=0, sampler=None, nonfinite=None):
        super().__init__(params, dict(lr=lr), n, 1, seed, sampler, nonfinite=nonfinite)
        self.divide_by = V.choice(self.name, "divide_by", divide_by, ("n", "seen"))
        self.seen = B.host_xp().zeros(self.n, dtype=bool)  # host bookkeeping: components visited

    def _init_state(self, p, hp):
        xp = B.get_array_module(p.data)
        return {"table": xp.zeros((self.n,) + p.shape, dtype=p.dtype),  # y_i = 0
                "d": xp.zeros_like(p.data)}                              # d = sum_i y_i = 0

    def step(self, closure=None):
        self._check_closure(closure)
        return self._undoable(self._step, closure)  # nonfinite="raise"/"skip": all or nothing

    def _step(self, closure):
        t = self.step_count
        i = self.sample(t)[0]                            # i_k
        loss = self._call(closure, [i])                  # grad f_{i_k}(x_k)
        self._require_finite()
        self.seen[i] = True
        m = self.n if self.divide_by == "n" else int(self.seen.sum())
        for group in self.param_groups:
            hp = self._hyperparameters(group, t)
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                xp = B.get_array_module(p.data)
                st = self._state_of(p, hp)
                y_i, d = st["table"][i], st["d"]
                tmp = self._scratch(p)
                d += xp.subtract(g, y_i, out=tmp)        # d = sum_i y_i (y_i^new - y_i^old)
                y_i[...] = g                             # y_{i_k} <- grad f_{i_k}(x_k)
                add_(p.data, d, -(hp["lr"] / m), tmp)    # x_{k+1} = x_k - (alpha/n) sum_i y_i
        self.step_count += 1
        return loss

    def _extra_state(self) -> dict:
        return {**super()._extra_state(), "seen": self.seen.copy()}

    def _prepare_more_extra(self, extra: dict):
        seen = extra["seen"]
        if getattr(seen, "shape", None) != (self.n,):
            raise ValueError(f"SAG.load_state_dict: 'extra/seen' must be a boolean array of "
                             f"shape ({self.n},); got {getattr(seen, 'shape', seen)!r}")
        seen = B.to_numpy(seen).astype(bool, copy=True)

        def install():
            self.seen = seen
        return install
