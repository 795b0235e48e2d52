"""The geometry and zero-order-network experiments: PASS in --quick mode with their files
written, the figure and the verdict redrawn from the saved files alone, the verdict turns to FAIL
when the saved measurements are made to break the claim, and the pieces they rely on (the rotated
problem, the closed-form network oracle)."""
import math

import numpy as np
import pytest

from minigrad import to_numpy
from minigrad.backend import asarray

from experiments import geometry, zero_order_network
import exp_testkit as kit
from experiments.trace import load_traces

NAMES = {"geometry": geometry, "zero-order-network": zero_order_network}


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    return kit.quick_runs(tmp_path_factory, NAMES)


@pytest.mark.parametrize("name", list(NAMES))
def test_quick_run_passes_and_writes_its_files(quick_runs, name):
    out, runs = quick_runs
    v = runs[name]
    kit.assert_wrote_its_files(out, name, v)
    assert all(v["checks"])


def test_geometry_saves_every_run_of_the_grid(quick_runs):
    out, _ = quick_runs
    folder = out / "geometry"
    traces = load_traces(folder, stem="opt")
    assert len(traces) == 2 * len(geometry.METHODS) * len(geometry.GRID[True])
    assert {t.meta["problem_kind"] for t in traces} == {"aligned", "rotated"}
    data, timing = geometry.load_ns(folder)
    assert set(timing["seconds"]) == {"svd", "cubic x5", "quintic x5", "Polar Express x5"}
    assert len(data["t"]) == geometry.NS_STEPS


def test_zero_order_network_saves_every_run(quick_runs):
    out, _ = quick_runs
    traces = load_traces(out / "zero-order-network", stem="run")
    zo = zero_order_network
    full = len(zo.GD_GRID) + len(zo.ZO_GRID) + len(zo.CMA_GRID)
    target = zo.INSTANCES[True] * (len(zo.GD_GRID) + len(zo.ZO_GRID))
    assert len(traces) == full * len(zo.D_IN[True]) + target * len(zo.D_IN_TARGET)
    assert {t.meta["instance"] for t in traces if t.meta["method"] == "CMA-ES"} == {0}
    assert all(t.meta["full"] == (t.meta["instance"] == 0) for t in traces)
    for t in traces:  # the evaluation counts respect each run's budget
        assert t["evals"][-1] <= t.meta["budget"]
        if t.meta["method"] == "GD" and not t.meta["full"]:
            assert t["k"][-1] == zo.K_TARGET or not np.isfinite(t["f"][-1])


def _no_runs(monkeypatch, mod, names):
    for n in names:
        monkeypatch.setattr(mod, n, None)


def test_draw_and_verdict_use_the_saved_files_only(quick_runs, monkeypatch):
    out, runs = quick_runs
    g, z = out / "geometry", out / "zero-order-network"
    (g / runs["geometry"]["figure"]).unlink()
    (z / runs["zero-order-network"]["figure"]).unlink()
    _no_runs(monkeypatch, geometry, ["run_trace", "optimizer_runs", "newton_schulz_errors",
                                     "timings", "ns", "optimizers"])
    _no_runs(monkeypatch, zero_order_network, ["run_trace", "all_runs", "gd_run", "zo_run",
                                               "cma_run", "target_runs", "optimizers"])
    assert geometry.draw(g).exists()
    assert zero_order_network.draw(z).exists()
    data, _ = geometry.load_ns(g)
    assert geometry.verdict(geometry.analyse(load_traces(g, stem="opt"), data))["verdict"] == "PASS"
    a = zero_order_network.analyse(load_traces(z, stem="run"))
    assert zero_order_network.verdict(a)["verdict"] == "PASS"


# ----------------------------------------------------------------------------- FAIL cases
def _geometry_data(quick_runs):
    out, _ = quick_runs
    folder = out / "geometry"
    data, _ = geometry.load_ns(folder)
    return load_traces(folder, stem="opt"), data


