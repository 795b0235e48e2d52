r"""Property tests of GD's three rates (L1; docs/lectures.md section 1), each with companions that
fail.

For each theorem hypothesis draws a problem from the class the theorem covers, runs
``optimizers.SGD`` (full gradients: gradient descent) with a step the theorem allows on the
``problems`` class, and asserts the bound at every iterate:

* smooth convex, step :math:`h/L` with :math:`0<h\le1`:
  :math:`f(x_k)-f^*\le\frac{LR^2}{4kh+2}` (Drori & Teboulle 2014, Theorem 3.1), on convex
  quadratics with spectrum in :math:`[0,L]`, on Huber functions from random starts (not
  quadratic) and on logistic regression; and the bound is attained at :math:`k=N` on
  ``HuberWorstCase`` built for :math:`N` steps;
* smooth strongly convex, step :math:`1/L`:
  :math:`\|x_k-x^*\|^2\le(1-\mu/L)^k\|x_0-x^*\|^2`, on quadratics with spectrum in
  :math:`[\mu,L]` and on strongly convex logistic regression;
* smooth non-convex, step :math:`1/L`:
  :math:`\min_{i<k}\|\nabla f(x_i)\|^2\le\frac{2L(f(x_0)-f^*)}{k}`, on ``PLSine`` and
  ``Rastrigin`` (``f*`` their global minimum, a lower bound).

Companions: a step outside the theorems' range (:math:`2.5/L`) or a deliberately broken
update (ascent) makes the same check report violations.

Round-off: every bound gets a relative slack of ``1e-9`` and an absolute one at the level of
the float64 rounding of the quantity measured (stated per check).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import optimizers
import problems as P

SETTINGS = settings(deadline=None, derandomize=True, max_examples=25)
RTOL = 1e-9


# ----------------------------------------------------------------------------- running GD
class AscentGD(optimizers.SGD):
    """A deliberately broken update: x <- x + alpha g (the sign of the step flipped)."""

    def _update(self, p, g, state, hp):
        p.data += hp["lr"] * g


def gd(problem, lr, steps, x0=None, cls=optimizers.SGD):
    """Run ``cls`` (GD) on ``problem`` from ``x0`` (default ``problem.x0``); return the arrays
    f(x_k), ||grad f(x_k)||^2 and ||x_k - x*||^2 (when x* is known), k = 0..steps."""
    x = problem.start() if x0 is None else mg.Tensor(mg.backend.asarray(x0, dtype="float64"),
                                                      requires_grad=True)
    opt = cls([x], lr=lr)
    xs = problem.x_star
    f, g2, d2 = [], [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps + 1):
            opt.zero_grad()
            loss = problem.f(x)
            loss.backward()
            f.append(float(loss.item()))
            g2.append(float((x.grad * x.grad).sum()))
            d2.append(float(((x.data - xs) ** 2).sum()) if xs is not None else math.nan)
            if not math.isfinite(f[-1]):
                break
            if k < steps:
                opt.step()
    return np.array(f), np.array(g2), np.array(d2)


# ----------------------------------------------------------------------------- the checks
def convex_violations(f, f_star, L, R2, h=1.0):
    """Iterates k with f(x_k) - f* > L R^2 / (4kh + 2); absolute slack 1e-13 (1 + |f*|)."""
    k = np.arange(len(f))
    bound = L * R2 / (4 * k * h + 2)
    gap = f - f_star
    bad = ~(gap <= bound * (1 + RTOL) + 1e-13 * (1 + abs(f_star)))
    return np.nonzero(bad)[0]


def strongly_convex_violations(d2, mu, L, atol):
    """Iterates k with ||x_k - x*||^2 > (1 - mu/L)^k ||x_0 - x*||^2 (1 + 1e-9) + atol."""
    k = np.arange(len(d2))
    bound = (1 - mu / L) ** k * d2[0]
    bad = ~(d2 <= bound * (1 + RTOL) + atol)
    return np.nonzero(bad)[0]


def rounding_atol(q, d2_0):
    """The squared rounding level of the iterates: (1e-14 (1 + max|x*| + ||x_0 - x*||))^2."""
    scale = 1 + float(np.abs(mg.to_numpy(q.x_star)).max()) + math.sqrt(d2_0)
    return (1e-14 * scale) ** 2


def nonconvex_violations(f, g2, f_star, L):
    """k >= 1 with min_{i<k} ||grad f(x_i)||^2 > 2L (f(x_0) - f*)/k; absolute slack 1e-12."""
    if len(g2) < 2 or not np.all(np.isfinite(g2)):
        return np.array([len(g2)])  # a diverged run: a violation by definition
    k = np.arange(1, len(g2))
    best = np.minimum.accumulate(g2)[:-1]          # min over i < k
    bound = 2 * L * (f[0] - f_star) / k
    return k[~(best <= bound * (1 + RTOL) + 1e-12)]


# ----------------------------------------------------------------------------- strategies
@st.composite
def quadratics(draw, convex_only=False, starts=("random", "slowest", "fastest")):
    """A quadratic with spectrum in [mu, L]: random dimension, L, condition number (or mu = 0),
    spacing, rotation seed, start direction (one of ``starts``) and distance."""
    dim = draw(st.integers(2, 30))
    L = draw(st.floats(0.1, 10.0))
    if convex_only:
        mu, spacing = 0.0, draw(st.sampled_from(["linear", "random"]))
    else:
        mu = L / 10 ** draw(st.floats(0.2, 3.0))
        spacing = draw(st.sampled_from(["linear", "log", "random"]))
    return P.Quadratic(dim=dim, mu=mu, L=L, spacing=spacing, seed=draw(st.integers(0, 2**16)),
                       x0=draw(st.sampled_from(starts)),
                       radius=draw(st.floats(0.1, 10.0)))


def nearest_minimiser_distance2(q):
    """||x_0 - x*||^2 to the nearest minimiser of a convex quadratic (x* + ker A)."""
    lam = mg.to_numpy(q.eigenvalues)
    c = mg.to_numpy(q.eigenvectors).T @ (mg.to_numpy(q.x0) - mg.to_numpy(q.x_star))
    return float(np.sum(c[lam > 1e-12 * lam[-1]] ** 2))


def logistic(draw_mu):
    return st.builds(lambda m, d, mu, seed: P.LogisticRegression(m=m, dim=d, mu=mu, seed=seed),
                     st.integers(10, 60), st.integers(2, 8), draw_mu, st.integers(0, 2**16))


# ----------------------------------------------------------------------------- smooth convex
@pytest.mark.slow
@SETTINGS
@given(q=quadratics(convex_only=True), h=st.floats(0.05, 1.0))
def test_gd_convex_quadratic_bound_at_every_iterate(q, h):
    f, _, _ = gd(q, h / q.L, 150)
    assert convex_violations(f, q.f_star, q.L, nearest_minimiser_distance2(q), h).size == 0


@pytest.mark.slow
@SETTINGS
@given(L=st.floats(0.1, 10.0), N=st.integers(1, 50), dim=st.integers(1, 6),
       seed=st.integers(0, 2**16), scale=st.floats(0.05, 20.0), h=st.floats(0.05, 1.0))
def test_gd_convex_bound_on_huber_functions_from_random_starts(L, N, dim, seed, scale, h):
    """A Huber function (convex, L-smooth, not quadratic; x* = 0) with kink radius
    1/(2N+1), from a random start (not the worst one): the convex bound with R = ||x_0||."""
    p = P.HuberWorstCase(L=L, R=1.0, n_steps=N, dim=dim)
    x0 = scale * np.random.default_rng(seed).standard_normal(dim)
    f, _, _ = gd(p, h / L, 100, x0=x0)
    assert convex_violations(f, 0.0, L, float(x0 @ x0), h).size == 0


@pytest.mark.slow
@SETTINGS
@given(p=logistic(st.floats(0.001, 0.5)))
def test_gd_convex_bound_on_logistic_regression(p):
    f, _, d2 = gd(p, 1.0 / p.L, 60)
    assert convex_violations(f, p.f_star, p.L, d2[0]).size == 0


@SETTINGS
@given(N=st.integers(1, 200), h=st.floats(0.05, 1.0), L=st.floats(0.1, 10.0),
       R=st.floats(0.1, 10.0), dim=st.integers(1, 4))
def test_gd_convex_bound_is_attained_on_the_huber_worst_case(N, h, L, R, dim):
    """The bound cannot be improved: GD reaches it at k = N on the function built for N."""
    p = P.HuberWorstCase(L=L, R=R, n_steps=N, h=h, dim=dim)
    f, _, _ = gd(p, h / L, N)
    assert convex_violations(f, 0.0, L, R * R, h).size == 0
    assert math.isclose(f[N], p.gd_bound(), rel_tol=1e-9)


@pytest.mark.slow
@SETTINGS
@given(q=quadratics(convex_only=True, starts=("random", "fastest")))
def test_companion_convex_step_2_5_over_L_violates_the_bound(q):
    """Step 2.5/L (outside 0 < h <= 1, and beyond the stability limit 2/L): the component along
    the top eigenvector grows by 1.5 per step."""
    f, _, _ = gd(q, 2.5 / q.L, 150)
    assert convex_violations(f, q.f_star, q.L, nearest_minimiser_distance2(q), 1.0).size > 0


@SETTINGS
@given(q=quadratics(convex_only=True, starts=("random", "fastest")))
def test_companion_convex_broken_update_violates(q):
    """Ascent instead of descent: f grows from the first step."""
    f, _, _ = gd(q, 1.0 / q.L, 5, cls=AscentGD)
    assert convex_violations(f, q.f_star, q.L, nearest_minimiser_distance2(q)).size > 0


def test_companion_convex_the_worst_case_breaks_a_smaller_bound():
    """The check is tight: on the worst case, the bound with 4k+2 replaced by 4k+3 fails."""
    p = P.HuberWorstCase(L=1.0, R=1.0, n_steps=50)
    f, _, _ = gd(p, 1.0, 50)
    k = np.arange(51)
    assert np.any(f > 1.0 / (4 * k + 3))


# ----------------------------------------------------------------------------- strongly convex
@pytest.mark.slow
@SETTINGS
@given(q=quadratics())
def test_gd_strongly_convex_quadratic_distance_contracts(q):
    _, _, d2 = gd(q, 1.0 / q.L, 150)
    assert strongly_convex_violations(d2, q.mu, q.L, rounding_atol(q, d2[0])).size == 0


@pytest.mark.slow
@SETTINGS
@given(p=logistic(st.floats(0.01, 1.0)))
def test_gd_strongly_convex_logistic_distance_contracts(p):
    """Not a quadratic; x* from Newton's method, to ||grad|| <= 1e-12, hence within
    delta = 1e-12/mu of the true minimiser: the slack adds 4 delta ||x_0 - x*|| + 4 delta^2
    (from ||x_k - x*_Newton|| <= q^(k/2) (||x_0 - x*_Newton|| + delta) + delta)."""
    _, _, d2 = gd(p, 1.0 / p.L, 80)
    delta = 1e-12 / p.mu
    atol = rounding_atol(p, d2[0]) + 4 * delta * math.sqrt(d2[0]) + 4 * delta ** 2
    assert strongly_convex_violations(d2, p.mu, p.L, atol).size == 0


@pytest.mark.slow
@SETTINGS
@given(q=quadratics(starts=("random", "fastest")))
def test_companion_strongly_convex_step_2_5_over_L_violates(q):
    _, _, d2 = gd(q, 2.5 / q.L, 150)
    assert strongly_convex_violations(d2, q.mu, q.L, rounding_atol(q, d2[0])).size > 0


@SETTINGS
@given(q=quadratics())
def test_companion_strongly_convex_broken_update_violates(q):
    """Ascent instead of descent: the distance grows from the first step."""
    _, _, d2 = gd(q, 1.0 / q.L, 5, cls=AscentGD)
    assert strongly_convex_violations(d2, q.mu, q.L, rounding_atol(q, d2[0])).size > 0


# ----------------------------------------------------------------------------- non-convex
@st.composite
def nonconvex(draw):
    """PLSine (L = 8) or Rastrigin (L = 2 + 4 pi^2 A) with a random start."""
    dim = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**16))
    if draw(st.booleans()):
        return P.PLSine(dim=dim, seed=seed, spread=draw(st.floats(0.5, 8.0)))
    A = draw(st.floats(0.5, 10.0))
    x0 = np.random.default_rng(seed).uniform(-5.0, 5.0, size=dim)
    return P.Rastrigin(dim=dim, A=A, x0=x0)


@pytest.mark.slow
@SETTINGS
@given(p=nonconvex())
def test_gd_nonconvex_min_gradient_norm_bound(p):
    f, g2, _ = gd(p, 1.0 / p.L, 150)
    assert nonconvex_violations(f, g2, p.f_star, p.L).size == 0


@pytest.mark.slow
@SETTINGS
@given(dim=st.integers(1, 6), seed=st.integers(0, 2**16), spread=st.floats(0.5, 8.0))
def test_companion_nonconvex_step_2_5_over_L_violates(dim, seed, spread):
    """Step 2.5/L on PLSine: its only stationary point is the minimiser 0, where f'' = L = 8,
    so GD with this step cannot settle there (|1 - 2.5| > 1); the gradient stays away from 0
    while the bound 2L(f0 - f*)/k goes to 0. (On Rastrigin a step this large can still creep
    towards one of its many stationary points, so the companion uses PLSine.)"""
    p = P.PLSine(dim=dim, seed=seed, spread=spread)
    f, g2, _ = gd(p, 2.5 / p.L, 400)
    assert nonconvex_violations(f, g2, p.f_star, p.L).size > 0


@pytest.mark.slow
@SETTINGS
@given(dim=st.integers(1, 6), seed=st.integers(0, 2**16), spread=st.floats(0.5, 8.0))
def test_companion_nonconvex_broken_update_violates(dim, seed, spread):
    """Ascent on PLSine (no stationary point but 0): the gradient grows, the bound fails."""
    p = P.PLSine(dim=dim, seed=seed, spread=spread)
    f, g2, _ = gd(p, 1.0 / p.L, 200, cls=AscentGD)
    assert nonconvex_violations(f, g2, p.f_star, p.L).size > 0
