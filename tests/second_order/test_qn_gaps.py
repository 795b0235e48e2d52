"""The quasi-Newton optimizers' step with ``lr != 1``, the safeguard of Armijo backtracking's
interpolation, and the evaluation counters of the gradient methods.

* BFGS / L-BFGS as optimizers: the line search starts at ``lr`` times the initial step of
  :func:`~optimizers.second_order.bfgs.quasi_newton` (``min(1, 1/||p_0||)`` on the first
  iteration, then N&W eq. 3.60 or 1); the trial points are read from a closure that logs them.
* ``armijo_backtracking``: trial steps proposed by the quadratic or cubic interpolant outside
  ``[0.1 alpha_i, 0.5 alpha_i]`` are clamped to the nearer end; the exact trial sequence is
  logged by phi.
* ``nfev`` / ``njev`` / ``nhev`` / ``nit`` of ``minimize`` (bfgs, l-bfgs, newton), of the
  optimizers BFGS, LBFGS and Newton, and of ``Objective``: the functions passed in count their own
  calls and the reported counts must equal them exactly; ``nit`` must equal the number of
  callback calls (one per iteration).
"""
import math

import numpy as np
import pytest

import minigrad as mg
from optimizers.line_search import Objective, armijo_backtracking
from optimizers.minimize import minimize
from optimizers.second_order.bfgs import BFGS
from optimizers.second_order.lbfgs import LBFGS
from optimizers.second_order.newton import Newton


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def _host(x):
    """x on the host (the optimizers hand these NumPy functions arrays of their backend)."""
    return np.asarray(mg.to_numpy(x), dtype=float)


def rosen_np(x):
    x = _host(x)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rosen_grad(x):
    x = _host(x)
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def rosen_hess(x):
    x = _host(x)
    n = x.size
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        H[i, i + 1] += -400.0 * x[i]
        H[i + 1, i] += -400.0 * x[i]
        H[i + 1, i + 1] += 200.0
    return H


# f(x) = 1/2 x^T A x - b^T x, A SPD: gradient A x - b, Hessian A, minimiser A^{-1} b
A_Q = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
B_Q = np.array([1.0, -2.0, 0.5])
X_STAR = np.linalg.solve(A_Q, B_Q)


def quad_np(x):
    x = _host(x)
    return float(0.5 * x @ A_Q @ x - B_Q @ x)


def quad_grad(x):
    return A_Q @ _host(x) - B_Q


def quad_mg(x):
    return 0.5 * (x @ (mg.Tensor(A_Q) @ x)) - mg.Tensor(B_Q) @ x


class Counter:
    """Wraps a function and counts its calls (and, for minigrad functions, the calls made with
    gradient recording on, i.e. the evaluations that come with a gradient)."""

    def __init__(self, fn):
        self.fn, self.calls, self.recorded = fn, 0, 0

    def __call__(self, *args):
        self.calls += 1
        self.recorded += mg.is_grad_enabled()
        return self.fn(*args)


class Calls:
    """A callback that counts the iterations."""

    def __init__(self):
        self.n = 0

    def __call__(self, xk):
        self.n += 1


# --------------------------------------------------------------------------- BFGS with lr
def _logging_closure(x, log):
    """f(x) = 1/2 ||x||^2 (gradient x); logs every point where it is evaluated."""
    def closure():
        log.append(x.numpy().copy())
        value = 0.5 * (x * x).sum()
        value.backward()
        return value
    return closure


