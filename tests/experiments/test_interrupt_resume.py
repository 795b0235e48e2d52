"""Nothing is lost: the real command line (a subprocess) is stopped with SIGINT, to the process
or to its process group, in a sequential and a parallel run, and resumed; a run killed outright
is recovered by the next one. The experiments are the three tiny ones of
``tiny_experiments.py`` (a copy per test, registered through ``MINIGRAD_EXPERIMENTS_MODULES``):
one ends at once, two run until they are stopped."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

import exp_testkit as kit

#: the command line's wiring (no array backend involved); each test starts the command a few times
pytestmark = [pytest.mark.host_only, pytest.mark.slow]

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture
def tiny(tmp_path):
    """``(run, out, module)``: ``run(*args, seconds=..., wait=True)`` starts ``python -m
    experiments`` on the tiny registry (a Popen when ``wait`` is False)."""
    mods = tmp_path / "mods"
    mods.mkdir()
    module = mods / "tiny_experiments.py"
    shutil.copy(HERE / "tiny_experiments.py", module)
    out = tmp_path / "out"

    def run(*args, seconds=60.0, wait=True):
        # no bytecode for the tiny module: the test edits it in place (the same size, maybe the
        # same second), which a cached .pyc could hide
        env = dict(os.environ, MINIGRAD_EXPERIMENTS_MODULES="tiny_experiments",
                   PYTHONPATH=str(mods), TINY_SECONDS=str(seconds), PYTHONDONTWRITEBYTECODE="1")
        cmd = [sys.executable, "-m", "experiments", *args, "--out", str(out)]
        if wait:
            return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, start_new_session=True,
                                preexec_fn=kit.foreground_sigint)

    return run, out, module


def _wait_for(path: pathlib.Path, timeout: float = 30.0):
    t0 = time.monotonic()
    while not path.exists():
        assert time.monotonic() - t0 < timeout, f"{path} did not appear"
        time.sleep(0.05)


def _verdict(out, name):
    return json.loads((out / name / "verdict.json").read_text())


def _gone(pid: int) -> bool:
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return True
    return state in ("Z", "X")      # a zombie has stopped running


def _interrupt(proc, *, group: bool):
    (os.killpg if group else os.kill)(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    return proc.returncode, stdout, stderr


def test_sigint_stops_a_run_cleanly_writes_the_report_and_resume_completes_it(tiny):
    run, out, module = tiny
    proc = run("run", "all", wait=False)
    _wait_for(out / ".partial" / "tiny-b-slow" / "pid")
    rc, stdout, stderr = _interrupt(proc, group=False)
    assert rc == 130, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert "tiny-a-fast: PASS" in stdout and "tiny-b-slow: INTERRUPTED" in stdout
    report = (out / "report.md").read_text()
    assert "| tiny-a-fast | a claim checked at once | **PASS** |" in report
    assert "| tiny-b-slow | a claim that takes a while | **INTERRUPTED** |" in report
    assert "| tiny-c-slow | another claim that takes a while | **NOT RUN** |" in report
    assert "1 PASS, 0 FAIL, 0 INFO, 0 ERROR, 1 interrupted, 1 not run (of 3 experiments)." \
        in report
    assert _verdict(out, "tiny-b-slow")["verdict"] == "INTERRUPTED"
    assert not (out / ".partial").exists()
    first = _verdict(out, "tiny-a-fast")

    # --resume runs what was interrupted or never ran, and keeps the rest as it was
    r = run("run", "all", "--resume", seconds=0.1)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 up to date and kept, 2 to run: tiny-b-slow (interrupted); tiny-c-slow (missing)" \
        in r.stdout
    assert _verdict(out, "tiny-a-fast") == first
    assert {_verdict(out, n)["verdict"] for n in ("tiny-b-slow", "tiny-c-slow")} == {"PASS"}
    assert "3 PASS" in (out / "report.md").read_text()
    r = run("run", "all", "--resume", seconds=0.1)
    assert "3 up to date and kept, 0 to run" in r.stdout

    # stale: another seed, and a change of the experiments' module
    module.write_text(module.read_text().replace("LEVEL = 1", "LEVEL = 2"))
    r = run("run", "tiny-a-fast", "tiny-b-slow", "--resume", "--seed", "1", seconds=0.1)
    assert ("0 up to date and kept, 2 to run: tiny-a-fast (stale: seed, source); "
            "tiny-b-slow (stale: seed, source)") in r.stdout
    assert _verdict(out, "tiny-a-fast")["summary"] == "level 2, seed 1"


def test_sigint_to_the_process_group_stops_the_workers_too(tiny):
    run, out, _ = tiny
    proc = run("run", "all", "--jobs", "2", wait=False)
    for name in ("tiny-b-slow", "tiny-c-slow"):
        _wait_for(out / ".partial" / name / "pid")
    workers = [int((out / ".partial" / n / "pid").read_text()) for n in ("tiny-b-slow",
                                                                         "tiny-c-slow")]
    assert proc.pid not in workers                 # they run in worker processes
    # one run at a time per output folder
    second = run("run", "all")
    assert second.returncode == 2 and "another run" in second.stderr
    t0 = time.monotonic()
    rc, stdout, stderr = _interrupt(proc, group=True)
    assert rc == 130 and time.monotonic() - t0 < 15, stdout + stderr
    assert "Traceback" not in stdout + stderr
    for pid in workers:
        t1 = time.monotonic()
        while not _gone(pid):
            assert time.monotonic() - t1 < 5, f"worker {pid} still running"
            time.sleep(0.05)
    assert _verdict(out, "tiny-a-fast")["verdict"] == "PASS"
    for name in ("tiny-b-slow", "tiny-c-slow"):
        assert _verdict(out, name)["verdict"] == "INTERRUPTED"
    assert "1 PASS, 0 FAIL, 0 INFO, 0 ERROR, 2 interrupted, 0 not run" in \
        (out / "report.md").read_text()


def test_a_run_killed_outright_is_recovered_by_the_next_one(tiny):
    run, out, _ = tiny
    proc = run("run", "tiny-b-slow", wait=False)
    _wait_for(out / ".partial" / "tiny-b-slow" / "pid")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert not (out / "tiny-b-slow").exists()      # nothing half written in place
    r = run("run", "tiny-a-fast")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "tiny-b-slow: INTERRUPTED (left half done by a run that was stopped)" in r.stdout
    assert _verdict(out, "tiny-b-slow")["verdict"] == "INTERRUPTED"
    assert "| tiny-b-slow | a claim that takes a while | **INTERRUPTED** |" in \
        (out / "report.md").read_text()


def test_each_worker_gets_its_share_of_the_blas_threads(monkeypatch):
    import joblib

    from experiments.engine import map_unordered

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")                 # the user's choice is kept
    got = dict(map_unordered(os.getenv, [("OPENBLAS_NUM_THREADS",), ("OMP_NUM_THREADS",)],
                             jobs=2))
    assert got == {0: str(max(1, joblib.cpu_count() // 2)), 1: "3"}


def test_run_all_on_a_dask_cluster_gives_the_local_verdicts(tiny, tmp_path, monkeypatch):
    """``run all --scheduler ADDRESS`` runs every experiment on the cluster's workers and writes
    the same verdicts and report rows as the same run in one process."""
    distributed = pytest.importorskip("distributed")
    run, out, module = tiny
    local = run("run", "all", seconds=0.0)
    assert local.returncode == 0, local.stdout + local.stderr
    here = {n: _verdict(out, n) for n in ("tiny-a-fast", "tiny-b-slow", "tiny-c-slow")}
    shutil.rmtree(out)
    # the workers import the tiny registry as the command line does
    monkeypatch.setenv("MINIGRAD_EXPERIMENTS_MODULES", "tiny_experiments")
    monkeypatch.setenv("PYTHONPATH", str(module.parent))
    monkeypatch.setenv("TINY_SECONDS", "0")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = run("run", "all", "--scheduler", cluster.scheduler_address, seconds=0.0)
        with distributed.Client(cluster) as client:
            workers = {int(pid) for pid in client.run(os.getpid).values()}
    assert remote.returncode == 0, remote.stdout + remote.stderr
    for name, v in here.items():
        w = _verdict(out, name)
        assert (w["verdict"], w["summary"]) == (v["verdict"], v["summary"])
        assert int((out / name / "pid").read_text()) in workers   # it ran on the cluster
    report = (out / "report.md").read_text()
    assert report.count("| **PASS** |") == 3 and "3 PASS" in report
