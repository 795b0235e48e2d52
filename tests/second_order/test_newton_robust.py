"""Newton's robust parts: the modified directions against their closed forms, the strong Wolfe
form's counts, Newton-CG's forcing and scaled fallback, and honest ends under non-finite
values and derivatives of the wrong shape.

Oracles: the flipped and shifted Hessians written out with numpy.linalg (eigh, solve), counts
by hand, and the minimisers of the test functions in closed form."""
import math

import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import Status, minimize
from optimizers.second_order.newton_directions import (cg_newton_direction, forcing_tolerance,
                                                        modified_direction)

H_INDEF = np.array([[2.0, 1.0], [1.0, -3.0]])
G = np.array([1.0, -2.0])


def on(x, like):
    """The host array ``x`` on ``like``'s backend."""
    return mg.backend.asarray(np.asarray(x, dtype=float), backend=mg.backend.backend_name_of(like))


def dev(x):
    return mg.backend.asarray(np.asarray(x, dtype=float))


# --------------------------------------------------------------------------- directions
def test_the_flip_inverts_the_absolute_eigenvalues():
    lam, Q = np.linalg.eigh(H_INDEF)
    want = -np.linalg.solve(Q @ np.diag(np.abs(lam)) @ Q.T, G)
    d, lam_min, modified = modified_direction(dev(H_INDEF), dev(G), 1e-8, "flip")
    np.testing.assert_allclose(mg.to_numpy(d), want, rtol=1e-12)
    assert modified and lam_min == pytest.approx(lam[0])


def test_the_shift_is_levenberg_marquardt_with_tau_from_the_spectrum():
    """tau = delta - lambda_min (N&W eq. 3.43), delta = 0.1 * max(1, max|lambda|):
    d = -(H + tau I)^{-1} g."""
    lam = np.linalg.eigvalsh(H_INDEF)
    tau = 0.1 * max(1.0, np.abs(lam).max()) - lam[0]
    want = -np.linalg.solve(H_INDEF + tau * np.eye(2), G)
    d, _, modified = modified_direction(dev(H_INDEF), dev(G), 0.1, "shift")
    np.testing.assert_allclose(mg.to_numpy(d), want, rtol=1e-12)
    assert modified


def test_a_safely_positive_definite_hessian_is_not_modified():
    H = np.array([[4.0, 1.0], [1.0, 3.0]])
    d, _, modified = modified_direction(dev(H), dev(G), 1e-8, "shift")
    np.testing.assert_allclose(mg.to_numpy(d), -np.linalg.solve(H, G), rtol=1e-12)
    assert not modified


def test_the_condition_number_cap_is_min_curvature():
    """H = diag(2, 5e11) (Brown's badly scaled function near its minimiser: positive definite,
    condition 2.5e11). With min_curvature = 1e-8 the 2 is raised to 5e3 (the step along it
    2,500 times too short); with the default of minimize_newton, 1e-14, it is kept."""
    H, g = np.diag([2.0, 5e11]), np.array([1.0, 1.0])
    short, _, modified = modified_direction(dev(H), dev(g), 1e-8, "flip")
    assert modified and mg.to_numpy(short)[0] == pytest.approx(-1.0 / 5e3)
    exact, _, modified = modified_direction(dev(H), dev(g), 1e-14, "flip")
    assert not modified and mg.to_numpy(exact)[0] == pytest.approx(-0.5)


@pytest.mark.parametrize("gnorm, form, eta", [(0.01, "quadratic", 0.01), (0.01, "superlinear", 0.1),
                                              (4.0, "quadratic", 0.5), (4.0, "superlinear", 0.5)])
