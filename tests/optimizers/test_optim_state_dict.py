"""state_dict / load_state_dict: the layout, a numpy.savez round trip, and the errors (which must
leave the optimizer unchanged). The lockstep round trip of every optimizer is in
test_optim_generic.py."""
import io

import numpy as np
import pytest

import minigrad as mg
import optimizers as O


def _adam_after_two_steps():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    y = mg.Tensor([[3.0]], requires_grad=True)
    opt = O.Adam([{"params": [x]}, {"params": [y], "lr": 0.5}], lr=0.1)
    for _ in range(2):
        x.grad = np.array([1.0, -1.0])
        y.grad = np.array([[2.0]])
        opt.step()
    return opt, x, y


def test_the_layout_is_flat_and_documented():
    opt, x, y = _adam_after_two_steps()
    sd = opt.state_dict()
    assert sd["optimizer"] == "Adam" and sd["step_count"] == 2 and sd["n_groups"] == 2
    assert sd["skipped_steps"] == 0
    assert sd["group.0.n_params"] == 1 and sd["group.1.n_params"] == 1
    assert sd["group.0.lr"] == 0.1 and sd["group.1.lr"] == 0.5
    assert sd["group.0.betas"] == (0.9, 0.999) and sd["group.0.last_lr"] == 0.1
    assert sd["state.0.k"] == 2 and sd["state.1.k"] == 2
    assert isinstance(sd["state.0.m"], np.ndarray) and sd["state.1.v"].shape == (1, 1)
    assert set(sd) == {
        "optimizer", "step_count", "skipped_steps", "n_groups",
        "group.0.n_params", "group.0.lr", "group.0.betas", "group.0.eps",
        "group.0.weight_decay", "group.0.last_lr",
        "group.1.n_params", "group.1.lr", "group.1.betas", "group.1.eps",
        "group.1.weight_decay", "group.1.last_lr",
        "state.0.k", "state.0.m", "state.0.v", "state.1.k", "state.1.m", "state.1.v"}


def test_the_state_dict_is_a_snapshot_not_a_view():
    opt, x, _ = _adam_after_two_steps()
    sd = opt.state_dict()
    m = sd["state.0.m"].copy()
    x.grad = np.array([5.0, 5.0])
    opt.step()
    np.testing.assert_array_equal(sd["state.0.m"], m)


def test_loaded_arrays_are_copies():
    opt, x, y = _adam_after_two_steps()
    sd = opt.state_dict()
    x2, y2 = mg.Tensor(x.numpy(), requires_grad=True), mg.Tensor(y.numpy(), requires_grad=True)
    opt2 = O.Adam([{"params": [x2]}, {"params": [y2]}])
    opt2.load_state_dict(sd)
    sd["state.0.m"][...] = 123.0
    assert not np.any(opt2.state[x2]["m"] == 123.0)
    assert opt2.param_groups[1]["lr"] == 0.5  # the saved hyperparameters are restored


def test_savez_round_trip():
    opt, x, y = _adam_after_two_steps()
    buf = io.BytesIO()
    np.savez(buf, **opt.state_dict())
    buf.seek(0)
    loaded = dict(np.load(buf))
    x2, y2 = mg.Tensor(x.numpy(), requires_grad=True), mg.Tensor(y.numpy(), requires_grad=True)
    opt2 = O.Adam([{"params": [x2]}, {"params": [y2]}])
    opt2.load_state_dict(loaded)
    assert opt2.step_count == 2
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999)
    assert type(opt2.param_groups[0]["betas"][0]) is float
    assert opt2.state[x2]["k"] == 2 and type(opt2.state[x2]["k"]) is int
    np.testing.assert_array_equal(opt2.state[y2]["v"], opt.state[y]["v"])


def test_a_schedule_is_not_saved_and_the_loading_optimizer_keeps_its_own():
    x = mg.Tensor([1.0], requires_grad=True)
    sched = lambda t: 0.1  # noqa: E731
    opt = O.SGD([x], lr=sched)
    x.grad = np.array([1.0])
    opt.step()
    sd = opt.state_dict()
    assert "group.0.lr" not in sd and sd["group.0.last_lr"] == 0.1
    mine = lambda t: 0.2  # noqa: E731
    opt2 = O.SGD([mg.Tensor([0.9], requires_grad=True)], lr=mine)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] is mine


