"""Line searches (optimizers.line_search): Armijo backtracking and the strong Wolfe search.

The conditions are checked here from their definitions (N&W eqs. 3.6-3.7), independently of the
code: sufficient decrease phi(a) <= phi(0) + c1 a phi'(0) and strong curvature
|phi'(a)| <= c2 |phi'(0)|. The scalar test functions:
phi(s) = -s - s^3 + s^4, exp(-4 s) + s^2 and -sin(10 s), plus random quadratics.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from optimizers.line_search import (Objective, armijo_backtracking, line_search_armijo,
                                    line_search_wolfe, strong_wolfe)

FUNCTIONS = {
    "quartic": (lambda s: -s - s ** 3 + s ** 4, lambda s: -1.0 - 3 * s ** 2 + 4 * s ** 3),
    "exp": (lambda s: math.exp(-4 * s) + s ** 2, lambda s: -4 * math.exp(-4 * s) + 2 * s),
    "sin": (lambda s: -math.sin(10 * s), lambda s: -10 * math.cos(10 * s)),
}
ALPHA0 = [1e-3, 0.1, 1.0, 10.0, 100.0]
C2 = [0.9, 0.5, 0.1, 0.01]


def armijo_holds(phi, dphi, a, c1=1e-4):
    return phi(a) <= phi(0.0) + c1 * a * dphi(0.0)


def strong_wolfe_holds(phi, dphi, a, c1=1e-4, c2=0.9):
    return armijo_holds(phi, dphi, a, c1) and abs(dphi(a)) <= c2 * abs(dphi(0.0))


class Counted:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, a):
        self.calls += 1
        return self.fn(a)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("alpha0", ALPHA0)
@pytest.mark.parametrize("c2", C2)
def test_strong_wolfe_satisfies_both_conditions_on_the_scalar_functions(name, alpha0, c2):
    phi, dphi = FUNCTIONS[name]
    cp, cd = Counted(phi), Counted(dphi)
    res = strong_wolfe(cp, cd, alpha0=alpha0, c1=1e-4, c2=c2)
    assert res.success and res.status == 0
    assert res.alpha > 0.0
    assert strong_wolfe_holds(phi, dphi, res.alpha, 1e-4, c2), (res.alpha, res.message)
    assert res.phi == phi(res.alpha) and res.derphi == dphi(res.alpha)
    assert (res.nfev, res.njev) == (cp.calls, cd.calls)   # every call counted, nothing more
    assert res.nfev <= 20


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("alpha0", ALPHA0)
@pytest.mark.parametrize("interpolation", [True, False])
def test_armijo_satisfies_sufficient_decrease_on_the_scalar_functions(name, alpha0,
                                                                      interpolation):
    phi, dphi = FUNCTIONS[name]
    cp = Counted(phi)
    res = armijo_backtracking(cp, phi(0.0), dphi(0.0), alpha0=alpha0,
                              interpolation=interpolation)
    assert res.success and 0.0 < res.alpha <= alpha0
    assert armijo_holds(phi, dphi, res.alpha)
    assert res.nfev == cp.calls and res.njev == 0


def test_armijo_halving_gives_powers_of_rho_and_stops_at_the_first_acceptable_one():
    phi, dphi = FUNCTIONS["exp"]
    res = armijo_backtracking(phi, phi(0.0), dphi(0.0), alpha0=100.0, rho=0.5,
                              interpolation=False)
    j = round(math.log2(100.0 / res.alpha))
    assert res.alpha == 100.0 * 0.5 ** j
    assert armijo_holds(phi, dphi, res.alpha) and not armijo_holds(phi, dphi, 2 * res.alpha)
    assert res.nfev == j + 1


def test_a_broken_search_fails_the_same_checks():
    """The condition checks above can fail: accepting alpha0 unchecked violates them."""
    bad = 0
    for name, (phi, dphi) in FUNCTIONS.items():
        for alpha0 in ALPHA0:
            bad += not strong_wolfe_holds(phi, dphi, alpha0)
    assert bad >= 8


@settings(deadline=None, derandomize=True, max_examples=60)
@given(curv=st.floats(1e-3, 1e3), slope=st.floats(-1e3, -1e-3),
       alpha0=st.floats(1e-4, 1e4), c2=st.sampled_from(C2))
def test_both_searches_on_random_scalar_quadratics(curv, slope, alpha0, c2):
    phi = lambda a: 0.5 * curv * a * a + slope * a + 3.0  # noqa: E731
    dphi = lambda a: curv * a + slope  # noqa: E731
    res = strong_wolfe(phi, dphi, alpha0=alpha0, c2=c2)
    assert res.success and strong_wolfe_holds(phi, dphi, res.alpha, c2=c2)
    res = armijo_backtracking(phi, phi(0.0), dphi(0.0), alpha0=alpha0)
    assert res.success and armijo_holds(phi, dphi, res.alpha)


@settings(deadline=None, derandomize=True, max_examples=25)
@given(seed=st.integers(0, 10 ** 6), n=st.integers(2, 12), log_cond=st.floats(0.0, 4.0))
def test_both_searches_along_random_quadratics_in_n_dimensions(seed, n, log_cond):
    """f(x) = 1/2 x^T A x - b^T x with a random spectrum in [1, 10^log_cond], from a random point,
    along -grad f; the new point, value and gradient returned agree with the closed form."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.logspace(0.0, log_cond, n)) @ Q.T
    b = rng.standard_normal(n)

    def fun(x):
        return 0.5 * (x @ (mg.Tensor(A) @ x)) - mg.Tensor(b) @ x

    x = rng.standard_normal(n) * 3
    xd = mg.backend.asarray(x)  # the search on the backend of fun's Tensors
    obj = Objective(fun, xd)
    f0, g0 = obj.fg(xd)
    np.testing.assert_allclose(mg.to_numpy(g0), A @ x - b, rtol=1e-10, atol=1e-12)
    pd = -g0
    p = mg.to_numpy(pd)  # on the host, for the closed forms
    phi = lambda a: 0.5 * (x + a * p) @ A @ (x + a * p) - b @ (x + a * p)  # noqa: E731
    dphi = lambda a: (A @ (x + a * p) - b) @ p  # noqa: E731
    res = line_search_wolfe(obj, xd, pd, f0, g0)
    assert res.success and strong_wolfe_holds(phi, dphi, res.alpha)
    np.testing.assert_allclose(mg.to_numpy(res.x), x + res.alpha * p, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mg.to_numpy(res.g), A @ mg.to_numpy(res.x) - b, rtol=1e-10,
                               atol=1e-10)
    assert res.f == pytest.approx(phi(res.alpha), rel=1e-12, abs=1e-12)
    assert res.nfev == res.njev            # minigrad gives f and the gradient together
    res = line_search_armijo(obj, xd, pd, f0, g0)
    assert res.success and armijo_holds(phi, dphi, res.alpha) and res.njev == 0


