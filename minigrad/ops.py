"""The primitives of minigrad and their vector-Jacobian products (the VJP table).

Each primitive computes its forward on backend arrays and records, for each input, a VJP
``vjp(g, out) -> Tensor`` written with Tensor operations (so a backward pass can be recorded and
differentiated again: ``create_graph=True``, :func:`minigrad.hvp`, :func:`minigrad.hessian`).
Functions that are compositions of primitives (``mean``, ``var``, ``softmax``, ...) need no VJP of
their own.

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
from minigrad.tensor import Tensor, is_grad_enabled, make

_Number = (int, float)

__all__ = [
    "add", "sub", "mul", "div", "neg", "power", "matmul", "getitem",
    "exp", "log", "log1p", "expm1", "sqrt", "abs", "sign", "sin", "cos", "tanh", "sigmoid",
    "relu", "softplus", "maximum", "minimum", "where", "clip",
    "sum", "mean", "max", "min", "logsumexp", "var", "norm",
    "reshape", "transpose", "swapaxes", "broadcast_to", "concatenate", "stack", "squeeze",
    "expand_dims", "outer", "softmax", "log_softmax", "unbroadcast", "dot",
]


# --------------------------------------------------------------------------- helpers
def _lift(x, op: str):
    """A Tensor stays; a Python number stays (a weakly typed constant); an array becomes a
    constant Tensor; anything else is a TypeError naming the operation."""
    if isinstance(x, Tensor) or isinstance(x, _Number):
        return x
    if B.is_array(x):
        return Tensor._const(x)
    raise TypeError(f"{op}: unsupported operand of type {type(x).__name__}")


def _const(data) -> Tensor:
    return make(data, (), (), "const")


Tensor._const = staticmethod(_const)


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
    """Undo broadcasting: sum ``g`` down to ``shape`` (leading axes, then size-1 axes).

    The one place where broadcasting is undone; every binary VJP goes through it.
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = sum(g, axis=axes, keepdims=True)
    return reshape(g, shape)


def _binary(op: str, a, b, forward, vjp_a, vjp_b) -> Tensor:
    """A broadcasting binary primitive; ``vjp_a(g, out, a, b)`` before unbroadcasting."""
    a, b = _lift(a, op), _lift(b, op)
    ad = a.data if isinstance(a, Tensor) else a
    bd = b.data if isinstance(b, Tensor) else b
    _check_same_backend(op, ad, bd)
    try:
        data = forward(ad, bd)
    except ValueError as exc:
        raise ValueError(f"{op}: operands of shapes {_shape(a)} and {_shape(b)} do not "
                         f"broadcast ({exc})") from None
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if not (is_grad_enabled() and (ta and a.requires_grad or tb and b.requires_grad)):
        return make(data, (), (), op)  # nothing to record: skip building the VJPs
    parents, vjps = [], []
    if ta:
        parents.append(a)
        vjps.append(lambda g, out: unbroadcast(vjp_a(g, out, a, b), a.shape))
    if tb:
        parents.append(b)
        vjps.append(lambda g, out: unbroadcast(vjp_b(g, out, a, b), b.shape))
    return make(data, parents, vjps, op)


def _unary(op: str, x, forward, vjp) -> Tensor:
    """An elementwise primitive; ``vjp(g, out, x)``."""
    x = _lift(x, op)
    if not isinstance(x, Tensor):
        x = _const(B.xp().asarray(x))
    return make(forward(x.data), (x,), (lambda g, out: vjp(g, out, x),), op)


def _xp(x: Tensor):
    return B.get_array_module(x.data)


# --------------------------------------------------------------------------- arithmetic
def add(a, b) -> Tensor:
    """a + b (broadcasting). VJP: g for each operand."""
    return _binary("add", a, b, lambda x, y: x + y,
                   lambda g, o, a, b: g,
                   lambda g, o, a, b: g)


def sub(a, b) -> Tensor:
    """a - b. VJP: g, -g."""
    return _binary("sub", a, b, lambda x, y: x - y,
                   lambda g, o, a, b: g,
                   lambda g, o, a, b: -g)