@pytest.mark.parametrize("cls", [BFGS, LBFGS])
def test_the_wolfe_search_starts_at_lr_times_the_initial_step(cls):
    """f = 1/2 ||x||^2 from x0 = (3, 4), lr = 0.6, H0 = I: p_0 = -x0, ||p_0|| = 5, the first
    trial is alpha = lr min(1, 1/5) = 0.12, x = 0.88 x0 = (2.64, 3.52); it satisfies strong
    Wolfe (phi'(0.12) / phi'(0) = 0.88 <= c2 = 0.9, and sufficient decrease), so it is accepted
    and the step makes 2 evaluations (x0, the trial). With lr ignored the trial would be 0.8 x0.

    Second step: y_0 = s_0 (the Hessian is I), so H_1 = I (BFGS; L-BFGS with any H0 scaling
    gamma = s^T y / y^T y = 1), p_1 = -x1. BFGS's "interpolate" rule, N&W eq. 3.60:
    alpha = min(1, 1.01 * 2 (f_1 - f_0) / phi'(0)) with f_0 = 12.5, f_1 = 0.88^2 * 12.5 = 9.68,
    phi'(0) = -||x1||^2 = -19.36, i.e. 1.01 * 2 * 2.82 / 19.36 = 0.29423, times lr: 0.17654;
    L-BFGS's "unit" rule: 1 times lr = 0.6. Both trials are accepted (1 - alpha <= 0.9)."""
    x = mg.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    log = []
    opt = cls([x], lr=0.6)
    opt.step(_logging_closure(x, log))
    assert len(log) == 2
    np.testing.assert_allclose(log[1], [2.64, 3.52], rtol=1e-14)
    np.testing.assert_allclose(x.numpy(), [2.64, 3.52], rtol=1e-14)
    assert (opt.nfev, opt.njev) == (2, 2)
    opt.step(_logging_closure(x, log))
    alpha = 0.6 * (1.01 * 2.0 * (12.5 - 9.68) / 19.36 if cls is BFGS else 1.0)
    x2 = (1.0 - alpha) * np.array([2.64, 3.52])
    assert len(log) == 4
    np.testing.assert_allclose(log[2], [2.64, 3.52], rtol=1e-14)  # the fresh f_1, grad f_1
    np.testing.assert_allclose(log[3], x2, rtol=1e-12)
    np.testing.assert_allclose(x.numpy(), x2, rtol=1e-12)
    assert (opt.nfev, opt.njev) == (4, 4)
    assert opt.vstate["k"] == 2


@pytest.mark.parametrize("lr", [2.0, 0.25])
def test_the_first_trial_is_lr_times_min_1_over_norm_p0(lr):
    """The first trial point is x0 - lr min(1, 1/||g0||) g0 whatever lr: on f = 1/2 ||x||^2
    from (6, 8) it is (1 - lr / 10) x0 (lr = 2: 0.8 x0; lr = 0.25: 0.975 x0)."""
    x = mg.Tensor(np.array([6.0, 8.0]), requires_grad=True)
    log = []
    BFGS([x], lr=lr).step(_logging_closure(x, log))
    np.testing.assert_allclose(log[1], (1.0 - lr / 10.0) * np.array([6.0, 8.0]), rtol=1e-14)


@pytest.mark.parametrize("cls", [BFGS, LBFGS])
def test_fixed_step_lr_times_the_initial_step(cls):
    """line_search=None: x_1 = x_0 + lr min(1, 1/||p_0||) p_0, then x_{k+1} = x_k + lr p_k.
    f = 1/2 ||x||^2 from (3, 4), lr = 0.6: x1 = 0.88 x0, and with H_1 = I, x2 = 0.4 x1."""
    x = mg.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    log = []
    opt = cls([x], lr=0.6, line_search=None)
    opt.step(_logging_closure(x, log))
    np.testing.assert_allclose(x.numpy(), [2.64, 3.52], rtol=1e-14)
    opt.step(_logging_closure(x, log))
    np.testing.assert_allclose(x.numpy(), [1.056, 1.408], rtol=1e-12)
    assert len(log) == 2 and (opt.nfev, opt.njev) == (2, 2)  # one evaluation per step


# --------------------------------------------------------------------------- Armijo safeguard
def _logged(phi):
    log = []

    def f(alpha):
        log.append(alpha)
        return phi(alpha)
    return f, log


def test_armijo_quadratic_step_above_half_is_clamped_to_half():
    """phi(a) = -a + 0.7 a^2, phi'(0) = -1, c1 = 0.4. phi(1) = -0.3 > -0.4: rejected. The
    quadratic through phi(0), phi'(0), phi(1) is phi itself, minimiser 1 / 1.4 = 0.714 >
    0.5 * 1: the trial is 0.5. phi(0.5) = -0.325 <= -0.2: accepted."""
    phi, log = _logged(lambda a: -a + 0.7 * a * a)
    res = armijo_backtracking(phi, 0.0, -1.0, alpha0=1.0, c1=0.4)
    assert log == [1.0, 0.5]
    assert res.success and res.alpha == 0.5 and res.nfev == 2