# --------------------------------------------------------------------------- non-finite values
def _blows_up(limit):
    """(s - 1)^2 for s < limit, NaN (an overflow, say) beyond: the minimiser s = 1 is inside."""
    phi = lambda s: (s - 1.0) ** 2 if s < limit else math.nan  # noqa: E731
    dphi = lambda s: 2.0 * (s - 1.0) if s < limit else math.nan  # noqa: E731
    return phi, dphi


@pytest.mark.parametrize("value", [math.nan, math.inf])
@pytest.mark.parametrize("alpha0", [3.0, 50.0, 1e6])
def test_non_finite_trial_values_shrink_the_step_and_are_never_accepted(value, alpha0):
    phi_nan, dphi_nan = _blows_up(2.5)
    phi = lambda s: phi_nan(s) if s < 2.5 else value  # noqa: E731
    dphi = lambda s: dphi_nan(s) if s < 2.5 else value  # noqa: E731
    for res in (strong_wolfe(phi, dphi, alpha0=alpha0),
                armijo_backtracking(phi, phi(0.0), dphi(0.0), alpha0=alpha0),
                armijo_backtracking(phi, phi(0.0), dphi(0.0), alpha0=alpha0,
                                    interpolation=False)):
        assert res.success, res.message
        assert res.alpha < 2.5 and math.isfinite(res.phi)
        assert armijo_holds(phi, dphi, res.alpha)


