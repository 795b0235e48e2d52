"""minigrad.ops_elementwise and minigrad.ops_reduce: values against NumPy over a hypothesis sweep
of shapes and axes, first- and second-order gradient checks against central differences, the
gradient of prod at zeros (prod is a polynomial: finite differences hold there too), closed
forms, the conventions at ties and infinities, float32, errors, functions and methods."""
import inspect

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import ops_elementwise, ops_reduce
from minigrad.gradcheck import check_grads
from test_gradcheck_sweep import broadcast_pair, shapes  # the sweep's strategies

SWEEP = settings(max_examples=30, deadline=None, derandomize=True)
nonempty_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
seeds = st.integers(0, 2**16)


def _point(shape, seed, domain="real"):
    """A random point of ``domain``: "real", "positive" (>= 0.5), "unit" (|x| <= 0.9)."""
    x = np.random.default_rng(seed).standard_normal(shape)
    if domain == "positive":
        return np.abs(x) + 0.5
    if domain == "unit":
        return 0.9 * np.tanh(x)
    return x


def _same(got, want):
    """Same shape, dtype and values (bit for bit; NaNs in the same places), compared on the
    host whatever the backend of ``got`` (or ``want``)."""
    got = mg.to_numpy(got)
    want = mg.to_numpy(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape,
                                                                   got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)


@st.composite
def shape_axis_keepdims(draw):
    """A shape (0-d included), an axis (None, an int of either sign, a tuple) and keepdims."""
    shape = draw(shapes)
    nd = len(shape)
    options = [st.none()]
    if nd:
        options += [st.integers(-nd, nd - 1),
                    st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                             unique_by=lambda a: a % nd).map(tuple)]
    return shape, draw(st.one_of(*options)), draw(st.booleans())


@st.composite
def shape_and_one_axis(draw):
    """A nonempty shape and None or one axis of either sign."""
    shape = draw(nonempty_shapes)
    nd = len(shape)
    return shape, draw(st.one_of(st.none(), st.integers(-nd, nd - 1)))


# --------------------------------------------------------------------------- the tables
#: name -> (NumPy's function, the domain of the sweep's points)
UNARY = {
    "tan": (np.tan, "unit"),  # |x| <= 0.9 < pi / 2
    "sinh": (np.sinh, "real"),
    "cosh": (np.cosh, "real"),
    "arcsin": (np.arcsin, "unit"),
    "arccos": (np.arccos, "unit"),
    "arctan": (np.arctan, "real"),
    "log2": (np.log2, "positive"),
    "log10": (np.log10, "positive"),
}
BINARY = {"logaddexp": np.logaddexp}
#: name -> (minigrad call, NumPy call) with (x, axis, keepdims)
REDUCTIONS = {
    "prod": (lambda x, axis, kd: mg.prod(x, axis, kd),
             lambda x, axis, kd: np.prod(x, axis=axis, keepdims=kd)),
    "std": (lambda x, axis, kd: mg.std(x, axis, keepdims=kd),
            lambda x, axis, kd: np.std(x, axis=axis, keepdims=kd)),
    "std_ddof1": (lambda x, axis, kd: mg.std(x, axis, 1, kd),
                  lambda x, axis, kd: np.std(x, axis=axis, ddof=1, keepdims=kd)),
}
#: name -> (minigrad call, NumPy call) with (x, axis): axis None or one int
SCANS = {
    "cumsum": (mg.cumsum, lambda x, axis: np.cumsum(x, axis=axis)),
    "sort": (mg.sort, lambda x, axis: np.sort(x, axis=axis)),
}
METHODS = {"tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "log2", "log10", "logaddexp",
           "prod", "std", "cumsum"}


def test_every_function_is_swept():
    """Every public function of the two modules is in a sweep table below (a new function fails
    here until it is checked)."""
    assert set(ops_elementwise.__all__) == set(UNARY) | set(BINARY)
    swept = {name.split("_")[0] for name in REDUCTIONS} | set(SCANS)
    assert set(ops_reduce.__all__) == swept


# --------------------------------------------------------------------------- elementwise
@pytest.mark.parametrize("name", sorted(UNARY))
@SWEEP
@given(shape=shapes, seed=seeds)
def test_unary_values_and_second_order_gradients(name, shape, seed):
    fn, (ref, domain) = getattr(mg, name), UNARY[name]
    x = _point(shape, seed, domain)
    _same(fn(x), ref(x))
    _same(fn(mg.Tensor(x)), ref(x))
    check_grads(fn, x, order=2)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_takes_numbers_and_follows_numpys_domain(name):
    fn, (ref, _) = getattr(mg, name), UNARY[name]
    _same(fn(0.5), ref(np.asarray(0.5)))
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, np.inf, np.nan])
        _same(fn(x), ref(x))  # NaN or inf where NumPy gives them


