"""``python -m experiments sweep``: run a sweep (:mod:`experiments.sweep`) from the command line,
or (``sweep report``) draw its report (:mod:`experiments.sweep_report`).

The grid starts from the full one (:data:`experiments.sweep_grid.FULL`), or the quick one with
``--quick``; each option replaces one of its entries. ``--plan`` prints the grid's size and
its estimated cost (from the seconds per step of the cells already cached in ``--out``) and
runs nothing. A Ctrl-C stops the sweep: the finished cells stay cached (the next run computes
the rest), ``runs.csv`` holds them, and the exit status is 130.
"""
from __future__ import annotations

import dataclasses
import pathlib
import sys
import time

from experiments import cli_args, engine, sweep_grid

__all__ = ["sweep_command"]


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _grid(args) -> sweep_grid.Grid:
    base = sweep_grid.QUICK if args.quick else sweep_grid.FULL
    changes = {}
    for what, known in (("optimizers", sweep_grid.OPTIMIZERS), ("problems", sweep_grid.PROBLEMS),
                        ("schedules", sweep_grid.SCHEDULES)):
        names = getattr(args, what)
        if names is not None:
            problem = cli_args.unknown_names(names, known, what[:-1])
            if problem:
                raise cli_args.UsageError(problem)
            changes[what] = tuple(names)
    if args.search is not None:
        changes["search"] = args.search
    if args.lrs is not None:
        if (args.search or base.search) != "grid":
            raise cli_args.UsageError("--lrs gives a grid search's learning rates: add "
                                      "--search grid (a random search takes --budgets)")
        changes.update(lrs=tuple(args.lrs), budgets=())
    if args.budgets is not None:
        if (args.search or base.search) != "random":
            raise cli_args.UsageError("--budgets sets a random search's budgets; a grid search "
                                      "tries all its --lrs")
        changes["budgets"] = tuple(args.budgets)
    if changes.get("search") == "grid" and "lrs" not in changes:
        raise cli_args.UsageError("--search grid needs its learning rates: --lrs 1e-3,1e-2,...")
    if changes.get("search") == "random" and base.search == "grid" and "budgets" not in changes:
        changes["budgets"] = (1, 4)
    for name in ("seeds", "steps", "batch_size", "search_seed"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    try:
        return dataclasses.replace(base, **changes)
    except ValueError as exc:
        raise cli_args.UsageError(str(exc)) from None


def _hours(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _plan(grid, out) -> int:
    from experiments.sweep import estimate, plan

    size = plan(grid)
    cost = estimate(grid, out)
    print(f"grid: {len(grid.optimizers)} optimizers x {len(grid.problems)} problems x "
          f"{len(grid.schedules)} schedules, budgets "
          f"{', '.join(sweep_grid.budget_label(grid, b) for b in grid.budget_list())}, "
          f"{grid.seeds} seeds, {grid.steps} steps per run")
    print(f"runs: {size['tuning_cells']} tuning runs + at most "
          f"{size['evaluation_cells_at_most']} evaluation runs = at most {size['cells_at_most']}")
    print(f"protocol: {grid.protocol()}")
    if cost["seconds"] is None:
        print(f"cost: unknown yet (no run cached in {out} to measure from; run "
              f"`sweep --quick --out {out}` first)")
    else:
        print(f"cost: {cost['cells_to_compute']} runs to compute, about "
              f"{_hours(cost['seconds'])} of run time (measured from {cost['measured_from']} "
              f"cached runs; divide by the number of workers for the wall clock)")
    return 0


def _report(out) -> int:
    from experiments.sweep_report import write_sweep_report

    out = pathlib.Path(out)
    for name in ("sweep.json", "selected.csv"):
        if not (out / name).is_file():
            return _error(f"no finished sweep in {out} (no {name}); run "
                          f"`python -m experiments sweep --out {out}` first")
    print(f"sweep report: {write_sweep_report(out)}")
    return 0


def sweep_command(args) -> int:
    """The ``sweep`` and ``sweep report`` commands (exit status 0; 2 on bad input; 130 when
    interrupted)."""
    if args.sweep_command == "report":
        return _report(args.out)
    try:
        grid = _grid(args)
    except cli_args.UsageError as exc:
        return _error(str(exc))
    out = pathlib.Path(args.out)
    if args.plan:
        return _plan(grid, out)
    problem = cli_args.check_out(out)
    if problem:
        return _error(problem)
    try:
        client = engine.client_for(args.jobs, args.scheduler, "runs")
    except engine.EngineError as exc:
        return _error(str(exc))
    try:
        return _sweep(grid, out, args.jobs, client)
    finally:
        if client is not None:
            client.close()


def _sweep(grid, out, jobs, client) -> int:
    from tqdm import tqdm

    from experiments.sweep import run_sweep
    from experiments.sweep_report import write_sweep_report

    bar = tqdm(desc="sweep runs", unit="run", disable=None)
    last = [time.monotonic()]

    def on_cell(done, total):
        if bar.disable:
            now = time.monotonic()
            if now - last[0] >= 15 or done == total:
                last[0] = now
                print(f"  {done}/{total} runs of this phase", flush=True)
            return
        if bar.total != total:
            bar.reset(total=total)
        bar.update(done - bar.n)

    try:
        summary = run_sweep(grid, out, jobs=jobs, client=client, on_cell=on_cell)
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: the finished runs are cached in {out / 'cells'} and listed in "
              f"{out / 'runs.csv'}; the same command computes the rest")
        return 130
    bar.close()
    print(f"sweep: {summary['cells']} runs ({summary['cells_computed']} computed, "
          f"{summary['cells_cached']} cached) in {summary['seconds']:.1f} s")
    print(f"tables: {out / 'runs.csv'}, {out / 'selected.csv'}")
    print(f"sweep report: {write_sweep_report(out)}")
    return 0
