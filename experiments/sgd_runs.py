r"""What the SGD experiments (``sgd-constant-step``, ``sgd-decreasing-step``,
``sgd-convex-averaged``) share beyond :mod:`experiments.stochastic`: runs whose divergence is a
measured outcome, the broken update of their controls, and one-sided t bounds over seeds.

* :class:`BiasedProbeSGD`: :class:`~experiments.stochastic.ProbeSGD` whose step uses a biased
  gradient, :math:`x_{k+1}=x_k-\alpha_k(g_k+\delta)` with a constant :math:`\delta`, so that
  :math:`\mathbb E[g_k+\delta]=\nabla f(x_k)+\delta\ne\nabla f(x_k)`: outside the hypotheses of
  every SGD theorem (an unbiased stochastic gradient);
* :func:`bias`: such a :math:`\delta` of a given norm;
* :func:`run_guarded`: :func:`experiments.stochastic.run_seeds`, one seed at a time, where a
  run that overflows or reaches a non-finite :math:`f` stops there and its gap columns are
  ``inf`` from that iterate to the end of the grid of :math:`k` (``meta["diverged_at"]``): a
  divergence is recorded, never an error;
* :func:`applied_step`: the step the runs took, read back from their ``lr`` column (a constant
  :math:`\alpha`, or the :math:`\alpha_0` of :math:`\alpha_0/\sqrt{k+1}`);
* :func:`by_seed`: runs ordered by seed (paired comparisons match seeds, not file order);
* :func:`t_band`: per :math:`k`, the mean over seeds, its standard error and the one-sided
  confidence bounds :math:`\bar x\pm t_{c,n-1}\,s/\sqrt n` (Student's t quantile for the
  seeds' :math:`n-1` degrees of freedom, :func:`experiments.stats.t_quantile`); ``inf`` where
  a seed diverged;
* :func:`ratio`: a measured number over a bound, ``inf`` where the number is;
* :func:`excess_3se`: the earlier rules' statistic, :math:`\max_k(\bar x-3\,\mathrm{SE}-
  \text{bound})`.
"""
from __future__ import annotations

import functools
import math

import numpy as np

import optimizers
from experiments import stats
from experiments.stochastic import ProbeSGD, run_seeds
from experiments.trace import Trace
from minigrad import backend as B

__all__ = ["BiasedProbeSGD", "GAP_COLUMNS", "applied_step", "bias", "by_seed", "excess_3se",
           "grid_of", "ratio", "run_guarded", "t_band"]

#: the columns that hold a measured size (``inf`` once a run has diverged)
GAP_COLUMNS = ("f", "f_gap", "f_avg_gap", "grad_norm2", "dist2")
#: the columns of a run that raised when no run of the same call recorded any (gaps inf, the
#: step and the noise NaN)
RAISED_COLUMNS = ("k",) + GAP_COLUMNS + ("lr", "sigma2_max")


class BiasedProbeSGD(ProbeSGD):
    r"""A broken update: :class:`ProbeSGD` stepping along :math:`g_k+\delta`,
    :math:`x_{k+1}=x_k-\alpha_k(g_k+\delta)` (the probe sees the unbiased :math:`g_k`)."""

    def __init__(self, params, lr, probe, delta):
        super().__init__(params, lr, probe)
        self.delta = delta

    def _update(self, p, g, state, hp):
        self.records.append(self.probe(p.data, g))
        delta = B.asarray(self.delta, dtype=g.dtype, backend=B.backend_name_of(g))
        # x - alpha (g + delta)
        optimizers.SGD._update(self, p, g + delta.reshape(g.shape), state, hp)


def bias(dim: int, norm: float):
    r"""A bias :math:`\delta` of norm ``norm``: the pattern :math:`(2,1,-1,2,1,-1,\dots)`
    over ``dim`` entries, rescaled (host array)."""
    if not (math.isfinite(norm) and norm > 0):
        raise ValueError(f"bias: norm must be a positive number; got {norm!r}")
    d = np.resize(np.array([2.0, 1.0, -1.0]), int(dim))
    return d * (norm / np.linalg.norm(d))


def grid_of(steps: int, record_every: int) -> np.ndarray:
    """The iterations the runner records: every ``record_every``-th and the last."""
    return np.array(sorted(set(range(0, steps + 1, record_every)) | {steps}), dtype=float)


def _padded(tr: Trace, grid: np.ndarray) -> Trace:
    """``tr`` on the whole ``grid``: from its first non-finite ``f`` on (or past its last
    record), the gap columns are ``inf`` and the others NaN."""
    k = np.asarray(tr["k"], dtype=float)
    f = np.asarray(tr["f"], dtype=float)
    bad = np.flatnonzero(~np.isfinite(f))
    stop = int(bad[0]) if bad.size else k.size
    if stop == k.size and k.size == grid.size:
        return tr
    cols = {}
    for name, v in tr.columns.items():
        v = np.asarray(v, dtype=float)[:stop]
        fill = math.inf if name in GAP_COLUMNS else math.nan
        cols[name] = np.concatenate([v, np.full(grid.size - v.size, fill)])
    cols["k"] = grid.copy()
    meta = dict(tr.meta, diverged=True,
                diverged_at=float(grid[stop]) if stop < grid.size else float(grid[-1]))
    return Trace(tr.label, cols, meta)


