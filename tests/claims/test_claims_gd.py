r"""Property tests of GD's three rates (L1; docs/lectures.md section 1) on the public theorems
package, each with companions that fail.

For each theorem (``theorems.GD_CONVEX``, ``GD_STRONGLY_CONVEX``, ``GD_NONCONVEX``: the
bounds, their slack and hypotheses live there) hypothesis draws a problem from the class the
theorem covers (``theorems.strategies``), ``theorems.check`` runs ``optimizers.SGD`` (full
gradients: gradient descent) with a step the theorem allows and the bound is asserted at every
iterate:

* smooth convex, step :math:`h/L`, :math:`0<h\le1`: :math:`f(x_k)-f^*\le\frac{LR^2}{4kh+2}`
  on convex quadratics with spectrum in :math:`[0,L]`, on Huber functions from random starts
  (not quadratic) and on logistic regression; and the bound is attained at :math:`k=N` on
  ``HuberWorstCase`` built for :math:`N` steps (against the problem's own closed form);
* smooth strongly convex, step :math:`1/L`: :math:`\|x_k-x^*\|^2\le(1-\mu/L)^k\|x_0-x^*\|^2`
  on quadratics and on strongly convex logistic regression;
* smooth non-convex, step :math:`1/L`: :math:`\min_{i<k}\|\nabla f(x_i)\|^2\le
  \frac{2L(f(x_0)-f^*)}{k}` on ``PLSine`` and ``Rastrigin``.

Companions: a step outside the theorems' range (:math:`2.5/L`) or a deliberately broken
update (``theorems.broken.AscentGD``) makes the same check report violations.
"""
import math

import numpy as np
import pytest
from hypothesis import strategies as st

import optimizers
import problems as P
from theorems import GD_CONVEX, GD_NONCONVEX, GD_STRONGLY_CONVEX, Instance, check
from theorems import strategies as S
from theorems.broken import AscentGD
from theorems.testing import assert_satisfied, assert_violated, given_instances

STEPS = 150


# ----------------------------------------------------------------------------- smooth convex
@pytest.mark.slow
@given_instances(GD_CONVEX, h=st.floats(0.05, 1.0))
def test_gd_convex_quadratic_bound_at_every_iterate(instance, h):
    assert_satisfied(optimizers.SGD, GD_CONVEX, instance, params={"lr": h / instance.L},
                     steps=STEPS)


@pytest.mark.slow
@given_instances(S.huber_functions(), h=st.floats(0.05, 1.0))
def test_gd_convex_bound_on_huber_functions_from_random_starts(instance, h):
    """A Huber function (convex, L-smooth, not quadratic; x* = 0) with kink radius
    1/(2N+1), from a random start (not the worst one): the convex bound with R = ||x_0||."""
    assert_satisfied(optimizers.SGD, GD_CONVEX, instance, params={"lr": h / instance.L},
                     steps=100)


@pytest.mark.slow
@given_instances(S.logistic_regressions(mu=(0.001, 0.5)))
def test_gd_convex_bound_on_logistic_regression(instance):
    assert_satisfied(optimizers.SGD, GD_CONVEX, instance, steps=60)


@given_instances(S.huber_worst_cases())
def test_gd_convex_bound_is_attained_on_the_huber_worst_case(instance):
    """The bound cannot be improved: GD reaches it at k = N on the function built for N (the
    problem's own closed form of the bound, ``HuberWorstCase.gd_bound``)."""
    p, h, N = instance.problem, instance.meta["h"], instance.meta["N"]
    report = assert_satisfied(optimizers.SGD, GD_CONVEX, instance, params={"lr": h / p.L},
                              steps=N)
    assert math.isclose(report.measured[N], p.gd_bound(), rel_tol=1e-9)


@pytest.mark.slow
@given_instances(S.quadratics(convex_only=True, starts=("random", "fastest")))
def test_companion_convex_step_2_5_over_L_violates_the_bound(instance):
    """Step 2.5/L (outside 0 < h <= 1, and beyond the stability limit 2/L): the component along
    the top eigenvector grows by 1.5 per step."""
    assert_violated(optimizers.SGD, GD_CONVEX, instance, params={"lr": 2.5 / instance.L},
                    steps=STEPS, outside=True)


@given_instances(S.quadratics(convex_only=True, starts=("random", "fastest")))
def test_companion_convex_broken_update_violates(instance):
    """Ascent instead of descent: f grows from the first step."""
    assert_violated(AscentGD, GD_CONVEX, instance, steps=5)


