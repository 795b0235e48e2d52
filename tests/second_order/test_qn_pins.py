"""Exact behaviour of Newton-CG's direction, of Newton's Armijo budget, of strong Wolfe's zoom on a
cubic and of minimize's real-number options.

* :func:`~optimizers.second_order.newton.cg_newton_direction` returns ``(d, negative_curvature,
  n_products)``: ``n_products`` must equal the number of Hessian-vector products it asked for
  (counted by the ``hessp`` passed in), on each of its three exits (residual below ``tol``,
  ``max_iter`` reached, negative curvature).
* ``max_backtracks=1`` (an integer >= 1, the smallest budget) is accepted and means one Armijo
  trial, the step ``lr`` itself; the counts and the iterate follow by hand.
* ``minimize(method="newton")``: the default of 60 Armijo trials, and the refusal of an ``f``
  that does not return a scalar Tensor when minigrad gives the derivatives.
* :func:`~optimizers.line_search.strong_wolfe` on the cubic :math:`\\phi(\\alpha) = \\alpha^3 -
  3\\alpha`: every trial of the search is computed by hand below (N&W Algorithms 3.5-3.6, eqs.
  3.57-3.58); the cubic through two values and a value and slope is exact on a cubic, so the
  search ends at the minimiser :math:`\\alpha = 1` at once, from an interval whose left end is
  not 0.
* the bracketing phase of ``strong_wolfe`` extrapolates to the cubic's minimiser clamped to
  ``[2 a_i, 10 a_i]``, and to ``10 a_i`` when the cubic has no minimiser beyond ``a_i``; its zoom
  evaluates a slope at a rejected trial only when ``slopes_free=True`` and never at a non-finite
  value, and does not use a non-finite slope in its interpolation.
* ``armijo_backtracking`` takes no step along a direction with ``phi'(0) >= 0``.
* ``minimize``'s gradient methods take ``gtol`` / ``skip_eps`` as real numbers: a bool or a
  string is refused with ``ValueError`` (the parameter-check convention of docs/optimizers.md:
  a bool is not a number); 0 is accepted for both; ``maxiter=None`` is 200 n iterations.
* ``lbfgs``'s memory ``m`` is an integer >= 1.
* a failed Wolfe search along a ray returns its best trial, as seen, with the calls it made.
* BFGS / L-BFGS stop at a failed search's point only when it lowers f strictly.
"""
import math

import numpy as np
import pytest

import minigrad as mg
from optimizers.line_search import (LineSearchResult, Objective, armijo_backtracking,
                                    line_search_wolfe, strong_wolfe)
from optimizers.minimize import minimize
from optimizers.second_order.lbfgs import LBFGS
from optimizers.second_order.newton import Newton, cg_newton_direction


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


# --------------------------------------------------------------------------- Newton-CG's count
class CountedHessp:
    """v -> H v with H a fixed matrix; counts its calls."""

    def __init__(self, H):
        self.H, self.calls = np.asarray(H, dtype=float), 0

    def __call__(self, v):
        self.calls += 1
        return self.H @ v


def test_cg_on_the_identity_converges_after_one_product():
    """H = I, g = (3, -4): alpha_0 = |g|^2 / |g|^2 = 1, z_1 = -g, r_1 = g - g = 0 <= tol: one
    product, d = -g, no negative curvature."""
    g = np.array([3.0, -4.0])
    hp = CountedHessp(np.eye(2))
    d, negative, n = cg_newton_direction(hp, g, tol=1e-12, max_iter=10)
    np.testing.assert_allclose(d, -g, rtol=0, atol=1e-15)
    assert negative is False
    assert hp.calls == 1
    assert n == hp.calls == 1


