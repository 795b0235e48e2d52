r"""Property-based tests of the SGD theorems (docs/lectures.md section 1, items 1-4; L1, L2).

Each test draws a problem from the class its theorem covers (hypothesis: data seed, sizes,
:math:`\mu`, start, step within the theorem's range), runs ``optimizers.SGD`` with a step the
theorem allows, and asserts the bound **in expectation**:

* ``S = 40`` independent runs of the same problem are made at once: the parameter is an
  ``(S, d)`` Tensor whose row ``s`` is run ``s``; the loss is the sum over the rows of each row's
  own single-sample loss :math:`f_{i_s}(x_s)` (built with minigrad ops, differentiated by the
  engine), so the gradient of row ``s`` is :math:`\nabla f_{i_s}(x_s)` and one
  ``opt.step()`` is one SGD step of every run. The indices come from one seeded host generator:
  the tests are deterministic.
* The statistical margin: at every iteration :math:`k` the mean over the runs minus **3
  standard errors** must lie below the bound (if the true expectation is below the bound, the
  sample mean exceeds it by more than 3 SE with probability about 0.1% per iteration by the
  central limit theorem; the bounds are far from tight except in the first, nearly
  deterministic, iterations, so the test is not flaky in practice and it is deterministic
  anyway).
* :math:`\sigma^2` is computed honestly: the exact :math:`\sigma^2(x)=\frac1n\sum_i\|\nabla
  f_i(x)\|^2` at every iterate :math:`x_0..x_{K-1}` of every run, and its maximum (the region
  visited) goes into the bound.

Each theorem has a companion test that feeds the same check a run that breaks the theorem's
assumptions (a biased gradient: ``g + delta``, or no noise floor) and asserts that it fails.

Problem classes: strongly convex (theorems 1, 2): ``LogisticRegression`` with :math:`\mu>0`,
and for theorem 1 also ``LeastSquares`` with :math:`m\ge 3d` (:math:`\mu=\lambda_{\min}>0`).
Convex, not strongly convex (theorems 3, 4): ``LogisticRegression`` with :math:`\mu=0` on
non-separable data (:math:`x^*` by ``problems.newton_minimize``; a draw whose data turn out
separable is rejected) and rank-deficient ``LeastSquares`` (:math:`A=GP` of rank
:math:`r<d`; :math:`x^*` the projection of :math:`x_0` onto the set of minimisers). On least
squares the step is also capped at :math:`1/\max_i\|a_i\|^2` (the per-sample smoothness), so
that no single-sample step diverges and :math:`\sigma^2` over the visited region stays finite.
"""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import optimizers
import schedules
from problems import LeastSquares, LogisticRegression, newton_minimize

S = 40          # independent runs per example
Z = 3.0         # margin: mean - Z standard errors must lie below the bound
PROPERTY = settings(deadline=None, derandomize=True, max_examples=25)


# --------------------------------------------------------------------------- S runs at once
class Stacked:
    """A logistic regression or least squares problem seen by ``S`` parallel runs: full
    objective, per-sample gradients and :math:`\\sigma^2` for every row of an (S, d) array
    (closed forms, checked against the problem's engine in
    :func:`test_stacked_view_matches_the_problem`), and the stacked mini-batch loss as a
    minigrad Tensor."""

    def __init__(self, problem, x_star, f_star):
        self.p = problem
        self.A = np.asarray(mg.to_numpy(problem.A))
        self.logistic = isinstance(problem, LogisticRegression)
        self.t = np.asarray(mg.to_numpy(problem.y if self.logistic else problem.b))
        self.mu = float(problem.mu) if self.logistic else 0.0
        self.n, self.d = self.A.shape
        self.L = float(problem.L)
        self.x_star = np.asarray(x_star, dtype=float)
        self.f_star = float(f_star)

    def f(self, X):
        Z_ = X @ self.A.T
        if self.logistic:
            return (np.logaddexp(0.0, -self.t * Z_).mean(axis=1)
                    + 0.5 * self.mu * np.sum(X * X, axis=1))
        return 0.5 * np.mean((Z_ - self.t) ** 2, axis=1)

    def per_sample_grads(self, X):
        Z_ = X @ self.A.T                                          # (S, n)
        if self.logistic:
            c = -self.t * 0.5 * (1.0 + np.tanh(-0.5 * self.t * Z_))  # -y sigma(-y a.x)
            return self.mu * X[:, None, :] + c[:, :, None] * self.A[None]
        return (Z_ - self.t)[:, :, None] * self.A[None]

    def sigma2(self, X):
        G = self.per_sample_grads(X)
        return np.mean(np.sum(G * G, axis=2), axis=1)

    def batch_loss(self, X, idx):
        """sum_s mean_{i in idx[s]} f_i(x_s): row s's gradient is row s's mini-batch gradient."""
        # the data next to the iterates (X lives on the session's backend)
        A_idx = mg.backend.asarray(self.A[idx], backend=X.backend)  # (S, B, d)
        t_idx = mg.backend.asarray(self.t[idx], backend=X.backend)  # (S, B)
        z = mg.sum(A_idx * mg.reshape(X, (X.shape[0], 1, self.d)), axis=2)
        if self.logistic:
            terms = mg.softplus(-(z * t_idx)) + 0.5 * self.mu * mg.sum(X * X, axis=1,
                                                                        keepdims=True)
        else:
            r = z - t_idx
            terms = 0.5 * (r * r)
        return mg.sum(mg.mean(terms, axis=1))


