"""The training experiments (loss-landscape, schedules-in-use): their quick runs with their
verdicts and files, figures redrawn from the saved files alone, each rule condition turning
false when the saved measurements are altered to break it (the controls included: each fails
when its run is replaced by an in-hypothesis one), and their tools (random directions of the
weights' norm, the plateau-and-well family and its batched GD, the outcome and selection
rules; the power iteration for the sharpness is tested in tests/experiments/test_sharpness.py)."""
import json
import math

import exp_testkit as kit
import numpy as np
import pytest

import minigrad as mg
import schedules
from experiments import loss_landscape as LL
from experiments import plateau_family as PF
from experiments import schedules_in_use as SU
from experiments.trace import Trace, load_traces
from problems import MLPClassification

MODULES = {"loss-landscape": LL, "schedules-in-use": SU}
# --quick: part A of schedules-in-use has 3 seeds and 250 steps; its five paired t-tests do not
# all reach p <= 0.05 there (the full run has 10 seeds and 2000 steps)
QUICK_VERDICT = {"loss-landscape": "PASS", "schedules-in-use": "FAIL"}


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    return kit.quick_runs(tmp_path_factory, MODULES)


def landscape_data(folder):
    return LL._load(folder / LL.DATA), LL._load(folder / LL.SHARP)


def checks(v) -> dict:
    return {c["key"]: c["passed"] for c in v["checks"]}


def earlier(v) -> dict:
    return {r["version"]: r["verdict"] for r in v["earlier_rules"]}


# ----------------------------------------------------------------------------- the runs
@pytest.mark.parametrize("name", list(MODULES))
def test_quick_run_gives_its_verdict_and_writes_its_files(quick_runs, name):
    out, runs = quick_runs
    v = runs[name]
    saved = kit.assert_wrote_its_files(out, name, v, expected=QUICK_VERDICT[name])
    failed = [k for k, ok in checks(saved).items() if not ok]
    assert failed == ([] if name == "loss-landscape" else ["a_max_p"])
    for c in saved["checks"]:
        if c["role"] == "control":                 # every control violated the claim's bound
            assert c["passed"], c


def test_loss_landscape_saves_its_measurements(quick_runs):
    out, _ = quick_runs
    land, sharp = landscape_data(out / "loss-landscape")
    S, E = LL.QUICK["seeds"], len(LL.QUICK["c"])
    assert sharp["lam_end"].shape == (S, E) and sharp["f"].shape == (S, E, LL.QUICK["steps"] + 1)
    assert sharp["control_f"].shape == (S, LL.QUICK["steps"] + 1)
    # the steps are c * 2/lambda_max(w_0) of each draw: below and above the start's limit
    np.testing.assert_allclose(sharp["etas"] * sharp["lam0"][:, None] / 2,
                               np.broadcast_to(LL.QUICK["c"], (S, E)), rtol=1e-12)
    assert min(LL.QUICK["c"]) < 1 < max(LL.QUICK["c"]) < LL.QUICK["control_c"]
    assert sum(c < 1 for c in LL.QUICK["c"]) >= 2 and sum(c < 1 for c in LL.FULL["c"]) >= 4
    assert LL.FULL["seeds"] >= 10
    n = LL.QUICK["line_points"]
    for i in range(len(LL.DROPOUTS)):
        for norm in LL.NORMS:
            assert land[f"line_final_{i}_{norm}"].shape == (n,)
            # alpha = 0 is the point itself
            assert land[f"line_final_{i}_{norm}"][n // 2] == pytest.approx(
                float(land[f"f_final_{i}"]))
        q = LL.QUICK["plane_points"]
        assert land[f"plane_start_{i}"].shape == (q, q)
    # the start is the same for both networks (dropout does not change the initialisation)
    np.testing.assert_allclose(land["plane_start_0"], land["plane_start_1"])


