"""MDS: both forms, embeddable synthetic data, the capitals table and the haversine formula."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import problems as P


def lecture_loss(W, D):
    """The lecture's double sum, written out with loops."""
    N = len(W)
    return sum((np.sum((W[i] - W[j]) ** 2) - D[i, j]) ** 2 for i in range(N) for j in range(N))


def raw_loss(W, d):
    N = len(W)
    return sum((np.linalg.norm(W[i] - W[j]) - d[i, j]) ** 2 for i in range(N) for j in range(N))


@settings(deadline=None, derandomize=True, max_examples=10)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 7), dim=st.integers(1, 3))
def test_the_objective_is_the_lectures_double_sum(seed, n, dim):
    rng = np.random.default_rng(seed)
    sq = P.MDS.synthetic(n_points=n, dim=dim, seed=seed)
    raw = P.MDS.synthetic(n_points=n, dim=dim, form="raw", seed=seed)
    W = rng.standard_normal((n, dim))
    assert sq.value(W) == pytest.approx(lecture_loss(W, mg.to_numpy(sq.D)), rel=1e-12)
    assert raw.value(W) == pytest.approx(raw_loss(W, mg.to_numpy(raw.D)), rel=1e-12)
    assert sq.n == n * (n - 1) // 2


def test_embeddable_data_have_f_star_zero_invariant_under_rigid_motions():
    p = P.MDS.synthetic(n_points=8, dim=2, seed=4)
    assert p.f_star == 0.0 and p.value(p.x_star) < 1e-24
    t = 0.7
    R = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    moved = mg.to_numpy(p.x_star) @ R.T + np.array([3.0, -1.0])
    assert p.value(moved) < 1e-20
    assert np.linalg.norm(mg.to_numpy(p.grad(moved))) < 1e-9
    # classical MDS recovers an exact embedding
    assert p.value(p.classical_embedding()) < 1e-18
    assert p.value(p.x0) > 1.0


def test_haversine_against_published_distances():
    """Great-circle distances between city centres as commonly published (km)."""
    names, lat, lon = P.load_capitals()
    pos = {n: (a, b) for n, a, b in zip(names, lat, lon)}

    def d(a, b):
        return P.haversine_km(*pos[a], *pos[b])

    assert d("London", "Paris") == pytest.approx(344, abs=3)
    assert d("Paris", "Berlin") == pytest.approx(878, abs=5)
    assert d("Madrid", "Lisbon") == pytest.approx(503, abs=5)
    assert d("Rome", "Athens") == pytest.approx(1052, abs=8)
    assert d("Oslo", "Stockholm") == pytest.approx(417, abs=5)
    # one degree of latitude along a meridian is 6371 * pi / 180 km
    assert P.haversine_km(10.0, 5.0, 11.0, 5.0) == pytest.approx(6371 * math.pi / 180, rel=1e-12)


def test_capitals_table():
    names, lat, lon = P.load_capitals()
    assert len(names) == 20 and len(set(names)) == 20
    assert all(35 < a < 61 for a in lat) and all(-10 < b < 27 for b in lon)
    names2, D = P.capital_distances()
    assert names2 == names and np.allclose(D, D.T) and np.all(np.diag(D) == 0)
    p = P.MDS.capitals()
    assert p.shape == (20, 2) and p.form == "raw" and p.f_star is None
    np.testing.assert_allclose(mg.to_numpy(p.D), D / 1000.0)
    sq = P.MDS.capitals(form="squared", unit_km=100.0)
    np.testing.assert_allclose(mg.to_numpy(sq.D), (D / 100.0) ** 2)
    # Europe is nearly flat at this scale: the classical embedding leaves a small stress
    E = mg.to_numpy(p.classical_embedding())
    assert p.value(E) < 1e-2 * p.value(p.x0)


def test_mds_bad_arguments():
    with pytest.raises(ValueError, match="square matrix"):
        P.MDS(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        P.MDS(np.array([[0.0, 1.0], [2.0, 0.0]]))
    with pytest.raises(ValueError, match=r"form must be one of .*got form='cubed'"):
        P.MDS(np.zeros((2, 2)), form="cubed")
    with pytest.raises(ValueError, match=r"x0 has shape \(2, 3\) but the problem's variable "
                                         r"has shape \(2, 2\)"):
        P.MDS(np.zeros((2, 2)), x0=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"batch indices must lie in \[0, 1\)"):
        P.MDS(np.zeros((2, 2))).f_batch(np.zeros((2, 2)), [1])
