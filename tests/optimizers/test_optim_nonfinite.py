"""The non-finite policy (``optimizers.nonfinite``, ``docs/nonfinite.md``), for every registered
optimizer and for the methods outside the registry (Newton, the zero-order methods, Sophia's
Hessian estimate):

* ``"propagate"``: after a step that met an inf or NaN gradient entry, that parameter entry is
  inf or NaN, and at no later step does a state array hold a non-finite value while every
  parameter looks finite (the state is never silently poisoned);
* ``"raise"``: the step raises NonFiniteError naming what was bad; parameters, gradients' owner
  state, counters and the state_dict are bit for bit as before, and the run then continues
  exactly like a run that never saw the bad step;
* ``"skip"``: the same, with ``skipped_steps`` counted (and saved) instead of the error;
* the methods that factorise, invert or rank refuse ``"propagate"``; an unknown policy is refused;
* parameters: a non-leaf Tensor, one that does not require a gradient, or one given twice (in
  two groups) is refused with a message that names it.

The oracle of the continuation tests is a second optimizer that takes the same good steps and
never sees the bad one: the two must agree bit for bit.
"""
import math

import numpy as np
import pytest

import minigrad as mg
import optimizers as O
from optimizers import flatten_state_dict
from optimizers import nonfinite as NF
from optim_registry import specs

SPECS = specs()
IDS = [s.name for s in SPECS]
C = np.array([[1.0, 2.0], [3.0, 0.5]])      # f(x) = 1/2 sum C * x^2 on a 2 x 2 parameter
X0 = np.array([[0.7, -1.1], [0.4, 0.9]])
BAD = [math.inf, -math.inf, math.nan]


def _default_policy(cls) -> str:
    return cls.nonfinite_policies[0]


class Oracle:
    """The gradient of f(x) = 1/2 sum C x^2 (and the loss); while ``bad`` is set, the gradient
    entry (0, 0) is replaced by ``bad`` (through the closure or by setting ``.grad``)."""

    def __init__(self, x):
        self.x = x
        self.bad = None

    def _loss(self):
        self.x.grad = None
        loss = 0.5 * (mg.Tensor(C) * self.x * self.x).sum()
        loss.backward()
        if self.bad is not None:
            self.x.grad = self.x.grad.copy()
            self.x.grad[0, 0] = self.bad
        return loss

    def closure(self, *indices):
        return self._loss()


def _step(spec, opt, oracle):
    if spec.closure in ("loss", "finite_sum"):
        return opt.step(oracle.closure)
    oracle._loss()
    return opt.step()


def _make(spec, x, **kw):
    return spec.make([x], **{**spec.quadratic.kwargs, "lr": spec.quadratic.lr, **kw})


def _host_arrays(values):
    """The arrays among ``values`` (host arrays, and device arrays brought to the host)."""
    return [mg.to_numpy(v) for v in values
            if isinstance(v, np.ndarray) or mg.backend.backend_name_of(v) != "numpy"]


def _state_arrays(opt):
    out = []
    for st in opt.state.values():
        out += _host_arrays(st.values())
    out += _host_arrays(getattr(opt, "vstate", {}).values())
    base = getattr(opt, "base", None)
    if base is not None:
        out += _state_arrays(base)
    return out


