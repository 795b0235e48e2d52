r"""The runs and measurements shared by the two heavy-tailed class-imbalance experiments
(Kunstner, Yadav, Milligan, Schmidt & Bietti 2024, "Heavy-Tailed Class Imbalance and Why Adam
Outperforms Gradient Descent on Language Models"; L1): ``heavy-tailed-imbalance`` (every step
size of the grid admitted, :mod:`experiments.class_imbalance`) and
``heavy-tailed-imbalance-restricted`` (only the step sizes whose loss never rises above its start,
:mod:`experiments.class_imbalance_restricted`). Both read the same runs; a process that runs both
computes them once (:func:`family_runs` keeps the last budget's runs in memory).

**Data.** A family of heavy-tailed data sets, one per data seed:
``problems.SoftmaxRegression.heavy_tailed(k, inputs="uniform")``, where group :math:`i=0,\dots,k-1`
holds :math:`2^i` classes of :math:`2^{k-i}` samples each, :math:`c=2^k-1` classes, inputs
uniform on :math:`[0,1)^d`, :math:`d=(k+1)2^k` (separable data), start :math:`W_0=0`. The
control's **balanced** data sets (:func:`balanced`) have the same classes, the same partition of
the classes into groups and the same inputs' law, but every class has the same number of
samples, :math:`\mathrm{round}(k2^k/c)`: a group is then a set of classes, not a frequency.

**Runs.** GD (``optimizers.SGD`` on the full loss), Adam (``optimizers.Adam``, defaults
:math:`\beta=(0.9,0.999)`, :math:`\epsilon=10^{-8}`) and sign descent (``optimizers.SignSGD`` on the
full gradient), each at every step size of its log-spaced grid (:func:`lr_grid`), :math:`T`
full-batch steps from :math:`W_0=0`, on every heavy-tailed data set; GD alone on every balanced
one. All the runs of one data set go at once (:func:`run_batch`): their weight matrices are
stacked into one matrix of logits and the objective is the sum of their full losses, so each
run's gradient is its own loss's; every method is coordinate-wise or linear, so each run is the
run it would be alone (a test compares them with single runs through ``problem.f``). Every run
goes all :math:`T` steps; the first step whose loss exceeds :math:`f(W_0)=\log c` is recorded
(``blowup_at``), and a run whose loss becomes non-finite is stopped there and recorded as
diverged (its later losses are ``inf``).

**Measurements.** Per frequency group :math:`G`, with :math:`\ell_G(W)` the mean cross-entropy of
its samples, the relative loss after :math:`T` steps

.. math:: r_G=\frac{\ell_G(W_T)}{\ell_G(W_0)}\qquad(\ell_G(W_0)=\log c\ \text{at}\ W_0=0).

Step-size selection (the same rule for every method, :func:`select`): the grid value with the
lowest final full loss among the admitted runs (finite throughout; and, when ``restricted``, never
above :math:`f(W_0)`). Per data set (:func:`measure`): the rare-group factors
:math:`r^{GD}_{k-1}/r^{M}_{k-1}` for :math:`M` = Adam, sign descent; the largest :math:`r_G` of each
adaptive method; GD's rare-group :math:`r^{GD}_{k-1}`; and GD's lag
:math:`r^{GD}_{k-1}/\min_G r^{GD}_G`, how far its rare group trails its best group (about 1 where
the groups differ only by their classes, as on the balanced sets).
"""
from __future__ import annotations

import json
import math
import pathlib

import numpy as np

import minigrad as mg
import optimizers
import problems as P
from experiments.common import fmt
from experiments.protocol import Condition, Rule

__all__ = ["FULL", "GRIDS", "METHODS", "QUICK", "balanced", "family_runs", "load", "lr_grid",
           "measure", "run_batch", "save", "select", "summary_of"]

#: the budgets: ``k`` (2^k - 1 classes), ``steps`` T, ``density`` (grid points per decade),
#: ``data_sets`` heavy-tailed data sets and ``balanced_sets`` balanced ones (the control, run
#: for ``control_steps``; --quick keeps it short: in the descent regime GD's lag on balanced data
#: is about 1 at every step, and the loss-raising steps have finished their climb by step 50,
#: whereas at step 30 the largest is still mid-way, its lag 39 and its rare-group r 0.31)
QUICK = {"k": 6, "steps": 150, "density": 2, "data_sets": 1, "balanced_sets": 1,
         "control_steps": 50}
FULL = {"k": 7, "steps": 300, "density": 4, "data_sets": 10, "balanced_sets": 5,
        "control_steps": 300}
