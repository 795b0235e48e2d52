"""Small synthetic classification data sets, drawn on the host from a seeded generator.

Each function returns ``(X, y)`` as host (NumPy) arrays: ``X`` float64 of shape (m, dim), ``y``
int64 labels in ``[0, n_classes)``. A problem moves them to its backend with
``minigrad.backend.asarray``, so CPU and GPU problems hold bit-identical data. Nothing is
downloaded.
"""
from __future__ import annotations

import math

from minigrad import backend as B
from problems import _validate as V
from problems.base import as_rng

__all__ = ["two_moons", "spirals", "gaussian_blobs", "DATASETS"]


def _split(m: int, k: int) -> list:
    """``m`` samples split as evenly as possible over ``k`` classes."""
    return [m // k + (1 if c < m % k else 0) for c in range(k)]


def two_moons(m: int = 200, noise: float = 0.1, seed=0):
    r"""Two interleaved half circles (as scikit-learn's ``make_moons``): class 0 on
    :math:`(\cos t, \sin t)`, class 1 on :math:`(1-\cos t, \tfrac12-\sin t)`,
    :math:`t\in[0,\pi]`, plus Gaussian noise of standard deviation ``noise``."""
    m = V.positive_int("two_moons", "m", m, minimum=2)
    noise = V.nonnegative("two_moons", "noise", noise)
    np, rng = B.host_xp(), as_rng(seed)
    m0, m1 = _split(m, 2)
    t0 = np.linspace(0.0, math.pi, m0)
    t1 = np.linspace(0.0, math.pi, m1)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1),
                        np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], 1)])
    X = X + noise * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(m0, dtype=np.int64), np.ones(m1, dtype=np.int64)])
    return X, y


def spirals(m: int = 200, n_classes: int = 2, noise: float = 0.05, turns: float = 1.0, seed=0):
    r"""``n_classes`` interleaved spiral arms: arm :math:`c` is
    :math:`r(\cos\theta,\sin\theta)` with :math:`r=t\in[0.1,1]`,
    :math:`\theta=2\pi(\text{turns}\cdot t + c/\text{n\_classes})`, plus Gaussian noise."""
    m = V.positive_int("spirals", "m", m, minimum=2)
    n_classes = V.positive_int("spirals", "n_classes", n_classes, minimum=2)
    noise = V.nonnegative("spirals", "noise", noise)
    turns = V.positive("spirals", "turns", turns)
    np, rng = B.host_xp(), as_rng(seed)
    Xs, ys = [], []
    for c, mc in enumerate(_split(m, n_classes)):
        t = np.linspace(0.1, 1.0, mc)
        theta = 2 * math.pi * (turns * t + c / n_classes)
        Xs.append(np.stack([t * np.cos(theta), t * np.sin(theta)], 1))
        ys.append(np.full(mc, c, dtype=np.int64))
    X = np.concatenate(Xs)
    return X + noise * rng.standard_normal(X.shape), np.concatenate(ys)


def gaussian_blobs(m: int = 200, n_classes: int = 3, dim: int = 2, spread: float = 1.0,
                   center_scale: float = 3.0, seed=0):
    r"""Gaussian clusters: centres :math:`c_k\sim N(0, \text{center\_scale}^2 I)`, samples
    :math:`c_{y_i} + \text{spread}\cdot N(0, I)`, classes as equal as ``m`` allows."""
    m = V.positive_int("gaussian_blobs", "m", m)
    n_classes = V.positive_int("gaussian_blobs", "n_classes", n_classes, minimum=2)
    dim = V.positive_int("gaussian_blobs", "dim", dim)
    spread = V.nonnegative("gaussian_blobs", "spread", spread)
    center_scale = V.nonnegative("gaussian_blobs", "center_scale", center_scale)
    np, rng = B.host_xp(), as_rng(seed)
    centers = center_scale * rng.standard_normal((n_classes, dim))
    y = np.concatenate([np.full(mc, c, dtype=np.int64)
                        for c, mc in enumerate(_split(m, n_classes))])
    X = centers[y] + spread * rng.standard_normal((m, dim))
    return X, y


DATASETS = {"moons": two_moons, "spirals": spirals, "blobs": gaussian_blobs}
