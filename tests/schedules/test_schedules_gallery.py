"""The schedules-gallery experiment: it draws every schedule, and its check can fail."""
import json

import pytest

import schedules as S
from experiments import registry
from experiments import schedules_gallery as gallery
from experiments.trace import load_traces


@pytest.mark.slow
def test_gallery_is_registered_and_passes(tmp_path):
    assert "experiments.schedules_gallery" in registry.experiment_modules()
    assert "schedules-gallery" in registry.all_experiments()
    out = gallery.run(tmp_path, quick=True, seed=0, backend="numpy")
    json.dumps(out)  # the runner writes it as JSON
    assert out["verdict"] == "PASS", out["summary"]
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