#: log10 range of each method's step-size grid (half-decade ends, so that the half-decade grid
#: is a subset of every finer one)
GRIDS = {"GD": (-1.5, 2.0), "Adam": (-3.0, 0.0), "sign descent": (-4.0, -1.0)}
METHODS = ("GD", "Adam", "sign descent")
RECORD_EVERY = 5
#: the data seed of data set i: SEED_STRIDE * seed + i (heavy-tailed), + BALANCED_OFFSET + i
#: (balanced); data set 0 of seed 0 is the single data set of the earlier rules
SEED_STRIDE, BALANCED_OFFSET = 1000, 500
DATA = "imbalance_runs.npz"
#: the float64 cross-entropy resolves a loss only down to about the double epsilon (its
#: log-sum-exp is the log of a number near 1), so relative losses below it count as this
R_FLOOR = 1e-16


def lr_grid(method: str, density: int) -> list:
    """The step sizes of ``method``: ``density`` points per decade over ``GRIDS[method]``."""
    lo, hi = GRIDS[method]
    return [10.0 ** (e / density) for e in range(round(lo * density), round(hi * density) + 1)]


def heavy_tailed(k: int, seed: int):
    """The heavy-tailed softmax problem of Kunstner et al. (data drawn from ``seed``)."""
    return P.SoftmaxRegression.heavy_tailed(k=k, inputs="uniform", seed=seed)


def balanced(k: int, seed: int):
    r"""The control's balanced problem: the classes and groups of :func:`heavy_tailed` (group
    :math:`i` holds :math:`2^i` classes), every class with :math:`\mathrm{round}(k2^k/(2^k-1))`
    samples, inputs uniform on :math:`[0,1)^d`, :math:`d=(k+1)2^k`."""
    c = 2 ** k - 1
    per_class = round(k * 2 ** k / c)
    host = mg.backend.host_xp()
    y = host.repeat(host.arange(c), per_class)
    class_group = host.concatenate([host.full(2 ** i, i) for i in range(k)])
    X = mg.backend.host_rng(seed).random((y.size, (k + 1) * 2 ** k))
    prob = P.SoftmaxRegression(X, y, n_classes=c, groups=class_group[y])
    prob.k = k
    return prob


_MAKERS = {"SGD": optimizers.SGD, "Adam": optimizers.Adam, "SignSGD": optimizers.SignSGD}
_OPTIMIZER = {"GD": "SGD", "Adam": "Adam", "sign descent": "SignSGD"}


def run_batch(problem, runs, steps: int, *, record_every: int = RECORD_EVERY) -> dict:
    r"""The ``runs`` (a list of ``(method, lr)``) on ``problem``, ``steps`` full-batch steps
    each from :math:`W_0=0`, all at once (see the module docstring).

    Returns ``k`` (the recorded steps), ``groups`` (run, record, group) the group losses,
    ``f`` (run, record) the full loss, ``blowup_at`` (the first step whose loss exceeds
    :math:`f(W_0)`, -1 if none), ``diverged_at`` (the step whose loss was non-finite, -1 if
    none; the run stops there and its later records are ``inf``), ``f_max`` (the largest
    finite loss) and ``f0``."""
    xp = mg.backend.get_array_module(problem.X)
    n, c, R = problem.n, problem.n_classes, len(runs)
    Ws = [problem.start() for _ in runs]
    opts = []
    for name in dict.fromkeys(_OPTIMIZER[m] for m, _ in runs):
        groups = [{"params": [W], "lr": lr} for (m, lr), W in zip(runs, Ws)
                  if _OPTIMIZER[m] == name]
        opts.append(_MAKERS[name](groups))
    host = mg.backend.host_xp()
    labels, rows = problem.labels, xp.arange(n)
    members = host.zeros((problem.n_groups, n))
    members[mg.backend.to_numpy(problem.groups), host.arange(n)] = 1.0
    members /= members.sum(axis=1, keepdims=True)               # group means
    members = mg.backend.asarray(members, dtype=problem.X.dtype)
    k_rec = list(range(0, steps + 1, record_every))
    if k_rec[-1] != steps:
        k_rec.append(steps)
    groups = np.full((R, len(k_rec), problem.n_groups), np.inf)
    f = np.full((R, len(k_rec)), np.inf)
    blowup, diverged = np.full(R, -1), np.full(R, -1)
    f_max = np.full(R, -np.inf)
    f0 = None
    active = list(range(R))
    with np.errstate(over="ignore", invalid="ignore"):   # divergence is recorded, not warned
        for t in range(steps + 1):
            loss = None
            while active and loss is None:       # a diverged run leaves; the rest re-evaluated
                try:
                    Wcat = mg.concatenate([Ws[r] for r in active], axis=0)    # (A c, d)
                    Z = mg.reshape(mg.matmul(problem.X, mg.transpose(Wcat)),
                                   (n, len(active), c))
                    ce = mg.logsumexp(Z, axis=2) - Z[rows, :, labels]        # f_i(W_r): (n, A)
                    loss = mg.mean(ce, axis=0)                                # f(W_r), r active
                    f_t = mg.backend.to_numpy(loss.data)
                except (OverflowError, FloatingPointError):
                    loss, ce, f_t = None, None, np.full(len(active), np.inf)
                f0 = float(f_t[0]) if f0 is None else f0
                bad = ~np.isfinite(f_t)
                for j, r in enumerate(active):
                    if bad[j]:
                        diverged[r] = t
                        blowup[r] = t if blowup[r] < 0 else blowup[r]
                        continue
                    f_max[r] = max(f_max[r], f_t[j])
                    if blowup[r] < 0 and f_t[j] > f0:
                        blowup[r] = t
                if bad.any():
                    active = [r for j, r in enumerate(active) if not bad[j]]
                    loss = None
                elif t in k_rec:
                    i = k_rec.index(t)
                    f[active, i] = f_t
                    groups[active, i] = mg.backend.to_numpy(members @ ce.data).T
            if not active or t == steps:
                break
            for opt in opts:
                opt.zero_grad()
            mg.sum(loss).backward()
            for opt in opts:
                opt.step()                                                    # W_{t+1}
    return {"k": np.asarray(k_rec), "groups": groups, "f": f, "blowup_at": blowup,
            "diverged_at": diverged, "f_max": f_max, "f0": f0}


