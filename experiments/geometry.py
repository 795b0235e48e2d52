r"""Geometry of the update (L2; docs/lectures.md section 6): steepest descent in different norms,
Muon and
Shampoo against Adam on an ill-conditioned matrix problem, and the polar factor
:math:`UV^\top` by Newton–Schulz iterations against the SVD.

**Part A: the optimizers.** L2 writes every method as steepest descent in a norm: normalised
GD (:math:`\ell_2`), sign descent (:math:`\ell_\infty`; Adam without its averages is sign descent),
and for a weight matrix the spectral norm, whose normalised step is :math:`W-\eta UV^\top`
(Muon), while Shampoo preconditions with :math:`L^{-1/4}GR^{-1/4}` ("more expensive than Adam,
but may converge faster or to better solutions in the number of steps"). The problem is
``problems.MatrixRegression`` (:math:`W\in\mathbb{R}^{16\times32}`, full-rank target, ``m=256``
samples, no noise, :math:`f^*=0`) with input scales geometric from 1 to
:math:`10^{-2}`: the Hessian :math:`I\otimes A^\top A/m` has condition number
:math:`\kappa\approx10^4` (``cond=1e4``). Two versions with the same spectrum:

* *aligned*: the ill-conditioning lies along the coordinate axes of the inputs (``MatrixRegression``
  as it is: the Hessian is nearly diagonal);
* *rotated*: the inputs are multiplied by a random orthogonal :math:`Q` (Haar, from the seed),
  :math:`A\to AQ`, so :math:`W^*\to W^*Q`, the same :math:`f^*`, :math:`\mu`, :math:`L` and start
  :math:`W_0=0`; only the basis changes (:class:`RotatedMatrixRegression`).

GD, normalised GD, spectral steepest descent (:math:`W-\eta UV^\top` from the SVD), Muon and
Shampoo are equivariant under :math:`W\to WQ` (their iterates rotate with the problem, so their
losses are the same in exact arithmetic); Adam and sign descent act coordinate-wise and are not.
Seven methods (``SGD``, ``NormalizedGD``, ``SteepestDescent(norm="linf", normalized=True)``,
``SteepestDescent(norm="spectral", normalized=True)``, ``Muon`` (quintic Newton–Schulz, Nesterov
momentum 0.95: the reference's defaults), ``Shampoo`` (EMA form, :math:`\beta=0.99`), ``Adam``
(:math:`\beta=(0.9,0.999)`)), ``STEPS`` steps each, full batch.

*Learning rate rule*: every method uses the same schedule, a cosine decay from its peak rate to 0
over the run (normalised methods take steps of a fixed length and need a decaying rate to
converge), and the peak rate is the one of the grid :math:`10^{-3},10^{-2.5},\dots,10^{1}`
(``--quick``: :math:`10^{-3},10^{-2},\dots,10^{0}`) with the lowest final loss. Every run of the
grid is saved; the choice is made by :func:`analyse` from the saved traces.

**Part B: Newton–Schulz.** For an input :math:`G=U\Sigma V^\top` the error
:math:`\|X_t-UV^\top\|_F/\sqrt{\min(m,n)}` (the root-mean-square error per singular value) after
:math:`t` iterations of the cubic Newton–Schulz iteration, Muon's quintic and Polar Express
(``optimizers.newton_schulz``, default 5-row table; past it the last row repeats, as in the
authors' code), and of Polar Express with a table built for :math:`t` steps
(``polar_express_coefficients(num_iters=t)``), for :math:`t=1..T`, on two inputs with prescribed
singular values: *well-conditioned* (geometric from 1 to 0.1) and *ill-conditioned*
(geometric from 1 to :math:`10^{-4}`), random singular vectors. Timings of five steps of each
against ``xp.linalg.svd`` on a 512x512 Gaussian float32 matrix on the run's backend (reported,
not checked: machines are noisy).

**Instances.** Instance 0 (data seed = the CLI seed, rotation seed + 1) runs every method on
both problems. Instances :math:`j=1,2,\dots` (``--quick``: 2 instances in all; full: 10) draw
new data and a new rotation (data seed ``seed + 1000 j``) and run the methods the comparison
needs: Muon, Shampoo, Adam and GD on the rotated problem, Muon and Adam on the aligned one, each
with the same grid and the same selection rule.

**The rule in force** (rule 2, :data:`RULES`; PASS when every condition holds):

1. on the rotated problem Muon's and Shampoo's final loss :math:`f-f^*` (each at its best peak
   rate) is at least 10 times below Adam's (its best peak rate of the same grid) on at least 80%
   of the instances, and the one-sided 95% t bound of the mean of
   :math:`\log_{10}\bigl((f-f^*)_{\text{Adam}}/(f-f^*)_{\text{method}}\bigr)` is at least 1 (the
   lecture's claim for Shampoo, and Muon as the spectral-norm step; 10 is rule 1's margin, 80%
   lets one instance in five go the other way);
2. equivariance, the reason (instance 0; deterministic: an identity of exact arithmetic, so
   one instance suffices): for GD, normalised GD, spectral descent, Muon and Shampoo the final
   loss on the rotated problem is within a factor 2 of the aligned one (the factor allows
   rounding amplified at the noise floor), while Adam's and sign descent's are at least 10
   times worse on the rotated problem (the axis-aligned conditioning helped them);
3. Polar Express's error after 5 iterations is below the quintic's on both inputs;
4. the cubic iteration reaches an error of :math:`10^{-10}` within :math:`T` iterations on the
   well-conditioned input (it converges to :math:`UV^\top`).

Parts 3 and 4 are deterministic matrix iterations on fixed inputs: one run suffices.

**Controls** (each must violate the claim's condition, in the same run):

* Muon on the *aligned* problem (outside the claim's hypothesis: the conditioning lies along the
  axes, where Adam's per-coordinate scaling fits it): Muon must not be 10 times below Adam on
  80% of the instances;
* Shampoo with its preconditioners replaced by the identity, :math:`W-\alpha G_k`, i.e. GD with
  the same cosine schedule and grid (a broken update), on the rotated problem: it must not be 10
  times below Adam on 80% of the instances (the win comes from the preconditioner, not from the
  schedule or the grid). The aligned problem is no control for Shampoo: its right factor
  :math:`R^{-1/4}` undoes the input covariance on both problems;
* Muon's quintic Newton–Schulz (its fixed points are not at 1): it must not reach the cubic's
  :math:`10^{-10}` within :math:`T` iterations.

**Statistics.** The comparisons are paired (Adam and the method on the same instance); the
shares are the fraction of instances each arm wins by the factor 10, the t bound is
:func:`experiments.stats.one_sided_t` of the per-instance log ratios (:math:`N-1` degrees of
freedom, 95%), reported with the p-value and Cohen's :math:`d_z` (:mod:`experiments.family_stats`;
a diverged arm enters as :math:`\pm30` decades).

**History.** Rule 1 (the rule before this protocol): conditions 1-4 with condition 1 on instance
0 only (Muon and Shampoo each 10 times below Adam there). On this code: PASS (``--quick``: Muon
301 times, Shampoo :math:`1.3\cdot10^4` times below Adam). Rule 2 replaced the single instance by
the family, with a share and a t bound, and added the controls.

**Outcome of rule 2** (seed 0): PASS. Full: Muon 10 times below Adam on 10 of 10 instances
(mean 2.59 decades, t bound 2.55), Shampoo on 10 of 10 (mean 8.8, t bound 8.0); the controls win
on none (aligned Muon 3.4 to 3.8 decades above Adam, GD 0.4 to 1.0 above). ``--quick``: Muon and
Shampoo on 2 of 2 (t bounds 2.40 and 2.89), the controls on none.

Losses below :math:`10^{-20}(f(W_0)-f^*)` are floored there (round-off: :math:`f^*=0` is
attained to about :math:`10^{-30}`).
"""
from __future__ import annotations

