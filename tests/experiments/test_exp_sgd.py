"""The SGD experiments (sgd-constant-step, sgd-decreasing-step, sgd-convex-averaged): PASS in
--quick mode, figure and traces written, the figure redrawn from the saved traces alone, and
the verdict turns to FAIL when the measured curves are made to break the claim."""

import numpy as np
import pytest

import minigrad as mg

from experiments import sgd_constant_step, sgd_convex_averaged, sgd_decreasing_step
import exp_testkit as kit
from experiments.trace import load_traces

MODULES = {"sgd-constant-step": sgd_constant_step, "sgd-decreasing-step": sgd_decreasing_step,
           "sgd-convex-averaged": sgd_convex_averaged}
STEMS = {"sgd-constant-step": ["sgd"], "sgd-decreasing-step": ["sgd"],
         "sgd-convex-averaged": ["horizon", "invsqrt"]}


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    return kit.quick_runs(tmp_path_factory, MODULES)


def traces_of(folder, name):
    return [t for stem in STEMS[name] for t in load_traces(folder, stem=stem)]


@pytest.mark.parametrize("name", list(MODULES))
def test_quick_run_passes_and_writes_its_files(quick_runs, name):
    out, runs = quick_runs
    v = runs[name]
    kit.assert_wrote_its_files(out, name, v)
    folder = out / name
    traces = traces_of(folder, name)
    assert len(traces) >= 12                             # the seeds of each configuration
    assert all("sigma2" in t.columns and t.meta["sigma2_max"] > 0 for t in traces)


@pytest.mark.parametrize("name", list(MODULES))
def test_draw_uses_the_saved_traces_only(quick_runs, name, monkeypatch):
    out, runs = quick_runs
    mod = MODULES[name]
    folder = out / name
    (folder / runs[name]["figure"]).unlink()
    monkeypatch.setattr(mod, "run_seeds", None)          # no run can happen while drawing
    assert mod.draw(folder).exists()
    # the verdict is a function of the saved traces too
    assert mod.verdict(mod.analyse(traces_of(folder, name)))["verdict"] == "PASS"


def scaled(traces, column, factor):
    for t in traces:
        t.columns[column] = np.asarray(t[column]) * factor
    return traces


def test_constant_step_verdict_fails_above_the_bound_or_without_a_plateau(quick_runs):
    out, _ = quick_runs
    folder = out / "sgd-constant-step"
    mod = sgd_constant_step
    assert mod.verdict(mod.analyse(scaled(traces_of(folder, "sgd-constant-step"), "f_gap",
                                          10.0)))["verdict"] == "FAIL"
    # a curve that keeps decaying (as if it converged): no plateau, FAIL
    traces = traces_of(folder, "sgd-constant-step")
    for t in traces:
        t.columns["f_gap"] = np.asarray(t["f_gap"]) * 0.9 ** np.asarray(t["k"])
    assert mod.verdict(mod.analyse(traces))["verdict"] == "FAIL"


def test_decreasing_step_verdict_fails_for_a_slower_rate(quick_runs):
    out, _ = quick_runs
    traces = traces_of(out / "sgd-decreasing-step", "sgd-decreasing-step")
    for t in traces:  # a 1/sqrt(k) curve under the bound at the start: the slope check fails
        k = np.maximum(np.asarray(t["k"]), 1.0)
        t.columns["f_gap"] = np.asarray(t["f_gap"]) * np.sqrt(k) / np.sqrt(k[-1])
    a = sgd_decreasing_step.analyse(traces)
    assert a["slope"] > -0.75
    assert sgd_decreasing_step.verdict(a)["verdict"] == "FAIL"


def test_convex_averaged_verdict_fails_above_the_bound(quick_runs):
    out, _ = quick_runs
    traces = scaled(traces_of(out / "sgd-convex-averaged", "sgd-convex-averaged"),
                    "f_avg_gap", 100.0)
    mod = sgd_convex_averaged
    assert mod.verdict(mod.analyse(traces))["verdict"] == "FAIL"


def test_convex_problem_has_a_minimiser_and_no_strong_convexity():
    p = sgd_convex_averaged.ConvexLogistic(m=60, dim=3, seed=0)
    assert p.mu == 0.0 and p.x_star is not None
    assert np.linalg.norm(mg.to_numpy(p.grad(p.x_star))) < 1e-10
    assert p.f_star == pytest.approx(p.value(p.x_star))
