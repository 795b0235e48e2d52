"""Nelder–Mead's two stopping tolerances, the symmetric Gaussian-smoothing estimator reached
through ``gaussian_smoothing(kind="symmetric")``, and the evaluation counters of the
zero-order methods (``minimize`` and the optimizers).

* Nelder–Mead stops when max_i ||x_i - x_1||_inf <= xatol **and** max_i |f_i - f_1| <= fatol
  (SciPy's test). On f(x) = s |x| from the simplex {0, 1} every iteration is an inside
  contraction that halves the simplex (x_r = -1 has f_r = f_2, so f_r >= f_{n+1}; x_cc = 1/2
  has f_cc = s/2 < s), with 2 evaluations: after k iterations dx_k = 2^-k and df_k = s 2^-k,
  nfev = 2 + 2k, all exact in binary. The stop is the first k where both hold.
  With f constant every iteration is a shrink (f_r = f_{n+1}, f_cc = f_{n+1}), n + 2
  evaluations, dx_k = dx_0 / 2^k and df_k = 0.
* Symmetric Gaussian smoothing (Nesterov & Spokoiny 2017):
  G = (f(x + tau u) - f(x - tau u)) / (2 tau) u, u ~ N(0, I) drawn by ``rng.standard_normal``.
  For a quadratic the difference quotient is exactly grad f(x)^T u, so G = (g^T u) u and
  E[G] = g, Var[G_j] = E[(g^T u)^2 u_j^2] - g_j^2 = ||g||^2 + g_j^2.
* Counters: the function (or closure) counts its own calls; ``nfev`` must equal that count and
  ``nit`` the number of callback calls; the per-iteration costs stated in the modules'
  docstrings give the closed forms checked below.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend as B
from optimizers.minimize import minimize
from optimizers.zero_order.cmaes import CMAES, cma_parameters
from optimizers.zero_order.estimators import gaussian_smoothing
from optimizers.zero_order.evolution import OnePlusOneES
from optimizers.zero_order.genetic import GeneticAlgorithm
from optimizers.zero_order.nelder_mead import NelderMead, nelder_mead
from optimizers.zero_order.zo_gd import ZeroOrderGD


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


class Counter:
    """Wraps a function and counts its calls."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


class Calls:
    """A callback that counts the iterations."""

    def __init__(self):
        self.n = 0

    def __call__(self, xk):
        self.n += 1


# --------------------------------------------------------------------------- Nelder–Mead stops
def _abs_times(s):
    return lambda t: s * abs(float(mg.to_numpy(t).reshape(-1)[0]))


def _halving_run(s, xatol, fatol):
    f = Counter(_abs_times(s))
    res = nelder_mead(f, [0.0], initial_simplex=[[0.0], [1.0]], xatol=xatol, fatol=fatol,
                      maxiter=100)
    assert res.nfev == f.calls
    return res


@pytest.mark.parametrize("fatol,k", [(2.0 ** -4, 14), (0.5, 11), (3.0, 9)])
@pytest.mark.parametrize("xatol", [0.125, 1e300])
def test_nelder_mead_fatol_decides_the_stop(fatol, k, xatol):
    """s = 1024: df_k = 2^(10 - k), dx_k = 2^-k. xatol = 1/8 holds from k = 3 on (or always,
    xatol = 1e300), so the first k with 2^(10 - k) <= fatol stops the run: fatol = 2^-4: 14
    (equality counts: <=), 1/2: 11, 3: 9; nfev = 2 + 2k."""
    res = _halving_run(1024.0, xatol, fatol)
    assert res.success and res.status == 0
    assert (res.nit, res.nfev) == (k, 2 + 2 * k)
    sim, fs = (mg.to_numpy(a) for a in res.final_simplex)  # on the host
    assert float(np.abs(sim[1] - sim[0]).max()) == 2.0 ** -k
    assert fs[1] - fs[0] == 1024.0 * 2.0 ** -k


@pytest.mark.parametrize("xatol,k", [(2.0 ** -6, 6), (0.3, 2), (1.0, 0)])
def test_nelder_mead_xatol_decides_the_stop(xatol, k):
    """s = 2^-20: df_k = 2^(-20 - k) <= fatol = 1e-4 from k = 0, so the first k with
    2^-k <= xatol stops the run: 2^-6: 6, 0.3: 2, 1: 0 (before any iteration)."""
    res = _halving_run(2.0 ** -20, xatol, 1e-4)
    assert res.success and (res.nit, res.nfev) == (k, 2 + 2 * k)


