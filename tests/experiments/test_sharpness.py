"""experiments.sharpness: the top Hessian eigenvalue by power iteration on Hessian-vector
products, checked against dense Hessians (numpy.linalg.eigvalsh), in its fixed-iteration and
relative-tolerance modes, with warm starts and a negative dominant eigenvalue (the shifted
pass)."""
import numpy as np
import pytest

import minigrad as mg
import problems as P
from experiments.sharpness import TopEigen, top_eigenvalue
from problems.base import Problem


class _Symmetric(Problem):
    """f(x) = 0.5 x^T A x with a given symmetric (possibly indefinite) matrix A."""

    def __init__(self, A):
        self.A = mg.Tensor(mg.backend.asarray(np.asarray(A, dtype=float)))
        self._setup(np.ones(len(A)))

    def _f(self, x):
        return 0.5 * mg.sum(x * (self.A @ x))


def _rotated(eigenvalues, seed=0):
    """Q diag(eigenvalues) Q^T with a random orthogonal Q."""
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(eigenvalues),) * 2))
    return Q @ np.diag(eigenvalues) @ Q.T


@pytest.mark.parametrize("a, top", [([3.0, 1.0, -0.5], 3.0), ([-6.0, 2.5, 1.0], 2.5),
                                    ([-2.0, -1.0], -1.0)])
def test_diagonal_hessians_fixed_iterations(a, top):
    res = top_eigenvalue(_Symmetric(np.diag(a)), np.ones(len(a)), iters=200,
                         rng=np.random.default_rng(1))
    assert isinstance(res, TopEigen)
    assert res.lam == pytest.approx(top, rel=1e-6)
    shifted = a[int(np.argmax(np.abs(a)))] < 0
    assert res.iterations == (400 if shifted else 200)      # no tol: every iteration is run
    assert not res.converged


def test_dense_quadratic_with_a_relative_tolerance():
    q = P.Quadratic(dim=5, eigenvalues=[0.3, 0.2, 2.5, 1.0, 0.01], seed=1)
    res = top_eigenvalue(q, q.x0, iters=300, tol=1e-10)
    assert res.lam == pytest.approx(2.5, rel=1e-6)
    assert res.converged and res.iterations < 300
    v = mg.backend.to_numpy(res.v)
    assert np.linalg.norm(v) == pytest.approx(1.0)
    # v is the top eigenvector: H v = lambda v
    hv = mg.backend.to_numpy(q.hvp(q.x0, res.v))
    # the stop rule bounds the Rayleigh quotient's change (1e-10), whose error is quadratic in the
    # vector's: the vector is only good to about sqrt(1e-10) = 1e-5, times ||H|| = 2.5
    np.testing.assert_allclose(hv, res.lam * v, atol=1e-4)


def test_negative_dominant_eigenvalue_matches_eigvalsh():
    A = _rotated([-5.0, -1.0, 0.5, 2.0, 3.0], seed=3)
    exact = np.linalg.eigvalsh(A)
    assert abs(exact[0]) > abs(exact[-1])          # the dominant eigenvalue is negative
    p = _Symmetric(A)
    for kwargs in ({"iters": 500}, {"iters": 2000, "tol": 1e-13}):
        res = top_eigenvalue(p, p.x0, rng=np.random.default_rng(0), **kwargs)
        assert res.lam == pytest.approx(exact[-1], rel=1e-8)
        if "tol" not in kwargs:
            assert res.iterations == 1000               # two passes of 500
    # the returned vector is the shifted pass's: the eigenvector of lambda_max (the first pass,
    # without the shift, finds the most negative eigenvalue instead)
    v = mg.backend.to_numpy(res.v)
    assert float(v @ A @ v) == pytest.approx(exact[-1], rel=1e-8)
    assert res.converged and res.iterations > 2


@pytest.mark.slow
def test_network_hessians_match_the_dense_ones():
    """At the start of an MLP (loss-landscape's test) and of a smaller one (curvature-sharpness's
    test): the engine's dense Hessian, both modes."""
    p = P.MLPClassification("moons", m=30, hidden=(5,), seed=1)
    res = top_eigenvalue(p, p.x0, iters=300, rng=np.random.default_rng(0))
    exact = np.linalg.eigvalsh(mg.backend.to_numpy(p.hessian(p.x0)))
    # 300 fixed iterations, no stop rule: the error falls like (lambda_2/lambda_1)^(2k); here the
    # ratio is 0.63, so after 300 iterations only rounding is left
    assert res.lam == pytest.approx(exact[-1], rel=1e-10)

    p = P.MLPClassification(dataset="moons", m=40, hidden=(4,), seed=2)
    ev = np.linalg.eigvalsh(mg.hessian(p.f, p.x0))
    res = top_eigenvalue(p, p.x0, iters=2000, tol=1e-10, rng=mg.backend.host_rng((0, 11)))
    assert ev[-1] > abs(ev[0])             # the top eigenvalue is the largest in modulus
    # the stop rule (relative change 1e-10 per step) leaves an error of about the change divided
    # by 1 - |lambda_2/lambda_1| = 1 - 0.727: about 4e-10
    assert res.lam == pytest.approx(ev[-1], rel=1e-9)
    assert res.converged


def test_warm_start_from_the_previous_vector():
    A = _rotated([4.0, 3.6, 1.0, -0.5, 0.1], seed=5)   # slow: |lambda_2 / lambda_1| = 0.9
    p = _Symmetric(A)
    cold = top_eigenvalue(p, p.x0, iters=300, tol=1e-12, rng=np.random.default_rng(0))
    warm = top_eigenvalue(p, p.x0, iters=300, tol=1e-12, v=cold.v)
    assert warm.lam == pytest.approx(4.0, rel=1e-9)
    assert warm.iterations < cold.iterations
    # a given v is used as it is (rng is ignored) and normalised
    a = top_eigenvalue(p, p.x0, iters=5, v=3.0 * cold.v, rng=np.random.default_rng(1))
    b = top_eigenvalue(p, p.x0, iters=5, v=cold.v, rng=np.random.default_rng(2))
    assert a.lam == pytest.approx(b.lam, rel=1e-12)
    # the default generator is host_rng(0)
    assert (top_eigenvalue(p, p.x0, iters=7).lam
            == top_eigenvalue(p, p.x0, iters=7, rng=mg.backend.host_rng(0)).lam)


def test_zero_hessian_stops_and_bad_iters_raise():
    p = _Symmetric(np.zeros((3, 3)))
    res = top_eigenvalue(p, p.x0, iters=50)
    assert res.lam == 0.0 and res.iterations == 1 and not res.converged
    with pytest.raises(ValueError, match="iters"):
        top_eigenvalue(p, p.x0, iters=0)
