"""BFGS and L-BFGS (optimizers.second_order): the update's properties, finite termination,
L-BFGS = BFGS with enough memory, skipping, stopping, and reference budgets (SciPy 1.17
figures, written out below; SciPy is not needed to run these tests).

Rosenbrock is written here with minigrad ops (the problems package is not used):
f(x) = sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, minimiser (1, ..., 1).
"""
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from optimizers import flatten_state_dict, unflatten_state_dict
from optimizers.line_search import LineSearchResult
from optimizers.minimize import minimize
from optimizers.second_order.bfgs import BFGS, InverseBFGS, bfgs, bfgs_update
from optimizers.second_order.lbfgs import LBFGS, lbfgs, two_loop


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def rosen_grad(x):
    """The analytic gradient (an oracle independent of minigrad), on the host."""
    x = np.asarray(mg.to_numpy(x), dtype=float)
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


X0_2D = [-1.2, 1.0]
X0_5D = [1.3, 0.7, 0.8, 1.9, 1.2]


def random_spd(rng, n, log_cond):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q @ np.diag(np.logspace(0.0, log_cond, n)) @ Q.T


# --------------------------------------------------------------------------- the update
@settings(deadline=None, derandomize=True, max_examples=40)
@given(seed=st.integers(0, 10 ** 6), n=st.integers(2, 10), k=st.integers(1, 12),
       log_cond=st.floats(0.0, 3.0))
def test_update_keeps_H_symmetric_positive_definite_and_satisfies_the_secant_equation(
        seed, n, k, log_cond):
    """Pairs with y = A s (A SPD, so y^T s > 0): after each update H is exactly symmetric,
    positive definite, and H_{k+1} y_k = s_k."""
    rng = np.random.default_rng(seed)
    A = random_spd(rng, n, log_cond)
    H = np.eye(n)
    for _ in range(k):
        s = rng.standard_normal(n)
        y = A @ s
        bfgs_update(H, s, y)
        assert np.array_equal(H, H.T)
        assert np.linalg.eigvalsh(H).min() > 0.0
        np.testing.assert_allclose(H @ y, s, rtol=1e-8, atol=1e-10 * np.linalg.norm(s))


def test_update_equals_the_product_form_of_the_lecture():
    """H_{k+1} = (I - rho s y^T) H (I - rho y s^T) + rho s s^T (L0, docs/lectures.md section 5)."""
    rng = np.random.default_rng(0)
    n = 6
    H = random_spd(rng, n, 1.0)
    s, y = rng.standard_normal(n), rng.standard_normal(n)
    y = y if y @ s > 0 else -y
    rho = 1.0 / (y @ s)
    V = np.eye(n) - rho * np.outer(y, s)
    expected = V.T @ H @ V + rho * np.outer(s, s)
    np.testing.assert_allclose(bfgs_update(H.copy(), s, y), expected, rtol=1e-12, atol=1e-12)


class RecordingBFGS(InverseBFGS):
    """Checks symmetry, positive definiteness and the secant equation after every update of a
    real run."""

    checked = 0

    def update(self, s, y):
        done = super().update(s, y)
        if done:
            H, s, y = (mg.to_numpy(a) for a in (self.H, s, y))  # on the host
            assert np.array_equal(H, H.T)
            assert np.linalg.eigvalsh(H).min() > 0.0
            np.testing.assert_allclose(H @ y, s, rtol=1e-6, atol=1e-12)
            RecordingBFGS.checked += 1
        return done


def test_properties_hold_along_a_run_on_rosenbrock():
    from optimizers.line_search import Objective
    from optimizers.minimize import as_vector
    from optimizers.second_order.bfgs import quasi_newton

    x = as_vector(X0_5D)
    RecordingBFGS.checked = 0
    res = quasi_newton(Objective(rosen, x), x, RecordingBFGS(x.size, x))
    assert res.success and RecordingBFGS.checked == res.nit - res.nskip >= 20


def test_two_loop_equals_the_dense_bfgs_matrix():
    """The two-loop recursion applies the matrix that the same BFGS updates of H_0 = gamma I
    build (N&W Algorithm 7.4)."""
    rng = np.random.default_rng(1)
    n, gamma = 7, 0.3
    A = random_spd(rng, n, 2.0)
    pairs, H = [], gamma * np.eye(n)
    for _ in range(5):
        s = rng.standard_normal(n)
        y = A @ s
        pairs.append((s, y, 1.0 / (y @ s)))
        bfgs_update(H, s, y)
    g = rng.standard_normal(n)
    np.testing.assert_allclose(two_loop(g, pairs, gamma), H @ g, rtol=1e-10)


