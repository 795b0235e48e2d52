"""Dual norms and LMOs (optimizers.norms) against NumPy's norms and the SVD.

The oracle of every norm and dual norm is ``numpy.linalg.norm`` (vector ``ord`` 1, 2, inf; matrix
``'fro'``, ``2`` (spectral), ``'nuc'``), computed independently of the code under test.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from optimizers.norms import NORMS, Spectral, dual_norm, get_norm, inner, lmo

# (norm name) -> (primal oracle, dual oracle), both on NumPy arrays
ORACLE = {
    "l2": (lambda x: np.linalg.norm(x.ravel(), 2), lambda g: np.linalg.norm(g.ravel(), 2)),
    "linf": (lambda x: np.linalg.norm(x.ravel(), np.inf), lambda g: np.linalg.norm(g.ravel(), 1)),
    "l1": (lambda x: np.linalg.norm(x.ravel(), 1), lambda g: np.linalg.norm(g.ravel(), np.inf)),
    "frobenius": (lambda x: np.linalg.norm(x, "fro"), lambda g: np.linalg.norm(g, "fro")),
    "spectral": (lambda x: np.linalg.norm(x, 2), lambda g: np.linalg.norm(g, "nuc")),
    "nuclear": (lambda x: np.linalg.norm(x, "nuc"), lambda g: np.linalg.norm(g, 2)),
}
VECTOR, MATRIX = ("l1", "l2", "linf"), ("frobenius", "spectral", "nuclear")

finite = st.floats(-10, 10, allow_nan=False, allow_subnormal=False)
vectors = hnp.arrays(np.float64, st.integers(1, 12), elements=finite)
matrices = hnp.arrays(np.float64, st.tuples(st.integers(1, 7), st.integers(1, 7)), elements=finite)


def _nonzero(g):
    return np.abs(g).max() > 1e-3


@settings(deadline=None, derandomize=True, max_examples=60)
@given(g=st.one_of(vectors, matrices), name=st.sampled_from(VECTOR))
def test_vector_norms_identity_and_unit_lmo(g, name):
    """<g, LMO(g)> = -||g||_* and ||LMO(g)|| = 1, for vectors and for matrices read entrywise."""
    if not _nonzero(g):
        return
    primal, dual = ORACLE[name]
    d = lmo(g, name)
    assert d.shape == g.shape
    np.testing.assert_allclose(np.vdot(g, d), -dual(g), rtol=1e-12)
    np.testing.assert_allclose(primal(d), 1.0, rtol=1e-12)
    np.testing.assert_allclose(dual_norm(g, name), dual(g), rtol=1e-12)
    np.testing.assert_allclose(get_norm(name)(g), primal(g), rtol=1e-12)


@settings(deadline=None, derandomize=True, max_examples=60)
@given(g=matrices, name=st.sampled_from(MATRIX))
def test_matrix_norms_identity_and_unit_lmo(g, name):
    if not _nonzero(g):
        return
    primal, dual = ORACLE[name]
    d = lmo(g, name)
    assert d.shape == g.shape
    np.testing.assert_allclose(np.vdot(g, d), -dual(g), rtol=1e-9)
    np.testing.assert_allclose(primal(d), 1.0, rtol=1e-9)
    np.testing.assert_allclose(dual_norm(g, name), dual(g), rtol=1e-9)
    np.testing.assert_allclose(get_norm(name)(g), primal(g), rtol=1e-9)


@settings(deadline=None, derandomize=True, max_examples=30)
@given(g=matrices, name=st.sampled_from(VECTOR + MATRIX), seed=st.integers(0, 2**16))
def test_lmo_is_the_minimiser_over_the_unit_sphere(g, name, seed):
    """No random unit-norm direction has a smaller inner product with g than the LMO."""
    if not _nonzero(g):
        return
    primal, _ = ORACLE[name]
    best = np.vdot(g, lmo(g, name))
    rng = np.random.default_rng(seed)
    for _ in range(50):
        x = rng.standard_normal(g.shape)
        x /= primal(x)
        assert np.vdot(g, x) >= best - 1e-9 * (1 + abs(best))


@settings(deadline=None, derandomize=True, max_examples=40)
@given(g=vectors)
def test_closed_forms_linf_is_minus_sign_and_l2_is_minus_normalised(g):
    if not _nonzero(g):
        return
    np.testing.assert_array_equal(lmo(g, "linf"), -np.sign(g))
    np.testing.assert_allclose(lmo(g, "l2"), -g / np.linalg.norm(g), rtol=1e-14)


def test_l1_lmo_is_a_signed_coordinate_vector_at_the_largest_entry():
    g = np.array([0.5, -3.0, 2.0, 3.0])  # a tie at |g| = 3: the first index wins
    np.testing.assert_array_equal(lmo(g, "l1"), [0.0, 1.0, 0.0, 0.0])


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5)])
def test_spectral_lmo_is_minus_u_vt_from_an_svd(shape, backend, xp):
    rng = np.random.default_rng(0)
    G = rng.standard_normal(shape)
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    d = mg.to_numpy(lmo(xp.asarray(G), "spectral"))
    np.testing.assert_allclose(d, -U @ Vt, atol=1e-12)


def test_spectral_lmo_of_a_rank_deficient_matrix_keeps_the_range_only():
    u, v = np.array([1.0, 2.0, 2.0]) / 3, np.array([3.0, 4.0]) / 5
    G = 7.0 * np.outer(u, v)
    d = lmo(G, "spectral")
    np.testing.assert_allclose(d, -np.outer(u, v), atol=1e-14)  # -u1 v1^T, nothing on the nulls
    np.testing.assert_allclose(np.linalg.norm(d, 2), 1.0)
    np.testing.assert_allclose(np.vdot(G, d), -7.0)


def test_nuclear_lmo_is_the_top_singular_pair():
    rng = np.random.default_rng(1)
    G = rng.standard_normal((5, 3))
    U, _, Vt = np.linalg.svd(G)
    np.testing.assert_allclose(lmo(G, "nuclear"), -np.outer(U[:, 0], Vt[0]), atol=1e-12)


@pytest.mark.parametrize("polar, tol", [("polar_express", 0.2), ("newton_schulz", 0.35),
                                        ("cubic", 1e-12)])
def test_spectral_lmo_without_svd_approximates_the_svd_one(polar, tol):
    rng = np.random.default_rng(2)
    G = rng.standard_normal((40, 20))
    exact = lmo(G, "spectral")
    approx = Spectral(polar=polar, steps=30 if polar == "cubic" else 5).lmo(G)
    assert np.linalg.norm(approx - exact, 2) <= tol


@pytest.mark.parametrize("name", list(NORMS))
def test_zero_gradient_gives_zero_lmo_and_float32_stays(name):
    g = np.zeros((3, 2), dtype=np.float32)
    np.testing.assert_array_equal(lmo(g, name), 0.0)
    rng = np.random.default_rng(3)
    g = rng.standard_normal((3, 2)).astype(np.float32)
    assert lmo(g, name).dtype == np.float32
    assert dual_norm(g, name).dtype == np.float32


def test_blocks_of_a_vector_norm_are_the_concatenation():
    """Several parameters are one vector: the block versions equal the single-array versions on
    the concatenation (which the tests above check against NumPy)."""
    rng = np.random.default_rng(4)
    gs = [rng.standard_normal(3), rng.standard_normal((2, 2)), rng.standard_normal(1)]
    flat = np.concatenate([g.ravel() for g in gs])
    for name in VECTOR:
        nrm = get_norm(name)
        np.testing.assert_allclose(nrm.dual_blocks(gs), nrm.dual(flat), rtol=1e-14)
        np.testing.assert_allclose(nrm.norm_blocks(gs), nrm(flat), rtol=1e-14)
        got = np.concatenate([d.ravel() for d in nrm.lmo_blocks(gs)])
        np.testing.assert_allclose(got, nrm.lmo(flat), rtol=1e-14)


def test_blocks_of_a_matrix_norm_use_the_max_combination():
    """||(X_1, X_2)|| = max_i ||X_i||: dual sum_i ||G_i||_*, LMO blockwise; the identity holds."""
    rng = np.random.default_rng(5)
    gs = [rng.standard_normal((4, 3)), rng.standard_normal((2, 5))]
    nrm = get_norm("spectral")
    ds = nrm.lmo_blocks(gs)
    dual = sum(np.linalg.norm(g, "nuc") for g in gs)
    np.testing.assert_allclose(nrm.dual_blocks(gs), dual, rtol=1e-12)
    np.testing.assert_allclose(sum(np.vdot(g, d) for g, d in zip(gs, ds)), -dual, rtol=1e-12)
    np.testing.assert_allclose(max(np.linalg.norm(d, 2) for d in ds), 1.0, rtol=1e-12)
    np.testing.assert_allclose(inner(gs[0], ds[0]), np.vdot(gs[0], ds[0]))


def test_unknown_norms_and_matrix_norms_of_vectors_are_rejected():
    with pytest.raises(ValueError, match="unknown norm"):
        get_norm("l3")
    with pytest.raises(ValueError, match="matrices"):
        lmo(np.ones(3), "spectral")
    with pytest.raises(ValueError, match="polar"):
        Spectral(polar="qr")
    assert get_norm("fro").name == "frobenius" and get_norm("op").name == "spectral"
