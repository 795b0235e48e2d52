"""The zero-order-dimension experiment: PASS in --quick mode with slopes near 1 (ZO-GD) and 0
(GD), judged by its rule in force, files written, the figure redrawn from saved traces, the
control (coordinate estimate) violating the claim, and a FAIL with a step beyond the 1/(nL)
scale, with a control inside the claim's method, or with counts that do not grow as n."""
import math

import exp_testkit as kit
import numpy as np
import pytest
from exp_testkit import session_backend

import minigrad as mg
from experiments import zero_order_dimension as zod
from experiments.__main__ import run_one
from experiments.trace import load_traces


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out, run_one("zero-order-dimension", str(out), True, 0, session_backend())


def test_quick_run_passes_with_the_claimed_slopes(quick_run):
    out, v = quick_run
    assert v["verdict"] == "PASS", v["measured"]
    assert abs(v["slope_zo"] - 1) <= 0.15 and abs(v["slope_gd"]) <= 0.15
    saved = kit.assert_wrote_its_files(out, "zero-order-dimension", v)
    assert saved["earlier_rules"][0]["verdict"] == "PASS"       # version 1 on the same run
    assert saved["seeds"] == zod.QUICK["seeds"] == len(saved["zo_slopes"])
    folder = out / "zero-order-dimension"
    assert (folder / v["figure"]).stat().st_size > 10_000
    traces = load_traces(folder, stem="run")
    assert {t.meta["kind"] for t in traces} == {"zo", "gd"}
    assert all(t.meta["reached"] for t in traces)
    # the recorded zero-order trace ends at the target, at the iteration count reported
    zo = [t for t in traces if t.meta["kind"] == "zo"]
    for t in zo:
        assert t["k"][-1] == t.meta["iterations"]
        assert t["f_gap"][-1] <= zod.EPS * t.meta["gap0"] < t["f_gap"][-2]


def test_draw_uses_the_saved_traces_only(quick_run, monkeypatch):
    out, v = quick_run
    folder = out / "zero-order-dimension"
    (folder / v["figure"]).unlink()
    monkeypatch.setattr(zod, "zo_gd", None)
    monkeypatch.setattr(zod, "run_trace", None)
    assert zod.draw(folder).exists()


def test_the_oracle_is_the_problems_objective():
    q, fun = zod.make_problem(7, seed=3)
    x = mg.backend.asarray(np.random.default_rng(0).standard_normal(7), backend=q.backend)
    assert fun(x) == pytest.approx(q.value(x), rel=1e-12)


@pytest.mark.slow
def test_a_step_beyond_the_1_over_nL_scale_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(zod, "STEP", 1e3)  # 1000/(nL): the runs diverge at once
    with np.errstate(all="ignore"):
        v = zod.run(tmp_path, quick=True, seed=0)
    assert v["verdict"] == "FAIL"


def _saved(out):
    folder = out / "zero-order-dimension"
    return (load_traces(folder, stem=zod.STEM), load_traces(folder, stem=zod.CONTROL_STEM))


def test_the_per_seed_t_bounds_are_the_t_interval_of_the_slopes(quick_run):
    """The rule's bounds are mean -+ t_{0.95, S-1} sd/sqrt(S) of the per-seed slopes (3 seeds in
    --quick), each slope a least-squares fit of that seed's counts (numpy's polyfit here)."""
    out, v = quick_run
    traces, _ = _saved(out)
    zo = [t for t in traces if t.meta["kind"] == "zo"]
    slopes = []
    for s in sorted({t.meta["seed"] for t in zo}):
        runs = sorted((t for t in zo if t.meta["seed"] == s), key=lambda t: t.meta["n"])
        slopes.append(np.polyfit(np.log([t.meta["n"] for t in runs]),
                                 np.log([t.meta["iterations"] for t in runs]), 1)[0])
    slopes = np.array(slopes)
    np.testing.assert_allclose(v["zo_slopes"], slopes, rtol=1e-12)
    assert len(slopes) == 3
    p = 0.95  # Student's t with 2 degrees of freedom in closed form: (2p-1)/sqrt(2p(1-p))
    q = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    assert q == pytest.approx(2.920, abs=5e-4)          # the printed tables' value
    half = q * slopes.std(ddof=1) / math.sqrt(len(slopes))
    checks = {c["key"]: c["value"] for c in v["checks"]}
    assert checks["zo_slope_lower"] == pytest.approx(slopes.mean() - half, rel=1e-9)
    assert checks["zo_slope_upper"] == pytest.approx(slopes.mean() + half, rel=1e-9)