def mul(a, b) -> Tensor:
    """a * b. VJP: g b, g a."""
    return _binary("mul", a, b, lambda x, y: x * y,
                   lambda g, o, a, b: g * b,
                   lambda g, o, a, b: g * a)


def div(a, b) -> Tensor:
    """a / b. VJP: g / b, -g a / b^2."""
    return _binary("div", a, b, lambda x, y: x / y,
                   lambda g, o, a, b: g / b,
                   lambda g, o, a, b: -g * a / (b * b))


def neg(a) -> Tensor:
    """-a. VJP: -g."""
    return _unary("neg", a, lambda x: -x, lambda g, o, x: -g)


def _log_base(a):
    """log(a) where a > 0 and 0 elsewhere: d(a^b)/db = a^b log a, taken as 0 where a = 0."""
    if isinstance(a, Tensor):
        positive = a.data > 0
        return where(positive, log(where(positive, a, 1.0)), 0.0)
    return math.log(a) if a > 0 else 0.0


def power(a, b) -> Tensor:
    """a ** b for a scalar or tensor exponent. VJP: g b a^(b-1) and g a^b log a."""
    if isinstance(b, _Number) and isinstance(a, Tensor):
        c = b
        if c == 2:  # the common square: one product, no power
            return make(a.data * a.data, (a,), (lambda g, out: g * (2.0 * a),), "square")
        return make(a.data ** c, (a,), (lambda g, out: g * (c * a ** (c - 1)),), "pow")
    return _binary("pow", a, b, lambda x, y: x ** y,
                   lambda g, o, a, b: g * b * a ** (b - 1),
                   lambda g, o, a, b: g * o * _log_base(a))


# --------------------------------------------------------------------------- linear algebra
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
        data = a.data @ b.data
    except ValueError:
        raise ValueError(f"matmul: cannot multiply shapes {a.shape} and {b.shape} "
                         f"(inner dimensions {a.shape[-1]} and "
                         f"{b.shape[-2] if b.ndim > 1 else b.shape[0]} differ)") from None
    a_shape = (1,) + a.shape if a.ndim == 1 else a.shape
    b_shape = b.shape + (1,) if b.ndim == 1 else b.shape
    out_shape = data.shape

    def promoted_g(g):
        """g in the shape of the product of the promoted operands."""
        if a.ndim == 1 and b.ndim == 1:
            return reshape(g, (1, 1))
        if a.ndim == 1:  # (..., n) from (1, n) @ (..., n, k): insert the row axis
            return reshape(g, out_shape[:-1] + (1,) + out_shape[-1:])
        if b.ndim == 1:  # (..., m) from (..., m, n) @ (n, 1): append the column axis
            return reshape(g, out_shape + (1,))
        return g

    def vjp_a(g, out):
        g2 = promoted_g(g)
        b2 = reshape(b, b_shape) if b.ndim == 1 else b
        ga = matmul(g2, swapaxes(b2, -1, -2))
        return reshape(unbroadcast(ga, a_shape), a.shape)

    # When b is a transposed view (``x @ W.T`` in a linear layer), compute its gradient as
    # (g^T a)^T: the same numbers, laid out like b, so W's own gradient comes out contiguous.
    b_flags = getattr(b.data, "flags", None)
    b_transposed = (b.ndim == 2 and b_flags is not None and b_flags.f_contiguous
                    and not b_flags.c_contiguous)

    def vjp_b(g, out):
        g2 = promoted_g(g)
        a2 = reshape(a, a_shape) if a.ndim == 1 else a
        if b_transposed and g2.ndim == 2 and a2.ndim == 2:
            return transpose(matmul(transpose(g2), a2))
        gb = matmul(swapaxes(a2, -1, -2), g2)
        return reshape(unbroadcast(gb, b_shape), b.shape)

    return make(data, (a, b), (vjp_a, vjp_b), "matmul")


