r"""Property-based tests of the SGD theorems (docs/lectures.md section 1, items 1-4; L1, L2) on
the public theorems package.

Each test draws a problem from the class its theorem covers (``theorems.strategies``: data
seed, sizes, :math:`\mu`, start; the step within the theorem's range), and
``theorems.check`` runs ``optimizers.SGD`` and tests the bound **in expectation** with the
theorem's procedure (``theorems.sgd``): ``S = 40`` independent runs of the same problem at
once (the rows of one ``(S, d)`` parameter, verified against a separate run; single-sample
mini-batches from one seeded generator, so the tests are deterministic); at every iteration
the mean over the runs minus 3 standard errors must lie below the bound; :math:`\sigma^2` is
certified on the run (the maximum of the exact :math:`\sigma^2(x)` over every iterate visited).

Each theorem has a companion that feeds the same check a run that breaks the theorem's
assumptions (a biased gradient :math:`g+\delta`, ``theorems.broken.BiasedSGD``, or no noise
floor) and asserts that it fails.

Problem classes: strongly convex (theorems 1, 2): ``LogisticRegression`` with :math:`\mu>0`,
and for theorem 1 also ``LeastSquares`` with :math:`m\ge 3d`. Convex, not strongly convex
(theorems 3, 4): ``LogisticRegression`` with :math:`\mu=0` on non-separable data and
rank-deficient ``LeastSquares`` (:math:`x^*` the minimiser nearest to :math:`x_0`). On least
squares the step is also capped at :math:`1/\max_i\|a_i\|^2` (the per-sample smoothness,
``theorems.constants.per_sample_smoothness``), so that no single-sample step diverges and
:math:`\sigma^2` over the visited region stays finite.
"""
import math

import numpy as np
import pytest
from hypothesis import assume
from hypothesis import strategies as st

import minigrad as mg
import optimizers
import schedules
from problems import LeastSquares, LogisticRegression
from theorems import (SGD_CONSTANT_STEP, SGD_CONVEX_AVERAGED, SGD_DECREASING_STEP,
                      SGD_INVERSE_SQRT, HypothesisError, check)
from theorems import strategies as S
from theorems.constants import per_sample_smoothness
from theorems.sgd import SGDConstantStep
from theorems.stacked import stacked_view
from theorems.testing import assert_satisfied, assert_violated, given_instances


def ls_cap(instance):
    """The per-sample stability cap 1/max_i ||a_i||^2 on least squares (inf for logistic)."""
    p = instance.problem
    return 1.0 / per_sample_smoothness(p) if isinstance(p, LeastSquares) else math.inf


def companion(theorem, **params):
    """The theorem's shipped biased-gradient companion on its example problem."""
    inst, default = theorem.example()
    kw = theorem.companions[0].build(theorem, inst)
    return inst, kw, {**default, **params}


# --------------------------------------------------------------------------- the stacked view
def test_stacked_view_matches_the_problem():
    """The closed forms of the stacked view agree with the problems' own engine results."""
    for p in (LogisticRegression(m=30, dim=3, mu=0.5, seed=1),
              LeastSquares(m=30, dim=3, noise=0.5, seed=1)):
        sv = stacked_view(p)
        X = np.random.default_rng(0).standard_normal((4, 3))
        np.testing.assert_allclose(sv.f(X), [p.value(x) for x in X], rtol=1e-12)
        np.testing.assert_allclose(sv.sigma2(X), [p.sigma2(x) for x in X], rtol=1e-12)
        idx = np.random.default_rng(1).integers(0, 30, size=(4, 2))
        Xt = mg.Tensor(X.copy(), requires_grad=True)
        sv.batch_loss(Xt, idx).backward()
        for s in range(4):
            np.testing.assert_allclose(mg.to_numpy(Xt.grad)[s],
                                       mg.to_numpy(p.grad_batch(X[s], idx[s])), rtol=1e-10,
                                       atol=1e-14)


