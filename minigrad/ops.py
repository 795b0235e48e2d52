"""The primitives of minigrad (the entries of the table in :mod:`minigrad.primitive`) and the
functions composed from them.

Each primitive is a forward on backend arrays and its VJPs, ``vjp(xp, g, ans, *args, **params)``,
written once for both namespaces: the backend's arrays in a plain backward pass, minigrad's own
operations (this module) in a recorded one, so every gradient can be differentiated again
(``create_graph=True``, :func:`minigrad.hvp`, :func:`minigrad.hessian`). The public function of a
primitive checks and normalises its arguments, then applies the entry. Functions that are
compositions of primitives (``mean``, ``var``, ``softmax``, ...) need no VJP of their own.

Conventions (pinned by tests, documented in ``docs/minigrad.md``):

* ``relu'(0) = 0``; ``d|x|/dx = sign(x)``, so 0 at 0; ``sign`` has derivative 0 everywhere;
* ties in ``max``/``min`` (reductions) and ``maximum``/``minimum`` (elementwise) share the
  gradient evenly (as ``torch.amax`` does): each of ``c`` tied entries gets ``g / c``;
* the gradient of the 2-norm at 0 is 0 (the minimum-norm subgradient, as in torch);
* ``clip(x, lo, hi)`` passes the gradient where ``lo <= x <= hi`` (boundaries included, as torch);
* constants are kept as Python scalars, so a float32 tensor stays float32 (NumPy 2 would promote
  ``float32 * np.float64`` to float64).
"""
from __future__ import annotations

import builtins
import math

from minigrad import backend as B
from minigrad.primitive import (ARRAY_EXTRAS, apply, const, data_of, defprim, defvjp,
                                defvjp_argnum, module_of)
from minigrad.primitive import unbroadcast as _unbroadcast
from minigrad.tensor import Tensor

_Number = (int, float)
_SCALAR_TYPES = (float, int)

__all__ = [
    "add", "sub", "mul", "div", "neg", "power", "matmul", "getitem",
    "exp", "log", "log1p", "expm1", "sqrt", "abs", "sign", "sin", "cos", "tanh", "sigmoid",
    "relu", "softplus", "maximum", "minimum", "where", "clip",
    "sum", "mean", "max", "min", "logsumexp", "var", "norm",
    "reshape", "transpose", "swapaxes", "broadcast_to", "concatenate", "stack", "squeeze",
    "expand_dims", "outer", "softmax", "log_softmax", "unbroadcast", "dot",
]


# --------------------------------------------------------------------------- Tensor methods
#: Tensor attribute name -> function; each public function declares its methods where it is
#: defined (``@_method``), and ``_install_methods`` sets them on Tensor at import
TENSOR_METHODS: dict = {}


def _method(*names: str, reflected: str | None = None):
    """Declare the decorated function as the Tensor methods ``names`` (``x.name(...)`` calls
    ``f(x, ...)``); ``reflected`` names the reflected operator (``other op x`` calls
    ``f(other, x)``)."""
    def declare(fn):
        for name in names:
            TENSOR_METHODS[name] = fn
        if reflected is not None:
            TENSOR_METHODS[reflected] = lambda self, other: fn(other, self)
        return fn
    return declare


# --------------------------------------------------------------------------- helpers
def _lift(x, op: str):
    """A Tensor stays; a Python number stays (a weakly typed constant); an array becomes a
    constant Tensor; anything else is a TypeError naming the operation."""
    if isinstance(x, Tensor) or isinstance(x, _Number):
        return x
    if B.is_array(x):
        return const(x)
    raise TypeError(f"{op}: unsupported operand of type {type(x).__name__}")


Tensor._const = staticmethod(const)
_const = const


def _check_same_backend(op: str, a, b):
    if type(a) is not type(b) and B.is_array(a) and B.is_array(b):
        try:
            B.get_array_module(a, b)
        except B.BackendError as exc:
            raise B.BackendError(f"{op}: {exc}") from None


def _shape(x):
    return x.shape if isinstance(x, Tensor) else ()


def _norm_axes(axis, ndim: int) -> tuple:
    """``axis`` (None, an int or a tuple) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for an array of dimension {ndim}")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(out))


def _keepdims_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Undo broadcasting on a Tensor: sum ``g`` down to ``shape`` (leading axes, then size-1
    axes). The mechanism applies it to the gradients of every broadcasting primitive."""
    return _unbroadcast(_ops, g, shape)


