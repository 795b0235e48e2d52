"""The methods with their own step(): NAG's look-ahead, SAM, Lookahead, SVRG and SAG."""
import math

import numpy as np
import pytest

import minigrad as mg
import optimizers as O

C = np.array([1.0, 4.0])  # f(x) = 1/2 (x_1^2 + 4 x_2^2)


def grad_closure(x, points=None):
    def closure():
        if points is not None:
            points.append(x.numpy().copy())
        x.grad = mg.backend.asarray(C) * x.data  # C on the backend of x
        return mg.Tensor(float(0.5 * np.sum(C * x.numpy() ** 2)))
    return closure


@pytest.mark.parametrize("make", [
    lambda q: O.NAG(q), lambda q: O.SAM(q), lambda q: O.SVRG(q, n=2), lambda q: O.SAG(q, n=2)],
    ids=["NAG", "SAM", "SVRG", "SAG"])
def test_methods_that_need_a_closure_say_so(make):
    x = mg.Tensor([1.0, 1.0], requires_grad=True)
    x.grad = mg.backend.asarray(np.ones(2))
    with pytest.raises(ValueError, match="closure"):
        make([x]).step()


def test_nag_lookahead_returns_the_loss_at_the_lookahead_point_and_restores_gradless_params():
    x = mg.Tensor([0.5, -1.0], requires_grad=True)
    frozen = mg.Tensor([2.0], requires_grad=True)
    opt = O.NAG([x, frozen], lr=0.1, momentum=0.9)
    frozen_state_v = None
    for _ in range(3):
        loss = opt.step(grad_closure(x))
        assert isinstance(loss, mg.Tensor)
    assert frozen.numpy()[0] == 2.0
    # give frozen a velocity, then a step without its gradient moves it back (to rounding)
    frozen.grad = mg.backend.asarray(np.array([1.0]))
    opt.step(lambda: mg.Tensor(0.0))
    before = frozen.numpy().copy()
    frozen_state_v = opt.state[frozen]["v"].copy()
    assert frozen_state_v[0] != 0.0
    frozen.grad = None
    opt.step(grad_closure(x))
    np.testing.assert_allclose(frozen.numpy(), before, rtol=1e-15)


def test_sam_evaluates_at_the_perturbed_point_and_restores_the_weights_exactly():
    x = mg.Tensor([0.3, -0.7], requires_grad=True)
    points = []
    opt = O.SAM([x], lr=0.0, rho=0.05)
    start = x.numpy().copy()
    loss = opt.step(grad_closure(x, points))
    assert loss.item() == pytest.approx(0.5 * (0.09 + 4 * 0.49))   # the loss at w
    g = C * start
    np.testing.assert_array_equal(points[0], start)
    np.testing.assert_allclose(points[1], start + 0.05 * g / np.linalg.norm(g), rtol=1e-14)
    np.testing.assert_array_equal(x.numpy(), start)                # lr 0: w exactly restored


@pytest.mark.parametrize("p_norm", [math.inf, 3.0])
def test_sam_perturbation_for_other_p_norms(p_norm):
    x = mg.Tensor([0.3, -0.7], requires_grad=True)
    points = []
    O.SAM([x], lr=0.0, rho=0.1, p=p_norm).step(grad_closure(x, points))
    g = C * np.array([0.3, -0.7])
    if math.isinf(p_norm):
        expected = 0.1 * np.sign(g)                                 # q = 1
    else:
        q = p_norm / (p_norm - 1)
        expected = 0.1 * np.sign(g) * np.abs(g) ** (q - 1) / np.sum(np.abs(g) ** q) ** (1 / p_norm)
        assert np.linalg.norm(expected, ord=p_norm) == pytest.approx(0.1)   # on the p-sphere
    np.testing.assert_allclose(points[1] - points[0], expected, rtol=1e-13)


def test_sam_takes_a_norm_over_all_parameters_and_wraps_an_optimizer_instance():
    x = mg.Tensor([3.0], requires_grad=True)
    y = mg.Tensor([4.0], requires_grad=True)
    seen = []

    def closure():
        seen.append((x.numpy()[0], y.numpy()[0]))
        x.grad = x.data.copy()
        y.grad = y.data.copy()
        return mg.Tensor(0.0)

    opt = O.SAM(O.Adam([x, y], lr=0.1), rho=0.5)
    opt.step(closure)
    assert seen[1] == pytest.approx((3.0 + 0.5 * 3 / 5, 4.0 + 0.5 * 4 / 5))
    assert opt.param_groups is opt.base.param_groups
    with pytest.raises(ValueError, match="given an optimizer"):
        O.SAM(O.Adam([mg.Tensor([1.0], requires_grad=True)]), lr=0.1)
    with pytest.raises(ValueError, match="base_optimizer must be an Optimizer class"):
        O.SAM([mg.Tensor([1.0], requires_grad=True)], base_optimizer="adam")


