"""The base classes: mini-batch sampling, index checks, array helpers, backends, exports and
documentation."""
import ast
import inspect
import pathlib

import numpy as np
import pytest

import minigrad as mg
import problems as P
from minigrad import backend as B

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_sample_batch_is_seeded_uniform_and_checked():
    p = P.LeastSquares(m=10, dim=2)
    a = p.sample_batch(4, B.host_rng(0))
    assert np.array_equal(a, p.sample_batch(4, 0)) and len(set(a.tolist())) == 4
    assert a.min() >= 0 and a.max() < 10
    rng = B.host_rng(1)
    counts = np.bincount(np.concatenate([p.sample_batch(3, rng) for _ in range(20_000)]),
                         minlength=10)
    # 60,000 draws, 6,000 expected per index, sd about 70: 5 sd is 350
    assert np.all(np.abs(counts - 6000) < 350)
    with_repl = p.sample_batch(25, 0, replace=True)
    assert len(with_repl) == 25
    with pytest.raises(ValueError, match=r"batch_size must be <= n = 10 without replacement; "
                                         r"got batch_size=11"):
        p.sample_batch(11, 0)
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1; got batch_size=0"):
        p.sample_batch(0, 0)
    with pytest.raises(TypeError, match="seeded generator"):
        p.sample_batch(2, "seed")


def test_epoch_batches_partition_the_indices():
    p = P.LeastSquares(m=10, dim=2)
    batches = p.epoch_batches(3, rng=5)
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))
    assert [len(b) for b in p.epoch_batches(3, rng=5, drop_last=True)] == [3, 3, 3]
    # the mean of the batch gradients weighted by size is the full gradient
    x = np.ones(2)
    g = sum(len(b) * B.to_numpy(p.grad_batch(x, b)) for b in batches) / 10
    np.testing.assert_allclose(g, B.to_numpy(p.grad(x)), rtol=1e-12)


def test_batch_index_errors():
    p = P.LogisticRegression(m=5, dim=2)
    x = np.zeros(2)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 5\); got the range \[0, 5\]"):
        p.f_batch(x, [0, 5])
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 5\); got the range \[-1, 2\]"):
        p.f_batch(x, [-1, 2])
    with pytest.raises(ValueError, match="non-empty 1-D array"):
        p.f_batch(x, [])
    with pytest.raises(ValueError, match="must be integers"):
        p.f_batch(x, [0.5])
    assert p.f_i(x, 2).item() == pytest.approx(np.log(2))  # softplus(0) at x = 0
    assert p.f_batch(x, np.array([1, 1, 1])).item() == pytest.approx(p.f_i(x, 1).item())


def test_array_helpers_and_tensors():
    q = P.Quadratic(dim=3, seed=0)
    x = np.array([0.3, -1.0, 2.0])
    v, g = q.value_and_grad(x)
    assert v == q.value(x) and isinstance(v, float)
    np.testing.assert_array_equal(B.to_numpy(g), B.to_numpy(q.grad(x)))
    d = np.array([1.0, 0.0, -2.0])
    np.testing.assert_allclose(B.to_numpy(q.hvp(x, d)), B.to_numpy(q.A) @ d, rtol=1e-12)
    t = q.start()
    assert t.requires_grad and t.is_leaf and np.array_equal(t.numpy(), B.to_numpy(q.x0))
    t.data[0] = 99.0
    assert q.x0[0] != 99.0  # start() is a copy
    loss = q.f(t)
    loss.backward()
    np.testing.assert_allclose(B.to_numpy(t.grad), B.to_numpy(q.grad_closed_form(t.data)),
                               rtol=1e-12)
    assert q(t).item() == loss.item()
    c = q.constants()
    assert c["mu"] == q.mu and c["L"] == q.L and c["dim"] == 3 and c["convex"]
    assert "Quadratic" in repr(q)


