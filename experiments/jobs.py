"""Running one experiment so that nothing is lost: into a private folder, moved into place whole.

An experiment runs into ``<out>/.partial/<folder>/`` (``<folder>`` is its name, or
``NAME-large`` for the large size): first ``started.json`` (what runs, since when), then the
experiment's own files, then ``verdict.json`` (atomically). Only then is the folder moved to
``<out>/<folder>/`` (:func:`commit`, two renames), so a result folder always holds one complete
run. A run stopped half way leaves its partial folder; :func:`mark_interrupted` turns it into an
``INTERRUPTED`` verdict (the previous result's verdict kept inside it, under ``previous``).

* :func:`run_one`: run and commit in this process (an exception propagates); the tests use it;
* :func:`run_one_safe`: the same, an exception becoming an ``ERROR`` verdict;
* :func:`run_task`: what a worker process runs (no commit: the command line's process commits
  each result as it arrives); with ``ship=True`` (a Dask cluster, whose workers may not see the
  output folder) it runs in a temporary folder and returns the files with the verdict.

These live in an importable module (not in ``__main__``) so that worker processes find them.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import tempfile
import time
import traceback

from experiments import atomic, plotting, progress, runinfo
from experiments.registry import all_experiments

__all__ = ["PARTIAL", "commit", "load_verdict", "mark_interrupted", "partial_folder",
           "recover", "result_folder", "run_one", "run_one_safe", "run_task"]

PARTIAL = ".partial"
VERDICT = "verdict.json"
STARTED = "started.json"
INTERRUPTED = "INTERRUPTED"


def result_folder(name: str, size: str = "default") -> str:
    """The folder of an experiment's results under the output folder: its name, and
    ``NAME-large`` for the large size (so the two never overwrite each other)."""
    return name if size == "default" else f"{name}-{size}"


def partial_folder(out, folder: str) -> pathlib.Path:
    return pathlib.Path(out) / PARTIAL / folder


def load_verdict(folder) -> dict | None:
    """The verdict saved in ``folder`` (None when there is none or it cannot be read)."""
    try:
        return json.loads((pathlib.Path(folder) / VERDICT).read_text())
    except (OSError, ValueError):
        return None


def _previous(out, folder: str) -> dict | None:
    """The committed verdict of ``folder``, without its own ``previous`` entry."""
    v = load_verdict(pathlib.Path(out) / folder)
    if v is not None:
        v.pop("previous", None)
    return v


def _run_into(exp_dir: pathlib.Path, name: str, quick: bool, seed: int, backend: str,
              size: str, safe: bool) -> dict:
    """Run the experiment into ``exp_dir`` (made fresh) and write its ``verdict.json``."""
    import minigrad

    exp = all_experiments()[name]
    if size not in exp.sizes:
        raise ValueError(f"experiment {name!r} has no size {size!r}; it offers {exp.sizes}")
    if exp_dir.exists():
        shutil.rmtree(exp_dir)
    exp_dir.mkdir(parents=True)
    options = {"quick": bool(quick), "seed": int(seed), "backend": backend, "size": size}
    meta = {"mode": "quick" if quick else "full", **options, "started": runinfo.now(),
            "fingerprint": runinfo.fingerprint(exp, **options),
            "environment": runinfo.environment()}
    atomic.write_json(exp_dir / STARTED, {"name": name, "claim": exp.claim, **options,
                                          "meta": meta})
    extra = {} if size == "default" else {"size": size}
    t0 = time.perf_counter()
    with plotting.collecting() as figures:  # written once the verdict is known
        try:
            with progress.reporting(exp_dir) as work, minigrad.use_backend(backend):
                summary = dict(exp.run(exp_dir, quick=quick, seed=seed, backend=backend,
                                       **extra))
        except Exception as exc:  # noqa: BLE001 - reported as an ERROR verdict, or raised again
            if not safe:
                shutil.rmtree(exp_dir, ignore_errors=True)
                raise
            summary = {"verdict": "ERROR", "summary": f"{type(exc).__name__}: {exc}",
                       "traceback": traceback.format_exc()}
        decided = figures.decisive()
        figures.finish(summary.get("verdict"))
    if decided is not None:
        summary.setdefault("decisive", decided)
    seconds = round(time.perf_counter() - t0, 2)
    summary.setdefault("claim", exp.claim)
    summary.update(name=name, seconds=seconds, **options)
    meta.update(finished=runinfo.now(), seconds=seconds,
                work={"reverse_passes": work.passes(), "value_evaluations": work.evaluations()})
    summary["meta"] = meta
    (exp_dir / progress.FILE).unlink(missing_ok=True)
    (exp_dir / STARTED).unlink(missing_ok=True)
    atomic.write_json(exp_dir / VERDICT, summary)
    return summary


def run_task(name: str, out: str, quick: bool, seed: int, backend: str,
             size: str = "default", ship: bool = False):
    """A worker's task: run into the partial folder (or, with ``ship``, a temporary one) with
    exceptions as ``ERROR`` verdicts; returns ``(summary, files)``, ``files`` being
    ``{relative path: bytes}`` with ``ship`` and None otherwise."""
    folder = result_folder(name, size)
    try:
        if not ship:
            return _run_into(partial_folder(out, folder), name, quick, seed, backend, size,
                             safe=True), None
        with tempfile.TemporaryDirectory(prefix="minigrad-experiment-") as tmp:
            exp_dir = pathlib.Path(tmp) / folder
            summary = _run_into(exp_dir, name, quick, seed, backend, size, safe=True)
            files = {str(p.relative_to(exp_dir)): p.read_bytes()
                     for p in sorted(exp_dir.rglob("*")) if p.is_file()}
        return summary, files
    except Exception as exc:  # noqa: BLE001 - the worker could not even start the experiment
        summary = {"name": name, "verdict": "ERROR", "summary": f"{type(exc).__name__}: {exc}",
                   "traceback": traceback.format_exc(), "quick": quick, "seed": seed,
                   "backend": backend, "size": size}
        return summary, ({VERDICT: json.dumps(summary, indent=2).encode()} if ship else None)


def commit(out, summary: dict, files: dict | None = None) -> pathlib.Path:
    """Move a finished experiment's partial folder into place (writing the shipped ``files``
    there first, when given); a Ctrl-C meanwhile waits until it is done."""
    folder = result_folder(summary["name"], summary.get("size", "default"))
    part = partial_folder(out, folder)
    with atomic.interrupts_deferred():
        if files is not None:
            if part.exists():
                shutil.rmtree(part)
            for rel, data in files.items():
                (part / rel).parent.mkdir(parents=True, exist_ok=True)
                (part / rel).write_bytes(data)
        if summary.get("verdict") == "ERROR":
            verdict = dict(summary, previous=_previous(out, folder))
            atomic.write_json(part / VERDICT, verdict)
        return atomic.replace_folder(part, pathlib.Path(out) / folder)


def run_one(name: str, out: str, quick: bool, seed: int, backend: str,
            size: str = "default") -> dict:
    """Run one experiment in this process and commit its folder; return the verdict. An
    exception in the experiment propagates (and nothing is committed)."""
    summary = _run_into(partial_folder(out, result_folder(name, size)), name, quick, seed,
                        backend, size, safe=False)
    commit(out, summary)
    return summary


def run_one_safe(name: str, out: str, quick: bool, seed: int, backend: str,
                 size: str = "default") -> dict:
    """:func:`run_one`, but an experiment that raises becomes an ``ERROR`` verdict (written to
    its ``verdict.json`` and the report) instead of stopping the other experiments."""
    summary, _ = run_task(name, out, quick, seed, backend, size)
    commit(out, summary)
    return summary


def mark_interrupted(out, folder: str, started: dict | None = None,
                     reason: str = "interrupted") -> dict:
    """Record ``folder``'s experiment as interrupted: an ``INTERRUPTED`` verdict replaces its
    ``verdict.json`` (the previous verdict kept under ``previous``; the previous run's other
    files are left as they were) and its partial folder is removed."""
    out = pathlib.Path(out)
    part = partial_folder(out, folder)
    if started is None:
        try:
            started = json.loads((part / STARTED).read_text())
        except (OSError, ValueError):
            started = {}
    done = None
    try:
        done = json.loads((part / progress.FILE).read_text())
    except (OSError, ValueError):
        pass
    name = started.get("name", folder)
    meta = dict(started.get("meta", {}), interrupted=runinfo.now())
    if done:
        meta["work"] = {"reverse_passes": done["passes"],
                        "value_evaluations": done.get("evaluations", 0)}
        after = f" after {done['seconds']:.1f} s"
    else:
        after = ""
    verdict = {"name": name, "verdict": INTERRUPTED, "claim": started.get("claim"),
               "summary": f"{reason}{after}; `run --resume` runs it again",
               **{k: started[k] for k in ("quick", "seed", "backend", "size") if k in started},
               "meta": meta, "previous": _previous(out, folder)}
    with atomic.interrupts_deferred():
        atomic.write_json(out / folder / VERDICT, verdict)
        shutil.rmtree(part, ignore_errors=True)
    return verdict


def recover(out) -> list:
    """Mark as interrupted every experiment that a previous run left half done (a partial folder
    with a ``started.json``: that run was killed); put back a result folder that a killed
    :func:`commit` had moved aside; returns the interrupted folders."""
    root = pathlib.Path(out) / PARTIAL
    found = []
    for part in sorted(root.glob("*")) if root.is_dir() else ():
        if not part.is_dir():
            continue
        kept = pathlib.Path(out) / part.name.split(".old-")[0]
        if ".old-" in part.name and not kept.exists():
            os.replace(part, kept)
        elif (part / STARTED).exists():
            mark_interrupted(out, part.name, reason="interrupted (its run was stopped)")
            found.append(part.name)
        else:
            shutil.rmtree(part, ignore_errors=True)
    return found
