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


def _exit_status(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's errors
        return exc.code


@pytest.mark.parametrize("argv, words", [
    (["run", "gd-rates", "--seed", "-1"], "argument --seed: must be a non-negative integer"),
    (["run", "gd-rates", "--seed", "one"], "argument --seed: must be a non-negative integer"),
    (["run", "gd-rate"], "unknown experiment: 'gd-rate' (did you mean gd-rates?)"),
    (["run", "gd-rates", "--jobs", "0"], "argument --jobs: must be at least 1; got 0"),
    (["run", "gd-rates", "--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler"),
    (["run", "gd-rates", "--scheduler", "localhost"], "not a scheduler address"),
    (["run", "gd-rates", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"],
     "--jobs and --scheduler exclude each other"),
])
def test_bad_input_is_one_line_naming_the_problem_and_exit_status_2(argv, words, tmp_path,
                                                                    capsys):
    assert _exit_status([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_every_option_of_every_command_has_help_text():
    import argparse

    from experiments.__main__ import _parser

    def parsers(p):
        yield p
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from parsers(sub)

    seen = 0
    for p in parsers(_parser()):
        for action in p._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{p.prog}: {action.option_strings or action.dest} has no help"
            seen += 1
    assert seen > 25


def test_the_report_lists_every_registered_experiment_even_when_none_ran(tmp_path, capsys):
    from experiments.registry import all_experiments

    tmp_path.mkdir(exist_ok=True)
    assert main(["report", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    n = len(all_experiments())
    assert f"0 PASS, 0 FAIL, 0 INFO, 0 ERROR, 0 interrupted, {n} not run (of {n} experiments)" \
        in report
    for name in all_experiments():
        assert f"| {name} |" in report and f"### {name}" in report
