r"""The primitive table: how an operation of minigrad is defined, applied and recorded.

A primitive is one entry of :data:`PRIMITIVES`: a forward on backend arrays and, for each input
that can be differentiated, a vector-Jacobian product (VJP). Every VJP has one signature::

    vjp(xp, g, ans, *args, **params) -> the gradient for its input

``g`` is the gradient of the output, ``ans`` the output, ``args`` the inputs and ``params`` the
keyword parameters the forward took (axes, shapes, indices). ``xp`` is the namespace the VJP
computes in: the backend's array functions (NumPy or CuPy) in a plain backward pass, where
``g``, ``ans`` and ``args`` are arrays (the fast path), or minigrad's own operations when the
backward pass is recorded (``create_graph=True``), where they are Tensors, so that the gradient
is itself a graph that can be differentiated again (Hessian-vector products, Hessians). A VJP
uses only operators and functions that both namespaces spell alike: NumPy's names and
signatures. The model is HIPS autograd's ``primitive`` / ``defvjp``::

    exp = defprim("exp", lambda x: get_array_module(x).exp(x))
    defvjp(exp, lambda xp, g, ans, x: g * ans)

A primitive whose inputs broadcast (``broadcasting=True``) gets each gradient summed back to its
input's shape by :func:`unbroadcast`, the one place where broadcasting is undone. A primitive
with any number of inputs (``concatenate``) has one VJP that is also told which input it is for
(:func:`defvjp_argnum`).
"""
from __future__ import annotations

from minigrad import backend as B
from minigrad.tensor import Tensor, _GradMode, leaf

__all__ = ["Primitive", "PRIMITIVES", "defprim", "defvjp", "defvjp_argnum", "apply", "const",
           "unbroadcast", "array_namespace"]


class Primitive:
    """One entry of the table: ``name``, ``forward(*arrays, **params)`` and the VJPs."""

    __slots__ = ("name", "forward", "vjps", "broadcasting", "vjp_argnum")

    def __init__(self, name: str, forward, broadcasting: bool = False):
        self.name = name
        self.forward = forward
        self.vjps = ()
        self.broadcasting = broadcasting
        self.vjp_argnum = None

    def __repr__(self):
        return f"<primitive {self.name}>"


#: name -> Primitive: every operation the engine differentiates
PRIMITIVES: dict[str, Primitive] = {}


def defprim(name: str, forward, broadcasting: bool = False) -> Primitive:
    """Register the primitive ``name`` with its forward on backend arrays."""
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} is already defined")
    prim = PRIMITIVES[name] = Primitive(name, forward, broadcasting)
    return prim


def defvjp(prim: Primitive, *vjps) -> Primitive:
    """Give ``prim`` one VJP per input, in order (None for an input that is not differentiated)."""
    prim.vjps = vjps
    return prim


def defvjp_argnum(prim: Primitive, vjp) -> Primitive:
    """Give ``prim`` one VJP for all its inputs: ``vjp(xp, g, ans, *args, argnum=i, **params)``."""
    prim.vjp_argnum = vjp
    return prim


def const(data) -> Tensor:
    """A Tensor holding ``data`` that no gradient flows through."""
    return leaf(data, False, "const")


def apply(prim: Primitive, args: tuple, params: dict) -> Tensor:
    """``prim`` applied to ``args`` (Tensors, backend arrays or numbers) with ``params``.

    The forward runs on the arrays; when gradients are recorded and an input requires one, the
    result remembers the primitive, its inputs and parameters, and which inputs to differentiate.
    """
    datas = []
    argnums = []
    for i, a in enumerate(args):
        if type(a) is Tensor:
            datas.append(a.data)
            if a.requires_grad:
                argnums.append(i)
        else:
            datas.append(a)
    data = prim.forward(*datas, **params)
    if argnums and _GradMode.enabled:
        t = Tensor.__new__(Tensor)
        t.data = data
        t._grad = None
        t.grad_tensor = None
        t.requires_grad = True
        t._node = (prim, params, tuple(argnums), *args)  # one tuple: see minigrad.tensor
        t._op = prim.name
        return t
    return const(data)


def unbroadcast(xp, g, shape: tuple):
    """Undo broadcasting: sum ``g`` down to ``shape`` (leading axes, then size-1 axes)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = xp.sum(g, axis=axes, keepdims=True)
    return xp.reshape(g, shape)


class _ArrayNamespace:
    """The functions VJPs call, on plain backend arrays: the backend module's own functions,
    plus the engine's array-level helpers (``extra``) for what the backend lacks (``sigmoid``,
    ``scatter``)."""

    def __init__(self, module, extra: dict):
        self._module = module
        self.__dict__.update(extra)

    def __getattr__(self, name):  # first use of a backend function: look it up once
        value = getattr(self._module, name)
        setattr(self, name, value)
        return value


_NAMESPACES: dict = {}
#: the array-level functions that the backends lack, filled in by minigrad.ops
ARRAY_EXTRAS: dict = {}


def array_namespace(module) -> _ArrayNamespace:
    """The namespace of plain-array VJPs for the backend ``module`` (numpy or cupy)."""
    ns = _NAMESPACES.get(module)
    if ns is None:
        ns = _NAMESPACES[module] = _ArrayNamespace(module, ARRAY_EXTRAS)
    return ns


def data_of(x):
    """The array behind ``x`` (a Tensor's data; an array or a number as it is)."""
    return x.data if isinstance(x, Tensor) else x


def module_of(x):
    """The backend module (numpy or cupy) of ``x``'s data."""
    return B.get_array_module(x.data if isinstance(x, Tensor) else x)