def test_armijo_interpolated_steps_outside_the_interval_are_clamped_to_its_ends():
    """phi(a) = -a + 1e4 a^4, phi'(0) = -1, c1 = 1e-4, alpha0 = 1.

    * a = 1: phi = 9999, rejected; quadratic minimiser -phi'(0) / (2 (phi(1) - phi(0) -
      phi'(0))) = 1 / 20000 = 5e-5 < 0.1: clamped up to 0.1;
    * a = 0.1: phi = 0.9, rejected; the cubic through phi(0), phi'(0), phi(0.1), phi(1),
      A t^3 + C t^2 - t with A 0.1^3 + C 0.1^2 = 1, A + C = 1e4 (A = 11000, C = -1000), has
      its minimiser at (-C + sqrt(C^2 + 3A)) / (3A) = 0.0611 > 0.05: clamped down to 0.05;
    * a = 0.05: phi = 0.0125, rejected; the cubic through phi(0.05), phi(0.1)
      (A = 1500, C = -50) has its minimiser at 0.0297 > 0.025: clamped down to 0.025;
    * a = 0.025: phi = -0.02109 <= -2.5e-6: accepted.
    """
    phi, log = _logged(lambda a: -a + 1e4 * a ** 4)
    res = armijo_backtracking(phi, 0.0, -1.0, alpha0=1.0)
    assert log == [1.0, 0.1, 0.05, 0.025]
    for (A, C), a in (((11000.0, -1000.0), 0.1), ((1500.0, -50.0), 0.05)):
        assert (-C + math.sqrt(C * C + 3.0 * A)) / (3.0 * A) > 0.5 * a  # outside, above
    assert res.success and res.alpha == 0.025 and res.nfev == 4


def test_armijo_cubic_step_below_a_tenth_is_clamped_to_a_tenth():
    """phi(a) = -a + 1.3 a^2, plus 1000 on (0.2, 0.9) (a wall that interpolation cannot see).

    * a = 1: phi = 0.3, rejected; the quadratic minimiser 1 / 2.6 = 0.3846 lies in
      [0.1, 0.5]: taken as it is (no clamp);
    * a = 1/2.6: phi = 1000 - 0.1923, rejected; the cubic through phi(0), phi'(0), phi(1/2.6),
      phi(1) rises so steeply that its minimiser is about 4.6e-5 < 0.1 / 2.6: clamped up to
      0.1 / 2.6;
    * a = 0.1 / 2.6: phi = -0.0365 <= c1 a phi'(0): accepted."""
    def phi_fn(a):
        return -a + 1.3 * a * a + (1000.0 if 0.2 < a < 0.9 else 0.0)

    phi, log = _logged(phi_fn)
    res = armijo_backtracking(phi, 0.0, -1.0, alpha0=1.0)
    assert len(log) == 3
    assert log[0] == 1.0
    assert log[1] == pytest.approx(1.0 / 2.6, rel=1e-12)
    assert log[2] == 0.1 * log[1]
    # the unclamped cubic minimiser, solved here independently
    a, b = log[1], 1.0
    r = np.array([phi_fn(a) + a, phi_fn(b) + b])
    A, C = np.linalg.solve(np.array([[a ** 3, a ** 2], [b ** 3, b ** 2]]), r)
    assert (-C + math.sqrt(C * C + 3.0 * A)) / (3.0 * A) < 0.1 * a
    assert res.success and res.alpha == log[2]


# --------------------------------------------------------------------------- counters: minimize
GRAD_METHODS = ["bfgs", "l-bfgs"]
PROBLEMS = {
    "rosenbrock": (rosen_np, rosen_grad, rosen, [-1.2, 1.0]),
    "quadratic": (quad_np, quad_grad, quad_mg, [2.0, -1.0, 3.0]),
}


