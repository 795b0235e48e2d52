"""The README's main command exists from the start and exits 0."""
import subprocess
import sys

import pytest

from experiments.__main__ import main


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
