r"""Gradient clipping with the semantics of ``torch.nn.utils``, on the parameters' ``.grad``.

* :func:`clip_grad_norm_` computes the total norm of all gradients as if they were concatenated
  into one vector, :math:`\|g\|_p = \bigl(\sum_i \|g_i\|_p^p\bigr)^{1/p}` (the max of the
  entries' magnitudes for :math:`p=\infty`), and multiplies every gradient in place by
  :math:`\min\bigl(1, \text{max\_norm} / (\|g\|_p + 10^{-6})\bigr)`; it returns the total norm
  (before clipping) as a 0-d Tensor.
* :func:`clip_grad_value_` clamps every gradient entry into :math:`[-c, c]` in place.

Parameters whose ``.grad`` is None are skipped. Both work on the gradients' own backend and
dtype and need no transfer to the host (unless ``error_if_nonfinite=True``).
"""
from __future__ import annotations

import math
import numbers

from minigrad import backend as B
from minigrad.tensor import Tensor, leaf

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

_EPS = 1e-6  # torch's: clip_coef = max_norm / (total_norm + 1e-6)


def _grads(parameters, owner: str) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    try:
        params = list(parameters)
    except TypeError:
        raise TypeError(f"{owner}: parameters must be a Tensor or an iterable of Tensors; got "
                        f"{type(parameters).__name__}") from None
    for k, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{owner}: parameters[{k}] is a {type(p).__name__}, not a Tensor")
    grads = [p.grad for p in params if p.grad is not None]
    B.get_array_module(*grads)  # refuses NumPy and CuPy gradients mixed
    return [(p, p.grad) for p in params if p.grad is not None]


def _real(value, owner: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number; got {value!r}")
    return float(value)


def _norm_type(norm_type) -> float:
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        return math.inf
    p = _real(norm_type, "clip_grad_norm_", "norm_type")
    if not p > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 or inf; got {norm_type!r}")
    return p


def _vector_norm(xp, g, p: float):
    """:math:`\\|g\\|_p` of the flattened array (0 for an empty one), in ``g``'s dtype."""
    if g.size == 0:
        return xp.zeros((), dtype=g.dtype)
    a = xp.abs(g)
    if p == math.inf:
        return xp.max(a)
    if p == 1.0:
        return xp.sum(a)
    if p == 2.0:
        return xp.sqrt(xp.sum(a * a))
    return xp.sum(a ** p) ** (1.0 / p)


def _scale(p: Tensor, g, factor) -> None:
    flags = getattr(g, "flags", None)
    if flags is not None and not getattr(flags, "writeable", True):
        p.grad = g * factor  # a read-only array someone assigned: replaced, not written
    else:
        g *= factor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite: bool = False):
    r"""Scale the gradients so that their total ``norm_type``-norm is at most ``max_norm``, as
    ``torch.nn.utils.clip_grad_norm_``.

    The total norm is the norm of the vector of per-parameter norms (= the norm of all gradients
    concatenated). Every gradient is multiplied in place by
    :math:`\min(1, \text{max\_norm}/(\text{total} + 10^{-6}))`: by exactly 1 (unchanged) when the
    total is well below ``max_norm``, and to a total of ``max_norm`` (up to the
    :math:`10^{-6}`) above it. A non-finite total raises ``RuntimeError`` with
    ``error_if_nonfinite=True``; otherwise, as in torch, the gradients are multiplied by the
    resulting factor (NaN for a NaN total, 0 for an infinite one).

    ``parameters``: a Tensor or an iterable of Tensors; those with ``grad`` None are skipped.
    ``max_norm`` >= 0; ``norm_type`` > 0 or ``inf`` (``float('inf')`` or ``"inf"``).
    Returns the total norm before clipping as a 0-d Tensor on the gradients' backend (0.0 when
    no parameter has a gradient).
    """
    max_norm = _real(max_norm, "clip_grad_norm_", "max_norm")
    if not max_norm >= 0.0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0 (and not NaN); got {max_norm}")
    p = _norm_type(norm_type)
    pairs = _grads(parameters, "clip_grad_norm_")
    if not pairs:
        return leaf(B.xp().zeros(()))
    xp = B.get_array_module(*(g for _, g in pairs))
    norms = xp.stack([_vector_norm(xp, g, p) for _, g in pairs])
    total = xp.asarray(_vector_norm(xp, norms, p))
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{float(total)}, so it cannot be clipped; pass error_if_nonfinite=False to scale "
            f"the gradients by the non-finite norm anyway")
    factor = xp.asarray(xp.minimum(max_norm / (total + _EPS), 1.0))  # NaN stays NaN (clamp)
    with B.host_xp().errstate(invalid="ignore"):  # inf * 0 = NaN is torch's result too
        for param, g in pairs:
            _scale(param, g, factor.astype(g.dtype))
    return leaf(total)


def clip_grad_value_(parameters, clip_value) -> None:
    r"""Clamp every gradient entry into :math:`[-c, c]` in place, ``c`` = ``clip_value`` >= 0
    (``inf``: no change),
    as ``torch.nn.utils.clip_grad_value_`` (NaN entries stay NaN). Parameters with ``grad``
    None are skipped."""
    c = _real(clip_value, "clip_grad_value_", "clip_value")
    if not c >= 0.0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0 (and not NaN); got "
                         f"{clip_value}")
    for param, g in _grads(parameters, "clip_grad_value_"):
        xp = B.get_array_module(g)
        flags = getattr(g, "flags", None)
        if flags is not None and not getattr(flags, "writeable", True):
            param.grad = xp.clip(g, -c, c)
        else:
            xp.clip(g, -c, c, out=g)
