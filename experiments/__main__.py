"""Command line: ``python -m experiments [list | run NAME... | run all | report | sweep]``.

With no arguments it lists the experiments and exits 0.

    python -m experiments list
    python -m experiments run gd-rates sgd-constant-step --quick
    python -m experiments run all --quick --jobs 2 --out results
    python -m experiments run all --quick --strict     # exit status 1 if a claim FAILs
    python -m experiments run all --size large --backend cupy   # the GPU-sized problems
    python -m experiments report --out results
    python -m experiments run all --quick --resume     # only what is missing, interrupted, stale
    python -m experiments sweep --quick --jobs 2       # tune and compare optimizers
"""
from __future__ import annotations

import sys

try:  # a bad MINIGRAD_BACKEND is one line, not the traceback of an import
    import minigrad.backend  # noqa: F401 - reads MINIGRAD_BACKEND
except RuntimeError as _exc:
    if type(_exc).__name__ != "BackendError":
        raise
    print(f"error: {_exc}", file=sys.stderr)
    sys.exit(2)

import argparse  # noqa: E402
import pathlib  # noqa: E402

from experiments import cli_args  # noqa: E402
from experiments.jobs import run_one, run_one_safe  # noqa: E402,F401 - run_one: public, used by tests
from experiments.registry import all_experiments  # noqa: E402
from experiments.report import write_report  # noqa: E402


_DESCRIPTION = """Run the experiments that check the lectures' claims, list them, or write the
report of saved results. With no command it lists the experiments."""
_EXAMPLES = """examples:
  python -m experiments list
  python -m experiments run gd-rates sgd-constant-step --quick
  python -m experiments run all --quick --jobs 2 --out results
  python -m experiments run all --quick --strict     # exit status 1 if a claim FAILs
  python -m experiments run all --size large --backend cupy   # the GPU-sized problems
  python -m experiments report --out results
  python -m experiments run all --quick --resume     # only what is missing, interrupted or stale
  python -m experiments sweep --quick --jobs 2       # tune and compare optimizers
  python -m experiments sweep report                 # its profiles, ranks and summary"""


def _parser() -> argparse.ArgumentParser:
    p = cli_args.Parser(prog="python -m experiments", description=_DESCRIPTION,
                                epilog=_EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND",
                           help="list, run, report or sweep (with none: list)")
    sub.add_parser("list", help="list the experiments and their claims",
                   description="List the experiments, each with the claim it checks.")
    run = sub.add_parser("run", help="run experiments by name, or 'all'",
                         description="Run experiments; each writes its traces, figure and "
                                     "verdict into the output folder, then the report is "
                                     "rewritten.")
    run.add_argument("names", nargs="+", metavar="NAME",
                     help="experiment names as 'list' prints them, or 'all'")
    run.add_argument("--quick", action="store_true", help="scaled-down budgets")
    run.add_argument("--backend", choices=["numpy", "strict", "cupy"], default="numpy",
                     help="array backend: numpy (CPU), strict (a CPU stand-in for CuPy that "
                          "refuses host/device mixing) or cupy (a CUDA GPU)")
    run.add_argument("--size", choices=["default", "large"], default="default",
                     help="problem size: 'large' runs the experiments that offer a GPU-sized "
                          "problem (with 'all': only those), into NAME-large/")
    run.add_argument("--seed", type=cli_args.seed, default=0,
                     help="seed of the experiments' random generators (default: 0)")
    run.add_argument("--out", default="results", help="output folder (default: results/)")
    run.add_argument("--jobs", type=cli_args.positive_int, default=1, metavar="N",
                     help="run N experiments at a time, in N worker processes (default: 1, "
                          "in this process)")
    run.add_argument("--resume", action="store_true",
                     help="run only the experiments whose result is missing, interrupted, an "
                          "ERROR or stale (another budget, seed, backend, package version or "
                          "experiment code); keep the others")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="run on the Dask cluster whose scheduler is at ADDRESS "
                          "(tcp://HOST:8786; needs the 'cluster' extra)")
    run.add_argument("--strict", action="store_true",
                     help="exit with status 1 when a claim FAILs (by default only an experiment "
                          "that raises, an ERROR, gives status 1: a FAIL is a result, reported)")
    rep = sub.add_parser("report", help="write <out>/report.md from saved verdicts",
                         description="Write the report (one row per claim) from the verdicts "
                                     "saved in the output folder, without running anything.")
    rep.add_argument("--out", default="results",
                     help="the folder holding the saved verdicts (default: results/)")
    _add_sweep(sub)
    return p


