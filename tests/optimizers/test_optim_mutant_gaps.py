"""Boundaries, defaults and hand-computed steps of the line searches, the quasi-Newton and Newton
methods, Muon, the Newton-Schulz iterations, the spectral norm, heavy-ball momentum, Sophia's
label sampler and the schedule check.

Every expected value is derived here by hand (closed forms, the documented bounds and defaults,
N&W's algorithms as written in the docstrings); nothing is computed by the code under test.
"""
import math

import numpy as np
import pytest

import minigrad as mg
import optimizers as O
from optimizers import _validate as V
from optimizers.armijo import armijo_backtracking
from optimizers.newton_schulz import MUON_QUINTIC, newton_schulz_quintic
from optimizers.norms import Spectral
from optimizers.results import Status
from optimizers.second_order.bfgs import InverseBFGS, _initial_step, bfgs
from optimizers.second_order.lbfgs import LimitedMemoryBFGS
from optimizers.second_order.newton import minimize_newton
from optimizers.sophia import _sample_labels
from optimizers.wolfe import strong_wolfe


# --------------------------------------------------------------------------- schedules
class _DuckScalar:
    """A scalar-like value with ``item()`` and no ``size`` (a size-less value counts as one)."""

    def __init__(self, v):
        self.v = v

    def item(self):
        return self.v


def test_scheduled_unwraps_a_sizeless_value_with_item():
    assert V.scheduled("opt", "lr", lambda t: _DuckScalar(0.25), 3) == 0.25


# --------------------------------------------------------------------------- Armijo
def test_armijo_refuses_c1_zero_and_rho_one():
    phi = lambda a: (a - 1.0) ** 2  # noqa: E731
    with pytest.raises(ValueError, match="c1 must be in"):
        armijo_backtracking(phi, phi0=1.0, derphi0=-2.0, c1=0.0)
    for rho in (1.0, 1.5):
        with pytest.raises(ValueError, match="rho must be in"):
            armijo_backtracking(phi, phi0=1.0, derphi0=-2.0, rho=rho, interpolation=False)


def test_armijo_default_maxiter_is_60():
    """phi(a) = a never decreases: halving from 1 reaches 2^-59 > alpha_min = 1e-20 after 60
    trials, so the default maxiter = 60 stops the search after exactly 60 evaluations."""
    res = armijo_backtracking(lambda a: a, phi0=0.0, derphi0=-1.0, interpolation=False)
    assert res.nfev == 60
    assert res.status == int(Status.MAXITER)
    assert res.alpha == 0.0


def test_armijo_counts_the_slope_it_evaluates():
    res = armijo_backtracking(lambda a: (a - 1.0) ** 2, phi0=1.0, derphi=lambda a: 2.0 * (a - 1.0))
    assert res.njev == 1          # phi'(0) evaluated once
    assert res.alpha == 1.0 and res.nfev == 1   # phi(1) = 0 <= 1 - 2e-4: accepted at once


# --------------------------------------------------------------------------- strong Wolfe
def test_wolfe_first_trial_is_not_compared_with_phi0():
    """N&W Algorithm 3.5 compares phi(alpha_i) >= phi(alpha_{i-1}) only for i > 1. With
    phi0 = 1e20 the term c1 alpha phi'(0) = -2e-4 is absorbed, phi(1) = 1e20 + 0 = phi0 passes
    sufficient decrease and phi'(1) = 0 the curvature condition: alpha = 1 is accepted with one
    value and one slope."""
    res = strong_wolfe(lambda a: 1e20 + (a - 1.0) ** 2, lambda a: 2.0 * (a - 1.0),
                       phi0=1e20, derphi0=-2.0)
    assert res.alpha == 1.0
    assert res.status == 0
    assert (res.nfev, res.njev) == (1, 1)


# --------------------------------------------------------------------------- BFGS
def test_inverse_bfgs_scaled_first_update():
    """H0='scaled': the first update starts from H_0 = (y^T s / y^T y) I (N&W eq. 6.20).
    s = (1, 0), y = (2, 1): gamma = 2/5, rho = 1/2; H_1 = (I - rho s y^T) H_0 (I - rho y s^T)
    + rho s s^T = [[0.6, -0.2], [-0.2, 0.4]]."""
    x = np.zeros(2)
    approx = InverseBFGS(2, x, H0="scaled")
    assert approx.is_identity
    assert approx.update(np.array([1.0, 0.0]), np.array([2.0, 1.0])) is True
    assert not approx.is_identity
    np.testing.assert_allclose(approx.H, [[0.6, -0.2], [-0.2, 0.4]], rtol=0, atol=1e-15)


