"""The geometry and zero-order-network experiments: PASS in --quick mode with their files
written and judged by their rules, the figure and the verdict redrawn from the saved files alone,
the verdict turns to FAIL when the saved measurements are made to break the claim, each control
violates the claim's bound and the verdict turns to FAIL when the control's measurements are
replaced by runs inside the claim's hypotheses, and the pieces they rely on (the rotated problem,
the closed-form network oracle)."""
import math

import exp_testkit as kit
import numpy as np
import pytest

from experiments import geometry, zero_order_network
from experiments.trace import load_traces
from minigrad import to_numpy
from minigrad.backend import asarray

NAMES = {"geometry": geometry, "zero-order-network": zero_order_network}


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    return kit.quick_runs(tmp_path_factory, NAMES)


@pytest.mark.parametrize("name", list(NAMES))
def test_quick_run_passes_and_writes_its_files(quick_runs, name):
    out, runs = quick_runs
    v = runs[name]
    kit.assert_wrote_its_files(out, name, v)
    assert all(c["passed"] for c in v["checks"])
    assert any(c["role"] == "control" for c in v["checks"])


def test_geometry_saves_every_run_of_the_grid(quick_runs):
    out, _ = quick_runs
    folder = out / "geometry"
    traces = load_traces(folder, stem="opt")
    first = [t for t in traces if t.meta["instance"] == 0]
    assert len(first) == 2 * len(geometry.METHODS) * len(geometry.GRID[True])
    assert {t.meta["problem_kind"] for t in traces} == {"aligned", "rotated"}
    others = sum(len(m) for m in geometry.FAMILY.values()) * len(geometry.GRID[True])
    assert len(traces) == len(first) + (geometry.INSTANCES[True] - 1) * others
    for j in range(1, geometry.INSTANCES[True]):   # every arm of an instance on the same grid
        runs = [t for t in traces if t.meta["instance"] == j]
        assert {t.meta["data_seed"] for t in runs} == {geometry.INSTANCE_STRIDE * j}
        for pk, methods in geometry.FAMILY.items():
            for m in methods:
                assert sorted(t.meta["peak_lr"] for t in runs if t.meta["method"] == m
                              and t.meta["problem_kind"] == pk) == geometry.GRID[True]
    data, timing = geometry.load_ns(folder)
    assert set(timing["seconds"]) == {"svd", "cubic x5", "quintic x5", "Polar Express x5"}
    assert len(data["t"]) == geometry.NS_STEPS


def test_zero_order_network_saves_every_run(quick_runs):
    out, _ = quick_runs
    traces = load_traces(out / "zero-order-network", stem="run")
    zo = zero_order_network
    full = len(zo.GD_GRID) + len(zo.ZO_GRID) + len(zo.CMA_GRID)
    target = zo.INSTANCES[True] * (len(zo.GD_GRID) + len(zo.ZO_GRID))
    placebo = [t for t in traces if t.meta.get("placebo")]
    claim = [t for t in traces if not t.meta.get("placebo")]
    assert len(claim) == full * len(zo.D_IN[True]) + target * len(zo.D_IN_TARGET)
    assert len(placebo) == target * len(zo.PLACEBO_D_IN)
    # the control's instances: the smallest network, new instances, at the nominal sizes
    assert {t.meta["n"] for t in placebo} == {zo.n_params(zo.D_IN_TARGET[0])}
    assert {t.meta["nominal_n"] for t in placebo} == {zo.n_params(d) for d in zo.PLACEBO_D_IN}
    assert not {t.meta["instance"] for t in placebo} & {t.meta["instance"] for t in claim}
    assert [zo.n_params(d) for d in zo.D_IN_TARGET] == sorted({t.meta["n"] for t in claim})
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


def _failed(v) -> set:
    """The keys of the conditions of the rule in force that do not hold."""
    return {c["key"] for c in v["checks"] if not c["passed"]}


def _check(v, key) -> dict:
    return next(c for c in v["checks"] if c["key"] == key)


def _geometry_verdict(traces, data):
    return geometry.verdict(geometry.analyse(traces, data))


