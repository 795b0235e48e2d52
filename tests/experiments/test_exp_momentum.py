"""The momentum-quadratic experiment: PASS in --quick mode, judged by its rule in force, files
written, the figure redrawn from saved traces, the theory of the noise floor, the paired noise,
the t bounds against an independent computation, every control violating the claim, and a FAIL
with broken parameters, with a control replaced by a run inside the hypotheses, or with floors
that differ."""
import math

import exp_testkit as kit
import numpy as np
import pytest
from exp_testkit import session_backend

import problems as P
from experiments import momentum
from experiments.__main__ import run_one
from experiments.trace import load_traces


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out, run_one("momentum-quadratic", str(out), True, 0, session_backend())


def test_quick_run_passes_and_writes_its_files(quick_run):
    out, v = quick_run
    assert v["verdict"] == "PASS", v["measured"]
    folder = out / "momentum-quadratic"
    assert (folder / v["figure"]).stat().st_size > 10_000
    det = load_traces(folder, stem="det")
    noisy = load_traces(folder, stem="noise")
    assert {t.meta["method"] for t in det} == {"HB", "GD"}
    assert {t.meta["regime"] for t in noisy} == {"constant", "decreasing"}
    for row in v["rates"].values():
        assert row["HB"][0] < row["GD"][0]          # accelerated
    saved = kit.assert_wrote_its_files(out, "momentum-quadratic", v)
    assert saved["seeds"] == momentum.QUICK["seeds"] == 24
    assert saved["earlier_rules"][0]["verdict"] == "PASS"       # version 1 on the same run


def test_draw_uses_the_saved_traces_only(quick_run, monkeypatch):
    out, v = quick_run
    folder = out / "momentum-quadratic"
    (folder / v["figure"]).unlink()
    monkeypatch.setattr(momentum, "run_trace", None)
    monkeypatch.setattr(momentum, "noisy_run", None)
    assert momentum.draw(folder).exists()


def test_optimal_parameters_and_rates():
    alpha, beta = momentum.optimal_parameters(0.01, 1.0)     # kappa = 100
    assert alpha == pytest.approx(4 / 1.1 ** 2)
    assert np.sqrt(beta) == pytest.approx(momentum.rate_hb(100)) == pytest.approx(9 / 11)
    assert momentum.rate_gd(100) == pytest.approx(99 / 101)


def test_noise_floor_formula_against_a_long_scalar_simulation():
    """The AR(2) stationary variance behind F(alpha, beta), checked on one eigenvalue by a
    long simulation of the scalar recursion (independent of the optimizer classes)."""
    rng = np.random.default_rng(0)
    lam, alpha, beta, s = 0.5, 0.2, 0.8, 0.1
    n, burn = 400_000, 1_000
    xi = rng.standard_normal(n)
    e_prev = e = 0.0
    acc = []
    t = 1 + beta - alpha * lam
    for k in range(n):
        e, e_prev = t * e - beta * e_prev - alpha * s * xi[k], e
        if k >= burn:
            acc.append(e * e)
    measured = 0.5 * lam * np.mean(acc)
    assert measured == pytest.approx(momentum.noise_floor(alpha, beta, [lam], s), rel=0.05)


def test_noisy_runs_with_zero_noise_follow_the_deterministic_iteration(monkeypatch):
    """With s = 0 the inline loop is plain heavy ball: every seed (row) gives the same gap as
    the runner's deterministic run."""
    import optimizers
    from experiments.runner import run

    monkeypatch.setattr(momentum, "NOISE", 0.0)
    q = P.Quadratic(dim=6, mu=0.1, L=1.0, seed=2)
    tr = momentum.noisy_run(q, lambda ps: optimizers.Momentum(ps, lr=0.3, momentum=0.5),
                            steps=30, seeds=3, seed=0, label="x")
    ref = run(q, lambda ps: optimizers.Momentum(ps, lr=0.3, momentum=0.5), steps=30)
    np.testing.assert_allclose(tr["f_gap"], ref["f_gap"], rtol=1e-7, atol=1e-14)
    assert np.all(tr["f_gap_se"] <= 1e-12)


@pytest.mark.slow
def test_broken_parameters_fail(tmp_path, monkeypatch):
    """Half the optimal momentum: the measured rate no longer matches the claimed one."""
    good = momentum.optimal_parameters
    monkeypatch.setattr(momentum, "optimal_parameters",
                        lambda mu, L: (good(mu, L)[0], good(mu, L)[1] / 2))
    v = momentum.run(tmp_path, quick=True, seed=0)
    assert v["verdict"] == "FAIL"


def _saved(out):
    folder = out / "momentum-quadratic"
    return load_traces(folder, stem="det"), load_traces(folder, stem="noise")


def _failed(v):
    return [c["key"] for c in v["checks"] if not c["passed"]]


