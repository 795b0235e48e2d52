"""Source scans: backend discipline and the one-way layering of DESIGN.md."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCANNED = ["minigrad", "optimizers", "schedules", "problems"]
BACKEND_MODULE = ROOT / "minigrad" / "backend.py"


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _modules(package):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", SCANNED)
def test_no_module_but_the_backend_imports_numpy(package):
    """Array math goes through the backend's array module; importing NumPy elsewhere breaks
    CuPy arrays (they fail in numpy.* or silently copy to the host)."""
    offenders = [str(p.relative_to(ROOT)) for p in _modules(package)
                 if p != BACKEND_MODULE
                 and any(m == "numpy" or m.startswith("numpy.") for m in _imports(p))]
    assert offenders == [], f"modules that import numpy directly: {offenders}"


def test_the_scan_can_fail(tmp_path):
    """The scan sees an ``import numpy`` (and a ``from numpy import``) when there is one."""
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\nfrom numpy.linalg import norm\n")
    assert list(_imports(bad)) == ["numpy", "numpy.linalg"]


# minigrad imports none of the others; schedules imports nothing of the project;
# optimizers do not import problems; nothing imports experiments.
FORBIDDEN = {
    "minigrad": {"optimizers", "schedules", "problems", "experiments"},
    "schedules": {"minigrad", "optimizers", "problems", "experiments"},
    "optimizers": {"problems", "experiments"},
    "problems": {"optimizers", "schedules", "experiments"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_point_one_way(package):
    bad = []
    for p in _modules(package):
        for m in _imports(p):
            if m.split(".")[0] in FORBIDDEN[package]:
                bad.append(f"{p.relative_to(ROOT)} imports {m}")
    assert bad == []


LIBRARY = ["minigrad", "optimizers", "schedules", "problems", "experiments"]
#: test-only modules: the optimizer registry (tests/optim_registry) and the test kits
TEST_ONLY = {"tests", "optim_registry", "optim_testkit", "exp_testkit", "parity_cases",
             "conftest"}


@pytest.mark.parametrize("package", LIBRARY)
def test_the_library_does_not_import_test_metadata(package):
    """The optimizer registry (invalid arguments, tuned rates, convergence settings) is test
    metadata in ``tests/optim_registry/``: no library module imports it, and none is left in
    the library under its old name."""
    bad = [f"{p.relative_to(ROOT)} imports {m}" for p in _modules(package) for m in _imports(p)
           if m.split(".")[0] in TEST_ONLY]
    assert bad == []
    assert sorted(p.name for p in (ROOT / package).glob("registry*.py")
                  if package != "experiments") == []
