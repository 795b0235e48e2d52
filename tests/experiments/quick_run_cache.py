"""An experiment's quick run computed once per test session and shared by every test file that
needs the same run, across pytest-xdist's workers.

A run is keyed on everything its result depends on within a session: the experiment, ``--quick``,
the seed and the backend (the code does not change during a session). The first caller computes
it under a file lock (the other workers wait for it); every caller gets its own copy of the
output folder, so a test that deletes or rewrites a file of its copy changes nothing another test
reads. The returned verdict is the one the run returned (unpickled, so its types are exact)."""
import fcntl
import os
import pathlib
import pickle
import shutil

from experiments.jobs import run_one


def _session_folder(tmp_path_factory) -> pathlib.Path:
    """A folder of this session alone that every worker sees: under pytest-xdist each worker's
    base temporary folder lies in the session's folder; without xdist it is the session's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _computed(folder: pathlib.Path, name: str, seed: int, backend: str) -> pathlib.Path:
    """The pickled verdict of the run whose output is ``folder / "out"``, computing it first if
    no caller has (a run cut short by a crashed worker is started again from scratch)."""
    done = folder / "verdict.pickle"
    with open(f"{folder}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)          # released when the file is closed
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            v = run_one(name, str(folder / "out"), True, seed, backend)
            done.write_bytes(pickle.dumps(v))
    return done


def shared_quick_run(tmp_path_factory, name: str, backend: str, seed: int = 0):
    """``(out, verdict)`` as ``run_one(name, out, True, seed, backend)`` gives them, ``out`` a
    fresh folder holding a copy of the session's one run."""
    folder = _session_folder(tmp_path_factory) / "quick-runs" / f"{name}-{backend}-seed{seed}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    done = _computed(folder, name, seed, backend)
    out = tmp_path_factory.mktemp("results")
    shutil.copytree(folder / "out", out, dirs_exist_ok=True)
    return out, pickle.loads(done.read_bytes())