def test_geometry_fails_when_muon_is_no_better_than_adam(quick_runs):
    traces, data = _geometry_data(quick_runs)
    adam = geometry.analyse(traces, data)["rotated"]["Adam"]
    for t in traces:  # Muon's losses (both problems) lifted to Adam's final rotated level
        if t.meta["method"] == "Muon":
            t.columns["f_gap"] = np.maximum(np.asarray(t["f_gap"]),
                                            adam * (t.meta["f0"] - t.meta["f_star"]))
    a = geometry.analyse(traces, data)
    assert a["win_over_adam"]["Muon"] <= 1.0 + 1e-12
    v = geometry.verdict(a)
    assert v["verdict"] == "FAIL" and v["checks"] == [False, True, True, True]


def test_geometry_fails_when_adam_does_not_notice_the_rotation(quick_runs):
    traces, data = _geometry_data(quick_runs)
    aligned = {t.meta["peak_lr"]: t for t in traces
               if t.meta["method"] == "Adam" and t.meta["problem_kind"] == "aligned"}
    for t in traces:  # Adam's rotated runs replaced by its aligned ones
        if t.meta["method"] == "Adam" and t.meta["problem_kind"] == "rotated":
            t.columns["f_gap"] = np.asarray(aligned[t.meta["peak_lr"]]["f_gap"])
    v = geometry.verdict(geometry.analyse(traces, data))
    assert v["verdict"] == "FAIL" and not v["checks"][0] and not v["checks"][1]


def test_geometry_fails_when_an_equivariant_method_changes_under_rotation(quick_runs):
    traces, data = _geometry_data(quick_runs)
    for t in traces:
        if t.meta["method"] == "Shampoo" and t.meta["problem_kind"] == "rotated":
            t.columns["f_gap"] = np.asarray(t["f_gap"]) * 5.0
    v = geometry.verdict(geometry.analyse(traces, data))
    assert v["verdict"] == "FAIL" and not v["checks"][1]


def test_geometry_fails_for_swapped_or_stalled_newton_schulz(quick_runs):
    traces, data = _geometry_data(quick_runs)
    swapped = dict(data)
    for name in geometry.NS_INPUTS:
        swapped[f"{name}|quintic"] = data[f"{name}|Polar Express"]
        swapped[f"{name}|Polar Express"] = data[f"{name}|quintic"]
    v = geometry.verdict(geometry.analyse(traces, swapped))
    assert v["verdict"] == "FAIL" and v["checks"] == [True, True, False, True]
    stalled = dict(data)
    stalled["well-conditioned|cubic"] = np.maximum(data["well-conditioned|cubic"], 1e-8)
    v = geometry.verdict(geometry.analyse(traces, stalled))
    assert v["verdict"] == "FAIL" and v["checks"] == [True, True, True, False]


def _zo_traces(quick_runs):
    out, _ = quick_runs
    return load_traces(out / "zero-order-network", stem="run")


def test_zero_order_network_fails_when_gd_is_no_better(quick_runs):
    traces = _zo_traces(quick_runs)
    n_max = max(t.meta["n"] for t in traces if t.meta["full"])
    for t in traces:  # GD's losses in the full runs of the largest size raised 10-fold
        if t.meta["method"] == "GD" and t.meta["full"] and t.meta["n"] == n_max:
            t.columns["f"] = np.asarray(t["f"]) * 10.0
    v = zero_order_network.verdict(zero_order_network.analyse(traces))
    assert v["verdict"] == "FAIL" and v["checks"] == [False, True]


def test_zero_order_network_fails_when_the_cost_does_not_grow(quick_runs):
    traces = _zo_traces(quick_runs)
    rows = zero_order_network.analyse(traces)["rows"]
    assert all(r["censored"] == 0 for r in rows)
    scale = {r["n"]: rows[0]["R_zo"] / r["R_zo"] for r in rows}
    for t in traces:  # every size's zero-order GD made as costly, relative to GD, as the smallest
        if t.meta["method"] == "ZO-GD" and not t.meta["full"]:
            t.columns["evals"] = np.asarray(t["evals"]) * scale[t.meta["n"]]
    a = zero_order_network.analyse(traces)
    assert abs(a["slopes"]["ZO-GD"]) < 1e-9
    v = zero_order_network.verdict(a)
    assert v["verdict"] == "FAIL" and v["checks"] == [True, False]