@pytest.mark.parametrize("method", GRAD_METHODS)
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_quasi_newton_counts_with_a_separate_jac(method, problem):
    """jac a callable: f and the gradient are separate calls, nfev counts the calls of f and
    njev those of jac, exactly; nit the iterations (callback calls)."""
    f_np, g_np, _, x0 = PROBLEMS[problem]
    f, g, cb = Counter(f_np), Counter(g_np), Calls()
    res = minimize(f, x0, method=method, jac=g, callback=cb)
    assert res.success
    assert (res.nfev, res.njev, res.nit) == (f.calls, g.calls, cb.n)
    assert res.nit > 0 and res.nfev > res.nit


@pytest.mark.parametrize("method", GRAD_METHODS)
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_quasi_newton_counts_with_jac_true_and_with_minigrad(method, problem):
    """jac=True (f returns (f, g)) and jac=None (minigrad): every call gives f and the gradient,
    so nfev = njev = the number of calls; with minigrad every call is recorded (a gradient)."""
    f_np, g_np, f_mg, x0 = PROBLEMS[problem]
    both = Counter(lambda x: (f_np(x), g_np(x)))
    cb = Calls()
    res = minimize(both, x0, method=method, jac=True, callback=cb)
    assert res.success and (res.nfev, res.njev, res.nit) == (both.calls, both.calls, cb.n)
    auto, cb = Counter(f_mg), Calls()
    res = minimize(auto, x0, method=method, callback=cb)
    assert res.success and (res.nfev, res.njev, res.nit) == (auto.calls, auto.calls, cb.n)
    assert auto.recorded == auto.calls


@pytest.mark.parametrize("method", GRAD_METHODS + ["newton"])
def test_a_start_at_the_minimiser_stops_at_once(method):
    """x0 = A^{-1} b: grad f(x0) = A x0 - b is (to rounding) 0 <= gtol, so the run stops before
    any iteration: nit = 0, one evaluation of f and one of the gradient, no Hessian."""
    f, g, cb = Counter(quad_np), Counter(quad_grad), Calls()
    kw = dict(hess=lambda x: A_Q) if method == "newton" else {}
    res = minimize(f, X_STAR, method=method, jac=g, callback=cb, **kw)
    assert res.success and res.nit == 0 and cb.n == 0
    assert (res.nfev, res.njev, f.calls, g.calls) == (1, 1, 1, 1)
    if method == "newton":
        assert res.nhev == 0


@pytest.mark.parametrize("method", GRAD_METHODS + ["newton"])
@pytest.mark.parametrize("maxiter", [0, 1, 3])
def test_maxiter_is_reached_exactly(method, maxiter):
    """Rosenbrock from (-1.2, 1) needs more than 3 iterations: the run makes exactly maxiter of
    them (status 1) and the counts equal the calls (maxiter = 0: only the start, 1 call each)."""
    f, g, cb = Counter(rosen_np), Counter(rosen_grad), Calls()
    kw = {}
    if method == "newton":
        h = Counter(rosen_hess)
        kw = dict(hess=h)
    res = minimize(f, [-1.2, 1.0], method=method, jac=g, callback=cb, maxiter=maxiter, **kw)
    assert res.status == 1 and not res.success
    assert res.nit == maxiter == cb.n
    assert (res.nfev, res.njev) == (f.calls, g.calls)
    if method == "newton":
        assert res.nhev == h.calls == maxiter  # one Hessian per iteration
        assert res.njev == maxiter + 1         # the start and each new point
    if maxiter == 0:
        assert (res.nfev, res.njev) == (1, 1)


@pytest.mark.parametrize("line_search", ["armijo", None])
@pytest.mark.parametrize("solver", ["dense", "cg"])
def test_newton_counts_on_rosenbrock(line_search, solver):
    """Newton with jac and hess (dense) or hessp (CG) given: nfev, njev, nhev equal the calls
    of f, jac and hess / hessp; nit the callback calls; one gradient at x0 and one per new
    point (njev = nit + 1); the dense solver takes one Hessian per iteration."""
    f, g, cb = Counter(rosen_np), Counter(rosen_grad), Calls()
    h = Counter(rosen_hess)
    hp = Counter(lambda x, v: rosen_hess(x) @ _host(v))
    kw = dict(hess=h) if solver == "dense" else dict(hessp=hp)
    res = minimize(f, [-1.2, 1.0], method="newton", jac=g, callback=cb,
                   line_search=line_search, solver=solver, maxiter=50, **kw)
    assert res.nit == cb.n and res.nit > 1
    assert (res.nfev, res.njev) == (f.calls, g.calls)
    assert res.nhev == (h.calls if solver == "dense" else hp.calls)
    assert res.njev == res.nit + 1
    if solver == "dense":
        assert res.nhev == res.nit
    if line_search is None:
        assert res.nfev == res.njev  # pure Newton evaluates f only with its gradient


