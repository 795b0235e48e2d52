"""Polar Express's two coefficient tables: the default generator table and the paper's.

Oracles: the default table's floats as they were before the ``table=`` option existed (pinned
here, so that the default stays bit for bit), the eight rows printed in Amsel, Persson, Musco &
Gower (2025), "The Polar Express: Optimal Matrix Sign Methods and Their Application to the Muon
Algorithm", Algorithm 1, typed from the paper, the paper's iteration written out again in this
file (its own order of products), and NumPy's SVD.
"""
import numpy as np
import pytest

import minigrad as mg
from optimizers import newton_schulz as ns

#: POLAR_EXPRESS_COEFFICIENTS before the option (the generator: l = 1e-3, 5 rows, safety 2e-2,
#: cushion 0.02), to the last bit
DEFAULT_BEFORE = (
    (8.156554524902454, -22.48329292557792, 15.878769915207437),
    (4.042929935166728, -2.8089174659087055, 0.5000178451051299),
    (3.891667802292662, -2.772484153217685, 0.5060648178503391),
    (3.2857536577556563, -2.3681294933425368, 0.46449024233003045),
    (2.3465413258596395, -1.7097828382687081, 0.4232355116930526),
)

#: Algorithm 1 of the paper, the rows as printed (before its safety factor 1.01)
PAPER_PRINTED = (
    (8.28721201814563, -23.595886519098837, 17.300387312530933),
    (4.107059111542203, -2.9478499167379106, 0.5448431082926601),
    (3.9486908534822946, -2.908902115962949, 0.5518191394370137),
    (3.3184196573706015, -2.488488024314874, 0.51004894012372),
    (2.300652019954817, -1.6689039845747493, 0.4188073119525673),
    (1.891301407787398, -1.2679958271945868, 0.37680408948524835),
    (1.8750014808534479, -1.2500016453999487, 0.3750001645474248),
    (1.875, -1.25, 0.375),
)


@pytest.fixture(scope="module")
def spread():
    """A 12 x 6 matrix with singular values from 1 down to 2e-3 (after the normalisation all
    of them stay above the tables' design floor 1e-3) and its polar factor U V^T."""
    rng = np.random.default_rng(7)
    U, _ = np.linalg.qr(rng.standard_normal((12, 6)))
    V, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    G = (U * np.geomspace(1.0, 2e-3, 6)) @ V.T
    return G, U @ V.T


def _paper_iteration(G, rows, steps):
    """Algorithm 1 as the paper writes it: X = G / (1.01 ||G||_F + 1e-7) on the wide
    orientation; then per step A = X X^T, B = b A + c A A, X = a X + B X; the last row repeats."""
    tall = G.shape[0] > G.shape[1]
    X = G.T if tall else G
    X = X / (np.linalg.norm(X) * 1.01 + 1e-7)
    rows = list(rows)[:steps] + [rows[-1]] * (steps - len(rows))
    for a, b, c in rows:
        A = X @ X.T
        B = b * A + c * A @ A
        X = a * X + B @ X
    return X.T if tall else X


def test_the_default_table_is_unchanged_bit_for_bit(spread):
    G, _ = spread
    assert ns.POLAR_EXPRESS_COEFFICIENTS == DEFAULT_BEFORE
    reference = ns.odd_polynomial_iteration(G, DEFAULT_BEFORE, safety=0.01, eps=1e-7)
    np.testing.assert_array_equal(ns.polar_express(G), reference)
    np.testing.assert_array_equal(ns.polar_express(G, table="generator"), reference)


def test_the_paper_table_is_algorithm_1_with_its_safety_factor():
    assert ns.POLAR_EXPRESS_PAPER_ROWS == PAPER_PRINTED
    expected = [(a / 1.01, b / 1.01 ** 3, c / 1.01 ** 5) for a, b, c in PAPER_PRINTED[:7]]
    expected.append(PAPER_PRINTED[7])  # the last row without the safety factor
    np.testing.assert_allclose(np.array(ns.POLAR_EXPRESS_PAPER_COEFFICIENTS), np.array(expected),
                               rtol=1e-15, atol=0)


@pytest.mark.parametrize("shape", [(12, 6), (6, 12)])
def test_table_paper_is_the_papers_iteration(shape, backend, xp):
    rng = np.random.default_rng(3)
    G = rng.standard_normal(shape)
    safe = [(a / 1.01, b / 1.01 ** 3, c / 1.01 ** 5) for a, b, c in PAPER_PRINTED[:7]]
    expected = _paper_iteration(G, safe + [PAPER_PRINTED[7]], steps=10)
    out = mg.to_numpy(ns.polar_express(xp.asarray(G), steps=10, table="paper"))
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-13)
    assert not np.allclose(out, mg.to_numpy(ns.polar_express(xp.asarray(G), steps=10)),
                           atol=1e-3)


def test_the_documented_difference_between_the_tables():
    """Row by row, the largest relative difference of a coefficient is 3.5 % to 6.2 %."""
    default = np.array(ns.POLAR_EXPRESS_COEFFICIENTS)
    paper = np.array(ns.POLAR_EXPRESS_PAPER_COEFFICIENTS[:5])
    per_row = np.abs(default / paper - 1).max(axis=1)
    assert 0.035 <= per_row.min() and per_row.max() <= 0.0625


def test_the_paper_table_converges_to_the_polar_factor(spread):
    """Its last row is the limit quintic (15x - 10x^3 + 3x^5)/8, whose fixed point is 1: eight
    steps reach U V^T to rounding. The companions: five steps are far from it, and a broken
    table (the safety factor applied to the last row as well) stalls near 1e-6."""
    G, Q = spread
    assert np.linalg.norm(ns.polar_express(G, steps=8, table="paper") - Q, 2) < 1e-12
    assert np.linalg.norm(ns.polar_express(G, steps=5, table="paper") - Q, 2) > 0.05
    broken = [(a / 1.01, b / 1.01 ** 3, c / 1.01 ** 5) for a, b, c in PAPER_PRINTED]
    assert np.linalg.norm(ns.polar_express(G, steps=10, coefficients=broken) - Q, 2) > 1e-7


def test_the_default_table_lands_in_its_designed_band(spread):
    """The default's five rows map normalised singular values in [1e-3, 1] into
    [l_5, 2 - l_5] = [0.8589, 1.1411] (see polar_express_coefficients) with G's singular
    vectors: the distance to U V^T is at most 0.1411. Repeating its last row does not converge
    (that polynomial's value at 1 is a + b + c = 1.06, not 1). Companion: three steps are far
    outside the band."""
    G, Q = spread
    X = ns.polar_express(G, steps=5)
    s = np.linalg.svd(X, compute_uv=False)
    assert 0.8589 <= s.min() and s.max() <= 1.1412
    assert np.linalg.norm(X - Q, 2) <= 0.1412
    a, b, c = ns.POLAR_EXPRESS_COEFFICIENTS[-1]
    assert abs(a + b + c - 1.0) > 0.05
    assert np.linalg.svd(ns.polar_express(G, steps=3), compute_uv=False).min() < 0.5


def test_bad_table_arguments_are_refused():
    G = np.eye(3)
    with pytest.raises(ValueError, match="table='published'"):
        ns.polar_express(G, table="published")
    with pytest.raises(ValueError, match="not both"):
        ns.polar_express(G, coefficients=ns.POLAR_EXPRESS_COEFFICIENTS, table="paper")