def test_cg_on_two_distinct_eigenvalues_converges_after_two_products():
    """H = diag(1, 2), g = (1, 1): CG ends in (at most) two steps on a 2x2 SPD system (two
    distinct eigenvalues). By hand: p_0 = (-1, -1), alpha_0 = 2/3, r_1 = (1/3, -1/3) (not zero),
    then r_2 = 0 and z_2 = -H^{-1} g = (-1, -1/2)."""
    g = np.array([1.0, 1.0])
    hp = CountedHessp(np.diag([1.0, 2.0]))
    d, negative, n = cg_newton_direction(hp, g, tol=1e-10, max_iter=10)
    np.testing.assert_allclose(d, [-1.0, -0.5], rtol=0, atol=1e-12)
    assert negative is False
    assert n == hp.calls == 2


def test_cg_stopped_by_max_iter_reports_max_iter_products():
    """H = diag(1, 2), g = (1, 1), max_iter = 1: one step, z_1 = alpha_0 p_0 = -(2/3, 2/3)
    (residual 1/3 sqrt 2 > tol), and one product reported."""
    g = np.array([1.0, 1.0])
    hp = CountedHessp(np.diag([1.0, 2.0]))
    d, negative, n = cg_newton_direction(hp, g, tol=1e-10, max_iter=1)
    np.testing.assert_allclose(d, [-2.0 / 3.0, -2.0 / 3.0], rtol=0, atol=1e-15)
    assert negative is False
    assert n == hp.calls == 1


@pytest.mark.parametrize("at_once", [True, False])
def test_cg_at_negative_curvature_reports_the_products_made(at_once):
    """Negative curvature at p_0 (H = -I): -g after one product. H = diag(1, -1), g = (1, 0.1):
    p_0 = -g, p_0^T H p_0 = 0.99 > 0, alpha_0 = 1.01 / 0.99, z_1 = alpha_0 p_0,
    r_1 = g + alpha_0 H p_0 = (-0.02/0.99, 0.2/0.99); p_1 = -r_1 + (|r_1|^2 / 1.01) p_0 is about
    (-0.021, -0.206), so p_1^T H p_1 < 0: z_1 after two products."""
    if at_once:
        g, H, want, calls = np.array([1.0, 2.0]), -np.eye(2), [-1.0, -2.0], 1
    else:
        g, H, calls = np.array([1.0, 0.1]), np.diag([1.0, -1.0]), 2
        want = [-1.01 / 0.99, -0.101 / 0.99]
    hp = CountedHessp(H)
    d, negative, n = cg_newton_direction(hp, g, tol=1e-12, max_iter=10)
    np.testing.assert_allclose(d, want, rtol=1e-14, atol=0)
    assert negative is True
    assert n == hp.calls == calls


# --------------------------------------------------------------------------- Armijo budget 1
def hyp(x):
    """f(x) = sqrt(1 + x^2): convex, and the Newton step -f'/f'' = -x (1 + x^2) overshoots."""
    return float(np.sqrt(1.0 + float(x @ x)))


def hyp_grad(x):
    return x / np.sqrt(1.0 + float(x @ x))


def hyp_hess(x):
    return np.array([[(1.0 + float(x @ x)) ** -1.5]])


def test_newton_with_one_armijo_trial_gives_up_after_the_full_step():
    """From x = 2 the Newton step is d = -x (1 + x^2) = -10; the full step lands on x = -8 where
    f = sqrt 65 > sqrt 5 = f(2), so Armijo fails. With max_backtracks=1 that one trial is all:
    status 2, x stays 2, alphas [0.0], nit 0; evaluations: f and g at x_0, one Hessian, one trial
    of f: nfev 2, njev 1, nhev 1."""
    res = minimize(hyp, [2.0], method="newton", jac=hyp_grad, hess=hyp_hess, max_backtracks=1)
    assert res.status == 2
    np.testing.assert_array_equal(mg.to_numpy(res.x), [2.0])
    assert res.alphas == [0.0]
    assert (res.nit, res.nfev, res.njev, res.nhev) == (0, 2, 1, 1)


