"""The core API (optimizers.Optimizer): parameters and groups, errors, closures, the step counter,
schedules and last_lr, gradients that are None, backends, and the memory of a step."""
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
import optimizers as O
from optimizers import Optimizer


def p(values=(1.0, 2.0)):
    return mg.Tensor(list(values), requires_grad=True)


# --------------------------------------------------------------------------- parameters
def test_empty_parameter_list_is_an_error():
    with pytest.raises(ValueError, match="empty parameter list"):
        O.SGD([])
    with pytest.raises(ValueError, match="empty parameter list"):
        O.Adam(x for x in [])
    with pytest.raises(ValueError, match="group 0 is empty"):
        O.SGD([{"params": []}])


def test_a_parameter_that_is_not_a_tensor_is_an_error():
    with pytest.raises(TypeError, match="parameter 1 of group 0 is a ndarray"):
        O.SGD([p(), np.zeros(2)])
    with pytest.raises(TypeError, match="iterable of minigrad Tensors"):
        O.SGD(3.0)
    with pytest.raises(TypeError, match="mixes Tensors and parameter groups"):
        O.SGD([p(), {"params": [p()]}])


def test_an_integer_parameter_is_an_error():
    with pytest.raises(TypeError, match="dtype int64"):
        O.Adam([mg.Tensor(np.array([1, 2], dtype=np.int64))])


def test_a_parameter_given_twice_is_an_error():
    x = p()
    with pytest.raises(ValueError, match="appears more than once"):
        O.SGD([x, x])
    with pytest.raises(ValueError, match="appears more than once"):
        O.SGD([{"params": [x]}, {"params": [p(), x]}])
    opt = O.SGD([x])
    with pytest.raises(ValueError, match="appears more than once"):
        opt.add_param_group({"params": [x]})


def test_a_single_tensor_is_one_parameter():
    x = p()
    opt = O.SGD(x, lr=0.1)
    assert opt.param_groups[0]["params"] == [x]


def test_group_errors_name_the_problem():
    with pytest.raises(ValueError, match="no 'params' entry"):
        O.SGD([{"lr": 0.1}])
    with pytest.raises(ValueError, match=r"unknown hyperparameter\(s\) \['learning_rate'\]"):
        O.SGD([{"params": [p()], "learning_rate": 0.1}])
    with pytest.raises(ValueError, match="invalid lr=-1"):
        O.SGD([{"params": [p()]}, {"params": [p()], "lr": -1}])


def test_invalid_value_messages_name_the_parameter_and_the_value():
    with pytest.raises(ValueError, match=r"Adam: invalid betas\[0\]=1.0; expected a number in "
                                         r"\[0.0, 1.0\)"):
        O.Adam([p()], betas=(1.0, 0.999))
    with pytest.raises(ValueError, match=r"Adam: invalid eps=0.0"):
        O.Adam([p()], eps=0.0)
    with pytest.raises(ValueError, match=r"Momentum: invalid momentum=1.5"):
        O.Momentum([p()], momentum=1.5)
    with pytest.raises(ValueError, match=r"SGD: invalid lr=-0.1"):
        O.SGD([p()], lr=-0.1)
    with pytest.raises(ValueError, match="NaN"):
        O.SGD([p()], lr=float("nan"))
    with pytest.raises(ValueError, match="inf"):
        O.SGD([p()], lr=float("inf"))
    with pytest.raises(ValueError, match="True or False"):
        O.Adagrad([p()], eps_inside="no")


def test_hyperparameters_are_stored_as_python_floats():
    opt = O.Adam([p()], lr=np.float64(0.1), betas=(np.float32(0.5), 0.9), eps=np.float64(1e-8))
    g = opt.param_groups[0]
    assert type(g["lr"]) is float and type(g["eps"]) is float
    assert all(type(b) is float for b in g["betas"])


