"""The second-order and mds-cities experiments: PASS in --quick mode with their files written,
the figures redrawn from the saved files alone, the verdicts turned to FAIL when the saved
measurements are made to break the claims, and the pieces they rest on (counting, Procrustes
alignment, the true map, the SMACOF step)."""
import math

import numpy as np
import pytest

import minigrad as mg
import problems as P
from experiments import mds_cities, second_order
import exp_testkit as kit

NAMES = {"second-order": second_order, "mds-cities": mds_cities}


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    return kit.quick_runs(tmp_path_factory, NAMES)


@pytest.mark.parametrize("name", list(NAMES))
def test_quick_run_passes_and_writes_its_files(quick_runs, name):
    out, runs = quick_runs
    v = runs[name]
    kit.assert_wrote_its_files(out, name, v)
    out / name


@pytest.mark.parametrize("name", list(NAMES))
def test_draw_and_verdict_use_the_saved_files_only(quick_runs, name, monkeypatch):
    out, runs = quick_runs
    mod = NAMES[name]
    folder = out / name
    (folder / runs[name]["figure"]).unlink()
    # no run can happen while drawing or judging
    for attr in ("minimize", "run_method", "compare_methods", "memory_runs", "run_lbfgs",
                 "run_gd", "run_nelder_mead", "exact_minimiser"):
        if hasattr(mod, attr):
            monkeypatch.setattr(mod, attr, None)
    assert mod.draw(folder).exists()
    assert mod.verdict(mod.analyse(mod.load(folder)))["verdict"] == "PASS"


# ----------------------------------------------------------------------------- second-order
def so_traces(quick_runs):
    out, _ = quick_runs
    return second_order.load(out / "second-order")


def so_verdict(traces):
    return second_order.verdict(second_order.analyse(traces))


def by_method(traces, stem, method):
    return next(t for t in traces[stem] if t.meta["method"] == method)


def test_second_order_measurements(quick_runs):
    v = quick_runs[1]["second-order"]
    assert all(v["checks"].values())
    for stem in ("logreg", "rosen"):
        nw = v["newton"][stem]
        assert nw["order"] > 1.7                          # e_{k+1} ~ C e_k^2
    traces = so_traces(quick_runs)
    # the counting wrapper agrees with minimize's own counts where nothing ran after the last
    # callback (status 0)
    for stem in ("logreg", "rosen"):
        for t in traces[stem]:
            if t.meta["method"] == "gd" or t.meta["status"] != 0:
                continue
            assert int(t["n_fg"][-1]) == t.meta["njev"]
            assert int(t["n_fg"][-1] + t["n_fonly"][-1]) == t.meta["nfev"]
            assert int(t["n_hess"][-1]) == t.meta["nhev"]
    # every memory on every data set ran
    assert sorted({t.meta["memory"] for t in traces["memory"]}) == list(second_order.MEMORIES)


def test_second_order_fails_when_newton_is_only_linear(quick_runs):
    traces = so_traces(quick_runs)
    t = by_method(traces, "logreg", "newton")
    e0 = math.sqrt(t["dist2"][0])
    t.columns["dist2"] = (e0 * 0.1 ** t["k"]) ** 2        # a linear rate 0.1, unit steps
    v = so_verdict(traces)
    assert v["verdict"] == "FAIL" and not v["checks"]["newton_quadratic_logreg"]


def test_second_order_fails_when_bfgs_is_only_linear(quick_runs):
    traces = so_traces(quick_runs)
    t = by_method(traces, "rosen", "bfgs")
    e0 = math.sqrt(t["dist2"][0])
    t.columns["dist2"] = (e0 * 0.5 ** t["k"]) ** 2
    v = so_verdict(traces)
    assert v["verdict"] == "FAIL" and not v["checks"]["bfgs_superlinear_rosen"]


def test_second_order_fails_when_memory_does_not_help(quick_runs):
    traces = so_traces(quick_runs)
    for t in traces["memory"]:                            # swap m = 1 and m = 30
        m = t.meta["memory"]
        t.meta["memory"] = {1: 30, 30: 1}.get(m, m)
    v = so_verdict(traces)
    assert v["verdict"] == "FAIL" and not v["checks"]["lbfgs_memory"]


def test_second_order_fails_when_gd_is_as_fast(quick_runs):
    traces = so_traces(quick_runs)
    gd = by_method(traces, "rosen", "gd")
    newton = by_method(traces, "rosen", "newton")
    gd.columns = {k: np.array(v) for k, v in newton.columns.items()}
    v = so_verdict(traces)
    assert v["verdict"] == "FAIL" and not v["checks"]["fewer_than_gd_rosen"]


def test_exact_minimiser_is_a_stationary_point():
    p = P.LogisticRegression(m=60, dim=5, mu=1e-2, seed=3)
    x = second_order.exact_minimiser(p)
    assert np.linalg.norm(mg.to_numpy(p.grad_closed_form(x))) < 1e-14


# ----------------------------------------------------------------------------- mds-cities
def mds_data(quick_runs):
    out, _ = quick_runs
    return mds_cities.load(out / "mds-cities")


def test_mds_fails_for_a_wrong_map(quick_runs):
    data = mds_data(quick_runs)
    data["lbfgs"]["W"] = data["lbfgs"]["W"] * 1.05        # a map 5% too large
    v = mds_cities.verdict(mds_cities.analyse(data))
    assert v["verdict"] == "FAIL"
    assert v["rms_km"]["lbfgs"] > mds_cities.RMS_FRACTION * v["radius_km"]


def test_mds_fails_when_the_ordering_breaks(quick_runs):
    data = mds_data(quick_runs)
    data["gd"], data["nm"] = data["nm"], data["gd"]
    assert mds_cities.verdict(mds_cities.analyse(data))["verdict"] == "FAIL"


def test_procrustes_alignment_undoes_rotation_reflection_and_translation():
    rng = np.random.default_rng(0)
    T = rng.normal(size=(12, 2)) * 500
    th = 0.7
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]]) @ np.diag([1, -1])
    W = (T - 3.0) @ R.T + 40.0
    A, rms = mds_cities.align(W, T)
    assert rms < 1e-9
    np.testing.assert_allclose(A, T, atol=1e-9)


def test_true_map_reproduces_the_great_circle_distances():
    names, T = mds_cities.true_map()
    _, D = P.capital_distances()
    DT = np.sqrt(((T[:, None] - T[None]) ** 2).sum(-1))
    iu = np.triu_indices(len(names), 1)
    err = DT[iu] - D[iu]
    assert np.sqrt(np.mean(err ** 2)) < 5.0              # km: the projection's distortion
    assert np.max(np.abs(err)) / np.max(D) < 0.01


def test_gd_step_is_guttmans_transform():
    """W - grad L / (4N) = B(W) W / N for centred W: GD with step 1/(4N) is SMACOF."""
    p = P.MDS.capitals(seed=1)
    N = p.shape[0]
    W = mg.to_numpy(p.x0)
    W = W - W.mean(axis=0)
    d = np.sqrt(((W[:, None] - W[None]) ** 2).sum(-1))
    delta = mg.to_numpy(p.D)
    with np.errstate(divide="ignore", invalid="ignore"):
        Bm = np.where(d > 0, -delta / d, 0.0)
    np.fill_diagonal(Bm, 0.0)
    np.fill_diagonal(Bm, -Bm.sum(axis=1))
    step = W - mg.to_numpy(p.grad(W)) / (4 * N)
    np.testing.assert_allclose(step, Bm @ W / N, atol=1e-12)
