"""Running experiments: one in this process (:func:`run_one`), one whose exception becomes an
``ERROR`` verdict (:func:`run_one_safe`), and a pool of worker processes (:func:`pool`).

These live in an importable module (not in ``__main__``) so that ``spawn``-ed workers can find
them when the command runs as ``python -m experiments``.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import pathlib
import time
import traceback
from concurrent.futures import ProcessPoolExecutor

from experiments.registry import all_experiments

__all__ = ["pool", "result_folder", "run_one", "run_one_safe"]


def result_folder(name: str, size: str = "default") -> str:
    """The folder of an experiment's results under the output folder: its name, and
    ``NAME-large`` for the large size (so the two never overwrite each other)."""
    return name if size == "default" else f"{name}-{size}"


def run_one(name: str, out: str, quick: bool, seed: int, backend: str,
            size: str = "default") -> dict:
    """Run one experiment (in this process) and write its verdict file; return the verdict."""
    import minigrad

    exp = all_experiments()[name]
    if size not in exp.sizes:
        raise ValueError(f"experiment {name!r} has no size {size!r}; it offers {exp.sizes}")
    exp_dir = pathlib.Path(out) / result_folder(name, size)
    exp_dir.mkdir(parents=True, exist_ok=True)
    extra = {} if size == "default" else {"size": size}
    t0 = time.perf_counter()
    with minigrad.use_backend(backend):  # the default backend of the run, restored afterwards
        summary = dict(exp.run(exp_dir, quick=quick, seed=seed, backend=backend, **extra))
    summary.setdefault("claim", exp.claim)
    summary.update(name=name, seconds=round(time.perf_counter() - t0, 2), quick=quick,
                   seed=seed, backend=backend, size=size)
    (exp_dir / "verdict.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def run_one_safe(name: str, out: str, quick: bool, seed: int, backend: str,
                 size: str = "default") -> dict:
    """:func:`run_one`, but an experiment that raises becomes an ``ERROR`` verdict (written to
    its ``verdict.json`` and the report) instead of stopping the other experiments."""
    try:
        return run_one(name, out, quick, seed, backend, size)
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed
        summary = {"name": name, "verdict": "ERROR", "summary": f"{type(exc).__name__}: {exc}",
                   "traceback": traceback.format_exc(), "quick": quick, "seed": seed,
                   "backend": backend, "size": size}
        exp_dir = pathlib.Path(out) / result_folder(name, size)
        exp_dir.mkdir(parents=True, exist_ok=True)
        (exp_dir / "verdict.json").write_text(json.dumps(summary, indent=2, default=str))
        return summary


# BLAS thread pools: with N worker processes on C cores each worker gets C // N threads (unless
# the user set these variables), so that the processes do not oversubscribe the cores (a small
# ``eigh`` under oversubscription was measured 100 times slower on a busy 2-core machine).
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _limit_threads(threads: str) -> None:
    """Worker initializer: runs in a fresh (``spawn``) worker before any task, so before NumPy
    is imported there (nothing this module, the registry or the command line imports loads it)."""
    for var in _THREAD_VARS:
        os.environ.setdefault(var, threads)


def pool(jobs: int) -> ProcessPoolExecutor:
    """``jobs`` fresh worker processes (``spawn``), each limited to ``cores // jobs`` BLAS
    threads; this process's environment is left as it is."""
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_limit_threads, initargs=(threads,))
