"""theorems.strategies: the drawn problems carry the right constants (checked against
independent computations), describe themselves in words, and shrink to simple examples; and the
pytest decorator prints the shrunk counterexample in words."""
import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import minigrad as mg
import optimizers
import problems as P
from theorems import GD_STRONGLY_CONVEX, SGD_CONSTANT_STEP, THEOREMS, Instance
from theorems import strategies as S
from theorems.testing import assert_satisfied, assert_violated, given_instances

FEW = settings(deadline=None, derandomize=True, max_examples=8, database=None,
               suppress_health_check=[HealthCheck.too_slow])
SHRINK = settings(deadline=None, derandomize=True, max_examples=50, database=None)


@FEW
@given(instance=S.quadratics())
def test_a_drawn_quadratic_has_its_stated_constants(instance):
    """mu and L are the extreme eigenvalues of A (numpy's eigvalsh, not the problem's own
    spectrum); x* solves A x = b; R^2 is ||x_0 - x*||^2."""
    q = instance.problem
    lam = np.linalg.eigvalsh(mg.to_numpy(q.A))
    assert lam[0] == pytest.approx(instance.mu, rel=1e-9, abs=1e-12)
    assert lam[-1] == pytest.approx(instance.L, rel=1e-9)
    np.testing.assert_allclose(mg.to_numpy(q.A) @ instance.x_star, mg.to_numpy(q.b),
                               atol=1e-9 * (1 + np.abs(mg.to_numpy(q.b)).max()))
    assert instance.R2 == pytest.approx(float(np.sum((instance.x0 - instance.x_star) ** 2)))
    assert instance.f_star == pytest.approx(q.value(instance.x_star), rel=1e-12, abs=1e-12)
    assert "quadratic, dimension" in repr(instance) and "spectrum" in repr(instance)


@FEW
@given(instance=st.one_of(S.strongly_convex_finite_sums(), S.convex_finite_sums(),
                          S.logistic_regressions()))
def test_a_drawn_finite_sum_has_a_minimiser(instance):
    """The gradient vanishes at x* (the engine's gradient) and f* = f(x*)."""
    p = instance.problem
    g = mg.to_numpy(p.grad(instance.x_star))
    assert np.linalg.norm(g) <= 1e-9 * (1 + instance.L)
    assert instance.f_star == pytest.approx(p.value(instance.x_star), rel=1e-10, abs=1e-12)
    assert instance.R2 >= 0 and "seed" in instance.meta


@FEW
@given(instance=S.pl_functions())
def test_a_drawn_pl_function_is_not_convex_and_has_its_minimum_at_zero(instance):
    assert instance.problem.convex is False and instance.f_star == 0.0
    np.testing.assert_array_equal(instance.x_star, 0.0)


def test_the_strategies_shrink_to_simple_examples():
    """The minimal quadratic is two-dimensional with a linear spectrum and a random start; the
    minimal counterexample of GD with step 2.5/L is too."""
    q = find(S.quadratics(), lambda i: True, settings=SHRINK)
    assert q.dim == 2 and q.meta["spacing"] == "linear" and q.meta["start"] == "random"

    def passes(instance):
        from theorems import check
        return check(optimizers.SGD, GD_STRONGLY_CONVEX, instance, steps=20,
                     params={"lr": 2.5 / instance.L}, outside=True).satisfied
    bad = find(S.quadratics(), lambda i: not passes(i), settings=SHRINK)
    assert bad.dim == 2 and bad.meta["spacing"] == "linear"


def test_every_theorem_with_a_class_has_a_strategy():
    for theorem in THEOREMS:
        if theorem.empirical:
            with pytest.raises(ValueError, match="no strategy"):
                theorem.strategy()
        else:
            assert theorem.strategy() is not None


def test_a_failure_prints_the_shrunk_counterexample_in_words():
    @given_instances(GD_STRONGLY_CONVEX, max_examples=20)
    def check_a_too_large_step(instance):
        assert_satisfied(lambda x, g, k: x - 2.5 * g / instance.L, GD_STRONGLY_CONVEX,
                         instance, params={"lr": 2.5 / instance.L}, steps=10, outside=True)

    with pytest.raises(AssertionError) as err:
        check_a_too_large_step()
    text = str(err.value) + "\n".join(getattr(err.value, "__notes__", []))
    assert "GD, smooth strongly convex violated on quadratic, dimension 2" in text
    assert "spectrum [" in text and "(linear spacing)" in text and "lr = " in text
    assert "instance=<quadratic, dimension 2" in text       # hypothesis's falsifying example


def test_the_companion_assertion_fails_when_the_run_satisfies_the_theorem():
    inst, params = SGD_CONSTANT_STEP.example()
    with pytest.raises(AssertionError, match="expected to violate"):
        assert_violated(optimizers.SGD, SGD_CONSTANT_STEP, inst, params=params, steps=5,
                        seeds=4)
    q = Instance(P.Quadratic(dim=2, mu=0.5, L=1.0), words="a small quadratic")
    assert assert_satisfied(optimizers.SGD, GD_STRONGLY_CONVEX, q, steps=5).satisfied
