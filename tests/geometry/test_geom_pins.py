"""Geometry and curvature methods pinned against their docstrings: the domain and the
near-degenerate closed form of ``optimal_odd_quintic``, the scale invariance of the minimax
problem, Shampoo's schedule of root recomputations, and the documented default arguments of the
polar-factor iterations.

Expected values are derived by hand in the docstrings and comments (closed forms from the
docstrings of ``optimizers.newton_schulz`` and ``optimizers.shampoo``) and computed with Python
floats or plain NumPy, never taken from the code under test.
"""
import math

import numpy as np
import pytest

import minigrad as mg
from optimizers import newton_schulz as ns
from optimizers.muon import orthogonalize
from optimizers.shampoo import Shampoo
from optimizers.sophia import Sophia, gnb_diagonal


def _p(coeffs, x):
    a, b, c = coeffs
    return a * x + b * x**3 + c * x**5


# --------------------------------------------------------------------------- optimal_odd_quintic
@pytest.mark.parametrize("u", [2.0, 0.5, 3.0])
def test_optimal_quintic_on_a_single_point_is_the_documented_closed_form(u):
    """For l = u (l/u >= 1 - 5e-6) the docstring's limit p(x) = 15/8 (x/u) - 10/8 (x/u)^3
    + 3/8 (x/u)^5, i.e. (a, b, c) = (15/(8u), -10/(8u^3), 3/(8u^5)); for u = 2:
    (0.9375, -0.15625, 0.01171875). It satisfies p(u) = 1, p'(u) = p''(u) = 0."""
    a, b, c = ns.optimal_odd_quintic(u, u)
    expected = (15 / (8 * u), -10 / (8 * u**3), 3 / (8 * u**5))
    np.testing.assert_allclose((a, b, c), expected, rtol=1e-15, atol=0)
    if u == 2.0:
        assert (a, b, c) == (0.9375, -0.15625, 0.01171875)
    assert _p((a, b, c), u) == pytest.approx(1.0, abs=1e-14)
    assert a + 3 * b * u**2 + 5 * c * u**4 == pytest.approx(0.0, abs=1e-13)  # p'(u)
    assert 6 * b * u + 20 * c * u**3 == pytest.approx(0.0, abs=1e-13)  # p''(u)


@pytest.mark.parametrize("u", [4.0, 0.25])
def test_optimal_quintic_near_a_point_scales_with_u(u):
    """Just inside the near-degenerate branch (l/u = 1 - 1e-6) the coefficients for [l, u] are
    those for [l/u, 1] with x replaced by x/u: (a/u, b/u^3, c/u^5)."""
    one = ns.optimal_odd_quintic(1.0 - 1e-6, 1.0)
    scaled = ns.optimal_odd_quintic((1.0 - 1e-6) * u, u)
    np.testing.assert_allclose(scaled, (one[0] / u, one[1] / u**3, one[2] / u**5), rtol=1e-12)


@pytest.mark.parametrize("u", [2.0, 0.5])
def test_optimal_quintic_scales_with_the_interval(u):
    """The minimax problem on [l, u] is the one on [l/u, 1] after x -> x/u, so its solution is
    (a/u, b/u^3, c/u^5) of the [l/u, 1] solution (Remez's iteration is scale-free)."""
    a, b, c = ns.optimal_odd_quintic(0.1, 1.0)
    np.testing.assert_allclose(ns.optimal_odd_quintic(0.1 * u, u), (a / u, b / u**3, c / u**5),
                               rtol=1e-9)


def test_optimal_quintic_accepts_l_zero_and_refuses_what_is_outside_its_domain():
    """The documented domain is 0 <= l <= u, u > 0: l = 0 is accepted. There every odd p has
    p(0) = 0, so the equioscillation system of the docstring, p(x_i) + (-1)^i E = 1 at
    l, q, r, u, gives E = 1 and p(u) = 1 + E = 2. Just below 0, u = 0 and l > u are refused with
    ValueError."""
    for u in (1.0, 2.0):
        coeffs = ns.optimal_odd_quintic(0.0, u)
        assert len(coeffs) == 3 and all(math.isfinite(v) for v in coeffs)
        assert _p(coeffs, u) == pytest.approx(2.0, abs=1e-9)
    for l, u in [(-1e-300, 1.0), (-0.1, 1.0), (0.0, 0.0), (0.5, 0.4), (0.0, -1.0)]:
        with pytest.raises(ValueError, match="0 <= l <= u"):
            ns.optimal_odd_quintic(l, u)


@pytest.mark.xfail(strict=True, reason=(
    "at l = 0 the row of x = 0 fixes E = 1 in every Remez iteration, so the stopping rule "
    "|E_old - E| <= tol holds after the second iteration, before the alternation points q, r "
    "have converged: the result has max |1 - p| = 1.00107 on [0, 1], not the minimax value 1"))
