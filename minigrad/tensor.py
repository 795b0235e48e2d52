"""The :class:`Tensor`: one backend array, its gradient, and the node of the graph that made it.

A tensor made by a primitive while gradients are recorded remembers its node: the primitive,
its inputs and parameters, and which inputs to differentiate (``_node``: one tuple, the only
reference the graph keeps, so that a graph of n operations is 2n objects for Python's
cyclic collector to walk: the tensors and their records). The table of primitives and the mechanism live in
:mod:`minigrad.primitive`, the primitives themselves in :mod:`minigrad.ops`, the backward pass
in :mod:`minigrad.autograd`.
"""
from __future__ import annotations

import contextlib

from minigrad import backend as B

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", "FREED"]


class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    """True when new operations are recorded for differentiation."""
    return _GradMode.enabled


class _SetGradMode(contextlib.ContextDecorator):
    def __init__(self, mode: bool):
        self.mode = mode

    def __enter__(self):
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev
        return False


def no_grad():
    """Context manager (and decorator): operations inside are not recorded."""
    return _SetGradMode(False)


def enable_grad():
    """Context manager (and decorator): operations inside are recorded (undoes ``no_grad``)."""
    return _SetGradMode(True)


class _Freed:
    """Marks a node whose graph was freed by a backward pass without ``retain_graph``."""

    def __repr__(self):
        return "<freed>"


FREED = _Freed()


def leaf(data, requires_grad: bool = False, op: str = "leaf") -> "Tensor":
    """A Tensor holding ``data`` (not copied) that no operation made: a leaf, or with
    ``op="const"`` a constant."""
    t = Tensor.__new__(Tensor)
    t.data = data
    t._grad = None
    t.grad_tensor = None
    t.requires_grad = requires_grad
    t._node = None
    t._op = op
    return t


class Tensor:
    """An array on the NumPy or CuPy backend, with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data`` (a number, a nested list or
    an array) onto the current backend (see :func:`minigrad.set_backend`), like ``torch.tensor``.
    Python floats give float64, as in NumPy. Only floating-point tensors can require a gradient.

    Attributes: ``data`` (the backend array), ``grad`` (a plain backend array of the same shape and
    dtype, accumulated by :meth:`backward` on leaves, or None; assignable), ``requires_grad``,
    ``grad_tensor`` (after ``backward(create_graph=True)``: the gradient as a differentiable
    Tensor).
    """

    __slots__ = ("data", "_grad", "requires_grad", "_node", "_op", "grad_tensor", "__weakref__")
    # NumPy defers to our reflected operators (``ndarray * Tensor`` calls ``Tensor.__rmul__``).
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        xp = B.xp()
        if B.is_array(data) and B.backend_name_of(data) != B.get_backend():
            data = B.asarray(data)  # move across devices first
        self.data = xp.array(data, dtype=dtype, copy=True)
        if self.data.dtype.kind not in "fc" and requires_grad:
            raise TypeError(f"only floating-point tensors can require a gradient; "
                            f"got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        self._grad = None
        self.grad_tensor = None
        self._node = None
        self._op = "leaf"

    # ------------------------------------------------------------------ basic attributes
    @property
    def grad(self):
        """The accumulated gradient: a backend array of the parameter's shape and dtype, or None.

        Assignable, so an optimizer can be driven by hand-set gradients; an assigned array must
        have the tensor's shape and backend, and is cast to its dtype.
        """
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is None:
            self._grad = None
            return
        if isinstance(value, Tensor):
            value = value.data
        if not B.is_array(value):
            raise TypeError(f"grad must be a backend array or None; got {type(value).__name__}")
        if B.backend_name_of(value) != B.backend_name_of(self.data):
            raise B.BackendError(
                f"grad is a {B.backend_name_of(value)} array but the tensor lives on "
                f"{B.backend_name_of(self.data)}")
        if value.shape != self.data.shape:
            raise ValueError(f"grad of shape {value.shape} assigned to a tensor of shape "
                             f"{self.data.shape}")
        if value.dtype != self.data.dtype:
            value = value.astype(self.data.dtype)
        self._grad = value

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for a tensor not made by a recorded operation."""
        return self._node is None

    @property
    def backend(self) -> str:
        """"numpy", "strict" or "cupy": where ``data`` lives."""
        return B.backend_name_of(self.data)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __bool__(self) -> bool:
        """The truth value of a one-element tensor (``if x[0] < 0:``); more elements are
        ambiguous, as in NumPy."""
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.data.size} elements (shape "
                             f"{self.shape}) is ambiguous; use .any() or .all() on its data, or "
                             f"compare one element")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.data!r}{grad})"

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element; got shape {self.shape}")
        return self.data.item()

    def numpy(self):
        """The data as a NumPy array on the host (a copy for CuPy data)."""
        return B.to_numpy(self.data)

    def detach(self) -> "Tensor":
        """A new leaf sharing this tensor's data, cut from the graph."""
        return leaf(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place (leaves only); returns self."""
        if not self.is_leaf:
            raise RuntimeError("requires_grad_ can only be changed on a leaf tensor")
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(f"only floating-point tensors can require a gradient; "
                            f"got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, backend: str) -> "Tensor":
        """A copy of this tensor as a leaf on ``backend`` ("numpy", "strict" or "cupy")."""
        data = B.asarray(self.data, backend=backend)
        return leaf(data.copy() if data is self.data else data, self.requires_grad)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``grad`` to None)."""
        self._grad = None
        self.grad_tensor = None

    def backward(self, grad=None, retain_graph: bool | None = None, create_graph: bool = False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires a gradient.

        ``grad`` is the gradient of some scalar with respect to ``self`` (required unless ``self``
        has one element). The graph is freed afterwards unless ``retain_graph`` is true (it
        defaults to ``create_graph``); ``create_graph=True`` records the backward pass so that the
        gradients (``leaf.grad_tensor``) can be differentiated again.
        """
        from minigrad.autograd import backward

        backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)
