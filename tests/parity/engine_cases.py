"""The cases that pin the engine's numbers: every primitive and composite function of minigrad,
the losses and an MLP, each on fixed inputs in float64 and float32.

For each case the pinned quantities are the value, the gradient of ``sum(w * f(x))`` with respect
to every input (a fixed random cotangent ``w``) through ``vjp_of``, the same gradient accumulated
into ``.grad`` by ``backward()``, and a second-order product
:math:`\\nabla_x \\langle \\nabla_x \\sum w f, v\\rangle` (reverse over reverse, with
``create_graph=True``). ``compute(case, dtype)`` returns them as a dict of arrays; the recorder
(``record_engine.py``) saves them and ``test_engine_parity.py`` compares them bit for bit.
"""
from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import nn


def _inputs(specs, dtype, seed):
    """Arrays from ``specs``: (shape, kind) with kind in {"any", "pos", "unit", "ties"}."""
    rng = np.random.default_rng(seed)
    out = []
    for shape, kind in specs:
        if kind == "pos":
            a = rng.uniform(0.3, 2.0, shape)
        elif kind == "unit":
            a = rng.uniform(-0.8, 0.8, shape)
        elif kind == "ties":  # repeated values, so ties in max/min/maximum are exercised
            a = rng.integers(-2, 3, shape).astype(float) * 0.5
        else:
            a = rng.standard_normal(shape)
        out.append(a.astype(dtype))
    return out


def _dev(a):
    """A host constant on the current backend (the engine refuses to mix a host array into
    device math; on numpy this is the array itself)."""
    return mg.backend.asarray(a)


def _mlp_loss(x, W1, b1, W2, b2):
    h = mg.tanh(x @ W1.T + b1)
    return nn.cross_entropy(h @ W2.T + b2, np.array([0, 2, 1, 2, 0]))


