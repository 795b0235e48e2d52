"""Newton's method (optimizers.second_order.newton, functional interface): one step on a strongly
convex quadratic, quadratic convergence on strongly convex logistic regression with the
theorem's constant, monotone decrease of damped Newton, negative curvature, Newton-CG.

The problems are written here with minigrad ops; the oracles (x* of the quadratic by
``numpy.linalg.solve``, x* of the logistic regression by a NumPy Newton iteration with the
closed-form gradient and Hessian) do not use the code under test."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from optimizers.minimize import minimize
from optimizers.second_order.newton import minimize_newton


def _spd(n, seed, cond=100.0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (Q * np.geomspace(1.0, cond, n)) @ Q.T, rng.standard_normal(n)


@settings(deadline=None, derandomize=True, max_examples=25)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 8),
       variant=st.sampled_from([("dense", None), ("dense", "armijo"), ("cg", None)]),
       scale=st.floats(0.1, 1e3))
def test_one_step_solves_a_strongly_convex_quadratic_from_any_start(seed, n, variant, scale):
    A, b = _spd(n, seed)
    x_star = np.linalg.solve(A, b)
    x0 = np.random.default_rng(seed + 1).standard_normal(n) * scale
    At, bt = mg.Tensor(A), mg.Tensor(b)
    f = lambda x: 0.5 * (x @ (At @ x)) - bt @ x
    solver, ls = variant
    res = minimize_newton(f, mg.backend.asarray(x0), solver=solver, line_search=ls, maxiter=1,
                          gtol=0.0, cg_tol=0.0 if solver == "cg" else None)  # x0 on At's backend
    assert res.nit == 1
    err = np.linalg.norm(mg.to_numpy(res.x) - x_star)
    assert err <= 1e-9 * (1 + np.linalg.norm(x_star) + np.linalg.norm(x0))
    if ls == "armijo":
        assert res.alphas == [1.0]  # the full Newton step passes Armijo on a quadratic


def test_one_gradient_step_does_not_solve_the_quadratic():
    """The companion: the same check on a GD step x0 - grad / L fails."""
    A, b = _spd(5, 0)
    x0 = np.ones(5)
    x1 = x0 - (A @ x0 - b) / np.linalg.eigvalsh(A).max()
    assert np.linalg.norm(x1 - np.linalg.solve(A, b)) > 1e-3


# --------------------------------------------------------------------------- logistic regression
MU = 1.0


def _logistic_data(m=200, n=10, seed=0):
    """The lecture's strongly convex logistic regression: m = 200, n = 10, mu = 1."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    w = rng.standard_normal(n)
    y = np.where(A @ w + 0.5 * rng.standard_normal(m) > 0, 1.0, -1.0)
    return A, y


def _logistic_f(A, y):
    At, yt = mg.Tensor(A), mg.Tensor(y)
    m = A.shape[0]
    return lambda x: 0.5 * MU * (x * x).sum() + mg.softplus(-(yt * (At @ x))).sum() / m


def _numpy_solution(A, y):
    """x* by Newton in NumPy with the closed-form gradient and Hessian (independent oracle)."""
    m, n = A.shape
    x = np.zeros(n)
    for _ in range(50):
        z = y * (A @ x)
        s = 1 / (1 + np.exp(z))                 # sigma(-z)
        g = MU * x - A.T @ (y * s) / m
        H = MU * np.eye(n) + (A.T * (s * (1 - s))) @ A / m
        x = x - np.linalg.solve(H, g)
    return x


def _errors(A, y, x_star, iterates):
    return [np.linalg.norm(x - x_star) for x in iterates]


def _newton_iterates(f, x0, **kw):
    """The iterates (on the host) of a run from x0 moved to the backend of f's Tensors."""
    xs = [x0.copy()]
    minimize_newton(f, mg.backend.asarray(x0), callback=lambda xk: xs.append(mg.to_numpy(xk)),
                    gtol=0.0, **kw)
    return xs


def test_pure_newton_converges_quadratically_on_logistic_regression():
    """e_{k+1} <= M / (2 mu) e_k^2 at every iteration (the Newton theorem), with mu = 1 and the
    Lipschitz constant of the Hessian M = max|sigma''| max_i ||a_i||^3, max|sigma''| = 1/(6 sqrt 3);
    checked until e reaches rounding level."""
    A, y = _logistic_data()
    x_star = _numpy_solution(A, y)
    M = 1 / (6 * np.sqrt(3)) * np.max(np.linalg.norm(A, axis=1)) ** 3
    xs = _newton_iterates(_logistic_f(A, y), np.zeros(10), line_search=None, maxiter=6)
    e = _errors(A, y, x_star, xs)
    checked = 0
    for k in range(len(e) - 1):
        if e[k] < 1e-7:  # e_k^2 below rounding
            break
        assert e[k + 1] <= M / (2 * MU) * e[k] ** 2
        checked += 1
    assert checked >= 3 and e[-1] < 1e-12
    ratios = [e[k + 1] / e[k] ** 2 for k in range(3)]
    assert max(ratios) < 1.0  # bounded near the solution (the constant above is pessimistic)


def test_gradient_descent_breaks_the_quadratic_bound():
    """The companion: GD's e_{k+1} / e_k^2 grows without bound (linear convergence), so the
    assertion above fails for it."""
    A, y = _logistic_data()
    x_star = _numpy_solution(A, y)
    M = 1 / (6 * np.sqrt(3)) * np.max(np.linalg.norm(A, axis=1)) ** 3
    f = _logistic_f(A, y)
    x = mg.backend.asarray(np.zeros(10))  # on the backend of f's Tensors
    L = MU + np.linalg.eigvalsh(A.T @ A).max() / (4 * A.shape[0])
    errs = []
    for _ in range(60):
        x = x - mg.grad(f)(x) / L
        errs.append(np.linalg.norm(mg.to_numpy(x) - x_star))
    assert any(errs[k + 1] > M / (2 * MU) * errs[k] ** 2 for k in range(len(errs) - 1))


