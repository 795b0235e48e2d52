r"""Multidimensional scaling of the European capitals: recover the map from the distances with
GD, Nelder–Mead and L-BFGS (L1, slide "Пример: задача многомерного шкалирования"; docs/lectures.md
sections 7 and 9).

Problem: ``problems.MDS.capitals()``, the 20 capitals of ``problems/data/capitals.csv`` with
their great-circle (haversine) distances :math:`d_{ij}` in units of 1000 km, and the raw stress

.. math:: L(W)=\sum_{i,j=1}^N\bigl(\|W_i-W_j\|_2-d_{ij}\bigr)^2,\qquad W\in\mathbb R^{N\times2}

(40 unknowns; the lecture writes the squared form, whose :math:`D_{ij}` are squared distances;
the raw form keeps the map's scale linear). All methods start from the problem's seeded start
:math:`W_0\sim N(0,1)` (the CLI seed):

* **GD** (``optimizers.SGD``, full gradient) with the step :math:`\alpha=\frac1{4N}`: on the raw
  stress with unit weights this step is exactly Guttman's transform of SMACOF (de Leeuw 1977),
  :math:`W^+=\frac1NB(W)W` for centred :math:`W` (here :math:`\nabla L=4(VW-B(W)W)` with
  :math:`V=NI-\mathbf1\mathbf1^\top`), a majorisation step that never increases the stress: the
  step comes from the problem's structure, not from tuning;
* **Nelder–Mead** (``nelder_mead``) with Gao & Han's adaptive coefficients (meant for dimensions
  above a few; :math:`n=40` here), Pfeffer's initial simplex, run to its evaluation budget;
* **L-BFGS** (``lbfgs``, :math:`m=10`, strong Wolfe search), stopped at
  :math:`\|\nabla L\|_\infty\le10^{-8}`.

Cost: every call of :math:`L` is counted (a counting wrapper); a value-only call costs 1, a
value-and-gradient call costs :math:`\omega=5` function evaluations. Reverse mode gives the
gradient with the value for a small constant times the value's cost (Griewank & Walther's cheap
gradient principle bounds the operation count by about 4-5); 5 is at least that bound and our
engine's measured wall-clock ratio (3 to 4, measured in each run and reported), so the
convention does not favour the gradient methods.

The true map: the azimuthal equidistant projection (km) of the capitals' latitudes and longitudes
about their spherical centroid (distances from the centre exact; the others distorted by the
Earth's curvature, a few km here). A recovered :math:`W` is aligned to it by translation and an
orthogonal Procrustes rotation with reflection (the SVD :math:`W_c^\top T_c=U\Sigma V^\top`,
:math:`R=UV^\top`, on the host): the stress cannot see rotations, reflections and translations.

Verdict (PASS when both hold):

1. L-BFGS's aligned RMS position error is at most 1% of the true map's RMS radius (about 10 km;
   any wrong local minimum, a folded or swapped city, costs hundreds of km);
2. at an equal budget :math:`B` (L-BFGS's total cost to its stopping test), the best stress found
   ranks L-BFGS < GD < Nelder–Mead.
"""
from __future__ import annotations

import math
import pathlib
import time

import numpy as np

import minigrad as mg
import optimizers
import problems as P
from experiments.common import fmt
from experiments.common import verdict as make_verdict
from experiments.registry import register
from experiments.runner import CallRecorder
from optimizers.minimize import minimize

CLAIM = ("Multidimensional scaling recovers the capitals' map from their distances: L-BFGS "
         "reaches the map (aligned RMS error <= 1% of its radius) and at an equal evaluation "
         "budget L-BFGS < GD < Nelder-Mead in stress")
BOUND = ("RMS(aligned L-BFGS map - true map) <= 0.01 RMS radius; best stress within L-BFGS's "
         "cost B: L-BFGS < GD < Nelder-Mead")
FIGURE = "mds_cities.png"
OMEGA = 5.0            # cost of a value-and-gradient call, in function evaluations
RMS_FRACTION = 0.01    # L-BFGS's aligned RMS error, as a fraction of the map's RMS radius
GTOL = 1e-8            # L-BFGS's stopping tolerance (units of 1000 km)
MEMORY = 10
QUICK = {"gd_steps": 600, "nm_fev": 4000}
FULL = {"gd_steps": 3000, "nm_fev": 60000}
PER_DECADE = 60        # Nelder-Mead's path is recorded on a log grid of cost, this many a decade
METHODS = ("lbfgs", "gd", "nm")
LABELS = {"lbfgs": f"L-BFGS (m={MEMORY})", "gd": "GD, step 1/(4N) (SMACOF)",
          "nm": "Nelder-Mead (adaptive)"}
COLORS = {"lbfgs": "#117733", "gd": "#332288", "nm": "#882255"}


