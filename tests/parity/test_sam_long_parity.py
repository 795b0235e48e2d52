"""SAM's long runs equal their recording bit for bit (see ``sam_long_cases.py``), on every
backend the suite runs on."""
import pathlib

import numpy as np
import pytest

import sam_long_cases as C

RECORDED = np.load(pathlib.Path(__file__).with_name("sam_long.npz"))


@pytest.mark.parametrize("variant", list(C.VARIANTS))
def test_long_sam_runs_match_the_recording_bit_for_bit(variant):
    for seed in C.SEEDS:
        got, want = C.run(seed, variant), RECORDED[C.key(seed, variant)]
        assert np.array_equal(got, want), (variant, seed, np.flatnonzero(
            (got != want).any(axis=1))[:1] * 5 + 5)
