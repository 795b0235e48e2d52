"""minimize as SciPy users expect it: SciPy's option names, unknown options and unsupported
arguments named, the user's exceptions untouched, and one status for non-finite values."""
import traceback

import numpy as np
import pytest

from minigrad import to_numpy
from optimizers.minimize import GRADIENT_FREE, METHODS, Status, minimize


def sphere(x):
    return ((x - 1.0) ** 2).sum()


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_an_exception_in_f_propagates_unchanged_with_its_traceback(method):
    def f(x):
        raise TypeError("f() got an unexpected keyword argument 'inside_f'")  # looks like an option

    with pytest.raises(TypeError, match="inside_f") as info:
        minimize(f, [1.0, 2.0], method=method)
    frames = [fr.name for fr in traceback.extract_tb(info.value.__traceback__)]
    assert "f" in frames


@pytest.mark.parametrize("method", ["bfgs", "nelder-mead", "cma-es"])
def test_an_unknown_option_is_named_with_the_known_ones(method):
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['no_such'\].*its options"):
        minimize(sphere, [0.0, 0.0], method=method, no_such=1)


def test_scipys_maxcor_is_the_lbfgs_memory():
    a = minimize(rosen, [-1.2, 1.0], method="L-BFGS-B", maxcor=3)
    b = minimize(rosen, [-1.2, 1.0], method="l-bfgs", m=3)
    c = minimize(rosen, [-1.2, 1.0], method="l-bfgs", m=10)
    assert np.array_equal(to_numpy(a.x), to_numpy(b.x)) and a.nfev == b.nfev and a.nit == b.nit
    assert (a.nfev, a.nit) != (c.nfev, c.nit)                       # the memory did change
    with pytest.raises(ValueError, match="'maxcor' and 'm' name the same option"):
        minimize(rosen, [-1.2, 1.0], method="l-bfgs", maxcor=3, m=3)


def test_scipys_maxfun_is_the_evaluation_budget():
    a = minimize(rosen, [-1.2, 1.0], method="nelder-mead", maxfun=50)
    b = minimize(rosen, [-1.2, 1.0], method="nelder-mead", maxfev=50)
    assert a.nfev == b.nfev <= 51 and np.array_equal(to_numpy(a.x), to_numpy(b.x))
    assert a.status == Status.MAXITER


@pytest.mark.parametrize("method", sorted(METHODS) + ["L-BFGS-B"])
def test_bounds_and_constraints_are_refused(method):
    with pytest.raises(ValueError, match="bounds are not supported"):
        minimize(sphere, [0.0, 0.0], method=method, bounds=[(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="constraints are not supported"):
        minimize(sphere, [0.0, 0.0], method=method, constraints=[{"type": "eq"}])


def _nan_from(k, f):
    calls = [0]

    def g(x):
        calls[0] += 1
        return float("nan") if calls[0] >= k else float(f(x))
    return g


@pytest.mark.parametrize("method", sorted(GRADIENT_FREE))
def test_a_non_finite_value_is_one_status_never_success(method):
    opts = {"maxiter": 200} if method == "zo-gd" else {"maxfev": 400}
    res = minimize(_nan_from(6, sphere), [-1.2, 1.0], method=method, **opts)
    assert res.status == Status.NONFINITE and not res.success
    assert "non-finite" in res.message


@pytest.mark.parametrize("method", sorted(GRADIENT_FREE - {"zo-gd"}))
def test_a_finite_run_keeps_its_status(method):
    """The control: without a non-finite value the status is the method's own."""
    res = minimize(lambda x: float(sphere(x)), [-1.2, 1.0], method=method, maxfev=400)
    assert res.status != Status.NONFINITE and "non-finite" not in res.message


@pytest.mark.parametrize("wrap", [np.float64, np.array, lambda v: np.array([v])],
                         ids=["float64", "0-d array", "(1,) array"])
def test_every_kind_of_scalar_is_watched(wrap):
    g = _nan_from(6, sphere)
    res = minimize(lambda x: wrap(g(x)), [-1.2, 1.0], method="nelder-mead", maxfev=300)
    assert res.status == Status.NONFINITE and not res.success


def test_the_watch_reads_nothing_twice():
    """The watch adds no device-to-host read: minimize makes the transfers the solver makes
    alone (one value read per evaluation)."""
    import minigrad as mg
    from minigrad import strict as S
    from optimizers.zero_order.nelder_mead import nelder_mead

    with mg.use_backend("strict"):
        with S.count_transfers() as watched:
            res = minimize(sphere, [-1.2, 1.0], method="nelder-mead", maxfev=60)
        with S.count_transfers() as alone:
            nelder_mead(sphere, mg.backend.asarray(np.array([-1.2, 1.0])), maxfev=60)
    assert watched.by_kind == alone.by_kind and watched.by_kind["item"] == res.nfev


def test_scipy_names_only_where_the_method_has_the_option(capsys):
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['maxfun'\]"):
        minimize(rosen, [-1.2, 1.0], method="l-bfgs", maxfun=100)


def test_a_constraint_object_and_a_non_callable_f_are_named():
    class Constraint:  # like SciPy's NonlinearConstraint: no len()
        pass

    with pytest.raises(ValueError, match="constraints are not supported"):
        minimize(sphere, [0.0], method="bfgs", constraints=Constraint())
    with pytest.raises(TypeError, match="f must be callable; got int"):
        minimize(3, [0.0], method="nelder-mead")