def test_the_control_violates_the_claim(quick_run):
    """The coordinate estimate's iterations do not grow with n: its slope is far below 0.85,
    while its function values (2n per iteration) do grow as n."""
    out, v = quick_run
    _, controls = _saved(out)
    assert [t.meta["n"] for t in controls] == list(zod.QUICK["control_dims"])
    assert all(t.meta["estimator"] == "coordinate" and t.meta["reached"] for t in controls)
    check = next(c for c in v["checks"] if c["key"] == "control_coordinate_slope")
    assert check["role"] == "control" and check["passed"] and check["value"] < 0.3
    ns = np.array([t.meta["n"] for t in controls], float)
    nfev = np.array([t.meta["nfev"] for t in controls], float)
    assert np.polyfit(np.log(ns), np.log(nfev), 1)[0] > 0.85


def test_a_control_inside_the_claims_method_makes_the_verdict_fail(quick_run):
    """Replace the control by the claim's own two-point runs (one seed): their slope is near 1,
    the control condition fails, and so does the verdict, on that condition alone."""
    out, _ = quick_run
    traces, controls = _saved(out)
    assert zod.judge(traces, controls)["verdict"] == "PASS"
    seed = min(t.meta["seed"] for t in traces if t.meta["kind"] == "zo")
    inside = [t for t in traces if t.meta["kind"] == "zo" and t.meta["seed"] == seed
              and t.meta["n"] in zod.QUICK["control_dims"]]
    v = zod.judge(traces, inside)
    assert v["verdict"] == "FAIL"
    assert [c["key"] for c in v["checks"] if not c["passed"]] == ["control_coordinate_slope"]
    assert v["bound"] == zod.RULES[-1].text  # judged by the rule in force, all of it
    assert [c["key"] for c in v["checks"]] == list(zod.RULES[-1].keys)


def test_counts_that_grow_faster_than_n_make_the_verdict_fail(quick_run):
    """The claim side: zero-order counts multiplied by n/10 (growth as n^2) put the slope's
    upper bound above 1.15; counts of GD growing as n break GD's condition."""
    out, _ = quick_run
    traces, controls = _saved(out)
    for t in traces:
        if t.meta["kind"] == "zo":
            t.meta["iterations"] = t.meta["iterations"] * t.meta["n"] / 10
    v = zod.judge(traces, controls)
    assert v["verdict"] == "FAIL"
    assert "zo_slope_upper" in [c["key"] for c in v["checks"] if not c["passed"]]
    traces, controls = _saved(out)
    for t in traces:
        if t.meta["kind"] == "gd":
            t.meta["iterations"] = t.meta["n"]
    v = zod.judge(traces, controls)
    assert [c["key"] for c in v["checks"] if not c["passed"]] == ["gd_slope_abs"]


def test_a_run_that_misses_the_target_counts_as_inf():
    """An unreached run is an outcome: its count is inf, so its seed's slope is inf and both
    t bounds are inf (the upper one then fails), never an error."""
    q, fun = zod.make_problem(10, seed=0)
    tr = zod.zo_run(q, fun, seed=0, max_iter=5)
    assert not tr.meta["reached"]
    assert zod.slope_of_counts([tr, tr]) == math.inf
    t = zod.slope_tests(np.array([1.0, math.inf, 1.0]))
    assert t["lower"]["bound"] == t["upper"]["bound"] == math.inf

