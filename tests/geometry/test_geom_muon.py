"""Muon (optimizers.muon) against an independent NumPy transcription of Keller Jordan's reference
``muon_update``, the SVD, AdamW (for the partition) and a matrix least-squares problem."""
import numpy as np
import pytest

import minigrad as mg
from optimizers.adam import AdamW
from optimizers.muon import Muon


def _reference_ns5(G, steps=5):
    """Keller Jordan's zeropower_via_newtonschulz5, in NumPy float64 (no bfloat16)."""
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G.T if G.shape[0] > G.shape[1] else G
    X = X / (np.linalg.norm(X) + 1e-7)
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if G.shape[0] > G.shape[1] else X


def _reference_muon(W, grads, lr, beta, wd, nesterov=True):
    W, M = W.copy(), np.zeros_like(W)
    for g in grads:
        M = M + (1 - beta) * (g - M)                      # momentum.lerp_(grad, 1 - beta)
        u = g + beta * (M - g) if nesterov else M         # grad.lerp_(momentum, beta)
        u2 = u.reshape(len(u), -1)
        O = _reference_ns5(u2) * max(1, u2.shape[0] / u2.shape[1]) ** 0.5
        W = W * (1 - lr * wd) - lr * O.reshape(W.shape)
    return W


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 2, 2)])
@pytest.mark.parametrize("nesterov", [True, False])
def test_muon_matches_the_reference_update(shape, nesterov, backend):
    rng = np.random.default_rng(0)
    W0 = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(4)]
    W = mg.Tensor(W0, requires_grad=True)
    opt = Muon([W], lr=0.05, momentum=0.9, nesterov=nesterov, weight_decay=0.1)
    for g in grads:
        W.grad = mg.backend.asarray(g)
        opt.step()
    expected = _reference_muon(W0, grads, 0.05, 0.9, 0.1, nesterov)
    np.testing.assert_allclose(W.numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(8, 3), (3, 8)])
def test_with_the_svd_and_no_momentum_the_step_is_minus_u_vt_times_the_shape_factor(shape):
    rng = np.random.default_rng(1)
    W0, G = rng.standard_normal(shape), rng.standard_normal(shape)
    W = mg.Tensor(W0, requires_grad=True)
    opt = Muon([W], lr=0.1, momentum=0.0, nesterov=False, polar="svd")
    W.grad = mg.backend.asarray(G.copy())
    opt.step()
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    factor = np.sqrt(max(1.0, shape[0] / shape[1]))
    np.testing.assert_allclose(W.numpy(), W0 - 0.1 * factor * U @ Vt, atol=1e-14)


def test_vectors_go_to_adamw_with_its_exact_update():
    rng = np.random.default_rng(2)
    b0, W0 = rng.standard_normal(5), rng.standard_normal((5, 3))
    b, W = mg.Tensor(b0, requires_grad=True), mg.Tensor(W0, requires_grad=True)
    emb = mg.Tensor(W0, requires_grad=True)  # a matrix sent to AdamW by its group
    ref_b, ref_emb = mg.Tensor(b0, requires_grad=True), mg.Tensor(W0, requires_grad=True)
    opt = Muon([{"params": [W, b]}, {"params": [emb], "use_muon": False}], lr=0.02,
               adamw_lr=1e-2, adamw_betas=(0.8, 0.95), adamw_eps=1e-10, adamw_weight_decay=0.1)
    ref = AdamW([ref_b, ref_emb], lr=1e-2, betas=(0.8, 0.95), eps=1e-10, weight_decay=0.1)
    for _ in range(5):
        gb, gw = rng.standard_normal(5), rng.standard_normal((5, 3))
        b.grad, ref_b.grad = mg.backend.asarray(gb.copy()), mg.backend.asarray(gb.copy())
        emb.grad, ref_emb.grad = mg.backend.asarray(gw.copy()), mg.backend.asarray(gw.copy())
        W.grad = mg.backend.asarray(gw.copy())
        opt.step()
        ref.step()
    np.testing.assert_array_equal(b.numpy(), ref_b.numpy())
    np.testing.assert_array_equal(emb.numpy(), ref_emb.numpy())
    assert set(opt.state[W]) == {"momentum_buffer"} and set(opt.state[b]) == {"k", "m", "v"}
    with pytest.raises(ValueError, match="use_muon"):
        Muon([{"params": [b], "use_muon": True}])


