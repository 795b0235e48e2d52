"""First steps and short trajectories of every method against values computed independently.

Each reference below is the method's formula written again with Python floats, coordinate by
coordinate (``math.sqrt``, no NumPy, no call into ``optimizers``); the first step of each is also
derived by hand in a comment. Parameters are 2-D, x0 = (0.5, -1.0), and the gradients come from
a fixed sequence G (or, where the method evaluates the gradient at a point of its own choosing,
from f(x) = 1/2 (x_1^2 + 4 x_2^2), whose gradient is (x_1, 4 x_2)).
"""
import math

import numpy as np
import pytest

import minigrad as mg
import optimizers as O

X0 = [0.5, -1.0]
G = [[1.0, -2.0], [0.5, 0.5], [-1.0, 3.0], [2.0, -0.5], [0.25, -1.0], [-0.5, 0.75],
     [1.5, 1.0], [-2.0, -0.25]]
A = [1.0, 4.0]  # curvatures of f(x) = 1/2 (x_1^2 + 4 x_2^2)


def sign(u):
    return (u > 0) - (u < 0)


def run_fixed(opt_factory, steps, dtype=float):
    """Drive an optimizer with the gradients G[0..steps-1]; return the trajectory (list of x)."""
    x = mg.Tensor(np.array(X0, dtype=dtype), requires_grad=True)
    opt = opt_factory([x])
    out = []
    for k in range(steps):
        x.grad = mg.backend.asarray(np.array(G[k], dtype=dtype))
        opt.step()
        out.append(x.numpy().tolist())
    return out