def test_every_control_violates_the_claim(quick_run):
    """The four controls hold their conditions: HB at (alpha*/2, beta*) and GD miss rho_HB by
    far (GD by |ln rho_GD / ln rho_HB - 1| of the closed forms), the heavy ball at the same alpha
    has a floor about 10 times SGD's, SGD with 2 c mu < 1 decays more slowly than 1/k."""
    _, v = quick_run
    checks = {c["key"]: c for c in v["checks"]}
    controls = [c.key for c in momentum.RULES[-1].controls]
    assert len(controls) == 4
    for key in controls:
        assert checks[key]["role"] == "control" and checks[key]["passed"], checks[key]
    gd_vs_hb = min(abs(math.log((k - 1) / (k + 1)) / math.log((k ** 0.5 - 1) / (k ** 0.5 + 1))
                       - 1) for k in momentum.QUICK["kappas"])
    assert checks["control_gd_min_error"]["value"] == pytest.approx(gd_vs_hb, abs=0.02)
    assert checks["control_half_step_min_error"]["value"] > 0.5
    assert checks["control_same_alpha_ratio_lower"]["value"] > 5
    assert checks["control_small_c_slope_lower"]["value"] > -0.8


def test_controls_inside_the_hypotheses_make_the_verdict_fail(quick_run):
    """Each control replaced by a run of the claim: the optimal heavy ball for the half-step
    one, the heavy ball at the same effective step for the same-alpha arm, SGD with c = 2/mu for
    the small-c one. Each time the verdict is FAIL on that control's condition alone."""
    out, _ = quick_run
    det, noisy = _saved(out)
    assert momentum.judge(det, noisy)["verdict"] == "PASS"

    swapped = [t for t in det if not t.meta["control"]]
    for t in [t for t in det if t.meta["method"] == "HB" and not t.meta["control"]]:
        copy = momentum.Trace(t.label, dict(t.columns), dict(t.meta, control=True))
        swapped.append(copy)
    v = momentum.judge(swapped, noisy)
    assert v["verdict"] == "FAIL" and _failed(v) == ["control_half_step_min_error"]
    assert v["bound"] == momentum.RULES[-1].text  # judged by the rule in force, all of it
    assert [c["key"] for c in v["checks"]] == list(momentum.RULES[-1].keys)

    def replaced(arm, by, regime):
        out_ = []
        for t in noisy:
            if t.meta["regime"] == regime and t.meta["arm"] == arm:
                src = next(u for u in noisy if u.meta["regime"] == regime
                           and u.meta["arm"] == by)
                t = momentum.Trace(t.label, dict(src.columns), dict(src.meta, arm=arm))
            out_.append(t)
        return out_

    v = momentum.judge(det, replaced("HB same alpha", "HB same effective step", "constant"))
    assert v["verdict"] == "FAIL" and _failed(v) == ["control_same_alpha_ratio_lower"]
    v = momentum.judge(det, replaced("control", "SGD", "decreasing"))
    assert v["verdict"] == "FAIL" and _failed(v) == ["control_small_c_slope_lower"]


def test_floors_that_differ_make_the_verdict_fail(quick_run):
    """The claim side: the heavy ball's gaps at the same effective step multiplied by 1.5 put
    its floor ratio to SGD outside [0.8, 1.25] (and its floor 50% above F): FAIL under the rule
    in force and under version 1."""
    out, _ = quick_run
    det, noisy = _saved(out)
    t = next(t for t in noisy if t.meta.get("arm") == "HB same effective step")
    for col in ("f_gap", "f_gap_seeds"):
        t.columns[col] = np.asarray(t[col]) * 1.5
    v = momentum.judge(det, noisy)
    assert v["verdict"] == "FAIL"
    assert {"floor_ratio_upper", "floor_rel_error_bound"} <= set(_failed(v))
    assert v["earlier_rules"][0]["verdict"] == "FAIL"


def test_the_floor_bounds_are_the_paired_t_interval(quick_run):
    """The same-effective-step bounds recomputed from the saved per-seed gaps: the floor of each
    seed (mean over the second half), the paired log ratios, mean -+ t sd/sqrt(S) with the
    printed table's t_{0.95, 23} = 1.7139."""
    out, v = quick_run
    _, noisy = _saved(out)
    arm = {t.meta["arm"]: t for t in noisy if t.meta["regime"] == "constant"}
    half = len(arm["SGD"]) // 2
    floor = {k: np.asarray(t["f_gap_seeds"])[half:].mean(axis=0) for k, t in arm.items()}
    d = np.log(floor["HB same effective step"] / floor["SGD"])
    assert d.size == 24
    half_width = 1.7139 * d.std(ddof=1) / math.sqrt(d.size)
    checks = {c["key"]: c["value"] for c in v["checks"]}
    assert checks["floor_ratio_lower"] == pytest.approx(math.exp(d.mean() - half_width), rel=1e-5)
    assert checks["floor_ratio_upper"] == pytest.approx(math.exp(d.mean() + half_width), rel=1e-5)


def test_the_arms_are_paired_by_the_same_noise():
    """Two identical arms in one noisy loop see the same noise: every seed's gap is the same in
    both, while different seeds differ."""
    import optimizers

    q = P.Quadratic(dim=6, mu=0.1, L=1.0, seed=2)

    def make(ps):
        return optimizers.SGD(ps, lr=0.3)

    a, b = momentum.noisy_arms(q, [("a", make, {}), ("b", make, {})], steps=20, seeds=4, seed=1)
    np.testing.assert_array_equal(a["f_gap_seeds"], b["f_gap_seeds"])
    assert np.all(np.ptp(a["f_gap_seeds"][1:], axis=1) > 0)

