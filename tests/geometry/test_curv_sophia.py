"""Sophia (optimizers.sophia): the two Hessian estimators against their expectations (closed
forms), the clipping bound, the sign step before any estimate, the equivalence of the lecture's
and the paper's parameterisations, the estimate schedule, and convergence with companions."""
import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import backend as B
from optimizers.sophia import Sophia, gnb_diagonal, hutchinson_diagonal

Z = 4.0  # half-width of the confidence intervals, in standard errors


def _smooth_problem(n=6, seed=0):
    """f(x) = 1/2 x^T A x + sum_j cos(x_j): Hessian A - diag(cos x), known in closed form."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n))
    A = X @ X.T / n + 2.0 * np.eye(n)
    x0 = rng.standard_normal(n)
    x = mg.Tensor(x0, requires_grad=True)
    At = mg.Tensor(A)
    H = A - np.diag(np.cos(x0))
    return x, (lambda: 0.5 * (x @ (At @ x)) + mg.cos(x).sum()), H


@functools.lru_cache(maxsize=None)
def _hutchinson_estimates(probe, N):
    """N estimates of the smooth problem's Hessian diagonal (seeded draws (17, i)) and H:
    computed once per (probe, N), so the unbiasedness test and its biased companion look at the
    same estimates (read-only arrays)."""
    x, f, H = _smooth_problem()
    est = np.array([mg.to_numpy(hutchinson_diagonal(f, [x], B.host_rng((17, i)), probe)[0])
                    for i in range(N)])
    est.setflags(write=False)
    H.setflags(write=False)
    return est, H


def _hutchinson_means(probe, N, scale=1.0):
    est, H = _hutchinson_estimates(probe, N)
    est = est * scale
    diag = np.diag(H)
    if probe == "gaussian":   # Var[u_j (Hu)_j] = 2 H_jj^2 + sum_{k != j} H_jk^2
        var = diag**2 + np.sum(H**2, axis=1)
    else:                     # Rademacher: u_j^2 = 1, so only the off-diagonal terms vary
        var = np.sum(H**2, axis=1) - diag**2
    return est.mean(axis=0), diag, Z * np.sqrt(var / N)


@pytest.mark.slow
@pytest.mark.parametrize("probe", ["gaussian", "rademacher"])
def test_hutchinson_is_unbiased_for_the_hessian_diagonal(probe):
    """The mean of N = 3000 estimates lies within 4 standard errors (exact variances above) of
    the diagonal of the known Hessian, in every coordinate."""
    mean, diag, half = _hutchinson_means(probe, 3000)
    assert np.all(np.abs(mean - diag) <= half), (mean, diag, half)


@pytest.mark.parametrize("probe", ["gaussian", "rademacher"])
def test_one_hutchinson_estimate_is_u_times_minigrad_hvp(probe):
    """One estimate is u * (H u) with H u from ``minigrad.hvp`` (the Hessian-vector-product route) and with the
    closed-form Hessian of the smooth problem: the same probe u (the same seeded draws)."""
    x, f, H = _smooth_problem(seed=2)
    x0 = x.numpy().copy()
    est = mg.to_numpy(hutchinson_diagonal(f, [x], B.host_rng((9, 3)), probe)[0])
    rng = B.host_rng((9, 3))  # the probe, drawn again as the estimator draws it
    u = rng.standard_normal(x0.shape) if probe == "gaussian" else \
        rng.integers(0, 2, size=x0.shape) * 2.0 - 1.0
    X = np.random.default_rng(2).standard_normal((6, 6))  # A as _smooth_problem(seed=2) builds it
    At = mg.Tensor(X @ X.T / 6 + 2.0 * np.eye(6))
    Hu = mg.to_numpy(mg.hvp(lambda y: 0.5 * (y @ (At @ y)) + mg.cos(y).sum(), B.asarray(x0),
                            B.asarray(u)))  # the point and direction on At's backend
    np.testing.assert_allclose(est, u * Hu, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(est, u * (H @ u), rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_a_biased_estimator_fails_the_same_interval():
    """The companion: 5% too large (Rademacher, whose interval is narrow) is rejected."""
    mean, diag, half = _hutchinson_means("rademacher", 3000, scale=1.05)
    assert np.any(np.abs(mean - diag) > half)


def _softmax_regression(seed=0, n=24, d=3, c=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W0 = rng.standard_normal((d, c))
    return X, W0


def _gauss_newton_diagonal(X, W):
    """diag of (1/B) sum_b J_b^T (diag p_b - p_b p_b^T) J_b for logits X W: for W_ic it is
    (1/B) sum_b X_bi^2 p_bc (1 - p_bc)."""
    Z_ = X @ W
    P = np.exp(Z_ - Z_.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return (X**2).T @ (P * (1 - P)) / X.shape[0]


def _gnb_samples(X, W0, N, labels=None):
    W = mg.Tensor(W0, requires_grad=True)
    Xt = mg.Tensor(X)
    if labels is None:
        return np.array([mg.to_numpy(gnb_diagonal(lambda: Xt @ W, [W], B.host_rng((5, i)))[0])
                         for i in range(N)])
    out = []
    rng = np.random.default_rng(6)
    for _ in range(N):  # the same estimator with labels from a wrong distribution
        y = labels(rng)
        loss = mg.nn.cross_entropy(Xt @ W, y)
        (g,) = mg.vjp_of(loss, [W])
        out.append(X.shape[0] * g.numpy()**2)
    return np.array(out)


@pytest.mark.slow
def test_gnb_is_unbiased_for_the_gauss_newton_diagonal():
    """Labels sampled from the model's own softmax: E[B g_hat * g_hat] is the Gauss-Newton
    diagonal (Bartlett). Interval: 4 sample standard errors, N = 2000."""
    X, W0 = _softmax_regression()
    est = _gnb_samples(X, W0, 2000)
    half = Z * est.std(axis=0, ddof=1) / np.sqrt(len(est))
    assert np.all(np.abs(est.mean(axis=0) - _gauss_newton_diagonal(X, W0)) <= half)
    assert np.all(est >= 0)


@pytest.mark.slow
def test_gnb_with_labels_not_from_the_model_is_biased():
    """The companion: uniformly random labels give another expectation; the interval rejects it."""
    X, W0 = _softmax_regression()
    est = _gnb_samples(X, W0, 2000, labels=lambda rng: rng.integers(0, 4, X.shape[0]))
    half = Z * est.std(axis=0, ddof=1) / np.sqrt(len(est))
    assert np.any(np.abs(est.mean(axis=0) - _gauss_newton_diagonal(X, W0)) > half)


# --------------------------------------------------------------------------- the update
def _sophia_after(state_m, state_h, g, **kw):
    """theta after one step from theta = 0 with the given m, h and gradient g."""
    x = mg.Tensor(np.zeros_like(g), requires_grad=True)
    opt = Sophia([x], weight_decay=0.0, **kw)
    opt.state[x] = {"m": B.asarray(state_m.copy()), "h": B.asarray(state_h.copy()),
                    "n_estimates": 1}  # the state on x's backend
    x.grad = B.asarray(g.copy())
    opt.step()
    return x.numpy()


arrays = hnp.arrays(np.float64, 8, elements=st.floats(-1e3, 1e3, allow_nan=False,
                                                       allow_subnormal=False))


@settings(deadline=None, derandomize=True, max_examples=60)
@given(m=arrays, h=arrays, g=arrays, clip=st.sampled_from(["paper", "lecture"]),
       lr=st.floats(1e-4, 1.0), rho=st.floats(1e-3, 10.0))
def test_every_coordinate_moves_at_most_the_clipping_threshold(m, h, g, clip, lr, rho):
    """|theta_{t+1} - theta_t| <= eta (paper: clip at 1) or eta rho (lecture), coordinate-wise,
    whatever the sign or size of h (Hutchinson's h can be negative)."""
    step = _sophia_after(m, h, g, lr=lr, clip=clip, rho=rho)
    bound = lr * (rho if clip == "lecture" else 1.0)
    assert np.all(np.abs(step) <= bound * (1 + 1e-12))


def test_official_form_differs_only_where_h_is_not_positive():
    rng = np.random.default_rng(1)
    m, g = rng.standard_normal(6), rng.standard_normal(6)
    h_pos = np.abs(rng.standard_normal(6)) + 0.1
    np.testing.assert_allclose(_sophia_after(m, h_pos, g, lr=0.1, clip="official"),
                               _sophia_after(m, h_pos, g, lr=0.1, clip="paper"), rtol=1e-9)
    h_neg = -h_pos  # the literal official formula: a negative ratio, an ascent step
    m1 = 0.965 * m + 0.035 * g
    up = _sophia_after(m, h_neg, g, lr=0.1, clip="official")
    assert np.all(np.sign(up) == np.sign(m1))


def test_before_any_hessian_estimate_the_step_is_a_sign_step(backend):
    rng = np.random.default_rng(2)
    x0, g = rng.standard_normal(7), rng.standard_normal(7)
    x = mg.Tensor(x0, requires_grad=True)
    opt = Sophia([x], lr=0.01, weight_decay=0.0)
    x.grad = B.asarray(g)
    opt.step()
    np.testing.assert_allclose(x.numpy(), x0 - 0.01 * np.sign(g), rtol=0, atol=1e-15)
    assert opt.state[x]["n_estimates"] == 0


def test_weight_decay_is_decoupled_and_applied_before_the_clipped_step():
    """theta_t <- theta_t - eta lambda theta_t, then theta_{t+1} = theta_t - eta clip(...): with no
    Hessian estimate (h = 0) the clipped step is eta sign(m_1) = eta sign(g), so
    theta_1 = (1 - eta lambda) theta_0 - eta sign(g) (the decay does not enter m, as it would
    if it were coupled); a zero gradient leaves only the decay."""
    x0, g = np.array([2.0, -1.0, 0.5]), np.array([0.3, 0.4, -2.0])
    eta, lam = 0.1, 0.5
    x = mg.Tensor(x0, requires_grad=True)
    opt = Sophia([x], lr=eta, weight_decay=lam)
    x.grad = B.asarray(g.copy())
    opt.step()
    np.testing.assert_allclose(x.numpy(), (1 - eta * lam) * x0 - eta * np.sign(g), rtol=1e-15)
    np.testing.assert_allclose(mg.to_numpy(opt.state[x]["m"]), (1 - 0.965) * g,
                               rtol=1e-15)  # no lambda x0
    y = mg.Tensor(x0, requires_grad=True)
    opt = Sophia([y], lr=eta, weight_decay=lam)
    y.grad = B.asarray(np.zeros(3))
    opt.step()
    np.testing.assert_allclose(y.numpy(), (1 - eta * lam) * x0, rtol=1e-15)


def test_lecture_form_is_the_paper_form_with_rescaled_hyperparameters():
    """clip(m / max(h, eps), rho) with step eta  ==  clip(m / max(rho h, rho eps), 1) with step
    eta rho (and the decay lambda / rho): both runs, with Hutchinson estimates, stay together."""
    eta, rho, eps, lam = 0.05, 0.3, 1e-3, 0.2

    def run(**kw):
        x, f, _ = _smooth_problem(seed=3)
        opt = Sophia([x], k=2, betas=(0.9, 0.8), seed=4, **kw)
        for _ in range(25):
            opt.zero_grad()
            f().backward()
            opt.step(hessian_closure=f)
        return x.numpy()
    lecture = run(lr=eta, clip="lecture", rho=rho, eps=eps, weight_decay=lam)
    paper = run(lr=eta * rho, clip="paper", gamma=rho, eps=rho * eps, weight_decay=lam / rho)
    np.testing.assert_allclose(lecture, paper, rtol=1e-12, atol=1e-14)


def test_estimates_run_on_the_papers_schedule_and_fold_into_an_ema():
    x, f, _ = _smooth_problem(seed=5)
    opt = Sophia([x], k=3, betas=(0.9, 0.8), seed=11, probe="rademacher", weight_decay=0.0)
    counts = []
    for _ in range(7):
        opt.zero_grad()
        f().backward()
        opt.step(hessian_closure=f)
        counts.append(opt.state[x]["n_estimates"])
    assert counts == [1, 1, 1, 2, 2, 2, 3]  # t = 1, 4, 7 (t mod k = 1)
    x2, f2, _ = _smooth_problem(seed=5)
    opt2 = Sophia([x2], k=3, betas=(0.9, 0.8), seed=11, probe="rademacher")
    h_hat = hutchinson_diagonal(f2, [x2], B.host_rng((11, 0)), "rademacher")[0]
    opt2.update_hessian(f2)
    np.testing.assert_allclose(mg.to_numpy(opt2.state[x2]["h"]), 0.2 * mg.to_numpy(h_hat),
                               rtol=1e-15)  # (1 - beta2) h_hat


def _ill_conditioned(opt_kw, steps, with_hessian=True):
    """f = 1/2 sum_j lambda_j x_j^2, lambda in [1, 1000]; returns the final ||x||."""
    lam = np.logspace(0, 3, 8)
    x = mg.Tensor(np.ones(8), requires_grad=True)
    L = mg.Tensor(lam)
    f = lambda: 0.5 * (L * x * x).sum()
    opt = Sophia([x], **opt_kw)
    for _ in range(steps):
        opt.zero_grad()
        f().backward()
        opt.step(hessian_closure=f if with_hessian else None)
    return np.linalg.norm(x.numpy())


def test_sophia_h_adapts_to_heterogeneous_curvature():
    """With h estimating diag(lambda), the clipped step m / h is a Newton step per coordinate:
    200 steps reach 1e-6 on a quadratic with condition number 1000. Companions: the same budget
    without estimates (clipped sign steps) stalls, and GD with its largest stable step 1/L is
    still far (the lambda = 1 coordinate shrinks by (1 - 1e-3) per step)."""
    kw = dict(lr=1.0, gamma=1.0, betas=(0.5, 0.5), k=2, probe="rademacher", weight_decay=0.0)
    assert _ill_conditioned(kw, 200) < 1e-6
    assert _ill_conditioned(kw, 200, with_hessian=False) > 1e-2
    assert (1 - 1e-3) ** 200 > 0.8


def test_sophia_g_trains_softmax_regression():
    """Sophia-G (GNB estimates every 5 steps) lowers the loss of a separable 3-class problem
    from log 3 to below 0.1 in 300 steps; the companion with lr = 0 does not move."""
    rng = np.random.default_rng(7)
    centers = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    y = np.repeat(np.arange(3), 20)
    X = centers[y] + rng.standard_normal((60, 2))
    Xt = mg.Tensor(X)

    def train(lr):
        W = mg.Tensor(np.zeros((2, 3)), requires_grad=True)
        opt = Sophia([W], lr=lr, estimator="gnb", gamma=0.05, k=5, weight_decay=0.0)
        for _ in range(300):
            opt.zero_grad()
            mg.nn.cross_entropy(Xt @ W, y).backward()
            opt.step(hessian_closure=lambda: Xt @ W)
        return mg.nn.cross_entropy(Xt @ W, y).item()
    assert train(0.05) < 0.1
    assert train(0.0) == pytest.approx(np.log(3))


def test_closures_are_checked_and_groups_share_the_estimator():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    opt = Sophia([x])
    with pytest.raises(ValueError, match="loss"):
        opt.update_hessian(lambda: x * 2.0)
    opt = Sophia([x], estimator="gnb")
    with pytest.raises(ValueError, match="logits"):
        opt.update_hessian(lambda: (x * x).sum())
    with pytest.raises(ValueError, match="estimator"):
        Sophia([{"params": [x]}, {"params": [mg.Tensor([1.0], requires_grad=True)],
                                  "estimator": "gnb"}])
