"""The geometry and curvature methods join the optimizer registry
(tests/optim_registry/geometry.py), so that the generic tests of tests/optimizers run on them."""
import importlib

import optim_registry as registry
from optim_registry import geometry as registry_geometry


def test_every_geometry_spec_is_registered_once():
    names = [s.name for s in registry_geometry.GEOMETRY_SPECS]
    assert len(names) == len(set(names))
    for spec in registry_geometry.GEOMETRY_SPECS:
        assert registry.REGISTRY[spec.name] is spec
    importlib.reload(registry_geometry)  # importing again registers nothing twice
    assert [s.name for s in registry.specs()].count("Muon") == 1


def test_the_registered_classes():
    classes = {s.cls.__name__ for s in registry_geometry.GEOMETRY_SPECS}
    assert classes == {"SteepestDescent", "NormalizedGD", "Muon", "Shampoo", "Sophia"}
    for spec in registry_geometry.GEOMETRY_SPECS:
        assert spec.invalid and spec.quadratic.rule and spec.rosenbrock.rule