def check(traj, ref, rtol=1e-12, atol=1e-15):
    np.testing.assert_allclose(np.array(traj), np.array(ref), rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- SGD family
def test_sgd():
    # by hand: x1 = x0 - 0.1 g1 = (0.5 - 0.1, -1 + 0.2) = (0.4, -0.8)
    traj = run_fixed(lambda p: O.SGD(p, lr=0.1), 4)
    assert traj[0] == pytest.approx([0.4, -0.8])
    ref, x = [], list(X0)
    for k in range(4):
        x = [x[j] - 0.1 * G[k][j] for j in range(2)]
        ref.append(x)
    check(traj, ref)


def test_sgd_coupled_weight_decay():
    # by hand: g1 + 0.5 x0 = (1.25, -2.5), x1 = (0.5 - 0.125, -1 + 0.25) = (0.375, -0.75)
    traj = run_fixed(lambda p: O.SGD(p, lr=0.1, weight_decay=0.5), 3)
    assert traj[0] == pytest.approx([0.375, -0.75])
    ref, x = [], list(X0)
    for k in range(3):
        x = [x[j] - 0.1 * (G[k][j] + 0.5 * x[j]) for j in range(2)]
        ref.append(x)
    check(traj, ref)


def test_momentum_velocity_form():
    # by hand: v1 = 0.9*0 - 0.1 g1 = (-0.1, 0.2); x1 = (0.4, -0.8);
    #          v2 = 0.9 v1 - 0.1 g2 = (-0.14, 0.13); x2 = (0.26, -0.67)
    traj = run_fixed(lambda p: O.Momentum(p, lr=0.1, momentum=0.9), 5)
    assert traj[1] == pytest.approx([0.26, -0.67])
    ref, x, v = [], list(X0), [0.0, 0.0]
    for k in range(5):
        v = [0.9 * v[j] - 0.1 * G[k][j] for j in range(2)]
        x = [x[j] + v[j] for j in range(2)]
        ref.append(x)
    check(traj, ref)


def test_momentum_accumulator_form():
    # by hand: m1 = g1 = (1, -2); x1 = x0 - 0.1 m1 = (0.4, -0.8);
    #          m2 = 0.9 m1 + g2 = (1.4, -1.3); x2 = (0.26, -0.67)
    traj = run_fixed(lambda p: O.Momentum(p, lr=0.1, momentum=0.9, form="accumulator"), 5)
    assert traj[1] == pytest.approx([0.26, -0.67])
    ref, x, m = [], list(X0), [0.0, 0.0]
    for k in range(5):
        m = [0.9 * m[j] + G[k][j] for j in range(2)]
        x = [x[j] - 0.1 * m[j] for j in range(2)]
        ref.append(x)
    check(traj, ref)


@pytest.mark.parametrize("init", ["zero", "grad"])
def test_momentum_dampening_and_buffer_start(init):
    # zero: m1 = (1 - 0.5) g1 = (0.5, -1), x1 = (0.45, -0.9)
    # grad (torch): m1 = g1 = (1, -2), x1 = (0.4, -0.8); then m = 0.9 m + 0.5 g
    traj = run_fixed(lambda p: O.Momentum(p, lr=0.1, momentum=0.9, form="accumulator",
                                          dampening=0.5, momentum_init=init), 4)
    assert traj[0] == pytest.approx([0.45, -0.9] if init == "zero" else [0.4, -0.8])
    ref, x, m = [], list(X0), [0.0, 0.0]
    for k in range(4):
        c = 1.0 if (k == 0 and init == "grad") else 0.5
        m = [0.9 * m[j] + c * G[k][j] for j in range(2)]
        x = [x[j] - 0.1 * m[j] for j in range(2)]
        ref.append(x)
    check(traj, ref)


def _nag_run(form, steps):
    x = mg.Tensor(X0, requires_grad=True)
    opt = O.NAG([x], lr=0.1, momentum=0.9, form=form)
    points = []

    def closure():  # the gradient of f at wherever the parameters are now
        points.append(x.numpy().tolist())
        x.grad = mg.backend.asarray(np.array(A)) * x.data
        return mg.Tensor(0.0)

    traj = []
    for _ in range(steps):
        if form == "lookahead":
            opt.step(closure)
        else:
            closure()
            opt.step()
        traj.append(x.numpy().tolist())
    return traj, points


def test_nag_lookahead_form():
    # by hand: v0 = 0, so the first look-ahead point is x0 and g1 = (0.5, -4);
    #   v1 = 0.1 g1 = (0.05, -0.4); x1 = x0 - v1 = (0.45, -0.6);
    #   look-ahead x1 - 0.9 v1 = (0.405, -0.24), g2 = (0.405, -0.96)
    traj, points = _nag_run("lookahead", 5)
    assert traj[0] == pytest.approx([0.45, -0.6])
    assert points[1] == pytest.approx([0.405, -0.24])
    ref, pts, x, v = [], [], list(X0), [0.0, 0.0]
    for _ in range(5):
        y = [x[j] - 0.9 * v[j] for j in range(2)]          # theta - gamma v
        pts.append(y)
        g = [A[j] * y[j] for j in range(2)]
        v = [0.9 * v[j] + 0.1 * g[j] for j in range(2)]    # v = gamma v + eta grad(theta - gamma v)
        x = [x[j] - v[j] for j in range(2)]                # theta = theta - v
        ref.append(x)
    check(traj, ref)
    check(points, pts)


def test_nag_reparametrised_form():
    # by hand: phi0 = x0, g1 = (0.5, -4); v1 = 0.1 g1 = (0.05, -0.4);
    #   phi1 = phi0 - 0.1 g1 - 0.9 v1 = (0.5 - 0.05 - 0.045, -1 + 0.4 + 0.36) = (0.405, -0.24)
    traj, _ = _nag_run("reparametrised", 5)
    assert traj[0] == pytest.approx([0.405, -0.24])
    ref, phi, v = [], list(X0), [0.0, 0.0]
    for _ in range(5):
        g = [A[j] * phi[j] for j in range(2)]
        v = [0.9 * v[j] + 0.1 * g[j] for j in range(2)]
        phi = [phi[j] - 0.1 * g[j] - 0.9 * v[j] for j in range(2)]
        ref.append(phi)
    check(traj, ref)


# --------------------------------------------------------------------------- adaptive
@pytest.mark.parametrize("inside", [True, False])
def test_adagrad(inside):
    # by hand (inside): v1 = g1^2 = (1, 4); x1 = x0 - 0.1 g1 / sqrt(v1 + 1e-6)
    #   = (0.5 - 0.1/1.0000005, -1 + 0.2/2.00000025) ~ (0.40000005, -0.90000002)
    traj = run_fixed(lambda p: O.Adagrad(p, lr=0.1, eps=1e-6, eps_inside=inside), 6)
    if inside:
        assert traj[0] == pytest.approx([0.40000005, -0.9000000125], abs=1e-9)
    ref, x, v = [], list(X0), [0.0, 0.0]
    for k in range(6):
        v = [v[j] + G[k][j] ** 2 for j in range(2)]
        d = [math.sqrt(v[j] + 1e-6) if inside else math.sqrt(v[j]) + 1e-6 for j in range(2)]
        x = [x[j] - 0.1 * G[k][j] / d[j] for j in range(2)]
        ref.append(x)
    check(traj, ref)


@pytest.mark.parametrize("inside,bias_correction", [(True, False), (False, True)])
def test_rmsprop(inside, bias_correction):
    # by hand (inside, no correction): v1 = 0.1 g1^2 = (0.1, 0.4);
    #   x1 = x0 - 0.1 g1 / sqrt(v1 + 1e-6) = (0.5 - 0.1/0.3162293, ...) ~ (0.18377, -0.68377)
    traj = run_fixed(lambda p: O.RMSProp(p, lr=0.1, gamma=0.9, eps=1e-6, eps_inside=inside,
                                         bias_correction=bias_correction), 6)
    if not bias_correction:
        assert traj[0] == pytest.approx([0.5 - 0.1 / math.sqrt(0.100001),
                                         -1.0 + 0.2 / math.sqrt(0.400001)])
    ref, x, v = [], list(X0), [0.0, 0.0]
    for k in range(6):
        v = [0.9 * v[j] + 0.1 * G[k][j] ** 2 for j in range(2)]
        vh = [v[j] / (1 - 0.9 ** (k + 1)) if bias_correction else v[j] for j in range(2)]
        d = [math.sqrt(vh[j] + 1e-6) if inside else math.sqrt(vh[j]) + 1e-6 for j in range(2)]
        x = [x[j] - 0.1 * G[k][j] / d[j] for j in range(2)]
        ref.append(x)
    check(traj, ref)


def test_adadelta():
    # by hand: v1 = 0.1 g1^2 = (0.1, 0.4); g~1 = sqrt(0 + 1e-6)/sqrt(v1 + 1e-6) g1
    #   = (1e-3/0.31622935, -2e-3/0.63245632) = (0.0031622618, -0.0031622737); x1 = x0 - g~1;
    #   Dx1 = 0.1 g~1^2 = (9.9999e-7, 9.99998e-7)
    traj = run_fixed(lambda p: O.Adadelta(p, gamma=0.9, rho=0.9, eps=1e-6), 6)
    assert traj[0] == pytest.approx([0.5 - 0.0031622618, -1 + 0.0031622737], abs=1e-10)
    ref, x, v, dx = [], list(X0), [0.0, 0.0], [0.0, 0.0]
    for k in range(6):
        g = G[k]
        v = [0.9 * v[j] + 0.1 * g[j] ** 2 for j in range(2)]
        gt = [math.sqrt(dx[j] + 1e-6) / math.sqrt(v[j] + 1e-6) * g[j] for j in range(2)]
        x = [x[j] - gt[j] for j in range(2)]
        dx = [0.9 * dx[j] + 0.1 * gt[j] ** 2 for j in range(2)]
        ref.append(x)
    check(traj, ref, rtol=1e-10)
    traj2 = run_fixed(lambda p: O.Adadelta(p, lr=0.5, gamma=0.9, rho=0.9, eps=1e-6), 1)
    assert traj2[0] == pytest.approx([0.5 - 0.5 * 0.0031622618, -1 + 0.5 * 0.0031622737],
                                     abs=1e-10)


def adam_reference(steps, lr=0.1, b1=0.9, b2=0.999, eps=1e-8, *, amsgrad=None, decoupled=0.0,
                   belief=False, coupled=0.0):
    ref, x = [], list(X0)
    m, v, vmax = [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]
    for k in range(1, steps + 1):
        g = [G[k - 1][j] + coupled * x[j] for j in range(2)]
        m = [b1 * m[j] + (1 - b1) * g[j] for j in range(2)]
        if belief:
            v = [b2 * v[j] + (1 - b2) * (g[j] - m[j]) ** 2 + eps for j in range(2)]
        else:
            v = [b2 * v[j] + (1 - b2) * g[j] ** 2 for j in range(2)]
        mh = [m[j] / (1 - b1 ** k) for j in range(2)]
        if amsgrad == "v":
            vmax = [max(vmax[j], v[j]) for j in range(2)]
            vh = [vmax[j] / (1 - b2 ** k) for j in range(2)]
        elif amsgrad == "v_hat":
            vmax = [max(vmax[j], v[j] / (1 - b2 ** k)) for j in range(2)]
            vh = vmax
        else:
            vh = [v[j] / (1 - b2 ** k) for j in range(2)]
        x = [x[j] - lr * (mh[j] / (math.sqrt(vh[j]) + eps) + decoupled * x[j]) for j in range(2)]
        ref.append(x)
    return ref


def test_adam():
    # by hand: m1 = 0.1 g1, v1 = 0.001 g1^2, m_hat = g1, v_hat = g1^2:
    #   x1 = x0 - 0.1 g1 / (|g1| + 1e-8) ~ x0 - 0.1 sign(g1) = (0.4, -0.9)
    traj = run_fixed(lambda p: O.Adam(p, lr=0.1), 8)
    assert traj[0] == pytest.approx([0.4, -0.9], abs=1e-8)
    check(traj, adam_reference(8), rtol=1e-11)


def test_adam_coupled_weight_decay():
    # by hand: g1 + 0.5 x0 = (1.25, -2.5); the first step is still 0.1 sign: (0.4, -0.9)
    traj = run_fixed(lambda p: O.Adam(p, lr=0.1, weight_decay=0.5), 5)
    assert traj[0] == pytest.approx([0.4, -0.9], abs=1e-8)
    check(traj, adam_reference(5, coupled=0.5), rtol=1e-11)


@pytest.mark.parametrize("max_of", ["v", "v_hat"])
def test_amsgrad(max_of):
    # beta2 = 0.5 makes v fall (g3 -> g4 on coordinate 2: v4 < v3), so the max matters.
    # by hand: step 1 is Adam's: x1 ~ (0.4, -0.9)
    traj = run_fixed(lambda p: O.AMSGrad(p, lr=0.1, betas=(0.9, 0.5), max_of=max_of), 8)
    assert traj[0] == pytest.approx([0.4, -0.9], abs=1e-8)
    check(traj, adam_reference(8, b2=0.5, amsgrad=max_of), rtol=1e-11)
    plain = adam_reference(8, b2=0.5)
    assert not np.allclose(traj, plain)


def test_adamw():
    # by hand: x1 = x0 - 0.1 (sign(g1) + 0.1 x0) = (0.5 - 0.1 - 0.005, -1 + 0.1 + 0.01)
    #        = (0.395, -0.89)
    traj = run_fixed(lambda p: O.AdamW(p, lr=0.1, weight_decay=0.1), 6)
    assert traj[0] == pytest.approx([0.395, -0.89], abs=1e-8)
    check(traj, adam_reference(6, decoupled=0.1), rtol=1e-11)


def test_adabelief():
    # by hand: m1 = 0.1 g1, s1 = 0.001 (0.9 g1)^2 + eps, s_hat = 0.81 g1^2 + 1000 eps:
    #   x1 = x0 - 0.1 g1 / (0.9 |g1|) = (0.5 - 0.1111, -1 + 0.1111)
    traj = run_fixed(lambda p: O.AdaBelief(p, lr=0.1), 8)
    assert traj[0] == pytest.approx([0.5 - 0.1 / 0.9, -1 + 0.1 / 0.9], abs=1e-8)
    check(traj, adam_reference(8, eps=1e-16, belief=True), rtol=1e-11)


def test_nadam():
    # mu_t = 0.9 (1 - 0.5 * 0.96^(0.004 t)); by hand for t = 1:
    #   mu1 = 0.9 (1 - 0.5 * 0.99983673) = 0.45007347, mu2 = 0.45014693,
    #   x1 = x0 - 0.1 [(1 - mu1)/(1 - mu1) g1 + mu2 m1/(1 - mu1 mu2)] / (|g1| + eps)
    #      = x0 - 0.1 (1 + 0.1 * 0.45014693 / 0.79740...) sign(g1)
    traj = run_fixed(lambda p: O.NAdam(p, lr=0.1), 8)
    ref, x, m, v, prod = [], list(X0), [0.0, 0.0], [0.0, 0.0], 1.0
    for k in range(1, 9):
        g = G[k - 1]
        mu = 0.9 * (1 - 0.5 * 0.96 ** (k * 0.004))
        mu_next = 0.9 * (1 - 0.5 * 0.96 ** ((k + 1) * 0.004))
        prod *= mu
        m = [0.9 * m[j] + 0.1 * g[j] for j in range(2)]
        v = [0.999 * v[j] + 0.001 * g[j] ** 2 for j in range(2)]
        mh = [mu_next * m[j] / (1 - prod * mu_next) + (1 - mu) * g[j] / (1 - prod)
              for j in range(2)]
        vh = [v[j] / (1 - 0.999 ** k) for j in range(2)]
        x = [x[j] - 0.1 * mh[j] / (math.sqrt(vh[j]) + 1e-8) for j in range(2)]
        ref.append(x)
    mu1, mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.004), 0.9 * (1 - 0.5 * 0.96 ** 0.008)
    step1 = 0.1 * (1 + 0.1 * mu2 / (1 - mu1 * mu2))
    assert traj[0] == pytest.approx([0.5 - step1, -1 + step1], abs=1e-8)
    check(traj, ref, rtol=1e-11)


