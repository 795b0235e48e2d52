"""Choosing a backend: function, context manager, environment variable; clear errors."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor

NO_GPU = not mg.cupy_available()


def test_default_backend_is_numpy():
    """The default of a fresh interpreter (this session's may be another: ``--backend``)."""
    env = {k: v for k, v in os.environ.items() if k != "MINIGRAD_BACKEND"}
    code = ("import numpy as np, minigrad as mg; assert mg.get_backend() == 'numpy'; "
            "assert isinstance(mg.Tensor([1.0]).data, np.ndarray); print('ok')")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_unknown_backend_is_a_clear_error():
    before = mg.get_backend()  # numpy, or the session's --backend
    with pytest.raises(mg.BackendError, match="unknown backend 'jax'"):
        mg.set_backend("jax")
    assert mg.get_backend() == before  # nothing changed


@pytest.mark.skipif(not NO_GPU, reason="CuPy and a GPU are present on this machine")
def test_asking_for_cupy_without_cupy_or_gpu_raises():
    before = mg.get_backend()  # numpy, or the session's --backend
    with pytest.raises(mg.BackendError, match="cupy"):
        mg.set_backend("cupy")
    assert mg.get_backend() == before  # no silent fallback, no half-changed state


def test_context_manager_restores_the_previous_backend():
    before = mg.get_backend()  # numpy, or the session's --backend
    with mg.use_backend("numpy"):
        assert mg.get_backend() == "numpy"
    assert mg.get_backend() == before
    with mg.set_backend("numpy") as token:
        assert token.previous == before
    assert mg.get_backend() == before


def test_use_backend_switches_only_inside_with(monkeypatch):
    """``use_backend`` is a context manager only: a bare call switches nothing; a ``with``
    switches on entry and restores on exit (also when one object is entered inside itself)."""
    from minigrad import backend as B

    switches = []
    real = B.set_backend

    def recording_set_backend(name):
        switches.append(name)
        return real(name)

    before = mg.get_backend()  # numpy, or the session's --backend
    monkeypatch.setattr(B, "set_backend", recording_set_backend)
    cm = mg.use_backend("numpy")  # no ``with``
    assert switches == [] and mg.get_backend() == before
    with cm as token:
        assert switches == ["numpy"] and token.previous == before
        with cm:
            assert switches == ["numpy", "numpy"]
        assert switches == ["numpy", "numpy", "numpy"]  # the inner exit restored
    assert switches == ["numpy", "numpy", "numpy", before]  # and the outer one
    assert mg.get_backend() == before


@pytest.mark.skipif(NO_GPU, reason="needs CuPy and a CUDA GPU (runs on the GPU machine)")
def test_bare_use_backend_leaves_the_default_alone():  # pragma: no cover - GPU only
    before = mg.get_backend()  # numpy, or the session's --backend
    mg.use_backend("cupy")
    assert mg.get_backend() == before
    with mg.use_backend("cupy"):
        assert mg.get_backend() == "cupy"
    assert mg.get_backend() == before
    token = mg.set_backend("cupy")  # set_backend switches for good ...
    try:
        assert mg.get_backend() == "cupy"
    finally:
        with token:  # ... and its token restores
            pass
    assert mg.get_backend() == before


def test_use_backend_rejects_an_unknown_backend_at_once():
    before = mg.get_backend()  # numpy, or the session's --backend
    with pytest.raises(mg.BackendError, match="unknown backend 'jax'"):
        mg.use_backend("jax")
    assert mg.get_backend() == before


def test_environment_variable_sets_the_default():
    env = dict(os.environ, MINIGRAD_BACKEND="numpy")
    code = "import minigrad; print(minigrad.get_backend())"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "numpy"
    env["MINIGRAD_BACKEND"] = "nonsense"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "unknown backend 'nonsense'" in r.stderr


def test_to_numpy_accepts_tensors_arrays_and_numbers(backend, xp):
    t = Tensor([1.0, 2.0])
    assert isinstance(mg.to_numpy(t), np.ndarray)
    assert isinstance(mg.to_numpy(xp.ones(2)), np.ndarray)
    assert mg.to_numpy(3.0) == 3.0


@pytest.mark.gpu
@pytest.mark.skipif(NO_GPU, reason="needs CuPy and a CUDA GPU (runs on the GPU machine)")
def test_mixing_backends_in_one_operation_raises():  # pragma: no cover - GPU only
    a = Tensor([1.0, 2.0])
    with mg.use_backend("cupy"):
        b = Tensor([1.0, 2.0])
    with pytest.raises(mg.BackendError, match="mixed"):
        a + b
    with pytest.raises(mg.BackendError, match="mixed"):
        a @ b
    assert (b.to("numpy") + a).backend == "numpy"


def test_gradients_live_on_the_backend_of_the_data(backend, xp):
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert isinstance(x.grad, xp.ndarray)
    assert np.array_equal(mg.to_numpy(x.grad), [2.0, 4.0])


@pytest.mark.parametrize("value, reason", [("nonsense", "unknown backend 'nonsense'"),
                                           ("cupy" if not mg.cupy_available() else "jax",
                                            "CuPy is not installed" if not mg.cupy_available()
                                            else "unknown backend 'jax'")])
def test_a_bad_environment_variable_is_one_line_from_the_command_line(value, reason):
    env = dict(os.environ, MINIGRAD_BACKEND=value)
    r = subprocess.run([sys.executable, "-m", "experiments", "list"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"MINIGRAD_BACKEND={value!r}" in lines[0] and reason in lines[0]
    assert "numpy" in lines[0] or "install" in lines[0]  # the choices, or how to get CuPy
