"""More shape and structure functions: trace, diag, tril, triu, roll, repeat, tile, split,
hstack, vstack.

The primitives here are entries of the table in :mod:`minigrad.primitive`, written as in
:mod:`minigrad.ops` (whose helpers they use); :mod:`minigrad.ops` imports this module, so its
functions are also names of that namespace (where recorded VJPs find them) and their Tensor
methods are installed with the others.

Every function here is a composition of the core primitives (``getitem`` and its VJP
``scatter``, ``reshape``, ``broadcast_to``, ``concatenate``, ``where``, ``sum``), so each gradient
is the VJP of those, differentiable to any order; the docstrings state the result. All of them
are linear in their input and have no non-differentiable points.
"""
from __future__ import annotations

import math
import operator

from minigrad import backend as B
from minigrad import ops as _ops
from minigrad.ops import _lift, _lift_sequence, _method
from minigrad.primitive import const, module_of
from minigrad.tensor import Tensor

__all__ = ["trace", "diag", "tril", "triu", "roll", "repeat", "tile", "split", "hstack",
           "vstack"]


# --------------------------------------------------------------------------- helpers
def _tensor(x, op: str) -> Tensor:
    """``x`` as a Tensor (numbers, lists and arrays become constants)."""
    if isinstance(x, (list, tuple)):
        x = B.xp().asarray(x)
    x = _lift(x, op)
    if not isinstance(x, Tensor):
        x = const(B.xp().asarray(x))
    return x