def test_radam():
    # beta2 = 0.9: rho_inf = 19, rho_t = 19 - 2 t 0.9^t / (1 - 0.9^t) is <= 5 for t <= 5
    # (un-adapted steps x -= alpha m_hat: x1 = x0 - 0.1 g1 = (0.4, -0.8)) and > 5 from t = 6.
    traj = run_fixed(lambda p: O.RAdam(p, lr=0.1, betas=(0.9, 0.9)), 8)
    assert traj[0] == pytest.approx([0.4, -0.8])
    ref, x, m, v = [], list(X0), [0.0, 0.0], [0.0, 0.0]
    rho_inf = 2 / (1 - 0.9) - 1
    rectified = []
    for k in range(1, 9):
        g = G[k - 1]
        m = [0.9 * m[j] + 0.1 * g[j] for j in range(2)]
        v = [0.9 * v[j] + 0.1 * g[j] ** 2 for j in range(2)]
        mh = [m[j] / (1 - 0.9 ** k) for j in range(2)]
        rho = rho_inf - 2 * k * 0.9 ** k / (1 - 0.9 ** k)
        rectified.append(rho > 5)
        if rho > 5:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            vh = [v[j] / (1 - 0.9 ** k) for j in range(2)]
            x = [x[j] - 0.1 * r * mh[j] / (math.sqrt(vh[j]) + 1e-8) for j in range(2)]
        else:
            x = [x[j] - 0.1 * mh[j] for j in range(2)]
        ref.append(x)
    assert rectified == [False] * 5 + [True] * 3
    check(traj, ref, rtol=1e-11)


