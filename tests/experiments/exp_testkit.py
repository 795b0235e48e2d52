"""What the experiments' tests share: running experiments once in --quick mode, and the check
that a quick run gave its verdict and wrote its files (figure, verdict.json)."""
import json

import minigrad
from experiments.jobs import run_one

VERDICT_KEYS = ("claim", "bound", "measured", "summary", "figure")


def session_backend() -> str:
    """The backend the suite runs on (``pytest --backend``; numpy by default)."""
    return minigrad.get_backend()


def quick_runs(tmp_path_factory, names):
    """``(out, {name: verdict})``: each experiment run once, --quick, seed 0, on the session's
    backend."""
    out = tmp_path_factory.mktemp("results")
    return out, {name: run_one(name, str(out), True, 0, session_backend()) for name in names}


def assert_wrote_its_files(out, name, v, expected="PASS"):
    """The verdict is ``expected``, every verdict field is filled, the figure is a real PNG and
    ``verdict.json`` holds the same verdict; returns the saved verdict."""
    assert v["verdict"] == expected, v["measured"]
    for key in VERDICT_KEYS:
        assert v[key]
    folder = out / name
    assert (folder / v["figure"]).stat().st_size > 10_000
    saved = json.loads((folder / "verdict.json").read_text())
    assert saved["verdict"] == expected
    return saved
