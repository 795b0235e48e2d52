"""Three tiny experiments for the command line's tests (``MINIGRAD_EXPERIMENTS_MODULES=
tiny_experiments``): one that ends at once, and two that run for ``TINY_SECONDS`` seconds
(default 60), doing gradient passes, so that a test can stop a run in the middle.

Each writes ``pid`` (its process id) into its folder first, so that a test can check that the
process running it is gone after an interrupt."""
import os
import pathlib
import time

import minigrad as mg
from experiments.registry import register

#: a module constant that a test edits (in a copy of this file) to make the results stale
LEVEL = 1


def _work(out_dir, seconds: float) -> int:
    (pathlib.Path(out_dir) / "pid").write_text(str(os.getpid()))
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    t0, passes = time.monotonic(), 0
    while time.monotonic() - t0 < seconds:
        (x * x).sum().backward()
        passes += 1
        time.sleep(0.01)
    return passes


@register("tiny-a-fast", "a claim checked at once")
def fast(out_dir, *, quick=False, seed=0, backend="numpy"):
    _work(out_dir, 0.0)
    return {"verdict": "PASS", "summary": f"level {LEVEL}, seed {seed}",
            "decisive": {"label": "level", "value": LEVEL, "op": "<=", "threshold": 1}}


@register("tiny-b-slow", "a claim that takes a while")
def slow_b(out_dir, *, quick=False, seed=0, backend="numpy"):
    passes = _work(out_dir, float(os.environ.get("TINY_SECONDS", "60")))
    return {"verdict": "PASS", "summary": f"{passes} passes"}


@register("tiny-c-slow", "another claim that takes a while")
def slow_c(out_dir, *, quick=False, seed=0, backend="numpy"):
    passes = _work(out_dir, float(os.environ.get("TINY_SECONDS", "60")))
    return {"verdict": "PASS", "summary": f"{passes} passes"}
