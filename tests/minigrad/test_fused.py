"""The fused layer primitives give the numbers of the compositions they replace, bit for bit, and
pass second-order gradient checks."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import fused
from minigrad.gradcheck import check_grads


def _grads(loss, tensors):
    for t in tensors:
        t.grad = None
    loss.backward()
    return [mg.to_numpy(t.grad) for t in tensors]  # copies, on the host


@settings(max_examples=30, deadline=None)
@given(batch=st.sampled_from([(), (1,), (5,), (2, 3)]), n_in=st.integers(1, 4),
       n_out=st.integers(1, 4), bias=st.booleans(), dtype=st.sampled_from(["float64", "float32"]),
       seed=st.integers(0, 2**16))
def test_linear_is_matmul_with_w_transposed_plus_b_bit_for_bit(batch, n_in, n_out, bias, dtype,
                                                                seed):
    rng = np.random.default_rng(seed)
    x = mg.Tensor(rng.standard_normal(batch + (n_in,)).astype(dtype), requires_grad=True)
    W = mg.Tensor(rng.standard_normal((n_out, n_in)).astype(dtype), requires_grad=True)
    b = mg.Tensor(rng.standard_normal(n_out).astype(dtype), requires_grad=True) if bias else None
    w = mg.backend.asarray(rng.standard_normal(batch + (n_out,)).astype(dtype))
    params = [x, W] + ([b] if bias else [])
    ref = mg.matmul(x, W.T) + b if bias else mg.matmul(x, W.T)
    got = fused.linear(x, W, b)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    # with two or more batch axes the weight's gradient is one matmul over all the rows, where
    # the composition sums a batched matmul over the batch axes: the same terms added in
    # another order, so equal to a few roundings (exact with one batch axis or none, the
    # layers of minigrad.nn)
    rtol = 0.0 if len(batch) <= 1 else 8 * np.finfo(dtype).eps
    for g_ref, g_got in zip(_grads((ref * w).sum(), params), _grads((got * w).sum(), params)):
        np.testing.assert_allclose(g_got, g_ref, rtol=rtol, atol=rtol * np.abs(g_ref).max())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cross_entropy_rows_is_logsumexp_minus_the_picked_logit_bit_for_bit(dtype):
    rng = np.random.default_rng(1)
    z = mg.Tensor((3 * rng.standard_normal((17, 6))).astype(dtype), requires_grad=True)
    y = rng.integers(0, 6, 17)
    ref = (mg.logsumexp(z, axis=1) - z[np.arange(17), y]).mean()
    got = fused.cross_entropy_rows(z, y).mean()
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    np.testing.assert_array_equal(_grads(got, [z])[0], _grads(ref, [z])[0])


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_the_batch():
    rng = np.random.default_rng(2)
    z0, y = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])
    z = mg.Tensor(z0, requires_grad=True)
    fused.cross_entropy_rows(z, y).mean().backward()
    p = np.exp(z0) / np.exp(z0).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(mg.to_numpy(z.grad), (p - np.eye(3)[y]) / 4, rtol=1e-13, atol=1e-15)


def test_second_order_gradient_checks():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 5, 6)
    check_grads(lambda z: fused.cross_entropy_rows(z, y), rng.standard_normal((6, 5)), order=2)
    check_grads(lambda x, W, b: fused.linear(x, W, b), rng.standard_normal((2, 3, 4)),
                rng.standard_normal((5, 4)), rng.standard_normal(5), order=2)
    check_grads(lambda x, W: fused.linear(x, W), rng.standard_normal(4),
                rng.standard_normal((5, 4)), order=2)


def test_linear_refuses_shapes_that_do_not_fit():
    W = mg.Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\(2, 5\).*\(3, 4\)"):
        fused.linear(np.ones((2, 5)), W)
    with pytest.raises(ValueError, match="bias of shape"):
        fused.linear(np.ones((2, 4)), W, mg.Tensor(np.ones(4)))


def test_the_array_level_logsumexp_takes_numpy_s_axis_forms():
    from minigrad.primitive import array_namespace
    xp = array_namespace(np)
    x = np.random.default_rng(4).standard_normal((3, 4))
    ref = lambda axis, keepdims=False: np.log(np.exp(x).sum(axis=axis, keepdims=keepdims))  # noqa
    for axis in (None, 0, 1, -1, (0, 1)):
        np.testing.assert_allclose(xp.logsumexp(x, axis=axis), ref(axis), rtol=1e-14)
    np.testing.assert_allclose(xp.logsumexp(x, axis=1, keepdims=True), ref(1, True), rtol=1e-14)
