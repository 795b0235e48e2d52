"""minigrad.linalg: values against numpy.linalg, first- and second-order gradient checks against
central differences over a hypothesis sweep of sizes and batch shapes, the symmetric gradients of
eigh and cholesky against finite differences along symmetric perturbations, closed forms,
repeated eigenvalues and singular values, dtypes and errors."""
import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import linalg as L
from minigrad.gradcheck import GradientCheckError, check_grads

SWEEP = settings(max_examples=30, deadline=None, derandomize=True)
sizes = st.integers(1, 4)
batches = st.sampled_from([(), (2,), (1, 2), (2, 1)])
seeds = st.integers(0, 2**16)


# --------------------------------------------------------------------------- inputs
def _orthogonal(rng, batch, n):
    q, r = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _general(rng, batch, n):
    """A random non-symmetric matrix with singular values in [1, 3] (condition number at most 3)
    and a determinant of either sign."""
    s = rng.uniform(1.0, 3.0, batch + (n,))
    return (_orthogonal(rng, batch, n) * s[..., None, :]) @ _orthogonal(rng, batch, n)


def _spd(rng, batch, n):
    x = rng.standard_normal(batch + (n, n))
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def _distinct_symmetric(rng, batch, n):
    """A random symmetric matrix whose eigenvalues are at least 0.5 apart."""
    w = np.cumsum(0.5 + rng.random(batch + (n,)), axis=-1) - 0.4 * n
    q = _orthogonal(rng, batch, n)
    a = (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)
    return (a + np.swapaxes(a, -1, -2)) / 2


def _distinct_singular(rng, batch, m, n):
    """A random m x n matrix whose singular values are at least 0.3 apart and at least 1."""
    k = min(m, n)
    s = 1.0 + np.cumsum(0.3 + rng.random(batch + (k,)), axis=-1)
    u = _orthogonal(rng, batch, m)[..., :k]
    v = _orthogonal(rng, batch, n)[..., :k]
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


def _sym(a):
    """(a + a^T) / 2: a function of a symmetric matrix checked in every direction."""
    return (a + mg.swapaxes(a, -1, -2)) * 0.5


def _same(got, want, exact=True):
    got, want = mg.to_numpy(got), mg.to_numpy(want)  # on the host, whatever the backend
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape,
                                                                   got.dtype, want.dtype)
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


# --------------------------------------------------------------------------- values
def _values_inv(rng, batch, n):
    a = _general(rng, batch, n)
    _same(L.inv(a), np.linalg.inv(a))
    _same(mg.Tensor(a).inverse(), np.linalg.inv(a))


def _values_solve(rng, batch, n):
    a = _general(rng, batch, n)
    b = rng.standard_normal(n)
    _same(L.solve(a, b), np.linalg.solve(a, b), exact=False)           # b a vector
    bm = rng.standard_normal(batch + (n, 2))
    _same(L.solve(a, bm), np.linalg.solve(a, bm), exact=False)         # b a stack of matrices
    a2 = _general(rng, (2, 1), n)
    b3 = rng.standard_normal((3, n, 1))
    _same(L.solve(a2, b3), np.linalg.solve(a2, b3), exact=False)       # batch axes broadcast
    a3 = _general(rng, (3,), n)
    bn = rng.standard_normal((n, 3))  # b.ndim == a.ndim - 1: a matrix for NumPy 2
    _same(L.solve(a3, bn), np.linalg.solve(a3, bn), exact=False)


def _values_det(rng, batch, n):
    a = _general(rng, batch, n)
    _same(L.det(a), np.linalg.det(a))
    _same(mg.Tensor(a).det(), np.linalg.det(a))


def _values_slogdet(rng, batch, n):
    a = _general(rng, batch, n)
    sign, logabsdet = L.slogdet(a)
    want = np.linalg.slogdet(a)
    _same(sign, want.sign)
    _same(logabsdet, want.logabsdet)
    assert not sign.requires_grad
    r = L.slogdet(mg.Tensor(a))
    assert r.sign is r[0] and r.logabsdet is r[1]
    _same(mg.Tensor(a).slogdet()[1], want.logabsdet)


