"""AdaBound / AMSBound with a binding lower or upper bound and with a schedule, Sophia's
exponential moving average of Hessian estimates and its estimate schedule, and the check of a
1cycle-style momentum schedule (``lr.momentum(t)`` must lie in [0, 1)).

Every expected value is computed here, by hand in the docstrings and again with Python floats
(no call into ``optimizers``): the formulas are those of the classes' docstrings.
"""
import math

import numpy as np
import pytest

import minigrad as mg
import optimizers as O
from schedules import OneCycle


# --------------------------------------------------------------------------- AdaBound
def adabound_reference(grads, lr, final_lr, gamma, betas, eps, x0, amsbound=False):
    """AdaBound (AMSBound: v replaced by its running maximum) written with floats, one
    coordinate at a time: eta_star = final_lr lr(t) / lr(0), eta_l = eta_star (1 - 1/(gamma k + 1)),
    eta_u = eta_star (1 + 1/(gamma k)), eta = clip(lr(t) / ((1 - b1^k)(sqrt(v_hat) + eps))),
    x -= eta m. Returns the trajectory and, per step and coordinate, which bound bound
    ("lower", "upper" or "free")."""
    lr_of = lr if callable(lr) else (lambda t: lr)
    b1, b2 = betas
    n = len(x0)
    x, m, v, vmax = list(x0), [0.0] * n, [0.0] * n, [0.0] * n
    traj, which = [], []
    for t, g in enumerate(grads):
        k = t + 1
        alpha = lr_of(t)
        eta_star = final_lr * alpha / lr_of(0)
        lower = eta_star * (1.0 - 1.0 / (gamma * k + 1.0))
        upper = eta_star * (1.0 + 1.0 / (gamma * k))
        row = []
        for j in range(n):
            m[j] = b1 * m[j] + (1.0 - b1) * g[j]
            v[j] = b2 * v[j] + (1.0 - b2) * g[j] ** 2
            vmax[j] = max(vmax[j], v[j])
            use = vmax[j] if amsbound else v[j]
            raw = alpha / ((1.0 - b1 ** k) * (math.sqrt(use / (1.0 - b2 ** k)) + eps))
            row.append("lower" if raw < lower else "upper" if raw > upper else "free")
            x[j] -= min(max(raw, lower), upper) * m[j]
        traj.append(list(x))
        which.append(row)
    return traj, which


def run_adabound(cls, grads, x0, **kw):
    x = mg.Tensor(np.array(x0, dtype=float), requires_grad=True)
    opt = cls([x], **kw)
    out = []
    for g in grads:
        x.grad = mg.backend.asarray(np.array(g, dtype=float))
        opt.step()
        out.append(x.numpy().tolist())
    return out


@pytest.mark.parametrize("cls", [O.AdaBound, O.AMSBound])
def test_adabound_lower_bound_binds_from_the_third_step(cls):
    """The lower bound eta_l(k) = eta* gamma k / (gamma k + 1) decides the step from k = 3 on.

    lr = 0.01, final_lr = 0.02, gamma = 0.5, betas = (0.5, 0.75), g = 1 at every step, so
    m_k = 1 - 0.5^k, v_hat = 1 (v_max = v: v grows) and the unclipped step size is
    0.01 / (1 - 0.5^k) (eps = 1e-8 aside):

    * k = 1: raw 0.02, bounds [0.02/3, 0.06]: free, eta m = 0.02 * 0.5 = 0.01;
    * k = 2: raw 0.01/0.75, bounds [0.01, 0.04]: free, eta m = 0.01;
    * k = 3: raw 0.01/0.875 = 0.01143 < eta_l = 0.012 (upper 0.02 * 5/3): eta m = 0.012 * 0.875
      = 0.0105;
    * k = 4: raw 0.01/0.9375 = 0.01067 < eta_l = 0.04/3 (upper 0.03): eta m = 0.0125;

    so x_4 = x_0 - 0.043, where Adam (no clipping) would give x_0 - 0.04.
    """
    kw = dict(lr=0.01, final_lr=0.02, gamma=0.5, betas=(0.5, 0.75), eps=1e-8)
    grads = [[1.0]] * 4
    ref, which = adabound_reference(grads, x0=[1.0], amsbound=cls is O.AMSBound, **kw)
    assert [w[0] for w in which] == ["free", "free", "lower", "lower"]
    traj = run_adabound(cls, grads, [1.0], **kw)
    hand = [1.0 - 0.01, 1.0 - 0.02, 1.0 - 0.0305, 1.0 - 0.043]
    np.testing.assert_allclose([p[0] for p in traj], hand, rtol=1e-7)
    np.testing.assert_allclose(traj, ref, rtol=1e-13)