def test_nelder_mead_flat_values_on_a_wide_simplex():
    """f = 1e-6 ||x||^2 from x0 = (1, 1), Pfeffer's simplex (1, 1), (1.05, 1), (1, 1.05):
    df_0 = 1e-6 (1.05^2 - 1) = 1.025e-7 <= fatol = 1e-4 while dx_0 = 0.05.
    xatol = 0.1 >= dx_0: fatol alone is left to decide, it holds: stop at nit = 0, nfev = 3;
    fatol = 1e-8 < df_0 with the same xatol: no stop at 0."""
    def f(t):
        return 1e-6 * (t * t).sum()

    res = nelder_mead(Counter(f), [1.0, 1.0], xatol=0.1, fatol=1e-4)
    assert res.success and (res.nit, res.nfev) == (0, 3)
    res = nelder_mead(Counter(f), [1.0, 1.0], xatol=0.1, fatol=1e-8)
    assert res.nit > 0


def test_nelder_mead_tolerances_use_the_largest_difference_over_the_vertices():
    """Both tests take the maximum over all vertices, not the distance to one of them.

    Values: f = 1e-6 (x_1^2 + 4 x_2^2) from (1, 1), Pfeffer's simplex: f = 5e-6, 5.1025e-6,
    5.41e-6, so max_i |f_i - f_1| = 4.1e-7 (the second vertex alone: 1.025e-7). xatol = 0.1 >=
    dx_0 = 0.05; fatol = 5e-7 stops at nit = 0, fatol = 2e-7 does not.

    Positions: f constant on the simplex (0, 0), (0.05, 0), (0, 0.2): dx_0 = 0.2 (the second
    vertex alone: 0.05); with xatol = 0.1 one shrink (n + 2 = 4 evaluations) halves it to 0.1:
    nit = 1, nfev = 3 + 4."""
    def f(t):
        return 1e-6 * (t[0] * t[0] + 4.0 * t[1] * t[1])

    res = nelder_mead(Counter(f), [1.0, 1.0], xatol=0.1, fatol=5e-7)
    assert res.success and (res.nit, res.nfev) == (0, 3)
    res = nelder_mead(Counter(f), [1.0, 1.0], xatol=0.1, fatol=2e-7)
    assert res.nit > 0
    res = nelder_mead(Counter(lambda t: 1.0), [0.0, 0.0], xatol=0.1, fatol=0.0,
                      initial_simplex=[[0.0, 0.0], [0.05, 0.0], [0.0, 0.2]])
    assert res.success and (res.nit, res.nfev) == (1, 7)


def test_nelder_mead_constant_function_shrinks_until_xatol():
    """f constant: df = 0 <= fatol (even fatol = 0), every iteration is a shrink (reflection and
    inside contraction, then n = 2 new vertices: 4 evaluations) halving dx from 0.05:
    0.05 / 2^k <= 1e-3 first at k = 6 (0.00078; k = 5: 0.0016). nit = 6, nfev = 3 + 6 * 4."""
    f = Counter(lambda t: 3.0)
    cb = Calls()
    res = minimize(f, [1.0, 1.0], method="nelder-mead", xatol=1e-3, fatol=0.0, callback=cb)
    assert res.success and (res.nit, res.nfev, f.calls, cb.n) == (6, 27, 27, 6)


# --------------------------------------------------------------------------- symmetric smoothing
def _smooth_f(v):
    return float(np.exp(v).sum() + v[0] * v[1] ** 3 + np.sin(v[2]))


def test_symmetric_gaussian_smoothing_formula_with_a_fixed_draw():
    """kind="symmetric" returns (f(x + tau u) - f(x - tau u)) / (2 tau) u with u the next
    standard normal draw of rng; two evaluations; fx, if given, is not used. The forward
    estimate (f(x + tau u) - f(x)) / tau u differs on this non-quadratic f."""
    x, tau = np.array([0.3, -0.7, 1.1]), 0.1
    u = np.random.default_rng(5).standard_normal(3)
    expected = (_smooth_f(x + tau * u) - _smooth_f(x - tau * u)) / (2 * tau) * u
    forward = (_smooth_f(x + tau * u) - _smooth_f(x)) / tau * u
    f = Counter(_smooth_f)
    G = gaussian_smoothing(f, x, tau, B.host_rng(5), kind="symmetric")
    np.testing.assert_allclose(G, expected, rtol=1e-14)
    assert f.calls == 2
    G2 = gaussian_smoothing(f, x, tau, B.host_rng(5), fx=123.0, kind="symmetric")
    np.testing.assert_allclose(G2, expected, rtol=1e-14)
    assert not np.allclose(expected, forward, rtol=1e-3)


A_Q = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, -0.5], [0.0, -0.5, 1.0]])
B_Q = np.array([0.5, -1.0, 2.0])


def _quad(v):
    return float(0.5 * v @ A_Q @ v + B_Q @ v)


