r"""Linear algebra with derivatives, as ``numpy.linalg``: ``mg.linalg.inv`` and the others.

The matrix functions are entries of the table in :mod:`minigrad.primitive`; their VJPs follow
Giles, "An extended collection of matrix derivative results for forward and reverse mode
algorithmic differentiation" (2008), Murray, "Differentiation of the Cholesky decomposition"
(2016) and Townsend, "Differentiating the singular value decomposition" (2016). In a recorded
backward pass VJPs call ``xp.linalg.<name>``, which is this module (``minigrad.ops.linalg``); in
a plain one the backend's ``linalg``: every function a VJP calls exists in both with NumPy's
signature, so every gradient can be differentiated again.

Every function works on a matrix or a stack of them (the last two axes), as NumPy does.

Conventions (pinned by tests, documented in ``docs/minigrad.md``):

* ``eigh`` and ``cholesky`` read one triangle of their input, as NumPy does, and assume it is
  symmetric. Their gradient is the symmetric one, :math:`(\bar A + \bar A^\top)/2`: the
  derivative along symmetric perturbations (as torch and JAX return it), which is also the
  gradient of ``f((A + A^T) / 2)`` at a symmetric ``A``.
* Repeated eigenvalues (singular values): pairs closer than :math:`n\,\varepsilon\,\lVert
  A\rVert_F` (:math:`\varepsilon` the dtype's machine epsilon, :math:`n` the larger matrix
  dimension) are taken as equal, and their coupling term :math:`1/(w_j - w_i)` as 0. The
  gradient of a function of the eigenvalues alone (``w.sum()``, :math:`\mathrm{tr} f(A)`
  computed as ``(v * f(w)) @ v.T``) is then right; for a function of individual eigenvectors
  inside a degenerate eigenspace (where they have no derivative) it is finite and leaves out the
  rotation within that eigenspace (:math:`V^\top \bar A V` is 0 on the degenerate pairs).
  Second derivatives at a repeated eigenvalue are not right, even for functions of the
  eigenvalues (they need that block's coupling too).
* Multiple outputs (``eigh``, ``svd``, ``slogdet``) come from one primitive whose output stacks
  them along the second-to-last axis; the results are slices of it (one decomposition, one VJP).
"""
from __future__ import annotations

import math
import operator
from collections import namedtuple

from minigrad import backend as B
from minigrad import ops as _ops
from minigrad.ops import _lift, _method
from minigrad.primitive import apply, const, data_of, defprim, defvjp, module_of
from minigrad.primitive import unbroadcast as _unbroadcast
from minigrad.tensor import Tensor, is_grad_enabled

__all__ = ["inv", "solve", "det", "slogdet", "cholesky", "eigh", "svd", "norm"]

EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


# --------------------------------------------------------------------------- helpers
def _tensor(x, op: str) -> Tensor:
    """``x`` as a Tensor (numbers and arrays become constants); complex input is refused."""
    x = _lift(x, op)
    if not isinstance(x, Tensor):
        x = const(B.xp().asarray(x))
    if x.dtype.kind == "c":
        raise TypeError(f"{op}: complex matrices are not supported; got dtype {x.dtype}")
    return x


def _square(x, op: str) -> Tensor:
    """``x`` as a Tensor of shape (..., n, n), or a ValueError naming its shape."""
    x = _tensor(x, op)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{op}: expected a square matrix or a stack of them, shape (..., n, n); "
                         f"got shape {x.shape}")
    return x


def _T(xp, x):
    """The transpose of each matrix of a stack."""
    return xp.swapaxes(x, -1, -2)


def _lin(x):
    """The backend's ``linalg`` module for the array ``x``."""
    return B.get_array_module(x).linalg


def _eye(like, n: int):
    """The constant identity of size ``n`` in ``like``'s backend and dtype."""
    return module_of(like).eye(n, dtype=data_of(like).dtype)


