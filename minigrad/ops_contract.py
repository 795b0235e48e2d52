"""Tensor contractions: tensordot, einsum.

The primitives here are entries of the table in :mod:`minigrad.primitive`, written as in
:mod:`minigrad.ops` (whose helpers they use); :mod:`minigrad.ops` imports this module, so its
functions are also names of that namespace (where recorded VJPs find them) and their Tensor
methods are installed with the others.

``tensordot`` is composed of ``transpose``, ``reshape`` and ``matmul`` (as NumPy computes it).
``einsum`` is one primitive whose VJP for each operand is again an ``einsum``: of the incoming
gradient with the other operands, with identity matrices for a label repeated in that operand
(the gradient lands on the diagonal) and vectors of ones for a label summed within that operand
alone (the gradient is constant along it). Both are multilinear: no non-differentiable points.
"""
from __future__ import annotations

import math
import operator
import string

from minigrad import backend as B
from minigrad import ops as _ops
from minigrad.ops import _lift_sequence
from minigrad.ops_shape import _tensor
from minigrad.primitive import apply, data_of, defprim, defvjp_argnum, module_of
from minigrad.tensor import Tensor

__all__ = ["tensordot", "einsum"]

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # ASCII order, as NumPy sorts


# --------------------------------------------------------------------------- tensordot
def _axes_list(axes, op: str) -> list:
    try:
        return [operator.index(a) for a in axes]
    except TypeError:
        try:
            return [operator.index(axes)]
        except TypeError:
            raise TypeError(f"{op}: axes must be integers; got {axes!r}") from None




def tensordot(a, b, axes=2) -> Tensor:
    """``numpy.tensordot``: the sum over ``a``'s axes ``axes[0]`` and ``b``'s axes ``axes[1]``
    (an int ``n``: ``a``'s last ``n`` and ``b``'s first ``n``), of shape ``a``'s other axes then
    ``b``'s. Computed as NumPy does, a ``matmul`` of the operands transposed and reshaped to
    matrices. VJP: ``tensordot`` of ``g`` with the other operand over its free axes, permuted
    back (through the VJPs of ``transpose``, ``reshape`` and ``matmul``)."""
    a, b = _tensor(a, "tensordot"), _tensor(b, "tensordot")
    if isinstance(axes, (list, tuple)):
        if len(axes) != 2:
            raise ValueError(f"tensordot: axes must be an int or a pair of sequences; got "
                             f"{axes!r}")
        axes_a, axes_b = _axes_list(axes[0], "tensordot"), _axes_list(axes[1], "tensordot")
    else:
        n = _axes_list(axes, "tensordot")[0]
        axes_a, axes_b = list(range(-n, 0)), list(range(0, n))  # NumPy's reading of an int
        if n > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: cannot sum over {n} axes of operands of shapes "
                             f"{a.shape} and {b.shape}")
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: shape-mismatch for sum: {len(axes_a)} axes of a "
                         f"({axes_a}) and {len(axes_b)} of b ({axes_b})")
    for name, x, ax in (("a", a, axes_a), ("b", b, axes_b)):
        for i, k in enumerate(ax):
            if not -x.ndim <= k < x.ndim:
                raise ValueError(f"tensordot: axis {k} is out of bounds for {name} of shape "
                                 f"{x.shape}")
            ax[i] = k % x.ndim
        if len(set(ax)) != len(ax):
            raise ValueError(f"tensordot: duplicate axes are not allowed; got {ax} for {name}")
    for ka, kb in zip(axes_a, axes_b):
        if a.shape[ka] != b.shape[kb]:
            raise ValueError(f"tensordot: shape-mismatch for sum: axis {ka} of a (length "
                             f"{a.shape[ka]}) and axis {kb} of b (length {b.shape[kb]})")
    free_a = [k for k in range(a.ndim) if k not in axes_a]
    free_b = [k for k in range(b.ndim) if k not in axes_b]
    inner = math.prod(a.shape[k] for k in axes_a)
    am = _ops.reshape(_ops.transpose(a, free_a + axes_a),
                      (math.prod(a.shape[k] for k in free_a), inner))
    bm = _ops.reshape(_ops.transpose(b, axes_b + free_b),
                      (inner, math.prod(b.shape[k] for k in free_b)))
    out = _ops.matmul(am, bm)
    return _ops.reshape(out, tuple(a.shape[k] for k in free_a) + tuple(b.shape[k] for k in free_b))


