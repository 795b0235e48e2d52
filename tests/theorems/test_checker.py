"""theorems.check: the optimizer forms agree, the report is right against hand-computed runs, a
non-finite run is a violation, and bad input is refused with a message naming the problem."""
import math

import numpy as np
import pytest

import minigrad as mg
import optimizers
import problems as P
import theorems
from optimizers.minimize import minimize
from theorems import (GD_CONVEX, GD_STRONGLY_CONVEX, HEAVY_BALL, SGD_CONSTANT_STEP,
                      HypothesisError, Instance, Solver, check)


def one_d(L=2.0, x0=3.0):
    """f(x) = L/2 x^2 in one dimension (mu = L), from x0: GD with step h/L gives
    x_k = (1 - h)^k x0 exactly."""
    return P.Quadratic(eigenvalues=[L], x_star="zeros", x0=np.array([x0]))


def test_a_hand_computed_run_and_its_report():
    """GD with step 0.5/L on L/2 x^2: ||x_k||^2 = 0.25^k x0^2; the bound (1 - h mu/L)^k R^2 =
    0.5^k x0^2 (mu = L); the fitted rate 0.25 exactly; margin, constants, violations."""
    report = check(optimizers.SGD, GD_STRONGLY_CONVEX, one_d(), params={"lr": 0.25}, steps=20)
    k = np.arange(21)
    np.testing.assert_allclose(report.measured, 0.25 ** k * 9.0, rtol=1e-13)
    np.testing.assert_allclose(report.bound, 0.5 ** k * 9.0, rtol=1e-13)
    assert report.satisfied and report.violations == []
    assert report.constants["mu"] == report.constants["L"] == 2.0
    assert report.constants["R^2"] == 9.0
    assert report.rate.fitted == pytest.approx(0.25, rel=1e-9)
    assert report.rate.low <= 0.25 <= report.rate.high
    assert report.rate.theory == 0.5
    # the smallest margin after the start is at the last iterate (the bound decays slower)
    assert report.margin_at == 20
    assert report.margin == pytest.approx(0.5 ** 20 * 9 * (1 + 1e-9) - 0.25 ** 20 * 9,
                                          rel=1e-6)
    text = str(report)
    assert "SATISFIED" in text and "lr = 0.25 (= 0.5/L)" in text and "violations  none" in text


def test_the_optimizer_forms_give_the_same_run():
    """A class, a factory, a step function and a solver-free step all make GD's iterates."""
    q = P.Quadratic(dim=4, mu=0.2, L=1.0, seed=3)
    runs = [check(optimizers.SGD, GD_STRONGLY_CONVEX, q, steps=15),
            check(lambda params, lr: optimizers.SGD(params, lr=lr), GD_STRONGLY_CONVEX, q,
                  steps=15),
            check(lambda x, g, k: x - 1.0 * g, GD_STRONGLY_CONVEX, q, steps=15)]
    for r in runs[1:]:
        np.testing.assert_allclose(r.measured, runs[0].measured, rtol=1e-12, atol=1e-300)
    assert [r.optimizer for r in runs] == ["SGD", "<lambda>", "<lambda>"]


def test_a_solver_is_driven_through_its_callback():
    """Newton's method through optimizers.minimize on a quadratic (M = 0: its Hessian is
    constant) reaches x* in one step: e_1 is at the rounding level, the bound 0 + floor."""
    q = P.Quadratic(dim=3, mu=0.5, L=2.0, seed=1)
    newton = Solver(minimize, method="newton", line_search=None)
    report = check(newton, theorems.NEWTON_QUADRATIC, Instance(q, M=0.0))
    assert report.satisfied and report.bound[0] == 0.0
    assert report.measured[0] < 1e-13 and report.k[0] == 0


def test_an_optimizer_that_returns_nan_is_a_violation_at_that_step():
    def breaks_at_3(x, g, k):
        return x - 0.5 * g if k < 2 else x * math.nan

    report = check(breaks_at_3, GD_CONVEX, one_d(), params={"lr": 0.25}, steps=10)
    assert not report.satisfied
    v = report.violations[0]
    assert v.k == 3 and math.isnan(v.measured) and "non-finite" in v.reason
    assert len(report.k) == 4 and any("stopped at k = 3" in n for n in report.notes)


def test_an_optimizer_that_raises_on_a_nonfinite_value_is_a_violation():
    class Refuses(optimizers.SGD):
        def step(self, closure=None):
            if self.step_count == 2:
                raise optimizers.nonfinite.NonFiniteError("Refuses: a NaN in the gradient")
            return super().step(closure)

    report = check(Refuses, GD_STRONGLY_CONVEX, one_d(), params={"lr": 0.5}, steps=10)
    assert not report.satisfied and report.violations[-1].k == 3
    assert any("raised at step 2" in n for n in report.notes)


