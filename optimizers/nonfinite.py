r"""What a step does with a non-finite gradient or loss: one policy for every optimizer.

Every optimizer takes ``nonfinite=`` with one of three policies (``docs/nonfinite.md``):

* ``"propagate"``: no check, so no device-to-host transfer. The non-finite value reaches the
  parameters on the step where it arrives: every parameter entry whose gradient entry is inf or
  NaN is inf or NaN after the step. Plain gradient descent does this by itself; the methods
  whose arithmetic would hide the value (sign steps, clipped steps: :math:`\mathrm{sign}(\infty)
  = 1`, :math:`\mathrm{clip}(\infty) = 1`, :math:`m / \infty = 0`) mark those entries NaN with
  :func:`mark`. The state may hold the value too, but never while the parameters look fine.
  Default of the first-order and geometry methods.
* ``"raise"``: before anything changes, the step checks what it is about to use (the gradients;
  the loss too, for methods that read it) and raises :class:`NonFiniteError`, naming the
  parameter, when a value is inf or NaN. Parameters, state and counters are exactly as before,
  and the next step with finite values works. Default of the methods that factorise, invert or
  rank (Shampoo, Newton, BFGS, L-BFGS, the zero-order methods), which cannot propagate: an
  eigendecomposition or a sort of NaN fails or answers nonsense.
* ``"skip"``: the same check; a step that meets a non-finite value is not taken and
  ``opt.skipped_steps`` grows by one; nothing else changes (the step count, and with it the
  schedule, does not advance). This is what ``torch.amp.GradScaler`` does with a step whose
  gradients overflowed.
"""
from __future__ import annotations

from minigrad import backend as B

__all__ = ["POLICIES", "NonFiniteError", "policy", "first_nonfinite", "mark", "describe"]

#: the three policies
POLICIES = ("propagate", "raise", "skip")


class NonFiniteError(ValueError, FloatingPointError):
    """A step met an inf or NaN gradient or loss under ``nonfinite="raise"``; nothing changed.
    A ``ValueError`` (bad input) and a ``FloatingPointError`` (what ``numpy.errstate`` raises)."""


def policy(owner: str, value, allowed: tuple) -> str:
    """``value`` checked against the policies ``owner`` offers (None: its default, the first)."""
    if value is None:
        return allowed[0]
    if value not in POLICIES:
        raise ValueError(f"{owner}: invalid nonfinite={value!r}; expected one of {POLICIES}")
    if value not in allowed:
        raise ValueError(f"{owner}: nonfinite={value!r} is not available: {owner} factorises, "
                         f"inverts or ranks what it is given, so a non-finite value cannot be "
                         f"carried to the parameters; use one of {allowed}")
    return value


def first_nonfinite(arrays) -> int | None:
    """The index of the first array (NumPy or CuPy) that holds an inf or NaN, or None; one
    device-to-host transfer per backend present (not one per array)."""
    flags = [None] * len(arrays)
    by_backend: dict = {}
    for i, a in enumerate(arrays):
        by_backend.setdefault(B.backend_name_of(a), []).append(i)
    for idx in by_backend.values():
        xp = B.get_array_module(arrays[idx[0]])
        host = B.to_numpy(xp.stack([xp.isfinite(arrays[i]).all() for i in idx]))
        for i, ok in zip(idx, host.tolist()):
            flags[i] = ok
    for i, ok in enumerate(flags):
        if not ok:
            return i
    return None


def describe(a) -> str:
    """How many entries of ``a`` are inf and how many NaN, in words."""
    xp = B.get_array_module(a)
    n_inf, n_nan = int(xp.isinf(a).sum()), int(xp.isnan(a).sum())
    return f"{n_inf} inf and {n_nan} NaN entries of {a.size}"


def mark(out, *sources, scratch) -> None:
    r"""``out`` becomes NaN wherever an entry of a source is inf or NaN, and is unchanged
    elsewhere: :math:`\text{out} \mathrel{+}= s - s` (:math:`0` for a finite :math:`s`,
    NaN for :math:`\pm\infty` and NaN). ``scratch``: an array of ``out``'s shape (garbage on
    entry). No allocation, no transfer."""
    xp = B.get_array_module(out)
    for s in sources:
        xp.subtract(s, s, out=scratch)  # 0 where s is finite, NaN where it is not
        out += scratch
