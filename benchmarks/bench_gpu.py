"""GPU-sized work: the optimizer step's memory bandwidth, L-BFGS on a large logistic regression,
and a wide MLP's training step, on a device backend next to NumPy on the same machine's CPU.

    python benchmarks/bench_gpu.py [--backend cupy|strict|numpy] [--small] [--markdown FILE]

Three measurements, each printed as a table row (and appended to ``--markdown`` as Markdown):

1. **Optimizer step at n float32 parameters** (default n = 10^8), for ``Momentum`` and ``Adam``:
   the median time of one ``step()`` after two warm-up steps, and the memory bandwidth it
   reaches: the bytes the update must move, divided by the time, over the device's peak
   bandwidth (CuPy: memory clock x bus width x 2 / 8, from the device attributes). The bytes the
   update must move, counted from the formulas: heavy-ball momentum reads g, v, p and writes v, p
   (5 arrays of 4n bytes); Adam reads g, m, v, p and writes m, v, p (7 arrays). Goal: >= 50%.
2. **L-BFGS on l2-regularised logistic regression** with m x d float32 data (default
   10^6 x 10^3), ``minimize(method="L-BFGS-B", jac=True)`` for a fixed number of iterations
   (``gtol=0``, ``maxiter=10``) on the device and with NumPy, the same data: the ratio of the
   times. Goal: >= 20x.
3. **A wide MLP's training step** (784 -> 4096 -> 4096 -> 10, ReLU, batch 512, float32,
   cross-entropy, forward + backward + ``Adam.step()``) on the device and with NumPy; where
   torch and a CUDA device are present, the same model in torch on the GPU. Goals: >= 20x
   NumPy's time, within 1.5x of torch's.

``--small`` shrinks every size (n = 10^6, 2*10^4 x 200 data, width 512) to check the script on a
machine without a GPU (``--backend strict``); its figures are not the goals' figures.
Times are medians of a few repeats; on a GPU every timed region ends with a synchronisation.
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import minigrad as mg  # noqa: E402
import optimizers as O  # noqa: E402
from minigrad import nn  # noqa: E402
from optimizers.minimize import minimize  # noqa: E402

#: arrays of 4n bytes the update must read and write, from the formulas
BYTES_MOVED = {"Momentum": 5, "Adam": 7}


def sync(backend: str) -> None:
    if backend == "cupy":  # pragma: no cover - GPU only
        import cupy

        cupy.cuda.Device().synchronize()


def median_time(fn, backend: str, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    sync(backend)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync(backend)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_bandwidth(backend: str):
    """The device's peak memory bandwidth in bytes/s (CuPy), or None."""
    if backend != "cupy":
        return None
    import cupy  # pragma: no cover - GPU only

    try:  # pragma: no cover
        attrs = cupy.cuda.Device().attributes
        clock_khz = attrs["MemoryClockRate"]
        bus_bits = attrs["GlobalMemoryBusWidth"]
    except (KeyError, AttributeError, RuntimeError):  # pragma: no cover
        return None
    return 2.0 * clock_khz * 1e3 * bus_bits / 8.0  # pragma: no cover (double data rate)


def device_name(backend: str) -> str:
    if backend == "cupy":  # pragma: no cover - GPU only
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    return f"{backend} backend on the CPU"


# ---------------------------------------------------------------------------- 1. the step
def bench_step(backend: str, n: int, repeats: int) -> list:
    rows = []
    peak = peak_bandwidth(backend)
    rng = np.random.default_rng(0)
    g_host = rng.standard_normal(n, dtype=np.float32)
    for name, make in (("Momentum", lambda ps: O.Momentum(ps, lr=1e-3, momentum=0.9)),
                       ("Adam", lambda ps: O.Adam(ps, lr=1e-3))):
        with mg.use_backend(backend):
            p = mg.Tensor(np.zeros(n, np.float32), requires_grad=True)
            p.grad = mg.backend.asarray(g_host)
            opt = make([p])
            t = median_time(opt.step, backend, repeats)
            del opt, p
        moved = BYTES_MOVED[name] * 4 * n
        share = None if peak is None else moved / t / peak
        rows.append(dict(what=f"{name}.step(), n = {n:.0e} float32", seconds=t,
                         bandwidth=moved / t, share=share))
    return rows


# ---------------------------------------------------------------------------- 2. L-BFGS
def logistic_problem(m: int, d: int, lam: float, seed: int):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, d), dtype=np.float32)
    w = rng.standard_normal(d, dtype=np.float32)
    y = np.where(A @ w / np.sqrt(d) + 0.1 * rng.standard_normal(m, dtype=np.float32) >= 0,
                 1.0, -1.0).astype(np.float32)
    return A, y, lam


def lbfgs_seconds(backend: str, A, y, lam: float, iterations: int):
    with mg.use_backend(backend):
        At, yt = mg.Tensor(A), mg.Tensor(y)

        def loss(x):
            return mg.softplus(-(yt * (At @ x))).mean() + (0.5 * lam) * (x * x).sum()

        vg = mg.value_and_grad(loss)
        x0 = mg.backend.asarray(np.zeros(A.shape[1], np.float32))
        vg(mg.Tensor(x0))  # warm-up (kernels compiled, memory pools filled)
        sync(backend)
        t0 = time.perf_counter()
        res = minimize(lambda x: vg(x), mg.Tensor(x0), method="L-BFGS-B", jac=True,
                       options={"maxiter": iterations, "gtol": 0.0})
        sync(backend)
        return time.perf_counter() - t0, res


