"""The semantics of backward: accumulation, freeing, retain_graph, create_graph, errors."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor


def test_gradients_accumulate_on_leaves_across_backward_calls():
    x = Tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    (3.0 * x).sum().backward()
    assert np.array_equal(mg.to_numpy(x.grad), 2 * np.array([1.0, -2.0]) + 3.0)


def test_intermediate_gradients_are_not_kept():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    z = (y * y).sum()
    z.backward()
    assert y.grad is None and z.grad is None
    assert np.array_equal(mg.to_numpy(x.grad), 8.0 * np.array([1.0, 2.0]))


def test_second_backward_through_freed_graph_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    z = (mg.exp(x) * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        z.backward()


def test_retain_graph_allows_a_second_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    z = (mg.exp(x) * x).sum()
    z.backward(retain_graph=True)
    g1 = mg.to_numpy(x.grad)  # a copy, on the host
    z.backward()
    assert np.allclose(mg.to_numpy(x.grad), 2 * g1)


def test_failed_backward_leaves_gradients_unchanged():
    """The freed-graph check happens before any gradient is accumulated (no lost state)."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    shared = x * 2.0
    (shared * shared).sum().backward()  # frees `shared`
    before = mg.to_numpy(x.grad)  # a copy, on the host
    with pytest.raises(RuntimeError):
        ((shared + w) * w).sum().backward()
    assert np.array_equal(mg.to_numpy(x.grad), before) and w.grad is None


def test_backward_on_non_scalar_needs_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    with pytest.raises(RuntimeError, match=r"scalar.*\(2,\)"):
        y.backward()
    y.backward(grad=np.array([1.0, 10.0]))
    assert np.array_equal(mg.to_numpy(x.grad), [3.0, 30.0])
    with pytest.raises(ValueError, match="shape"):
        (x * 3.0).backward(grad=np.ones(3))


def test_backward_on_constant_raises():
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        Tensor([1.0]).sum().backward()


def test_create_graph_makes_gradients_differentiable():
    x = Tensor([0.5, -1.5], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad_tensor  # 3 x^2, with its graph
    assert g.requires_grad
    assert np.allclose(mg.to_numpy(x.grad), 3 * np.array([0.5, -1.5]) ** 2)
    x.grad = None
    g.sum().backward()  # d/dx sum(3 x^2) = 6 x
    assert np.allclose(mg.to_numpy(x.grad), 6 * np.array([0.5, -1.5]))


def test_hessian_of_quadratic_form_is_exact():
    """hessian(0.5 x^T A x) = (A + A^T)/2 exactly (integer-valued A: no rounding at all)."""
    rng = np.random.default_rng(0)
    A = rng.integers(-5, 6, size=(4, 4)).astype(float)
    x0 = rng.standard_normal(4)
    H = mg.to_numpy(mg.hessian(lambda x: 0.5 * x @ Tensor(A) @ x, mg.backend.asarray(x0)))
    assert np.array_equal(H, (A + A.T) / 2)


def test_hessian_shape_for_matrix_input():
    rng = np.random.default_rng(1)
    X0 = rng.standard_normal((2, 3))
    H = mg.hessian(lambda X: (X * X * X).sum(), X0)
    assert H.shape == (2, 3, 2, 3)
    expected = np.diag((6 * X0).ravel()).reshape(2, 3, 2, 3)
    assert np.allclose(H, expected, rtol=1e-14, atol=0)


def test_hvp_agrees_with_finite_differences_of_the_gradient():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((5, 5))

    def f(x):
        return mg.logsumexp(Tensor(A) @ x) + 0.1 * (x ** 4).sum()

    x0, v = rng.standard_normal(5), rng.standard_normal(5)
    dev = mg.backend.asarray  # the points on the backend of Tensor(A)
    g = mg.grad(f)
    eps = 1e-5
    fd = mg.to_numpy(g(dev(x0 + eps * v)) - g(dev(x0 - eps * v))) / (2 * eps)
    assert np.allclose(mg.to_numpy(mg.hvp(f, dev(x0), dev(v))), fd, rtol=1e-7, atol=1e-9)


def test_third_derivative_of_a_polynomial():
    # p(x) = 2x^5 - 3x^2 + x: p''' = 120 x^2, so p'''(1.5) = 270 exactly.
    def p(x):
        return 2.0 * x ** 5 - 3.0 * x ** 2 + x
    d3 = mg.grad(mg.grad(mg.grad(p)))
    assert float(d3(1.5)) == pytest.approx(270.0, rel=1e-14)
    assert float(mg.grad(mg.grad(p))(1.5)) == pytest.approx(40 * 1.5 ** 3 - 6, rel=1e-14)


def test_grad_argnums_and_value_and_grad():
    def f(a, b):
        return (a * b).sum() + (b ** 2).sum()
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    ga, gb = mg.grad(f, argnums=(0, 1))(a, b)
    assert np.array_equal(ga, b) and np.array_equal(gb, a + 2 * b)
    value, g = mg.value_and_grad(f, argnums=1)(a, b)
    assert float(value) == 1 * 3 + 2 * -1 + 9 + 1 and np.array_equal(g, a + 2 * b)
    with pytest.raises(ValueError, match="scalar"):
        mg.grad(lambda x: x * 2.0)(a)


@pytest.mark.slow
def test_backward_through_a_chain_of_100000_operations():
    """The topological sort is iterative: a recursive one dies at a depth of about 1000."""
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_errors_name_the_operation_and_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"add.*\(3,\).*\(4,\)"):
        Tensor(np.ones(3)) + Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))).reshape(4)


def test_leaf_gradients_never_share_memory():
    """``a + b`` hands the same gradient to both leaves; changing one ``.grad`` in place (as an
    optimizer or gradient clipping does) must not change the other, nor the caller's seed."""
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (a + b).backward(grad=seed)
    a.grad *= 10.0
    assert np.array_equal(mg.to_numpy(b.grad), [1.0, 1.0]) and np.array_equal(seed, [1.0, 1.0])
    c = Tensor([1.0, 2.0], requires_grad=True)
    y = c + 0.0
    y.backward(grad=seed)
    c.grad[0] = 5.0
    assert np.array_equal(seed, [1.0, 1.0])
    W = Tensor(np.ones((3, 2)), requires_grad=True)
    (Tensor(np.ones((4, 2))) @ W.T).sum().backward()  # the linear-layer layout
    assert W.grad.shape == (3, 2) and np.all(mg.to_numpy(W.grad) == 4.0)
    W.grad[...] = W.grad * 2.0                         # writeable: an in-place write goes through
    assert np.all(mg.to_numpy(W.grad) == 8.0)