def test_failures_return_a_status_and_the_best_point_not_an_exception():
    # not a descent direction
    res = strong_wolfe(lambda a: a, lambda a: 1.0, alpha0=1.0)
    assert res.status == 4 and not res.success and res.alpha == 0.0
    res = armijo_backtracking(lambda a: a, 0.0, 1.0)
    assert res.status == 4 and res.alpha == 0.0
    # unbounded below: the bracketing phase extrapolates (x10 per trial on a line, which no cubic
    # models) until its budget is spent; the best point is the last (lowest) one
    res = strong_wolfe(lambda a: -a, lambda a: -1.0, alpha0=1.0, maxiter=10)
    assert res.status == 1 and not res.success and res.alpha == 1e9 and res.phi == -1e9
    # a value that never decreases (f and gradient disagree): no acceptable step, alpha = 0
    res = strong_wolfe(lambda a: 0.0, lambda a: -1.0, alpha0=1.0)
    assert not res.success and res.status in (1, 2) and res.alpha == 0.0 and res.phi == 0.0
    res = armijo_backtracking(lambda a: 0.0, 0.0, -1.0, maxiter=30)
    assert not res.success and res.alpha == 0.0
    # NaN everywhere: the best point stays alpha = 0
    res = strong_wolfe(lambda a: math.nan if a > 0 else 1.0, lambda a: -1.0, alpha0=1.0)
    assert not res.success and res.alpha == 0.0 and res.phi == 1.0


@pytest.mark.parametrize("c1,c2", [(0.0, 0.9), (0.9, 0.1), (0.5, 0.5), (1e-4, 1.0), (-1, 0.5)])
def test_wolfe_constants_must_satisfy_0_lt_c1_lt_c2_lt_1(c1, c2):
    phi, dphi = FUNCTIONS["exp"]
    with pytest.raises(ValueError, match="c1"):
        strong_wolfe(phi, dphi, c1=c1, c2=c2)


def test_defaults_are_c1_1e_4_and_c2_0_9():
    """With c2 = 0.9 the first trial of the exp function (alpha = 0.1) is accepted; with
    c2 = 0.5 it is not; both with c1 = 1e-4."""
    phi, dphi = FUNCTIONS["exp"]
    assert strong_wolfe_holds(phi, dphi, 0.1, 1e-4, 0.9)
    assert not strong_wolfe_holds(phi, dphi, 0.1, 1e-4, 0.5)
    assert strong_wolfe(phi, dphi, alpha0=0.1).alpha == 0.1
    assert strong_wolfe(phi, dphi, alpha0=0.1, c2=0.5).alpha != 0.1


def test_calls_along_an_objective_are_counted_as_f_and_gradient_evaluations():
    def fun(x):
        return (x * x).sum()

    def jac(x):
        return 2.0 * x

    x = np.array([1.0, -2.0])
    for jac_, same in ((None, True), (jac, False)):
        obj = Objective(fun if jac_ is None else (lambda v: float(v @ v)), x, jac=jac_)
        f0, g0 = obj.fg(x)
        n0, j0 = obj.nfev, obj.njev
        res = line_search_wolfe(obj, x, -g0 * 10.0, f0, g0)   # overshoots, needs a zoom
        assert res.success
        assert (res.nfev, res.njev) == (obj.nfev - n0, obj.njev - j0)
        assert (res.nfev == res.njev) is same