def test_schedules_in_use_saves_every_schedule(quick_runs):
    out, _ = quick_runs
    folder = out / "schedules-in-use"
    ta = load_traces(folder, SU.STEM_A)
    assert len(ta) == 6 * SU.QUICK["seeds"]
    assert {t.meta["schedule"] for t in ta} == {"constant", *SU.DECAYING}
    for t in ta:                                         # every schedule peaks at the same rate
        assert np.nanmax(t["lr"]) <= t.meta["peak"] * (1 + 1e-12)
    tuning = load_traces(folder, SU.STEM_TUNE)            # the constant's whole grid was tuned
    assert sorted(t.meta["factor"] for t in tuning) == sorted(SU.FACTORS * SU.QUICK["tune_seeds"])
    assert not {t.meta["run"] for t in tuning} & {t.meta["run"] + 500 for t in ta}
    tuned = load_traces(folder, SU.STEM_BEST)
    assert len(tuned) == SU.QUICK["seeds"] and len({t.meta["factor"] for t in tuned}) == 1
    for t in tuned:                                       # the tuned rate, constant
        np.testing.assert_allclose(t["lr"][:-1], t.meta["factor"] * t.meta["peak"], rtol=1e-12)
    tb = load_traces(folder, SU.STEM_B)
    n_cyc = len(SU.CLR_BASES) * len(SU.CLR_MAXES)
    assert [t.meta["cyclical"] for t in tb].count(True) == n_cyc
    assert all(len(t["x"]) == SU.B_STEPS + 1 for t in tb)
    grid = sorted(t.meta["rate"] for t in tb if t.meta["kind"] == "grid")
    np.testing.assert_allclose(grid, SU.CONST_GRID)          # the whole grid of constants ran
    assert len(grid) == n_cyc                                # the same budget as the cyclical
    assert grid[0] <= min(SU.CLR_BASES) and grid[-1] >= max(SU.CLR_MAXES)  # over its range
    np.testing.assert_allclose(np.diff(np.log(grid)), math.log(40) / 8)   # log-spaced
    fam = np.load(folder / SU.FAMILY)
    assert fam["final"].shape == (len(tb), 1 + sum(SU.SETS.values()))
    for name, n in SU.SETS.items():
        assert int(np.sum(fam["sets"] == name)) == n
    assert SU.SETS["test"] >= 10
    v = json.loads((folder / "verdict.json").read_text())
    assert len(v["family"]["test_success"]) == 2 * n_cyc
    assert earlier(v) == {1: "PASS", 2: "PASS"}             # the earlier rules' outcomes kept
    prof = np.load(folder / SU.PROFILE)
    assert prof["r"].shape == prof["f"].shape and float(np.min(prof["f"])) < 1e-3


@pytest.mark.parametrize("name", list(MODULES))
def test_draw_uses_the_saved_files_only(quick_runs, name, monkeypatch):
    out, runs = quick_runs
    mod = MODULES[name]
    folder = out / name
    (folder / runs[name]["figure"]).unlink()
    no_run = {"loss-landscape": ("landscapes", "sharpness_runs", "gd_sharpness",
                                 "train_through_module"),
              "schedules-in-use": ("part_a", "part_b", "run_trace", "_sgd", "instance_sets",
                                   "PlateauWell", "profile")}[name]
    for attr in no_run:
        monkeypatch.setattr(mod, attr, None)             # no run can happen while drawing
    monkeypatch.setattr(PF, "gd_many", None)
    assert mod.draw(folder).exists()


# ----------------------------------------------------------------------------- loss-landscape
@pytest.fixture(scope="module")
def landscape(quick_runs):
    return landscape_data(quick_runs[0] / "loss-landscape")


def ll_verdict(land, sharp):
    return LL.verdict(LL.analyse(land, sharp))


