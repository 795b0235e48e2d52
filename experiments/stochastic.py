r"""Helpers shared by the stochastic experiments (``sgd-constant-step``, ``sgd-decreasing-step``,
``sgd-convex-averaged``, ``batch-size``, ``minibatch-error``): runs of SGD over a fixed set of
seeds, with a probe that measures more at every iterate than the runner's own columns.

* :class:`ProbeSGD`: SGD that records ``probe(x_k, g_k)`` before each update (the update itself is
  ``optimizers.SGD``'s, untouched);
* :func:`sigma2_probe`: the exact :math:`\sigma^2(x_k)=\frac1n\sum_i\|\nabla f_i(x_k)\|^2`;
* :func:`run_seeds`: one :func:`experiments.runner.run` per seed, the probe's records as extra
  trace columns;
* :func:`save_fresh`, :func:`mean_se`, :func:`seeds_for`, :func:`unit_vector`,
  :func:`far_start_logistic`.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

import minigrad as mg
import optimizers
from experiments.runner import run as run_one
from experiments.trace import save_traces
from problems import LogisticRegression

__all__ = ["ProbeSGD", "far_start_logistic", "mean_se", "run_seeds", "save_fresh", "seeds_for",
           "sigma2_probe", "unit_vector"]


class ProbeSGD(optimizers.SGD):
    r"""SGD that first calls ``probe(x_k, g_k)`` (backend arrays: the iterate and the gradient
    the step is about to use) and keeps the returned dict of numbers in ``records``.

    The runner gives no hook to measure more at :math:`x_k` than its own columns; this subclass
    does it without changing the update (``super()._update``)."""

    def __init__(self, params, lr, probe):
        super().__init__(params, lr=lr)
        self.probe = probe
        self.records: list[dict] = []

    def _update(self, p, g, state, hp):
        self.records.append(self.probe(p.data, g))
        super()._update(p, g, state, hp)


def sigma2_probe(problem):
    r"""A probe recording :math:`\sigma^2(x_k)=\frac1n\sum_i\|\nabla f_i(x_k)\|^2` (exact)."""
    return lambda x, g: {"sigma2": problem.sigma2(x)}


def run_seeds(problem, lr, *, steps: int, seeds, batch_size: int | None = 1, probe=None,
              label: str = "", meta: dict | None = None, average: str | None = None,
              record_every: int = 1, optimizer=ProbeSGD) -> list:
    """One :func:`experiments.runner.run` per seed (the seed drives the mini-batches only; the
    problem and the start are the same). The probe's records become extra trace columns, aligned
    with ``k`` (NaN at the last iterate, from which no step was taken). ``optimizer``: the class
    built as ``optimizer(params, lr, probe)`` when a probe is given (a :class:`ProbeSGD`)."""
    traces = []
    for s in seeds:
        holder = {}

        def make(params, holder=holder):
            holder["opt"] = (optimizer(params, lr, probe) if probe is not None
                             else optimizers.SGD(params, lr=lr))
            return holder["opt"]

        tr = run_one(problem, make, steps=steps, batch_size=batch_size, seed=int(s),
                     label=label, average=average, record_every=record_every)
        if probe is not None:
            recs = holder["opt"].records
            for key in (recs[0] if recs else {}):
                tr.columns[key] = np.array([float(recs[int(k)][key]) if k < len(recs) else math.nan
                                            for k in tr["k"]])
                tr.meta[f"{key}_max"] = max(float(r[key]) for r in recs)  # over every step
        tr.meta.update(meta or {})
        tr.meta["seed"] = int(s)
        traces.append(tr)
    return traces


def save_fresh(traces, out_dir, stem: str) -> list:
    """:func:`save_traces`, after removing the ``stem_*.npz`` files a previous run left in
    ``out_dir`` (a run with fewer traces would otherwise be drawn with stale ones)."""
    for old in pathlib.Path(out_dir).glob(f"{stem}_*.npz"):
        old.unlink()
    return save_traces(traces, out_dir, stem=stem)


def mean_se(traces, column: str):
    """``(k, mean, standard error)`` of ``column`` over runs of equal length (the seeds)."""
    M = np.stack([np.asarray(t[column], dtype=float) for t in traces])
    se = M.std(axis=0, ddof=1) / math.sqrt(len(traces)) if len(traces) > 1 else 0 * M[0]
    return np.asarray(traces[0]["k"], dtype=float), M.mean(axis=0), se


def seeds_for(seed: int, count: int) -> list:
    """The fixed set of run seeds of an experiment run with CLI seed ``seed``."""
    return [10_000 * seed + s for s in range(count)]


def unit_vector(dim: int, seed: int):
    """A seeded random unit vector (host)."""
    u = mg.backend.host_rng(seed).standard_normal(dim)
    return u / np.linalg.norm(u)


def far_start_logistic(seed: int, distance: float = 2.0, **kw):
    """The lectures' logistic regression (data seed ``seed``), started at
    :math:`x_0=x^*+\\text{distance}\\cdot u` (``u`` a seeded unit vector)."""
    p = LogisticRegression(seed=seed, **kw)
    x_star = mg.to_numpy(p.x_star)
    x0 = x_star + distance * unit_vector(x_star.size, 7919 + seed)
    return LogisticRegression(A=mg.to_numpy(p.A), y=mg.to_numpy(p.y), mu=p.mu, x0=x0)
