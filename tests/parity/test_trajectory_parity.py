"""The optimizers' trajectories are pinned: every case of ``parity_cases.py`` (every
step()-driven optimizer, float64 and float32, a quadratic and a logistic regression, with and
without weight decay and a learning-rate schedule; 100 steps) gives exactly the iterates
recorded in ``trajectories.npz``, bit for bit. A change of an optimizer (or of what it relies
on) that alters one iterate by one rounding fails here, and so does a case that is recorded but
no longer defined, or defined but not recorded.

To pin new behaviour on purpose, regenerate the file with ``record_trajectories.py`` (its
docstring gives the command) from a checkout of the code whose behaviour is to be pinned.
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(1, str(pathlib.Path(__file__).resolve().parent))
from parity_cases import CASES, run  # noqa: E402

RECORDED = np.load(pathlib.Path(__file__).with_name("trajectories.npz"))
RECORDED_KEYS = frozenset(RECORDED.files)
_UNSIGNED = {4: np.uint32, 8: np.uint64}


def test_every_case_is_recorded_and_every_recording_has_a_case():
    unrecorded = sorted(set(CASES) - RECORDED_KEYS)
    undefined = sorted(RECORDED_KEYS - set(CASES))
    assert not unrecorded and not undefined, (
        f"{len(unrecorded)} cases are not recorded: {unrecorded}; {len(undefined)} recorded "
        f"cases are no longer defined: {undefined}")


@pytest.mark.parametrize("key", sorted(set(CASES) | RECORDED_KEYS))
def test_trajectory_matches_the_recording_bit_for_bit(key):
    if key not in RECORDED_KEYS:
        pytest.fail(f"{key} is a case of parity_cases.py but has no recording in "
                    f"trajectories.npz")
    if key not in CASES:
        pytest.fail(f"{key} is recorded in trajectories.npz but is no longer a case of "
                    f"parity_cases.py")
    want = RECORDED[key]
    got = run(key)
    assert got.dtype == want.dtype and got.shape == want.shape, (
        key, got.dtype, got.shape, want.dtype, want.shape)
    np.testing.assert_array_equal(got, want, err_msg=key, strict=True)
    unsigned = _UNSIGNED[got.dtype.itemsize]  # the same bits (a -0.0 for a 0.0 fails too)
    np.testing.assert_array_equal(got.view(unsigned), want.view(unsigned), err_msg=key)