def _tril(like, n: int, diagonal: float):
    """The constant lower-triangular mask of size ``n``: 1 below the diagonal, ``diagonal`` on
    it, 0 above."""
    m = module_of(like)
    dtype = data_of(like).dtype
    return m.tril(m.ones((n, n), dtype=dtype), -1) + diagonal * m.eye(n, dtype=dtype)


def _as_matrix_of_scalars(xp, s):
    """A stack of scalars (...) as a stack of 1 x 1 matrices (..., 1, 1)."""
    return xp.expand_dims(xp.expand_dims(s, -1), -1)


def _resolved_pairs(values, size: int):
    """The constant mask of the pairs (i, j) whose values (the last axis) differ by more than
    ``size * eps * ||values||_2``: the pairs that count as distinct."""
    m = module_of(values)
    v = data_of(values)
    eps = float(m.finfo(v.dtype).eps)
    tol = size * eps * m.sqrt(m.sum(v * v, axis=-1))[..., None, None]
    return m.abs(v[..., None, :] - v[..., :, None]) > tol


def _masked_reciprocal(xp, d, mask):
    """``1 / d`` where ``mask`` holds and 0 elsewhere (differentiable: the 0 entries are
    constants)."""
    return xp.where(mask, 1.0 / xp.where(mask, d, 1.0), 0.0)


# --------------------------------------------------------------------------- inverse and solve
_INV = defvjp(defprim("inv", lambda a: _lin(a).inv(a)),
              lambda xp, g, ans, a: -xp.matmul(xp.matmul(_T(xp, ans), g), _T(xp, ans)))


@_method("inverse")
def inv(a) -> Tensor:
    r"""The inverse of a square matrix (or of each of a stack). VJP (Giles 2008):
    :math:`\bar A = -A^{-\top} \bar G A^{-\top}`. A singular ``a`` raises ``LinAlgError``."""
    return apply(_INV, (_square(a, "inv"),), {})


def _solve_data(a, b, vector: bool, batch: tuple):
    # Broadcast the batch axes first, so that a and b have one number of axes and NumPy 1 and
    # 2 (and CuPy) read b alike; a vector b becomes one column.
    xp = B.get_array_module(a, b)
    n = a.shape[-1]
    a = xp.broadcast_to(a, batch + (n, n))
    if vector:
        return xp.linalg.solve(a, xp.broadcast_to(b[:, None], batch + (n, 1)))[..., 0]
    return xp.linalg.solve(a, xp.broadcast_to(b, batch + b.shape[-2:]))


def _solve_adjoint(xp, g, a, vector: bool):
    r""":math:`A^{-\top} g`: the gradient of ``b``, before the batch axes are summed."""
    if vector:
        return xp.linalg.solve(_T(xp, a), xp.expand_dims(g, -1))[..., 0]
    return xp.linalg.solve(_T(xp, a), g)


def _solve_vjp_a(xp, g, ans, a, b, vector, batch):
    gb = _solve_adjoint(xp, g, a, vector)
    if vector:
        ga = -(xp.expand_dims(gb, -1) * xp.expand_dims(ans, -2))
    else:
        ga = -xp.matmul(gb, _T(xp, ans))
    return _unbroadcast(xp, ga, a.shape)


def _solve_vjp_b(xp, g, ans, a, b, vector, batch):
    return _unbroadcast(xp, _solve_adjoint(xp, g, a, vector), b.shape)


_SOLVE = defvjp(defprim("solve", _solve_data), _solve_vjp_a, _solve_vjp_b)