@pytest.mark.parametrize("name, x, closed_form", [
    ("tan", 0.7, 1.0 / np.cos(0.7) ** 2),
    ("sinh", 0.7, np.cosh(0.7)),
    ("cosh", 0.7, np.sinh(0.7)),
    ("arcsin", 0.6, 1.0 / 0.8),
    ("arccos", 0.6, -1.0 / 0.8),
    ("arctan", 2.0, 1.0 / 5.0),
    ("log2", 4.0, 1.0 / (4.0 * np.log(2.0))),
    ("log10", 4.0, 1.0 / (4.0 * np.log(10.0))),
])
def test_unary_derivatives_closed_forms(name, x, closed_form):
    d = mg.grad(getattr(mg, name))(x)
    np.testing.assert_allclose(mg.to_numpy(d), closed_form, rtol=1e-14)


@SWEEP
@given(pair=broadcast_pair(), seed=seeds)
def test_logaddexp_broadcasts_as_numpy_with_second_order_gradients(pair, seed):
    a = 3.0 * _point(pair[0], seed)
    b = 3.0 * _point(pair[1], seed + 1)
    _same(mg.logaddexp(a, b), np.logaddexp(a, b))
    _same(mg.logaddexp(mg.Tensor(a), 1.5), np.logaddexp(a, 1.5))
    _same(mg.Tensor(a).logaddexp(mg.backend.asarray(b)), np.logaddexp(a, b))
    check_grads(mg.logaddexp, a, b, order=2)
    check_grads(lambda t: mg.logaddexp(t, 0.25), a, order=2)


def test_logaddexp_is_stable_and_its_gradient_is_the_softmax_weights():
    a = mg.Tensor([1000.0, -1000.0, 0.0], requires_grad=True)
    b = mg.Tensor([1000.0, -1001.0, 800.0], requires_grad=True)
    out = mg.logaddexp(a, b)
    _same(out, np.logaddexp(a.numpy(), b.numpy()))
    assert np.all(np.isfinite(out.numpy()))
    out.sum().backward()
    with np.errstate(over="ignore"):  # exp(800) is inf: the weight is 0
        w = 1.0 / (1.0 + np.exp(b.numpy() - a.numpy()))  # exp(a) / (exp(a) + exp(b))
    # exp(a - out) carries the rounding of out (|out| ~ 1000, so about 1000 eps = 2.2e-13)
    np.testing.assert_allclose(mg.to_numpy(a.grad), w, rtol=1e-12, atol=0)
    np.testing.assert_allclose(mg.to_numpy(b.grad), 1.0 - w, rtol=1e-12, atol=0)


