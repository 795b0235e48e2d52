r"""The backward pass and the functional API: ``grad``, ``value_and_grad``, ``hvp``, ``hessian``.

Reverse mode in three steps:

1. an iterative topological sort of the graph below the output (depth-first with an explicit
   stack, so a chain of 100,000 operations is fine where a recursive sort dies at ~1000);
2. the nodes in reverse order: each node's gradient is complete when it is reached, and each of its
   VJPs adds a contribution to a parent's gradient;
3. leaves accumulate into ``.grad`` (``Tensor.backward``) or the gradients with respect to the
   requested inputs are returned (:func:`grad` and friends).

By default the VJPs run without recording (a fast path). With ``create_graph=True`` they are
recorded, so the gradient is itself a differentiable function of the inputs: that gives
Hessian-vector products :math:`\nabla^2 f(x)\,v = \nabla_x \langle \nabla f(x), v\rangle`
(reverse over reverse) and Hessians with no second engine.
"""
from __future__ import annotations

from minigrad import backend as B
from minigrad import ops
from minigrad.primitive import array_namespace, unbroadcast
from minigrad.tensor import FREED, Tensor, _SetGradMode, is_grad_enabled

__all__ = ["backward", "grad", "value_and_grad", "hvp", "hessian", "vjp_of"]


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
    if not root.requires_grad:
        raise RuntimeError("backward: the output does not require a gradient (no input that "
                           "requires one was used, or it was computed under no_grad())")
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


def _owner_id(a) -> int:
    """The identity of the buffer behind ``a`` (a view's base, or ``a`` itself)."""
    base = getattr(a, "base", None)
    return id(a if base is None else base)


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
        if (create_graph or flags is None or not flags.writeable or owner in handed
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


# --------------------------------------------------------------------------- functional API
def _as_leaf(a) -> tuple[Tensor, bool]:
    """(the tensor to differentiate with respect to, whether it is part of an outer graph)."""
    if isinstance(a, Tensor):
        if a.requires_grad:
            return a, True  # nested differentiation: keep the outer graph connected
        t = a.detach()
    elif B.is_array(a):  # an array stays on its own backend (a CuPy array is not copied back)
        with B.use_backend(B.backend_name_of(a)):
            t = Tensor(a)
    else:
        t = Tensor(a)
    if t.data.dtype.kind not in "fc":
        t.data = t.data.astype(float)
    t.requires_grad = True
    return t, False


def _scalar_output(out, fname: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}: f must return a minigrad Tensor; got {type(out).__name__}")
    if out.data.size != 1:
        raise ValueError(f"{fname}: f must return a scalar; got an output of shape {out.shape}")
    return out


def _value_and_grad(f, argnums, args, kwargs, fname):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    args = list(args)
    for i in nums:
        if not -len(args) <= i < len(args):
            raise ValueError(f"{fname}: argnums={argnums} but f got {len(args)} positional "
                             f"arguments")
    was_tensor = {}
    nested = False
    for i in nums:
        was_tensor[i] = isinstance(args[i], Tensor)
        args[i], outer = _as_leaf(args[i])
        nested = nested or outer
    create = nested and is_grad_enabled()
    with _SetGradMode(True):
        out = _scalar_output(f(*args, **kwargs), fname)
        gs = vjp_of(out, [args[i] for i in nums], create_graph=create)
    gs = [g if was_tensor[i] else g.data for i, g in zip(nums, gs)]
    value = out if any(was_tensor.values()) else out.data
    return value, (gs[0] if single else tuple(gs))


def grad(f, argnums=0):
    """``grad(f)(*args)``: the gradient of the scalar function ``f`` with respect to argument(s)
    ``argnums`` (an int, or a tuple for a tuple of gradients), as in JAX and HIPS/autograd.

    Arrays and numbers in give arrays out; Tensors in give Tensors out. When an argument is a
    Tensor that already requires a gradient (for instance inside an outer ``grad``), the gradient
    is recorded, so ``grad(grad(f))`` is the second derivative.
    """
    def gradfun(*args, **kwargs):
        return _value_and_grad(f, argnums, args, kwargs, "grad")[1]
    gradfun.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    gradfun.__doc__ = f"The gradient of {getattr(f, '__name__', 'f')} (argnums={argnums})."
    return gradfun


def value_and_grad(f, argnums=0):
    """``value_and_grad(f)(*args) -> (f(*args), grad(f)(*args))`` with one evaluation of f."""
    def vg(*args, **kwargs):
        return _value_and_grad(f, argnums, args, kwargs, "value_and_grad")
    return vg


def hvp(f, x, v):
    r"""The Hessian-vector product :math:`\nabla^2 f(x)\,v` by reverse over reverse:
    :math:`\nabla_x \langle \nabla f(x), v\rangle`. ``v`` has ``x``'s shape."""
    X, nested = _as_leaf(x)
    V = v if isinstance(v, Tensor) else Tensor._const(B.asarray(v, backend=X.backend))
    if V.shape != X.shape:
        raise ValueError(f"hvp: v has shape {V.shape} but x has shape {X.shape}")
    with _SetGradMode(True):
        out = _scalar_output(f(X), "hvp")
        (g,) = vjp_of(out, [X], create_graph=True)
        inner = (g * V).sum()
        if not inner.requires_grad:  # f is affine in x: the Hessian is 0
            return _like_input(x, Tensor._const(X.data * 0.0))
        (hv,) = vjp_of(inner, [X], create_graph=nested and is_grad_enabled())
    return _like_input(x, hv)


def hessian(f, x):
    """The Hessian of the scalar ``f`` at ``x``, of shape ``x.shape + x.shape``.

    One recorded gradient, then one backward pass per entry of ``x`` (so n reverse passes).
    """
    X, _ = _as_leaf(x)
    xp = B.get_array_module(X.data)
    n = X.data.size
    with _SetGradMode(True):
        out = _scalar_output(f(X), "hessian")
        (g,) = vjp_of(out, [X], create_graph=True)
        g = g.reshape(-1)
        rows = []
        for i in range(n):
            gi = g[i]
            if gi.requires_grad:
                (row,) = vjp_of(gi, [X], retain_graph=True)
                rows.append(row.data.reshape(-1))
            else:
                rows.append(xp.zeros(n, dtype=X.dtype))
    H = xp.stack(rows).reshape(X.shape + X.shape)
    return Tensor._const(H) if isinstance(x, Tensor) else H


def _like_input(x, t: Tensor):
    return t if isinstance(x, Tensor) else t.data
