"""Trust-region Newton-CG (optimizers.second_order.trust_ncg, minimize(method="trust-ncg")).

The user's derivatives here compute on the host (mg.to_numpy) and return host arrays, which
minimize takes onto the run's backend: the same tests run on the strict backend.

Oracles: Steihaug's CG against a dense solve and hand-computed boundary steps; the radius rules
of Nocedal & Wright's Algorithm 4.1 on one-dimensional functions whose ratios rho are computed
by hand in each docstring; a counter around f for the counts; and SciPy 1.17.1's trust-ncg
(minimize(rosen, [-1.2, 1], method="trust-ncg", jac=rosen_der, hessp=rosen_hess_prod,
options={"gtol": 1e-8})), measured: 30 iterations, 31 evaluations, f = 8.628e-25.
"""
import decimal
import fractions
import inspect
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import Status, minimize
from optimizers.second_order import termination
from optimizers.second_order.trust_ncg import _boundary_taus, _lower_boundary_point, steihaug_cg


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def quartic(x):
    return float(x[0] ** 4)


def quartic_grad(x):
    return 4.0 * x ** 3


# ----------------------------------------------------------------------------- Steihaug's CG
def test_steihaug_inside_the_region_is_the_newton_step():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((6, 6))
    B = M @ M.T + 6.0 * np.eye(6)                         # positive definite
    g = rng.standard_normal(6)
    newton = np.linalg.solve(B, -g)
    p, Bp, how, n_products = steihaug_cg(lambda v: B @ v, g, 10.0 * np.linalg.norm(newton),
                                         1e-12, 50)
    assert how == "interior" and n_products <= 7
    np.testing.assert_allclose(p, newton, rtol=1e-9)
    np.testing.assert_allclose(Bp, B @ p, rtol=1e-9)      # accumulated, not recomputed


def test_steihaug_needs_one_product_per_distinct_eigenvalue():
    """CG on B = diag(1, 2, 3) ends in 3 steps in exact arithmetic (3 distinct eigenvalues); in
    floating point the residual after the third is at rounding level, far below eps."""
    B = np.diag([1.0, 2.0, 3.0])
    g = np.array([1.0, -2.0, 0.5])
    p, _, how, n_products = steihaug_cg(lambda v: B @ v, g, 100.0, 1e-10, 10)
    assert how == "interior" and n_products == 3
    np.testing.assert_allclose(p, -g / np.diag(B), rtol=1e-12)


def test_steihaug_with_no_products_left_returns_its_iterate():
    B = np.diag([1.0, 2.0, 3.0])
    g = np.array([1.0, -2.0, 0.5])
    one, _, how, n_products = steihaug_cg(lambda v: B @ v, g, 100.0, 1e-10, 1)
    assert how == "max_iter" and n_products == 1
    np.testing.assert_allclose(one, -(g @ g) / (g @ B @ g) * g, rtol=1e-15)  # one CG step


def test_the_boundary_roots_of_a_point_on_the_boundary_along_a_tangent_are_zero():
    """z on the sphere ||z|| = 1 and d tangent to it: tau^2 ||d||^2 = 0, the double root 0."""
    assert _boundary_taus(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 1.0, np) == (0.0, 0.0)


def test_steihaug_leaving_the_region_at_once_is_the_scaled_steepest_descent_step():
    """The first CG step -(g^T g / g^T B g) g is longer than Delta: p = -Delta g / ||g||."""
    B = np.diag([1.0, 2.0, 3.0])
    g = np.array([3.0, -4.0, 0.0])
    p, Bp, how, n_products = steihaug_cg(lambda v: B @ v, g, 0.5, 1e-12, 10)
    assert how == "boundary" and n_products == 1
    np.testing.assert_allclose(p, -0.5 * g / 5.0, rtol=1e-15)
    np.testing.assert_allclose(Bp, B @ p, rtol=1e-15)


