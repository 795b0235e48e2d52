"""Sweeps: a grid of optimizers x problems x schedules x tuning budgets x seeds, tuned and
evaluated by the protocol of :mod:`experiments.sweep_grid`, each cell computed once and cached.

Python API::

    from experiments import sweep, sweep_grid
    summary = sweep.run_sweep(sweep_grid.QUICK, "results/sweep", jobs=2)
    # on a Dask cluster: client = distributed.Client("tcp://HOST:8786")
    summary = sweep.run_sweep(grid, "results/sweep", client=client)

Two phases, each a batch of cells run through :func:`experiments.engine.map_unordered`
(in this process, in ``jobs`` local processes, or on the cluster of ``client``):

1. the tuning runs: every candidate learning rate of every budget, seed 0;
2. the evaluation runs: the selected learning rate of every budget, seeds 1..S-1.

A cell whose result is cached (:mod:`experiments.sweep_store`) is not computed again, so a
rerun, a larger budget or more seeds compute only the new cells. The cells are computed where
the engine puts them and stored by this process, so the workers of a cluster need not see the
output folder. Outputs: ``runs.csv``, ``selected.csv`` and ``sweep.json`` (the grid, its
protocol, the counts and times); :mod:`experiments.sweep_report` draws the figures.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import math
import pathlib
import time

from experiments import atomic, engine, runinfo
from experiments.sweep_cell import cell_key, run_cell
from experiments.sweep_grid import Grid, budget_label, candidates
from experiments.sweep_store import (RUN_COLUMNS, SELECTED_COLUMNS, finite_or_inf, load_cell,
                                     save_cell, write_table)

__all__ = ["estimate", "plan", "run_sweep", "select"]


def _cell(grid: Grid, optimizer, problem, schedule, lr, seed) -> dict:
    return {"optimizer": optimizer, "problem": problem, "schedule": schedule, "lr": float(lr),
            "seed": int(seed), "steps": grid.steps, "batch_size": grid.batch_size,
            "checkpoints": grid.checkpoints}


def _combos(grid: Grid):
    for o in grid.optimizers:
        for p in grid.problems:
            for s in grid.schedules:
                yield o, p, s


def _tuning(grid: Grid) -> dict:
    """``{(optimizer, problem, schedule, budget): [(source, lr), ...]}``."""
    return {(o, p, s, b): candidates(grid, o, p, s, b)
            for o, p, s in _combos(grid) for b in grid.budget_list()}


def plan(grid: Grid) -> dict:
    """How many cells the grid has: the tuning runs, and at most how many evaluation runs."""
    tuning = {(o, p, s, lr) for (o, p, s, _), cands in _tuning(grid).items() for _, lr in cands}
    combos = len(list(_combos(grid)))
    final_max = combos * len(grid.budget_list()) * (grid.seeds - 1)
    return {"tuning_cells": len(tuning), "evaluation_cells_at_most": final_max,
            "cells_at_most": len(tuning) + final_max, "steps_per_cell": grid.steps}


def _planned_cells(grid: Grid) -> list:
    """The tuning cells and, for every budget and seed > 0, one evaluation cell per
    (optimizer, problem, schedule) (the selected learning rate is not known before the tuning
    runs; an estimate counts one per budget)."""
    cells = {}
    for (o, p, s, _), cands in _tuning(grid).items():
        for _, lr in cands:
            cells.setdefault((o, p, s, lr, 0), _cell(grid, o, p, s, lr, 0))
    for o, p, s in _combos(grid):
        for b in grid.budget_list():
            for seed in range(1, grid.seeds):
                cells[(o, p, s, -b, seed)] = _cell(grid, o, p, s, math.nan, seed)
    return list(cells.values())


def estimate(grid: Grid, out) -> dict:
    """The cost of the grid's cells not cached in ``out``, in seconds of run time, from the
    seconds per step of the cells cached there (per problem and optimizer, else per problem,
    else over all); None when nothing is cached to measure from."""
    out = pathlib.Path(out)
    version = runinfo.package_version()
    measured = []
    for path in sorted((out / "cells").glob("*.json")) if (out / "cells").is_dir() else ():
        try:
            row = json.loads(path.read_text())
            measured.append((row["problem"], row["optimizer"],
                             float(row["seconds"]) / max(int(row["steps_done"]), 1)))
        except (OSError, ValueError, KeyError):
            continue
    by_both, by_problem = collections.defaultdict(list), collections.defaultdict(list)
    for p, o, x in measured:
        by_both[(p, o)].append(x)
        by_problem[p].append(x)
    overall = [x for _, _, x in measured]
    cells = _planned_cells(grid)
    todo = [c for c in cells if math.isnan(c["lr"]) or load_cell(out, cell_key(c, version))
            is None]
    seconds = None
    if overall:
        seconds = 0.0
        for c in todo:
            rate = by_both.get((c["problem"], c["optimizer"])) or by_problem.get(c["problem"]) \
                or overall
            seconds += c["steps"] * sum(rate) / len(rate)
    return {"cells": len(cells), "cells_to_compute": len(todo), "seconds": seconds,
            "measured_from": len(measured)}


def select(rows_by_lr: dict, cands: list) -> tuple:
    """The selection rule: ``(source, lr)`` of the candidate with the lowest final validation
    loss (non-finite counts as +inf; ties go to the earlier candidate)."""
    best = None
    for source, lr in cands:
        value = finite_or_inf(rows_by_lr[lr]["final_valid"])
        if best is None or value < best[0]:
            best = (value, source, lr)
    return best[1], best[2]


def _compute(cells: list, out, version, jobs, client, on_cell, found: dict) -> tuple:
    """Rows for ``cells`` (cached ones read, the others computed and cached), each also put
    into ``found`` as soon as it is known; returns ``(rows by key, number computed)``."""
    rows, todo = {}, {}
    for cell in cells:
        key = cell_key(cell, version)
        cached = load_cell(out, key)
        if cached is not None:
            rows[key] = found[key] = cached
        else:
            todo[key] = cell
    keys = list(todo)
    for done, (i, row) in enumerate(engine.map_unordered(
            run_cell, [(todo[k],) for k in keys], jobs=jobs, client=client), start=1):
        save_cell(out, keys[i], row)
        rows[keys[i]] = found[keys[i]] = dict(row, key=keys[i])
        if on_cell is not None:
            on_cell(done, len(keys))
    return rows, len(keys)


def _stats(values: list) -> tuple:
    if not values or not all(math.isfinite(v) for v in values):
        return math.inf, math.nan
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, math.nan
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var / len(values))


def run_sweep(grid: Grid, out, *, jobs: int = 1, client=None, on_cell=None) -> dict:
    """Run (or complete) the sweep ``grid`` into the folder ``out``; returns its summary (also
    written to ``out/sweep.json``). ``on_cell(done, total)`` is called as cells finish. A
    Ctrl-C stops it: the cells finished so far stay cached and ``runs.csv`` holds them."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    version = runinfo.package_version()
    t0 = time.perf_counter()
    all_rows, computed = {}, 0
    summary = {"grid": dataclasses.asdict(grid), "protocol": grid.protocol(), "plan": plan(grid),
               "started": runinfo.now(), "environment": runinfo.environment()}
    try:
        tuning = _tuning(grid)
        first = {}
        for (o, p, s, _), cands in tuning.items():
            for _, lr in cands:
                first.setdefault((o, p, s, lr), _cell(grid, o, p, s, lr, 0))
        rows, n = _compute(list(first.values()), out, version, jobs, client, on_cell,
                           all_rows)
        computed += n
        by_lr = {(r["optimizer"], r["problem"], r["schedule"], r["lr"]): r for r in rows.values()}
        chosen = {}
        for (o, p, s, b), cands in tuning.items():
            chosen[(o, p, s, b)] = select({lr: by_lr[(o, p, s, lr)] for _, lr in cands}, cands)
        finals = {}
        for (o, p, s, _), (_, lr) in chosen.items():
            for seed in range(1, grid.seeds):
                finals.setdefault((o, p, s, lr, seed), _cell(grid, o, p, s, lr, seed))
        rows, n = _compute(list(finals.values()), out, version, jobs, client, on_cell,
                           all_rows)
        computed += n
    except KeyboardInterrupt:
        summary.update(interrupted=True, cells_done=len(all_rows))
        _write_runs(out, all_rows)
        atomic.write_json(out / "sweep.json", summary)
        raise
    by_seed = {(r["optimizer"], r["problem"], r["schedule"], r["lr"], r["seed"]): r
               for r in all_rows.values()}
    selected = []
    for (o, p, s, b), (source, lr) in chosen.items():
        runs = [by_seed[(o, p, s, lr, seed)] for seed in range(grid.seeds)]
        mean, se = _stats([float(r["final_test"]) for r in runs])
        selected.append({"optimizer": o, "problem": p, "schedule": s, "search": grid.search,
                         "budget": b, "budget_label": budget_label(grid, b),
                         "candidates": len(tuning[(o, p, s, b)]), "selected_lr": lr,
                         "selected_from": source,
                         "tuning_valid": by_lr[(o, p, s, lr)]["final_valid"],
                         "test_mean": mean, "test_se": se, "seeds": grid.seeds,
                         "diverged_seeds": sum(bool(r["diverged"]) for r in runs)})
    _write_runs(out, all_rows)
    write_table(out / "selected.csv", selected, SELECTED_COLUMNS)
    summary.update(cells=len(all_rows), cells_computed=computed,
                   cells_cached=len(all_rows) - computed,
                   cell_seconds=round(sum(float(r["seconds"]) for r in all_rows.values()), 2),
                   seconds=round(time.perf_counter() - t0, 2), finished=runinfo.now())
    atomic.write_json(out / "sweep.json", summary)
    return summary


def _write_runs(out, rows: dict) -> None:
    ordered = sorted(rows.values(), key=lambda r: (r["optimizer"], r["problem"], r["schedule"],
                                                   float(r["lr"]), int(r["seed"])))
    write_table(out / "runs.csv", ordered, RUN_COLUMNS)
