"""Engine overhead, measured against NumPy in the same run (a benchmark, not a test).

1. Forward plus backward cost per operation on tiny arrays (a chain of elementwise operations
   on 4-element arrays), next to the same forward computed with raw NumPy. Goal: at most
   10 microseconds per operation (HIPS/autograd costs about 20 per array operation, micrograd
   about 10 per scalar operation).
2. One training step (forward and backward) of an MLP 784-256-256-10 on a float32 batch of 128
   with softmax cross-entropy, next to the same step written by hand in NumPy with a
   hand-derived backward. Goal: at most 1.3 times the hand-written time.

Run: ``python benchmarks/bench_engine.py [--backend numpy|cupy] [--repeats N]``.
Timings take the best of several repeats (the machines are shared and noisy).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import minigrad as mg
from minigrad import Tensor, nn


def best_times(fns, repeats: int, number: int) -> list:
    """For each function, the best over ``repeats`` of the mean time of ``number`` calls, in
    seconds. The functions take turns within each repeat, so a burst of load from elsewhere on a
    shared machine hits all of them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / number)
    return best


def sync(xp):
    if xp.__name__ == "cupy":  # pragma: no cover - GPU only
        xp.cuda.Device().synchronize()


def bench_tiny_ops(xp, repeats: int):
    n_ops = 200
    x0 = xp.linspace(0.1, 0.4, 4)

    def minigrad_chain():
        x = Tensor(x0, requires_grad=True)
        y = x
        for _ in range(n_ops // 4):  # 4 operations per round: mul, add, tanh, mul
            y = mg.tanh(y * 0.9 + 0.1) * 1.01
        y.sum().backward()
        sync(xp)

    def numpy_chain():
        y = x0
        for _ in range(n_ops // 4):
            y = xp.tanh(y * 0.9 + 0.1) * 1.01
        float(y.sum())

    t_mg, t_np = best_times([minigrad_chain, numpy_chain], repeats, 20)
    return t_mg / (n_ops + 1), t_np / (n_ops + 1)


def bench_mlp(xp, repeats: int):
    rng = np.random.default_rng(0)
    sizes = [784, 256, 256, 10]
    batch = 128
    X = xp.asarray(rng.standard_normal((batch, 784)).astype(np.float32))
    y = xp.asarray(rng.integers(0, 10, batch))
    net = nn.MLP(sizes, activation="relu", dtype="float32", seed=0)
    Ws = [layer.W.data for layer in net.layers]
    bs = [layer.b.data for layer in net.layers]
    Xt = Tensor(X)

    def minigrad_step():
        net.zero_grad()
        loss = nn.cross_entropy(net(Xt), y)
        loss.backward()
        sync(xp)
        return loss

    def numpy_step():
        # forward
        h1 = X @ Ws[0].T + bs[0]
        a1 = xp.maximum(h1, 0)
        h2 = a1 @ Ws[1].T + bs[1]
        a2 = xp.maximum(h2, 0)
        z = a2 @ Ws[2].T + bs[2]
        m = z.max(axis=1, keepdims=True)
        e = xp.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
        loss = float((xp.log(s) + m).mean() - z[xp.arange(batch), y].mean())
        # backward: d loss / dz = (softmax - onehot) / batch
        dz = e / s
        dz[xp.arange(batch), y] -= 1.0
        dz /= batch
        dW3, db3 = dz.T @ a2, dz.sum(0)
        da2 = dz @ Ws[2]
        dh2 = da2 * (h2 > 0)
        dW2, db2 = dh2.T @ a1, dh2.sum(0)
        da1 = dh2 @ Ws[1]
        dh1 = da1 * (h1 > 0)
        dW1, db1 = dh1.T @ X, dh1.sum(0)
        sync(xp)
        return loss, (dW1, db1, dW2, db2, dW3, db3)

    # the two steps compute the same gradients
    loss_ref, grads_ref = numpy_step()
    loss_mg = minigrad_step()
    for p, g in zip(net.parameters(), grads_ref):
        np.testing.assert_allclose(mg.to_numpy(p.grad), mg.to_numpy(g), rtol=2e-3, atol=1e-6)
    assert abs(loss_mg.item() - loss_ref) < 1e-4 * max(1.0, abs(loss_ref))

    t_mg, t_np = best_times([minigrad_step, numpy_step], repeats, 10)
    return t_mg, t_np


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["numpy", "cupy"], default="numpy")
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args(argv)
    mg.set_backend(args.backend)
    xp = mg.backend.xp()
    print(f"backend: {args.backend}")

    t_mg, t_np = bench_tiny_ops(xp, args.repeats)
    print(f"[tiny ops]  minigrad forward+backward: {t_mg * 1e6:6.2f} us/op   "
          f"raw {args.backend} forward only: {t_np * 1e6:6.2f} us/op   "
          f"ratio {t_mg / t_np:5.1f}x   goal <= 10 us/op: "
          f"{'met' if t_mg <= 10e-6 else 'NOT met'}")

    t_mg, t_np = bench_mlp(xp, args.repeats)
    ratio = t_mg / t_np
    print(f"[MLP 784-256-256-10, batch 128, float32]  minigrad step: {t_mg * 1e3:7.3f} ms   "
          f"hand-written {args.backend}: {t_np * 1e3:7.3f} ms   ratio {ratio:4.2f}x   "
          f"goal <= 1.3x: {'met' if ratio <= 1.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