def test_the_forcing_sequence(gnorm, form, eta):
    """eps_k = eta_k ||g||: eta = min(0.5, ||g||) or min(0.5, sqrt ||g||) (N&W Algorithm 7.1)."""
    assert forcing_tolerance(gnorm, form) == pytest.approx(eta * gnorm, rel=1e-15)


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_the_scaled_steepest_descent_fallback(scale):
    """H = -scale I, g = (3, 4): negative curvature at p_0 = -g, so d = -g (N&W) or, scaled,
    -(g^T g / |g^T H g|) g = -g / scale; one Hessian-vector product either way."""
    g = dev([3.0, 4.0])
    calls = []

    def hessp(v):
        calls.append(1)
        return -scale * v

    d, negative, n = cg_newton_direction(hessp, g, tol=1e-12, max_iter=5, scale_descent=True)
    np.testing.assert_allclose(mg.to_numpy(d), -np.array([3.0, 4.0]) / scale, rtol=1e-15)
    assert negative and n == len(calls) == 1


# --------------------------------------------------------------------------- runs
def quad_parts(A, b):
    def fun(x):
        xh = mg.to_numpy(x)
        return 0.5 * float(xh @ A @ xh) - float(b @ xh), on(A @ xh - b, x)
    return fun, (lambda x: on(A, x))


def test_strong_wolfe_newton_evaluates_the_accepted_trial_once():
    """A quadratic: the unit Newton step lands on A^{-1} b, satisfies both strong Wolfe
    conditions (phi'(1) = 0), and its f and gradient come with the trial: nfev = njev = 2
    (x_0 and x_1), nhev = 1, one iteration; the Armijo form needs 3 evaluations of f."""
    A, b = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, 1.0])
    fun, hess = quad_parts(A, b)
    res = minimize(fun, [2.0, -1.0], method="newton", jac=True, hess=hess,
                   line_search="strong_wolfe")
    assert res.success and res.nit == 1 and res.alphas == [1.0]
    assert (res.nfev, res.njev, res.nhev) == (2, 2, 1)
    np.testing.assert_allclose(mg.to_numpy(res.x), np.linalg.solve(A, b), atol=1e-12)
    armijo = minimize(fun, [2.0, -1.0], method="newton", jac=True, hess=hess,
                      trial_gradient=False)  # trials of f alone, then f and g at x_1
    assert (armijo.nfev, armijo.njev) == (3, 2)


def double_well(v):
    return 0.5 * v[0] * v[0] + 0.25 * v[1] ** 4 - 0.5 * v[1] * v[1]


@pytest.mark.parametrize("kw", [dict(method="newton", line_search="strong_wolfe"),
                                dict(method="newton-cg"), dict(method="newton", solver="cg"),
                                dict(method="newton")], ids=["sw", "newton-cg", "cg", "armijo"])
def test_negative_curvature_leads_to_a_minimum(kw):
    """f = x^2/2 + y^4/4 - y^2/2 from (1, 0.1), an indefinite Hessian at the start: every form
    reaches a minimiser (0, +-1), not the saddle (0, 0), and reports where it met negative
    curvature."""
    res = minimize(double_well, [1.0, 0.1], gtol=1e-10, **kw)
    assert res.success and res.negative_curvature
    np.testing.assert_allclose(np.abs(mg.to_numpy(res.x)), [0.0, 1.0], atol=1e-8)


def test_a_singular_hessian_is_handled_or_named():
    """f = (x_1 - 1)^2 (x_2 absent: the Hessian diag(2, 0) is singular everywhere). The flip
    raises the zero curvature to delta and the Newton step solves it in one step (g_2 = 0); the
    unmodified direction (modification="none") divides by zero and ends with status 3, naming
    the singular Hessian."""
    f = lambda x: (mg.to_numpy(x)[0] - 1.0) ** 2                 # noqa: E731
    g = lambda x: on([2.0 * (mg.to_numpy(x)[0] - 1.0), 0.0], x)  # noqa: E731
    h = lambda x: on([[2.0, 0.0], [0.0, 0.0]], x)                # noqa: E731
    res = minimize(f, [3.0, 5.0], method="newton", jac=g, hess=h)
    assert res.success and res.nit == 1
    np.testing.assert_allclose(mg.to_numpy(res.x), [1.0, 5.0], atol=1e-14)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = minimize(f, [3.0, 5.0], method="newton", jac=g, hess=h, modification="none")
    assert raw.status == Status.NONFINITE and not raw.success
    assert "singular" in raw.message and raw.nit == 0