def _assert_same_state_dict(a: dict, b: dict):
    """The same entries, bit for bit (arrays, and numbers / strings as their 0-d arrays)."""
    a, b = flatten_state_dict(a), flatten_state_dict(b)
    assert set(a) == set(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes(), k


# --------------------------------------------------------------------------- propagate
PROPAGATING = [s for s in SPECS if _default_policy(s.cls) == "propagate"]


@pytest.mark.parametrize("bad", BAD, ids=["inf", "-inf", "nan"])
@pytest.mark.parametrize("spec", PROPAGATING, ids=[s.name for s in PROPAGATING])
def test_propagate_carries_the_value_to_the_parameters_and_never_poisons_the_state(spec, bad):
    x = mg.Tensor(X0, requires_grad=True)
    opt = _make(spec, x)
    assert opt.nonfinite == "propagate"
    oracle = Oracle(x)
    with np.errstate(all="ignore"):
        for _ in range(3):
            _step(spec, opt, oracle)
        assert np.all(np.isfinite(x.numpy()))
        oracle.bad = bad
        _step(spec, opt, oracle)
        oracle.bad = None
        assert not np.isfinite(x.numpy()[0, 0]), "the bad entry did not reach the parameter"
        for _ in range(20):
            _step(spec, opt, oracle)
            poisoned = any(not np.all(np.isfinite(a)) for a in _state_arrays(opt))
            assert not (poisoned and np.all(np.isfinite(x.numpy()))), \
                "a non-finite state with finite parameters"


def test_the_propagate_check_fails_when_the_marking_is_removed(monkeypatch):
    """Without ``mark``, Signum's momentum keeps an inf for good while its parameters stay
    finite and keep moving: the check above catches it."""
    monkeypatch.setattr(NF, "mark", lambda out, *sources, scratch: None)
    x = mg.Tensor(X0, requires_grad=True)
    opt = O.Signum([x], lr=0.01)
    oracle = Oracle(x)
    oracle.bad = math.inf
    _step(PROPAGATING[0], opt, oracle)
    oracle.bad = None
    for _ in range(20):
        oracle._loss()
        opt.step()
    assert np.isinf(mg.to_numpy(opt.state[x]["m"])[0, 0]) and np.all(np.isfinite(x.numpy()))


# --------------------------------------------------------------------------- raise and skip
def _twin_runs(spec, policy, bad, good_before=2, good_after=3):
    """(optimizer that met one bad step, its twin that did not, their parameters)."""
    x, y = mg.Tensor(X0, requires_grad=True), mg.Tensor(X0, requires_grad=True)
    opt, twin = _make(spec, x, nonfinite=policy), _make(spec, y, nonfinite=policy)
    ox, oy = Oracle(x), Oracle(y)
    for _ in range(good_before):
        _step(spec, opt, ox)
        _step(spec, twin, oy)
    before, x_before = opt.state_dict(), x.numpy().copy()
    ox.bad = bad
    if policy == "raise":
        with pytest.raises(NF.NonFiniteError, match="nothing changed") as info:
            _step(spec, opt, ox)
        assert "gradient" in str(info.value) and opt.name in str(info.value)
    else:
        _step(spec, opt, ox)
        assert opt.skipped_steps == 1
    ox.bad = None
    after = opt.state_dict()
    if policy == "skip":  # a wrapper counts its skipped step; its base, if the base skipped
        assert after.pop("skipped_steps") == 1 and before.pop("skipped_steps") == 0
        if "base" in after:
            assert after["base"].pop("skipped_steps") in (0, 1)
            assert before["base"].pop("skipped_steps") == 0
    _assert_same_state_dict(before, after)
    assert x.numpy().tobytes() == x_before.tobytes()
    for _ in range(good_after):
        _step(spec, opt, ox)
        _step(spec, twin, oy)
    return opt, twin, x, y


@pytest.mark.parametrize("policy", ["raise", "skip"])
@pytest.mark.parametrize("bad", BAD, ids=["inf", "-inf", "nan"])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_a_checked_step_changes_nothing_and_the_run_continues_exactly(spec, bad, policy):
    opt, twin, x, y = _twin_runs(spec, policy, bad)
    assert x.numpy().tobytes() == y.numpy().tobytes()
    a, b = opt.state_dict(), twin.state_dict()
    assert a.pop("skipped_steps") == (1 if policy == "skip" else 0) and b.pop("skipped_steps") == 0
    if "base" in a:
        assert a["base"].pop("skipped_steps") in (0, 1) and b["base"].pop("skipped_steps") == 0
    _assert_same_state_dict(a, b)


def test_skipped_steps_survive_a_state_dict_round_trip():
    spec = next(s for s in SPECS if s.name == "Adam")
    opt, _, x, _ = _twin_runs(spec, "skip", math.nan)
    x2 = mg.Tensor(x.numpy(), requires_grad=True)
    fresh = _make(spec, x2, nonfinite="skip")
    fresh.load_state_dict(opt.state_dict())
    assert fresh.skipped_steps == 1 and fresh.step_count == opt.step_count
    bad = opt.state_dict()
    bad["skipped_steps"] = -1
    with pytest.raises(ValueError, match="skipped_steps"):
        fresh.load_state_dict(bad)
    assert fresh.skipped_steps == 1


def test_a_skipped_step_does_not_advance_the_schedule():
    x = mg.Tensor(X0, requires_grad=True)
    opt = O.SGD([x], lr=lambda t: 0.1 / (t + 1), nonfinite="skip")
    oracle = Oracle(x)
    oracle.bad = math.nan
    _step(SPECS[0], opt, oracle)
    oracle.bad = None
    assert opt.step_count == 0 and opt.last_lr == [None]
    _step(SPECS[0], opt, oracle)
    assert opt.last_lr == [0.1]


# --------------------------------------------------------------------------- choices
REFUSING = [O.Shampoo, O.Newton, O.BFGS, O.LBFGS, O.NelderMead, O.CMAES, O.OnePlusOneES,
            O.GeneticAlgorithm, O.ZeroOrderGD]


@pytest.mark.parametrize("cls", REFUSING, ids=[c.__name__ for c in REFUSING])
def test_methods_that_factorise_or_rank_raise_by_default_and_refuse_propagate(cls):
    x = mg.Tensor(X0, requires_grad=True)
    assert cls([x]).nonfinite == "raise"
    with pytest.raises(ValueError, match="propagate.*not available"):
        cls([x], nonfinite="propagate")


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_an_unknown_policy_is_refused(spec):
    with pytest.raises(ValueError, match="invalid nonfinite='ignore'"):
        spec.make([mg.Tensor(X0, requires_grad=True)], nonfinite="ignore")


# --------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_parameters_must_be_leaves_that_require_a_gradient_each_given_once(spec):
    x = mg.Tensor(X0, requires_grad=True)
    with pytest.raises(ValueError, match=r"parameter 0 of group 0 \(shape \(2, 2\)\) is not a "
                                         r"leaf"):
        spec.make([x * 2.0])
    with pytest.raises(ValueError, match=r"parameter 0 of group 0 \(shape \(2, 2\)\) does not "
                                         r"require a gradient"):
        spec.make([mg.Tensor(X0)])
    y = mg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"parameter 1 of group 0 .* appears more than once"):
        spec.make([x, x])
    with pytest.raises(ValueError, match=r"parameter 0 of group 1 .* appears more than once"):
        spec.make([{"params": [x, y]}, {"params": [x]}])