@pytest.mark.parametrize("line_search", ["armijo", None])
def test_newton_on_a_quadratic_takes_one_step_with_known_counts(line_search):
    """On a quadratic the Newton step from any x0 lands on A^{-1} b: nit = 1. Counts: f and
    grad at x0, the Hessian, (damped: one Armijo trial at alpha = 1, accepted, since
    f(x0 + d) = f(x0) - 1/2 g^T A^{-1} g <= f(x0) + c1 g^T d), f and grad at x1: nfev = 3
    (damped) or 2 (pure), njev = 2, nhev = 1. With minigrad the same counts, and the calls of
    f are nfev + nhev in all (minigrad.hessian evaluates f once), nfev - njev of them without
    a gradient."""
    f, g, h, cb = Counter(quad_np), Counter(quad_grad), Counter(lambda x: A_Q), Calls()
    res = minimize(f, [2.0, -1.0, 3.0], method="newton", jac=g, hess=h, callback=cb,
                   line_search=line_search)
    expected = (3 if line_search else 2, 2, 1, 1)
    assert res.success
    assert (res.nfev, res.njev, res.nhev, res.nit) == expected
    assert (f.calls, g.calls, h.calls, cb.n) == expected
    auto = Counter(quad_mg)
    res = minimize(auto, [2.0, -1.0, 3.0], method="newton", line_search=line_search,
                   trial_gradient=False)  # trials of f alone (minigrad's default: with g)
    assert (res.nfev, res.njev, res.nhev, res.nit) == expected
    assert auto.calls == res.nfev + res.nhev
    assert auto.calls - auto.recorded == res.nfev - res.njev


@pytest.mark.parametrize("solver", ["dense", "cg"])
def test_newton_counts_with_minigrad(solver):
    """jac=None: every call of f is counted once, as f (nfev, with or without a gradient) or as
    a Hessian or Hessian-vector product (nhev; each records f once more)."""
    auto, cb = Counter(rosen), Calls()
    res = minimize(auto, [-1.2, 1.0], method="newton", solver=solver, callback=cb)
    assert res.success and res.nit == cb.n
    assert auto.calls == res.nfev + res.nhev
    assert auto.calls - auto.recorded == res.nfev - res.njev


# --------------------------------------------------------------------------- counters: Objective
@pytest.mark.parametrize("mode", ["separate", "combined", "autodiff"])
def test_objective_counts_f_and_gradient_calls(mode):
    """Objective.f, .fg, .g in the three modes: separate, f -> f; fg -> f and jac; g -> jac
    only. Combined (jac=True) and minigrad: every call gives both, so g counts as fg."""
    f = Counter(quad_np)
    g = Counter(quad_grad)
    both = Counter(lambda x: (quad_np(x), quad_grad(x)))
    auto = Counter(quad_mg)
    x = mg.backend.asarray(np.array([1.0, 2.0, -1.0]))  # on the backend of quad_mg's Tensors
    if mode == "separate":
        obj = Objective(f, x, jac=g)
    elif mode == "combined":
        obj = Objective(both, x, jac=True)
    else:
        obj = Objective(auto, x)
    v = obj.f(x)
    assert v == pytest.approx(quad_np(x), rel=1e-14)
    obj.fg(x)
    obj.fg(x)
    np.testing.assert_allclose(mg.to_numpy(obj.g(x)), quad_grad(x), rtol=1e-14)
    if mode == "separate":
        assert (obj.nfev, obj.njev) == (3, 3) == (f.calls, g.calls)
    elif mode == "combined":
        assert (obj.nfev, obj.njev) == (4, 3) and both.calls == 4
    else:
        assert (obj.nfev, obj.njev) == (4, 3) and auto.calls == 4 and auto.recorded == 3


