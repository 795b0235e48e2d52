"""The polar factor U V^T: five Newton–Schulz steps against an SVD (a benchmark, not a test).

For 512 x 512 and 2048 x 512 float32 matrices (Gaussian), in one run: the time of

* ``svd``: ``xp.linalg.svd(G, full_matrices=False)`` then ``U @ Vt`` (the exact polar factor);
* ``ns5``: Muon's quintic, five steps (``optimizers.newton_schulz.newton_schulz_quintic``);
* ``pe5``: Polar Express, five steps (``optimizers.newton_schulz.polar_express``);
* ``cubic5``: the cubic Newton–Schulz iteration, five steps;

each followed by a synchronisation on the GPU, and the ratios svd / ns5 etc. (> 1: the iteration
is faster than the SVD). Goal: Newton–Schulz faster than the SVD at 2048 x 512. Also printed:
the spectral-norm distance of each result to the SVD's U V^T (five quintic steps are an
approximation by design).

Run: ``python benchmarks/bench_newton_schulz.py [--backend numpy|cupy] [--repeats N]``.
Timings are the best of several repeats, the methods taking turns (the machines are shared).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import minigrad as mg
from optimizers import newton_schulz as ns


def sync(xp):
    if xp.__name__ == "cupy":  # pragma: no cover - GPU only
        xp.cuda.Device().synchronize()


def best_times(fns, repeats: int, number: int) -> list:
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / number)
    return best


def bench(shape, xp, repeats: int):
    rng = np.random.default_rng(0)
    G = xp.asarray(rng.standard_normal(shape).astype(np.float32))

    def svd():
        U, _, Vt = xp.linalg.svd(G, full_matrices=False)
        out = U @ Vt
        sync(xp)
        return out

    def ns5():
        out = ns.newton_schulz_quintic(G, steps=5)
        sync(xp)
        return out

    def pe5():
        out = ns.polar_express(G, steps=5)
        sync(xp)
        return out

    def cubic5():
        out = ns.newton_schulz_cubic(G, steps=5)
        sync(xp)
        return out

    fns = [svd, ns5, pe5, cubic5]
    for fn in fns:  # warm up (CuPy compiles kernels and builds cuSOLVER/cuBLAS handles once)
        fn()
    times = best_times(fns, repeats, 1)
    exact = svd()
    errors = [float(np.linalg.norm(mg.to_numpy((fn() - exact).astype(xp.float64)), 2))
              for fn in fns[1:]]
    return times, errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with mg.use_backend(args.backend):
        xp = mg.backend.xp()
        print(f"backend: {args.backend}; float32; best of {args.repeats} repeats")
        print(f"{'shape':>12} {'svd ms':>9} {'ns5 ms':>9} {'pe5 ms':>9} {'cubic5 ms':>10} "
              f"{'svd/ns5':>8} {'svd/pe5':>8} {'svd/cubic5':>10}   ||X - UV^T||_2 ns5 / pe5 / cubic5")
        for shape in [(512, 512), (2048, 512)]:
            (t_svd, t_ns, t_pe, t_cu), errs = bench(shape, xp, args.repeats)
            print(f"{shape!s:>12} {1e3 * t_svd:9.2f} {1e3 * t_ns:9.2f} {1e3 * t_pe:9.2f} "
                  f"{1e3 * t_cu:10.2f} {t_svd / t_ns:8.2f} {t_svd / t_pe:8.2f} "
                  f"{t_svd / t_cu:10.2f}   {errs[0]:.3f} / {errs[1]:.3f} / {errs[2]:.3f}")
        print("ratio > 1: the iteration is faster than the SVD (goal: svd/ns5 > 1 at 2048 x 512)")


if __name__ == "__main__":
    main()
