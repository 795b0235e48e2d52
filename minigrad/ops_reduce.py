"""More reductions and scans: prod, std, cumsum, sort (values).

The primitives here are entries of the table in :mod:`minigrad.primitive`, written as in
:mod:`minigrad.ops` (whose helpers they use); :mod:`minigrad.ops` imports this module, so its
functions are also names of that namespace (where recorded VJPs find them) and their Tensor
methods are installed with the others.

Conventions (pinned by tests, documented in ``docs/minigrad.md``):

* the gradient of ``prod`` is the product of the other entries, computed without dividing by
  the entry, so it is exact at zeros (one zero: only that entry has a nonzero derivative; two
  or more: the gradient is 0), to every order;
* ``std`` is ``sqrt(var)``: at zero variance its gradient is NaN, as ``torch.std``'s;
* at ties, ``sort`` gives each output's gradient to one input: the ``k``-th occurrence (in input
  order) of a tied value gets the gradient of the ``k``-th of the tied outputs, the derivative of
  the permutation of a stable sort (``x[argsort(x, kind="stable")]``).
"""
from __future__ import annotations

import math
import operator

from minigrad import backend as B
from minigrad.ops import _lift, _method, _norm_axes, _spread, reshape, sqrt, var
from minigrad.primitive import apply, const, data_of, defprim, defvjp, module_of
from minigrad.tensor import Tensor

__all__ = ["prod", "std", "cumsum", "sort"]


def _tensor(x, op: str) -> Tensor:
    """``x`` as a Tensor (numbers and arrays become constants)."""
    x = _lift(x, op)
    if not isinstance(x, Tensor):
        x = const(B.xp().asarray(x))
    return x


def _one_axis(axis, ndim: int, op: str) -> int:
    """``axis`` (an int, possibly negative) as a non-negative int."""
    if isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int or None; got {axis!r}")
    try:
        axis = operator.index(axis)  # numpy's integers too
    except TypeError:
        raise TypeError(f"{op}: axis must be an int or None; got {axis!r}") from None
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim


# --------------------------------------------------------------------------- prod
def _others_by_scans(xd, n: int):
    """Along the last axis (of length ``n``), the product of the other entries of each entry:
    the exclusive cumulative products from the left times those from the right (no division)."""
    m = B.get_array_module(xd)
    if n == 0:
        return m.zeros_like(xd)
    ones = m.ones(xd.shape[:-1] + (1,), dtype=xd.dtype)
    left = m.cumprod(m.concatenate([ones, xd[..., :-1]], axis=-1), axis=-1)
    right = m.cumprod(m.concatenate([ones, xd[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


def _prod_vjp(xp, g, ans, x, axis, keepdims):
    """g times the product of the other reduced entries, for each entry of x.

    The reduced axes are moved last and flattened into one of length n. On arrays the products
    of the others come from cumulative products (O(n)); in a recorded backward pass they are
    ``prod`` of an (n, n) stack whose diagonal is 1 (row i holds the entries but x_i), so the
    gradient is again a product and differentiates, exactly at zeros, to any order.
    """
    keep = tuple(i for i in range(x.ndim) if i not in axis)
    perm = keep + axis
    inverse = tuple(sorted(range(x.ndim), key=lambda i: perm[i]))
    kshape = tuple(x.shape[i] for i in keep)
    n = math.prod(x.shape[i] for i in axis)
    moved_shape = tuple(x.shape[i] for i in perm)
    if isinstance(x, Tensor):
        flat = xp.reshape(xp.transpose(x, perm), kshape + (1, n))
        eye = module_of(x).eye(n, dtype=bool)
        others = xp.prod(xp.where(eye, 1.0, flat), axis=-1)
    else:
        others = _others_by_scans(x.transpose(perm).reshape(kshape + (n,)), n)
    others = xp.transpose(xp.reshape(others, moved_shape), inverse)
    return _spread(xp, g, x, axis) * others


_PROD = defvjp(defprim("prod", lambda x, axis, keepdims: x.prod(axis=axis, keepdims=keepdims)),
               _prod_vjp)


@_method("prod")
def prod(x, axis=None, keepdims: bool = False) -> Tensor:
    """The product over ``axis`` (None, an int or a tuple), as ``numpy.prod``.

    VJP: ``g`` times the product of the other entries of each entry's slice,
    :math:`\\bar x_i = g \\prod_{j \\ne i} x_j`, computed without division, so it is right where
    entries are 0 (one zero: only that entry gets a nonzero gradient; two or more: all 0).
    """
    x = _tensor(x, "prod")
    return apply(_PROD, (x,), {"axis": _norm_axes(axis, x.ndim), "keepdims": keepdims})


# --------------------------------------------------------------------------- std
@_method("std")
def std(x, axis=None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """The standard deviation over ``axis``, ``sqrt(var(x, axis, ddof=ddof))``, as ``numpy.std``
    (divided by ``N - ddof``).

    VJP (that of the composite): ``g (x - mean(x)) / ((N - ddof) std)``; NaN where the
    standard deviation is 0 (as ``torch.std``).
    """
    x = _tensor(x, "std")
    if isinstance(ddof, bool) or not isinstance(ddof, int) or ddof < 0:
        raise ValueError(f"std: ddof must be a non-negative int; got {ddof!r}")
    try:
        return sqrt(var(x, axis, keepdims=keepdims, ddof=ddof))
    except ValueError as exc:
        raise ValueError(str(exc).replace("var:", "std:", 1)) from None


# --------------------------------------------------------------------------- cumsum
def _reversed(axis: int):
    return (slice(None),) * axis + (slice(None, None, -1),)


_CUMSUM = defvjp(
    defprim("cumsum", lambda x, axis: B.get_array_module(x).cumsum(x, axis=axis)),
    lambda xp, g, ans, x, axis: xp.cumsum(g[_reversed(axis)], axis=axis)[_reversed(axis)])


@_method("cumsum")
def cumsum(x, axis=None) -> Tensor:
    """The cumulative sum along ``axis``, as ``numpy.cumsum`` (``axis=None``: of the flattened
    input). VJP: the reversed cumulative sum of ``g``, :math:`\\bar x_i = \\sum_{j \\ge i} g_j`."""
    x = _tensor(x, "cumsum")
    if axis is None or x.ndim == 0:  # a 0-d input is taken as 1-d, as NumPy does
        axis = 0 if axis is None else _one_axis(axis, 1, "cumsum")
        return apply(_CUMSUM, (reshape(x, (-1,)),), {"axis": axis})
    return apply(_CUMSUM, (x,), {"axis": _one_axis(axis, x.ndim, "cumsum")})


# --------------------------------------------------------------------------- sort
def _inverse_permutation_index(xd, axis: int):
    """The index that takes sorted values back to their input positions: open ranges on the other
    axes and, on ``axis``, the inverse of the stable argsort."""
    m = B.get_array_module(xd)
    order = m.argsort(xd, axis=axis, kind="stable")
    inverse = m.argsort(order, axis=axis, kind="stable")
    index = []
    for i, n in enumerate(xd.shape):
        if i == axis:
            index.append(inverse)
        else:
            shape = [1] * xd.ndim
            shape[i] = n
            index.append(m.arange(n).reshape(shape))
    return tuple(index)


_SORT = defvjp(
    defprim("sort", lambda x, axis: B.get_array_module(x).sort(x, axis=axis)),
    lambda xp, g, ans, x, axis: g[_inverse_permutation_index(data_of(x), axis)])


def sort(x, axis=-1) -> Tensor:
    """The values of ``x`` sorted along ``axis`` (``None``: the flattened input), as
    ``numpy.sort`` (NaNs last); a new Tensor (there is no in-place ``x.sort()``).

    VJP: ``g`` sent back through the sorting permutation, :math:`\\bar x_{p_k} = g_k` where
    ``p = argsort(x, kind="stable")``; tied entries get the gradients of the tied outputs in
    input order.
    """
    x = _tensor(x, "sort")
    if axis is None:
        return apply(_SORT, (reshape(x, (-1,)),), {"axis": 0})
    return apply(_SORT, (x,), {"axis": _one_axis(axis, x.ndim, "sort")})