def test_loss_landscape_fails_when_the_sharpness_claim_is_broken(landscape):
    land, sharp = landscape
    assert ll_verdict(land, sharp)["verdict"] == "PASS"
    swapped = dict(sharp, lam_end=sharp["lam_end"][:, ::-1])   # large steps end sharper
    assert ll_verdict(land, swapped)["verdict"] == "FAIL"
    sharper = dict(sharp, lam_end=sharp["lam_end"] * 1.5)        # above 2/eta at eta_max
    assert LL.analyse(land, sharper)["max_ratio"] > LL.STABILITY_SLACK
    assert ll_verdict(land, sharper)["verdict"] == "FAIL"
    stalled = dict(sharp, f=sharp["f"].copy())
    stalled["f"][0, -1, -1] = stalled["f"][0, -1, 0]               # a run that did not converge
    assert ll_verdict(land, stalled)["verdict"] == "FAIL"
    assert not checks(ll_verdict(land, stalled))["converged"]
    slope = dict(land, f_final_0=np.asarray(float(land["f_final_0"]) + 1.0))  # not a minimum
    assert ll_verdict(slope, sharp)["verdict"] == "FAIL"


def test_loss_landscape_trend_is_tested_where_stability_does_not_force_it(landscape):
    land, sharp = landscape
    c = sharp["c"]
    stable = np.nonzero(c < 1)[0]
    lam = sharp["lam_end"].copy()
    lam[:, stable] = lam[:, stable[::-1]]          # among the stable steps, larger ends sharper
    v = ll_verdict(land, dict(sharp, lam_end=lam))
    ok = checks(v)
    assert not ok["trend_p"] and ok["stability"] and ok["converged"]
    assert v["verdict"] == "FAIL"
    flat = sharp["lam_end"].copy()                 # no trend at all: every stable step alike
    flat[:, stable] = flat[:, stable[:1]]
    assert not checks(ll_verdict(land, dict(sharp, lam_end=flat)))["trend_p"]


def test_loss_landscape_slopes_are_least_squares_slopes():
    rng = np.random.default_rng(3)
    c = np.array([0.25, 0.5, 0.75, 0.9, 1.25])
    y = rng.standard_normal((4, 5))
    expected = [np.polyfit(c[:4], row[:4], 1)[0] for row in y]   # c >= 1 is left out
    np.testing.assert_allclose(LL.stable_slopes(c, y), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="c < 1"):
        LL.stable_slopes(np.array([0.5, 1.5]), y[:, :2])


def test_loss_landscape_controls_fail_when_replaced_by_in_hypothesis_runs(landscape):
    land, sharp = landscape
    a = LL.analyse(land, sharp)
    assert np.all(np.isinf(a["control_ratio"]))    # the c = 3 runs diverged: recorded as inf
    # the diverging step replaced by the smallest step's run: it converges, the control fails
    calm = dict(sharp, control_f=sharp["f"][:, 0])
    v = ll_verdict(land, calm)
    assert not checks(v)["control_diverged"] and v["verdict"] == "FAIL"
    # the stability check on the smallest step's end replaced by the largest step's own end
    lam = sharp["lam_end"].copy()
    lam[:, 0] = lam[:, -1]
    v = ll_verdict(land, dict(sharp, lam_end=lam))
    assert not checks(v)["control_narrow"] and v["verdict"] == "FAIL"
    # the untrained start's slices replaced by the trained point's (a minimum)
    start = dict(land, **{k.replace("final", "start"): land[k] for k in land
                          if k.startswith(("line_final_0", "plane_final_0", "f_final_0"))})
    v = ll_verdict(start, sharp)
    assert not checks(v)["control_start"] and v["verdict"] == "FAIL"


def test_loss_landscape_divergence_is_a_measured_outcome():
    p = LL.sharpness_problem(0)
    lam0 = LL.top_eigenvalue(p, p.x0, iters=30, rng=mg.backend.host_rng(0)).lam
    f, lams, lam_end = LL.gd_sharpness(p, 2000.0 / lam0, 60, 20, 0)   # c = 1000: overflows
    assert f.shape == (61,) and lams.shape == (3,)
    assert np.all(np.isfinite(f[:10])) and np.isinf(f[-1]) and math.isnan(lam_end)
    assert np.isinf(LL._loss_ratio(f[None])[0])


