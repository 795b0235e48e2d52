"""Newton's counters and stops where they are easy to get wrong: a user Hessian evaluated once
per point however many CG products use it, the relative gradient test at the start point, and
the best trial of a failed line search counted as an iterate."""
import numpy as np

from optimizers.minimize import minimize


def rosen(x):
    return float((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)


def rosen_jac(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def counted_hess(calls):
    def hess(x):
        calls.append(1)
        return np.array([[2 - 400 * x[1] + 1200 * x[0] ** 2, -400 * x[0]], [-400 * x[0], 200.0]])
    return hess


def test_a_user_hessian_is_evaluated_and_counted_once_per_iterate_under_cg():
    for method, extra in (("newton", {"solver": "cg"}), ("newton-cg", {})):
        calls = []
        r = minimize(rosen, np.array([-1.2, 1.0]), method=method, jac=rosen_jac,
                     hess=counted_hess(calls), **extra)
        assert r.status == 0 and r.fun < 1e-10
        assert r.nhev == len(calls)      # the counter is the number of calls of hess
        assert len(calls) <= r.nit + 1   # one matrix per point, not one per CG product


def test_a_large_f_alone_does_not_end_the_run_at_the_start():
    # f = 1e13 + ||x||^2 from (10, -5): max |g_i| max(|x_i|, 1) / |f| = 2e-11, below the default
    # relative tolerance 1e-10, yet x0 is 125 away from f* in f; one Newton step is exact
    r = minimize(lambda x: 1e13 + float(np.sum(x ** 2)), np.array([10.0, -5.0]), method="newton",
                 jac=lambda x: 2 * x, hess=lambda x: 2 * np.eye(2))
    assert r.nit >= 1 and np.allclose(r.x, 0.0, atol=1e-12)


def test_the_best_trial_of_a_failed_search_is_an_iterate_counted_and_shown():
    # f = x^4 from 1: the Newton step -f'/f'' = -1/3 gives x = 2/3, f = 16/81 < 1, but not the
    # Armijo decrease c1 * alpha * f' d = 0.99 * 4 / 3 asked for: the search (one trial) fails
    seen = []
    r = minimize(lambda x: float(np.sum(x ** 4)), np.array([1.0]), method="newton",
                 jac=lambda x: 4 * x ** 3, hess=lambda x: np.diag(12 * x ** 2), c1=0.99,
                 max_backtracks=1, return_all=True, callback=lambda xk: seen.append(xk.copy()))
    assert r.status == 2 and not r.success
    assert np.allclose(r.x, [2.0 / 3.0]) and np.isclose(r.fun, 16.0 / 81.0)
    assert r.nit == 1 and len(seen) == 1 and len(r.allvecs) == 2
    assert "decreases f" in r.message