def test_adamax():
    # by hand: m1 = 0.1 g1, u1 = max(0, |g1| + 1e-8);
    #   x1 = x0 - 0.1/(1 - 0.9) * m1 / u1 ~ x0 - 0.1 sign(g1) = (0.4, -0.9)
    traj = run_fixed(lambda p: O.Adamax(p, lr=0.1), 8)
    assert traj[0] == pytest.approx([0.4, -0.9], abs=1e-8)
    ref, x, m, u = [], list(X0), [0.0, 0.0], [0.0, 0.0]
    for k in range(1, 9):
        g = G[k - 1]
        m = [0.9 * m[j] + 0.1 * g[j] for j in range(2)]
        u = [max(0.999 * u[j], abs(g[j]) + 1e-8) for j in range(2)]
        x = [x[j] - 0.1 / (1 - 0.9 ** k) * m[j] / u[j] for j in range(2)]
        ref.append(x)
    check(traj, ref, rtol=1e-11)


@pytest.mark.parametrize("cls,amsgrad", [(O.AdaBound, None), (O.AMSBound, "v")])
def test_adabound_clips_the_step_size(cls, amsgrad):
    # gamma = 1 makes the bounds tight: eta_l(1) = 0.1 (1 - 1/2) = 0.05, eta_u(1) = 0.2.
    # by hand: alpha / ((1 - beta1)(|g1| + eps)) = (1.0, 0.5) -> clipped to (0.2, 0.2);
    #   x1 = x0 - 0.2 m1 = x0 - 0.02 g1 = (0.48, -0.96)
    traj = run_fixed(lambda p: cls(p, lr=0.1, final_lr=0.1, gamma=1.0), 6)
    assert traj[0] == pytest.approx([0.48, -0.96])
    ref, x, m, v, vmax = [], list(X0), [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]
    for k in range(1, 7):
        g = G[k - 1]
        m = [0.9 * m[j] + 0.1 * g[j] for j in range(2)]
        v = [0.999 * v[j] + 0.001 * g[j] ** 2 for j in range(2)]
        vmax = [max(vmax[j], v[j]) for j in range(2)]
        use = vmax if amsgrad else v
        lower, upper = 0.1 * (1 - 1 / (k + 1)), 0.1 * (1 + 1 / k)
        for j in range(2):
            eta = 0.1 / ((1 - 0.9 ** k) * (math.sqrt(use[j] / (1 - 0.999 ** k)) + 1e-8))
            x[j] -= min(max(eta, lower), upper) * m[j]
        ref.append(list(x))
    check(traj, ref, rtol=1e-11)


