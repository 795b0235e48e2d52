"""state_dict / load_state_dict: the nested layout, flatten_state_dict / unflatten_state_dict and
a numpy.savez round trip, and the errors (which must leave the optimizer unchanged), among them a
missing entry for the methods outside the registry (Newton, the zero-order methods, BFGS and
L-BFGS with their line search). The lockstep round trip and the missing-entry test of every
registered optimizer are in test_optim_generic.py."""
import io

import numpy as np
import pytest

import minigrad as mg
import optimizers as O
from optimizers import flatten_state_dict, unflatten_state_dict

from optim_testkit import missing_entry_message, required_entries, without


def _adam_after_two_steps():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    y = mg.Tensor([[3.0]], requires_grad=True)
    opt = O.Adam([{"params": [x]}, {"params": [y], "lr": 0.5}], lr=0.1)
    for _ in range(2):
        x.grad = mg.backend.asarray(np.array([1.0, -1.0]))
        y.grad = mg.backend.asarray(np.array([[2.0]]))
        opt.step()
    return opt, x, y


def _savez(sd) -> dict:
    """``sd`` saved with numpy.savez (flattened) and read back with numpy.load (unflattened)."""
    buf = io.BytesIO()
    np.savez(buf, **flatten_state_dict(sd))
    buf.seek(0)
    with np.load(buf) as f:
        return unflatten_state_dict(f)


def test_the_layout_is_nested_and_documented():
    opt, x, y = _adam_after_two_steps()
    sd = opt.state_dict()
    assert sd["optimizer"] == "Adam" and sd["step_count"] == 2 and len(sd["param_groups"]) == 2
    assert sd["skipped_steps"] == 0
    g0, g1 = sd["param_groups"]
    assert g0["params"] == [0] and g1["params"] == [1]
    assert g0["lr"] == 0.1 and g1["lr"] == 0.5
    assert g0["betas"] == (0.9, 0.999) and g0["last_lr"] == 0.1
    assert sd["state"][0]["k"] == 2 and sd["state"][1]["k"] == 2
    assert isinstance(sd["state"][0]["m"], np.ndarray) and sd["state"][1]["v"].shape == (1, 1)
    assert set(sd) == {"optimizer", "step_count", "skipped_steps", "param_groups", "state",
                       "extra"}
    for g in (g0, g1):
        assert set(g) == {"params", "lr", "betas", "eps", "weight_decay", "last_lr"}
    assert set(sd["state"]) == {0, 1} and sd["extra"] == {}
    assert all(set(s) == {"k", "m", "v"} for s in sd["state"].values())


def test_flatten_gives_one_array_per_path_and_unflatten_inverts_it():
    opt, x, y = _adam_after_two_steps()
    sd = opt.state_dict()
    flat = flatten_state_dict(sd)
    assert set(flat) == {
        "optimizer", "step_count", "skipped_steps", "extra/",
        "param_groups/0/params", "param_groups/0/lr", "param_groups/0/betas",
        "param_groups/0/eps", "param_groups/0/weight_decay", "param_groups/0/last_lr",
        "param_groups/1/params", "param_groups/1/lr", "param_groups/1/betas",
        "param_groups/1/eps", "param_groups/1/weight_decay", "param_groups/1/last_lr",
        "state/0/k", "state/0/m", "state/0/v", "state/1/k", "state/1/m", "state/1/v"}
    assert all(isinstance(v, np.ndarray) for v in flat.values())
    assert flat["extra/"].size == 0 and flat["optimizer"].item() == "Adam"
    for back in (unflatten_state_dict(flat), _savez(sd)):
        assert set(back) == set(sd) and back["extra"] == {}
        assert isinstance(back["param_groups"], list) and set(back["state"]) == {0, 1}
        assert back["optimizer"] == "Adam" and type(back["step_count"]) is int
        assert type(back["param_groups"][1]["lr"]) is float
        np.testing.assert_array_equal(back["param_groups"][0]["betas"], [0.9, 0.999])
        np.testing.assert_array_equal(back["param_groups"][1]["params"], [1])
        for i in (0, 1):
            assert set(back["state"][i]) == {"k", "m", "v"} and back["state"][i]["k"] == 2
            for key in ("m", "v"):
                a, b = back["state"][i][key], sd["state"][i][key]
                assert a.dtype == b.dtype and a.shape == b.shape
                assert a.tobytes() == b.tobytes()
        assert set(flatten_state_dict(back)) == set(flat)


