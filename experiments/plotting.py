"""Shared plotting helpers for the experiments' figures (matplotlib, Agg backend: no display).

Figures are a pure function of saved traces: an experiment's ``draw(out_dir)`` loads its traces
(:func:`experiments.trace.load_traces`) and calls these helpers.

* :func:`subplots`: a figure and a flat list of axes, with the house style;
* :func:`plot_traces`: one line per trace of a column against ``k`` (or another column), on a
  linear, semi-log or log-log scale; :func:`semilogy_traces` and :func:`loglog_traces` are the
  two usual cases;
* :func:`reference_line`: a bound or a theoretical rate drawn as a thin dashed line;
* :func:`annotate`: a text box in a corner of an axes (a measured figure, a verdict);
* :func:`decisive`: mark the panel that decides the verdict: it draws the threshold there and
  records the decisive number; when the figure is saved the panel gets a frame and a box in
  the verdict's colour saying the verdict and the number against its threshold;
* :func:`save`: write the PNG and close the figure (legend text below :data:`MIN_FONT` points is
  raised to it, so that legends stay readable at the saved size).

Colours: :data:`COLORS` is Paul Tol's colour-blind-safe "muted" qualitative scheme (Tol 2021,
"Colour Schemes", SRON technical note) with a dark grey, and matplotlib's default colour cycle
is set to it, so every figure uses the same palette.

The verdict in the box: during a run (:func:`collecting`, used by :mod:`experiments.jobs`) the
figures are held until the experiment has returned its verdict, then written with it; a figure
redrawn later from the saved traces (``module.draw(out_dir)``) reads the verdict from the
folder's ``verdict.json``, and says none when there is none yet.
"""
from __future__ import annotations

import contextlib
import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from cycler import cycler  # noqa: E402

__all__ = ["COLORS", "MIN_FONT", "VERDICT_COLORS", "annotate", "collecting", "decisive",
           "loglog_traces", "plot_traces", "reference_line", "save", "semilogy_traces",
           "subplots"]

#: the palette of every figure: Paul Tol's "muted" scheme (colour-blind safe), then a dark grey
COLORS = ["#332288", "#CC6677", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933",
          "#AA4499", "#DDCC77", "#555555"]
#: the colour of each verdict in a figure's verdict box
VERDICT_COLORS = {"PASS": "#117733", "FAIL": "#882255", "INFO": "#332288", "ERROR": "#882255"}
#: the smallest legend font size (points) a saved figure keeps
MIN_FONT = 8.0

matplotlib.rcParams["axes.prop_cycle"] = cycler(color=COLORS)
matplotlib.rcParams["legend.fontsize"] = MIN_FONT


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


def annotate(ax, text: str, *, loc: str = "upper right", fontsize: float = MIN_FONT):
    """A small boxed text in a corner of ``ax`` ("upper right", "lower left", ...)."""
    v, h = loc.split()
    xy = (0.97 if h == "right" else 0.03, 0.97 if v == "upper" else 0.03)
    ax.text(*xy, text, transform=ax.transAxes, fontsize=fontsize,
            ha="right" if h == "right" else "left", va="top" if v == "upper" else "bottom",
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7", "alpha": 0.9})


def _fmt(x: float) -> str:
    from experiments.common import fmt

    return fmt(x, 4)


def decisive(ax, *, label: str, value: float, threshold: float, op: str = "<=",
             line: str | None = None, loc: str = "lower right") -> dict:
    """Mark ``ax`` as the panel that decides the verdict: ``value`` (what the panel measures,
    named ``label``) against ``threshold`` (``op``: "<=", ">=", "<" or ">"). ``line``: "h"
    draws the threshold as a horizontal line, "v" as a vertical one, None when the panel
    already draws it (a bound curve). ``loc``: the corner of the verdict box. Returns the
    record the report shows (``label``, ``value``, ``op``, ``threshold``)."""
    if op not in ("<=", ">=", "<", ">"):
        raise ValueError(f"decisive: op must be one of <=, >=, <, >; got {op!r}")
    record = {"label": label, "value": float(value), "op": op, "threshold": float(threshold)}
    style = {"color": "k", "ls": (0, (5, 2)), "lw": 1.3, "zorder": 4,
             "label": f"threshold {_fmt(threshold)}"}
    if line == "h":
        ax.axhline(threshold, **style)
    elif line == "v":
        ax.axvline(threshold, **style)
    elif line is not None:
        raise ValueError(f"decisive: line must be 'h', 'v' or None; got {line!r}")
    ax.figure._decisive = (ax, record, loc)
    return record


def _stamp(fig, verdict: str | None) -> None:
    """Write the verdict box on the figure's decisive panel (if it has one)."""
    marked = getattr(fig, "_decisive", None)
    if marked is None:
        return
    from experiments.report import decisive_text

    ax, d, loc = marked
    shown = verdict or "no verdict yet"
    color = VERDICT_COLORS.get(verdict, "#555555")
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_edgecolor(color)
        spine.set_linewidth(2.0)
    v, h = loc.split()
    ax.text(0.98 if h == "right" else 0.02, 0.98 if v == "upper" else 0.02,
            f"{shown}\n{decisive_text(d)}",
            transform=ax.transAxes, fontsize=MIN_FONT + 0.5, fontweight="bold", color=color,
            ha="right" if h == "right" else "left", va="top" if v == "upper" else "bottom",
            zorder=10, bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": color,
                             "lw": 1.5, "alpha": 0.95})