@pytest.mark.slow
def test_target_runs_find_the_same_minimum_as_uncapped_runs(monkeypatch):
    """The capped search over the zero-order rates returns the fewest evaluations of the grid."""
    zo = zero_order_network
    monkeypatch.setattr(zo, "TARGET_BUDGET", 1500)
    p = zo.make_problem(4, 7)
    runs = zo.target_runs(p, 0, 7)
    target = zo.gd_target(runs)
    capped = [h for h in (zo.first_evals_below(t, target) for t in runs
                          if t.meta["method"] == "ZO-GD") if h is not None]
    fun = zo.make_oracle(p)
    free = [h for h in (zo.first_evals_below(zo.zo_run(p, fun, lr, 1500, 7000, stop_below=target),
                                             target) for lr in zo.ZO_ORDER) if h is not None]
    assert capped and min(capped) == min(free)


# ----------------------------------------------------------------------------- pieces
def test_rotated_matrix_regression_keeps_the_problem_up_to_a_basis():
    probs = geometry.make_problems(seed=3)
    al, rot = probs["aligned"], probs["rotated"]
    assert rot.f_star == pytest.approx(al.f_star, abs=1e-20)
    A, A_rot = to_numpy(al.X), to_numpy(rot.X)                    # the data, on the host
    np.testing.assert_allclose(np.linalg.eigvalsh(A_rot.T @ A_rot),
                               np.linalg.eigvalsh(A.T @ A), rtol=1e-10)
    assert np.linalg.norm(to_numpy(rot.grad(rot.x_star))) < 1e-12  # W* Q is the minimiser
    assert rot.value(rot.x_star) == pytest.approx(0.0, abs=1e-20)
    W = np.random.default_rng(0).standard_normal(al.shape)
    Q = np.linalg.lstsq(A, A_rot, rcond=None)[0]                  # A Q = A_rot
    np.testing.assert_allclose(Q @ Q.T, np.eye(al.shape[1]), atol=1e-10)
    assert rot.value(W @ Q) == pytest.approx(al.value(W), rel=1e-12)


def test_equivariant_and_coordinatewise_steps_under_rotation():
    """One step from the same random W: Muon's (and Shampoo's) rotated step is the aligned step
    rotated; sign descent's is not."""
    import minigrad as mg

    probs = geometry.make_problems(seed=1)
    al, rot = probs["aligned"], probs["rotated"]
    Q = np.linalg.lstsq(to_numpy(al.X), to_numpy(rot.X), rcond=None)[0]
    W0 = np.random.default_rng(2).standard_normal(al.shape)

    def one_step(prob, W, method):
        x = mg.Tensor(W.copy(), requires_grad=True)
        opt = geometry.make_optimizer(method, 0.05)([x])
        prob.f(x).backward()
        opt.step()
        return x.numpy()

    for method in ("Muon", "Shampoo", "spectral", "NGD"):
        np.testing.assert_allclose(one_step(rot, W0 @ Q, method), one_step(al, W0, method) @ Q,
                                   atol=1e-10)
    assert not np.allclose(one_step(rot, W0 @ Q, "sign"), one_step(al, W0, "sign") @ Q,
                           atol=1e-3)


def test_network_oracle_equals_the_problem_and_counts_as_evaluations():
    p = zero_order_network.make_problem(4, 5)
    f = zero_order_network.make_oracle(p)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = p.x0 + asarray(0.5 * rng.standard_normal(p.dim), dtype=p.dtype, backend=p.backend)
        assert f(x) == pytest.approx(p.value(x), rel=1e-12)
    assert p.f_star == 0.0 and p.value(p.x_star) == pytest.approx(0.0, abs=1e-30)
    tr = zero_order_network.zo_run(p, f, 0.01, 40, seed=0)
    assert tr["evals"][-1] == 40 and math.isfinite(tr["f"][-1])
    tr = zero_order_network.cma_run(p, f, 0.01, 40, seed=0)
    assert tr["evals"][-1] <= 40 and np.all(np.diff(tr["f"][1:]) <= 0)  # the best value seen
