"""The (1+1)-ES with the 1/5 success rule and the genetic algorithm (optimizers.zero_order).

Budgets ("reached": f <= 1e-10 for the ES, 1e-6 for the GA, whose BLX crossover and decaying
mutation settle more slowly) are about twice what runs of this implementation need
(ES: 175 / 460 / 870 evaluations on the sphere in 2 / 5 / 10 dimensions; GA: 1630 / 2930 / 5190).
Each comes with a broken variant that fails the same check: no step-size adaptation for the ES,
no selection pressure (tournament of one: random parents) for the GA.
"""
import math

import numpy as np
import pytest

from optimizers.zero_order.evolution import one_fifth_trial, one_plus_one_es
from optimizers.zero_order.genetic import Population, genetic_algorithm


def sphere(x):
    return (x * x).sum()


ES_BUDGET = {2: 400, 5: 1000, 10: 2000}
GA_BUDGET = {2: 3500, 5: 6000, 10: 11000}


@pytest.mark.parametrize("n", sorted(ES_BUDGET))
def test_one_plus_one_es_reaches_the_sphere_minimum_within_budget(n):
    res = one_plus_one_es(sphere, np.ones(n), sigma0=0.5, ftarget=1e-10, maxfev=ES_BUDGET[n])
    assert res.success and res.fun <= 1e-10 and res.nfev <= ES_BUDGET[n]
    assert 0.05 < res.success_rate < 0.35      # the rule keeps it near 1/5


@pytest.mark.parametrize("n", [5, 10])
def test_companion_es_without_the_one_fifth_rule_fails(n):
    res = one_plus_one_es(sphere, np.ones(n), sigma0=0.5, ftarget=1e-10, maxfev=ES_BUDGET[n],
                          adapt=False)
    assert not res.success and res.fun > 1e-10


def test_one_fifth_rule_by_hand():
    """sigma <- sigma exp((1[success] - 1/5) / D): x exp(0.8/D) after a success,
    x exp(-0.2/D) after a failure; the parent changes only on success (f(y) <= f(x))."""
    rng = np.random.default_rng(0)
    x, D = np.zeros(3), 2.0
    y, fy, s, ok = one_fifth_trial(lambda v: -1.0, x, 0.0, 1.0, rng, D)
    assert ok and s == pytest.approx(math.exp(0.4)) and fy == -1.0 and not np.array_equal(y, x)
    y, fy, s, ok = one_fifth_trial(lambda v: 1.0, x, 0.0, 1.0, rng, D)
    assert not ok and s == pytest.approx(math.exp(-0.1)) and fy == 0.0 and y is x
    # five trials, one success: sigma back where it started
    s = 1.0
    for value in (-1.0, 1.0, 1.0, 1.0, 1.0):
        _, _, s, _ = one_fifth_trial(lambda v, c=value: c, x, 0.0, s, rng, D)
    assert s == pytest.approx(1.0)


@pytest.mark.slow
@pytest.mark.parametrize("n", sorted(GA_BUDGET))
def test_genetic_algorithm_reaches_the_sphere_minimum_within_budget(n):
    res = genetic_algorithm(sphere, np.ones(n), ftarget=1e-6, maxgen=10 ** 4,
                            maxfev=GA_BUDGET[n])
    assert res.success and res.fun <= 1e-6 and res.nfev <= GA_BUDGET[n]


@pytest.mark.slow
@pytest.mark.parametrize("n", [5, 10])
def test_companion_ga_without_selection_pressure_fails(n):
    res = genetic_algorithm(sphere, np.ones(n), ftarget=1e-6, maxgen=10 ** 4,
                            maxfev=GA_BUDGET[n], tournament=1)
    assert not res.success and res.fun > 1e-6


def test_ga_operators():
    rng = np.random.default_rng(0)
    X = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, -1.0], [5.0, 5.0]])
    fvals = [4.0, 1.0, 3.0, 2.0]
    pop = Population(X, fvals, elitism=1, tournament=4, crossover=1.0, alpha=0.5,
                     mutation_rate=0.0)
    # a tournament: k = 4 individuals drawn uniformly (with replacement); the best one wins
    mirror = np.random.default_rng(0)
    for _ in range(20):
        drawn = mirror.integers(0, 4, size=4)
        assert pop._select(rng) == min(drawn, key=lambda j: fvals[j])
    rng = np.random.default_rng(0)
    calls = []
    pop.generation(lambda v: calls.append(1) or float(v @ v), rng)
    assert len(calls) == 3                         # P - e evaluations
    np.testing.assert_array_equal(pop.X[0], [1.0, 2.0])   # elitism: the best passes unchanged
    assert pop.fvals[0] == 1.0


def test_blx_children_lie_in_the_extended_box():
    """c_j ~ U[min - alpha d, max + alpha d], d = |a_j - b_j|."""
    rng = np.random.default_rng(1)
    X = np.array([[0.0, 10.0], [1.0, 14.0]])
    pop = Population(X, [0.0, 0.0], elitism=0, tournament=1, crossover=1.0, alpha=0.5,
                     mutation_rate=0.0)
    kids = []
    for _ in range(200):
        pop.X, pop.fvals = X.copy(), [0.0, 0.0]
        pop.generation(lambda v: 0.0, rng)
        kids.append(pop.X)
    kids = np.concatenate(kids)
    # pairs (0,1): box [-0.5, 1.5] x [8, 16]; same-parent pairs give the parent itself
    assert kids[:, 0].min() >= -0.5 and kids[:, 0].max() <= 1.5
    assert kids[:, 1].min() >= 8.0 and kids[:, 1].max() <= 16.0
    assert kids[:, 0].min() < -0.3 and kids[:, 0].max() > 1.3       # the box is used


def test_best_value_never_gets_worse_with_elitism():
    bests = []
    genetic_algorithm(sphere, np.ones(4), maxgen=30, seed=2,
                      callback=lambda x: bests.append(float(x @ x)))
    assert all(b <= a for a, b in zip(bests, bests[1:]))