# --------------------------------------------------------------------------- groups
def test_each_group_uses_its_own_hyperparameters():
    x, y = p([1.0]), p([1.0])
    opt = O.SGD([{"params": [x]}, {"params": [y], "lr": 0.5}], lr=0.1)
    x.grad = mg.backend.asarray(np.array([1.0]))
    y.grad = mg.backend.asarray(np.array([1.0]))
    opt.step()
    assert x.numpy()[0] == pytest.approx(0.9)
    assert y.numpy()[0] == pytest.approx(0.5)
    assert opt.last_lr == [0.1, 0.5]
    z = p([1.0])
    opt.add_param_group({"params": [z], "lr": 0.25})
    z.grad = mg.backend.asarray(np.array([2.0]))
    opt.step()
    assert z.numpy()[0] == pytest.approx(0.5)


def test_zero_grad():
    x = p()
    opt = O.SGD([x])
    x.grad = mg.backend.asarray(np.array([1.0, 2.0]))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(mg.to_numpy(x.grad), [0.0, 0.0])
    opt.zero_grad()
    assert x.grad is None


# --------------------------------------------------------------------------- step
def test_step_returns_the_closure_loss_and_counts_steps():
    x = p()
    opt = O.Adam([x], lr=0.1)
    calls = []

    def closure():
        calls.append(1)
        x.grad = None
        loss = (x * x).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    assert calls == [1] and opt.step_count == 1
    assert opt.step() is None and opt.step_count == 2


def test_a_parameter_whose_grad_is_none_is_left_untouched_and_gets_no_state():
    x, y = p(), p([3.0])
    opt = O.Adam([x, y], lr=0.1)
    x.grad = mg.backend.asarray(np.array([1.0, 1.0]))
    opt.step()
    assert y.numpy()[0] == 3.0 and y not in opt.state and x in opt.state


def test_backward_fills_the_gradients_that_step_uses(backend):
    x = mg.Tensor([1.0, -2.0], requires_grad=True)
    opt = O.SGD([x], lr=0.25)
    loss = (x * x).sum()
    loss.backward()
    opt.step()
    np.testing.assert_allclose(x.numpy(), [0.5, -1.0])
    assert mg.backend.backend_name_of(x.data) == backend


def test_state_lives_on_the_parameters_backend(backend):
    x = mg.Tensor([1.0, -2.0], requires_grad=True)
    opt = O.AMSGrad([x], lr=0.1)
    x.grad = mg.backend.asarray([0.5, 0.5])
    opt.step()
    for value in opt.state[x].values():
        if mg.backend.is_array(value):
            assert mg.backend.backend_name_of(value) == backend


# --------------------------------------------------------------------------- schedules
def test_schedule_starts_at_zero_and_last_lr_reports_the_step_used():
    x = p([0.0])
    opt = O.SGD([x], lr=lambda t: 0.1 * (t + 1))
    for _ in range(3):
        x.grad = mg.backend.asarray(np.array([1.0]))
        opt.step()
    # steps used lr(0), lr(1), lr(2) = 0.1, 0.2, 0.3
    assert x.numpy()[0] == pytest.approx(-0.6)
    assert opt.last_lr == [pytest.approx(0.3)]


def test_a_schedule_that_returns_an_invalid_value_is_an_error_at_the_step():
    x = p([0.0])
    opt = O.SGD([x], lr=lambda t: -1.0)
    x.grad = mg.backend.asarray(np.array([1.0]))
    with pytest.raises(ValueError, match=r"lr\(0\)"):
        opt.step()


def test_a_schedule_can_return_a_numpy_scalar_without_changing_the_dtype():
    x = mg.Tensor(np.array([1.0], dtype=np.float32), requires_grad=True)
    opt = O.Adam([x], lr=lambda t: np.float64(0.01))
    x.grad = mg.backend.asarray(np.array([1.0], dtype=np.float32))
    opt.step()
    assert x.data.dtype == np.float32
    assert type(opt.last_lr[0]) is float


class _OneCycleLike:
    def __init__(self):
        self.momentum = lambda t: 0.0

    def __call__(self, t):
        return 0.1


