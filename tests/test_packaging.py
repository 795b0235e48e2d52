"""The distribution ships every package and sub-package (a non-editable ``pip install .`` once
left out ``optimizers.second_order`` and ``optimizers.zero_order``) and the data files."""
import pathlib

import pytest
import setuptools

pytestmark = pytest.mark.host_only  # the distribution's files: no array backend involved

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOP = ("minigrad", "optimizers", "schedules", "problems", "theorems", "experiments")


def test_every_package_with_an_init_is_installed():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set(setuptools.find_packages(where=str(ROOT), **conf["packages"]["find"]))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for top in TOP for p in (ROOT / top).rglob("__init__.py")
               if "__pycache__" not in p.parts}
    assert on_disk <= found, f"not installed: {sorted(on_disk - found)}"
    assert {"optimizers.second_order", "optimizers.zero_order"} <= found
    assert not any(name.startswith("tests") for name in found)


def test_the_shipped_data_files_are_declared():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = conf["package-data"]["problems"]
    assert any((ROOT / "problems").glob(pat) for pat in patterns)