def _values_cholesky(rng, batch, n):
    a = _spd(rng, batch, n)
    _same(L.cholesky(a), np.linalg.cholesky(a))
    _same(L.cholesky(a, upper=True), np.linalg.cholesky(a, upper=True), exact=False)
    _same(mg.Tensor(a).cholesky(), np.linalg.cholesky(a))
    # NumPy reads one triangle: the same holds for a matrix that is not symmetric
    b = a + np.triu(rng.standard_normal(batch + (n, n)), 1)
    _same(L.cholesky(b), np.linalg.cholesky(b))
    c = a + np.tril(rng.standard_normal(batch + (n, n)), -1)
    _same(L.cholesky(c, upper=True), np.linalg.cholesky(c, upper=True), exact=False)


def _values_eigh(rng, batch, n):
    a = rng.standard_normal(batch + (n, n))  # not symmetric: each UPLO reads its own triangle
    for uplo in ("L", "U", "l", "u"):
        w, v = L.eigh(a, UPLO=uplo)
        want = np.linalg.eigh(a, UPLO=uplo)
        _same(w, want.eigenvalues)
        _same(v, want.eigenvectors)
    r = L.eigh(a)
    assert r.eigenvalues is r[0] and r.eigenvectors is r[1]


def _values_svd(rng, batch, n):
    for m in (n, n + 1, max(n - 1, 1)):
        a = rng.standard_normal(batch + (m, n))
        for full in (True, False):
            got, want = L.svd(a, full_matrices=full), np.linalg.svd(a, full_matrices=full)
            for g, w in zip(got, want):
                _same(g, w)
            assert got.U is got[0] and got.S is got[1] and got.Vh is got[2]
        _same(L.svd(a, compute_uv=False), np.linalg.svd(a, compute_uv=False))


def _values_norm(rng, batch, n):  # the norm has its own sweep below
    a = rng.standard_normal(batch + (n, n))
    _same(L.norm(a), np.linalg.norm(a), exact=False)


VALUES = {"inv": _values_inv, "solve": _values_solve, "det": _values_det,
          "slogdet": _values_slogdet, "cholesky": _values_cholesky, "eigh": _values_eigh,
          "svd": _values_svd, "norm": _values_norm}


@pytest.mark.parametrize("name", sorted(VALUES))
@SWEEP
@given(n=sizes, batch=batches, seed=seeds)
def test_values_match_numpy(name, n, batch, seed):
    VALUES[name](np.random.default_rng(seed), batch, n)


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "cholesky", "eigh", "svd"])
def test_empty_matrices_as_numpy(name):
    a = np.zeros((2, 0, 0))
    got, want = getattr(L, name)(a), getattr(np.linalg, name)(a)
    got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
    for g, w in zip(got, want):
        _same(g, w)


# --------------------------------------------------------------------------- gradients
def _grads_inv(rng, batch, n):
    check_grads(L.inv, _general(rng, batch, n), order=2)


def _grads_solve(rng, batch, n):
    a = _general(rng, batch, n)
    check_grads(L.solve, a, rng.standard_normal(n), order=2)
    check_grads(L.solve, a, rng.standard_normal(batch + (n, 2)), order=2)
    check_grads(L.solve, _general(rng, (2, 1), n), rng.standard_normal((3, n, 2)), order=2)
    check_grads(L.solve, _general(rng, (3,), n), rng.standard_normal((n, 1)), order=2)


def _grads_det(rng, batch, n):
    check_grads(L.det, _general(rng, batch, n), order=2)


def _grads_slogdet(rng, batch, n):
    check_grads(lambda a: L.slogdet(a).logabsdet, _general(rng, batch, n), order=2)
    check_grads(lambda a: tuple(L.slogdet(a)), _general(rng, batch, n), order=2)


