"""Properties every problem must have, checked on a catalogue of small instances at random
points (hypothesis, derandomized): the engine's gradient against the closed form and against
central differences; the stated constants (Hessian spectrum in [mu, L], L-Lipschitz gradient,
the PL inequality); x* stationary with f(x*) = f*; finite sums whose terms average to f and
whose mini-batch gradients are unbiased; reproducibility from the seed."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import problems as P
from problems.landscapes import LANDSCAPES

CATALOGUE = {
    "quadratic_linear": lambda: P.Quadratic(dim=6, mu=0.2, L=3.0, spacing="linear", seed=1),
    "quadratic_log": lambda: P.Quadratic(dim=6, mu=0.01, L=1.0, spacing="log", seed=2),
    "quadratic_random_mu0": lambda: P.Quadratic(dim=5, mu=0.0, L=1.0, spacing="random", seed=3),
    "huber": lambda: P.HuberWorstCase(L=2.0, R=1.5, n_steps=5, dim=3),
    "least_squares": lambda: P.LeastSquares(m=30, dim=5, seed=3),
    "logistic": lambda: P.LogisticRegression(m=40, dim=5, mu=0.5, seed=4),
    "softmax_blobs": lambda: P.SoftmaxRegression.blobs(m=30, dim=3, n_classes=3, mu=0.2, seed=5),
    "softmax_heavy": lambda: P.SoftmaxRegression.heavy_tailed(k=3, mu=0.05, dim=6, seed=6),
    "pl_sine": lambda: P.PLSine(dim=3, seed=7),
    "pl_sine_numerical": lambda: P.PLSine(dim=2, pl_constant="numerical", seed=8),
    "mds_squared": lambda: P.MDS.synthetic(n_points=5, seed=8),
    "mds_raw": lambda: P.MDS.synthetic(n_points=5, form="raw", seed=9),
    "rosenbrock": lambda: P.Rosenbrock(dim=4),
    "beale": P.Beale,
    "himmelblau": P.Himmelblau,
    "rastrigin": lambda: P.Rastrigin(dim=3),
    "ackley": lambda: P.Ackley(dim=3),
    "ill_conditioned_quadratic": P.IllConditionedQuadratic,
    "matrix_regression": lambda: P.MatrixRegression(n_out=3, n_in=4, rank=2, m=20, noise=0.1,
                                                    seed=10),
    "adam_limit_cycle": lambda: P.AdamLimitCycle(0.2),
    "reddi": P.ReddiOnline,
    "mlp": lambda: P.MLPClassification(m=20, hidden=(4,), seed=11),
    "teacher_student": lambda: P.TeacherStudent(d_in=3, hidden=(3,), m=16, seed=12),
    **{f"landscape_{k}": v for k, v in LANDSCAPES.items()},
}
_CACHE = {}


def get(name):
    if name not in _CACHE:
        _CACHE[name] = CATALOGUE[name]()
    return _CACHE[name]


def random_point(p, seed, scale=1.0):
    """x0 (or x* when known) plus a Gaussian perturbation: random, not a special point.

    Drawn on the host and returned as an array of the problem's backend (as its data)."""
    rng = np.random.default_rng(seed)
    base = p.x0 if p.x_star is None else p.x_star
    return mg.backend.asarray(mg.to_numpy(base) + scale * rng.standard_normal(p.shape),
                              backend=p.backend)


NAMES = sorted(CATALOGUE)
WITH_CLOSED_FORM = [n for n in NAMES if get(n).has_closed_form_grad]
CONVEX = [n for n in NAMES if get(n).convex and get(n).L is not None]
WITH_L = [n for n in NAMES if get(n).L is not None]
WITH_MU = [n for n in NAMES if get(n).mu is not None and get(n).mu > 0]
WITH_STAR = [n for n in NAMES if get(n).x_star is not None and n != "reddi"]  # reddi: constrained
FINITE_SUMS = [n for n in NAMES if isinstance(get(n), P.FiniteSumProblem)]
SEEDS = st.integers(0, 2 ** 31 - 1)


def _tol(scale):
    return 1e-9 * max(1.0, scale)


@pytest.mark.parametrize("name", WITH_CLOSED_FORM)
@settings(deadline=None, derandomize=True, max_examples=6)
@given(seed=SEEDS)
def test_engine_gradient_equals_closed_form(name, seed):
    p = get(name)
    x = random_point(p, seed)
    g, g_closed = mg.to_numpy(p.grad(x)), mg.to_numpy(p.grad_closed_form(x))
    assert g.shape == p.shape
    np.testing.assert_allclose(g, g_closed, rtol=1e-9, atol=_tol(np.abs(g_closed).max()))