# --------------------------------------------------------------------------- quadratics
def exact_line_search(A):
    """The exact step on f = 1/2 x^T A x - b^T x: alpha = -g^T p / p^T A p (closed form)."""
    def search(obj, x, p, f, g, alpha0):
        A_ = mg.backend.asarray(A, backend=mg.backend.backend_name_of(x))  # on x's backend
        alpha = -(g @ p) / (p @ A_ @ p)
        x_new = x + alpha * p
        f_new, g_new = obj.fg(x_new)
        return LineSearchResult(alpha, f_new, float(g_new @ p), 1, 1, 0, "exact", x_new, f_new,
                                g_new)
    return search


def quadratic(A, b):
    At, bt = mg.Tensor(A), mg.Tensor(b)
    return lambda x: 0.5 * (x @ (At @ x)) - bt @ x


@pytest.mark.parametrize("n", [2, 5, 10])
def test_exact_line_search_terminates_in_at_most_n_iterations_with_H_n_equal_to_A_inverse(n):
    rng = np.random.default_rng(n)
    A = random_spd(rng, n, 2.0)
    b = rng.standard_normal(n)
    x0 = mg.backend.asarray(rng.standard_normal(n))  # on the backend of quadratic's Tensors
    res = bfgs(quadratic(A, b), x0, line_search=exact_line_search(A), gtol=1e-8)
    assert res.success and res.nit <= n
    np.testing.assert_allclose(mg.to_numpy(res.x), np.linalg.solve(A, b), rtol=1e-7, atol=1e-9)
    if res.nit == n:   # n conjugate steps: the quasi-Newton matrix is the inverse Hessian
        np.testing.assert_allclose(mg.to_numpy(res.hess_inv), np.linalg.inv(A), rtol=1e-6,
                                   atol=1e-8)


@pytest.mark.parametrize("n", [5, 10])
def test_companion_without_updates_it_is_steepest_descent_and_needs_more_than_n(n):
    """skip_eps = 1 skips every update (y^T s <= ||s|| ||y|| always): steepest descent with exact
    line search does not terminate in n iterations; the skips are counted."""
    rng = np.random.default_rng(n)
    A = random_spd(rng, n, 2.0)
    b = rng.standard_normal(n)
    x0 = mg.backend.asarray(rng.standard_normal(n))  # on the backend of quadratic's Tensors
    res = bfgs(quadratic(A, b), x0, line_search=exact_line_search(A), gtol=1e-8, maxiter=n,
               skip_eps=1.0)
    assert not res.success and res.status == 1 and res.nskip == n


@pytest.mark.parametrize("search", ["wolfe", "exact"])
def test_lbfgs_with_enough_memory_reproduces_bfgs_on_a_quadratic(search):
    """Same H_0 = I, same line search, memory m >= iterations: the same iterates (and the
    companion: with m = 2 the iterates differ, so the comparison can fail)."""
    rng = np.random.default_rng(3)
    n = 12
    A = random_spd(rng, n, 3.0)
    b = rng.standard_normal(n)
    x0 = mg.backend.asarray(rng.standard_normal(n))  # on the backend of quadratic's Tensors
    ls = exact_line_search(A) if search == "exact" else None
    runs = {}
    for name, solver, kw in (("bfgs", bfgs, {}), ("lbfgs", lbfgs, {"m": 100, "H0": "identity"}),
                             ("lbfgs_m2", lbfgs, {"m": 2, "H0": "identity"})):
        xs = []
        res = solver(quadratic(A, b), x0, line_search=ls, initial_step="unit",
                     callback=lambda x: xs.append(mg.to_numpy(x)), **kw)  # copies, on the host
        runs[name] = (res, xs)
    (rb, xb), (rl, xl), (_, x2) = runs["bfgs"], runs["lbfgs"], runs["lbfgs_m2"]
    assert rb.success and rl.success and rb.nit == rl.nit
    for a, c in zip(xb, xl):
        np.testing.assert_allclose(c, a, rtol=1e-9, atol=1e-11)
    k = min(len(xb), len(x2))
    assert max(np.abs(xb[i] - x2[i]).max() for i in range(k)) > 1e-6


