r"""Compound in-place operations named after the math they do, so that an update reads like its
formula: one formula line, one call.

Each writes its result into an existing array (the optimizer's state, the parameter, or an
``out`` buffer) and takes a ``scratch`` array of the same shape for its one intermediate, so an
update allocates nothing (memory: the state plus the optimizer's scratch buffers). The order of
the floating-point operations is fixed and documented in each function, so two optimizers that
share a formula give the same bits. They work on NumPy and CuPy arrays alike.

==========================  ================================================================
``ema_(a, x, beta)``        :math:`a \leftarrow \beta a + (1-\beta) x` (exponential moving average)
``scale_add_(a, b, x, c)``  :math:`a \leftarrow b\,a + c\,x` (heavy-ball momentum buffers)
``ema_square_(a, x, beta)`` :math:`a \leftarrow \beta a + (1-\beta) x^2`
``add_square_(a, x)``       :math:`a \leftarrow a + x^2` (Adagrad's accumulator)
``bias_corrected_root``     :math:`\sqrt{v / (1-\beta^k)} + \epsilon`
``root_plus_eps``           :math:`\sqrt{v + \epsilon}` or :math:`\sqrt{v} + \epsilon`
``add_(x, y, alpha)``       :math:`x \leftarrow x + \alpha y` (torch's ``add_(y, alpha=)``)
``addcdiv_(x, a, b, c)``    :math:`x \leftarrow x + c\,a / b` (torch's ``addcdiv_``)
``addcmul_(x, a, b, c)``    :math:`x \leftarrow x + c\,a b` (torch's ``addcmul_``)
``scale_shift(x, a, b)``    :math:`a x + b` (Sophia's :math:`\gamma h + \epsilon`)
``scale_floor(x, a, b)``    :math:`\max\{a x, b\}` (Sophia's :math:`\max\{\gamma h, \epsilon\}`)
``clip_ratio(a, b, l, u)``  :math:`\mathrm{clip}(a / b, l, u)` (Sophia's clipping, AdaBound's bounds)
``decoupled_decay_``        :math:`x \leftarrow (1 - \alpha\lambda) x` (AdamW, Lion, Sophia)
==========================  ================================================================

Subtracting is adding the negated coefficient: :math:`x - c\,t` and :math:`x + (-c)\,t` are the
same floating-point numbers (negation is exact), so ``addcdiv_(x, m, d, -alpha)`` is the step
:math:`x - \alpha\,m/d` to the last bit.
"""
from __future__ import annotations

import math

from minigrad import backend as B

__all__ = ["ema_", "scale_add_", "ema_square_", "add_square_", "bias_corrected_root", "root_plus_eps", "add_",
           "addcdiv_", "addcmul_", "scale_shift", "scale_floor", "clip_ratio", "decoupled_decay_"]


def ema_(avg, x, beta: float, scratch, out=None):
    r"""The exponential moving average :math:`\beta\,\mathrm{avg} + (1 - \beta)\,x`, into
    ``out`` (default: ``avg`` in place): ``scale_add_`` with :math:`c = 1 - \beta`."""
    return scale_add_(avg, beta, x, 1.0 - beta, scratch, out)


def scale_add_(a, b: float, x, c: float, scratch, out=None):
    r""":math:`b\,a + c\,x` into ``out`` (default: ``a`` in place), computed as ``a * b``, then
    ``+ x * c`` (the product in ``scratch``, which keeps it: callers may use it afterwards)."""
    xp = B.get_array_module(a)
    out = a if out is None else out
    xp.multiply(a, b, out=out)
    xp.multiply(x, c, out=scratch)
    out += scratch
    return out


def ema_square_(avg, x, beta: float, scratch):
    r""":math:`\mathrm{avg} \leftarrow \beta\,\mathrm{avg} + (1 - \beta)\,x^2` in place.

    Computed as ``beta * avg``, then ``+ (x * x) * (1 - beta)``."""
    xp = B.get_array_module(avg)
    avg *= beta                                  # beta avg
    xp.multiply(x, x, out=scratch)               # x^2
    scratch *= 1.0 - beta                        # (1 - beta) x^2
    avg += scratch
    return avg


def add_square_(acc, x, scratch):
    r""":math:`\mathrm{acc} \leftarrow \mathrm{acc} + x^2` in place."""
    B.get_array_module(acc).multiply(x, x, out=scratch)
    acc += scratch
    return acc


def bias_corrected_root(v, beta: float, k: int, eps: float, out):
    r""":math:`\sqrt{\hat v} + \epsilon` with :math:`\hat v = v / (1 - \beta^k)`, into ``out``.

    Computed as ``sqrt(v) * (1 / sqrt(1 - beta^k)) + eps`` (torch's and optax's order)."""
    B.get_array_module(out).sqrt(v, out=out)     # sqrt(v)
    out *= 1.0 / math.sqrt(1.0 - beta ** k)      # sqrt(v / (1 - beta^k))
    out += eps
    return out


def root_plus_eps(v, eps: float, out, inside: bool):
    r""":math:`\sqrt{v + \epsilon}` (``inside``) or :math:`\sqrt{v} + \epsilon`, into ``out``."""
    xp = B.get_array_module(out)
    if inside:
        xp.add(v, eps, out=out)
        return xp.sqrt(out, out=out)
    xp.sqrt(v, out=out)
    out += eps
    return out


def add_(x, y, alpha: float, scratch):
    r""":math:`x \leftarrow x + \alpha\,y` in place (the product in ``scratch``)."""
    B.get_array_module(x).multiply(y, alpha, out=scratch)
    x += scratch
    return x


def addcdiv_(x, a, b, value: float, scratch):
    r""":math:`x \leftarrow x + c\,\frac{a}{b}` in place, computed as ``(a / b) * c``."""
    B.get_array_module(x).divide(a, b, out=scratch)
    scratch *= value
    x += scratch
    return x


def addcmul_(x, a, b, value: float, scratch):
    r""":math:`x \leftarrow x + c\,a b` in place, computed as ``(a * b) * c`` (``a`` may be a
    number, ``scratch`` may be ``a`` or ``b``)."""
    B.get_array_module(x).multiply(a, b, out=scratch)
    scratch *= value
    x += scratch
    return x


def scale_shift(x, a: float, b: float, out):
    r""":math:`a x + b` into ``out``, computed as ``x * a``, then ``+ b``."""
    B.get_array_module(out).multiply(x, a, out=out)
    out += b
    return out


def scale_floor(x, a: float, floor: float, out):
    r""":math:`\max\{a x, \mathrm{floor}\}` elementwise into ``out`` (NaN stays NaN)."""
    xp = B.get_array_module(out)
    xp.multiply(x, a, out=out)
    return xp.maximum(out, floor, out=out)


def clip_ratio(a, b, lo: float, hi: float, out):
    r""":math:`\mathrm{clip}(a / b, \mathrm{lo}, \mathrm{hi})` elementwise into ``out`` (``a`` may
    be a number, ``b`` may be ``out``; NaN stays NaN)."""
    xp = B.get_array_module(out)
    xp.divide(a, b, out=out)
    return xp.clip(out, lo, hi, out=out)


def decoupled_decay_(x, lr: float, weight_decay: float):
    r"""Decoupled weight decay (Loshchilov & Hutter 2019):
    :math:`x \leftarrow x - \alpha\lambda x = (1 - \alpha\lambda)\,x` in place; nothing when
    :math:`\lambda = 0`."""
    if weight_decay != 0.0:
        x *= 1.0 - lr * weight_decay
    return x