# ----------------------------------------------------------------------------- schedules-in-use
@pytest.fixture()
def su_runs(quick_runs):
    return SU.load_runs(quick_runs[0] / "schedules-in-use")


def su_verdict(runs):
    return SU.verdict(SU.analyse(runs))


def _scale(traces, factor):
    return [Trace(t.label, dict(t.columns, f=np.asarray(t["f"]) * factor), t.meta) for t in traces]


def test_schedules_in_use_part_a_turns_on_the_tuned_constant(su_runs):
    # a tuned constant ending 10% higher on every seed: the five paired tests reject
    worse = dict(su_runs, **{SU.STEM_BEST: _scale(su_runs[SU.STEM_BEST], 1.1)})
    assert checks(su_verdict(worse))["a_max_p"]
    # ending 10% lower (the constant ends lowest): they do not, and the verdict is FAIL
    better = dict(su_runs, **{SU.STEM_BEST: _scale(su_runs[SU.STEM_BEST], 0.9)})
    v = su_verdict(better)
    assert not checks(v)["a_max_p"] and v["verdict"] == "FAIL"
    # the earlier rules' same-peak comparison: the constant at the peak ending lowest fails them
    low = [Trace(t.label, dict(t.columns, f=np.asarray(t["f"]) * 0.9), t.meta)
           if t.meta["schedule"] == "constant" else t for t in su_runs[SU.STEM_A]]
    assert earlier(su_verdict(dict(su_runs, **{SU.STEM_A: low}))) == {1: "FAIL", 2: "FAIL"}


def test_schedules_in_use_tuning_selects_the_lowest_mean(su_runs):
    tuning = su_runs[SU.STEM_TUNE]
    means = {phi: np.mean([t["f"][-1] for t in tuning if t.meta["factor"] == phi])
             for phi in SU.FACTORS}
    assert SU.select_factor(tuning) == min(means, key=means.get)
    assert {t.meta["factor"] for t in su_runs[SU.STEM_BEST]} == {SU.select_factor(tuning)}


def test_schedules_in_use_part_a_control_fails_with_gradient_noise(su_runs):
    v = su_verdict(su_runs)
    assert checks(v)["a_control_gap"]              # full batch: the constant ends lower
    # the control's full-batch runs replaced by the SGD runs of the same seed (in hypothesis)
    sgd = [t for t in su_runs[SU.STEM_A] if t.meta["run"] == 0
           and t.meta["schedule"] in ("constant", "cosine")]
    assert not checks(su_verdict(dict(su_runs, **{SU.STEM_NONOISE: sgd})))["a_control_gap"]


def _family(runs, **changes):
    return dict(runs, family=dict(runs["family"], **changes))


def test_schedules_in_use_part_b_fails_when_the_constant_does_as_well(su_runs):
    fam = su_runs["family"]
    a = SU.analyse(su_runs)
    assert checks(su_verdict(su_runs))["b_lcb"]
    row = list(fam["labels"]).index(a["b"]["constant"])
    final = fam["final"].copy()
    final[row, fam["sets"] == "test"] = 0.0         # the tuned constant solves every instance
    v = su_verdict(_family(su_runs, final=final))
    assert not checks(v)["b_lcb"] and v["verdict"] == "FAIL"
    row = list(fam["labels"]).index(a["b"]["cyclical"])
    final = fam["final"].copy()
    final[row, fam["sets"] == "test"] = 1.0         # the tuned cyclical rate never settles
    assert not checks(su_verdict(_family(su_runs, final=final)))["b_lcb"]