import math
import pathlib
import time

import numpy as np

import minigrad as mg
import optimizers
import problems as P
import schedules
from experiments.common import fmt
from experiments.family_plots import strip
from experiments.family_stats import mean_bound, win_share
from experiments.protocol import Condition, Rule
from experiments.protocol import verdict as rule_verdict
from experiments.registry import register
from experiments.runner import run as run_trace
from experiments.trace import load_traces, save_traces
from optimizers import newton_schulz as ns

CLAIM = ("Geometry (L2): on an ill-conditioned matrix regression whose conditioning is not "
         "aligned with the coordinate axes, Muon (spectral-norm steepest descent) and Shampoo reach "
         "a lower loss than Adam at equal steps; the matrix methods are rotation-equivariant, "
         "Adam and sign descent are not. Newton-Schulz: Polar Express is more accurate than "
         "Muon's quintic after 5 steps; the cubic iteration converges to UV^T.")
FIGURE = "geometry.png"

# Part A: the problem and the budgets
SHAPE = (16, 32)          # (n_out, n_in)
SAMPLES = 256
#: --size large: the same comparison where a GPU pays off (the coarse grid of --quick)
SHAPE_LARGE = (512, 1024)
SAMPLES_LARGE = 4096
COND = 1e4                # condition number of A^T A / m
STEPS = 200   # --quick and the full run alike; --quick differs by its coarser grid
GRID = {True: [10.0 ** e for e in (-3, -2, -1, 0)],
        False: [10.0 ** (e / 2) for e in range(-6, 3)]}
METHODS = ("GD", "NGD", "sign", "spectral", "Muon", "Shampoo", "Adam")
EQUIVARIANT = ("GD", "NGD", "spectral", "Muon", "Shampoo")
COORDINATEWISE = ("sign", "Adam")
FLOOR = 1e-20             # relative loss floor (round-off)
WIN = 10.0                # Muon, Shampoo at least 10x below Adam
SAME = 2.0                # equivariant methods: rotated/aligned within a factor 2
LOST = 10.0               # coordinate-wise methods: rotated at least 10x worse
#: instances (data and rotation seeds) of the comparison with Adam, --quick and full
INSTANCES = {True: 2, False: 10}
INSTANCE_STRIDE = 1000    # instance j: data seed = seed + 1000 j, rotation seed = that + 1
#: the runs of instances j >= 1: the claim's three methods on the rotated problem, GD there (the
#: control of Shampoo: its preconditioners replaced by the identity), Muon and Adam on the
#: aligned problem (the control of Muon)
FAMILY = {"rotated": ("GD", "Muon", "Shampoo", "Adam"), "aligned": ("Muon", "Adam")}
SHARE = 0.8               # required share of instances won by the margin WIN
CONFIDENCE = 0.95         # one-sided t bounds of the mean log10 loss ratio
CAP = 30.0                # decades: a diverged arm enters the t bound as +-30