def test_adabound_with_loose_bounds_is_adam():
    # gamma = 1e-3 (default): at t = 1 the bounds are (1e-4, 100.1): nothing is clipped
    traj = run_fixed(lambda p: O.AdaBound(p, lr=0.1), 1)
    assert traj[0] == pytest.approx(adam_reference(1)[0], rel=1e-10)


# --------------------------------------------------------------------------- sign methods
def test_signsgd():
    # by hand: x1 = x0 - 0.1 sign(g1) = (0.4, -0.9)
    traj = run_fixed(lambda p: O.SignSGD(p, lr=0.1), 6)
    assert traj[0] == pytest.approx([0.4, -0.9])
    ref, x = [], list(X0)
    for k in range(6):
        x = [x[j] - 0.1 * sign(G[k][j]) for j in range(2)]
        ref.append(x)
    check(traj, ref)


def test_signum():
    # by hand: m1 = 0.1 g1 = (0.1, -0.2), x1 = (0.4, -0.9); m2 = 0.9 m1 + 0.1 g2 = (0.14, -0.13)
    traj = run_fixed(lambda p: O.Signum(p, lr=0.1, momentum=0.9), 8)
    ref, x, m = [], list(X0), [0.0, 0.0]
    for k in range(8):
        m = [0.9 * m[j] + 0.1 * G[k][j] for j in range(2)]
        x = [x[j] - 0.1 * sign(m[j]) for j in range(2)]
        ref.append(x)
    check(traj, ref)


