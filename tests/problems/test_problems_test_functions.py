"""Test functions at their published minima, and the named landscapes' global minima checked by
a grid search plus local refinement."""
import math

import numpy as np
import pytest

import minigrad as mg
import problems as P
from problems.landscapes import LANDSCAPES

HIMMELBLAU_PUBLISHED = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                        (3.584428, -1.848126)]


def test_beale_published_minimum():
    p = P.Beale()
    assert p.value([3.0, 0.5]) == 0.0
    assert np.linalg.norm(mg.to_numpy(p.grad([3.0, 0.5]))) == 0.0
    assert p.value([3.0, 0.6]) > 0 and p.value(p.x0) > 0
    # hand-computed: f(0, 0) = 1.5^2 + 2.25^2 + 2.625^2
    assert p.value([0.0, 0.0]) == pytest.approx(1.5 ** 2 + 2.25 ** 2 + 2.625 ** 2)


@pytest.mark.parametrize("k", range(4))
def test_himmelblau_four_published_minima(k):
    p = P.Himmelblau()
    pub = np.array(HIMMELBLAU_PUBLISHED[k])
    assert p.value(pub) < 1e-9  # the 6-decimal published point is already nearly optimal
    m = mg.to_numpy(p.minima[k])
    np.testing.assert_allclose(m, pub, atol=1e-6)
    assert p.value(m) < 1e-24 and np.linalg.norm(mg.to_numpy(p.grad(m))) < 1e-12
    assert np.all(np.linalg.eigvalsh(mg.to_numpy(p.hessian(m))) > 0)  # minima, not saddles


@pytest.mark.parametrize("dim", [2, 3, 7])
def test_rosenbrock(dim):
    p = P.Rosenbrock(dim=dim)
    assert p.value(np.ones(dim)) == 0.0 and np.all(mg.to_numpy(p.grad(np.ones(dim))) == 0)
    assert mg.to_numpy(p.x0)[:2].tolist() == [-1.2, 1.0]
    # f(0) = d - 1 (each (1 - x_i)^2 term is 1)
    assert p.value(np.zeros(dim)) == pytest.approx(dim - 1)
    if dim == 2:
        assert p.value(p.x0) == pytest.approx(24.2)  # the classic f(-1.2, 1)
        # the largest eigenvalue of the Hessian [[802, -400], [-400, 200]] at (1, 1)
        assert p.L_star == pytest.approx(501 + math.hypot(301, 400), rel=1e-12)
    q = P.Rosenbrock(dim=2, a=2.0, b=10.0)
    np.testing.assert_array_equal(mg.to_numpy(q.x_star), [2.0, 4.0])
    assert q.value([2.0, 4.0]) == 0.0
    with pytest.raises(ValueError, match=r"a = 1; got a=2\.0"):
        P.Rosenbrock(dim=3, a=2.0)


def test_rastrigin_and_ackley():
    r = P.Rastrigin(dim=3)
    assert r.value(np.zeros(3)) == 0.0
    assert r.value(np.ones(3)) == pytest.approx(3.0)  # 10*3 + 3*(1 - 10)
    assert r.L == pytest.approx(2 + 40 * math.pi ** 2)
    a = P.Ackley(dim=2)
    assert abs(a.value([0.0, 0.0])) < 1e-14
    # hand-computed f(1, 1): cos(2 pi) = 1, so f = -20 e^{-0.2} - e + 20 + e
    assert a.value([1.0, 1.0]) == pytest.approx(20 - 20 * math.exp(-0.2))
    # the norm's convention
    np.testing.assert_array_equal(mg.to_numpy(a.grad([0.0, 0.0])), [0.0, 0.0])