def dot(a, b) -> Tensor:
    """The inner product of two vectors (``matmul`` of two 1-D tensors)."""
    return matmul(a, b)


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


def getitem(a, index) -> Tensor:
    """``a[index]`` with ints, slices, None, Ellipsis, integer arrays and boolean masks.

    VJP: the gradient scattered back into zeros of ``a``'s shape with a scatter-add, so repeated
    integer indices accumulate.
    """
    a = _lift(a, "getitem")
    index = _index_data(index)
    try:
        data = a.data[index]
    except IndexError as exc:
        raise IndexError(f"getitem: index out of range for shape {a.shape}: {exc}") from None
    return make(data, (a,), (lambda g, out: _scatter(g, index, a.shape),), "getitem")


def _scatter(g: Tensor, index, shape: tuple) -> Tensor:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate).

    The VJP of ``getitem``; its own VJP is ``getitem`` again, so indexing is differentiable to
    any order.
    """
    xp = _xp(g)
    z = xp.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        z[index] = g.data
    else:
        B.scatter_add(z, index, g.data)
    return make(z, (g,), (lambda gg, out: getitem(gg, index),), "scatter")


# --------------------------------------------------------------------------- elementwise
def exp(x) -> Tensor:
    """exp(x). VJP: g exp(x)."""
    return _unary("exp", x, lambda d: B.get_array_module(d).exp(d), lambda g, o, x: g * o)


def log(x) -> Tensor:
    """log(x). VJP: g / x."""
    return _unary("log", x, lambda d: B.get_array_module(d).log(d), lambda g, o, x: g / x)


def log1p(x) -> Tensor:
    """log(1 + x), accurate for small x. VJP: g / (1 + x)."""
    return _unary("log1p", x, lambda d: B.get_array_module(d).log1p(d),
                  lambda g, o, x: g / (1.0 + x))


def expm1(x) -> Tensor:
    """exp(x) - 1, accurate for small x. VJP: g (out + 1)."""
    return _unary("expm1", x, lambda d: B.get_array_module(d).expm1(d),
                  lambda g, o, x: g * (o + 1.0))


def sqrt(x) -> Tensor:
    """sqrt(x). VJP: g / (2 sqrt(x)) (infinite at 0, as in NumPy and torch)."""
    return _unary("sqrt", x, lambda d: B.get_array_module(d).sqrt(d),
                  lambda g, o, x: g / (2.0 * o))


def abs(x) -> Tensor:  # noqa: A001 (mirrors numpy.abs)
    """|x|. VJP: g sign(x), so the derivative at 0 is 0."""
    return _unary("abs", x, lambda d: B.get_array_module(d).abs(d),
                  lambda g, o, x: g * _xp(x).sign(x.data))


def sign(x) -> Tensor:
    """sign(x); its derivative is 0 everywhere (0 almost everywhere, taken as 0 at 0)."""
    x = _lift(x, "sign")
    return _const(_xp(x).sign(x.data))


def sin(x) -> Tensor:
    """sin(x). VJP: g cos(x)."""
    return _unary("sin", x, lambda d: B.get_array_module(d).sin(d), lambda g, o, x: g * cos(x))


def cos(x) -> Tensor:
    """cos(x). VJP: -g sin(x)."""
    return _unary("cos", x, lambda d: B.get_array_module(d).cos(d), lambda g, o, x: -g * sin(x))


def tanh(x) -> Tensor:
    """tanh(x) (the library's tanh, not through exp). VJP: g (1 - tanh^2)."""
    return _unary("tanh", x, lambda d: B.get_array_module(d).tanh(d),
                  lambda g, o, x: g * (1.0 - o * o))


def _sigmoid_data(d):
    """1 / (1 + e^{-x}) without overflow: e^{-|x|} never exceeds 1."""
    xp = B.get_array_module(d)
    e = xp.exp(-xp.abs(d))
    return xp.where(d >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid(x) -> Tensor:
    """The logistic function 1 / (1 + e^{-x}), stable for any x. VJP: g s (1 - s)."""
    return _unary("sigmoid", x, _sigmoid_data, lambda g, o, x: g * (o * (1.0 - o)))


def relu(x) -> Tensor:
    """max(x, 0). VJP: g [x > 0], so relu'(0) = 0."""
    return _unary("relu", x, lambda d: B.get_array_module(d).maximum(d, 0),
                  lambda g, o, x: g * (x.data > 0))


def softplus(x) -> Tensor:
    """log(1 + e^x) = logaddexp(0, x), stable for any x. VJP: g sigmoid(x)."""
    return _unary("softplus", x, lambda d: B.get_array_module(d).logaddexp(0.0, d),
                  lambda g, o, x: g * sigmoid(x))


def _tie_weights(xd, yd):
    """Weights of x in max(x, y): 1 where x > y, 1/2 at ties, 0 elsewhere."""
    return (xd > yd) + 0.5 * (xd == yd)


def maximum(a, b) -> Tensor:
    """Elementwise max(a, b); at ties each operand gets half the gradient."""
    def w(x, y):
        xd = x.data if isinstance(x, Tensor) else x
        yd = y.data if isinstance(y, Tensor) else y
        return _tie_weights(xd, yd)
    return _binary("maximum", a, b, lambda x, y: B.get_array_module(x, y).maximum(x, y),
                   lambda g, o, a, b: g * w(a, b),
                   lambda g, o, a, b: g * w(b, a))


def minimum(a, b) -> Tensor:
    """Elementwise min(a, b); at ties each operand gets half the gradient."""
    def w(x, y):
        xd = x.data if isinstance(x, Tensor) else x
        yd = y.data if isinstance(y, Tensor) else y
        return _tie_weights(yd, xd)
    return _binary("minimum", a, b, lambda x, y: B.get_array_module(x, y).minimum(x, y),
                   lambda g, o, a, b: g * w(a, b),
                   lambda g, o, a, b: g * w(b, a))


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (``condition`` is not differentiated)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    a, b = _lift(a, "where"), _lift(b, "where")
    ad = a.data if isinstance(a, Tensor) else a
    bd = b.data if isinstance(b, Tensor) else b
    xp = B.get_array_module(cond, ad, bd) if B.is_array(cond) else B.get_array_module(ad, bd)
    data = xp.where(cond, ad, bd)
    parents, vjps = [], []
    if isinstance(a, Tensor):
        parents.append(a)
        vjps.append(lambda g, out: unbroadcast(where(cond, g, 0.0), a.shape))
    if isinstance(b, Tensor):
        parents.append(b)
        vjps.append(lambda g, out: unbroadcast(where(cond, 0.0, g), b.shape))
    return make(data, parents, vjps, "where")


def clip(x, lo=None, hi=None) -> Tensor:
    """x clipped to [lo, hi] (numbers or None). VJP: g where lo <= x <= hi (as torch.clamp)."""
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo={lo} is greater than hi={hi}")

    def forward(d):
        return B.get_array_module(d).clip(d, lo, hi)

    def vjp(g, o, x):
        inside = True
        if lo is not None:
            inside = x.data >= lo
        if hi is not None:
            inside = inside & (x.data <= hi) if lo is not None else x.data <= hi
        return g * inside
    return _unary("clip", x, forward, vjp)


# --------------------------------------------------------------------------- reductions
def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 (mirrors numpy.sum)
    """Sum over ``axis`` (None, int or tuple). VJP: g broadcast back to x's shape."""
    x = _lift(x, "sum")
    axes = _norm_axes(axis, x.ndim)
    xp = _xp(x)
    data = xp.sum(x.data, axis=axes, keepdims=keepdims)
    kd = _keepdims_shape(x.shape, axes)
    return make(data, (x,), (lambda g, out: broadcast_to(reshape(g, kd), x.shape),), "sum")


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis`` (a sum divided by the count)."""
    x = _lift(x, "mean")
    axes = _norm_axes(axis, x.ndim)
    count = math.prod(x.shape[a] for a in axes)
    return sum(x, axes, keepdims) / float(count)


def _extreme(name: str, x, axis, keepdims):
    x = _lift(x, name)
    axes = _norm_axes(axis, x.ndim)
    if x.size == 0:
        raise ValueError(f"{name}: zero-size array has no {name}imum")
    xp = _xp(x)
    reduce = xp.max if name == "max" else xp.min
    data = reduce(x.data, axis=axes, keepdims=keepdims)
    kd = _keepdims_shape(x.shape, axes)

    def vjp(g, out):
        hit = x.data == xp.reshape(out.data, kd)  # the arg-extremes, ties included
        share = hit / xp.sum(hit, axis=axes, keepdims=True)  # ties split evenly
        return broadcast_to(reshape(g, kd), x.shape) * share
    return make(data, (x,), (vjp,), name)


def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; tied maxima share the gradient evenly."""
    return _extreme("max", x, axis, keepdims)


def min(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over ``axis``; tied minima share the gradient evenly."""
    return _extreme("min", x, axis, keepdims)


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    r"""``log sum exp(x)`` over ``axis``, computed with the max shift
    :math:`m + \log\sum e^{x - m}` so it never overflows. VJP: ``g softmax(x)``."""
    x = _lift(x, "logsumexp")
    axes = _norm_axes(axis, x.ndim)
    xp = _xp(x)
    m = xp.max(x.data, axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0)
    kd = _keepdims_shape(x.shape, axes)
    data = xp.log(xp.sum(xp.exp(x.data - m), axis=axes, keepdims=True)) + m
    if not keepdims:
        data = xp.reshape(data, tuple(n for i, n in enumerate(x.shape) if i not in axes))
    return make(data, (x,), (
        lambda g, out: broadcast_to(reshape(g, kd), x.shape) * exp(x - reshape(out, kd)),),
        "logsumexp")


def var(x, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis``: mean squared deviation, divided by ``N - ddof``."""
    x = _lift(x, "var")
    axes = _norm_axes(axis, x.ndim)
    count = math.prod(x.shape[a] for a in axes)
    if count - ddof <= 0:
        raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {count} values")
    d = x - mean(x, axes, keepdims=True)
    return sum(d * d, axes, keepdims) / float(count - ddof)


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
    axes = _norm_axes(axis, x.ndim)
    xp = _xp(x)
    data = xp.sqrt(xp.sum(x.data * x.data, axis=axes, keepdims=keepdims))
    kd = _keepdims_shape(x.shape, axes)

    def vjp(g, out):
        o = reshape(out, kd)
        safe = where(o.data == 0, 1.0, o)  # at x = 0 the gradient x / ||x|| is taken as 0
        return x * (broadcast_to(reshape(g, kd), x.shape) / safe)
    return make(data, (x,), (vjp,), "norm")


def softmax(x, axis: int = -1) -> Tensor:
    """exp(x - logsumexp(x)) along ``axis``: stable for any logits."""
    return exp(log_softmax(x, axis))


def log_softmax(x, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``."""
    x = _lift(x, "log_softmax")
    return x - logsumexp(x, axis=axis, keepdims=True)


# --------------------------------------------------------------------------- shapes
def reshape(x, shape) -> Tensor:
    """x with a new shape (one entry may be -1). VJP: g reshaped back."""
    x = _lift(x, "reshape")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    try:
        data = _xp(x).reshape(x.data, shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape an array of shape {x.shape} "
                         f"into shape {shape}") from None
    if data.shape == x.shape:
        return x
    return make(data, (x,), (lambda g, out: reshape(g, x.shape),), "reshape")


def transpose(x, axes=None) -> Tensor:
    """Permute the axes (reverse them by default). VJP: the inverse permutation."""
    x = _lift(x, "transpose")
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(a % x.ndim for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation for shape {x.shape}")
    inverse = tuple(sorted(range(x.ndim), key=lambda i: axes[i]))
    return make(_xp(x).transpose(x.data, axes), (x,),
                (lambda g, out: transpose(g, inverse),), "transpose")


def swapaxes(x, a: int, b: int) -> Tensor:
    """Swap two axes."""
    x = _lift(x, "swapaxes")
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, axes)


def broadcast_to(x, shape) -> Tensor:
    """x broadcast to ``shape`` (a read-only view). VJP: ``unbroadcast``."""
    x = _lift(x, "broadcast_to")
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        data = _xp(x).broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return make(data, (x,), (lambda g, out: unbroadcast(g, x.shape),), "broadcast_to")


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis. VJP: the matching slice of g for each input."""
    ts = [_lift(t, "concatenate") for t in tensors]
    ts = [t if isinstance(t, Tensor) else _const(B.xp().asarray(t)) for t in ts]
    if not ts:
        raise ValueError("concatenate: need at least one tensor")
    xp = B.get_array_module(*[t.data for t in ts])
    try:
        data = xp.concatenate([t.data for t in ts], axis=axis)
    except ValueError:
        raise ValueError(f"concatenate: shapes {[t.shape for t in ts]} do not match off "
                         f"axis {axis}") from None
    ax = axis % data.ndim
    vjps, start = [], 0
    for t in ts:
        stop = start + t.shape[ax]
        index = (slice(None),) * ax + (slice(start, stop),)
        vjps.append(lambda g, out, index=index: getitem(g, index))
        start = stop
    return make(data, ts, vjps, "concatenate")


def expand_dims(x, axis: int) -> Tensor:
    """Insert a new axis of length 1 at ``axis``."""
    x = _lift(x, "expand_dims")
    ax = axis % (x.ndim + 1)
    return reshape(x, x.shape[:ax] + (1,) + x.shape[ax:])


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
    ts = [_lift(t, "stack") for t in tensors]
    if not ts:
        raise ValueError("stack: need at least one tensor")
    shapes = {_shape(t) for t in ts}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors must have one shape; got {sorted(shapes)}")
    ndim = len(next(iter(shapes))) + 1
    return concatenate([expand_dims(t, axis % ndim) for t in ts], axis=axis)


# --------------------------------------------------------------------------- Tensor methods
def _comparison(op):
    def method(self, other):
        other = other.data if isinstance(other, Tensor) else other
        return _const(op(self.data, other))
    return method


def _install_methods():
    T = Tensor
    T.__add__ = add
    T.__radd__ = lambda self, other: add(other, self)
    T.__sub__ = sub
    T.__rsub__ = lambda self, other: sub(other, self)
    T.__mul__ = mul
    T.__rmul__ = lambda self, other: mul(other, self)
    T.__truediv__ = div
    T.__rtruediv__ = lambda self, other: div(other, self)
    T.__pow__ = power
    T.__rpow__ = lambda self, other: power(other, self)
    T.__matmul__ = matmul
    T.__rmatmul__ = lambda self, other: matmul(other, self)
    T.__neg__ = neg
    T.__pos__ = lambda self: self
    T.__abs__ = abs
    T.__getitem__ = getitem
    T.__lt__ = _comparison(lambda a, b: a < b)
    T.__le__ = _comparison(lambda a, b: a <= b)
    T.__gt__ = _comparison(lambda a, b: a > b)
    T.__ge__ = _comparison(lambda a, b: a >= b)
    T.__hash__ = object.__hash__
    for name in ("exp", "log", "log1p", "expm1", "sqrt", "abs", "sign", "sin", "cos", "tanh",
                 "sigmoid", "relu", "softplus", "clip", "sum", "mean", "max", "min",
                 "logsumexp", "var", "norm", "transpose", "swapaxes", "broadcast_to",
                 "squeeze", "expand_dims", "softmax", "log_softmax", "maximum", "minimum",
                 "dot", "outer"):
        setattr(T, name, globals()[name])
    T.reshape = lambda self, *shape: reshape(
        self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)
    T.T = property(lambda self: transpose(self))
    T.flatten = lambda self: reshape(self, (-1,))


_install_methods()