def test_optimal_quintic_at_l_zero_is_a_best_approximation():
    """At l = 0 the minimax error is 1 (p(0) = 0 for every odd p, and p = 0 attains 1), so the
    best approximation the docstring promises has max |1 - p| = 1 on [0, u] (dense grid), that
    is 0 <= p <= 2 there."""
    coeffs = ns.optimal_odd_quintic(0.0, 1.0)
    x = np.linspace(0.0, 1.0, 20_001)
    assert np.abs(1.0 - _p(coeffs, x)).max() <= 1.0 + 1e-9


# --------------------------------------------------------------------------- documented defaults
def _matrix(seed=0, shape=(3, 5)):
    return np.random.default_rng(seed).standard_normal(shape)


def test_polar_iterations_default_arguments_are_the_documented_ones():
    """newton_schulz_cubic: 20 steps by default ("the default 20 steps"); newton_schulz_quintic:
    5 steps of Muon's (3.4445, -4.7750, 2.0315) (Keller Jordan's reference coefficients);
    polar_express: 5 steps of the default table, safety 0.01; normalize: eps = 1e-7 (Muon's
    reference) and no safety; polar_express_coefficients: l = 1e-3, 5 steps, safety 2e-2,
    cushion 0.02."""
    G = _matrix()
    np.testing.assert_array_equal(ns.newton_schulz_cubic(G),
                                  ns.newton_schulz_cubic(G, steps=20))
    assert not np.array_equal(ns.newton_schulz_cubic(G), ns.newton_schulz_cubic(G, steps=19))
    assert ns.MUON_QUINTIC == (3.4445, -4.7750, 2.0315)
    np.testing.assert_array_equal(
        ns.newton_schulz_quintic(G),
        ns.odd_polynomial_iteration(G, [(3.4445, -4.7750, 2.0315)] * 5, eps=1e-7))
    np.testing.assert_array_equal(
        ns.polar_express(G),
        ns.odd_polynomial_iteration(G, ns.POLAR_EXPRESS_COEFFICIENTS[:5], safety=0.01, eps=1e-7))
    Z = np.zeros((2, 3))
    np.testing.assert_array_equal(ns.normalize(Z), Z)  # G = 0 stays finite
    np.testing.assert_allclose(ns.normalize(G), G / (np.linalg.norm(G) + 1e-7), rtol=1e-15)
    assert ns.polar_express_coefficients() == ns.polar_express_coefficients(
        l=1e-3, num_iters=5, safety=2e-2, cushion=0.02)
    assert len(ns.POLAR_EXPRESS_COEFFICIENTS) == 5


def test_orthogonalize_defaults_to_five_steps_of_muons_quintic():
    """Muon's O_t = NS_5(G~_t): ``orthogonalize(G)`` is five steps of Muon's quintic, and each
    method with its default step count is five steps of its polynomial (``"svd"`` is exact)."""
    G = _matrix(1, (4, 6))
    np.testing.assert_array_equal(
        orthogonalize(G), ns.odd_polynomial_iteration(G, [(3.4445, -4.7750, 2.0315)] * 5))
    np.testing.assert_array_equal(orthogonalize(G, "polar_express"), ns.polar_express(G, steps=5))
    np.testing.assert_array_equal(orthogonalize(G, "cubic"),
                                  ns.odd_polynomial_iteration(G, [(1.5, -0.5)] * 5))
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    np.testing.assert_allclose(orthogonalize(G, "svd"), U @ Vt, atol=1e-13)


# --------------------------------------------------------------------------- Shampoo
def _shampoo_run(x0, grads, **kw):
    x = mg.Tensor(np.array(x0, dtype=float), requires_grad=True)
    opt = Shampoo([x], **kw)
    out = []
    for g in grads:
        x.grad = mg.backend.asarray(np.array(g, dtype=float))
        opt.step()
        out.append(x.numpy().copy())
    return out