@pytest.mark.parametrize("name", NAMES)
@settings(deadline=None, derandomize=True, max_examples=4)
@given(seed=SEEDS)
def test_engine_gradient_equals_central_differences(name, seed):
    """The oracle only evaluates f: (f(x + e v) - f(x - e v)) / 2e along a random direction."""
    p = get(name)
    x = random_point(p, seed, scale=0.5)
    v = np.random.default_rng(seed + 1).standard_normal(p.shape)
    eps = 1e-6
    v_dev = mg.backend.asarray(v, backend=p.backend)  # the direction next to the data
    fd = (p.value(x + eps * v_dev) - p.value(x - eps * v_dev)) / (2 * eps)
    an = float(np.sum(mg.to_numpy(p.grad(x)) * v))
    assert an == pytest.approx(fd, rel=1e-5, abs=1e-6 * max(1.0, abs(p.value(x))))


@pytest.mark.parametrize("name", CONVEX)
@settings(deadline=None, derandomize=True, max_examples=5)
@given(seed=SEEDS)
def test_hessian_spectrum_lies_in_mu_L(name, seed):
    p = get(name)
    H = mg.to_numpy(p.hessian(random_point(p, seed, scale=2.0)))
    np.testing.assert_allclose(H, H.T, atol=1e-12 * max(1.0, np.abs(H).max()))
    lam = np.linalg.eigvalsh(H)
    tol = 1e-9 * max(1.0, p.L)
    assert lam[0] >= p.mu - tol, (lam[0], p.mu)
    assert lam[-1] <= p.L + tol, (lam[-1], p.L)


