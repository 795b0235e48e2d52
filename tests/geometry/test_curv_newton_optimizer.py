"""The Newton optimizer class: the checks of the generic registry tests (validation, state round
trip, dtype, convergence on the registry's quadratic and Rosenbrock), which cannot drive it (it
differentiates the loss twice, so its closure returns a recorded loss and fixed gradient
sequences do not apply), plus its closure contract."""
import io
import math

import numpy as np
import pytest

import minigrad as mg
from optimizers import flatten_state_dict, unflatten_state_dict
from optimizers.second_order.newton import Newton

C, S = math.cos(0.3), math.sin(0.3)
Q = np.array([[C, -S], [S, C]])
A = Q @ np.diag([1.0, 10.0]) @ Q.T  # the registry's quadratic: mu = 1, L = 10
b = np.array([1.0, -2.0])


def quadratic(x):
    At, bt = mg.Tensor(A, dtype=x.dtype), mg.Tensor(b, dtype=x.dtype)
    return 0.5 * (x @ (At @ x)) - bt @ x


def rosenbrock(x):
    a, c = 1.0 - x[0], x[1] - x[0] * x[0]
    return a * a + 100.0 * (c * c)


INVALID = [({"lr": -1.0}, "lr"), ({"lr": math.nan}, "lr"), ({"line_search": "wolfe"}, "line_search"),
           ({"solver": "lu"}, "solver"), ({"c1": 1.0}, "c1"), ({"rho": 0.0}, "rho"),
           ({"min_curvature": 0.0}, "min_curvature"), ({"max_backtracks": 0}, "max_backtracks"),
           ({"cg_tol": -1.0}, "cg_tol"), ({"cg_max_iter": 0}, "cg_max_iter")]


@pytest.mark.parametrize("kwargs, name", INVALID)
def test_invalid_hyperparameters_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Newton([mg.Tensor([1.0, 2.0], requires_grad=True)], **kwargs)


@pytest.mark.parametrize("solver, line_search", [("dense", "armijo"), ("dense", None),
                                                 ("cg", "armijo")])
def test_one_step_on_the_registry_quadratic_and_rosenbrock(solver, line_search):
    x = mg.Tensor([3.0, 2.0], requires_grad=True)
    opt = Newton([x], solver=solver, line_search=line_search,
                 cg_tol=0.0 if solver == "cg" else None)
    opt.step(lambda: quadratic(x))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(A, b), atol=1e-12)
    if line_search is None:
        return
    y = mg.Tensor([-1.2, 1.0], requires_grad=True)
    opt = Newton([y], solver=solver, line_search=line_search)
    for _ in range(40 if solver == "dense" else 100):  # CG truncates at negative curvature:
        opt.step(lambda: rosenbrock(y))                   # Cauchy-like steps in the valley
    np.testing.assert_allclose(y.numpy(), [1.0, 1.0], atol=1e-8)


def test_several_parameters_are_one_vector():
    """x in R^1 and W in R^{1x1} together: the Hessian couples them (f = (x w - 1)^2 + ...)."""
    x = mg.Tensor([2.0], requires_grad=True)
    w = mg.Tensor([[0.5]], requires_grad=True)
    f = lambda: (x[0] * w[0, 0] - 1.0) ** 2 + 0.1 * (x * x).sum() + 0.1 * (w * w).sum()
    opt = Newton([x, w])
    for _ in range(30):
        opt.step(f)
    g = mg.grad(lambda v: (v[0] * v[1] - 1.0) ** 2 + 0.1 * (v * v).sum())(
        np.array([x.numpy()[0], w.numpy()[0, 0]]))
    assert np.linalg.norm(g) < 1e-10


def test_float32_stays_float32():
    x = mg.Tensor(np.array([3.0, 2.0], dtype=np.float32), requires_grad=True)
    opt = Newton([x])
    loss = opt.step(lambda: quadratic(x))
    assert x.data.dtype == np.float32 and loss.dtype == np.float32
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(A, b), rtol=1e-5)


@pytest.mark.parametrize("via_savez", [False, True])
def test_state_dict_round_trip_continues_in_lockstep(via_savez):
    x = mg.Tensor([-1.2, 1.0], requires_grad=True)
    opt = Newton([x], solver="cg")
    for _ in range(3):
        opt.step(lambda: rosenbrock(x))
    sd = opt.state_dict()
    if via_savez:
        buf = io.BytesIO()
        np.savez(buf, **flatten_state_dict(sd))
        buf.seek(0)
        sd = unflatten_state_dict(np.load(buf))
    x2 = mg.Tensor(x.numpy(), requires_grad=True)
    opt2 = Newton([x2], solver="dense")  # the loaded hyperparameters replace these
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["solver"] == "cg" and opt2.nfev == opt.nfev
    for _ in range(3):
        opt.step(lambda: rosenbrock(x))
        opt2.step(lambda: rosenbrock(x2))
    np.testing.assert_array_equal(x.numpy(), x2.numpy())
    assert opt.step_count == opt2.step_count == 6
    with pytest.raises(ValueError):
        Newton([mg.Tensor([1.0], requires_grad=True)]).load_state_dict({**sd, "optimizer": "SGD"})


def test_closure_contract():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    opt = Newton([x])
    with pytest.raises(ValueError, match="closure"):
        opt.step()

    def torch_style():
        loss = quadratic(x)
        loss.backward()  # frees the graph: Newton cannot differentiate twice
        return loss
    with pytest.raises(RuntimeError):
        opt.step(torch_style)
    with pytest.raises(ValueError, match="one parameter group"):
        Newton([{"params": [x]}, {"params": [mg.Tensor([1.0], requires_grad=True)]}])