# name -> (function of the input tensors, input specs)
CASES = {
    "add": (lambda a, b: a + b, [((3, 4), "any"), ((4,), "any")]),
    "add_scalar": (lambda a: 2.5 + a, [((3,), "any")]),
    "sub": (lambda a, b: a - b, [((3, 1), "any"), ((1, 4), "any")]),
    "rsub": (lambda a: 1.0 - a, [((3,), "any")]),
    "mul": (lambda a, b: a * b, [((2, 3, 4), "any"), ((3, 1), "any")]),
    "mul_array": (lambda a: a * _dev(np.arange(4.0)), [((3, 4), "any")]),
    "div": (lambda a, b: a / b, [((3, 4), "any"), ((4,), "pos")]),
    "rdiv": (lambda a: 2.0 / a, [((5,), "pos")]),
    "neg": (lambda a: -a, [((3, 2), "any")]),
    "pow_square": (lambda a: a ** 2, [((4,), "any")]),
    "pow_cube": (lambda a: a ** 3, [((4,), "any")]),
    "pow_half": (lambda a: a ** 0.5, [((4,), "pos")]),
    "pow_tensor": (lambda a, b: a ** b, [((3, 4), "pos"), ((4,), "any")]),
    "rpow": (lambda a: 2.0 ** a, [((4,), "any")]),
    "matmul_mm": (lambda a, b: a @ b, [((3, 4), "any"), ((4, 2), "any")]),
    "matmul_mv": (lambda a, b: a @ b, [((3, 4), "any"), ((4,), "any")]),
    "matmul_vm": (lambda a, b: a @ b, [((4,), "any"), ((4, 2), "any")]),
    "matmul_vv": (lambda a, b: a @ b, [((4,), "any"), ((4,), "any")]),
    "matmul_batched": (lambda a, b: a @ b, [((2, 3, 4), "any"), ((4, 5), "any")]),
    "matmul_transposed": (lambda a, b: a @ b.T, [((5, 4), "any"), ((3, 4), "any")]),
    "dot": (lambda a, b: mg.dot(a, b), [((4,), "any"), ((4,), "any")]),
    "outer": (lambda a, b: mg.outer(a, b), [((3,), "any"), ((4,), "any")]),
    "getitem_slice": (lambda a: a[1:, ::2], [((3, 4), "any")]),
    "getitem_int": (lambda a: a[1], [((3, 4), "any")]),
    "getitem_repeat": (lambda a: a[np.array([0, 2, 0, 1])], [((3, 2), "any")]),
    "getitem_mask": (lambda a: a[np.array([True, False, True, True])], [((4,), "any")]),
    "getitem_fancy": (lambda a: a[np.arange(3), np.array([1, 0, 1])], [((3, 2), "any")]),
    "exp": (mg.exp, [((3, 4), "any")]),
    "log": (mg.log, [((3, 4), "pos")]),
    "log1p": (mg.log1p, [((5,), "pos")]),
    "expm1": (mg.expm1, [((5,), "any")]),
    "sqrt": (mg.sqrt, [((5,), "pos")]),
    "abs": (mg.abs, [((6,), "ties")]),
    "sign": (lambda a: mg.sign(a) * a, [((6,), "ties")]),
    "sin": (mg.sin, [((5,), "any")]),
    "cos": (mg.cos, [((5,), "any")]),
    "tanh": (mg.tanh, [((5,), "any")]),
    "sigmoid": (mg.sigmoid, [((7,), "any")]),
    "relu": (mg.relu, [((6,), "ties")]),
    "softplus": (mg.softplus, [((7,), "any")]),
    "maximum": (mg.maximum, [((6,), "ties"), ((6,), "ties")]),
    "minimum": (mg.minimum, [((2, 6), "ties"), ((6,), "ties")]),
    "maximum_scalar": (lambda a: mg.maximum(a, 0.0), [((6,), "ties")]),
    "where": (lambda a, b: mg.where(a.data > 0, a, b), [((3, 4), "any"), ((4,), "any")]),
    "where_scalar": (lambda a: mg.where(a.data > 0, a * a, 0.5), [((5,), "any")]),
    "clip": (lambda a: mg.clip(a, -0.5, 0.5), [((6,), "ties")]),
    "clip_lo": (lambda a: mg.clip(a, lo=0.0), [((6,), "ties")]),
    "sum_all": (lambda a: mg.sum(a), [((3, 4), "any")]),
    "sum_axis": (lambda a: mg.sum(a, axis=1), [((3, 4), "any")]),
    "sum_axes_keep": (lambda a: mg.sum(a, axis=(0, 2), keepdims=True), [((2, 3, 4), "any")]),
    "sum_neg_axis": (lambda a: a.sum(axis=-1), [((2, 3), "any")]),
    "mean": (lambda a: mg.mean(a, axis=0), [((3, 4), "any")]),
    "max_ties": (lambda a: mg.max(a, axis=1), [((3, 6), "ties")]),
    "min_all": (lambda a: mg.min(a), [((3, 6), "ties")]),
    "logsumexp": (lambda a: mg.logsumexp(a, axis=1), [((3, 4), "any")]),
    "logsumexp_keep": (lambda a: mg.logsumexp(a, axis=0, keepdims=True), [((3, 4), "any")]),
    "var": (lambda a: mg.var(a, axis=1), [((3, 4), "any")]),
    "var_ddof": (lambda a: mg.var(a, ddof=1), [((3, 4), "any")]),
    "norm2": (lambda a: mg.norm(a), [((3, 4), "any")]),
    "norm2_axis": (lambda a: mg.norm(a, axis=1, keepdims=True), [((3, 4), "any")]),
    "norm1": (lambda a: mg.norm(a, ord=1, axis=0), [((3, 4), "any")]),
    "norm_inf": (lambda a: mg.norm(a, ord="inf"), [((3, 4), "ties")]),
    "reshape": (lambda a: mg.reshape(a, (4, 3)) * _dev(np.arange(3.0)), [((3, 4), "any")]),
    "reshape_method": (lambda a: a.reshape(2, -1), [((3, 4), "any")]),
    "flatten": (lambda a: a.flatten(), [((3, 4), "any")]),
    "transpose": (lambda a: mg.transpose(a, (2, 0, 1)), [((2, 3, 4), "any")]),
    "T": (lambda a: a.T, [((3, 4), "any")]),
    "swapaxes": (lambda a: mg.swapaxes(a, 0, 2), [((2, 3, 4), "any")]),
    "broadcast_to": (lambda a: mg.broadcast_to(a, (2, 3, 4)), [((3, 1), "any")]),
    "concatenate": (lambda a, b: mg.concatenate([a, b], axis=1), [((3, 2), "any"),
                                                                 ((3, 4), "any")]),
    "stack": (lambda a, b: mg.stack([a, b], axis=-1), [((3, 2), "any"), ((3, 2), "any")]),
    "squeeze": (lambda a: mg.squeeze(a, axis=1), [((3, 1, 2), "any")]),
    "expand_dims": (lambda a: mg.expand_dims(a, 0) * _dev(np.ones((2, 1, 1))), [((3, 2), "any")]),
    "softmax": (lambda a: mg.softmax(a, axis=1), [((3, 4), "any")]),
    "log_softmax": (lambda a: mg.log_softmax(a, axis=0), [((3, 4), "any")]),
    "chain": (lambda a: mg.tanh(mg.exp(-a * a) * 0.9 + 0.1) * mg.sin(a), [((5,), "any")]),
    "mse_loss": (lambda a, b: nn.mse_loss(a, b), [((4, 3), "any"), ((4, 3), "any")]),
    "logistic_loss": (lambda z: nn.logistic_loss(z, np.array([1.0, -1.0, 1.0, 1.0, -1.0])),
                      [((5,), "any")]),
    "bce_logits": (lambda z: nn.binary_cross_entropy_with_logits(
        z, np.array([1.0, 0.0, 1.0, 0.0, 0.0])), [((5,), "any")]),
    "cross_entropy": (lambda z: nn.cross_entropy(z, np.array([0, 2, 1, 2])), [((4, 3), "any")]),
    "mlp": (_mlp_loss, [((5, 4), "any"), ((6, 4), "any"), ((6,), "any"), ((3, 6), "any"),
                        ((3,), "any")]),
}