def test_inverse_bfgs_reset_starts_over():
    """reset() forgets the curvature: H = I, and the next update is a first one again (scaled
    H_0), so the same pair gives the same H_1 = [[0.6, -0.2], [-0.2, 0.4]] as from scratch."""
    approx = InverseBFGS(2, np.zeros(2), H0="scaled")
    approx.update(np.array([1.0, 0.0]), np.array([3.0, 0.5]))
    approx.update(np.array([0.0, 1.0]), np.array([0.5, 2.0]))
    approx.reset()
    assert approx.is_identity
    np.testing.assert_array_equal(approx.H, np.eye(2))
    approx.update(np.array([1.0, 0.0]), np.array([2.0, 1.0]))
    np.testing.assert_allclose(approx.H, [[0.6, -0.2], [-0.2, 0.4]], rtol=0, atol=1e-15)


def test_initial_step_without_descent_is_one():
    """The interpolated first trial 1.01 * 2 (f_k - f_{k-1}) / phi'(0), capped at 1 (N&W eq.
    3.60), needs phi'(0) < 0; phi'(0) = 0 gives 1."""
    p = np.array([1.0])
    assert _initial_step(1, p, "interpolate", f=1.0, f_prev=2.0, derphi0=0.0) == 1.0
    assert _initial_step(1, p, "interpolate", f=1.0, f_prev=2.0, derphi0=-0.5) == 1.0  # 4.04
    assert _initial_step(1, p, "interpolate", f=1.0, f_prev=1.5, derphi0=-4.0) == 1.01 * 0.25


# phi(a) = f(a) with f(x) = -x + b x^2 + c x^3: f'(0) = -1, f(1) = -1.5e-4, f'(1) = 0
_B, _C = 2.0 - 4.5e-4, -1.0 + 3e-4


def _cubic(x):
    x0 = float(x[0])
    return -x0 + _B * x0 ** 2 + _C * x0 ** 3, np.array([-1.0 + 2 * _B * x0 + 3 * _C * x0 ** 2])


def test_bfgs_default_c1_is_1e_4():
    """From x0 = 0: p0 = 1, alpha0 = min(1, 1/|p0|) = 1, phi(1) = -1.5e-4 <= 0 + c1 * (-1) holds
    for c1 = 1e-4 (the default of the signature) and fails for 2e-4; phi'(1) = 0."""
    res = bfgs(_cubic, np.array([0.0]), jac=True, maxiter=1)
    assert float(res.x[0]) == 1.0
    assert float(bfgs(_cubic, np.array([0.0]), jac=True, maxiter=1, c1=2e-4).x[0]) != 1.0


def test_bfgs_optimizer_refuses_c1_one():
    x = mg.Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="invalid c1=1.0"):
        O.BFGS([x], c1=1.0)
    O.BFGS([x], c1=0.5, c2=0.9)


# --------------------------------------------------------------------------- L-BFGS
def test_lbfgs_skipped_pair_returns_false():
    approx = LimitedMemoryBFGS(m=3)
    assert approx.update(np.array([1.0, 0.0]), np.array([-1.0, 0.0])) is False  # y^T s < 0
    assert approx.nskip == 1 and approx.is_identity
    assert approx.update(np.array([1.0, 0.0]), np.array([2.0, 0.0])) is True


# --------------------------------------------------------------------------- Newton
def test_newton_refuses_rho_one():
    x = mg.Tensor(np.zeros(2), requires_grad=True)
    for rho in (1.0, 1.5):
        with pytest.raises(ValueError, match="invalid rho"):
            O.Newton([x], rho=rho)
        with pytest.raises(ValueError, match="invalid rho"):
            minimize_newton(lambda v: (v * v).sum(), np.ones(2), rho=rho)
    O.Newton([x], rho=0.999)


# --------------------------------------------------------------------------- Muon
def test_muon_accepts_use_muon_for_a_matrix():
    w = mg.Tensor(np.ones((2, 3)), requires_grad=True)
    opt = O.Muon([w], use_muon=True)
    assert opt.param_groups[0]["use_muon"] is True
    b = mg.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="use_muon"):
        O.Muon([b], use_muon=True)


