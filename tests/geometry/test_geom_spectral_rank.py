"""The spectral LMO's cut at the numerical rank, a 0/1 mask on the device, against the sliced
product :math:`-U_{:, :r} V^\\top_{:r}` with :math:`r` counted on the host (an independent
oracle): equal bit for bit at full rank, to a few units in the last place below it (the masked
product also sums zero terms, which BLAS may group differently)."""
import numpy as np
import pytest

import minigrad as mg
from optimizers.norms import Spectral


def sliced(G):
    U, S, Vt = np.linalg.svd(G, full_matrices=False)
    r = max(1, int(np.count_nonzero(S > S[0] * max(G.shape) * np.finfo(G.dtype).eps)))
    return -(U[:, :r] @ Vt[:r, :])


def lmo(G):
    return mg.to_numpy(Spectral().lmo(mg.backend.asarray(G)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_full_rank_equals_the_sliced_product_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    for shape in ((3, 4), (5, 5), (8, 3)):
        G = rng.standard_normal(shape).astype(dtype)
        assert np.array_equal(lmo(G), sliced(G))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_below_full_rank_agrees_to_rounding(dtype):
    rng = np.random.default_rng(1)
    for rank in (1, 3, 5):
        G = (rng.standard_normal((12, rank)) @ rng.standard_normal((rank, 9))).astype(dtype)
        got, want = lmo(G), sliced(G)
        np.testing.assert_allclose(got, want, rtol=0, atol=8 * np.finfo(dtype).eps)
        assert np.linalg.matrix_rank(got) == rank


def test_the_zero_matrix_gives_zero_with_its_signs():
    G = np.zeros((3, 4))
    G[0, 1] = -0.0
    out = lmo(G)
    assert np.array_equal(out, G) and np.array_equal(np.signbit(out), np.signbit(G))