def _grads_cholesky(rng, batch, n):
    a = _spd(rng, batch, n)
    check_grads(lambda t: L.cholesky(_sym(t)), a, order=2)
    check_grads(lambda t: L.cholesky(_sym(t), upper=True), a, order=2)


def _eigh_outputs(a, c, uplo="L"):
    """The eigenvalues and functions of the eigenvectors that do not depend on their signs."""
    w, v = L.eigh(a, UPLO=uplo)
    c = mg.backend.asarray(c, backend=v.backend)  # a host constant on the backend of a
    return w, v * v, (v * c) @ mg.swapaxes(v, -1, -2)


def _grads_eigh(rng, batch, n):
    a = _distinct_symmetric(rng, batch, n)
    c = rng.standard_normal(n)
    for uplo in ("L", "U"):
        check_grads(lambda t: _eigh_outputs(_sym(t), c, uplo), a, order=2)


def _svd_outputs(a, c, full_matrices=False):
    u, s, vh = L.svd(a, full_matrices=full_matrices)
    c = mg.backend.asarray(c, backend=u.backend)  # a host constant on the backend of a
    return s, u * u, vh * vh, (u * c) @ vh


def _grads_svd(rng, batch, n):
    for m in (n, n + 1, max(n - 1, 1)):
        a = _distinct_singular(rng, batch, m, n)
        c = rng.standard_normal(min(m, n))
        check_grads(lambda t: _svd_outputs(t, c), a, order=2)
        check_grads(lambda t: L.svd(t, compute_uv=False), a, order=2)
    a = _distinct_singular(rng, batch, n, n)
    check_grads(lambda t: _svd_outputs(t, np.ones(n), full_matrices=True), a, order=2)


def _grads_norm(rng, batch, n):  # the norm has its own sweep below
    check_grads(lambda t: L.norm(t, "nuc", axis=(-2, -1)), rng.standard_normal(batch + (n, n)),
                order=2)


GRADS = {"inv": _grads_inv, "solve": _grads_solve, "det": _grads_det,
         "slogdet": _grads_slogdet, "cholesky": _grads_cholesky, "eigh": _grads_eigh,
         "svd": _grads_svd, "norm": _grads_norm}


def test_every_function_is_swept():
    """Every public function of minigrad.linalg has a value sweep and a gradient sweep, so a
    new function fails here until both cover it (the norm's entries are one case each: its
    sweep over ord, axis and keepdims is ``test_norm_*`` below)."""
    assert set(L.__all__) == set(VALUES) == set(GRADS) == set(FLOAT32)


@pytest.mark.parametrize("name", sorted(GRADS))
@SWEEP
@given(n=sizes, batch=batches, seed=seeds)
def test_second_order_gradient_check(name, n, batch, seed):
    GRADS[name](np.random.default_rng(seed), batch, n)


# --------------------------------------------------------------------------- norm sweep
ORDS = [None, "fro", "f", "nuc", 2, -2, 1, -1, math.inf, -math.inf, 0, 3, 0.5, "bad"]


@st.composite
def norm_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=3)))
    nd = len(shape)
    axis = draw(st.one_of(
        st.none(), st.integers(-nd - 1, nd) if nd else st.none(),
        st.tuples(st.integers(-nd, nd - 1), st.integers(-nd, nd - 1)) if nd else st.none()))
    return shape, axis, draw(st.sampled_from(ORDS)), draw(st.booleans())


def _numpy_norm(x, ord, axis, keepdims):  # noqa: A002
    try:
        return np.linalg.norm(x, ord, axis, keepdims)
    except ValueError:  # AxisError is a ValueError
        return None


