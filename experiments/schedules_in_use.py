r"""Learning-rate schedules in use: constant, step, cosine, warmup-cosine, WSD and 1cycle on one
training problem, and a cyclical rate that escapes a plateau (L0's schedule tables after Schmidt
et al. 2021, L1's warmup and cooldown, L3's step decay and cyclical learning rates;
docs/lectures.md section 8).

**Part A: decaying schedules against a tuned constant rate.** Claim (L0, L1, L3: "when the
validation quality stops improving, decrease the rate"; the SGD theorems of docs/lectures.md
section 1): with a constant rate SGD stalls at a noise floor that grows with the rate; a schedule
that decays the rate at the end lowers the floor, so every decaying schedule ends below a
constant rate, even one tuned for the same horizon. Set-up: ``MLPClassification("blobs")`` (4
overlapping Gaussian classes in the plane, ``spread=1``, ``center_scale=2``, :math:`m=512`, so
:math:`f^*>0` and the per-sample gradients do not vanish at a minimum), one tanh hidden layer of
32 units, SGD with batches of 16 for :math:`K` steps (2000; ``--quick`` 250), through
``experiments.runner.run``. The peak rate follows a stated rule:
:math:`\alpha_{\max}=1/\lambda_{\max}(\nabla^2f(x_0))` (the step :math:`1/L` with :math:`L`
measured at the start of each run by power iteration on Hessian-vector products). Schedules
(``schedules``), all with peak :math:`\alpha_{\max}` and horizon :math:`K`: step
``MultiStepDecay`` (:math:`\times0.1` at :math:`K/2` and :math:`3K/4`; He et al. 2016, Goyal et
al. 2017), cosine ``CosineDecay`` to 0 (Loshchilov & Hutter 2017), warmup-cosine
``WarmupCosine`` (5% linear warmup), WSD ``WarmupStableDecay`` (5% warmup, linear cooldown over
the last 20%; L1, Hägele et al. 2024), 1cycle ``OneCycle`` with torch's defaults (no momentum
cycling: plain SGD has none). The constant rate is **tuned**: its rate
:math:`\phi\,\alpha_{\max}` with :math:`\phi\in\{1,\frac12,\dots,\frac1{64}\}` (7 rates), chosen by
the lowest mean :math:`f(x_K)` over tuning runs (their own seeds, 3; ``--quick`` 1) and then run
on the evaluation seeds. (The grid first stopped at :math:`\frac1{16}`, and the full run picked
that end; it was extended so that the pick lies inside the grid, a change that can only help the
constant rate.) The decaying schedules get no tuning at all (their peak is the rule's),
so the comparison favours the constant rate.

Statistics: 10 evaluation seeds (``--quick`` 3; seed :math:`s` fixes the initialisation and the
batch order, the same for every schedule: paired). For each decaying schedule, a one-sided
paired t-test of :math:`f_{\text{const}}(x_K)-f_{\text{sched}}(x_K)>0`, confidence 0.95, with
Cohen's :math:`d_z`. The claim covers every schedule, so all five tests must reject
(an intersection-union test: no multiplicity correction is needed for an "all" claim).

Control (outside the claim's hypothesis, gradient noise): full-batch GD (no noise floor) for 100
steps from the first evaluation seed's start, constant rate against cosine at the same peak:
without noise decaying the rate only slows GD down, so the same comparison must not favour the
schedule, :math:`f_{\text{const}}(x_K)-f_{\text{cos}}(x_K)\le0`.

**Part B: a cyclical rate escapes a plateau** (L3: "we want a chance to get out of a local
minimum and to slide off a saddle, so let us vary the rate cyclically", Smith 2017). Problems:
:mod:`experiments.plateau_family`, a plateau tilted towards a narrow well,

.. math:: f(p)=\varepsilon\sqrt{\delta^2+\|p\|^2}-D\,e^{-\|p\|^2/(2w^2)}+D-\varepsilon\delta,

GD can settle in the well only with a rate below :math:`2/(\varepsilon/\delta+D/w^2)`. The
designed instance (:class:`PlateauWell`: :math:`\varepsilon=0.02`, :math:`\delta=0.5`,
:math:`D=1`, :math:`w=0.25`, sharpness 16.04, start :math:`(-3,2)` at distance 3.6) and a family
of instances (:math:`\varepsilon`, :math:`w` and the start's distance each times an independent
log-uniform factor in :math:`[0.8,1.25]`). Full-batch GD for :math:`K=1500` steps, all runs at
once. A run *succeeds* on an instance when :math:`f(x_K)\le10^{-6}` (it left the plateau, where
:math:`f\ge0.99`, and settled in the minimum).

Fair comparison: the cyclical rate (``CyclicalLR``, ``triangular2``, half-cycle 250 steps, three
cycles ending at the base rate) is tuned over the 9 pairs
:math:`\text{base}\in\{0.025,0.05,0.1\}\times\text{max}\in\{0.25,0.5,1\}`, the constant rate over
9 log-spaced rates spanning the same range, 0.025 to 1 (``CONST_GRID``). Each picks its
configuration by the same rule on the same validation quantity: the most successes over 10
tuning instances, ties broken by the lower mean :math:`f(x_K)`. The two picks then run on 30
fresh test instances. On each, the cyclical rate *wins* when it succeeds and the constant fails,
*loses* in the opposite case, and ties otherwise; the score is +1, -1, 0.

Rule in force (version 3; PASS when every condition holds):

* A: the largest p-value of the five paired t-tests is at most 0.05;
* A, control: full-batch :math:`f_{\text{const}}(x_K)-f_{\text{cos}}(x_K)\le0`;
* B: the cyclical rate wins on more test instances than it loses: the one-sided 95% lower bound
  of the mean score (the fraction won minus the fraction lost; one-sided t-test over the
  instances) is above 0;
* B, control: the same tuning and test on a family with the start inside the well (5 tuning,
  10 test instances: no plateau to escape) must not show a win: that lower bound is at most 0.

Reported, not checked: the same comparison on a narrower family (factors in :math:`[1/1.1,1.1]`,
10 tuning and 30 test instances), the fraction of test instances that some grid constant solves
(a constant tuned per instance), and, on the designed instance, every configuration's outcome.
Part B is deterministic given the instances; its statistics are over the instances, the same in
``--quick`` and full runs (all runs go at once, so they cost little).

Earlier rules (evaluated on the same run, outcomes in ``verdict.json`` under ``earlier_rules``):

* rule 1: every decaying schedule ends below the constant rate *at the same peak* for every seed;
  on the designed instance the cyclical rate (base 0.05, max 1) leaves the plateau
  (:math:`\min_kf\le0.5`) and ends in the minimum, and no constant among its base 0.05, its mean
  and its maximum 1 does both. It held, but "no constant rate does both" was false: rates 0.100
  to 0.121 do both on the designed instance;
* rule 2: part A as in rule 1; part B on the designed instance: the cyclical rate leaves the
  plateau and settles, the constant base rate never leaves the plateau and the constant peak
  rate does not settle. It held, but it compared the cyclical rate with its own base (too small
  to escape) and peak (too large to settle) on one instance designed for it: any large-then-small
  schedule passes, and so do constant rates 0.100 to 0.121; part A's constant was untuned and
  judged without statistics.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

import minigrad as mg
import optimizers
import schedules as S
from experiments import plateau_family as PF
from experiments import stats
from experiments.common import fmt
from experiments.plateau_family import PlateauWell
from experiments.protocol import Condition, Rule
from experiments.protocol import verdict as protocol_verdict
from experiments.registry import register
from experiments.runner import run as run_trace
from experiments.sharpness import top_eigenvalue
from experiments.trace import Trace, load_traces, save_traces
from problems import MLPClassification

CLAIM = ("On an MLP with SGD, every decaying schedule (step, cosine, warmup-cosine, WSD, 1cycle) "
         "ends below a constant rate tuned for the same horizon; on a family of plateaus before "
         "narrow wells, a cyclical rate tuned like a constant one escapes and settles on more "
         "instances than the tuned constant")
FIGURE = "schedules_in_use.png"
STEM_A, STEM_TUNE, STEM_BEST, STEM_NONOISE = "mlp", "tuning", "tuned", "nonoise"
STEM_B = "plateau"
FAMILY = "family.npz"
PROFILE = "well_profile.npz"   # not "plateau_*": that is the traces' pattern
QUICK = {"seeds": 3, "tune_seeds": 1, "steps": 250, "control_steps": 100}
FULL = {"seeds": 10, "tune_seeds": 3, "steps": 2000, "control_steps": 100}
BATCH = 16
DECAYING = ("step", "cosine", "warmup-cosine", "WSD", "1cycle")
FACTORS = tuple(2.0 ** -j for j in range(7))   # the constant's rates, 1 to 1/64 of the peak
CONFIDENCE = 0.95
ESCAPE = 0.5       # f <= ESCAPE: off the plateau (the plateau lies at f >= 0.99 beyond r = 1)
SETTLED = 1e-6     # f(x_K) <= SETTLED: in the minimum
B_STEPS = 1500
HALF_CYCLE = 250
CLR_BASES, CLR_MAXES = (0.025, 0.05, 0.1), (0.25, 0.5, 1.0)
CONST_GRID = np.geomspace(0.025, 1.0, 9)   # the constant's 9 rates over the cyclical's range
CLR = {"base_lr": 0.05, "max_lr": 1.0, "step_size_up": HALF_CYCLE, "mode": "triangular2"}
SETS = {"tune": 10, "test": 30, "control_tune": 5, "control_test": 10, "narrow_tune": 10,
        "narrow_test": 30}
NARROW = 1.1

_A_GAP = Condition("a_min_gap", "A: f_const(x_K) - f_sched(x_K) > 0 at the same peak for every "
                                "decaying schedule and seed", ">", 0.0)
_CLR_ESCAPES = Condition("ref_clr_min", "designed instance: CLR 0.05-1 leaves the plateau, "
                                        "min_k f <= 0.5", "<=", ESCAPE)
_CLR_SETTLES = Condition("ref_clr_final", "designed instance: CLR 0.05-1 ends at f(x_K) <= 1e-6",
                         "<=", SETTLED)
_OLD_NONE = Condition("ref_old_both", "designed instance: none of the constants 0.05, CLR mean, "
                                      "1 both leaves the plateau and settles", "<=", 0.0)
_BASE_STAYS = Condition("ref_base_min", "designed instance: constant base rate 0.05: f > 0.5 for "
                                        "all k", ">", ESCAPE)
_PEAK_BOUNCES = Condition("ref_peak_final", "designed instance: constant peak rate 1: "
                                            "f(x_K) > 1e-6", ">", SETTLED)
_A_P = Condition("a_max_p", "A: each decaying schedule ends below the tuned constant, one-sided "
                            "paired t-test over seeds, max p over the five <= 0.05", "<=",
                 1.0 - CONFIDENCE)
_A_CONTROL = Condition("a_control_gap", "A control, full-batch GD (no gradient noise): "
                                        "f_const(x_K) - f_cosine(x_K) <= 0", "<=", 0.0,
                       role="control")
_B_LCB = Condition("b_lcb", "B: tuned CLR against the tuned constant on 30 test instances: 95% "
                            "lower bound of (fraction won - fraction lost) > 0", ">", 0.0)
_B_CONTROL = Condition("b_control_lcb", "B control, starts inside the well (no plateau): the same "
                                        "lower bound <= 0", "<=", 0.0, role="control")
RULES = (
    Rule(1, (_A_GAP, _CLR_ESCAPES, _CLR_SETTLES, _OLD_NONE)),
    Rule(2, (_A_GAP, _CLR_ESCAPES, _CLR_SETTLES, _BASE_STAYS, _PEAK_BOUNCES),
         note="rule 1 compared three constants only; constant rates 0.100-0.121 also do both"),
    Rule(3, (_A_P, _A_CONTROL, _B_LCB, _B_CONTROL),
         note="rule 2 compared the cyclical rate with its own base and peak on one instance "
              "designed for it, and part A with an untuned constant without statistics: now "
              "both constants are tuned with the same budget, part B runs on a family of "
              "instances, and each part has a control that must fail"),
)
BOUND = RULES[-1].text


# ----------------------------------------------------------------------------- part A
def schedule_table(peak: float, K: int) -> dict:
    """The six schedules of part A, all with peak ``peak`` and horizon ``K``."""
    return {
        "constant": S.Constant(peak),
        "step": S.MultiStepDecay(peak, [K // 2, 3 * K // 4], gamma=0.1),
        "cosine": S.CosineDecay(peak, K),
        "warmup-cosine": S.WarmupCosine(peak, warmup_steps=K // 20, total_steps=K),
        "WSD": S.WarmupStableDecay(peak, K, warmup_steps=K // 20, decay_steps=K // 5),
        "1cycle": S.OneCycle(peak, K, cycle_momentum=False),
    }


def mlp_problem(seed: int, init_seed: int):
    return MLPClassification("blobs", m=512, hidden=(32,), seed=seed, init_seed=init_seed,
                             n_classes=4, dim=2, spread=1.0, center_scale=2.0)


def _start(seed: int, run_seed: int):
    """The problem of a run and the rule's peak rate, 1/lambda_max at its start."""
    p = mlp_problem(seed, run_seed)
    lam0 = top_eigenvalue(p, p.x0, iters=50, rng=mg.backend.host_rng(run_seed)).lam
    return p, 1.0 / lam0, lam0