def test_damped_newton_decreases_f_monotonically_where_pure_newton_diverges():
    """f(x) = sum_j sqrt(1 + x_j^2) (pseudo-Huber): pure Newton maps x to -x^3 and diverges from
    |x| > 1 (f grows: the companion); damped Newton decreases f at every step and converges."""
    f = lambda x: mg.sqrt(1.0 + x * x).sum()
    x0 = np.array([1.5, -2.0, 0.3])
    fs = []
    res = minimize_newton(f, x0, line_search="armijo", gtol=1e-12, maxiter=60,
                          callback=lambda xk: fs.append(float(np.sum(np.sqrt(1 + xk**2)))))
    f0 = float(np.sum(np.sqrt(1 + x0**2)))
    assert res.success and np.allclose(mg.to_numpy(res.x), 0.0, atol=1e-10)
    assert all(b <= a for a, b in zip([f0] + fs, fs))  # non-increasing; ties only at f* = 3
    assert all(b < a for a, b in zip([f0] + fs, fs) if a > 3.0 + 1e-15)
    pure = minimize_newton(f, x0, line_search=None, maxiter=3, gtol=0.0)
    assert float(np.sum(np.sqrt(1 + pure.x**2))) > f0


def test_damped_newton_on_logistic_regression_from_far_is_monotone():
    A, y = _logistic_data(seed=1)
    f = _logistic_f(A, y)
    fs = []
    x0 = mg.backend.asarray(20.0 * np.ones(10))  # on the backend of f's Tensors
    res = minimize_newton(f, x0, callback=lambda xk: fs.append(f(mg.Tensor(xk)).item()))
    assert res.success
    assert all(b <= a for a, b in zip([f(mg.Tensor(x0)).item()] + fs, fs))
    np.testing.assert_allclose(mg.to_numpy(res.x), _numpy_solution(A, y), atol=1e-8)


@pytest.mark.parametrize("solver", ["dense", "cg"])
def test_negative_curvature_is_handled_and_reported(solver):
    """f = x^2/2 + y^4/4 - y^2/2 from (1, 0.1): the Hessian diag(1, 3y^2 - 1) is indefinite, so
    the unmodified Newton step heads for the saddle y = 0; the modified one reaches a minimum
    y = +-1 and says where it met negative curvature."""
    f = lambda v: 0.5 * v[0] * v[0] + 0.25 * v[1] ** 4 - 0.5 * v[1] * v[1]
    res = minimize_newton(f, np.array([1.0, 0.1]), solver=solver, gtol=1e-10)
    assert res.success
    np.testing.assert_allclose(np.abs(res.x), [0.0, 1.0], atol=1e-8)
    assert res.negative_curvature and "Negative curvature" in res.message
    if solver == "dense":  # met at once; CG meets it along -grad f only from iteration 1
        assert res.negative_curvature[0] == 0
    H0 = np.diag([1.0, 3 * 0.1**2 - 1])  # the companion: the raw Newton step to the saddle
    raw = np.array([1.0, 0.1]) - np.linalg.solve(H0, [1.0, 0.1**3 - 0.1])
    assert abs(raw[1]) < 1e-2


@pytest.mark.slow
def test_newton_cg_uses_hessian_vector_products_only():
    A, y = _logistic_data(m=300, n=60, seed=2)
    f = _logistic_f(A, y)
    calls = {"hessian": 0}
    original = mg.functional.hessian

    def counting(*args, **kwargs):  # pragma: no cover - must not run
        calls["hessian"] += 1
        return original(*args, **kwargs)
    import optimizers.second_order.newton as nt
    nt.hessian, saved = counting, nt.hessian
    try:
        res = minimize_newton(f, mg.backend.asarray(np.zeros(60)), solver="cg", gtol=1e-8)
    finally:
        nt.hessian = saved
    assert res.success and calls["hessian"] == 0 and res.nhev > 0
    np.testing.assert_allclose(mg.to_numpy(res.x), _numpy_solution(A, y), atol=1e-8)
    assert res.nit <= 6


def test_minimize_front_end_and_scipy_fields():
    A, b = _spd(4, 3)
    At, bt = mg.Tensor(A), mg.Tensor(b)
    f = lambda x: 0.5 * (x @ (At @ x)) - bt @ x
    z4 = mg.backend.asarray(np.zeros(4))  # on the backend of f's Tensors
    res = minimize(f, z4, method="newton")
    for key in ("x", "fun", "jac", "nit", "nfev", "njev", "nhev", "status", "success",
                "message"):
        assert key in res
    assert res.success and res.nit == 1 and res.status == 0
    np.testing.assert_allclose(mg.to_numpy(res.x), np.linalg.solve(A, b), atol=1e-10)
    res2 = minimize(lambda x: (0.5 * x @ A @ x - b @ x, A @ x - b), np.zeros(4), method="newton",
                    jac=True, hess=lambda x: A)
    np.testing.assert_allclose(mg.to_numpy(res2.x), mg.to_numpy(res.x), atol=1e-12)
    with pytest.raises(ValueError, match="hess"):
        minimize(lambda x: float(x @ x), np.zeros(2), method="newton", jac=lambda x: 2 * x)
    with pytest.raises(ValueError, match="line_search"):
        minimize_newton(f, z4, line_search="wolfe")
    stop = minimize_newton(f, z4, maxiter=0)
    assert stop.status == 1 and not stop.success