def test_newton_with_two_armijo_trials_takes_the_half_step():
    """From x = 1 (d = -2: f' = 1/sqrt 2, f'' = 2^{-3/2}) with max_backtracks=2: the full step
    lands on x = -1 (f as at x = 1: no sufficient decrease), the second trial alpha = 1/2 on
    x = 0, the minimiser (f = 1 < sqrt 2 - 1e-4 / 2): alphas [0.5], x = 0 (to rounding) after one
    iteration, whose gradient stops it; nfev 4 (f, g at x_0; two trials; f, g at x_1)."""
    res = minimize(hyp, [1.0], method="newton", jac=hyp_grad, hess=hyp_hess, max_backtracks=2)
    assert res.status == 0
    np.testing.assert_allclose(mg.to_numpy(res.x), [0.0], rtol=0, atol=1e-15)
    assert res.alphas == [0.5]
    assert (res.nit, res.nfev, res.njev, res.nhev) == (1, 4, 2, 1)


def test_newton_optimizer_accepts_one_armijo_trial():
    """Newton(max_backtracks=1) is valid (the range is the integers >= 1). On the quadratic
    f(x) = 1/2 x^T A x - b^T x the full Newton step lands on A^{-1} b and satisfies Armijo
    (f decreases by -g^T d / 2 >= c1 * (-g^T d)), so the one trial suffices."""
    x = mg.Tensor(np.array([2.0, -1.0]), requires_grad=True)
    A = mg.Tensor(np.array([[3.0, 1.0], [1.0, 2.0]]))
    b = mg.Tensor(np.array([1.0, 1.0]))
    opt = Newton([x], max_backtracks=1)
    assert opt.param_groups[0]["max_backtracks"] == 1
    opt.step(lambda: 0.5 * (x * (A @ x)).sum() - (x * b).sum())
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(A.numpy(), b.numpy()), rtol=0,
                               atol=1e-12)
    assert (opt.nfev, opt.njev, opt.nhev) == (3, 2, 1)  # fg(x_0), the trial f, fg(x_1)


def test_minimize_newton_default_is_sixty_armijo_trials():
    """minimize_newton's documented default max_backtracks=60: on the constant f = 0 whose given
    gradient says it descends (g = 1, H = 1, so d = -1 and phi'(0) = -1), no trial satisfies
    Armijo, phi(a) = 0 > -1e-4 a (f = 0 keeps the right side exact: no rounding lets a tiny
    step pass, as it would at f = 1 once 1e-4 a is below half an ulp of 1). The trials
    a = 2^-k, k = 0..59, all stay above alpha_min = 1e-20 (2^-60 ~ 8.7e-19 too), so exactly 60
    trials are made and the search fails:
    status 2, nfev = 1 (f and g at x_0) + 60, njev 1, nhev 1; the same as max_backtracks=60."""
    ones_like = lambda x: mg.get_array_module(x).ones_like(x)  # noqa: E731 (x's backend)
    kw = dict(method="newton", jac=ones_like, hess=lambda x: np.eye(1))
    res = minimize(lambda x: 0.0, [0.0], **kw)
    assert res.status == 2 and res.alphas == [0.0]
    assert (res.nit, res.nfev, res.njev, res.nhev) == (0, 61, 1, 1)
    assert minimize(lambda x: 0.0, [0.0], max_backtracks=60, **kw).nfev == 61


@pytest.mark.parametrize("solver", ["dense", "cg"])
@pytest.mark.parametrize("out", [lambda x: 1.0, lambda x: x * x], ids=["float", "vector"])
def test_minimize_newton_refuses_an_f_that_is_not_a_scalar_tensor(solver, out):
    """With jac=None f must return a one-element minigrad Tensor (minimize: "Raises ValueError
    for ... an f that does not return a scalar"): a Python float or a two-element Tensor raise
    ValueError saying so."""
    with pytest.raises(ValueError, match="scalar"):
        minimize(out, [1.0, 2.0], method="newton", solver=solver)


