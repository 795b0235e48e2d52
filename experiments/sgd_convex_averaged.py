r"""Convex SGD with an averaged iterate (docs/lectures.md section 1, theorems 3 and 4; L1, L2), on a
convex but not strongly convex problem: logistic regression with :math:`\mu=0`.

Claims, for convex :math:`f` with :math:`\mathbb E\|\nabla f_i(x_k)\|^2\le\sigma^2` and
:math:`R=\|x_0-x^*\|`:

* theorem 3, constant step :math:`\alpha`, uniform average
  :math:`\bar x_k=\frac1k\sum_{t<k}x_t`:
  :math:`\mathbb E[f(\bar x_k)-f^*]\le\frac{R^2}{2\alpha k}+\frac{\alpha\sigma^2}2`, and with the
  horizon step :math:`\alpha=\frac{R}{\sigma\sqrt K}` (``schedules.HorizonSGDStep``) this is
  :math:`\frac{R\sigma}{\sqrt K}` at :math:`k=K`;
* theorem 4, :math:`\alpha_k=\frac{\alpha_0}{\sqrt{k+1}}` with :math:`0<\alpha_0\le\frac1{4L}`
  (``schedules.InverseSqrtSGDStep``), weighted average
  :math:`\bar x_k=\sum_{t<k}\alpha_tx_t/\sum_{t<k}\alpha_t`:
  :math:`\mathbb E[f(\bar x_k)-f^*]\le\frac{5R^2}{4\alpha_0\sqrt k}+5\alpha_0\sigma^2
  \frac{\log(k+1)}{\sqrt k}`.

The problem: ``LogisticRegression(m=200, dim=10, mu=0)`` (data seed = the CLI seed; labels
:math:`y_i=\mathrm{sign}(\langle a_i,x_{true}\rangle+\xi_i)` with unit label noise, so the data
are not linearly separable and a minimiser exists). Its objective is convex, not strongly convex
(the Hessian :math:`\frac1mA^\top D(x)A` tends to 0 far away). The problem class leaves
:math:`x^*` unset for :math:`\mu=0`; :class:`ConvexLogistic` computes it by Newton's method
(``problems.newton_minimize``: gradient norm below :math:`10^{-12}`; it raises if the data were
separable, i.e. if no minimiser existed) and :math:`f^*=f(x^*)`. Start :math:`x_0=0`, so
:math:`R=\|x^*\|`.

:math:`\sigma^2`: the maximum of the exact :math:`\sigma^2(x)=\frac1n\sum_i\|\nabla f_i(x)\|^2`
over every iterate from which a step was taken, of every seed (the region visited). (Here a
global bound also exists: :math:`\|\nabla f_i(x)\|\le\|a_i\|`, so
:math:`\sigma^2\le\frac1m\sum_i\|a_i\|^2\approx10`; the region's maximum is smaller and gives the
sharper bound.) The horizon step is chosen before the run from :math:`\hat\sigma^2=\sigma^2(x_0)`;
the bound is then evaluated with the measured :math:`\sigma^2_{\max}` (the general bound
:math:`\frac{R^2}{2\alpha k}+\frac{\alpha\sigma^2}2` holds for any :math:`\alpha`).

Verdict: for both theorems, ``mean - 3 SE <= bound`` at every recorded :math:`k\ge1` (mean and
standard error of :math:`f(\bar x_k)-f^*` over a fixed set of seeds).
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

import minigrad as mg
import schedules
from experiments.common import fmt, verdict as make_verdict
from experiments.plotting import save, subplots
from experiments.registry import register
from experiments.stochastic import mean_se, run_seeds, save_fresh, seeds_for, sigma2_probe
from experiments.trace import load_traces
from problems import LogisticRegression, newton_minimize
from theorems import SGD_CONVEX_AVERAGED, SGD_INVERSE_SQRT

CLAIM = ("Convex SGD, averaged iterate (logistic regression with mu = 0): constant step "
         "E[f(x̄_k) - f*] <= R^2/(2 alpha k) + alpha sigma^2/2 (= R sigma/sqrt(K) with "
         "alpha = R/(sigma sqrt K)); alpha_0/sqrt(k+1) with alpha_0 <= 1/(4L): "
         "<= 5R^2/(4 alpha_0 sqrt k) + 5 alpha_0 sigma^2 log(k+1)/sqrt k")
BOUND = ("theorem 3: R^2/(2 alpha k) + alpha sigma^2/2 (R sigma/sqrt K at k=K for "
         "alpha=R/(sigma sqrt K)); theorem 4: 5R^2/(4 alpha_0 sqrt k) + "
         "5 alpha_0 sigma^2 log(k+1)/sqrt k, R=||x_0-x*||")
FIGURE = "sgd_convex_averaged.png"
QUICK = (500, 12)   # (steps, seeds per configuration) with --quick
FULL = (2000, 30)
RULES = ("horizon", "inverse-sqrt")


class ConvexLogistic(LogisticRegression):
    r"""Logistic regression with :math:`\mu=0` (convex, not strongly convex) whose minimiser
    exists (non-separable data): :math:`x^*` by Newton's method from 0 (gradient norm
    :math:`\le10^{-12}`; ``RuntimeError`` when there is none, e.g. for separable data),
    :math:`f^*=f(x^*)`."""

    def __init__(self, m: int = 200, dim: int = 10, seed: int = 0, **kw):
        super().__init__(m=m, dim=dim, mu=0.0, seed=seed, **kw)
        x_star, _ = newton_minimize(lambda z: self.f(z), self.x0.reshape(-1) * 0.0)
        self._setup(self.x0, shape=self.shape, mu=0.0, L=self.L, x_star=x_star,
                    dtype=self.dtype)


def bound_of(rule: str, k, R: float, sigma2: float, meta: dict):
    """The theorem's bound (``theorems.sgd``): theorem 3 for the horizon step, theorem 4 for
    the inverse square root step."""
    if rule == "horizon":
        return SGD_CONVEX_AVERAGED.bound(k, R, float(meta["alpha"]), sigma2)
    return SGD_INVERSE_SQRT.bound(k, R, float(meta["alpha0"]), sigma2)


def analyse(traces) -> dict:
    rows = []
    for rule in RULES:
        runs = [t for t in traces if t.meta["rule"] == rule]
        meta = runs[0].meta
        R = float(meta["R"])
        sigma2 = max(float(t.meta["sigma2_max"]) for t in runs)
        k, mean, se = mean_se(runs, "f_avg_gap")
        _, last, _ = mean_se(runs, "f_gap")
        pos = k >= 1
        bound = np.full_like(mean, np.nan)
        bound[pos] = bound_of(rule, k[pos], R, sigma2, meta)
        K = int(k[-1])
        fit = k >= K / 10
        slope = float(np.polyfit(np.log(k[fit]), np.log(mean[fit]), 1)[0])
        rows.append(dict(rule=rule, k=k, mean=mean, se=se, last=last, bound=bound, R=R,
                         sigma2=sigma2, K=K, n_seeds=len(runs), slope=slope, meta=meta,
                         violation=float(np.max((mean - 3 * se - bound)[pos])),
                         max_ratio=float(np.max(mean[pos] / bound[pos])),
                         end=float(mean[-1]), end_bound=float(bound[-1]),
                         rsk=R * math.sqrt(sigma2 / K)))
    return {"rows": rows, "f_star": float(traces[0].meta["f_star"]),
            "L": float(traces[0].meta["L"])}


def verdict(a: dict) -> dict:
    h, s = a["rows"]
    ok = all(r["violation"] <= 0 for r in a["rows"])
    measured = (
        f"{h['n_seeds']} seeds, K={h['K']}, R={fmt(h['R'])}. Constant alpha="
        f"{fmt(h['meta']['alpha'])}: at K mean gap {fmt(h['end'])} vs bound "
        f"{fmt(h['end_bound'])} (R sigma/sqrt K = {fmt(h['rsk'])}), max mean/bound "
        f"{h['max_ratio']:.3f}, sigma^2_max={fmt(h['sigma2'])}. alpha_0/sqrt(k+1), alpha_0="
        f"1/(4L)={fmt(s['meta']['alpha0'])}: at K {fmt(s['end'])} vs bound "
        f"{fmt(s['end_bound'])}, max mean/bound {s['max_ratio']:.3f}, sigma^2_max="
        f"{fmt(s['sigma2'])}. Averaged-gap slopes (info) {h['slope']:.2f}, {s['slope']:.2f}")
    summary = (f"both bounds {'hold' if ok else 'VIOLATED'} (mean-3SE); at K: "
               f"{fmt(h['end'])} <= {fmt(h['end_bound'])} and {fmt(s['end'])} <= "
               f"{fmt(s['end_bound'])}")
    return make_verdict(ok, claim=CLAIM, bound=BOUND, measured=measured,
                        figure=FIGURE, summary=summary)


def draw(out_dir) -> pathlib.Path:
    """The figure, from the saved traces only."""
    out_dir = pathlib.Path(out_dir)
    from experiments import plotting as plot

    a = analyse(load_traces(out_dir, stem="horizon") + load_traces(out_dir, stem="invsqrt"))
    fig, axes = subplots(1, 2, width=5.2, height=4.0)
    titles = {"horizon": "Theorem 3: constant alpha = R/(sigma_hat sqrt K) = {a},\n"
                         "uniform average x̄_k = (1/k) sum_(t<k) x_t",
              "inverse-sqrt": "Theorem 4: alpha_k = alpha_0/sqrt(k+1), alpha_0 = 1/(4L) = {a},\n"
                              "weighted average x̄_k = sum alpha_t x_t / sum alpha_t"}
    labels = {"horizon": r"$\frac{R^2}{2\alpha k}+\frac{\alpha\sigma^2}{2}$",
              "inverse-sqrt": r"$\frac{5R^2}{4\alpha_0\sqrt{k}}"
                              r"+5\alpha_0\sigma^2\frac{\log(k+1)}{\sqrt{k}}$"}
    for ax, r in zip(axes, a["rows"]):
        k = r["k"]
        pos = k >= 1
        ax.loglog(k[pos], r["mean"][pos], color=plot.COLORS[0], lw=1.6,
                  label=f"f(x̄_k) - f*: mean of {r['n_seeds']} runs (+- 3 SE)")
        ax.fill_between(k[pos], np.maximum(r["mean"] - 3 * r["se"], 1e-12)[pos],
                        (r["mean"] + 3 * r["se"])[pos], color=plot.COLORS[0], alpha=0.2, lw=0)
        ax.loglog(k[pos], r["last"][pos], color="grey", lw=0.8,
                  label="f(x_k) - f* (last iterate, mean)")
        ax.loglog(k[pos], r["bound"][pos], "--", color=plot.COLORS[1],
                  label=(f"bound {labels[r['rule']]}, " + r"$\sigma^2_{\max}$"
                         + f"={fmt(r['sigma2'])}"))
        if r["rule"] == "horizon":
            ax.plot([r["K"]], [r["rsk"]], "*", color=plot.COLORS[1], ms=10,
                    label=f"R sigma_max/sqrt K = {fmt(r['rsk'])}")
        alpha = r["meta"]["alpha"] if r["rule"] == "horizon" else r["meta"]["alpha0"]
        ax.set_title(titles[r["rule"]].format(a=fmt(alpha)), fontsize=8.5)
        ax.set_ylim(top=ax.get_ylim()[1] * 30)  # room for the legend
        ax.set_xlabel("iteration k")
        ax.set_ylabel("f - f*")
        ax.legend(fontsize=7.5, loc="upper right")
    worst = [float(np.max(((r["mean"] - 3 * r["se"]) / r["bound"])[r["k"] >= 1]))
             for r in a["rows"]]
    i = int(np.argmax(worst))  # the panel nearer its bound decides
    plot.decisive(axes[i], label="max (mean - 3 SE)/bound",
                  value=worst[i], threshold=1.0, loc="lower left")
    fig.suptitle(f"Convex SGD (logistic regression, mu = 0, m=200, n=10, batch 1), "
                 f"R = ||x_0 - x*|| = {fmt(a['rows'][0]['R'])}", fontsize=10)
    return save(fig, out_dir / FIGURE)


@register("sgd-convex-averaged", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    out_dir = pathlib.Path(out_dir)
    steps, n_seeds = QUICK if quick else FULL
    p = ConvexLogistic(seed=seed)  # x_0 = 0
    R = float(mg.backend.xp().linalg.norm(p.x0 - p.x_star))
    sigma_hat = math.sqrt(p.sigma2(p.x0))
    horizon = schedules.HorizonSGDStep(R, sigma_hat, steps)
    alpha0 = 1.0 / (4.0 * p.L)
    inv_sqrt = schedules.InverseSqrtSGDStep(alpha0, L=p.L)
    common = dict(steps=steps, seeds=seeds_for(seed, n_seeds), batch_size=1,
                  probe=sigma2_probe(p), record_every=max(1, steps // 500))
    base = dict(R=R, L=p.L, f_star=p.f_star, sigma_hat=sigma_hat)
    horizon_runs = run_seeds(p, horizon, average="uniform", label="alpha=R/(sigma sqrt K)",
                             meta=dict(base, rule="horizon", alpha=horizon.value), **common)
    inv_runs = run_seeds(p, inv_sqrt, average="weighted", label="alpha_0/sqrt(k+1)",
                         meta=dict(base, rule="inverse-sqrt", alpha0=alpha0), **common)
    save_fresh(horizon_runs, out_dir, "horizon")
    save_fresh(inv_runs, out_dir, "invsqrt")
    draw(out_dir)
    out = verdict(analyse(load_traces(out_dir, stem="horizon")
                          + load_traces(out_dir, stem="invsqrt")))
    out.update(steps=steps, seeds=n_seeds,
               sigma2="max over every iterate x_0..x_{K-1} of every seed, exact over all n terms",
               x_star="Newton's method on the mu=0 objective (non-separable data)")
    return out
