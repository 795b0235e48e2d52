r"""Gradient checking by central differences in float64, along random directions.

``check_grads(f, *args, order=2)`` checks the reverse-mode derivative of ``f`` at ``args`` (as
HIPS/autograd's ``check_grads`` does):

* order 1: for a random output cotangent :math:`u` and random input directions :math:`v_i`,
  compare :math:`\sum_i \langle \nabla_{x_i} \langle u, f\rangle, v_i\rangle` with the central
  difference :math:`\frac{F(x + \varepsilon v) - F(x - \varepsilon v)}{2\varepsilon}`, where
  :math:`F = \langle u, f\rangle`;
* order k > 1: the VJP itself, :math:`x \mapsto \nabla_x \langle u, f(x)\rangle` (computed with
  ``create_graph=True``), is checked at order k - 1, so second derivatives are checked through
  the recorded backward pass.

Random directions and points matter: a check at a special point (0, or an axis) can hide a wrong
gradient. The central difference with :math:`\varepsilon = 10^{-6}` in float64 has an error of
order :math:`\varepsilon^2 f''' + 10^{-16}/\varepsilon \approx 10^{-10}` relative, far below the
default tolerance of :math:`10^{-6}`, and far below a VJP that is wrong by 0.1%.
"""
from __future__ import annotations

from minigrad import backend as B
from minigrad.autograd import vjp_of
from minigrad.tensor import Tensor, _SetGradMode

__all__ = ["check_grads", "GradientCheckError"]


class GradientCheckError(AssertionError):
    """The analytic and numerical directional derivatives disagree."""


def _to_float64(a):
    data = a.data if isinstance(a, Tensor) else a
    if not B.is_array(data):
        data = B.asarray(data)
    return data.astype("float64")


def _flat_tensor_output(out) -> Tensor:
    if isinstance(out, (tuple, list)):
        from minigrad.ops import concatenate, reshape
        return concatenate([reshape(o, (-1,)) for o in out])
    if not isinstance(out, Tensor):
        raise TypeError(f"check_grads: f must return a Tensor; got {type(out).__name__}")
    return out


def check_grads(f, *args, order: int = 2, eps: float = 1e-6, rtol: float = 1e-6,
                atol: float = 1e-8, seed: int = 0) -> None:
    """Raise :class:`GradientCheckError` unless the derivatives of ``f`` at ``args`` agree with
    central differences in float64, up to ``order`` (1 or more).

    ``f`` takes Tensors and returns a Tensor (any shape) or a tuple of Tensors. The comparison is
    ``|analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)``.
    """
    if order < 1:
        raise ValueError(f"check_grads: order must be at least 1; got {order}")
    xs = [_to_float64(a) for a in args]
    rng = B.host_rng(seed)
    _check(f, xs, order, eps, rtol, atol, rng)


def _check(f, xs, order, eps, rtol, atol, rng):
    xp = B.get_array_module(*xs)
    with _SetGradMode(True):
        leaves = [Tensor._const(x).requires_grad_() for x in xs]
        out = _flat_tensor_output(f(*leaves))
    if out.dtype.kind not in "fc":
        raise TypeError(f"check_grads: f returned dtype {out.dtype}; a float output is needed")
    u = B.asarray(rng.standard_normal(out.shape), backend=B.backend_name_of(out.data))
    vs = [B.asarray(rng.standard_normal(x.shape), backend=B.backend_name_of(x)) for x in xs]

    def F(*ys):
        with _SetGradMode(False):
            o = _flat_tensor_output(f(*[Tensor._const(y) for y in ys]))
        return float(xp.sum(u * o.data))

    if out.requires_grad:
        with _SetGradMode(True):
            grads = vjp_of(out, leaves, grad=Tensor._const(u.astype(out.dtype)))
        analytic = float(sum(xp.sum(g.data * v) for g, v in zip(grads, vs)))
    else:
        analytic = 0.0
    plus = F(*[x + eps * v for x, v in zip(xs, vs)])
    minus = F(*[x - eps * v for x, v in zip(xs, vs)])
    numeric = (plus - minus) / (2 * eps)
    if not abs(analytic - numeric) <= atol + rtol * max(abs(analytic), abs(numeric)):
        raise GradientCheckError(
            f"derivative check failed at order {order}: reverse mode gives {analytic!r}, "
            f"central differences give {numeric!r} (difference {analytic - numeric:.3e})")
    if order > 1:
        def vjp_fn(*ys):
            # At the check point the ys require a gradient (record the VJP to differentiate
            # it); at the perturbed points they are constants (only the VJP's value is needed).
            nested = any(y.requires_grad for y in ys)
            zs = [y if y.requires_grad else Tensor._const(y.data).requires_grad_() for y in ys]
            with _SetGradMode(True):
                o = _flat_tensor_output(f(*zs))
                if not o.requires_grad:
                    return tuple(Tensor._const(xp.zeros_like(z.data)) for z in zs)
                return tuple(vjp_of(o, zs, grad=Tensor._const(u.astype(o.dtype)),
                                    create_graph=nested))
        _check(vjp_fn, xs, order - 1, eps, rtol, atol, rng)
