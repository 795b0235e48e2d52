r"""Fused primitives for the layers of :mod:`minigrad.nn`: the affine map of a linear layer and
softmax cross-entropy, each one entry of the primitive table instead of a chain of three or four.

They compute the same numbers as the compositions they replace (``matmul(x, W.T) + b``;
``logsumexp(z, axis=1) - z[rows, labels]``), with fewer graph nodes and, for cross-entropy, no
scatter of the picked logits' gradient: the VJP is the closed form
:math:`g\,(\mathrm{softmax}(z) - \mathrm{onehot}(y))`, as torch's fused ``cross_entropy`` and a
hand-written backward use. Their VJPs are written with ``xp`` operations, so they differentiate
again like every other primitive.

==========================================  ====================================================
``linear(x, W, b)`` :math:`= xW^\top + b`   :math:`\bar x = gW`, :math:`\bar W = g^\top x`,
                                            :math:`\bar b = \sum_{\text{rows}} g`
``cross_entropy_rows(z, labels)``           :math:`\bar z = g\,\mathrm{softmax}(z) - g\,
                                            \mathrm{onehot}(y)` (per row)
==========================================  ====================================================
"""
from __future__ import annotations

from minigrad import backend as B
from minigrad.ops import _lift, _logsumexp_data
from minigrad.primitive import ARRAY_EXTRAS, apply, data_of, defprim, defvjp, module_of
from minigrad.tensor import Tensor

__all__ = ["linear", "cross_entropy_rows"]


# --------------------------------------------------------------------------- linear
def _linear_forward(x, W, b):
    y = x @ W.T
    return y if b is None else y + b


def _rows(xp, a, n: int):
    """``a`` as a matrix of ``n`` columns (batch axes flattened into rows)."""
    return a if a.ndim == 2 else xp.reshape(a, (-1, n))


def _linear_vjp_x(xp, g, ans, x, W, b):
    return xp.matmul(g, W)                                     # g W


def _linear_vjp_W(xp, g, ans, x, W, b):
    if x.ndim == 1:
        return xp.outer(g, x)                                  # g x^T
    g2, x2 = _rows(xp, g, W.shape[0]), _rows(xp, x, W.shape[1])
    return xp.matmul(xp.swapaxes(g2, -1, -2), x2)              # g^T x, laid out like W


def _linear_vjp_b(xp, g, ans, x, W, b):
    return g if g.ndim == 1 else xp.sum(_rows(xp, g, W.shape[0]), axis=0)  # sum over rows


_LINEAR = defvjp(defprim("linear", _linear_forward), _linear_vjp_x, _linear_vjp_W, _linear_vjp_b)


def linear(x, W: Tensor, b: Tensor | None = None) -> Tensor:
    r"""The affine map :math:`xW^\top + b` of ``x`` (``(..., n_in)``) with ``W`` of shape
    ``(n_out, n_in)`` and ``b`` of shape ``(n_out,)`` or None, as ``torch.nn.functional.linear``.
    VJPs: :math:`gW`, :math:`g^\top x`, the sum of :math:`g` over the rows."""
    x = _lift(x, "linear")
    if not isinstance(x, Tensor):
        x = Tensor._const(B.xp().asarray(x))
    if W.ndim != 2 or x.ndim < 1 or x.shape[-1] != W.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit a weight of shape "
                         f"{W.shape} (expected (..., {W.shape[1] if W.ndim == 2 else '?'}))")
    if b is not None and b.shape != (W.shape[0],):
        raise ValueError(f"linear: bias of shape {b.shape} for a weight of shape {W.shape}")
    return apply(_LINEAR, (x, W, b), {})


# --------------------------------------------------------------------------- cross-entropy
def _cross_entropy_forward(z, labels):
    rows = module_of(z).arange(z.shape[0])
    return _logsumexp_data(z, (1,), False) - z[rows, labels]


def _cross_entropy_vjp(xp, g, ans, z, labels):
    zd = data_of(z)
    ad = module_of(zd)
    onehot = ad.zeros(zd.shape, dtype=zd.dtype)
    onehot[ad.arange(zd.shape[0]), labels] = 1
    g2 = xp.expand_dims(g, 1)
    return xp.exp(z - xp.logsumexp(z, axis=1, keepdims=True)) * g2 - onehot * g2


_CROSS_ENTROPY = defvjp(defprim("cross_entropy_rows", _cross_entropy_forward), _cross_entropy_vjp)
ARRAY_EXTRAS["logsumexp"] = lambda x, axis=None, keepdims=False: _logsumexp_data(
    x, tuple(range(x.ndim)) if axis is None else
    tuple(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)), keepdims)


def cross_entropy_rows(z: Tensor, labels) -> Tensor:
    r"""Per-row softmax cross-entropy :math:`\log\sum_j e^{z_{ij}} - z_{i y_i}` of logits ``z``
    (``(batch, classes)``) and integer ``labels`` (a backend array of shape ``(batch,)``, already
    checked by the caller). VJP: :math:`g\,\mathrm{softmax}(z) - g\,\mathrm{onehot}(y)`."""
    return apply(_CROSS_ENTROPY, (z,), {"labels": labels})