def test_steihaug_negative_curvature_goes_to_the_boundary_root_with_the_lower_model():
    """B = diag(1, -2), g = (1, 1): d_0 = -g has d^T B d = -1. Along tau d the model is
    m = -2 tau - tau^2 / 2; the roots of ||tau d|| = Delta are +-Delta/sqrt(2), and the
    positive one has the lower model value: p = -(Delta/sqrt 2)(1, 1)."""
    B = np.diag([1.0, -2.0])
    g = np.array([1.0, 1.0])
    p, Bp, how, n_products = steihaug_cg(lambda v: B @ v, g, 2.0, 1e-12, 10)
    assert how == "negative curvature" and n_products == 1
    np.testing.assert_allclose(p, -math.sqrt(2.0) * np.ones(2), rtol=1e-15)
    assert np.linalg.norm(p) == pytest.approx(2.0, rel=1e-15)


def test_steihaug_reports_a_non_finite_product():
    B = np.diag([1.0, np.nan])
    p, _, how, n_products = steihaug_cg(lambda v: B @ v, np.ones(2), 1.0, 1e-12, 10)
    assert how == "non-finite" and not p.any() and n_products == 1


def test_cg_stops_at_the_superlinear_forcing_tolerance():
    """f = (x1^2 + 10 x2^2)/2 from x0 = t(1, 1) with ||g_0|| = 1e-3: the first CG step (exact
    steepest descent) leaves ||r_1|| = 0.0899 ||g_0|| = 9.0e-5, above eps_0 = sqrt(||g_0||)
    ||g_0|| = 3.2e-5 (Algorithm 7.1's forcing), so CG takes a second product and lands on the
    Newton step -x0; the linear forcing 0.5 ||g_0|| = 5e-4 would stop after one."""
    A = np.diag([1.0, 10.0])
    t = 1e-3 / math.sqrt(101.0)
    products = []

    def hessp(x, v):
        products.append(1)
        return A @ mg.to_numpy(v)

    def fg(x):
        x = mg.to_numpy(x)
        return 0.5 * float(x @ (A @ x)), A @ x

    res = minimize(fg, [t, t], method="trust-ncg",
                   jac=True, hessp=hessp, maxiter=1)
    assert len(products) == 2 == res.nhev
    np.testing.assert_allclose(mg.to_numpy(res.x), [0.0, 0.0], atol=1e-18)


# ----------------------------------------------------------------------------- Algorithm 4.1
def test_a_step_inside_the_region_keeps_the_radius_even_with_rho_above_three_quarters():
    """f = x^4 at x = 1: g = 4, B = 12, the Newton step -1/3 lies inside Delta = 1; predicted
    decrease 4/3 - 2/3 = 2/3, actual 1 - 16/81 = 65/81, rho = 65/54 > 3/4 but the step is
    not on the boundary: Delta stays 1, the step is taken."""
    res = minimize(quartic, [1.0], method="trust-ncg", jac=quartic_grad,
                   hess=lambda x: np.array([[12.0 * float(x[0]) ** 2]]), maxiter=1)
    assert res.accepted == [True] and res.trust_radii == [1.0] and res.trust_radius == 1.0
    assert mg.to_numpy(res.x)[0] == pytest.approx(2.0 / 3.0, rel=1e-15)
    assert res.negative_curvature == []


def test_a_good_step_on_the_boundary_doubles_the_radius():
    """f = sqrt(1 + x^2) at x = 3: g = 3/sqrt(10), B = 10^{-3/2}; the Newton step (-30) leaves
    Delta = 1, so p = -1: predicted 3/sqrt(10) - 10^{-3/2}/2 = 0.9329, actual sqrt(10) - sqrt(5)
    = 0.9262, rho = 0.993 > 3/4 on the boundary: Delta = 2."""
    res = minimize(lambda x: math.sqrt(1.0 + float(x[0]) ** 2), [3.0], method="trust-ncg",
                   jac=lambda x: mg.to_numpy(x) / np.sqrt(1.0 + mg.to_numpy(x) ** 2),
                   hess=lambda x: np.array([[(1.0 + float(x[0]) ** 2) ** -1.5]]), maxiter=1)
    assert res.accepted == [True] and res.trust_radius == 2.0
    assert mg.to_numpy(res.x)[0] == pytest.approx(2.0, rel=1e-15)