def _readable_legends(fig) -> None:
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            for text in legend.get_texts():
                if text.get_fontsize() < MIN_FONT:
                    text.set_fontsize(MIN_FONT)
    for legend in fig.legends:
        for text in legend.get_texts():
            if text.get_fontsize() < MIN_FONT:
                text.set_fontsize(MIN_FONT)


def tight_layout(fig) -> None:
    """``fig.tight_layout()``, and the figure left with no layout engine. Matplotlib's
    ``tight_layout`` leaves a placeholder engine on the figure (one that does nothing), and
    ``savefig`` lays out a figure that has an engine once more, in a whole draw that renders
    nothing, before the real one: each save (each frame of an animation) would pay for two
    draws. The figure written is the same, byte for byte. (Without an engine the figure keeps the
    layout just computed, whatever ``figure.autolayout`` or ``figure.constrained_layout.use``
    say: with them set, removing the engine would install a new one.)"""
    fig.tight_layout()
    with matplotlib.rc_context({"figure.autolayout": False,
                                "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)


def _write(fig, path: pathlib.Path, dpi: int, tight: bool, verdict: str | None) -> None:
    _stamp(fig, verdict)
    if tight:
        tight_layout(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


class Collection:
    """The figures an experiment saved during a run, held until its verdict is known."""

    def __init__(self):
        self.held: list = []

    def decisive(self) -> dict | None:
        """The decisive record of the first held figure that has one."""
        for fig, *_ in self.held:
            marked = getattr(fig, "_decisive", None)
            if marked is not None:
                return marked[1]
        return None

    def finish(self, verdict: str | None) -> None:
        """Write every held figure with ``verdict`` in its verdict box."""
        held, self.held = self.held, []
        for fig, path, dpi, tight in held:
            _write(fig, path, dpi, tight, verdict)

    def discard(self) -> None:
        held, self.held = self.held, []
        for fig, *_ in held:
            plt.close(fig)


_COLLECTION: Collection | None = None


@contextlib.contextmanager
def collecting():
    """Within the block :func:`save` holds the figures (in the yielded :class:`Collection`);
    the caller writes them with :meth:`Collection.finish` once the verdict is known (figures
    still held when the block ends are discarded)."""
    global _COLLECTION
    outer, _COLLECTION = _COLLECTION, Collection()
    collection = _COLLECTION
    try:
        yield collection
    finally:
        _COLLECTION = outer
        collection.discard()


def _saved_verdict(folder: pathlib.Path) -> str | None:
    try:
        v = json.loads((folder / "verdict.json").read_text()).get("verdict")
    except (OSError, ValueError, AttributeError):
        return None
    return v if v in VERDICT_COLORS else None


def save(fig, path, *, dpi: int = 110, tight: bool = True) -> pathlib.Path:
    """Save ``fig`` as ``path`` (a PNG) and close it; returns the path. ``tight`` applies
    ``fig.tight_layout()`` first (leave it off for figures with hand-set margins). During a run
    (:func:`collecting`) the figure is held and written when the verdict is known."""
    path = pathlib.Path(path)
    _readable_legends(fig)
    if _COLLECTION is not None:
        _COLLECTION.held.append((fig, path, dpi, tight))
        return path
    _write(fig, path, dpi, tight, _saved_verdict(path.parent))
    return path
