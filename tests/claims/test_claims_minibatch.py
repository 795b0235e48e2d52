r"""Property-based tests of mini-batch SGD as "gradient descent with an error" (docs/lectures.md
section 1, items 5 and 6; L1, L2) on the public theorems package.

Item 5 (``theorems.MINIBATCH_DESCENT``: for :math:`x_{k+1}=x_k-\frac1L(\nabla f(x_k)+e_k)`,
:math:`e_k=g_k-\nabla f(x_k)`)

.. math:: f(x_{k+1})\le f(x_k)-\frac1{2L}\|\nabla f(x_k)\|^2+\frac1{2L}\|e_k\|^2

is deterministic: ``theorems.check`` asserts it at **every step** of real runs
(``optimizers.SGD`` with ``lr=1/L``, mini-batches from ``problem.sample_batch``, gradients from
the engine), up to the theorem's float64 rounding slack (its docstring: it includes the data
term :math:`\sqrt{2(|f(x_k)|+|f(x_{k+1})|)}\,d\,s` that near an interpolating least-squares
solution dominates; hypothesis found such a case, a 1-D problem where the inequality is an
equality and the rounding of :math:`f` decides). Problems: logistic regression
(:math:`\mu\ge0`, :math:`L` an upper bound) and least squares (:math:`L=\lambda_{\max}`,
attained, so the inequality can be nearly tight). The inequality holds for *any* error
:math:`e_k`; what breaks it is a step other than :math:`1/L`: the companion runs gradient
descent with the step :math:`2/L` on least squares and finds violations.

Item 6 (unbiasedness): the average of :math:`\nabla f_i(x)` over all :math:`i` is
:math:`\nabla f(x)` exactly, and the mean of many mini-batch gradients drawn by
``sample_batch`` is within 4 standard errors of it.
"""
import math

import numpy as np
import pytest
from hypothesis import strategies as st

import minigrad as mg
import optimizers
from problems import LeastSquares, LogisticRegression
from theorems import MINIBATCH_DESCENT, Instance, check
from theorems import strategies as S
from theorems.testing import assert_satisfied, assert_violated, given_instances


@pytest.mark.slow
@given_instances(S.minibatch_finite_sums(), batch_frac=st.floats(0.0, 1.0))
def test_minibatch_descent_inequality_holds_at_every_step(instance, batch_frac):
    """Item 5 at every step of a run with step 1/L and a batch of any size."""
    p = instance.problem
    B = max(1, round(batch_frac * p.n))
    report = assert_satisfied(optimizers.SGD, MINIBATCH_DESCENT, instance, steps=40, batch=B,
                              rng_seed=instance.meta["seed"])
    assert len(report.k) > 0


def test_minibatch_descent_inequality_with_full_batch_is_the_descent_lemma():
    """With the full batch e_k = 0: f(x_{k+1}) <= f(x_k) - ||grad f||^2/(2L) (GD, step 1/L),
    within the rounding slack."""
    for p in (LogisticRegression(m=50, dim=4, mu=0.1, seed=2, x0=np.ones(4)),
              LeastSquares(m=50, dim=4, noise=0.5, seed=2, x0=np.ones(4))):
        report = check(optimizers.SGD, MINIBATCH_DESCENT, Instance(p, minimiser=False),
                       steps=50, batch=None)
        assert np.all(report.measured <= report.bound + report.slack)
        assert report.satisfied and len(report.k) == 50


@pytest.mark.slow
@given_instances(st.builds(lambda seed, d: Instance(
    LeastSquares(m=10 * d, dim=d, noise=0.5, seed=seed,
                 x0=np.random.default_rng(seed).standard_normal(d)), minimiser=False,
    words=f"least squares, m = {10 * d}, dimension {d}, noise 0.5, seed {seed}"),
    st.integers(0, 10_000), st.integers(2, 6)), max_examples=10)
def test_companion_step_2_over_L_violates_the_inequality(instance):
    """Companion: gradient descent with the step 2/L (outside item 5) on least squares: the top
    eigen-direction of the Hessian (curvature exactly L) no longer decays, the gradient turns
    towards it and the same check fails at some step."""
    assert_violated(optimizers.SGD, MINIBATCH_DESCENT, instance,
                    params={"lr": 2.0 / instance.L}, steps=200, batch=None, outside=True)


@pytest.mark.slow
@given_instances(S.minibatch_finite_sums(), B=st.integers(1, 5), max_examples=10)
def test_unbiased_minibatch_gradient(instance, B):
    """Item 6: E_i[grad f_i(x)] = grad f(x) exactly (all i), and the mean of 2000 mini-batch
    gradients drawn by ``sample_batch`` lies within 4 standard errors of grad f(x)."""
    p, seed = instance.problem, instance.meta["seed"]
    x = p.x0
    g = mg.to_numpy(p.grad(x))
    G = np.stack([mg.to_numpy(p.grad_i(x, i)) for i in range(p.n)])
    np.testing.assert_allclose(G.mean(axis=0), g, rtol=1e-10, atol=1e-12)
    B = min(B, p.n)
    rng = mg.backend.host_rng(seed)
    draws = np.stack([G[p.sample_batch(B, rng)].mean(axis=0) for _ in range(2000)])
    se = draws.std(axis=0, ddof=1) / math.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - g) <= 4 * se + 1e-12)