def test_a_bad_model_shrinks_the_radius_and_rejects_the_step():
    """f = x^4 at x = 1 with a wrong Hessian 0.1 and Delta_0 = 2: p = -2 (boundary), predicted
    8 - 0.2 = 7.8, actual f(1) - f(-1) = 0: rho = 0 < 1/4 and <= eta, so Delta = 1/2 and x stays.
    Then p = -1/2: predicted 2 - 0.0125, actual 1 - 1/16, rho = 0.472: taken, Delta kept."""
    res = minimize(quartic, [1.0], method="trust-ncg", jac=quartic_grad,
                   hess=lambda x: np.array([[0.1]]), initial_trust_radius=2.0, maxiter=2)
    assert res.accepted == [False, True] and res.trust_radii == [2.0, 0.5]
    assert res.trust_radius == 0.5 and mg.to_numpy(res.x)[0] == 0.5
    # f at x_0 and at the two trials; the gradient at x_0 and at the accepted point; the
    # Hessian once, at x_0 (both iterations start there)
    assert (res.nit, res.nfev, res.njev, res.nhev) == (2, 3, 2, 1)


def test_a_non_finite_trial_value_is_a_rejected_step():
    """f is NaN beyond |x| > 1.5; from x = 1 the first step (to -1, as above) is fine, but with
    Delta_0 = 4 the trial x = -3 is NaN: rejected, the region shrinks and the run converges."""
    def f(x):
        return float(x[0] ** 4) if abs(float(x[0])) <= 1.5 else math.nan

    res = minimize(f, [1.0], method="trust-ncg", jac=quartic_grad,
                   hess=lambda x: np.array([[0.1]]), initial_trust_radius=4.0)
    assert res.accepted[0] is False and res.trust_radii[1] == 1.0
    assert res.status == Status.SUCCESS and abs(float(mg.to_numpy(res.x)[0])) < 1e-2


def test_a_non_finite_hessian_product_ends_with_status_3():
    res = minimize(quartic, [1.0], method="trust-ncg", jac=quartic_grad,
                   hessp=lambda x, v: v * math.nan)
    assert res.status == Status.NONFINITE and not res.success and res.nit == 0


# ----------------------------------------------------------------------------- runs
def test_rosenbrock_as_scipy_with_the_same_gtol():
    res = minimize(rosen, [-1.2, 1.0], method="trust-ncg")
    assert res.status == Status.SUCCESS
    assert (res.nit, res.nfev) == (30, 31)
    assert float(res.fun) < 1e-20
    np.testing.assert_allclose(mg.to_numpy(res.x), [1.0, 1.0], atol=1e-10)


def test_counts_are_the_calls():
    calls = {"f": 0, "hp": 0}

    def fg(x):
        calls["f"] += 1
        v = mg.to_numpy(x)
        value = float(np.sum(100.0 * (v[1:] - v[:-1] ** 2) ** 2 + (1.0 - v[:-1]) ** 2))
        g = np.array([-400.0 * v[0] * (v[1] - v[0] ** 2) - 2.0 * (1.0 - v[0]),
                      200.0 * (v[1] - v[0] ** 2)])
        return value, g

    def hessp(x, p):
        calls["hp"] += 1
        v = mg.to_numpy(x)
        H = np.array([[1200.0 * v[0] ** 2 - 400.0 * v[1] + 2.0, -400.0 * v[0]],
                      [-400.0 * v[0], 200.0]])
        return H @ mg.to_numpy(p)

    res = minimize(fg, [-1.2, 1.0], method="trust-ncg", jac=True, hessp=hessp)
    assert res.success
    assert res.nfev == res.njev == calls["f"] and res.nhev == calls["hp"]
    assert len(res.trust_radii) == len(res.accepted) == res.nit


def test_negative_curvature_is_met_and_handled():
    """From (-1.2, 1) Rosenbrock's Hessian is indefinite along the way (as SciPy's run)."""
    res = minimize(rosen, [-1.2, 1.0], method="trust-ncg")
    assert res.success and res.negative_curvature


