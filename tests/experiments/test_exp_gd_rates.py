"""The gd-rates experiment: PASS in --quick mode, judged by its rule in force, figure and traces
written, the figure redrawn from the saved traces alone, its controls (step 2.5/L) violating the
bounds, and a FAIL when the step leaves the theorems' range, when a control is replaced by a run
inside the hypotheses, or when a measurement breaks a bound."""
import json

import exp_testkit as kit
import numpy as np
import pytest
from exp_testkit import session_backend
from quick_run_cache import shared_quick_run

from experiments import gd_rates
from experiments.trace import load_traces


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    # the session's one quick run, which test_exp_backends_agree.py compares across backends
    return shared_quick_run(tmp_path_factory, "gd-rates", session_backend())


def test_quick_run_passes_and_writes_its_files(quick_run):
    out, v = quick_run
    assert v["verdict"] == "PASS", v["measured"]
    saved = kit.assert_wrote_its_files(out, "gd-rates", v)
    assert saved["rule_version"] == gd_rates.RULES[-1].version == 2
    assert saved["earlier_rules"][0]["verdict"] == "PASS"   # version 1 (no control) too
    folder = out / "gd-rates"
    assert (folder / v["figure"]).stat().st_size > 10_000
    assert json.loads((folder / "verdict.json").read_text())["verdict"] == "PASS"
    traces = load_traces(folder, stem=gd_rates.STEM)
    kinds = {t.meta["kind"] for t in traces}
    assert kinds == {"convex-huber", "convex-quadratic", "strongly convex", "non-convex"}
    assert v["huber_attained"] == pytest.approx(1.0, abs=1e-9)   # the bound is attained
    assert v["max_ratio"]["convex"] <= 1 + 1e-9
    for key in ("claim", "bound", "measured", "summary"):
        assert v[key]


def test_draw_uses_the_saved_traces_only(quick_run, monkeypatch):
    out, v = quick_run
    folder = out / "gd-rates"
    (folder / v["figure"]).unlink()
    monkeypatch.setattr(gd_rates, "run_trace", None)  # no run can happen while drawing
    assert gd_rates.draw(folder).exists()


def test_ratio_to_bound_flags_a_violation(quick_run):
    out, _ = quick_run
    tr = next(t for t in load_traces(out / "gd-rates", stem=gd_rates.STEM)
              if t.meta["kind"] == "strongly convex")
    assert np.nanmax(gd_rates.ratio_to_bound(tr)) <= 1 + 1e-9
    tr.columns["dist2"] = tr["dist2"] * np.r_[1.0, np.full(len(tr) - 1, 1.5)]
    assert np.nanmax(gd_rates.ratio_to_bound(tr)[1:]) > 1


@pytest.mark.slow
def test_a_step_outside_the_theorems_range_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(gd_rates, "STEP", 2.5)
    with np.errstate(all="ignore"):
        v = gd_rates.run(tmp_path, quick=True, seed=0)
    assert v["verdict"] == "FAIL"


def _saved(out):
    folder = out / "gd-rates"
    return (load_traces(folder, stem=gd_rates.STEM),
            load_traces(folder, stem=gd_rates.CONTROL_STEM))


def test_the_controls_violate_the_bounds(quick_run):
    """Each control (GD with the step 2.5/L) breaks the bound of its class: its ratio exceeds 1
    by a wide margin, and the verdict's control conditions record it."""
    out, v = quick_run
    _, controls = _saved(out)
    assert {t.meta["kind"] for t in controls} == {"convex-quadratic", "strongly convex",
                                                   "non-convex"}
    for t in controls:
        assert t.meta["control"] and t.meta["step"] == 2.5
        assert gd_rates.max_ratio(t) > 2.0, t.label
    checks = {c["key"]: c for c in v["checks"]}
    control_keys = [c.key for c in gd_rates.RULES[-1].controls]
    assert len(control_keys) == 3
    for key in control_keys:
        assert checks[key]["role"] == "control" and checks[key]["passed"], checks[key]
        assert checks[key]["value"] > 1.0


@pytest.mark.parametrize("kind", ["convex-quadratic", "strongly convex", "non-convex"])
def test_a_control_inside_the_hypotheses_makes_the_verdict_fail(quick_run, kind):
    """Replace one control by a run of the claim (step 1/L, same class): the control no longer
    violates its bound, and the verdict turns to FAIL on that control condition alone."""
    out, _ = quick_run
    traces, controls = _saved(out)
    inside = next(t for t in traces if t.meta["kind"] == kind)
    assert inside.meta["step"] == 1.0
    swapped = [inside if t.meta["kind"] == kind else t for t in controls]
    v = gd_rates.judge(traces, swapped)
    assert v["verdict"] == "FAIL"
    failed = [c["key"] for c in v["checks"] if not c["passed"]]
    key = {"convex-quadratic": "convex", "strongly convex": "strongly_convex",
           "non-convex": "nonconvex"}[kind]
    assert failed == [f"control_{key}_max_ratio"]
    assert v["bound"] == gd_rates.RULES[-1].text  # judged by the rule in force, all of it
    assert [c["key"] for c in v["checks"]] == list(gd_rates.RULES[-1].keys)


def test_a_measurement_above_its_bound_makes_the_verdict_fail(quick_run):
    """The claim side: one strongly convex run's distances multiplied by 1.5 after k = 0 put it
    above (1-mu/L)^k ||x_0-x*||^2, and the verdict is FAIL on that condition; a Huber run
    halved at k = N no longer attains the convex bound."""
    out, _ = quick_run
    traces, controls = _saved(out)
    assert gd_rates.judge(traces, controls)["verdict"] == "PASS"
    tr = next(t for t in traces if t.meta["kind"] == "strongly convex")
    tr.columns["dist2"] = tr["dist2"] * np.r_[1.0, np.full(len(tr) - 1, 1.5)]
    v = gd_rates.judge(traces, controls)
    assert v["verdict"] == "FAIL"
    assert [c["key"] for c in v["checks"] if not c["passed"]] == ["strongly_convex_max_ratio"]
    traces, controls = _saved(out)
    huber = next(t for t in traces if t.meta["kind"] == "convex-huber")
    huber.columns["f_gap"] = huber["f_gap"] * np.r_[np.ones(len(huber) - 1), 0.5]
    v = gd_rates.judge(traces, controls)
    assert [c["key"] for c in v["checks"] if not c["passed"]] == ["huber_attained"]


def test_a_diverged_run_is_inf_not_an_error():
    """Divergence is a measured outcome: a run whose values overflow gives the ratio inf."""
    import problems as P

    q = P.Quadratic(dim=5, mu=0.1, L=1.0, seed=1)
    tr = gd_rates._gd(q, 2000, "diverging", step=100.0, kind="strongly convex")
    assert tr.meta["diverged"]
    assert gd_rates.max_ratio(tr) == float("inf")

