r"""The backward pass: ``Tensor.backward`` and :func:`vjp_of` (the functional transforms built
on it are in :mod:`minigrad.functional`).

Reverse mode in three steps:

1. an iterative topological sort of the graph below the output (depth-first with an explicit
   stack, so a chain of 100,000 operations is fine where a recursive sort dies at ~1000);
2. the nodes in reverse order: each node's gradient is complete when it is reached, and each of its
   VJPs adds a contribution to a parent's gradient;
3. leaves accumulate into ``.grad`` (``Tensor.backward``) or the gradients with respect to the
   requested inputs are returned (:func:`vjp_of`, which :mod:`minigrad.functional` uses).

By default the VJPs run without recording (a fast path). With ``create_graph=True`` they are
recorded, so the gradient is itself a differentiable function of the inputs: that gives
Hessian-vector products :math:`\nabla^2 f(x)\,v = \nabla_x \langle \nabla f(x), v\rangle`
(reverse over reverse) and Hessians with no second engine.
"""
from __future__ import annotations

from minigrad import backend as B
from minigrad import ops
from minigrad.primitive import array_namespace, unbroadcast
from minigrad.tensor import FREED, Tensor, _SetGradMode

__all__ = ["backward", "vjp_of"]

_passes = 0  # reverse passes run in this process (see reverse_passes)


def reverse_passes() -> int:
    """The number of reverse passes (``Tensor.backward`` and every transform built on
    :func:`vjp_of`) run in this process so far: a measure of work done, for progress displays."""
    return _passes


def _toposort(root: Tensor) -> list:
    """Nodes that require a gradient below ``root``, parents before children (iterative DFS).

    A node stays on the stack while its parents are explored above it and is emitted when it is
    met again; the stack holds the tensors themselves (no (node, state) pairs), so a long chain
    adds nothing for Python's cyclic collector to walk. Tensors hash by identity, so they serve
    as their own keys in ``visited``."""
    order, visited, emitted = [], set(), set()
    stack = [root]
    push, visit, emit = stack.append, visited.add, emitted.add
    while stack:
        node = stack[-1]
        if node in visited:
            stack.pop()
            if node not in emitted:  # its parents are all emitted: it comes next
                emit(node)
                order.append(node)
            continue
        visit(node)
        record = node._node  # (primitive, params, argnums, *inputs), or None for a leaf
        if record is FREED:
            raise RuntimeError(
                f"trying to backward through a graph a second time (the result of "
                f"'{node._op}' was freed by an earlier backward); pass retain_graph=True to the "
                f"first backward if you need to backward through the graph again")
        if record is not None:
            for i in record[2]:  # the parents: the inputs that are differentiated
                if record[3 + i] not in visited:
                    push(record[3 + i])
    return order


def _seed(root: Tensor, grad) -> Tensor:
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(f"backward: grad can be created implicitly only for a scalar "
                               f"output; got shape {root.shape}: pass grad=")
        return Tensor._const(B.get_array_module(root.data).ones_like(root.data))
    g = grad if isinstance(grad, Tensor) else Tensor._const(
        B.asarray(grad, dtype=root.dtype, backend=root.backend))
    if g.shape != root.shape:
        raise ValueError(f"backward: grad has shape {g.shape} but the output has shape "
                         f"{root.shape}")
    return g


