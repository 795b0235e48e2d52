"""L-BFGS on l2-regularised logistic regression: iterations, evaluations, time, and the share of
the time spent outside f and its gradient (the optimizer's own work: the two-loop recursion, the
line search, bookkeeping). Goal: under 10%.

    python benchmarks/bench_lbfgs.py [--samples 10000] [--features 500] [--lam 1e-4]
                                     [--gtol 1e-5] [--backend numpy|cupy] [--seed 0]

The problem (data generated from the seed, nothing downloaded):

    f(x) = 1/m sum_i log(1 + exp(-y_i a_i^T x)) + lam/2 ||x||^2,

with a_i ~ N(0, I), w ~ N(0, I) and labels y_i = sign(a_i^T w / sqrt(d) + 0.1 noise) in {-1, +1}. f and its
gradient come from minigrad (softplus, matmul); the timed function is the one minigrad-based
``value_and_grad`` that both optimizers call (``jac=True``), so "inside f" is the same work for
both. Where SciPy is installed its L-BFGS-B runs on the same function with the same memory
(m = 10) and gtol, and its figures are printed next to ours. One run each, after one warm-up
evaluation (and one iteration of each solver, so that imports are not timed). The machine's load
shows in the seconds; the counts are exact.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import minigrad as mg  # noqa: E402
from optimizers.minimize import minimize  # noqa: E402


def make_problem(m: int, d: int, lam: float, seed: int):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, d))
    w = rng.standard_normal(d)
    y = np.sign(A @ w / np.sqrt(d) + 0.1 * rng.standard_normal(m))
    y[y == 0] = 1.0
    At = mg.Tensor(A)
    yt = mg.Tensor(y)

    def loss(x):
        margins = yt * (At @ x)
        return mg.softplus(-margins).mean() + (0.5 * lam) * (x * x).sum()

    return loss, d


class Timed:
    """``fun(x) -> (f, grad)`` through minigrad, with the time spent inside accumulated."""

    def __init__(self, loss):
        self.vg = mg.value_and_grad(loss)
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, x):
        t0 = time.perf_counter()
        value, g = self.vg(x)
        value = float(value)
        if mg.backend.backend_name_of(g) == "cupy":   # pragma: no cover - GPU only
            import cupy

            cupy.cuda.Device().synchronize()
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        return value, g


def report(name, nit, nfev, total, inside, fun, gnorm, status):
    outside = total - inside
    print(f"{name:<22} {nit:>6} {nfev:>6} {total:>9.3f} {inside:>9.3f} {outside:>9.4f} "
          f"{100 * outside / total:>8.2f}% {fun:>14.10f} {gnorm:>9.2e}  {status}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--features", type=int, default=500)
    ap.add_argument("--lam", type=float, default=1e-4)
    ap.add_argument("--gtol", type=float, default=1e-5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backend", default="numpy", choices=("numpy", "cupy"))
    args = ap.parse_args(argv)
    mg.set_backend(args.backend)
    loss, d = make_problem(args.samples, args.features, args.lam, args.seed)
    x0 = mg.backend.xp().zeros(d)
    print(f"l2-regularised logistic regression: m = {args.samples} samples, d = {d} features, "
          f"lam = {args.lam:g}, gtol = {args.gtol:g} (inf-norm), memory m = 10, "
          f"backend {args.backend}")
    Timed(loss)(x0)                                   # warm-up (and the solvers' imports)
    minimize(Timed(loss), x0, method="l-bfgs", jac=True, maxiter=1)
    minimize(Timed(loss), x0, method="bfgs", jac=True, maxiter=1)
    print(f"{'method':<22} {'nit':>6} {'nfev':>6} {'total s':>9} {'f+grad s':>9} "
          f"{'outside s':>9} {'outside':>9} {'f*':>14} {'|g|_inf':>9}  status")

    fun = Timed(loss)
    t0 = time.perf_counter()
    res = minimize(fun, x0, method="l-bfgs", jac=True, gtol=args.gtol, m=10)
    total = time.perf_counter() - t0
    assert fun.calls == res.nfev
    g_inf = float(np.abs(mg.to_numpy(res.jac)).max())
    report("ours: L-BFGS", res.nit, res.nfev, total, fun.seconds, res.fun, g_inf, res.message)

    fun_b = Timed(loss)
    t0 = time.perf_counter()
    res_b = minimize(fun_b, x0, method="bfgs", jac=True, gtol=args.gtol)
    total_b = time.perf_counter() - t0
    report("ours: BFGS", res_b.nit, res_b.nfev, total_b, fun_b.seconds, res_b.fun,
           float(np.abs(mg.to_numpy(res_b.jac)).max()), res_b.message)

    try:
        from scipy.optimize import minimize as sp_minimize
    except ImportError:
        print("SciPy is not installed: no L-BFGS-B comparison")
        return
    if args.backend != "numpy":
        print("SciPy runs on NumPy only: no L-BFGS-B comparison on this backend")
        return
    fun_s = Timed(loss)
    t0 = time.perf_counter()
    sp = sp_minimize(fun_s, np.zeros(d), jac=True, method="L-BFGS-B",
                     options={"gtol": args.gtol, "maxcor": 10, "maxiter": 15000,
                              "maxfun": 15000, "ftol": 0.0})
    total_s = time.perf_counter() - t0
    report("SciPy: L-BFGS-B", sp.nit, sp.nfev, total_s, fun_s.seconds, float(sp.fun),
           float(np.abs(sp.jac).max()), sp.message)
    fun_s = Timed(loss)
    t0 = time.perf_counter()
    sp = sp_minimize(fun_s, np.zeros(d), jac=True, method="BFGS", options={"gtol": args.gtol})
    total_s = time.perf_counter() - t0
    report("SciPy: BFGS", sp.nit, sp.nfev, total_s, fun_s.seconds, float(sp.fun),
           float(np.abs(sp.jac).max()), sp.message)


if __name__ == "__main__":
    main()