# --------------------------------------------------------------------------- skipping, stopping
def test_skipped_updates_are_counted_by_the_relative_threshold():
    """f = sum(x^4/4 - x^2/2) has negative curvature for |x| < 1/sqrt(3). A fixed step (a
    stand-in line search) gives pairs with y^T s <= 0 there; the expected skip count is computed
    here from the iterates and the analytic gradient x^3 - x."""
    def fixed_step(obj, x, p, f, g, alpha0):
        x_new = x + 0.05 * p
        f_new, g_new = obj.fg(x_new)
        return LineSearchResult(0.05, f_new, float(g_new @ p), 1, 1, 0, "fixed", x_new, f_new,
                                g_new)

    x0 = np.array([0.1, -0.2, 0.3])
    xs = [x0]
    res = bfgs(lambda x: (x ** 4 / 4.0 - x ** 2 / 2.0).sum(), x0, line_search=fixed_step,
               maxiter=60, callback=lambda x: xs.append(np.array(x)))
    grad = lambda x: x ** 3 - x  # noqa: E731
    expected = 0
    for a, c in zip(xs[:-1], xs[1:]):
        s, y = c - a, grad(c) - grad(a)
        expected += y @ s <= 1e-8 * np.linalg.norm(s) * np.linalg.norm(y)
    assert expected >= 3 and res.nskip == expected


def test_stops_on_the_infinity_norm_of_the_gradient_at_gtol():
    res = bfgs(rosen, X0_2D, gtol=1e-3)
    assert res.success and np.abs(rosen_grad(res.x)).max() <= 1e-3
    assert np.abs(mg.to_numpy(res.jac)).max() <= 1e-3
    np.testing.assert_allclose(mg.to_numpy(res.jac), rosen_grad(res.x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", [bfgs, lbfgs])
def test_a_non_finite_f_is_reported_not_claimed_as_success(solver):
    with np.errstate(invalid="ignore"):
        res = solver(lambda x: mg.sqrt(x).sum(), [-1.0, 2.0])    # NaN at x0
    assert res.status == 3 and not res.success and "non-finite" in res.message


@pytest.mark.parametrize("solver", [bfgs, lbfgs])
def test_maxiter_is_status_1(solver):
    res = solver(rosen, X0_2D, maxiter=5)
    assert res.status == 1 and not res.success and res.nit == 5


# --------------------------------------------------------------------------- reference budgets
# SciPy 1.17.1, minimize(rosen, x0, jac=rosen_der, method=...), gtol = 1e-5:
#   2-D from (-1.2, 1): BFGS 32 iterations / 39 evaluations; L-BFGS-B 36 / 44.
#   5-D from [1.3, 0.7, 0.8, 1.9, 1.2]: BFGS 25 iterations / 30 evaluations.
# The budgets: BFGS 40 / 50 and L-BFGS 45 / 55 in 2-D; BFGS at most 25 iterations in 5-D.
@pytest.mark.parametrize("method,max_nit,max_nfev", [("bfgs", 40, 50), ("l-bfgs", 45, 55)])
def test_rosenbrock_2d_within_the_budget(method, max_nit, max_nfev):
    res = minimize(rosen, X0_2D, method=method, gtol=1e-5)
    assert res.success and res.status == 0
    assert res.nit <= max_nit and res.nfev <= max_nfev, (res.nit, res.nfev)
    np.testing.assert_allclose(mg.to_numpy(res.x), [1.0, 1.0], atol=1e-5)
    assert np.abs(rosen_grad(res.x)).max() <= 1e-5


def test_rosenbrock_5d_bfgs_matches_or_beats_scipy():
    res = minimize(rosen, X0_5D, method="bfgs")
    assert res.success and res.nit <= 25 and res.nfev <= 30, (res.nit, res.nfev)
    np.testing.assert_allclose(mg.to_numpy(res.x), np.ones(5), atol=1e-5)


def test_rosenbrock_5d_lbfgs():
    res = minimize(rosen, X0_5D, method="l-bfgs")
    assert res.success and res.nit <= 30
    np.testing.assert_allclose(mg.to_numpy(res.x), np.ones(5), atol=1e-5)


@pytest.mark.parametrize("method", ["bfgs", "l-bfgs"])
def test_companion_insufficient_budget_fails_the_same_check(method):
    res = minimize(rosen, X0_2D, method=method, maxiter=20)
    assert not res.success and np.abs(mg.to_numpy(res.x) - 1.0).max() > 1e-5


def test_companion_steepest_descent_with_the_same_line_search_misses_the_budget():
    """The broken variant (every update skipped: H = I, steepest descent) fails the 2-D budget."""
    res = bfgs(rosen, X0_2D, skip_eps=1.0, maxiter=40)
    assert not res.success and np.abs(mg.to_numpy(res.x) - 1.0).max() > 1e-2


def test_scaled_H0_of_eq_6_20_also_converges():
    res = bfgs(rosen, X0_5D, H0="scaled")
    assert res.success
    np.testing.assert_allclose(mg.to_numpy(res.x), np.ones(5), atol=1e-5)


# --------------------------------------------------------------------------- gradients given
@pytest.mark.parametrize("solver", [bfgs, lbfgs])
def test_jac_callable_and_jac_true_give_the_same_iterates_as_minigrad(solver):
    def f_np(x):
        x = mg.to_numpy(x)  # on the host
        return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))

    auto = solver(rosen, X0_5D)
    sep = solver(f_np, X0_5D, jac=rosen_grad)
    both = solver(lambda x: (f_np(x), rosen_grad(x)), X0_5D, jac=True)
    # jac=True: the same evaluations as minigrad's (f and gradient together), so the same path up
    # to the rounding of two gradient codes: the same iteration count and the same answer to the
    # accuracy that gtol = 1e-5 gives (about 1e-7 here)
    assert both.success and both.nit == auto.nit
    np.testing.assert_allclose(mg.to_numpy(both.x), mg.to_numpy(auto.x), atol=1e-6)
    # a separate jac: the Wolfe search takes the gradient only where it needs it, so its cubic
    # interpolation sees less and the path may differ a little
    assert sep.success and sep.nit <= auto.nit + 3
    for r in (sep, both):
        np.testing.assert_allclose(mg.to_numpy(r.x), np.ones(5), atol=1e-6)
    assert both.nfev == both.njev == auto.nfev == auto.njev
    # a separate jac: f alone at trials that fail sufficient decrease, the gradient where needed
    assert sep.njev <= sep.nfev