def _binary(prim, a, b) -> Tensor:
    """Apply a broadcasting binary primitive to two operands (Tensors, arrays or numbers)."""
    if type(a) is Tensor and (type(b) in _SCALAR_TYPES or type(b) is Tensor
                              and type(b.data) is type(a.data)):
        # the common case, a tensor and a number or two tensors on one backend: nothing to lift
        # and no backend mix possible
        try:
            return apply(prim, (a, b), {})
        except ValueError as exc:
            raise ValueError(f"{prim.name}: operands of shapes {_shape(a)} and {_shape(b)} do "
                             f"not broadcast ({exc})") from None
    a, b = _lift(a, prim.name), _lift(b, prim.name)
    ad = a.data if isinstance(a, Tensor) else a
    bd = b.data if isinstance(b, Tensor) else b
    _check_same_backend(prim.name, ad, bd)
    try:
        return apply(prim, (a, b), {})
    except ValueError as exc:
        raise ValueError(f"{prim.name}: operands of shapes {_shape(a)} and {_shape(b)} do not "
                         f"broadcast ({exc})") from None


def _unary(prim, x) -> Tensor:
    """Apply an elementwise primitive to a Tensor, an array or a number."""
    x = _lift(x, prim.name)
    if not isinstance(x, Tensor):
        x = const(B.xp().asarray(x))
    return apply(prim, (x,), {})


def _xp(x: Tensor):
    return B.get_array_module(x.data)


# --------------------------------------------------------------------------- arithmetic
_ADD = defvjp(defprim("add", lambda x, y: x + y, broadcasting=True),
              lambda xp, g, ans, a, b: g,
              lambda xp, g, ans, a, b: g)
_SUB = defvjp(defprim("sub", lambda x, y: x - y, broadcasting=True),
              lambda xp, g, ans, a, b: g,
              lambda xp, g, ans, a, b: -g)
_MUL = defvjp(defprim("mul", lambda x, y: x * y, broadcasting=True),
              lambda xp, g, ans, a, b: g * b,
              lambda xp, g, ans, a, b: g * a)
_DIV = defvjp(defprim("div", lambda x, y: x / y, broadcasting=True),
              lambda xp, g, ans, a, b: g / b,
              lambda xp, g, ans, a, b: -g * a / (b * b))
_NEG = defvjp(defprim("neg", lambda x: -x), lambda xp, g, ans, x: -g)


@_method("__add__", reflected="__radd__")
def add(a, b) -> Tensor:
    """a + b (broadcasting). VJP: g for each operand."""
    return _binary(_ADD, a, b)


@_method("__sub__", reflected="__rsub__")
def sub(a, b) -> Tensor:
    """a - b. VJP: g, -g."""
    return _binary(_SUB, a, b)


@_method("__mul__", reflected="__rmul__")
def mul(a, b) -> Tensor:
    """a * b. VJP: g b, g a."""
    return _binary(_MUL, a, b)


@_method("__truediv__", reflected="__rtruediv__")
def div(a, b) -> Tensor:
    """a / b. VJP: g / b, -g a / b^2."""
    return _binary(_DIV, a, b)


@_method("__neg__")
def neg(a) -> Tensor:
    """-a. VJP: -g."""
    return _unary(_NEG, a)


def _log_base(xp, a):
    """log(a) where a > 0 and 0 elsewhere: d(a^b)/db = a^b log a, taken as 0 where a = 0."""
    if isinstance(a, Tensor) or B.is_array(a):
        positive = data_of(a) > 0
        return xp.where(positive, xp.log(xp.where(positive, a, 1.0)), 0.0)
    return math.log(a) if a > 0 else 0.0


_SQUARE = defvjp(defprim("square", lambda x: x * x), lambda xp, g, ans, x: g * (2.0 * x))
_POW_SCALAR = defvjp(defprim("pow_scalar", lambda x, c: x ** c),
                     lambda xp, g, ans, x, c: g * (c * x ** (c - 1)))
_POW = defvjp(defprim("pow", lambda x, y: x ** y, broadcasting=True),
              lambda xp, g, ans, a, b: g * b * a ** (b - 1),
              lambda xp, g, ans, a, b: g * ans * _log_base(xp, a))


@_method("__pow__", reflected="__rpow__")
def power(a, b) -> Tensor:
    """a ** b for a scalar or tensor exponent. VJP: g b a^(b-1) and g a^b log a."""
    if isinstance(b, _Number) and isinstance(a, Tensor):
        if b == 2:  # the common square: one product, no power
            return apply(_SQUARE, (a,), {})
        return apply(_POW_SCALAR, (a,), {"c": b})
    return _binary(_POW, a, b)


