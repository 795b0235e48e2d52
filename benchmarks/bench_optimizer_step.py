"""Speed and memory of one optimizer step next to a hand-written in-place update.

    python benchmarks/bench_optimizer_step.py [--backend numpy|cupy] [--n 10000000] [--repeats 10]

For heavy-ball momentum (the velocity form, ``optimizers.Momentum``) and Adam
(``optimizers.Adam``) on one float32 parameter of ``n`` entries, in the same run:

* ``ours``: the optimizer's ``step()``;
* ``hand (naive)``: the update as one would write it by hand with in-place NumPy operators
  (``m *= b1; m += (1 - b1) * g; ...``), whose right-hand sides allocate temporaries;
* ``hand (out=)``: the same formulas with ``out=`` arguments into one preallocated scratch
  array: the fastest plain-NumPy version we know, the reference of the speed goal.

Time: the median over ``--repeats`` steps, after two warm-up steps (CuPy: synchronised).
Memory: ``tracemalloc`` (which sees NumPy's allocations) around one step, after the warm-up:
the peak of new allocations; and around the first step of a fresh optimizer (its state and
scratch are created there). Reported in units of the parameter's size.

Goal: ours <= 1.2 x hand (out=), and extra memory <= the state arrays plus one
temporary of the parameter's size. The script prints the ratios and whether the goal holds;
it is a measurement, not a test.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minigrad  # noqa: E402
from minigrad import backend as B  # noqa: E402
from optimizers import Adam, Momentum  # noqa: E402

LR, MU = 1e-3, 0.9
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8


# --------------------------------------------------------------------------- hand-written updates
def momentum_naive(xp):
    def init(p):
        return {"v": xp.zeros_like(p)}

    def step(p, g, s, k):
        v = s["v"]
        v *= MU
        v -= LR * g          # v = mu v - eta g   (LR * g is a temporary)
        p += v               # w = w + v
    return init, step


def momentum_out(xp):
    def init(p):
        return {"v": xp.zeros_like(p), "tmp": xp.empty_like(p)}

    def step(p, g, s, k):
        v, tmp = s["v"], s["tmp"]
        v *= MU
        xp.multiply(g, LR, out=tmp)
        v -= tmp
        p += v
    return init, step


def adam_naive(xp):
    def init(p):
        return {"m": xp.zeros_like(p), "v": xp.zeros_like(p)}

    def step(p, g, s, k):
        m, v = s["m"], s["v"]
        m *= BETA1
        m += (1 - BETA1) * g
        v *= BETA2
        v += (1 - BETA2) * (g * g)
        bc1, bc2 = 1 - BETA1 ** k, 1 - BETA2 ** k
        p -= (LR / bc1) * m / (xp.sqrt(v / bc2) + EPS)
    return init, step


def adam_out(xp):
    def init(p):
        return {"m": xp.zeros_like(p), "v": xp.zeros_like(p), "tmp": xp.empty_like(p)}

    def step(p, g, s, k):
        m, v, tmp = s["m"], s["v"], s["tmp"]
        m *= BETA1
        xp.multiply(g, 1 - BETA1, out=tmp)
        m += tmp
        v *= BETA2
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - BETA2
        v += tmp
        xp.sqrt(v, out=tmp)
        tmp *= 1 / math.sqrt(1 - BETA2 ** k)
        tmp += EPS
        xp.divide(m, tmp, out=tmp)
        tmp *= LR / (1 - BETA1 ** k)
        p -= tmp
    return init, step


# --------------------------------------------------------------------------- measurement
def _sync(xp):
    if xp.__name__ == "cupy":  # pragma: no cover - GPU only
        xp.cuda.Stream.null.synchronize()


def _fresh(xp, n, seed=0):
    rng = B.host_rng(seed)
    p = xp.asarray(rng.standard_normal(n, dtype="float32"))
    g = xp.asarray(rng.standard_normal(n, dtype="float32"))
    return p, g


def time_hand(xp, make, n, repeats):
    init, step = make(xp)
    p, g = _fresh(xp, n)
    s = init(p)
    times = []
    for k in range(1, repeats + 3):
        _sync(xp)
        t0 = time.perf_counter()
        step(p, g, s, k)
        _sync(xp)
        if k > 2:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_ours(xp, cls, kwargs, n, repeats):
    p, g = _fresh(xp, n)
    x = minigrad.Tensor(p, requires_grad=True)
    del p
    x.grad = g
    opt = cls([x], **kwargs)
    times = []
    for k in range(1, repeats + 3):
        _sync(xp)
        t0 = time.perf_counter()
        opt.step()
        _sync(xp)
        if k > 2:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def memory_hand(xp, make, n):
    """(peak new bytes in the first step incl. state, peak new bytes in a later step)."""
    init, step = make(xp)
    p, g = _fresh(xp, n)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    s = init(p)
    step(p, g, s, 1)
    first = tracemalloc.get_traced_memory()[1] - base
    step(p, g, s, 2)
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    step(p, g, s, 3)
    later = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return first, later


def memory_ours(xp, cls, kwargs, n):
    p, g = _fresh(xp, n)
    x = minigrad.Tensor(p, requires_grad=True)
    del p
    x.grad = g
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    opt = cls([x], **kwargs)
    opt.step()
    first = tracemalloc.get_traced_memory()[1] - base
    opt.step()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    opt.step()
    later = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return first, later


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", default="numpy", choices=["numpy", "cupy"])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args(argv)
    minigrad.set_backend(args.backend)
    xp = B.xp()
    n, size = args.n, args.n * 4
    cases = [
        ("SGD + momentum", Momentum, dict(lr=LR, momentum=MU), momentum_naive, momentum_out,
         1),
        ("Adam", Adam, dict(lr=LR, betas=(BETA1, BETA2), eps=EPS), adam_naive, adam_out, 2),
    ]
    print(f"backend {args.backend}, n = {n:,} float32 parameters ({size / 2**20:.0f} MiB), "
          f"median of {args.repeats} steps")
    header = (f"{'method':16s} {'ours ms':>8s} {'naive ms':>9s} {'out= ms':>8s} "
              f"{'ours/naive':>10s} {'ours/out=':>9s}  {'mem 1st step':>12s} "
              f"{'mem later':>9s}  {'state':>5s}  goal")
    print(header)
    ok_all = True
    for name, cls, kwargs, naive, tuned, n_state in cases:
        t_naive = time_hand(xp, naive, n, args.repeats)
        t_out = time_hand(xp, tuned, n, args.repeats)
        t_ours = time_ours(xp, cls, kwargs, n, args.repeats)
        if args.backend == "numpy":
            first, later = memory_ours(xp, cls, kwargs, n)
            mem = (f"{first / size:11.2f}x {later / size:8.2f}x")
            mem_ok = first <= (n_state + 1) * size * 1.01 and later <= size * 1.01
        else:  # pragma: no cover - tracemalloc does not see GPU memory
            mem, mem_ok = f"{'n/a':>12s} {'n/a':>9s}", True
        ok = t_ours <= 1.2 * t_out and mem_ok
        ok_all &= ok
        print(f"{name:16s} {t_ours * 1e3:8.2f} {t_naive * 1e3:9.2f} {t_out * 1e3:8.2f} "
              f"{t_ours / t_naive:10.2f} {t_ours / t_out:9.2f}  {mem}  {n_state:>4d}x  "
              f"{'met' if ok else 'NOT met'}")
    if args.backend == "numpy":
        print("memory: peak new allocations around the first step (state + scratch) and "
              "around a later step, in units of the parameter's size; goal: first <= state + 1, "
              "later <= 1")
        for name, _, _, naive, tuned, _ in cases:
            fn, ln = memory_hand(xp, naive, n)
            fo, lo = memory_hand(xp, tuned, n)
            print(f"  hand-written {name}: naive {fn / size:.2f}x / {ln / size:.2f}x, "
                  f"out= {fo / size:.2f}x / {lo / size:.2f}x")
    print("goal (ours <= 1.2 x hand out=, memory <= state + 1 temporary):",
          "met" if ok_all else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
