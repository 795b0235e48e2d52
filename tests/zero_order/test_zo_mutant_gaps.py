"""Strategy parameters, defaults, stopping rules and option bounds of the zero-order methods,
each pinned against the formula or value the modules document.

* CMA-ES (Hansen's tutorial, arXiv:1604.00772, Table 1): the damping
  d_sigma = 1 + 2 max(0, sqrt((mu_eff - 1) / (N + 1)) - 1) + c_sigma, whose max term is
  positive only for a large population (mu_eff > N + 2); the h_sigma test
  ||p_sigma|| / sqrt(1 - (1 - c_sigma)^(2(g + 1))) < (1.4 + 2 / (N + 1)) E||N(0, I)||; the
  defaults tolx = 1e-11 and seed = 0; ftarget is reached when best f <= ftarget.
* (1+1)-ES: the trial point y = x + sigma z with z ~ N(0, I) drawn by the generator; the success
  rate is successes / trials; ftarget is reached when f <= ftarget; damping D > 0.
* Genetic algorithm: the documented defaults of a population (e = 2, k = 3, p_c = 0.9,
  alpha = 0.5, p_m = 1/n, sigma_m = 0.1, beta = 0.98); elitism in [0, P - 1]; mutation_rate in
  [0, 1].
* Nelder–Mead: maxiter >= 0 (maxiter = 0 returns the initial simplex's best vertex).
"""

import math

import numpy as np
import pytest

import minigrad as mg
from optimizers.zero_order.cmaes import CMAESState, cma_parameters, cmaes
from optimizers.zero_order.evolution import OnePlusOneES, one_fifth_trial, one_plus_one_es
from optimizers.zero_order.genetic import GeneticAlgorithm, Population, genetic_algorithm
from optimizers.zero_order.nelder_mead import nelder_mead
from test_zo_pins import _table1  # Hansen's Table 1, written out once


def sphere(x):
    return float((x * x).sum())


# --------------------------------------------------------------------------- CMA-ES parameters
@pytest.mark.parametrize("N, lam", [(2, 40), (3, 50), (2, 6)])
def test_cma_parameters_d_sigma_is_table_1s_formula(N, lam):
    """d_sigma = 1 + 2 max(0, sqrt((mu_eff - 1) / (N + 1)) - 1) + c_sigma. For N = 2,
    lambda = 40 (mu_eff = 11.31) and N = 3, lambda = 50 (mu_eff = 13.95) the square root is
    about 1.85 and 1.80, so the max term is positive; for N = 2, lambda = 6 it is 0 and
    d_sigma = 1 + c_sigma."""
    mu_eff, c_s, _, _ = _table1(N, lam)
    root = math.sqrt((mu_eff - 1.0) / (N + 1.0))
    expected = 1.0 + 2.0 * max(0.0, root - 1.0) + c_s
    if lam > 6:
        assert root > 1.7
    else:
        assert expected == 1.0 + c_s
    assert cma_parameters(N, lam)["d_sigma"] == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("factor, h1", [(0.95, 1.0), (1.05, 0.0)])
def test_cmaes_h_sigma_at_the_first_generation(factor, h1):
    """After generation g = 0 (C kept at I, N = 2, lambda = 6, every step y_k = v, so
    <y>_w = v): p_sigma = k_s v (k_s = sqrt(c_s (2 - c_s) mu_eff)), and the h_sigma test
    ||p_sigma|| / sqrt(1 - (1 - c_s)^2) = sqrt(mu_eff) |v| < T = (1.4 + 2/3) E||N(0, I)||.
    |v| is chosen so that this is factor * T, just below T (h_sigma = 1) or just above
    (h_sigma = 0); then p_c = h_sigma k_c v (k_c = sqrt(c_c (2 - c_c) mu_eff))."""
    N, lam = 2, 6
    mu_eff, c_s, c_c, chi = _table1(N, lam)
    T = (1.4 + 2.0 / (N + 1.0)) * chi
    norm_v = factor * T / math.sqrt(mu_eff)
    v = np.array([0.6 * norm_v, 0.8 * norm_v])
    state = CMAESState(np.zeros(N), 0.5, adapt_covariance=False)
    assert state.par["lam"] == lam
    state.tell(np.tile(v, (lam, 1)), [float(i) for i in range(lam)])
    k_s = math.sqrt(c_s * (2.0 - c_s) * mu_eff)
    np.testing.assert_allclose(state.p_sigma, k_s * v, rtol=1e-12, atol=0)
    ratio = float(np.linalg.norm(state.p_sigma)) / math.sqrt(1.0 - (1.0 - c_s) ** 2)
    assert ratio == pytest.approx(factor * T, rel=1e-12)
    k_c = math.sqrt(c_c * (2.0 - c_c) * mu_eff)
    np.testing.assert_allclose(state.p_c, h1 * k_c * v, rtol=1e-12, atol=1e-300)


