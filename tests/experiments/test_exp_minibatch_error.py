"""The minibatch-error experiment: PASS in --quick mode, figure and traces written, the figure
redrawn from the saved traces alone, and a FAIL when a step violates the inequality."""
import json

import numpy as np
import pytest
from exp_testkit import session_backend

from experiments import minibatch_error
from experiments.__main__ import run_one
from experiments.trace import load_traces


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out, run_one("minibatch-error", str(out), True, 0, session_backend())


def test_quick_run_passes_and_writes_its_files(quick_run):
    out, v = quick_run
    assert v["verdict"] == "PASS", v["measured"]
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