def test_callback_is_called_every_iteration_and_may_stop_the_run():
    seen = []
    res = minimize(rosen, [-1.2, 1.0], method="trust-ncg", callback=lambda xk: seen.append(1))
    assert len(seen) == res.nit and not all(res.accepted)   # rejected iterations included

    def stop(intermediate_result):
        raise StopIteration

    res = minimize(rosen, [-1.2, 1.0], method="trust-ncg", callback=stop)
    assert res.status == 99 and res.nit == 1 and not res.success


@pytest.mark.parametrize("kw,match", [
    ({"eta": 0.25}, "eta"), ({"eta": -0.1}, "eta"),
    ({"initial_trust_radius": 0.0}, "initial_trust_radius"),
    ({"max_trust_radius": 0.0}, r"invalid max_trust_radius=0.0; expected a number in \(0.0"),
    ({"initial_trust_radius": 2.0, "max_trust_radius": 1.0}, "must not exceed"),
    ({"maxiter": -1}, "maxiter"), ({"cg_max_iter": 0}, "cg_max_iter"),
    ({"gtol": -1.0}, "gtol"), ({"bogus": 1}, "unknown option"),
])
def test_bad_options_are_named(kw, match):
    with pytest.raises(ValueError, match=match):
        minimize(rosen, [-1.2, 1.0], method="trust-ncg", **kw)


def test_jac_without_a_hessian_is_refused():
    with pytest.raises(ValueError, match="hessp= or hess="):
        minimize(quartic, [1.0], method="trust-ncg", jac=quartic_grad)


def test_companion_a_tiny_radius_cap_cannot_reach_rosenbrocks_minimum():
    """The radius rules matter: with max_trust_radius = 1e-3 the run cannot get from (-1.2, 1)
    to (1, 1) (a distance of 2.2) in 100 iterations."""
    res = minimize(rosen, [-1.2, 1.0], method="trust-ncg", initial_trust_radius=1e-3,
                   max_trust_radius=1e-3, maxiter=100)
    assert res.status == Status.MAXITER and float(res.fun) > 1.0


def _square(x):
    return float(x[0] ** 2)


def test_a_wrong_gradient_ends_when_the_region_collapses():
    """f = x^2 with the gradient's sign flipped: every step goes uphill (rho < 0), so every one is
    rejected and Delta falls by 4 each time, from 1 until it is below xtol (1 + xtol) = 1e-8:
    4^-13 = 1.5e-8 is not, 4^-14 = 3.7e-9 is, after 14 rejected iterations: status 2."""
    res = minimize(_square, [1.0], method="trust-ncg", jac=lambda x: -2.0 * x,
                   hess=lambda x: np.array([[2.0]]))
    assert res.status == Status.LINE_SEARCH and "trust region shrank" in res.message
    assert res.nit == 14 and not any(res.accepted) and res.trust_radius == 4.0 ** -14
    assert mg.to_numpy(res.x)[0] == 1.0


def test_a_model_that_predicts_no_decrease_ends_the_run():
    """f = x^2 at x = 1e-162 with every tolerance 0: the Newton step -x is found, but the
    predicted decrease x^2 = 1e-324 rounds to 0 (below the smallest subnormal), so the model
    promises nothing: status 2, before any trial."""
    res = minimize(_square, [1e-162], method="trust-ncg", jac=lambda x: 2.0 * x,
                   hess=lambda x: np.array([[2.0]]), gtol=0.0, gtol_rel=0.0, xtol=0.0,
                   ftol=0.0)
    assert res.status == Status.LINE_SEARCH and "predicts no decrease" in res.message
    assert res.nit == 0 and res.nfev == 1


