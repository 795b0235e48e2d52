"""Nelder–Mead's evaluation budget: ``nfev`` never exceeds ``maxfev``.

As in SciPy, an iteration that would need an evaluation past the budget is left unfinished: the
result is the simplex of the completed iterations, which must be the simplex of the same run
capped by iterations alone (``maxiter = nit``), except where the unfinished iteration was a
shrink; a shrink moves each vertex only together with its new value, so that even then every
vertex carries its own f (a hand-made case). The oracle for the counts is a counter around f.
"""
import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import minimize
from optimizers.zero_order.nelder_mead import nelder_mead

X0 = np.array([-1.2, 1.0])


def rosen(x):
    x = mg.to_numpy(x)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def _run(maxfev=10 ** 6, maxiter=10 ** 6):
    calls = []

    def f(x):
        calls.append(1)
        return rosen(x)

    res = nelder_mead(f, X0, maxfev=maxfev, maxiter=maxiter, xatol=0.0, fatol=0.0)
    return res, len(calls)


def test_maxfev_is_never_exceeded_and_the_completed_iterations_are_kept():
    for maxfev in range(3, 160):
        res, calls = _run(maxfev=maxfev)
        assert calls == res.nfev <= maxfev, (maxfev, calls, res.nfev)
        assert res.status == 1 and "maxfev" in res.message
        sim, fsim = res.final_simplex
        for vertex, value in zip(mg.to_numpy(sim), fsim):
            assert value == rosen(vertex)           # every vertex carries its own value
        assert fsim == sorted(fsim) and res.fun == fsim[0]
        ref, _ = _run(maxiter=res.nit)             # the same completed iterations, no budget
        # (no shrink happens on this run: the unfinished iteration changes nothing)
        np.testing.assert_array_equal(mg.to_numpy(ref.final_simplex[0]), mg.to_numpy(sim))
        assert ref.fun == res.fun and ref.nfev <= res.nfev


def test_a_shrink_cut_by_the_budget_leaves_every_vertex_with_its_own_value():
    """f by hand (every other point 1): the simplex (0,0), (1,0), (0,1) has the values 0, 0.5, 1;
    the reflection (1,-1) and the inside contraction (1/4, 1/2) both give 1, so the iteration is
    a shrink to (0,0), (1/2,0), (0,1/2), where f is 1 and 2. With maxfev = 6 the budget ends after
    the first shrunk vertex: that one has moved with its value, the other has not moved (moved
    first and evaluated after, it would sit at (0,1/2) with the value 1 of (0,1))."""
    table = {(0.0, 0.0): 0.0, (1.0, 0.0): 0.5, (0.0, 0.5): 2.0}

    def f(v):
        return table.get(tuple(float(c) for c in mg.to_numpy(v)), 1.0)

    sim0 = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    full = nelder_mead(f, sim0[0], initial_simplex=sim0, maxiter=1, xatol=0.0, fatol=0.0)
    np.testing.assert_array_equal(mg.to_numpy(full.final_simplex[0]),
                                  [[0.0, 0.0], [0.5, 0.0], [0.0, 0.5]])
    assert full.final_simplex[1] == [0.0, 1.0, 2.0] and full.nfev == 7
    cut = nelder_mead(f, sim0[0], initial_simplex=sim0, maxfev=6, xatol=0.0, fatol=0.0)
    assert cut.nfev == 6 and cut.nit == 0 and "maxfev" in cut.message
    sim, fsim = cut.final_simplex
    np.testing.assert_array_equal(mg.to_numpy(sim), [[0.0, 0.0], [0.5, 0.0], [0.0, 1.0]])
    assert fsim == [0.0, 1.0, 1.0]
    assert [f(v) for v in sim] == fsim


def test_a_cut_shrink_that_found_a_better_vertex_returns_it_first():
    """As above with f(1/2, 0) = -1: the one vertex the cut shrink moved is now the best, so the
    simplex is sorted again and the result is that vertex."""
    table = {(0.0, 0.0): 0.0, (1.0, 0.0): 0.5, (0.5, 0.0): -1.0, (0.0, 0.5): 2.0}

    def f(v):
        return table.get(tuple(float(c) for c in mg.to_numpy(v)), 1.0)

    sim0 = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    cut = nelder_mead(f, sim0[0], initial_simplex=sim0, maxfev=6, xatol=0.0, fatol=0.0)
    sim, fsim = cut.final_simplex
    assert cut.fun == -1.0 and fsim == [-1.0, 0.0, 1.0]
    np.testing.assert_array_equal(mg.to_numpy(cut.x), [0.5, 0.0])
    np.testing.assert_array_equal(mg.to_numpy(sim), [[0.5, 0.0], [0.0, 0.0], [0.0, 1.0]])


def test_the_budget_must_hold_the_initial_simplex():
    with pytest.raises(ValueError, match=r"maxfev must be at least n \+ 1 = 3"):
        nelder_mead(rosen, X0, maxfev=2)
    for bad in (1, 0, -5):
        with pytest.raises(ValueError, match=r"maxfev must be at least n \+ 1 = 3"):
            minimize(rosen, X0, method="nelder-mead", maxfev=bad)
    with pytest.raises(ValueError, match=r"maxfev must be at least n \+ 1 = 3"):
        minimize(rosen, X0, method="nelder-mead", maxfun=2)      # SciPy's name for it
    res, calls = _run(maxfev=3)                      # exactly the initial simplex
    assert res.nit == 0 and calls == res.nfev == 3