def test_logaddexp_gradient_where_the_result_is_infinite_is_that_of_maximum():
    inf = np.inf
    a = mg.Tensor([-inf, -inf, inf, inf, 2.0], requires_grad=True)
    b = mg.Tensor([-inf, 1.0, inf, 3.0, inf], requires_grad=True)
    out = mg.logaddexp(a, b)
    _same(out, np.logaddexp(a.numpy(), b.numpy()))
    out.backward(mg.backend.asarray(np.array([1.0, 2.0, 3.0, 4.0, 5.0])))
    np.testing.assert_array_equal(mg.to_numpy(a.grad), [0.5, 0.0, 1.5, 4.0, 0.0])
    np.testing.assert_array_equal(mg.to_numpy(b.grad), [0.5, 2.0, 1.5, 0.0, 5.0])
    # the recorded gradient is finite too (no inf - inf in its graph), and so is its derivative
    x = mg.Tensor([-inf, 0.0], requires_grad=True)
    (gx,) = mg.autograd.vjp_of(mg.logaddexp(x, -inf).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(gx.numpy(), [0.5, 1.0])
    (gx * gx).sum().backward()  # the weights are constant there: 1/2, and exp(x - x) = 1
    np.testing.assert_array_equal(mg.to_numpy(x.grad), [0.0, 0.0])


# --------------------------------------------------------------------------- reductions
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SWEEP
@given(sak=shape_axis_keepdims(), seed=seeds)
def test_reduction_values_and_second_order_gradients(name, sak, seed):
    shape, axis, keepdims = sak
    fn, ref = REDUCTIONS[name]
    x = _point(shape, seed)
    axes = () if axis is None else (axis,) if isinstance(axis, int) else axis
    n = int(np.prod([shape[a] for a in axes])) if axis is not None else int(np.prod(shape))
    if name == "std_ddof1" and n < 2:  # no degrees of freedom left: a ValueError, tested below
        return
    _same(fn(x, axis, keepdims), ref(x, axis, keepdims))
    if name != "prod" and n == 1:  # the standard deviation of one value: 0, the gradient NaN
        return
    check_grads(lambda t: fn(t, axis, keepdims), x, order=2)


def _with_zeros(shape, seed, axis, count):
    """A random point with ``count`` zeros in one slice along ``axis`` (None: anywhere)."""
    x = _point(shape, seed)
    rng = np.random.default_rng(seed)
    if axis is None:
        x.flat[rng.permutation(x.size)[:count]] = 0.0
        return x
    for k in rng.permutation(shape[axis])[:count]:
        index = [0] * len(shape)
        index[axis] = k
        x[tuple(index)] = 0.0
    return x


@pytest.mark.parametrize("zeros", [1, 2, 3])
@SWEEP
@given(shape=st.lists(st.integers(3, 4), min_size=1, max_size=3).map(tuple), seed=seeds,
       data=st.data())
def test_prod_gradient_is_exact_at_zeros_to_second_order(zeros, shape, seed, data):
    """One, two or three zeros along the reduced axis: the first and second derivatives agree
    with central differences (exact for a polynomial of degree n, up to rounding)."""
    nd = len(shape)
    axis = data.draw(st.one_of(st.none(), st.integers(-nd, nd - 1)))
    x = _with_zeros(shape, seed, axis, zeros)
    assert np.sum(x == 0) == zeros
    _same(mg.prod(x, axis), np.prod(x, axis=axis))
    check_grads(lambda t: mg.prod(t, axis), x, order=2)
    check_grads(lambda t: mg.prod(t, axis, keepdims=True) ** 2, x, order=2)


def test_prod_gradient_at_zeros_closed_forms():
    g = mg.grad(lambda t: mg.prod(t))
    _same(g(np.array([2.0, 3.0, 4.0])), np.array([12.0, 8.0, 6.0]))
    _same(g(np.array([0.0, 3.0, 4.0])), np.array([12.0, 0.0, 0.0]))  # one zero
    _same(g(np.array([0.0, 3.0, 0.0])), np.array([0.0, 0.0, 0.0]))  # two zeros
    # second derivatives: d2/dx_i dx_j prod(x) = prod of the entries other than i and j
    h = mg.hessian(lambda t: mg.prod(t))(np.array([0.0, 3.0, 0.0]))
    _same(h, np.array([[0.0, 0.0, 3.0], [0.0, 0.0, 0.0], [3.0, 0.0, 0.0]]))
    h = mg.hessian(lambda t: mg.prod(t))(np.array([0.0, 3.0, 4.0]))
    _same(h, np.array([[0.0, 4.0, 3.0], [4.0, 0.0, 0.0], [3.0, 0.0, 0.0]]))
    # third derivatives (a recorded backward of a recorded backward) at 0: for prod of three
    # entries, T(v, w, .)_k = sum over i != j, both != k, of v_i w_j
    x = mg.Tensor(np.zeros(3), requires_grad=True)
    v, w = mg.Tensor([1.0, 2.0, 3.0]), mg.Tensor([4.0, 5.0, 6.0])
    (g1,) = mg.autograd.vjp_of(mg.prod(x), [x], create_graph=True)
    (g2,) = mg.autograd.vjp_of((g1 * v).sum(), [x], create_graph=True)
    (g3,) = mg.autograd.vjp_of((g2 * w).sum(), [x])
    _same(g3.data, np.array([2.0 * 6 + 3 * 5, 1.0 * 6 + 3 * 4, 1.0 * 5 + 2 * 4]))
    check_grads(mg.prod, np.array([0.0, 0.7, -1.3, 0.0]), order=3)


def test_prod_of_an_empty_axis_is_one_with_an_empty_gradient():
    x = mg.Tensor(np.ones((2, 0)), requires_grad=True)
    out = mg.prod(x, axis=1)
    _same(out, np.prod(np.ones((2, 0)), axis=1))
    out.sum().backward()
    assert x.grad.shape == (2, 0)
    _same(mg.prod(np.ones((2, 3)), axis=()), np.prod(np.ones((2, 3)), axis=()))


def test_std_closed_form_and_zero_variance_convention():
    x = np.array([1.0, 2.0, 4.0])
    s = np.std(x, ddof=1)
    d = mg.grad(lambda t: mg.std(t, ddof=1))(x)
    np.testing.assert_allclose(d, (x - x.mean()) / (2.0 * s), rtol=1e-14)  # N - ddof = 2
    # at zero variance the gradient is NaN (0 / 0), as torch.std's
    with np.errstate(divide="ignore", invalid="ignore"):
        d0 = mg.grad(lambda t: mg.std(t))(np.full(3, 2.0))
    assert np.all(np.isnan(d0))


# --------------------------------------------------------------------------- scans and sort
@pytest.mark.parametrize("name", sorted(SCANS))
@SWEEP
@given(sa=shape_and_one_axis(), seed=seeds)
def test_scan_values_and_second_order_gradients(name, sa, seed):
    shape, axis = sa
    fn, ref = SCANS[name]
    x = _point(shape, seed)  # random normals: no ties
    _same(fn(x, axis), ref(x, axis))
    _same(fn(mg.Tensor(x), axis=axis), ref(x, axis))
    check_grads(lambda t: fn(t, axis) ** 2, x, order=2)


@pytest.mark.parametrize("name", sorted(SCANS))
def test_scans_of_0d_and_numbers_as_numpy(name):
    fn, ref = SCANS[name]
    _same(fn(np.float64(1.5), None), ref(np.float64(1.5), None))
    _same(fn(2.0, None), ref(2.0, None))
    if name == "cumsum":  # numpy.cumsum takes a 0-d input as 1-d
        for axis in (0, -1):
            _same(fn(np.asarray(1.5), axis), ref(np.asarray(1.5), axis))
    else:
        with pytest.raises(ValueError, match="out of bounds for an array of dimension 0"):
            fn(np.asarray(1.5), -1)
        with pytest.raises(np.exceptions.AxisError):
            ref(np.asarray(1.5), -1)
    with pytest.raises(ValueError, match="out of bounds"):
        fn(np.asarray(1.5), 1)


def test_scans_default_axes_are_numpys():
    x = _point((2, 3), 0)
    _same(mg.cumsum(x), np.cumsum(x))  # flattened
    _same(mg.sort(x), np.sort(x))  # the last axis
    _same(mg.Tensor(x).cumsum(), np.cumsum(x))
    _same(mg.Tensor(x).cumsum(-2), np.cumsum(x, axis=-2))
    _same(mg.sort(x, np.int64(0)), np.sort(x, axis=np.int64(0)))


def test_cumsum_vjp_is_the_reversed_cumulative_sum():
    g = np.array([1.0, 2.0, 3.0, 4.0])
    x = mg.Tensor(np.zeros(4), requires_grad=True)
    (mg.cumsum(x) * mg.Tensor(g)).sum().backward()
    _same(x.grad, np.array([10.0, 9.0, 7.0, 4.0]))


def test_sort_puts_nans_last_as_numpy():
    x = np.array([[3.0, np.nan, -1.0], [np.nan, 0.0, np.inf]])
    for axis in (0, 1, None):
        _same(mg.sort(x, axis), np.sort(x, axis=axis))


def test_sort_gradient_is_the_permutation():
    x = mg.Tensor([3.0, -1.0, 2.0], requires_grad=True)
    (mg.sort(x) * mg.Tensor([10.0, 20.0, 30.0])).sum().backward()
    _same(x.grad, np.array([30.0, 10.0, 20.0]))


def test_sort_ties_follow_the_stable_order():
    """Tied entries: the k-th occurrence in input order gets the k-th tied output's gradient.
    That is the derivative along directions that keep the stable order (here v0 < v2 < v4, the
    three tied 1s): a one-sided difference agrees (sort is piecewise linear)."""
    x = np.array([1.0, 0.0, 1.0, 5.0, 1.0])
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    t = mg.Tensor(x, requires_grad=True)
    (mg.sort(t) * mg.Tensor(w)).sum().backward()
    _same(t.grad, np.array([2.0, 1.0, 3.0, 5.0, 4.0]))
    v = np.array([0.1, -0.3, 0.2, 0.5, 0.4])
    eps = 1e-3
    one_sided = (np.sort(x + eps * v) @ w - np.sort(x) @ w) / eps
    np.testing.assert_allclose(mg.to_numpy(t.grad) @ v, one_sided, rtol=1e-12)
    # along the last axis of a matrix, each row independently
    m = mg.Tensor(np.array([[2.0, 2.0, 1.0], [0.0, 0.0, 0.0]]), requires_grad=True)
    (mg.sort(m, axis=-1) * mg.Tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))).sum().backward()
    _same(m.grad, np.array([[2.0, 3.0, 1.0], [4.0, 5.0, 6.0]]))


