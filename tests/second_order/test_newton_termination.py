"""Newton's stopping tests (optimizers.second_order.termination) and the runs they end.

The formulas are checked on hand-computed values; the runs on functions whose behaviour at
rounding level is known in advance: a scaled exponential whose gradient cannot fall below an
absolute gtol (its rounding floor is far above it), Brown and Dennis's function (MGH 11, a large
minimum value), and a constant f whose claimed gradient says it descends (no step can lower it).
Each run is compared with the same run with the new tests off (gtol_rel = xtol = ftol = 0), so
that a check fails if the test it is about does not fire.
"""
import math

import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import Status, minimize
from optimizers.second_order import termination as T
from problems.mgh import mgh_problem

OFF = dict(gtol_rel=0.0, xtol=0.0, ftol=0.0)
TOL = T.Tolerances(gtol=1e-8, gtol_rel=1e-10, xtol=1e-8, ftol=2.220446049250313e-9)


def host(v):
    return mg.backend.asarray(np.asarray(v, dtype=float))


# --------------------------------------------------------------------------- the formulas
def test_a_non_finite_value_or_gradient_is_status_3():
    assert T.at_iterate(host([1.0]), math.nan, host([0.0]), TOL)[0] == Status.NONFINITE
    assert T.at_iterate(host([1.0]), 1.0, host([math.inf]), TOL)[0] == Status.NONFINITE


def test_the_absolute_gradient_test_is_inclusive():
    """||g||_2 = 1e-8 exactly (g = (6e-9, 8e-9)) stops; 1.0001e-8 does not (f = 1e20, so that
    the relative test cannot fire: 8e-9 * 1 / 1e20)."""
    assert T.at_iterate(host([0.0, 0.0]), 1.0, host([6e-9, 8e-9]), TOL)[0] == Status.SUCCESS
    tol = T.Tolerances(1e-8, 0.0, 0.0, 0.0)
    assert T.at_iterate(host([0.0, 0.0]), 1e20, host([6.0006e-9, 8.0008e-9]), tol) is None


@pytest.mark.parametrize("f, stops", [(1e10, True), (-1e10, True), (1.0, False)])
def test_the_relative_gradient_is_dennis_and_schnabels(f, stops):
    """max_i |g_i| max(|x_i|, 1) / max(|f|, 1) with g = (1e-3, 0), x = (2, 0.5):
    1e-3 * 2 / 1e10 = 2e-13 <= 1e-10 (either sign of f); with f = 1: 2e-3, no stop."""
    got = T.at_iterate(host([2.0, 0.5]), f, host([1e-3, 0.0]), TOL)
    assert (got is not None and got[0] == Status.SUCCESS and "relative gradient" in got[1]) \
        == stops


def test_the_step_test_is_coordinate_by_coordinate():
    """x = (1e-5, 9), s = (1e-12, 0): for x_1, 1e-12 / (1e-8 + 1e-5) ~ 1e-7 > 1e-8, so the run
    goes on, although ||s|| / ||x|| ~ 1e-13 (a test on the norms would stop: x_1 still moves by
    1e-7 of its size). s = (1e-14, 0): 1e-14 / 1.001e-5 ~ 1e-9 stops, with success after a full
    step and status 2 after a shortened one."""
    x = host([1e-5, 9.0])
    assert T.after_step(x, host([1e-12, 0.0]), 1.0, 0.5, True, TOL) is None
    assert 1e-12 / np.linalg.norm([1e-5, 9.0]) <= TOL.xtol      # the norms would have stopped
    full = T.after_step(x, host([1e-14, 0.0]), 1.0, 0.5, True, TOL)
    short = T.after_step(x, host([1e-14, 0.0]), 1.0, 0.5, False, TOL)
    assert full[0] == Status.SUCCESS and "xtol" in full[1]
    assert short[0] == Status.LINE_SEARCH and "xtol" in short[1]


def test_the_decrease_test_is_relative_and_needs_a_decrease():
    """f: 1e5 -> 1e5 - 1e-5 (decrease 1e-5 <= 2.2e-9 * 1e5 = 2.2e-4): success after a full
    step, nothing after a shortened one. f: 2e-9 -> 1e-9 (decrease 1e-9 > 2.2e-9 * 2e-9): goes
    on, where L-BFGS-B's floor max(..., 1) would stop (1e-9 <= 2.2e-9). An increase is never a
    success: status 2 (no decrease), full step or not."""
    s, x = host([1.0]), host([1e3])
    assert T.after_step(x, s, 1e5, 1e5 - 1e-5, True, TOL)[0] == Status.SUCCESS
    assert T.after_step(x, s, 1e5, 1e5 - 1e-5, False, TOL) is None
    assert T.after_step(x, s, 2e-9, 1e-9, True, TOL) is None
    assert 2e-9 - 1e-9 <= TOL.ftol * max(2e-9, 1e-9, 1.0)        # the floor would have stopped
    for full in (True, False):
        got = T.after_step(x, s, 1.0, 1.5, full, TOL)
        assert got[0] == Status.LINE_SEARCH and "no longer decrease" in got[1]


