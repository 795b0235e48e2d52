"""A callback that raises StopIteration ends the run as in SciPy (1.11 and later): status 99,
success False, SciPy's message, the result at the iterate the callback was shown, the counts of
the evaluations made so far; every method of ``minimize``, both callback forms."""
import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import METHODS, minimize
from optimizers.results import CALLBACK_STOP, CALLBACK_STOP_MESSAGE, Status

VALUE_ONLY = {"nelder-mead", "cma-es", "one-plus-one", "ga", "zo-gd"}
#: a budget of about ten iterations each (the run without the callback goes past three)
OPTIONS = {"bfgs": dict(maxiter=10), "l-bfgs": dict(maxiter=10), "newton": dict(maxiter=10),
           "newton-cg": dict(maxiter=10), "trust-ncg": dict(maxiter=10),
           "nelder-mead": dict(maxiter=10),
           "cma-es": dict(maxfev=60), "one-plus-one": dict(maxfev=11), "ga": dict(maxgen=10),
           "zo-gd": dict(lr=1e-4, maxiter=10)}


def rosen_np(x):
    x = mg.to_numpy(x)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rosen_mg(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def test_the_status_code_and_message_are_scipys():
    assert CALLBACK_STOP == 99 and CALLBACK_STOP not in {int(s) for s in Status}
    assert CALLBACK_STOP_MESSAGE == "`callback` raised `StopIteration`."


@pytest.mark.parametrize("form", ["intermediate_result", "xk"])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_stop_iteration_ends_the_run_at_the_iterate_shown(method, form):
    f = rosen_np if method in VALUE_ONLY else rosen_mg
    seen = []

    def record(x):
        seen.append(mg.to_numpy(x).copy())
        if len(seen) == 3:
            raise StopIteration

    if form == "intermediate_result":
        def callback(intermediate_result):
            record(intermediate_result.x)
    else:
        def callback(xk):
            record(xk)
    full = minimize(f, [-1.2, 1.0], method=method, **OPTIONS[method])
    res = minimize(f, [-1.2, 1.0], method=method, callback=callback, **OPTIONS[method])
    assert full.nit > 3 and full.status != 99          # the run would have gone on
    assert res.status == 99 and res.success is False
    assert res.message == "`callback` raised `StopIteration`."
    assert res.nit == 3 and len(seen) == 3
    np.testing.assert_array_equal(mg.to_numpy(res.x), seen[-1])
    assert 0 < res.nfev < full.nfev


def test_other_exceptions_of_the_callback_propagate():
    def callback(xk):
        raise KeyError("mine")
    with pytest.raises(KeyError, match="mine"):
        minimize(rosen_mg, [-1.2, 1.0], method="bfgs", callback=callback)