# ----------------------------------------------------------------------------- the family
_CACHE: dict = {}


def data_seeds(cfg: dict, seed: int) -> tuple[list, list]:
    """The data seeds of the heavy-tailed and of the balanced data sets."""
    base = SEED_STRIDE * seed
    return ([base + i for i in range(cfg["data_sets"])],
            [base + BALANCED_OFFSET + i for i in range(cfg["balanced_sets"])])


def family_runs(cfg: dict, seed: int) -> dict:
    """Every run of the budget ``cfg`` (see the module docstring), as arrays with one row per
    run: ``method`` (index into :data:`METHODS`), ``lr``, ``data_seed``, ``balanced`` (bool),
    and :func:`run_batch`'s ``groups``, ``f``, ``blowup_at``, ``diverged_at``, ``f_max``,
    ``f0``; ``k`` the recorded steps. The last budget's runs are kept in memory (both
    experiments read them; a copy is returned)."""
    heavy, bal = data_seeds(cfg, seed)
    key = (tuple(sorted(cfg.items())), seed, mg.get_backend())
    if key not in _CACHE:
        _CACHE.clear()
        parts = []
        grid = [(m, lr) for m in METHODS for lr in lr_grid(m, cfg["density"])]
        for s in heavy:
            parts.append((s, False, grid, run_batch(heavy_tailed(cfg["k"], s), grid,
                                                    cfg["steps"])))
        gd = [(m, lr) for m, lr in grid if m == "GD"]
        for s in bal:
            parts.append((s, True, gd, run_batch(balanced(cfg["k"], s), gd,
                                                 cfg["control_steps"])))
        k_all = parts[0][3]["k"]
        out = {"k": k_all}
        out["method"] = np.concatenate([[METHODS.index(m) for m, _ in g] for _, _, g, _ in parts])
        out["lr"] = np.concatenate([[lr for _, lr in g] for _, _, g, _ in parts])
        out["data_seed"] = np.concatenate([[s] * len(g) for s, _, g, _ in parts])
        out["balanced"] = np.concatenate([[b] * len(g) for _, b, g, _ in parts]).astype(bool)
        out["T"] = np.concatenate([[r["k"][-1]] * len(g) for _, _, g, r in parts])
        for name in ("groups", "f"):                  # a shorter run: NaN after its end
            out[name] = np.concatenate([_pad(r[name], k_all.size) for *_, r in parts])
        for name in ("blowup_at", "diverged_at", "f_max"):
            out[name] = np.concatenate([r[name] for *_, r in parts])
        out["f0"] = np.concatenate([[r["f0"]] * len(g) for _, _, g, r in parts])
        _CACHE[key] = out
    return {name: np.array(v) for name, v in _CACHE[key].items()}