def _norm_point(shape, seed):
    """Entries at least 0.1 from 0 (the kink of |x|) and apart from each other (no ties)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x = np.where(np.abs(x) < 0.1, 0.3, x)
    return x + np.sign(x) * np.arange(x.size).reshape(shape) * 0.037


@settings(SWEEP, max_examples=80)
@given(case=norm_case(), seed=seeds)
def test_norm_matches_numpy_and_raises_where_numpy_does(case, seed):
    shape, axis, ord, keepdims = case
    x = _norm_point(shape, seed)
    if ord == 0 and x.size:  # a zero entry for the count
        x.flat[0] = 0.0
    want = _numpy_norm(x, ord, axis, keepdims)
    if want is None:
        with pytest.raises(ValueError):
            L.norm(x, ord, axis, keepdims)
        return
    _same(L.norm(x, ord, axis, keepdims), want, exact=False)


VECTOR_ORDS = [None, 2, 1, -1, math.inf, -math.inf, 0, 3, 0.5]
MATRIX_ORDS = [None, "fro", "f", "nuc", 2, -2, 1, -1, math.inf, -math.inf]


@st.composite
def valid_norm_case(draw):
    """A vector norm (one axis, or a 1-D x with axis None) or a matrix norm (two distinct axes,
    or a 2-D x with axis None)."""
    matrix = draw(st.booleans())
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1 + matrix, max_size=3)))
    nd = len(shape)
    if matrix:
        pair = draw(st.permutations(range(nd)))[:2]
        axis = draw(st.sampled_from([(pair[0], pair[1]), (pair[0] - nd, pair[1])]
                                    + ([None] if nd == 2 else [])))
        ord = draw(st.sampled_from(MATRIX_ORDS))
    else:
        axis = draw(st.sampled_from(list(range(-nd, nd)) + ([None] if nd == 1 else [])))
        ord = draw(st.sampled_from(VECTOR_ORDS))
    return shape, axis, ord, draw(st.booleans())


@settings(SWEEP, max_examples=80)
@given(case=valid_norm_case(), seed=seeds)
def test_norm_second_order_gradient_check(case, seed):
    shape, axis, ord, keepdims = case
    x = _norm_point(shape, seed)
    _same(L.norm(x, ord, axis, keepdims), np.linalg.norm(x, ord, axis, keepdims), exact=False)
    check_grads(lambda t: L.norm(t, ord, axis, keepdims), x, order=2)


def test_norm_delegates_vectors_and_frobenius_to_minigrad_norm():
    x = _norm_point((3, 4), 0)
    for ord, axis in [(None, None), (2, 1), (1, 0), (math.inf, -1), ("fro", None)]:
        _same(L.norm(x, ord, axis), mg.norm(x, 2 if ord in (None, "fro") else ord, axis))


# --------------------------------------------------------------------------- symmetric input
def _agree(a, b):
    assert abs(a - b) <= 1e-8 + 1e-6 * max(abs(a), abs(b)), (a, b)


def _sym_direction(rng, batch, n):
    e = rng.standard_normal(batch + (n, n))
    return e + np.swapaxes(e, -1, -2)


SYMMETRIC = {
    "eigh_L": (lambda t, c: _eigh_outputs(t, c, "L"), _distinct_symmetric),
    "eigh_U": (lambda t, c: _eigh_outputs(t, c, "U"), _distinct_symmetric),
    "cholesky": (lambda t, c: (L.cholesky(t),), _spd),
    "cholesky_upper": (lambda t, c: (L.cholesky(t, upper=True),), _spd),
}


def _scalar(fn, c, us):
    return lambda t: sum((o * u).sum() for o, u in zip(fn(t, c), us))


@pytest.mark.parametrize("name", sorted(SYMMETRIC))
@SWEEP
@given(n=sizes, batch=batches, seed=seeds)
def test_symmetric_gradient_against_symmetric_finite_differences(name, n, batch, seed):
    """No symmetrising wrapper: the gradient of the function itself at a symmetric A is
    symmetric, and it and its derivative (the Hessian-vector product) agree with central
    differences along symmetric perturbations."""
    fn, make = SYMMETRIC[name]
    rng = np.random.default_rng(seed)
    dev = mg.backend.asarray  # points, directions and constants on the session's backend
    a, c = make(rng, batch, n), dev(rng.standard_normal(n))
    us = [dev(rng.standard_normal(o.shape)) for o in fn(mg.Tensor(a), c)]
    f = _scalar(fn, c, us)
    e, e2 = _sym_direction(rng, batch, n), _sym_direction(rng, batch, n)
    g = mg.to_numpy(mg.grad(f)(dev(a)))
    np.testing.assert_array_equal(g, np.swapaxes(g, -1, -2))
    eps = 1e-6
    _agree(np.sum(g * e), (f(dev(a + eps * e)).item() - f(dev(a - eps * e)).item()) / (2 * eps))
    hv = mg.to_numpy(mg.hvp(f, dev(a), dev(e)))
    fd = mg.to_numpy(mg.grad(f)(dev(a + eps * e)) - mg.grad(f)(dev(a - eps * e))) / (2 * eps)
    _agree(np.sum(hv * e2), np.sum(fd * e2))


def test_eigh_gradient_is_the_symmetric_one_not_that_of_one_triangle():
    """NumPy's eigh(UPLO='L') ignores the strict upper triangle, so along a strictly upper
    perturbation its value does not move; the gradient returned is the symmetric one, which
    gives that direction the weight of the matching lower entries."""
    rng = np.random.default_rng(3)
    a = _distinct_symmetric(rng, (), 3)
    f = lambda t: (L.eigh(t)[0] * mg.Tensor([1.0, 2.0, 3.0])).sum()  # noqa: E731
    dev = mg.backend.asarray  # the points on the backend of the Tensor in f
    e = np.triu(rng.standard_normal((3, 3)), 1)
    eps = 1e-6
    assert f(dev(a + eps * e)).item() == f(dev(a)).item() == f(dev(a - eps * e)).item()
    g = mg.to_numpy(mg.grad(f)(dev(a)))
    assert abs(np.sum(g * e)) > 1e-3
    _agree(np.sum(g * (e + e.T)),
           (f(dev(a + eps * e.T)).item() - f(dev(a - eps * e.T)).item()) / (2 * eps))


# --------------------------------------------------------------------------- closed forms
def test_det_gradient_2x2_is_the_cofactor_matrix():
    a, b, c, d = 1.3, -0.4, 0.7, 2.1
    g = mg.grad(L.det)(np.array([[a, b], [c, d]]))
    np.testing.assert_allclose(g, [[d, -c], [-b, a]], rtol=1e-14)


def test_logdet_hessian_vector_product_closed_form():
    """d^2 log|det A| [E] = -(A^-1 E A^-1)^T."""
    rng = np.random.default_rng(5)
    a, e = _general(rng, (), 4), rng.standard_normal((4, 4))
    hv = mg.hvp(lambda t: L.slogdet(t).logabsdet, a, e).data
    ai = np.linalg.inv(a)
    np.testing.assert_allclose(hv, -(ai @ e @ ai).T, rtol=1e-10, atol=1e-12)


def test_inverse_hessian_vector_product_closed_form():
    """The gradient of <C, A^-1> is -(A^-1 C^T A^-1)^T; its derivative along E is
    (A^-1 E A^-1 C^T A^-1 + A^-1 C^T A^-1 E A^-1)^T."""
    rng = np.random.default_rng(6)
    a, e, c = _general(rng, (), 3), rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    dev = mg.backend.asarray  # the point and direction on the backend of mg.Tensor(c)
    hv = mg.to_numpy(mg.hvp(lambda t: (L.inv(t) * mg.Tensor(c)).sum(), dev(a), dev(e)))
    ai = np.linalg.inv(a)
    np.testing.assert_allclose(hv, (ai @ e @ ai @ c.T @ ai + ai @ c.T @ ai @ e @ ai).T,
                               rtol=1e-10)


def test_cholesky_of_a_1x1_matrix_is_its_square_root():
    g = mg.grad(lambda t: L.cholesky(t).sum())(np.array([[2.5]]))
    np.testing.assert_allclose(g, [[0.5 / math.sqrt(2.5)]], rtol=1e-15)


def test_solve_gradients_closed_form():
    """x = A^-1 b: the gradient of <c, x> is A^-T c for b and -(A^-T c) x^T for A."""
    rng = np.random.default_rng(7)
    a, b, c = _general(rng, (), 3), rng.standard_normal(3), rng.standard_normal(3)
    dev = mg.backend.asarray  # the point on the backend of mg.Tensor(c)
    ga, gb = mg.grad(lambda s, t: (L.solve(s, t) * mg.Tensor(c)).sum(), argnums=(0, 1))(
        dev(a), dev(b))
    y = np.linalg.inv(a).T @ c
    np.testing.assert_allclose(mg.to_numpy(gb), y, rtol=1e-12)
    np.testing.assert_allclose(mg.to_numpy(ga), -np.outer(y, np.linalg.inv(a) @ b), rtol=1e-12)


def test_matrix_norm_gradients_closed_forms():
    a = np.diag([3.0, -2.0, 0.5])
    np.testing.assert_allclose(mg.grad(lambda t: L.norm(t, "nuc"))(a), np.diag([1.0, -1, 1]))
    np.testing.assert_allclose(mg.grad(lambda t: L.norm(t, 2))(a), np.diag([1.0, 0, 0]))
    np.testing.assert_allclose(mg.grad(lambda t: L.norm(t, -2))(a), np.diag([0, 0, 1.0]))
    np.testing.assert_allclose(mg.grad(lambda t: L.norm(t, "fro"))(a), a / np.sqrt(13.25))


# --------------------------------------------------------------------------- degenerate spectra
def _degenerate(seed=11):
    """Q diag(-2, 1, 1, 3) Q^T: the eigenvalue 1 is repeated (columns 1 and 2 of v)."""
    rng = np.random.default_rng(seed)
    q = _orthogonal(rng, (), 4)
    lam = np.array([-2.0, 1.0, 1.0, 3.0])
    a = (q * lam) @ q.T
    return (a + a.T) / 2, q, lam


def test_repeated_eigenvalues_functions_of_the_spectrum_get_the_right_gradient():
    a, q, lam = _degenerate()
    np.testing.assert_allclose(mg.grad(lambda t: L.eigh(t)[0].sum())(a), np.eye(4), atol=1e-14)
    expm = (q * np.exp(lam)) @ q.T  # d tr exp(A) = exp(A)
    np.testing.assert_allclose(mg.grad(lambda t: mg.exp(L.eigh(t)[0]).sum())(a), expm,
                               rtol=1e-12, atol=1e-12)

    def trace_expm_through_v(t):  # tr (V exp(W) V^T): the eigenvectors enter, the trace not
        w, v = L.eigh(t)
        return ((v * mg.exp(w)) @ v.T * mg.Tensor(np.eye(4))).sum()
    np.testing.assert_allclose(mg.to_numpy(mg.grad(trace_expm_through_v)(mg.backend.asarray(a))),
                               expm, rtol=1e-12, atol=1e-12)
    check_grads(lambda t: mg.exp(L.eigh(_sym(t))[0]).sum(), a, order=1)
    check_grads(lambda t: L.eigh(_sym(t))[0].sum(), a, order=2)


def test_repeated_eigenvalues_second_derivatives_are_not_right():
    """The documented limit: the second derivative of tr exp(A) at a repeated eigenvalue needs
    the coupling within the degenerate block, which is taken as 0."""
    a, _, _ = _degenerate()
    with pytest.raises(GradientCheckError):
        check_grads(lambda t: mg.exp(L.eigh(_sym(t))[0]).sum(), a, order=2)


def test_repeated_eigenvalues_an_individual_eigenvector_gets_a_finite_gradient_without_rotation():
    """An eigenvector inside a degenerate eigenspace has no derivative; the gradient is finite
    and leaves out the rotation within that eigenspace: V^T grad V is 0 on the degenerate pair
    (and not elsewhere)."""
    a, _, _ = _degenerate()
    c = np.array([0.3, -1.2, 0.8, 2.0])
    g = mg.to_numpy(mg.grad(lambda t: ((L.eigh(t)[1][:, 1] * mg.Tensor(c)).sum()) ** 2)(
        mg.backend.asarray(a)))  # the point on the backend of mg.Tensor(c)
    assert np.isfinite(g).all()
    v = np.linalg.eigh(a).eigenvectors
    inner = v.T @ g @ v
    assert abs(inner[1, 2]) <= 1e-12 and abs(inner[2, 1]) <= 1e-12
    off = inner[~np.eye(4, dtype=bool)]
    assert np.sum(np.abs(off) > 1e-3) >= 4


def test_repeated_singular_values_nuclear_and_spectral_norms():
    """At repeated singular values the nuclear norm's gradient is still the polar factor
    U V^T, computed here as A (A^T A)^{-1/2}. The computed largest singular values of a matrix
    with a repeated one are not exactly equal, so the spectral norm's gradient goes to NumPy's
    first singular pair, u1 v1^T: a subgradient (||A + D||_2 >= ||A||_2 + <G, D> for all D)."""
    rng = np.random.default_rng(12)
    u, v = _orthogonal(rng, (), 4)[:, :3], _orthogonal(rng, (), 3)
    a = (u * np.array([2.0, 2.0, 0.5])) @ v.T
    w, q = np.linalg.eigh(a.T @ a)
    polar = a @ (q / np.sqrt(w)) @ q.T
    np.testing.assert_allclose(mg.grad(lambda t: L.norm(t, "nuc"))(a), polar, atol=1e-12)
    g = mg.grad(lambda t: L.norm(t, 2))(a)
    un, _, vhn = np.linalg.svd(a)
    np.testing.assert_allclose(g, np.outer(un[:, 0], vhn[0]), atol=1e-12)
    for _ in range(20):
        d = rng.standard_normal(a.shape)
        assert np.linalg.norm(a + d, 2) >= np.linalg.norm(a, 2) + np.sum(g * d) - 1e-12


# --------------------------------------------------------------------------- dtypes, errors, API
FLOAT32 = {
    "inv": lambda t: L.inv(t).sum(),
    "solve": lambda t: L.solve(t, mg.backend.asarray(np.ones(3, np.float32),
                                                     backend=t.backend)).sum(),
    "det": lambda t: L.det(t),
    "slogdet": lambda t: L.slogdet(t).logabsdet,
    "cholesky": lambda t: L.cholesky(_sym(t)).sum(),
    "eigh": lambda t: sum(o.sum() for o in _eigh_outputs(_sym(t), np.ones(3, np.float32))),
    "svd": lambda t: sum(o.sum() for o in _svd_outputs(t, np.ones(3, np.float32))),
    "norm": lambda t: L.norm(t, "nuc") + L.norm(t, 2) + L.norm(t[0], 3),
}


@pytest.mark.parametrize("name", sorted(FLOAT32))
def test_float32_stays_float32(name):
    rng = np.random.default_rng(0)
    a = (_spd(rng, (), 3) if name == "cholesky" else _general(rng, (), 3)).astype(np.float32)
    x = mg.Tensor(a, requires_grad=True)
    out = FLOAT32[name](x)
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32
    want = mg.to_numpy(mg.grad(FLOAT32[name])(mg.backend.asarray(a.astype(np.float64))))
    # float32 rounding, about 1e-7
    np.testing.assert_allclose(mg.to_numpy(x.grad), want, rtol=0, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "cholesky", "eigh"])
@pytest.mark.parametrize("shape", [(2, 3), (4, 3, 2), (3,), ()])
def test_non_square_input_is_a_value_error_naming_the_shape(name, shape):
    with pytest.raises(ValueError, match=rf"{name}: expected a square .* got shape "
                                         rf"{shape}".replace("(", r"\(").replace(")", r"\)")):
        getattr(L, name)(np.ones(shape))


def test_solve_errors():
    a = np.eye(3)
    with pytest.raises(ValueError, match=r"solve: b must have shape \(3,\) or \(\.\.\., 3, K\)"):
        L.solve(a, np.ones(4))
    with pytest.raises(ValueError, match=r"got shape \(2, 4\)"):
        L.solve(a, np.ones((2, 4)))
    with pytest.raises(ValueError, match="got shape"):
        L.solve(a, 1.0)
    with pytest.raises(ValueError, match=r"batch shapes \(2,\) and \(3,\) do not broadcast"):
        L.solve(np.ones((2, 3, 3)), np.ones((3, 3, 1)))
    with pytest.raises(ValueError, match=r"solve: expected a square"):
        L.solve(np.ones((3, 2)), np.ones(3))


def test_decomposition_errors():
    with pytest.raises(ValueError, match="UPLO must be 'L' or 'U'; got 'X'"):
        L.eigh(np.eye(2), UPLO="X")
    with pytest.raises(ValueError, match=r"svd: expected a matrix .* got shape \(3,\)"):
        L.svd(np.ones(3))
    with pytest.raises(NotImplementedError, match="hermitian"):
        L.svd(np.eye(2), hermitian=True)
    x = mg.Tensor(np.ones((3, 2)), requires_grad=True)
    with pytest.raises(ValueError, match=r"full_matrices=True has no gradient .* \(3, 2\)"):
        L.svd(x)
    with mg.no_grad():  # without a gradient to record, NumPy's full decomposition
        for got, want in zip(L.svd(x), np.linalg.svd(x.numpy())):
            _same(got, want)
    for got, want in zip(L.svd(x.data), np.linalg.svd(x.numpy())):
        _same(got, want)
    with pytest.raises(np.linalg.LinAlgError):
        L.cholesky(-np.eye(2))
    with pytest.raises(np.linalg.LinAlgError):
        L.inv(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="complex matrices are not supported"):
        L.inv(np.eye(2, dtype=complex))


def test_norm_errors():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="invalid norm order 'fro' for vectors"):
        L.norm(x, "fro", axis=0)
    with pytest.raises(ValueError, match="invalid norm order 3 for matrices"):
        L.norm(x, 3)
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        L.norm(x, axis=2)
    with pytest.raises(ValueError, match=r"duplicate axes \(1, 1\)"):
        L.norm(x, axis=(1, -1))
    with pytest.raises(ValueError, match="a matrix norm two"):
        L.norm(np.ones((2, 2, 2)), 2)
    with pytest.raises(TypeError, match="axis must be None, an int or a tuple"):
        L.norm(x, axis=[0, 1])
    _same(L.norm(x, axis=np.int64(1)), np.linalg.norm(x, axis=np.int64(1)), exact=False)


def test_functions_and_methods_exist_with_numpys_signatures():
    """mg.linalg mirrors numpy.linalg (the recorded backward pass calls xp.linalg.<name> with
    NumPy's signature, and xp.linalg is this module there), and the Tensor methods that torch
    has call these functions."""
    assert mg.linalg is L and mg.ops.linalg is L
    def params(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]
    for name in L.__all__:
        assert params(getattr(L, name)) == params(getattr(np.linalg, name)), name
    a = _spd(np.random.default_rng(1), (2,), 3)
    t = mg.Tensor(a)
    _same(t.inverse(), L.inv(a).data)
    _same(t.det(), L.det(a).data)
    _same(t.slogdet().logabsdet, L.slogdet(a).logabsdet.data)
    _same(t.cholesky(), L.cholesky(a).data)
    _same(t.cholesky(upper=True), L.cholesky(a, upper=True).data)
