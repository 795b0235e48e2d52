r"""Deterministic runs: an optimizer (any form of :mod:`theorems.forms`) on the full objective,
recording at every iterate :math:`k=0..K` what the deterministic theorems bound.

:func:`run_full` returns a :class:`Record` with the columns ``f`` (:math:`f(x_k)`), ``g2``
(:math:`\|\nabla f(x_k)\|^2`), ``d2`` (:math:`\|x_k-x^*\|^2`, NaN where :math:`x^*` is
unknown) and ``x`` (the iterates, host copies, one row each). The loss and gradient at
:math:`x_k` are those the optimizer steps with (one evaluation per step); a solver's iterates
come from its callback and are measured afterwards. ``need`` names the columns a theorem
reads among ``f`` and ``g2`` (the others are NaN; the iterates are always recorded, they cost
one host copy per step). A run stops at the first non-finite value
(``diverged_at``: that iterate is recorded, so that the check reports it as a violation) or
when the optimizer raises ``FloatingPointError`` (``optimizers.NonFiniteError`` included).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import minigrad as mg
from minigrad import backend as B
from minigrad.tensor import Tensor
from theorems.forms import Solver

__all__ = ["Record", "run_full"]

np = B.host_xp()


@dataclass
class Record:
    """The measurements of one run (or of many: one column per run), ``diverged_at`` the first
    iterate with a non-finite measurement (None: none), ``notes`` what else happened."""

    columns: dict
    diverged_at: int | None = None
    notes: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.columns[key]


def _host(a):
    return np.asarray(mg.to_numpy(a.data if isinstance(a, Tensor) else a), dtype=float)


class _Columns:
    def __init__(self, x_star, need=("f", "g2")):
        self.x_star = x_star
        self.skip_f, self.skip_g = "f" not in need, "g2" not in need
        self.f, self.g2, self.d2, self.x = [], [], [], []

    def add(self, f, g, x) -> bool:
        """Record one iterate (``f`` or ``g`` None: not measured, NaN); False when a measured
        value is not finite."""
        x = x.reshape(-1)
        f = math.nan if f is None else float(f)
        if g is None:
            g2 = math.nan
        else:
            g = g.reshape(-1)
            g2 = float(g @ g)
        if self.x_star is not None:
            e = x - self.x_star.reshape(-1)
            d2 = float(e @ e)
        else:
            d2 = math.nan
        self.f.append(f)
        self.g2.append(g2)
        self.d2.append(d2)
        self.x.append(x.copy())
        return ((self.skip_f or math.isfinite(f)) and (self.skip_g or math.isfinite(g2))
                and (math.isfinite(d2) or bool(np.all(np.isfinite(x)))))

    def record(self, diverged, notes) -> Record:
        cols = {"k": np.arange(len(self.f), dtype=float), "f": np.array(self.f),
                "g2": np.array(self.g2), "d2": np.array(self.d2), "x": np.array(self.x)}
        return Record(cols, diverged, notes)


def run_full(form, inst, params: dict, steps: int, need=("f", "g2")) -> Record:
    """``steps`` steps of ``form`` on ``inst.problem`` from ``inst.x0`` with full gradients."""
    if isinstance(form, Solver):
        return _run_solver(form, inst, params, steps)
    problem = inst.problem
    x = inst.start()
    drv = form.build([x], params)
    cols = _Columns(inst.x_star, need)
    want_f, want_g = "f" in need, "g2" in need
    diverged, notes = None, []

    def closure(backward=True):
        x.grad = None
        loss = problem.f(x)
        if backward:
            loss.backward()
        return loss

    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            loss = closure()
            if not cols.add(float(loss.item()) if want_f else None,
                            _host(x.grad) if want_g else None, _host(x)):
                diverged = k
                break
            if k == steps:
                break
            try:
                drv.step([x], k, closure)
            except FloatingPointError as err:   # optimizers.NonFiniteError included
                notes.append(f"the optimizer raised at step {k}: {err}")
                diverged = k + 1
                break
    return cols.record(diverged, notes)


def _run_solver(form: Solver, inst, params: dict, steps: int) -> Record:
    problem = inst.problem
    iterates = [inst.x0.copy()]

    def callback(xk, *args):
        iterates.append(_host(xk).reshape(problem.shape))

    x0 = B.asarray(inst.x0, dtype=problem.dtype, backend=problem.backend)
    fun = problem.value if form.values_only else problem.f
    with np.errstate(all="ignore"):
        form.solve(fun, x0, callback, maxiter=steps, **params)
        cols = _Columns(inst.x_star)
        diverged = None
        for k, xk in enumerate(iterates[:steps + 1]):
            f, g = problem.value_and_grad(B.asarray(xk, dtype=problem.dtype,
                                                    backend=problem.backend))
            if not cols.add(f, _host(g), xk):
                diverged = k
                break
    return cols.record(diverged, [])
