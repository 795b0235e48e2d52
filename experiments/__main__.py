"""Command line: ``python -m experiments [list | run NAME... | run all | report]``.

With no arguments it lists the experiments and exits 0.

    python -m experiments list
    python -m experiments run gd-rates sgd-constant-step --quick
    python -m experiments run all --quick --jobs 2 --out results
    python -m experiments run all --quick --strict     # exit status 1 if a claim FAILs
    python -m experiments run all --size large --backend cupy   # the GPU-sized problems
    python -m experiments report --out results
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
from concurrent.futures import as_completed  # noqa: E402

from experiments.jobs import pool as _pool  # noqa: E402
from experiments.jobs import run_one, run_one_safe  # noqa: E402,F401 - run_one: public, used by tests
from experiments.registry import all_experiments  # noqa: E402
from experiments.report import write_report  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m experiments", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command")
    sub.add_parser("list", help="list the experiments and their claims")
    run = sub.add_parser("run", help="run experiments by name, or 'all'")
    run.add_argument("names", nargs="+", metavar="NAME")
    run.add_argument("--quick", action="store_true", help="scaled-down budgets")
    run.add_argument("--backend", choices=["numpy", "strict", "cupy"], default="numpy",
                     help="array backend: numpy (CPU), strict (a CPU stand-in for CuPy that "
                          "refuses host/device mixing) or cupy (a CUDA GPU)")
    run.add_argument("--size", choices=["default", "large"], default="default",
                     help="problem size: 'large' runs the experiments that offer a GPU-sized "
                          "problem (with 'all': only those), into NAME-large/")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--out", default="results", help="output folder (default: results/)")
    run.add_argument("--jobs", type=int, default=1, help="experiments run in N processes")
    run.add_argument("--strict", action="store_true",
                     help="exit with status 1 when a claim FAILs (by default only an experiment "
                          "that raises, an ERROR, gives status 1: a FAIL is a result, reported)")
    rep = sub.add_parser("report", help="write <out>/report.md from saved verdicts")
    rep.add_argument("--out", default="results")
    return p


def _list(experiments) -> int:
    if not experiments:
        print("No experiments are registered yet.")
    for name, exp in experiments.items():
        print(f"{name:28s} {exp.claim}")
    return 0


def _check_out(out: pathlib.Path) -> str | None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        return f"cannot write to output folder {out}: {exc}"
    return None


def _run(args, experiments) -> int:
    sized = [n for n, e in experiments.items() if args.size in e.sizes]
    names = sized if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in experiments]
    if unknown:
        print(f"error: unknown experiment(s): {', '.join(unknown)}; "
              f"known: {', '.join(experiments) or '(none yet)'}", file=sys.stderr)
        return 2
    unsized = [n for n in names if n not in sized]
    if unsized:
        print(f"error: experiment(s) without a {args.size!r} size: {', '.join(unsized)}; "
              f"those with one: {', '.join(sized)}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"error: --jobs must be at least 1; got {args.jobs}", file=sys.stderr)
        return 2
    import minigrad

    try:
        minigrad.set_backend(args.backend)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = pathlib.Path(args.out)
    problem = _check_out(out)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from tqdm import tqdm

    status = 0
    bar = tqdm(total=len(names), desc="experiments", unit="exp", disable=None)
    job_args = [(n, str(out), args.quick, args.seed, args.backend, args.size) for n in names]
    if args.jobs == 1:
        results = (run_one_safe(*a) for a in job_args)
    else:
        pool = _pool(args.jobs)
        results = (f.result() for f in as_completed([pool.submit(run_one_safe, *a)
                                                     for a in job_args]))
    for summary in results:
        bar.update(1)
        seconds = summary.get("seconds")
        took = f"({seconds:.1f} s)  " if seconds is not None else ""
        size = summary.get("size", "default")
        shown = summary["name"] if size == "default" else f"{summary['name']} (size {size})"
        bar.write(f"{shown}: {summary.get('verdict', '?')}  {took}"
                  f"{summary.get('summary', '')}")
        if summary.get("verdict") == "ERROR":
            bar.write(summary["traceback"])
        verdict = summary.get("verdict")
        if verdict == "ERROR" or (args.strict and verdict == "FAIL"):
            status = 1
    bar.close()
    if args.jobs > 1:
        pool.shutdown()
    print(f"report: {write_report(out)}")
    return status


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    experiments = all_experiments()
    if args.command in (None, "list"):
        return _list(experiments)
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
