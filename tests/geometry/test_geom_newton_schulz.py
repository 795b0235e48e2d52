"""Polar factors without an SVD: cubic Newton–Schulz, Muon's quintic, Polar Express.

Oracles: NumPy's SVD (U V^T and the singular values of the input), scalar evaluation of the odd
polynomials on a dense grid, and the five-row Polar Express table that modded-nanogpt ships
(the generator of Amsel et al. 2025 run with safety 2e-2; the paper's own Algorithm 1 table is
another one, tested in test_polar_express_tables.py).
"""
import numpy as np
import pytest

import minigrad as mg
from optimizers import newton_schulz as ns

PUBLISHED = [  # modded-nanogpt: l = 1e-3, 5 iterations, safety 2e-2, cushion 0.02
    (8.156554524902461, -22.48329292557795, 15.878769915207462),
    (4.042929935166739, -2.808917465908714, 0.5000178451051316),
    (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
    (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
    (2.3465413258596377, -1.7097828382687081, 0.42323551169305323),
]


def _well_conditioned(shape, cond=4.0, seed=0):
    rng = np.random.default_rng(seed)
    m, n = shape
    U, _ = np.linalg.qr(rng.standard_normal((m, min(m, n))))
    V, _ = np.linalg.qr(rng.standard_normal((n, min(m, n))))
    s = np.geomspace(1.0, 1.0 / cond, min(m, n))
    return (U * s) @ V.T


def _svd_polar(G):
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    return U @ Vt


def _compose(rows, x):
    """The scalar composition p_T o ... o p_1 (x), rows (a, b[, c])."""
    for row in rows:
        a, b = row[0], row[1]
        c = row[2] if len(row) > 2 else 0.0
        x = a * x + b * x**3 + c * x**5
    return x


# --------------------------------------------------------------------------- cubic
@pytest.mark.parametrize("shape", [(48, 16), (16, 48), (20, 20)])
def test_cubic_newton_schulz_converges_to_the_svd_polar_factor(shape, backend, xp):
    G = _well_conditioned(shape)
    X = mg.to_numpy(ns.newton_schulz_cubic(xp.asarray(G), steps=25))
    np.testing.assert_allclose(X, _svd_polar(G), rtol=0, atol=1e-10)


def test_cubic_newton_schulz_with_too_few_steps_is_not_converged():
    """The companion: the same check fails after 5 steps (it can fail)."""
    G = _well_conditioned((48, 16))
    X = ns.newton_schulz_cubic(G, steps=5)
    assert np.abs(X - _svd_polar(G)).max() > 1e-3


# --------------------------------------------------------------------------- odd polynomials act on singular values
@pytest.mark.parametrize("method, rows_of", [
    ("cubic", lambda steps: [ns.CUBIC] * steps),
    ("quintic", lambda steps: [ns.MUON_QUINTIC] * steps),
    ("polar_express", lambda steps: list(ns.POLAR_EXPRESS_COEFFICIENTS)[:steps]),
])
@pytest.mark.parametrize("shape", [(30, 12), (12, 30)])
def test_the_iteration_maps_each_singular_value_by_the_scalar_polynomial(method, rows_of, shape):
    """X_T = U p(Sigma_0) V^T: the matrix iteration equals the scalar polynomials applied to the
    singular values of X_0 = G / (||G||_F (1 + s) + eps), with G's singular vectors."""
    rng = np.random.default_rng(7)
    G = rng.standard_normal(shape)
    steps = 5
    U, S, Vt = np.linalg.svd(G, full_matrices=False)
    safety = 0.01 if method == "polar_express" else 0.0
    s0 = S / (np.linalg.norm(G) * (1 + safety) + 1e-7)
    expected = (U * _compose(rows_of(steps), s0)) @ Vt
    fn = {"cubic": ns.newton_schulz_cubic, "quintic": ns.newton_schulz_quintic,
          "polar_express": ns.polar_express}[method]
    np.testing.assert_allclose(fn(G, steps=steps), expected, rtol=0, atol=1e-11)


# --------------------------------------------------------------------------- Muon's quintic
def test_muon_quintic_lands_in_a_band_not_on_one():
    """From G/||G||_F, five quintic steps put the singular values in roughly [0.68, 1.13]: the
    exact band for inputs in [0.01, 1] is the range of p^5 there (scalar grid), and the
    iteration is not orthogonal (some singular value is more than 5% away from 1)."""
    grid = np.linspace(0.01, 1.0, 1_000_001)
    band = _compose([ns.MUON_QUINTIC] * 5, grid)
    lo, hi = band.min(), band.max()
    assert 0.68 <= lo <= 0.683 and 1.13 <= hi <= 1.135  # "roughly [0.68, 1.13]"
    rng = np.random.default_rng(8)
    far_from_one = 0.0
    for shape in [(64, 32), (32, 64), (100, 20), (50, 50)]:
        G = rng.standard_normal(shape)
        s_in = np.linalg.svd(G, compute_uv=False) / np.linalg.norm(G)
        if shape != (50, 50):  # a square Gaussian matrix has singular values near 0
            assert s_in.min() >= 0.01
        s = np.linalg.svd(ns.newton_schulz_quintic(G, steps=5), compute_uv=False)
        if s_in.min() >= 0.01:
            assert lo - 1e-12 <= s.min() and s.max() <= hi + 1e-12
        far_from_one = max(far_from_one, np.abs(s - 1).max())
    assert far_from_one > 0.05


# --------------------------------------------------------------------------- Polar Express
def test_polar_express_generator_reproduces_the_published_table():
    rows = ns.polar_express_coefficients(l=1e-3, num_iters=5, safety=2e-2, cushion=0.02)
    assert len(rows) == 5
    np.testing.assert_allclose(np.array(rows), np.array(PUBLISHED), rtol=0, atol=1e-12)
    assert ns.POLAR_EXPRESS_COEFFICIENTS == tuple(rows)


def test_a_wrong_rule_does_not_reproduce_the_table():
    """The companion: applying the safety factor to the last polynomial too (a plausible
    misreading) misses the last row by far more than 1e-12."""
    rows = ns.polar_express_coefficients(num_iters=5, safety=2e-2, cushion=0.02)
    sf = 1.02
    wrong_last = (rows[-1][0] / sf, rows[-1][1] / sf**3, rows[-1][2] / sf**5)
    assert np.abs(np.array(wrong_last) - np.array(PUBLISHED[-1])).max() > 1e-2


@pytest.mark.parametrize("l, u", [(1e-3, 1.0), (0.02, 1.0), (0.3, 1.2), (0.9, 1.1)])
def test_optimal_quintic_equioscillates_and_no_perturbation_beats_it(l, u):
    """The minimax error max |1 - p| on [l, u] (dense grid) equals E = 1 - p(l) and is attained
    with alternating signs at l, at two interior points and at u; random perturbations of
    (a, b, c) never have a smaller max error."""
    a, b, c = ns.optimal_odd_quintic(l, u)
    x = np.linspace(l, u, 400_001)
    err = 1 - (a * x + b * x**3 + c * x**5)
    E = err[0]
    assert E > 0
    np.testing.assert_allclose(np.abs(err).max(), E, rtol=1e-9)
    np.testing.assert_allclose(err[-1], -E, rtol=1e-9)
    interior = x[(x > l + 1e-3 * (u - l)) & (x < u - 1e-3 * (u - l))]
    e_in = 1 - (a * interior + b * interior**3 + c * interior**5)
    np.testing.assert_allclose([e_in.min(), e_in.max()], [-E, E], rtol=1e-6)
    # the perturbed polynomials are checked on a coarser grid that contains the interior
    # alternation points (the critical points of p): by de la Vallee Poussin's theorem no
    # polynomial has a smaller error than E at all four alternation points
    d = np.sqrt(9 * b * b - 20 * a * c)
    q, r = np.sqrt((-3 * b - d) / (10 * c)), np.sqrt((-3 * b + d) / (10 * c))
    xs = np.union1d(np.linspace(l, u, 2001), [q, r])
    rng = np.random.default_rng(9)
    for _ in range(200):
        da, db, dc = rng.standard_normal(3) * 1e-3 * np.abs([a, b, c])
        other = 1 - ((a + da) * xs + (b + db) * xs**3 + (c + dc) * xs**5)
        assert np.abs(other).max() >= E * (1 - 1e-12)


def test_optimal_quintic_limit_near_a_point():
    """As l -> u the optimum tends to (15/8, -10/8, 3/8)/u^k, the branch used for l/u > 1 - 5e-6."""
    exact = np.array(ns.optimal_odd_quintic(1.0 - 1e-6, 1.0))
    np.testing.assert_allclose(exact, [15 / 8, -10 / 8, 3 / 8], rtol=0, atol=1e-15)
    near = np.array(ns.optimal_odd_quintic(1.0 - 1e-3, 1.0))
    np.testing.assert_allclose(near, [15 / 8, -10 / 8, 3 / 8], atol=2e-3)


def test_polar_express_composition_maps_the_interval_into_its_bookkeeping():
    """The table's own promise: singular values in [l, 1] end in [l_T, 2 - l_T] (scalar grid)."""
    rows = ns.polar_express_coefficients()
    l = 1e-3
    for a, b, c in rows:
        l = a * l + b * l**3 + c * l**5
    x = np.linspace(1e-3, 1.0, 1_000_001)
    y = _compose(rows, x)
    assert y.min() >= l - 1e-12 and y.max() <= 2 - l + 1e-12
    assert l > 0.85


@pytest.mark.parametrize("shape", [(64, 24), (24, 64)])
def test_polar_express_beats_the_quintic_at_equal_steps(shape):
    rng = np.random.default_rng(10)
    G = rng.standard_normal(shape)
    Q = _svd_polar(G)
    err_pe = np.linalg.norm(ns.polar_express(G, steps=5) - Q, 2)
    err_q = np.linalg.norm(ns.newton_schulz_quintic(G, steps=5) - Q, 2)
    assert err_pe < 0.15 < err_q


def test_more_steps_than_the_table_repeat_its_last_row():
    G = np.random.default_rng(11).standard_normal((8, 5))
    rows = list(ns.POLAR_EXPRESS_COEFFICIENTS) + [ns.POLAR_EXPRESS_COEFFICIENTS[-1]] * 2
    np.testing.assert_allclose(ns.polar_express(G, steps=7),
                               ns.odd_polynomial_iteration(G, rows, safety=0.01), atol=0)


# --------------------------------------------------------------------------- shapes and dtypes
@pytest.mark.parametrize("fn", [ns.newton_schulz_cubic, ns.newton_schulz_quintic,
                                ns.polar_express])
def test_tall_is_the_transpose_of_wide_and_float32_stays(fn, backend, xp):
    rng = np.random.default_rng(12)
    G = rng.standard_normal((9, 4))
    tall = mg.to_numpy(fn(xp.asarray(G), steps=5))
    wide = mg.to_numpy(fn(xp.asarray(G.T.copy()), steps=5))
    np.testing.assert_allclose(tall, wide.T, atol=1e-13)
    out = fn(xp.asarray(G, dtype=np.float32), steps=5)
    assert out.dtype == np.float32 and out.shape == (9, 4)
    zero = mg.to_numpy(fn(xp.zeros((3, 5)), steps=5))
    np.testing.assert_array_equal(zero, 0.0)


def test_batched_input_and_invalid_arguments():
    rng = np.random.default_rng(13)
    G = rng.standard_normal((3, 6, 4))
    out = ns.polar_express(G, steps=5)
    for i in range(3):
        np.testing.assert_allclose(out[i], ns.polar_express(G[i], steps=5), atol=1e-13)
    with pytest.raises(ValueError, match="steps"):
        ns.newton_schulz_cubic(G[0], steps=0)
    with pytest.raises(ValueError, match="matrix"):
        ns.polar_express(np.ones(3))
    with pytest.raises(ValueError, match="l="):
        ns.polar_express_coefficients(l=0.0)
    with pytest.raises(ValueError, match="num_iters"):
        ns.polar_express_coefficients(num_iters=0)
    with pytest.raises(ValueError):
        ns.optimal_odd_quintic(0.5, 0.4)
