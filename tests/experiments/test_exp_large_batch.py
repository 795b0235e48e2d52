"""The large-batch experiment: PASS in --quick mode with its files written, the figure redrawn
from the saved files alone, the verdict turning to FAIL when the saved measurements are altered to
break the claim, and the batch-size rates."""
import numpy as np
import pytest

import schedules
from experiments import large_batch as LB
import exp_testkit as kit


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    return kit.quick_runs(tmp_path_factory, ["large-batch"])


def test_quick_run_passes_and_writes_its_files(quick_runs):
    out, runs = quick_runs
    kit.assert_wrote_its_files(out, "large-batch", runs["large-batch"])


def test_draw_uses_the_saved_files_only(quick_runs, monkeypatch):
    out, runs = quick_runs
    folder = out / "large-batch"
    (folder / runs["large-batch"]["figure"]).unlink()
    for attr in ("runs", "train"):
        monkeypatch.setattr(LB, attr, None)             # no run can happen while drawing
    assert LB.draw(folder).exists()

def test_large_batch_saves_every_setting(quick_runs):
    out, runs = quick_runs
    v = runs["large-batch"]
    d = LB._load(out / "large-batch" / LB.DATA)
    assert d["curves"].shape == (len(LB.SETTINGS), LB.QUICK["seeds"], len(LB.QUICK["ks"]),
                                 LB.EPOCHS + 1)
    # the rules agree at B_0, and the baseline runs converged
    base = d["curves"][:, :, 0, -1]
    assert np.all(np.isfinite(base)) and np.all(base < 1e-2 * d["curves"][:, :, 0, 0])
    assert min(v["k_crit"]["linear rule, gradual warmup"]) >= LB.MIN_K


def test_large_batch_fails_when_warmup_does_not_help(quick_runs):
    folder = quick_runs[0] / "large-batch"
    d = LB._load(folder / LB.DATA)
    v = LB.verdict(LB.analyse(d))
    assert v["verdict"] == "PASS"
    assert set(v["earlier_rules"]) == {"v1", "v2"}               # both earlier rules recorded
    i_n, i_w = LB.SETTINGS.index(("linear", False)), LB.SETTINGS.index(("linear", True))
    swapped = dict(d, curves=d["curves"].copy())
    swapped["curves"][[i_n, i_w]] = d["curves"][[i_w, i_n]]       # warmup now hurts
    a = LB.analyse(swapped)
    assert np.all(a["k_crit"][i_w] <= a["k_crit"][i_n])
    assert LB.verdict(a)["verdict"] == "FAIL"
    same = dict(d, curves=d["curves"].copy())
    same["curves"][i_w] = d["curves"][i_n]                        # warmup changes nothing
    assert LB.verdict(LB.analyse(same))["verdict"] == "FAIL"
    one_worse = dict(d, curves=d["curves"].copy())                # warmup helps seed 0 only ...
    one_worse["curves"][i_w, 1:] = d["curves"][i_n, 1:]
    j = list(d["ks"]).index(LB.MIN_K)
    one_worse["curves"][i_n, 1, j + 1:, -1] = d["curves"][i_n, 1, 0, -1]   # ... and hurts seed 1
    a = LB.analyse(one_worse)
    assert a["k_crit"][i_w, 0] > a["k_crit"][i_n, 0] and a["k_crit"][i_w, 1] < a["k_crit"][i_n, 1]
    assert LB.verdict(a)["verdict"] == "FAIL"
    short = dict(d, curves=d["curves"].copy())
    short["curves"][i_w, 0, 1:, -1] = np.nan                       # warmup runs diverge at k >= 4
    assert LB.verdict(LB.analyse(short))["verdict"] == "FAIL"


def test_large_batch_rates_follow_the_rules():
    base = 0.1
    assert LB.learning_rate(base, 4 * LB.B0, "linear", False) == pytest.approx(0.4)
    assert LB.learning_rate(base, 4 * LB.B0, "sqrt", False) == pytest.approx(0.2)
    B = 8 * LB.B0
    lr = LB.learning_rate(base, B, "linear", True)
    Tw = LB.WARMUP_EPOCHS * (LB.M // B)
    assert isinstance(lr, schedules.Schedule)
    assert lr(0) == 0.0 and lr(Tw // 2) == pytest.approx(0.8 * (Tw // 2) / Tw)
    assert lr(Tw) == pytest.approx(0.8) and lr(10 * Tw) == pytest.approx(0.8)