def bench_lbfgs(backend: str, m: int, d: int, iterations: int) -> list:
    A, y, lam = logistic_problem(m, d, 1e-4, 0)
    t_dev, r_dev = lbfgs_seconds(backend, A, y, lam, iterations)
    t_cpu, r_cpu = lbfgs_seconds("numpy", A, y, lam, iterations)
    return [dict(what=f"L-BFGS, logistic regression {m:.0e} x {d:.0e} float32, "
                      f"{r_dev.nit} iterations ({r_dev.nfev} evaluations; NumPy {r_cpu.nit}, "
                      f"{r_cpu.nfev})", seconds=t_dev, numpy_seconds=t_cpu,
                 speedup=t_cpu / t_dev, f=(float(r_dev.fun), float(r_cpu.fun)))]


# ---------------------------------------------------------------------------- 3. the MLP
def mlp_step_seconds(backend: str, sizes, batch: int, repeats: int):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    labels = rng.integers(0, sizes[-1], batch)
    with mg.use_backend(backend):
        net = nn.MLP(sizes, activation="relu", dtype="float32", seed=0)
        opt = O.Adam(net.parameters(), lr=1e-4)
        Xt, yt = mg.Tensor(X), mg.backend.asarray(labels)

        def step():
            opt.zero_grad()
            nn.cross_entropy(net(Xt), yt).backward()
            opt.step()
        return median_time(step, backend, repeats)


def torch_mlp_step_seconds(sizes, batch: int, repeats: int):
    """The same model in torch on the GPU, or None without torch or CUDA."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    dev = torch.device("cuda")  # pragma: no cover - GPU only
    layers = []  # pragma: no cover
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):  # pragma: no cover
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers).to(dev)  # pragma: no cover
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)  # pragma: no cover
    X = torch.randn(batch, sizes[0], device=dev)  # pragma: no cover
    y = torch.randint(0, sizes[-1], (batch,), device=dev)  # pragma: no cover

    def step():  # pragma: no cover
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(X), y).backward()
        opt.step()
        torch.cuda.synchronize()
    return median_time(step, "torch", repeats)  # pragma: no cover


def bench_mlp(backend: str, width: int, batch: int, repeats: int) -> list:
    sizes = [784, width, width, 10]
    t_dev = mlp_step_seconds(backend, sizes, batch, repeats)
    t_cpu = mlp_step_seconds("numpy", sizes, batch, max(2, repeats // 3))
    t_torch = torch_mlp_step_seconds(sizes, batch, repeats)
    return [dict(what=f"MLP {'-'.join(map(str, sizes))}, batch {batch}, float32, "
                      f"forward + backward + Adam", seconds=t_dev, numpy_seconds=t_cpu,
                 speedup=t_cpu / t_dev, torch_seconds=t_torch,
                 vs_torch=None if t_torch is None else t_dev / t_torch)]


# ---------------------------------------------------------------------------- report
def _goal(ok) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT met")


def markdown(backend: str, step_rows, lbfgs_rows, mlp_rows) -> str:
    lines = [f"Device: **{device_name(backend)}** (backend `{backend}`).", "",
             "| measurement | device time | reference | ratio | goal |",
             "|---|---|---|---|---|"]
    for r in step_rows:
        share = "n/a" if r["share"] is None else f"{100 * r['share']:.0f}% of peak"
        lines.append(f"| {r['what']} | {1e3 * r['seconds']:.2f} ms | "
                     f"{r['bandwidth'] / 1e9:.0f} GB/s moved | {share} | "
                     f">= 50% of peak: {_goal(None if r['share'] is None else r['share'] >= 0.5)} |")
    for r in lbfgs_rows:
        lines.append(f"| {r['what']} | {r['seconds']:.2f} s | NumPy {r['numpy_seconds']:.2f} s | "
                     f"{r['speedup']:.1f}x | >= 20x: {_goal(r['speedup'] >= 20)} |")
    for r in mlp_rows:
        torch_txt = ("" if r["torch_seconds"] is None else
                     f"; torch {1e3 * r['torch_seconds']:.2f} ms ({r['vs_torch']:.2f}x torch's)")
        lines.append(f"| {r['what']} | {1e3 * r['seconds']:.2f} ms | "
                     f"NumPy {1e3 * r['numpy_seconds']:.1f} ms{torch_txt} | "
                     f"{r['speedup']:.1f}x | >= 20x: {_goal(r['speedup'] >= 20)}; "
                     f"<= 1.5x torch: {_goal(None if r['vs_torch'] is None else r['vs_torch'] <= 1.5)} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="cupy", choices=("cupy", "strict", "numpy"))
    ap.add_argument("--small", action="store_true", help="small sizes, to check the script")
    ap.add_argument("--markdown", default=None, help="append the table to this file")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    n, m, d, width = (10**6, 20_000, 200, 512) if args.small else (10**8, 10**6, 10**3, 4096)
    step_rows = bench_step(args.backend, n, args.repeats)
    lbfgs_rows = bench_lbfgs(args.backend, m, d, iterations=10)
    mlp_rows = bench_mlp(args.backend, width, 512, args.repeats)
    text = markdown(args.backend, step_rows, lbfgs_rows, mlp_rows)
    print(text)
    if args.markdown:
        with open(args.markdown, "a") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