def test_the_boundary_roots_are_computed_without_cancellation():
    """z = (1 - 2^-40, 0) just inside Delta = 1, d = (1, 10^-3): the small root of
    ||z + tau d|| = 1 is about 9.1e-13 (its exact value from the same floats in 60-digit
    decimal arithmetic). The textbook form (-b + sqrt(b^2 - 4ac)) / 2a subtracts two numbers
    near 2 and is off by 1e-6 relatively; the stable form only carries the rounding of
    c = ||z||^2 - Delta^2 (4.5e-13)."""
    z, d = np.array([1.0 - 2.0 ** -40, 0.0]), np.array([1.0, 1e-3])
    decimal.getcontext().prec = 60
    a = sum(fractions.Fraction(v) ** 2 for v in d)
    b = 2 * sum(fractions.Fraction(p) * fractions.Fraction(q) for p, q in zip(z, d))
    c = sum(fractions.Fraction(v) ** 2 for v in z) - 1

    def dec(f):
        return decimal.Decimal(f.numerator) / decimal.Decimal(f.denominator)

    disc = dec(b * b - 4 * a * c).sqrt()
    exact_hi = float((-dec(b) + disc) / (2 * dec(a)))
    exact_lo = float((-dec(b) - disc) / (2 * dec(a)))
    t_lo, t_hi = _boundary_taus(z, d, 1.0, np)
    assert t_hi == pytest.approx(exact_hi, rel=1e-11)
    assert t_lo == pytest.approx(exact_lo, rel=1e-15)


def _quartic_hess(x):
    return np.array([[12.0 * float(x[0]) ** 2]])


def test_the_step_test_ends_a_run_at_its_bound_inclusive():
    """f = x^4 from x = 3/8: the Newton step is -x/3 = -1/8 (inside Delta = 1, rho = 65/54),
    to x = 1/4, and |s| / (xtol + |x|) = (1/8) / (1/4 + 1/4) = 1/4 = xtol exactly (all dyadic):
    the test holds with equality, so the run stops after one iteration."""
    res = minimize(quartic, [0.375], method="trust-ncg", jac=quartic_grad, hess=_quartic_hess,
                   xtol=0.25, gtol=0.0, gtol_rel=0.0, ftol=0.0, maxiter=5)
    assert res.nit == 1 and mg.to_numpy(res.x)[0] == 0.25
    assert res.success and "step was below xtol" in res.message


def test_the_step_test_measures_the_step():
    """f = x^4 from 1 with the gradient tests and ftol off: Newton's steps shrink by 2/3 and the
    run ends on the step test, |s| <= xtol (xtol + |x|) with s = -x_k/3 and x = 2x_k/3, i.e.
    x_k <= about 3e-16: (2/3)^90 = 1.4e-16 after 90 iterations."""
    res = minimize(quartic, [1.0], method="trust-ncg", jac=quartic_grad, hess=_quartic_hess,
                   gtol=0.0, gtol_rel=0.0, ftol=0.0)
    assert res.success and "step was below xtol" in res.message and res.nit == 90
    assert mg.to_numpy(res.x)[0] == pytest.approx((2.0 / 3.0) ** 90, rel=1e-9)


def test_the_start_test_is_a_thousand_times_tighter_on_the_relative_gradient():
    """f = F + x^2 with F = 4e13/3, from x = 1: the relative gradient 2 / F = 1.5e-13 is below
    gtol_rel = 1e-10, and also below 2e-3 gtol_rel, but above 1e-3 gtol_rel, the start test:
    the run takes its Newton step to 0 instead of stopping at x0."""
    res = minimize(lambda x: 4e13 / 3 + float(x[0] ** 2), [1.0], method="trust-ncg",
                   jac=lambda x: 2.0 * x, hess=lambda x: np.array([[2.0]]))
    assert res.nit == 1 and res.success and mg.to_numpy(res.x)[0] == 0.0


def test_a_non_finite_gradient_at_an_accepted_point_is_never_shown_to_the_callback():
    """f = x^2 with a gradient that is NaN below |x| = 1/2: the Newton step from 1 to 0 is
    accepted (f is fine there), its gradient is NaN: status 3 after one iteration, and the
    callback never sees that point."""
    seen = []
    res = minimize(_square, [1.0], method="trust-ncg",
                   jac=lambda x: 2.0 * x if abs(float(x[0])) >= 0.5 else x * math.nan,
                   hess=lambda x: np.array([[2.0]]), callback=lambda xk: seen.append(1))
    assert res.status == Status.NONFINITE and res.nit == 1 and not seen


