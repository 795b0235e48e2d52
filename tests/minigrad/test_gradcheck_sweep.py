"""Every primitive passes first- and second-order gradient checks (central differences in
float64 along random directions) over a hypothesis-driven sweep of shapes, axes and keepdims."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.gradcheck import check_grads

SWEEP = settings(max_examples=30, deadline=None, derandomize=True)

shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)
nonempty_shapes = st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple)


def _point(shape, seed, positive=False, away_from=None):
    """A random point; ``away_from`` keeps entries off a kink (|x - k| >= 0.1)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if positive:
        x = np.abs(x) + 0.5
    if away_from is not None:
        x = np.where(np.abs(x - away_from) < 0.1, x + 0.2 * np.sign(x - away_from + 1e-12), x)
    return x


@st.composite
def shape_axis_keepdims(draw):
    shape = draw(nonempty_shapes)
    nd = len(shape)
    axis = draw(st.one_of(
        st.none(),
        st.integers(-nd, nd - 1),
        st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)))
    return shape, axis, draw(st.booleans())


UNARY = {
    "exp": (mg.exp, {}),
    "log": (mg.log, {"positive": True}),
    "log1p": (mg.log1p, {"positive": True}),
    "expm1": (mg.expm1, {}),
    "sqrt": (mg.sqrt, {"positive": True}),
    "abs": (mg.abs, {"away_from": 0.0}),
    "sign": (lambda x: mg.sign(x) * x, {"away_from": 0.0}),  # sign' = 0: the product rule sees it
    "sin": (mg.sin, {}),
    "cos": (mg.cos, {}),
    "tanh": (mg.tanh, {}),
    "sigmoid": (mg.sigmoid, {}),
    "relu": (mg.relu, {"away_from": 0.0}),
    "softplus": (mg.softplus, {}),
    "neg": (lambda x: -x, {}),
    "pow_scalar": (lambda x: x ** 3.0, {}),
    "pow_half": (lambda x: x ** 0.5, {"positive": True}),
    "square": (lambda x: x ** 2, {}),
    "clip": (lambda x: mg.clip(x, -0.5, 0.7), {"away_from": 0.7}),
    "rdiv": (lambda x: 2.0 / x, {"positive": True}),
    "rpow": (lambda x: 1.7 ** x, {}),
}


# Which sweep below covers each operation that ``minigrad`` exports (the operators + - * / **
# and unary - are add, sub, mul, div, power and neg; ``t[...]`` is getitem).
SWEPT_BY = {
    "add": "binary", "sub": "binary", "mul": "binary", "div": "binary", "power": "binary",
    "maximum": "binary", "minimum": "binary", "where": "binary",
    "neg": "unary", "exp": "unary", "log": "unary", "log1p": "unary", "expm1": "unary",
    "sqrt": "unary", "abs": "unary", "sign": "unary", "sin": "unary", "cos": "unary",
    "tanh": "unary", "sigmoid": "unary", "relu": "unary", "softplus": "unary", "clip": "unary",
    "sum": "reductions", "mean": "reductions", "max": "reductions", "min": "reductions",
    "logsumexp": "reductions", "var": "reductions", "norm": "reductions",
    "softmax": "softmax", "log_softmax": "softmax",
    "reshape": "shape", "transpose": "shape", "swapaxes": "shape", "broadcast_to": "shape",
    "concatenate": "shape", "stack": "shape", "squeeze": "shape", "expand_dims": "shape",
    "matmul": "matmul", "dot": "matmul", "outer": "matmul",
}


def test_every_exported_operation_is_swept():
    """Every operation that ``minigrad`` exports from ``minigrad.ops`` is named in SWEPT_BY, so a
    new primitive fails here until a gradient check covers it."""
    exported = {n for n in mg.__all__
                if getattr(getattr(mg, n), "__module__", None) == "minigrad.ops"}
    assert exported - set(SWEPT_BY) == set(), "operations with no gradient-check sweep"
    assert set(SWEPT_BY) - exported == set()
    assert {"neg", "sign", "abs", "relu", "clip"} <= set(UNARY)


