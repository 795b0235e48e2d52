"""LeastSquares, LogisticRegression, SoftmaxRegression: constants against NumPy, the lecture's
defaults, Kunstner et al.'s heavy-tailed data, errors."""
import math

import numpy as np
import pytest

import minigrad as mg
import problems as P


def test_least_squares_constants_against_numpy():
    p = P.LeastSquares(m=50, dim=6, noise=0.3, seed=2)
    A, b = mg.to_numpy(p.A), mg.to_numpy(p.b)
    lam = np.linalg.eigvalsh(A.T @ A / 50)
    assert p.mu == pytest.approx(lam[0]) and p.L == pytest.approx(lam[-1])
    x_star = np.linalg.solve(A.T @ A, A.T @ b)  # normal equations, not lstsq
    np.testing.assert_allclose(mg.to_numpy(p.x_star), x_star, rtol=1e-10)
    assert p.f_star == pytest.approx(np.sum((A @ x_star - b) ** 2) / 100, rel=1e-10)
    assert p.f_star > 0 and p.n == 50


def test_least_squares_with_given_data_and_underdetermined():
    A = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    b = np.array([1.0, 2.0, 3.0])
    p = P.LeastSquares(A=A, b=b)
    assert p.value([0.0, 0.0]) == pytest.approx((1 + 4 + 9) / 6)
    wide = P.LeastSquares(m=3, dim=5, seed=0)
    assert wide.mu == 0.0 and wide.mu_kind is None
    assert np.linalg.norm(mg.to_numpy(wide.grad(wide.x_star))) < 1e-10
    with pytest.raises(ValueError, match="b is required"):
        P.LeastSquares(A=A)
    with pytest.raises(ValueError, match=r"b has shape \(2,\) but A has 3 rows"):
        P.LeastSquares(A=A, b=[1.0, 2.0])


def test_logistic_regression_lecture_defaults_and_L():
    p = P.LogisticRegression()
    assert (p.n, p.dim, p.mu) == (200, 10, 1.0)  # L1/L2: m = 200, n = 10, mu = 1
    A = mg.to_numpy(p.A)
    assert p.L == pytest.approx(1.0 + np.linalg.norm(A, 2) ** 2 / (4 * 200), rel=1e-12)
    # the bound is attained at x = 0, where every margin is 0 and sigma(0)(1 - sigma(0)) = 1/4
    H0 = mg.to_numpy(p.hessian(np.zeros(10)))
    assert np.linalg.eigvalsh(H0)[-1] == pytest.approx(p.L, rel=1e-12)
    assert set(np.unique(mg.to_numpy(p.y))) == {-1.0, 1.0}


def test_logistic_x_star_by_newton_satisfies_the_closed_form_optimality_condition():
    p = P.LogisticRegression(m=60, dim=4, mu=0.01, seed=5)
    A, y = mg.to_numpy(p.A), mg.to_numpy(p.y)
    x = mg.to_numpy(p.x_star)
    s = 1 / (1 + np.exp(y * (A @ x)))  # sigma(-y a^T x), written independently
    g = 0.01 * x - A.T @ (y * s) / 60
    assert np.linalg.norm(g) < 1e-12
    f = 0.005 * x @ x + np.mean(np.log1p(np.exp(-y * (A @ x))))
    assert p.f_star == pytest.approx(f, rel=1e-13)


