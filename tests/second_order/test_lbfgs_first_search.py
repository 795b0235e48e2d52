"""The first line search of L-BFGS: its trial step and zoom's interpolation while no pair is stored.

* The first trial step: with no pair :math:`p_0 = -\\nabla f_0` and the trial is
  :math:`\\alpha = \\min(1, 1/\\|\\nabla f_0\\|_2)`: on f = 1/2 ||x||^2 from (3, 4) the first trial
  point is x0 - g0 / 5 = (2.4, 3.2); from (0.3, 0.4) (||g0|| = 1/2) the cap gives alpha = 1 and
  the point (0, 0).
* Moré & Thuente's case-1 trial (1994, section 4), checked on cubics, where the cubic
  interpolant of N&W eq. 3.59 is the function itself, so that its minimiser is known in closed
  form, and the quadratic of eq. 3.57 through phi(0), phi'(0), phi(b) is
  alpha_q = -phi'(0) b^2 / (2 (phi(b) - phi(0) - phi'(0) b)):
  phi = -s + s^3 on [0, 1.5] (phi(1.5) = 1.875, phi'(1.5) = 5.75): alpha_c = 1/sqrt(3),
  alpha_q = 2.25 / 6.75 = 1/3, the cubic is the farther, the trial is their mean;
  phi = -s + 2 s^2 - s^3/2 on [0, 1] (phi(1) = 1/2, phi'(1) = 3/2): alpha_c = (4 - sqrt(10))/3
  = 0.279 (the root of -1 + 4 s - 1.5 s^2), alpha_q = 1/3, the cubic is the closer and is taken.
* On Chebyquad (MGH 18, n = 8) the first trial 1/||g0|| = 0.656 gives f = 2.6e7 from f0 = 0.039;
  the first search takes 4 evaluations with Moré and Thuente's trial (SciPy's L-BFGS-B takes 4
  too) and 6 with N&W's cubic alone, and the whole run 26 against 33 (measured with
  benchmarks/bench_minimize.py --verbose, which counts the same oracle calls).
"""
import math

import numpy as np
import pytest

from optimizers.minimize import minimize
from optimizers.second_order.lbfgs import lbfgs
from optimizers.wolfe import more_thuente_case1, strong_wolfe, zoom_trial
from problems.mgh import mgh_problem


def _logged_quadratic(log):
    """f = 1/2 ||x||^2 with its gradient, logging every point where it is evaluated."""
    def fun(x):
        log.append(np.array(x, dtype=float))
        return 0.5 * float(x @ x), np.array(x, dtype=float)
    return fun


@pytest.mark.parametrize("x0, first", [((3.0, 4.0), (2.4, 3.2)), ((0.3, 0.4), (0.0, 0.0))])
def test_the_first_trial_step_is_min_1_over_the_gradient_norm(x0, first):
    log = []
    lbfgs(_logged_quadratic(log), np.array(x0), jac=True)
    np.testing.assert_allclose(log[0], x0, rtol=0, atol=0)
    np.testing.assert_allclose(log[1], first, rtol=1e-15, atol=1e-15)


def test_more_thuente_takes_the_mean_when_the_cubic_is_the_farther_step():
    alpha = more_thuente_case1(0.0, 0.0, -1.0, 1.5, 1.875, 5.75)     # phi = -s + s^3
    assert alpha == pytest.approx((1.0 / math.sqrt(3.0) + 1.0 / 3.0) / 2.0, rel=1e-14)


def test_more_thuente_takes_the_cubic_step_when_it_is_the_closer():
    alpha = more_thuente_case1(0.0, 0.0, -1.0, 1.0, 0.5, 1.5)        # phi = -s + 2s^2 - s^3/2
    assert alpha == pytest.approx((4.0 - math.sqrt(10.0)) / 3.0, rel=1e-14)


def test_zoom_trial_uses_the_rule_only_where_it_is_asked_for_and_applies():
    """phi = -s + s^3 on [0, 1.5]: N&W's cubic gives 1/sqrt(3); Moré-Thuente the mean with the
    quadratic's 1/3. When phi(alpha_hi) <= phi(alpha_lo), or phi'(alpha_hi) is unknown (the
    cubic of eq. 3.58 or the quadratic then), both rules give the same trial: on
    phi = -s + s^3 over [0, 1] (phi(1) = phi(0) = 0) the cubic's 1/sqrt(3), not its mean with the
    quadratic's 1/2; without phi'(1.5) the quadratic's 1/3."""
    args = (0.0, 0.0, -1.0, 1.5, 1.875, 5.75, None, None)
    assert zoom_trial(*args) == pytest.approx(1.0 / math.sqrt(3.0), rel=1e-14)
    assert zoom_trial(*args, "more-thuente") == pytest.approx(
        (1.0 / math.sqrt(3.0) + 1.0 / 3.0) / 2.0, rel=1e-14)
    level = (0.0, 0.0, -1.0, 1.0, 0.0, 2.0, None, None)   # phi = -s + s^3 on [0, 1]: phi(1) = 0
    assert zoom_trial(*level, "more-thuente") == zoom_trial(*level) == pytest.approx(
        1.0 / math.sqrt(3.0), rel=1e-14)                  # not the mean with alpha_q = 1/2
    no_slope = (0.0, 0.0, -1.0, 1.5, 1.875, None, None, None)
    assert zoom_trial(*no_slope, "more-thuente") == zoom_trial(*no_slope) == pytest.approx(1 / 3)


def test_the_interpolation_must_be_one_of_the_two_rules():
    with pytest.raises(ValueError, match="interpolation"):
        strong_wolfe(lambda a: a * a - a, lambda a: 2 * a - 1, interpolation="quadratic")
    with pytest.raises(ValueError, match="unscaled_interpolation"):
        minimize(lambda x: float(x @ x), np.ones(2), method="l-bfgs",
                 unscaled_interpolation="quadratic")


def _evaluations_per_iteration(rule):
    p = mgh_problem(18)
    calls, at = [0], []

    def fun(x):
        calls[0] += 1
        return p.value_and_grad(x)

    res = minimize(fun, p.x0, method="l-bfgs", jac=True, unscaled_interpolation=rule,
                   callback=lambda xk: at.append(calls[0]))
    assert p.solved(res.fun)
    return res.nfev, at[0] - 1                     # the first search: calls after f(x0)


def test_chebyquad_first_search_takes_4_evaluations_with_more_thuente():
    assert _evaluations_per_iteration("more-thuente") == (26, 4)


def test_companion_chebyquad_first_search_takes_6_with_the_cubic_alone():
    assert _evaluations_per_iteration("cubic") == (33, 6)