# --------------------------------------------------------------------------- the optimizers
def _closure(x, loss):
    def closure():
        value = loss(x)
        value.backward()
        return value
    return closure


@pytest.mark.parametrize("cls,solver", [(BFGS, bfgs), (LBFGS, lbfgs)])
def test_one_long_step_equals_the_functional_algorithm(cls, solver):
    """step(closure) with max_iter iterations runs the same algorithm as bfgs()/lbfgs()."""
    ref = solver(rosen, X0_5D)
    x = mg.Tensor(X0_5D, requires_grad=True)
    opt = cls([x], max_iter=200)
    opt.step(_closure(x, rosen))
    assert opt.vstate["k"] == ref.nit
    np.testing.assert_allclose(x.numpy(), mg.to_numpy(ref.x), rtol=1e-12)


@pytest.mark.parametrize("cls", [BFGS, LBFGS])
def test_one_iteration_per_step_converges_on_rosenbrock(cls):
    x = mg.Tensor(X0_2D, requires_grad=True)
    opt = cls([x])
    for _ in range(60):
        opt.step(_closure(x, rosen))
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-5)


@pytest.mark.parametrize("cls", [BFGS, LBFGS])
def test_state_dict_round_trip_with_the_wolfe_search_continues_in_lockstep(cls):
    def two_params_loss(a, b):
        return lambda _: rosen(mg.concatenate([a, b.reshape(-1)]))

    a = mg.Tensor([-1.2, 1.0], requires_grad=True)
    b = mg.Tensor([[0.5], [-0.3]], requires_grad=True)
    opt = cls([a, b])
    loss = two_params_loss(a, b)
    for _ in range(8):
        opt.step(_closure(None, loss))
    buf = io.BytesIO()
    np.savez(buf, **flatten_state_dict(opt.state_dict()))
    buf.seek(0)
    a2 = mg.Tensor(a.numpy(), requires_grad=True)
    b2 = mg.Tensor(b.numpy(), requires_grad=True)
    opt2 = cls([a2, b2])
    opt2.load_state_dict(unflatten_state_dict(np.load(buf)))
    loss2 = two_params_loss(a2, b2)
    for _ in range(8):
        opt.step(_closure(None, loss))
        opt2.step(_closure(None, loss2))
    np.testing.assert_array_equal(a2.numpy(), a.numpy())
    np.testing.assert_array_equal(b2.numpy(), b.numpy())
    assert opt2.nfev == opt.nfev and opt2.step_count == opt.step_count == 16


@pytest.mark.parametrize("cls", [BFGS, LBFGS])
def test_the_optimizers_need_a_closure_and_one_group(cls):
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="closure"):
        cls([x]).step()
    with pytest.raises(ValueError, match="one"):
        cls([{"params": [x]}, {"params": [mg.Tensor([1.0], requires_grad=True)]}])
    with pytest.raises(ValueError, match="c2"):
        cls([x], c1=0.5, c2=0.1)