@pytest.mark.parametrize("tau", [1e-3, 1.0, 10.0])
def test_symmetric_gaussian_smoothing_on_a_quadratic_is_g_dot_u_times_u(tau):
    """On f = 1/2 x^T A x + b^T x the even terms cancel in f(x + tau u) - f(x - tau u) =
    2 tau u^T (A x + b), so G = (g^T u) u for any tau."""
    x = np.array([1.0, -2.0, 0.5])
    g = A_Q @ x + B_Q
    rng, ref = B.host_rng(11), np.random.default_rng(11)
    for _ in range(5):
        u = ref.standard_normal(3)
        G = gaussian_smoothing(_quad, x, tau, rng, kind="symmetric")
        np.testing.assert_allclose(G, (g @ u) * u, rtol=1e-9 if tau < 1 else 1e-12,
                                   atol=1e-9)


def test_symmetric_gaussian_smoothing_is_unbiased_on_a_quadratic():
    """The mean of N = 20000 estimates at tau = 0.5 is grad f(x) within 4.5 standard errors,
    SE_j = sqrt((||g||^2 + g_j^2) / N) from the closed-form variance above (the seed is fixed,
    so the test is deterministic; a 4.5-sigma deviation has probability below 1e-5 per
    coordinate)."""
    x = np.array([1.0, -2.0, 0.5])
    g = A_Q @ x + B_Q
    N = 20000
    rng = B.host_rng(2024)
    total = np.zeros(3)
    for _ in range(N):
        total += gaussian_smoothing(_quad, x, 0.5, rng, kind="symmetric")
    se = np.sqrt((g @ g + g ** 2) / N)
    assert np.all(np.abs(total / N - g) <= 4.5 * se), (total / N, g, se)


# --------------------------------------------------------------------------- counters: minimize
X0 = [-1.2, 1.0]


@pytest.mark.parametrize("estimator,per_iter", [("two-point", 2), ("gaussian-forward", 2),
                                                ("gaussian-symmetric", 2), ("coordinate", 4)])
@pytest.mark.parametrize("maxiter", [0, 7])
def test_zo_gd_counts(estimator, per_iter, maxiter):
    """maxiter iterations exactly (status 1). Evaluations: forward Gaussian needs f(x_k), known
    from the previous iterate: f(x_0), then 1 + 1 per iteration; the others 2 (2n = 4 for the
    coordinate estimate) per iteration plus f at the end: both 1 + per_iter * maxiter."""
    f, cb = Counter(rosen), Calls()
    res = minimize(f, X0, method="zo-gd", estimator=estimator, maxiter=maxiter, lr=1e-4,
                   callback=cb)
    assert res.status == 1 and res.nit == maxiter == cb.n
    assert res.nfev == f.calls == 1 + per_iter * maxiter
    assert res.njev == 0


def test_zo_gd_stops_at_ftarget_before_any_iteration():
    """f(x0) = 24.2 <= ftarget = 30: success at nit = 0 after the one evaluation at x0."""
    f = Counter(rosen)
    res = minimize(f, X0, method="zo-gd", ftarget=30.0)
    assert res.success and (res.nit, res.nfev, f.calls) == (0, 1, 1)


@pytest.mark.parametrize("kw", [{}, {"maxiter": 10}, {"maxfev": 25}, {"adaptive": True}])
def test_nelder_mead_counts(kw):
    """nfev = the calls (the n + 1 of the initial simplex included), nit = the iterations
    (callback calls); maxiter = 10 is reached exactly; maxfev = 25 stops with nfev = 25 exactly
    (an evaluation past the budget is never made)."""
    f, cb = Counter(rosen), Calls()
    res = minimize(f, X0, method="nelder-mead", callback=cb, **kw)
    assert (res.nfev, res.nit, res.njev) == (f.calls, cb.n, 0)
    if "maxiter" in kw:
        assert res.status == 1 and res.nit == 10
    elif "maxfev" in kw:
        assert res.status == 1 and res.nfev == 25
    else:
        assert res.success


@pytest.mark.parametrize("maxfev,gens", [(60, 10), (59, 9), (6, 1), (5, 0)])
def test_cmaes_counts(maxfev, gens):
    """lambda = 4 + floor(3 ln 2) = 6 evaluations per generation; a generation runs only if it
    fits in maxfev: floor(maxfev / 6) generations, nfev = 6 nit."""
    lam = cma_parameters(2)["lam"]
    assert lam == 6
    f, cb = Counter(rosen), Calls()
    res = minimize(f, X0, method="cma-es", maxfev=maxfev, callback=cb)
    assert res.status == 1
    assert (res.nit, res.nfev, f.calls, cb.n) == (gens, lam * gens, lam * gens, gens)