# --------------------------------------------------------------------------- strong Wolfe's zoom
def test_zoom_uses_the_exact_three_point_cubic_from_a_nonzero_left_end():
    """phi(a) = a^3 - 3a, phi'(a) = 3a^2 - 3 (phi(0) = 0, phi'(0) = -3, minimiser a = 1), c1 = 1e-4,
    c2 = 0.1, alpha0 = 3. By hand:

    * a = 3: phi = 18 > 0 fails Armijo: zoom on [0, 3] (phi'(3) not evaluated);
    * quadratic through phi(0), phi'(0), phi(3): 0 + 3 * 9 / (2 * (18 + 9)) = 0.5 (inside
      [0.3, 2.7]); phi(0.5) = -1.375 passes Armijo and is below phi(0); phi'(0.5) = -2.25,
      |.| > 0.1 * 3, and phi' (3 - 0) < 0: lo = 0.5 (the old lo, 0, is the third point);
    * cubic through phi(0.5), phi'(0.5), phi(3), phi(0) (N&W eq. 3.58, origin at 0.5): it is
      phi itself, whose minimiser 1 lies in [0.75, 2.75]; phi'(1) = 0: accepted.

    So alpha = 1, phi = -2, phi' = 0, status 0, three values and two slopes."""
    calls = []

    def phi(a):
        calls.append(a)
        return a ** 3 - 3.0 * a

    res = strong_wolfe(phi, lambda a: 3.0 * a * a - 3.0, phi0=0.0, derphi0=-3.0, alpha0=3.0,
                       c1=1e-4, c2=0.1)
    assert res.status == 0
    assert calls[:2] == [3.0, 0.5]
    assert len(calls) == 3 and calls[2] == pytest.approx(1.0, rel=1e-12)
    assert res.alpha == pytest.approx(1.0, rel=1e-12)
    assert res.phi == pytest.approx(-2.0, rel=1e-12)
    assert abs(res.derphi) <= 1e-11
    assert (res.nfev, res.njev) == (3, 2)


def test_zoom_treats_a_nonfinite_slope_at_the_interval_end_as_unknown():
    """With slopes_free=True the slope is taken at the rejected a_1 = 3 as well; here it is inf
    (an overflow in the gradient only), so it is not used: phi(a) = a^3 - 3a, c2 = 0.1. By hand:
    the first zoom trial is the quadratic's 0.5 (phi'(3) unknown, no third point yet), which
    passes Armijo with phi'(0.5) = -2.25 (curvature fails, lo = 0.5, third point 0); the next
    is the three-point cubic of eq. 3.58 through phi(0.5), phi'(0.5), phi(3), phi(0), which is
    phi itself: its minimiser 1, accepted. (The two-slope cubic cannot use phi'(3) = inf.)"""
    calls, slopes = [], []

    def phi(a):
        calls.append(a)
        return a ** 3 - 3.0 * a

    def dphi(a):
        slopes.append(a)
        return math.inf if a == 3.0 else 3.0 * a * a - 3.0

    res = strong_wolfe(phi, dphi, phi0=0.0, derphi0=-3.0, alpha0=3.0, c2=0.1, slopes_free=True)
    assert calls[:2] == [3.0, 0.5] and slopes[:2] == [3.0, 0.5]
    assert len(calls) == 3 and calls[2] == pytest.approx(1.0, rel=1e-12)
    assert res.status == 0 and res.alpha == pytest.approx(1.0, rel=1e-12)


def test_bracketing_extrapolates_by_ten_when_the_cubic_minimiser_is_below_the_step():
    """phi(a) = -(5/3)(a - 1/2)^3 + a/4 - 5/24: phi(0) = 0, phi'(0) = -1, phi(1) = -1/6,
    phi'(1) = -1. The step a_1 = 1 passes Armijo, fails curvature (1 > 0.9) and phi' < 0 there:
    extrapolate. The cubic of eq. 3.59 through a = 0 and a = 1 is phi itself, whose local
    minimiser 1/2 - sqrt(1/20) is below a_1: no extrapolation from the cubic, so a_2 = 10 a_1
    (the rule: a_{i+1} in (a_i, alpha_max], 10 a_i when the cubic gives none)."""
    calls = []

    def phi(a):
        calls.append(a)
        return -(5.0 / 3.0) * (a - 0.5) ** 3 + 0.25 * a - 5.0 / 24.0

    res = strong_wolfe(phi, lambda a: -5.0 * (a - 0.5) ** 2 + 0.25, phi0=0.0, derphi0=-1.0,
                       alpha0=1.0, maxiter=2)
    assert calls == [1.0, 10.0]
    assert res.status == 1  # phi'(10) = -451: the budget of two bracketing steps is spent


