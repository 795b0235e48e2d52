"""The engine's numbers are pinned: every case of ``engine_cases.py`` (values, gradients through
``vjp_of`` and through ``backward``, reverse-over-reverse second-order products; float64 and
float32) gives exactly the arrays recorded in ``engine.npz`` (``record_engine.py`` made them).
A change of the engine that alters any of them by one rounding fails here."""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(1, str(pathlib.Path(__file__).resolve().parent))
from engine_cases import CASES, DTYPES, compute  # noqa: E402

RECORDED = np.load(pathlib.Path(__file__).with_name("engine.npz"))
KEYS = {}
for _key in RECORDED.files:
    _name, _dtype, _what = _key.split("/")
    KEYS.setdefault((_name, _dtype), set()).add(_what)


def test_every_case_is_recorded_and_every_record_has_a_case():
    assert set(KEYS) == {(n, d) for n in CASES for d in DTYPES}


#: results that the recorded engine did not produce, with the reason and their value, derived
#: independently: ``sign`` now has a zero derivative (it used to give no gradient at all), so
#: the second-order product of ``sign(a) * a = |a|`` exists, and it is 0 (|a| is piecewise linear)
ADDED_SINCE_RECORDING = {("sign", "hvp0"): lambda arr: np.zeros_like(arr)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_the_recording_bit_for_bit(name, dtype):
    got = compute(name, dtype)
    for (case, what), expected in ADDED_SINCE_RECORDING.items():
        if case == name:
            arr = got.pop(what)
            np.testing.assert_array_equal(arr, expected(arr), err_msg=f"{name}/{dtype}/{what}")
    assert set(got) == KEYS[(name, dtype)]
    for what, arr in got.items():
        want = RECORDED[f"{name}/{dtype}/{what}"]
        assert arr.dtype == want.dtype, (what, arr.dtype, want.dtype)
        np.testing.assert_array_equal(arr, want, err_msg=f"{name}/{dtype}/{what}")
