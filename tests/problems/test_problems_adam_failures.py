"""Reddi et al.'s online problem and the limit cycle of Adam on w^2.

The Adam and AMSGrad loops here are written out in the test from the papers' update rules (the
project's optimizers are not imported: problems must not depend on them, and these tests check
the problems' claims, not the optimizers)."""
import math

import numpy as np
import pytest

import minigrad as mg
import problems as P


def test_reddi_gradients_projection_and_x_star():
    p = P.ReddiOnline(C=3.0)
    assert [float(p.grad_at(t)[0]) for t in range(1, 8)] == [3, -1, -1, 3, -1, -1, 3]
    np.testing.assert_array_equal(p.project(np.array([2.5])), [1.0])
    np.testing.assert_array_equal(p.project(np.array([-7.0])), [-1.0])
    np.testing.assert_array_equal(p.project(np.array([0.3])), [0.3])
    np.testing.assert_array_equal(mg.to_numpy(p.x_star), [-1.0])
    assert p.f_star == pytest.approx(-1 / 3)  # the average loss over a period: (C - 2) x / 3
    # x* = -1 minimises the summed loss of every whole number of periods over [-1, 1]
    grid = np.linspace(-1, 1, 201)
    totals = [sum(p.loss_at(t, [x]) for t in range(1, 31)) for x in grid]
    assert grid[int(np.argmin(totals))] == -1.0
    assert mg.to_numpy(p.x0).tolist() == [1.0]


def test_reddi_regret():
    p = P.ReddiOnline(C=3.0)
    T = 30
    assert p.regret([-1.0] * T) == pytest.approx(0.0)  # playing x* has zero regret
    # playing +1 loses 2 * (C - 2) per period of 3 steps
    assert p.regret([1.0] * T) == pytest.approx(2 * (3.0 - 2.0) * T / 3)


def _adam(p, T, alpha, beta1, beta2, amsgrad=False, eps=1e-8):
    x, m, v, vmax = float(p.x0[0]), 0.0, 0.0, 0.0
    for t in range(1, T + 1):
        g = float(p.grad_at(t)[0])
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        if amsgrad:  # Reddi et al.'s Algorithm 2: no bias correction, max of the v's
            vmax = max(vmax, v)
            step = m / (math.sqrt(vmax) + eps)
        else:
            step = (m / (1 - beta1 ** t)) / (math.sqrt(v / (1 - beta2 ** t)) + eps)
        x = float(p.project(np.array([x - alpha / math.sqrt(t) * step]))[0])
    return x


@pytest.mark.parametrize("C", [3.0, 5.0])
def test_adam_fails_and_amsgrad_converges_on_the_counterexample(C):
    """Theorem 1's setting: beta1 = 0, beta2 = 1 / (1 + C^2), alpha_t = alpha / sqrt(t)."""
    p = P.ReddiOnline(C=C)
    beta2 = 1 / (1 + C * C)
    assert _adam(p, 20_000, 0.1, 0.0, beta2) > 0.99  # stuck next to the worst point, +1
    assert _adam(p, 20_000, 0.1, 0.0, beta2, amsgrad=True) < -0.99


@pytest.mark.slow
def test_reddi_synthetic_and_stochastic_versions():
    p = P.ReddiOnline.synthetic()
    assert (p.C, p.period, p.small) == (1010.0, 101, 10.0)
    assert float(p.grad_at(1)[0]) == 1010 and float(p.grad_at(2)[0]) == -10
    assert float(p.grad_at(102)[0]) == 1010
    assert p.f_star == pytest.approx(-10 / 101)
    s = P.ReddiOnline.synthetic(stochastic=True, rng=0)
    draws = np.array([s.coefficient(t) for t in range(1, 200_001)])
    assert set(np.unique(draws)) == {-10.0, 1010.0}
    # E = 0.01 * 1010 - 0.99 * 10 = 0.2; the sd of the mean is about 101 / sqrt(2e5) = 0.23
    assert draws.mean() == pytest.approx(0.2, abs=1.2)
    assert np.mean(draws == 1010.0) == pytest.approx(1 / 101, rel=0.05)
    with pytest.raises(ValueError, match="deterministic"):
        s.regret([0.0])


def test_reddi_bad_arguments():
    with pytest.raises(ValueError, match=r"C must exceed .* got C=2\.0"):
        P.ReddiOnline(C=2.0)
    with pytest.raises(ValueError, match=r"period must be an integer >= 2; got period=1"):
        P.ReddiOnline(period=1)
    with pytest.raises(ValueError, match=r"t must be an integer >= 1; got t=0"):
        P.ReddiOnline().grad_at(0)


@pytest.mark.parametrize("beta2", [0.0, 0.5, 0.9, 0.999])
@pytest.mark.parametrize("eta", [0.1, 0.37])
def test_adam_limit_cycle_on_w_squared(beta2, eta):
    """Adam with beta1 = 0, eps = 0 from w0 = eta/2 alternates +-eta/2 for any beta2."""
    p = P.AdamLimitCycle(eta)
    w, v = float(p.x0[0]), 0.0
    assert w == eta / 2
    for k in range(1, 201):
        g = float(p.grad([w])[0])
        assert g == pytest.approx(2 * w)
        v = beta2 * v + (1 - beta2) * g * g
        w = w - eta * g / math.sqrt(v / (1 - beta2 ** k))
        assert w == pytest.approx(eta / 2 * (-1) ** k, rel=1e-9)
        assert p.value([w]) == pytest.approx(p.cycle_loss, rel=1e-9)
    assert p.cycle == (eta / 2, -eta / 2) and p.f_star == 0.0 and p.cycle_loss > p.f_star
    with pytest.raises(ValueError, match=r"eta must be > 0; got eta=0\.0"):
        P.AdamLimitCycle(0.0)
