"""The README's main command exists from the start and exits 0."""
import subprocess
import sys

import pytest

from experiments.__main__ import main

#: the command line's wiring: experiments run on the backend their ``--backend`` flag names (numpy
#: by default), whatever the suite's backend, so a run with ``pytest --backend`` leaves these out
pytestmark = pytest.mark.host_only


@pytest.mark.slow
def test_python_m_experiments_exits_zero():
    r = subprocess.run([sys.executable, "-m", "experiments"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_list_exits_zero(capsys):
    assert main(["list"]) == 0


def test_unknown_experiment_is_a_clear_error(capsys, tmp_path):
    assert main(["run", "no-such-experiment", "--out", str(tmp_path)]) == 2
    assert "unknown experiment" in capsys.readouterr().err


@pytest.mark.skipif(__import__("minigrad").cupy_available(), reason="CuPy and a GPU are present")
def test_missing_cupy_is_a_clear_error(capsys, tmp_path):
    from experiments.registry import all_experiments
    names = list(all_experiments())
    if not names:
        pytest.skip("no experiment is registered yet")
    assert main(["run", names[0], "--backend", "cupy", "--out", str(tmp_path)]) == 2
    assert "cupy" in capsys.readouterr().err.lower()


@pytest.mark.slow
def test_run_writes_figure_verdict_and_report(tmp_path):
    out = tmp_path / "res"
    assert main(["run", "schedules-gallery", "--quick", "--out", str(out)]) == 0
    import json
    verdict = json.loads((out / "schedules-gallery" / "verdict.json").read_text())
    assert verdict["verdict"] in ("PASS", "INFO") and verdict["name"] == "schedules-gallery"
    report = (out / "report.md").read_text()
    assert "| schedules-gallery |" in report
    assert main(["report", "--out", str(out)]) == 0


@pytest.mark.slow
def test_jobs_run_in_parallel_processes(tmp_path):
    # two cheap experiments in two processes, through the real command line: the workers are
    # spawned, so the functions they run must be importable outside ``__main__`` (``run all
    # --quick`` is the README's main command, timed in docs/experiments.md; each experiment's own
    # quick run is tested in tests/experiments)
    out = tmp_path / "res"
    names = ["schedules-gallery", "gd-rates"]
    r = subprocess.run([sys.executable, "-m", "experiments", "run", *names, "--quick",
                        "--jobs", "2", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    report = (out / "report.md").read_text()
    for name in names:
        assert f"| {name} |" in report
        assert (out / name / "verdict.json").exists()


def test_unwritable_output_folder_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["run", "schedules-gallery", "--out", str(blocker / "sub")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_report_without_results_is_a_clear_error(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path / "nothing")]) == 2


@pytest.mark.slow
def test_an_experiment_that_raises_is_an_error_row_and_the_others_still_run(tmp_path, capsys,
                                                                            monkeypatch):
    from experiments import registry

    registry.all_experiments()

    def broken(out_dir, *, quick, seed, backend):
        raise ArithmeticError("deliberately broken")

    monkeypatch.setitem(registry._REGISTRY, "zz-broken",
                        registry.Experiment("zz-broken", "a claim that cannot be run", broken))
    out = tmp_path / "res"
    assert main(["run", "zz-broken", "schedules-gallery", "--quick", "--out", str(out)]) == 1
    import json
    v = json.loads((out / "zz-broken" / "verdict.json").read_text())
    assert v["verdict"] == "ERROR" and "deliberately broken" in v["summary"]
    assert (out / "schedules-gallery" / "verdict.json").exists()
    report = (out / "report.md").read_text()
    assert "| zz-broken |" in report and "1 ERROR" in report
    assert "ArithmeticError" in v["traceback"]


def test_a_failed_claim_is_reported_and_strict_turns_it_into_exit_status_1(tmp_path, monkeypatch):
    from experiments import registry
    from experiments.common import verdict

    registry.all_experiments()

    def failing(out_dir, *, quick, seed, backend):
        return verdict(False, claim="c", bound="b", measured="m", figure=None)

    monkeypatch.setitem(registry._REGISTRY, "zz-fails",
                        registry.Experiment("zz-fails", "a claim that fails", failing))
    out = tmp_path / "res"
    assert main(["run", "zz-fails", "--out", str(out)]) == 0          # a result, reported
    assert "| zz-fails |" in (out / "report.md").read_text()
    assert "**FAIL**" in (out / "report.md").read_text()
    assert main(["run", "zz-fails", "--strict", "--out", str(out)]) == 1


def test_every_experiment_runs_on_the_backend_it_is_given(monkeypatch, tmp_path):
    # the registry runs each experiment under minigrad.use_backend(backend): a direct call with
    # backend="cupy" must reach CuPy (here: stop at a recording stand-in), never run on NumPy
    import minigrad
    from experiments import registry

    seen = []

    class Stop(Exception):
        pass

    def recording(name):
        seen.append(name)
        raise Stop

    monkeypatch.setattr(minigrad, "use_backend", recording)
    for name, exp in registry.all_experiments().items():
        with pytest.raises(Stop):
            exp.run(tmp_path / name, quick=True, seed=0, backend="cupy")
    assert seen and set(seen) == {"cupy"}
