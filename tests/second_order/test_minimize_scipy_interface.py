"""minimize with SciPy's interface: what f receives (a backend array, or a Tensor where minigrad
differentiates it), SciPy's two callback forms, return_all, disp, and the result's fields."""
import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import GRADIENT_FREE, METHODS, OptimizeResult, minimize

X0 = [1.0, -0.5]
#: options that make every method end quickly on the sphere
QUICK = {"zo-gd": dict(lr=0.1, maxiter=60, ftarget=1e-8), "cma-es": dict(ftarget=1e-8),
         "one-plus-one": dict(ftarget=1e-8), "ga": dict(ftarget=1e-4, popsize=20),
         "nelder-mead": dict(xatol=1e-6, fatol=1e-10)}
GRADIENT = sorted(set(METHODS) - GRADIENT_FREE)
SECOND_ORDER = ("newton", "newton-cg", "trust-ncg")   # with jac=, they need the Hessian too


def numpy_sphere(x):
    """Written with NumPy on the host, as a SciPy user writes it (no minigrad)."""
    return float(np.sum(mg.to_numpy(x) ** 2))


def numpy_grad(x):
    return 2.0 * x


def numpy_hess(x):
    return mg.get_array_module(x).eye(x.size)


def derivatives(method):
    if method in GRADIENT_FREE:
        return {}
    return dict(jac=numpy_grad, hess=numpy_hess) if method in SECOND_ORDER else \
        dict(jac=numpy_grad)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_f_gets_a_backend_array_where_scipy_gives_one(method):
    """Value-only methods and gradient methods with jac= call f with a backend array (not a
    Tensor), so an objective written with NumPy works there."""
    seen = []

    def f(x):
        seen.append(not isinstance(x, mg.Tensor) and mg.backend.is_array(x))
        return numpy_sphere(x)

    res = minimize(f, X0, method=method, **derivatives(method), **QUICK.get(method, {}))
    assert res.success, res.message
    assert seen and all(seen)
    assert np.abs(mg.to_numpy(res.x)).max() < 1e-2


@pytest.mark.parametrize("method", GRADIENT)
def test_f_gets_a_tensor_where_minigrad_differentiates_it(method):
    seen = []

    def f(x):
        seen.append(isinstance(x, mg.Tensor))
        return (x * x).sum()

    assert minimize(f, X0, method=method).success
    assert seen and all(seen)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_both_callback_forms_see_the_same_iterates(method):
    """callback(intermediate_result) (SciPy's rule: its only parameter has that name) receives
    an OptimizeResult whose fun is f at its x; any other callback receives the iterate alone.
    Both are called once per iteration, with the same points, each a copy."""
    new, old = [], []

    def intermediate(intermediate_result):
        new.append(intermediate_result)

    def legacy(xk):
        old.append(mg.to_numpy(xk).copy())
        xk[...] = 1e6                        # a copy: the run must not see this

    opts = dict(**derivatives(method), **QUICK.get(method, {}))
    a = minimize(numpy_sphere, X0, method=method, callback=intermediate, **opts)
    b = minimize(numpy_sphere, X0, method=method, callback=legacy, **opts)
    c = minimize(numpy_sphere, X0, method=method, **opts)
    assert len(new) == len(old) == a.nit == b.nit > 0
    assert np.array_equal(mg.to_numpy(b.x), mg.to_numpy(c.x)) and b.nfev == c.nfev
    for r, xk in zip(new, old):
        assert isinstance(r, OptimizeResult) and np.array_equal(mg.to_numpy(r.x), xk)
        if r.fun is not None:                # ZO-GD evaluates f at its iterates only for ftarget
            assert r.fun == pytest.approx(numpy_sphere(r.x), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_return_all_lists_the_start_and_every_iterate(method):
    res = minimize(numpy_sphere, X0, method=method, return_all=True, **derivatives(method),
                   **QUICK.get(method, {}))
    assert len(res.allvecs) == res.nit + 1
    np.testing.assert_array_equal(mg.to_numpy(res.allvecs[0]), X0)
    np.testing.assert_array_equal(mg.to_numpy(res.allvecs[-1]), mg.to_numpy(res.x))


def test_return_all_and_callback_together():
    seen = []
    res = minimize(numpy_sphere, X0, method="bfgs", jac=numpy_grad, return_all=True,
                   callback=lambda xk: seen.append(mg.to_numpy(xk)))
    assert len(seen) == len(res.allvecs) - 1 == res.nit


@pytest.mark.parametrize("method", sorted(METHODS))
def test_the_result_has_scipys_fields(method):
    res = minimize(numpy_sphere, X0, method=method, **derivatives(method),
                   **QUICK.get(method, {}))
    for key in ("x", "fun", "jac", "nit", "nfev", "njev", "nhev", "status", "success",
                "message"):
        assert key in res, key
    if method in GRADIENT_FREE:
        assert res.jac is None and res.njev == 0 and res.nhev == 0
    elif method in SECOND_ORDER:
        assert res.nhev > 0
    if method in ("bfgs", "l-bfgs"):
        assert res.hess_inv.shape == (2, 2)


def test_disp_prints_the_outcome(capsys):
    res = minimize(numpy_sphere, X0, method="bfgs", jac=numpy_grad, disp=True)
    out = capsys.readouterr().out
    assert res.message in out and f"Iterations: {res.nit}" in out
    assert f"Function evaluations: {res.nfev}" in out and "Gradient evaluations" in out
    minimize(numpy_sphere, X0, method="bfgs", jac=numpy_grad)
    assert capsys.readouterr().out == ""


def test_a_callback_that_is_not_callable_is_named():
    with pytest.raises(TypeError, match="callback must be callable"):
        minimize(numpy_sphere, X0, method="nelder-mead", callback=3)


def test_lbfgs_hess_inv_is_the_operator_bfgs_builds_from_the_same_pairs():
    """With H_0 = I, memory above the iteration count and the same first step, L-BFGS and BFGS
    make the same iterates on a quadratic, so BFGS's dense H_k (the product form, updated in
    place) and L-BFGS's operator (the two-loop recursion) are two written forms of one matrix;
    H @ v is the recursion applied to v."""
    A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
    b = np.array([1.0, -1.0, 0.5])

    def fun(x):
        xh = mg.to_numpy(x)
        return 0.5 * float(xh @ A @ xh) - float(b @ xh), mg.backend.asarray(
            A @ xh - b, backend=mg.backend.backend_name_of(x))

    kw = dict(jac=True, initial_step="unit", gtol=1e-10)
    lb = minimize(fun, [1.0, 2.0, -1.0], method="l-bfgs", m=50, H0="identity", **kw)
    bf = minimize(fun, [1.0, 2.0, -1.0], method="bfgs", **kw)
    assert lb.nit == bf.nit and lb.hess_inv.shape == (3, 3)
    dense = mg.to_numpy(lb.hess_inv.todense())
    np.testing.assert_allclose(dense, mg.to_numpy(bf.hess_inv), rtol=1e-8, atol=1e-10)
    v = mg.backend.asarray(np.array([0.3, -1.0, 2.0]))
    np.testing.assert_allclose(mg.to_numpy(lb.hess_inv @ v), dense @ mg.to_numpy(v),
                               rtol=1e-12)
