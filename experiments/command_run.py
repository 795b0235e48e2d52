"""``python -m experiments run``: run experiments so that nothing is lost and a stopped run can
be resumed.

Every experiment runs into its partial folder and is moved into place whole when it ends
(:mod:`experiments.jobs`); the report is rewritten at the end of every run, stopped or not.

* **Ctrl-C** (SIGINT to this process or to its process group): the worker processes are
  stopped, each experiment that was running is marked ``INTERRUPTED``, the report of what
  finished is written, and the exit status is 130;
* ``--resume`` runs only the experiments whose result is missing, interrupted, an error or
  stale (:mod:`experiments.state`) and keeps the others;
* ``--jobs N`` runs N experiments at a time in worker processes, ``--scheduler ADDRESS`` on a
  Dask cluster (:mod:`experiments.engine`);
* one run at a time per output folder: a lock file ``<out>/.lock`` holds the process id.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import sys

from experiments import cli_args, engine, jobs, progress, runinfo
from experiments.report import write_report
from experiments.state import changed, state_of

__all__ = ["run_command"]

LOCK = ".lock"


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def locked(out: pathlib.Path):
    """Hold ``out/.lock`` for the block; a :class:`cli_args.UsageError` when another living
    process holds it."""
    path = out / LOCK
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                pid = int(path.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and pid != os.getpid() and _alive(pid):
                raise cli_args.UsageError(f"another run (process {pid}) is writing to {out}; "
                                          f"wait for it, or remove {path} if it is gone")
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        break
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _names(args, experiments) -> list:
    sized = [n for n, e in experiments.items() if args.size in e.sizes]
    names = sized if args.names == ["all"] else list(dict.fromkeys(args.names))
    problem = cli_args.unknown_names([n for n in names if n != "all"], experiments)
    if problem:
        raise cli_args.UsageError(problem)
    if "all" in names:
        raise cli_args.UsageError("'all' runs every experiment; give it alone, without names")
    unsized = [n for n in names if n not in sized]
    if unsized:
        raise cli_args.UsageError(f"experiment(s) without a {args.size!r} size: "
                                  f"{', '.join(unsized)}; those with one: {', '.join(sized)}")
    return names


def _todo(args, out, experiments, names) -> list:
    """The experiments to run: all of ``names``, or with ``--resume`` those not up to date."""
    if not args.resume:
        return names
    todo, kept = [], []
    for n in names:
        fp = runinfo.fingerprint(experiments[n], size=args.size, quick=args.quick,
                                 seed=args.seed, backend=args.backend)
        verdict = jobs.load_verdict(out / jobs.result_folder(n, args.size))
        state = state_of(verdict, fp)
        if state == "done":
            kept.append(n)
        else:
            why = state if state != "stale" else "stale: " + ", ".join(changed(verdict, fp))
            todo.append((n, why))
    print(f"resume: {len(kept)} up to date and kept, {len(todo)} to run"
          + (": " + "; ".join(f"{n} ({why})" for n, why in todo) if todo else ""))
    return [n for n, _ in todo]


def _expected_work(out, folder, quick) -> int | None:
    """The work (gradient passes and value-only evaluations) of the folder's previous run with
    the same budget (a bar's total)."""
    v = jobs.load_verdict(out / folder) or {}
    if v.get("quick") != quick or v.get("verdict") in ("INTERRUPTED", "ERROR"):
        return None
    work = (v.get("meta") or {}).get("work") or {}
    if work.get("reverse_passes") is None:
        return None
    return work["reverse_passes"] + work.get("value_evaluations", 0)


def _line(summary) -> str:
    seconds = summary.get("seconds")
    took = f"({seconds:.1f} s)  " if seconds is not None else ""
    size = summary.get("size", "default")
    shown = summary["name"] if size == "default" else f"{summary['name']} (size {size})"
    return f"{shown}: {summary.get('verdict', '?')}  {took}{summary.get('summary', '')}"


def run_command(args, experiments) -> int:
    """The ``run`` command (exit status: 0; 1 on an ERROR, or a FAIL with ``--strict``; 2 on
    bad input; 130 when interrupted)."""
    import minigrad

    try:
        names = _names(args, experiments)
    except cli_args.UsageError as exc:
        return _error(str(exc))
    try:
        minigrad.set_backend(args.backend)
    except RuntimeError as exc:
        return _error(str(exc))
    out = pathlib.Path(args.out)
    problem = cli_args.check_out(out)
    if problem:
        return _error(problem)
    try:
        client = engine.client_for(args.jobs, args.scheduler, "experiments")
    except engine.EngineError as exc:
        return _error(str(exc))
    try:
        with locked(out):
            return _run(args, out, experiments, names, client)
    except cli_args.UsageError as exc:
        return _error(str(exc))
    finally:
        if client is not None:
            client.close()


def _run(args, out, experiments, names, client) -> int:
    from tqdm import tqdm

    for folder in jobs.recover(out):
        print(f"{folder}: INTERRUPTED (left half done by a run that was stopped)")
    names = _todo(args, out, experiments, names)
    ship = client is not None
    tasks = [(n, str(out), args.quick, args.seed, args.backend, args.size, ship) for n in names]
    folders = [jobs.result_folder(n, args.size) for n in names]
    expected = {f: _expected_work(out, f, args.quick) for f in folders}
    status, finished, interrupted, failed = 0, set(), False, False
    bar = tqdm(total=len(tasks), desc="experiments", unit="exp", disable=None)
    monitor = progress.Monitor(out / jobs.PARTIAL, expected, tty=not bar.disable,
                               write=bar.write)
    try:
        with monitor:
            for i, (summary, files) in engine.map_unordered(jobs.run_task, tasks,
                                                            jobs=args.jobs, client=client):
                jobs.commit(out, summary, files)
                finished.add(i)
                monitor.finished(folders[i])
                bar.update(1)
                bar.write(_line(summary))
                if summary.get("verdict") == "ERROR":
                    bar.write(summary["traceback"])
                if summary.get("verdict") == "ERROR" or (args.strict
                                                         and summary.get("verdict") == "FAIL"):
                    status = 1
    except KeyboardInterrupt:
        interrupted = True
    except Exception as exc:  # noqa: BLE001 - the pool or the cluster failed, not an experiment
        print(f"error: the workers failed ({type(exc).__name__}: {exc})", file=sys.stderr)
        interrupted = failed = True
    finally:
        bar.close()
    if interrupted:
        for i, name in enumerate(names):
            if i in finished:
                continue
            if ship:
                exp = experiments[name]
                started = {"name": name, "claim": exp.claim, "quick": args.quick,
                           "seed": args.seed, "backend": args.backend, "size": args.size}
                jobs.mark_interrupted(out, folders[i], started)
            elif jobs.partial_folder(out, folders[i]).exists():
                jobs.mark_interrupted(out, folders[i])
            else:
                continue
            print(f"{folders[i]}: INTERRUPTED")
        left = len(names) - len(finished)
        print(f"{'stopped' if failed else 'interrupted'}: {len(finished)} of {len(names)} "
              f"finished, {left} not; `run --resume` runs the rest")
    with contextlib.suppress(OSError):
        (out / jobs.PARTIAL).rmdir()  # when empty
    print(f"report: {write_report(out, experiments)}")
    if failed:
        return 1
    return 130 if interrupted else status