def test_values_and_grid():
    p = P.Himmelblau()
    X, Y, Z = p.grid(11)
    assert X.shape == Y.shape == Z.shape == (11, 11)
    assert float(Z[5, 5]) == pytest.approx(p.value([0.0, 0.0]))
    pts = np.random.default_rng(0).standard_normal((3, 4, 2))
    np.testing.assert_allclose(B.to_numpy(p.values(pts)),
                               [[p.value(q) for q in row] for row in pts])
    # the looped fallback for problems without a vectorised form
    q = P.Quadratic(dim=2, seed=1)
    np.testing.assert_allclose(B.to_numpy(q.values(pts[0])), [q.value(r) for r in pts[0]],
                               rtol=1e-13)
    with pytest.raises(ValueError, match="do not end with the variable's shape"):
        q.values(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="grid\\(\\) needs a 2-D problem"):
        P.Quadratic(dim=3).grid()


def test_newton_minimize_reports_failure():
    # newton_minimize works on the backend of x0: start on the problem's (the session's)
    x0 = B.asarray(np.array([-1.2, 1.0]))
    with pytest.raises(RuntimeError, match="no convergence after 2 iterations"):
        P.newton_minimize(P.Rosenbrock().f, x0, max_iter=2)
    x, info = P.newton_minimize(P.Rosenbrock().f, x0)
    np.testing.assert_allclose(B.to_numpy(x), [1.0, 1.0], atol=1e-10)
    assert info["grad_norm"] <= 1e-12


def test_problem_on_the_backend_under_test(backend):
    """Built under the backend fixture (NumPy always, CuPy on a GPU machine), a problem's data
    live there and its values are bit-identical to the NumPy problem's (data drawn on the host)."""
    p = P.LogisticRegression(m=20, dim=3, seed=0)
    assert p.backend == backend and B.backend_name_of(p.A) == backend
    with mg.use_backend("numpy"):
        ref = P.LogisticRegression(m=20, dim=3, seed=0)
    x = np.array([0.1, -0.2, 0.3])
    assert p.value(x) == ref.value(x)
    np.testing.assert_allclose(B.to_numpy(p.grad(x)), ref.grad(x), rtol=1e-14)
    moved = ref.to(backend)
    assert moved.backend == backend and moved.value(x) == ref.value(x)
    assert np.array_equal(B.to_numpy(moved.x_star), B.to_numpy(ref.x_star))


@pytest.mark.skipif(mg.cupy_available(), reason="checks the error when CuPy is missing")
def test_to_cupy_without_a_gpu_is_a_clear_error():
    with pytest.raises(mg.BackendError, match="cupy"):
        P.Quadratic(dim=2).to("cupy")


def test_values_accept_tensors_and_copies_agree():
    q = P.Quadratic(dim=2)
    t = mg.Tensor([1.0, 2.0])
    q.value(t)  # same backend: fine
    moved = q.to(q.backend)  # a copy on the same backend ("numpy" on the default session)
    assert moved.value(t) == q.value(t)


EXPORTED_PROBLEMS = [getattr(P, n) for n in P.__all__
                     if inspect.isclass(getattr(P, n)) and issubclass(getattr(P, n), P.Problem)]


@pytest.mark.parametrize("cls", EXPORTED_PROBLEMS, ids=lambda c: c.__name__)
def test_every_problem_documents_its_formula(cls):
    doc = inspect.getdoc(cls) or ""
    module_doc = inspect.getdoc(inspect.getmodule(cls)) or ""
    assert ":math:" in doc + module_doc, f"{cls.__name__} has no formula in its docstrings"
    assert len(doc) > 80


def test_exports_and_no_numpy_or_upward_imports():
    for name in P.__all__:
        assert hasattr(P, name), name
    for path in sorted((ROOT / "problems").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                mods = [node.module]
            for m in mods:
                assert m.split(".")[0] not in {"numpy", "cupy", "optimizers", "schedules",
                                               "experiments", "matplotlib"}, (path, m)