# --------------------------------------------------------------------------- counters: optimizers
class Tally:
    calls = 0


def _counted_closure(x, loss, counter):
    def closure():
        counter.calls += 1
        value = loss(x)
        value.backward()
        return value
    return closure


@pytest.mark.parametrize("cls", [BFGS, LBFGS])
@pytest.mark.parametrize("max_iter", [1, 4])
def test_quasi_newton_optimizer_counts_every_closure_call(cls, max_iter):
    """Each closure call gives the loss and the gradient: nfev = njev = the calls, summed over
    steps; vstate["k"] counts the iterations (max_iter per step while far from the minimum)."""
    x = mg.Tensor(np.array([-1.2, 1.0]), requires_grad=True)
    opt = cls([x], max_iter=max_iter)
    counter = Tally()
    for _ in range(5):
        opt.step(_counted_closure(x, rosen, counter))
    assert (opt.nfev, opt.njev) == (counter.calls, counter.calls)
    assert opt.vstate["k"] == 5 * max_iter
    assert counter.calls > 5 * max_iter


@pytest.mark.parametrize("cls", [BFGS, LBFGS])
def test_quasi_newton_optimizer_at_the_minimiser_evaluates_once(cls):
    """At a point with gradient 0 a step evaluates the closure once and iterates 0 times."""
    x = mg.Tensor(X_STAR.copy(), requires_grad=True)
    opt = cls([x])
    counter = Tally()
    opt.step(_counted_closure(x, quad_mg, counter))
    opt.step(_counted_closure(x, quad_mg, counter))
    assert counter.calls == 2 and (opt.nfev, opt.njev) == (2, 2)
    assert opt.vstate.get("k", 0) == 0


class NewtonClosure:
    """The loss as a recorded Tensor (no backward), counting calls and those under no_grad."""

    def __init__(self, x, loss):
        self.x, self.loss, self.calls, self.plain = x, loss, 0, 0

    def __call__(self):
        self.calls += 1
        self.plain += not mg.is_grad_enabled()
        return self.loss(self.x)


@pytest.mark.parametrize("line_search", ["armijo", None])
def test_newton_optimizer_counts_on_a_quadratic(line_search):
    """Each step on a quadratic: the loss and gradient at x_k, the Hessian, (damped: one
    accepted Armijo trial, f only), the loss and gradient at x_{k+1}: per step nfev = 3 or 2,
    njev = 2, nhev = 1, i.e. 4 or 3 closure calls, 1 or 0 of them without gradient recording."""
    x = mg.Tensor(np.array([2.0, -1.0, 3.0]), requires_grad=True)
    opt = Newton([x], line_search=line_search)
    closure = NewtonClosure(x, quad_mg)
    for _ in range(3):
        opt.step(closure)
    per = (3, 2, 1) if line_search else (2, 2, 1)
    assert (opt.nfev, opt.njev, opt.nhev) == tuple(3 * c for c in per)
    assert closure.calls == opt.nfev + opt.nhev
    assert closure.plain == opt.nfev - opt.njev
    np.testing.assert_allclose(x.numpy(), X_STAR, rtol=1e-12)


@pytest.mark.parametrize("solver", ["dense", "cg"])
def test_newton_optimizer_counts_on_rosenbrock(solver):
    """Damped Newton on Rosenbrock (several Armijo trials in the first steps): the closure calls
    are nfev + nhev, those without recording nfev - njev; njev = 2 per step; dense: nhev = 1 per
    step."""
    x = mg.Tensor(np.array([-1.2, 1.0]), requires_grad=True)
    opt = Newton([x], solver=solver)
    closure = NewtonClosure(x, rosen)
    for _ in range(6):
        opt.step(closure)
    assert closure.calls == opt.nfev + opt.nhev
    assert closure.plain == opt.nfev - opt.njev
    assert opt.njev == 12
    if solver == "dense":
        assert opt.nhev == 6
    assert opt.nfev > opt.njev  # some trials were rejected