def test_geometry_fails_when_muon_is_no_better_than_adam(quick_runs):
    traces, data = _geometry_data(quick_runs)
    fam = geometry.analyse(traces, data)["family"]
    adam = dict(zip(fam["instances"], fam["Muon"]["adam"]))  # Adam's final rotated loss
    for t in traces:  # Muon's losses (both problems) lifted to Adam's final rotated level
        if t.meta["method"] == "Muon":
            t.columns["f_gap"] = np.maximum(np.asarray(t["f_gap"]), adam[t.meta["instance"]]
                                            * (t.meta["f0"] - t.meta["f_star"]))
    a = geometry.analyse(traces, data)
    assert a["win_over_adam"]["Muon"] <= 1.0 + 1e-12
    assert max(a["family"]["Muon"]["margins"]) <= 1e-12
    v = geometry.verdict(a)
    assert v["verdict"] == "FAIL" and _failed(v) == {"muon_share", "muon_bound"}
    assert v["earlier_rules"][0]["verdict"] == "FAIL"


def test_geometry_fails_when_adam_does_not_notice_the_rotation(quick_runs):
    traces, data = _geometry_data(quick_runs)
    aligned = {(t.meta["instance"], t.meta["peak_lr"]): t for t in traces
               if t.meta["method"] == "Adam" and t.meta["problem_kind"] == "aligned"}
    for t in traces:  # Adam's rotated runs replaced by its aligned ones, on every instance
        if t.meta["method"] == "Adam" and t.meta["problem_kind"] == "rotated":
            t.columns["f_gap"] = np.asarray(aligned[t.meta["instance"], t.meta["peak_lr"]]["f_gap"])
    v = _geometry_verdict(traces, data)
    assert v["verdict"] == "FAIL"
    assert {"muon_share", "shampoo_share", "muon_bound", "shampoo_bound",
            "coordinatewise_ratio"} <= _failed(v)


def test_geometry_fails_when_an_equivariant_method_changes_under_rotation(quick_runs):
    traces, data = _geometry_data(quick_runs)
    for t in traces:
        if t.meta["method"] == "Shampoo" and t.meta["problem_kind"] == "rotated":
            t.columns["f_gap"] = np.asarray(t["f_gap"]) * 5.0
    v = _geometry_verdict(traces, data)
    assert v["verdict"] == "FAIL" and _failed(v) == {"equivariant_ratio"}


def test_geometry_fails_for_swapped_or_stalled_newton_schulz(quick_runs):
    traces, data = _geometry_data(quick_runs)
    swapped = dict(data)
    for name in geometry.NS_INPUTS:
        swapped[f"{name}|quintic"] = data[f"{name}|Polar Express"]
        swapped[f"{name}|Polar Express"] = data[f"{name}|quintic"]
    v = _geometry_verdict(traces, swapped)
    assert v["verdict"] == "FAIL" and _failed(v) == {"ns_pe_over_quintic"}
    stalled = dict(data)
    stalled["well-conditioned|cubic"] = np.maximum(data["well-conditioned|cubic"], 1e-8)
    v = _geometry_verdict(traces, stalled)
    assert v["verdict"] == "FAIL" and _failed(v) == {"cubic_steps"}


# ----------------------------------------------------------------------------- controls
def test_geometry_control_aligned_problem_muon_does_not_win(quick_runs):
    """On the aligned problem Muon does not beat Adam by the margin on any instance; with the
    aligned runs replaced by the rotated ones (inside the claim's hypotheses) the control
    condition fails and so does the verdict."""
    traces, data = _geometry_data(quick_runs)
    v = _geometry_verdict(traces, data)
    c = _check(v, "control_aligned_muon_share")
    assert c["role"] == "control" and c["passed"] and c["value"] == 0.0
    assert all(x < 0 for x in v["family"]["aligned Muon"]["margins"])  # Adam below Muon
    rotated = {(t.meta["instance"], t.meta["method"], t.meta["peak_lr"]): t for t in traces
               if t.meta["problem_kind"] == "rotated"}
    for t in traces:
        if t.meta["problem_kind"] == "aligned" and t.meta["method"] in ("Muon", "Adam"):
            src = rotated[t.meta["instance"], t.meta["method"], t.meta["peak_lr"]]
            t.columns["f_gap"] = np.asarray(src["f_gap"])
    v = _geometry_verdict(traces, data)
    assert not _check(v, "control_aligned_muon_share")["passed"] and v["verdict"] == "FAIL"