def test_lookahead_wraps_an_optimizer_and_shares_its_groups():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    base = O.Momentum([x], lr=0.1)
    opt = O.Lookahead(base, k=3, alpha=0.5)
    assert opt.param_groups is base.param_groups and opt.last_lr == [None]
    for _ in range(3):
        x.grad = mg.backend.asarray(np.array([1.0, 1.0]))
        opt.step()
    assert opt.last_lr == [0.1] and base.step_count == 3 and opt.step_count == 3
    np.testing.assert_allclose(mg.to_numpy(opt.state[x]["slow"]), x.numpy())


def test_lookahead_passes_the_closure_to_its_base():
    x = mg.Tensor([0.3, -0.7], requires_grad=True)
    opt = O.Lookahead(O.SAM([x], lr=0.05, rho=0.01), k=2)
    for _ in range(200):
        opt.step(grad_closure(x))
    assert np.linalg.norm(x.numpy()) < 0.02


# --------------------------------------------------------------------------- SVRG and SAG
def test_default_sampling_is_seeded_distinct_and_in_range():
    x = mg.Tensor([0.0], requires_grad=True)
    a = O.SVRG([x], n=10, batch_size=4, seed=3)
    b = O.SVRG([mg.Tensor([0.0], requires_grad=True)], n=10, batch_size=4, seed=3)
    c = O.SVRG([mg.Tensor([0.0], requires_grad=True)], n=10, batch_size=4, seed=4)
    for t in range(5):
        idx = a.sample(t)
        assert idx == b.sample(t) and len(set(idx)) == 4 and all(0 <= i < 10 for i in idx)
    assert any(a.sample(t) != c.sample(t) for t in range(5))
    bad = O.SVRG([mg.Tensor([0.0], requires_grad=True)], n=3, sampler=lambda t: [5])
    with pytest.raises(ValueError, match="outside"):
        bad.sample(0)


def test_svrg_counts_gradients_and_refreshes_its_snapshot_every_inner_steps():
    x = mg.Tensor([1.0, 1.0], requires_grad=True)
    calls = []

    def closure(indices):
        calls.append(list(indices))
        x.grad = mg.backend.asarray(C) * x.data  # C on the backend of x
        return mg.Tensor(0.0)

    opt = O.SVRG([x], n=5, lr=0.01, batch_size=2, inner_steps=2)
    for _ in range(4):
        opt.step(closure)
    full = [c for c in calls if c == [0, 1, 2, 3, 4]]
    assert len(full) == 2                                # t = 0 and t = 2
    assert opt.grad_evals == 2 * 5 + 4 * 2 * 2
    assert opt.inner_steps == 2
    assert O.SVRG([mg.Tensor([0.0], requires_grad=True)], n=5, batch_size=2).inner_steps == 3   # ceil(n / b)


def test_svrg_leaves_the_parameter_array_in_place():
    x = mg.Tensor([1.0, 1.0], requires_grad=True)
    data = x.data
    opt = O.SVRG([x], n=2, lr=0.1)

    def closure(indices):
        x.grad = mg.backend.asarray(C) * x.data  # C on the backend of x
        return mg.Tensor(0.0)

    opt.step(closure)
    opt.step(closure)
    assert x.data is data


def test_sag_keeps_one_gradient_per_component():
    x = mg.Tensor([[1.0, 2.0]], requires_grad=True)
    opt = O.SAG([x], n=4, lr=0.1, seed=1)

    def closure(indices):
        (i,) = indices
        x.grad = mg.backend.asarray(np.full((1, 2), float(i + 1)))
        return mg.Tensor(0.0)

    for _ in range(6):
        opt.step(closure)
    table, d = mg.to_numpy(opt.state[x]["table"]), mg.to_numpy(opt.state[x]["d"])
    assert table.shape == (4, 1, 2)
    np.testing.assert_allclose(d, table.sum(axis=0))
    for i in range(4):
        assert np.all(table[i] == 0) or np.all(table[i] == i + 1)
    assert opt.seen.sum() == sum(np.any(table[i] != 0) for i in range(4))