def run_sgd(st_, x0, lr, steps, seed, batch=1, bias=None, average=None):
    """``S`` SGD runs of ``steps`` steps from ``x0``. Returns the gaps :math:`f(x_k)-f^*`
    (steps+1, S), the averaged-iterate gaps (``average`` "uniform" or "weighted"; row k is
    :math:`\\bar x_k` over :math:`t<k`, row 0 NaN) and :math:`\\sigma^2_{\\max}` over
    :math:`x_0..x_{K-1}`. ``bias``: a vector added to every gradient (a broken update)."""
    rng = np.random.default_rng(seed)
    X = mg.Tensor(np.tile(np.asarray(x0, dtype=float), (S, 1)), requires_grad=True)
    opt = optimizers.SGD([X], lr=lr)
    gaps = np.empty((steps + 1, S))
    avg = np.full((steps + 1, S), np.nan)
    x_sum, w_sum, sigma2_max = np.zeros((S, st_.d)), 0.0, 0.0
    for k in range(steps + 1):
        X_host = mg.to_numpy(X.data)  # the closed forms of Stacked compute on the host
        gaps[k] = st_.f(X_host) - st_.f_star
        if average and k > 0:
            avg[k] = st_.f(x_sum / w_sum) - st_.f_star
        if k == steps:
            break
        sigma2_max = max(sigma2_max, float(np.max(st_.sigma2(X_host))))
        x_k = X_host.copy()
        idx = rng.integers(0, st_.n, size=(S, batch))
        opt.zero_grad()
        st_.batch_loss(X, idx).backward()
        if bias is not None:
            X.grad = X.grad + mg.backend.asarray(bias[None, :], backend=X.backend)
        opt.step()
        w = 1.0 if average != "weighted" else opt.last_lr[0]
        x_sum += w * x_k
        w_sum += w
    return gaps, avg, sigma2_max


def worst_excess(samples, bound, first=0):
    """max over k >= first of (mean - Z SE - bound): <= 0 means the bound holds in
    expectation at every k within the statistical margin."""
    mean = samples.mean(axis=1)
    se = samples.std(axis=1, ddof=1) / math.sqrt(samples.shape[1])
    return float(np.max((mean - Z * se - bound)[first:]))


# --------------------------------------------------------------------------- problem draws
def unit(rng, d):
    u = rng.standard_normal(d)
    return u / np.linalg.norm(u)


@st.composite
def strongly_convex(draw, allow_least_squares=True):
    """A strongly convex finite sum, its x*, f* and a start."""
    kind = draw(st.sampled_from(["logistic", "least squares"] if allow_least_squares
                                else ["logistic"]))
    seed = draw(st.integers(0, 10_000))
    d = draw(st.integers(2, 5))
    m = draw(st.integers(3 * d, 12 * d))
    dist = draw(st.floats(0.0, 3.0))
    rng = np.random.default_rng(seed + 1)
    if kind == "logistic":
        mu = draw(st.floats(0.1, 2.0))
        p = LogisticRegression(m=m, dim=d, mu=mu, seed=seed)
    else:
        p = LeastSquares(m=m, dim=d, noise=draw(st.floats(0.3, 1.5)), seed=seed)
    x_star = np.asarray(mg.to_numpy(p.x_star))
    return Stacked(p, x_star, p.f_star), x_star + dist * unit(rng, d), seed


