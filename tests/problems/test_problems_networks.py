"""Data sets, the MLP classifier, teacher-student and the matrix regression: the functional and
module interfaces agree, data come from the seed, the constants of the convex one hold."""
import numpy as np
import pytest

import minigrad as mg
import problems as P
from problems import datasets


@pytest.mark.parametrize("name", sorted(datasets.DATASETS))
def test_datasets_shapes_labels_and_seeds(name):
    fn = datasets.DATASETS[name]
    X, y = fn(m=101, seed=3)
    assert X.shape[0] == 101 and y.shape == (101,) and X.dtype == np.float64
    assert y.dtype.kind == "i" and y.min() == 0
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1  # balanced classes
    X2, y2 = fn(m=101, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, fn(m=101, seed=4)[0])


def test_two_moons_geometry():
    X, y = datasets.two_moons(m=200, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)  # on the unit circle
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    Xs, ys = datasets.spirals(m=90, n_classes=3, noise=0.0)
    assert set(ys) == {0, 1, 2} and np.abs(np.hypot(*Xs.T)).max() <= 1.0 + 1e-12
    Xb, yb = datasets.gaussian_blobs(m=60, n_classes=4, dim=5)
    assert Xb.shape == (60, 5) and set(yb) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match=r"noise must be >= 0; got noise=-1\.0"):
        datasets.two_moons(noise=-1.0)


@pytest.mark.parametrize("dataset, kwargs", [("moons", {}), ("spirals", {"n_classes": 3}),
                                             ("blobs", {"n_classes": 4, "dim": 3})])
def test_mlp_functional_and_module_losses_agree(dataset, kwargs):
    p = P.MLPClassification(dataset=dataset, m=30, hidden=(5, 4), seed=1, **kwargs)
    assert p.dim == sum(q.data.size for q in p.parameters())
    x = mg.to_numpy(p.x0) + 0.1 * np.random.default_rng(0).standard_normal(p.dim)
    p.load(x)
    np.testing.assert_array_equal(mg.to_numpy(p.from_model()), x)
    idx = [0, 3, 7, 7]
    assert p.model_loss(idx).item() == pytest.approx(p.f_batch(x, idx).item(), rel=1e-13)
    assert p.model_loss().item() == pytest.approx(p.value(x), rel=1e-13)
    # the module's cross-entropy agrees with minigrad.nn.cross_entropy
    logits = p.model(p.X)
    assert p.value(x) == pytest.approx(mg.nn.cross_entropy(logits, p.labels).item(), rel=1e-13)
    # a backward pass through the module gives the functional gradient
    p.model.zero_grad()
    p.model_loss().backward()
    g = np.concatenate([mg.to_numpy(q.grad).reshape(-1) for q in p.parameters()])
    np.testing.assert_allclose(g, mg.to_numpy(p.grad(x)), rtol=1e-10, atol=1e-13)
    assert 0.0 <= p.accuracy() <= 1.0 and p.accuracy(x) == p.accuracy()


def test_mlp_gradient_descent_decreases_the_loss_and_fits_the_moons():
    p = P.MLPClassification(dataset="moons", m=100, hidden=(16,), noise=0.05, seed=0)
    x = mg.to_numpy(p.x0).copy()
    f0 = p.value(x)
    for _ in range(300):
        x = x - 0.5 * mg.to_numpy(p.grad(x))
    assert p.value(x) < 0.5 * f0
    assert p.accuracy(x) > 0.85


def test_mlp_with_dropout_differs_only_in_the_module_path():
    p = P.MLPClassification(m=40, hidden=(8,), dropout=0.5, seed=2)
    f = p.value(p.x0)
    assert p.model_loss().item() != pytest.approx(f)  # dropout active in training mode
    p.model.eval()
    assert p.model_loss().item() == pytest.approx(f, rel=1e-13)


def test_teacher_student_x_star():
    p = P.TeacherStudent(d_in=4, hidden=(6,), m=50, seed=3)
    assert p.f_star == 0.0 and p.value(p.x_star) < 1e-28
    assert np.linalg.norm(mg.to_numpy(p.grad(p.x_star))) < 1e-12
    assert p.value(p.x0) > 1e-3
    q = P.TeacherStudent(d_in=4, hidden=(8,), teacher_hidden=(6,), m=50, seed=3)
    assert q.x_star is None and q.f_star is None
    noisy = P.TeacherStudent(d_in=4, hidden=(6,), m=50, noise=0.1, seed=3)
    assert noisy.x_star is None


def test_matrix_regression_constants():
    p = P.MatrixRegression(n_out=4, n_in=6, rank=2, m=40, noise=0.05, cond=100.0, seed=1)
    A, Y = mg.to_numpy(p.X), mg.to_numpy(p.Yt)
    assert np.linalg.matrix_rank(mg.to_numpy(p.W_true)) == 2
    lam = np.linalg.eigvalsh(A.T @ A / 40)
    assert (p.mu, p.L) == (pytest.approx(lam[0]), pytest.approx(lam[-1]))
    assert p.L / p.mu > 20  # the scales make the input covariance ill-conditioned
    W_star = np.linalg.solve(A.T @ A, A.T @ Y).T
    np.testing.assert_allclose(mg.to_numpy(p.x_star), W_star, rtol=1e-9, atol=1e-12)
    W = np.random.default_rng(0).standard_normal(p.shape)
    assert p.value(W) == pytest.approx(np.sum((A @ W.T - Y) ** 2) / 80, rel=1e-12)
    p.load(W)
    assert p.model.W.shape == (4, 6)
    assert p.model_loss().item() == pytest.approx(p.value(W), rel=1e-13)
    exact = P.MatrixRegression(n_out=3, n_in=5, rank=None, m=30, seed=2)
    assert exact.f_star < 1e-25
    np.testing.assert_allclose(mg.to_numpy(exact.x_star), mg.to_numpy(exact.W_true), atol=1e-10)
    with pytest.raises(ValueError, match=r"rank must be <= min\(n_out, n_in\) = 3; got rank=4"):
        P.MatrixRegression(n_out=3, n_in=5, rank=4)
    with pytest.raises(ValueError, match=r"cond must be >= 1; got cond=0\.5"):
        P.MatrixRegression(cond=0.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_teacher_student_default_never_starts_at_the_teacher(seed):
    # the old default teacher_seed=1 made seed=1 start exactly at the teacher (f(x_0) = 0)
    p = P.TeacherStudent(d_in=4, hidden=(6,), m=50, seed=seed)
    assert p.value(p.x0) > 1e-3
    with pytest.raises(ValueError, match="teacher_seed"):
        P.TeacherStudent(d_in=4, hidden=(6,), m=50, seed=seed, teacher_seed=seed)