# ----------------------------------------------------------------------------- the true map
def true_map() -> tuple[list, np.ndarray]:
    """``(names, T)``: the capitals and their azimuthal equidistant coordinates (km) about the
    spherical centroid of the cities."""
    names, lat, lon = P.load_capitals()
    lat, lon = np.radians(lat), np.radians(lon)
    v = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    c = v.mean(axis=0)
    c /= np.linalg.norm(c)
    lat0, lon0 = math.asin(c[2]), math.atan2(c[1], c[0])
    cos_c = np.sin(lat0) * np.sin(lat) + np.cos(lat0) * np.cos(lat) * np.cos(lon - lon0)
    ang = np.arccos(np.clip(cos_c, -1.0, 1.0))                   # angular distance to the centre
    k = np.where(ang > 0, ang / np.sin(np.where(ang > 0, ang, 1.0)), 1.0)
    R = P.mds.EARTH_RADIUS_KM
    x = R * k * np.cos(lat) * np.sin(lon - lon0)
    y = R * k * (np.cos(lat0) * np.sin(lat) - np.sin(lat0) * np.cos(lat) * np.cos(lon - lon0))
    return names, np.stack([x, y], axis=1)


def align(W, T) -> tuple[np.ndarray, float]:
    r"""``W`` moved onto ``T`` by translation and an orthogonal map (rotation or reflection)
    minimising :math:`\|W_cR-T_c\|_F` (orthogonal Procrustes: :math:`R=UV^\top` from the SVD of
    :math:`W_c^\top T_c`); returns the aligned points and their RMS distance to ``T``."""
    W, T = np.asarray(W, dtype=float), np.asarray(T, dtype=float)
    Wc, Tc = W - W.mean(axis=0), T - T.mean(axis=0)
    U, _, Vt = np.linalg.svd(Wc.T @ Tc)
    A = Wc @ (U @ Vt) + T.mean(axis=0)
    return A, float(np.sqrt(np.mean(np.sum((A - T) ** 2, axis=1))))


# ----------------------------------------------------------------------------- recording
class Recorder(CallRecorder):
    """Counts the calls of the stress and records positions, stress and cost along a run."""

    def __init__(self, problem, *, log_grid: bool = False):
        super().__init__(problem, shape=problem.shape)
        self.log_grid = log_grid
        self.next_mark = 1.0
        self.rows = {c: [] for c in ("k", "n_fg", "n_f", "cost", "f", "time")}
        self.W = []
        self.k = 0

    @property
    def cost(self) -> float:
        return self.n_f + OMEGA * self.n_fg

    def record(self, x, first: bool) -> None:
        if not first:
            self.k += 1
        self._record(x, force=first)

    def _record(self, x, force=False):
        if self.log_grid and not force and self.cost < self.next_mark:
            return
        while self.cost >= self.next_mark:
            self.next_mark *= 10.0 ** (1.0 / PER_DECADE)
        W = mg.to_numpy(x.data if isinstance(x, mg.Tensor) else x).astype(float)
        W = W.reshape(self.problem.shape)
        r = self.rows
        r["k"].append(self.k)
        r["n_fg"].append(self.n_fg)
        r["n_f"].append(self.n_f)
        r["cost"].append(self.cost)
        r["f"].append(self.problem.value(W))
        r["time"].append(self.elapsed)
        self.W.append(W)

    def finish(self, x):
        if self.rows["k"][-1] != self.k:
            self._record(x, force=True)

    def arrays(self) -> dict:
        out = {c: np.asarray(v, dtype=float) for c, v in self.rows.items()}
        out["W"] = np.asarray(self.W, dtype=float)
        return out


def run_lbfgs(problem) -> dict:
    path = Recorder(problem)
    x0 = problem.x0.reshape(-1)
    path.start(x0)
    res = minimize(path.fun, x0, method="l-bfgs", m=MEMORY, gtol=GTOL, callback=path.callback)
    path.finish(res.x)
    return dict(path.arrays(), status=res.status, nit=res.nit, nfev=res.nfev, njev=res.njev)


def run_gd(problem, steps: int) -> dict:
    path = Recorder(problem)
    N = problem.shape[0]
    X = problem.start()
    opt = optimizers.SGD([X], lr=1.0 / (4 * N))          # Guttman's transform (SMACOF)
    path.start(X)
    for _ in range(steps):
        opt.zero_grad()
        path.fun(X).backward()
        opt.step()
        path.callback(X)
    return dict(path.arrays(), status=1, nit=steps, nfev=path.n_fg, njev=path.n_fg)