@st.composite
def convex(draw):
    """A convex, not strongly convex finite sum (mu = 0), a minimiser, f* and a start."""
    kind = draw(st.sampled_from(["logistic", "least squares"]))
    seed = draw(st.integers(0, 10_000))
    d = draw(st.integers(2, 5))
    m = draw(st.integers(15 * d, 30 * d))
    dist = draw(st.floats(0.3, 3.0))
    rng = np.random.default_rng(seed + 1)
    if kind == "logistic":
        p = LogisticRegression(m=m, dim=d, mu=0.0, seed=seed,
                               label_noise=draw(st.floats(1.0, 3.0)))
        try:
            # newton_minimize runs on the backend of its start: the problem's
            x_star, _ = newton_minimize(lambda z: p.f(z), mg.backend.asarray(np.zeros(d)))
        except RuntimeError:   # separable data: no minimiser
            assume(False)
        x_star = np.asarray(mg.to_numpy(x_star))
        x0 = x_star + dist * unit(rng, d)
        return Stacked(p, x_star, p.value(x_star)), x0, seed
    r = draw(st.integers(1, d - 1))                      # rank r < d: singular design
    A = rng.standard_normal((m, r)) @ rng.standard_normal((r, d)) / math.sqrt(r)
    b = A @ rng.standard_normal(d) + draw(st.floats(0.3, 1.5)) * rng.standard_normal(m)
    p = LeastSquares(A=A, b=b)
    x_mn = np.asarray(mg.to_numpy(p.x_star))             # the minimum-norm minimiser
    x0 = x_mn + dist * unit(rng, d)
    x_star = x_mn + (x0 - np.linalg.pinv(A) @ (A @ x0))  # the minimiser nearest to x0
    return Stacked(p, x_star, p.f_star), x0, seed


def ls_cap(st_):
    """The per-sample stability cap 1/max_i ||a_i||^2 on least squares (inf for logistic)."""
    return math.inf if st_.logistic else 1.0 / float(np.max(np.sum(st_.A ** 2, axis=1)))


# --------------------------------------------------------------------------- the helpers
def test_stacked_view_matches_the_problem():
    """The closed forms of the stacked view agree with the problems' own engine results."""
    for p in (LogisticRegression(m=30, dim=3, mu=0.5, seed=1),
              LeastSquares(m=30, dim=3, noise=0.5, seed=1)):
        sv = Stacked(p, mg.to_numpy(p.x_star), p.f_star)
        X = np.random.default_rng(0).standard_normal((4, 3))
        np.testing.assert_allclose(sv.f(X), [p.value(x) for x in X], rtol=1e-12)
        np.testing.assert_allclose(sv.sigma2(X), [p.sigma2(x) for x in X], rtol=1e-12)
        idx = np.random.default_rng(1).integers(0, 30, size=(4, 2))
        Xt = mg.Tensor(X.copy(), requires_grad=True)
        sv.batch_loss(Xt, idx).backward()
        for s in range(4):
            np.testing.assert_allclose(mg.to_numpy(Xt.grad)[s],
                                       mg.to_numpy(p.grad_batch(X[s], idx[s])), rtol=1e-10,
                                       atol=1e-14)


# --------------------------------------------------------------------------- theorem 1
@pytest.mark.slow
@PROPERTY
@given(problem=strongly_convex(), frac=st.floats(0.05, 0.95))
def test_theorem1_constant_step_bound_in_expectation(problem, frac):
    r"""Theorem 1: :math:`\alpha<\frac1{2\mu}` gives
    :math:`\mathbb E[f(x_k)-f^*]\le(1-2\alpha\mu)^k(f(x_0)-f^*)+\frac{L\sigma^2\alpha}{4\mu}`."""
    st_, x0, seed = problem
    mu, L = float(st_.p.mu), st_.L
    alpha = min(frac / (2 * mu), ls_cap(st_))
    K = 120
    gaps, _, sigma2 = run_sgd(st_, x0, alpha, K, seed)
    k = np.arange(K + 1)
    bound = (1 - 2 * alpha * mu) ** k * gaps[0, 0] + L * sigma2 * alpha / (4 * mu)
    assert worst_excess(gaps, bound) <= 0


@pytest.mark.slow
@PROPERTY
@given(problem=strongly_convex(), frac=st.floats(0.2, 0.95))
def test_theorem1_constant_step_does_not_converge(problem, frac):
    """The floor term is needed: without it (the linear term alone, which is what a converging
    method would satisfy) the same check fails, i.e. a constant step does not converge."""
    st_, x0, seed = problem
    mu = float(st_.p.mu)
    alpha = min(frac / (2 * mu), ls_cap(st_))
    K = 120
    assume((1 - 2 * alpha * mu) ** K < 1e-6)
    gaps, _, _ = run_sgd(st_, x0, alpha, K, seed)
    linear_only = (1 - 2 * alpha * mu) ** np.arange(K + 1) * gaps[0, 0]
    assert worst_excess(gaps, linear_only) > 0


