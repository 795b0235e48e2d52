"""The minibatch-error experiment: PASS in --quick mode under its rule in force, figure and
traces written, the figure redrawn from the saved traces alone, its control (GD at step 2/L)
violating the inequality, and a FAIL when a step violates the inequality or when the control
does not."""
import json

import numpy as np
import pytest
import exp_testkit as kit
from exp_testkit import session_backend
from quick_run_cache import shared_quick_run

from experiments import minibatch_error
from experiments.trace import load_traces


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    # the session's one quick run, which test_exp_backends_agree.py compares across backends
    return shared_quick_run(tmp_path_factory, "minibatch-error", session_backend())


def test_quick_run_passes_and_writes_its_files(quick_run):
    out, v = quick_run
    assert v["verdict"] == "PASS", v["measured"]
    kit.assert_wrote_its_files(out, "minibatch-error", v)
    folder = out / "minibatch-error"
    assert (folder / v["figure"]).stat().st_size > 10_000
    assert json.loads((folder / "verdict.json").read_text())["verdict"] == "PASS"
    traces = load_traces(folder, stem=minibatch_error.STEM)
    assert all("e2" in t.columns for t in traces)
    full = [t for t in traces if t.meta["batch"] == t.meta["n"] and not t.meta.get("control")]
    assert full and all(np.nanmax(t["e2"]) < 1e-20 for t in full)   # GD: no error
    a = minibatch_error.analyse(traces)
    assert a["ctrl_over"] > 0                        # the control (step 2/L) violates it


def test_draw_uses_the_saved_traces_only(quick_run, monkeypatch):
    out, v = quick_run
    folder = out / "minibatch-error"
    (folder / v["figure"]).unlink()
    monkeypatch.setattr(minibatch_error, "run_seeds", None)
    assert minibatch_error.draw(folder).exists()


def test_verdict_fails_when_one_step_violates_the_inequality(quick_run):
    out, _ = quick_run
    traces = load_traces(out / "minibatch-error", stem=minibatch_error.STEM)
    t = next(t for t in traces if not t.meta.get("control"))
    f = np.array(t["f"])
    L = t.meta["L_used"]
    # f(x_5) 1e-6 above what the inequality allows after step 4
    f[5] = f[4] - (t["grad_norm2"][4] - t["e2"][4]) / (2 * L) + 1e-6
    t.columns["f"] = f
    v = minibatch_error.verdict(minibatch_error.analyse(traces))
    assert v["verdict"] == "FAIL"


def test_the_control_violates_the_inequality_and_is_required_to(quick_run):
    out, v = quick_run
    checks = {c["key"]: c for c in v["checks"]}
    assert checks["control_over"]["role"] == "control" and checks["control_over"]["passed"]
    assert checks["control_over"]["value"] >= 1
    (v1,) = v["earlier_rules"]
    assert v1["version"] == 1 and v1["verdict"] == "PASS"
    # the control's steps judged as the claim's: check 1 fails on them
    traces = load_traces(out / "minibatch-error", stem=minibatch_error.STEM)
    ctrl = [t for t in traces if t.meta.get("control")]
    for t in ctrl:
        t.meta = {k: val for k, val in t.meta.items() if k != "control"}
    a = minibatch_error.analyse(ctrl)
    assert a["over_tol"] > 0


def test_verdict_fails_when_the_control_does_not_violate(quick_run):
    out, _ = quick_run
    traces = load_traces(out / "minibatch-error", stem=minibatch_error.STEM)
    for t in traces:   # a control whose f falls as the inequality allows: it no longer fails
        if t.meta.get("control"):
            g2, L = np.asarray(t["grad_norm2"], dtype=float), t.meta["L_used"]
            f = np.asarray(t["f"], dtype=float)
            t.columns["f"] = np.concatenate([f[:1], f[0] - np.cumsum(g2[:-1]) / (2 * L)])
    v = minibatch_error.verdict(minibatch_error.analyse(traces))
    assert v["verdict"] == "FAIL"
    assert not {c["key"]: c for c in v["checks"]}["control_over"]["passed"]
