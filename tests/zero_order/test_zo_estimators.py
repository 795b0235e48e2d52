"""Gradient estimators from function values (optimizers.zero_order.estimators), checked
statistically against closed forms.

Oracles (independent of the code): for u ~ N(0, I), E[(g^T u)^2 ||u||^2] = (n + 2) ||g||^2 and
E||u||^6 = n (n + 2) (n + 4); Stein's identity gives E[f(x + tau u) u] / tau = grad f_tau(x) for the
Gaussian smoothing f_tau(x) = E f(x + tau u); for f = sum x_j^4,
f_tau = sum (x_j^4 + 6 tau^2 x_j^2 + 3 tau^4), so grad f_tau = 4 x^3 + 12 tau^2 x.
Margins: every sample mean is compared with its expectation within 5 standard errors (the
standard error estimated from the same samples); seeds are fixed, so the tests are deterministic.
"""
import numpy as np
import pytest

from optimizers.zero_order.estimators import (coordinate, gaussian_forward, gaussian_symmetric,
                                              two_point)

Z = 5.0  # standard errors


def samples(est, f, x, tau, n_samples, seed=0):
    rng = np.random.default_rng(seed)
    return np.array([est(f, x, tau, rng) for _ in range(n_samples)])


def assert_mean(G, expected):
    mean = G.mean(axis=0)
    se = G.std(axis=0, ddof=1) / np.sqrt(len(G))
    assert np.all(np.abs(mean - expected) <= Z * se), (mean, expected, se)


def quadratic(n, seed=0):
    rng = np.random.default_rng(100 + seed)
    M = rng.standard_normal((n, n))
    A = M @ M.T / n + np.eye(n)
    b = rng.standard_normal(n)
    x = rng.standard_normal(n)
    return (lambda v: 0.5 * v @ A @ v + b @ v), A @ x + b, x


@pytest.mark.parametrize("est", [gaussian_forward, gaussian_symmetric], ids=["forward",
                                                                             "symmetric"])
def test_gaussian_smoothing_mean_is_the_gradient_on_a_quadratic_even_for_a_large_tau(est):
    """On a quadratic f_tau = f + tau^2/2 tr A, so grad f_tau = grad f: exact for any tau."""
    f, g, x = quadratic(6)
    assert_mean(samples(est, f, x, 1.0, 20000), g)


@pytest.mark.slow
@pytest.mark.parametrize("est", [gaussian_forward, gaussian_symmetric], ids=["forward",
                                                                             "symmetric"])
def test_gaussian_smoothing_mean_is_the_smoothed_gradient_not_the_gradient(est):
    """On f = sum x^4 the mean is grad f_tau = 4x^3 + 12 tau^2 x; the companion check: it is
    measurably not grad f = 4x^3 (the same test statistic fails there)."""
    f = lambda v: float(np.sum(v ** 4))  # noqa: E731
    x, tau = np.array([0.5, -1.0, 1.5]), 0.5
    G = samples(est, f, x, tau, 40000, seed=1)
    assert_mean(G, 4 * x ** 3 + 12 * tau ** 2 * x)
    with pytest.raises(AssertionError):
        assert_mean(G, 4 * x ** 3)


def second_moment_check(errs, expected):
    mean, se = errs.mean(), errs.std(ddof=1) / np.sqrt(len(errs))
    assert abs(mean - expected) <= Z * se, (mean, expected, se)
    return mean


@pytest.mark.parametrize("n", [4, 16, 64])
def test_symmetric_gaussian_variance_is_n_plus_1_times_the_squared_gradient(n):
    """E||G - g||^2 = (n + 1) ||g||^2 on a quadratic: proportional to n (the curse of
    dimensionality of L1)."""
    f, g, x = quadratic(n)
    G = samples(gaussian_symmetric, f, x, 0.1, 20000, seed=n)
    second_moment_check(np.sum((G - g) ** 2, axis=1), (n + 1) * (g @ g))


@pytest.mark.parametrize("n", [4, 16, 64])
def test_forward_gaussian_variance_on_the_sphere(n):
    """f = 1/2 ||x||^2: E||G - g||^2 = (n + 1) ||g||^2 + tau^2/4 n (n + 2) (n + 4)."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n)
    f = lambda v: 0.5 * float(v @ v)  # noqa: E731
    tau = 0.05
    G = samples(gaussian_forward, f, x, tau, 20000, seed=n)
    expected = (n + 1) * (x @ x) + tau ** 2 / 4 * n * (n + 2) * (n + 4)
    second_moment_check(np.sum((G - x) ** 2, axis=1), expected)


@pytest.mark.slow
def test_variance_grows_in_proportion_to_n():
    """The per-dimension variance E||G - g||^2 / ((n + 1) ||g||^2) is the same (1) for
    n = 4, 16, 64, while the variance itself grows 13-fold (and the same comparison against a
    variance that does not grow with n fails)."""
    ratios, variances = [], []
    for n in (4, 16, 64):
        f, g, x = quadratic(n)
        G = samples(gaussian_symmetric, f, x, 0.1, 20000, seed=7 + n)
        v = np.sum((G - g) ** 2, axis=1) / (g @ g)
        variances.append(v)
        ratios.append(second_moment_check(v, n + 1) / (n + 1))
    np.testing.assert_allclose(ratios, 1.0, atol=0.05)
    with pytest.raises(AssertionError):
        second_moment_check(variances[2], 4 + 1)


@pytest.mark.slow
@pytest.mark.parametrize("n", [3, 20])
def test_two_point_with_factor_n_is_unbiased_with_second_moment_n(n):
    """e uniform on the sphere: E[n (g^T e) e] = g and E||G||^2 = n ||g||^2 on a quadratic."""
    f, g, x = quadratic(n)
    G = samples(two_point, f, x, 0.1, 20000, seed=n)
    assert_mean(G, g)
    second_moment_check(np.sum(G ** 2, axis=1), n * (g @ g))


def test_coordinate_estimate_is_exact_on_a_quadratic_and_costs_2n_evaluations():
    f, g, x = quadratic(7)
    calls = []

    def counted(v):
        calls.append(1)
        return f(v)

    G = coordinate(counted, x, 1e-3)
    np.testing.assert_allclose(G, g, rtol=1e-7, atol=1e-8)
    assert len(calls) == 14