def test_the_adamw_part_is_an_adamw_over_exactly_the_parameters_muon_does_not_orthogonalise():
    rng = np.random.default_rng(3)
    W = mg.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = mg.Tensor(np.ones(4), requires_grad=True)
    head = mg.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    only_matrices = Muon([W])
    assert not isinstance(only_matrices, AdamW) and only_matrices.adamw is None
    opt = Muon([{"params": [W, b]}, {"params": [head], "use_muon": False, "adamw_lr": 0.5}])
    assert isinstance(opt.adamw, AdamW)
    assert [g["params"] for g in opt.adamw.param_groups] == [[b], [head]]
    assert [g["lr"] for g in opt.adamw.param_groups] == [3e-4, 0.5]
    # the adamw_* entries of the Muon group are the ones to change: the next step uses them
    ref = AdamW([mg.Tensor(head.numpy(), requires_grad=True)], lr=0.25, betas=(0.9, 0.95),
                eps=1e-10, weight_decay=0.0)
    opt.param_groups[1]["adamw_lr"] = 0.25
    g = rng.standard_normal((3, 2))
    head.grad = mg.backend.asarray(g.copy())
    ref.param_groups[0]["params"][0].grad = mg.backend.asarray(g.copy())
    opt.step()
    ref.step()
    np.testing.assert_array_equal(head.numpy(), ref.param_groups[0]["params"][0].numpy())
    assert opt.adamw.param_groups[1]["lr"] == 0.25 and opt.adamw.param_groups[1]["last_lr"] == 0.25
    # one state for both parts
    assert set(opt.state) == {head} and set(opt.adamw.state) == set()


def test_decoupled_weight_decay_with_zero_gradient():
    W0 = np.arange(6.0).reshape(2, 3)
    W = mg.Tensor(W0, requires_grad=True)
    opt = Muon([W], lr=0.1, weight_decay=0.5)
    W.grad = mg.backend.asarray(np.zeros((2, 3)))
    opt.step()
    np.testing.assert_allclose(W.numpy(), (1 - 0.1 * 0.5) * W0, rtol=1e-15)


@pytest.mark.parametrize("polar", ["newton_schulz", "polar_express", "svd", "cubic"])
def test_float32_stays_float32(polar, backend):
    W = mg.Tensor(np.ones((4, 3), dtype=np.float32), requires_grad=True)
    opt = Muon([W], polar=polar)
    W.grad = mg.backend.asarray(np.arange(12, dtype=np.float32).reshape(4, 3))
    opt.step()
    assert W.data.dtype == np.float32
    assert opt.state[W]["momentum_buffer"].dtype == np.float32


def _least_squares(lr, steps, polar="newton_schulz"):
    """min_W 1/2 ||A W - B||_F^2 with Muon; returns ||W - W*||_F."""
    rng = np.random.default_rng(3)
    A = np.diag(np.linspace(1.0, 3.0, 6))
    B = rng.standard_normal((6, 4))
    W = mg.Tensor(rng.standard_normal((6, 4)), requires_grad=True)
    opt = Muon([W], lr=lr, polar=polar)
    At, Bt = mg.Tensor(A), mg.Tensor(B)
    for _ in range(steps):
        opt.zero_grad()
        R = At @ W - Bt
        (0.5 * (R * R).sum()).backward()
        opt.step()
    return np.linalg.norm(W.numpy() - np.linalg.solve(A, B))


@pytest.mark.slow
def test_muon_converges_on_matrix_least_squares_with_a_decaying_step():
    """Muon's step has spectral norm about lr whatever the gradient: a decaying step converges,
    a constant one stalls (the companion)."""
    assert _least_squares(lambda t: 0.1 * 0.99**t, 1000) < 1e-4
    assert _least_squares(lambda t: 0.1 * 0.99**t, 1000, polar="polar_express") < 1e-4
    assert _least_squares(0.1, 1000) > 1e-2


def test_a_group_sent_to_adamw_after_construction_gets_its_adamw_part():
    W = mg.Tensor(np.ones((3, 2)), requires_grad=True)
    saved = Muon([{"params": [W], "use_muon": False}], adamw_lr=0.1)
    W.grad = mg.backend.asarray(np.ones((3, 2)))
    saved.step()
    W2 = mg.Tensor(W.numpy(), requires_grad=True)  # the parameters as saved, with their state
    opt = Muon([W2], adamw_lr=0.1)
    assert opt.adamw is None
    opt.load_state_dict(saved.state_dict())  # the saved group says use_muon=False
    W.grad = mg.backend.asarray(np.full((3, 2), 0.5))
    W2.grad = mg.backend.asarray(np.full((3, 2), 0.5))
    saved.step()
    opt.step()
    np.testing.assert_array_equal(W2.numpy(), W.numpy())
    assert [g["params"] for g in opt.adamw.param_groups] == [[W2]]


def test_a_bad_adamw_lr_schedule_is_named_as_muon_s():
    b = mg.Tensor(np.ones(3), requires_grad=True)
    opt = Muon([b], adamw_lr=lambda t: -1.0)
    b.grad = mg.backend.asarray(np.ones(3))
    with pytest.raises(ValueError, match=r"Muon: invalid adamw_lr"):
        opt.step()


def test_a_matrix_with_no_rows_is_left_as_it_is():
    Z = mg.Tensor(np.ones((0, 3)), requires_grad=True)
    opt = Muon([Z])
    Z.grad = mg.backend.asarray(np.ones((0, 3)))
    opt.step()
    assert Z.shape == (0, 3)
