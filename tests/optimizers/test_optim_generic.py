"""Generic tests, parametrised over the registry: every registered optimizer gets all of them.

* built with its defaults; every invalid hyperparameter of its spec raises ValueError naming it;
* a zero gradient leaves the parameters unchanged; a parameter without gradient is untouched;
* float32 stays float32 (parameters and state), on every backend;
* a state_dict round trip (in memory and through numpy.savez, float64 and float32) after 10
  steps continues in lockstep with the original for 10 more, bit for bit; a mismatched state_dict changes nothing;
  a state_dict missing an entry is refused with the entry named, and changes nothing;
* the learning rate may be a schedule: step t uses lr(t), ``last_lr`` reports it;
* convergence on a strongly convex quadratic and on Rosenbrock within the stated budget (the
  settings and the rule that chose them are in ``tests/optim_registry/``).
"""
import io

import numpy as np
import pytest

import minigrad as mg
from optimizers import Optimizer, flatten_state_dict, unflatten_state_dict
from optim_registry import specs

from optim_testkit import (GradientSequence, missing_entry_message, nested_arrays, quadratic,
                           required_entries, rosenbrock, run, stepper, without)

SPECS = specs()
IDS = [s.name for s in SPECS]


def _grads(n, seed=0, shape=(3,)):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(n)]


def _drive(spec, opt, seq: GradientSequence, steps: int):
    """``steps`` steps with gradients from ``seq`` (through the closure when the spec needs one)."""
    for _ in range(steps):
        if spec.closure == "loss":
            opt.step(seq.closure)
        elif spec.closure == "finite_sum":
            opt.step(seq.finite_sum_closure)
        else:
            seq.feed()
            opt.step()


def _enough(spec, steps):
    """Gradient feeds needed for ``steps`` steps (SAM and SVRG take several per step)."""
    return 4 * steps + 8


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_builds_with_defaults_and_is_an_optimizer(spec):
    opt = spec.make([mg.Tensor([1.0, 2.0], requires_grad=True)])
    assert isinstance(opt, Optimizer)
    assert opt.step_count == 0 and len(opt.param_groups) == 1


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_invalid_hyperparameter_raises_value_error_naming_it(spec):
    assert spec.invalid, f"{spec.name}: the spec lists no invalid values"
    for kwargs, name in spec.invalid:
        with pytest.raises(ValueError) as info:
            spec.make([mg.Tensor([1.0, 2.0], requires_grad=True)], **kwargs)
        assert name in str(info.value), (kwargs, str(info.value))


def _no_decay(spec) -> dict:
    """weight_decay=0 for the optimizers that have a weight decay (AdamW's default is 1e-2)."""
    probe = spec.make([mg.Tensor([0.0], requires_grad=True)])
    return {"weight_decay": 0.0} if "weight_decay" in probe.defaults else {}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_zero_gradient_leaves_parameters_unchanged(spec, backend):
    """Zero gradient and zero decay: the parameters do not move, bit for bit (or, for a spec
    that declares ``exact_zero_gradient=False``, to rounding)."""
    x0 = np.array([0.3, -1.7, 2.5])
    x = mg.Tensor(x0, requires_grad=True)
    opt = spec.make([x], **_no_decay(spec))
    _drive(spec, opt, GradientSequence(x, [np.zeros(3)] * 40), 5)
    if spec.exact_zero_gradient:
        np.testing.assert_array_equal(x.numpy(), x0)
    else:
        np.testing.assert_allclose(x.numpy(), x0, rtol=1e-14, atol=0)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_parameter_without_gradient_is_untouched(spec):
    x = mg.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    frozen = mg.Tensor([4.0, 5.0], requires_grad=True)
    opt = spec.make([x, frozen])
    _drive(spec, opt, GradientSequence(x, _grads(40)), 6)
    np.testing.assert_array_equal(frozen.numpy(), [4.0, 5.0])
    assert frozen.grad is None
    assert not np.array_equal(x.numpy(), [1.0, -2.0, 0.5])


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_float32_stays_float32(spec, backend):
    x = mg.Tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32), requires_grad=True)
    opt = spec.make([x])
    _drive(spec, opt, GradientSequence(x, _grads(40)), 6)
    assert x.data.dtype == np.float32
    base = getattr(opt, "base", opt)
    for o in {id(opt): opt, id(base): base}.values():
        for state in o.state.values():
            for key, value in state.items():
                if mg.backend.is_array(value):
                    assert value.dtype == np.float32, (key, value.dtype)
                    assert mg.backend.backend_name_of(value) == backend, key


def _fresh_pair(spec, x_values, dtype=np.float64):
    x = mg.Tensor(np.asarray(x_values, dtype=dtype), requires_grad=True)
    y = mg.Tensor(np.array([[1.0, -1.0], [0.5, 2.0]], dtype=dtype), requires_grad=True)
    return x, y, spec.make([x, y])