# --------------------------------------------------------------------------- Newton-Schulz
def test_newton_schulz_quintic_one_step():
    """steps = 1 (>= 1 is allowed): X0 = G / (||G||_F + eps), X1 = a X0 + b A X0 + c A^2 X0 with
    A = X0 X0^T. G = diag(3, 4): ||G||_F = 5, X0 = diag(0.6, 0.8) / (1 + 2e-8)."""
    G = np.array([[3.0, 0.0], [0.0, 4.0]])
    a, b, c = MUON_QUINTIC
    s = np.array([3.0, 4.0]) / (5.0 + 1e-7)
    expected = np.diag(a * s + b * s ** 3 + c * s ** 5)
    np.testing.assert_allclose(newton_schulz_quintic(G, steps=1), expected, rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="steps"):
        newton_schulz_quintic(G, steps=0)


# --------------------------------------------------------------------------- spectral norm
def test_spectral_steps_bounds():
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="steps"):
            Spectral(polar="newton_schulz", steps=bad)
    assert Spectral(polar="newton_schulz", steps=1).steps == 1


# --------------------------------------------------------------------------- momentum
def test_momentum_velocity_form_dampening():
    """v = mu v - eta (1 - d) g, w = w + v; eta = 0.1, mu = 0.9, d = 0.5, g = 2, v_0 = 0:
    v_1 = -0.1, w_1 = 0.9; v_2 = -0.09 - 0.1 = -0.19, w_2 = 0.71."""
    x = mg.Tensor(np.array([1.0]), requires_grad=True)
    opt = O.Momentum([x], lr=0.1, momentum=0.9, dampening=0.5)
    out = []
    for _ in range(2):
        x.grad = mg.backend.asarray(np.array([2.0]))
        opt.step()
        out.append(float(x.numpy()[0]))
    np.testing.assert_allclose(out, [0.9, 0.71], rtol=1e-14)


# --------------------------------------------------------------------------- Sophia
def test_sample_labels_large_logits():
    """softmax((-1000, 1000)) = (e^-2000, 1) = (0, 1) in floating point: the label is always 1;
    softmax((1000, 999)) puts 1/(1 + e^-1) on class 0."""
    rng = np.random.default_rng(0)
    y = _sample_labels(np.array([[-1000.0, 1000.0]] * 50), rng)
    assert np.asarray(y).tolist() == [1] * 50
    y = np.asarray(_sample_labels(np.array([[1000.0, 999.0]] * 4000), rng))
    assert abs(float((y == 0).mean()) - 1.0 / (1.0 + math.exp(-1.0))) < 0.03


# --------------------------------------------------------------------------- state dicts
def _bfgs_run(state=None, steps=3):
    x = mg.Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    a = mg.Tensor(np.array([1.0, 3.0, 10.0]))

    def closure():
        x.grad = None
        loss = (a * x * x).sum()
        loss.backward()
        return loss

    opt = O.BFGS([x], line_search=None, lr=0.1)
    if state is not None:
        opt.load_state_dict(state)
    for _ in range(steps):
        opt.step(closure)
    return opt


def _arrays(tree, path=""):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _arrays(v, f"{path}/{k}")
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            yield from _arrays(v, f"{path}[{i}]")
    elif isinstance(tree, np.ndarray):
        yield path, tree


def test_loaded_state_dict_is_not_modified_by_later_steps():
    """load_state_dict copies the saved arrays (the inverse Hessian is updated in place by the
    steps that follow): the dict that was loaded keeps its values."""
    sd = _bfgs_run().state_dict()
    saved = {k: v.copy() for k, v in _arrays(sd)}
    assert "/extra/H" in saved
    _bfgs_run(state=sd)
    for k, v in _arrays(sd):
        np.testing.assert_array_equal(v, saved[k], err_msg=k)


# --------------------------------------------------------------------------- along a ray
def test_failed_armijo_ray_search_reuses_the_best_point():
    """f = -1 for x > 0 (0 at x = 0) with a supplied slope phi'(0) = -1e6: the trials 1, 1/2, 1/4
    all give -1 > 0 + 1e-4 * alpha * (-1e6), so the search fails after maxiter = 3 and returns
    the first of the tied trials, alpha = 1, x = 1, f = -1, without evaluating f again."""
    from optimizers.objective import Objective, line_search_armijo
    obj = Objective(lambda x: -1.0 if float(x[0]) > 0.0 else 0.0, np.zeros(1),
                    jac=lambda x: np.array([-1e6]))
    res = line_search_armijo(obj, np.zeros(1), np.ones(1), 0.0, np.array([-1e6]),
                             interpolation=False, maxiter=3)
    assert res.status == int(Status.MAXITER)
    assert res.alpha == 1.0 and res.f == -1.0
    np.testing.assert_array_equal(res.x, [1.0])
    assert res.nfev == 3 and obj.nfev == 3
