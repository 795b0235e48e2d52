"""The schedules-gallery experiment: it draws every schedule, is judged by its rule in force, its
check can fail (each check on a broken panel, and on its controls: schedules broken on purpose
that must be caught), and a control that is not broken makes the verdict FAIL."""
import json
import pathlib
import sys

import numpy as np
import pytest

import schedules as S
from experiments import registry
from experiments import schedules_gallery as gallery
from experiments.jobs import run_one
from experiments.trace import load_traces

# the experiments' shared test helpers live next to their tests
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "experiments"))
import exp_testkit as kit


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out, run_one("schedules-gallery", str(out), True, 0, kit.session_backend())


def test_gallery_is_registered_and_passes(quick_run):
    assert "experiments.schedules_gallery" in registry.experiment_modules()
    assert "schedules-gallery" in registry.all_experiments()
    root, out = quick_run
    json.dumps(out)  # the runner writes it as JSON
    assert out["verdict"] == "PASS", out["summary"]
    saved = kit.assert_wrote_its_files(root, "schedules-gallery", out)
    assert saved["earlier_rules"][0]["verdict"] == "PASS"   # version 1 (no control) too
    tmp_path = root / "schedules-gallery"
    png = tmp_path / gallery.FIGURE
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    traces = load_traces(tmp_path, stem="schedule")
    assert len(traces) == out["panels"] >= 35
    # every exported schedule class appears in the gallery (directly or as a subclass)
    shown = {type(s) for _, _, _, s, _ in gallery.catalogue()}
    for name in ("CyclicalLR", "CosineWarmRestarts", "OneCycle", "WarmupStableDecay",
                 "NoisyLinearCosineDecay", "SlantedTriangular", "LongTrapezoid",
                 "WarmupInverseSqrt", "StronglyConvexSGDStep", "HorizonSGDStep"):
        assert getattr(S, name) in shown, name


class _Lying(S.Constant):
    """A schedule whose stated bounds are wrong: the gallery's check must catch it."""

    @property
    def bounds(self):
        return (0.0, self.value / 2)


def test_gallery_check_can_fail(tmp_path, monkeypatch):
    real = gallery.catalogue
    monkeypatch.setattr(gallery, "catalogue",
                        lambda seed=0: real(seed) + [("decay", "liar", "", _Lying(0.1), 10)])
    monkeypatch.setattr(gallery, "draw", lambda traces, path: path)
    out = gallery.run(tmp_path, quick=True, seed=0, backend="numpy")
    assert out["verdict"] == "FAIL" and "liar: outside its bounds" in out["summary"]
    assert [c["key"] for c in out["checks"] if not c["passed"]] == ["panels_out_of_bounds"]


def _saved(root):
    folder = root / "schedules-gallery"
    return (load_traces(folder, stem=gallery.STEM),
            load_traces(folder, stem=gallery.CONTROL_STEM))


def _failed(v):
    return [c["key"] for c in v["checks"] if not c["passed"]]


def test_the_controls_are_caught(quick_run):
    """Each schedule broken on purpose fails the check it was built to fail (the unclamped
    decay is negative after 60 steps, the off-by-one differs from step 25 on, a0/t is inf at
    t = 0), and the verdict's control conditions record it."""
    root, v = quick_run
    _, ctrl = _saved(root)
    assert len(ctrl) == 3 and all(t.meta["control"] for t in ctrl)
    by_name = {t.label: t for t in ctrl}
    assert np.all(by_name["unclamped linear decay"]["lr"][61:] < 0)
    off = by_name["off-by-one step decay"]
    assert off["lr"][24] == 0.05 and off["lr_stepwise"][24] == 0.1
    assert np.isinf(by_name["inverse time a0/t"]["lr"][0])
    assert np.isnan(by_name["inverse time a0/t"]["lr_stepwise"][0])  # the scalar call raised
    for t in ctrl:
        assert t.meta["expected"] in gallery.failures_of(t), t.label
    checks = {c["key"]: c for c in v["checks"]}
    for c in gallery.RULES[-1].controls:
        assert checks[c.key]["role"] == "control" and checks[c.key]["passed"]


@pytest.mark.parametrize("expected", ["outside its bounds", "vectorised != step by step",
                                      "not finite"])
def test_a_control_that_is_not_broken_makes_the_verdict_fail(quick_run, expected):
    """Replace one control by a correct schedule (the Constant panel): it is not caught, and
    the verdict is FAIL on that control's condition alone."""
    root, _ = quick_run
    traces, ctrl = _saved(root)
    good = next(t for t in traces if t.label == "Constant")
    swapped = [type(good)(good.label, dict(good.columns), dict(t.meta))
               if t.meta["expected"] == expected else t for t in ctrl]
    v = gallery.judge(traces, swapped)
    assert v["verdict"] == "FAIL"
    key = {"outside its bounds": "control_out_of_bounds_caught",
           "vectorised != step by step": "control_vectorised_caught",
           "not finite": "control_not_finite_caught"}[expected]
    assert _failed(v) == [key]
    assert v["bound"] == gallery.RULES[-1].text  # judged by the rule in force, all of it
    assert [c["key"] for c in v["checks"]] == list(gallery.RULES[-1].keys)


def test_each_check_catches_a_broken_panel(quick_run):
    """The claim side, on the saved traces: one step of a panel changed breaks exactly the check
    that watches it (vectorised != per step, not finite, the momentum's bounds, the batch-size
    rules, reduce-on-plateau's monotonicity)."""
    root, _ = quick_run

    def broken(label, column, index, value):
        traces, ctrl = _saved(root)
        t = next(t for t in traces if t.label == label)
        col = np.array(t[column], dtype=float)
        col[index] = value(col[index])
        t.columns[column] = col
        return _failed(gallery.judge(traces, ctrl))

    assert broken("StepDecay", "lr_stepwise", 30, lambda x: x * (1 + 1e-9)) == [
        "panels_vectorised_differs"]
    assert "panels_not_finite" in broken("LinearDecay", "lr", 50, lambda x: np.nan)
    assert broken("OneCycle (torch)", "momentum", 10, lambda x: 1.5) == [
        "momentum_out_of_bounds"]
    assert broken("linear / sqrt scaling", "lr_sqrt", 3, lambda x: x * 1.01) == [
        "batch_rules_wrong"]
    assert broken("ReduceLROnPlateau", "lr", 90, lambda x: 0.2) == ["plateau_failures"]