def test_problems_and_steps_outside_the_hypotheses_are_refused_by_name():
    with pytest.raises(HypothesisError, match="f must be convex: PLSine"):
        check(optimizers.SGD, GD_CONVEX, P.PLSine(dim=2))
    with pytest.raises(HypothesisError, match=r"lr = 3 is outside the admissible range"):
        check(optimizers.SGD, GD_CONVEX, one_d(), params={"lr": 3.0})
    with pytest.raises(HypothesisError, match="must be a quadratic"):
        check(optimizers.Momentum, HEAVY_BALL, P.LogisticRegression(m=20, dim=2, seed=0))
    with pytest.raises(HypothesisError, match="finite sum"):
        check(optimizers.SGD, SGD_CONSTANT_STEP, one_d())
    with pytest.raises(HypothesisError, match="0 < mu < L"):
        check(optimizers.Momentum, HEAVY_BALL, one_d())   # kappa = 1
    err = pytest.raises(HypothesisError, check, optimizers.SGD, GD_CONVEX, P.PLSine(dim=2),
                        params={"lr": 1.0})
    assert len(err.value.failures) == 2            # not convex, and the step above 1/L = 1/8


def test_outside_true_runs_and_lists_what_fails():
    report = check(optimizers.SGD, GD_CONVEX, one_d(), params={"lr": 1.5}, steps=5,
                   outside=True)
    assert report.outside == ["lr = 1.5 is outside the admissible range 0 < lr <= 1/L"]
    assert "OUTSIDE the hypotheses" in str(report)


def test_bad_arguments_are_refused_with_a_clear_error():
    q = one_d()
    with pytest.raises(ValueError, match="steps must be >= 1"):
        check(optimizers.SGD, GD_CONVEX, q, steps=0)
    with pytest.raises(TypeError, match="not an optimizers.Optimizer"):
        check(dict, GD_CONVEX, q)
    with pytest.raises(TypeError, match="must be an optimizer class"):
        check(3, GD_CONVEX, q)
    with pytest.raises(ValueError, match="returned shape"):
        check(lambda x, g, k: np.zeros(2), GD_CONVEX, q)
    with pytest.raises(ValueError, match="x0 has shape"):
        Instance(q, x0=np.zeros(3))
    with pytest.raises(TypeError, match="problems.Problem"):
        Instance("not a problem")
    with pytest.raises(TypeError, match="theorems.Solver"):
        check(optimizers.SGD, theorems.ZERO_ORDER_GD, P.Quadratic(dim=2, mu=0.5, L=1.0))


def test_stacked_runs_refuse_an_update_that_couples_the_rows():
    """Normalised GD divides by the norm of the whole gradient: as rows of one parameter the
    runs would be coupled; the check sees it and asks for separate runs, which then work."""
    inst, _ = SGD_CONSTANT_STEP.example()
    with pytest.raises(ValueError, match="parallel='separate'"):
        check(optimizers.NormalizedGD, SGD_CONSTANT_STEP, inst, params={"lr": 0.01}, steps=3)
    report = check(optimizers.NormalizedGD, SGD_CONSTANT_STEP, inst, params={"lr": 0.01},
                   steps=3, seeds=4, parallel="separate")
    assert report.k.size == 4


def test_rows_and_separate_runs_agree_for_a_coordinate_wise_optimizer():
    inst, params = SGD_CONSTANT_STEP.example()
    a = check(optimizers.SGD, SGD_CONSTANT_STEP, inst, params=params, steps=20, seeds=6)
    b = check(optimizers.SGD, SGD_CONSTANT_STEP, inst, params=params, steps=20, seeds=6,
              parallel="separate")
    c = check(lambda x, g, k: x - 0.1 * g, SGD_CONSTANT_STEP, inst, params=params, steps=20,
              seeds=6)
    np.testing.assert_allclose(a.measured, b.measured, rtol=1e-10)
    np.testing.assert_allclose(a.measured, c.measured, rtol=1e-10)
    assert a.constants["sigma^2"] == pytest.approx(b.constants["sigma^2"], rel=1e-12)


def test_the_stacked_fallback_runs_any_finite_sum_row_by_row():
    """A finite sum without a closed form (a subclass the stacked view does not know) runs
    through the problem's own methods, one row at a time, with separate runs."""
    class MyLeastSquares(P.FiniteSumProblem):
        def __init__(self, base):
            self.base, self.n = base, base.n
            self._setup(base.x0, shape=base.shape, mu=base.mu, L=base.L,
                        x_star=mg.to_numpy(base.x_star), f_star=base.f_star)
            self.mu_kind, self.convex = "strongly convex", True

        def _terms(self, x, idx):
            return self.base._terms(x, idx)

    base = P.LeastSquares(m=30, dim=2, noise=0.5, seed=0, x0=np.array([1.0, -1.0]))
    mine = MyLeastSquares(base)
    a = check(optimizers.SGD, SGD_CONSTANT_STEP, mine, params={"lr": 0.05}, steps=10, seeds=3,
              parallel="separate")
    b = check(optimizers.SGD, SGD_CONSTANT_STEP, base, params={"lr": 0.05}, steps=10, seeds=3)
    np.testing.assert_allclose(a.measured, b.measured, rtol=1e-9)