# --------------------------------------------------------------------------- einsum
def _parse(subscripts: str, shapes: list) -> tuple:
    """The subscripts in explicit form, with every label a letter: ``(terms, output)``.

    ``...`` becomes fresh letters (the ellipsis dimensions of the operands aligned on the
    right, as NumPy broadcasts them); the implicit output is the ellipsis dimensions then the
    labels that appear once, in ASCII order, as NumPy's."""
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError(f"einsum: subscripts {subscripts!r} contain '->' more than once")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operands; got "
                         f"{len(shapes)}")
    letters, ellipsis = [], []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        if term.count("...") > 1:
            raise ValueError(f"einsum: operand {i} ({term!r}) has more than one '...'")
        bare = term.replace("...", "")
        for c in bare:
            if c not in _LETTERS:
                raise ValueError(f"einsum: invalid subscript {c!r} in operand {i} ({term!r}); "
                                 f"subscripts must be letters (or '...')")
        if "..." in term:
            if len(bare) > len(shape):
                raise ValueError(f"einsum: operand {i} ({term!r}) has more subscripts than its "
                                 f"{len(shape)} dimensions")
            ellipsis.append(len(shape) - len(bare))
        else:
            if len(bare) != len(shape):
                raise ValueError(f"einsum: operand {i} ({term!r}) has {len(bare)} subscripts "
                                 f"for its {len(shape)} dimensions (shape {shape})")
            ellipsis.append(0)
        letters.append(bare)
    for c in rhs.replace("...", ""):
        if c not in _LETTERS:
            raise ValueError(f"einsum: invalid output subscript {c!r}; subscripts must be "
                             f"letters (or '...')")
    used = set(spec)
    n_ell = max(ellipsis)
    pool = [c for c in _LETTERS if c not in used]
    if n_ell > len(pool):
        raise ValueError("einsum: too many dimensions for the 52 subscript letters")
    ell = "".join(pool[:n_ell])
    terms = tuple(t.replace("...", ell[n_ell - e:]) for t, e in zip(terms, ellipsis))
    if arrow:
        if rhs.count("...") > 1:
            raise ValueError(f"einsum: the output {rhs!r} has more than one '...'")
        if "..." not in rhs and n_ell:
            raise ValueError(f"einsum: the operands have {n_ell} dimensions under '...' but the "
                             f"output {rhs!r} has no '...' to keep them")
        output = rhs.replace("...", ell)
        for c in output:
            if output.count(c) > 1:
                raise ValueError(f"einsum: output subscript {c!r} appears more than once")
            if not any(c in t for t in terms):
                raise ValueError(f"einsum: output subscript {c!r} appears in no operand")
    else:
        joined = "".join(letters)
        output = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    return terms, output


def _sizes(terms, shapes) -> dict:
    """Each label's length, checking that its dimensions agree (or are 1, which broadcasts)."""
    sizes = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        own = {}
        for c, n in zip(term, shape):
            if own.setdefault(c, n) != n:
                raise ValueError(f"einsum: label {c!r} repeated in operand {i} has lengths "
                                 f"{own[c]} and {n}")
        for c, n in own.items():
            m = sizes.setdefault(c, n)
            if m != n and 1 not in (m, n):
                raise ValueError(f"einsum: label {c!r} has lengths {m} and {n}, which do not "
                                 f"broadcast")
            sizes[c] = max(m, n)
    return sizes


def _einsum_data(*arrays, terms, output, optimize):
    spec = ",".join(terms) + "->" + output
    return B.get_array_module(*arrays).einsum(spec, *arrays, optimize=optimize)


def _einsum_vjp(xp, g, ans, *args, terms, output, optimize, argnum):
    """``einsum(output, other terms -> this term)`` of ``g`` with the other operands; a label
    repeated in this operand gets an identity matrix per repetition (the gradient lands on the
    diagonal), a label found in no other operand nor the output a vector of ones (the gradient
    is constant along it); then size-1 dimensions that broadcast are summed back."""
    term, x = terms[argnum], args[argnum]
    mod, dtype = module_of(g), data_of(g).dtype
    others = [j for j in range(len(args)) if j != argnum]
    elsewhere = set(output).union(*(terms[j] for j in others))
    fresh = [c for c in _LETTERS if c not in elsewhere and c not in term]
    new_term, extra_terms, extras, seen = [], [], [], set()
    for c, n in zip(term, x.shape):
        if c in seen:
            if not fresh:
                raise NotImplementedError("einsum: the gradient of a repeated label needs more "
                                          "than the 52 subscript letters")
            f = fresh.pop()
            new_term.append(f)
            extra_terms.append(c + f)
            extras.append(mod.eye(n, dtype=dtype))
            continue
        seen.add(c)
        new_term.append(c)
        if c not in elsewhere:
            extra_terms.append(c)
            extras.append(mod.ones(n, dtype=dtype))
    spec = ",".join([output] + [terms[j] for j in others] + extra_terms) + "->" + "".join(new_term)
    r = xp.einsum(spec, g, *(args[j] for j in others), *extras, optimize=optimize)
    summed = tuple(d for d, (m, n) in enumerate(zip(r.shape, x.shape)) if m != n and n == 1)
    if summed:
        r = xp.sum(r, axis=summed, keepdims=True)
    if r.shape != x.shape:
        r = xp.broadcast_to(r, x.shape)
    return r


_EINSUM = defvjp_argnum(defprim("einsum", _einsum_data), _einsum_vjp)


def einsum(subscripts, *operands, optimize=False) -> Tensor:
    """``numpy.einsum`` with a subscripts string: explicit (``'ij,jk->ik'``) and implicit
    (``'ij,jk'``: the labels that appear once, in ASCII order) outputs, ``...`` for broadcast
    leading dimensions, a label repeated within an operand for its diagonal (``'ii->i'``) or
    trace (``'ii'``), labels of length 1 broadcasting against longer ones. ``optimize`` is
    passed to the backend's ``einsum``.

    VJP for operand ``k``: ``einsum`` of ``g`` with the other operands onto operand ``k``'s
    labels; for a label repeated in operand ``k``, the gradient is placed on the diagonal (an
    identity matrix per repetition); for a label summed within operand ``k`` alone, it is
    broadcast along it (a vector of ones); dimensions of length 1 that broadcast are summed.
    The sublist form ``einsum(op, [0, 1], ...)``, ``out``, ``dtype``, ``order`` and ``casting``
    are not supported.
    """
    if not isinstance(subscripts, str):
        raise NotImplementedError("einsum: the interleaved (operand, sublist, ...) form is not "
                                  "supported; pass a subscripts string")
    ts = _lift_sequence(list(operands), "einsum")
    terms, output = _parse(subscripts, [t.shape for t in ts])
    _sizes(terms, [t.shape for t in ts])
    return apply(_EINSUM, tuple(ts), {"terms": terms, "output": output, "optimize": optimize})
