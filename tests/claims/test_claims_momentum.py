r"""Property tests of the heavy ball on quadratics (Polyak 1964; L0, L3; docs/lectures.md section
2) on the public theorems package (``theorems.HEAVY_BALL``: the parameters, the bound, its
derivation and slack are in ``theorems.momentum``).

On :math:`f=\frac12x^\top Ax-b^\top x` with spectrum in :math:`[\mu,L]`, :math:`\kappa=L/\mu>1`,
the heavy ball ``optimizers.Momentum`` (velocity or accumulator form: the same iterates for a
constant step) at

.. math:: \alpha^*=\frac4{(\sqrt L+\sqrt\mu)^2},\qquad\beta^*=\rho^2,\qquad
          \rho=\frac{\sqrt\kappa-1}{\sqrt\kappa+1}.

**What is asserted.**

1. *The iteration matrix.* Its spectral radius on :math:`(x_k-x^*,x_{k-1}-x^*)`, computed
   numerically (``numpy.linalg.eigvals`` of the :math:`2n\times2n` matrix built from the
   problem's :math:`A`), equals :math:`\rho` (to :math:`10^{-6}`: the double roots at
   :math:`\mu` and :math:`L` are Jordan blocks, computed to about :math:`\sqrt{\text{eps}}`).
2. *The explicit bound at every iterate* :math:`\|x_k-x^*\|\le C_k\rho^k\|x_0-x^*\|`,
   :math:`C_k=kM/\rho+k-1`, of a run of the real optimizer (``theorems.check``).
3. *Acceleration*: after 200 steps the distance is below GD's best rate
   :math:`\frac{\kappa-1}{\kappa+1}` to the power 200.

**Companions** (the same checks fail): the step :math:`2\alpha^*`; plain GD with its best step
:math:`2/(\mu+L)` (rate :math:`\frac{\kappa-1}{\kappa+1}>\rho`); and :math:`\beta=\beta^*/2`
(the spectral radius exceeds :math:`\rho`).
"""
import math

import pytest
from hypothesis import strategies as st

import optimizers
from theorems import HEAVY_BALL, check
from theorems import strategies as S
from theorems.testing import assert_satisfied, assert_violated, given_instances

STEPS = 200


@given_instances(HEAVY_BALL)
def test_spectral_radius_of_the_iteration_matrix_is_rho(instance):
    alpha, beta = HEAVY_BALL.optimal_parameters(instance.mu, instance.L)
    rho = HEAVY_BALL.rate(instance.mu, instance.L)
    assert beta == pytest.approx(rho ** 2, rel=1e-14)
    assert abs(HEAVY_BALL.spectral_radius(instance.problem.A, alpha, beta) - rho) <= 1e-6


@pytest.mark.slow
@given_instances(HEAVY_BALL, form=st.sampled_from(["velocity", "accumulator"]))
def test_heavy_ball_explicit_bound_at_every_iterate(instance, form):
    params = {**HEAVY_BALL.default_parameters(instance), "form": form}
    assert_satisfied(optimizers.Momentum, HEAVY_BALL, instance, params=params, steps=STEPS)


@pytest.mark.slow
@given_instances(S.quadratics(log_kappa=(1.0, 2.5)))
def test_heavy_ball_beats_gd_rate(instance):
    """The measured decay over 200 steps is faster than GD's best rate (kappa-1)/(kappa+1)
    allows, as soon as the run is long enough for the factor C_k to matter less than the rate:
    ||x_200 - x*|| <= rho_GD^200 ||x_0 - x*||."""
    report = check(optimizers.Momentum, HEAVY_BALL, instance, steps=STEPS)
    dist = report.measured
    kappa = instance.L / instance.mu
    assert dist[-1] <= ((kappa - 1) / (kappa + 1)) ** STEPS * dist[0] + HEAVY_BALL.atol(instance)


# ----------------------------------------------------------------------------- companions
@pytest.mark.slow
@given_instances(S.quadratics(log_kappa=(0.2, 4.0), starts=("random", "fastest")))
def test_companion_twice_the_optimal_step_violates_the_bound(instance):
    alpha, beta = HEAVY_BALL.optimal_parameters(instance.mu, instance.L)
    assert_violated(optimizers.Momentum, HEAVY_BALL, instance,
                    params={"lr": 2 * alpha, "momentum": beta}, steps=STEPS, outside=True)


@pytest.mark.slow
@given_instances(S.quadratics(log_kappa=(1.0, 3.0)))
def test_companion_gd_with_its_best_step_violates_the_heavy_ball_bound(instance):
    """GD (beta = 0, step 2/(mu+L)) contracts the extreme eigencomponents by exactly
    (kappa-1)/(kappa+1) > rho per step, so it breaks the accelerated bound (kappa >= 10)."""
    assert HEAVY_BALL.gd_rate(instance.mu, instance.L) > HEAVY_BALL.rate(instance.mu, instance.L)
    assert_violated(optimizers.Momentum, HEAVY_BALL, instance,
                    params={"lr": 2.0 / (instance.mu + instance.L), "momentum": 0.0},
                    steps=600, outside=True)


@given_instances(HEAVY_BALL)
def test_companion_half_the_momentum_has_a_larger_spectral_radius(instance):
    alpha, beta = HEAVY_BALL.optimal_parameters(instance.mu, instance.L)
    rho = HEAVY_BALL.rate(instance.mu, instance.L)
    assert HEAVY_BALL.spectral_radius(instance.problem.A, alpha, beta / 2) > rho + 1e-3 * (
        1 - rho)


def test_optimal_parameters_and_rates_in_closed_form():
    """kappa = 4 (mu = 1, L = 4): alpha* = 4/9, rho = 1/3, beta* = 1/9; GD's best 3/5."""
    alpha, beta = HEAVY_BALL.optimal_parameters(1.0, 4.0)
    assert alpha == pytest.approx(4 / 9, rel=1e-15)
    assert beta == pytest.approx(1 / 9, rel=1e-14)
    assert HEAVY_BALL.rate(1.0, 4.0) == pytest.approx(1 / 3, rel=1e-15)
    assert HEAVY_BALL.gd_rate(1.0, 4.0) == pytest.approx(3 / 5, rel=1e-15)
    assert math.isclose(HEAVY_BALL.bound(0, 1.0, 4.0, 2.0), 2.0)
