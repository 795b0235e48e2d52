"""The empirical rates (least-squares fits with 95% intervals) and the constants derived in
theorems.constants, against independent oracles: exact geometric and quadratic sequences,
published t quantiles, finite differences of the engine's Hessians."""
import math

import numpy as np
import pytest

import minigrad as mg
import problems as P
from theorems import Instance
from theorems.constants import (logistic_hessian_lipschitz, logistic_minimiser,
                                nearest_minimiser, per_sample_smoothness)
from theorems.rates import fit_linear_rate, fit_order, t975


def test_t_quantiles_match_the_table_and_its_expansion():
    """Published values t_{0.975}: 1 -> 12.706, 10 -> 2.228, 30 -> 2.042; 40 -> 2.021,
    60 -> 2.000, 120 -> 1.980 (from the expansion); the limit 1.96."""
    assert t975(1) == 12.706 and t975(10) == 2.228 and t975(30) == 2.042
    for nu, t in ((40, 2.021), (60, 2.000), (120, 1.980)):
        assert t975(nu) == pytest.approx(t, abs=6e-4)
    assert t975(10 ** 6) == pytest.approx(1.959964, abs=1e-5)
    with pytest.raises(ValueError, match="nu must be >= 1"):
        t975(0)


def test_a_geometric_sequence_gives_its_factor_with_a_tight_interval():
    k = np.arange(60)
    est = fit_linear_rate(k, 3.0 * 0.9 ** k, what="factor", theory=0.95)
    assert est.fitted == pytest.approx(0.9, rel=1e-12)
    assert est.high - est.low < 1e-10 and est.theory == 0.95
    assert est.first == 30 and est.last == 59            # the last half of the iterations


def test_the_interval_covers_the_factor_under_noise_and_the_power_form():
    rng = np.random.default_rng(0)
    k = np.arange(1, 200)
    y = 5 * k * 0.97 ** k * np.exp(0.01 * rng.standard_normal(k.size))
    est = fit_linear_rate(k, y, what="factor", power=True)
    assert est.low < 0.97 < est.high and est.high - est.low < 2e-3
    plain = fit_linear_rate(k, y, what="factor")         # without the log k column: biased up
    assert plain.fitted > est.fitted


def test_too_few_points_give_no_estimate():
    assert fit_linear_rate([0, 1, 2], [1.0, 0.5, 0.25], what="factor") is None
    assert fit_linear_rate(np.arange(10), np.r_[1.0, np.zeros(9)], what="factor") is None
    assert fit_order([1.0, 1e-2, 1e-4], floor=1e-12) is None


def test_the_order_of_a_quadratic_sequence_is_two():
    e = [0.5]
    for _ in range(5):
        e.append(0.8 * e[-1] ** 2)                       # e_{k+1} = 0.8 e_k^2
    est = fit_order(e, floor=1e-300)
    assert est.fitted == pytest.approx(2.0, rel=1e-10) and est.theory == 2.0
    linear = fit_order(0.5 ** np.arange(10), floor=1e-300)
    assert linear.fitted == pytest.approx(1.0, rel=1e-10)


def test_the_hessian_lipschitz_bound_of_logistic_regression_holds_and_is_not_loose_by_much():
    """||H(x) - H(x')||_2 <= M ||x - x'|| at random pairs (engine Hessians); and M is within a
    small factor of the largest ratio seen near the steepest change of sigma'."""
    p = P.LogisticRegression(m=30, dim=3, mu=0.2, seed=4)
    M = logistic_hessian_lipschitz(p)
    A = mg.to_numpy(p.A)
    assert M == pytest.approx(np.sum(np.linalg.norm(A, axis=1) ** 3) / (6 * math.sqrt(3) * 30))
    rng = np.random.default_rng(1)
    worst = 0.0
    for _ in range(20):
        x, d = rng.standard_normal(3) * 2, rng.standard_normal(3) * 1e-3
        H1, H2 = (mg.to_numpy(p.hessian(z)) for z in (x, x + d))
        ratio = np.linalg.norm(H1 - H2, 2) / np.linalg.norm(d)
        assert ratio <= M
        worst = max(worst, ratio)
    assert worst > M / 20
    with pytest.raises(TypeError, match="LogisticRegression"):
        logistic_hessian_lipschitz(P.LeastSquares(m=5, dim=2))
    # |s'| <= 1/(6 sqrt 3) for s = sigma(z) sigma(-z): its maximum on a fine grid
    z = np.linspace(-10, 10, 200001)
    s = 1 / (1 + np.exp(-z)) * (1 / (1 + np.exp(z)))
    assert np.max(np.abs(np.gradient(s, z))) == pytest.approx(1 / (6 * math.sqrt(3)), rel=1e-6)


def test_the_minimiser_nearest_to_the_start():
    """A quadratic with a kernel: the nearest minimiser has zero gradient and differs from x0
    only outside the kernel; rank-deficient least squares: the same, by the normal equations."""
    q = P.Quadratic(dim=4, mu=0.0, L=1.0, seed=2, spacing="linear")
    x0 = mg.to_numpy(q.x0)
    xs = nearest_minimiser(q, x0)
    np.testing.assert_allclose(mg.to_numpy(q.grad(xs)), 0, atol=1e-12)
    kernel = mg.to_numpy(q.eigenvectors)[:, 0]                # eigenvalue 0
    assert abs(kernel @ (x0 - xs)) < 1e-12
    assert Instance(q).R2 == pytest.approx(float(np.sum((x0 - xs) ** 2)))
    rng = np.random.default_rng(3)
    A = rng.standard_normal((20, 1)) @ rng.standard_normal((1, 3))
    ls = P.LeastSquares(A=A, b=rng.standard_normal(20), x0=rng.standard_normal(3))
    xs = nearest_minimiser(ls, ls.x0)
    np.testing.assert_allclose(A.T @ (A @ xs - mg.to_numpy(ls.b)), 0, atol=1e-10)
    np.testing.assert_allclose(np.cross(mg.to_numpy(ls.x0) - xs, A[0]), 0, atol=1e-10)
    assert per_sample_smoothness(ls) == pytest.approx(np.max(np.sum(A * A, axis=1)))


def test_logistic_regression_without_a_minimiser_is_refused():
    """Separable data (labels the sign of a_1): the infimum 0 is not attained."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 2))
    p = P.LogisticRegression(A=A, y=np.where(A[:, 0] > 0, 1.0, -1.0), mu=0.0)
    with pytest.raises(ValueError, match="separable"):
        logistic_minimiser(p)
