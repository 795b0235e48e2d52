"""Where tasks run: in this process, in local worker processes, or on a Dask cluster, all
through joblib (:func:`map_unordered`), so that ``run`` and ``sweep`` share one mechanism.

* ``jobs=1``, no client: in this process, one task after the other;
* ``jobs=N``: joblib's ``loky`` backend, N worker processes. Each worker's BLAS thread pools get
  ``cores // N`` threads unless the variables (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
  ``MKL_NUM_THREADS``, ...) are set in this process's environment, which they then inherit
  (joblib's rule; N processes with multi-threaded BLAS each oversubscribe the cores, and a small
  ``eigh`` was measured 100 times slower so on a busy 2-core machine). The workers start with
  SIGINT blocked: a Ctrl-C (to this process, or to its process group) reaches only this
  process, which stops them (joblib terminates its workers when the loop is interrupted);
* ``client``: a ``dask.distributed.Client`` (:func:`connect` makes one from a scheduler
  address), through joblib's ``dask`` backend; the tasks go to the cluster's workers, which need
  this package installed. A task already running on a Dask worker cannot be stopped: after a
  Ctrl-C it finishes there and its result is dropped.

The function and its arguments must be importable and picklable (a module-level function).
"""
from __future__ import annotations

import os
import threading

from experiments import atomic

__all__ = ["EngineError", "client_for", "connect", "map_unordered"]


class EngineError(RuntimeError):
    """A cluster that cannot be used (dask missing, scheduler unreachable)."""


def connect(address: str, timeout: float = 10.0):
    """A ``dask.distributed.Client`` connected to the scheduler at ``address``
    (``tcp://HOST:8786``); an :class:`EngineError` saying why when it cannot be."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise EngineError("a Dask scheduler needs dask.distributed: pip install "
                          "'minigrad-optim[cluster]'") from exc
    _probe(address, timeout)
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise EngineError(f"cannot reach the Dask scheduler at {address!r} "
                          f"({type(exc).__name__}: {exc})") from None


def client_for(jobs: int, scheduler, what: str):
    """The Dask client of ``--scheduler`` (None without one); an :class:`EngineError` when
    ``--jobs`` is given too or the scheduler cannot be reached. ``what`` names what runs at a
    time (experiments, runs), for the message."""
    if not scheduler:
        return None
    if jobs != 1:
        raise EngineError(f"--jobs and --scheduler exclude each other: on a cluster its workers "
                          f"decide how many {what} run at a time")
    return connect(scheduler)


def _probe(address: str, timeout: float) -> None:
    """For a ``tcp://HOST:PORT`` address, fail at once when nothing listens there (the Dask
    client would retry until its timeout)."""
    import socket
    from urllib.parse import urlsplit

    if "://" not in address:
        raise EngineError(f"not a scheduler address: {address!r} (expected tcp://HOST:PORT)")
    if not address.startswith("tcp://"):
        return
    try:
        parts = urlsplit(address)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise EngineError(f"not a scheduler address: {address!r} ({exc})") from None
    if not host or not port:
        raise EngineError(f"not a scheduler address: {address!r} (expected tcp://HOST:PORT)")
    try:
        socket.create_connection((host, port), timeout=min(timeout, 3.0)).close()
    except OSError as exc:
        raise EngineError(f"cannot reach the Dask scheduler at {address!r} "
                          f"({exc.strerror or exc})") from None


def _indexed(fn, i, args):
    return i, fn(*args)


def _start_local_workers(jobs: int) -> None:
    """Start joblib's reusable pool of ``jobs`` workers with SIGINT blocked (a child process
    inherits the signal mask of the thread that starts it), so that the pool the next
    ``Parallel`` call reuses never sees a Ctrl-C. A Ctrl-C pressed meanwhile is held, then
    delivered here."""
    import joblib
    from multiprocessing import resource_tracker

    if threading.current_thread() is not threading.main_thread():
        return
    # the standard library's resource tracker, when it starts, unblocks SIGINT in the calling
    # thread (it does not restore the mask): started here, before the held window
    resource_tracker.ensure_running()
    with atomic.interrupts_deferred():
        joblib.Parallel(n_jobs=jobs)(joblib.delayed(os.getpid)() for _ in range(jobs))


def map_unordered(fn, tasks, *, jobs: int = 1, client=None):
    """Yield ``(i, fn(*tasks[i]))`` for every task, in the order they finish."""
    tasks = list(tasks)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1; got {jobs}")
    if client is None and jobs == 1:
        for i, args in enumerate(tasks):
            yield i, fn(*args)
        return
    import joblib

    if client is not None:
        config = joblib.parallel_config(backend="dask", client=client)
        n_jobs = -1
    else:
        config = joblib.parallel_config(backend="loky")
        n_jobs = jobs
    with config:
        if client is None:
            _start_local_workers(jobs)
        run = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered", batch_size=1,
                              pre_dispatch="all")
        yield from run(joblib.delayed(_indexed)(fn, i, args) for i, args in enumerate(tasks))
