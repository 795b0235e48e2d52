"""NumPy's semantics where a NumPy user relies on them: sign has a zero derivative (not none),
``dot`` is ``numpy.dot`` in every dimension, numbers are accepted in lists of operands,
comparisons give boolean Tensors, one-element Tensors have a truth value, ``==`` is elementwise
and Tensors still hash by identity."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.gradcheck import check_grads

RNG = np.random.default_rng(0)


# --------------------------------------------------------------------------- sign
def test_a_function_of_sign_has_a_zero_gradient_and_hessian():
    v = np.array([1.0, -2.0, 3.0])
    x = np.array([0.5, -1.5, 0.0])
    g = mg.grad(lambda x: (mg.sign(x) * v).sum())(x)
    np.testing.assert_array_equal(g, np.zeros(3))
    np.testing.assert_array_equal(mg.hessian(lambda x: (mg.sign(x) * x).sum(), x), np.zeros((3, 3)))
    # |x| = sign(x) x: the product rule gives sign(x) (+ x * 0), the derivative of |x|
    np.testing.assert_array_equal(mg.grad(lambda x: (mg.sign(x) * x).sum())(x), np.sign(x))


def test_sign_values_and_dtype():
    x = mg.Tensor(np.array([-2.0, 0.0, 3.0], dtype=np.float32), requires_grad=True)
    y = mg.sign(x)
    assert y.requires_grad and y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [-1.0, 0.0, 1.0])


# --------------------------------------------------------------------------- dot
@st.composite
def dot_shapes(draw):
    na, nb = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    k = draw(st.integers(1, 3))
    a = tuple(draw(st.integers(1, 3)) for _ in range(max(na - 1, 0))) + ((k,) if na else ())
    if nb == 0:
        b = ()
    elif nb == 1:
        b = (k,)
    else:
        b = tuple(draw(st.integers(1, 3)) for _ in range(nb - 2)) + (k, draw(st.integers(1, 3)))
    if na == 0:
        a = ()
    return a, b


@settings(max_examples=80, deadline=None)
@given(shapes=dot_shapes(), seed=st.integers(0, 2**16))
def test_dot_is_numpy_dot_in_every_dimension(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes)
    want = np.dot(a, b)
    got = mg.dot(mg.Tensor(a), mg.Tensor(b))
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sa, sb", [((2, 3), (2, 3, 4)), ((2, 2, 3), (2, 3, 4)), ((3,), (2, 3, 2)),
                                    ((2, 3), (3,)), ((), (2, 3)), ((2, 2, 3), (3, 2))])
def test_dot_gradients_to_second_order(sa, sb):
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    check_grads(lambda a, b: mg.dot(a, b), a, b, order=2)


def test_dot_refuses_misaligned_shapes_naming_them():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\).*not aligned"):
        mg.dot(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError, match="not aligned"):
        mg.dot(np.ones((2, 3)), np.ones((2, 2, 4)))


# --------------------------------------------------------------------------- numbers in lists
def test_stack_and_concatenate_accept_numbers_and_lists_as_numpy_does():
    x = mg.Tensor(np.array(2.0), requires_grad=True)
    s = mg.stack([x, 0.5, 3])
    np.testing.assert_array_equal(s.numpy(), np.stack([np.array(2.0), 0.5, 3]))
    (s * mg.Tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad == 1.0
    v = mg.Tensor(np.ones(2), requires_grad=True)
    c = mg.concatenate([v, [5.0, 6.0], mg.backend.asarray(np.array([7.0]))])  # an array of v's
    # backend (a NumPy array next to a device tensor is refused)
    np.testing.assert_array_equal(c.numpy(), [1.0, 1.0, 5.0, 6.0, 7.0])


def test_a_number_next_to_float32_tensors_stays_float32():
    x = mg.Tensor(np.ones(()), dtype="float32")
    assert mg.stack([x, 0.5]).dtype == np.float32
    assert mg.concatenate([mg.Tensor(np.ones(2), dtype="float32"), [0.5]]).dtype == np.float32


def test_unsupported_members_and_a_bare_tensor_are_refused():
    with pytest.raises(TypeError, match="operand 1 of type str"):
        mg.stack([mg.Tensor(1.0), "a"])
    with pytest.raises(TypeError, match="sequence"):
        mg.stack(mg.Tensor(np.ones((2, 2))))
    with pytest.raises(ValueError, match="at least one"):
        mg.concatenate([])


# --------------------------------------------------------------------------- comparisons, truth
def test_comparisons_give_boolean_tensors_elementwise():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 4.0])
    ta, tb = mg.Tensor(a), mg.Tensor(b)
    for got, want in [(ta < tb, a < b), (ta <= tb, a <= b), (ta > tb, a > b), (ta >= tb, a >= b),
                      (ta == tb, a == b), (ta != tb, a != b), (ta == 2.0, a == 2.0),
                      (ta != mg.backend.asarray(b), a != b)]:  # an array of ta's backend
        assert isinstance(got, mg.Tensor) and got.dtype == np.bool_
        assert not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), want)


def test_a_one_element_tensor_has_a_truth_value_and_more_are_ambiguous():
    assert bool(mg.Tensor(1.0) > 0) and not bool(mg.Tensor([[-1.0]]) > 0)
    assert float(mg.Tensor([2.5])) == 2.5 and int(mg.Tensor(3.0)) == 3
    with pytest.raises(ValueError, match="ambiguous"):
        bool(mg.Tensor([1.0, 2.0]) > 0)

    def f(x):  # an objective that branches on a comparison
        return (x * x).sum() if x[0] < 0 else x.sum()
    np.testing.assert_array_equal(mg.grad(f)(np.array([-1.0, 2.0])), [-2.0, 4.0])
    np.testing.assert_array_equal(mg.grad(f)(np.array([1.0, 2.0])), [1.0, 1.0])


def test_equality_with_other_objects_is_python_s_and_hashing_stays_by_identity():
    t, u = mg.Tensor([1.0, 2.0]), mg.Tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711
    assert (t == "x") is False
    assert len({t, u}) == 2 and {t: 1, u: 2}[u] == 2
    assert t in [t] and [t].index(t) == 0


def test_a_list_compares_elementwise_as_the_array_it_spells():
    t = mg.Tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((t == [1.0, 0.0, 3.0]).numpy(), [True, False, True])
    np.testing.assert_array_equal((t < (2, 2, 2)).numpy(), [True, False, False])
    np.testing.assert_array_equal(([1.0, 5.0, 3.0] > t).numpy(), [False, True, False])