@pytest.mark.parametrize("cls", [O.AdaBound, O.AMSBound])
def test_adabound_upper_bound_binds_from_the_fourth_step(cls):
    """The upper bound eta_u(k) = eta* (1 + 1/(gamma k)) decides the step from k = 4 on.

    lr = 0.04, final_lr = 0.02, gamma = 0.25, betas = (0.5, 0.75), g = 1: the unclipped step
    size is 0.04 / (1 - 0.5^k) = 0.08, 0.0533, 0.0457, 0.04267, 0.04129 and the upper bound
    0.02 (1 + 4/k) = 0.1, 0.06, 0.0467, 0.04, 0.036 (the lower bound 0.02 k / (k + 4) is far
    below). Steps eta_k m_k: 0.04, 0.04, 0.04 (free: 0.04 / (1 - 0.5^k) times 1 - 0.5^k), then
    0.04 * 0.9375 = 0.0375 and 0.036 * 0.96875 = 0.034875: x_5 = x_0 - 0.192375 (Adam: 0.2).
    """
    kw = dict(lr=0.04, final_lr=0.02, gamma=0.25, betas=(0.5, 0.75), eps=1e-8)
    grads = [[1.0]] * 5
    ref, which = adabound_reference(grads, x0=[1.0], amsbound=cls is O.AMSBound, **kw)
    assert [w[0] for w in which] == ["free", "free", "free", "upper", "upper"]
    traj = run_adabound(cls, grads, [1.0], **kw)
    hand = [0.96, 0.92, 0.88, 0.88 - 0.0375, 0.88 - 0.0375 - 0.034875]
    np.testing.assert_allclose([p[0] for p in traj], hand, rtol=1e-7)
    np.testing.assert_allclose(traj, ref, rtol=1e-13)


@pytest.mark.parametrize("cls", [O.AdaBound, O.AMSBound])
def test_adabound_both_bounds_on_varying_gradients(cls):
    """Coordinates whose gradients shrink and grow, so that one coordinate sits on the lower
    bound and another on the upper bound at the same step; AMSBound keeps the maximum of v and
    so a smaller unclipped step than AdaBound once |g| drops. Checked against the float
    reference, which also shows that both bounds (and free steps) occur."""
    grads = [[5.0, 0.01, 1.0], [4.0, 0.02, 0.2], [3.0, 0.01, 0.05], [0.1, 0.5, 0.05],
             [0.05, 3.0, 0.02], [0.02, 0.01, 2.0]]
    kw = dict(lr=0.05, final_lr=0.1, gamma=0.5, betas=(0.9, 0.99), eps=1e-8)
    ams = cls is O.AMSBound
    ref, which = adabound_reference(grads, x0=[1.0, -1.0, 0.5], amsbound=ams, **kw)
    flat = [w for row in which for w in row]
    assert {"lower", "upper", "free"} <= set(flat)
    traj = run_adabound(cls, grads, [1.0, -1.0, 0.5], **kw)
    np.testing.assert_allclose(traj, ref, rtol=1e-12)
    other, _ = adabound_reference(grads, x0=[1.0, -1.0, 0.5], amsbound=not ams, **kw)
    assert not np.allclose(traj, other, rtol=1e-6)  # the two variants differ on this data


class Halving:
    """lr(t) = a0 / 2^t."""

    def __init__(self, a0):
        self.a0 = a0

    def __call__(self, t):
        return self.a0 * 0.5 ** t


@pytest.mark.parametrize("cls", [O.AdaBound, O.AMSBound])
def test_adabound_bounds_follow_the_schedule(cls):
    """With a schedule, eta* = final_lr lr(t) / lr(0) (the class docstring and the authors'
    code): the bounds scale with the step. lr(t) = 0.01 / 2^t, final_lr = 0.02, gamma = 0.5,
    betas = (0.5, 0.75), g = 1: the unclipped step size and both bounds are those of the
    constant-lr run (lower bound binding at k = 3, 4) times 1/2^t, so each step is the
    constant-lr step times 1/2^t: 0.01, 0.01/2, 0.0105/4, 0.0125/8, x_4 = x_0 - 0.0191875.
    With final_lr not scaled the lower bound would bind already at k = 2 (eta_l(2) = 0.01 >
    0.005 / 0.75), giving x_2 = x_0 - 0.0175."""
    kw = dict(final_lr=0.02, gamma=0.5, betas=(0.5, 0.75), eps=1e-8)
    grads = [[1.0]] * 4
    ref, which = adabound_reference(grads, lr=Halving(0.01), x0=[1.0],
                                    amsbound=cls is O.AMSBound, **kw)
    assert [w[0] for w in which] == ["free", "free", "lower", "lower"]
    traj = run_adabound(cls, grads, [1.0], lr=Halving(0.01), **kw)
    steps = [0.01, 0.01 / 2, 0.0105 / 4, 0.0125 / 8]
    hand = [1.0 - sum(steps[:i + 1]) for i in range(4)]
    np.testing.assert_allclose([p[0] for p in traj], hand, rtol=1e-7)
    np.testing.assert_allclose(traj, ref, rtol=1e-13)