@pytest.mark.parametrize("name", [n for n in NAMES if hasattr(get(n), "hessian_closed_form")])
@settings(deadline=None, derandomize=True, max_examples=4)
@given(seed=SEEDS)
def test_engine_hessian_equals_closed_form(name, seed):
    p = get(name)
    x = random_point(p, seed)
    np.testing.assert_allclose(mg.to_numpy(p.hessian(x)), mg.to_numpy(p.hessian_closed_form(x)),
                               rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", WITH_L)
@settings(deadline=None, derandomize=True, max_examples=6)
@given(seed=SEEDS)
def test_gradient_is_L_lipschitz(name, seed):
    p = get(name)
    x, y = random_point(p, seed, 2.0), random_point(p, seed + 7, 2.0)
    lhs = np.linalg.norm(mg.to_numpy(p.grad(x)) - mg.to_numpy(p.grad(y)))
    assert lhs <= p.L * np.linalg.norm(mg.to_numpy(x - y)) * (1 + 1e-9) + 1e-12


@pytest.mark.parametrize("name", WITH_MU)
@settings(deadline=None, derandomize=True, max_examples=8)
@given(seed=SEEDS, scale=st.sampled_from([0.1, 1.0, 4.0]))
def test_pl_inequality_with_the_stated_mu(name, seed, scale):
    """1/2 ||grad f(x)||^2 >= mu (f(x) - f*): the PL constant, implied by strong convexity."""
    p = get(name)
    x = random_point(p, seed, scale)
    g = mg.to_numpy(p.grad(x))
    gap = p.value(x) - p.f_star
    assert gap >= -1e-12
    assert 0.5 * float(np.sum(g * g)) >= p.mu * gap * (1 - 1e-9) - 1e-12


@pytest.mark.parametrize("name", WITH_STAR)
def test_x_star_is_stationary_and_attains_f_star(name):
    p = get(name)
    g = mg.to_numpy(p.grad(p.x_star))
    assert np.linalg.norm(g) < 1e-10
    assert p.value(p.x_star) == pytest.approx(p.f_star, abs=1e-12 * max(1.0, abs(p.f_star)))
    assert mg.to_numpy(p.x_star).shape == p.shape


@pytest.mark.parametrize("name", WITH_STAR)
@settings(deadline=None, derandomize=True, max_examples=5)
@given(seed=SEEDS)
def test_f_star_is_below_random_points(name, seed):
    p = get(name)
    assert p.value(random_point(p, seed, 1.0)) >= p.f_star - 1e-12


@pytest.mark.parametrize("name", FINITE_SUMS)
@settings(deadline=None, derandomize=True, max_examples=3)
@given(seed=SEEDS)
def test_terms_average_to_f_and_per_sample_grads_to_the_gradient(name, seed):
    p = get(name)
    x = random_point(p, seed, 0.5)
    terms = mg.to_numpy(p.terms(x).data)
    assert terms.shape == (p.n,)
    assert terms.mean() == pytest.approx(p.value(x), rel=1e-12, abs=1e-12)
    f_i = [p.f_i(x, i).item() for i in range(min(p.n, 5))]
    np.testing.assert_allclose(f_i, terms[:len(f_i)], rtol=1e-12, atol=1e-13)
    G = mg.to_numpy(p.per_sample_grads(x))
    assert G.shape == (p.n,) + p.shape
    np.testing.assert_allclose(G.mean(axis=0), mg.to_numpy(p.grad(x)), rtol=1e-10, atol=1e-11)
    if hasattr(p, "per_sample_grads_closed_form"):
        np.testing.assert_allclose(G, mg.to_numpy(p.per_sample_grads_closed_form(x)), rtol=1e-9,
                                   atol=1e-11)


SMALL_SUMS = {
    "least_squares": lambda: P.LeastSquares(m=6, dim=3, seed=0),
    "logistic": lambda: P.LogisticRegression(m=7, dim=3, mu=0.3, seed=1),
    "softmax": lambda: P.SoftmaxRegression.heavy_tailed(k=2, dim=3, seed=2),
    "mds": lambda: P.MDS.synthetic(n_points=4, seed=3),
    "matrix": lambda: P.MatrixRegression(n_out=2, n_in=3, rank=1, m=6, seed=4),
}


@pytest.mark.parametrize("name", sorted(SMALL_SUMS))
@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_minibatch_gradients_are_unbiased(name, batch_size):
    """docs/lectures.md section 1, item 6: the mean over all C(n, b) batches is the full
    gradient."""
    p = SMALL_SUMS[name]()
    x = random_point(p, 0, 0.7)
    batches = list(itertools.combinations(range(p.n), batch_size))
    assert len(batches) == math.comb(p.n, batch_size)
    mean = sum(mg.to_numpy(p.grad_batch(x, list(b))) for b in batches) / len(batches)
    np.testing.assert_allclose(mean, mg.to_numpy(p.grad(x)), rtol=1e-10, atol=1e-12)
    assert np.mean([p.f_batch(x, list(b)).item() for b in batches]) == pytest.approx(p.value(x))


@pytest.mark.parametrize("name", FINITE_SUMS)
def test_sigma2_is_the_mean_squared_per_sample_gradient(name):
    p = get(name)
    x = random_point(p, 3, 0.5)
    norms = [np.sum(mg.to_numpy(p.grad_i(x, i)) ** 2) for i in range(p.n)]
    assert p.sigma2(x) == pytest.approx(np.mean(norms), rel=1e-10)
    g2 = float(np.sum(mg.to_numpy(p.grad(x)) ** 2))
    assert p.grad_variance(x) == pytest.approx(np.mean(norms) - g2, rel=1e-8, abs=1e-12)


def test_sigma2_estimate_by_sampling_is_close_to_the_exact_value():
    p = P.LogisticRegression(seed=0)
    exact = p.sigma2(p.x_star)
    est = p.sigma2(p.x_star, n_samples=20_000, rng=0)
    # per-sample squared norms have a coefficient of variation below 1, so 20,000 samples give
    # a relative standard error below 1%; 5% is a wide margin
    assert est == pytest.approx(exact, rel=0.05)
    assert p.sigma2(p.x_star, n_samples=50, rng=1) == p.sigma2(p.x_star, n_samples=50, rng=1)


SEEDED = {
    "quadratic": lambda s: P.Quadratic(dim=4, seed=s),
    "least_squares": lambda s: P.LeastSquares(m=10, dim=3, seed=s),
    "logistic": lambda s: P.LogisticRegression(m=10, dim=3, seed=s),
    "softmax": lambda s: P.SoftmaxRegression.heavy_tailed(k=2, seed=s),
    "pl": lambda s: P.PLSine(dim=2, seed=s),
    "mds": lambda s: P.MDS.synthetic(n_points=4, seed=s),
    "mlp": lambda s: P.MLPClassification(m=10, hidden=(3,), seed=s),
    "teacher": lambda s: P.TeacherStudent(m=10, seed=s),
    "matrix": lambda s: P.MatrixRegression(m=10, seed=s),
}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_the_same_seed_gives_the_same_problem(name):
    a, b, c = SEEDED[name](5), SEEDED[name](5), SEEDED[name](6)
    x = random_point(a, 0, 0.3)
    assert np.array_equal(mg.to_numpy(a.x0), mg.to_numpy(b.x0))
    assert a.value(x) == b.value(x)
    np.testing.assert_array_equal(mg.to_numpy(a.grad(x)), mg.to_numpy(b.grad(x)))
    assert a.value(x) != c.value(x) or not np.array_equal(mg.to_numpy(a.x0), mg.to_numpy(c.x0))


@pytest.mark.parametrize("name", ["quadratic_linear", "logistic", "mlp", "matrix_regression",
                                  "mds_raw"])
def test_to_numpy_is_an_independent_copy_and_casts(name):
    p = get(name)
    q = p.to("numpy")
    x = random_point(p, 1, 0.3)
    assert q.value(x) == p.value(x)
    q.x0[...] = 123.0
    assert not np.any(mg.to_numpy(p.x0) == 123.0)
    r = p.to("numpy", dtype="float32")
    assert r.dtype == np.float32 and r.start().dtype == np.float32
    assert r.value(x) == pytest.approx(p.value(x), rel=1e-4, abs=1e-4)