class _PairSequence(GradientSequence):
    """Fixed gradients for two parameters (x of shape (3,), y of shape (2, 2))."""

    def __init__(self, x, y, seed):
        rng = np.random.default_rng(seed)
        self.items = [(rng.standard_normal(x.shape), rng.standard_normal(y.shape))
                      for _ in range(200)]
        self.x, self.y, self.i = x, y, 0

    def feed(self):
        gx, gy = self.items[self.i]
        self.i += 1
        self.x.grad = mg.backend.asarray(gx, dtype=self.x.dtype)
        self.y.grad = mg.backend.asarray(gy, dtype=self.y.dtype)
        return mg.Tensor(0.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("via_savez", [False, True], ids=["in_memory", "savez"])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_state_dict_round_trip_continues_in_lockstep(spec, via_savez, dtype):
    x, y, opt = _fresh_pair(spec, [0.1, 0.2, -0.3], dtype)
    seq = _PairSequence(x, y, seed=1)
    _drive(spec, opt, seq, 10)
    sd = opt.state_dict()
    for key, value in flatten_state_dict(sd).items():
        assert isinstance(key, str) and isinstance(value, np.ndarray), (key, type(value))
        assert value.dtype != object, key
    for value in _leaves(sd):
        assert isinstance(value, (np.ndarray, bool, int, float, str, tuple, list)), type(value)
    if via_savez:
        buf = io.BytesIO()
        np.savez(buf, **flatten_state_dict(sd))
        buf.seek(0)
        sd = unflatten_state_dict(np.load(buf))
    x2, y2, opt2 = _fresh_pair(spec, x.numpy(), dtype)
    y2.data[...] = y.data
    opt2.load_state_dict(sd)
    for o in (opt2, getattr(opt2, "base", opt2)):
        for state in o.state.values():
            assert all(v.dtype == dtype for v in state.values()
                       if isinstance(v, np.ndarray) or mg.backend.backend_name_of(v) != "numpy")
    seq2 = _PairSequence(x2, y2, seed=1)
    seq2.i = seq.i
    _drive(spec, opt, seq, 10)
    _drive(spec, opt2, seq2, 10)
    np.testing.assert_array_equal(x2.numpy(), x.numpy())
    np.testing.assert_array_equal(y2.numpy(), y.numpy())
    assert x2.data.dtype == dtype and x2.numpy().tobytes() == x.numpy().tobytes()
    assert opt2.step_count == opt.step_count == 20
    a, b = flatten_state_dict(opt.state_dict()), flatten_state_dict(opt2.state_dict())
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes(), key


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_loading_mismatched_shapes_raises_and_changes_nothing(spec):
    x, y, opt = _fresh_pair(spec, [0.1, 0.2, -0.3])
    _drive(spec, opt, _PairSequence(x, y, seed=2), 3)
    sd = opt.state_dict()
    other_x = mg.Tensor([0.0, 0.0, 0.0, 0.0], requires_grad=True)   # 4 entries, not 3
    other_y = mg.Tensor([[0.0, 0.0], [0.0, 0.0]], requires_grad=True)
    victim = spec.make([other_x, other_y])
    _drive(spec, victim, _PairSequence(other_x, other_y, seed=3), 2)
    victim.zero_grad()
    before = flatten_state_dict(victim.state_dict())
    if not any(v.ndim > 0 for v in nested_arrays(sd)):
        # nothing in the state depends on the parameters' shapes: it loads, as in torch.optim
        victim.load_state_dict(sd)
        assert victim.step_count == opt.step_count
        return
    with pytest.raises(ValueError, match="shape"):
        victim.load_state_dict(sd)
    after = flatten_state_dict(victim.state_dict())
    assert sorted(after) == sorted(before)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_a_missing_entry_is_refused_naming_it_and_changes_nothing(spec):
    """Every entry a load needs (all but the groups' hyperparameters and a parameter's whole
    state, which may be absent), removed in turn, in memory and through numpy.savez: a
    ValueError names it and the optimizer is left as it was; the complete state_dict loads."""
    x, y, opt = _fresh_pair(spec, [0.1, 0.2, -0.3])
    _drive(spec, opt, _PairSequence(x, y, seed=2), 10)
    sd = opt.state_dict()
    paths = list(required_entries(sd))
    assert {("optimizer",), ("step_count",), ("state",), ("extra",)} <= set(paths)
    for d, pre in ((sd, ()), *(((sd["base"], ("base",)),) if "base" in sd else ())):
        assert {(*pre, "state", i, k) for i, st in d["state"].items() for k in st} \
            | {(*pre, "extra", k) for k in d["extra"]} <= set(paths)
    x2, y2, victim = _fresh_pair(spec, [0.4, 0.5, 0.6])
    _drive(spec, victim, _PairSequence(x2, y2, seed=3), 3)
    victim.zero_grad()
    before = flatten_state_dict(victim.state_dict())
    for path in paths:
        missing = without(sd, path)
        buf = io.BytesIO()
        np.savez(buf, **flatten_state_dict(missing))
        buf.seek(0)
        for bad in (missing, unflatten_state_dict(np.load(buf))):
            with pytest.raises(ValueError, match=missing_entry_message(path)):
                victim.load_state_dict(bad)
            after = flatten_state_dict(victim.state_dict())
            assert sorted(after) == sorted(before), path
            for key in before:
                np.testing.assert_array_equal(after[key], before[key], err_msg=str(path))
    victim.load_state_dict(sd)
    assert victim.step_count == opt.step_count


def _leaves(sd):
    if isinstance(sd, dict):
        return [v for value in sd.values() for v in _leaves(value)]
    if isinstance(sd, list) and sd and isinstance(sd[0], dict):
        return [v for value in sd for v in _leaves(value)]
    return [sd]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_schedule_is_evaluated_at_the_step_count_from_zero(spec):
    seen = []

    def lr(t):
        seen.append(t)
        return 0.01 / (1 + t)

    x = mg.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = spec.make([x], lr=lr)
    assert opt.last_lr == [None]
    _drive(spec, opt, GradientSequence(x, _grads(40)), 3)
    assert set(seen) == {0, 1, 2}
    assert opt.last_lr == [0.01 / 3]
    assert opt.param_groups[0]["last_lr"] == 0.01 / 3


class _OneCycleLike:
    """A schedule with a momentum schedule attached, as schedules.OneCycle has."""

    def __init__(self):
        self.momentum = lambda t: 0.05 + 0.02 * t

    def __call__(self, t):
        return 0.01


@pytest.mark.parametrize("spec", [s for s in SPECS if s.follows_momentum_schedule],
                         ids=[s.name for s in SPECS if s.follows_momentum_schedule])
def test_momentum_follows_the_schedule_momentum_when_present(spec):
    # a momentum builds up, then a small opposite gradient: with beta1 = 0.27 its sign wins,
    # with the default 0.9 the momentum's does (Lion's first moment only moves the sign)
    g = np.array([1.0, -1.0, 0.5])
    grads = [g] * 10 + [-0.5 * g] * 10
    x = mg.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = spec.make([x], lr=_OneCycleLike())
    _drive(spec, opt, GradientSequence(x, grads), 12)
    assert opt.param_groups[0]["last_momentum"] == pytest.approx(0.27)
    x2 = mg.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt2 = spec.make([x2], lr=0.01)
    _drive(spec, opt2, GradientSequence(x2, grads), 12)
    assert not np.array_equal(x.numpy(), x2.numpy())


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_converges_on_the_strongly_convex_quadratic(spec):
    problem, setting = quadratic(), spec.quadratic
    x, _ = run(spec, problem, setting)
    tol = setting.tol or problem.tol
    err = np.linalg.norm(x.numpy() - problem.x_star)
    assert err <= tol, f"{spec.name}: ||x - x*|| = {err:.3g} > {tol} after {setting.steps} steps"


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_converges_on_rosenbrock(spec):
    problem, setting = rosenbrock(closed_form=True), spec.rosenbrock
    x, _ = run(spec, problem, setting)
    tol = setting.tol or problem.tol
    err = np.linalg.norm(x.numpy() - problem.x_star)
    assert err <= tol, f"{spec.name}: ||x - x*|| = {err:.3g} > {tol} after {setting.steps} steps"


def test_rosenbrock_closed_form_matches_the_engine():
    """The NumPy gradient the convergence runs use agrees with minigrad's, on the full function
    and on each finite-sum batch, at points on and off the path."""
    problem = rosenbrock(closed_form=True)
    for point in ([-1.2, 1.0], [0.3, -0.7], [1.0, 1.0], [2.5, 6.0]):
        for indices in (None, [0], [1], [0, 1], [0, 0, 1]):
            x = mg.Tensor(point, requires_grad=True)
            value = problem.loss(x) if indices is None else problem.component_loss(x, indices)
            value.backward()
            f, g = problem.closed_form(np.array(point), indices)
            np.testing.assert_allclose(f, value.item(), rtol=1e-14, atol=1e-14)
            np.testing.assert_allclose(g, mg.to_numpy(x.grad), rtol=1e-13, atol=1e-12)


def test_stepper_drives_every_closure_kind():
    """The driver itself: each closure kind makes a step and returns a loss where one exists."""
    for spec in SPECS:
        x = mg.Tensor([0.0, 0.0], requires_grad=True)
        opt = spec.make([x], lr=1e-3)
        stepper(spec, opt, x, quadratic())()
        assert opt.step_count == 1