# --------------------------------------------------------------------------- float32
def _float32_cases():
    cases = {name: (getattr(mg, name), domain) for name, (_, domain) in UNARY.items()}
    cases.update({
        "logaddexp": (lambda t: mg.logaddexp(t, 0.5) + mg.logaddexp(t, t), "real"),
        "prod": (lambda t: mg.prod(t, axis=0), "real"),
        "std": (lambda t: mg.std(t, axis=1), "real"),
        "std_ddof1": (lambda t: mg.std(t, None, 1, True), "real"),
        "cumsum": (lambda t: mg.cumsum(t, axis=1), "real"),
        "sort": (lambda t: mg.sort(t, axis=0), "real"),
    })
    return cases


FLOAT32 = _float32_cases()


def test_float32_covers_every_function():
    assert {n.split("_")[0] for n in FLOAT32} == set(ops_elementwise.__all__) | set(
        ops_reduce.__all__)


@pytest.mark.parametrize("name", sorted(FLOAT32))
def test_float32_stays_float32(name):
    fn, domain = FLOAT32[name]
    x = mg.Tensor(_point((3, 4), 1, domain).astype(np.float32), requires_grad=True)
    out = fn(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32
    (g,) = mg.autograd.vjp_of(fn(x).sum(), [x], create_graph=True)
    assert g.dtype == np.float32


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", sorted(ops_elementwise.__all__ + ops_reduce.__all__))
def test_unsupported_operand_is_a_type_error_naming_the_function(name):
    fn = getattr(mg, name)
    args = ("abc", 1.0) if name == "logaddexp" else ("abc",)
    with pytest.raises(TypeError, match=name):
        fn(*args)


def test_logaddexp_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"logaddexp: operands of shapes \(2,\) and \(3,\)"):
        mg.logaddexp(mg.Tensor(np.ones(2)), mg.backend.asarray(np.ones(3)))