def test_bracketing_extrapolates_by_ten_when_the_cubic_minimiser_is_the_step_itself():
    """phi(0) = 0, phi'(0) = -1, phi(1) = -2^60, phi'(1) = -0.95 (Armijo holds, curvature fails,
    phi' < 0: extrapolate). In eq. 3.59, d_1 = -1.95 + 3 * 2^60 rounds to 3 * 2^60 (doubles are
    512 apart there), d_1^2 - phi'(0) phi'(1) rounds to 9 * 2^120, so d_2 = d_1 and the numerator
    phi'(1) + d_2 - d_1 rounds to 0: the cubic's minimiser is a_1 = 1 itself, not in
    (a_1, alpha_max], and the next trial is 10 a_1 (not the clamp 2 a_1). There phi = -2^61 and
    phi' = 0: accepted, alpha = 10."""
    calls = []

    def phi(a):
        calls.append(a)
        return -2.0 ** 60 if a == 1.0 else -2.0 ** 61

    res = strong_wolfe(phi, lambda a: -0.95 if a == 1.0 else 0.0, phi0=0.0, derphi0=-1.0,
                       alpha0=1.0)
    assert calls == [1.0, 10.0]
    assert (res.status, res.alpha, res.phi, res.derphi) == (0, 10.0, -2.0 ** 61, 0.0)


def test_bracketing_clamps_a_cubic_minimiser_just_beyond_the_step_to_twice_the_step():
    """phi(a) = (a - 3/2)^2 - 9/4 (phi'(0) = -3), c2 = 0.1: a_1 = 1 has phi' = -1, |.| > 0.3:
    extrapolate; the cubic of eq. 3.59 is exact on a quadratic, minimiser 3/2 in (1, 2):
    clamped to 2 a_1 = 2. There phi(2) = -2 = phi(1) passes Armijo but is not below phi(a_1):
    N&W Algorithm 3.5 zooms on [1, 2] at once (i = 2 > 1), without phi'(2); zoom's quadratic
    through phi(1), phi'(1), phi(2) is exact: 3/2, where phi' = 0. Trials 1, 2, 3/2; slopes at
    1 and 3/2 only."""
    calls, slopes = [], []

    def phi(a):
        calls.append(a)
        return (a - 1.5) ** 2 - 2.25

    def dphi(a):
        slopes.append(a)
        return 2.0 * (a - 1.5)

    res = strong_wolfe(phi, dphi, phi0=0.0, derphi0=-3.0, alpha0=1.0, c2=0.1)
    assert calls == [1.0, 2.0, 1.5]
    assert slopes == [1.0, 1.5]
    assert (res.status, res.alpha, res.phi, res.derphi) == (0, 1.5, -2.25, 0.0)
    assert (res.nfev, res.njev) == (3, 2)


def _exp_phi(a):
    """phi(a) = exp(5a) - 6a: phi(0) = 1, phi'(0) = -1, minimiser ln(1.2)/5 ~ 0.036."""
    return math.exp(5.0 * a) - 6.0 * a


def _exp_dphi(a):
    return 5.0 * math.exp(5.0 * a) - 6.0


