"""The second- and zero-order methods of ``minimize`` on the standard test set, against SciPy
(and CMA-ES against pycma) where they are installed.

    python benchmarks/bench_minimize.py [--methods bfgs,l-bfgs,...] [--seeds 5] [--no-cma]
                                        [--verbose] [--starts 1,10,100]
                                        [--cma-rows rosenbrock:5] [--cma-variants default]

``--methods ""`` leaves the standard set out (the CMA-ES table alone).

The standard set: the 18 problems of Moré, Garbow & Hillstrom (``problems.mgh``, extended
Rosenbrock and extended Powell among them) at their default sizes and standard starts, every
method with its defaults and SciPy's with SciPy's, which are the same tolerances where both
have them (``gtol = 1e-5`` for BFGS and L-BFGS, ``xatol = fatol = 1e-4`` and ``maxfev = 200 n``
for Nelder–Mead). Both sides call the same oracle: the problem's value
and gradient in one call (``jac=True``), its Hessian (``hess``) or Hessian-vector products
(``hessp``); Nelder–Mead its value. "Evaluations" counts the calls of that oracle, so a line
search trial counts once whether it asks for f alone or for f and the gradient.

Solved: :math:`f - f^* \\le 10^{-8} + \\max(10^{-8}, r)\\,|f^*|`, ``r`` the relative size of the
last digit MGH print (``MGHProblem.solved``), the same rule for SciPy. The row "l-bfgs cubic" is
L-BFGS with N&W's cubic also in its first line search (``unscaled_interpolation="cubic"``, the
rule before Moré and Thuente's trial was adopted there). The table gives, per method,
the problems solved by each, the median evaluations over the problems both solve and their ratio,
and the largest iteration count in units of ``n``.

``--starts 1,10,100``: the same methods from :math:`t x_0` for each factor :math:`t` as well (MGH's
own practice); their minimum values are not all published, so there a run counts as solved when
:math:`f - f_b \\le 10^{-8} + 10^{-5}|f_b|`, :math:`f_b` the lower of the values the two methods
reach (and :math:`f^*` for :math:`t = 1`). The row gives the solved counts, the median evaluations
over the runs both solve and in how many of those ours uses fewer evaluations than SciPy's.

CMA-ES: the ellipsoid :math:`\\sum_i 10^{6(i-1)/(n-1)}x_i^2` from :math:`x_0 = 1`,
:math:`\\sigma_0 = 1` and Rosenbrock from :math:`x_0 = 0`, :math:`\\sigma_0 = 0.5`, in 5 and 10
dimensions, target :math:`f \\le 10^{-8}`, seeds 0..S-1 (21 by default; pycma's seed ``s + 1``:
its 0 means random); the median evaluations to the target (a run that misses it counts as
infinite), for the tutorial's positive-weight form, its active form and the default; for the
default, the ratio of its median to pycma's with a 95% bootstrap interval, and the misses of
each. ``--cma-rows`` and ``--cma-variants`` pick rows and columns (many seeds on one row).
"""
from __future__ import annotations

import argparse
import math
import pathlib
import statistics
import sys
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import minigrad as mg  # noqa: E402
from optimizers.minimize import minimize  # noqa: E402
from problems.mgh import MGH_PROBLEMS  # noqa: E402

try:
    import scipy
    import scipy.optimize as sp_optimize
except ImportError:  # pragma: no cover - depends on the machine
    scipy = None
try:
    import cma
except ImportError:  # pragma: no cover - depends on the machine
    cma = None

#: label -> (our method, our options, SciPy's method, the Hessian access both use)
ROWS = {
    "bfgs": ("bfgs", {}, "BFGS", None),
    "l-bfgs": ("l-bfgs", {}, "L-BFGS-B", None),
    "l-bfgs cubic": ("l-bfgs", {"unscaled_interpolation": "cubic"}, "L-BFGS-B", None),
    "newton": ("newton", {}, "Newton-CG", "hess"),
    "newton strong_wolfe": ("newton", {"line_search": "strong_wolfe"}, "Newton-CG", "hess"),
    "newton-cg": ("newton-cg", {}, "Newton-CG", "hessp"),
    "trust-ncg": ("trust-ncg", {}, "trust-ncg", "hessp"),
    "nelder-mead": ("nelder-mead", {}, "Nelder-Mead", None),
}


