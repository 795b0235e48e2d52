"""The documented defaults of zero-order GD.

``zo_gd(fun, x0, lr=1e-3, tau=1e-4, estimator="two-point", maxiter=1000, seed=0, ...)`` (its
signature, and docs/zero_order.md for tau, estimator, maxiter and seed) and ``ZeroOrderGD``
("Defaults: lr=1e-3, tau=1e-4, estimator="two-point", seed=0", its docstring): a run with the
defaults left out must be bit for bit the run with those values written out, through
``zo_gd``, through ``minimize(method="zo-gd")`` and through the optimizer. A different seed
gives a different run (so the comparison does see the seed).
"""
import numpy as np

import minigrad as mg
from optimizers.minimize import minimize
from optimizers.zero_order.zo_gd import ZeroOrderGD, zo_gd

DOCUMENTED = dict(lr=1e-3, tau=1e-4, estimator="two-point", maxiter=1000, seed=0)
X0 = np.array([1.0, -2.0, 0.5])


def quad(x):
    """f(x) = sum_i (i + 1) x_i^2."""
    return (x * x * np.array([1.0, 2.0, 3.0])).sum()


def test_zo_gd_defaults_are_the_documented_ones():
    """zo_gd with no options = zo_gd with lr=1e-3, tau=1e-4, two-point, maxiter=1000, seed=0:
    same iterate, same value, nit = 1000 (no ftarget: the budget is spent, status 1), and
    two evaluations per two-point step plus the final one."""
    default = zo_gd(quad, X0)
    written = zo_gd(quad, X0, **DOCUMENTED)
    np.testing.assert_array_equal(default.x, written.x)
    assert default.fun == written.fun
    assert (default.nit, default.status, default.nfev) == (1000, 1, 2 * 1000 + 1)
    other = zo_gd(quad, X0, **dict(DOCUMENTED, seed=1))
    assert not np.array_equal(other.x, written.x)


def test_minimize_zo_gd_defaults_are_the_documented_ones():
    """minimize(method="zo-gd") passes no defaults of its own: the same run as above."""
    default = minimize(quad, X0, method="zo-gd")
    written = zo_gd(quad, X0, **DOCUMENTED)
    np.testing.assert_array_equal(default.x, written.x)
    assert default.nit == 1000


def test_zero_order_gd_optimizer_defaults_are_the_documented_ones():
    """ZeroOrderGD(params) = ZeroOrderGD(params, lr=1e-3, tau=1e-4, estimator="two-point",
    seed=0) over five steps, and its hyperparameters read back as documented."""
    runs = []
    for kw in ({}, dict(lr=1e-3, tau=1e-4, estimator="two-point", seed=0),
               dict(lr=1e-3, tau=1e-4, estimator="two-point", seed=1)):
        x = mg.Tensor(X0.copy(), requires_grad=True)
        opt = ZeroOrderGD([x], **kw)
        if not kw:
            g = opt.param_groups[0]
            assert (g["lr"], g["tau"], g["estimator"]) == (1e-3, 1e-4, "two-point")
        for _ in range(5):
            opt.step(lambda: quad(x))
        runs.append(x.data.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[1], runs[2])