# --------------------------------------------------------------------------- Sophia
A_DIAG = [1.0, 2.0, 0.5]  # f(x) = sum_j a_j x_j^2 / 2 + x_j^4 / 12


def _quartic(x):
    a = mg.Tensor(np.array(A_DIAG))
    return (0.5 * a * x * x + x * x * x * x / 12.0).sum()


def test_sophia_hutchinson_with_rademacher_probes_is_exact_for_a_diagonal_hessian():
    """For a diagonal Hessian H = diag(a + x^2) and u in {-1, 1}^n, u_j (H u)_j = H_jj u_j^2 =
    H_jj: one Hutchinson estimate equals the diagonal, whatever the draw."""
    x0 = np.array([0.7, -0.4, 1.2])
    x = mg.Tensor(x0.copy(), requires_grad=True)
    for seed in range(3):
        (h,) = O.sophia.hutchinson_diagonal(lambda: _quartic(x), [x], mg.backend.host_rng(seed),
                                            "rademacher")
        np.testing.assert_allclose(mg.to_numpy(h), np.array(A_DIAG) + x0 ** 2, rtol=1e-14)


def test_sophia_ema_of_h_over_three_estimates_and_the_estimate_schedule():
    """h_t = beta2 h_{t-k} + (1 - beta2) h_hat_t on the steps t mod k = 1 (t = 1, 4, 7 for k = 3;
    1-based), h unchanged in between, and the clipped step
    theta <- theta - lr clip(m / max(gamma h, eps), 1) with m = beta1 m + (1 - beta1) g.

    f(x) = sum_j a_j x_j^2 / 2 + x_j^4 / 12: gradient a x + x^3 / 3, Hessian diag(a + x^2), so
    with Rademacher probes each estimate is exactly a + x_t^2 at the current point (the test
    above) and the whole run is written out below with floats. gamma = 1 keeps the ratio
    m / h inside (-1, 1) for most coordinates, so the values of h drive the iterates.
    After three estimates h = (1 - b2)(b2^2 d_1 + b2 d_4 + d_7), d_t = a + x_t^2.
    The hessian_closure is called at steps 0, 3, 6 (step_count before the step)."""
    b1, b2, lr, k = 0.9, 0.7, 0.5, 3
    x0 = [0.7, -0.4, 1.2]
    x = mg.Tensor(np.array(x0), requires_grad=True)
    opt = O.Sophia([x], lr=lr, betas=(b1, b2), gamma=1.0, eps=1e-12, weight_decay=0.0, k=k,
                   probe="rademacher", seed=3)
    called_at = []

    def hessian_closure():
        called_at.append(opt.step_count)
        return _quartic(x)

    xr, m, h = list(x0), [0.0] * 3, [0.0] * 3
    estimates = []
    for t in range(1, 10):
        if t % k == 1:                                   # t = 1, 4, 7
            d = [A_DIAG[j] + xr[j] ** 2 for j in range(3)]
            estimates.append(d)
            h = [b2 * h[j] + (1.0 - b2) * d[j] for j in range(3)]
        g = [A_DIAG[j] * xr[j] + xr[j] ** 3 / 3.0 for j in range(3)]
        m = [b1 * m[j] + (1.0 - b1) * g[j] for j in range(3)]
        xr = [xr[j] - lr * max(min(m[j] / max(h[j], 1e-12), 1.0), -1.0) for j in range(3)]
        opt.zero_grad()
        _quartic(x).backward()
        opt.step(hessian_closure=hessian_closure)
        np.testing.assert_allclose(mg.to_numpy(opt.state[x]["h"]), h, rtol=1e-12)
        np.testing.assert_allclose(x.numpy(), xr, rtol=1e-12)
    assert called_at == [0, 3, 6]
    assert opt.state[x]["n_estimates"] == 3
    d1, d4, d7 = (np.array(e) for e in estimates)
    np.testing.assert_allclose(mg.to_numpy(opt.state[x]["h"]),
                               (1 - b2) * (b2 ** 2 * d1 + b2 * d4 + d7), rtol=1e-12)


# --------------------------------------------------------------------------- momentum schedule
class WithMomentum:
    """A schedule lr(t) = lr carrying .momentum(t) = values[t] (the 1cycle convention)."""

    def __init__(self, lr, values):
        self.lr, self.values = lr, list(values)
        self.momentum = lambda t: self.values[t]

    def __call__(self, t):
        return self.lr


