r"""Property test of zero-order GD's linear rate with the factor n (L1; docs/lectures.md sections
1, 7) on the public theorems package (``theorems.ZERO_ORDER_GD``).

Claim: on an :math:`L`-smooth, :math:`\mu`-strongly convex quadratic on :math:`\mathbb{R}^n`,
zero-order GD (``optimizers.zero_order.zo_gd``, run through ``theorems.Solver``) with the
two-point estimate :math:`G=\frac{n}{2\tau}(f(x+\tau e)-f(x-\tau e))e`, :math:`e` uniform on the
unit sphere, and the step :math:`\alpha=\frac1{nL}` satisfies

.. math:: \mathbb{E}[f(x_k)-f^*]\le\Bigl(1-\frac{\mu}{nL}\Bigr)^k(f(x_0)-f^*).

What is asserted: hypothesis draws a quadratic (dimension, spectrum in :math:`[\mu,L]`,
rotation, start); the theorem's procedure (48 runs, seeds 0..47 of ``zo_gd``) estimates the
expectation; at every iterate the mean gap is at most the bound plus 4 standard errors of the
mean (everything is seeded, so the test is deterministic).

Companion: the step :math:`8/(nL)` on quadratics with equispaced spectra and :math:`n\ge4`:
there :math:`\frac{\alpha^2}2\mathbb{E}[G^\top AG]>\alpha\|\nabla f\|^2`, the expected gap
grows, and the same check fails.
"""
import pytest

from optimizers.zero_order.zo_gd import zo_gd
from theorems import ZERO_ORDER_GD, Solver
from theorems import strategies as S
from theorems.testing import assert_satisfied, assert_violated, given_instances

ZO_GD = Solver(zo_gd, values_only=True, tau=1e-3, estimator="two-point")


@pytest.mark.slow
@given_instances(ZERO_ORDER_GD, max_examples=12)
def test_zero_order_gd_linear_rate_with_the_factor_n(instance):
    n = instance.dim
    steps = min(int(3 * n * instance.L / instance.mu), 120)   # about 3 time constants n kappa
    assert_satisfied(ZO_GD, ZERO_ORDER_GD, instance, steps=steps)


@pytest.mark.slow
@given_instances(S.quadratics(dims=(4, 8), log_kappa=(0.2, 1.3), spacings=("linear",)),
                 max_examples=12)
def test_companion_step_8_over_nL_violates(instance):
    n = instance.dim
    assert_violated(ZO_GD, ZERO_ORDER_GD, instance, params={"lr": 8.0 / (n * instance.L)},
                    steps=4 * n, outside=True)
