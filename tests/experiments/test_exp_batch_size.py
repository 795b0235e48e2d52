"""The batch-size experiment: PASS in --quick mode, figure and traces written, the figure
redrawn from the saved traces alone, and a FAIL when the measured curves break the claim."""
import json

import numpy as np
import pytest
from exp_testkit import session_backend

from experiments import batch_size
from experiments.__main__ import run_one
from experiments.trace import load_traces


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out, run_one("batch-size", str(out), True, 0, session_backend())


def test_quick_run_passes_and_writes_its_files(quick_run):
    out, v = quick_run
    assert v["verdict"] == "PASS", v["measured"]
    folder = out / "batch-size"
    assert (folder / v["figure"]).stat().st_size > 10_000
    assert json.loads((folder / "verdict.json").read_text())["verdict"] == "PASS"
    traces = load_traces(folder, stem=batch_size.STEM)
    assert sorted({t.meta["batch"] for t in traces}) == [1, 10, 50, 100, 200]
    gd = [t for t in traces if t.meta["batch"] == 200]
    assert len(gd) == 1 and gd[0]["n_grad"][1] == 200     # a GD step costs n gradients
    one = next(t for t in traces if t.meta["batch"] == 1)
    assert one["n_grad"][10] == 10


def test_draw_uses_the_saved_traces_only(quick_run, monkeypatch):
    out, v = quick_run
    folder = out / "batch-size"
    (folder / v["figure"]).unlink()
    monkeypatch.setattr(batch_size, "run_seeds", None)
    assert batch_size.draw(folder).exists()


def test_verdict_fails_when_larger_batches_are_no_better(quick_run):
    out, _ = quick_run
    traces = load_traces(out / "batch-size", stem=batch_size.STEM)
    ones = [t for t in traces if t.meta["batch"] == 1]
    for t in traces:  # every batch size gets batch 1's curves: same floors, same iterations
        if t.meta["batch"] != 1:
            src = ones[t.meta["seed"] % len(ones)]
            t.columns["f_gap"] = np.array(src["f_gap"])
    assert batch_size.verdict(batch_size.analyse(traces))["verdict"] == "FAIL"