def _sgd(p, sched, K, run_seed, label, batch_size=BATCH):
    return run_trace(p, lambda ps: optimizers.SGD(ps, lr=sched), steps=K, batch_size=batch_size,
                     seed=run_seed, record_every=max(1, K // 20), label=label)


def select_factor(tuning) -> float:
    """The constant's factor with the lowest mean f(x_K) over the tuning runs (ties: the larger
    factor, the first in ``FACTORS``)."""
    means = [np.mean([t["f"][-1] for t in tuning if t.meta["factor"] == phi]) for phi in FACTORS]
    return FACTORS[int(np.argmin(means))]


def part_a(cfg: dict, seed: int) -> dict:
    """The tuning runs of the constant, the six schedules and the tuned constant on every
    evaluation seed, and the full-batch control; traces by stem."""
    K = cfg["steps"]
    tuning = []
    for t in range(cfg["tune_seeds"]):
        run_seed = seed * 1000 + 500 + t
        p, peak, lam0 = _start(seed, run_seed)
        for phi in FACTORS:
            tr = _sgd(p, S.Constant(phi * peak), K, run_seed, f"constant x{phi:g}")
            tr.meta.update(schedule="constant", factor=phi, run=t, peak=peak, lam0=lam0)
            tuning.append(tr)
    phi = select_factor(tuning)
    evals, tuned = [], []
    for s in range(cfg["seeds"]):
        run_seed = seed * 1000 + s
        p, peak, lam0 = _start(seed, run_seed)
        for name, sched in schedule_table(peak, K).items():
            tr = _sgd(p, sched, K, run_seed, name)
            tr.meta.update(schedule=name, run=s, peak=peak, lam0=lam0)
            evals.append(tr)
        if phi == 1.0:                   # the tuned constant is the constant at the peak
            tr = Trace("constant (tuned)", dict(evals[-6].columns), dict(evals[-6].meta))
        else:
            tr = _sgd(p, S.Constant(phi * peak), K, run_seed, "constant (tuned)")
        tr.meta.update(schedule="constant (tuned)", factor=phi, run=s, peak=peak, lam0=lam0)
        tuned.append(tr)
    p, peak, lam0 = _start(seed, seed * 1000)
    nonoise = []
    for name in ("constant", "cosine"):
        tr = _sgd(p, schedule_table(peak, cfg["control_steps"])[name], cfg["control_steps"],
                  seed * 1000, f"{name} (full batch)", batch_size=None)
        tr.meta.update(schedule=name, run=0, peak=peak, lam0=lam0, control=True)
        nonoise.append(tr)
    return {STEM_A: evals, STEM_TUNE: tuning, STEM_BEST: tuned, STEM_NONOISE: nonoise}


# ----------------------------------------------------------------------------- part B
def part_b_rates(K: int = B_STEPS) -> dict:
    """The configurations of part B (``label -> (rate, meta)``): the cyclical grid, the constant
    grid, and the constants at the designed cyclical rate's base and mean (the earlier rules'
    references; its maximum 1 is on the constant grid)."""
    out = {}
    for b in CLR_BASES:
        for m in CLR_MAXES:
            clr = S.CyclicalLR(b, m, HALF_CYCLE, mode="triangular2")
            ref = "clr" if (b, m) == (CLR["base_lr"], CLR["max_lr"]) else ""
            out[f"cyclical {b:g}-{m:g}"] = (clr, {"kind": "cyclical", "base_lr": b, "max_lr": m,
                                                  "rate": math.nan, "reference": ref})
    for r in CONST_GRID:
        ref = "max" if math.isclose(r, CLR["max_lr"]) else ""
        out[f"constant {r:.3g}"] = (float(r), {"kind": "grid", "rate": float(r),
                                                "reference": ref})
    clr = S.CyclicalLR(**CLR)
    mean = float(np.mean(clr(np.arange(K, dtype=float))))
    out[f"constant {CLR['base_lr']:g} (base)"] = (CLR["base_lr"], {
        "kind": "base", "rate": CLR["base_lr"], "reference": "base"})
    out[f"constant {mean:.3g} (CLR mean)"] = (mean, {"kind": "CLR mean", "rate": mean,
                                                      "reference": "mean"})
    return out


def instance_sets(seed: int):
    """The designed instance and the random ones, drawn in a fixed order: ``(Instances, set
    name of each)``."""
    rng = mg.backend.host_rng(20_000 + seed)
    parts, names = [PF.designed()], ["designed"]
    for name, n in SETS.items():
        where = "well" if name.startswith("control") else "plateau"
        spread = NARROW if name.startswith("narrow") else PF.SPREAD
        parts.append(PF.draw_instances(rng, n, where, spread))
        names += [name] * n
    return PF.Instances.concat(*parts), np.asarray(names)


def outcomes(f) -> dict:
    """Per run (rows) and instance (columns) of ``f`` (rates, K+1, n): f(x_K), min_k f, the first
    step with f <= ESCAPE and the step from which f stays <= SETTLED (-1: never)."""
    final, low = f[:, -1, :], f <= SETTLED
    above = ~low
    last_above = np.where(above.any(axis=1), f.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1),
                          -1)
    settle = np.where(low[:, -1, :], last_above + 1, -1)
    hit = f <= ESCAPE
    escape = np.where(hit.any(axis=1), np.argmax(hit, axis=1), -1)
    return {"final": final, "min": f.min(axis=1), "escape": escape, "settle": settle}


def part_b(seed: int, backend: str = "numpy"):
    """All part B runs at once; returns the traces on the designed instance and the family's
    outcomes."""
    table = part_b_rates()
    inst, names = instance_sets(seed)
    res = PF.gd_many(inst, {k: v[0] for k, v in table.items()}, B_STEPS, backend, paths=(0,))
    K = B_STEPS
    traces = []
    for i, label in enumerate(res["labels"]):
        meta = dict(table[label][1], cyclical=table[label][1]["kind"] == "cyclical",
                    sharpness=float(inst.sharpness[0]), steps=K, problem=PlateauWell.name)
        traces.append(Trace(label, {"k": np.arange(K + 1, dtype=float), "f": res["f"][i, :, 0],
                                    "lr": np.append(res["lr"][i], math.nan),
                                    "x": res["x"][i, :, 0, 0], "y": res["x"][i, :, 0, 1]}, meta))
    out = outcomes(res["f"])
    family = {"labels": np.asarray(res["labels"]),
              "kinds": np.asarray([table[n][1]["kind"] for n in res["labels"]]),
              "sets": names, "eps": inst.eps, "width": inst.width, "r0": inst.r0,
              "sharpness": inst.sharpness, **out}
    return traces, family


def profile(problem, n: int = 600) -> dict:
    """``problem`` along the line from its minimum through its start (signed distance ``r``),
    saved with part B's traces so that the figure reads it instead of evaluating the formula."""
    start = np.asarray(problem.start_point, dtype=float)
    r0 = float(np.hypot(*start))
    r = np.linspace(-0.3 * r0, 1.05 * r0, n)
    ray = start / r0
    f = mg.backend.to_numpy(problem.values(mg.backend.asarray(r[:, None] * ray[None, :],
                                                               backend=problem.backend)))
    return {"r": r, "f": np.asarray(f, dtype=float), "r0": np.asarray(r0),
            "sharpness": np.asarray(problem.sharpness)}


# ----------------------------------------------------------------------------- analysis
def _save_fresh(traces, out_dir, stem):
    for old in pathlib.Path(out_dir).glob(f"{stem}_*.npz"):
        old.unlink()
    return save_traces(traces, out_dir, stem=stem)


def _load_family(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def load_runs(out_dir) -> dict:
    """Every saved measurement of a run of this experiment, by stem."""
    out_dir = pathlib.Path(out_dir)
    runs = {stem: load_traces(out_dir, stem)
            for stem in (STEM_A, STEM_TUNE, STEM_BEST, STEM_NONOISE, STEM_B)}
    runs["family"] = _load_family(out_dir / FAMILY)
    return runs


def select(success, final) -> int:
    """The configuration (row) with the most successes over the instances (columns), ties broken
    by the lower mean f(x_K), then by the grid order."""
    count = success.sum(axis=1)
    mean = final.mean(axis=1)
    return int(np.lexsort((np.arange(len(count)), mean, -count))[0])


def compare(fam: dict, tune: str, test: str) -> dict:
    """Tune both grids on the instances of set ``tune`` by :func:`select`, then compare the two
    picks on set ``test``: per instance +1 (only the cyclical pick succeeds), -1 (only the
    constant), 0; the one-sided t-test of the mean score > 0."""
    success = fam["final"] <= SETTLED
    sets, kinds, labels = fam["sets"], fam["kinds"], fam["labels"]
    picks = {}
    for kind in ("cyclical", "grid"):
        rows = np.nonzero(kinds == kind)[0]
        cols = sets == tune
        picks[kind] = int(rows[select(success[np.ix_(rows, cols)], fam["final"][np.ix_(rows,
                                                                                      cols)])])
    cols = sets == test
    s_cyc, s_const = success[picks["cyclical"], cols], success[picks["grid"], cols]
    score = s_cyc.astype(float) - s_const.astype(float)
    t = stats.one_sided_t(score, alternative="greater", confidence=CONFIDENCE)
    grid_rows = np.nonzero(kinds == "grid")[0]
    cyc_rows = np.nonzero(kinds == "cyclical")[0]
    return {"cyclical": str(labels[picks["cyclical"]]), "constant": str(labels[picks["grid"]]),
            "n": int(cols.sum()), "won": float(np.mean(score > 0)),
            "lost": float(np.mean(score < 0)), "tied": float(np.mean(score == 0)),
            "success_cyclical": float(np.mean(s_cyc)), "success_constant": float(np.mean(s_const)),
            "lcb": float(t["bound"]), "p": float(t["p"]), "effect": float(t["effect"]),
            "any_constant": float(np.mean(success[np.ix_(grid_rows, cols)].any(axis=0))),
            "any_cyclical": float(np.mean(success[np.ix_(cyc_rows, cols)].any(axis=0))),
            "tune_success": {str(labels[r]): float(np.mean(success[r, sets == tune]))
                             for r in np.concatenate([cyc_rows, grid_rows])},
            "test_success": {str(labels[r]): float(np.mean(success[r, cols]))
                             for r in np.concatenate([cyc_rows, grid_rows])},
            "score": score}


def _designed(traces) -> dict:
    """The designed instance's outcome of each configuration: escaped, settled, steps."""
    b = {}
    for t in traces:
        f = np.asarray(t["f"], dtype=float)
        hit, high = np.nonzero(f <= ESCAPE)[0], np.nonzero(f > SETTLED)[0]
        settled = bool(f[-1] <= SETTLED)
        b[t.label] = {"escaped": bool(hit.size), "escape_step": int(hit[0]) if hit.size else None,
                      "final": float(f[-1]), "min": float(np.min(f)), "settled": settled,
                      "settle_step": (int(high[-1]) + 1 if high.size else 0) if settled else None,
                      "reference": t.meta.get("reference", ""), "kind": t.meta["kind"],
                      "rate": float(t.meta.get("rate", math.nan))}
    return b


def analyse(runs: dict) -> dict:
    ta, tuned = runs[STEM_A], runs[STEM_BEST]
    names = list(dict.fromkeys(t.meta["schedule"] for t in ta))
    seeds = sorted({int(t.meta["run"]) for t in ta})
    final = np.full((len(names), len(seeds)), np.nan)
    for t in ta:
        final[names.index(t.meta["schedule"]), seeds.index(int(t.meta["run"]))] = t["f"][-1]
    f_tuned = np.full(len(seeds), np.nan)
    for t in tuned:
        f_tuned[seeds.index(int(t.meta["run"]))] = t["f"][-1]
    phi = select_factor(runs[STEM_TUNE])
    if {t.meta["factor"] for t in tuned} != {phi}:
        raise ValueError(f"the tuned constant's runs use the factors "
                         f"{sorted({t.meta['factor'] for t in tuned})}, the tuning runs select "
                         f"{phi}")
    tuning = {phi_: float(np.mean([t["f"][-1] for t in runs[STEM_TUNE]
                                   if t.meta["factor"] == phi_])) for phi_ in FACTORS}
    c = names.index("constant")
    tests = {n: stats.paired(f_tuned, final[i], alternative="greater", confidence=CONFIDENCE)
             for i, n in enumerate(names) if n in DECAYING}
    gaps = {n: final[c] - final[i] for i, n in enumerate(names) if n != "constant"}
    nonoise = {t.meta["schedule"]: float(t["f"][-1]) for t in runs[STEM_NONOISE]}
    fam = runs["family"]
    b_main = compare(fam, "tune", "test")
    b_ctrl = compare(fam, "control_tune", "control_test")
    b_narrow = compare(fam, "narrow_tune", "narrow_test")
    d = _designed(runs[STEM_B])
    ref = {v["reference"]: v for v in d.values() if v["reference"]}
    values = {
        "a_min_gap": float(min(np.min(g) for g in gaps.values())),
        "ref_clr_min": ref["clr"]["min"], "ref_clr_final": ref["clr"]["final"],
        "ref_old_both": float(sum(ref[k]["escaped"] and ref[k]["settled"]
                                  for k in ("base", "mean", "max"))),
        "ref_base_min": ref["base"]["min"], "ref_peak_final": ref["max"]["final"],
        "a_max_p": float(max(t["p"] for t in tests.values())),
        "a_control_gap": nonoise["constant"] - nonoise["cosine"],
        "b_lcb": b_main["lcb"], "b_control_lcb": b_ctrl["lcb"],
    }
    return {"values": values, "names": names, "final": final, "tuned": f_tuned, "factor": phi,
            "tuning": tuning, "tests": tests, "gaps": gaps, "nonoise": nonoise,
            "n_seeds": len(seeds), "n_tune": len({t.meta["run"] for t in runs[STEM_TUNE]}),
            "peaks": [float(t.meta["peak"]) for t in tuned], "b": b_main, "b_control": b_ctrl,
            "b_narrow": b_narrow, "designed": d, "ref": ref}


def _b_text(b: dict) -> str:
    return (f"picks {b['cyclical']} and {b['constant']}; on {b['n']} test instances the cyclical "
            f"rate succeeds on {b['success_cyclical']:.0%}, the constant on "
            f"{b['success_constant']:.0%}: won {b['won']:.0%}, lost {b['lost']:.0%}, tied "
            f"{b['tied']:.0%}; lower 95% bound of won - lost {b['lcb']:.3f} (p = {fmt(b['p'])}, "
            f"d_z = {fmt(b['effect'])}); some grid constant solves {b['any_constant']:.0%} of "
            f"them, some cyclical configuration {b['any_cyclical']:.0%}")


def verdict(a: dict) -> dict:
    v = a["values"]
    mean_final = {n: float(np.mean(a["final"][i])) for i, n in enumerate(a["names"])}
    text_a = ", ".join(f"{n} {mean_final[n]:.4f}" for n in a["names"])
    text_t = "; ".join(f"{n}: mean gap {t['mean']:.4f}, lower bound {t['bound']:.4f}, p = "
                       f"{fmt(t['p'])}, d_z = {fmt(t['effect'])}" for n, t in a["tests"].items())
    tuning = ", ".join(f"x{phi:g}: {m:.4f}" for phi, m in a["tuning"].items())
    ref = a["ref"]
    measured = (
        f"Part A ({a['n_seeds']} evaluation seeds, quick {QUICK['seeds']}; blobs MLP, SGD batch "
        f"{BATCH}, peak 1/lambda_max {min(a['peaks']):.3g}..{max(a['peaks']):.3g}): constant "
        f"tuned on {a['n_tune']} tuning seed(s), mean f(x_K) by factor {tuning}: picks "
        f"x{a['factor']:g}, mean final loss {float(np.mean(a['tuned'])):.4f}; at the same peak "
        f"{text_a}. Paired one-sided t-tests, tuned constant minus schedule: {text_t}. Control, "
        f"full batch {QUICK['control_steps']} steps: constant {a['nonoise']['constant']:.4f}, "
        f"cosine {a['nonoise']['cosine']:.4f} (gap {v['a_control_gap']:.4f}, must be <= 0). "
        f"Part B (full-batch GD, {B_STEPS} steps, success f(x_K) <= {SETTLED:g}): family "
        f"(factors in [0.8, 1.25]): {_b_text(a['b'])}. Control, starts inside the well: "
        f"{_b_text(a['b_control'])}. Narrower family (factors in [1/{NARROW}, {NARROW}], "
        f"reported): {_b_text(a['b_narrow'])}. Designed instance: CLR 0.05-1 min f "
        f"{fmt(ref['clr']['min'])}, f(x_K) {fmt(ref['clr']['final'])}; constant 0.05 min f "
        f"{fmt(ref['base']['min'])}; constant 1 f(x_K) {fmt(ref['max']['final'])}; constants "
        f"of the old three that both escape and settle: {int(v['ref_old_both'])}; earlier rules' "
        f"part A (same peak): smallest paired gap {v['a_min_gap']:.4f}")
    worst = max(a["tests"], key=lambda n: a["tests"][n]["p"])
    b = a["b"]
    summary = (f"tuned constant (x{a['factor']:g}) ends at {float(np.mean(a['tuned'])):.4f}, "
               f"decaying schedules {min(mean_final[n] for n in DECAYING):.4f}.."
               f"{max(mean_final[n] for n in DECAYING):.4f} (largest p "
               f"{fmt(a['tests'][worst]['p'])}, {worst}); CLR {b['cyclical']} vs {b['constant']}: succeeds on "
               f"{b['success_cyclical']:.0%} / {b['success_constant']:.0%} of {b['n']} instances, "
               f"won {b['won']:.0%}, lost {b['lost']:.0%} (lower bound {b['lcb']:.3f}); controls "
               f"{v['a_control_gap']:.4f}, {a['b_control']['lcb']:.3f}")

    def family(bb):
        return {k: bb[k] for k in ("cyclical", "constant", "n", "won", "lost", "tied",
                                   "success_cyclical", "success_constant", "lcb", "p", "effect",
                                   "any_constant", "any_cyclical", "tune_success",
                                   "test_success")}

    return protocol_verdict(
        RULES, v, claim=CLAIM, measured=measured, figure=FIGURE, summary=summary,
        mean_final=mean_final, tuned_constant={"factor": a["factor"], "tuning_mean": {
            f"{k:g}": m for k, m in a["tuning"].items()}, "final": a["tuned"].tolist()},
        paired_tests={n: {k: float(t[k]) for k in ("mean", "bound", "t", "p", "effect")}
                      for n, t in a["tests"].items()},
        min_gap_same_peak={n: float(np.min(g)) for n, g in a["gaps"].items()},
        no_noise_control=a["nonoise"], family=family(a["b"]),
        family_control=family(a["b_control"]), family_narrow=family(a["b_narrow"]),
        plateau={n: {k: x[k] for k in ("escape_step", "final", "settle_step")}
                 for n, x in a["designed"].items()})


# ----------------------------------------------------------------------------- figure
def checks_of(a: dict) -> dict:
    """Whether each claim condition of the rule in force holds on the analysis ``a``."""
    return {c.key: c.holds(a["values"][c.key]) for c in RULES[-1].conditions}


def draw(out_dir) -> pathlib.Path:
    """The figure, from the saved files only: the traces of both parts, the family's outcomes
    (``family.npz``) and the designed instance's profile (``well_profile.npz``); no optimisation
    is run and no function is evaluated."""
    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    runs = load_runs(out_dir)
    a = analyse(runs)
    fig, axes = plot.subplots(2, 4, width=4.4, height=3.6,
                              title="Learning-rate schedules in use: SGD on an MLP (top), a "
                                    "cyclical rate on plateaus before narrow wells (bottom)")
    names = a["names"] + ["constant (tuned)"]
    colors = {n: plot.COLORS[i % 10] for i, n in enumerate(names)}
    ta = runs[STEM_A] + runs[STEM_BEST]
    ax = axes[0]
    for t in ta:
        if t.meta["run"] == 0:
            ax.plot(t["k"], t["lr"], color=colors[t.meta["schedule"]], lw=1.4,
                    label=t.meta["schedule"])
    ax.set_xlabel("step k")
    ax.set_ylabel("learning rate")
    ax.set_title("the schedules (seed 0), peak 1/lambda_max(x_0)", fontsize=9)
    ax.legend(fontsize=6.5)

    ax = axes[1]
    for n in names:
        F = np.asarray([t["f"] for t in ta if t.meta["schedule"] == n])
        k = next(t["k"] for t in ta if t.meta["schedule"] == n)
        ax.plot(k, F.mean(axis=0), color=colors[n], lw=1.3, label=n)
        ax.fill_between(k, F.min(axis=0), F.max(axis=0), color=colors[n], alpha=0.12, lw=0)
    lo = float(min(np.min(a["final"]), np.min(a["tuned"])))
    ax.set_ylim(lo - 0.02, lo + 0.25)
    ax.set_xlabel("step k")
    ax.set_ylabel("training loss (mean; band: range)")
    ax.set_title("training loss", fontsize=9)
    ax.legend(fontsize=6.5)

    ax = axes[2]
    cols = a["names"] + ["constant (tuned)"]
    data = [*a["final"], a["tuned"]]
    for i, (n, y) in enumerate(zip(cols, data)):
        ax.plot(np.full(a["n_seeds"], i), y, "o", color=colors[n], ms=4, alpha=0.6)
        ax.plot([i - 0.3, i + 0.3], [np.mean(y)] * 2, color=colors[n], lw=2)
    for s in range(a["n_seeds"]):                     # the pairing: one line per seed
        ax.plot(range(len(cols)), [y[s] for y in data], color="0.7", lw=0.5, zorder=0)
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(cols, rotation=30, fontsize=7)
    ax.set_ylabel("final loss f(x_K)")
    ax.set_title("final loss per seed (bar: mean; lines: same seed)", fontsize=9)
    ok = checks_of(a)
    b_decides = ok["a_max_p"] and not ok["b_lcb"]   # part B's panel only when B alone fails
    if not b_decides:
        plot.decisive(ax, label="max p, tuned constant - schedule > 0",
                      value=a["values"]["a_max_p"], threshold=1.0 - CONFIDENCE, op="<=",
                      loc="upper right")

    ax = axes[3]
    for t in runs[STEM_NONOISE]:
        ax.plot(t["k"], t["f"], color=colors[t.meta["schedule"]], lw=1.4, label=t.label)
    ax.set_xlabel("step k")
    ax.set_ylabel("full training loss")
    ax.set_title(f"control: full-batch GD, gap const - cosine {a['values']['a_control_gap']:.4f}",
                 fontsize=8.5)
    ax.legend(fontsize=7)

    with np.load(out_dir / PROFILE, allow_pickle=False) as z:
        prof = {k: z[k] for k in z.files}
    tb = {t.label: t for t in runs[STEM_B]}
    b = a["b"]
    shown = [b["cyclical"], b["constant"]] + [l for l, v in a["designed"].items()
                                              if v["reference"] in ("clr", "base", "max")]
    shown = list(dict.fromkeys(shown))
    col = {l: plot.COLORS[i + 1] for i, l in enumerate(shown)}
    name = {l: l + (" (tuned)" if l in (b["cyclical"], b["constant"]) else "") for l in shown}
    ax = axes[4]
    r0 = float(prof["r0"])
    ax.plot(prof["r"], prof["f"], color="k", lw=1.4, label="f from x* through the start")
    ax.plot([r0], [tb[shown[0]]["f"][0]], "k*", ms=10, label="start")
    for l in shown:
        t = tb[l]
        rk = float(np.hypot(t["x"][-1], t["y"][-1]))
        ax.plot([rk], [t["f"][-1]], "o", color=col[l], ms=7, alpha=0.8,
                label=f"{name[l]}: end at |x_K| = {rk:.2f}")
    ax.set_xlabel("signed distance from the minimum along the start's direction")
    ax.set_ylabel("f")
    ax.set_title("the designed instance (sharpness 16)", fontsize=9)
    ax.legend(fontsize=5.8, loc="lower right")

    ax = axes[5]
    for l in shown:
        t = tb[l]
        ax.semilogy(t["k"], np.maximum(t["f"], 1e-16), color=col[l], lw=1.2, label=name[l])
    ax.axhline(ESCAPE, color="k", ls=":", lw=1.0, label=f"off the plateau: f <= {ESCAPE}")
    ax.axhline(SETTLED, color="gray", ls="--", lw=0.8, label=f"settled: f <= {SETTLED:g}")
    ax.set_xlabel("step k")
    ax.set_ylabel("f(x_k) (1e-16: exactly 0)")
    ax.set_title("the designed instance: f(x_k)", fontsize=9)
    ax.legend(fontsize=5.8)

    ax = axes[6]
    labels = list(b["tune_success"])
    x = np.arange(len(labels))
    ax.bar(x - 0.2, [b["tune_success"][l] for l in labels], 0.4, color="0.6",
           label="tuning instances")
    ax.bar(x + 0.2, [b["test_success"][l] for l in labels], 0.4, color=plot.COLORS[0],
           label="test instances")
    for l in (b["cyclical"], b["constant"]):
        top = max(b["tune_success"][l], b["test_success"][l])
        ax.annotate("pick", (labels.index(l), top + 0.02), ha="center", fontsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels([l.replace("cyclical ", "CLR ").replace("constant ", "const ")
                        for l in labels], rotation=70, fontsize=6)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("fraction of instances solved")
    ax.set_title("the two grids (9 each) on the family", fontsize=9)
    ax.legend(fontsize=6.5, loc="upper right")

    ax = axes[7]
    fam = runs["family"]
    test = fam["sets"] == "test"
    lim = 2.0 / fam["sharpness"][test]                      # a constant settles below this
    need = (fam["r0"][test] - 3.0 * fam["width"][test]) / (fam["eps"][test] * B_STEPS)
    score = b["score"]
    for val, mk, lab in ((1, "o", "cyclical wins"), (0, "s", "tie"), (-1, "x", "constant wins")):
        m = score == val
        ax.plot(lim[m], need[m], mk, ms=5, ls="none", label=f"{lab} ({int(m.sum())})",
                color={1: plot.COLORS[2], 0: "0.5", -1: plot.COLORS[1]}[val])
    rate = float(tb[b["constant"]].meta["rate"])
    ax.axvline(rate, color="k", ls="--", lw=0.9, label=f"tuned constant {rate:.3g}")
    ax.axhline(rate, color="k", ls="--", lw=0.9)
    ax.set_xlabel("2/sharpness of the well (a constant must be below)")
    ax.set_ylabel("(r_0 - 3w)/(eps K) (a constant must be about above)")
    ax.set_title(f"test instances: won {b['won']:.0%}, lost {b['lost']:.0%}", fontsize=9)
    ax.legend(fontsize=6.2)
    if b_decides:
        plot.decisive(ax, label="lower bound, won - lost", value=a["values"]["b_lcb"],
                      threshold=0.0, op=">", loc="lower right")
    return plot.save(fig, out_dir / FIGURE, dpi=100)


# ----------------------------------------------------------------------------- experiment
@register("schedules-in-use", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = QUICK if quick else FULL
    for stem, traces in part_a(cfg, seed).items():
        _save_fresh(traces, out_dir, stem)
    traces_b, family = part_b(seed, mg.get_backend())
    _save_fresh(traces_b, out_dir, STEM_B)
    np.savez(out_dir / FAMILY, **family)
    np.savez(out_dir / PROFILE, **profile(PlateauWell()))
    draw(out_dir)
    out = verdict(analyse(load_runs(out_dir)))
    out.update(seeds=cfg["seeds"], tune_seeds=cfg["tune_seeds"], steps=cfg["steps"])
    return out
