r"""SGD with a constant step on the lectures' strongly convex logistic regression (docs/lectures.md
section 1, theorem 1; L1, L2): linear convergence to a neighbourhood of :math:`f^*` whose size
grows with the step, and no convergence to :math:`f^*` itself.

**Claim** (theorem 1, for :math:`\alpha<\frac1{2\mu}`, :math:`L`-smooth, :math:`\mu`-strongly
convex :math:`f`, an unbiased stochastic gradient with :math:`\mathbb E\|\nabla f_i(x_k)\|^2\le
\sigma^2`):

.. math:: \mathbb E[f(x_k)-f^*]\le(1-2\alpha\mu)^k\,[f(x_0)-f^*]+\frac{L\sigma^2\alpha}{4\mu}.

**Set-up.** ``LogisticRegression(m=200, dim=10, mu=1)`` (data seed = the CLI seed), start
:math:`x_0=x^*+2u` (:math:`u` a seeded random unit vector, so :math:`f(x_0)-f^*\approx2.4` and the
linear phase is visible), single-sample SGD (batch 1), three steps
:math:`\alpha\in\{0.05, 0.15, 0.45\}` below :math:`\frac1{2\mu}=0.5`, the same seeds for every step
(the seed drives the mini-batches: the arms are paired). :math:`\sigma^2` is measured, not
assumed: the exact :math:`\sigma^2(x)=\frac1n\sum_i\|\nabla f_i(x)\|^2` at every iterate from which
a step was taken, of every seed; the bound uses its maximum over that visited region (per step
size) and the step :math:`\alpha` the runs applied (read back from the traces). A run that
diverges is stopped and counts as an infinite gap (:func:`experiments.sgd_runs.run_guarded`).

**Rule in force** (version 2; PASS when all hold; confidence 0.95):

1. the bound holds with confidence: at every recorded :math:`k` and for every :math:`\alpha`,
   the upper one-sided 95% t-bound of the mean gap, :math:`\bar x+t_{0.95,n-1}\,\mathrm{SE}`, is
   at most the bound (the claim must be shown, not merely not refuted);
2. the neighbourhood grows with :math:`\alpha`: the floors (per seed, the time average of
   :math:`f(x_k)-f^*` over the last half of the run) increase from each :math:`\alpha` to the next,
   by a one-sided paired t-test over the seeds with :math:`p\le0.05` for both pairs (an
   intersection-union test: both must hold, so no multiplicity correction); Cohen's :math:`d_z`
   is reported;
3. no convergence to :math:`f^*`: for every :math:`\alpha`, the lower 95% t-bound of the per-seed
   ratio (mean gap over the last quarter)/(mean gap over the third quarter) is at least 0.5. A
   gap converging to :math:`f^*` at the theorem's linear rate would give at most
   :math:`(1-2\alpha\mu)^{K/4}\le0.002` here, a plateau gives 1;
4. **control** (outside the hypotheses): a biased gradient :math:`g_k+\delta`,
   :math:`\|\delta\|=2` (:class:`~experiments.sgd_runs.BiasedProbeSGD`, a broken update:
   :math:`\mathbb E[g_k+\delta]\ne\nabla f(x_k)`) at :math:`\alpha=0.05`. Its runs settle where
   :math:`\nabla f=-\delta`, so :math:`f-f^*\ge\|\delta\|^2/(2L)\approx1.5`, ten times the bound's
   floor: check 1 applied to it must flag it, the *lower* 95% t-bound of its mean gap above its
   bound (computed the same way, from its own :math:`\sigma^2_{\max}`) at some :math:`k`;
5. **control** (outside the hypotheses): a step beyond the admissible range,
   :math:`\alpha=6/(2\mu)`. The runs are not stopped by an error: a run that overflows is
   stopped and its gap recorded as ``inf`` (:func:`~experiments.sgd_runs.run_guarded`). The
   claim's conclusion, convergence to a neighbourhood of :math:`f^*`, must fail for it: the
   lower 95% t-bound of the mean over seeds of :math:`\log_{10}\frac{f(x_K)-f^*}{f(x_0)-f^*}`
   above 0 (the runs end farther from :math:`f^*` than they started; an overflowed run counts as
   :math:`+\infty`). In range the bound forces that ratio below
   :math:`(1-2\alpha\mu)^K+\frac{L\sigma^2\alpha}{4\mu(f(x_0)-f^*)}`, below 0.6 here. The
   bound's formula itself is not the test for this control: beyond :math:`\alpha=\frac1\mu`,
   :math:`|1-2\alpha\mu|^k` grows faster than the runs, so at even :math:`k` it is not
   violated, and at odd :math:`k` only its sign could flag it. On this problem SGD stays
   bounded up to about :math:`\alpha<2/\mu` (the :math:`\frac\mu2\|x\|^2` term makes
   :math:`|1-\alpha\mu|>1` beyond), which is why the control sits at :math:`6/(2\mu)=3/\mu`.

**Statistics.** Seeds per step size: 10 quick, 50 full (240 and 600 steps); each control: 4
quick, 12 full (60 and 120 steps). One-sided t-tests with the seeds' degrees of freedom
(:mod:`experiments.stats`).

**Earlier rule** (version 1, evaluated on every run; ``verdict.json``, ``earlier_rules``): the
same three checks with a fixed margin of 3 standard errors (``mean - 3 SE <= bound``; floors each
more than 3 combined SE above the previous, unpaired; mean-gap ratio of the quarters at least
0.5), and no control. It passed on this code; replaced because 3 SE is not a stated confidence
for a dozen seeds, the floors of the same seeds were compared unpaired, the bound was only not
refuted, and nothing showed the check could fail.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

from experiments import stats
from experiments.common import fmt
from experiments.plotting import COLORS, save, subplots
from experiments.protocol import Condition, Rule
from experiments.protocol import verdict as rule_verdict
from experiments.registry import register
from experiments.sgd_runs import (applied_step, bias, by_seed, excess_3se, ratio, run_guarded,
                                 t_band)
from experiments.stochastic import far_start_logistic, save_fresh, seeds_for, sigma2_probe
from experiments.trace import load_traces
from theorems import SGD_CONSTANT_STEP

CLAIM = ("SGD with a constant step alpha < 1/(2 mu) on strongly convex logistic regression "
         "converges linearly to a neighbourhood of f* whose size grows with alpha, and not to f*")
FIGURE = "sgd_constant_step.png"
QUICK = {"steps": 240, "seeds": 10, "control_steps": 60, "control_seeds": 4}
FULL = {"steps": 600, "seeds": 50, "control_steps": 120, "control_seeds": 12}
STEM = "sgd"
ALPHAS = (0.05, 0.15, 0.45)
CONFIDENCE = 0.95
P_MAX = 0.05              # the one-sided tests' level (1 - CONFIDENCE)
PLATEAU = 0.5               # lower bound of the quarters' ratio (a plateau gives 1)
CONTROL_ALPHA = ALPHAS[0]
BIAS_NORM = 2.0             # ||delta|| of the control's biased gradient
STEP_FACTOR = 6.0           # the step control's alpha = STEP_FACTOR / (2 mu)

_BOUND = "(1 - 2 alpha mu)^k (f(x_0) - f*) + L sigma^2 alpha / (4 mu)"
RULES = (
    Rule(1, (
        Condition("v1_violation", f"E[f(x_k) - f*] <= {_BOUND}: max over k, alpha of (mean - "
                                  f"3 SE - bound) <= 0", "<=", 0.0),
        Condition("v1_growth", "floors grow with alpha: min over consecutive alphas of (floor "
                               "difference - 3 combined SE) > 0", ">", 0.0),
        Condition("v1_plateau", "no convergence: min over alpha of (mean gap, last quarter) / "
                                "(mean gap, third quarter) >= 0.5", ">=", PLATEAU),
    )),
    Rule(2, (
        Condition("bound_upper", f"E[f(x_k) - f*] <= {_BOUND} with 95% confidence: max over k, "
                                 f"alpha of (mean + t_0.95 SE)/bound <= 1", "<=", 1.0),
        Condition("growth_p", "floors grow with alpha: largest one-sided paired t-test p over "
                              "consecutive alphas (same seeds) <= 0.05", "<=", P_MAX),
        Condition("plateau_lower", "no convergence: min over alpha of the lower 95% t-bound of "
                                   "the per-seed ratio (gap, last quarter)/(gap, third quarter) "
                                   ">= 0.5", ">=", PLATEAU),
        Condition("control_lower", "control, biased gradient g + delta (||delta|| = 2) at alpha "
                                   "= 0.05: max over k of (mean - t_0.95 SE)/bound > 1", ">", 1.0,
                  role="control"),
        Condition("control_growth", "control, step alpha = 6/(2 mu) beyond the range: lower 95% "
                                    "t-bound of the mean of log10((f(x_K) - f*)/(f(x_0) - f*)) "
                                    "> 0 (an overflowed run counts as +inf)", ">", 0.0,
                  role="control"),
    ), note="t quantiles for the seeds' degrees of freedom instead of 3 SE, the bound shown with "
            "95% confidence, floors compared paired on the same seeds, and two controls (a "
            "biased gradient, a step beyond the range)"),
)
BOUND = RULES[-1].text


def _paired(hi, lo) -> dict:
    """The one-sided paired t-test of ``hi > lo`` (NaN p where a seed diverged)."""
    if not (np.all(np.isfinite(hi)) and np.all(np.isfinite(lo))):
        return {"p": math.nan, "effect": math.nan, "bound": math.nan}
    return stats.paired(hi, lo, alternative="greater", confidence=CONFIDENCE)


def _lower(x) -> float:
    """The lower one-sided t-bound of the mean of ``x`` (NaN where a value is not finite)."""
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        return math.nan
    return float(stats.one_sided_t(x, confidence=CONFIDENCE)["bound"])


def _growth(runs) -> dict:
    r"""A run beyond the step range (runs sorted by seed): per seed
    :math:`\log_{10}\frac{f(x_K)-f^*}{f(x_0)-f^*}` (``inf`` for a run that overflowed) and the
    lower one-sided t-bound of its mean (``inf`` when a run overflowed)."""
    gaps = np.stack([np.asarray(t["f_gap"], dtype=float) for t in runs])
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):   # a raised run: NaN
        logs = np.log10(gaps[:, -1] / gaps[:, 0])
    lower = math.inf if np.any(np.isposinf(logs)) else _lower(logs)
    return dict(alpha=applied_step(runs), logs=logs, lower=lower, n_seeds=len(runs),
                K=int(np.asarray(runs[0]["k"])[-1]),
                diverged=sum(bool(t.meta.get("diverged")) for t in runs))


def _row(runs, mu: float, L: float) -> dict:
    """One configuration (runs of the same step, sorted by seed): band, bound, floors."""
    alpha = applied_step(runs)
    band = t_band(runs, "f_gap", CONFIDENCE)
    k, mean, se = band["k"], band["mean"], band["se"]
    sigma2 = max(float(t.meta["sigma2_max"]) for t in runs)
    gap0 = float(mean[0])
    bound = SGD_CONSTANT_STEP.bound(k, mu, L, alpha, sigma2, gap0)
    K = int(k[-1])
    half = k >= K / 2
    q3 = (k >= K / 2) & (k < 3 * K / 4)
    q4 = k >= 3 * K / 4
    gaps = np.stack([np.asarray(t["f_gap"], dtype=float) for t in runs])
    with np.errstate(invalid="ignore"):
        floors = gaps[:, half].mean(axis=1)
        quarters = gaps[:, q4].mean(axis=1) / gaps[:, q3].mean(axis=1)
    return dict(alpha=alpha, k=k, mean=mean, se=se, lower=band["lower"], upper=band["upper"],
                t=band["t"], bound=bound, sigma2=sigma2, gap0=gap0, n_seeds=len(runs),
                seeds=[int(t.meta["seed"]) for t in runs], floors=floors,
                floor=float(floors.mean()),
                floor_se=float(floors.std(ddof=1) / math.sqrt(len(runs))),
                floor_bound=SGD_CONSTANT_STEP.floor_term(mu, L, alpha, sigma2),
                upper_ratio=float(np.max(ratio(band["upper"], bound))),
                tail_ratio=float(np.max(ratio(band["upper"][half], bound[half]))),
                lower_ratio=float(np.max(ratio(band["lower"], bound))),
                v1_violation=excess_3se(mean, se, bound),
                v1_plateau=float(np.mean(mean[q4]) / np.mean(mean[q3])),
                plateau_lower=_lower(quarters), quarters=quarters,
                diverged=sum(bool(t.meta.get("diverged")) for t in runs))


def analyse(traces) -> dict:
    """Everything the verdict and the figure need, from the saved traces only."""
    main = [t for t in traces if not t.meta.get("control")]
    ctrl = by_seed([t for t in traces if t.meta.get("control") == "biased"])
    wide = by_seed([t for t in traces if t.meta.get("control") == "step"])
    groups: dict = {}
    for t in main:
        groups.setdefault(float(t.meta["alpha"]), []).append(t)
    meta = main[0].meta
    mu, L = float(meta["mu"]), float(meta["L"])
    rows = [_row(by_seed(groups[a]), mu, L) for a in sorted(groups)]
    if any(r["seeds"] != rows[0]["seeds"] for r in rows):
        raise ValueError("sgd-constant-step: the step sizes were not run on the same seeds")
    pairs = []
    for r1, r2 in zip(rows, rows[1:]):
        test = _paired(r2["floors"], r1["floors"])
        pairs.append(dict(alphas=(r1["alpha"], r2["alpha"]), p=float(test["p"]),
                          effect=float(test["effect"]),
                          v1_margin=r2["floor"] - r1["floor"]
                          - 3 * math.hypot(r1["floor_se"], r2["floor_se"])))
    return {"mu": mu, "L": L, "rows": rows, "pairs": pairs,
            "sigma2_star": float(meta.get("sigma2_star", math.nan)),
            "control": _row(ctrl, mu, L) if len(ctrl) >= 2 else None,
            "step_control": _growth(wide) if len(wide) >= 2 else None}


def values_of(a: dict) -> dict:
    """The measured number of every condition of :data:`RULES`."""
    rows, pairs, c = a["rows"], a["pairs"], a["control"]
    return {"v1_violation": max(r["v1_violation"] for r in rows),
            "v1_growth": min(p["v1_margin"] for p in pairs),
            "v1_plateau": min(r["v1_plateau"] for r in rows),
            "bound_upper": max(r["upper_ratio"] for r in rows),
            "growth_p": max(p["p"] for p in pairs),
            "plateau_lower": min(r["plateau_lower"] for r in rows),
            "control_lower": c["lower_ratio"] if c is not None else math.nan,
            "control_growth": a["step_control"]["lower"] if a["step_control"] else math.nan}


def verdict(a: dict) -> dict:
    rows, pairs, c = a["rows"], a["pairs"], a["control"]
    n = rows[0]["n_seeds"]
    measured = "; ".join(
        f"alpha={r['alpha']:g}: max (mean + t SE)/bound={r['upper_ratio']:.2f} (at "
        f"k >= K/2, on the floor: {r['tail_ratio']:.2f}), floor "
        f"{fmt(r['floor'])} +- {fmt(r['floor_se'])} SE (bound's floor {fmt(r['floor_bound'])}, "
        f"sigma^2_max={fmt(r['sigma2'])}), quarters' ratio lower bound {r['plateau_lower']:.2f}"
        + (f", {r['diverged']} seeds diverged" if r["diverged"] else "") for r in rows)
    measured += "; floors grow: " + ", ".join(
        f"{p['alphas'][0]:g} -> {p['alphas'][1]:g}: p={p['p']:.2g}, d_z={p['effect']:.2f}"
        for p in pairs)
    w = a["step_control"]
    controls = []
    if c is not None:
        controls.append(f"control g + delta (||delta||={BIAS_NORM:g}, alpha={c['alpha']:g}, "
                        f"{c['n_seeds']} seeds, {int(c['k'][-1])} steps): max (mean - t SE)/"
                        f"bound = {c['lower_ratio']:.2f}, final mean gap {fmt(c['mean'][-1])} "
                        f"against the bound {fmt(c['bound'][-1])}")
    if w is not None:
        controls.append(f"control alpha={w['alpha']:g} beyond the range ({w['n_seeds']} seeds, "
                        f"{w['K']} steps, {w['diverged']} overflowed): lower t-bound of "
                        f"log10(gap_K/gap_0) = {fmt(w['lower'])}")
    measured = "; ".join([measured] + controls)
    flagged = [f"biased gradient at {c['lower_ratio']:.2f} x its bound" if c else "no biased "
               "control", f"step {w['alpha']:g} with gap growth 10^{fmt(w['lower'])}" if w else
               "no step control"]
    summary = (f"{n} seeds x {len(rows)} step sizes: max (mean + t SE)/bound "
               f"{max(r['upper_ratio'] for r in rows):.2f}, floors "
               f"{' < '.join(fmt(r['floor']) for r in rows)} (largest paired p "
               f"{max(p['p'] for p in pairs):.2g}); controls flagged: {', '.join(flagged)}")
    return rule_verdict(RULES, values_of(a), claim=CLAIM, measured=measured, figure=FIGURE,
                        summary=summary, confidence=CONFIDENCE,
                        per_alpha=[{"alpha": r["alpha"], "upper_ratio": r["upper_ratio"],
                                    "tail_ratio": r["tail_ratio"],
                                    "floor": r["floor"], "floor_se": r["floor_se"],
                                    "floor_bound": r["floor_bound"], "sigma2_max": r["sigma2"],
                                    "plateau_lower": r["plateau_lower"],
                                    "v1_plateau": r["v1_plateau"], "diverged": r["diverged"]}
                                   for r in rows],
                        floor_tests=[{"alphas": list(p["alphas"]), "p": p["p"],
                                      "d_z": p["effect"]} for p in pairs],
                        control_run=None if c is None else {
                            "alpha": c["alpha"], "bias_norm": BIAS_NORM, "seeds": c["n_seeds"],
                            "lower_ratio": c["lower_ratio"], "final_mean": float(c["mean"][-1]),
                            "final_bound": float(c["bound"][-1])},
                        step_control=None if w is None else {
                            "alpha": w["alpha"], "seeds": w["n_seeds"], "steps": w["K"],
                            "overflowed": w["diverged"], "log10_growth_lower": w["lower"],
                            "log10_growth": [float(x) for x in w["logs"]]})


def draw(out_dir) -> pathlib.Path:
    """The figure, from the saved traces only."""
    out_dir = pathlib.Path(out_dir)
    from experiments import plotting as plot

    a = analyse(load_traces(out_dir, stem=STEM))
    fig, (ax, ax2) = subplots(1, 2, width=5.2, height=4.0)
    for c, r in zip(COLORS, a["rows"]):
        ax.semilogy(r["k"], r["mean"], color=c, lw=1.6,
                    label=f"alpha={r['alpha']:g}: mean of {r['n_seeds']} runs")
        ax.fill_between(r["k"], np.maximum(r["lower"], 1e-12), r["upper"], color=c, alpha=0.18,
                        lw=0)
        ax.semilogy(r["k"], r["bound"], "--", color=c, lw=1.1)
        ax.axhline(r["floor_bound"], color=c, ls=":", lw=0.9)
    ctl = a["control"]
    if ctl is not None:
        ax.semilogy(ctl["k"], ctl["mean"], color="k", lw=1.3,
                    label=f"control: g + delta, alpha={ctl['alpha']:g} ({ctl['n_seeds']} runs)")
        ax.fill_between(ctl["k"], np.maximum(ctl["lower"], 1e-12), ctl["upper"], color="k",
                        alpha=0.15, lw=0)
        ax.semilogy(ctl["k"], ctl["bound"], "--", color="k", lw=0.9)
    w = a["step_control"]
    if w is not None:  # its gaps leave the axes: its per-seed growth is stated instead
        ax.plot([], [], " ", label=f"control alpha={w['alpha']:g}: log10(gap_K/gap_0) >= "
                                   f"{fmt(w['lower'])} (95%)")
    ax.plot([], [], "k--", lw=1.1, label="bound (1-2 alpha mu)^k gap_0 + L sigma^2 alpha/(4mu)")
    ax.plot([], [], "k:", lw=0.9, label="bound's floor L sigma^2 alpha/(4mu)")
    ax.set_xlabel("iteration k")
    ax.set_ylabel("f(x_k) - f*  (bands: one-sided 95% t-bounds)")
    ax.set_ylim(top=ax.get_ylim()[1] * 30)  # room for the legend
    ax.set_title("Constant-step SGD, logistic regression (m=200, n=10, mu=1), batch 1",
                 fontsize=9)
    ax.legend(fontsize=6.5, loc="upper right")
    plot.decisive(ax, label="max (mean + t SE)/bound",
                  value=max(r["upper_ratio"] for r in a["rows"]), threshold=1.0,
                  loc="lower left")
    al = np.array([r["alpha"] for r in a["rows"]])
    fl = np.array([r["floor"] for r in a["rows"]])
    fb = np.array([r["floor_bound"] for r in a["rows"]])
    for r in a["rows"]:  # per-seed floors (the variability of the paired comparison)
        ax2.plot(np.full(r["floors"].size, r["alpha"]), r["floors"], ".", color="grey", ms=3,
                 alpha=0.6)
    t = a["rows"][0]["t"]
    ax2.errorbar(al, fl, yerr=t * np.array([r["floor_se"] for r in a["rows"]]), fmt="o-",
                 color="k", capsize=3, label="floor: mean over last half, +- t SE (dots: seeds)")
    ax2.plot(al, fb, "s--", color=COLORS[1], label="bound's floor L sigma^2_max alpha/(4 mu)")
    ax2.plot(al, fl[0] * al / al[0], ":", color="grey", label="proportional to alpha")
    s2s = float(a["sigma2_star"])
    ax2.plot(al, a["L"] * s2s * al / (4 * a["mu"]), "x", color="grey", ms=7,
             label="L sigma^2(x*) alpha/(4 mu): sigma^2 at x* only (scale, not the bound)")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xticks(al, [f"{v:g}" for v in al])
    ax2.minorticks_off()
    ax2.set_xlabel("step alpha  (all < 1/(2 mu) = %g)" % (1 / (2 * a["mu"])))
    ax2.set_ylabel("neighbourhood size  E[f - f*] at the plateau")
    ax2.set_title("The neighbourhood grows with alpha (paired over seeds)", fontsize=9)
    ax2.legend(fontsize=7, loc="upper left")
    return save(fig, out_dir / FIGURE)


@register("sgd-constant-step", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    out_dir = pathlib.Path(out_dir)
    cfg = QUICK if quick else FULL
    p = far_start_logistic(seed)
    meta = dict(mu=p.mu, L=p.L, f_star=p.f_star, sigma2_star=p.sigma2(p.x_star))
    traces = []
    for alpha in ALPHAS:
        traces += run_guarded(p, alpha, steps=cfg["steps"], seeds=seeds_for(seed, cfg["seeds"]),
                              batch_size=1, probe=sigma2_probe(p), label=f"alpha={alpha:g}",
                              meta=dict(meta, alpha=alpha))
    delta = bias(p.dim, BIAS_NORM)
    traces += run_guarded(p, CONTROL_ALPHA, steps=cfg["control_steps"],
                          seeds=seeds_for(seed, cfg["control_seeds"]), batch_size=1,
                          probe=sigma2_probe(p), delta=delta, label="control: g + delta",
                          meta=dict(meta, alpha=CONTROL_ALPHA, control="biased",
                                    delta=delta.tolist()))
    wide = STEP_FACTOR / (2 * p.mu)
    traces += run_guarded(p, wide, steps=cfg["control_steps"],
                          seeds=seeds_for(seed, cfg["control_seeds"]), batch_size=1,
                          probe=sigma2_probe(p), label=f"control: alpha={wide:g}",
                          meta=dict(meta, alpha=wide, control="step"))
    save_fresh(traces, out_dir, STEM)
    draw(out_dir)
    out = verdict(analyse(load_traces(out_dir, stem=STEM)))
    out.update(steps=cfg["steps"], seeds=cfg["seeds"], control_steps=cfg["control_steps"],
               control_seeds=cfg["control_seeds"],
               sigma2="max over every iterate x_0..x_{K-1} of every seed, exact over all n terms")
    return out
