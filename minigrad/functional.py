r"""The functional transforms, as in JAX and HIPS/autograd: each takes a function and returns a
function.

==================================  =============================================================
``grad(f, argnums=0)``              :math:`x \mapsto \nabla f(x)` (``f`` scalar)
``value_and_grad(f, argnums=0)``    :math:`x \mapsto (f(x), \nabla f(x))`, one evaluation
``elementwise_grad(f)``             :math:`x \mapsto \nabla_x \sum_i f(x)_i`: the derivative of an
                                    elementwise ``f`` at every entry
``jacobian(f)``                     :math:`x \mapsto J_f(x)`, of shape ``f(x).shape + x.shape``
``jvp(f)``                          :math:`(x, v) \mapsto (f(x), J_f(x)\,v)`
``hvp(f)``                          :math:`(x, v) \mapsto \nabla^2 f(x)\,v`
``hessian(f)``                      :math:`x \mapsto \nabla^2 f(x)`, of shape ``x.shape + x.shape``
==================================  =============================================================

The earlier call forms evaluate at once and keep working: ``hessian(f, x)``, ``hvp(f, x, v)``,
``jvp(f, x, v)``, ``jacobian(f, x)``.

Arrays and numbers in give arrays out; Tensors in give Tensors out. When an argument is a Tensor
that already requires a gradient (inside an outer transform), the result is recorded, so the
transforms compose: ``grad(grad(f))`` is the second derivative, ``jacobian(grad(f))`` the
Hessian.

How they are computed. minigrad has one mode, reverse: ``grad`` is one backward pass;
``hvp`` is reverse over reverse, :math:`\nabla_x\langle\nabla f(x), v\rangle` (two passes);
``jacobian`` and ``hessian`` take one backward pass per output entry (per entry of ``x`` for the
Hessian); ``jvp`` uses the double-VJP identity: :math:`u \mapsto J^\top u` is linear, so
:math:`Jv = \nabla_u \langle J^\top u, v\rangle` (two passes, the first recorded), the forward-mode
product without a forward mode. Forward over reverse for ``hvp``
(:math:`\nabla^2 f\,v = J_{\nabla f}\,v` by that identity) takes three passes and is slower than
reverse over reverse here (``benchmarks/bench_hvp.py`` measures both), so ``hvp`` stays reverse
over reverse.
"""
from __future__ import annotations

import functools

from minigrad import backend as B
from minigrad.autograd import vjp_of
from minigrad.tensor import Tensor, _SetGradMode, is_grad_enabled, leaf

__all__ = ["grad", "value_and_grad", "elementwise_grad", "jacobian", "jvp", "hvp", "hessian"]

_UNSET = object()  # "no point given": return the function


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


def _tensor_output(out, fname: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}: f must return a minigrad Tensor; got {type(out).__name__}")
    return out


def _scalar_output(out, fname: str) -> Tensor:
    out = _tensor_output(out, fname)
    if out.data.size != 1:
        raise ValueError(f"{fname}: f must return a scalar; got an output of shape {out.shape}")
    return out


def _like_input(x, t: Tensor):
    return t if isinstance(x, Tensor) else t.data