# --------------------------------------------------------------------------- linear algebra
def _promoted_g(xp, g, a, b, out_shape):
    """g in the shape of the product of the promoted operands (a vector a is a (1, n) matrix,
    a vector b an (n, 1) matrix)."""
    if a.ndim == 1 and b.ndim == 1:
        return xp.reshape(g, (1, 1))
    if a.ndim == 1:  # (..., n) from (1, n) @ (..., n, k): insert the row axis
        return xp.reshape(g, out_shape[:-1] + (1,) + out_shape[-1:])
    if b.ndim == 1:  # (..., m) from (..., m, n) @ (n, 1): append the column axis
        return xp.reshape(g, out_shape + (1,))
    return g


def _matmul_vjp_a(xp, g, ans, a, b):
    g2 = _promoted_g(xp, g, a, b, ans.shape)
    b2 = xp.reshape(b, b.shape + (1,)) if b.ndim == 1 else b
    ga = xp.matmul(g2, xp.swapaxes(b2, -1, -2))
    a_shape = (1,) + a.shape if a.ndim == 1 else a.shape
    return xp.reshape(_unbroadcast(xp, ga, a_shape), a.shape)


def _is_transposed_matrix(b) -> bool:
    """True when ``b`` is a transposed view of a matrix (``W.T`` in a linear layer)."""
    flags = getattr(data_of(b), "flags", None)
    return b.ndim == 2 and flags is not None and flags.f_contiguous and not flags.c_contiguous


def _matmul_vjp_b(xp, g, ans, a, b):
    g2 = _promoted_g(xp, g, a, b, ans.shape)
    a2 = xp.reshape(a, (1,) + a.shape) if a.ndim == 1 else a
    if _is_transposed_matrix(b) and g2.ndim == 2 and a2.ndim == 2:
        # b = W.T: compute its gradient as (g^T a)^T, the same numbers laid out like b, so that
        # W's own gradient comes out contiguous (and can be handed to W.grad without a copy)
        return xp.transpose(xp.matmul(xp.transpose(g2), a2))
    b_shape = b.shape + (1,) if b.ndim == 1 else b.shape
    gb = xp.matmul(xp.swapaxes(a2, -1, -2), g2)
    return xp.reshape(_unbroadcast(xp, gb, b_shape), b.shape)


_MATMUL = defvjp(defprim("matmul", lambda x, y: x @ y), _matmul_vjp_a, _matmul_vjp_b)


@_method("__matmul__", reflected="__rmatmul__")
def matmul(a, b) -> Tensor:
    """a @ b: matrix-matrix, matrix-vector, vector-vector and batched (NumPy's rules).

    VJP (with vectors promoted to matrices: a (n,) -> (1, n), b (n,) -> (n, 1)):
    ``g @ b^T`` and ``a^T @ g``, summed over broadcast batch axes.
    """
    a, b = _lift(a, "matmul"), _lift(b, "matmul")
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError("matmul: both operands must be tensors or arrays, not scalars")
    _check_same_backend("matmul", a.data, b.data)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension; got shapes "
                         f"{a.shape} and {b.shape}")
    try:
        return apply(_MATMUL, (a, b), {})
    except ValueError:
        raise ValueError(f"matmul: cannot multiply shapes {a.shape} and {b.shape} "
                         f"(inner dimensions {a.shape[-1]} and "
                         f"{b.shape[-2] if b.ndim > 1 else b.shape[0]} differ)") from None


@_method("dot")
def dot(a, b) -> Tensor:
    """``numpy.dot``: the product of numbers and 0-d operands; the inner product of vectors;
    ``matmul`` when ``b`` is a vector or a matrix (or ``a`` a vector); and for N-D ``a`` and
    N-D ``b`` (``b.ndim > 2``) the sum over ``a``'s last axis and ``b``'s second-to-last,
    ``dot(a, b)[i, j, k, m] = sum(a[i, j, :] * b[k, :, m])``, of shape
    ``a.shape[:-1] + b.shape[:-2] + b.shape[-1:]``. VJPs: those of the products it is made of."""
    a, b = _lift(a, "dot"), _lift(b, "dot")
    if _shape(a) == () or _shape(b) == ():
        return mul(a, b)
    n = a.shape[-1]
    k = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if n != k:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} not aligned: {n} (dim "
                         f"{a.ndim - 1}) != {k} (dim {builtins.max(b.ndim - 2, 0)})")
    if a.ndim == 1 or b.ndim <= 2:
        return matmul(a, b)
    # b's contracted axis first, then b as an (n, rest) matrix
    axes = (b.ndim - 2,) + tuple(range(b.ndim - 2)) + (b.ndim - 1,)
    b2 = reshape(transpose(b, axes), (n, -1))
    out = matmul(reshape(a, (-1, n)), b2)
    return reshape(out, a.shape[:-1] + b.shape[:-2] + b.shape[-1:])


@_method("outer")
def outer(a, b) -> Tensor:
    """The outer product ``a_i b_j`` of two vectors (flattened first, as ``numpy.outer``)."""
    a, b = _lift(a, "outer"), _lift(b, "outer")
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