@pytest.mark.parametrize("solver", ["dense", "cg"])
def test_a_nan_hessian_ends_with_status_3(solver):
    f = lambda x: float(mg.to_numpy(x) @ mg.to_numpy(x))       # noqa: E731
    g = lambda x: 2.0 * x                                        # noqa: E731
    kw = dict(hess=lambda x: on(np.full((2, 2), math.nan), x)) if solver == "dense" else \
        dict(hessp=lambda x, v: on(np.full(2, math.nan), x))
    res = minimize(f, [1.0, 2.0], method="newton", jac=g, solver=solver, **kw)
    assert res.status == Status.NONFINITE and not res.success and res.nit == 0
    assert ("Hessian" in res.message) or ("Hessian-vector" in res.message)


@pytest.mark.parametrize("method", ["newton", "newton-cg", "trust-ncg", "bfgs", "l-bfgs"])
def test_a_nan_loss_at_the_start_ends_with_status_3(method):
    with np.errstate(invalid="ignore"):
        res = minimize(lambda x: mg.sqrt(x - 10.0).sum(), [1.0, 2.0], method=method)
    assert res.status == Status.NONFINITE and not res.success and res.nit == 0
    assert "non-finite" in res.message


def test_a_nan_loss_after_a_pure_newton_step_ends_with_status_3():
    """f = x - log x (minimiser 1, domain x > 0) from x = 3 with pure Newton: d = -f'/f'' =
    -(1 - 1/3) 9 = -6 lands on x = -3, where log is NaN: status 3 after that step, never
    success. The damped form shortens the step instead and converges (|x - 1| ~ |f'(x)| / f''(1)
    <= gtol = 1e-8)."""
    f = lambda x: (x - mg.log(x)).sum()  # noqa: E731
    with np.errstate(invalid="ignore"):
        res = minimize(f, [3.0], method="newton", line_search=None)
    assert res.status == Status.NONFINITE and not res.success and res.nit == 1
    assert mg.to_numpy(res.x)[0] == pytest.approx(-3.0)
    with np.errstate(invalid="ignore"):
        damped = minimize(f, [3.0], method="newton")
    assert damped.success and mg.to_numpy(damped.x)[0] == pytest.approx(1.0, abs=1e-8)


# --------------------------------------------------------------------------- shapes
def sq(x):
    xh = mg.to_numpy(x)
    return float(xh @ xh)


WRONG = lambda x: on(np.ones(3), x)  # noqa: E731


@pytest.mark.parametrize("method", ["bfgs", "l-bfgs", "newton", "newton-cg", "trust-ncg"])
def test_a_jac_of_the_wrong_shape_is_named_with_its_shape(method):
    kw = dict(hess=lambda x: on(np.eye(2), x)) if method in ("newton", "newton-cg",
                                                             "trust-ncg") else {}
    with pytest.raises(ValueError, match=r"jac returned shape \(3,\), expected \(2,\)"):
        minimize(sq, [1.0, 2.0], method=method, jac=WRONG, **kw)
    with pytest.raises(ValueError, match=r"jac=True\) returned shape \(3,\), expected \(2,\)"):
        minimize(lambda x: (sq(x), WRONG(x)), [1.0, 2.0], method=method, jac=True, **kw)


def test_a_hess_or_hessp_of_the_wrong_shape_is_named_with_its_shape():
    g = lambda x: 2.0 * x  # noqa: E731
    with pytest.raises(ValueError, match=r"hess returned shape \(3, 3\), expected \(2, 2\)"):
        minimize(sq, [1.0, 2.0], method="newton", jac=g, hess=lambda x: on(np.eye(3), x))
    for method in ("newton-cg", "trust-ncg"):
        with pytest.raises(ValueError, match=r"hessp returned shape \(3,\), expected \(2,\)"):
            minimize(sq, [1.0, 2.0], method=method, jac=g, hessp=lambda x, v: WRONG(x))
    with pytest.raises(ValueError, match=r"hess returned shape \(3, 3\), expected \(2, 2\)"):
        minimize(sq, [1.0, 2.0], method="trust-ncg", jac=g, hess=lambda x: on(np.eye(3), x))