def test_flatten_keeps_empty_dicts_and_nested_base_state():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    opt = O.Lookahead(O.SGD([x], lr=0.1), k=2)
    sd = opt.state_dict()  # no step yet: no state anywhere
    flat = flatten_state_dict(sd)
    assert {"state/", "extra/", "base/state/", "base/extra/"} <= set(flat)
    back = _savez(sd)
    assert back["state"] == {} and back["base"]["state"] == {} and back["base"]["extra"] == {}
    target = O.Lookahead(O.SGD([mg.Tensor([1.0, 2.0], requires_grad=True)], lr=0.1), k=2)
    target.load_state_dict(back)
    assert target.state == {} and target.step_count == 0


def test_the_state_dict_is_a_snapshot_not_a_view():
    opt, x, _ = _adam_after_two_steps()
    sd = opt.state_dict()
    m = sd["state"][0]["m"].copy()
    x.grad = mg.backend.asarray(np.array([5.0, 5.0]))
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["m"], m)


def test_loaded_arrays_are_copies():
    opt, x, y = _adam_after_two_steps()
    sd = opt.state_dict()
    x2, y2 = mg.Tensor(x.numpy(), requires_grad=True), mg.Tensor(y.numpy(), requires_grad=True)
    opt2 = O.Adam([{"params": [x2]}, {"params": [y2]}])
    opt2.load_state_dict(sd)
    sd["state"][0]["m"][...] = 123.0
    assert not np.any(mg.to_numpy(opt2.state[x2]["m"]) == 123.0)
    assert opt2.param_groups[1]["lr"] == 0.5  # the saved hyperparameters are restored


def test_savez_round_trip():
    opt, x, y = _adam_after_two_steps()
    loaded = _savez(opt.state_dict())
    x2, y2 = mg.Tensor(x.numpy(), requires_grad=True), mg.Tensor(y.numpy(), requires_grad=True)
    opt2 = O.Adam([{"params": [x2]}, {"params": [y2]}])
    opt2.load_state_dict(loaded)
    assert opt2.step_count == 2
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999)
    assert type(opt2.param_groups[0]["betas"][0]) is float
    assert opt2.state[x2]["k"] == 2 and type(opt2.state[x2]["k"]) is int
    np.testing.assert_array_equal(mg.to_numpy(opt2.state[y2]["v"]), mg.to_numpy(opt.state[y]["v"]))


def test_a_flat_dict_is_refused_with_a_pointer_to_unflatten():
    opt, x, y = _adam_after_two_steps()
    flat = flatten_state_dict(opt.state_dict())
    target, _, _ = _adam_after_two_steps()
    before = flatten_state_dict(target.state_dict())
    with pytest.raises(ValueError, match="unflatten_state_dict"):
        target.load_state_dict(flat)
    _unchanged(target, before)


def test_a_schedule_is_not_saved_and_the_loading_optimizer_keeps_its_own():
    x = mg.Tensor([1.0], requires_grad=True)
    sched = lambda t: 0.1  # noqa: E731
    opt = O.SGD([x], lr=sched)
    x.grad = mg.backend.asarray(np.array([1.0]))
    opt.step()
    sd = opt.state_dict()
    assert "lr" not in sd["param_groups"][0] and sd["param_groups"][0]["last_lr"] == 0.1
    mine = lambda t: 0.2  # noqa: E731
    opt2 = O.SGD([mg.Tensor([0.9], requires_grad=True)], lr=mine)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] is mine


def _unchanged(opt, before_flat):
    after = flatten_state_dict(opt.state_dict())
    assert sorted(after) == sorted(before_flat)
    for k in before_flat:
        np.testing.assert_array_equal(after[k], before_flat[k])


def _group(g):
    return lambda sd: sd["param_groups"][g]