# --------------------------------------------------------------------------- indexing
def _index_data(index):
    """Tensors inside an index are replaced by their data."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return builtins.all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in items)


def _scatter_data(g, index, shape: tuple):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate)."""
    z = B.get_array_module(g).zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        z[index] = g
    else:
        B.scatter_add(z, index, g)
    return z


# scatter is the VJP of getitem, and getitem the VJP of scatter: indexing differentiates to any
# order
_GETITEM = defvjp(defprim("getitem", lambda x, index: x[index]),
                  lambda xp, g, ans, x, index: xp.scatter(g, index, x.shape))
_SCATTER = defvjp(defprim("scatter", _scatter_data),
                  lambda xp, g, ans, x, index, shape: g[index])


@_method("__getitem__")
def getitem(a, index) -> Tensor:
    """``a[index]`` with ints, slices, None, Ellipsis, integer arrays and boolean masks.

    VJP: the gradient scattered back into zeros of ``a``'s shape with a scatter-add, so repeated
    integer indices accumulate.
    """
    a = _lift(a, "getitem")
    index = _index_data(index)
    try:
        return apply(_GETITEM, (a,), {"index": index})
    except IndexError as exc:
        raise IndexError(f"getitem: index out of range for shape {a.shape}: {exc}") from None


def scatter(g, index, shape: tuple) -> Tensor:
    """Zeros of ``shape`` with ``g`` added at ``index`` (the VJP of ``getitem``)."""
    return apply(_SCATTER, (g,), {"index": index, "shape": shape})