def run_guarded(problem, lr, *, steps: int, seeds, probe, delta=None, record_every: int = 1,
                label: str = "", meta: dict | None = None, **kw) -> list:
    """:func:`run_seeds` one seed at a time (``delta``: the bias of :class:`BiasedProbeSGD`,
    None for plain SGD), every trace on the full grid of ``k``: a run that diverges (non-finite
    ``f``, an ``OverflowError`` or a ``FloatingPointError``) is stopped there and padded with
    ``inf`` (see :func:`_padded`); one that raised before recording anything is ``inf`` from
    :math:`k=0` and keeps the error's text in ``meta["error"]``."""
    grid = grid_of(steps, record_every)
    opt = ProbeSGD if delta is None else functools.partial(BiasedProbeSGD, delta=delta)
    out = []
    for s in seeds:
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                (tr,) = run_seeds(problem, lr, steps=steps, seeds=[s], probe=probe,
                                  record_every=record_every, label=label, meta=meta,
                                  optimizer=opt, **kw)
        except (OverflowError, FloatingPointError) as e:
            tr = Trace(label, {"k": grid[:1]}, dict(meta or {}, seed=int(s),
                                                    error=f"{type(e).__name__}: {e}"))
        out.append(tr)
    names = next((list(t.columns) for t in out if "error" not in t.meta), RAISED_COLUMNS)
    for i, t in enumerate(out):
        if "error" in t.meta:                  # the columns every other run of the call has
            t = Trace(t.label, {n: np.array([t["k"][0] if n == "k" else
                                             math.inf if n in GAP_COLUMNS else math.nan])
                                for n in names}, t.meta)
        out[i] = _padded(t, grid)
    return out


def applied_step(traces, power: float = 0.0) -> float:
    r"""The step the runs applied, read back from the runner's ``lr`` column: the constant
    :math:`\alpha_k(k+1)^p` (``power`` :math:`p`): :math:`\alpha` of a constant step for
    :math:`p=0`, :math:`\alpha_0` of :math:`\alpha_k=\alpha_0/\sqrt{k+1}` for :math:`p=\frac12`.
    A ``ValueError`` when it is not the same at every step of every run (relative spread above
    :math:`10^{-9}`)."""
    steps = np.concatenate([np.asarray(t["lr"], dtype=float)
                            * (np.asarray(t["k"], dtype=float) + 1.0) ** power for t in traces])
    steps = steps[np.isfinite(steps)]
    if steps.size == 0:
        raise ValueError("applied_step: the runs recorded no step")
    if np.ptp(steps) > 1e-9 * abs(steps[0]):
        raise ValueError(f"applied_step: alpha_k (k+1)^{power:g} is not constant over the runs "
                         f"(from {steps.min():g} to {steps.max():g})")
    return float(steps[0])


def by_seed(traces) -> list:
    """``traces`` sorted by ``meta["seed"]``."""
    return sorted(traces, key=lambda t: int(t.meta["seed"]))


def t_band(traces, column: str, confidence: float = 0.95) -> dict:
    r"""Per recorded :math:`k`, over the runs (the seeds, at least 2): ``k``, ``mean``, ``se``,
    ``lower`` and ``upper`` :math:`=\bar x\mp t_{c,n-1}\,\mathrm{SE}` (one-sided bounds at
    confidence ``confidence``), ``t`` the quantile, ``n``. Where a run is ``inf`` (it diverged)
    the mean, the SE and both bounds are ``inf``; where a value is unknown (NaN, e.g. an average
    before the first step) they are NaN."""
    M = np.stack([np.asarray(t[column], dtype=float) for t in traces])
    n = M.shape[0]
    if n < 2:
        raise ValueError(f"t_band: needs at least 2 runs; got {n}")
    q = stats.t_quantile(confidence, n - 1)
    diverged = np.any(np.isposinf(M), axis=0)
    with np.errstate(invalid="ignore", over="ignore"):
        mean = M.mean(axis=0)
        se = M.std(axis=0, ddof=1) / math.sqrt(n)
        lower, upper = mean - q * se, mean + q * se
    out = dict(k=np.asarray(traces[0]["k"], dtype=float), mean=mean, se=se, lower=lower,
               upper=upper, t=q, n=n)
    for key in ("mean", "se", "lower", "upper"):
        out[key] = np.where(diverged, math.inf, out[key])
    return out


def ratio(x, bound):
    """``x / bound`` elementwise, ``inf`` where ``x`` is ``inf`` (whatever the bound)."""
    x, bound = np.asarray(x, dtype=float), np.asarray(bound, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isposinf(x), math.inf, x / bound)


def excess_3se(mean, se, bound) -> float:
    """:math:`\\max_k(\\text{mean}-3\\,\\mathrm{SE}-\\text{bound})` over the entries where
    the bound is known (the earlier rules' fixed margin of 3 standard errors); ``inf`` where a
    run diverged."""
    mean, se, bound = (np.asarray(v, dtype=float) for v in (mean, se, bound))
    known = np.isfinite(bound)
    with np.errstate(invalid="ignore"):
        d = np.where(np.isposinf(mean), math.inf, mean - 3 * se - bound)[known]
    return float(np.max(d))
