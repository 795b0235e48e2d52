"""Engine overhead, measured against NumPy in the same run (a benchmark, not a test).

1. Forward plus backward cost per operation on tiny arrays (a chain of elementwise operations
   on 4-element arrays), next to the same forward computed with raw NumPy. Goal: at most
   10 microseconds per operation (HIPS/autograd costs about 20 per array operation, micrograd
   about 10 per scalar operation).
2. The cost per operation as the graph grows: the chain ``y = tanh(y * 1.0001 + 0.1)`` on a
   4-vector, forward and backward, at 300, 3,000, 30,000 and 100,000 operations, next to
   PyTorch on one CPU thread in the same run (when torch is installed: ``pip install torch``, a
   reference only, never a dependency), and next to minigrad with Python's cyclic collector
   switched off (which shows how much of the cost is the collector walking the live graph).
   Goals: at most torch's cost at every size, at most 5 us per operation on the small graph.
3. One training step (forward and backward) of an MLP 784-256-256-10 on a float32 batch of 128
   with softmax cross-entropy, next to the same step written by hand in NumPy with a
   hand-derived backward. Goal: at most 1.2 times the hand-written time.

Run: ``python benchmarks/bench_engine.py [--backend numpy|cupy] [--repeats N] [--sizes ...]``.
Timings take the best of several repeats (the machines are shared and noisy).
"""
from __future__ import annotations

import argparse
import gc
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


def _chain_minigrad(xp, n_ops: int):
    x = Tensor(xp.linspace(0.1, 0.4, 4), requires_grad=True)
    y = x
    for _ in range(n_ops // 3):  # 3 operations per round: mul, add, tanh
        y = mg.tanh(y * 1.0001 + 0.1)
    y.sum().backward()
    sync(xp)


def _chain_torch(torch, n_ops: int):
    x = torch.linspace(0.1, 0.4, 4, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(n_ops // 3):
        y = torch.tanh(y * 1.0001 + 0.1)
    y.sum().backward()


def best_of(fn, repeats: int) -> float:
    """The best time of ``repeats`` calls of ``fn``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_graph_sizes(xp, sizes, repeats: int) -> list:
    """Rows (n_ops, minigrad us/op, minigrad without the collector us/op, torch us/op or None)."""
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    rows = []
    for n in sizes:
        r = max(2, repeats // max(1, n // 3000))  # fewer repeats of the long chains
        t_mg = best_of(lambda: _chain_minigrad(xp, n), r)
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            t_nogc = best_of(lambda: _chain_minigrad(xp, n), r)
        finally:
            if was_enabled:
                gc.enable()
        t_torch = None if torch is None else best_of(lambda: _chain_torch(torch, n), r)
        per = 1e6 / (n // 3 * 3)
        rows.append((n, t_mg * per, t_nogc * per, None if t_torch is None else t_torch * per))
    return rows


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
    p.add_argument("--sizes", type=int, nargs="+", default=[300, 3000, 30000, 100000],
                   help="the chain lengths of the graph-size table, in operations")
    args = p.parse_args(argv)
    mg.set_backend(args.backend)
    xp = mg.backend.xp()
    print(f"backend: {args.backend}")

    t_mg, t_np = bench_tiny_ops(xp, args.repeats)
    print(f"[tiny ops]  minigrad forward+backward: {t_mg * 1e6:6.2f} us/op   "
          f"raw {args.backend} forward only: {t_np * 1e6:6.2f} us/op   "
          f"ratio {t_mg / t_np:5.1f}x   goal <= 10 us/op: "
          f"{'met' if t_mg <= 10e-6 else 'NOT met'}")

    rows = bench_graph_sizes(xp, args.sizes, args.repeats)
    print("[graph size]  chain y = tanh(y * 1.0001 + 0.1) on a 4-vector, forward + backward, "
          "us per operation")
    print(f"{'operations':>12} {'minigrad':>9} {'no cyclic gc':>13} {'torch (1 thread)':>17}"
          f" {'minigrad/torch':>15}")
    met = True
    for n, t_mg, t_nogc, t_torch in rows:
        ratio = "" if t_torch is None else f"{t_mg / t_torch:.2f}"
        torch_col = "not installed" if t_torch is None else f"{t_torch:.2f}"
        print(f"{n:>12,} {t_mg:>9.2f} {t_nogc:>13.2f} {torch_col:>17} {ratio:>15}")
        met = met and (t_torch is None or t_mg <= t_torch)
    small = rows[0][1] if rows else float("nan")
    print(f"goal (<= torch at every size, <= 5 us/op at {rows[0][0] if rows else 0:,} "
          f"operations): {'met' if met and small <= 5.0 else 'NOT met'}"
          f"{'' if rows and rows[0][3] is not None else ' (torch not installed: size goal unchecked)'}")

    t_mg, t_np = bench_mlp(xp, args.repeats)
    ratio = t_mg / t_np
    print(f"[MLP 784-256-256-10, batch 128, float32]  minigrad step: {t_mg * 1e3:7.3f} ms   "
          f"hand-written {args.backend}: {t_np * 1e3:7.3f} ms   ratio {ratio:4.2f}x   "
          f"goal <= 1.2x: {'met' if ratio <= 1.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