# --------------------------------------------------------------------------- elementwise
def _sigmoid_data(d):
    """1 / (1 + e^{-x}) without overflow: e^{-|x|} never exceeds 1."""
    xp = B.get_array_module(d)
    e = xp.exp(-xp.abs(d))
    return xp.where(d >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _elementwise(name: str, vjp, forward=None):
    """An elementwise primitive: the backend function ``name`` (or ``forward``) and its VJP."""
    if forward is None:
        def forward(d):
            return getattr(B.get_array_module(d), name)(d)
    return defvjp(defprim(name, forward), vjp)


_EXP = _elementwise("exp", lambda xp, g, ans, x: g * ans)
_LOG = _elementwise("log", lambda xp, g, ans, x: g / x)
_LOG1P = _elementwise("log1p", lambda xp, g, ans, x: g / (1.0 + x))
_EXPM1 = _elementwise("expm1", lambda xp, g, ans, x: g * (ans + 1.0))
_SQRT = _elementwise("sqrt", lambda xp, g, ans, x: g / (2.0 * ans))
_ABS = _elementwise("abs", lambda xp, g, ans, x: g * module_of(x).sign(data_of(x)))
_SIN = _elementwise("sin", lambda xp, g, ans, x: g * xp.cos(x))
_COS = _elementwise("cos", lambda xp, g, ans, x: -g * xp.sin(x))
_TANH = _elementwise("tanh", lambda xp, g, ans, x: g * (1.0 - ans * ans))
_SIGMOID = _elementwise("sigmoid", lambda xp, g, ans, x: g * (ans * (1.0 - ans)),
                        forward=_sigmoid_data)
_SIGN = _elementwise("sign", lambda xp, g, ans, x: xp.zeros_like(g))
_RELU = _elementwise("relu", lambda xp, g, ans, x: g * (data_of(x) > 0),
                     forward=lambda d: B.get_array_module(d).maximum(d, 0))
_SOFTPLUS = _elementwise("softplus", lambda xp, g, ans, x: g * xp.sigmoid(x),
                         forward=lambda d: B.get_array_module(d).logaddexp(0.0, d))


@_method("exp")
def exp(x) -> Tensor:
    """exp(x). VJP: g exp(x)."""
    return _unary(_EXP, x)


@_method("log")
def log(x) -> Tensor:
    """log(x). VJP: g / x."""
    return _unary(_LOG, x)


@_method("log1p")
def log1p(x) -> Tensor:
    """log(1 + x), accurate for small x. VJP: g / (1 + x)."""
    return _unary(_LOG1P, x)


@_method("expm1")
def expm1(x) -> Tensor:
    """exp(x) - 1, accurate for small x. VJP: g (out + 1)."""
    return _unary(_EXPM1, x)


@_method("sqrt")
def sqrt(x) -> Tensor:
    """sqrt(x). VJP: g / (2 sqrt(x)) (infinite at 0, as in NumPy and torch)."""
    return _unary(_SQRT, x)


@_method("__abs__", "abs")
def abs(x) -> Tensor:  # noqa: A001 (mirrors numpy.abs)
    """|x|. VJP: g sign(x), so the derivative at 0 is 0."""
    return _unary(_ABS, x)


def zeros_like(x) -> Tensor:
    """A constant Tensor of zeros with ``x``'s shape, dtype and backend (the VJP of the
    piecewise-constant functions)."""
    return const(module_of(x).zeros_like(data_of(x)))


@_method("sign")
def sign(x) -> Tensor:
    """sign(x); its derivative is 0 everywhere (0 almost everywhere, taken as 0 at 0), so a
    function of it has a zero gradient rather than none."""
    return _unary(_SIGN, x)


@_method("sin")
def sin(x) -> Tensor:
    """sin(x). VJP: g cos(x)."""
    return _unary(_SIN, x)


@_method("cos")
def cos(x) -> Tensor:
    """cos(x). VJP: -g sin(x)."""
    return _unary(_COS, x)


@_method("tanh")
def tanh(x) -> Tensor:
    """tanh(x) (the library's tanh, not through exp). VJP: g (1 - tanh^2)."""
    return _unary(_TANH, x)


@_method("sigmoid")
def sigmoid(x) -> Tensor:
    """The logistic function 1 / (1 + e^{-x}), stable for any x. VJP: g s (1 - s)."""
    return _unary(_SIGMOID, x)


@_method("relu")
def relu(x) -> Tensor:
    """max(x, 0). VJP: g [x > 0], so relu'(0) = 0."""
    return _unary(_RELU, x)


@_method("softplus")
def softplus(x) -> Tensor:
    """log(1 + e^x) = logaddexp(0, x), stable for any x. VJP: g sigmoid(x)."""
    return _unary(_SOFTPLUS, x)


def _tie_weights(xd, yd):
    """Weights of x in max(x, y): 1 where x > y, 1/2 at ties, 0 elsewhere."""
    return (xd > yd) + 0.5 * (xd == yd)


_MAXIMUM = defvjp(
    defprim("maximum", lambda x, y: B.get_array_module(x, y).maximum(x, y), broadcasting=True),
    lambda xp, g, ans, a, b: g * _tie_weights(data_of(a), data_of(b)),
    lambda xp, g, ans, a, b: g * _tie_weights(data_of(b), data_of(a)))
_MINIMUM = defvjp(
    defprim("minimum", lambda x, y: B.get_array_module(x, y).minimum(x, y), broadcasting=True),
    lambda xp, g, ans, a, b: g * _tie_weights(data_of(b), data_of(a)),
    lambda xp, g, ans, a, b: g * _tie_weights(data_of(a), data_of(b)))


@_method("maximum")
def maximum(a, b) -> Tensor:
    """Elementwise max(a, b); at ties each operand gets half the gradient."""
    return _binary(_MAXIMUM, a, b)


@_method("minimum")
def minimum(a, b) -> Tensor:
    """Elementwise min(a, b); at ties each operand gets half the gradient."""
    return _binary(_MINIMUM, a, b)


def _where_data(a, b, condition):
    if B.is_array(condition):
        return B.get_array_module(condition, a, b).where(condition, a, b)
    return B.get_array_module(a, b).where(condition, a, b)


_WHERE = defvjp(defprim("where", _where_data, broadcasting=True),
                lambda xp, g, ans, a, b, condition: xp.where(condition, g, 0.0),
                lambda xp, g, ans, a, b, condition: xp.where(condition, 0.0, g))


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (``condition`` is not differentiated)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    a, b = _lift(a, "where"), _lift(b, "where")
    return apply(_WHERE, (a, b), {"condition": cond})


def _clip_vjp(xp, g, ans, x, lo, hi):
    xd = data_of(x)
    inside = True
    if lo is not None:
        inside = xd >= lo
    if hi is not None:
        inside = inside & (xd <= hi) if lo is not None else xd <= hi
    return g * inside


_CLIP = defvjp(defprim("clip", lambda x, lo, hi: B.get_array_module(x).clip(x, lo, hi)),
               _clip_vjp)


@_method("clip")
def clip(x, lo=None, hi=None) -> Tensor:
    """x clipped to [lo, hi] (numbers or None). VJP: g where lo <= x <= hi (as torch.clamp)."""
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo={lo} is greater than hi={hi}")
    x = _lift(x, "clip")
    if not isinstance(x, Tensor):
        x = const(B.xp().asarray(x))
    return apply(_CLIP, (x,), {"lo": lo, "hi": hi})


# --------------------------------------------------------------------------- reductions
def _spread(xp, g, x, axis):
    """The gradient of a reduction over ``axis`` spread back over ``x``'s shape."""
    return xp.broadcast_to(xp.reshape(g, _keepdims_shape(x.shape, axis)), x.shape)


_SUM = defvjp(defprim("sum", lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims)),
    lambda xp, g, ans, x, axis, keepdims: _spread(xp, g, x, axis))