@pytest.mark.parametrize("f_trial,eta,radius,taken", [
    (0.25, 0.15, 1.0, True),     # rho = 3/4 exactly: not above 3/4, the radius stays
    (0.75, 0.15, 1.0, True),     # rho = 1/4 exactly: not below 1/4, the radius stays
    (0.875, 0.125, 0.25, False),  # rho = eta = 1/8 exactly: not above eta, rejected; shrunk
    (-1.0, 0.15, 2.0, True),     # rho = 2 on the boundary: doubled
])
def test_the_ratio_thresholds_are_strict_as_in_algorithm_4_1(f_trial, eta, radius, taken):
    """A model with g = 1 and B = 0 at x = 1: CG meets zero curvature at once and steps to the
    boundary, p = -Delta = -1, predicting a decrease of exactly 1; f at the trial point 0 is
    chosen, so rho = 1 - f(0) is exact."""
    values = {1.0: 1.0, 0.0: f_trial}

    def f(x):
        return values[float(x[0])]

    res = minimize(f, [1.0], method="trust-ncg", jac=lambda x: np.ones(1),
                   hess=lambda x: np.zeros((1, 1)), eta=eta, maxiter=1)
    assert res.accepted == [taken] and res.trust_radius == radius
    assert mg.to_numpy(res.x)[0] == (0.0 if taken else 1.0)
    assert res.negative_curvature == [0]          # zero curvature counts as negative


