r"""The one runner: a problem, an optimizer, a budget in; a :class:`~experiments.trace.Trace` out.

``run(problem, make_optimizer, steps=..., batch_size=..., seed=...)``:

1. ``x = problem.start()`` (a fresh Tensor leaf holding :math:`x_0`), ``opt = make_optimizer([x])``;
2. at every iteration, first **measure** at :math:`x_k` (full :math:`f`, full gradient,
   :math:`\|x_k - x^*\|^2`; not counted as evaluations, not timed), then **step**: the loss of a
   mini-batch drawn uniformly from a seeded generator (or the full objective when
   ``batch_size`` is None), ``backward``, ``opt.step()``;
3. stop after ``steps`` steps, or once ``f - f*`` falls below ``target`` (when given), or when
   ``f`` is not finite (recorded in ``meta["diverged"]``).

Averaged iterates (the convex SGD theorems of docs/lectures.md section 1, items 3 and 4):
``average="uniform"`` records :math:`f(\bar x_k)` with :math:`\bar x_k = \frac1k\sum_{t<k} x_t`,
``average="weighted"`` with :math:`\bar x_k = \sum_t \alpha_t x_t / \sum_t \alpha_t`, in the
column ``f_avg_gap``.
"""
from __future__ import annotations

import math
import time

import numpy as np

import minigrad as mg
from experiments.trace import Trace


def _lr_of(opt) -> float:
    """The step size the optimizer used last (read back from the optimizer)."""
    for name in ("last_lr",):
        v = getattr(opt, name, None)
        if v is not None:
            return float(v[0] if isinstance(v, (list, tuple)) else v)
    groups = getattr(opt, "param_groups", None)
    if groups:
        v = groups[0].get("last_lr", groups[0].get("lr"))
        if v is not None and not callable(v):
            return float(v)
    return math.nan


def run(problem, make_optimizer, *, steps: int, batch_size: int | None = None, seed: int = 0,
        target: float | None = None, record_every: int = 1, label: str = "",
        average: str | None = None, closure: bool = False) -> Trace:
    """Run ``make_optimizer([x])`` on ``problem`` for at most ``steps`` steps; return the trace.

    ``closure=True`` passes a closure (re-evaluating the same mini-batch loss and gradient) to
    ``opt.step`` for methods that need one.
    """
    if steps < 0:
        raise ValueError(f"steps must be non-negative; got {steps}")
    if batch_size is not None and not hasattr(problem, "sample_batch"):
        raise ValueError(f"batch_size={batch_size} needs a finite-sum problem; "
                         f"{type(problem).__name__} is not one")
    if average not in (None, "uniform", "weighted"):
        raise ValueError(f"average must be None, 'uniform' or 'weighted'; got {average!r}")
    rng = mg.backend.host_rng(seed)
    x = problem.start()
    opt = make_optimizer([x])
    f_star = problem.f_star
    x_star = problem.x_star
    n = getattr(problem, "n", 1)
    per_step = batch_size if batch_size is not None else n
    cols = {c: [] for c in ("k", "f", "f_gap", "grad_norm2", "dist2", "n_grad", "n_f", "time")}
    lrs = []  # the step size of every step taken
    if average:
        cols["f_avg_gap"] = []
        x_sum = None
        w_sum = 0.0
    n_grad = n_f = 0
    elapsed = 0.0
    diverged = False
    xp = mg.backend.get_array_module(x.data)

    for k in range(steps + 1):
        if k % record_every == 0 or k == steps:
            fk, gk = problem.value_and_grad(x.data)
            cols["k"].append(k)
            cols["f"].append(fk)
            cols["f_gap"].append(fk - f_star if f_star is not None else math.nan)
            cols["grad_norm2"].append(float(xp.sum(gk * gk)))
            cols["dist2"].append(float(xp.sum((x.data - x_star) ** 2))
                                 if x_star is not None else math.nan)
            cols["n_grad"].append(n_grad)
            cols["n_f"].append(n_f)
            cols["time"].append(elapsed)
            if average:
                cols["f_avg_gap"].append(
                    problem.value(x_sum / w_sum) - (f_star or 0.0) if w_sum > 0 else math.nan)
            if not math.isfinite(fk):
                diverged = True
                break
            if target is not None and f_star is not None and fk - f_star <= target:
                break
        if k == steps:
            break
        idx = problem.sample_batch(batch_size, rng) if batch_size is not None else None
        if average:
            x_prev = x.data.copy()
        t0 = time.perf_counter()

        def loss_fn():
            return problem.f_batch(x, idx) if idx is not None else problem.f(x)

        def step_closure():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        if closure:
            opt.step(step_closure)
        else:
            step_closure()
            opt.step()
        elapsed += time.perf_counter() - t0
        n_grad += per_step
        n_f += per_step
        lr = _lr_of(opt)
        lrs.append(lr)
        if average:
            w = 1.0 if average == "uniform" else lr
            x_sum = x_prev * w if x_sum is None else x_sum + x_prev * w
            w_sum += w
    cols["lr"] = [lrs[k] if k < len(lrs) else math.nan for k in cols["k"]]
    columns = {c: np.asarray(v, dtype=float) for c, v in cols.items()}
    meta = {"problem": type(problem).__name__, "steps": steps, "batch_size": batch_size,
            "seed": seed, "diverged": diverged, "backend": problem.backend,
            "optimizer": type(opt).__name__}
    return Trace(label or type(opt).__name__, columns, meta)


class CallRecorder:
    r"""A run of a SciPy-style method (``optimizers.minimize``) seen from outside: counts the
    objective's calls and times the run between callbacks, the measurements excluded.

    ``fun`` is the objective to hand to the method: a call counts as value + gradient
    (``n_fg``) when its argument records a gradient (``minimize`` differentiates it with
    minigrad), as value only (``n_f``) otherwise. ``start(x0)`` and ``callback(x_k)`` call
    :meth:`record`, which a subclass defines (what to measure at an iterate); ``elapsed`` is the
    method's own time. ``shape``: the problem's shape when the method works on a flat vector.
    """

    def __init__(self, problem, shape=None):
        self.problem, self.shape = problem, shape
        self.n_fg = self.n_f = 0
        self.elapsed = 0.0
        self._t = None

    def fun(self, x):
        if isinstance(x, mg.Tensor) and x.requires_grad and mg.is_grad_enabled():
            self.n_fg += 1
        else:
            self.n_f += 1
        return self.problem.f(x if self.shape is None else x.reshape(self.shape))

    def record(self, x, first: bool) -> None:
        """Measure at the iterate ``x`` (``first``: the start point)."""
        raise NotImplementedError

    def start(self, x0):
        self.record(x0, first=True)
        self._t = time.perf_counter()

    def callback(self, x):
        self.elapsed += time.perf_counter() - self._t
        self.record(x, first=False)
        self._t = time.perf_counter()