def _unchanged(opt, before):
    after = opt.state_dict()
    assert sorted(after) == sorted(before)
    for k in before:
        np.testing.assert_array_equal(np.asarray(after[k]), np.asarray(before[k]))


@pytest.mark.parametrize("mutate,match", [
    (lambda sd: sd.update(optimizer="SGD"), "of optimizer 'SGD'"),
    (lambda sd: sd.update({"n_groups": 3}), "3 parameter groups"),
    (lambda sd: sd.update({"group.1.n_params": 2}), "group 1 has 2 parameters"),
    (lambda sd: sd.update({"group.0.lr": -1.0}), "invalid lr"),
    (lambda sd: sd.update({"group.0.betas": (0.9, 1.0)}), r"betas\[1\]"),
    (lambda sd: sd.update({"group.0.momentum": 0.9}), "unknown hyperparameter 'momentum'"),
    (lambda sd: sd.update({"state.0.m": np.zeros(3)}), "shape"),
    (lambda sd: sd.update({"state.1.v": np.zeros((2, 2))}), "shape"),
    (lambda sd: sd.pop("state.0.v"), "state entries"),
    (lambda sd: sd.update({"state.0.w": np.zeros(2)}), "state entries"),
    (lambda sd: sd.update({"state.7.m": np.zeros(2)}), "names no parameter"),
    (lambda sd: sd.update({"state.0.k": "two"}), "must be a int"),
    (lambda sd: sd.update({"step_count": -1}), "step_count"),
    (lambda sd: sd.update({"junk": 1}), "unexpected keys"),
    (lambda sd: sd.update({"extra.x": 1}), "optimizer-wide state"),
])
def test_a_mismatched_state_dict_raises_and_changes_nothing(mutate, match):
    opt, x, y = _adam_after_two_steps()
    sd = opt.state_dict()
    mutate(sd)
    target, tx, ty = _adam_after_two_steps()
    tx.grad = np.array([0.3, 0.3])
    target.step()
    before = target.state_dict()
    with pytest.raises(ValueError, match=match):
        target.load_state_dict(sd)
    _unchanged(target, before)


def test_wrappers_save_their_base_under_base():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    opt = O.Lookahead(O.Adam([x], lr=0.1), k=2)
    x.grad = np.array([1.0, 1.0])
    opt.step()
    sd = opt.state_dict()
    assert sd["optimizer"] == "Lookahead" and sd["base.optimizer"] == "Adam"
    assert "state.0.slow" in sd and "base.state.0.m" in sd and "base.group.0.lr" in sd
    bad = dict(sd)
    bad["base.state.0.m"] = np.zeros(5)
    target = O.Lookahead(O.Adam([mg.Tensor([1.0, 2.0], requires_grad=True)], lr=0.1), k=2)
    with pytest.raises(ValueError, match="shape"):
        target.load_state_dict(bad)
    assert target.state == {} and target.base.state == {}
    no_base = {k: v for k, v in sd.items() if not k.startswith("base.")}
    with pytest.raises(ValueError, match="base"):
        target.load_state_dict(no_base)


def test_sag_saves_its_visited_components():
    x = mg.Tensor([1.0], requires_grad=True)
    opt = O.SAG([x], n=3, lr=0.1, sampler=lambda t: [1])

    def closure(idx):
        x.grad = np.array([1.0])
        return mg.Tensor(0.0)

    opt.step(closure)
    sd = opt.state_dict()
    np.testing.assert_array_equal(sd["extra.seen"], [False, True, False])
    assert sd["extra.grad_evals"] == 1 and sd["state.0.table"].shape == (3, 1)
    target = O.SAG([mg.Tensor([1.0], requires_grad=True)], n=4, lr=0.1)
    with pytest.raises(ValueError, match="shape"):
        target.load_state_dict(sd)
