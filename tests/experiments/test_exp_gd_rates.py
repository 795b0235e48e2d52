"""The gd-rates experiment: PASS in --quick mode, figure and traces written, the figure redrawn
from the saved traces alone, and a FAIL when the step leaves the theorems' range."""
import json

import numpy as np
import pytest
from exp_testkit import session_backend

from experiments import gd_rates
from experiments.__main__ import run_one
from experiments.trace import load_traces


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out, run_one("gd-rates", str(out), True, 0, session_backend())


def test_quick_run_passes_and_writes_its_files(quick_run):
    out, v = quick_run
    assert v["verdict"] == "PASS", v["measured"]
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