def test_shampoo_roots_are_computed_at_the_first_step_and_then_every_update_freq_steps():
    """Order 1 (a vector of one entry): H_k = beta H_{k-1} + (1 - beta) g_k^2 every step, the root
    P = (H + eps)^{-1/2} recomputed at steps 1, 1 + f, 1 + 2f, ... (update_freq = f = 3) and kept
    in between, x_{k+1} = x_k - lr P g_k. With beta = 0.99, g_1 = 2 and g = 1 after: H_1 = 0.04,
    P = 1/sqrt(0.04) = 5, so x_1 = -0.01 * 5 * 2 = -0.1 and steps 2, 3 move by -0.05 each
    (P still 5); step 4 uses H_4 = 0.99 H_3 + 0.01 with a fresh root."""
    lr, beta, eps, f = 1e-2, 0.99, 1e-12, 3
    grads = [2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    traj = _shampoo_run([0.0], [[g] for g in grads], lr=lr, beta=beta, eps=eps, update_freq=f)
    H, P, x, ref = 0.0, None, 0.0, []
    for k, g in enumerate(grads, start=1):
        H = beta * H + (1 - beta) * g * g
        if (k - 1) % f == 0:  # k = 1, 4, 7
            P = 1.0 / math.sqrt(H + eps)
        x -= lr * P * g
        ref.append(x)
    assert ref[0] == pytest.approx(-0.1, rel=1e-9)
    assert ref[2] - ref[1] == pytest.approx(-0.05, rel=1e-9)
    np.testing.assert_allclose([t[0] for t in traj], ref, rtol=1e-12, atol=0)


def test_shampoo_matrix_roots_follow_the_same_schedule():
    """A diagonal gradient G = diag(s, t) has G G^T = G^T G = diag(s^2, t^2), so L = R are
    diagonal and P_L G P_R = diag(s / sqrt(L_11 + eps), t / sqrt(L_22 + eps)) entrywise (the two
    fourth roots multiply to a square root); the roots are refreshed at steps 1, 4, 7
    (update_freq = 3)."""
    lr, beta, eps, f = 0.1, 0.5, 1e-12, 3
    diag = [(1.0, 2.0), (3.0, -1.0), (0.5, 0.5), (-2.0, 1.0), (1.0, 1.0), (2.0, -3.0),
            (1.0, 0.5)]
    traj = _shampoo_run(np.zeros((2, 2)), [np.diag(d) for d in diag], lr=lr, beta=beta, eps=eps,
                        update_freq=f)
    Ld, P, W, ref = [0.0, 0.0], None, [0.0, 0.0], []
    for k, (s, t) in enumerate(diag, start=1):
        Ld = [beta * Ld[0] + (1 - beta) * s * s, beta * Ld[1] + (1 - beta) * t * t]
        if (k - 1) % f == 0:
            P = [(Ld[0] + eps) ** -0.25, (Ld[1] + eps) ** -0.25]
        W = [W[0] - lr * P[0] * s * P[0], W[1] - lr * P[1] * t * P[1]]
        ref.append(np.diag(W))
    np.testing.assert_allclose(np.array(traj), np.array(ref), rtol=1e-10, atol=1e-15)


# --------------------------------------------------------------------------- Sophia
def test_sophia_official_form_adds_eps_to_the_denominator_before_any_estimate():
    """clip="official" (the authors' SophiaG): theta -= lr sign(m) min(|m| / (gamma h + eps), 1).
    Before any Hessian estimate h = 0, so the ratio is min(|m| / eps, 1): with the defaults
    (lr = 1e-4, beta1 = 0.965, eps = 1e-12) and m_1 = 0.035 g, the entries m_1 = (0, 0.5e-12,
    4e-12, -0.035) move by (0, -0.5e-4, -1e-4, +1e-4): a zero momentum does not move (0 / eps),
    a momentum below eps moves by less than lr. x0 = 0, so the weight decay changes nothing."""
    m1 = [0.0, 0.5e-12, 4e-12, -0.035]
    x = mg.Tensor(np.zeros(4), requires_grad=True)
    opt = Sophia([x], clip="official")
    x.grad = mg.backend.asarray(np.array([m / 0.035 for m in m1]))
    opt.step()
    lr, eps = 1e-4, 1e-12
    expected = [-lr * math.copysign(min(abs(m) / eps, 1.0), m) if m else 0.0 for m in m1]
    assert expected == pytest.approx([0.0, -0.5e-4, -1e-4, 1e-4], rel=1e-12)
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-9, atol=0)


def test_sophia_gnb_labels_follow_the_softmax_in_half_precision():
    """Sophia-G samples the labels from softmax(f(theta, x_b)) by inverse CDF. With all logits
    equal (f = x W, x_b = 1, W = 0) every class has probability 1/C, and for the mean
    cross-entropy g_hat_j = 1/C - n_j / B with n_j ~ Binomial(B, 1/C) the labels drawn as class j,
    so h_hat_j = B g_hat_j^2 has mean (1/C)(1 - 1/C) (the binomial variance) in every column.
    Half-precision logits (C = 200, B = 4000 rows): the mean over the columns is within 40% of
    it, and no column exceeds 50 times it (a chi-square(1) variable exceeds 50 with probability
    below 1e-11)."""
    C, n = 200, 4000
    W = mg.Tensor(np.zeros((1, C), dtype=np.float16), requires_grad=True)
    X = mg.Tensor(np.ones((n, 1), dtype=np.float16))
    h = gnb_diagonal(lambda: X @ W, [W], mg.backend.host_rng((0, 0)))[0]
    assert h.dtype == np.float16 and h.shape == (1, C)
    h = h.astype(np.float64)[0]
    mean = (1.0 / C) * (1.0 - 1.0 / C)
    assert 0.6 * mean <= h.mean() <= 1.4 * mean
    assert h.max() <= 50.0 * mean