def test_companion_convex_the_worst_case_breaks_a_smaller_bound():
    """The check is tight: on the worst case, the bound with 4k+2 replaced by 4k+3 fails."""
    report = check(optimizers.SGD, GD_CONVEX, P.HuberWorstCase(L=1.0, R=1.0, n_steps=50),
                   steps=50)
    assert report.satisfied
    k = np.arange(51)
    assert np.any(report.measured > 1.0 / (4 * k + 3))


# ----------------------------------------------------------------------------- strongly convex
@pytest.mark.slow
@given_instances(GD_STRONGLY_CONVEX)
def test_gd_strongly_convex_quadratic_distance_contracts(instance):
    assert_satisfied(optimizers.SGD, GD_STRONGLY_CONVEX, instance, steps=STEPS)


@pytest.mark.slow
@given_instances(S.logistic_regressions(mu=(0.01, 1.0)))
def test_gd_strongly_convex_logistic_distance_contracts(instance):
    """Not a quadratic; x* from Newton's method, to ||grad|| <= 1e-12, hence within
    delta = 1e-12/mu of the true minimiser: the theorem's slack adds 4 delta ||x_0 - x*|| +
    4 delta^2 (``Instance.x_star_error``)."""
    assert instance.x_star_error == pytest.approx(1e-12 / instance.mu)
    assert_satisfied(optimizers.SGD, GD_STRONGLY_CONVEX, instance, steps=80)


@pytest.mark.slow
@given_instances(S.quadratics(starts=("random", "fastest")))
def test_companion_strongly_convex_step_2_5_over_L_violates(instance):
    assert_violated(optimizers.SGD, GD_STRONGLY_CONVEX, instance,
                    params={"lr": 2.5 / instance.L}, steps=STEPS, outside=True)


@given_instances(GD_STRONGLY_CONVEX)
def test_companion_strongly_convex_broken_update_violates(instance):
    """Ascent instead of descent: the distance grows from the first step."""
    assert_violated(AscentGD, GD_STRONGLY_CONVEX, instance, steps=5)


# ----------------------------------------------------------------------------- non-convex
@pytest.mark.slow
@given_instances(GD_NONCONVEX)
def test_gd_nonconvex_min_gradient_norm_bound(instance):
    assert_satisfied(optimizers.SGD, GD_NONCONVEX, instance, steps=STEPS)


def two_cycle() -> float:
    """The point c > 0 of GD's 2-cycle {c, -c} on x^2 + 3 sin^2 x with the step 2.5/L = 5/16:
    c - (5/16)(2c + 3 sin 2c) = -c, i.e. 4.4 c = 3 sin 2c (bisection on [0.3, 1])."""
    lo, hi = 0.3, 1.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if 4.4 * mid < 3 * math.sin(2 * mid) else (lo, mid)
    return 0.5 * (lo + hi)


@st.composite
def near_the_two_cycle(draw):
    """PLSine started near GD's attracting 2-cycle (every coordinate within 0.1 of +-c)."""
    dim = draw(st.integers(1, 6))
    signs = np.array(draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=dim, max_size=dim)))
    offsets = np.array(draw(st.lists(st.floats(-0.1, 0.1), min_size=dim, max_size=dim)))
    x0 = signs * two_cycle() + offsets
    return Instance(P.PLSine(dim=dim, x0=x0),
                    words=f"PLSine, dimension {dim}, start {np.round(x0, 4).tolist()} near the "
                          f"2-cycle +-{two_cycle():.4f} of GD with step 2.5/L")


@pytest.mark.slow
@given_instances(near_the_two_cycle())
def test_companion_nonconvex_step_2_5_over_L_violates(instance):
    """Step 2.5/L on PLSine: its only stationary point is the minimiser 0, where f'' = L = 8,
    so GD with this step cannot settle there (|1 - 2.5| > 1). From a random start an early
    iterate may pass close to 0 (PLSine in dimension 1 from -1.92 has ||grad f||^2 = 0.196 at
    k = 2, from 4.49 0.107), and the minimum over i < k of the bound's left side then stays
    below 2L(f(x_0) - f*)/k for hundreds of steps; started near the attracting 2-cycle
    {c, -c} (4.4 c = 3 sin 2c, c = 0.6607; the 2-step map has derivative
    (1 - (5/16) f''(c))^2 = 0.008 there) the gradient stays near ||grad f(c)||^2 per
    coordinate while the bound goes to 0."""
    assert_violated(optimizers.SGD, GD_NONCONVEX, instance, params={"lr": 2.5 / instance.L},
                    steps=100, outside=True)


@pytest.mark.slow
@given_instances(S.pl_functions())
def test_companion_nonconvex_broken_update_violates(instance):
    """Ascent on PLSine (no stationary point but 0): the gradient grows, the bound fails."""
    assert_violated(AscentGD, GD_NONCONVEX, instance, steps=200)