def biased_logistic():
    """A fixed strongly convex logistic instance for the companions (m=40, d=3, mu=1)."""
    p = LogisticRegression(m=40, dim=3, mu=1.0, seed=3)
    x_star = np.asarray(mg.to_numpy(p.x_star))
    return Stacked(p, x_star, p.f_star), x_star + np.array([1.0, -1.0, 0.5])


def test_theorem1_check_fails_for_a_biased_gradient():
    """Companion: a constant bias delta in the gradient (so E[g] != grad f) moves the fixed
    point to where grad f = -delta; with the same step and the honest sigma^2 the bound fails."""
    st_, x0 = biased_logistic()
    alpha, mu, K = 0.1, 1.0, 150
    delta = np.array([2.0, 1.0, -1.0])
    gaps, _, sigma2 = run_sgd(st_, x0, alpha, K, seed=0, bias=delta)
    bound = (1 - 2 * alpha * mu) ** np.arange(K + 1) * gaps[0, 0] + st_.L * sigma2 * alpha / (
        4 * mu)
    assert worst_excess(gaps, bound) > 0
    gaps_ok, _, sigma2_ok = run_sgd(st_, x0, alpha, K, seed=0)   # unbiased: it holds
    bound_ok = (1 - 2 * alpha * mu) ** np.arange(K + 1) * gaps_ok[0, 0] + (
        st_.L * sigma2_ok * alpha / (4 * mu))
    assert worst_excess(gaps_ok, bound_ok) <= 0


# --------------------------------------------------------------------------- theorem 2
@pytest.mark.slow
@PROPERTY
@given(problem=strongly_convex(allow_least_squares=False))
def test_theorem2_decreasing_step_bound_in_expectation(problem):
    r"""Theorem 2: :math:`\alpha_k=\frac{2k+1}{2\mu(k+1)^2}` gives
    :math:`\mathbb E[f(x_k)-f^*]\le\frac{L\sigma^2}{2\mu^2k}` for :math:`k\ge1`, from any
    start."""
    st_, x0, seed = problem
    mu, L = float(st_.p.mu), st_.L
    K = 150
    gaps, _, sigma2 = run_sgd(st_, x0, schedules.StronglyConvexSGDStep(mu), K, seed)
    k = np.arange(K + 1)
    bound = np.concatenate([[np.inf], L * sigma2 / (2 * mu ** 2 * k[1:])])
    assert worst_excess(gaps, bound, first=1) <= 0


def test_theorem2_check_fails_for_a_biased_gradient():
    """Companion: with a biased gradient the gap stalls at a positive level while the bound
    L sigma^2 / (2 mu^2 k) goes to 0: the same check fails."""
    st_, x0 = biased_logistic()
    K = 300
    gaps, _, sigma2 = run_sgd(st_, x0, schedules.StronglyConvexSGDStep(1.0), K, seed=0,
                              bias=np.array([2.0, 1.0, -1.0]))
    k = np.arange(1, K + 1)
    bound = np.concatenate([[np.inf], st_.L * sigma2 / (2 * k)])
    assert worst_excess(gaps, bound, first=1) > 0


# --------------------------------------------------------------------------- theorem 3
def horizon_bound(k, R, alpha, sigma2):
    return R ** 2 / (2 * alpha * k) + alpha * sigma2 / 2


@pytest.mark.slow
@PROPERTY
@given(problem=convex(), factor=st.floats(0.25, 4.0))
def test_theorem3_constant_step_averaged_iterate(problem, factor):
    r"""Theorem 3 (convex, constant :math:`\alpha`, :math:`\bar x_k=\frac1k\sum_{t<k}x_t`):
    :math:`\mathbb E[f(\bar x_k)-f^*]\le\frac{R^2}{2\alpha k}+\frac{\alpha\sigma^2}2`; the step
    is the horizon step :math:`R/(\hat\sigma\sqrt K)` (``schedules.HorizonSGDStep``,
    :math:`\hat\sigma^2=\sigma^2(x_0)`) times a factor, capped on least squares."""
    st_, x0, seed = problem
    R = float(np.linalg.norm(x0 - st_.x_star))
    K = 150
    sigma_hat = math.sqrt(float(st_.sigma2(x0[None])[0]))
    alpha = min(schedules.HorizonSGDStep(R, sigma_hat / factor, K).value, ls_cap(st_))
    _, avg, sigma2 = run_sgd(st_, x0, alpha, K, seed, average="uniform")
    k = np.arange(K + 1)
    bound = np.concatenate([[np.inf], horizon_bound(k[1:], R, alpha, sigma2)])
    assert worst_excess(avg, bound, first=1) <= 0
    if factor == 1.0 and alpha < ls_cap(st_):   # the horizon value R sigma / sqrt K at k = K
        assert horizon_bound(K, R, alpha, sigma_hat ** 2) == pytest.approx(
            R * sigma_hat / math.sqrt(K))