def _int(value, op: str, name: str) -> int:
    """``value`` as a Python int, or a TypeError naming the argument."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an integer; got {value!r}") from None


def _axis(axis, ndim: int, op: str, name: str = "axis") -> int:
    """``axis`` as a non-negative int below ``ndim``, or a ValueError naming it."""
    axis = _int(axis, op, name)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: {name} {axis} is out of bounds for an array of dimension "
                         f"{ndim}")
    return axis % ndim


def _diagonal(x: Tensor, offset: int, axis1: int, axis2: int, op: str) -> Tensor:
    """The ``offset`` diagonal of ``x`` on ``axis1``, ``axis2`` as the last axis (as
    ``numpy.diagonal``): an integer-array ``getitem``, whose VJP scatters onto the diagonal."""
    a1, a2 = _axis(axis1, x.ndim, op, "axis1"), _axis(axis2, x.ndim, op, "axis2")
    if a1 == a2:
        raise ValueError(f"{op}: axis1 and axis2 cannot be the same (both {a1})")
    offset = _int(offset, op, "offset")
    rest = [i for i in range(x.ndim) if i not in (a1, a2)]
    n1, n2 = x.shape[a1], x.shape[a2]
    k = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    xp = module_of(x)
    rows = xp.arange(k) + max(0, -offset)
    cols = xp.arange(k) + max(0, offset)
    xt = _ops.transpose(x, rest + [a1, a2])
    return _ops.getitem(xt, (Ellipsis, rows, cols))


# --------------------------------------------------------------------------- diagonals
@_method("trace")
def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """``numpy.trace``: the sum of the ``offset`` diagonal over ``axis1`` and ``axis2`` (the
    other axes stay, in order). VJP: ``g`` placed on that diagonal of zeros of ``x``'s shape,
    ``x̄[..., i, i + offset] = g[...]``."""
    x = _tensor(x, "trace")
    if x.ndim < 2:
        raise ValueError(f"trace: needs an array of at least two dimensions; got shape "
                         f"{x.shape}")
    return _ops.sum(_diagonal(x, offset, axis1, axis2, "trace"), axis=-1)


def diag(v, k: int = 0) -> Tensor:
    """``numpy.diag``: for a vector, the square matrix with ``v`` on its ``k``-th diagonal (VJP:
    that diagonal of ``g``); for a matrix, its ``k``-th diagonal (VJP: ``g`` placed on that
    diagonal of zeros)."""
    v = _tensor(v, "diag")
    k = _int(k, "diag", "k")
    if v.ndim == 2:
        return _diagonal(v, k, 0, 1, "diag")
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1- or 2-d; got shape {v.shape}")
    n = v.shape[0] + abs(k)
    xp = module_of(v)
    index = (xp.arange(v.shape[0]) + max(0, -k), xp.arange(v.shape[0]) + max(0, k))
    return _ops.scatter(v, index, (n, n))


def _triangle(x, k, op: str, lower: bool) -> Tensor:
    x = _tensor(x, op)
    k = _int(k, op, "k")
    if x.ndim == 0:
        raise ValueError(f"{op}: needs an array of at least one dimension; got a 0-d array")
    xp = module_of(x)
    n, m = (x.shape[-1], x.shape[-1]) if x.ndim == 1 else x.shape[-2:]
    zero = xp.zeros((), dtype=x.dtype)
    if lower:
        return _ops.where(xp.tri(n, m, k, dtype=bool), x, zero)
    return _ops.where(xp.tri(n, m, k - 1, dtype=bool), zero, x)


def tril(x, k: int = 0) -> Tensor:
    """``numpy.tril``: zeros above the ``k``-th diagonal of the last two axes (a vector is
    broadcast to a square matrix first, as NumPy does). VJP: ``tril(g, k)`` (summed over the
    broadcast axis for a vector)."""
    return _triangle(x, k, "tril", True)


def triu(x, k: int = 0) -> Tensor:
    """``numpy.triu``: zeros below the ``k``-th diagonal of the last two axes (a vector is
    broadcast to a square matrix first, as NumPy does). VJP: ``triu(g, k)`` (summed over the
    broadcast axis for a vector)."""
    return _triangle(x, k, "triu", False)


# --------------------------------------------------------------------------- rearrangements
def _int_sequence(value, op: str, name: str) -> tuple:
    """An int or a sequence of them (a list, a tuple, a 1-d array) as a tuple of ints."""
    if B.is_array(value) and value.ndim == 1:
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(_int(v, op, name) for v in value)
    return (_int(value, op, name),)


def roll(x, shift, axis=None) -> Tensor:
    """``numpy.roll``: entries shifted by ``shift`` along ``axis`` (int or tuple, broadcast
    against ``shift``; a repeated axis adds its shifts), wrapping around; with ``axis=None`` the
    flattened array is rolled and the shape restored. Built from slices and ``concatenate``.
    VJP: ``g`` rolled by ``-shift``."""
    x = _tensor(x, "roll")
    if axis is None:
        return _ops.reshape(roll(_ops.reshape(x, (-1,)), shift, 0), x.shape)
    shifts = _int_sequence(shift, "roll", "shift")
    axes = _int_sequence(axis, "roll", "axis")
    if len(shifts) != len(axes) and 1 not in (len(shifts), len(axes)):
        raise ValueError(f"roll: shift {shift!r} and axis {axis!r} do not broadcast together")
    n = max(len(shifts), len(axes))
    total = {}
    for s, a in zip(shifts * (n // len(shifts)), axes * (n // len(axes))):
        a = _axis(a, x.ndim, "roll")
        total[a] = total.get(a, 0) + s
    out = x
    for a, s in sorted(total.items()):
        size = x.shape[a]
        if size == 0 or s % size == 0:
            continue
        cut = size - s % size
        lead = (slice(None),) * a
        out = _ops.concatenate([out[lead + (slice(cut, None),)], out[lead + (slice(None, cut),)]],
                               axis=a)
    return out


@_method("repeat")
def repeat(x, repeats, axis=None) -> Tensor:
    """``numpy.repeat``: each entry along ``axis`` repeated ``repeats`` times (an int, or one
    count per entry); ``axis=None`` repeats the flattened entries. The method is NumPy's
    ``x.repeat(repeats, axis=None)``, not torch's tiling ``repeat``. VJP: the gradients of the
    copies of each entry summed (``reshape`` and ``sum`` for an int count, the scatter-add of an
    integer-array ``getitem`` for per-entry counts)."""
    x = _tensor(x, "repeat")
    if axis is None:
        x, ax = _ops.reshape(x, (-1,)), 0
    else:
        if x.ndim == 0:
            x = _ops.reshape(x, (1,))
        ax = _axis(axis, x.ndim, "repeat")
    host = B.host_xp()
    r = host.asarray(B.to_numpy(repeats.data) if isinstance(repeats, Tensor) else repeats)
    if r.dtype.kind not in "iu":
        raise TypeError(f"repeat: repeats must be integers; got {repeats!r}")
    if r.ndim > 1:
        raise ValueError(f"repeat: repeats must be an int or a 1-d sequence; got shape {r.shape}")
    if (r < 0).any():
        raise ValueError(f"repeat: repeats may not contain negative values; got {repeats!r}")
    shape, n = x.shape, x.shape[ax]
    if r.size == 1:
        count = int(r.reshape(()))
        wide = _ops.reshape(x, shape[:ax + 1] + (1,) + shape[ax + 1:])
        wide = _ops.broadcast_to(wide, shape[:ax + 1] + (count,) + shape[ax + 1:])
        return _ops.reshape(wide, shape[:ax] + (n * count,) + shape[ax + 1:])
    if r.size != n:
        raise ValueError(f"repeat: {r.size} repeats do not match the {n} entries of axis {ax} "
                         f"(shape {shape})")
    index = module_of(x).asarray(host.repeat(host.arange(n), r))
    return _ops.getitem(x, (slice(None),) * ax + (index,))


def tile(x, reps) -> Tensor:
    """``numpy.tile``: ``x`` repeated ``reps[i]`` times along axis ``i`` (``x`` gets leading
    axes of length 1 when ``reps`` is longer, ``reps`` leading 1s when it is shorter). Built as
    ``reshape``, ``broadcast_to``, ``reshape``. VJP: the sum of the tiles of ``g``."""
    x = _tensor(x, "tile")
    tup = _int_sequence(reps, "tile", "reps")
    if any(t < 0 for t in tup):
        raise ValueError(f"tile: reps may not contain negative values; got {reps!r}")
    shape = (1,) * (len(tup) - x.ndim) + x.shape
    tup = (1,) * (len(shape) - len(tup)) + tup
    pairs = tuple(d for s in shape for d in (1, s))
    wide = _ops.broadcast_to(_ops.reshape(x, pairs),
                             tuple(d for t, s in zip(tup, shape) for d in (t, s)))
    return _ops.reshape(wide, tuple(t * s for t, s in zip(tup, shape)))


def split(x, indices_or_sections, axis: int = 0) -> list:
    """``numpy.split``: a list of Tensors, ``x`` cut along ``axis`` into ``sections`` equal
    parts (a ValueError when they do not divide the axis) or at the given indices (Python slice
    semantics: ``x[i_k:i_{k+1}]``, possibly empty). Each part is a ``getitem`` of a slice. VJP:
    each part's gradient placed in its slice (parts that are not used contribute zeros)."""
    x = _tensor(x, "split")
    if x.ndim == 0:
        raise ValueError("split: cannot split a 0-d array")
    ax = _axis(axis, x.ndim, "split")
    size = x.shape[ax]
    if isinstance(indices_or_sections, (list, tuple)) or (
            B.is_array(indices_or_sections) and getattr(indices_or_sections, "ndim", 0) > 0):
        indices = [_int(i, "split", "an index") for i in indices_or_sections]
        points = [0] + indices + [size]
    else:
        sections = _int(indices_or_sections, "split", "sections")
        if sections <= 0:
            raise ValueError(f"split: the number of sections must be positive; got {sections}")
        if size % sections:
            raise ValueError(f"split: array split does not result in an equal division "
                             f"({size} entries of axis {ax} into {sections} sections)")
        points = [i * (size // sections) for i in range(sections + 1)]
    lead = (slice(None),) * ax
    return [_ops.getitem(x, lead + (slice(a, b),)) for a, b in zip(points[:-1], points[1:])]


def _joined(op: str, ts: list, axis: int) -> Tensor:
    try:
        return _ops.concatenate(ts, axis=axis)
    except ValueError as exc:
        raise ValueError(f"{op}: the shapes {[t.shape for t in ts]} cannot be joined on axis "
                         f"{axis} ({exc})") from None


def hstack(tup) -> Tensor:
    """``numpy.hstack``: 0-d inputs become vectors; vectors are joined along axis 0, anything
    else along axis 1. VJP: the matching slice of ``g`` for each input."""
    ts = [t if t.ndim else _ops.reshape(t, (1,)) for t in _lift_sequence(tup, "hstack")]
    return _joined("hstack", ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tup) -> Tensor:
    """``numpy.vstack``: 0-d inputs become (1, 1) and vectors (1, n) matrices; all are joined
    along axis 0. VJP: the matching slice of ``g`` for each input."""
    ts = [t if t.ndim >= 2 else _ops.reshape(t, (1, math.prod(t.shape)))
          for t in _lift_sequence(tup, "vstack")]
    return _joined("vstack", ts, 0)