def _run(root: Tensor, seed: Tensor, targets, retain_graph: bool, create_graph: bool):
    """Propagate ``seed`` from ``root``; accumulate into leaves, or return the targets' grads.

    Without ``create_graph`` the gradients are plain backend arrays and each VJP computes in the
    backend's namespace (nothing is recorded, no Tensor is made: the fast path); with it they are
    Tensors and the VJPs compute with minigrad's operations, recorded.
    """
    global _passes
    if not root.requires_grad:
        raise RuntimeError("backward: the output does not require a gradient (no input that "
                           "requires one was used, or it was computed under no_grad())")
    _passes += 1
    order = _toposort(root)
    want = None if targets is None else {id(t): i for i, t in enumerate(targets)}
    found = {}
    grads = {root: seed if create_graph else seed.data}  # keyed by the tensors (identity hash)
    handed = {_owner_id(seed.data)}  # buffers already given to a leaf (or to the caller)
    xp = ops._ops if create_graph else array_namespace(B.get_array_module(root.data))
    pop, get = grads.pop, grads.get
    with _SetGradMode(create_graph):
        for node in reversed(order):
            g = pop(node, None)
            if g is None:
                continue
            if want is not None and id(node) in want:
                found[id(node)] = g if create_graph else Tensor._const(g)
            if node._node is None:  # a leaf
                if want is None:
                    _accumulate(node, g, create_graph, handed)
                continue
            # the node's VJPs, given its output gradient g (written out here, not in a helper:
            # this loop is the backward pass's inner loop)
            prim, params, argnums, *inputs = node._node
            if create_graph:
                ans, args = node, inputs
            else:
                ans = node.data
                args = [a.data if type(a) is Tensor else a for a in inputs]
            vjps, vjp_argnum, broadcasting = prim.vjps, prim.vjp_argnum, prim.broadcasting
            for i in argnums:
                parent = inputs[i]
                if vjp_argnum is None:
                    gp = vjps[i](xp, g, ans, *args, **params)
                else:
                    gp = vjp_argnum(xp, g, ans, *args, argnum=i, **params)
                if broadcasting and gp.shape != args[i].shape:
                    gp = unbroadcast(xp, gp, args[i].shape)
                prev = get(parent)
                grads[parent] = gp if prev is None else prev + gp
    if not retain_graph:
        for node in order:
            if node._node is not None:
                node._node = FREED
    return found


_owner_id = B.buffer_id  # the identity of the buffer behind an array (a view's base)


def _accumulate(leaf: Tensor, g: Tensor, create_graph: bool, handed: set) -> None:
    """Add ``g`` to ``leaf.grad``.

    A leaf's first gradient takes over the array the VJPs produced when that array is a fresh,
    writable buffer of the right dtype that no other leaf (nor the caller's seed) holds; otherwise
    it is copied, so that an in-place change of one ``.grad`` (an optimizer, gradient clipping)
    can never show through another.
    """
    gd = g.data if create_graph else g
    if gd.shape != leaf.data.shape:  # pragma: no cover - a VJP bug, never user error
        raise RuntimeError(f"internal error: gradient of shape {gd.shape} for a leaf of shape "
                           f"{leaf.data.shape}")
    if leaf._grad is None:
        owner = _owner_id(gd)
        flags = getattr(gd, "flags", None)
        # some CuPy versions' flags have no ``writeable`` (their arrays are always writeable)
        if (create_graph or flags is None or not getattr(flags, "writeable", True)
                or owner in handed
                or gd.dtype != leaf.data.dtype or gd.base is not None and not (
                    flags.c_contiguous or flags.f_contiguous)):
            gd = B.get_array_module(gd).array(gd, dtype=leaf.data.dtype, copy=True)
            owner = id(gd)
        handed.add(owner)
        leaf._grad = gd
    else:
        leaf._grad = leaf._grad + gd.astype(leaf.data.dtype, copy=False)
    if create_graph:
        leaf.grad_tensor = g if leaf.grad_tensor is None else leaf.grad_tensor + g


def backward(root: Tensor, grad=None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """``root.backward(...)``: see :meth:`minigrad.Tensor.backward`."""
    if retain_graph is None:
        retain_graph = create_graph
    _run(root, _seed(root, grad), None, retain_graph, create_graph)


def vjp_of(output: Tensor, inputs, grad=None, retain_graph: bool | None = None,
           create_graph: bool = False) -> list:
    """Gradients of ``output`` (contracted with ``grad``) with respect to each of ``inputs``.

    Like ``torch.autograd.grad``: ``.grad`` attributes are not touched; an input that ``output``
    does not depend on gets zeros.
    """
    if retain_graph is None:
        retain_graph = create_graph
    inputs = list(inputs)
    found = _run(output, _seed(output, grad), inputs, retain_graph, create_graph)
    out = []
    for t in inputs:
        g = found.get(id(t))
        if g is None:
            g = Tensor._const(B.get_array_module(t.data).zeros_like(t.data))
        out.append(g)
    return out