@pytest.mark.parametrize("name", sorted(UNARY))
@SWEEP
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_unary(shape, seed, name):
    fn, kw = UNARY[name]
    x = _point(shape, seed, **kw)
    if name == "clip":
        x = np.where(np.abs(x + 0.5) < 0.1, x + 0.3, x)
    check_grads(fn, x, order=2)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "pow": lambda a, b: (a * a + 0.5) ** b,
    "maximum": mg.maximum,
    "minimum": mg.minimum,
    "where": lambda a, b: mg.where(a.data > 0, a, b),
}


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together: each axis of one may be 1 or dropped from the front."""
    out = draw(shapes)
    def variant():
        s = tuple(draw(st.sampled_from([n, 1])) for n in out)
        return s[draw(st.integers(0, len(s))):]
    return variant(), variant()


@pytest.mark.parametrize("name", sorted(BINARY))
@SWEEP
@given(pair=broadcast_pair(), seed=st.integers(0, 2**16))
def test_binary_with_broadcasting(pair, seed, name):
    a = _point(pair[0], seed)
    b = _point(pair[1], seed + 1)
    if name in ("maximum", "minimum"):  # keep the operands apart: no ties in the sweep
        b = b + 0.25 * np.sign(b - np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape)).mean())
    check_grads(BINARY[name], a, b, order=2)


REDUCTIONS = {
    "sum": mg.sum,
    "mean": mg.mean,
    "max": mg.max,
    "min": mg.min,
    "logsumexp": mg.logsumexp,
    "var": mg.var,
    "norm2": lambda x, axis, keepdims: mg.norm(x, 2, axis, keepdims),
    "norm1": lambda x, axis, keepdims: mg.norm(x, 1, axis, keepdims),
    "norminf": lambda x, axis, keepdims: mg.norm(x, np.inf, axis, keepdims),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SWEEP
@given(sak=shape_axis_keepdims(), seed=st.integers(0, 2**16))
def test_reductions(sak, seed, name):
    shape, axis, keepdims = sak
    x = _point(shape, seed)
    if name in ("norm1", "norminf"):
        x = np.where(np.abs(x) < 0.1, 0.3, x)
    if name in ("max", "min", "norminf"):  # distinct values: no ties
        x = x + np.arange(x.size).reshape(shape) * 0.37
    fn = REDUCTIONS[name]
    check_grads(lambda t: fn(t, axis=axis, keepdims=keepdims), x, order=2)


@SWEEP
@given(shape=nonempty_shapes, seed=st.integers(0, 2**16), axis=st.integers(-1, 0))
def test_softmax_and_log_softmax(shape, seed, axis):
    x = _point(shape, seed)
    check_grads(lambda t: mg.softmax(t, axis=axis), x, order=2)
    check_grads(lambda t: mg.log_softmax(t, axis=axis), x, order=2)


@SWEEP
@given(shape=nonempty_shapes, seed=st.integers(0, 2**16), data=st.data())
def test_shape_primitives(shape, seed, data):
    x = _point(shape, seed)
    nd = len(shape)
    perm = data.draw(st.permutations(range(nd)))
    check_grads(lambda t: mg.transpose(t, perm) * 1.5, x, order=2)
    check_grads(lambda t: mg.swapaxes(t, 0, -1) ** 2, x, order=2)
    check_grads(lambda t: mg.reshape(t, (-1,)) ** 2, x, order=2)
    check_grads(lambda t: mg.expand_dims(t, 0) * t, x, order=2)
    check_grads(lambda t: mg.squeeze(mg.expand_dims(t, -1), -1) ** 3, x, order=2)
    target = (2,) + shape
    check_grads(lambda t: mg.broadcast_to(t, target) ** 2, x, order=2)
    ax = data.draw(st.integers(-nd, nd - 1))
    y = _point(shape, seed + 7)
    check_grads(lambda a, b: mg.concatenate([a, b * b], axis=ax), x, y, order=2)
    check_grads(lambda a, b: mg.stack([a, a * b], axis=ax), x, y, order=2)


@SWEEP
@given(seed=st.integers(0, 2**16), m=st.integers(1, 3), n=st.integers(1, 3),
       k=st.integers(1, 3), batch=st.sampled_from([(), (2,), (2, 1)]))
def test_matmul_all_forms(seed, m, n, k, batch):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal(batch + (m, n))
    Bm = rng.standard_normal((n, k))
    u, v = rng.standard_normal(n), rng.standard_normal(m)
    check_grads(lambda a, b: a @ b, A, Bm, order=2)           # (batched) matrix-matrix
    check_grads(lambda a, b: a @ b, A, u, order=2)            # (batched) matrix-vector
    check_grads(lambda a, b: a @ b, v, A, order=2)            # vector-matrix
    check_grads(lambda a, b: a @ b, u, u * 2 + 1, order=2)    # vector-vector
    check_grads(lambda a, b: mg.dot(a, b) * mg.dot(a, a), u, u * 2 + 1, order=2)
    check_grads(lambda a, b: mg.outer(a, b), u, v, order=2)


@SWEEP
@given(shape=nonempty_shapes, seed=st.integers(0, 2**16), data=st.data())
def test_getitem_slices_integer_arrays_and_masks(shape, seed, data):
    x = _point(shape, seed)
    n0 = shape[0]
    idx = np.array(data.draw(st.lists(st.integers(0, n0 - 1), min_size=1, max_size=5)))
    check_grads(lambda t: t[idx] ** 2, x, order=2)              # repeated indices accumulate
    check_grads(lambda t: t[1:] * t[:-1] if n0 > 1 else t[0] * 2.0, x, order=2)
    mask = np.random.default_rng(seed).random(shape) > 0.4
    check_grads(lambda t: mg.exp(t[mask]), x, order=2)
