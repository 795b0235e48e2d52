"""More elementwise primitives: tan, sinh, cosh, arcsin, arccos, arctan, log2, log10, logaddexp.

The primitives here are entries of the table in :mod:`minigrad.primitive`, written as in
:mod:`minigrad.ops` (whose helpers they use); :mod:`minigrad.ops` imports this module, so its
functions are also names of that namespace (where recorded VJPs find them) and their Tensor
methods are installed with the others.

Values are NumPy's (the backend's own functions, with its domains: ``arcsin(2)`` is NaN).
Convention (pinned by tests, documented in ``docs/minigrad.md``): where ``logaddexp(a, b)`` is
infinite (both operands ``-inf``, or one of them ``+inf``) its weights ``exp(a - out)`` are
undefined and are taken as those of ``maximum(a, b)``: 1 for the larger operand, 1/2 each at a tie.
"""
from __future__ import annotations

import math

from minigrad import backend as B
from minigrad.ops import _binary, _elementwise, _method, _tie_weights, _unary
from minigrad.primitive import data_of, defprim, defvjp, module_of
from minigrad.tensor import Tensor

__all__ = ["tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "log2", "log10", "logaddexp"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

_TAN = _elementwise("tan", lambda xp, g, ans, x: g * (1.0 + ans * ans))
_SINH = _elementwise("sinh", lambda xp, g, ans, x: g * xp.cosh(x))
_COSH = _elementwise("cosh", lambda xp, g, ans, x: g * xp.sinh(x))
_ARCSIN = _elementwise("arcsin", lambda xp, g, ans, x: g / xp.sqrt(1.0 - x * x))
_ARCCOS = _elementwise("arccos", lambda xp, g, ans, x: -g / xp.sqrt(1.0 - x * x))
_ARCTAN = _elementwise("arctan", lambda xp, g, ans, x: g / (1.0 + x * x))
_LOG2 = _elementwise("log2", lambda xp, g, ans, x: g / (x * _LN2))
_LOG10 = _elementwise("log10", lambda xp, g, ans, x: g / (x * _LN10))


@_method("tan")
def tan(x) -> Tensor:
    """tan(x). VJP: g (1 + tan(x)^2) = g / cos(x)^2."""
    return _unary(_TAN, x)


@_method("sinh")
def sinh(x) -> Tensor:
    """sinh(x). VJP: g cosh(x)."""
    return _unary(_SINH, x)


@_method("cosh")
def cosh(x) -> Tensor:
    """cosh(x). VJP: g sinh(x)."""
    return _unary(_COSH, x)


@_method("arcsin")
def arcsin(x) -> Tensor:
    """arcsin(x) on [-1, 1] (NaN outside, as NumPy). VJP: g / sqrt(1 - x^2) (infinite at +-1)."""
    return _unary(_ARCSIN, x)


@_method("arccos")
def arccos(x) -> Tensor:
    """arccos(x) on [-1, 1] (NaN outside, as NumPy). VJP: -g / sqrt(1 - x^2) (infinite at +-1)."""
    return _unary(_ARCCOS, x)


@_method("arctan")
def arctan(x) -> Tensor:
    """arctan(x). VJP: g / (1 + x^2)."""
    return _unary(_ARCTAN, x)


@_method("log2")
def log2(x) -> Tensor:
    """The base-2 logarithm. VJP: g / (x ln 2)."""
    return _unary(_LOG2, x)


@_method("log10")
def log10(x) -> Tensor:
    """The base-10 logarithm. VJP: g / (x ln 10)."""
    return _unary(_LOG10, x)


def _logaddexp_weight(xp, a, b, ans):
    """d logaddexp(a, b) / da = exp(a - out); where ``out`` is infinite, ``maximum``'s weight of
    ``a`` (1 if a > b, 1/2 at a tie, 0 otherwise)."""
    ad, bd, od = data_of(a), data_of(b), data_of(ans)
    m = module_of(ans)
    infinite = m.isinf(od)
    if not infinite.any():
        return xp.exp(a - ans)
    # the operands are replaced where the result is infinite, so that no inf - inf (NaN) is
    # computed or enters the graph of a recorded backward pass
    tie = (_tie_weights(ad, bd) + m.zeros_like(od)).astype(od.dtype)
    safe = xp.exp(xp.where(infinite, 0.0, a) - xp.where(infinite, 0.0, ans))
    return xp.where(infinite, tie, safe)


_LOGADDEXP = defvjp(
    defprim("logaddexp", lambda x, y: B.get_array_module(x, y).logaddexp(x, y),
            broadcasting=True),
    lambda xp, g, ans, a, b: g * _logaddexp_weight(xp, a, b, ans),
    lambda xp, g, ans, a, b: g * _logaddexp_weight(xp, b, a, ans))


@_method("logaddexp")
def logaddexp(a, b) -> Tensor:
    """log(exp(a) + exp(b)) (broadcasting), computed as NumPy's ``logaddexp`` without overflow.

    VJP: ``g exp(a - out)`` and ``g exp(b - out)`` (the softmax weights of the two operands);
    where ``out`` is infinite, the weights of ``maximum(a, b)`` (1 for the larger, 1/2 at a tie).
    """
    return _binary(_LOGADDEXP, a, b)