# --------------------------------------------------------------------------- CMA-ES defaults
def test_cmaes_default_tolx_is_1e_11():
    """With C kept at I the tolx test is sigma < tolx. On the sphere (tolfun = 0 disables the
    TolFun stop) the default run is the run with tolx = 1e-11 written out; it stops by tolx
    with sigma < 1e-11, and the same run cut one generation earlier still has sigma >= 1e-11."""
    x0 = np.ones(2)
    kw = dict(tolfun=0.0, adapt_covariance=False)
    res = cmaes(sphere, x0, **kw)
    explicit = cmaes(sphere, x0, tolx=1e-11, **kw)
    assert "tolx" in res.message and res.status == 0
    assert (res.nit, res.nfev, res.sigma) == (explicit.nit, explicit.nfev, explicit.sigma)
    assert res.sigma < 1e-11
    lam = cma_parameters(2)["lam"]
    earlier = cmaes(sphere, x0, maxfev=(res.nit - 1) * lam, **kw)
    assert earlier.nit == res.nit - 1 and earlier.status == 1
    assert earlier.sigma >= 1e-11


def test_cmaes_default_seed_is_0():
    """cmaes without a seed samples as with seed=0 (same points, values and counters), and
    differently from seed=1."""
    x0 = np.array([1.0, -0.5, 2.0])
    runs = [cmaes(sphere, x0, maxfev=70, **kw) for kw in ({}, dict(seed=0), dict(seed=1))]
    np.testing.assert_array_equal(mg.to_numpy(runs[0].x), mg.to_numpy(runs[1].x))
    np.testing.assert_array_equal(runs[0].xmean, runs[1].xmean)
    assert (runs[0].fun, runs[0].nfev, runs[0].sigma) == (runs[1].fun, runs[1].nfev, runs[1].sigma)
    assert not np.array_equal(runs[2].xmean, runs[1].xmean)


def test_cmaes_ftarget_inf_is_reached_before_any_generation():
    """ftarget is reached when the best value seen is <= ftarget; before the first generation
    the best value is inf, so ftarget = inf stops the run at once: no generation, no
    evaluation, status 0, x = x0."""
    calls = []

    def f(x):
        calls.append(1)
        return sphere(x)

    x0 = np.array([1.0, 2.0])
    res = cmaes(f, x0, ftarget=math.inf)
    assert (res.nit, res.nfev, len(calls)) == (0, 0, 0)
    assert res.status == 0 and res.success and "ftarget" in res.message
    np.testing.assert_array_equal(mg.to_numpy(res.x), x0)


# --------------------------------------------------------------------------- (1+1)-ES
def test_one_fifth_trial_point_is_x_plus_sigma_z():
    """The trial point is y = x + sigma z with z = rng.standard_normal(n) (NumPy's generator,
    seed 3); a better y is accepted and returned."""
    x = np.array([1.0, -2.0, 0.5])
    sigma = 0.25
    z = np.random.default_rng(3).standard_normal(3)
    seen = []

    def f(y):
        seen.append(y.copy())
        return -1.0                                  # every trial succeeds against fx = 0

    y, fy, _, ok = one_fifth_trial(f, x, 0.0, sigma, np.random.default_rng(3), 2.0)
    assert ok and fy == -1.0
    np.testing.assert_allclose(seen[0], x + sigma * z, rtol=1e-15, atol=0)
    np.testing.assert_allclose(y, x + sigma * z, rtol=1e-15, atol=0)


def test_one_plus_one_es_success_rate_counts_successes_over_trials():
    """maxfev = 11: the start and 10 trials. On a constant f every trial succeeds
    (f(y) <= f(x)): success_rate = 10/10 = 1. With f = 0 at x0 and 1 elsewhere no trial
    succeeds: success_rate = 0/10 = 0."""
    x0 = np.array([0.3, -0.7])
    res = one_plus_one_es(lambda x: 2.0, x0, maxfev=11)
    assert (res.nit, res.nfev) == (10, 11)
    assert res.success_rate == 1.0
    res = one_plus_one_es(lambda x: 0.0 if np.array_equal(x, x0) else 1.0, x0, maxfev=11)
    assert (res.nit, res.nfev) == (10, 11)
    assert res.success_rate == 0.0


def test_one_plus_one_es_ftarget_equal_to_the_start_value_is_reached():
    """ftarget is reached when f <= ftarget: with ftarget = f(x0) = 3 the run stops after the
    start's evaluation (nit 0, nfev 1, status 0)."""
    x0 = np.array([1.0, 1.0, 1.0])
    res = one_plus_one_es(sphere, x0, ftarget=3.0)
    assert (res.nit, res.nfev) == (0, 1)
    assert res.status == 0 and res.fun == 3.0


