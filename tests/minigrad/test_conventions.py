"""Pinned conventions at non-differentiable points (documented in docs/minigrad.md)."""
import numpy as np

import minigrad as mg
from minigrad import Tensor


def _grad(f, x0):
    x = Tensor(np.asarray(x0, dtype=float), requires_grad=True)
    f(x).sum().backward()
    return mg.to_numpy(x.grad)  # on the host, whatever the backend


def test_relu_derivative_at_zero_is_zero():
    assert np.array_equal(_grad(mg.relu, [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])


def test_abs_derivative_at_zero_is_zero():
    assert np.array_equal(_grad(mg.abs, [-2.0, 0.0, 3.0]), [-1.0, 0.0, 1.0])


def test_sign_has_zero_derivative():
    x = Tensor([1.0, -2.0], requires_grad=True)
    (mg.sign(x) * 3.0 + x).sum().backward()
    assert np.array_equal(mg.to_numpy(x.grad), [1.0, 1.0])


def test_ties_in_max_and_min_share_the_gradient_evenly():
    assert np.array_equal(_grad(mg.max, [3.0, 1.0, 3.0]), [0.5, 0.0, 0.5])
    assert np.array_equal(_grad(mg.min, [1.0, 1.0, 5.0, 1.0, 2.0, 1.0]),
                          [0.25, 0.25, 0.0, 0.25, 0.0, 0.25])
    g = _grad(lambda x: mg.max(x, axis=1), [[2.0, 2.0], [1.0, 4.0]])
    assert np.array_equal(g, [[0.5, 0.5], [0.0, 1.0]])


def test_ties_in_elementwise_maximum_split_evenly():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([1.0, 5.0, 0.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    assert np.array_equal(mg.to_numpy(a.grad), [0.5, 0.0, 1.0]) and np.array_equal(
        mg.to_numpy(b.grad), [0.5, 1.0, 0.0])


def test_gradient_of_the_norm_at_zero_is_zero():
    assert np.array_equal(_grad(mg.norm, [0.0, 0.0]), [0.0, 0.0])
    g = _grad(lambda x: mg.norm(x, axis=1), [[0.0, 0.0], [3.0, 4.0]])
    assert np.array_equal(g[0], [0.0, 0.0])
    np.testing.assert_allclose(g[1], [0.6, 0.8], rtol=1e-15)  # x / ||x||, up to one rounding


def test_gradient_of_the_l1_and_max_norms_at_zero_is_zero():
    """p = 1 inherits d|x| = sign(0) = 0; p = inf at 0 is a tie of zeros, each with sign 0."""
    assert np.array_equal(_grad(lambda x: mg.norm(x, 1), [0.0, 0.0, 0.0]), [0.0, 0.0, 0.0])
    assert np.array_equal(_grad(lambda x: mg.norm(x, np.inf), [0.0, 0.0]), [0.0, 0.0])
    # away from 0 the max norm's tie rule applies: |3| = |-3| share the gradient
    assert np.array_equal(_grad(lambda x: mg.norm(x, np.inf), [3.0, -3.0, 1.0]), [0.5, -0.5, 0.0])


def test_power_with_respect_to_the_exponent_at_a_zero_base_is_zero():
    """d(a^b)/db = a^b log a is 0 * (-inf) at a = 0: pinned to 0 (finite), not NaN."""
    a = Tensor([0.0, 2.0], requires_grad=True)
    b = Tensor([2.0, 3.0], requires_grad=True)
    (a ** b).sum().backward()
    assert np.array_equal(mg.to_numpy(b.grad), [0.0, 8.0 * np.log(2.0)])
    assert np.array_equal(mg.to_numpy(a.grad), [0.0, 12.0])  # b a^(b-1)


def test_clip_passes_the_gradient_at_its_bounds():
    g = _grad(lambda x: mg.clip(x, -1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])
    assert np.array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_repeated_integer_indices_accumulate():
    g = _grad(lambda x: x[np.array([0, 2, 0, 0])], [1.0, 2.0, 3.0])
    assert np.array_equal(g, [3.0, 0.0, 1.0])
    g = _grad(lambda x: x[np.array([True, False, True])] * 2.0, [1.0, 2.0, 3.0])
    assert np.array_equal(g, [2.0, 0.0, 2.0])