# Part B: Newton-Schulz
NS_SHAPE = {True: (64, 128), False: (128, 256)}
NS_STEPS = 30
NS_TARGET = 1e-10
TIMING_SIZE = 512

_WIN_TEXT = f"(f-f*)_method <= (f-f*)_Adam / {WIN:g}"
#: the conditions both rules apply: equivariance, the Newton-Schulz comparison and steps
_SHARED = (
    Condition("equivariant_ratio", "instance 0: rotated/aligned loss in "
              f"[1/{SAME:g}, {SAME:g}] for GD, NGD, spectral, Muon, Shampoo (max of r, 1/r)",
              "<=", SAME),
    Condition("coordinatewise_ratio", f"instance 0: rotated/aligned loss >= {LOST:g} for "
              "Adam and sign descent", ">=", LOST),
    Condition("ns_pe_over_quintic", "||X_5 - UV^T||: Polar Express / quintic < 1 on both "
              "inputs", "<", 1.0),
    Condition("cubic_steps", f"cubic iterations to an error <= {NS_TARGET:g} "
              f"(well-conditioned) <= {NS_STEPS}", "<=", NS_STEPS),
)
RULES = (
    Rule(1, (
        Condition("v1_win_min", f"instance 0, rotated problem: (f-f*)_Muon, (f-f*)_Shampoo <= "
                  f"(f-f*)_Adam / {WIN:g} at equal steps", ">=", WIN),
    ) + _SHARED),
    Rule(2, (
        Condition("muon_share", f"rotated: share of instances with {_WIN_TEXT} for Muon >= "
                  f"{SHARE:g}", ">=", SHARE),
        Condition("shampoo_share", f"rotated: share of instances with {_WIN_TEXT} for Shampoo "
                  f">= {SHARE:g}", ">=", SHARE),
        Condition("muon_bound", f"rotated: {CONFIDENCE:.0%} lower t bound of the mean of "
                  f"log10((f-f*)_Adam / (f-f*)_Muon) >= {math.log10(WIN):g}", ">=",
                  math.log10(WIN)),
        Condition("shampoo_bound", f"rotated: {CONFIDENCE:.0%} lower t bound of the mean of "
                  f"log10((f-f*)_Adam / (f-f*)_Shampoo) >= {math.log10(WIN):g}", ">=",
                  math.log10(WIN)),
    ) + _SHARED + (
        Condition("control_aligned_muon_share", "control, aligned problem (the conditioning "
                  f"along the axes): share of instances with {_WIN_TEXT} for Muon < {SHARE:g}",
                  "<", SHARE, role="control"),
        Condition("control_identity_shampoo_share", "control, Shampoo with identity "
                  "preconditioners (GD, the same schedule and grid), rotated: share of "
                  f"instances with {_WIN_TEXT} < {SHARE:g}", "<", SHARE, role="control"),
        Condition("control_quintic_steps", "control, Muon's quintic (fixed points not at 1): "
                  f"iterations to an error <= {NS_TARGET:g} (well-conditioned) > {NS_STEPS}",
                  ">", NS_STEPS, role="control"),
    ), note="rule 1 compared Muon and Shampoo with Adam on one instance; rule 2 requires the "
            "win on a share of instances fixed in advance with a t bound of the mean log ratio, "
            "and adds controls that must violate it"),
)
BOUND = RULES[-1].text


def make_optimizer(method: str, lr):
    """The optimizer ``method`` with (peak) rate ``lr``: a number or a schedule."""
    return {
        "GD": lambda ps: optimizers.SGD(ps, lr=lr),
        "NGD": lambda ps: optimizers.NormalizedGD(ps, lr=lr),
        "sign": lambda ps: optimizers.SteepestDescent(ps, lr=lr, norm="linf", normalized=True),
        "spectral": lambda ps: optimizers.SteepestDescent(ps, lr=lr, norm="spectral",
                                                         normalized=True),
        "Muon": lambda ps: optimizers.Muon(ps, lr=lr),
        "Shampoo": lambda ps: optimizers.Shampoo(ps, lr=lr),
        "Adam": lambda ps: optimizers.Adam(ps, lr=lr),
    }[method]


class RotatedMatrixRegression(P.MatrixRegression):
    r""":class:`problems.MatrixRegression` with its inputs rotated, :math:`A\to AQ` for a Haar
    random orthogonal :math:`Q` drawn from ``rotation_seed``: the same :math:`f^*`, :math:`\mu`,
    :math:`L` (the Hessian :math:`I\otimes Q^\top(A^\top A/m)Q` has the same spectrum) and the same
    start :math:`W_0=0`; the minimiser becomes :math:`W^*Q`."""

    name = "rotated_matrix_regression"

    def __init__(self, *, rotation_seed: int, **kwargs):
        super().__init__(**kwargs)
        n_in = self.shape[1]
        Z = np.random.default_rng(rotation_seed).standard_normal((n_in, n_in))
        Qh, R = np.linalg.qr(Z)
        Qh = Qh * np.sign(np.diag(R))                 # Haar measure (sign fix of the QR)
        Q = mg.backend.asarray(Qh, dtype=self.dtype, backend=self.backend)
        self.X = self.X @ Q                           # A -> A Q
        self.W_true = self.W_true @ Q
        self._x_star = self._x_star @ Q               # W* -> W* Q