def _add_sweep(sub) -> None:
    sw = sub.add_parser("sweep", help="tune and compare optimizers on a grid of problems, "
                                      "schedules, budgets and seeds",
                        description="Run a sweep: optimizers x problems x schedules x tuning "
                                    "budgets x seeds, tuned by random or grid search over the "
                                    "learning rate and selected on the validation loss "
                                    "(Schmidt, Schneider and Hennig 2021); every run is "
                                    "cached, so a rerun computes only new runs. 'sweep report' "
                                    "draws the performance profiles and rank plots.")
    sw.add_argument("--quick", action="store_true",
                    help="the small grid (about a minute on 2 cores) instead of the full one")
    sw.add_argument("--optimizers", type=cli_args.name_list, metavar="A,B",
                    help="the optimizers, comma-separated (default: the grid's)")
    sw.add_argument("--problems", type=cli_args.name_list, metavar="A,B",
                    help="the problems, comma-separated (default: the grid's)")
    sw.add_argument("--schedules", type=cli_args.name_list, metavar="A,B",
                    help="the learning-rate schedules: constant, cosine, cosine-restarts, "
                         "trapezoid (default: the grid's)")
    sw.add_argument("--search", choices=["random", "grid"],
                    help="how the learning rate is tuned (default: random)")
    sw.add_argument("--budgets", type=lambda t: [cli_args.positive_int(x) for x in
                                                 t.split(",") if x.strip()],
                    metavar="B,B", help="random search: the tuning budgets, runs per "
                                        "configuration (1 = one-shot: the default learning "
                                        "rate)")
    sw.add_argument("--lrs", type=cli_args.float_list, metavar="LR,LR",
                    help="grid search: the learning rates to try")
    sw.add_argument("--seeds", type=cli_args.positive_int, metavar="N",
                    help="seeds of each selected configuration (default: the grid's)")
    sw.add_argument("--steps", type=cli_args.positive_int, metavar="N",
                    help="steps per run (default: the grid's)")
    sw.add_argument("--batch-size", type=cli_args.positive_int, metavar="N",
                    help="mini-batch size on the finite-sum problems (default: the grid's)")
    sw.add_argument("--search-seed", type=cli_args.seed, metavar="N",
                    help="seed of the random search's draws (default: 0)")
    sw.add_argument("--out", default="results/sweep",
                    help="the sweep's folder: its cache of runs, tables, figures and summary "
                         "(default: results/sweep/)")
    sw.add_argument("--jobs", type=cli_args.positive_int, default=1, metavar="N",
                    help="runs at a time, in N worker processes (default: 1)")
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="run on the Dask cluster whose scheduler is at ADDRESS "
                         "(tcp://HOST:8786; needs the 'cluster' extra)")
    sw.add_argument("--plan", action="store_true",
                    help="print the grid's size and estimated cost, and run nothing")
    swsub = sw.add_subparsers(dest="sweep_command", metavar="report",
                              help="'report': draw the figures and summary of a finished sweep "
                                   "(without it: run the sweep)")
    swrep = swsub.add_parser("report", help="draw the profiles and ranks of a finished sweep",
                             description="Draw the performance profiles and rank plots and "
                                         "write summary.md from a sweep's tables.")
    swrep.add_argument("--out", default="results/sweep",
                       help="the sweep's folder (default: results/sweep/)")


def _list(experiments) -> int:
    if not experiments:
        print("No experiments are registered yet.")
    for name, exp in experiments.items():
        print(f"{name:28s} {exp.claim}")
    return 0


def _run(args, experiments) -> int:
    from experiments.command_run import run_command

    return run_command(args, experiments)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _main(args)
    except KeyboardInterrupt:  # outside a run's own handling (which writes the report first)
        print("interrupted", file=sys.stderr)
        return 130


def _main(args) -> int:
    try:
        experiments = all_experiments()
    except ImportError as exc:
        print(f"error: cannot import the experiments ({exc})", file=sys.stderr)
        return 2
    if args.command in (None, "list"):
        return _list(experiments)
    if args.command == "sweep":
        from experiments.command_sweep import sweep_command

        return sweep_command(args)
    if args.command == "report":
        out = pathlib.Path(args.out)
        if not out.is_dir():
            print(f"error: no results folder {out}; run experiments first", file=sys.stderr)
            return 2
        print(f"report: {write_report(out)}")
        return 0
    return _run(args, experiments)


if __name__ == "__main__":
    sys.exit(main())