def test_a_momentum_schedule_replaces_momentum_and_beta1():
    """momentum 0 from the schedule turns momentum into plain gradient descent and Adam's beta1
    into 0 (m = g)."""
    x = p([0.0])
    opt = O.Momentum([x], lr=_OneCycleLike(), momentum=0.9)
    for _ in range(3):
        x.grad = mg.backend.asarray(np.array([1.0]))
        opt.step()
    assert x.numpy()[0] == pytest.approx(-0.3)
    y = p([0.0])
    opt = O.Adam([y], lr=_OneCycleLike())
    y.grad = mg.backend.asarray(np.array([2.0]))
    opt.step()
    np.testing.assert_allclose(mg.to_numpy(opt.state[y]["m"]), [2.0])
    assert opt.param_groups[0]["last_momentum"] == 0.0


def test_methods_without_momentum_ignore_a_momentum_schedule():
    x = p([0.0])
    opt = O.SGD([x], lr=_OneCycleLike())
    x.grad = mg.backend.asarray(np.array([1.0]))
    opt.step()
    assert "last_momentum" not in opt.param_groups[0]


# --------------------------------------------------------------------------- memory
@pytest.mark.parametrize("make", [lambda q: O.Adam(q, lr=1e-3),
                                  lambda q: O.Momentum(q, lr=1e-3),
                                  lambda q: O.SGD(q, lr=1e-3),
                                  lambda q: O.AMSGrad(q, lr=1e-3),
                                  lambda q: O.Lion(q, lr=1e-3)],
                         ids=["Adam", "Momentum", "SGD", "AMSGrad", "Lion"])
def test_a_step_allocates_no_array_of_the_parameters_size_once_the_state_exists(make):
    n = 200_000
    x = mg.Tensor(np.ones(n, dtype=np.float32), requires_grad=True)
    x.grad = mg.backend.asarray(np.full(n, 0.5, dtype=np.float32))
    opt = make([x])
    opt.step()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    opt.step()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert peak < 0.05 * n * 4, f"a step allocated {peak} bytes"


def test_the_first_adam_step_allocates_the_state_and_one_scratch_array():
    n = 200_000
    x = mg.Tensor(np.ones(n, dtype=np.float32), requires_grad=True)
    x.grad = mg.backend.asarray(np.full(n, 0.5, dtype=np.float32))
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    opt = O.Adam([x])
    opt.step()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert peak <= 3.05 * n * 4  # m, v and one temporary


def test_the_scratch_buffer_is_shared_by_parameters_of_one_dtype():
    xs = [mg.Tensor(np.ones(k), requires_grad=True) for k in (10, 1000, 100)]
    opt = O.Adam(xs)
    for x in xs:
        x.grad = mg.backend.asarray(np.ones(x.shape))
    opt.step()
    assert len(opt._buffers) == 1
    assert next(iter(opt._buffers.values())).size == 1000


def test_zero_dimensional_parameters_work():
    x = mg.Tensor(2.0, requires_grad=True)
    opt = O.Adam([x], lr=0.1)
    x.grad = mg.backend.asarray(np.array(1.0))
    opt.step()
    assert x.shape == () and x.item() == pytest.approx(1.9)


def test_repr_lists_groups():
    text = repr(O.Adam([p()], lr=0.1))
    assert text.startswith("Adam (") and "lr=0.1" in text


FIRST_ORDER = ["Optimizer", "Wrapper", "SGD", "Momentum", "NAG", "Adagrad", "RMSProp", "Adadelta",
               "Adam", "AMSGrad", "AdamW", "AdaBelief", "NAdam", "RAdam", "Adamax", "AdaBound",
               "AMSBound", "SignSGD", "Signum", "Lion", "NAGGS", "SAM", "Lookahead", "SVRG", "SAG"]


def test_every_first_order_class_is_exported_and_is_an_optimizer():
    for name in FIRST_ORDER:
        assert name in O.__all__, name
        assert issubclass(getattr(O, name), Optimizer), name
    assert len(set(O.__all__)) == len(O.__all__)


def test_a_step_inside_no_grad_can_still_use_its_closure():
    x = p([1.0, -2.0])

    def closure():
        x.grad = None
        loss = (x * x).sum()
        loss.backward()
        return loss

    for opt in (O.SGD([x], lr=0.1), O.NAG([x], lr=0.1), O.SAM([x], lr=0.1)):
        with mg.no_grad():
            opt.step(closure)
    assert np.all(np.abs(x.numpy()) < [1.0, 2.0])
