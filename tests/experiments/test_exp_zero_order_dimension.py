"""The zero-order-dimension experiment: PASS in --quick mode with slopes near 1 (ZO-GD) and 0
(GD), files written, the figure redrawn from saved traces, and a FAIL with a step beyond the
1/(nL) scale."""
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