# --------------------------------------------------------------------------- theorem 1
@pytest.mark.slow
@given_instances(S.strongly_convex_finite_sums(), frac=st.floats(0.05, 0.95))
def test_theorem1_constant_step_bound_in_expectation(instance, frac):
    r"""Theorem 1: :math:`\alpha<\frac1{2\mu}` gives
    :math:`\mathbb E[f(x_k)-f^*]\le(1-2\alpha\mu)^k(f(x_0)-f^*)+\frac{L\sigma^2\alpha}{4\mu}`."""
    alpha = min(frac / (2 * instance.mu), ls_cap(instance))
    assert_satisfied(optimizers.SGD, SGD_CONSTANT_STEP, instance, params={"lr": alpha},
                     steps=120, rng_seed=instance.meta["seed"])


@pytest.mark.slow
@given_instances(S.strongly_convex_finite_sums(), frac=st.floats(0.2, 0.95))
def test_theorem1_constant_step_does_not_converge(instance, frac):
    """The floor term is needed: without it (the linear term alone, which is what a converging
    method would satisfy) the same check fails, i.e. a constant step does not converge."""
    alpha = min(frac / (2 * instance.mu), ls_cap(instance))
    K = 120
    assume((1 - 2 * alpha * instance.mu) ** K < 1e-6)
    assert_violated(optimizers.SGD, SGDConstantStep(floor=False), instance,
                    params={"lr": alpha}, steps=K, rng_seed=instance.meta["seed"])


def test_theorem1_check_fails_for_a_biased_gradient():
    """Companion: a constant bias delta in the gradient (so E[g] != grad f) moves the fixed
    point to where grad f = -delta; with the same step and the honest sigma^2 the bound fails;
    unbiased, it holds."""
    inst, kw, params = companion(SGD_CONSTANT_STEP, lr=0.1)
    assert kw["steps"] == 150 and inst.mu == 1.0
    np.testing.assert_array_equal(kw["optimizer"].delta, [2.0, 1.0, -1.0])
    assert not check(theorem=SGD_CONSTANT_STEP, params=params, **kw).satisfied
    assert check(optimizers.SGD, SGD_CONSTANT_STEP, inst, params=params, steps=150).satisfied


# --------------------------------------------------------------------------- theorem 2
@pytest.mark.slow
@given_instances(S.strongly_convex_finite_sums(least_squares=False))
def test_theorem2_decreasing_step_bound_in_expectation(instance):
    r"""Theorem 2: :math:`\alpha_k=\frac{2k+1}{2\mu(k+1)^2}` gives
    :math:`\mathbb E[f(x_k)-f^*]\le\frac{L\sigma^2}{2\mu^2k}` for :math:`k\ge1`, from any
    start."""
    assert_satisfied(optimizers.SGD, SGD_DECREASING_STEP, instance,
                     params={"lr": schedules.StronglyConvexSGDStep(instance.mu)}, steps=150,
                     rng_seed=instance.meta["seed"])


def test_theorem2_check_fails_for_a_biased_gradient():
    """Companion: with a biased gradient the gap stalls at a positive level while the bound
    L sigma^2 / (2 mu^2 k) goes to 0: the same check fails."""
    inst, kw, params = companion(SGD_DECREASING_STEP)
    assert kw["steps"] == 300 and params["lr"].mu == 1.0
    assert not check(theorem=SGD_DECREASING_STEP, params=params, **kw).satisfied


# --------------------------------------------------------------------------- theorem 3
@pytest.mark.slow
@given_instances(S.convex_finite_sums(), factor=st.floats(0.25, 4.0))
def test_theorem3_constant_step_averaged_iterate(instance, factor):
    r"""Theorem 3 (convex, constant :math:`\alpha`, :math:`\bar x_k=\frac1k\sum_{t<k}x_t`):
    :math:`\mathbb E[f(\bar x_k)-f^*]\le\frac{R^2}{2\alpha k}+\frac{\alpha\sigma^2}2`; the step
    is the horizon step :math:`R/(\hat\sigma\sqrt K)` (``schedules.HorizonSGDStep``,
    :math:`\hat\sigma^2=\sigma^2(x_0)`) times a factor, capped on least squares."""
    R = math.sqrt(instance.R2)
    K = 150
    sigma_hat = math.sqrt(float(stacked_view(instance.problem).sigma2(instance.x0[None])[0]))
    alpha = min(schedules.HorizonSGDStep(R, sigma_hat / factor, K).value, ls_cap(instance))
    assert_satisfied(optimizers.SGD, SGD_CONVEX_AVERAGED, instance, params={"lr": alpha},
                     steps=K, rng_seed=instance.meta["seed"])
    if factor == 1.0 and alpha < ls_cap(instance):   # the horizon value R sigma / sqrt K at K
        assert SGD_CONVEX_AVERAGED.bound(K, R, alpha, sigma_hat ** 2) == pytest.approx(
            R * sigma_hat / math.sqrt(K))


