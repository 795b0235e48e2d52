"""Equivalences between methods, each a test (hypothesis draws the gradients and hyperparameters).

* the two momentum forms (constant step): v = -lambda m, same iterates;
* NAG's look-ahead and reparametrised forms, after the change of variables phi = theta - gamma v;
* Adam with beta1 = 0 and RMSProp with bias correction (eps outside the root, gamma = beta2);
* AdamW with zero decay and Adam (bit for bit);
* AMSGrad and Adam while v does not decrease (bit for bit);
* Lion with beta1 = beta2 = 0 and signSGD; Lion with beta1 = beta2 = beta and Signum (bit for bit);
* Lookahead with k = 1, alpha = 1 and its base optimizer;
* SAM with rho = 0 and its base optimizer; SVRG with the full batch and gradient descent.
"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import optimizers as O

SETTINGS = settings(deadline=None, derandomize=True, max_examples=25)

floats = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
vectors = st.lists(floats, min_size=3, max_size=3)
gradient_lists = st.lists(vectors, min_size=1, max_size=12)


def trajectory(make, grads, x0=(0.3, -0.7, 1.1)):
    x = mg.Tensor(list(x0), requires_grad=True)
    opt = make([x])
    out = []
    for g in grads:
        x.grad = mg.backend.asarray(np.array(g, dtype=float))
        opt.step()
        out.append(x.numpy().copy())
    return np.array(out), opt, x


@SETTINGS
@given(grads=gradient_lists, lr=st.floats(1e-3, 0.5), mu=st.floats(0.0, 0.99))
def test_the_two_momentum_forms_agree_for_a_constant_step(grads, lr, mu):
    a, opt_a, xa = trajectory(lambda p: O.Momentum(p, lr=lr, momentum=mu, form="velocity"), grads)
    b, opt_b, xb = trajectory(lambda p: O.Momentum(p, lr=lr, momentum=mu, form="accumulator"),
                              grads)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # the velocity is -lambda times the accumulated momentum
    np.testing.assert_allclose(mg.to_numpy(opt_a.state[xa]["v"]),
                               -lr * mg.to_numpy(opt_b.state[xb]["v"]), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(curv=st.lists(st.floats(0.1, 5.0), min_size=3, max_size=3),
       x0=vectors, lr=st.floats(1e-3, 0.2), gamma=st.floats(0.0, 0.95),
       steps=st.integers(1, 15))
def test_nag_lookahead_and_reparametrised_forms_agree_after_the_change_of_variables(
        curv, x0, lr, gamma, steps):
    """On f = 1/2 sum_j c_j x_j^2: the reparametrised iterate is phi_t = theta_t - gamma v_t."""
    c = mg.backend.asarray(np.array(curv))  # on the backend of the parameters
    theta = mg.Tensor(x0, requires_grad=True)
    phi = mg.Tensor(x0, requires_grad=True)          # phi_0 = theta_0 - gamma v_0 = theta_0
    look = O.NAG([theta], lr=lr, momentum=gamma, form="lookahead")
    repa = O.NAG([phi], lr=lr, momentum=gamma, form="reparametrised")

    def closure():
        theta.grad = c * theta.data
        return mg.Tensor(0.0)

    for _ in range(steps):
        look.step(closure)
        phi.grad = c * phi.data
        repa.step()
        v_look = mg.to_numpy(look.state[theta]["v"])
        v_repa = mg.to_numpy(repa.state[phi]["v"])
        np.testing.assert_allclose(v_repa, v_look, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(phi.numpy(), theta.numpy() - gamma * v_look, rtol=1e-10,
                                   atol=1e-12)


@SETTINGS
@given(grads=gradient_lists, lr=st.floats(1e-3, 0.5), beta2=st.floats(0.5, 0.999),
       eps=st.floats(1e-8, 1e-3))
def test_adam_with_beta1_zero_is_rmsprop_with_bias_correction(grads, lr, beta2, eps):
    a, _, _ = trajectory(lambda p: O.Adam(p, lr=lr, betas=(0.0, beta2), eps=eps), grads)
    b, _, _ = trajectory(lambda p: O.RMSProp(p, lr=lr, gamma=beta2, eps=eps, eps_inside=False,
                                             bias_correction=True), grads)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(grads=gradient_lists, lr=st.floats(1e-3, 0.5))
def test_adamw_with_zero_decay_is_adam_bit_for_bit(grads, lr):
    a, _, _ = trajectory(lambda p: O.AdamW(p, lr=lr, weight_decay=0.0), grads)
    b, _, _ = trajectory(lambda p: O.Adam(p, lr=lr), grads)
    np.testing.assert_array_equal(a, b)


@SETTINGS
@given(base=vectors, growth=st.lists(st.floats(1.0, 1.5), min_size=1, max_size=12),
       lr=st.floats(1e-3, 0.5))
def test_amsgrad_is_adam_while_v_does_not_decrease(base, growth, lr):
    """|g| grows every step, so v_k = beta2 v_{k-1} + (1 - beta2) g_k^2 >= v_{k-1}."""
    grads, scale = [], 1.0
    for r in growth:
        scale *= r
        grads.append([scale * (b if abs(b) > 0.1 else 0.1) for b in base])
    a, opt, x = trajectory(lambda p: O.AMSGrad(p, lr=lr), grads)
    b, _, _ = trajectory(lambda p: O.Adam(p, lr=lr), grads)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(mg.to_numpy(opt.state[x]["v_max"]),
                                  mg.to_numpy(opt.state[x]["v"]))


def test_amsgrad_differs_from_adam_once_v_decreases():
    grads = [[3.0, 3.0, 3.0]] + [[0.1, 0.1, 0.1]] * 5
    a, _, _ = trajectory(lambda p: O.AMSGrad(p, lr=0.1, betas=(0.9, 0.5)), grads)
    b, _, _ = trajectory(lambda p: O.Adam(p, lr=0.1, betas=(0.9, 0.5)), grads)
    assert np.array_equal(a[0], b[0]) and not np.allclose(a[-1], b[-1])


@SETTINGS
@given(grads=gradient_lists, lr=st.floats(1e-3, 0.5))
def test_lion_with_zero_betas_is_signsgd_bit_for_bit(grads, lr):
    a, _, _ = trajectory(lambda p: O.Lion(p, lr=lr, betas=(0.0, 0.0)), grads)
    b, _, _ = trajectory(lambda p: O.SignSGD(p, lr=lr), grads)
    np.testing.assert_array_equal(a, b)


@SETTINGS
@given(grads=gradient_lists, lr=st.floats(1e-3, 0.5), beta=st.floats(0.0, 0.99))
def test_lion_with_equal_betas_is_signum_bit_for_bit(grads, lr, beta):
    a, _, _ = trajectory(lambda p: O.Lion(p, lr=lr, betas=(beta, beta)), grads)
    b, _, _ = trajectory(lambda p: O.Signum(p, lr=lr, momentum=beta), grads)
    np.testing.assert_array_equal(a, b)


@SETTINGS
@given(grads=gradient_lists, lr=st.floats(1e-3, 0.5))
def test_lookahead_with_k1_alpha1_is_its_base_optimizer(grads, lr):
    a, _, _ = trajectory(lambda p: O.Lookahead(p, base_optimizer=O.Adam, k=1, alpha=1.0, lr=lr),
                         grads)
    b, _, _ = trajectory(lambda p: O.Adam(p, lr=lr), grads)
    np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


@SETTINGS
@given(curv=st.lists(st.floats(0.1, 5.0), min_size=3, max_size=3), lr=st.floats(1e-3, 0.2),
       steps=st.integers(1, 10))
def test_sam_with_rho_zero_is_its_base_optimizer(curv, lr, steps):
    c = mg.backend.asarray(np.array(curv))  # on the backend of the parameters
    x = mg.Tensor([0.3, -0.7, 1.1], requires_grad=True)
    y = mg.Tensor([0.3, -0.7, 1.1], requires_grad=True)
    sam = O.SAM([x], base_optimizer=O.Momentum, rho=0.0, lr=lr)
    mom = O.Momentum([y], lr=lr)

    def closure():
        x.grad = c * x.data
        return mg.Tensor(0.0)

    for _ in range(steps):
        sam.step(closure)
        y.grad = c * y.data
        mom.step()
    np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_svrg_with_the_full_batch_is_gradient_descent():
    """batch_size = n: v = grad f(x) - grad f(x~) + grad f(x~) = grad f(x) (up to rounding)."""
    a_i = np.array([1.0, 3.0, 2.0])
    b_i = np.array([[1.0, 0.0, 0.5], [0.0, -1.0, 2.0], [2.0, 1.0, -1.0]])

    def grad(x, idx):
        return np.mean([a_i[i] * x - b_i[i] for i in idx], axis=0)

    x = mg.Tensor([0.3, -0.7, 1.1], requires_grad=True)
    svrg = O.SVRG([x], n=3, lr=0.1, batch_size=3, inner_steps=4)

    def closure(idx):
        x.grad = mg.backend.asarray(grad(x.numpy(), idx))  # computed on the host
        return mg.Tensor(0.0)

    y = np.array([0.3, -0.7, 1.1])
    for _ in range(12):
        svrg.step(closure)
        y = y - 0.1 * grad(y, [0, 1, 2])
        np.testing.assert_allclose(x.numpy(), y, rtol=1e-13, atol=1e-14)
