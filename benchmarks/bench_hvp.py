"""Hessian-vector products two ways, in the same run (a benchmark, not a test).

* reverse over reverse, what ``minigrad.hvp`` does: :math:`\\nabla_x\\langle\\nabla f(x), v\\rangle`,
  one recorded backward pass and one plain one;
* forward over reverse, ``minigrad.jvp(minigrad.grad(f))``: the Jacobian of the gradient times
  :math:`v`, by the double-VJP identity (minigrad has no separate forward mode): a recorded
  backward for the gradient, a recorded one for :math:`u \\mapsto J^\\top u`, and a plain one.

on Rosenbrock in 10,000 dimensions and on the cross-entropy loss of an MLP 64-128-10 (batch
256). Both give the same vector (checked); the time ratio says which the library should use.

Run: ``python benchmarks/bench_hvp.py [--repeats N]``.
"""
from __future__ import annotations

import argparse

import numpy as np

import minigrad as mg
from minigrad import nn
from bench_engine import best_of as best_time  # this folder is on the path when run


def rosenbrock(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def mlp_loss_of(seed: int = 0):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((256, 64)), rng.integers(0, 10, 256)
    net = nn.MLP([64, 128, 10], activation="tanh", seed=seed)
    W1 = net.layers[0].W

    def loss(w):  # the loss as a function of the first weight matrix
        h = mg.tanh(mg.matmul(X, w.T) + net.layers[0].b)
        return nn.cross_entropy(net.layers[1](h), y)
    return loss, W1.numpy()


def compare(name, f, x, repeats: int):
    v = np.random.default_rng(1).standard_normal(x.shape)
    rr = mg.hvp(f)(x, v)
    _, fr = mg.jvp(mg.grad(f))(x, v)
    np.testing.assert_allclose(fr, rr, rtol=1e-9, atol=1e-9 * np.abs(rr).max())
    t_rr = best_time(lambda: mg.hvp(f)(x, v), repeats)
    t_fr = best_time(lambda: mg.jvp(mg.grad(f))(x, v), repeats)
    print(f"{name:<34} reverse over reverse {t_rr * 1e3:8.2f} ms   forward over reverse "
          f"{t_fr * 1e3:8.2f} ms   forward/reverse {t_fr / t_rr:4.2f}x")
    return t_rr, t_fr


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=10)
    args = p.parse_args(argv)
    compare("Rosenbrock, n = 10,000", rosenbrock, np.full(10_000, 0.5), args.repeats)
    loss, W = mlp_loss_of()
    compare("MLP 64-128-10 loss, W1 (8,192)", loss, W, args.repeats)


if __name__ == "__main__":
    main()