def run_nelder_mead(problem, maxfev: int) -> dict:
    path = Recorder(problem, log_grid=True)
    x0 = problem.x0.reshape(-1)
    path.start(x0)
    res = minimize(path.fun, x0, method="nelder-mead", adaptive=True, maxfev=maxfev,
                   maxiter=10 * maxfev, xatol=0.0, fatol=0.0, callback=path.callback)
    path.finish(res.x)
    return dict(path.arrays(), status=res.status, nit=res.nit, nfev=res.nfev, njev=0)


def gradient_cost_ratio(problem, blocks: int = 40, repeats: int = 3) -> float:
    """The measured wall-clock ratio (value and gradient) / (value) of the stress at x0: the
    fastest of ``blocks`` interleaved blocks of ``repeats`` calls each (the minimum is robust to
    other processes taking the CPU)."""
    x = problem.x0
    problem.value(x), problem.value_and_grad(x)          # warm up
    best = {"f": math.inf, "fg": math.inf}
    for _ in range(blocks):
        for key, call in (("f", problem.value), ("fg", problem.value_and_grad)):
            t = time.perf_counter()
            for _ in range(repeats):
                call(x)
            best[key] = min(best[key], time.perf_counter() - t)
    return best["fg"] / best["f"]


# ----------------------------------------------------------------------------- analysis
def load(out_dir) -> dict:
    """The saved runs (``run_<method>.npz``) and the truth (``truth.npz``)."""
    out_dir = pathlib.Path(out_dir)
    data = {}
    for m in METHODS:
        with np.load(out_dir / f"run_{m}.npz", allow_pickle=False) as z:
            data[m] = {k: z[k] for k in z.files}
    with np.load(out_dir / "truth.npz", allow_pickle=False) as z:
        data["truth"] = {k: z[k] for k in z.files}
    return data


def best_within(run: dict, budget: float) -> float:
    """The lowest stress recorded at a cost of at most ``budget``."""
    m = run["cost"] <= budget
    return float(np.min(run["f"][m])) if m.any() else math.inf


def analyse(data: dict) -> dict:
    T = data["truth"]["T"]
    radius = float(np.sqrt(np.mean(np.sum((T - T.mean(axis=0)) ** 2, axis=1))))
    unit = float(data["truth"]["unit_km"])
    budget = float(data["lbfgs"]["cost"][-1])
    f_best = min(float(np.min(data[m]["f"])) for m in METHODS)
    out = {"radius_km": radius, "budget": budget, "f_best": f_best,
           "ratio_measured": float(data["truth"]["grad_cost_ratio"])}
    for m in METHODS:
        run = data[m]
        i = int(np.argmin(run["f"]))
        _, rms = align(run["W"][i] * unit, T)
        hit = np.nonzero(run["f"] <= 1.01 * f_best)[0]
        out[m] = {"at_budget": best_within(run, budget), "final": float(run["f"][-1]),
                  "best": float(run["f"][i]), "rms_km": rms,
                  "total_cost": float(run["cost"][-1]), "iterations": int(run["k"][-1]),
                  "time": float(run["time"][-1]), "n_fg": int(run["n_fg"][-1]),
                  "n_f": int(run["n_f"][-1]),
                  "cost_to_1pct": float(run["cost"][hit[0]]) if hit.size else math.inf}
    return out


def verdict(a: dict) -> dict:
    ok_map = a["lbfgs"]["rms_km"] <= RMS_FRACTION * a["radius_km"]
    s = [a[m]["at_budget"] for m in METHODS]
    ok_order = s[0] < s[1] < s[2]
    per = "; ".join(
        f"{LABELS[m]}: stress {fmt(a[m]['at_budget'])} within B, final {fmt(a[m]['final'])} "
        f"after cost {fmt(a[m]['total_cost'])} ({a[m]['iterations']} iterations), aligned RMS "
        f"error {a[m]['rms_km']:.1f} km, cost to within 1% of the best stress "
        f"{fmt(a[m]['cost_to_1pct'])}" for m in METHODS)
    measured = (f"budget B = {fmt(a['budget'])} function evaluations (L-BFGS's total; a "
                f"value+gradient call counts {OMEGA:g}, measured wall-clock ratio "
                f"{a['ratio_measured']:.2f}); {per}. Map RMS radius {a['radius_km']:.0f} km, "
                f"threshold {RMS_FRACTION * a['radius_km']:.1f} km: map "
                f"{'ok' if ok_map else 'FAILED'}, ordering L-BFGS < GD < Nelder-Mead "
                f"{'ok' if ok_order else 'FAILED'}")
    summary = (f"L-BFGS map error {a['lbfgs']['rms_km']:.1f} km (<= "
               f"{RMS_FRACTION * a['radius_km']:.0f}); stress at B={fmt(a['budget'])}: L-BFGS "
               f"{fmt(s[0])} < GD {fmt(s[1])} < NM {fmt(s[2])}")
    return make_verdict(ok_map and ok_order, claim=CLAIM, bound=BOUND, measured=measured,
                        figure=FIGURE, summary=summary,
                        stress_at_budget={m: a[m]["at_budget"] for m in METHODS},
                        rms_km={m: a[m]["rms_km"] for m in METHODS}, budget=a["budget"],
                        radius_km=a["radius_km"],
                        cost_to_1pct={m: a[m]["cost_to_1pct"] for m in METHODS})


