"""Source scans: backend discipline and the one-way layering (minigrad <- optimizers, schedules,
problems <- experiments)."""
import ast
import pathlib

import pytest

pytestmark = pytest.mark.host_only  # source scans: no array backend involved

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCANNED = ["minigrad", "optimizers", "schedules", "problems", "theorems"]
BACKEND_MODULE = ROOT / "minigrad" / "backend.py"
#: the array backends themselves: the backend module, and the strict backend (NumPy underneath
#: by design: it is a CPU stand-in for CuPy)
BACKEND_MODULES = (BACKEND_MODULE, ROOT / "minigrad" / "strict.py")


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
                 if p not in BACKEND_MODULES
                 and any(m == "numpy" or m.startswith("numpy.") for m in _imports(p))]
    assert offenders == [], f"modules that import numpy directly: {offenders}"


def test_the_scan_can_fail(tmp_path):
    """The scan sees an ``import numpy`` (and a ``from numpy import``) when there is one."""
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\nfrom numpy.linalg import norm\n")
    assert list(_imports(bad)) == ["numpy", "numpy.linalg"]


def _backend_np_uses(path: pathlib.Path):
    """The lines that reach NumPy through the backend module's own ``np`` (``B.np``,
    ``backend.np``, ``minigrad.backend.np``, ``getattr(B, "np")``, ``from minigrad.backend import
    np``): the scan for ``import numpy`` does not see them."""
    tree = ast.parse(path.read_text(), filename=str(path))
    aliases = {"backend"}  # names bound to minigrad.backend
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname for a in node.names if a.name == "minigrad.backend" and a.asname}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module == "minigrad":
                aliases |= {a.asname or a.name for a in node.names if a.name == "backend"}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in (
                "minigrad.backend",) and any(a.name == "np" for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "np" and (
                (isinstance(node.value, ast.Name) and node.value.id in aliases)
                or (isinstance(node.value, ast.Attribute) and node.value.attr == "backend")):
            lines.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "getattr" and len(node.args) >= 2
              and isinstance(node.args[0], ast.Name) and node.args[0].id in aliases
              and isinstance(node.args[1], ast.Constant) and node.args[1].value == "np"):
            lines.append(node.lineno)
    return sorted(lines)


#: modules allowed a number of ``B.np`` uses: none
BACKEND_NP_ALLOWED: dict = {}


@pytest.mark.parametrize("package", SCANNED)
def test_no_module_but_the_backend_uses_its_np(package):
    """NumPy comes from named backend functions (``host_xp``, ``host_rng``, ``asarray``,
    ``to_numpy``), never from the backend module's ``np``, which would let ``numpy.*`` past the
    import scan."""
    offenders = {}
    for p in _modules(package):
        rel = p.relative_to(ROOT).as_posix()
        if p in BACKEND_MODULES:
            continue
        uses = _backend_np_uses(p)
        if len(uses) > BACKEND_NP_ALLOWED.get(rel, 0):
            offenders[rel] = uses
    assert offenders == {}, f"modules that use the backend's np (lines): {offenders}"


def test_the_backend_np_scan_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from minigrad import backend as B\nimport minigrad.backend as K\n"
                   "import minigrad\nfrom minigrad.backend import np\n"
                   "a = B.np.zeros(3)\nb = K.np\nc = minigrad.backend.np\n"
                   "d = getattr(B, 'np')\ne = B.host_xp().zeros(3)\n")
    assert _backend_np_uses(bad) == [4, 5, 6, 7, 8]


def test_the_backend_does_not_export_np():
    from minigrad import backend as B

    assert "np" not in B.__all__ and "host_xp" in B.__all__
    import numpy

    assert B.host_xp() is numpy


# minigrad imports none of the others; schedules imports nothing of the project;
# optimizers do not import problems; theorems may import all four, and none of them imports
# theorems; nothing imports experiments.
FORBIDDEN = {
    "minigrad": {"optimizers", "schedules", "problems", "theorems", "experiments"},
    "schedules": {"minigrad", "optimizers", "problems", "theorems", "experiments"},
    "optimizers": {"problems", "theorems", "experiments"},
    "problems": {"optimizers", "schedules", "theorems", "experiments"},
    "theorems": {"experiments"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_point_one_way(package):
    bad = []
    for p in _modules(package):
        for m in _imports(p):
            if m.split(".")[0] in FORBIDDEN[package]:
                bad.append(f"{p.relative_to(ROOT)} imports {m}")
    assert bad == []


LIBRARY = ["minigrad", "optimizers", "schedules", "problems", "theorems", "experiments"]
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


#: the only modules of theorems that import hypothesis (the ``test`` extra): the strategies and
#: the pytest decorator and assertion; ``import theorems`` works without it
THEOREMS_HYPOTHESIS = {"strategies.py", "testing.py"}


def test_theorems_imports_hypothesis_only_in_its_strategies_and_testing_modules():
    bad = [p.name for p in _modules("theorems") if p.name not in THEOREMS_HYPOTHESIS
           and any(m.split(".")[0] in ("hypothesis", "pytest") for m in _imports(p))]
    assert bad == []
    assert all(any(m.startswith("hypothesis") for m in _imports(ROOT / "theorems" / name))
               for name in THEOREMS_HYPOTHESIS)
