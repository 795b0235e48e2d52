"""The runner records what the iteration really did (checked against an independent loop)."""
import math

import numpy as np
import pytest

import minigrad as mg
import optimizers
from experiments.runner import run
from problems import LogisticRegression, Quadratic


def test_gd_trace_matches_a_hand_written_gd_loop():
    p = Quadratic(dim=5, mu=0.5, L=2.0, seed=3)
    A, b, x_star = mg.to_numpy(p.A), mg.to_numpy(p.b), mg.to_numpy(p.x_star)  # on the host
    x = mg.to_numpy(p.x0).copy()
    expected_gap, expected_dist = [], []
    for _ in range(11):  # x_{k+1} = x_k - (1/L)(A x_k - b), written out
        expected_gap.append(0.5 * x @ A @ x - b @ x - p.f_star)
        expected_dist.append(float(np.sum((x - x_star) ** 2)))
        x = x - (A @ x - b) / p.L
    tr = run(p, lambda ps: optimizers.SGD(ps, lr=1.0 / p.L), steps=10, label="GD")
    assert len(tr) == 11 and tr.label == "GD"
    np.testing.assert_allclose(tr["f_gap"], expected_gap, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(tr["dist2"], expected_dist, rtol=1e-10)
    np.testing.assert_array_equal(tr["k"], np.arange(11))
    assert np.all(tr["lr"][:-1] == 1.0 / p.L) and math.isnan(tr["lr"][-1])
    assert tr["n_grad"][-1] == 10 and tr.meta["optimizer"] == "SGD"


def test_minibatch_counts_and_target_stop():
    p = LogisticRegression(m=50, dim=3, mu=1.0, seed=0)
    tr = run(p, lambda ps: optimizers.SGD(ps, lr=0.1), steps=20, batch_size=5, seed=1)
    assert tr["n_grad"][-1] == 20 * 5
    tr2 = run(p, lambda ps: optimizers.SGD(ps, lr=0.3), steps=10_000, target=1e-2)
    assert tr2["f_gap"][-1] <= 1e-2 < tr2["f_gap"][-2] and len(tr2) < 10_001


def test_divergence_is_recorded_not_hidden():
    p = Quadratic(dim=3, mu=1.0, L=4.0, seed=0)
    with np.errstate(over="ignore", invalid="ignore"):
        tr = run(p, lambda ps: optimizers.SGD(ps, lr=1.0), steps=2000)  # 1.0 > 2/L
    assert tr.meta["diverged"] and not np.isfinite(tr["f"][-1])


def test_uniform_average_of_iterates():
    p = Quadratic(dim=2, mu=1.0, L=1.0, seed=0)  # GD with lr 1/L jumps to x* in one step
    tr = run(p, lambda ps: optimizers.SGD(ps, lr=1.0), steps=4, average="uniform")
    # x_0 then x* forever: the average of (x_0, x*, x*, ...) over k iterates is x* + (x_0-x*)/k
    x0, xs = p.x0, p.x_star
    for k in (1, 2, 4):
        xbar = xs + (x0 - xs) / k
        assert tr["f_avg_gap"][k] == pytest.approx(p.value(xbar) - p.f_star, rel=1e-12)


def test_bad_arguments():
    p = Quadratic(dim=2, seed=0)
    with pytest.raises(ValueError, match="finite-sum"):
        run(p, lambda ps: optimizers.SGD(ps, lr=0.1), steps=3, batch_size=2)
    with pytest.raises(ValueError, match="average"):
        run(p, lambda ps: optimizers.SGD(ps, lr=0.1), steps=3, average="median")


def test_call_recorder_counts_value_and_gradient_calls_apart():
    import minigrad as mg
    from experiments.runner import CallRecorder
    from optimizers import minimize
    from problems import Quadratic

    class Path(CallRecorder):
        def __init__(self, problem):
            super().__init__(problem)
            self.xs = []

        def record(self, x, first):
            self.xs.append((first, mg.to_numpy(x.data if isinstance(x, mg.Tensor) else x)))

    q = Quadratic(dim=4, eigenvalues=[1.0, 2.0, 3.0, 4.0], seed=0)
    path = Path(q)
    path.start(q.x0)
    res = minimize(path.fun, q.x0, method="bfgs", callback=path.callback)
    assert path.n_fg == res.nfev and path.n_f == 0      # minigrad differentiates every call
    assert [first for first, _ in path.xs] == [True] + [False] * res.nit
    path.fun(q.x0)                                      # a plain array: a value-only call
    assert path.n_f == 1 and path.elapsed > 0