@pytest.mark.parametrize("mutate,match", [
    (lambda sd: sd.update(optimizer="SGD"), "of optimizer 'SGD'"),
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])), "3 parameter groups"),
    (lambda sd: _group(1)(sd).update(params=[1, 2]), "group 1 has 2 parameters"),
    (lambda sd: _group(0)(sd).update(params=[1]), "numbered across groups"),
    (lambda sd: _group(0)(sd).update(lr=-1.0), "invalid lr"),
    (lambda sd: _group(0)(sd).update(betas=(0.9, 1.0)), r"betas\[1\]"),
    (lambda sd: _group(0)(sd).update(momentum=0.9), "unknown hyperparameter 'momentum'"),
    (lambda sd: sd["state"][0].update(m=np.zeros(3)), "shape"),
    (lambda sd: sd["state"][1].update(v=np.zeros((2, 2))), "shape"),
    (lambda sd: sd["state"][0].pop("v"), "state entries"),
    (lambda sd: sd["state"][0].pop("v"), "no entry 'state/0/v'"),
    (lambda sd: sd["state"][0].update(w=np.zeros(2)), "state entries"),
    (lambda sd: sd["state"][0].update(w=np.zeros(2)), "unexpected entry 'state/0/w'"),
    (lambda sd: sd["state"].update({7: {"m": np.zeros(2)}}), "names no parameter"),
    (lambda sd: sd["state"][0].update(k="two"), "must be a int"),
    (lambda sd: sd.update(step_count=-1), "step_count"),
    (lambda sd: sd.update(junk=1), "unexpected keys"),
    (lambda sd: sd["extra"].update(x=1), "optimizer-wide state"),
    (lambda sd: sd.update(extra=5), "'extra' must be a dict"),
    (lambda sd: sd.pop("skipped_steps"), "no entry 'skipped_steps'"),
    (lambda sd: sd.pop("state"), "no entry 'state'"),
    (lambda sd: sd.pop("extra"), "no entry 'extra'"),
    (lambda sd: sd.pop("param_groups"), "no entry 'param_groups'"),
    (lambda sd: _group(1)(sd).pop("params"), "no entry 'param_groups/1/params'"),
])
@pytest.mark.parametrize("via_savez", [False, True], ids=["in_memory", "savez"])
def test_a_mismatched_state_dict_raises_and_changes_nothing(mutate, match, via_savez):
    opt, x, y = _adam_after_two_steps()
    sd = opt.state_dict()
    mutate(sd)
    if via_savez:
        sd = _savez(sd)
    target, tx, ty = _adam_after_two_steps()
    tx.grad = mg.backend.asarray(np.array([0.3, 0.3]))
    target.step()
    before = flatten_state_dict(target.state_dict())
    with pytest.raises(ValueError, match=match):
        target.load_state_dict(sd)
    _unchanged(target, before)


def test_wrappers_save_their_base_under_base():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    opt = O.Lookahead(O.Adam([x], lr=0.1), k=2)
    x.grad = mg.backend.asarray(np.array([1.0, 1.0]))
    opt.step()
    sd = opt.state_dict()
    assert sd["optimizer"] == "Lookahead" and sd["base"]["optimizer"] == "Adam"
    assert "slow" in sd["state"][0] and "m" in sd["base"]["state"][0]
    assert "lr" in sd["base"]["param_groups"][0] and "param_groups" not in sd
    bad = opt.state_dict()
    bad["base"]["state"][0]["m"] = np.zeros(5)
    target = O.Lookahead(O.Adam([mg.Tensor([1.0, 2.0], requires_grad=True)], lr=0.1), k=2)
    with pytest.raises(ValueError, match="shape"):
        target.load_state_dict(bad)
    assert target.state == {} and target.base.state == {}
    no_base = {k: v for k, v in sd.items() if k != "base"}
    with pytest.raises(ValueError, match="base"):
        target.load_state_dict(no_base)
    with pytest.raises(ValueError, match="'base'.*no entry 'state/0/v'"):
        target.load_state_dict(without(sd, ("base", "state", 0, "v")))
    assert target.state == {} and target.base.state == {} and target.step_count == 0


def test_sag_saves_its_visited_components():
    x = mg.Tensor([1.0], requires_grad=True)
    opt = O.SAG([x], n=3, lr=0.1, sampler=lambda t: [1])

    def closure(idx):
        x.grad = mg.backend.asarray(np.array([1.0]))
        return mg.Tensor(0.0)

    opt.step(closure)
    sd = opt.state_dict()
    np.testing.assert_array_equal(sd["extra"]["seen"], [False, True, False])
    assert sd["extra"]["grad_evals"] == 1 and sd["state"][0]["table"].shape == (3, 1)
    target = O.SAG([mg.Tensor([1.0], requires_grad=True)], n=4, lr=0.1)
    with pytest.raises(ValueError, match="shape"):
        target.load_state_dict(sd)
    same_n = O.SAG([mg.Tensor([1.0], requires_grad=True)], n=3, lr=0.1)
    with pytest.raises(ValueError, match="no entry 'extra/seen'"):
        same_n.load_state_dict(without(sd, ("extra", "seen")))
    assert same_n.state == {} and not same_n.seen.any()


# --------------------------------------------------------------------------- missing entries
# the closure-driven methods outside the registry, with their default line search
def _loss(*params):
    v = mg.concatenate([p.reshape(-1) for p in params])
    return ((v - 0.25) ** 2).sum() + (v[0] * v[1]) ** 2


VECTOR_MAKERS = {
    "Newton": lambda p: O.Newton(p),
    "BFGS": lambda p: O.BFGS(p),
    "LBFGS": lambda p: O.LBFGS(p),
    "ZeroOrderGD": lambda p: O.ZeroOrderGD(p, lr=0.05, seed=1),
    "NelderMead": lambda p: O.NelderMead(p),
    "CMAES": lambda p: O.CMAES(p, sigma0=0.3, seed=2),
    "OnePlusOneES": lambda p: O.OnePlusOneES(p, sigma0=0.3, seed=3),
    "GeneticAlgorithm": lambda p: O.GeneticAlgorithm(p, popsize=10, seed=4),
}