def _pad(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` (runs, records, ...) with NaN records appended up to ``n``."""
    pad = np.full((a.shape[0], n - a.shape[1]) + a.shape[2:], np.nan)
    return np.concatenate([a, pad], axis=1)


def final_index(runs: dict) -> np.ndarray:
    """The record of each run's last step ``T`` (its own: a control may be shorter)."""
    return np.searchsorted(runs["k"], runs["T"])


def save(out_dir, runs: dict, cfg: dict, seed: int) -> pathlib.Path:
    """The runs as ``imbalance_runs.npz`` and the budget as ``settings.json``."""
    out_dir = pathlib.Path(out_dir)
    path = out_dir / DATA
    np.savez(path, **runs)
    (out_dir / "settings.json").write_text(json.dumps(
        {"budget": cfg, "seed": seed, "grids": GRIDS, "record_every": RECORD_EVERY,
         "seed_stride": SEED_STRIDE, "balanced_offset": BALANCED_OFFSET}, indent=1))
    return path


def load(out_dir) -> dict:
    """The runs saved by :func:`save`."""
    with np.load(pathlib.Path(out_dir) / DATA) as z:
        return {name: z[name] for name in z.files}


# ----------------------------------------------------------------------------- analysis
def select(runs: dict, *, restricted: bool, density: int | None = None) -> dict:
    """The selected run (a row index) of each method on each data set:
    ``{(data_seed, balanced): {method: row or None}}``. Admitted: the runs that stayed finite
    for all T steps and, when ``restricted``, whose loss never rose above :math:`f(W_0)`;
    among them the lowest final full loss. ``density``: only the grid points of that coarser
    grid (points per decade) take part."""
    out = {}
    final = runs["f"][np.arange(runs["f"].shape[0]), final_index(runs)]
    for s, b in dict.fromkeys(zip(runs["data_seed"].tolist(), runs["balanced"].tolist())):
        rows = np.nonzero((runs["data_seed"] == s) & (runs["balanced"] == b))[0]
        pick = {}
        for mi, m in enumerate(METHODS):
            cand = [r for r in rows if runs["method"][r] == mi and runs["diverged_at"][r] < 0
                    and math.isfinite(final[r])
                    and not (restricted and runs["blowup_at"][r] >= 0)
                    and (density is None or _on_grid(runs["lr"][r], density))]
            if any(runs["method"][r] == mi for r in rows):
                pick[m] = min(cand, key=lambda r: final[r]) if cand else None
        out[(int(s), bool(b))] = pick
    return out


def _on_grid(lr: float, density: int) -> bool:
    e = math.log10(lr) * density
    return abs(e - round(e)) < 1e-9


def relative(runs: dict, row: int) -> np.ndarray:
    """:math:`r_G` of one run: its final group losses over its initial ones."""
    G = runs["groups"][row]
    return G[final_index(runs)[row]] / G[0]


def measure(runs: dict, pick: dict) -> dict:
    r"""The measurements of one data set's selection (see the module docstring): the selected
    ``lr`` and ``r`` of each method, ``gd_rare``, ``gd_frequent``, ``gd_lag`` and, for the
    adaptive methods, ``factor M`` and ``max r M``. Ratios use :math:`\max(r, 10^{-16})`
    (:data:`R_FLOOR`). A method without an admitted run has NaN / inf measurements, so no
    condition that needs them holds."""
    r = {m: (relative(runs, row) if row is not None else None) for m, row in pick.items()}
    out = {"lr": {m: (float(runs["lr"][row]) if row is not None else None)
                  for m, row in pick.items()},
           "r": {m: (v.tolist() if v is not None else None) for m, v in r.items()}}
    gd = r.get("GD")
    out["gd_rare"] = float(gd[-1]) if gd is not None else math.nan
    out["gd_frequent"] = float(gd[0]) if gd is not None else math.nan
    out["gd_lag"] = (float(max(gd[-1], R_FLOOR) / max(gd.min(), R_FLOOR)) if gd is not None
                     else math.nan)
    for m in ("Adam", "sign descent"):
        if m not in r:
            continue
        v = r[m]
        out[f"factor {m}"] = (float(max(gd[-1], R_FLOOR) / max(v[-1], R_FLOOR))
                              if v is not None and gd is not None else math.nan)
        out[f"max r {m}"] = float(v.max()) if v is not None else math.inf
    return out


def summary_of(runs: dict, selection: dict) -> dict:
    """:func:`measure` of every data set: ``{"heavy": [...], "balanced": [...]}`` in data-seed
    order, each entry with its ``data_seed``."""
    out = {"heavy": [], "balanced": []}
    for (s, b), pick in sorted(selection.items()):
        out["balanced" if b else "heavy"].append(dict(measure(runs, pick), data_seed=s))
    return out


# ----------------------------------------------------------------------------- the checks
RARE_FACTOR = 10.0     # (a) r_GD(rare) >= 10 r_M(rare), M = Adam, sign descent
ALL_DECREASE = 0.5     # (b) r_G <= 0.5 for every group G, Adam and sign descent
GD_RARE_MIN = 0.5      # (c) r_GD(rare) >= 0.5 ...
LAG_MIN = 2.0          # (c) ... and r_GD(rare) >= 2 min_G r_GD(G)
HOLD_FRACTION = 0.8    # the share of heavy-tailed data sets on which (a)-(c) must hold
CONTROL_FRACTION = 0.2  # the largest share of balanced data sets on which (c) may hold


def nanmin(*xs) -> float:
    """The smallest of ``xs``, NaN when one is NaN (Python's ``min`` depends on the order)."""
    xs = [float(x) for x in xs]
    return math.nan if any(math.isnan(x) for x in xs) else min(xs)


def nanmax(*xs) -> float:
    """The largest of ``xs``, NaN when one is NaN."""
    xs = [float(x) for x in xs]
    return math.nan if any(math.isnan(x) for x in xs) else max(xs)


def criteria(m: dict) -> dict:
    """Checks (a), (b), (c) on one heavy-tailed data set's measurements (:func:`measure`);
    on a balanced data set only (c) applies (GD alone runs there)."""
    out = {"c": bool(m["gd_rare"] >= GD_RARE_MIN and m["gd_lag"] >= LAG_MIN)}
    if "factor Adam" in m:
        out["a"] = bool(nanmin(m["factor Adam"], m["factor sign descent"]) >= RARE_FACTOR)
        out["b"] = bool(nanmax(m["max r Adam"], m["max r sign descent"]) <= ALL_DECREASE)
        out["holds"] = out["a"] and out["b"] and out["c"]
    return out


def outcome(runs: dict, *, restricted: bool) -> dict:
    """Everything the verdict of one selection rule needs: ``heavy`` and ``balanced`` (one
    :func:`measure` per data set, with its :func:`criteria`), the rule's fractions, and
    ``v1``: the earlier rules' single data set (the first heavy-tailed one) with the
    half-decade points of the grid."""
    sm = summary_of(runs, select(runs, restricted=restricted))
    for e in sm["heavy"] + sm["balanced"]:
        e["criteria"] = criteria(e)
    heavy, bal = sm["heavy"], sm["balanced"]
    first = min(s for s, b in zip(runs["data_seed"].tolist(), runs["balanced"].tolist())
                if not b)
    coarse = select(runs, restricted=restricted, density=2)[(int(first), False)]
    v1 = dict(measure(runs, coarse), data_seed=int(first))
    return {"restricted": restricted, "heavy": heavy, "balanced": bal,
            "holds_fraction": float(np.mean([e["criteria"]["holds"] for e in heavy])),
            "balanced_fraction": (float(np.mean([e["criteria"]["c"] for e in bal]))
                                  if bal else math.nan),
            "v1": v1, "k": int(runs["groups"].shape[2]), "steps": int(runs["k"][-1]),
            "control_steps": int(runs["T"][runs["balanced"]].max()) if bal else None}


def v1_values(o: dict) -> dict:
    """The earlier rules' measurements (keys ``v1_*``) on the single data set of ``o``."""
    v = o["v1"]
    return {"v1_rare_factor": nanmin(v["factor Adam"], v["factor sign descent"]),
            "v1_adaptive_max_r": nanmax(v["max r Adam"], v["max r sign descent"]),
            "v1_gd_rare": v["gd_rare"],
            "v1_gd_frequent_minus_rare": v["gd_frequent"] - v["gd_rare"]}


def v1_conditions(selection: str) -> tuple:
    """The conditions of the earlier single-data-set rule, with ``selection`` naming its
    step-size rule."""
    where = f"data set 0, half-decade grid, {selection}"
    return (Condition("v1_rare_factor", f"{where}: rare group min(r_GD/r_Adam, r_GD/r_sign) "
                      f">= {RARE_FACTOR:g}", ">=", RARE_FACTOR),
            Condition("v1_adaptive_max_r", f"{where}: r_G <= {ALL_DECREASE} for every G, Adam "
                      "and sign descent", "<=", ALL_DECREASE),
            Condition("v1_gd_rare", f"{where}: r_GD(rare) >= {GD_RARE_MIN}", ">=", GD_RARE_MIN),
            Condition("v1_gd_frequent_minus_rare", f"{where}: r_GD(frequent) < r_GD(rare)",
                      "<", 0.0))


def family_conditions(selection: str) -> tuple:
    """The conditions of the family rule (the rule in force of both experiments)."""
    per_set = (f"(a) rare group min(r_GD/r_Adam, r_GD/r_sign) >= {RARE_FACTOR:g}, (b) r_G <= "
               f"{ALL_DECREASE} for every G for Adam and sign descent, (c) r_GD(rare) >= "
               f"{GD_RARE_MIN} and r_GD(rare) >= {LAG_MIN:g} min_G r_GD(G)")
    return (Condition("holds_fraction", f"each method at its best step size ({selection}); "
                      f"share of heavy-tailed data sets where {per_set} >= {HOLD_FRACTION}",
                      ">=", HOLD_FRACTION),
            Condition("balanced_fraction", "control, balanced class frequencies (GD, the same "
                      f"selection): share of data sets where (c) holds <= {CONTROL_FRACTION}",
                      "<=", CONTROL_FRACTION, role="control"))


def rules(selection: str, first_note: str = "") -> tuple:
    """The two rules of an experiment whose runs are picked by ``selection``: rule 1 on one data
    set (note ``first_note``), rule 2, in force, on the family with the balanced control."""
    return (Rule(1, v1_conditions(selection), note=first_note),
            Rule(2, family_conditions(selection),
                 note="replaces rule 1: a family of data sets instead of one, 4 grid points per "
                      "decade in the full run, GD's lag behind its best group instead of "
                      "r_GD(frequent) < r_GD(rare), and a balanced-data control"))


def family_values(o: dict) -> dict:
    """The rule in force's measurements."""
    return {"holds_fraction": o["holds_fraction"], "balanced_fraction": o["balanced_fraction"]}


def margins(o: dict) -> dict:
    """The worst value over the heavy-tailed data sets of each per-data-set quantity, and its
    ratio to its threshold (above 1: the threshold holds with that margin on every set)."""
    h = o["heavy"]
    worst = {"rare factor": nanmin(*(nanmin(e["factor Adam"], e["factor sign descent"])
                                     for e in h)),
             "adaptive max r": nanmax(*(nanmax(e["max r Adam"], e["max r sign descent"])
                                        for e in h)),
             "GD rare r": nanmin(*(e["gd_rare"] for e in h)),
             "GD lag": nanmin(*(e["gd_lag"] for e in h))}
    ratio = {"rare factor": worst["rare factor"] / RARE_FACTOR,
             "adaptive max r": ALL_DECREASE / max(worst["adaptive max r"], R_FLOOR),
             "GD rare r": worst["GD rare r"] / GD_RARE_MIN, "GD lag": worst["GD lag"] / LAG_MIN}
    out = {"worst": worst, "over_threshold": ratio}
    if o["balanced"]:
        out["balanced GD lag max"] = nanmax(*(e["gd_lag"] for e in o["balanced"]))
        out["balanced GD rare r max"] = nanmax(*(e["gd_rare"] for e in o["balanced"]))
    return out


def _set_text(e: dict) -> str:
    return (f"set {e['data_seed']}: lr GD {fmt(e['lr']['GD'])}, Adam {fmt(e['lr']['Adam'])}, "
            f"sign {fmt(e['lr']['sign descent'])}; factors {fmt(e['factor Adam'])}/"
            f"{fmt(e['factor sign descent'])}, max r {fmt(e['max r Adam'], 2)}/"
            f"{fmt(e['max r sign descent'], 2)}, GD rare r {fmt(e['gd_rare'], 2)}, lag "
            f"{fmt(e['gd_lag'], 2)} ({'holds' if e['criteria']['holds'] else 'fails'})")


def measured_text(o: dict, cfg_text: str) -> str:
    """The ``measured`` field: the fractions, the worst values and their margins, each data
    set, the control and the earlier rule's data set."""
    h, b = o["heavy"], o["balanced"]
    mg_ = margins(o)
    w, q = mg_["worst"], mg_["over_threshold"]
    bal = "; ".join(f"set {e['data_seed']}: GD lr {fmt(e['lr']['GD'])}, rare r "
                    f"{fmt(e['gd_rare'], 2)}, lag {fmt(e['gd_lag'], 3)}" for e in b)
    v = o["v1"]
    return (f"{cfg_text}. The claim holds on {sum(e['criteria']['holds'] for e in h)}/{len(h)} "
            f"heavy-tailed data sets (share {fmt(o['holds_fraction'], 2)}, need >= "
            f"{HOLD_FRACTION}). Worst over the data sets, and its margin (value / threshold; "
            f"threshold / value for a bound from above): rare factor {fmt(w['rare factor'])} "
            f"(margin {fmt(q['rare factor'], 3)}x), adaptive max r "
            f"{fmt(w['adaptive max r'], 3)} (margin {fmt(q['adaptive max r'], 3)}x), GD "
            f"rare r {fmt(w['GD rare r'], 3)} (margin {fmt(q['GD rare r'], 3)}x), GD lag "
            f"{fmt(w['GD lag'], 3)} (margin "
            f"{fmt(q['GD lag'], 3)}x). Per data set: " + "; ".join(_set_text(e) for e in h)
            + f". Control, balanced data sets (GD, {o['control_steps']} steps): (c) holds on "
            f"{sum(e['criteria']['c'] for e in b)}/{len(b)} (need share <= {CONTROL_FRACTION}); "
            f"{bal}. Earlier rule's data set {v['data_seed']} (half-decade grid): lr GD "
            f"{fmt(v['lr']['GD'])}, Adam {fmt(v['lr']['Adam'])}, sign "
            f"{fmt(v['lr']['sign descent'])}; rare factor "
            f"{fmt(nanmin(v['factor Adam'], v['factor sign descent']))}, adaptive max r "
            f"{fmt(nanmax(v['max r Adam'], v['max r sign descent']), 3)}, GD rare r "
            f"{fmt(v['gd_rare'], 3)}, GD frequent r {fmt(v['gd_frequent'], 3)}")


def record(o: dict) -> dict:
    """The raw numbers kept in ``verdict.json``."""
    return {"per_data_set": o["heavy"], "control_balanced": o["balanced"],
            "earlier_rule_data_set": o["v1"], "margins": margins(o)}


# ----------------------------------------------------------------------------- figure
def analyse(out_dir, *, restricted: bool) -> dict:
    """The outcome of one selection rule (:func:`outcome`) on the runs saved in ``out_dir``."""
    return outcome(load(out_dir), restricted=restricted)


def judge(o: dict, *, rules, claim: str, selection: str, steps: str, figure: str) -> dict:
    """The verdict of ``rules`` on the outcome ``o`` (:func:`outcome`) of a run whose GD, Adam and
    sign descent each keep the run ``selection`` picks; ``steps`` names the step sizes admitted
    (for the summary)."""
    from experiments import protocol

    h = o["heavy"]
    summary = (f"the claim holds on {sum(e['criteria']['holds'] for e in h)}/{len(h)} data sets "
               f"({steps}); GD's rare-group r: worst "
               f"{fmt(margins(o)['worst']['GD rare r'], 2)} (need >= {GD_RARE_MIN}); "
               f"control: (c) on {sum(e['criteria']['c'] for e in o['balanced'])}/"
               f"{len(o['balanced'])} balanced sets")
    budget = (f"k={o['k']}, T={o['steps']} steps; data sets: {len(h)} heavy-tailed, "
              f"{len(o['balanced'])} balanced; {selection}")
    return protocol.verdict(rules, {**v1_values(o), **family_values(o)}, claim=claim,
                            measured=measured_text(o, budget), figure=figure, summary=summary,
                            **record(o))


def run_experiment(mod, out_dir, *, quick: bool, seed: int) -> dict:
    """Run the family of :func:`family_runs` (budget ``QUICK`` or ``FULL``), save it, then draw
    and judge from the saved runs only with the experiment module ``mod``'s ``draw``,
    ``analyse`` and ``verdict``."""
    out_dir = pathlib.Path(out_dir)
    cfg = QUICK if quick else FULL
    save(out_dir, family_runs(cfg, seed), cfg, seed)
    mod.draw(out_dir)
    out = mod.verdict(mod.analyse(out_dir))
    out.update(budget=cfg, grid_points_per_decade=cfg["density"])
    return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def draw(out_dir, *, restricted: bool, figure: str) -> pathlib.Path:
    """The figure of one selection rule, from the saved runs only: per method, the loss of
    each frequency group against the iteration at the selected step size (median over the
    heavy-tailed data sets, band: their range; as in Kunstner et al. Fig. 1); per data set,
    GD's rare-group r and lag (check (c)) on the heavy-tailed and the balanced sets; the
    step-size grids (final full loss of every run, one line per data set)."""
    import matplotlib

    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    runs = load(out_dir)
    o = outcome(runs, restricted=restricted)
    sel = select(runs, restricted=restricted)
    k = o["k"]
    heavy = [key for key in sorted(sel) if not key[1]]
    cmap = matplotlib.colormaps["viridis"]
    colors = [cmap(i / max(k - 1, 1)) for i in range(k)]
    rule = "step sizes that never raise the loss" if restricted else "every step size"
    fig, axes = plot.subplots(1, 5, width=3.6, height=3.5,
                              title=f"Heavy-tailed class imbalance ({rule}): softmax "
                                    f"regression, {2 ** k - 1} classes in {k} frequency "
                                    f"groups, {_count(len(heavy), 'data set')}, full batch")
    top = float(runs["f0"][0])
    steps = runs["k"]
    for ax, method in zip(axes, METHODS):
        rows = [sel[key][method] for key in heavy if sel[key].get(method) is not None]
        if not rows:
            ax.set_title(f"{method}: no admitted step size", fontsize=9)
            continue
        G = runs["groups"][rows]                                    # (sets, records, groups)
        if not restricted:                       # the loss-raising runs: a log scale shows them
            G = np.maximum(G, R_FLOOR)
            ax.set_yscale("log")
        for i in range(k):
            ax.fill_between(steps, G[:, :, i].min(axis=0), G[:, :, i].max(axis=0),
                            color=colors[i], alpha=0.25, lw=0)
            ax.plot(steps, np.median(G[:, :, i], axis=0), color=colors[i], lw=1.5,
                    label=f"group {i}: {2 ** i} class{'es' if i else ''}")
        lrs = sorted({float(runs["lr"][r]) for r in rows})
        ax.set_ylim(*((0, 1.3 * top) if restricted else (R_FLOOR / 2, 10 * np.nanmax(G))))
        ax.set_xlabel("iteration")
        ax.set_ylabel("training loss of the group")
        ax.set_title(f"{method}, lr " + ", ".join(fmt(v) for v in lrs), fontsize=9)
    axes[1].legend(fontsize=8, loc="upper right")
    ax = axes[3]
    for group, marker, label in ((o["heavy"], "o", "heavy-tailed"),
                                 (o["balanced"], "s", "balanced (control)")):
        if not group:
            continue
        x = [max(e["gd_rare"], R_FLOOR) for e in group]
        y = [max(e["gd_lag"], R_FLOOR) for e in group]
        ax.loglog(x, y, marker, ms=6, ls="none", mfc="none" if group is o["balanced"] else None,
                  color=plot.COLORS[0 if group is o["heavy"] else 1],
                  label=f"{label}: {_count(len(group), 'data set')}")
    ax.axvline(GD_RARE_MIN, color="0.4", ls=":", lw=1.0)
    ax.axhline(LAG_MIN, color="0.4", ls=":", lw=1.0, label=f"(c): r >= {GD_RARE_MIN}, lag >= "
                                                          f"{LAG_MIN:g}")
    lo = min([GD_RARE_MIN / 10] + [max(e["gd_rare"], R_FLOOR) / 2
                                   for e in o["heavy"] + o["balanced"]])
    ax.set_xlim(lo, 2.0)
    ax.set_ylim(0.5, max([20.0] + [3 * e["gd_lag"] for e in o["heavy"] + o["balanced"]
                                   if math.isfinite(e["gd_lag"])]))
    ax.set_xlabel("GD: rare-group r")
    ax.set_ylabel("GD lag: r(rare) / min_G r(G)")
    ax.set_title("check (c), one point per data set", fontsize=9)
    ax.legend(fontsize=8, loc="center left")
    plot.decisive(ax, label="share of data sets where (a)-(c) hold",
                  value=o["holds_fraction"], threshold=HOLD_FRACTION, op=">=",
                  loc="upper left")
    ax = axes[4]
    final = runs["f"][np.arange(runs["f"].shape[0]), final_index(runs)]
    for j, method in enumerate(METHODS):
        for n, key in enumerate(heavy):
            rows = np.nonzero((runs["data_seed"] == key[0]) & ~runs["balanced"]
                              & (runs["method"] == j))[0]
            lrs, fin = runs["lr"][rows], final[rows]
            out = (runs["blowup_at"][rows] >= 0) if restricted else np.zeros(rows.size, bool)
            out |= runs["diverged_at"][rows] >= 0
            ax.loglog(lrs, np.where(out, np.nan, fin), "-", color=plot.COLORS[j], lw=0.9,
                      alpha=0.7, label=method if n == 0 else None)
            if out.any():
                ax.loglog(lrs[out], np.full(out.sum(), top), "x", color=plot.COLORS[j], ms=5)
            if sel[key].get(method) is not None:
                r = sel[key][method]
                ax.loglog([runs["lr"][r]], [final[r]], "*", color=plot.COLORS[j], ms=9)
    ax.set_xlabel("step size")
    ax.set_ylabel(f"full loss after {o['steps']} steps")
    excluded = "x: loss rose, excluded; " if restricted else "x: diverged; "
    ax.set_title(f"step-size grids, a line per data set\n({excluded}star: selected)",
                 fontsize=9)
    ax.legend(fontsize=8)
    for ax in axes:
        ax.minorticks_off()                      # (the log axes' minor ticks cost more than they show)
    fig.subplots_adjust(left=0.035, right=0.99, bottom=0.14, top=0.8, wspace=0.4)
    return plot.save(fig, out_dir / figure, dpi=100, tight=False)   # hand-set margins: faster