def _named(fun, kind: str, f, **extra):
    name = getattr(f, "__name__", "f")
    fun.__name__ = f"{kind}_{name}"
    args = ", ".join(f"{k}={v!r}" for k, v in extra.items())
    fun.__doc__ = f"The {kind} of {name}{f' ({args})' if args else ''}."
    return fun


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
    ``argnums`` (an int, or a tuple for a tuple of gradients)."""
    def gradfun(*args, **kwargs):
        return _value_and_grad(f, argnums, args, kwargs, "grad")[1]
    return _named(gradfun, "grad", f, argnums=argnums)


def value_and_grad(f, argnums=0):
    """``value_and_grad(f)(*args) -> (f(*args), grad(f)(*args))`` with one evaluation of f."""
    def vg(*args, **kwargs):
        return _value_and_grad(f, argnums, args, kwargs, "value_and_grad")
    return _named(vg, "value_and_grad", f, argnums=argnums)


def elementwise_grad(f):
    r"""``elementwise_grad(f)(x)``: :math:`\nabla_x \sum_i f(x)_i`, of ``x``'s shape. For an
    elementwise ``f`` (``f(x)_i`` depends on ``x_i`` only) it is the derivative
    :math:`f'(x_i)` at every entry, as HIPS/autograd's ``elementwise_grad``: ``elementwise_grad(
    mg.tanh)(xs)`` plots :math:`1 - \tanh^2` over a grid in one call."""
    def egrad(x):
        X, nested = _as_leaf(x)
        with _SetGradMode(True):
            out = _tensor_output(f(X), "elementwise_grad")
            (g,) = vjp_of(out.sum(), [X], create_graph=nested and is_grad_enabled())
        return _like_input(x, g)
    return _named(egrad, "elementwise_grad", f)


def _jacobian(f, x):
    X, nested = _as_leaf(x)
    xp = B.get_array_module(X.data)
    with _SetGradMode(True):
        out = _tensor_output(f(X), "jacobian")
        flat = out.reshape(-1)
        rows = []
        for i in range(flat.data.size):
            if not flat.requires_grad:
                rows.append(None)
                continue
            (row,) = vjp_of(flat[i], [X], retain_graph=True,
                            create_graph=nested and is_grad_enabled())
            rows.append(row.reshape(-1) if nested else row.data.reshape(-1))
    shape = out.shape + X.shape
    if nested:
        from minigrad import ops
        zero = Tensor._const(xp.zeros(X.data.size, dtype=X.dtype))
        return ops.reshape(ops.stack([zero if r is None else r for r in rows]), shape) \
            if rows else Tensor._const(xp.zeros(shape, dtype=X.dtype))
    J = xp.stack([xp.zeros(X.data.size, dtype=X.dtype) if r is None else r for r in rows]) \
        if rows else xp.zeros((0, X.data.size), dtype=X.dtype)
    J = J.reshape(shape)
    return Tensor._const(J) if isinstance(x, Tensor) else J


def jacobian(f, x=_UNSET):
    """``jacobian(f)(x)``: the Jacobian :math:`\\partial f(x)_i / \\partial x_j` of shape
    ``f(x).shape + x.shape``, one backward pass per entry of ``f(x)`` (``jacobian(f, x)``
    evaluates at once)."""
    if x is not _UNSET:
        return _jacobian(f, x)
    return _named(functools.partial(_jacobian, f), "jacobian", f)


def _tangent(v, X: Tensor, fname: str) -> Tensor:
    V = v if isinstance(v, Tensor) else Tensor._const(B.asarray(v, backend=X.backend))
    if V.shape != X.shape:
        raise ValueError(f"{fname}: v has shape {V.shape} but x has shape {X.shape}")
    return V


def _jvp(f, x, v):
    X, nested = _as_leaf(x)
    V = _tangent(v, X, "jvp")
    with _SetGradMode(True):
        out = _tensor_output(f(X), "jvp")
        if not out.requires_grad:  # f does not depend on x
            return _like_input(x, out), _like_input(x, Tensor._const(out.data * 0.0))
        # u -> J^T u is linear in u, so J v = grad_u <J^T u, v> (at any u; u = 0 here)
        # on out's backend (Tensor(...) would move it to the default backend)
        U = leaf(B.get_array_module(out.data).zeros_like(out.data), requires_grad=True)
        (jtu,) = vjp_of(out, [X], grad=U, create_graph=True)
        inner = (jtu * V).sum()
        if not inner.requires_grad:  # J^T u does not depend on u: J = 0
            jv = Tensor._const(out.data * 0.0)
        else:
            (jv,) = vjp_of(inner, [U], create_graph=nested and is_grad_enabled())
    return _like_input(x, out), _like_input(x, jv)


def jvp(f, x=_UNSET, v=_UNSET):
    r"""``jvp(f)(x, v) -> (f(x), J_f(x) v)``, the Jacobian-vector (forward-mode) product by the
    double-VJP identity (module docstring); ``jvp(f, x, v)`` evaluates at once."""
    if x is not _UNSET:
        if v is _UNSET:
            raise TypeError("jvp(f, x, v): the tangent v is missing")
        return _jvp(f, x, v)
    return _named(functools.partial(_jvp, f), "jvp", f)


def _hvp(f, x, v):
    X, nested = _as_leaf(x)
    V = _tangent(v, X, "hvp")
    with _SetGradMode(True):
        out = _scalar_output(f(X), "hvp")
        (g,) = vjp_of(out, [X], create_graph=True)
        inner = (g * V).sum()
        if not inner.requires_grad:  # f is affine in x: the Hessian is 0
            return _like_input(x, Tensor._const(X.data * 0.0))
        (hv,) = vjp_of(inner, [X], create_graph=nested and is_grad_enabled())
    return _like_input(x, hv)


def hvp(f, x=_UNSET, v=_UNSET):
    r"""``hvp(f)(x, v)``: the Hessian-vector product :math:`\nabla^2 f(x)\,v` by reverse over
    reverse, :math:`\nabla_x \langle \nabla f(x), v\rangle`; ``v`` has ``x``'s shape.
    ``hvp(f, x, v)`` evaluates at once."""
    if x is not _UNSET:
        if v is _UNSET:
            raise TypeError("hvp(f, x, v): the vector v is missing")
        return _hvp(f, x, v)
    return _named(functools.partial(_hvp, f), "hvp", f)


def _hessian(f, x):
    return _jacobian(grad(_ScalarChecked(f)), x)  # the Jacobian of the gradient


class _ScalarChecked:
    """``f`` with its output checked as the Hessian's (a scalar Tensor)."""

    def __init__(self, f):
        self.f = f
        self.__name__ = getattr(f, "__name__", "f")

    def __call__(self, *args, **kwargs):
        return _scalar_output(self.f(*args, **kwargs), "hessian")


def hessian(f, x=_UNSET):
    """``hessian(f)(x)``: the Hessian of the scalar ``f`` at ``x``, of shape
    ``x.shape + x.shape``: the Jacobian of the gradient, so one recorded gradient, then one
    backward pass per entry of ``x`` (recorded too inside an outer transform, so that
    ``jacobian(hessian(f))`` gives third derivatives; a Tensor that requires a gradient counts as
    such: pass ``p.detach()`` for the plain, cheaper passes). ``hessian(f, x)`` evaluates at
    once."""
    if x is not _UNSET:
        return _hessian(f, x)
    return _named(functools.partial(_hessian, f), "hessian", f)