def test_logistic_mu_zero_has_no_x_star_and_bad_labels_fail():
    p = P.LogisticRegression(m=20, dim=3, mu=0.0)
    assert p.x_star is None and p.mu_kind is None
    with pytest.raises(ValueError, match="labels y must be -1 or"):
        P.LogisticRegression(A=np.ones((3, 2)), y=[0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"mu must be >= 0; got mu=-1\.0"):
        P.LogisticRegression(mu=-1.0)
    with pytest.raises(ValueError, match=r"m must be an integer >= 1; got m=0"):
        P.LogisticRegression(m=0)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_heavy_tailed_class_structure(k):
    """Kunstner et al.: for i < k, 2^i classes with 2^(k-i) samples each."""
    p = P.SoftmaxRegression.heavy_tailed(k=k, seed=0)
    labels, groups = mg.to_numpy(p.labels), mg.to_numpy(p.groups)
    assert p.n == k * 2 ** k and p.n_classes == 2 ** k - 1 and p.n_groups == k
    assert p.shape == (2 ** k - 1, (k + 1) * 2 ** k)
    counts = np.bincount(labels)
    for i in range(k):
        classes = np.unique(labels[groups == i])
        assert len(classes) == 2 ** i
        assert np.all(counts[classes] == 2 ** (k - i))
        assert np.sum(groups == i) == 2 ** k  # every frequency group holds the same mass
    X = mg.to_numpy(p.X)
    assert X.min() >= 0 and X.max() < 1  # uniform inputs
    g = P.SoftmaxRegression.heavy_tailed(k=k, inputs="gaussian", dim=7, seed=0)
    assert g.shape == (2 ** k - 1, 7) and mg.to_numpy(g.X).min() < 0


def test_group_losses():
    p = P.SoftmaxRegression.heavy_tailed(k=4, seed=1)
    c = p.n_classes
    # at W = 0 every class has probability 1/c: each group's loss is log c
    np.testing.assert_allclose(mg.to_numpy(p.group_losses(np.zeros(p.shape))), math.log(c),
                               rtol=1e-13)
    W = np.random.default_rng(0).standard_normal(p.shape) * 0.1
    gl = mg.to_numpy(p.group_losses(W))
    # groups have equal sizes, so the mean of the group losses is the loss (mu = 0)
    assert gl.mean() == pytest.approx(p.value(W), rel=1e-12)
    terms = mg.to_numpy(p.terms(W).data)
    groups = mg.to_numpy(p.groups)
    np.testing.assert_allclose(gl, [terms[groups == i].mean() for i in range(4)], rtol=1e-12)


def test_softmax_L_is_an_upper_bound_and_mu_is_exact():
    p = P.SoftmaxRegression.blobs(m=40, dim=3, n_classes=4, mu=0.3, seed=2)
    X = mg.to_numpy(p.X)
    assert p.L == pytest.approx(0.3 + np.linalg.eigvalsh(X.T @ X)[-1] / 80)
    # the Hessian has eigenvalue mu exactly along W = 1 v^T (softmax is shift invariant)
    W = np.random.default_rng(1).standard_normal(p.shape)
    H = mg.to_numpy(p.hessian(W))
    v = np.outer(np.ones(4), [0.2, -0.5, 1.0]).reshape(-1)
    np.testing.assert_allclose(H @ v, 0.3 * v, atol=1e-12)
    assert np.linalg.eigvalsh(H)[0] == pytest.approx(0.3, abs=1e-12)


def test_softmax_x_star_with_conjugate_gradients_on_a_larger_problem():
    p = P.SoftmaxRegression.heavy_tailed(k=4, mu=0.05, dim=24, seed=3)  # 15 x 24 = 360 > 300
    assert p.dim > 300
    assert np.linalg.norm(mg.to_numpy(p.grad_closed_form(p.x_star))) < 1e-10
    assert p.accuracy(p.x_star) >= p.accuracy(np.zeros(p.shape))


def test_softmax_bad_arguments():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="labels must lie in"):
        P.SoftmaxRegression(X, np.array([0, 1, 5]), n_classes=3)
    with pytest.raises(ValueError, match="must be integers"):
        P.SoftmaxRegression(X, np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"y has shape \(2,\) but X has 3 rows"):
        P.SoftmaxRegression(X, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"k must be an integer >= 2; got k=1"):
        P.SoftmaxRegression.heavy_tailed(k=1)
    with pytest.raises(ValueError, match=r"inputs must be one of"):
        P.SoftmaxRegression.heavy_tailed(inputs="zipf")