def test_geometry_control_shampoo_without_preconditioner_does_not_win(quick_runs):
    """GD (Shampoo with identity preconditioners) does not beat Adam by the margin on the
    rotated problem; with its runs replaced by Shampoo's the control fails."""
    traces, data = _geometry_data(quick_runs)
    v = _geometry_verdict(traces, data)
    c = _check(v, "control_identity_shampoo_share")
    assert c["role"] == "control" and c["passed"]
    assert max(v["family"]["identity Shampoo"]["margins"]) < 1.0
    shampoo = {(t.meta["instance"], t.meta["peak_lr"]): t for t in traces
               if t.meta["problem_kind"] == "rotated" and t.meta["method"] == "Shampoo"}
    for t in traces:
        if t.meta["problem_kind"] == "rotated" and t.meta["method"] == "GD":
            t.columns["f_gap"] = np.asarray(shampoo[t.meta["instance"], t.meta["peak_lr"]]["f_gap"])
    v = _geometry_verdict(traces, data)
    assert not _check(v, "control_identity_shampoo_share")["passed"] and v["verdict"] == "FAIL"


def test_geometry_control_quintic_does_not_converge(quick_runs):
    """Muon's quintic never reaches the cubic's 1e-10; a converging iteration in its place
    (the cubic's errors) fails the control."""
    traces, data = _geometry_data(quick_runs)
    assert np.min(data["well-conditioned|quintic"]) > 10 * geometry.NS_TARGET
    v = _geometry_verdict(traces, data)
    assert _check(v, "control_quintic_steps")["passed"]
    swapped = dict(data)
    swapped["well-conditioned|quintic"] = data["well-conditioned|cubic"]
    v = _geometry_verdict(traces, swapped)
    assert not _check(v, "control_quintic_steps")["passed"] and v["verdict"] == "FAIL"


def _zo_traces(quick_runs):
    out, _ = quick_runs
    return load_traces(out / "zero-order-network", stem="run")


def _zo_verdict(traces):
    return zero_order_network.verdict(zero_order_network.analyse(traces))


def test_zero_order_network_fails_when_gd_is_no_better(quick_runs):
    traces = _zo_traces(quick_runs)
    n_max = max(t.meta["n"] for t in traces if t.meta["full"])
    for t in traces:  # GD's losses in the full runs of the largest size raised 10-fold
        if t.meta["method"] == "GD" and t.meta["full"] and t.meta["n"] == n_max:
            t.columns["f"] = np.asarray(t["f"]) * 10.0
    v = _zo_verdict(traces)
    assert v["verdict"] == "FAIL" and _failed(v) == {"full_margin"}


def test_zero_order_network_fails_when_zero_order_gd_matches_gd_cheaply(quick_runs):
    traces = _zo_traces(quick_runs)
    for t in traces:  # zero-order GD reaching every target with a tenth of its evaluations
        if t.meta["method"] == "ZO-GD" and not t.meta["full"]:
            t.columns["evals"] = np.asarray(t["evals"]) / 10.0
    v = _zo_verdict(traces)
    assert v["verdict"] == "FAIL" and {"gd_wins_share", "log_r_bound"} <= _failed(v)


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
    assert v["verdict"] == "FAIL" and _failed(v) == {"slope_bound"}


def test_zero_order_network_control_fixed_n_shows_no_growth(quick_runs):
    """At n fixed (the smallest network at nominal sizes) the slope test finds no growth; with
    the control's instances replaced by the claim's instances of those sizes (the cost that
    does grow with n) the control fails."""
    traces = _zo_traces(quick_runs)
    v = _zo_verdict(traces)
    c = _check(v, "control_placebo_slope_bound")
    assert c["role"] == "control" and c["passed"]
    relabelled = [t for t in traces if not t.meta.get("placebo")]
    n_min = min(t.meta["n"] for t in relabelled)
    for t in list(relabelled):
        if t.meta["n"] > n_min and not t.meta["full"]:
            copy = type(t)(t.label, dict(t.columns), dict(t.meta, placebo=True,
                                                          nominal_n=t.meta["n"]))
            relabelled.append(copy)
    v = _zo_verdict(relabelled)
    c = _check(v, "control_placebo_slope_bound")
    assert c["value"] == pytest.approx(_check(v, "slope_bound")["value"], rel=1e-12)
    assert not c["passed"] and v["verdict"] == "FAIL"


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
