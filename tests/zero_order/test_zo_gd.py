"""Zero-order GD (optimizers.zero_order.zo_gd): L1's rate with the factor n.

Claim (L1, docs/lectures.md section 1): for an L-smooth, mu-strongly convex f, zero-order GD with
the
two-point estimate G = n/(2 tau) (f(x + tau e) - f(x - tau e)) e and the step 1/(nL) satisfies
E[f(x_k) - f*] <= (1 - mu/(nL))^k (f(x_0) - f*). On f = L/2 ||x||^2 it holds with equality
for ||x_k||^2 (E[G] = g, E||G||^2 = n ||g||^2 there, exactly):
E||x_k||^2 = (1 - 1/n)^k ||x_0||^2.
Margins: means over seeds within 5 standard errors.
"""
import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import minimize
from optimizers.zero_order.zo_gd import ZeroOrderGD, zo_gd

Z = 5.0


def trajectories(fun, x0, lr, steps, seeds, estimator="two-point"):
    out = []
    for seed in seeds:
        xs = [np.array(x0, dtype=float)]
        # the run on the session's backend, the iterates copied to the host
        zo_gd(fun, mg.backend.asarray(x0), lr=lr, tau=1e-3, estimator=estimator, maxiter=steps,
              seed=seed, callback=lambda x: xs.append(mg.to_numpy(x)))
        out.append(xs)
    return np.array(out)          # (seeds, steps + 1, n)


def sphere_ratio_check(n, lr_factor, steps=30, seeds=range(300)):
    L = 2.0
    x0 = np.linspace(-1.0, 1.0, n) + 0.3
    X = trajectories(lambda x: (L / 2) * (x * x).sum(), x0, lr_factor / (n * L), steps, seeds)
    r = np.sum(X ** 2, axis=2) / (x0 @ x0)          # ||x_k||^2 / ||x_0||^2 per seed
    for k in (10, 20, 30):
        mean, se = r[:, k].mean(), r[:, k].std(ddof=1) / np.sqrt(r.shape[0])
        assert abs(mean - (1 - 1 / n) ** k) <= Z * se, (k, mean, (1 - 1 / n) ** k, se)


@pytest.mark.slow
@pytest.mark.parametrize("n", [5, 10])
def test_expected_squared_distance_shrinks_by_exactly_1_minus_1_over_n(n):
    sphere_ratio_check(n, 1.0)


@pytest.mark.slow
def test_companion_twice_the_step_breaks_the_rate():
    """With alpha = 2/(nL): E||x_{k+1}||^2 = (1 - 4/n + 4/n) ||x_k||^2, no progress at all; the
    same check fails."""
    with pytest.raises(AssertionError):
        sphere_ratio_check(10, 2.0)


@pytest.mark.slow
def test_the_linear_rate_bound_on_a_random_strongly_convex_quadratic():
    """Spectrum in [mu, L] = [1, 10], n = 8, alpha = 1/(nL): the mean of f(x_k) - f* over seeds
    stays below (1 - mu/(nL))^k (f(x_0) - f*) (plus 5 standard errors) at every k."""
    n, mu, L = 8, 1.0, 10.0
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.linspace(mu, L, n)) @ Q.T
    At = mg.Tensor(A)
    x0 = rng.standard_normal(n)
    steps = 120
    X = trajectories(lambda x: 0.5 * (x @ (At @ x)), x0, 1.0 / (n * L), steps, range(100))
    gaps = 0.5 * np.einsum("skn,nm,skm->sk", X, A, X)
    bound = (1 - mu / (n * L)) ** np.arange(steps + 1) * gaps[0, 0]
    mean, se = gaps.mean(axis=0), gaps.std(axis=0, ddof=1) / np.sqrt(gaps.shape[0])
    assert np.all(mean[1:] <= bound[1:] + Z * se[1:])
    assert mean[-1] < 0.2 * gaps[0, 0]        # and it does converge


@pytest.mark.parametrize("estimator", ["two-point", "gaussian-forward", "gaussian-symmetric",
                                       "coordinate"])
def test_every_estimator_drives_zo_gd_to_the_minimum(estimator):
    """(The forward Gaussian estimate keeps a variance tau^2/4 n (n+2) (n+4) at the minimiser, a
    noise floor: it gets a smaller tau.)"""
    n = 4
    lr = 0.25 if estimator == "coordinate" else 0.25 / (n + 2)
    tau = 1e-7 if estimator == "gaussian-forward" else 1e-4
    res = zo_gd(lambda x: ((x - 1.0) ** 2).sum(), np.zeros(n), lr=lr, estimator=estimator,
                tau=tau, maxiter=400, ftarget=1e-10)
    assert res.success and res.fun <= 1e-10


def test_counting_and_statuses():
    f = lambda x: (x * x).sum()  # noqa: E731
    res = zo_gd(f, [1.0, 2.0], lr=0.1, maxiter=10)                 # two-point: 2 per step, + 1
    assert res.nit == 10 and res.nfev == 21 and res.njev == 0 and res.status == 1
    res = zo_gd(f, [1.0, 2.0], lr=0.1, maxiter=10, estimator="gaussian-forward")
    assert res.nfev == 1 + 10 * 2            # f(x_k) (reused by the estimator) + f(x_k + tau u)
    g = lambda x: (x * x).sum() + 0.0 * mg.sqrt(4.0 - (x * x).sum())  # noqa: E731  NaN outside
    with np.errstate(invalid="ignore"):
        res = zo_gd(g, [0.5, 0.5], lr=10.0, maxiter=200, ftarget=0.0)     # jumps out: NaN
    assert res.status == 3 and not res.success and res.nit < 200
    res = minimize(f, [1.0, 2.0], method="zo-gd", lr=lambda k: 0.2 / (1 + 0.01 * k),
                   ftarget=1e-12, maxiter=2000)
    assert res.success


def test_the_optimizer_class_follows_the_same_iterates():
    x = mg.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = ZeroOrderGD([x], lr=0.05, tau=1e-4, estimator="gaussian-symmetric", seed=3)
    closure = lambda: (x * x).sum()  # noqa: E731
    for _ in range(25):
        opt.step(closure)
    ref = zo_gd(lambda v: (v * v).sum(), [1.0, -2.0, 0.5], lr=0.05, tau=1e-4,
                estimator="gaussian-symmetric", maxiter=25, seed=3)
    np.testing.assert_allclose(x.numpy(), mg.to_numpy(ref.x), rtol=1e-12)
