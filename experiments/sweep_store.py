"""Where a sweep keeps its results: one small JSON file per cell, and tidy CSV tables.

* ``<out>/cells/<key>.json``: a cell's row, under the hash of its configuration and the package
  version (:func:`experiments.sweep_cell.cell_key`), written atomically when the cell ends: a
  rerun (or a stopped sweep's next run) computes only the cells that have no file;
* ``<out>/runs.csv``: one row per run of the grid (the cells), the columns of
  :data:`RUN_COLUMNS`;
* ``<out>/selected.csv``: one row per (optimizer, problem, schedule, budget): the learning rate
  the selection rule chose and the test loss of its runs over the seeds (:data:`SELECTED_COLUMNS`).

Numbers are written as Python's ``repr`` (the shortest text that reads back to the same float),
so a table read back is bit for bit the table written.
"""
from __future__ import annotations

import csv
import io
import json
import math
import pathlib

from experiments import atomic

__all__ = ["RUN_COLUMNS", "SELECTED_COLUMNS", "load_cell", "read_table", "save_cell",
           "write_table"]

RUN_COLUMNS = ("optimizer", "problem", "schedule", "lr", "seed", "steps", "batch_size",
               "checkpoints", "final_train", "best_train", "final_valid", "best_valid",
               "final_test", "best_test", "diverged", "steps_done", "n_grad", "seconds", "key")
SELECTED_COLUMNS = ("optimizer", "problem", "schedule", "search", "budget", "budget_label",
                    "candidates", "selected_lr", "selected_from", "tuning_valid", "test_mean",
                    "test_se", "seeds", "diverged_seeds")


def _cell_path(out, key: str) -> pathlib.Path:
    return pathlib.Path(out) / "cells" / f"{key}.json"


def load_cell(out, key: str) -> dict | None:
    try:
        return json.loads(_cell_path(out, key).read_text())
    except (OSError, ValueError):
        return None


def save_cell(out, key: str, row: dict) -> None:
    atomic.write_json(_cell_path(out, key), dict(row, key=key))


def _text(value) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_table(path, rows, columns) -> pathlib.Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row.get(c, "")) for c in columns])
    return atomic.write_text(path, buf.getvalue())


#: the columns that hold text (the others hold numbers or booleans)
TEXT_COLUMNS = {"optimizer", "problem", "schedule", "key", "search", "budget_label",
                "selected_from"}


def _value(text: str):
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_table(path) -> list:
    """The rows of a table written by :func:`write_table`, numbers as numbers."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: v if k in TEXT_COLUMNS else _value(v) for k, v in row.items()}
                for row in csv.DictReader(fh)]


def finite_or_inf(x) -> float:
    x = float(x)
    return x if math.isfinite(x) else math.inf