def test_lion():
    # by hand: c1 = 0.1 g1 (m0 = 0), x1 = x0 - 0.1 (sign(c1) + 0.5 x0) = (0.375, -0.85);
    #   m1 = 0.01 g1
    traj = run_fixed(lambda p: O.Lion(p, lr=0.1, betas=(0.9, 0.99), weight_decay=0.5), 8)
    assert traj[0] == pytest.approx([0.375, -0.85])
    ref, x, m = [], list(X0), [0.0, 0.0]
    for k in range(8):
        g = G[k]
        c = [0.9 * m[j] + 0.1 * g[j] for j in range(2)]
        x = [x[j] - 0.1 * (sign(c[j]) + 0.5 * x[j]) for j in range(2)]
        m = [0.99 * m[j] + 0.01 * g[j] for j in range(2)]
        ref.append(x)
    check(traj, ref)


# --------------------------------------------------------------------------- NAG-GS
@pytest.mark.parametrize("gamma0", [1.0, 1.5])
def test_naggs_follows_the_authors_reference_loop(gamma0):
    """The reference is the loop of the authors' JAX code (skolai/nag-gs, nag_gs_jax.py):
    call 0 only advances gamma (x is unchanged since v0 = x0); call k >= 1 updates v with the
    gradient at the current x and the stored gamma, then gamma, then x. Our step k is their call
    k + 1, with the same gradient."""
    # by hand (gamma0 = mu = 1, alpha = 0.1): gamma stays 1; b = 0.1/1.1 = 0.0909;
    #   v1 = v0 + b (x0 - v0) - (0.1/1.1) g1 = x0 - 0.0909 g1 = (0.40909, -0.81818);
    #   a = 0.1/1.1, x1 = x0 + a (v1 - x0) = (0.49174, -0.98347)
    traj = run_fixed(lambda p: O.NAGGS(p, lr=0.1, mu=1.0, gamma=gamma0), 6)
    if gamma0 == 1.0:
        assert traj[0] == pytest.approx([0.5 - (0.1 / 1.1) ** 2, -1 + 2 * (0.1 / 1.1) ** 2])
    alpha, mu = 0.1, 1.0
    x, v, gamma = list(X0), list(X0), gamma0
    gamma = (alpha * mu + gamma) / (1 + alpha)          # call 0
    ref = []
    for k in range(6):                                  # calls 1..6
        g = G[k]
        norm = alpha * mu + gamma
        v = [v[j] * (gamma / norm) + x[j] * (alpha * mu / norm) - g[j] * (alpha / norm)
             for j in range(2)]
        gamma = (alpha * mu + gamma) / (1 + alpha)
        coef = alpha / (1 + alpha)
        x = [x[j] + (v[j] * coef - x[j] * coef) for j in range(2)]
        ref.append(x)
    check(traj, ref, rtol=1e-12)


