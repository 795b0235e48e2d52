"""Shared fixtures: the backend fixture runs a test on NumPy always, and on CuPy when CuPy is
importable and a GPU is present (so the same suite runs on a GPU machine)."""
import pytest

import minigrad

BACKENDS = ["numpy"] + (["cupy"] if minigrad.cupy_available() else [])


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The name of the backend under test; it is the default backend for the test's duration."""
    with minigrad.use_backend(request.param):
        yield request.param


@pytest.fixture
def xp(backend):
    """The array module of the backend under test."""
    return minigrad.backend.xp()
