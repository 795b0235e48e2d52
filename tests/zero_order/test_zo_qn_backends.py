"""Every method on every backend (NumPy always; CuPy when a GPU is present): the result lives on
the backend of x0, and the run converges. The random samples are drawn on the host, so the
zero-order runs are the same on both backends."""
import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import minimize
from optimizers.second_order.lbfgs import LBFGS
from optimizers.zero_order.cmaes import CMAES

OPTIONS = {
    "bfgs": {}, "l-bfgs": {}, "zo-gd": {"lr": 0.1, "maxiter": 400, "ftarget": 1e-10},
    "nelder-mead": {"xatol": 1e-8, "fatol": 1e-12}, "cma-es": {"ftarget": 1e-12},
    "one-plus-one": {"ftarget": 1e-12}, "ga": {"ftarget": 1e-8, "maxgen": 1000},
}


def shifted_sphere(x):
    return ((x - 0.5) ** 2).sum()


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(OPTIONS))
def test_result_on_the_backend_of_x0(method, backend, xp):
    x0 = xp.asarray([1.5, -1.0, 0.0])
    res = minimize(shifted_sphere, x0, method=method, **OPTIONS[method])
    assert res.success, res.message
    assert mg.backend.backend_name_of(res.x) == backend
    np.testing.assert_allclose(mg.to_numpy(res.x), 0.5, atol=1e-4)


@pytest.mark.parametrize("cls,steps", [(LBFGS, 10), (CMAES, 150)])
def test_optimizers_on_the_backend(cls, steps, backend):
    x = mg.Tensor([1.5, -1.0, 0.0], requires_grad=True)

    def closure():
        value = shifted_sphere(x)
        if cls is LBFGS:
            value.backward()
        return value

    opt = cls([x])
    for _ in range(steps):
        opt.step(closure)
    assert x.backend == backend
    np.testing.assert_allclose(x.numpy(), 0.5, atol=1e-4)
