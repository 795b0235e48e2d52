"""Gradients come back in the input's shape for every pair of (), (n,), (1, n), (m, 1), (m, n)."""
import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor

M, N = 3, 4
SHAPES = [(), (N,), (1, N), (M, 1), (M, N)]


@pytest.mark.parametrize("sa,sb", list(itertools.product(SHAPES, SHAPES)))
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum"])
def test_gradient_shapes_and_values(sa, sb, op, backend, xp):
    rng = np.random.default_rng(0)
    a0 = rng.standard_normal(sa) + 3.0
    b0 = rng.standard_normal(sb) - 3.0  # b < a everywhere: maximum picks a, no ties
    a = Tensor(a0, requires_grad=True)
    b = Tensor(b0, requires_grad=True)
    fn = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
          "div": lambda: a / b, "maximum": lambda: mg.maximum(a, b)}[op]
    out = fn()
    out_shape = np.broadcast_shapes(sa, sb)
    w = rng.standard_normal(out_shape)
    (out * Tensor(w)).sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    # Independent oracle: the elementwise partials, broadcast, weighted, summed to each shape.
    A, Bb = np.broadcast_to(a0, out_shape), np.broadcast_to(b0, out_shape)
    da, db = {"add": (1.0, 1.0), "sub": (1.0, -1.0), "mul": (Bb, A),
              "div": (1 / Bb, -A / Bb ** 2), "maximum": (1.0, 0.0)}[op]

    def reduce_to(g, shape):
        g = np.broadcast_to(g * w, out_shape)
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        for i, n in enumerate(shape):
            if n == 1:
                g = g.sum(axis=i, keepdims=True)
        return g
    np.testing.assert_allclose(mg.to_numpy(a.grad), reduce_to(da, sa), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mg.to_numpy(b.grad), reduce_to(db, sb), rtol=1e-12, atol=1e-12)