def test_with_xtol_zero_the_step_test_is_off_and_divides_nothing():
    """xtol = 0 switches the step test off (as every tolerance of 0): a step to a point with a
    zero coordinate must neither stop the run nor divide by that zero."""
    off = termination.Tolerances(0.0, 0.0, 0.0, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert termination.after_step(np.array([0.0, 1.0]), np.array([1e-300, 0.0]), 1.0, 0.5,
                                      True, off) is None


def test_negative_curvature_after_some_steps_takes_the_root_with_the_lower_model():
    """B = diag(1, 2, -1), g = (0.9, 0.3, -0.1), Delta = 3: CG meets d^T B d <= 0 at its third
    direction, from z_2 != 0. The two boundary points z_2 + tau d_2 (tau from the quadratic,
    recomputed here with plain CG) have model values -2.446 and -2.869: p is the second."""
    B = np.diag([1.0, 2.0, -1.0])
    g = np.array([0.9, 0.3, -0.1])
    p, _, how, n_products = steihaug_cg(lambda v: B @ v, g, 3.0, 1e-12, 10)
    assert how == "negative curvature" and n_products == 3
    z, r, d = np.zeros(3), g.copy(), -g                   # plain CG, two steps
    for _ in range(2):
        a = (r @ r) / (d @ B @ d)
        z, r_next = z + a * d, r + a * (B @ d)
        d, r = -r_next + (r_next @ r_next) / (r @ r) * d, r_next
    qa, qb, qc = d @ d, 2.0 * (z @ d), z @ z - 9.0
    taus = [(-qb + s * math.sqrt(qb * qb - 4.0 * qa * qc)) / (2.0 * qa) for s in (1.0, -1.0)]

    def model(q):
        return g @ q + 0.5 * q @ B @ q

    best = min((z + t * d for t in taus), key=model)
    np.testing.assert_allclose(p, best, rtol=1e-12)
    assert model(p) == pytest.approx(-2.8689272538390638, rel=1e-12)
    assert np.linalg.norm(p) == pytest.approx(3.0, rel=1e-14)


def test_the_residual_test_is_strict():
    """B = diag(1, 2), g = (1, 1), eps set to ||r_1|| itself: ||r_1|| < eps fails (N&W's strict
    test), so CG goes on to its second step, which is exact."""
    B = np.diag([1.0, 2.0])
    g = np.array([1.0, 1.0])
    d = -g
    r1 = g + (float(g @ g) / float(d @ (B @ d))) * (B @ d)
    p, _, how, n_products = steihaug_cg(lambda v: B @ v, g, 10.0, math.sqrt(float(r1 @ r1)), 10)
    assert how == "interior" and n_products == 2
    np.testing.assert_allclose(p, [-1.0, -0.5], rtol=1e-14)


def test_a_zero_gradient_needs_no_product():
    def never(v):
        raise AssertionError("no product expected")

    p, _, how, n_products = steihaug_cg(never, np.zeros(2), 1.0, 1e-3, 10)
    assert how == "interior" and n_products == 0 and not p.any()


def test_a_direction_that_underflows_has_no_boundary_step():
    """d = (1e-170, 0): d^T d underflows to 0, so there is no root to take: (0, 0)."""
    assert _boundary_taus(np.array([0.5, 0.0]), np.array([1e-170, 0.0]), 1.0, np) == (0.0, 0.0)


def test_the_defaults_are_scipys_but_the_gradient_test_newtons():
    from optimizers.second_order.trust_ncg import minimize_trust_ncg
    sig = inspect.signature(minimize_trust_ncg).parameters
    assert {k: sig[k].default for k in ("initial_trust_radius", "max_trust_radius", "eta",
                                         "gtol", "gtol_rel", "xtol", "ftol", "maxiter",
                                         "cg_max_iter")} == {
        "initial_trust_radius": 1.0, "max_trust_radius": 1000.0, "eta": 0.15, "gtol": 1e-8,
        "gtol_rel": 1e-10, "xtol": 1e-8, "ftol": 2.220446049250313e-9, "maxiter": None,
        "cg_max_iter": None}


def test_the_default_budget_is_200_n_iterations():
    """Brown's badly scaled function (n = 2): the minimiser (1e6, 2e-6) is 10^6 away and the
    radius is capped at 1000, so the run spends its 200 n = 400 iterations (as SciPy's)."""
    from problems.mgh import mgh_problem
    p = mgh_problem(10)
    res = minimize(p.f, p.x0, method="trust-ncg")
    assert res.status == Status.MAXITER and res.nit == 400


def test_one_product_per_iteration_is_allowed():
    """cg_max_iter = 1: each step is the first CG step (the Cauchy point when it is inside the
    region); on a sphere that step is exact."""
    res = minimize(lambda x: (x * x).sum(), [1.0, -2.0, 0.5], method="trust-ncg", cg_max_iter=1,
                   initial_trust_radius=10.0, max_trust_radius=10.0)
    assert res.success and res.nhev == res.nit == 1


def test_maxiter_zero_returns_the_start():
    res = minimize(rosen, [-1.2, 1.0], method="trust-ncg", maxiter=0)
    assert res.status == Status.MAXITER and res.nit == 0 and res.nfev == 1
    np.testing.assert_array_equal(mg.to_numpy(res.x), [-1.2, 1.0])


def test_cg_takes_at_most_2n_products_by_default():
    """A quadratic in 3 dimensions with eigenvalues 1, 1e7, 1e14 in a random basis and a gradient
    of norm 1e-8 at the start: rounding makes CG need 7 products to reach its tolerance, above
    the default cap of 2n = 6, which the first iteration spends exactly (cg_max_iter = 7 lets
    it finish)."""
    rng = np.random.default_rng(4)
    Q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    B = Q @ np.diag(np.logspace(0, 14, 3)) @ Q.T
    g0 = rng.standard_normal(3)
    g0 *= 1e-8 / np.linalg.norm(g0)
    products = []

    def fg(x):
        x = mg.to_numpy(x)
        return 0.5 * float(x @ B @ x) + float(g0 @ x), B @ x + g0

    def hessp(x, v):
        products.append(1)
        return B @ mg.to_numpy(v)

    run = dict(method="trust-ncg", jac=True, hessp=hessp, gtol=0.0, gtol_rel=0.0, maxiter=1)
    minimize(fg, np.zeros(3), **run)
    assert len(products) == 6
    products.clear()
    minimize(fg, np.zeros(3), cg_max_iter=7, **run)
    assert len(products) == 7


def test_the_radius_test_is_strict():
    """The wrong gradient again, from x = 1 with xtol = 1/4: the bound is xtol (xtol + |x|) =
    5/16. From Delta_0 = 5/4 the first rejection leaves Delta = 5/16, equal to the bound, not
    below it: one more (rejected) iteration, then Delta = 5/64 ends the run."""
    res = minimize(_square, [1.0], method="trust-ncg", jac=lambda x: -2.0 * x,
                   hess=lambda x: np.array([[2.0]]), xtol=0.25, initial_trust_radius=1.25)
    assert res.trust_radii == [1.25, 0.3125] and res.trust_radius == 0.078125
    assert res.status == Status.LINE_SEARCH and res.nit == 2


def test_a_tie_between_the_boundary_points_goes_to_the_larger_tau():
    """g = 0, B = -I, z = 0, d = (1, 0): m(tau d) = -tau^2 / 2 is the same at tau = -1 and +1:
    the documented tie-break takes tau = +1, as SciPy's trust-ncg."""
    d = np.array([1.0, 0.0])
    p, Bp = _lower_boundary_point(np.zeros(2), np.zeros(2), np.zeros(2), d, -d, 1.0, np)
    np.testing.assert_array_equal(p, [1.0, 0.0])
    np.testing.assert_array_equal(Bp, [-1.0, 0.0])


def test_the_initial_residual_test_is_strict():
    """||g|| = 5 = eps: not below eps, so CG takes its step (the Newton step of B = I)."""
    p, _, how, n_products = steihaug_cg(lambda v: v, np.array([3.0, 4.0]), 10.0, 5.0, 5)
    assert n_products == 1 and how == "interior"
    np.testing.assert_array_equal(p, [-3.0, -4.0])


def test_a_cg_step_that_ends_exactly_on_the_boundary_is_a_boundary_step():
    """B = 1, g = -1, Delta = 1: the first CG step z_1 = 1 has ||z_1|| = Delta, which counts as
    leaving the region (N&W: ||z_{j+1}|| >= Delta), so the step is a boundary step."""
    p, _, how, n_products = steihaug_cg(lambda v: v, np.array([-1.0]), 1.0, 1e-12, 5)
    assert how == "boundary" and n_products == 1
    np.testing.assert_array_equal(p, [1.0])


def test_the_boundary_point_is_chosen_by_the_model_with_its_half():
    """g = (0, 1), B = diag(-2, 1), z = (1/2, 0), d = (1, 1): the two points on the unit circle
    are at tau = (-1 -+ sqrt 7) / 4; the model g^T p + p^T B p / 2 is -0.665 at the first and
    -0.335 at the second, so the first is taken (without the 1/2 the second would be)."""
    B = np.diag([-2.0, 1.0])
    g, z, d = np.array([0.0, 1.0]), np.array([0.5, 0.0]), np.array([1.0, 1.0])
    p, Bp = _lower_boundary_point(g, z, B @ z, d, B @ d, 1.0, np)
    tau = (-1.0 - math.sqrt(7.0)) / 4.0
    np.testing.assert_allclose(p, z + tau * d, rtol=1e-15)
    assert g @ p + 0.5 * p @ B @ p == pytest.approx(-0.665359456941537, rel=1e-12)


def test_a_rejected_step_keeps_the_users_hessian_of_the_point():
    """As the bad-model run above, but with f and the gradient from one call (jac=True): the
    trial's call must not make the run ask for the Hessian of x_0 again after the rejection."""
    calls = []

    def hess(x):
        calls.append(1)
        return np.array([[0.1]])

    res = minimize(lambda x: (quartic(x), quartic_grad(x)), [1.0], method="trust-ncg", jac=True,
                   hess=hess, initial_trust_radius=2.0, maxiter=2)
    assert res.accepted == [False, True] and len(calls) == res.nhev == 1