def test_without_free_slopes_zoom_never_evaluates_a_slope_at_a_rejected_trial():
    """slopes_free=False: phi' is taken only where sufficient decrease holds. By hand: a_1 = 1
    (phi = e^5 - 6 fails Armijo: zoom on [0, 1]); the quadratic's minimiser 1/(2 (e^5 - 6 + 1))
    ~ 0.0035 is clamped to 0.1, where phi = e^0.5 - 0.6 ~ 1.0487 > 1 - 1e-5 fails Armijo again:
    rejected, no slope there. Every slope evaluated is at a trial that passed Armijo, and the
    step returned satisfies both strong Wolfe conditions."""
    trials, slopes = [], []

    def phi(a):
        trials.append(a)
        return _exp_phi(a)

    def dphi(a):
        slopes.append(a)
        return _exp_dphi(a)

    res = strong_wolfe(phi, dphi, phi0=1.0, derphi0=-1.0, alpha0=1.0)
    assert trials[:2] == [1.0, 0.1]
    assert 1.0 not in slopes and 0.1 not in slopes
    assert slopes and all(_exp_phi(a) <= 1.0 - 1e-4 * a for a in slopes)
    assert (res.nfev, res.njev) == (len(trials), len(slopes))
    assert res.status == 0
    assert res.phi <= 1.0 - 1e-4 * res.alpha and abs(_exp_dphi(res.alpha)) <= 0.9


def test_with_free_slopes_zoom_never_evaluates_a_slope_at_a_nonfinite_trial():
    """slopes_free=True: the slope is also taken at rejected trials (here a_1 = 1), but not at
    a trial whose value is not finite (phi = inf on (0.05, 1)): such a trial becomes the
    interval's right end and the next trial bisects [0, it]."""
    trials, slopes = [], []

    def phi(a):
        trials.append(a)
        return _exp_phi(a) if a <= 0.05 or a == 1.0 else math.inf

    def dphi(a):
        slopes.append(a)
        return _exp_dphi(a)

    res = strong_wolfe(phi, dphi, phi0=1.0, derphi0=-1.0, alpha0=1.0, slopes_free=True)
    assert trials[0] == 1.0 and slopes[0] == 1.0
    assert all(a <= 0.05 or a == 1.0 for a in slopes)  # never at an inf
    inf_trials = [i for i, a in enumerate(trials) if 0.05 < a < 1.0]
    assert inf_trials
    for i in inf_trials:  # bisection of [0, a_j] after each non-finite trial a_j
        assert trials[i + 1] == 0.5 * trials[i]
    assert res.status == 0 and 0.0 < res.alpha <= 0.05
    assert (res.nfev, res.njev) == (len(trials), len(slopes))


@pytest.mark.parametrize("derphi0", [0.0, 0.5, 2.0])
def test_armijo_refuses_a_direction_that_is_not_descent(derphi0):
    """phi'(0) >= 0: status 4 ("not a descent direction; no step taken", the status table of
    optimizers.results), alpha = 0, phi(0) returned, and phi is never called."""
    calls = []
    res = armijo_backtracking(lambda a: calls.append(a) or -1.0, 1.0, derphi0)
    assert (res.status, res.alpha, res.phi, res.nfev) == (4, 0.0, 1.0, 0)
    assert calls == []


# --------------------------------------------------------------------------- real options
@pytest.mark.parametrize("method", ["bfgs", "l-bfgs"])
@pytest.mark.parametrize("bad", [True, False, "1e-5", None, [1e-5]])
def test_gtol_must_be_a_real_number(method, bad):
    """gtol is a real number: True/False (bools are not numbers here), a string, None or a list
    raise ValueError naming gtol."""
    with pytest.raises(ValueError, match="gtol"):
        minimize(lambda x: (x * x).sum(), [1.0, 2.0], method=method, gtol=bad)


@pytest.mark.parametrize("bad", [True, "1e-8"])
def test_bfgs_skip_eps_must_be_a_real_number(bad):
    """skip_eps of BFGS: a bool or a numeric string raises ValueError naming skip_eps."""
    with pytest.raises(ValueError, match="skip_eps"):
        minimize(lambda x: (x * x).sum(), [1.0, 2.0], method="bfgs", skip_eps=bad)


@pytest.mark.parametrize("good", [1, 1e-5, np.float64(1e-5), np.float32(1e-3)])
def test_gtol_accepts_real_numbers(good):
    """Any real number >= 0 (int, float, NumPy scalars) is a valid gtol."""
    res = minimize(lambda x: (x * x).sum(), [1.0, 2.0], method="bfgs", gtol=good)
    assert res.success