def test_schedules_in_use_part_b_control_fails_on_the_plateau_family(su_runs):
    fam = su_runs["family"]
    keep = ~np.char.startswith(fam["sets"], "control")
    cols = np.concatenate([np.nonzero(keep)[0], np.nonzero(fam["sets"] == "tune")[0],
                           np.nonzero(fam["sets"] == "test")[0]])
    sets = np.concatenate([fam["sets"][keep], ["control_tune"] * SU.SETS["tune"],
                           ["control_test"] * SU.SETS["test"]])
    # the control's instances replaced by copies of the plateau family's (in hypothesis)
    v = su_verdict(_family(su_runs, sets=sets, final=fam["final"][:, cols]))
    assert not checks(v)["b_control_lcb"] and v["verdict"] == "FAIL"


def test_schedules_in_use_earlier_rules_on_the_designed_instance(su_runs):
    tb = su_runs[SU.STEM_B]

    def with_f(pick, change):
        return dict(su_runs, **{SU.STEM_B: [Trace(t.label, dict(t.columns, f=change(
            np.asarray(t["f"]))), t.meta) if pick(t) else t for t in tb]})

    assert earlier(su_verdict(su_runs)) == {1: "PASS", 2: "PASS"}
    base = with_f(lambda t: t.meta["reference"] == "base", lambda f: f * 0.1)  # base escapes
    assert earlier(su_verdict(base))[2] == "FAIL"
    clr = with_f(lambda t: t.meta["reference"] == "clr", lambda f: np.maximum(f, 1e-3))
    assert earlier(su_verdict(clr)) == {1: "FAIL", 2: "FAIL"}   # the cyclical rate stays out
    peak = with_f(lambda t: t.meta["reference"] == "max",
                  lambda f: f * np.where(np.arange(len(f)) > 1400, 0, 1))   # the peak settles
    assert earlier(su_verdict(peak)) == {1: "FAIL", 2: "FAIL"}
    # on the designed instance the constants that escape and settle lie below the well's limit
    d = SU.analyse(su_runs)["designed"]
    good = [x["rate"] for x in d.values() if x["kind"] == "grid" and x["settled"]]
    assert good and max(good) < 2 / SU.PlateauWell().sharpness


# ----------------------------------------------------------------------------- tools
def test_directions_have_the_norms_they_promise():
    p = MLPClassification("moons", m=20, hidden=(4, 3), seed=0)
    w = mg.backend.to_numpy(p.x0)
    segs = LL._segments(p)
    assert sum(size for _, size, _ in segs) == p.dim
    d = mg.backend.to_numpy(LL.direction(p, p.x0, np.random.default_rng(0), "global"))
    assert np.linalg.norm(d) == pytest.approx(np.linalg.norm(w))
    d = mg.backend.to_numpy(LL.direction(p, p.x0, np.random.default_rng(0), "layer"))
    f = mg.backend.to_numpy(LL.direction(p, p.x0, np.random.default_rng(0), "filter"))
    for start, size, shape in segs:
        ws, ds, fs = (v[start:start + size].reshape(shape) for v in (w, d, f))
        assert np.linalg.norm(ds) == pytest.approx(np.linalg.norm(ws), abs=1e-12)
        if len(shape) == 2:                       # every unit's incoming weights
            np.testing.assert_allclose(np.linalg.norm(fs, axis=1), np.linalg.norm(ws, axis=1))
        else:                                     # zero-initialised biases: no component
            np.testing.assert_allclose(fs, 0.0)
    with pytest.raises(ValueError, match="norm"):
        LL.direction(p, p.x0, np.random.default_rng(0), "row")


