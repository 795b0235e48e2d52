"""Shampoo (optimizers.shampoo): the statistics against their closed forms, the inverse roots
against NumPy, and the lecture's claim that with beta = 0 its direction is Muon's U V^T."""
import numpy as np
import pytest

import minigrad as mg
from optimizers.shampoo import Shampoo, inverse_root


def _step(W0, grads, **kw):
    W = mg.Tensor(W0, requires_grad=True)
    opt = Shampoo([W], **kw)
    for g in grads:
        W.grad = mg.backend.asarray(g, dtype=W.dtype, backend=W.backend)
        opt.step()
    return W.numpy(), opt, W


@pytest.mark.parametrize("shape", [(7, 4), (4, 7), (5, 5)])
def test_with_beta_zero_and_small_eps_the_direction_is_u_vt(shape, backend):
    """(G G^T)^{-1/4} G (G^T G)^{-1/4} = U V^T (the Muon slide's derivation), against the SVD."""
    rng = np.random.default_rng(0)
    G = rng.standard_normal(shape)
    W1, _, _ = _step(np.zeros(shape), [G], lr=1.0, beta=0.0, eps=1e-14)
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    np.testing.assert_allclose(-W1, U @ Vt, atol=1e-8)


def test_with_a_large_eps_the_direction_is_not_u_vt():
    """The companion: eps dominating the statistics turns the step into G / sqrt(eps)."""
    rng = np.random.default_rng(0)
    G = rng.standard_normal((7, 4))
    W1, _, _ = _step(np.zeros((7, 4)), [G], lr=1.0, beta=0.0, eps=1e8)
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    assert np.abs(-W1 - U @ Vt).max() > 0.5
    np.testing.assert_allclose(-W1, G / 1e4, rtol=1e-6)  # (eps I)^{-1/4} G (eps I)^{-1/4}


@pytest.mark.parametrize("form", ["ema", "sum"])
def test_statistics_follow_the_ema_or_the_sum(form):
    rng = np.random.default_rng(1)
    G1, G2 = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    beta, eps = 0.9, 1e-3
    W2, opt, W = _step(np.zeros((3, 2)), [G1, G2], lr=0.1, beta=beta, eps=eps, form=form)
    if form == "ema":
        L = beta * (1 - beta) * G1 @ G1.T + (1 - beta) * G2 @ G2.T
        R = beta * (1 - beta) * G1.T @ G1 + (1 - beta) * G2.T @ G2
    else:
        L, R = G1 @ G1.T + G2 @ G2.T, G1.T @ G1 + G2.T @ G2
    state = opt.state[W]
    np.testing.assert_allclose(mg.to_numpy(state["L"]), L, rtol=1e-13)
    np.testing.assert_allclose(mg.to_numpy(state["R"]), R, rtol=1e-13)

    def root(S):  # (S + eps I)^{-1/4} from NumPy's eigh, independently
        lam, Q = np.linalg.eigh(S + eps * np.eye(len(S)))
        return Q @ np.diag(lam ** -0.25) @ Q.T
    W1 = -0.1 * root(G1 @ G1.T * (1 - beta if form == "ema" else 1)) @ G1 @ root(
        G1.T @ G1 * (1 - beta if form == "ema" else 1))
    np.testing.assert_allclose(W2, W1 - 0.1 * root(L) @ G2 @ root(R), atol=1e-10)


def test_inverse_root_against_a_matrix_power():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 6))
    A = X @ X.T
    for p in (2, 4):
        P = inverse_root(A, p, eps=1e-3)
        np.testing.assert_allclose(np.linalg.matrix_power(P, p) @ (A + 1e-3 * np.eye(6)),
                                   np.eye(6), atol=1e-9)


def test_vectors_use_full_matrix_adagrad_and_roots_refresh_every_update_freq_steps():
    g = np.array([3.0, 4.0])
    x1, _, _ = _step(np.zeros(2), [g], lr=1.0, beta=0.0, eps=1e-12)
    np.testing.assert_allclose(x1, -g / 5.0, rtol=1e-9)  # (g g^T)^{-1/2} g = g / ||g||
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((2, 3)) for _ in range(3)]
    _, opt, W = _step(np.zeros((2, 3)), grads, lr=0.1, update_freq=2)
    eps = opt.param_groups[0]["eps"]
    L2 = mg.to_numpy(opt.state[W]["L"])  # a copy, on the host
    # step 3 refreshed the roots (3 - 1) % 2 == 0 from the statistics of step 3
    np.testing.assert_allclose(mg.to_numpy(opt.state[W]["P_L"]), inverse_root(L2, 4, eps),
                               rtol=1e-10)
    _, opt1, W1 = _step(np.zeros((2, 3)), grads[:2], lr=0.1, update_freq=2)
    L1 = mg.to_numpy(opt1.state[W1]["L"])
    # after step 2 the roots still come from step 1's statistics
    first = 0.01 * grads[0] @ grads[0].T
    np.testing.assert_allclose(mg.to_numpy(opt1.state[W1]["P_L"]), inverse_root(first, 4, eps),
                               rtol=1e-10)
    assert not np.allclose(inverse_root(L1, 4, eps), inverse_root(first, 4, eps))


def test_float32_stays_float32_and_conv_weights_are_matrices(backend):
    W = mg.Tensor(np.ones((2, 3, 2), dtype=np.float32), requires_grad=True)
    opt = Shampoo([W])
    W.grad = mg.backend.asarray(np.arange(12, dtype=np.float32).reshape(2, 3, 2))
    opt.step()
    assert W.data.dtype == np.float32
    assert opt.state[W]["L"].shape == (2, 2) and opt.state[W]["R"].shape == (6, 6)
    assert all(v.dtype == np.float32 for v in opt.state[W].values() if hasattr(v, "dtype"))


def test_a_matrix_with_no_rows_is_left_as_it_is():
    import minigrad as mg
    from optimizers import Shampoo
    Z = mg.Tensor(np.ones((0, 3)), requires_grad=True)
    opt = Shampoo([Z])
    Z.grad = mg.backend.asarray(np.ones((0, 3)))
    opt.step()
    assert Z.shape == (0, 3)
