"""An experiment gives the same verdict and bit-identical traces on NumPy and on the strict
backend (the CPU stand-in for CuPy): the project draws its random numbers on the host and moves
them, so the device runs the same arithmetic on the same numbers. Only wall-clock measurements
(the ``time`` columns, ``seconds``) may differ. The NumPy run is the session's one quick run
of the experiment, the one its own test file checks (``quick_run_cache``)."""
import json
import pathlib

import numpy as np
import pytest

from quick_run_cache import shared_quick_run

#: deterministic full-batch runs, and seeded mini-batch runs
NAMES = ["gd-rates", "minibatch-error"]
TIMING = ("time", "seconds")


def _arrays(folder: pathlib.Path) -> dict:
    out = {}
    for f in sorted(folder.rglob("*.npz")):
        with np.load(f, allow_pickle=False) as z:
            for k in z.files:
                out[(f.relative_to(folder).as_posix(), k)] = z[k]
    return out


def _without_timing(meta: str) -> dict:
    m = json.loads(meta)
    return {k: v for k, v in m.items() if not any(t in k for t in TIMING) and k != "backend"}


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_numpy_and_strict_give_the_same_verdict_and_the_same_traces(tmp_path_factory, name):
    outs, runs = {}, {}
    for b in ("numpy", "strict"):
        outs[b], runs[b] = shared_quick_run(tmp_path_factory, name, b)
    assert runs["numpy"]["verdict"] == runs["strict"]["verdict"] == "PASS"
    assert runs["numpy"]["backend"] == "numpy" and runs["strict"]["backend"] == "strict"
    assert runs["numpy"]["measured"] == runs["strict"]["measured"]
    a, b = _arrays(outs["numpy"] / name), _arrays(outs["strict"] / name)
    assert a and a.keys() == b.keys()
    for key in a:
        if any(t in key[1] for t in TIMING):
            continue
        if key[1] == "__meta__":
            assert _without_timing(str(a[key])) == _without_timing(str(b[key])), key
        else:
            assert a[key].dtype == b[key].dtype and np.array_equal(
                a[key], b[key], equal_nan=a[key].dtype.kind in "fc"), key
