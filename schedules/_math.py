"""One namespace for the formulas, whatever the step is: a Python number or an array.

Each schedule writes its formula once, against a small namespace ``m`` (``m.cos``, ``m.where``,
``m.minimum``, ...). For a Python ``int``/``float`` (or a NumPy scalar) the namespace is built on
:mod:`math` and the schedule returns a Python ``float``; for an array it is the array's own
namespace, found with ``t.__array_namespace__()`` (NumPy 2, CuPy >= 14) or, for CuPy 13 which
lacks that method, the already-imported top-level module of the array's type. Nothing here
imports NumPy: a CuPy array of steps gives a CuPy array of learning rates, on the device.

Lists and tuples are refused with a ``TypeError``: pass ``np.asarray(steps)`` instead (a list
has no namespace, and guessing one would mean importing NumPy here).
"""
from __future__ import annotations

import math
import numbers
import sys

__all__ = ["as_steps", "finish", "lerp", "ScalarOps", "ArrayOps"]


def lerp(a, b, w, m):
    """``a + (b - a) w`` for ``w`` in [0, 1], written so that it is exact at both ends and
    constant when ``a == b`` (``a + (b - a) w`` alone can miss ``b`` by a rounding error);
    ``m`` is the formula namespace, so it works for numbers and arrays alike."""
    d = b - a
    return m.where(w < 0.5, a + d * w, b - d * (1.0 - w))


_MASK64 = (1 << 64) - 1
# SplitMix64 constants (Steele, Lea & Flood 2014), used for the seeded, counter-based noise.
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB


def _splitmix64_int(x: int) -> int:
    """SplitMix64 finaliser on a Python int, arithmetic mod 2**64."""
    x = (x + _GOLDEN) & _MASK64
    x = ((x ^ (x >> 30)) * _MIX1) & _MASK64
    x = ((x ^ (x >> 27)) * _MIX2) & _MASK64
    return x ^ (x >> 31)


class ScalarOps:
    """The formula namespace for a Python float step (built on :mod:`math`)."""

    is_array = False
    pi = math.pi
    cos = staticmethod(math.cos)
    sin = staticmethod(math.sin)
    exp = staticmethod(math.exp)
    log = staticmethod(math.log)
    sqrt = staticmethod(math.sqrt)

    @staticmethod
    def floor(x):
        return float(math.floor(x))

    @staticmethod
    def minimum(a, b):
        return a if a <= b else b

    @staticmethod
    def maximum(a, b):
        return a if a >= b else b

    @staticmethod
    def clip(x, lo, hi):
        return lo if x < lo else (hi if x > hi else x)

    @staticmethod
    def where(cond, a, b):
        return a if cond else b

    @staticmethod
    def uniform_hash(k, seed: int, stream: int):
        """A uniform number in [0, 1) that depends only on (seed, floor(k), stream)."""
        key = _splitmix64_int(seed & _MASK64)
        z = _splitmix64_int((key + 2 * int(math.floor(k)) + stream) & _MASK64)
        return (z >> 11) * 2.0**-53


class ArrayOps:
    """The formula namespace for an array of steps: delegates to the array's namespace ``xp``."""

    is_array = True
    pi = math.pi

    def __init__(self, xp):
        self.xp = xp
        self.cos = xp.cos
        self.sin = xp.sin
        self.exp = xp.exp
        self.log = xp.log
        self.sqrt = xp.sqrt
        self.floor = xp.floor
        self.minimum = xp.minimum
        self.maximum = xp.maximum
        self.clip = xp.clip
        self.where = xp.where

    def _u64(self, value):
        return self.xp.asarray(value, dtype=self.xp.uint64)

    def _splitmix64(self, x):
        x = x + self._u64(_GOLDEN)
        x = (x ^ (x >> self._u64(30))) * self._u64(_MIX1)
        x = (x ^ (x >> self._u64(27))) * self._u64(_MIX2)
        return x ^ (x >> self._u64(31))

    def uniform_hash(self, k, seed: int, stream: int):
        """Same numbers as :meth:`ScalarOps.uniform_hash`, element-wise, bit for bit."""
        shape = k.shape
        # 1-d arrays wrap silently mod 2**64 (0-d would give NumPy scalars, which warn).
        kk = self.xp.floor(k).reshape(-1).astype(self.xp.uint64)
        key = self._u64(_splitmix64_int(seed & _MASK64))
        x = key + self._u64(2) * kk + self._u64(stream)
        z = self._splitmix64(x)
        return ((z >> self._u64(11)).astype(self.xp.float64) * 2.0**-53).reshape(shape)


_SCALAR = ScalarOps()


def _namespace_of(t):
    get = getattr(t, "__array_namespace__", None)
    if get is not None:
        return get()
    # CuPy 13 arrays have no __array_namespace__; their module is imported already.
    top = type(t).__module__.partition(".")[0]
    mod = sys.modules.get(top)
    if mod is not None and hasattr(t, "shape") and all(
        hasattr(mod, f) for f in ("asarray", "cos", "where", "floor", "minimum")
    ):
        return mod
    return None


def as_steps(t):
    """Check a step (number or array) and return ``(t as float or float64 array, namespace)``.

    Raises ``TypeError`` for anything that is neither a real number nor an array, and
    ``ValueError`` for a negative or non-finite step.
    """
    if isinstance(t, bool):
        raise TypeError("the step t must be a number or an array, got a bool")
    if isinstance(t, numbers.Real):
        t = float(t)
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"the step t must be finite and >= 0, got {t!r}")
        return t, _SCALAR
    xp = _namespace_of(t) if not isinstance(t, (list, tuple)) else None
    if xp is None:
        raise TypeError(
            "the step t must be an int, a float or an array (NumPy/CuPy) of steps, got "
            f"{type(t).__name__}; for a list use np.asarray(steps)"
        )
    t = xp.asarray(t, dtype=xp.float64)
    if t.size and bool(xp.any(~(t >= 0)) | xp.any(xp.isinf(t))):
        raise ValueError("the steps t must be finite and >= 0 (got a negative, inf or nan step)")
    return t, ArrayOps(xp)


def finish(value, t, m):
    """Return a Python float for a scalar step, an array of ``t``'s shape for an array."""
    if not m.is_array:
        return float(value)
    xp = m.xp
    if getattr(value, "shape", None) != t.shape:
        value = xp.zeros_like(t) + value
    return xp.asarray(value, dtype=xp.float64)  # NumPy gives scalars for 0-d inputs: re-wrap