class Calls:
    """An oracle with a call counter."""

    def __init__(self, fn):
        self.fn, self.n = fn, 0

    def __call__(self, *args):
        self.n += 1
        return self.fn(*args)


def oracles(p, hessian):
    """The Hessian access of a run on problem ``p``: ``hess``, ``hessp`` or nothing."""
    extras = {}
    if hessian == "hess":
        extras["hess"] = lambda x: p.hessian(x)
    elif hessian == "hessp":
        extras["hessp"] = lambda x, v: p.hvp(x, v)
    return extras


def run_ours(p, method, options, hessian):
    if method == "nelder-mead":
        f = Calls(lambda x: p.value(x))
        res = minimize(f, p.x0, method=method, **options)
    else:
        f = Calls(lambda x: p.value_and_grad(x))
        res = minimize(f, p.x0, method=method, jac=True, **oracles(p, hessian), **options)
    return dict(f=float(res.fun), evals=f.n, nit=int(res.nit), status=int(res.status))


def run_scipy(p, method, hessian):
    x0 = mg.to_numpy(p.x0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "Nelder-Mead":
            f = Calls(lambda x: p.value(x))
            res = sp_optimize.minimize(f, x0, method=method)
        else:
            f = Calls(lambda x: p.value_and_grad(x))
            res = sp_optimize.minimize(f, x0, jac=True, method=method, **oracles(p, hessian))
    return dict(f=float(res.fun), evals=f.n, nit=int(res.nit), status=int(res.status))


def median(values):
    return statistics.median(values) if values else math.nan


def standard_set(labels, verbose=False):
    problems = [e.cls() for e in MGH_PROBLEMS]
    print(f"Standard set: {len(problems)} MGH problems, default options, evaluations = oracle "
          f"calls")
    if scipy is None:
        print("(SciPy is not installed: the reference columns are skipped; "
              "pip install scipy)")
    header = (f"{'method':22s} {'solved':>7s} {'SciPy':>6s} {'both':>5s} {'median':>8s} "
              f"{'SciPy':>7s} {'ratio':>6s} {'max nit/n':>9s}")
    print(header)
    for label in labels:
        method, options, sp_method, hessian = ROWS[label]
        ours = [run_ours(p, method, options, hessian) for p in problems]
        ref = [run_scipy(p, sp_method, hessian) for p in problems] if scipy else None
        solved = [p.solved(r["f"]) for p, r in zip(problems, ours)]
        worst = max(r["nit"] / p.n for p, r in zip(problems, ours))
        if ref is None:
            print(f"{label:22s} {sum(solved):7d} {'-':>6s} {'-':>5s} "
                  f"{median([r['evals'] for r, s in zip(ours, solved) if s]):8.1f} "
                  f"{'-':>7s} {'-':>6s} {worst:9.1f}")
            continue
        ref_solved = [p.solved(r["f"]) for p, r in zip(problems, ref)]
        both = [i for i in range(len(problems)) if solved[i] and ref_solved[i]]
        m_ours = median([ours[i]["evals"] for i in both])
        m_ref = median([ref[i]["evals"] for i in both])
        print(f"{label:22s} {sum(solved):7d} {sum(ref_solved):6d} {len(both):5d} "
              f"{m_ours:8.1f} {m_ref:7.1f} {m_ours / m_ref:6.2f} {worst:9.1f}")
        if verbose:
            for p, o, r, s, rs in zip(problems, ours, ref, solved, ref_solved):
                print(f"    {p.number:2d} {p.title[:24]:24s} n={p.n:2d}  ours f={o['f']:10.3e} "
                      f"{o['evals']:5d} evals {o['nit']:4d} it st={o['status']} "
                      f"{'solved' if s else '------'} | SciPy f={r['f']:10.3e} "
                      f"{r['evals']:5d} evals {'solved' if rs else '------'}")


def _scaled_runs(entry, factors, method, options, sp_method, hessian):
    """Ours and SciPy's runs of one problem from ``t * x0`` for each factor, each judged against
    the lower value the two reach (module docstring): ``(ours, scipy, ours solved, scipy solved,
    our iterations / n)``."""
    out = []
    for t in factors:
        p = entry.cls(x0=t * mg.to_numpy(entry.cls().x0))
        o, r = run_ours(p, method, options, hessian), run_scipy(p, sp_method, hessian)
        f_b = min(o["f"], r["f"], p.f_star if t == 1 and p.f_star is not None else math.inf)
        tol = 1e-8 + 1e-5 * abs(f_b)                   # f - f_b <= 1e-8 + 1e-5 |f_b|
        out.append((o, r, o["f"] - f_b <= tol, r["f"] - f_b <= tol, o["nit"] / p.n))
    return out


def scaled_starts(labels, factors):
    """The standard set from ``t * x0`` for each factor (module docstring), one row per method."""
    if scipy is None:
        print("(SciPy is not installed: --starts needs it)")
        return
    print(f"\nStarts t x0, t in {factors}: solved = within 1e-8 + 1e-5 |f_b| of the lower value "
          f"reached (f* too for t = 1)")
    print(f"{'method':22s} {'runs':>5s} {'solved':>7s} {'SciPy':>6s} {'both':>5s} {'median':>8s} "
          f"{'SciPy':>7s} {'fewer':>6s} {'max nit/n':>9s}")
    for label in labels:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")            # overflowing trials from 100 x0
            rows = [row for e in MGH_PROBLEMS
                    for row in _scaled_runs(e, factors, *ROWS[label])]
        both = [(o["evals"], r["evals"]) for o, r, so, sr, _ in rows if so and sr]
        print(f"{label:22s} {len(rows):5d} {sum(row[2] for row in rows):7d} "
              f"{sum(row[3] for row in rows):6d} {len(both):5d} "
              f"{median([a for a, _ in both]):8.1f} {median([b for _, b in both]):7.1f} "
              f"{sum(a < b for a, b in both):6d} {max(row[4] for row in rows):9.1f}")


# --------------------------------------------------------------------------- CMA-ES
def ellipsoid(x):
    x = mg.to_numpy(x)
    n = x.size
    return float(np.sum(10.0 ** (6.0 * np.arange(n) / (n - 1)) * x * x))


def rosenbrock(x):
    x = mg.to_numpy(x)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


CMA_PROBLEMS = {"ellipsoid": (ellipsoid, 1.0, 1.0), "rosenbrock": (rosenbrock, 0.0, 0.5)}


#: label -> the options of minimize(method="cma-es") for that column; "default" is pycma's form
CMA_VARIANTS = {"positive": dict(active=False, c_sigma_form="tutorial"),
                "active": dict(active=True, c_sigma_form="tutorial"),
                "default": {}}


def _bootstrap_ratio(ours, ref, resamples=2000):
    """A 95% percentile-bootstrap interval for median(ours) / median(ref), the two samples
    resampled independently (a fixed generator: the same figures on every run)."""
    rng = np.random.default_rng(0)
    a, b = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    with np.errstate(invalid="ignore"):
        r = [np.median(a[rng.integers(0, a.size, a.size)])
             / np.median(b[rng.integers(0, b.size, b.size)]) for _ in range(resamples)]
        return np.percentile(r, [2.5, 97.5])


def cma_benchmark(seeds, rows=None, variants=tuple(CMA_VARIANTS)):
    """``rows``: (problem, n) pairs (all four by default); ``variants``: the columns of ours."""
    rows = rows or [(name, n) for name in CMA_PROBLEMS for n in (5, 10)]
    print(f"\nCMA-ES: evaluations to f <= 1e-8, median over seeds 0..{seeds - 1} (a miss counts "
          f"as infinite); positive = the tutorial's positive weights, active = its active "
          f"update, default = the active update with pycma's c_sigma (pycma's defaults)")
    if cma is None:
        print("(pycma is not installed: the reference column is skipped; pip install cma)")
    print(f"{'problem':12s} {'n':>3s} " + " ".join(f"{k:>8s}" for k in variants)
          + f" {'pycma':>8s} {'ratio (default)':>16s} {'95% interval':>14s} {'misses':>8s}")
    for name, n in rows:
        f, x0v, sigma0 = CMA_PROBLEMS[name]
        x0 = np.full(n, x0v)
        runs = {}
        for label in variants:
            evals = []
            for seed in range(seeds):
                res = minimize(f, x0, method="cma-es", sigma0=sigma0, ftarget=1e-8,
                               seed=seed, **CMA_VARIANTS[label])
                evals.append(res.nfev if res.fun <= 1e-8 else math.inf)
            runs[label] = evals
        ref = [math.nan]
        if cma is not None:
            ref = []
            for seed in range(seeds):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    es = cma.CMAEvolutionStrategy(x0, sigma0, {"ftarget": 1e-8,
                                                               "seed": seed + 1,
                                                               "verbose": -9})
                    es.optimize(f)
                ref.append(es.result.evaluations if es.result.fbest <= 1e-8 else math.inf)
        ratio, interval, misses = math.nan, "", ""
        if "default" in runs and cma is not None:
            ratio = median(runs["default"]) / median(ref)
            lo, hi = _bootstrap_ratio(runs["default"], ref)
            interval = f"[{lo:.2f}, {hi:.2f}]"
            misses = f"{sum(map(math.isinf, runs['default']))}/{sum(map(math.isinf, ref))}"
        print(f"{name:12s} {n:3d} " + " ".join(f"{median(runs[k]):8.0f}" for k in variants)
              + f" {median(ref):8.0f} {ratio:16.2f} {interval:>14s} {misses:>8s}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default=",".join(ROWS),
                        help=f"comma-separated rows, from {list(ROWS)}")
    parser.add_argument("--seeds", type=int, default=21)
    parser.add_argument("--no-cma", action="store_true")
    parser.add_argument("--cma-rows", default="",
                        help="comma-separated problem:n rows of the CMA-ES table (all four by "
                             "default), e.g. rosenbrock:5")
    parser.add_argument("--cma-variants", default=",".join(CMA_VARIANTS),
                        help=f"comma-separated columns of ours, from {list(CMA_VARIANTS)}")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--starts", default="",
                        help="comma-separated factors t: also run the standard set from t x0")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1; got {args.seeds}")
    rows = []
    for item in filter(None, (t.strip() for t in args.cma_rows.split(","))):
        name, _, n = item.partition(":")
        if name not in CMA_PROBLEMS or not n.isdigit() or int(n) < 2:
            parser.error(f"--cma-rows: {item!r} is not problem:n with a problem from "
                         f"{list(CMA_PROBLEMS)} and n >= 2")
        rows.append((name, int(n)))
    variants = [v.strip() for v in args.cma_variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(CMA_VARIANTS))
    if not variants:
        parser.error(f"--cma-variants: give at least one of {list(CMA_VARIANTS)}")
    if unknown:
        parser.error(f"--cma-variants: unknown {unknown}; known: {list(CMA_VARIANTS)}")
    versions = [f"NumPy {np.__version__}"]
    if scipy is not None:
        versions.append(f"SciPy {scipy.__version__}")
    if cma is not None:
        versions.append(f"pycma {cma.__version__}")
    print(", ".join(versions))
    labels = [s.strip() for s in args.methods.split(",") if s.strip()]
    unknown = sorted(set(labels) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {unknown}; known: {list(ROWS)}")
    if args.starts and not labels:
        parser.error("--starts needs rows of the standard set (--methods)")
    if labels:   # --methods "": the CMA-ES table alone
        standard_set(labels, verbose=args.verbose)
    if args.starts:
        scaled_starts(labels, [float(t) for t in args.starts.split(",")])
    if not args.no_cma:
        cma_benchmark(args.seeds, rows, variants)


if __name__ == "__main__":
    main()
