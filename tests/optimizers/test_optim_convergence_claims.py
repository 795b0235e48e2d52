"""Convergence claims that need more than the generic tests, and the companions that show the
convergence checks can fail.

* Reddi, Kale & Kumar (2018), section 5: on f_t(x) = 1010 x if t mod 101 = 1, else -10 x, over
  [-1, 1] (projected after each step; the minimiser of the average is -1), Adam drifts to +1
  and AMSGrad moves towards -1.
* A too-large step, or a deliberately broken update, fails the same check the generic
  convergence tests make.
* Variance reduction: on a finite sum whose components disagree at the minimiser, SVRG and SAG
  converge with a constant step, SGD with the same step stalls at a distance.
* SAM's fixed point on a quadratic is at distance rho from the minimiser.
"""
import math

import numpy as np
import pytest

import minigrad as mg
import optimizers as O
from optim_registry import REGISTRY, Convergence

from optim_testkit import quadratic, rosenbrock, run


def reddi_run(cls, steps, **kwargs):
    """The online problem of Reddi et al., alpha_t = 0.5 / sqrt(t), betas (0.9, 0.99)."""
    x = mg.Tensor([0.0], requires_grad=True)
    opt = cls([x], lr=lambda t: 0.5 / math.sqrt(t + 1), betas=(0.9, 0.99), **kwargs)
    xs = []
    for k in range(steps):
        t = k + 1                                    # the paper counts from t = 1
        x.grad = mg.backend.asarray(np.array([1010.0 if t % 101 == 1 else -10.0]))
        opt.step()
        xp = mg.backend.get_array_module(x.data)    # the array module of the parameter
        xp.clip(x.data, -1.0, 1.0, out=x.data)      # projection onto [-1, 1]
        xs.append(x.numpy()[0])
    return np.array(xs)


@pytest.mark.slow
def test_reddi_counterexample_adam_drifts_to_plus_one_amsgrad_to_minus_one():
    adam = reddi_run(O.Adam, 101 * 100)
    ams = reddi_run(O.AMSGrad, 101 * 100)
    last = slice(-101, None)                         # the last period
    assert adam[last].mean() > 0.9                   # Adam: the wrong end
    assert ams[last].mean() < -0.85                  # AMSGrad: close to the minimiser -1
    # and AMSGrad keeps going the right way: each block of 10 periods ends lower or level
    ends = [ams[101 * 10 * (i + 1) - 1] for i in range(10)]
    assert ends[-1] < ends[0]
    # average regret: f_t(x) summed, relative to x = -1
    slope = np.array([1010.0 if (k + 1) % 101 == 1 else -10.0 for k in range(len(adam))])
    regret_adam = np.mean(slope * (adam + 1.0))
    regret_ams = np.mean(slope * (ams + 1.0))
    assert regret_ams < regret_adam


def test_amsgrad_with_the_max_of_v_hat_also_moves_towards_minus_one():
    ams = reddi_run(O.AMSGrad, 101 * 30, max_of="v_hat")
    assert ams[-101:].mean() < -0.5


# --------------------------------------------------------------------------- checks can fail
def _quadratic_error(spec, setting):
    problem = quadratic()
    x, _ = run(spec, problem, setting)
    err = float(np.linalg.norm(x.numpy() - problem.x_star))
    return err if np.isfinite(err) else math.inf


def test_gradient_descent_with_a_step_above_2_over_L_fails_the_convergence_check():
    spec = REGISTRY["SGD"]
    assert _quadratic_error(spec, spec.quadratic) <= 1e-4          # alpha = 1/L converges
    assert _quadratic_error(spec, Convergence(0.25, 300)) > 1e3     # alpha = 2.5/L diverges


class BrokenAdam(O.Adam):
    """Adam with its bias correction of v applied twice (a plausible slip)."""

    def _denominator(self, state, k, hp, tmp):
        tmp = super()._denominator(state, k, hp, tmp)
        tmp *= 1.0 / math.sqrt(1.0 - hp["betas"][1] ** k)
        return tmp


class AscentAdam(O.Adam):
    """Adam with the sign of the step flipped (the slip: += instead of -=)."""

    def _apply(self, p, g, m, denom, tmp, state, k, hp):
        xp = mg.backend.get_array_module(p.data)
        xp.divide(m, denom, out=tmp)
        tmp *= hp["lr"] / (1.0 - hp["betas"][0] ** k)
        p.data += tmp


@pytest.mark.parametrize("cls", [AscentAdam])
def test_a_broken_update_fails_the_convergence_check(cls):
    spec = REGISTRY["Adam"]
    assert _quadratic_error(spec, spec.quadratic) <= 1e-4
    broken = type(spec)(name="broken", cls=cls, quadratic=spec.quadratic,
                        rosenbrock=spec.rosenbrock)
    assert _quadratic_error(broken, spec.quadratic) > 1.0


@pytest.mark.slow
def test_a_subtly_broken_update_fails_the_rosenbrock_check():
    spec = REGISTRY["Adam"]
    broken = type(spec)(name="broken", cls=BrokenAdam, quadratic=spec.quadratic,
                        rosenbrock=spec.rosenbrock)
    problem = rosenbrock(closed_form=True)  # the problem test_converges_on_rosenbrock uses
    x, _ = run(broken, problem, spec.rosenbrock)
    assert np.linalg.norm(x.numpy() - problem.x_star) > problem.tol


def test_sign_descent_with_a_constant_step_does_not_reach_the_tolerance():
    """Why the registry gives sign methods a decaying step: a constant one stalls at ~alpha."""
    spec = REGISTRY["SignSGD"]
    assert _quadratic_error(spec, Convergence(0.01, 1000)) > 1e-3


# --------------------------------------------------------------------------- variance reduction
def _finite_sum_run(make, steps, lr, seed=0):
    problem = quadratic()
    x = mg.Tensor(problem.x0, requires_grad=True)
    opt = make([x], lr)

    def closure(indices):
        x.grad = None
        loss = problem.component_loss(x, indices)
        loss.backward()
        return loss

    rng = np.random.default_rng(seed)
    for _ in range(steps):
        if isinstance(opt, (O.SVRG, O.SAG)):
            opt.step(closure)
        else:                                        # SGD on one random component
            closure([int(rng.integers(problem.n))])
            opt.step()
    return float(np.linalg.norm(x.numpy() - problem.x_star))


@pytest.mark.slow
def test_variance_reduction_converges_where_sgd_with_the_same_step_stalls():
    lr, steps = 0.05, 600
    sgd = _finite_sum_run(lambda q, a: O.SGD(q, lr=a), steps, lr)
    svrg = _finite_sum_run(lambda q, a: O.SVRG(q, n=4, lr=a), steps, lr)
    sag = _finite_sum_run(lambda q, a: O.SAG(q, n=4, lr=a), steps, lr)
    assert svrg < 1e-6 and sag < 1e-6
    assert sgd > 1e-2


# --------------------------------------------------------------------------- SAM
@pytest.mark.parametrize("rho", [1e-3, 1e-2])
def test_sam_settles_at_distance_rho_from_the_minimiser_of_a_quadratic(rho):
    """At SAM's fixed point grad f(w + rho g/||g||) = 0, i.e. w + rho g/||g|| = x*."""
    spec = REGISTRY["SAM"]
    problem = quadratic()
    x, _ = run(spec, problem, Convergence(0.1, 600, kwargs={"rho": rho}))
    assert np.linalg.norm(x.numpy() - problem.x_star) == pytest.approx(rho, rel=1e-3)