def test_ill_conditioned_quadratic():
    p = P.IllConditionedQuadratic()
    x, y = 0.7, -1.3
    assert p.value([x, y]) == pytest.approx(x * x + 3 * y * y + 2 * x * y)
    assert p.mu == pytest.approx(4 - 2 * math.sqrt(2))
    assert p.L == pytest.approx(4 + 2 * math.sqrt(2))
    pts = np.random.default_rng(0).standard_normal((5, 2))
    np.testing.assert_allclose(mg.to_numpy(p.values(pts)), [p.value(q) for q in pts],
                               rtol=1e-14)


# --------------------------------------------------------------------------- landscapes
def _local_refine(p, x, iters=100):
    """Damped Newton with the engine's Hessian, falling back to gradient steps (the test's own
    refinement, independent of problems.newton)."""
    x = np.asarray(x, dtype=float)
    for _ in range(iters):
        g = mg.to_numpy(p.grad(x))
        if np.linalg.norm(g) < 1e-11:
            break
        H = mg.to_numpy(p.hessian(x))
        lam = np.linalg.eigvalsh(H)
        d = np.linalg.solve(H, g) if lam[0] > 1e-8 else g / max(1.0, lam[-1])
        t, fx = 1.0, p.value(x)
        while p.value(x - t * d) > fx - 1e-4 * t * (g @ d) and t > 1e-12:
            t *= 0.5
        x = x - t * d
    return x


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LANDSCAPES))
def test_landscape_global_minimum_by_grid_search_and_refinement(name):
    p = P.landscape(name)
    X, Y, Z = (mg.to_numpy(a) for a in p.grid(161))
    assert Z.min() >= p.f_star - 1e-12
    # grid points lower than their 8 neighbours: candidates for local minima
    pad = np.pad(Z, 1, constant_values=np.inf)
    nb = np.stack([pad[1 + di:pad.shape[0] - 1 + di, 1 + dj:pad.shape[1] - 1 + dj]
                   for di in (-1, 0, 1) for dj in (-1, 0, 1) if (di, dj) != (0, 0)])
    cand = np.argwhere(Z <= nb.min(axis=0))
    assert 1 <= len(cand) <= 40
    refined = [_local_refine(p, [X[i, j], Y[i, j]]) for i, j in cand]
    values = [p.value(r) for r in refined]
    best = int(np.argmin(values))
    assert min(values) >= p.f_star - 1e-10
    np.testing.assert_allclose(refined[best], mg.to_numpy(p.x_star), atol=1e-5)
    assert np.linalg.norm(mg.to_numpy(p.grad(p.x_star))) < 1e-10
    assert p.value(p.x_star) == p.f_star
    # outside the window the bowl dominates: f is larger on circles of radius 10 and 100
    t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    for rad in (10.0, 100.0):
        ring = np.stack([rad * np.cos(t), rad * np.sin(t)], axis=1)
        assert mg.to_numpy(p.values(ring)).min() > p.f_star + 1.0


def test_landscape_details():
    r = P.Rectangles()
    assert r.value([0.0, 0.0]) == pytest.approx(0.0, abs=1e-15)
    # plateaus: tiny gradient mid-step, large at a step
    assert (np.linalg.norm(mg.to_numpy(r.grad([1.5, 0.0]))) < 0.2
            < np.linalg.norm(mg.to_numpy(r.grad([1.0, 0.0]))))
    bw = P.BasinsAndWalls()
    assert len(bw.local_minima) == 4
    vals = [bw.value(m) for m in bw.local_minima]
    assert np.argmin(vals) == 3 and bw.f_star == pytest.approx(min(vals))
    assert bw.value([0.0, -1.0]) > max(vals) + 1.0  # a wall between the basins
    rav = P.Ravine()
    H = mg.to_numpy(rav.hessian([0.0, 0.0]))
    np.testing.assert_allclose(H, [[5.2, -10.0], [-10.0, 20.0]], atol=1e-12)
    lam = np.linalg.eigvalsh(H)
    assert lam[-1] / lam[0] == pytest.approx(156, rel=0.01)
    assert P.landscape("basins and walls").name == "basins_and_walls"
    with pytest.raises(ValueError, match="unknown name='volcano'"):
        P.landscape("volcano")
