"""The theorems package is installed with the distribution, and ``import theorems`` needs no
hypothesis (only theorems.strategies and theorems.testing do: the ``test`` extra)."""
import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.host_only  # the distribution and the imports: no array backend involved

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_package_is_in_the_distribution():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "theorems*" in config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert "hypothesis>=6.100" in config["project"]["optional-dependencies"]["test"]
    assert not any(d.startswith("hypothesis") for d in config["project"]["dependencies"])


def test_import_theorems_works_without_hypothesis():
    code = ("import sys; sys.modules['hypothesis'] = None; import theorems; "
            "print(len(theorems.THEOREMS), 'hypothesis' in sys.modules and "
            "sys.modules['hypothesis'] is not None)\n"
            "try:\n    import theorems.strategies\nexcept ImportError:\n    print('needs it')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["13", "False", "needs", "it"]