# --------------------------------------------------------------------------- BFGS's defaults
def _short_steps(obj, x, p, f, g, alpha0):
    """A line search that always accepts the step 1e-3 along p (so the run never converges)."""
    a = 1e-3
    xn = x + a * p
    fn, gn = obj.fg(xn)
    return LineSearchResult(a, fn, float(gn @ p), 1, 1, 0, "accepted", x=xn, f=fn, g=gn)


@pytest.mark.parametrize("method", ["bfgs", "l-bfgs"])
@pytest.mark.parametrize("n", [2, 3])
def test_default_maxiter_is_200_n(method, n):
    """maxiter=None means 200 n iterations (docs/second_order.md: "maxiter (200n)"). Steps of 1e-3
    on f = ||x||^2 / 2 from x0 = 1 shrink the gradient by a factor of about 1 - 1e-3 per
    iteration (far above gtol = 1e-5 after 600), so the run stops at maxiter: nit = 200 n,
    one callback per iteration, status 1."""
    seen = []
    res = minimize(lambda x: 0.5 * (x * x).sum(), np.ones(n), method=method,
                   line_search=_short_steps, callback=lambda xk: seen.append(1))
    assert res.nit == len(seen) == 200 * n
    assert res.status == 1 and not res.success


@pytest.mark.parametrize("method", ["bfgs", "l-bfgs"])
def test_gtol_and_skip_eps_may_be_zero(method):
    """gtol and skip_eps are real numbers >= 0 (closed at 0, as Newton's gtol and L-BFGS's
    skip_eps): 0 is accepted (gtol = 0: never stop on the gradient; skip_eps = 0: skip only
    when y^T s <= 0). Three iterations on Rosenbrock from (-1.2, 1) end at maxiter."""
    res = minimize(rosen, [-1.2, 1.0], method=method, gtol=0.0, skip_eps=0.0, maxiter=3)
    assert res.nit == 3 and res.status == 1
    for key in ("gtol", "skip_eps"):
        with pytest.raises(ValueError, match=key):
            minimize(rosen, [-1.2, 1.0], method=method, maxiter=3, **{key: -1e-300})


@pytest.mark.parametrize("m", [0, -1])
def test_lbfgs_memory_must_be_at_least_one_pair(m):
    """lbfgs's memory m is an integer >= 1 (the last m pairs; the LBFGS optimizer checks the
    same range): m = 0 or less raises ValueError naming m, in minimize and in the optimizer."""
    with pytest.raises(ValueError, match=r"\bm\b"):
        minimize(rosen, [-1.2, 1.0], method="l-bfgs", m=m)
    with pytest.raises(ValueError, match=r"\bm\b"):
        LBFGS([mg.Tensor(np.zeros(2), requires_grad=True)], m=m)


def test_lbfgs_with_one_pair_is_valid():
    """m = 1 (the smallest memory) is accepted and L-BFGS still solves the quadratic
    f = 1/2 x^T A x - b^T x to gtol."""
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, 1.0])
    def fun(x):
        x = mg.to_numpy(x)  # on the host
        return 0.5 * float(x @ (A @ x)) - float(b @ x), A @ x - b

    res = minimize(fun, [2.0, -1.0], method="l-bfgs", jac=True, m=1)
    assert res.success
    np.testing.assert_allclose(mg.to_numpy(res.x), np.linalg.solve(A, b), atol=1e-5)