MOMENTUM_METHODS = {
    "Momentum": lambda p, s: O.Momentum(p, lr=s, momentum=0.5),
    "NAG": lambda p, s: O.NAG(p, lr=s, momentum=0.5, form="reparametrised"),
    "Adam": lambda p, s: O.Adam(p, lr=s, betas=(0.5, 0.9)),
    "AdamW": lambda p, s: O.AdamW(p, lr=s, betas=(0.5, 0.9)),
    "Signum": lambda p, s: O.Signum(p, lr=s, momentum=0.5),
    "Lion": lambda p, s: O.Lion(p, lr=s, betas=(0.5, 0.9)),
    "Sophia": lambda p, s: O.Sophia(p, lr=s, betas=(0.5, 0.9)),
    "Muon": lambda p, s: O.Muon(p, lr=s, momentum=0.5),
}


@pytest.mark.parametrize("name", sorted(MOMENTUM_METHODS))
@pytest.mark.parametrize("bad", [1.0, 1.5])
def test_a_momentum_schedule_at_or_above_one_is_refused(name, bad):
    """lr.momentum(t) is checked like the hyperparameter it replaces, in [0, 1): 1.0 and 1.5
    raise ValueError naming lr.momentum(t) and the value, at the step t where it occurs (here
    t = 1 after a valid first step); the parameters are left as they were."""
    x = mg.Tensor(np.array([[0.5, -1.0], [0.25, 2.0]]), requires_grad=True)
    opt = MOMENTUM_METHODS[name]([x], WithMomentum(0.01, [0.9, bad]))
    x.grad = mg.backend.asarray(np.array([[1.0, -2.0], [0.5, 0.5]]))
    opt.step()
    before = x.numpy().copy()
    with pytest.raises(ValueError, match=rf"{name}.*lr\.momentum\(1\)={bad!r}"):
        opt.step()
    np.testing.assert_array_equal(x.numpy(), before)


@pytest.mark.parametrize("bad", [1.0, 1.5])
def test_a_one_cycle_schedule_with_max_momentum_at_or_above_one_is_refused(bad):
    """OneCycle starts its momentum at max_momentum: 1.0 or 1.5 is refused at step 0."""
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = O.Momentum([x], lr=OneCycle(0.1, total_steps=10, max_momentum=bad,
                                      base_momentum=0.85))
    x.grad = mg.backend.asarray(np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match=rf"lr\.momentum\(0\)={bad!r}"):
        opt.step()


def test_a_momentum_schedule_just_below_one_is_used_momentum_form():
    """0.999 is accepted and replaces the group's momentum (0.5). Velocity form,
    lr = 0.1, x0 = (1, 2), g1 = (1, -2), g2 = (0.5, 0.5):
    v1 = -0.1 g1 = (-0.1, 0.2), x1 = (0.9, 2.2);
    v2 = 0.999 v1 - 0.1 g2 = (-0.0999 - 0.05, 0.1998 - 0.05) = (-0.1499, 0.1498),
    x2 = (0.7501, 2.3498) (with 0.5: (0.8, 2.25))."""
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = O.Momentum([x], lr=WithMomentum(0.1, [0.999, 0.999]), momentum=0.5)
    for g in ([1.0, -2.0], [0.5, 0.5]):
        x.grad = mg.backend.asarray(np.array(g))
        opt.step()
    np.testing.assert_allclose(x.numpy(), [0.7501, 2.3498], rtol=1e-14)
    assert opt.param_groups[0]["last_momentum"] == 0.999


def test_a_momentum_schedule_just_below_one_is_used_adam():
    """0.999 replaces beta1 (0.5) in Adam, beta2 = 0.9 stays. One coordinate, lr = 0.1,
    g1 = 1, g2 = -1, eps = 1e-8:
    m1 = 0.001, v1 = 0.1, m_hat = 1, v_hat = 1: x1 = x0 - 0.1 / (1 + 1e-8);
    m2 = 0.999 * 0.001 - 0.001 = -1e-6, v2 = 0.09 + 0.1 = 0.19, v_hat = 0.19 / 0.19 = 1,
    m_hat = -1e-6 / (1 - 0.999^2) = -1e-6 / 0.001999:
    x2 = x1 + 0.1 (1e-6 / 0.001999) / (1 + 1e-8)."""
    x = mg.Tensor(np.array([1.0]), requires_grad=True)
    opt = O.Adam([x], lr=WithMomentum(0.1, [0.999, 0.999]), betas=(0.5, 0.9))
    for g in (1.0, -1.0):
        x.grad = mg.backend.asarray(np.array([g]))
        opt.step()
    x1 = 1.0 - 0.1 / (1.0 + 1e-8)
    x2 = x1 + 0.1 * (1e-6 / 0.001999) / (1.0 + 1e-8)
    np.testing.assert_allclose(x.numpy(), [x2], rtol=1e-12)
    assert opt.param_groups[0]["last_momentum"] == 0.999
