r"""Stochastic runs for the SGD theorems: ``seeds`` independent runs of an optimizer on a finite
sum from the same start, and the one-sided test of a bound on an expectation.

:func:`run_seeds` makes the runs at once (:mod:`theorems.stacked`): at each step every run
draws its own mini-batch from one seeded host generator (``rng_seed``; the indices of step
:math:`k` are ``rng.integers(0, n, size=(seeds, batch))``), the stacked loss is differentiated
by the engine, and every run steps. Two ways to hold the runs (``parallel``):

* ``"rows"`` (the default for an optimizer class or factory): the rows of one
  ``(seeds, d)`` parameter and one optimizer. That is exact for an optimizer whose update acts
  on each entry (or each row) separately (SGD, momentum, Adam, ...). It is verified: during
  the first two steps a separate optimizer runs row 0 alone on the same mini-batches, and a
  mismatch (an update that couples the rows, e.g. through a norm of the whole gradient)
  raises ``ValueError`` asking for ``parallel="separate"``;
* ``"separate"``: one parameter and one optimizer per run (always exact; a step function is
  always run so).

Recorded: the gaps :math:`f(x_k)-f^*` (``(K+1, seeds)``), the averaged-iterate gaps
(``average="uniform"``: :math:`\bar x_k=\frac1k\sum_{t<k}x_t`; ``"weighted"``:
:math:`\bar x_k=\sum_{t<k}\alpha_tx_t/\sum_{t<k}\alpha_t`; row 0 NaN), and
:math:`\sigma^2_{\max}`, the maximum of the exact :math:`\sigma^2(x)` over every iterate
:math:`x_0..x_{K-1}` of every run: the bounded-variance constant certified on the region the
runs visit, which is what the theorems assume.

:func:`one_sided` is the test of :class:`theorems.base.Procedure`: the measured value at
:math:`k` is the mean over the runs minus ``z`` standard errors.
"""
from __future__ import annotations

import math

import minigrad as mg
from minigrad import backend as B
from minigrad.tensor import Tensor
from theorems.forms import OptimizerForm, StepForm
from theorems.runs import Record
from theorems.stacked import stacked_view

__all__ = ["one_sided", "run_seeds", "step_value"]

np = B.host_xp()


def step_value(lr, k: int) -> float:
    """The step size of step ``k``: ``lr`` itself, or ``lr(k)`` for a schedule."""
    return float(lr(k)) if callable(lr) else float(lr)


def one_sided(samples, z: float):
    """``(mean - z SE, mean, SE)`` over the runs (axis 1) of ``samples``."""
    mean = samples.mean(axis=1)
    se = samples.std(axis=1, ddof=1) / math.sqrt(samples.shape[1])
    return mean - z * se, mean, se


def _tensor(a, backend):
    with B.use_backend(backend):
        return Tensor(B.asarray(a, backend=backend), requires_grad=True)


def run_seeds(form, inst, params: dict, steps: int, *, seeds: int, batch: int = 1,
              rng_seed: int = 0, average: str | None = None, parallel: str | None = None,
              f_star: float | None = None) -> Record:
    """The runs (module docstring). ``f_star`` defaults to the instance's."""
    if isinstance(form, StepForm):
        parallel = "separate" if parallel in (None, "separate") else parallel
    parallel = parallel or "rows"
    if parallel not in ("rows", "separate"):
        raise ValueError(f"run_seeds: parallel must be 'rows' or 'separate'; got {parallel!r}")
    if parallel == "rows" and not isinstance(form, OptimizerForm):
        raise ValueError("run_seeds: parallel='rows' needs an optimizer class or factory; a "
                         "step function runs each seed separately")
    if average not in (None, "uniform", "weighted"):
        raise ValueError(f"run_seeds: average must be None, 'uniform' or 'weighted'; got "
                         f"{average!r}")
    problem = inst.problem
    view = stacked_view(problem)
    f_star = inst.f_star if f_star is None else f_star
    S, d, backend = int(seeds), inst.dim, problem.backend
    rng = B.host_rng(rng_seed)
    X0 = np.tile(inst.x0.reshape(1, -1), (S, 1))
    if parallel == "rows":
        tensors = [_tensor(X0, backend)]
        drivers = [form.build(tensors, params)]
        shadow = [_tensor(inst.x0.reshape(-1), backend)]
        shadow_driver = form.build(shadow, params)
    else:
        tensors = [_tensor(X0[s], backend) for s in range(S)]
        drivers = ([form.build(tensors, params)] if isinstance(form, StepForm) else
                   [form.build([t], params) for t in tensors])
        shadow = None

    def host_rows():
        return (np.asarray(mg.to_numpy(tensors[0].data), dtype=float) if parallel == "rows"
                else np.stack([np.asarray(mg.to_numpy(t.data), dtype=float) for t in tensors]))

    def loss_of(ts, idx):
        return view.batch_loss(ts if parallel == "separate" or ts is shadow else ts[0], idx)

    gaps = np.empty((steps + 1, S))
    avg = np.full((steps + 1, S), np.nan)
    x_sum, w_sum, sigma2_max = np.zeros((S, d)), 0.0, 0.0
    diverged, notes = None, []
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            Xh = host_rows()
            Z = view.products(Xh)
            gaps[k] = view.f(Xh, Z) - f_star
            if average and k > 0:
                avg[k] = view.f(x_sum / w_sum) - f_star
            if not np.all(np.isfinite(gaps[k])):
                diverged = k
                gaps, avg = gaps[:k + 1], avg[:k + 1]
                break
            if k == steps:
                break
            sigma2_max = max(sigma2_max, float(np.max(view.sigma2(Xh, Z))))
            idx = rng.integers(0, view.n, size=(S, batch))

            def closure(backward=True, ts=tensors, idx=idx):
                return _closure_one(ts, idx, loss_of, backward)

            closure()
            for j, drv in enumerate(drivers):
                own = tensors if len(drivers) == 1 else [tensors[j]]
                drv.step(own, k, closure if len(drivers) == 1 else
                         (lambda backward=True, t=own, i=idx[j:j + 1]:
                          _closure_one(t, i, loss_of, backward)))
            if shadow is not None and k < 2:
                _closure_one(shadow, idx[:1], loss_of)
                shadow_driver.step(shadow, k, lambda backward=True: _closure_one(
                    shadow, idx[:1], loss_of, backward))
                row0 = mg.to_numpy(tensors[0].data)[0]
                alone = mg.to_numpy(shadow[0].data)
                if not np.allclose(row0, alone, rtol=1e-10, atol=1e-14 * (1 + np.abs(alone).max())):
                    raise ValueError(f"{form.label}: the update of run 0 as a row of the stacked "
                                     f"parameter differs from the same run alone (the update "
                                     f"couples the rows); pass parallel='separate'")
            w = 1.0 if average != "weighted" else step_value(params["lr"], k)
            x_sum += w * Xh
            w_sum += w
    k = np.arange(gaps.shape[0], dtype=float)
    return Record({"k": k, "gap": gaps, "avg_gap": avg}, diverged, notes,
                  meta={"sigma2": sigma2_max, "seeds": S, "batch": batch})


def _closure_one(ts, idx, loss_of, backward=True):
    for t in ts:
        t.grad = None
    loss = loss_of(ts, idx)
    if backward:
        loss.backward()
    return loss