@pytest.mark.parametrize("name", ["prod", "std", "cumsum", "sort"])
def test_axis_out_of_bounds(name):
    x = mg.Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="axis 2 is out of bounds for an array of dimension 2"):
        getattr(mg, name)(x, 2)
    with pytest.raises(ValueError, match="axis -3 is out of bounds"):
        getattr(mg, name)(x, -3)


@pytest.mark.parametrize("name", ["cumsum", "sort"])
def test_scans_take_one_axis(name):
    with pytest.raises(TypeError, match=f"{name}: axis must be an int or None; got \\(0, 1\\)"):
        getattr(mg, name)(np.ones((2, 3)), (0, 1))


def test_std_ddof_errors():
    with pytest.raises(ValueError, match="std: ddof=3 leaves no degrees of freedom for 3 values"):
        mg.std(np.ones(3), ddof=3)
    with pytest.raises(ValueError, match="std: ddof must be a non-negative int; got -1"):
        mg.std(np.ones(3), ddof=-1)


def test_prod_repeated_axis():
    with pytest.raises(ValueError, match="repeated axis"):
        mg.prod(np.ones((2, 3)), (1, -1))


# --------------------------------------------------------------------------- names
def test_functions_and_methods_exist():
    for name in ops_elementwise.__all__ + ops_reduce.__all__:
        assert getattr(mg, name) is getattr(mg.ops, name)  # where recorded VJPs find them
        assert name in mg.__all__
    x = mg.Tensor(_point((2, 3), 0, "positive") * 0.3)
    for name in sorted(METHODS):
        args = (x,) if name == "logaddexp" else ()
        _same(getattr(x, name)(*args), getattr(mg, name)(x, *args).data)
    # numpy's ndarray.sort sorts in place: minigrad has only the function mg.sort
    assert not hasattr(mg.Tensor, "sort")


def test_signatures_are_numpys():
    def params(f):
        return list(inspect.signature(f).parameters)[1:]
    assert params(mg.prod) == ["axis", "keepdims"]
    assert params(mg.std) == ["axis", "ddof", "keepdims"]
    assert params(mg.cumsum) == ["axis"]
    assert params(mg.sort) == ["axis"]
    assert inspect.signature(mg.sort).parameters["axis"].default == -1
    assert params(mg.logaddexp) == ["b"]
