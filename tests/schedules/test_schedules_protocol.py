"""The protocol the optimizers rely on: types and shapes in and out, the momentum attribute,
plain callables, and the package's import rules (no NumPy, nothing of the project)."""
import ast
import inspect
import math
import pathlib

import numpy as np
import pytest

import schedules as S
from schedules import _math

PKG = pathlib.Path(S.__file__).parent

EXAMPLES = [
    S.Constant(0.1), S.StepDecay(0.1, 3), S.MultiStepDecay(0.1, [3, 6]), S.LinearDecay(0.1, 0, 9),
    S.PolynomialDecay(0.1, 0.01, 9, 2), S.ExponentialDecay(0.1, 0.9), S.InverseTimeDecay(0.1, 1),
    S.CosineDecay(0.1, 9), S.LinearCosineDecay(0.1, 9), S.NoisyLinearCosineDecay(0.1, 9),
    S.CyclicalLR(0.01, 0.1, 3), S.CosineWarmRestarts(0.1, 3, 2), S.GradualWarmup(0.1, 3),
    S.ConstantWarmup(0.1, 3, 0.01), S.WarmupMultiStep(0.1, 3, [5]), S.WarmupInverseSqrt(0.1, 3),
    S.WarmupCosine(0.1, 3, 9), S.SlantedTriangular(0.1, 20), S.LongTrapezoid(0.1, 9, 2, 3),
    S.WarmupStableDecay(0.1, 9, 2, 3, "1-sqrt"), S.OneCycle(0.1, 20),
    S.StronglyConvexSGDStep(1.0), S.InverseSqrtSGDStep(0.1), S.HorizonSGDStep(1, 1, 9),
    S.join([S.Constant(0.1), S.CosineDecay(0.1, 5)], [3]), S.scale(S.CosineDecay(0.1, 5), 2),
]


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.partition(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.partition(".")[0]


def test_no_module_imports_numpy_or_anything_of_the_project():
    files = sorted(PKG.glob("*.py"))
    assert len(files) >= 10
    forbidden = {"numpy", "cupy", "minigrad", "optimizers", "problems", "experiments"}
    for f in files:
        bad = forbidden & set(_imports(f))
        assert not bad, f"{f.name} imports {bad}"
        assert "import numpy" not in f.read_text(), f.name


def test_all_is_complete_and_every_schedule_documents_formula_and_reference():
    for name in S.__all__:
        assert hasattr(S, name), name
    classes = [getattr(S, n) for n in S.__all__ if inspect.isclass(getattr(S, n))]
    schedule_classes = [c for c in classes if issubclass(c, S.Schedule) and c is not S.Schedule]
    assert len(schedule_classes) >= 25
    for cls in schedule_classes + [S.ReduceLROnPlateau]:
        doc = cls.__doc__ or ""
        assert ":math:" in doc or ".. math::" in doc or cls in (S.Join, S.Scaled), cls
    for cls in schedule_classes:
        doc = cls.__doc__ or ""
        has_ref = any(w in doc for w in ("et al.", "20", "torch", "optax", "lectures.md", "L0",
                                         "L1"))
        assert has_ref, cls


@pytest.mark.parametrize("sched", EXAMPLES, ids=lambda s: type(s).__name__)
def test_types_and_shapes(sched):
    assert isinstance(sched, S.Schedule)
    assert type(sched(0)) is float and type(sched(3)) is float and type(sched(2.5)) is float
    assert type(sched(np.int64(3))) is float and sched(np.int64(3)) == sched(3)
    zero_d = sched(np.array(3))
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == () and float(zero_d) == sched(3)
    two_d = sched(np.arange(12).reshape(3, 4))
    assert two_d.shape == (3, 4) and two_d.dtype == np.float64
    assert sched(np.array([], dtype=int)).shape == (0,)
    assert math.isfinite(sched(10**9))
    assert type(sched).__name__ in repr(sched)


@pytest.mark.parametrize("bad, error", [
    ([0, 1, 2], TypeError), ((0, 1), TypeError), ("3", TypeError), (True, TypeError),
    (None, TypeError), (-1, ValueError), (-0.5, ValueError), (math.nan, ValueError),
    (math.inf, ValueError), (np.array([0, -1]), ValueError), (np.array([0.0, np.nan]), ValueError),
])
def test_bad_steps_are_refused(bad, error):
    with pytest.raises(error):
        S.CosineDecay(0.1, 10)(bad)


def test_list_error_says_what_to_do():
    with pytest.raises(TypeError, match="np.asarray"):
        S.Constant(0.1)([1, 2])


def test_first_step_uses_t_zero():
    # the optimizer calls lr(t) with t = steps already taken: lr(0) is the first step's rate
    assert S.OneCycle(1.0, 100)(0) == pytest.approx(1.0 / 25, rel=1e-15)
    assert S.CosineDecay(0.3, 10)(0) == 0.3


def test_momentum_attribute_protocol():
    oc = S.OneCycle(1.0, 100, base_momentum=0.85, max_momentum=0.95)
    assert isinstance(oc.momentum, S.Schedule)
    assert oc.momentum(0) == 0.95 and oc.momentum(oc.phase_ends[0]) == 0.85
    assert oc.momentum(np.arange(5)).shape == (5,)
    assert not hasattr(S.OneCycle(1.0, 100, cycle_momentum=False), "momentum")
    assert isinstance(S.CyclicalLR(0.1, 1, 5, cycle_momentum=True).momentum, S.Schedule)
    for s in EXAMPLES:
        if not isinstance(s, S.OneCycle):
            assert getattr(s, "momentum", None) is None, s
    assert (oc * 2).momentum is oc.momentum  # scaling keeps the momentum cycle


def test_plain_callables_compose():
    def halving(t):  # a plain, vectorised callable of the step
        return 0.5 ** (t / 10)

    s = S.join([S.Constant(1.0), halving], [5])
    assert s(5) == 1.0 and s(15) == 0.5
    np.testing.assert_allclose(s(np.array([0, 5, 15])), [1.0, 1.0, 0.5])
    w = S.warmup(lambda t: 0.2, 4)
    assert w(2) == pytest.approx(0.1) and w(4) == 0.2
    assert S.as_schedule(0.3)(7) == 0.3


def test_plateau_is_callable_as_lr_and_round_trips_its_state():
    p = S.ReduceLROnPlateau(0.5, patience=0)
    assert p(0) == p(1000) == 0.5
    p.step(1.0)
    p.step(2.0)  # one bad step with patience 0 reduces
    assert p.lr == p(5) == pytest.approx(0.05)
    q = S.ReduceLROnPlateau(0.9)
    q.load_state_dict(p.state_dict())
    assert q.state_dict() == p.state_dict() and q(0) == p(0)
    assert not isinstance(p, S.Schedule)


def test_noise_hash_scalar_and_array_paths_agree_bit_for_bit():
    keys = np.array([0, 1, 2, 3, 1000, 2**31 + 5, 2**40 + 7, 2**52], dtype=float)
    arr = _math.ArrayOps(np).uniform_hash(keys, 12345, 1)
    one = [_math.ScalarOps.uniform_hash(k, 12345, 1) for k in keys.tolist()]
    np.testing.assert_array_equal(arr, one)
    assert np.all((arr >= 0) & (arr < 1))
    # a 0-d array works too (no overflow warnings from NumPy scalars)
    with np.errstate(all="raise"):
        assert _math.ArrayOps(np).uniform_hash(np.array(3.0), 1, 0) == \
            _math.ScalarOps.uniform_hash(3.0, 1, 0)
