r"""Small helpers shared by the experiments: the verdict dict, fits of rates and slopes, and
host-side statistics of traces.

Everything here works on host (NumPy) arrays: traces are recorded on the host
(:mod:`experiments.runner` converts every measurement to a Python float), so the analysis of a
run never touches the backend.

* :func:`verdict`: the dict an experiment returns (``verdict``, ``claim``, ``bound``,
  ``measured``, ``figure``, ``summary`` and any extra entries);
* :func:`loglog_slope`: least-squares slope :math:`p` of :math:`\log y = c + p\log x` (a rate
  :math:`O(x^p)`, or iterations :math:`\propto n^p`);
* :func:`linear_rate`: the per-step factor :math:`\hat\rho` of :math:`y_k\approx C\hat\rho^k`
  fitted on a window of the curve (optionally with a :math:`k^p` prefactor, the form of an
  iteration with a double eigenvalue, e.g. the heavy ball at its optimal parameters);
* :func:`running_min`, :func:`first_index_below`, :func:`mean_column`, :func:`tail_mean`.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["first_index_below", "fmt", "host", "linear_rate", "loglog_slope", "mean_column",
           "running_min", "tail_mean", "verdict"]


def host(a) -> np.ndarray:
    """``a`` (a NumPy or CuPy array, a list or a number) as a NumPy float array."""
    if hasattr(a, "get"):
        a = a.get()
    return np.asarray(a, dtype=float)


def fmt(x: float, digits: int = 3) -> str:
    """A number in a short human form: ``0.934``, ``1.2e-05``, ``inf``."""
    if x is None:
        return "n/a"
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) < 10 ** -(digits - 1) or abs(x) >= 10 ** (digits + 2)):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def verdict(passed: bool, *, claim: str, bound: str, measured: str, figure: str | None,
            summary: str | None = None, **extra) -> dict:
    """The verdict dict of an experiment (see :mod:`experiments.report`).

    ``passed``: the outcome of the measured check; ``claim``: the lecture's statement;
    ``bound``: the formula checked; ``measured``: the measured figure (a sentence with numbers);
    ``figure``: the PNG file name in the experiment's folder; ``summary``: one short line
    (defaults to ``measured``). Extra keyword entries (numbers, lists) are kept, so that the
    verdict file also holds the raw measured values.
    """
    out = {"verdict": "PASS" if passed else "FAIL", "claim": claim, "bound": bound,
           "measured": measured, "figure": figure, "summary": summary or measured}
    out.update(extra)
    return out


def loglog_slope(x, y) -> tuple[float, float]:
    r"""Least-squares fit of :math:`\log y = c + p\log x`; returns ``(p, c)``.

    Non-positive or non-finite points are dropped; fewer than two left gives ``(nan, nan)``.
    """
    x, y = host(x), host(y)
    m = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if m.sum() < 2:
        return math.nan, math.nan
    p, c = np.polyfit(np.log(x[m]), np.log(y[m]), 1)
    return float(p), float(c)


def linear_rate(k, y, *, window: tuple[float, float] | None = None, tail: float = 0.5,
                power: bool = False, sqrt: bool = False) -> float:
    r"""The per-step contraction factor :math:`\hat\rho` of a linearly converging curve.

    Fits :math:`\log y_k = c + k\log\hat\rho` (or, with ``power=True``,
    :math:`\log y_k = c + p\log k + k\log\hat\rho`: the form :math:`k\rho^k` of an iteration
    matrix with a Jordan block) by least squares, on the points whose value relative to
    ``y[0]`` lies in ``window = (lo, hi)`` (default: all points above ``1e-13``, i.e. before
    round-off), and among those on the last ``tail`` fraction of the iterations (the asymptotic
    regime, after the transients). ``sqrt=True`` fits :math:`\sqrt{y}` (a rate of
    :math:`\|x_k-x^*\|` from the column ``dist2``). Returns ``nan`` when fewer than 3 points
    remain.
    """
    k, y = host(k), host(y)
    if sqrt:
        y = np.sqrt(np.maximum(y, 0.0))
    rel = y / y[0] if y.size and y[0] > 0 else y
    lo, hi = window if window is not None else (1e-13, math.inf)
    m = np.isfinite(rel) & (rel > lo) & (rel <= hi) & (k > 0)
    idx = np.nonzero(m)[0]
    if idx.size < 3:
        return math.nan
    kk = k[idx]
    keep = kk >= kk[0] + (1.0 - tail) * (kk[-1] - kk[0])
    idx = idx[keep]
    if idx.size < 3:
        return math.nan
    cols = [np.ones(idx.size), k[idx]]
    if power:
        cols.append(np.log(k[idx]))
    coef = np.linalg.lstsq(np.stack(cols, axis=1), np.log(y[idx]), rcond=None)[0]
    return float(np.exp(coef[1]))


def running_min(a) -> np.ndarray:
    r""":math:`\min_{i\le k} a_i` for every ``k`` (NaN-safe: NaNs are ignored)."""
    a = host(a)
    return np.fmin.accumulate(a) if a.size else a


def first_index_below(y, threshold: float) -> int | None:
    """The first index where ``y <= threshold``, or None when it never gets there."""
    y = host(y)
    hits = np.nonzero(y <= threshold)[0]
    return int(hits[0]) if hits.size else None


def mean_column(traces, column: str) -> tuple[np.ndarray, np.ndarray]:
    """``(k, mean over traces of column)`` on the common prefix of the traces' ``k``."""
    n = min(len(t) for t in traces)
    k = host(traces[0]["k"][:n])
    return k, np.mean([host(t[column][:n]) for t in traces], axis=0)


def tail_mean(y, fraction: float = 0.5) -> float:
    """The mean of the last ``fraction`` of ``y`` (a noise floor of a stationary tail)."""
    y = host(y)
    start = math.floor(y.size * (1.0 - fraction))
    return float(np.mean(y[start:]))
