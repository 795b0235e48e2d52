"""Shared plotting helpers for the experiments' figures (matplotlib, Agg backend: no display).

Figures are a pure function of saved traces: an experiment's ``draw(out_dir)`` loads its traces
(:func:`experiments.trace.load_traces`) and calls these helpers.

* :func:`subplots`: a figure and a flat list of axes, with the house style;
* :func:`plot_traces`: one line per trace of a column against ``k`` (or another column), on a
  linear, semi-log or log-log scale; :func:`semilogy_traces` and :func:`loglog_traces` are the
  two usual cases;
* :func:`reference_line`: a bound or a theoretical rate drawn as a thin dashed line;
* :func:`annotate`: a text box in a corner of an axes (a measured figure, a verdict);
* :func:`save`: write the PNG and close the figure.
"""
from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["COLORS", "annotate", "loglog_traces", "plot_traces", "reference_line", "save",
           "semilogy_traces", "subplots"]

#: a colour cycle that stays readable in print (matplotlib's tab10)
COLORS = list(plt.get_cmap("tab10").colors)


def subplots(nrows: int = 1, ncols: int = 1, *, width: float = 4.6, height: float = 3.5,
             title: str | None = None, **kwargs):
    """``(fig, axes)`` with ``axes`` a flat list; each panel is ``width x height`` inches."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False, **kwargs)
    axes = list(axes.flat)
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)
        ax.tick_params(labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig, axes


def _positive(y):
    """NaN where ``y`` is not positive (so a log axis does not warn or jump to 0)."""
    y = np.asarray(y, dtype=float)
    return np.where(y > 0, y, np.nan)


def plot_traces(ax, traces, column: str, *, x: str = "k", scale: str = "semilogy",
                labels=None, colors=None, styles=None, normalize=None, transform=None,
                lw: float = 1.4, **kwargs):
    """Plot ``column`` of every trace against the column ``x`` (default ``k``).

    ``scale``: "linear", "semilogy" or "loglog" (on log axes the non-positive values are
    dropped, and with "loglog" the point ``x = 0`` too); ``labels``: one per trace (default
    the traces' labels); ``colors``/``styles``: one per trace (default the cycle / solid);
    ``normalize``: "first" divides each curve by its first value, a callable ``f(trace)``
    gives the divisor; ``transform``: a callable applied to the column (e.g. a running
    minimum). Extra keyword arguments go to ``ax.plot``. Returns the list of lines.
    """
    traces = list(traces)
    lines = []
    for i, tr in enumerate(traces):
        xs = np.asarray(tr[x], dtype=float)
        ys = np.asarray(tr[column], dtype=float)
        if transform is not None:
            ys = np.asarray(transform(ys), dtype=float)
        if normalize == "first":
            ys = ys / ys[0]
        elif callable(normalize):
            ys = ys / normalize(tr)
        if scale in ("semilogy", "loglog"):
            ys = _positive(ys)
        if scale == "loglog":
            xs = np.where(xs > 0, xs, np.nan)
        label = labels[i] if labels is not None else tr.label
        color = colors[i] if colors is not None else COLORS[i % len(COLORS)]
        style = styles[i] if styles is not None else "-"
        (line,) = ax.plot(xs, ys, style, color=color, lw=lw, label=label, **kwargs)
        lines.append(line)
    if scale in ("semilogy", "loglog"):
        ax.set_yscale("log")
    if scale == "loglog":
        ax.set_xscale("log")
    return lines


def semilogy_traces(ax, traces, column: str, **kwargs):
    """:func:`plot_traces` with a log y axis."""
    return plot_traces(ax, traces, column, scale="semilogy", **kwargs)


def loglog_traces(ax, traces, column: str, **kwargs):
    """:func:`plot_traces` with both axes logarithmic."""
    return plot_traces(ax, traces, column, scale="loglog", **kwargs)


def reference_line(ax, x, y, label: str | None = None, *, color: str = "k", style: str = "--",
                   lw: float = 1.1, **kwargs):
    """A bound or theoretical curve ``y(x)``: a thin dashed line (non-positive values on a log
    axis are dropped)."""
    y = np.asarray(y, dtype=float)
    if ax.get_yscale() == "log":
        y = _positive(y)
    (line,) = ax.plot(x, y, style, color=color, lw=lw, label=label, **kwargs)
    return line


def annotate(ax, text: str, *, loc: str = "upper right", fontsize: float = 7.5):
    """A small boxed text in a corner of ``ax`` ("upper right", "lower left", ...)."""
    v, h = loc.split()
    xy = (0.97 if h == "right" else 0.03, 0.97 if v == "upper" else 0.03)
    ax.text(*xy, text, transform=ax.transAxes, fontsize=fontsize,
            ha="right" if h == "right" else "left", va="top" if v == "upper" else "bottom",
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7", "alpha": 0.9})


def save(fig, path, *, dpi: int = 110, tight: bool = True) -> pathlib.Path:
    """Save ``fig`` as ``path`` (a PNG) and close it; returns the path. ``tight`` applies
    ``fig.tight_layout()`` first (leave it off for figures with hand-set margins)."""
    path = pathlib.Path(path)
    if tight:
        fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
