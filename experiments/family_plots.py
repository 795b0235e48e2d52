"""Figures of comparisons over a family of instances: every instance's margin as a point."""
from __future__ import annotations

import numpy as np

__all__ = ["strip"]


def strip(ax, groups, threshold, ylabel, title):
    """Per-instance points of each group (label, values, color) with the threshold line; an
    infinite margin is drawn at the top (up triangle) or bottom (down triangle)."""
    rng = np.random.default_rng(0)
    finite = [v for _, vals, _ in groups for v in vals if np.isfinite(v)]
    hi = max(finite + [threshold]) + 1.0
    lo = min(finite + [threshold, 0.0]) - 1.0
    for i, (label, vals, color) in enumerate(groups):
        vals = np.asarray(vals, dtype=float)
        x = i + rng.uniform(-0.18, 0.18, vals.size)
        ok = np.isfinite(vals)
        ax.plot(x[ok], vals[ok], "o", color=color, ms=4, alpha=0.75, mec="none")
        ax.plot(x[vals == np.inf], np.full(int(np.sum(vals == np.inf)), hi), "^", color=color)
        ax.plot(x[vals == -np.inf], np.full(int(np.sum(vals == -np.inf)), lo), "v", color=color)
        if ok.any():
            ax.plot([i - 0.3, i + 0.3], [np.mean(vals[ok])] * 2, "-", color="k", lw=1.2)
    ax.axhline(threshold, color="k", ls=(0, (5, 2)), lw=1.0)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g[0] for g in groups], fontsize=6.5, rotation=20, ha="right")
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel(ylabel, fontsize=7.5)
    ax.set_title(title, fontsize=8.5)
