r"""Comparisons over a family of instances: the share of instances on which one arm wins by a
margin, and the one-sided t bound of the mean paired margin.

Both arms of a comparison run on every instance of the family (the same instances serve both:
paired), each instance gives one margin :math:`d_i` (e.g. the decades by which one method ends
below the other), and the experiments' rules apply

* the **share** :math:`\frac1N\#\{i: d_i\ge m\}` of instances won by at least the margin
  :math:`m` (a NaN margin, both arms diverged, is no win);
* the **one-sided t bound** of the mean margin (:func:`experiments.stats.one_sided_t`, Student's
  t with :math:`N-1` degrees of freedom): :math:`\bar d-t_{c,N-1}\,s_d/\sqrt N`, with the
  p-value of :math:`H_1:\ \mathbb E d>m` and the effect size :math:`d_z=(\bar d-m)/s_d`.
  An infinite margin (one arm diverged) enters as :math:`\pm` ``cap`` (the largest margin the
  measurement can show), a NaN one as 0 (no difference).
"""
from __future__ import annotations

import math

import numpy as np

from experiments import stats

__all__ = ["mean_bound", "win_share"]


def _margins(margins, name: str) -> np.ndarray:
    d = np.asarray(margins, dtype=float).ravel()
    if d.size == 0:
        raise ValueError(f"{name}: no instances")
    return d


def win_share(margins, at_least: float) -> float:
    r"""The share of instances with margin :math:`d_i\ge` ``at_least`` (NaN: no win)."""
    d = _margins(margins, "win_share")
    with np.errstate(invalid="ignore"):
        return float(np.mean(~np.isnan(d) & (d >= at_least)))


def mean_bound(margins, *, margin: float = 0.0, cap: float, confidence: float = 0.95) -> dict:
    r"""The one-sided t test of :math:`H_1:\ \mathbb E d>` ``margin`` on the paired margins.

    Returns ``bound`` (the lower ``confidence`` bound of the mean), ``mean``, ``p``, ``effect``
    (Cohen's :math:`d_z` against ``margin``), ``n`` and ``clipped`` (how many margins were
    infinite and entered as :math:`\pm` ``cap``). With fewer than two instances the bound is
    :math:`-\infty` (no test)."""
    if not (math.isfinite(cap) and cap > 0):
        raise ValueError(f"mean_bound: cap must be a positive number; got {cap!r}")
    d = _margins(margins, "mean_bound")
    clipped = int(np.sum(np.isinf(d)))
    d = np.clip(np.where(np.isnan(d), 0.0, d), -cap, cap)
    if d.size < 2:
        return {"bound": -math.inf, "mean": float(d.mean()), "p": 1.0, "effect": math.nan,
                "n": int(d.size), "clipped": clipped}
    t = stats.one_sided_t(d, mu0=margin, alternative="greater", confidence=confidence)
    return {"bound": t["bound"], "mean": t["mean"], "p": t["p"], "effect": t["effect"],
            "n": t["n"], "clipped": clipped, "confidence": confidence}
