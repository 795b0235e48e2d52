"""The training experiments (loss-landscape, schedules-in-use): PASS in --quick mode
with their files written, figures redrawn from the saved files alone, the verdict turning to FAIL
when the saved measurements are altered to break each claim, and their tools (random directions
of the weights' norm, the plateau-and-well problem; the power iteration
for the sharpness is tested in tests/experiments/test_sharpness.py)."""
import json

import numpy as np
import pytest

import minigrad as mg
import schedules
from experiments import loss_landscape as LL
from experiments import schedules_in_use as SU
import exp_testkit as kit
from experiments.trace import load_traces
from problems import MLPClassification

MODULES = {"loss-landscape": LL, "schedules-in-use": SU}


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    return kit.quick_runs(tmp_path_factory, MODULES)


def landscape_data(folder):
    return LL._load(folder / LL.DATA), LL._load(folder / LL.SHARP)


# ----------------------------------------------------------------------------- the runs
@pytest.mark.parametrize("name", list(MODULES))
def test_quick_run_passes_and_writes_its_files(quick_runs, name):
    out, runs = quick_runs
    v = runs[name]
    kit.assert_wrote_its_files(out, name, v)
    out / name


def test_loss_landscape_saves_its_measurements(quick_runs):
    out, _ = quick_runs
    land, sharp = landscape_data(out / "loss-landscape")
    S, E = LL.QUICK["seeds"], len(LL.QUICK["etas"])
    assert sharp["lam_end"].shape == (S, E) and sharp["f"].shape == (S, E, LL.QUICK["steps"] + 1)
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
    ta = load_traces(out / "schedules-in-use", SU.STEM_A)
    assert len(ta) == 6 * SU.QUICK["seeds"]
    assert {t.meta["schedule"] for t in ta} == {"constant", *SU.DECAYING}
    for t in ta:                                         # every schedule peaks at the same rate
        assert np.nanmax(t["lr"]) <= t.meta["peak"] * (1 + 1e-12)
    tb = load_traces(out / "schedules-in-use", SU.STEM_B)
    assert [t.meta["cyclical"] for t in tb].count(True) == 1
    assert all(len(t["x"]) == SU.B_STEPS + 1 for t in tb)
    grid = sorted(t.meta["rate"] for t in tb if t.meta["kind"] == "grid")
    np.testing.assert_allclose(grid, SU.GRID)                # the whole grid of constants ran
    assert grid[0] <= 0.01 and grid[-1] >= 1.0
    assert sum(0.08 <= r <= 0.125 for r in grid) >= 4        # dense around the stability limit
    v = json.loads((out / "schedules-in-use" / "verdict.json").read_text())
    assert len(v["constant_grid"]["rate"]) == len(SU.GRID)
    assert "held" in v["old_rule"]
    prof = np.load(out / "schedules-in-use" / SU.PROFILE)
    assert prof["r"].shape == prof["f"].shape and float(np.min(prof["f"])) < 1e-3


@pytest.mark.parametrize("name", list(MODULES))
def test_draw_uses_the_saved_files_only(quick_runs, name, monkeypatch):
    out, runs = quick_runs
    mod = MODULES[name]
    folder = out / name
    (folder / runs[name]["figure"]).unlink()
    no_run = {"loss-landscape": ("landscapes", "sharpness_runs", "gd_sharpness",
                                 "train_through_module"),
              "schedules-in-use": ("part_a", "part_b", "run_trace", "gd_paths",
                                   "PlateauWell", "profile")}[name]
    for attr in no_run:
        monkeypatch.setattr(mod, attr, None)             # no run can happen while drawing
    assert mod.draw(folder).exists()


# ----------------------------------------------------------------------------- FAIL cases
def test_loss_landscape_fails_when_the_sharpness_claim_is_broken(quick_runs):
    folder = quick_runs[0] / "loss-landscape"
    land, sharp = landscape_data(folder)
    assert LL.verdict(LL.analyse(land, sharp))["verdict"] == "PASS"
    swapped = dict(sharp, lam_end=sharp["lam_end"][:, ::-1])   # large steps end sharper
    assert LL.verdict(LL.analyse(land, swapped))["verdict"] == "FAIL"
    sharper = dict(sharp, lam_end=sharp["lam_end"] * 1.5)        # above 2/eta at eta_max
    assert LL.analyse(land, sharper)["max_ratio"] > LL.STABILITY_SLACK
    assert LL.verdict(LL.analyse(land, sharper))["verdict"] == "FAIL"
    stalled = dict(sharp, f=sharp["f"].copy())
    stalled["f"][0, -1, -1] = stalled["f"][0, -1, 0]               # a run that did not converge
    assert LL.verdict(LL.analyse(land, stalled))["verdict"] == "FAIL"
    slope = dict(land, f_final_0=np.asarray(float(land["f_final_0"]) + 1.0))  # not a minimum
    assert LL.verdict(LL.analyse(slope, sharp))["verdict"] == "FAIL"


def test_schedules_in_use_fails_when_a_claim_is_broken(quick_runs):
    folder = quick_runs[0] / "schedules-in-use"
    ta, tb = load_traces(folder, SU.STEM_A), load_traces(folder, SU.STEM_B)
    assert SU.verdict(SU.analyse(ta, tb))["verdict"] == "PASS"
    for t in ta:                                   # the constant rate ends lowest
        if t.meta["schedule"] == "constant":
            t.columns["f"] = np.asarray(t["f"]) * 0.9
    assert SU.verdict(SU.analyse(ta, tb))["verdict"] == "FAIL"
    ta = load_traces(folder, SU.STEM_A)
    for t in tb:                                   # the small constant rate escapes too
        if "(base)" in t.label:
            t.columns["f"] = np.asarray(t["f"]) * 0.1
    assert SU.verdict(SU.analyse(ta, tb))["verdict"] == "FAIL"
    tb = load_traces(folder, SU.STEM_B)
    for t in tb:                                   # the cyclical rate does not settle
        if t.meta["cyclical"]:
            t.columns["f"] = np.maximum(np.asarray(t["f"]), 1e-3)
    assert SU.verdict(SU.analyse(ta, tb))["verdict"] == "FAIL"
    tb = load_traces(folder, SU.STEM_B)
    for t in tb:                                   # the constant peak rate settles too
        if t.meta["kind"] == "max":
            t.columns["f"] = np.asarray(t["f"]) * np.where(np.arange(len(t["f"])) > 1400, 0, 1)
    assert SU.verdict(SU.analyse(ta, tb))["verdict"] == "FAIL"
    tb = load_traces(folder, SU.STEM_B)            # the grid is reported, not checked
    a = SU.analyse(ta, tb)
    assert a["band"] is not None and a["band"][1] < 2 / SU.PlateauWell().sharpness


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

    p = SU.PlateauWell()
    rates = {"a": 0.3, "b": schedules.CyclicalLR(0.05, 1.0, 10)}
    batched = SU.gd_paths(p, rates, 40)
    for tr, lr in zip(batched, rates.values()):
        x = p.start()
        opt = optimizers.SGD([x], lr=lr)
        for k in range(40):
            assert p.value(x.data) == pytest.approx(tr["f"][k], rel=1e-12, abs=1e-15)
            opt.zero_grad()
            p.f(x).backward()
            opt.step()
        np.testing.assert_allclose([tr["x"][-1], tr["y"][-1]], mg.backend.to_numpy(x.data),
                                   rtol=1e-12)


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

