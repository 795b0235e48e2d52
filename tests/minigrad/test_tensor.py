"""The Tensor API: construction, attributes, dtype rules, the assignable gradient."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor


def test_construction_copies_and_keeps_dtype(backend, xp):
    a = np.arange(3, dtype=np.float32)
    t = Tensor(a, requires_grad=True)
    assert t.dtype == np.float32 and t.shape == (3,) and t.requires_grad
    a[0] = 99.0  # a copy, like torch.tensor
    assert mg.to_numpy(t)[0] == 0.0
    assert Tensor([1.0, 2.0]).dtype == np.float64  # Python floats give float64, as in NumPy
    assert Tensor([1, 2], dtype="float32").dtype == np.float32
    assert t.backend == backend


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        Tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        Tensor([1, 2, 3]).requires_grad_()
    assert Tensor([1, 2, 3]).dtype.kind == "i"  # without a gradient integers are fine


def test_item_numpy_detach(backend):
    t = Tensor([[2.5]], requires_grad=True)
    assert t.item() == 2.5
    with pytest.raises(ValueError, match="one element"):
        Tensor([1.0, 2.0]).item()
    y = t * 3.0
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and not y.is_leaf
    assert isinstance(y.numpy(), np.ndarray) and y.numpy()[0, 0] == 7.5


def test_grad_is_assignable_and_validated(backend, xp):
    t = Tensor(xp.zeros((2, 3), dtype=xp.float32), requires_grad=True)
    t.grad = xp.ones((2, 3))  # float64 in: cast to the tensor's dtype
    assert t.grad.dtype == np.float32 and t.grad.shape == (2, 3)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        t.grad = xp.ones(3)
    with pytest.raises(TypeError):
        t.grad = [1.0, 2.0]
    t.grad = None
    assert t.grad is None


def test_numpy_array_on_the_left_defers_to_tensor():
    # NumPy-specific: a NumPy array's operator defers to a NumPy Tensor (on another backend
    # mixing host and device arrays is refused by design), so the tensor is pinned to NumPy
    with mg.use_backend("numpy"):
        t = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * t  # ndarray.__mul__ defers: a Tensor, not an object array
    assert isinstance(y, Tensor)
    y.sum().backward()
    assert np.array_equal(mg.to_numpy(t.grad), [3.0, 4.0])


def test_unsupported_operand_names_the_operation():
    with pytest.raises(TypeError, match="mul"):
        Tensor([1.0]) * "a"


def test_no_grad_records_nothing():
    x = Tensor([1.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2.0
    assert not y.requires_grad
    with mg.no_grad():
        with mg.enable_grad():
            z = x * 2.0
    assert z.requires_grad
