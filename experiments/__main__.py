"""Command line: ``python -m experiments [list | run NAME... | run all]``.

With no arguments it lists the experiments and exits 0.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

from experiments.registry import all_experiments


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m experiments", description=__doc__)
    sub = p.add_subparsers(dest="command")
    sub.add_parser("list", help="list the experiments and their claims")
    run = sub.add_parser("run", help="run experiments by name, or 'all'")
    run.add_argument("names", nargs="+", metavar="NAME")
    run.add_argument("--quick", action="store_true", help="scaled-down budgets")
    run.add_argument("--backend", choices=["numpy", "cupy"], default="numpy")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--out", default="results", help="output folder (default: results/)")
    return p


def _list(experiments) -> int:
    if not experiments:
        print("No experiments are registered yet.")
    for name, exp in experiments.items():
        print(f"{name:28s} {exp.claim}")
    return 0


def _run(args, experiments) -> int:
    names = list(experiments) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in experiments]
    if unknown:
        print(f"error: unknown experiment(s): {', '.join(unknown)}; "
              f"known: {', '.join(experiments) or '(none yet)'}", file=sys.stderr)
        return 2
    import minigrad

    try:
        minigrad.set_backend(args.backend)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = pathlib.Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        print(f"error: cannot write to output folder {out}: {exc}", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        exp_dir = out / name
        exp_dir.mkdir(parents=True, exist_ok=True)
        summary = experiments[name].run(exp_dir, quick=args.quick, seed=args.seed,
                                        backend=args.backend)
        (exp_dir / "verdict.json").write_text(json.dumps(summary, indent=2, default=str))
        print(f"{name}: {summary.get('verdict', '?')}  {summary.get('summary', '')}")
        if summary.get("verdict") == "FAIL":
            status = 1
    return status


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    experiments = all_experiments()
    if args.command in (None, "list"):
        return _list(experiments)
    return _run(args, experiments)


if __name__ == "__main__":
    sys.exit(main())