def test_one_plus_one_es_optimizer_accepts_any_positive_damping():
    """damping must be > 0: 0.5 is accepted and used (the first step's trial succeeds, which
    multiplies sigma by exp((1 - 0.2) / 0.5) = exp(1.6)); 0 is refused."""
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = OnePlusOneES([x], sigma0=0.5, damping=0.5)
    values = iter([1.0, 0.0])                        # the start, then a better trial
    assert opt.step(lambda: next(values)) == 0.0
    assert opt.param_groups[0]["damping"] == 0.5
    assert float(opt.vstate["sigma"]) == pytest.approx(0.5 * math.exp(1.6), rel=1e-14)
    with pytest.raises(ValueError, match="damping"):
        OnePlusOneES([mg.Tensor(np.ones(2), requires_grad=True)], damping=0.0)


# --------------------------------------------------------------------------- genetic algorithm
def test_population_defaults_are_the_documented_ones():
    """A Population built without options has e = 2, k = 3, p_c = 0.9, alpha = 0.5, p_m = 1/n,
    sigma_m = 0.1, beta = 0.98 (module docstring), and its generation draws exactly as the one
    with those values written out."""
    rng0 = np.random.default_rng(5)
    X = rng0.standard_normal((8, 3))
    fvals = [sphere(X[i]) for i in range(8)]
    pop = Population(X.copy(), fvals)
    assert (pop.elitism, pop.tournament, pop.crossover, pop.alpha) == (2, 3, 0.9, 0.5)
    assert pop.mutation_rate == 1.0 / 3
    assert (pop.mutation_scale, pop.mutation_decay, pop.g) == (0.1, 0.98, 0)
    explicit = Population(X.copy(), fvals, elitism=2, tournament=3, crossover=0.9, alpha=0.5,
                          mutation_rate=1.0 / 3, mutation_scale=0.1, mutation_decay=0.98)
    for p in (pop, explicit):
        rng = np.random.default_rng(11)
        for _ in range(3):
            p.generation(sphere, rng)
    np.testing.assert_array_equal(pop.X, explicit.X)
    assert pop.fvals == explicit.fvals


def test_genetic_algorithm_elitism_may_be_popsize_minus_1():
    """elitism lies in [0, P - 1]: with P = 5 and e = 4 each generation costs P - e = 1
    evaluation (nfev = 5 + 3 after 3 generations); e = 5 is refused."""
    res = genetic_algorithm(sphere, np.array([1.0, 2.0]), popsize=5, elitism=4, maxgen=3)
    assert (res.nit, res.nfev) == (3, 8)
    with pytest.raises(ValueError, match="elitism"):
        genetic_algorithm(sphere, np.array([1.0, 2.0]), popsize=5, elitism=5, maxgen=3)


def test_genetic_algorithm_mutation_rate_lies_in_0_1():
    """mutation_rate = 1 (every gene mutates) is accepted, anything above 1 is refused."""
    res = genetic_algorithm(sphere, np.array([1.0, 2.0]), popsize=4, maxgen=2,
                            mutation_rate=1.0)
    assert res.nit == 2
    for bad in (1.5, 1.0 + 2.0 ** -52):
        with pytest.raises(ValueError, match="mutation_rate"):
            genetic_algorithm(sphere, np.array([1.0, 2.0]), popsize=4, maxgen=2,
                              mutation_rate=bad)


def test_genetic_algorithm_optimizer_mutation_rate_lies_in_0_1():
    """The optimizer accepts mutation_rate = 1 and refuses anything above 1."""
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = GeneticAlgorithm([x], popsize=4, mutation_rate=1.0)
    assert opt.param_groups[0]["mutation_rate"] == 1.0
    for bad in (1.5, 1.0 + 2.0 ** -52):
        with pytest.raises(ValueError, match="mutation_rate"):
            GeneticAlgorithm([mg.Tensor(np.ones(2), requires_grad=True)], mutation_rate=bad)


# --------------------------------------------------------------------------- Nelder–Mead
def test_nelder_mead_maxiter_0_returns_the_initial_simplex():
    """maxiter >= 0: maxiter = 0 builds the initial simplex (n + 1 = 3 evaluations), makes no
    iteration and stops with status 1; its best vertex is x0 = (0, 0) on the sphere (Pfeffer's
    other vertices move one coordinate of x0 off 0). maxiter = -1 is refused."""
    res = nelder_mead(sphere, np.zeros(2), maxiter=0)
    assert (res.nit, res.nfev, res.status) == (0, 3, 1)
    assert "maxiter" in res.message
    np.testing.assert_array_equal(mg.to_numpy(res.x), np.zeros(2))
    with pytest.raises(ValueError, match="maxiter"):
        nelder_mead(sphere, np.zeros(2), maxiter=-1)