@pytest.mark.parametrize("bad", [-1e-3, True, "1e-8", math.nan])
@pytest.mark.parametrize("name", ["gtol_rel", "xtol", "ftol"])
def test_the_tolerances_are_real_numbers_at_least_zero(name, bad):
    with pytest.raises(ValueError, match=name):
        minimize(lambda x: (x * x).sum(), [1.0], method="newton", **{name: bad})


# --------------------------------------------------------------------------- the runs
A = np.array([3.0, 5.0, 7.0])
S = 1e8


def exp_f(x):
    """f(x) = S sum_i (exp(x_i) - a_i x_i): minimiser ln a, minimum S sum_i a_i (1 - ln a_i)."""
    x = mg.to_numpy(x)
    return S * float(np.sum(np.exp(x) - A * x))


def exp_g(x):
    return mg.backend.asarray(S * (np.exp(mg.to_numpy(x)) - A),
                              backend=mg.backend.backend_name_of(x))


def exp_h(x):
    return mg.backend.asarray(S * np.diag(np.exp(mg.to_numpy(x))),
                              backend=mg.backend.backend_name_of(x))


EXP = dict(method="newton", jac=exp_g, hess=exp_h)


def test_a_large_objective_stops_on_the_relative_gradient():
    """f ~ -1e9 at the minimiser ln a: the gradient S (e^x - a) has a rounding floor of about
    S a eps ~ 1e-7, far above gtol = 1e-8, so the absolute test never fires. The relative one
    does, at a point within 1e-10 (relative) of ln a; without it the run ends only when the line
    search can no longer decrease f (status 2), later."""
    res = minimize(exp_f, [0.0, 0.0, 0.0], **EXP)
    assert res.success and "relative gradient" in res.message and res.nit <= 8
    np.testing.assert_allclose(mg.to_numpy(res.x), np.log(A), rtol=1e-10)
    assert float(np.linalg.norm(mg.to_numpy(res.jac))) > 1e-8   # the absolute test could not
    off = minimize(exp_f, [0.0, 0.0, 0.0], **EXP, **OFF)
    assert off.status == Status.LINE_SEARCH and "no longer decrease" in off.message
    assert off.nit > res.nit


def test_pure_newton_stops_on_the_gradient_alone():
    """Pure Newton (line_search=None) is the lecture's iteration as written: from the minimiser
    itself it makes every one of maxiter = 3 steps (gtol = 0), where the damped form stops."""
    pure = minimize(exp_f, np.log(A), **EXP, line_search=None, gtol=0.0, maxiter=3)
    assert pure.status == Status.MAXITER and pure.nit == 3
    damped = minimize(exp_f, np.log(A), **EXP, gtol=0.0, maxiter=3)
    assert damped.status != Status.MAXITER and damped.nit < 3


@pytest.fixture(scope="module")
def brown_dennis():
    return mgh_problem(11)


def test_a_large_minimum_value_stops_on_the_decrease(brown_dennis):
    """MGH 11 (f* = 85822.2): Newton-CG with the lecture's Armijo search reaches f* within the
    published digits and stops on the relative decrease of a full step in at most 15
    iterations. With the tolerances off it goes on (the gradient's rounding floor is above gtol)
    until a line search can no longer lower f, a failure (status 2), later and dearer."""
    p = brown_dennis
    res = minimize(p.f, p.x0, method="newton", solver="cg", maxiter=25)
    assert res.success and "decrease of f was below ftol" in res.message and res.nit <= 15
    assert res.fun - p.f_star <= p.f_star_rtol * p.f_star
    off = minimize(p.f, p.x0, method="newton", solver="cg", maxiter=25, **OFF)
    assert off.status == Status.LINE_SEARCH and not off.success
    assert off.nit > res.nit and off.nfev > res.nfev


def test_a_step_that_cannot_lower_f_ends_the_run():
    """f = 1 everywhere, but jac says g = 1 and hess H = 1, so d = -1 and phi'(0) = -1. Armijo's
    trials a = 2^-k fail while 1 - 1e-4 a rounds below 1 and pass from the first k where it
    rounds to 1; that step leaves f at 1: "no longer decrease", status 2, after one iteration.
    Evaluations: f and g at x_0, k + 1 trials of f, f and g at x_1."""
    k = next(k for k in range(80) if 1.0 + 1e-4 * 2.0 ** -k * -1.0 == 1.0)
    one = lambda x: mg.get_array_module(x).ones_like(x)   # noqa: E731 (x's backend)
    res = minimize(lambda x: 1.0, [0.0], method="newton", jac=one,
                   hess=lambda x: mg.get_array_module(x).eye(1))
    assert res.status == Status.LINE_SEARCH and "no longer decrease" in res.message
    assert res.nit == 1 and res.alphas == [2.0 ** -k]
    assert (res.nfev, res.njev, res.nhev) == (1 + (k + 1) + 1, 2, 1)