def test_naggs_matches_the_papers_algorithm():
    """The paper's Algorithm 1 as written: x_{k+1} = (1 - a) x_k + a v_k,
    gamma_{k+1} = (1 - a) gamma_k + a mu, b = alpha mu / (alpha mu + gamma_{k+1}),
    v_{k+1} = (1 - b) v_k + b (x_{k+1} - grad / mu), the gradient taken at x_{k+1}."""
    alpha, mu, gamma = 0.2, 2.0, 0.7
    traj = run_fixed(lambda p: O.NAGGS(p, lr=alpha, mu=mu, gamma=gamma), 6)
    a = alpha / (1 + alpha)
    x, v = list(X0), list(X0)
    ref = []
    for k in range(7):
        x = [(1 - a) * x[j] + a * v[j] for j in range(2)]   # x_{k+1}
        gamma = (1 - a) * gamma + a * mu                     # gamma_{k+1}
        if k:
            ref.append(x)                                    # x after our step k - 1
        if k == 6:
            break
        b = alpha * mu / (alpha * mu + gamma)
        g = G[k]                                             # the gradient at x_{k+1}
        v = [(1 - b) * v[j] + b * (x[j] - g[j] / mu) for j in range(2)]
    check(traj, ref, rtol=1e-12)


# --------------------------------------------------------------------------- wrappers
@pytest.mark.parametrize("adaptive", [False, True])
def test_sam_first_steps(adaptive):
    # by hand (p = 2, not adaptive, rho = 0.1): g(x0) = (0.5, -4), ||g|| = 4.0311;
    #   eps = 0.1 g/||g|| = (0.012403, -0.099228); g' = grad at x0 + eps = (0.512403, -4.396913);
    #   x1 = x0 - 0.1 g' = (0.448760, -0.560309)
    x = mg.Tensor(X0, requires_grad=True)
    opt = O.SAM([x], lr=0.1, rho=0.1, adaptive=adaptive, eta=0.01)

    def closure():
        x.grad = mg.backend.asarray(np.array(A)) * x.data
        return mg.Tensor(0.0)

    traj = []
    for _ in range(4):
        opt.step(closure)
        traj.append(x.numpy().tolist())
    ref, w = [], list(X0)
    for _ in range(4):
        g = [A[j] * w[j] for j in range(2)]
        T = [abs(w[j]) + 0.01 if adaptive else 1.0 for j in range(2)]
        h = [T[j] * g[j] for j in range(2)]
        norm = math.sqrt(sum(hj * hj for hj in h))
        e = [0.1 * T[j] * h[j] / norm for j in range(2)]      # rho T^2 g / ||T g||
        g2 = [A[j] * (w[j] + e[j]) for j in range(2)]
        w = [w[j] - 0.1 * g2[j] for j in range(2)]
        ref.append(w)
    if not adaptive:
        assert traj[0] == pytest.approx([0.448760, -0.560309], abs=1e-6)
    check(traj, ref, rtol=1e-12)


def test_lookahead_first_steps():
    # k = 2, alpha = 0.5 over SGD(lr 0.1): fast x1 = (0.4, -0.8), x2 = (0.35, -0.85);
    # then slow = x0 + 0.5 (x2 - x0) = (0.425, -0.925) and the fast weights restart there
    traj = run_fixed(lambda p: O.Lookahead(p, k=2, alpha=0.5, lr=0.1), 6)
    assert traj[1] == pytest.approx([0.425, -0.925])
    ref, fast, slow = [], list(X0), list(X0)
    for k in range(6):
        fast = [fast[j] - 0.1 * G[k][j] for j in range(2)]
        if (k + 1) % 2 == 0:
            slow = [slow[j] + 0.5 * (fast[j] - slow[j]) for j in range(2)]
            fast = list(slow)
        ref.append(fast)
    check(traj, ref)