# --------------------------------------------------------------------------- Sophia's estimate
def _sophia_loss(x, bad):
    def hessian_closure():
        loss = 0.5 * (mg.Tensor(C) * x * x).sum()
        return loss if bad is None else loss * bad
    return hessian_closure


@pytest.mark.parametrize("bad", BAD, ids=["inf", "-inf", "nan"])
def test_a_non_finite_hessian_estimate_reaches_sophias_parameters(bad):
    x = mg.Tensor(X0, requires_grad=True)
    opt = O.Sophia([x], lr=0.01, k=1)
    oracle = Oracle(x)
    with np.errstate(all="ignore"):
        opt.step(oracle.closure, hessian_closure=_sophia_loss(x, bad))
        assert not np.all(np.isfinite(mg.to_numpy(opt.state[x]["h"])))
        assert not np.all(np.isfinite(x.numpy()))


@pytest.mark.parametrize("policy", ["raise", "skip"])
def test_a_non_finite_hessian_estimate_is_refused_or_skipped_by_sophia(policy):
    x, y = mg.Tensor(X0, requires_grad=True), mg.Tensor(X0, requires_grad=True)
    opt, twin = O.Sophia([x], lr=0.01, k=1, nonfinite=policy), O.Sophia([y], lr=0.01, k=1)
    ox, oy = Oracle(x), Oracle(y)
    for _ in range(2):
        opt.step(ox.closure, hessian_closure=_sophia_loss(x, None))
        twin.step(oy.closure, hessian_closure=_sophia_loss(y, None))
    before = opt.state_dict()
    if policy == "raise":
        with pytest.raises(NF.NonFiniteError, match="Hessian estimate of parameter 0"):
            opt.step(ox.closure, hessian_closure=_sophia_loss(x, math.nan))
    else:
        assert opt.step(ox.closure, hessian_closure=_sophia_loss(x, math.nan)) is None
        assert opt.skipped_steps == 1
    after = opt.state_dict()
    after["skipped_steps"] = before["skipped_steps"]
    _assert_same_state_dict(before, after)
    opt.step(ox.closure, hessian_closure=_sophia_loss(x, None))
    twin.step(oy.closure, hessian_closure=_sophia_loss(y, None))
    assert x.numpy().tobytes() == y.numpy().tobytes()


