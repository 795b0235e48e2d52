"""Steepest descent in a norm (optimizers.steepest): the steps against closed forms and NumPy,
the model-step characterisation, and convergence with a companion failing case."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from optimizers.sign import SignSGD
from optimizers.steepest import NormalizedGD, SteepestDescent

PRIMAL = {
    "l2": lambda x: np.linalg.norm(x.ravel(), 2),
    "linf": lambda x: np.linalg.norm(x.ravel(), np.inf),
    "l1": lambda x: np.linalg.norm(x.ravel(), 1),
    "frobenius": lambda x: np.linalg.norm(x, "fro"),
    "spectral": lambda x: np.linalg.norm(x, 2),
    "nuclear": lambda x: np.linalg.norm(x, "nuc"),
}
DUAL = {
    "l2": lambda g: np.linalg.norm(g.ravel(), 2),
    "linf": lambda g: np.linalg.norm(g.ravel(), 1),
    "l1": lambda g: np.linalg.norm(g.ravel(), np.inf),
    "frobenius": lambda g: np.linalg.norm(g, "fro"),
    "spectral": lambda g: np.linalg.norm(g, "nuc"),
    "nuclear": lambda g: np.linalg.norm(g, 2),
}


def _one_step(x0, g, **kw):
    x = mg.Tensor(x0, requires_grad=True)
    opt = SteepestDescent([x], **kw)
    x.grad = mg.backend.asarray(g, dtype=x.dtype, backend=x.backend)
    opt.step()
    return x.numpy()


def test_l2_unnormalised_is_gradient_descent_and_normalised_is_normalised_gd(backend):
    x0, g = np.array([1.0, -2.0, 0.5]), np.array([3.0, 0.0, -4.0])
    np.testing.assert_allclose(_one_step(x0, g, lr=0.1), x0 - 0.1 * g, rtol=1e-15)
    x = mg.Tensor(x0, requires_grad=True)
    opt = NormalizedGD([x], lr=0.5)
    x.grad = mg.backend.asarray(g)
    opt.step()
    np.testing.assert_allclose(x.numpy(), x0 - 0.5 * g / 5.0, rtol=1e-15)


def test_linf_normalised_is_sign_descent_as_signsgd():
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(5)
    a, b = mg.Tensor(x0, requires_grad=True), mg.Tensor(x0, requires_grad=True)
    sd = SteepestDescent([a], lr=0.01, norm="linf", normalized=True)
    sign = SignSGD([b], lr=0.01)
    for _ in range(5):
        g = rng.standard_normal(5)
        a.grad, b.grad = mg.backend.asarray(g.copy()), mg.backend.asarray(g.copy())
        sd.step()
        sign.step()
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    g = np.array([1.0, -2.0, 0.0])
    np.testing.assert_allclose(_one_step(np.zeros(3), g, lr=0.1, norm="linf"),
                               -0.1 * 3.0 * np.sign(g))  # x - alpha ||g||_1 sign(g)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
def test_spectral_steps_are_minus_u_vt_from_an_svd(shape):
    rng = np.random.default_rng(1)
    W0, G = rng.standard_normal(shape), rng.standard_normal(shape)
    U, S, Vt = np.linalg.svd(G, full_matrices=False)
    np.testing.assert_allclose(_one_step(W0, G, lr=0.2, norm="spectral", normalized=True),
                               W0 - 0.2 * U @ Vt, atol=1e-14)
    np.testing.assert_allclose(_one_step(W0, G, lr=0.2, norm="spectral"),
                               W0 - 0.2 * S.sum() * U @ Vt, atol=1e-13)


finite = st.floats(-5, 5, allow_nan=False, allow_subnormal=False)


@settings(deadline=None, derandomize=True, max_examples=40)
@given(g=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=finite),
       name=st.sampled_from(sorted(PRIMAL)), alpha=st.floats(0.01, 2.0),
       seed=st.integers(0, 2**16))
def test_unnormalised_step_minimises_the_model(g, name, alpha, seed):
    """x_{k+1} - x_k = argmin_d <g, d> + ||d||^2 / (2 alpha): the model value at the step is
    -alpha ||g||_*^2 / 2 and no random d (nor a perturbation of the step) does better."""
    if np.abs(g).max() < 1e-3:
        return
    d = _one_step(np.zeros_like(g), g, lr=alpha, norm=name)
    model = lambda v: np.vdot(g, v) + PRIMAL[name](v) ** 2 / (2 * alpha)
    best = model(d)
    np.testing.assert_allclose(best, -alpha * DUAL[name](g) ** 2 / 2, rtol=1e-9)
    rng = np.random.default_rng(seed)
    for _ in range(40):
        assert model(rng.standard_normal(g.shape) * alpha * np.abs(g).max()) >= best - 1e-9
        assert model(d + 1e-3 * rng.standard_normal(g.shape)) >= best - 1e-9


@settings(deadline=None, derandomize=True, max_examples=30)
@given(g=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=finite),
       name=st.sampled_from(sorted(PRIMAL)))
def test_normalised_step_has_length_alpha_in_its_norm(g, name):
    if np.abs(g).max() < 1e-3:
        return
    d = _one_step(np.zeros_like(g), g, lr=0.3, norm=name, normalized=True)
    np.testing.assert_allclose(PRIMAL[name](d), 0.3, rtol=1e-9)
    assert np.vdot(g, d) < 0


def test_a_group_is_one_vector():
    """Two parameters, norm l2: normalised by the norm of both gradients together; spectral:
    each matrix gets -U V^T and the unnormalised scale is the sum of the nuclear norms."""
    rng = np.random.default_rng(2)
    a0, b0 = rng.standard_normal(3), rng.standard_normal((2, 2))
    ga, gb = rng.standard_normal(3), rng.standard_normal((2, 2))
    a, b = mg.Tensor(a0, requires_grad=True), mg.Tensor(b0, requires_grad=True)
    opt = NormalizedGD([a, b], lr=1.0)
    a.grad, b.grad = mg.backend.asarray(ga.copy()), mg.backend.asarray(gb.copy())
    opt.step()
    n = np.sqrt(np.sum(ga**2) + np.sum(gb**2))
    np.testing.assert_allclose(a.numpy(), a0 - ga / n)
    np.testing.assert_allclose(b.numpy(), b0 - gb / n)
    A0, B0 = rng.standard_normal((3, 2)), rng.standard_normal((2, 4))
    GA, GB = rng.standard_normal((3, 2)), rng.standard_normal((2, 4))
    A, Bm = mg.Tensor(A0, requires_grad=True), mg.Tensor(B0, requires_grad=True)
    opt = SteepestDescent([A, Bm], lr=0.1, norm="spectral")
    A.grad, Bm.grad = mg.backend.asarray(GA.copy()), mg.backend.asarray(GB.copy())
    opt.step()
    scale = np.linalg.norm(GA, "nuc") + np.linalg.norm(GB, "nuc")
    for W0, G, W in ((A0, GA, A), (B0, GB, Bm)):
        U, _, Vt = np.linalg.svd(G, full_matrices=False)
        np.testing.assert_allclose(W.numpy(), W0 - 0.1 * scale * U @ Vt, atol=1e-13)


def test_matrix_norms_need_matrix_parameters_and_float32_stays():
    with pytest.raises(ValueError, match="norm"):
        SteepestDescent([mg.Tensor([1.0, 2.0], requires_grad=True)], norm="spectral")
    with pytest.raises(ValueError, match="norm"):
        SteepestDescent([mg.Tensor([1.0, 2.0], requires_grad=True)], norm="l7")
    with pytest.raises(ValueError, match="normalized"):
        SteepestDescent([mg.Tensor([1.0, 2.0], requires_grad=True)], normalized="yes")
    W = mg.Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    for name in PRIMAL:
        opt = SteepestDescent([W], lr=0.1, norm=name)
        W.grad = mg.backend.asarray(np.arange(6, dtype=np.float32).reshape(3, 2))
        opt.step()
        assert W.data.dtype == np.float32


def _quadratic_run(opt_factory, steps, W0, A, B):
    """min_W 1/2 ||A W - B||_F^2 from W0, returning the final distance to W*."""
    W = mg.Tensor(W0.copy(), requires_grad=True)
    opt = opt_factory([W])
    At, Bt = mg.Tensor(A), mg.Tensor(B)
    for _ in range(steps):
        opt.zero_grad()
        R = At @ W - Bt
        (0.5 * (R * R).sum()).backward()
        opt.step()
    return np.linalg.norm(W.numpy() - np.linalg.solve(A, B))


def test_normalised_spectral_descent_converges_with_a_decaying_step_and_not_with_a_constant():
    """Normalised steps never shrink by themselves: with a constant step the iterates stall at
    distance of order alpha; with alpha_t = 0.5 * 0.97^t they converge."""
    rng = np.random.default_rng(3)
    A = np.diag([1.0, 2.0, 3.0, 4.0])
    B, W0 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    decaying = _quadratic_run(lambda p: SteepestDescent(p, lr=lambda t: 0.5 * 0.97**t,
                                                        norm="spectral", normalized=True),
                              400, W0, A, B)
    constant = _quadratic_run(lambda p: SteepestDescent(p, lr=0.5, norm="spectral",
                                                        normalized=True), 400, W0, A, B)
    assert decaying < 1e-4
    assert constant > 1e-2
    unnormalised = _quadratic_run(lambda p: SteepestDescent(p, lr=0.05, norm="spectral"),
                                  400, W0, A, B)
    assert unnormalised < 1e-4  # the unnormalised step shrinks with ||G||_*