def make_problems(seed: int, shape=SHAPE, samples: int = SAMPLES) -> dict:
    """The aligned and the rotated matrix problems (same data seed)."""
    kw = {"n_out": shape[0], "n_in": shape[1], "rank": None, "m": samples, "noise": 0.0,
          "cond": COND, "seed": seed}
    return {"aligned": P.MatrixRegression(**kw),
            "rotated": RotatedMatrixRegression(rotation_seed=seed + 1, **kw)}


def optimizer_runs(*, quick: bool, seed: int, shape=SHAPE, samples: int = SAMPLES) -> list:
    """Every method at every peak rate of the grid on both problems of instance 0 (cosine decay
    to 0), and the runs of FAMILY on instances 1 .. INSTANCES - 1 (data seed
    ``seed + INSTANCE_STRIDE j``)."""
    steps = STEPS
    every = max(1, steps // 50)
    traces = []
    for j in range(INSTANCES[quick]):
        data_seed = seed + INSTANCE_STRIDE * j
        for pname, prob in make_problems(data_seed, shape, samples).items():
            f0 = prob.value(prob.x0)
            for method in METHODS if j == 0 else FAMILY[pname]:
                for lr in GRID[quick]:
                    sched = schedules.CosineDecay(lr, steps)
                    tr = run_trace(prob, make_optimizer(method, sched), steps=steps,
                                   record_every=every, label=f"{method} lr={lr:.3g} ({pname})")
                    tr.meta.update(kind="opt", method=method, problem_kind=pname, peak_lr=lr,
                                   f0=f0, f_star=prob.f_star, kappa=prob.L / prob.mu,
                                   shape=list(shape), samples=samples, instance=j,
                                   data_seed=data_seed)
                    traces.append(tr)
    return traces


# ----------------------------------------------------------------------------- Newton-Schulz
def matrix_with_spectrum(m: int, n: int, sigma, rng) -> np.ndarray:
    r""":math:`U\,\mathrm{diag}(\sigma)V^\top` with random orthonormal :math:`U` (m x k),
    :math:`V` (n x k), :math:`k=\min(m,n)`, on the host."""
    k = min(m, n)
    U, _ = np.linalg.qr(rng.standard_normal((m, k)))
    V, _ = np.linalg.qr(rng.standard_normal((n, k)))
    return (U * np.asarray(sigma)) @ V.T


NS_METHODS = {
    "cubic": lambda G, t: ns.newton_schulz_cubic(G, steps=t),
    "quintic": lambda G, t: ns.newton_schulz_quintic(G, steps=t),
    "Polar Express": lambda G, t: ns.polar_express(G, steps=t),
    "Polar Express (t-step table)": lambda G, t: ns.polar_express(
        G, steps=t, coefficients=ns.polar_express_coefficients(num_iters=t)),
}
NS_INPUTS = {"well-conditioned": 1e-1, "ill-conditioned": 1e-4}


def newton_schulz_errors(*, quick: bool, seed: int) -> dict:
    r"""``errors[input][method][t-1]`` = :math:`\|X_t-UV^\top\|_F/\sqrt k` for ``t = 1..T``
    (each ``X_t`` a fresh call with ``steps=t``, on the current backend, float64)."""
    m, n = NS_SHAPE[quick]
    k = min(m, n)
    rng = np.random.default_rng(seed + 7)
    out = {"t": np.arange(1, NS_STEPS + 1)}
    for name, smin in NS_INPUTS.items():
        Gh = matrix_with_spectrum(m, n, np.geomspace(1.0, smin, k), rng)
        G = mg.backend.asarray(Gh, dtype="float64")
        xp = mg.backend.get_array_module(G)
        polar = ns.polar_factor_svd(G)
        for meth, fn in NS_METHODS.items():
            errs = [float(xp.linalg.norm(fn(G, t) - polar)) / math.sqrt(k)
                    for t in range(1, NS_STEPS + 1)]
            out[f"{name}|{meth}"] = np.asarray(errs)
        out[f"{name}|ratio"] = np.float64(np.linalg.norm(Gh) / smin)  # ||G||_F / sigma_min
    return out


def timings(seed: int, repeats: int) -> dict:
    """Best-of-``repeats`` seconds of the SVD polar factor and of five steps of each iteration on
    a 512 x 512 Gaussian float32 matrix (the current backend), and their RMS errors
    :math:`\\|X-UV^\\top\\|_F/\\sqrt{512}` against the float64 SVD."""
    G = mg.backend.asarray(np.random.default_rng(seed + 11).standard_normal(
        (TIMING_SIZE, TIMING_SIZE)), dtype="float32")
    xp = mg.backend.get_array_module(G)

    def sync():
        if xp.__name__ == "cupy":  # pragma: no cover - GPU only
            xp.cuda.Device().synchronize()

    fns = {"svd": ns.polar_factor_svd,
           "cubic x5": lambda A: ns.newton_schulz_cubic(A, steps=5),
           "quintic x5": lambda A: ns.newton_schulz_quintic(A, steps=5),
           "Polar Express x5": lambda A: ns.polar_express(A, steps=5)}
    if xp.__name__ == "cupy":  # pragma: no cover - warm-up: CuPy builds its handles and kernels
        for fn in fns.values():
            fn(G)
        sync()
    best = {name: math.inf for name in fns}
    out = {}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            out[name] = fn(G)
            sync()
            best[name] = min(best[name], time.perf_counter() - t0)
    exact = ns.polar_factor_svd(G.astype(xp.float64))
    err = {name: float(xp.linalg.norm(X.astype(xp.float64) - exact)) / math.sqrt(TIMING_SIZE)
           for name, X in out.items()}
    return {"seconds": best, "error": err, "backend": mg.backend.backend_name_of(G)}


# ----------------------------------------------------------------------------- analysis
def relative_loss(tr) -> np.ndarray:
    r""":math:`(f(W_k)-f^*)/(f(W_0)-f^*)`, floored at ``FLOOR``; NaN after divergence."""
    f0 = tr.meta["f0"] - tr.meta["f_star"]
    y = np.asarray(tr["f_gap"], dtype=float) / f0
    return np.where(np.isfinite(y), np.maximum(y, FLOOR), np.nan)


def best_runs(traces, instance: int = 0) -> dict:
    """``{(problem_kind, method): trace}`` of one instance with the lowest final relative loss
    over the grid (runs that diverged or stopped early lose)."""
    best = {}
    for tr in traces:
        if tr.meta.get("kind") != "opt" or tr.meta.get("instance", 0) != instance:
            continue
        key = (tr.meta["problem_kind"], tr.meta["method"])
        y = relative_loss(tr)
        final = y[-1] if len(y) and tr["k"][-1] == tr.meta["steps"] else np.nan
        score = final if np.isfinite(final) else np.inf
        if key not in best or score < best[key][0]:
            best[key] = (score, tr)
    return {k: v[1] for k, v in best.items()}


def _final(tr) -> float:
    """The final relative loss of a run (``inf`` when it diverged)."""
    y = float(relative_loss(tr)[-1])
    return y if math.isfinite(y) else math.inf


def _log_ratio(a: float, b: float) -> float:
    r""":math:`\log_{10}(a/b)` of two final losses (``+-inf`` when one arm diverged, NaN when
    both did)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log10(np.float64(a) / np.float64(b)))


def family(traces) -> dict:
    """Per instance, each arm at its best peak rate: the decades by which Muon and Shampoo end
    below Adam on the rotated problem (the claim), Muon below Adam on the aligned problem and
    GD (Shampoo with identity preconditioners) below Adam on the rotated one (the controls);
    their shares of wins by the margin WIN and t bounds of the mean."""
    ids = sorted({t.meta.get("instance", 0) for t in traces if t.meta.get("kind") == "opt"})
    finals = [{k: _final(t) for k, t in best_runs(traces, j).items()} for j in ids]
    arms = {"Muon": ("rotated", "Muon"), "Shampoo": ("rotated", "Shampoo"),
            "aligned Muon": ("aligned", "Muon"), "identity Shampoo": ("rotated", "GD")}
    out = {"instances": ids}
    for arm, (pk, m) in arms.items():
        d = [_log_ratio(f[(pk, "Adam")], f[(pk, m)]) for f in finals]
        out[arm] = {"margins": d, "share": win_share(d, math.log10(WIN)),
                    "adam_share": win_share([-x for x in d], math.log10(WIN)),
                    "t": mean_bound(d, margin=math.log10(WIN), cap=CAP, confidence=CONFIDENCE),
                    "final": [f[(pk, m)] for f in finals],
                    "adam": [f[(pk, "Adam")] for f in finals]}
    return out


def analyse(traces, ns_data: dict) -> dict:
    """The numbers the verdict checks, from the saved traces and Newton-Schulz errors."""
    best = best_runs(traces)
    final = {k: _final(t) for k, t in best.items()}
    lrs = {k: t.meta["peak_lr"] for k, t in best.items()}
    rot = {m: final[("rotated", m)] for m in METHODS}
    ali = {m: final[("aligned", m)] for m in METHODS}
    ratio = {m: rot[m] / ali[m] for m in METHODS}
    win = {m: rot["Adam"] / rot[m] for m in ("Muon", "Shampoo")}
    ns5 = {name: {meth: float(ns_data[f"{name}|{meth}"][4]) for meth in NS_METHODS}
           for name in NS_INPUTS}
    t = np.asarray(ns_data["t"])
    cubic = np.asarray(ns_data["well-conditioned|cubic"])
    hit = np.nonzero(cubic <= NS_TARGET)[0]
    quintic = np.nonzero(np.asarray(ns_data["well-conditioned|quintic"]) <= NS_TARGET)[0]
    return {"final": {f"{p}|{m}": v for (p, m), v in final.items()},
            "lr": {f"{p}|{m}": v for (p, m), v in lrs.items()},
            "rotated": rot, "aligned": ali, "rotation_ratio": ratio, "win_over_adam": win,
            "ns_error_at_5": ns5,
            "ns_final": {name: {meth: float(ns_data[f"{name}|{meth}"][-1]) for meth in NS_METHODS}
                         for name in NS_INPUTS},
            "cubic_steps_to_target": int(t[hit[0]]) if hit.size else None,
            "quintic_steps_to_target": int(t[quintic[0]]) if quintic.size else None,
            "family": family(traces),
            "cubic_ratio": float(ns_data["well-conditioned|ratio"]),
            "steps": int(next(iter(best.values())).meta["steps"]),
            "grid": sorted({tr.meta["peak_lr"] for tr in traces if tr.meta.get("kind") == "opt"})}


def rule_values(a: dict) -> dict:
    """The measured numbers :data:`RULES` apply (every rule's keys, nothing else)."""
    fam, e5, r = a["family"], a["ns_error_at_5"], a["rotation_ratio"]
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = [max(r[m], 1.0 / r[m]) for m in EQUIVARIANT]
    return {
        "v1_win_min": min(a["win_over_adam"][m] for m in ("Muon", "Shampoo")),
        "equivariant_ratio": max(spread),
        "coordinatewise_ratio": min(r[m] for m in COORDINATEWISE),
        "ns_pe_over_quintic": max(e5[n]["Polar Express"] / e5[n]["quintic"] for n in NS_INPUTS),
        "cubic_steps": (math.inf if a["cubic_steps_to_target"] is None
                        else a["cubic_steps_to_target"]),
        "muon_share": fam["Muon"]["share"],
        "shampoo_share": fam["Shampoo"]["share"],
        "muon_bound": fam["Muon"]["t"]["bound"],
        "shampoo_bound": fam["Shampoo"]["t"]["bound"],
        "control_aligned_muon_share": fam["aligned Muon"]["share"],
        "control_identity_shampoo_share": fam["identity Shampoo"]["share"],
        "control_quintic_steps": (math.inf if a["quintic_steps_to_target"] is None
                                  else a["quintic_steps_to_target"]),
    }


def _arm_text(arm: dict) -> str:
    t = arm["t"]
    return (f"share {arm['share']:.2f} (Adam {WIN:g}x below it: {arm['adam_share']:.2f}), "
            f"log10 ratio per instance " + ", ".join(f"{x:.2f}" for x in arm["margins"])
            + f", mean {t['mean']:.3g}, {CONFIDENCE:.0%} lower t bound {t['bound']:.3g} (p "
            f"{t['p']:.2g} for > {math.log10(WIN):g}, d_z {t['effect']:.2g}, n {t['n']})")


def verdict(a: dict, timing: dict | None = None) -> dict:
    """PASS when every condition of the rule in force holds (module docstring)."""
    e5 = a["ns_error_at_5"]
    fam = a["family"]
    losses = ", ".join(f"{m} {fmt(a['rotated'][m])} (aligned {fmt(a['aligned'][m])})"
                       for m in METHODS)
    measured = (
        f"{len(fam['instances'])} instances (data and rotation seeds), {a['steps']} steps, best "
        f"peak rate of the same grid per method and instance. Rotated, Muon vs Adam: "
        f"{_arm_text(fam['Muon'])}; Shampoo vs Adam: {_arm_text(fam['Shampoo'])}. Controls: "
        f"aligned, Muon vs Adam: {_arm_text(fam['aligned Muon'])}; rotated, Shampoo with "
        f"identity preconditioners (GD) vs Adam: {_arm_text(fam['identity Shampoo'])}. "
        f"Instance 0, final (f-f*)/(f0-f*) on the rotated problem: {losses}; rotated/aligned: "
        + ", ".join(f"{m} {a['rotation_ratio'][m]:.3g}" for m in METHODS)
        + ". Newton-Schulz RMS error of UV^T after 5 steps: "
        + "; ".join(f"{name}: cubic {fmt(e5[name]['cubic'])}, quintic {fmt(e5[name]['quintic'])}, "
                    f"Polar Express {fmt(e5[name]['Polar Express'])}" for name in NS_INPUTS)
        + f"; cubic <= {NS_TARGET:g} after {a['cubic_steps_to_target']} steps (well-conditioned, "
          f"||G||_F/sigma_min = {a['cubic_ratio']:.3g}), quintic "
          f"{'never' if a['quintic_steps_to_target'] is None else a['quintic_steps_to_target']}"
          f"; after {NS_STEPS} steps: quintic "
          f"{fmt(a['ns_final']['well-conditioned']['quintic'])}, Polar Express (5-row table "
          f"repeated) {fmt(a['ns_final']['well-conditioned']['Polar Express'])}, Polar Express "
          f"(t-step table) {fmt(a['ns_final']['well-conditioned']['Polar Express (t-step table)'])}")
    if timing:
        s = timing["seconds"]
        e = timing["error"]
        measured += (f". Timing 512x512 Gaussian float32 ({timing['backend']}, best of repeats): "
                     f"SVD {s['svd'] * 1e3:.3g} ms, "
                     + ", ".join(f"{k} {v * 1e3:.3g} ms (RMS error {fmt(e[k])})"
                                 for k, v in s.items() if k != "svd"))
    summary = (f"rotated, {len(fam['instances'])} instances: Muon, Shampoo {WIN:g}x below Adam "
               f"on {fam['Muon']['share']:.2f}, {fam['Shampoo']['share']:.2f} (mean "
               f"{fam['Muon']['t']['mean']:.2g}, {fam['Shampoo']['t']['mean']:.2g} decades); "
               f"controls: aligned Muon {fam['aligned Muon']['share']:.2f}, GD "
               f"{fam['identity Shampoo']['share']:.2f}; NS after 5: PE "
               f"{fmt(e5['well-conditioned']['Polar Express'])} < quintic "
               f"{fmt(e5['well-conditioned']['quintic'])}; cubic to 1e-10 in "
               f"{a['cubic_steps_to_target']} steps")
    return rule_verdict(RULES, rule_values(a), claim=CLAIM, measured=measured, figure=FIGURE,
                        summary=summary, rotated=a["rotated"], aligned=a["aligned"],
                        rotation_ratio=a["rotation_ratio"], win_over_adam=a["win_over_adam"],
                        best_lr=a["lr"], ns_error_at_5=a["ns_error_at_5"],
                        cubic_steps_to_target=a["cubic_steps_to_target"],
                        quintic_steps_to_target=a["quintic_steps_to_target"],
                        instances=len(fam["instances"]),
                        family={arm: {k: v[k] for k in ("margins", "share", "adam_share", "t",
                                                        "final", "adam")}
                                for arm, v in fam.items() if arm != "instances"},
                        timing=timing)


# ----------------------------------------------------------------------------- saved data
def save_ns(out_dir, data: dict, timing: dict) -> pathlib.Path:
    path = pathlib.Path(out_dir) / "newton_schulz.npz"
    extra = {f"time|{k}": np.float64(v) for k, v in timing["seconds"].items()}
    extra.update({f"err|{k}": np.float64(v) for k, v in timing["error"].items()})
    np.savez(path, timing_backend=np.array(timing["backend"]),
             **{k: np.asarray(v) for k, v in data.items()}, **extra)
    return path


def load_ns(out_dir) -> tuple[dict, dict]:
    with np.load(pathlib.Path(out_dir) / "newton_schulz.npz", allow_pickle=False) as z:
        data = {k: z[k] for k in z.files if "|" in k and not k.startswith(("time|", "err|"))}
        data["t"] = z["t"]
        timing = {"seconds": {k[5:]: float(z[k]) for k in z.files if k.startswith("time|")},
                  "error": {k[4:]: float(z[k]) for k in z.files if k.startswith("err|")},
                  "backend": str(z["timing_backend"])}
    return data, timing


# ----------------------------------------------------------------------------- figure
STYLE = {"GD": ("0.45", "-"), "NGD": ("#88CCEE", "-"), "sign": ("#882255", "--"),
         "spectral": ("#AA4499", "-."), "Muon": ("#CC6677", "-"),
         "Shampoo": ("#117733", "-"), "Adam": ("#332288", "--")}
NS_STYLE = {"cubic": "#999933", "quintic": "#CC6677", "Polar Express": "#117733",
            "Polar Express (t-step table)": "#44AA99"}


def draw(out_dir) -> pathlib.Path:
    """Four panels from the saved files: the best run of each method on the aligned and the
    rotated problem, the final losses side by side, and the Newton-Schulz errors."""
    from experiments import plotting as plot

    out_dir = pathlib.Path(out_dir)
    traces = load_traces(out_dir, stem="opt")
    data, timing = load_ns(out_dir)
    best = best_runs(traces)
    a = analyse(traces, data)
    fig, axes = plot.subplots(3, 2, width=5.6, height=4.0,
                              title=f"Geometry: matrix regression {_shape_of(traces)}, "
                                    f"kappa = {COND:.0e}, "
                                    f"cosine decay, best peak rate per method; Newton-Schulz")
    finals = [v for v in list(a["aligned"].values()) + list(a["rotated"].values())
              if math.isfinite(v)]
    bottom = max(FLOOR / 3, 0.1 * min(finals))
    for ax, pname in zip(axes[:2], ("aligned", "rotated")):
        for m in METHODS:
            tr = best[(pname, m)]
            color, style = STYLE[m]
            ax.semilogy(tr["k"], relative_loss(tr), style, color=color, lw=1.4,
                        label=f"{m} (lr {tr.meta['peak_lr']:.2g})")
        ax.set_xlabel("step k")
        ax.set_ylabel(r"$(f(W_k)-f^*)/(f(W_0)-f^*)$")
        ax.set_ylim(bottom, 3)
        ax.set_title({"aligned": "aligned: ill-conditioning along the input axes",
                      "rotated": "rotated inputs A -> AQ: the same spectrum"}[pname], fontsize=9)
        ax.legend(fontsize=6.5, loc="lower left", ncol=2)

    ax = axes[2]
    x = np.arange(len(METHODS))
    ax.bar(x - 0.2, [a["aligned"][m] for m in METHODS], 0.4, color="0.7", label="aligned")
    ax.bar(x + 0.2, [a["rotated"][m] for m in METHODS], 0.4,
           color=[STYLE[m][0] for m in METHODS], label="rotated")
    ax.set_yscale("log")
    ax.set_ylim(bottom, 3)
    ax.set_xticks(x, METHODS, fontsize=8)
    ax.set_ylabel(f"final relative loss after {a['steps']} steps")
    ax.set_title("final loss: equivariant methods do not notice the rotation; Adam, sign do",
                 fontsize=8.5)
    ax.legend(fontsize=7, loc="upper left")

    ax = axes[3]
    t = data["t"]
    for meth, color in NS_STYLE.items():
        for name, style in zip(NS_INPUTS, ("-", "--")):
            ax.semilogy(t, np.maximum(data[f"{name}|{meth}"], 1e-17), style, color=color,
                        lw=1.3, label=f"{meth}, {name}")
    ax.axhline(NS_TARGET, color="k", lw=0.7, ls=":")
    ax.axvline(5, color="0.6", lw=0.7, ls=":")
    ax.set_xlabel("iterations t")
    ax.set_ylabel(r"$\|X_t-UV^\top\|_F/\sqrt{k}$")
    ax.set_title("polar factor without an SVD (solid: cond 10, dashed: cond 1e4)", fontsize=8.5)
    ax.legend(fontsize=5.8, loc="lower left", ncol=2)
    s = timing["seconds"]
    plot.annotate(ax, f"512x512 float32, {timing['backend']}:\n"
                  + "\n".join(f"{k}: {v * 1e3:.3g} ms" for k, v in s.items()), loc="upper right",
                  fontsize=6.5)

    fam = a["family"]
    ax = axes[4]
    strip(ax, [("Muon, rotated", fam["Muon"]["margins"], STYLE["Muon"][0]),
               ("Shampoo, rotated", fam["Shampoo"]["margins"], STYLE["Shampoo"][0]),
               ("Muon, aligned (control)", fam["aligned Muon"]["margins"], "0.45"),
               ("GD = Shampoo with P = I,\nrotated (control)", fam["identity Shampoo"]["margins"],
                "0.7")],
          math.log10(WIN), "log10((f-f*)_Adam / (f-f*)_method), final",
          f"{len(fam['instances'])} instances: decades below Adam (dashed: {WIN:g}x; bar: mean)")
    failed = [c for c in RULES[-1].conditions if not c.holds(rule_values(a)[c.key])]
    plot.decisive(ax, label=f"conditions of rule {RULES[-1].version} failed "
                            f"(of {len(RULES[-1].conditions)})",
                  value=len(failed), threshold=0, loc="upper right")

    ax = axes[5]
    for arm, marker in (("Muon", "o"), ("Shampoo", "s"), ("aligned Muon", "^"),
                        ("identity Shampoo", "v")):
        color = STYLE[arm][0] if arm in STYLE else ("0.45" if arm == "aligned Muon" else "0.7")
        ax.loglog(fam[arm]["adam"], fam[arm]["final"], marker, color=color, ms=5, alpha=0.8,
                  label=arm if arm in STYLE else f"{arm} (control)")
    seen = [v for arm in ("Muon", "Shampoo", "aligned Muon", "identity Shampoo")
            for v in fam[arm]["adam"] + fam[arm]["final"] if math.isfinite(v)]
    d = np.array([0.1 * min(seen + [1.0]), 3.0])
    ax.loglog(d, d, "k-", lw=0.8, label="equal")
    ax.loglog(d, d / WIN, "k--", lw=0.8, label=f"{WIN:g}x below Adam")
    ax.set_xlabel("Adam's final relative loss (its best peak rate)")
    ax.set_ylabel("the method's final relative loss")
    ax.set_title("each instance: the method against Adam", fontsize=8.5)
    ax.legend(fontsize=6.5, loc="upper left")
    return plot.save(fig, out_dir / FIGURE, dpi=100)


# ----------------------------------------------------------------------------- experiment
def _shape_of(traces) -> str:
    """``"n_out x n_in"`` of the saved runs (the default's for runs saved without it)."""
    n_out, n_in = traces[0].meta.get("shape", SHAPE) if traces else SHAPE
    return f"{n_out}x{n_in}"


@register("geometry", CLAIM, sizes=("default", "large"))
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy",
        size: str = "default") -> dict:
    """Both parts: save the traces and the Newton-Schulz data, draw, check. ``size="large"``:
    the optimizers on ``SHAPE_LARGE`` with ``SAMPLES_LARGE`` samples and the coarse grid."""
    out_dir = pathlib.Path(out_dir)
    if size == "large":
        runs = optimizer_runs(quick=True, seed=seed, shape=SHAPE_LARGE, samples=SAMPLES_LARGE)
    else:
        runs = optimizer_runs(quick=quick, seed=seed)
    save_traces(runs, out_dir, stem="opt")
    ns_quick = quick or size == "large"  # the large size keeps the quick Newton-Schulz part
    save_ns(out_dir, newton_schulz_errors(quick=ns_quick, seed=seed),
            timings(seed, repeats=2 if ns_quick else 5))
    draw(out_dir)
    data, timing = load_ns(out_dir)
    return verdict(analyse(load_traces(out_dir, stem="opt"), data), timing)
