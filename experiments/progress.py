"""Progress over the inner work of running experiments.

The units of work the experiments share are the engine's reverse pass (a gradient: one
``backward()`` or one functional transform; :func:`minigrad.autograd.reverse_passes` counts
them in each process) and the evaluation of a function alone (the zero-order methods' queries
and value-only trials, through an objective: :func:`optimizers.objective.value_evaluations`);
the work of an experiment is their sum. Two halves, so that the display works the same for an experiment in this
process and in a worker process:

* :func:`reporting` (where the experiment runs): while the block runs, a thread writes the passes
  and the value-only evaluations done so far and the seconds elapsed to ``.progress.json`` in the experiment's folder, every
  half second (atomically);
* :class:`Monitor` (in the command line's process): reads those files and shows one tqdm bar per
  running experiment when the output is a terminal, a plain line every ``plain_every`` seconds
  otherwise. The bar's total is the count of the experiment's previous run with the same
  budget (recorded in its ``verdict.json``), when there is one.
"""
from __future__ import annotations

import contextlib
import json
import pathlib
import sys
import threading
import time

from experiments import atomic

__all__ = ["FILE", "Monitor", "Work", "reporting"]

FILE = ".progress.json"


class Work:
    """The work done in this process since the object was made: ``passes()`` (reverse passes),
    ``evaluations()`` (evaluations of f alone) and, calling it, their sum."""

    def __init__(self):
        from minigrad import autograd
        from optimizers import objective

        self._counters = (autograd.reverse_passes, objective.value_evaluations)
        self._start = tuple(c() for c in self._counters)

    def passes(self) -> int:
        return self._counters[0]() - self._start[0]

    def evaluations(self) -> int:
        return self._counters[1]() - self._start[1]

    def __call__(self) -> int:
        return self.passes() + self.evaluations()


@contextlib.contextmanager
def reporting(folder, interval: float = 0.5):
    """Write the work done in this process since the block began to ``folder/.progress.json``
    every ``interval`` seconds; yields a :class:`Work` counting what was done inside the block."""
    path = pathlib.Path(folder) / FILE
    done, t0 = Work(), time.monotonic()
    stop = threading.Event()

    def write():
        if path.parent.is_dir():
            with contextlib.suppress(OSError):
                atomic.write_json(path, {"passes": done.passes(),
                                         "evaluations": done.evaluations(),
                                         "seconds": round(time.monotonic() - t0, 1)})

    def loop():
        while not stop.wait(interval):
            write()

    thread = threading.Thread(target=loop, name="progress-writer", daemon=True)
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join()


def _read(path: pathlib.Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class Monitor:
    """Show the progress of the experiments whose folders are under ``root``.

    ``expected``: ``{folder: work (passes + evaluations) of the previous run or None}`` for the experiments of this
    run; ``tty``: draw tqdm bars (True) or print plain lines (False); ``write``: how to print a
    plain line (a tqdm-safe writer)."""

    def __init__(self, root, expected: dict, *, tty: bool, write=print, interval: float = 0.5,
                 plain_every: float = 15.0):
        self.root, self.expected, self.tty, self.write = pathlib.Path(root), expected, tty, write
        self.interval, self.plain_every = interval, plain_every
        self._bars: dict = {}
        self._last_line: dict = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="progress-monitor", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        with self._lock:
            for bar in self._bars.values():
                bar.close()
            self._bars.clear()

    def finished(self, folder: str) -> None:
        """An experiment ended: drop its bar."""
        with self._lock:
            bar = self._bars.pop(folder, None)
            self.expected.pop(folder, None)
        if bar is not None:
            bar.close()

    def _loop(self):
        while not self._stop.wait(self.interval):
            for folder in list(self.expected):
                state = _read(self.root / folder / FILE)
                if state is not None:
                    self._show(folder, state)

    def _show(self, folder, state):
        total = self.expected.get(folder)
        evaluations = int(state.get("evaluations", 0))
        done = int(state["passes"]) + evaluations
        if self.tty:
            from tqdm import tqdm

            with self._lock:
                if folder not in self.expected:
                    return
                bar = self._bars.get(folder)
                if bar is None:
                    bar = self._bars[folder] = tqdm(
                        total=total, desc=f"  {folder}", unit=" eval", leave=False,
                        position=len(self._bars) + 1, dynamic_ncols=True, file=sys.stderr)
                if total is not None and done > bar.total:
                    bar.total = done
                bar.n = done
                bar.refresh()
            return
        now = time.monotonic()
        first_seen = self._last_line.setdefault(folder, now)  # a short experiment prints nothing
        if now - first_seen < self.plain_every:
            return
        self._last_line[folder] = now
        share = f", {min(done / total, 1.0):.0%} of its last run's" if total else ""
        values = f", {evaluations} value-only evaluations" if evaluations else ""
        self.write(f"  {folder}: {state['passes']} gradient passes{values} in "
                   f"{state['seconds']:.0f} s{share}")