DTYPES = ("float64", "float32")


def compute(name: str, dtype: str) -> dict:
    """The pinned arrays of case ``name`` at ``dtype``, keyed ``<what>`` or ``<what><i>``."""
    fn, specs = CASES[name]
    seed = sorted(CASES).index(name)
    arrays = _inputs(specs, dtype, seed)
    rng = np.random.default_rng(1000 + seed)
    out = {}
    xs = [mg.Tensor(a, requires_grad=True) for a in arrays]
    y = fn(*xs)
    out["value"] = y.numpy()
    w = mg.Tensor(rng.standard_normal(y.shape).astype(dtype))
    if not y.requires_grad:
        return out
    loss = (y * w).sum()
    for i, g in enumerate(mg.vjp_of(loss, xs, retain_graph=True)):
        out[f"grad{i}"] = g.numpy()
    loss.backward()
    for i, x in enumerate(xs):
        if x.grad is not None:
            out[f"acc{i}"] = mg.to_numpy(x.grad)
    # reverse over reverse: d/dx <grad(x), v>
    xs = [mg.Tensor(a, requires_grad=True) for a in arrays]
    vs = [mg.Tensor(rng.standard_normal(a.shape).astype(dtype)) for a in arrays]
    loss = (fn(*xs) * w).sum()
    gs = mg.vjp_of(loss, xs, create_graph=True)
    inner = None
    for g, v in zip(gs, vs):
        term = (g * v).sum()
        inner = term if inner is None else inner + term
    if inner.requires_grad:
        for i, h in enumerate(mg.vjp_of(inner, xs)):
            out[f"hvp{i}"] = h.numpy()
    return out