# --------------------------------------------------------------------------- the ray's best point
def test_failed_wolfe_search_returns_its_best_trial_without_evaluating_again():
    """Along a ray of an Objective with a separate gradient, a failed search returns the trial
    with the lowest value (module docstring of line_search) with the f seen there, and
    nfev / njev are the calls it made (the functions count their own calls).

    f(x) = -x + a x^2 + b x^3 + c x^4 in 1-D from x = 0 along p = 1 (f(0) = 0, f'(0) = -1),
    with a, b, c solved so that f(1) = -0.9e-4 and, at the zoom's first trial
    t = 1 / (2 (1 - 0.9e-4)) (the minimiser of the quadratic through f(0), f'(0), f(1), inside
    [0.1, 0.9]), f(t) = -0.7e-4 and
    f'(t) = 0.95. So: a_1 = 1 fails Armijo (-0.9e-4 > -1e-4) but is the lowest value; t passes
    Armijo (-0.7e-4 <= -1e-4 t) and is below f(0), so its slope is taken (|0.95| > 0.9: not
    accepted); maxzoom = 1 ends the search: status 1 at alpha = 1 with f(1), two calls of f,
    one of the gradient."""
    f1, ft, dft = -0.9e-4, -0.7e-4, 0.95
    t = 1.0 / (2.0 * (1.0 + f1))                        # -f'(0) / (2 (f(1) - f(0) - f'(0)))
    a, b, c = np.linalg.solve([[1.0, 1.0, 1.0], [t ** 2, t ** 3, t ** 4],
                               [2 * t, 3 * t ** 2, 4 * t ** 3]], [f1 + 1.0, ft + t, dft + 1.0])
    fcalls, gcalls = [], []

    def f(x):
        fcalls.append(float(x[0]))
        u = float(x[0])
        return -u + a * u ** 2 + b * u ** 3 + c * u ** 4

    def g(x):
        gcalls.append(float(x[0]))
        u = float(x[0])
        return np.array([-1.0 + 2 * a * u + 3 * b * u ** 2 + 4 * c * u ** 3])

    assert f(np.array([1.0])) == pytest.approx(f1, rel=1e-9, abs=1e-15)
    assert f(np.array([t])) == pytest.approx(ft, rel=1e-9, abs=1e-15)
    assert g(np.array([t]))[0] == pytest.approx(dft, rel=1e-12)
    fcalls.clear(), gcalls.clear()
    x0 = np.array([0.0])
    obj = Objective(f, x0, jac=g)
    res = line_search_wolfe(obj, x0, np.array([1.0]), 0.0, np.array([-1.0]), alpha0=1.0,
                            maxzoom=1)
    assert res.status == 1
    assert res.alpha == 1.0
    np.testing.assert_array_equal(mg.to_numpy(res.x), [1.0])
    assert res.f == pytest.approx(f1, rel=1e-9)
    assert fcalls[0] == 1.0 and fcalls[1] == pytest.approx(t, rel=1e-12)
    assert len(fcalls) == 2 and len(gcalls) == 1
    assert (res.nfev, res.njev) == (2, 1) == (obj.nfev, obj.njev)


# --------------------------------------------------------------------------- a failed search
def _failing_search_to(alpha):
    """A line search that fails (status 1) and reports the point x + alpha p as its best."""
    def search(obj, x, p, f, g, alpha0):
        xn = x + alpha * p
        fn, gn = obj.fg(xn)
        return LineSearchResult(alpha, fn, float(gn @ p), 1, 1, 1, "failed", x=xn, f=fn, g=gn)
    return search


@pytest.mark.parametrize("method", ["bfgs", "l-bfgs"])
def test_a_failed_search_moves_only_to_a_strictly_lower_point(method):
    """When the line search fails, the run stops (status 2) at the search's point only if it
    lowers f strictly (the best point of a failed search is the trial with the lowest value
    below phi(0), line_search's module docstring). f = x^2 from x0 = 1: p_0 = -g = -2 (H_0 = I,
    so no retry). alpha = 1 lands on x = -1 with the same f = 1: not kept, x stays 1;
    alpha = 1/2 lands on 0 (f = 0 < 1): kept."""
    fun = lambda x: (float(x @ x), 2.0 * x)
    same = minimize(fun, [1.0], method=method, jac=True, line_search=_failing_search_to(1.0))
    assert same.status == 2 and same.nit == 0
    np.testing.assert_array_equal(mg.to_numpy(same.x), [1.0])
    assert same.fun == 1.0
    lower = minimize(fun, [1.0], method=method, jac=True, line_search=_failing_search_to(0.5))
    assert lower.status == 2 and lower.nit == 0
    np.testing.assert_array_equal(mg.to_numpy(lower.x), [0.0])
    assert lower.fun == 0.0