# --------------------------------------------------------------------------- finite sums
# components f_i(x) = 1/2 a_i |x|^2 - b_i . x, so grad f_i(x) = a_i x - b_i
AI = [1.0, 3.0, 2.0]
BI = [[1.0, 0.0], [0.0, -1.0], [2.0, 1.0]]
ORDER = [2, 0, 1, 1, 2, 0, 0, 2]  # the sampler: component used at step t


def _grad_i(i, x):
    return [AI[i] * x[j] - BI[i][j] for j in range(2)]


def _fs_closure(x):
    def closure(indices):
        g = np.zeros(2)
        for i in indices:
            g += np.array(_grad_i(i, x.numpy().tolist()))
        x.grad = mg.backend.asarray(g / len(indices))
        return mg.Tensor(0.0)
    return closure


def test_svrg_first_steps():
    # by hand, t = 0: snapshot x~ = x0, mu = mean_i (a_i x0 - b_i) = 2 x0 - (1, 0) = (0, -2);
    #   i = 2: v = grad_2(x0) - grad_2(x~) + mu = mu; x1 = x0 - 0.1 mu = (0.5, -0.8)
    x = mg.Tensor(X0, requires_grad=True)
    opt = O.SVRG([x], n=3, lr=0.1, inner_steps=3, sampler=lambda t: [ORDER[t]])
    traj = []
    for _ in range(8):
        opt.step(_fs_closure(x))
        traj.append(x.numpy().tolist())
    assert traj[0] == pytest.approx([0.5, -0.8])
    ref, w = [], list(X0)
    for t in range(8):
        if t % 3 == 0:
            snap = list(w)
            mu = [sum(_grad_i(i, snap)[j] for i in range(3)) / 3 for j in range(2)]
        i = ORDER[t]
        gx, gs = _grad_i(i, w), _grad_i(i, snap)
        w = [w[j] - 0.1 * (gx[j] - gs[j] + mu[j]) for j in range(2)]
        ref.append(w)
    check(traj, ref)
    assert opt.grad_evals == 3 * 3 + 2 * 8  # 3 full gradients of 3 components + 2 per step


@pytest.mark.parametrize("divide_by", ["n", "seen"])
def test_sag_first_steps(divide_by):
    # by hand, t = 0 (i = 2): y_2 = grad_2(x0) = 2 x0 - (2, 1) = (-1, -3), d = y_2;
    #   x1 = x0 - 0.1/3 d = (0.5333, -0.9) ("n") or x0 - 0.1 d = (0.6, -0.7) ("seen")
    x = mg.Tensor(X0, requires_grad=True)
    opt = O.SAG([x], n=3, lr=0.1, divide_by=divide_by, sampler=lambda t: ORDER[t])
    traj = []
    for _ in range(8):
        opt.step(_fs_closure(x))
        traj.append(x.numpy().tolist())
    assert traj[0] == pytest.approx([0.5 + 0.1 / 3, -1 + 0.3 / 3] if divide_by == "n"
                                    else [0.6, -0.7])
    ref, w = [], list(X0)
    table = [[0.0, 0.0] for _ in range(3)]
    seen = set()
    for t in range(8):
        i = ORDER[t]
        table[i] = _grad_i(i, w)
        seen.add(i)
        m = 3 if divide_by == "n" else len(seen)
        d = [sum(table[r][j] for r in range(3)) for j in range(2)]
        w = [w[j] - 0.1 / m * d[j] for j in range(2)]
        ref.append(w)
    check(traj, ref)


def test_float32_first_step_matches_float64_to_single_precision():
    for make in (lambda p: O.Adam(p, lr=0.1), lambda p: O.Momentum(p, lr=0.1),
                 lambda p: O.RMSProp(p, lr=0.1), lambda p: O.NAGGS(p, lr=0.1)):
        t32 = run_fixed(make, 4, dtype=np.float32)
        t64 = run_fixed(make, 4, dtype=np.float64)
        np.testing.assert_allclose(t32, t64, rtol=1e-5, atol=1e-6)
