"""Shared fixtures and collection rules.

* ``--backend numpy|strict|cupy`` (default numpy) runs the suite on one backend: it is the
  default backend of the whole session, and the ``backend`` fixture runs on it alone. Without
  the option the ``backend`` fixture runs a test on NumPy and on the strict backend (the CPU
  stand-in for CuPy, :mod:`minigrad.strict`), and on CuPy too when CuPy and a GPU are present.
* Bytecode is cached (see below), whatever ``PYTHONDONTWRITEBYTECODE`` says.
* BLAS runs single-threaded in the test processes: the suite runs in parallel (``-n auto``, one
  pytest-xdist worker per core), and a multi-threaded BLAS in every worker oversubscribes the
  cores (OpenBLAS threads spin while they wait, which slows a busy machine down severalfold).
  The variables must be set before NumPy is first imported, so they come first in this file;
  a value already in the environment is kept.
* A run with ``--backend`` deselects the tests marked ``host_only``: their subject (the site,
  the packaging, source scans, the command line's wiring, which runs experiments on the backend
  its own flag names) does not depend on the suite's backend, and the default run has them.
* The tests that use an experiment's quick run (the module-scoped ``quick_run`` / ``quick_runs``
  fixtures of ``tests/experiments``) are marked ``slow``. Under xdist the tests of one file run
  on one worker (``--dist loadfile`` in the pytest options), so each module's experiments run
  once, not once per worker.
* The tests that take the ``backend`` fixture are marked ``every_backend``: a run without
  ``--backend`` already runs each of them on every backend, so a run with ``--backend`` after it
  (the README's second command) leaves them out with ``-m "not every_backend"`` instead of running
  them a second time.
* The files holding a ``slow`` test run first, and xdist hands the files out in that order: the
  long files start early and the short ones fill in at the end, so that no worker is left alone
  with a long file while the other has finished.
"""
import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# The suite imports the project in every worker and in each subprocess of the command-line
# tests, and pytest rewrites every test module's asserts. Where PYTHONDONTWRITEBYTECODE is set
# (some images set it) none of that is cached and every process compiles it all again (about
# 6 s of each worker's collection, a second of each subprocess); the suite writes the caches
# (the usual __pycache__ folders, ignored by git) so that the processes after the first read them.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

import pytest  # noqa: E402

import minigrad  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--backend", choices=("numpy", "strict", "cupy"), default=None,
                     help="run the whole suite on this backend (default: numpy, with the "
                          "backend fixture on numpy, strict and, where present, cupy)")


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):   # pytest-xdist >= 3.6
        # hand the files to the workers in the collection order (the long ones first, see
        # _heavy_files_first), not sorted by their number of tests, which puts the experiments'
        # files, few tests behind a long quick run each, last, and one worker alone at the end
        config.option.loadscopereorder = False
    chosen = config.getoption("--backend")
    if chosen is not None:
        minigrad.set_backend(chosen)  # a missing GPU for 'cupy' is an error here, not a skip


def _fixture_backends(config):
    chosen = config.getoption("--backend")
    if chosen is not None:
        return [chosen]
    return ["numpy", "strict"] + (["cupy"] if minigrad.cupy_available() else [])


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", _fixture_backends(metafunc.config), indirect=True)

#: the module-scoped fixtures that run experiments (tests/experiments/test_exp_*.py)
QUICK_RUN_FIXTURES = {"quick_run", "quick_runs"}


def _heavy_files_first(items):
    """The items reordered file by file, the files holding a ``slow`` test first (in collection
    order), then the rest; the order within a file is kept."""
    heavy = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in heavy)   # a stable sort


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # tryfirst: the mark must be on the items before ``-m`` deselects them
    for item in items:
        if QUICK_RUN_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
        if "backend" in item.fixturenames:
            item.add_marker(pytest.mark.every_backend)
    _heavy_files_first(items)
    if config.getoption("--backend") is not None:  # the host_only tests do not depend on it
        host_only = [item for item in items if item.get_closest_marker("host_only")]
        if host_only:
            config.hook.pytest_deselected(items=host_only)
            items[:] = [item for item in items if not item.get_closest_marker("host_only")]


@pytest.fixture
def backend(request):
    """The name of the backend under test; it is the default backend for the test's duration."""
    with minigrad.use_backend(request.param):
        yield request.param


@pytest.fixture
def xp(backend):
    """The array module of the backend under test."""
    return minigrad.backend.xp()