def test_theorem3_horizon_step_balances_the_two_terms():
    """With alpha = R/(sigma sqrt K) the bound at k = K is R sigma / sqrt K."""
    R, sigma, K = 2.0, 3.0, 400
    alpha = schedules.HorizonSGDStep(R, sigma, K).value
    assert horizon_bound(K, R, alpha, sigma ** 2) == pytest.approx(R * sigma / math.sqrt(K))


def convex_companion():
    """A fixed convex (mu = 0) logistic instance for the companions."""
    p = LogisticRegression(m=60, dim=3, mu=0.0, seed=5, label_noise=2.0)
    x_star = np.asarray(mg.to_numpy(newton_minimize(lambda z: p.f(z),
                                                    mg.backend.asarray(np.zeros(3)))[0]))
    return Stacked(p, x_star, p.value(x_star)), x_star + np.array([0.5, -0.5, 0.5])


def test_theorem3_check_fails_for_a_biased_gradient():
    """Companion: the same averaged-iterate check fails when the gradient is biased."""
    st_, x0 = convex_companion()
    R = float(np.linalg.norm(x0 - st_.x_star))
    K = 400
    sigma_hat = math.sqrt(float(st_.sigma2(x0[None])[0]))
    alpha = schedules.HorizonSGDStep(R, sigma_hat, K).value
    delta = np.array([1.0, -1.0, 1.0])
    _, avg, sigma2 = run_sgd(st_, x0, alpha, K, seed=0, bias=delta, average="uniform")
    bound = np.concatenate([[np.inf], horizon_bound(np.arange(1, K + 1), R, alpha, sigma2)])
    assert worst_excess(avg, bound, first=1) > 0


# --------------------------------------------------------------------------- theorem 4
def inverse_sqrt_bound(k, R, alpha0, sigma2):
    return 5 * R ** 2 / (4 * alpha0 * np.sqrt(k)) + 5 * alpha0 * sigma2 * np.log(k + 1) / np.sqrt(k)


@pytest.mark.slow
@PROPERTY
@given(problem=convex(), c=st.floats(0.1, 1.0))
def test_theorem4_inverse_sqrt_step_weighted_average(problem, c):
    r"""Theorem 4: :math:`\alpha_k=\alpha_0/\sqrt{k+1}`, :math:`0<\alpha_0\le\frac1{4L}`,
    :math:`\bar x_k=\sum_{t<k}\alpha_tx_t/\sum_{t<k}\alpha_t`:
    :math:`\mathbb E[f(\bar x_k)-f^*]\le\frac{5R^2}{4\alpha_0\sqrt k}+5\alpha_0\sigma^2
    \frac{\log(k+1)}{\sqrt k}`."""
    st_, x0, seed = problem
    R = float(np.linalg.norm(x0 - st_.x_star))
    alpha0 = min(c / (4 * st_.L), ls_cap(st_))
    K = 150
    lr = schedules.InverseSqrtSGDStep(alpha0, L=st_.L)   # checks alpha0 <= 1/(4L)
    _, avg, sigma2 = run_sgd(st_, x0, lr, K, seed, average="weighted")
    k = np.arange(1, K + 1)
    bound = np.concatenate([[np.inf], inverse_sqrt_bound(k, R, alpha0, sigma2)])
    assert worst_excess(avg, bound, first=1) <= 0


def test_theorem4_step_outside_the_range_is_refused():
    """alpha_0 > 1/(4L) is outside theorem 4: the schedule refuses it when given L."""
    with pytest.raises(ValueError, match="1/\\(4L\\)"):
        schedules.InverseSqrtSGDStep(0.3, L=1.0)


def test_theorem4_check_fails_for_a_biased_gradient():
    """Companion: the same weighted-average check fails when the gradient is biased."""
    st_, x0 = convex_companion()
    R = float(np.linalg.norm(x0 - st_.x_star))
    alpha0 = 1.0 / (4 * st_.L)
    K = 400
    _, avg, sigma2 = run_sgd(st_, x0, schedules.InverseSqrtSGDStep(alpha0, L=st_.L), K,
                             seed=0, bias=np.array([3.0, -3.0, 3.0]), average="weighted")
    bound = np.concatenate([[np.inf], inverse_sqrt_bound(np.arange(1, K + 1), R, alpha0,
                                                         sigma2)])
    assert worst_excess(avg, bound, first=1) > 0