def test_cmaes_counts_until_convergence():
    f, cb = Counter(rosen), Calls()
    res = minimize(f, X0, method="cma-es", ftarget=1e-10)
    assert res.success and res.nfev == f.calls == 6 * res.nit


@pytest.mark.parametrize("maxfev", [1, 2, 25])
def test_one_plus_one_counts(maxfev):
    """One evaluation at x0, then one per trial until nfev = maxfev: nit = maxfev - 1."""
    f, cb = Counter(rosen), Calls()
    res = minimize(f, X0, method="one-plus-one", maxfev=maxfev, callback=cb)
    assert res.status == 1
    assert (res.nit, res.nfev, f.calls, cb.n) == (maxfev - 1, maxfev, maxfev, maxfev - 1)


def test_one_plus_one_stops_at_ftarget_on_the_start():
    f = Counter(rosen)
    res = minimize(f, X0, method="one-plus-one", ftarget=100.0)
    assert res.success and (res.nit, res.nfev, f.calls) == (0, 1, 1)


@pytest.mark.parametrize("kw,gens", [({"maxgen": 5}, 5), ({"maxgen": 0}, 0),
                                     ({"maxfev": 45}, 4), ({"maxfev": 42}, 4),
                                     ({"maxfev": 41}, 3)])
def test_ga_counts(kw, gens):
    """P = 10, e = 2: P evaluations for the first population, P - e = 8 per generation;
    maxgen generations exactly, or as many as fit in maxfev (45 or 42: 10 + 4 * 8 = 42; 41: 3)."""
    f, cb = Counter(rosen), Calls()
    res = minimize(f, X0, method="ga", popsize=10, elitism=2, callback=cb, **kw)
    assert res.status == 1
    assert (res.nit, res.nfev, f.calls, cb.n) == (gens, 10 + 8 * gens, 10 + 8 * gens, gens)


# --------------------------------------------------------------------------- counters: optimizers
class Tally:
    calls = 0


def _closure(x, tally):
    def closure():
        tally.calls += 1
        return rosen(x)
    return closure


def _run(opt, x, steps):
    tally = Tally()
    for _ in range(steps):
        opt.step(_closure(x, tally))
    return tally.calls


@pytest.mark.parametrize("name,make,first,per_step", [
    ("CMAES", lambda p: CMAES(p), 1 + 6, 6),
    ("OnePlusOneES", lambda p: OnePlusOneES(p), 2, 1),
    ("GeneticAlgorithm", lambda p: GeneticAlgorithm(p, popsize=10, elitism=3), 10 + 7, 7),
    ("ZeroOrderGD two-point", lambda p: ZeroOrderGD(p, lr=1e-4), 3, 3),
    ("ZeroOrderGD forward", lambda p: ZeroOrderGD(p, lr=1e-4, estimator="gaussian-forward"),
     2, 2),
    ("ZeroOrderGD symmetric",
     lambda p: ZeroOrderGD(p, lr=1e-4, estimator="gaussian-symmetric"), 3, 3),
    ("ZeroOrderGD coordinate", lambda p: ZeroOrderGD(p, lr=1e-4, estimator="coordinate"),
     5, 5),
])
def test_zero_order_optimizer_counts(name, make, first, per_step):
    """nfev = the closure calls, exactly, and the closed forms of the docstrings: CMA-ES the
    start and lambda = 6 per generation; (1+1)-ES the start and one trial; the GA the P = 10 of
    the first population and P - e = 7 per generation; ZO-GD f(x_k) and the estimator's
    evaluations (2, 1 with f(x_k) known, 2, 2n = 4). njev = 0."""
    x = mg.Tensor(np.array(X0), requires_grad=True)
    opt = make([x])
    calls = _run(opt, x, 4)
    assert opt.nfev == calls == first + 3 * per_step
    assert opt.njev == 0
    assert opt.step_count == 4


def test_nelder_mead_optimizer_counts_match_the_function():
    """NelderMead: the first step builds Pfeffer's simplex (n + 1 = 3 evaluations) and iterates
    once; each step is one iteration. After K steps nfev equals the calls and equals nfev of
    nelder_mead(maxiter=K) from the same x0 (the same iterations)."""
    for K in (1, 2, 9):
        x = mg.Tensor(np.array(X0), requires_grad=True)
        opt = NelderMead([x])
        calls = _run(opt, x, K)
        ref = nelder_mead(rosen, X0, maxiter=K, xatol=0.0, fatol=0.0)
        assert ref.nit == K
        assert opt.nfev == calls == ref.nfev
        np.testing.assert_allclose(x.numpy(), mg.to_numpy(ref.x), rtol=1e-15)
