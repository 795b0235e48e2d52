"""optimizers.minimize: the SciPy-style entry point, its result and its errors."""
import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import METHODS, OptimizeResult, minimize


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def sphere(x):
    return (x * x).sum()


FIELDS = ("x", "fun", "jac", "nit", "nfev", "njev", "status", "success", "message")
OPTIONS = {
    "bfgs": {}, "l-bfgs": {}, "newton": {}, "newton-cg": {}, "trust-ncg": {},
    "zo-gd": {"lr": 0.1, "maxiter": 300, "ftarget": 1e-8},
    "nelder-mead": {}, "cma-es": {"ftarget": 1e-10}, "one-plus-one": {"ftarget": 1e-10},
    "ga": {"ftarget": 1e-6},
}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_minimises_the_sphere_and_returns_scipys_fields(method):
    res = minimize(sphere, [1.0, -0.5, 0.25], method=method, **OPTIONS[method])
    assert isinstance(res, OptimizeResult)
    for name in FIELDS:
        assert name in res and getattr(res, name) is res[name]
    assert res.success and res.status == 0, res.message
    x = mg.to_numpy(res.x)  # on the host
    assert res.x.shape == (3,) and np.abs(x).max() < 1e-3
    assert res.fun == pytest.approx(float(np.sum(x ** 2)), abs=1e-12)
    assert res.nfev >= res.nit > 0
    if method in ("bfgs", "l-bfgs", "newton", "newton-cg", "trust-ncg"):
        np.testing.assert_allclose(mg.to_numpy(res.jac), 2 * x, atol=1e-12)
        assert res.njev > 0
    else:
        assert res.jac is None and res.njev == 0


def test_newton_comes_from_the_second_order_newton_module():
    from optimizers.second_order.newton import minimize_newton

    a = minimize(rosen, [-1.2, 1.0], method="newton")
    b = minimize_newton(rosen, [-1.2, 1.0])
    assert a.success and a.nit == b.nit and np.array_equal(mg.to_numpy(a.x), mg.to_numpy(b.x))


def test_options_as_keywords_or_a_dict_and_scipy_spellings():
    a = minimize(rosen, [-1.2, 1.0], method="L-BFGS-B", options={"gtol": 1e-6})
    b = minimize(rosen, [-1.2, 1.0], method="lbfgs", gtol=1e-6)
    assert a.nit == b.nit and np.array_equal(mg.to_numpy(a.x), mg.to_numpy(b.x))
    c = minimize(rosen, [-1.2, 1.0], method="Nelder-Mead", options={"xatol": 1e-8, "disp": True})
    assert c.success
    with pytest.raises(ValueError, match="twice"):
        minimize(rosen, [-1.2, 1.0], method="bfgs", options={"gtol": 1e-6}, gtol=1e-7)


def test_callback_sees_every_iterate():
    seen = []
    res = minimize(rosen, [-1.2, 1.0], method="bfgs", callback=lambda xk: seen.append(xk))
    assert len(seen) == res.nit and np.array_equal(mg.to_numpy(seen[-1]),
                                                     mg.to_numpy(res.x))


def test_an_unknown_method_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown method 'sgd-ish'.*known methods"):
        minimize(rosen, [0.0, 0.0], method="sgd-ish")


def test_an_unknown_option_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown option"):
        minimize(rosen, [0.0, 0.0], method="bfgs", gtoll=1e-3)


@pytest.mark.parametrize("x0", [np.zeros((2, 2)), [[1.0, 2.0]], [], "abc", None])
def test_a_wrong_x0_is_a_clear_error(x0):
    with pytest.raises((ValueError, TypeError), match="x0"):
        minimize(rosen, x0, method="bfgs")


@pytest.mark.parametrize("method", ["bfgs", "l-bfgs", "nelder-mead", "cma-es", "zo-gd"])
def test_a_non_scalar_f_is_a_clear_error(method):
    with pytest.raises(ValueError, match="scalar"):
        minimize(lambda x: x * 2.0, [1.0, 2.0], method=method)


def test_f_not_written_with_minigrad_is_a_clear_error_for_gradient_methods():
    with pytest.raises(TypeError, match="minigrad"):
        minimize(lambda x: 1.0, [1.0, 2.0], method="bfgs")


def test_jac_for_a_zero_order_method_is_an_error():
    with pytest.raises(ValueError, match="function values only"):
        minimize(sphere, [1.0], method="nelder-mead", jac=lambda x: 2 * x)


def test_a_number_x0_is_a_vector_of_one_entry_and_integers_become_floats():
    res = minimize(lambda x: ((x - 3.0) ** 2).sum(), 0, method="bfgs")
    assert res.x.shape == (1,) and res.x.dtype == np.float64
    assert float(res.x[0]) == pytest.approx(3.0)


def test_the_input_is_not_modified():
    x0 = np.array([-1.2, 1.0])
    minimize(rosen, x0, method="bfgs")
    minimize(rosen, x0, method="nelder-mead")
    np.testing.assert_array_equal(x0, [-1.2, 1.0])


def test_result_prints_like_scipys():
    text = repr(minimize(sphere, [1.0], method="bfgs"))
    assert "success: True" in text and "nfev" in text