def test_theorem3_horizon_step_balances_the_two_terms():
    """With alpha = R/(sigma sqrt K) the bound at k = K is R sigma / sqrt K."""
    R, sigma, K = 2.0, 3.0, 400
    alpha = schedules.HorizonSGDStep(R, sigma, K).value
    assert SGD_CONVEX_AVERAGED.bound(K, R, alpha, sigma ** 2) == pytest.approx(
        R * sigma / math.sqrt(K))


def test_theorem3_check_fails_for_a_biased_gradient():
    """Companion: the same averaged-iterate check fails when the gradient is biased."""
    inst, kw, _ = companion(SGD_CONVEX_AVERAGED)
    R = math.sqrt(inst.R2)
    K = kw["steps"]
    assert K == 400
    np.testing.assert_array_equal(kw["optimizer"].delta, [1.0, -1.0, 1.0])
    sigma_hat = math.sqrt(float(stacked_view(inst.problem).sigma2(inst.x0[None])[0]))
    alpha = schedules.HorizonSGDStep(R, sigma_hat, K).value
    assert not check(theorem=SGD_CONVEX_AVERAGED, params={"lr": alpha}, **kw).satisfied


# --------------------------------------------------------------------------- theorem 4
@pytest.mark.slow
@given_instances(S.convex_finite_sums(), c=st.floats(0.1, 1.0))
def test_theorem4_inverse_sqrt_step_weighted_average(instance, c):
    r"""Theorem 4: :math:`\alpha_k=\alpha_0/\sqrt{k+1}`, :math:`0<\alpha_0\le\frac1{4L}`,
    :math:`\bar x_k=\sum_{t<k}\alpha_tx_t/\sum_{t<k}\alpha_t`:
    :math:`\mathbb E[f(\bar x_k)-f^*]\le\frac{5R^2}{4\alpha_0\sqrt k}+5\alpha_0\sigma^2
    \frac{\log(k+1)}{\sqrt k}`."""
    alpha0 = min(c / (4 * instance.L), ls_cap(instance))
    lr = schedules.InverseSqrtSGDStep(alpha0, L=instance.L)   # checks alpha0 <= 1/(4L)
    assert_satisfied(optimizers.SGD, SGD_INVERSE_SQRT, instance, params={"lr": lr}, steps=150,
                     rng_seed=instance.meta["seed"])


def test_theorem4_step_outside_the_range_is_refused():
    """alpha_0 > 1/(4L) is outside theorem 4: the schedule refuses it when given L, and the
    theorem refuses a schedule built without L, naming the hypothesis."""
    with pytest.raises(ValueError, match="1/\\(4L\\)"):
        schedules.InverseSqrtSGDStep(0.3, L=1.0)
    inst, _ = SGD_INVERSE_SQRT.example()
    too_large = schedules.InverseSqrtSGDStep(2.0 / (4 * inst.L))
    with pytest.raises(HypothesisError, match="exceeds 1/\\(4L\\)"):
        check(optimizers.SGD, SGD_INVERSE_SQRT, inst, params={"lr": too_large})


def test_theorem4_check_fails_for_a_biased_gradient():
    """Companion: the same weighted-average check fails when the gradient is biased."""
    inst, kw, params = companion(SGD_INVERSE_SQRT)
    assert kw["steps"] == 400 and params["lr"].alpha0 == 1.0 / (4 * inst.L)
    np.testing.assert_array_equal(kw["optimizer"].delta, [3.0, -3.0, 3.0])
    assert not check(theorem=SGD_INVERSE_SQRT, params=params, **kw).satisfied