@_method("sum")
def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 (mirrors numpy.sum)
    """Sum over ``axis`` (None, int or tuple). VJP: g broadcast back to x's shape."""
    x = _lift(x, "sum")
    return apply(_SUM, (x,), {"axis": _norm_axes(axis, x.ndim), "keepdims": keepdims})


@_method("mean")
def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis`` (a sum divided by the count)."""
    x = _lift(x, "mean")
    axes = _norm_axes(axis, x.ndim)
    count = math.prod(x.shape[a] for a in axes)
    return sum(x, axes, keepdims) / float(count)


def _extreme_vjp(xp, g, ans, x, axis, keepdims):
    """Ties share: each of the ``c`` entries equal to the extreme gets ``g / c``."""
    ad = module_of(x)
    hit = data_of(x) == ad.reshape(data_of(ans), _keepdims_shape(x.shape, axis))
    share = hit / ad.sum(hit, axis=axis, keepdims=True)
    return _spread(xp, g, x, axis) * share


_MAX = defvjp(defprim("max", lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims)),
              _extreme_vjp)
_MIN = defvjp(defprim("min", lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims)),
              _extreme_vjp)


def _extreme(prim, x, axis, keepdims):
    x = _lift(x, prim.name)
    axes = _norm_axes(axis, x.ndim)
    if x.size == 0:
        raise ValueError(f"{prim.name}: zero-size array has no {prim.name}imum")
    return apply(prim, (x,), {"axis": axes, "keepdims": keepdims})


@_method("max")
def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; tied maxima share the gradient evenly."""
    return _extreme(_MAX, x, axis, keepdims)