# ----------------------------------------------------------------------------- figure
def draw(out_dir) -> pathlib.Path:
    """Stress and map error against cost, and the recovered maps over the true one, from the
    saved runs only."""
    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    data = load(out_dir)
    a = analyse(data)
    T = data["truth"]["T"]
    unit = float(data["truth"]["unit_km"])
    names = [str(n) for n in data["truth"]["names"]]
    fig, axes = plot.subplots(1, 3, width=5.2, height=4.6,
                              title="Multidimensional scaling of 20 European capitals "
                                    "(raw stress, 40 unknowns)")
    ax = axes[0]
    for m in METHODS:
        run = data[m]
        ax.loglog(np.maximum(run["cost"], 1.0), np.minimum.accumulate(run["f"]),
                  color=COLORS[m], lw=1.4, label=LABELS[m])
    ax.axvline(a["budget"], color="k", lw=0.8, ls="--",
               label=f"B = {a['budget']:.0f} (L-BFGS's total cost)")
    ax.axhline(a["f_best"], color="0.5", lw=0.8, ls=":", label=f"best stress {a['f_best']:.2e}")
    ax.set_xlabel(f"cost: function evaluations (value+gradient call = {OMEGA:g})")
    ax.set_ylabel(r"stress $L(W)$ [(1000 km)$^2$], best so far")
    ax.set_title("stress against evaluations", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")

    ax = axes[1]
    for m in METHODS:
        run = data[m]
        rms = [align(W * unit, T)[1] for W in run["W"]]
        ax.loglog(np.maximum(run["cost"], 1.0), rms, color=COLORS[m], lw=1.4,
                  label=f"{LABELS[m]}: {a[m]['rms_km']:.1f} km at its best")
    ax.axhline(RMS_FRACTION * a["radius_km"], color="k", lw=0.8, ls=":",
               label=f"threshold {RMS_FRACTION:.0%} of the map radius")
    ax.axvline(a["budget"], color="k", lw=0.8, ls="--")
    ax.set_xlabel(f"cost: function evaluations (value+gradient call = {OMEGA:g})")
    ax.set_ylabel("aligned RMS position error (km)")
    ax.set_title("map error after Procrustes alignment", fontsize=9)
    plot.decisive(ax, label="L-BFGS map RMS error (km)", value=a["lbfgs"]["rms_km"],
                  threshold=RMS_FRACTION * a["radius_km"], loc="upper right")
    ax.legend(fontsize=7, loc="lower left")

    ax = axes[2]
    ax.scatter(T[:, 0], T[:, 1], s=28, facecolors="none", edgecolors="k", lw=1.0,
               label="true (azimuthal equidistant)", zorder=3)
    for m, marker in (("lbfgs", "x"), ("nm", "+")):
        i = int(np.argmin(data[m]["f"]))
        A, rms = align(data[m]["W"][i] * unit, T)
        ax.scatter(A[:, 0], A[:, 1], s=22, marker=marker, color=COLORS[m], zorder=4,
                   label=f"{LABELS[m]} (RMS {rms:.0f} km)")
    for (x, y), name in zip(T, names):
        ax.annotate(name, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=6.5)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("km (east)")
    ax.set_ylabel("km (north)")
    ax.set_title("recovered maps, aligned onto the true one", fontsize=9)
    ax.legend(fontsize=6.5, loc="upper left")
    return plot.save(fig, out_dir / FIGURE, dpi=100)


# ----------------------------------------------------------------------------- experiment
@register("mds-cities", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    """The three methods from one start; save the runs and the truth, draw, check."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    budget = QUICK if quick else FULL
    unit_km = 1000.0
    problem = P.MDS.capitals(form="raw", unit_km=unit_km, seed=seed)
    runs = {"lbfgs": run_lbfgs(problem), "gd": run_gd(problem, budget["gd_steps"]),
            "nm": run_nelder_mead(problem, budget["nm_fev"])}
    ratio = gradient_cost_ratio(problem)
    names, T = true_map()
    for m, r in runs.items():
        np.savez(out_dir / f"run_{m}.npz", **{k: np.asarray(v) for k, v in r.items()})
    np.savez(out_dir / "truth.npz", T=T, names=np.asarray(names), unit_km=unit_km,
             D=mg.to_numpy(problem.D), grad_cost_ratio=ratio, omega=OMEGA, seed=seed)
    draw(out_dir)
    return verdict(analyse(load(out_dir)))