# --------------------------------------------------------------------------- loss-only methods
ZERO_ORDER = [(O.NelderMead, {}), (O.CMAES, {"seed": 3}), (O.OnePlusOneES, {"seed": 3}),
              (O.GeneticAlgorithm, {"popsize": 8, "seed": 3}), (O.ZeroOrderGD, {"lr": 0.05})]


class LossOracle:
    """f(x) = 1/2 sum C x^2 as a recorded loss; while ``bad = (value, n)`` is set, evaluations
    from the n-th on (counted over the whole run) return the loss times ``value``."""

    def __init__(self, x):
        self.x, self.bad, self.calls = x, None, 0

    def closure(self):
        self.calls += 1
        loss = 0.5 * (mg.Tensor(C) * self.x * self.x).sum()
        if self.bad is not None and self.calls >= self.bad[1]:
            return loss * self.bad[0]
        return loss


# (method, keyword arguments, when the bad value comes): the step's first evaluation, or a later
# one; the (1+1)-ES makes one evaluation per step, so it has no later one
LOSS_DRIVEN = [(cls, kw, late) for cls, kw in ZERO_ORDER + [(O.Newton, {})]
               for late in (False, True) if not (late and cls is O.OnePlusOneES)]


@pytest.mark.parametrize("policy", ["raise", "skip"])
@pytest.mark.parametrize("cls,kw,late", LOSS_DRIVEN,
                         ids=[f"{c.__name__}-{'later' if t else 'first'}-evaluation"
                              for c, _, t in LOSS_DRIVEN])
def test_a_non_finite_loss_changes_nothing_in_a_loss_driven_method(cls, kw, late, policy):
    """The bad value comes at the step's first evaluation or at a later one (a trial point, a
    member of the population, a line-search trial), after the step has begun to change things:
    the transaction puts everything back."""
    x, y = mg.Tensor(X0, requires_grad=True), mg.Tensor(X0, requires_grad=True)
    opt, twin = cls([x], **kw, nonfinite=policy), cls([y], **kw)
    ox, oy = LossOracle(x), LossOracle(y)
    for _ in range(3):
        opt.step(ox.closure)
        twin.step(oy.closure)
    before, x_before = opt.state_dict(), x.numpy().copy()
    calls = ox.calls
    ox.bad = (math.nan, calls + (2 if late else 1))  # Newton's second: the Hessian's graph
    if policy == "raise":
        with pytest.raises(NF.NonFiniteError, match="nothing changed"):
            opt.step(ox.closure)
    else:
        opt.step(ox.closure)
        assert opt.skipped_steps == 1
    if ox.calls < ox.bad[1]:
        pytest.fail("the bad value was never evaluated: the test does not test the later case")
    ox.bad = None
    after = opt.state_dict()
    after["skipped_steps"] = before["skipped_steps"]
    _assert_same_state_dict(before, after)
    assert x.numpy().tobytes() == x_before.tobytes()
    for _ in range(3):
        opt.step(ox.closure)
        twin.step(oy.closure)
    assert x.numpy().tobytes() == y.numpy().tobytes()
