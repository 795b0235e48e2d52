"""minigrad.solvers.conjugate_gradient: truncated CG on matrix-vector products (N&W Algorithm 5.2
from x_0 = 0, with the negative-curvature stop of Algorithm 7.1)."""
import numpy as np
import pytest

from minigrad.solvers import conjugate_gradient


def spd(rng, n, cond=10.0):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (Q * np.logspace(0, np.log10(cond), n)) @ Q.T


@pytest.mark.parametrize("n", [1, 2, 7, 30])
def test_solves_an_spd_system_to_the_tolerance(n):
    rng = np.random.default_rng(n)
    A, b = spd(rng, n), rng.standard_normal(n)
    x, negative, k = conjugate_gradient(lambda v: A @ v, b, 1e-10, 10 * n)
    assert not negative and 1 <= k <= 10 * n
    assert np.linalg.norm(b - A @ x) <= 1e-9
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-8, atol=1e-10)


def test_a_well_conditioned_system_takes_about_n_products():
    """In exact arithmetic CG ends after at most n products on an n x n SPD system; with
    rounding and a condition number of 3, one more at most."""
    rng = np.random.default_rng(0)
    A, b = spd(rng, 5, cond=3.0), rng.standard_normal(5)
    x, negative, k = conjugate_gradient(lambda v: A @ v, b, 1e-12, 100)
    assert not negative and k <= 6
    np.testing.assert_allclose(A @ x, b, atol=1e-11)


def test_negative_curvature_at_once_returns_zero_and_one_product():
    A = -np.eye(3)
    b = np.array([1.0, 2.0, 3.0])
    x, negative, k = conjugate_gradient(lambda v: A @ v, b, 1e-12, 10)
    assert negative and k == 1 and not x.any()


def test_negative_curvature_later_returns_the_iterate_so_far():
    """A = diag(1, -1), b = (1, 1): p_0 = b has p^T A p = 0 -> stop at once; with b = (2, 1),
    p_0^T A p_0 = 3 > 0, one step, then the next direction has non-positive curvature."""
    A = np.diag([1.0, -1.0])
    b = np.array([2.0, 1.0])
    x, negative, k = conjugate_gradient(lambda v: A @ v, b, 1e-12, 10)
    assert negative and k == 2
    np.testing.assert_allclose(x, (5.0 / 3.0) * b)  # x_1 = (r^T r / p^T A p) p_0 = 5/3 b


def test_the_tolerance_is_tested_after_each_step_not_at_the_start():
    """A tolerance above ||b|| still takes one step (N&W Algorithm 7.1 tests r_{j+1})."""
    A, b = np.diag([1.0, 4.0]), np.array([1.0, 1.0])
    x, negative, k = conjugate_gradient(lambda v: A @ v, b, 10.0, 10)
    assert not negative and k == 1
    np.testing.assert_allclose(x, (2.0 / 5.0) * b)


def test_max_iter_bounds_the_products():
    rng = np.random.default_rng(3)
    A, b = spd(rng, 20, cond=1e4), rng.standard_normal(20)
    calls = []
    x, negative, k = conjugate_gradient(lambda v: calls.append(1) or A @ v, b, 0.0, 3)
    assert (negative, k, len(calls)) == (False, 3, 3)
    x0, _, k0 = conjugate_gradient(lambda v: A @ v, b, 0.0, 0)
    assert k0 == 0 and not x0.any()