@_method("min")
def min(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over ``axis``; tied minima share the gradient evenly."""
    return _extreme(_MIN, x, axis, keepdims)


def _logsumexp_data(x, axis, keepdims):
    xp = B.get_array_module(x)
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0)
    data = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        data = xp.reshape(data, tuple(n for i, n in enumerate(x.shape) if i not in axis))
    return data


_LOGSUMEXP = defvjp(defprim("logsumexp", _logsumexp_data),
                    lambda xp, g, ans, x, axis, keepdims: _spread(xp, g, x, axis) * xp.exp(
                        x - xp.reshape(ans, _keepdims_shape(x.shape, axis))))


@_method("logsumexp")
def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    r"""``log sum exp(x)`` over ``axis``, computed with the max shift
    :math:`m + \log\sum e^{x - m}` so it never overflows. VJP: ``g softmax(x)``."""
    x = _lift(x, "logsumexp")
    return apply(_LOGSUMEXP, (x,), {"axis": _norm_axes(axis, x.ndim), "keepdims": keepdims})


@_method("var")
def var(x, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis``: mean squared deviation, divided by ``N - ddof``."""
    x = _lift(x, "var")
    axes = _norm_axes(axis, x.ndim)
    count = math.prod(x.shape[a] for a in axes)
    if count - ddof <= 0:
        raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {count} values")
    d = x - mean(x, axes, keepdims=True)
    return sum(d * d, axes, keepdims) / float(count - ddof)


def _norm2_vjp(xp, g, ans, x, axis, keepdims):
    o = xp.reshape(ans, _keepdims_shape(x.shape, axis))
    safe = xp.where(data_of(o) == 0, 1.0, o)  # at x = 0 the gradient x / ||x|| is taken as 0
    return x * (_spread(xp, g, x, axis) / safe)


_NORM2 = defvjp(defprim("norm", lambda x, axis, keepdims: B.get_array_module(x).sqrt(
    B.get_array_module(x).sum(x * x, axis=axis, keepdims=keepdims))), _norm2_vjp)


@_method("norm")
def norm(x, ord=2, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A002 (numpy's name)
    """The entrywise p-norm over ``axis`` for p (``ord``) in {1, 2, inf}.

    With ``axis=None`` every entry counts (for a matrix, ``ord=2`` is the Frobenius norm; the
    spectral norm is not a primitive here). The gradient of the 2-norm at 0 is taken as 0.
    """
    x = _lift(x, "norm")
    if ord == 1:
        return sum(abs(x), axis, keepdims)
    if ord in (math.inf, "inf"):
        return max(abs(x), axis, keepdims)
    if ord != 2:
        raise ValueError(f"norm: ord must be 1, 2 or inf; got {ord!r}")
    return apply(_NORM2, (x,), {"axis": _norm_axes(axis, x.ndim), "keepdims": keepdims})


@_method("softmax")
def softmax(x, axis: int = -1) -> Tensor:
    """exp(x - logsumexp(x)) along ``axis``: stable for any logits."""
    return exp(log_softmax(x, axis))


@_method("log_softmax")
def log_softmax(x, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``."""
    x = _lift(x, "log_softmax")
    return x - logsumexp(x, axis=axis, keepdims=True)


# --------------------------------------------------------------------------- shapes
_RESHAPE = defvjp(defprim("reshape", lambda x, shape: x.reshape(shape)),
                  lambda xp, g, ans, x, shape: xp.reshape(g, x.shape))


def reshape(x, shape) -> Tensor:
    """x with a new shape (one entry may be -1). VJP: g reshaped back."""
    x = _lift(x, "reshape")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    try:
        out = apply(_RESHAPE, (x,), {"shape": shape})
    except ValueError:
        raise ValueError(f"reshape: cannot reshape an array of shape {x.shape} "
                         f"into shape {shape}") from None
    return x if out.shape == x.shape else out


_TRANSPOSE = defvjp(
    defprim("transpose", lambda x, axes: x.transpose(axes)),
    lambda xp, g, ans, x, axes: xp.transpose(g, tuple(sorted(range(len(axes)),
                                                             key=lambda i: axes[i]))))


@_method("transpose")
def transpose(x, axes=None) -> Tensor:
    """Permute the axes (reverse them by default). VJP: the inverse permutation."""
    x = _lift(x, "transpose")
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(a % x.ndim for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation for shape {x.shape}")
    return apply(_TRANSPOSE, (x,), {"axes": axes})


@_method("swapaxes")
def swapaxes(x, a: int, b: int) -> Tensor:
    """Swap two axes."""
    x = _lift(x, "swapaxes")
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, axes)


_BROADCAST_TO = defvjp(
    defprim("broadcast_to", lambda x, shape: B.get_array_module(x).broadcast_to(x, shape)),
    lambda xp, g, ans, x, shape: _unbroadcast(xp, g, x.shape))


@_method("broadcast_to")
def broadcast_to(x, shape) -> Tensor:
    """x broadcast to ``shape`` (a read-only view). VJP: ``unbroadcast``."""
    x = _lift(x, "broadcast_to")
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        return apply(_BROADCAST_TO, (x,), {"shape": shape})
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None


def _concatenate_data(*arrays, axis, slices):
    return B.get_array_module(*arrays).concatenate(arrays, axis=axis)


_CONCATENATE = defvjp_argnum(defprim("concatenate", _concatenate_data),
                             lambda xp, g, ans, *xs, axis, slices, argnum: g[slices[argnum]])


def _lift_sequence(items, op: str) -> list:
    """The members of a list of operands as Tensors, as NumPy takes them: Tensors stay, arrays
    become constants, and numbers and nested lists become constants on the backend of the others
    (in their floating dtype, when they have one: a Python number is weakly typed, as in
    arithmetic, so ``stack([x32, 0.5])`` stays float32)."""
    if isinstance(items, Tensor) or B.is_array(items):
        raise TypeError(f"{op}: expected a sequence of tensors; got a single "
                        f"{type(items).__name__} (wrap it in a list)")
    items = list(items)
    if not items:
        raise ValueError(f"{op}: need at least one tensor")
    out = [x if isinstance(x, Tensor) else const(x) if B.is_array(x) else None for x in items]
    typed = [t.data for t in out if t is not None]
    xp = B.get_array_module(*typed) if typed else B.xp()
    floats = [d.dtype for d in typed if d.dtype.kind == "f"]
    dtype = xp.result_type(*floats) if floats else None
    for i, x in enumerate(items):
        if out[i] is not None:
            continue
        if not isinstance(x, (int, float, bool, list, tuple)):
            raise TypeError(f"{op}: unsupported operand {i} of type {type(x).__name__}")
        arr = xp.asarray(x)
        if dtype is not None and arr.dtype.kind in "biuf":
            arr = arr.astype(dtype)
        out[i] = const(arr)
    return out


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis. VJP: the matching slice of g for each input."""
    ts = _lift_sequence(tensors, "concatenate")
    ndim = ts[0].ndim
    if not -ndim <= axis < ndim or builtins.any(t.ndim != ndim for t in ts):
        ax = None
    else:
        ax = axis % ndim
    slices, start = [], 0
    for t in ts:
        if ax is None:
            break
        stop = start + t.shape[ax]
        slices.append((slice(None),) * ax + (slice(start, stop),))
        start = stop
    try:
        return apply(_CONCATENATE, tuple(ts), {"axis": axis, "slices": tuple(slices)})
    except ValueError:
        raise ValueError(f"concatenate: shapes {[t.shape for t in ts]} do not match off "
                         f"axis {axis}") from None


@_method("expand_dims")
def expand_dims(x, axis: int) -> Tensor:
    """Insert a new axis of length 1 at ``axis``."""
    x = _lift(x, "expand_dims")
    ax = axis % (x.ndim + 1)
    return reshape(x, x.shape[:ax] + (1,) + x.shape[ax:])


@_method("squeeze")
def squeeze(x, axis=None) -> Tensor:
    """Remove axes of length 1 (all of them, or those in ``axis``)."""
    x = _lift(x, "squeeze")
    axes = tuple(i for i, n in enumerate(x.shape) if n == 1) if axis is None else \
        _norm_axes(axis, x.ndim)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has length {x.shape[a]}, not 1")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def stack(tensors, axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    ts = _lift_sequence(tensors, "stack")
    shapes = {_shape(t) for t in ts}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors must have one shape; got {sorted(shapes)}")
    ndim = len(next(iter(shapes))) + 1
    return concatenate([expand_dims(t, axis % ndim) for t in ts], axis=axis)


def _broadcast_array(x, shape):
    """``broadcast_to`` for the plain-array VJPs: below 4096 entries a filled copy.

    ``numpy.broadcast_to`` spends about 4 us in Python-level checks on every call, which is most
    of the cost of a reduction's VJP on small arrays; filling a fresh array costs under 1 us there
    and holds the same values (above 4096 entries the copy costs more than the view saves).
    """
    module = B.get_array_module(x)
    if module is B.host_xp() and math.prod(shape) <= 4096:
        out = module.empty(shape, dtype=x.dtype)
        out[...] = x
        return out
    return module.broadcast_to(x, shape)


# The array-level functions that VJPs call and the backends lack, and, for speed, the array
# methods in place of the module functions that only forward to them (numpy.sum and
# numpy.reshape cost several times the method they call on small arrays; same results).
ARRAY_EXTRAS.update(
    sigmoid=_sigmoid_data, scatter=_scatter_data, broadcast_to=_broadcast_array,
    sum=lambda x, axis=None, keepdims=False: x.sum(axis=axis, keepdims=keepdims),
    reshape=lambda x, shape: x.reshape(shape),
    transpose=lambda x, axes=None: x.transpose(axes),
    swapaxes=lambda x, a, b: x.swapaxes(a, b))


# --------------------------------------------------------------------------- comparisons
def _comparison(op):
    """An elementwise comparison: a boolean Tensor (a constant: comparisons have no gradient).
    A list or tuple compares as the array it spells. An operand that is not a Tensor, an array,
    a list or a number (None, a string) is left to Python
    (``NotImplemented``), so ``t == None`` is False as for any object."""
    def method(self, other):
        if isinstance(other, Tensor):
            other = other.data
        elif isinstance(other, (list, tuple)):  # a nested list compares as an array, as in NumPy
            other = B.get_array_module(self.data).asarray(other)
        elif not (isinstance(other, (int, float, bool)) or B.is_array(other)):
            return NotImplemented
        _check_same_backend("comparison", self.data, other)
        return const(op(self.data, other))
    return method


def _install_methods():
    T = Tensor
    for name, fn in TENSOR_METHODS.items():
        setattr(T, name, fn)
    T.__pos__ = lambda self: self
    T.__lt__ = _comparison(lambda a, b: a < b)
    T.__le__ = _comparison(lambda a, b: a <= b)
    T.__gt__ = _comparison(lambda a, b: a > b)
    T.__ge__ = _comparison(lambda a, b: a >= b)
    T.__eq__ = _comparison(lambda a, b: a == b)
    T.__ne__ = _comparison(lambda a, b: a != b)
    T.__hash__ = object.__hash__  # by identity, as torch: tensors are keys of dicts and sets
    T.reshape = lambda self, *shape: reshape(
        self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)
    T.T = property(lambda self: transpose(self))
    T.flatten = lambda self: reshape(self, (-1,))


# --------------------------------------------------------------------------- more primitives
# The primitives defined in modules of their own. Importing them here makes their functions
# names of this namespace, where recorded VJPs find them as ``xp.<name>`` (and ``xp.linalg`` is
# minigrad.linalg), and declares their Tensor methods before they are installed.
from minigrad import ops_contract, ops_elementwise, ops_reduce, ops_shape, linalg  # noqa: E402

#: the modules whose public functions join this namespace
EXTENSION_MODULES = (ops_elementwise, ops_reduce, ops_shape, ops_contract)
for _module in EXTENSION_MODULES:
    globals().update({_name: getattr(_module, _name) for _name in _module.__all__})

_install_methods()

import sys as _sys  # noqa: E402

_ops = _sys.modules[__name__]  # the namespace of recorded VJPs: this module