def _vector_run(name, steps=4, dtype=np.float64):
    a = mg.Tensor(np.array([1.0, -0.5], dtype=dtype), requires_grad=True)
    b = mg.Tensor(np.array([[0.8]], dtype=dtype), requires_grad=True)
    opt = VECTOR_MAKERS[name]([a, b])

    def closure():
        opt.zero_grad()
        loss = _loss(a, b)
        if name in ("BFGS", "LBFGS"):
            loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
    return opt, a, b, closure


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("via_savez", [False, True], ids=["in_memory", "savez"])
@pytest.mark.parametrize("name", sorted(VECTOR_MAKERS))
def test_a_round_trip_continues_in_lockstep_outside_the_registry(name, via_savez, dtype):
    opt, a, b, closure = _vector_run(name, dtype=dtype)
    sd = _savez(opt.state_dict()) if via_savez else opt.state_dict()
    opt2, a2, b2, closure2 = _vector_run(name, steps=0, dtype=dtype)
    a2.data[...], b2.data[...] = a.data, b.data
    opt2.load_state_dict(sd)
    for key, value in getattr(opt, "vstate", {}).items():  # the dtypes as saved
        if mg.backend.is_array(value):  # a host or a device array
            assert opt2.vstate[key].dtype == value.dtype, key
    for _ in range(4):
        opt.step(closure)
        opt2.step(closure2)
    assert a2.data.dtype == dtype
    assert a2.numpy().tobytes() == a.numpy().tobytes()
    assert b2.numpy().tobytes() == b.numpy().tobytes()
    assert opt2.step_count == opt.step_count == 8 and opt2.nfev == opt.nfev
    x, y = flatten_state_dict(opt.state_dict()), flatten_state_dict(opt2.state_dict())
    assert sorted(x) == sorted(y)
    for key in x:
        assert x[key].dtype == y[key].dtype and x[key].tobytes() == y[key].tobytes(), key


@pytest.mark.parametrize("name", sorted(VECTOR_MAKERS))
def test_a_missing_entry_is_refused_naming_it_and_changes_nothing_outside_the_registry(name):
    opt, *_ = _vector_run(name)
    sd = opt.state_dict()
    paths = list(required_entries(sd))
    assert ("extra", "nfev") in paths and ("state",) in paths
    victim, *_ = _vector_run(name, steps=2)
    before = flatten_state_dict(victim.state_dict())
    for path in paths:
        for bad in (without(sd, path), _savez(without(sd, path))):
            with pytest.raises(ValueError, match=missing_entry_message(path)):
                victim.load_state_dict(bad)
            _unchanged(victim, before)
    victim.load_state_dict(sd)  # the complete one loads
    assert victim.step_count == opt.step_count


@pytest.mark.parametrize("name,entries", [
    ("BFGS", ["x_prev"]), ("LBFGS", ["x_prev"]), ("NelderMead", ["sim", "fsim"]),
    ("CMAES", ["m"]), ("CMAES", ["C"]), ("GeneticAlgorithm", ["X"]),
    ("GeneticAlgorithm", ["fvals"]),
])
def test_state_that_would_make_the_run_diverge_or_fail_is_refused_at_load_time(name, entries):
    """Loaded without these entries, the run would leave the uninterrupted one (BFGS and L-BFGS
    skip a curvature pair, Nelder-Mead builds a new simplex, CMA-ES without m and the GA without
    X start afresh) or raise KeyError at the next step (CMA-ES without C, the GA without
    fvals): the load is refused, naming the entry."""
    opt, a, b, closure = _vector_run(name)
    sd = opt.state_dict()
    for key in entries:
        assert key in sd["extra"]
        sd["extra"].pop(key)
    victim, va, vb, vclosure = _vector_run(name, steps=0)
    before = flatten_state_dict(victim.state_dict())
    with pytest.raises(ValueError, match=f"no entry 'extra/{entries[0]}'"):
        victim.load_state_dict(sd)
    _unchanged(victim, before)
    assert victim.vstate == {}


def test_an_unset_entry_is_recorded_and_round_trips():
    """BFGS holds no x_prev before its first step: the state says so, and loads."""
    opt, *_ = _vector_run("BFGS", steps=0)
    sd = opt.state_dict()
    assert set(sd["extra"]["unset"]) == set(O.BFGS._vstate_keys)
    victim, *_ = _vector_run("BFGS", steps=2)
    victim.load_state_dict(_savez(sd))
    assert victim.vstate == {} and victim.step_count == 0
    bad = opt.state_dict()
    bad["extra"]["unset"] = ("x_prev", "w")
    with pytest.raises(ValueError, match="'extra/unset' names \\['w'\\]"):
        victim.load_state_dict(bad)
