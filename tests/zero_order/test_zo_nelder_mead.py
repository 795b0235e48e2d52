"""Nelder–Mead (optimizers.zero_order.nelder_mead): the moves on hand-computed simplices, the
coefficients, and the budgets.

Reference figure (SciPy 1.17.1, minimize(rosen, [1.3, 0.7, 0.8, 1.9, 1.2], method="Nelder-Mead",
options={"xatol": 1e-8})): 339 iterations, 571 evaluations; ours must match or beat it.
Budgets for the sphere: SciPy's default maxfev = 200 n; for Rosenbrock, whose curved valley takes
longer: 500 n. "Reached" means ||x - x*||_inf <= 1e-5.
"""
import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import minimize
from optimizers.zero_order.nelder_mead import (NelderMeadSimplex, coefficients, initial_simplex,
                                               nelder_mead)


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def sphere(x):
    return (x * x).sum()


def test_rosenbrock_5d_matches_or_beats_scipy():
    res = minimize(rosen, [1.3, 0.7, 0.8, 1.9, 1.2], method="nelder-mead", xatol=1e-8)
    assert res.success and res.nit <= 339 and res.nfev <= 571, (res.nit, res.nfev)
    np.testing.assert_allclose(mg.to_numpy(res.x), np.ones(5), atol=1e-6)


def test_coefficients_standard_and_gao_han():
    assert coefficients(7) == (1.0, 2.0, 0.5, 0.5)
    # Gao & Han (2012): rho = 1, chi = 1 + 2/n, gamma = 3/4 - 1/(2n), sigma = 1 - 1/n
    assert coefficients(10, adaptive=True) == pytest.approx((1.0, 1.2, 0.7, 0.9))
    assert coefficients(2, adaptive=True) == pytest.approx((1.0, 2.0, 0.5, 0.5))


def test_pfeffers_initial_simplex():
    sim = initial_simplex(np.array([2.0, 0.0, -4.0]))
    np.testing.assert_array_equal(sim, [[2.0, 0.0, -4.0], [2.1, 0.0, -4.0],
                                        [2.0, 0.00025, -4.0], [2.0, 0.0, -4.2]])


def f1(v):
    return float(v[0] ** 2)


@pytest.mark.parametrize("vertices,move,after", [
    # x_bar = 1, x_r = 0.95 (f_r < f_1): x_e = 0.9 is better still: expand
    ([1.0, 1.05], "expand", [0.9, 1.0]),
    # best 0.1, worst 1: x_r = -0.8, f_r = 0.64 in [f_1, f_{n+1}): outside contraction
    # x_c = 0.1 + 0.5 (-0.8 - 0.1) = -0.35, f_c = 0.1225 <= f_r: accepted
    ([0.1, 1.0], "contract outside", [0.1, -0.35]),
    # best 0, worst 0.5: x_r = -0.5, f_r = f_{n+1}: inside contraction x_cc = 0.25
    ([0.0, 0.5], "contract inside", [0.0, 0.25]),
])
def test_one_iteration_by_hand_in_one_dimension(vertices, move, after):
    sim = np.array(vertices).reshape(-1, 1)
    state = NelderMeadSimplex(sim, [f1(v) for v in sim])
    assert state.iterate(f1) == move
    np.testing.assert_allclose(state.sim.ravel(), after, rtol=1e-15)


def test_shrink_by_hand():
    """A ridge that every trial point misses: f = 0 at the vertices' line, 1 elsewhere."""
    f = lambda v: 0.0 if abs(v[1]) < 1e-12 and v[0] in (0.0, 1.0) else 1.0  # noqa: E731
    sim = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    state = NelderMeadSimplex(sim, [f(v) for v in sim])
    assert state.iterate(f) == "shrink"
    np.testing.assert_allclose(state.sim, [[0.0, 0.0], [0.5, 0.0], [0.0, 0.5]])


@pytest.mark.parametrize("n,adaptive", [(2, False), (5, False), (5, True), (10, False),
                                        (10, True)])
def test_sphere_within_200n_evaluations(n, adaptive):
    res = nelder_mead(sphere, np.ones(n), xatol=1e-6, fatol=1e-12, adaptive=adaptive,
                      maxiter=10 ** 6, maxfev=200 * n)
    assert res.success and np.abs(res.x).max() <= 1e-5, (res.nfev, res.message)


@pytest.mark.parametrize("n,adaptive", [(2, False), (5, False), (5, True), (10, True)])
def test_rosenbrock_within_500n_evaluations(n, adaptive):
    res = nelder_mead(rosen, np.zeros(n), xatol=1e-6, fatol=1e-12, adaptive=adaptive,
                      maxiter=10 ** 6, maxfev=500 * n)
    assert res.success and np.abs(res.x - 1.0).max() <= 1e-5, (res.nfev, res.message)


@pytest.mark.parametrize("f,x_star,budget", [(sphere, 0.0, 200), (rosen, 1.0, 500)])
def test_companion_a_quarter_of_the_budget_fails(f, x_star, budget):
    n = 5
    res = nelder_mead(f, np.zeros(n) if f is rosen else np.ones(n), xatol=1e-6, fatol=1e-12,
                      maxiter=10 ** 6, maxfev=budget * n // 4)
    assert not res.success and res.status == 1 and np.abs(res.x - x_star).max() > 1e-5


def test_counts_and_the_final_simplex():
    calls = []

    def f(x):
        calls.append(1)
        return sphere(x)

    res = nelder_mead(f, [1.0, 2.0])
    assert res.nfev == len(calls) and res.njev == 0
    sim, fs = res.final_simplex
    assert sim.shape == (3, 2) and fs == sorted(fs) and fs[0] == res.fun


def test_nan_values_sort_last_and_are_never_kept_as_best():
    import minigrad as mg

    with np.errstate(invalid="ignore"):
        res = nelder_mead(lambda x: ((x - 0.5) ** 2).sum() + 0.0 * mg.sqrt(x[0]),
                          [0.2, 0.2], xatol=1e-8, fatol=1e-12)
    assert res.success and np.isfinite(res.fun)
    np.testing.assert_allclose(mg.to_numpy(res.x), [0.5, 0.5], atol=1e-6)
