"""Quadratic (spectrum, closed forms, start points) and the Huber worst case of GD."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import problems as P


@pytest.mark.parametrize("spacing", ["linear", "log", "random"])
@settings(deadline=None, derandomize=True, max_examples=8)
@given(dim=st.integers(2, 9), mu=st.floats(1e-3, 1.0), ratio=st.floats(1.0, 1e3),
       seed=st.integers(0, 10_000))
def test_spectrum_includes_mu_and_L_exactly(spacing, dim, mu, ratio, seed):
    L = mu * ratio
    q = P.Quadratic(dim=dim, mu=mu, L=L, spacing=spacing, seed=seed)
    lam = np.linalg.eigvalsh(mg.to_numpy(q.A))  # independent of the construction
    assert lam[0] == pytest.approx(mu, rel=1e-9, abs=1e-12)
    assert lam[-1] == pytest.approx(L, rel=1e-9)
    assert np.all(lam >= mu * (1 - 1e-9)) and np.all(lam <= L * (1 + 1e-9))
    assert q.eigenvalues[0] == mu and q.eigenvalues[-1] == L
    np.testing.assert_allclose(mg.to_numpy(q.A), mg.to_numpy(q.A.T), atol=0)
    eigenvalues = mg.to_numpy(q.eigenvalues)
    if spacing == "linear":
        np.testing.assert_allclose(np.diff(eigenvalues), (L - mu) / (dim - 1), rtol=1e-9)
    if spacing == "log":
        np.testing.assert_allclose(eigenvalues[1:] / eigenvalues[:-1],
                                   (L / mu) ** (1 / (dim - 1)), rtol=1e-9)


def test_closed_forms_against_numpy():
    q = P.Quadratic(dim=7, mu=0.3, L=5.0, seed=3)
    A, b = mg.to_numpy(q.A), mg.to_numpy(q.b)
    x_star = np.linalg.solve(A, b)
    np.testing.assert_allclose(mg.to_numpy(q.x_star), x_star, rtol=1e-10, atol=1e-12)
    assert q.f_star == pytest.approx(0.5 * x_star @ A @ x_star - b @ x_star, rel=1e-12)
    x = np.random.default_rng(0).standard_normal(7)
    assert q.value(x) == pytest.approx(0.5 * x @ A @ x - b @ x, rel=1e-13)
    assert q.condition_number == pytest.approx(5.0 / 0.3)


def test_start_points():
    q = P.Quadratic(dim=5, mu=0.1, L=1.0, seed=1, x0="slowest", radius=2.0)
    d = mg.to_numpy(q.x0 - q.x_star)
    assert np.linalg.norm(d) == pytest.approx(2.0)
    np.testing.assert_allclose(mg.to_numpy(q.A) @ d, 0.1 * d, atol=1e-12)  # eigenvalue mu
    q = P.Quadratic(dim=5, mu=0.1, L=1.0, seed=1, x0="fastest", radius=0.5)
    d = mg.to_numpy(q.x0 - q.x_star)
    np.testing.assert_allclose(mg.to_numpy(q.A) @ d, 1.0 * d, atol=1e-12)
    q = P.Quadratic(dim=5, seed=1, x_star="zeros", x0=[1, 2, 3, 4, 5])
    assert np.array_equal(mg.to_numpy(q.x_star), np.zeros(5)) and q.f_star == 0.0
    assert np.array_equal(mg.to_numpy(q.x0), [1.0, 2, 3, 4, 5])


def test_gd_on_the_slowest_direction_contracts_by_exactly_1_minus_mu_over_L():
    """GD with step 1/L from x0 along the mu-eigenvector: ||x_k - x*|| = (1 - mu/L)^k R."""
    q = P.Quadratic(dim=4, mu=0.2, L=2.0, seed=0, x0="slowest")
    x = mg.to_numpy(q.x0).copy()
    for k in range(1, 20):
        x = x - mg.to_numpy(q.grad(x)) / q.L
        assert np.linalg.norm(x - mg.to_numpy(q.x_star)) == pytest.approx((1 - 0.1) ** k, rel=1e-9)


def test_from_matrix_and_mu_zero():
    q = P.Quadratic.from_matrix([[2.0, 0.0], [0.0, 0.0]], b=[4.0, 0.0])
    assert q.mu == 0.0 and q.L == 2.0 and q.mu_kind is None
    np.testing.assert_allclose(mg.to_numpy(q.x_star), [2.0, 0.0])
    assert q.f_star == pytest.approx(-4.0)
    with pytest.raises(ValueError, match="positive semi-definite"):
        P.Quadratic.from_matrix([[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match="symmetric"):
        P.Quadratic.from_matrix([[1.0, 1.0], [0.0, 1.0]])


@pytest.mark.parametrize("kwargs, match", [
    (dict(mu=-0.1), r"mu must be >= 0; got mu=-0\.1"),
    (dict(mu=2.0, L=1.0), r"mu must not exceed L; got mu=2\.0 > L=1\.0"),
    (dict(L=0.0, mu=0.0), r"L must be > 0; got L=0\.0"),
    (dict(dim=0), r"dim must be an integer >= 1; got dim=0"),
    (dict(dim=2.5), r"dim must be an integer; got dim=2\.5"),
    (dict(spacing="cubic"), r"spacing must be one of .*got spacing='cubic'"),
    (dict(dim=3, x0=[1.0, 2.0]), r"x0 has shape \(2,\) but the problem's variable has shape"),
    (dict(dim=3, x_star=[1.0, 2.0]), r"x_star has shape \(2,\) but dim=3"),
    (dict(dim=1, mu=0.5, L=1.0), r"dim=1.*mu must equal L"),
    (dict(spacing="log", mu=0.0), r"spacing='log' needs mu > 0"),
    (dict(mu=float("nan")), r"mu must be finite"),
])
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        P.Quadratic(**kwargs)


def test_f_of_a_point_of_the_wrong_shape_is_an_error():
    q = P.Quadratic(dim=3)
    with pytest.raises(ValueError, match=r"x has shape \(4,\) but the problem's variable "
                                         r"has shape \(3,\)"):
        q.value(np.zeros(4))


# --------------------------------------------------------------------------- Huber worst case
@pytest.mark.parametrize("n_steps", [1, 2, 5, 17])
@pytest.mark.parametrize("h", [1.0, 0.5, 0.25])
@pytest.mark.parametrize("L, R, dim", [(1.0, 1.0, 1), (3.0, 2.5, 4)])
def test_gd_attains_the_drori_teboulle_bound_exactly(n_steps, h, L, R, dim):
    """f(x_N) - f* = L R^2 / (4 N h + 2) after N steps of GD with step h/L (PEPit's tau)."""
    p = P.HuberWorstCase(L=L, R=R, n_steps=n_steps, h=h, dim=dim)
    x = mg.to_numpy(p.x0).copy()
    assert np.linalg.norm(x - mg.to_numpy(p.x_star)) == pytest.approx(R)
    for _ in range(n_steps):
        x = x - (h / L) * mg.to_numpy(p.grad(x))
    bound = L * R ** 2 / (4 * n_steps * h + 2)  # the formula, written out independently
    assert p.value(x) - p.f_star == pytest.approx(bound, rel=1e-12)
    assert p.gd_bound() == pytest.approx(bound, rel=1e-15)
    # PEPit example's theoretical tau for ||x0 - x*|| = 1: L / (2 (2 n L gamma + 1))
    assert bound / R ** 2 == pytest.approx(L / (2 * (2 * n_steps * L * (h / L) + 1)))


def test_huber_is_below_the_bound_for_other_step_counts():
    """Built for N steps, it is no worse than the bound for any other N (the bound holds on
    every L-smooth convex function)."""
    p = P.HuberWorstCase(L=1.0, R=1.0, n_steps=6)
    x = mg.to_numpy(p.x0).copy()
    for k in range(1, 15):
        x = x - mg.to_numpy(p.grad(x))
        assert p.value(x) <= p.gd_bound(k) * (1 + 1e-12)


def test_huber_bad_arguments():
    with pytest.raises(ValueError, match=r"h .* must be in \(0, 1\].*h=1\.5"):
        P.HuberWorstCase(h=1.5)
    with pytest.raises(ValueError, match=r"R must be > 0; got R=-1"):
        P.HuberWorstCase(R=-1.0)
    with pytest.raises(ValueError, match=r"n_steps must be an integer >= 1; got n_steps=0"):
        P.HuberWorstCase(n_steps=0)