def _batch_shape(op: str, a: tuple, b: tuple) -> tuple:
    """The broadcast of two batch shapes, or a ValueError naming both."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        m = a[-i] if i <= len(a) else 1
        n = b[-i] if i <= len(b) else 1
        if m != n and 1 not in (m, n):
            raise ValueError(f"{op}: batch shapes {a} and {b} do not broadcast")
        out.append(max(m, n) if 0 not in (m, n) else 0)
    return tuple(reversed(out))


def solve(a, b) -> Tensor:
    r"""The solution ``x`` of ``a @ x = b``, as ``numpy.linalg.solve`` (NumPy 2): ``a`` is
    (..., M, M); ``b`` is a vector (M,) or a stack of matrices (..., M, K); batch axes broadcast.

    VJP (Giles 2008): :math:`\bar b = A^{-\top} \bar x` (a solve with :math:`A^\top`),
    :math:`\bar A = -\bar b\, x^\top`, each summed over the batch axes its operand broadcast
    along.
    """
    a, b = _square(a, "solve"), _tensor(b, "solve")
    n = a.shape[-1]
    vector = b.ndim == 1
    if b.ndim == 0 or b.shape[0 if vector else -2] != n:
        raise ValueError(f"solve: b must have shape ({n},) or (..., {n}, K) to match a of shape "
                         f"{a.shape}; got shape {b.shape}")
    batch = _batch_shape("solve", a.shape[:-2], () if vector else b.shape[:-2])
    return apply(_SOLVE, (a, b), {"vector": vector, "batch": batch})


# --------------------------------------------------------------------------- determinants
_DET = defvjp(defprim("det", lambda a: _lin(a).det(a)),
              lambda xp, g, ans, a: _as_matrix_of_scalars(xp, g * ans)
              * _T(xp, xp.linalg.inv(a)))


@_method("det")
def det(a) -> Tensor:
    r"""The determinant of a square matrix (or of each of a stack). VJP (Giles 2008):
    :math:`\bar A = \bar g \det(A)\, A^{-\top}` (at a singular ``a`` the inverse does not exist
    and the VJP raises ``LinAlgError``)."""
    return apply(_DET, (_square(a, "det"),), {})


def _slogdet_data(a):
    xp = B.get_array_module(a)
    sign, logabsdet = xp.linalg.slogdet(a)
    return xp.stack([sign, logabsdet], axis=-1)


_SLOGDET = defvjp(defprim("slogdet", _slogdet_data),
                  lambda xp, g, ans, a: _as_matrix_of_scalars(xp, g[..., 1])
                  * _T(xp, xp.linalg.inv(a)))


@_method("slogdet")
def slogdet(a) -> SlogdetResult:
    r"""``(sign, logabsdet)`` of the determinant, as ``numpy.linalg.slogdet``; ``sign`` is a
    constant Tensor (its derivative is 0 wherever it is defined). VJP of ``logabsdet``
    (Giles 2008): :math:`\bar A = \bar g\, A^{-\top}` (``LinAlgError`` at a singular ``a``)."""
    out = apply(_SLOGDET, (_square(a, "slogdet"),), {})
    return SlogdetResult(const(out.data[..., 0]), out[..., 1])


# --------------------------------------------------------------------------- Cholesky
def _cholesky_vjp(xp, g, ans, a):
    # Murray (2016), eq. 10 before its final projection: with Phi the lower triangle with half
    # the diagonal, S = L^{-T} Phi(L^T tril(G)) L^{-1}; the gradient along symmetric
    # perturbations is (S + S^T) / 2.
    n = a.shape[-1]
    p = xp.matmul(_T(xp, ans), g * _tril(a, n, 1.0)) * _tril(a, n, 0.5)
    l_inv = xp.linalg.inv(ans)
    s = xp.matmul(xp.matmul(_T(xp, l_inv), p), l_inv)
    return 0.5 * (s + _T(xp, s))


_CHOLESKY = defvjp(defprim("cholesky", lambda a: _lin(a).cholesky(a)), _cholesky_vjp)


@_method("cholesky")
def cholesky(a, /, *, upper: bool = False) -> Tensor:
    r"""The Cholesky factor of a symmetric positive definite matrix (or of each of a stack):
    lower ``L`` with :math:`A = L L^\top`, or with ``upper=True`` the upper :math:`L^\top`.

    As NumPy, it reads the lower triangle of ``a`` (the upper one with ``upper=True``); a matrix
    that is not positive definite raises ``LinAlgError``. VJP (Murray 2016), symmetric:
    :math:`\bar A = \tfrac12 (S + S^\top)`, :math:`S = L^{-\top} \Phi(L^\top \bar L) L^{-1}`,
    with :math:`\bar L` taken on the lower triangle and :math:`\Phi` the lower triangle with
    half the diagonal.
    """
    a = _square(a, "cholesky")
    if upper:  # the factor of A^T read from its lower triangle, transposed: NumPy's upper=True
        return _ops.swapaxes(apply(_CHOLESKY, (_ops.swapaxes(a, -1, -2),), {}), -1, -2)
    return apply(_CHOLESKY, (a,), {})


# --------------------------------------------------------------------------- eigh
def _eigh_data(a, UPLO: str):
    xp = B.get_array_module(a)
    w, v = xp.linalg.eigh(a, UPLO=UPLO)
    return xp.concatenate([w[..., None, :], v], axis=-2)


def _eigh_vjp(xp, g, ans, a, UPLO):
    # Giles (2008): A_bar = V (diag(w_bar) + F o (V^T V_bar)) V^T with F_ij = 1 / (w_j - w_i)
    # off the diagonal (0 on it and on the degenerate pairs), then symmetrised
    n = a.shape[-1]
    w, v = ans[..., 0, :], ans[..., 1:, :]
    gw, gv = g[..., 0, :], g[..., 1:, :]
    f = _masked_reciprocal(xp, xp.expand_dims(w, -2) - xp.expand_dims(w, -1),
                           _resolved_pairs(w, n))
    inner = f * xp.matmul(_T(xp, v), gv) + xp.expand_dims(gw, -1) * _eye(a, n)
    ga = xp.matmul(xp.matmul(v, inner), _T(xp, v))
    return 0.5 * (ga + _T(xp, ga))


_EIGH = defvjp(defprim("eigh", _eigh_data), _eigh_vjp)


def eigh(a, UPLO: str = "L") -> EighResult:
    r"""``(w, v)``: the eigenvalues (ascending) and orthonormal eigenvectors (the columns of
    ``v``) of a symmetric matrix or a stack of them, as ``numpy.linalg.eigh``; both are
    differentiable. Only the triangle ``UPLO`` of ``a`` is read.

    VJP (Giles 2008), symmetric: :math:`\bar A = \mathrm{sym}\big(V (\mathrm{diag}(\bar w)
    + F \circ V^\top \bar V) V^\top\big)`, :math:`F_{ij} = 1/(w_j - w_i)` for distinct
    eigenvalues, 0 on the diagonal and for eigenvalues closer than :math:`n \varepsilon
    \lVert A\rVert_F` (see the module's conventions).
    """
    a = _square(a, "eigh")
    uplo = UPLO.upper() if isinstance(UPLO, str) else UPLO
    if uplo not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U'; got {UPLO!r}")
    out = apply(_EIGH, (a,), {"UPLO": uplo})
    return EighResult(out[..., 0, :], out[..., 1:, :])


# --------------------------------------------------------------------------- SVD
def _svd_data(a, full_matrices: bool):
    xp = B.get_array_module(a)
    u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    return xp.concatenate([u, s[..., None, :], xp.swapaxes(vh, -1, -2)], axis=-2)


def _svd_vjp(xp, g, ans, a, full_matrices):
    # Townsend (2016): with J = F o (U^T U_bar - U_bar^T U), K = F o (V^T V_bar - V_bar^T V),
    # F_ij = 1 / (s_j^2 - s_i^2) off the diagonal (0 on it and on the degenerate pairs),
    # A_bar = U (J S + diag(s_bar) + S K) V^T + (I - U U^T) U_bar S^-1 V^T
    #         + U S^-1 V_bar^T (I - V V^T)
    m, n = a.shape[-2:]
    u, s, v = ans[..., :m, :], ans[..., m, :], ans[..., m + 1:, :]
    gu, gs, gv = g[..., :m, :], g[..., m, :], g[..., m + 1:, :]
    k = s.shape[-1]
    s_j, s_i = xp.expand_dims(s, -2), xp.expand_dims(s, -1)
    f = _masked_reciprocal(xp, s_j * s_j - s_i * s_i, _resolved_pairs(s, max(m, n)))
    utgu = xp.matmul(_T(xp, u), gu)
    vtgv = xp.matmul(_T(xp, v), gv)
    core = (f * (utgu - _T(xp, utgu))) * s_j + xp.expand_dims(gs, -1) * _eye(a, k) \
        + s_i * (f * (vtgv - _T(xp, vtgv)))
    ga = xp.matmul(xp.matmul(u, core), _T(xp, v))
    if m > n:
        ga = ga + xp.matmul((gu - xp.matmul(u, utgu)) / s_j, _T(xp, v))
    elif m < n:
        ga = ga + xp.matmul(u / s_j, _T(xp, gv - xp.matmul(v, vtgv)))
    return ga


_SVD = defvjp(defprim("svd", _svd_data), _svd_vjp)


def _svdvals_vjp(xp, g, ans, a):
    u, _, vh = xp.linalg.svd(a, full_matrices=False)
    return xp.matmul(u * xp.expand_dims(g, -2), vh)


_SVDVALS = defvjp(defprim("svdvals", lambda a: _lin(a).svd(a, compute_uv=False)), _svdvals_vjp)


def svd(a, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False):
    r"""The singular value decomposition ``a = U @ diag(S) @ Vh`` of a matrix or a stack of them,
    as ``numpy.linalg.svd``: ``(U, S, Vh)``, or ``S`` alone with ``compute_uv=False``.

    VJP of ``S`` alone: :math:`\bar A = U \mathrm{diag}(\bar S) V^\top`. VJP of the whole
    decomposition (Townsend 2016): :math:`\bar A = U (J S + \mathrm{diag}(\bar S) + S K) V^\top
    + (I - UU^\top) \bar U S^{-1} V^\top + U S^{-1} \bar V^\top (I - VV^\top)` with
    :math:`J = F \circ (U^\top \bar U - \bar U^\top U)`, :math:`K = F \circ (V^\top \bar V -
    \bar V^\top V)`, :math:`F_{ij} = 1/(s_j^2 - s_i^2)` for distinct singular values and 0
    otherwise (see the module's conventions). The extra columns that ``full_matrices=True``
    gives a non-square matrix are not unique, so they have no gradient: that case is computed
    only for inputs that need none.
    """
    a = _tensor(a, "svd")
    if a.ndim < 2:
        raise ValueError(f"svd: expected a matrix or a stack of them, shape (..., m, n); got "
                         f"shape {a.shape}")
    if hermitian:
        raise NotImplementedError("svd: hermitian=True is not supported (use eigh)")
    if not compute_uv:
        return apply(_SVDVALS, (a,), {})
    m, n = a.shape[-2:]
    if full_matrices and m != n:
        if a.requires_grad and is_grad_enabled():
            raise ValueError(f"svd: full_matrices=True has no gradient for a non-square matrix "
                             f"(shape {a.shape}); use full_matrices=False")
        u, s, vh = _lin(a.data).svd(a.data, full_matrices=True)
        return SVDResult(const(u), const(s), const(vh))
    out = apply(_SVD, (a,), {"full_matrices": bool(full_matrices)})
    return SVDResult(out[..., :m, :], out[..., m, :], _ops.swapaxes(out[..., m + 1:, :], -1, -2))


# --------------------------------------------------------------------------- norm
def _vector_norm(x, ord, axis: int, keepdims: bool):  # noqa: A002
    if ord is None or ord == 2:
        return _ops.norm(x, 2, axis, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
    if ord == math.inf:
        return _ops.norm(x, math.inf, axis, keepdims)
    if ord == -math.inf:
        return _ops.min(_ops.abs(x), axis, keepdims)
    if ord == 1:
        return _ops.norm(x, 1, axis, keepdims)
    if ord == 0:  # the number of non-zero entries: piecewise constant
        nonzero = (x.data != 0).astype(x.dtype if x.dtype.kind == "f" else "float64")
        return const(nonzero.sum(axis=axis, keepdims=keepdims))
    return _ops.sum(_ops.abs(x) ** ord, axis, keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, row: int, col: int):  # noqa: A002
    if ord in (2, -2, "nuc"):
        rest = [i for i in range(x.ndim) if i not in (row, col)]
        s = svd(_ops.transpose(x, rest + [row, col]), compute_uv=False)
        if ord == "nuc":
            return _ops.sum(s, -1)
        return _ops.max(s, -1) if ord == 2 else _ops.min(s, -1)
    if ord in (None, "fro", "f"):
        return _ops.norm(x, 2, (row, col))
    if ord in (1, -1):
        reduce, summed, other = _ops.max if ord == 1 else _ops.min, row, col - (col > row)
    elif ord in (math.inf, -math.inf):
        reduce, summed, other = _ops.max if ord > 0 else _ops.min, col, row - (row > col)
    else:
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices")
    return reduce(_ops.sum(_ops.abs(x), summed), other)


def norm(x, ord=None, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A002
    r"""A vector or matrix norm, as ``numpy.linalg.norm`` (same ``ord``, ``axis``, ``keepdims``).

    ``axis=None`` with ``ord=None`` is the 2-norm of all entries; ``axis`` an int (or ``x``
    1-D) takes a vector norm, ``ord`` in {None, 2, 1, inf, -inf, 0, other p}; ``axis`` a pair
    (or ``x`` 2-D) a matrix norm, ``ord`` in {None, 'fro', 'nuc', 2, -2, 1, -1, inf, -inf}.

    Derivatives: the 1-, 2- and inf-norms are :func:`minigrad.norm` (whose conventions hold:
    the 2-norm's gradient at 0 is 0, ties in a max share the gradient); p-norms are
    :math:`(\sum |x|^p)^{1/p}`, with VJP :math:`\bar g\,|x|^{p-1}\mathrm{sign}(x)/\lVert x
    \rVert_p^{p-1}`; ord 0 is a count (derivative 0). Matrix: Frobenius :math:`\bar g A /
    \lVert A\rVert_F`; 'nuc' the sum of the singular values, VJP :math:`\bar g U V^\top`; 2 and
    -2 the largest and smallest singular value, VJP :math:`\bar g u_i v_i^\top` (tied singular
    values share it); 1, inf (and -1, -inf) the max (min) of the absolute column (row) sums.
    """
    x = _tensor(x, "norm")
    nd = x.ndim
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            return _ops.norm(x, 2, None, keepdims)
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        try:
            axis = (operator.index(axis),)
        except TypeError:
            raise TypeError(f"norm: axis must be None, an int or a tuple of ints; got "
                            f"{axis!r}") from None
    for a in axis:
        if not -nd <= a < nd:
            raise ValueError(f"norm: axis {a} is out of bounds for an array of dimension {nd}")
    axis = tuple(a % nd for a in axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0], keepdims)
    if len(axis) != 2:
        raise ValueError(f"norm: a vector norm needs one axis and a matrix norm two; got axis "
                         f"{axis} for shape {x.shape}")
    row, col = axis
    if row == col:
        raise ValueError(f"norm: duplicate axes {axis}")
    out = _matrix_norm(x, ord, row, col)
    if keepdims:
        out = _ops.reshape(out, tuple(1 if i in axis else n for i, n in enumerate(x.shape)))
    return out