def test_batched_paths_equal_one_run_at_a_time():
    import optimizers

    inst = PF.Instances.concat(PF.designed(), PF.draw_instances(np.random.default_rng(1), 2))
    rates = {"a": 0.3, "b": schedules.CyclicalLR(0.05, 1.0, 10)}
    batched = PF.gd_many(inst, rates, 40, mg.get_backend(), paths=(0, 1, 2))
    for i in range(len(inst)):
        for j, lr in enumerate(rates.values()):
            x = mg.Tensor(mg.backend.asarray(inst.starts()[i]), requires_grad=True)
            opt = optimizers.SGD([x], lr=lr)
            for k in range(40):
                fk = PF.plateau_well(x, float(inst.eps[i]), PF.DELTA, PF.DEPTH,
                                      float(inst.width[i]))
                assert float(fk.item()) == pytest.approx(batched["f"][j, k, i], rel=1e-12,
                                                         abs=1e-15)
                opt.zero_grad()
                fk.backward()
                opt.step()
            np.testing.assert_allclose(batched["x"][j, -1, i], mg.backend.to_numpy(x.data),
                                       rtol=1e-12)
    p = SU.PlateauWell()                           # the designed instance is PlateauWell
    assert p.value(p.x0) == pytest.approx(batched["f"][0, 0, 0], rel=1e-14)


def test_plateau_well_constants():
    p = SU.PlateauWell()
    assert p.value(p.x_star) == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(np.linalg.eigvalsh(mg.backend.to_numpy(p.hessian(p.x_star))),
                               [p.sharpness] * 2)
    # on the plateau the gradient is small and points towards the well
    g = mg.backend.to_numpy(p.grad(p.x0))
    x0 = mg.backend.to_numpy(p.x0)
    assert 0.015 < np.linalg.norm(g) < 0.021
    assert np.dot(g, x0) > 0.99 * np.linalg.norm(g) * np.linalg.norm(x0)


def test_plateau_family_draws_and_sharpness():
    rng = np.random.default_rng(7)
    inst = PF.draw_instances(rng, 200)
    s = PF.SPREAD
    for got, designed in ((inst.eps, PF.EPS), (inst.width, PF.WIDTH),
                          (inst.r0, math.hypot(*PF.START))):
        assert np.all(got >= designed / s - 1e-12) and np.all(got <= designed * s + 1e-12)
    np.testing.assert_allclose(np.hypot(*inst.starts().T), inst.r0)
    well = PF.draw_instances(rng, 50, "well")
    assert np.all(well.r0 <= s * well.width + 1e-12)       # the start is inside the well
    # the Hessian at the minimum, by the engine, against eps/delta + D/w^2
    i = 3

    def f(x):
        return PF.plateau_well(x, float(inst.eps[i]), PF.DELTA, PF.DEPTH,
                               float(inst.width[i]))

    H = mg.backend.to_numpy(mg.hessian(f, mg.Tensor(mg.backend.asarray([0.0, 0.0]))).data)
    np.testing.assert_allclose(H, np.eye(2) * inst.sharpness[i], rtol=1e-10)
    with pytest.raises(ValueError, match="where"):
        PF.draw_instances(rng, 3, "hill")
    with pytest.raises(ValueError, match="spread"):
        PF.draw_instances(rng, 3, spread=0.5)
    with pytest.raises(ValueError, match="width"):
        PF.Instances(np.ones(2), np.array([1.0, -1.0]), np.ones(2))


def test_outcomes_and_selection_by_hand():
    K = 5
    f = np.array([[1.0, 0.4, 1e-7, 1e-3, 0.0, 0.0],      # escapes at 1, settles for good at 4
                  [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],        # never leaves the plateau
                  [1.0, 0.3, 0.0, 0.0, 0.0, 2e-6]])      # escapes, ends above 1e-6
    out = SU.outcomes(f.reshape(3, K + 1, 1))
    assert out["escape"][:, 0].tolist() == [1, -1, 1]
    assert out["settle"][:, 0].tolist() == [4, -1, -1]
    success = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 0]], dtype=bool)
    final = np.array([[0.0, 0.0, 0.5], [0.0, 0.0, 0.2], [0.0, 1.0, 1.0]])
    assert SU.select(success, final) == 1            # most successes, then lower mean f(x_K)
    assert SU.select(success[:1].repeat(2, 0), final[:1].repeat(2, 0)) == 0   # then the order
