"""The package's own schedules handed to the optimizers as ``lr`` (every optimizer
accepts a schedule as lr; 1cycle's momentum reaches optimizers that have momentum).

The generic optimizer tests (tests/optimizers/test_optim_generic.py) use stand-in callables; here
the real :class:`schedules.OneCycle`, :class:`schedules.CyclicalLR` (``cycle_momentum=True``),
a scaled 1cycle and :class:`schedules.ReduceLROnPlateau` drive real optimizers. The oracle is a
hand-written loop of the method's formula (docs/lectures.md sections 2 and 3) whose step sizes and
momenta are read off the schedule itself; each comparison has a companion that shows it can fail.
"""
import numpy as np
import pytest

import minigrad as mg
import schedules as S
from optimizers import SGD, Adam, Momentum
from optim_registry import specs

A = np.array([1.0, 4.0, 0.5])         # f(x) = 1/2 sum_j a_j x_j^2, gradient a * x
X0 = np.array([1.0, -2.0, 0.5])
STEPS = 40


def run_optimizer(make, steps=STEPS):
    """Run ``make([x])`` on f; return the iterates and the recorded (last_lr, last_momentum)."""
    x = mg.Tensor(X0, requires_grad=True)
    opt = make([x])
    xs, rec = [X0.copy()], []
    for _ in range(steps):
        x.grad = None
        (0.5 * (mg.Tensor(A) * x * x).sum()).backward()
        opt.step()
        group = opt.param_groups[0]
        rec.append((group["last_lr"], group.get("last_momentum")))
        xs.append(x.numpy().copy())
    return np.array(xs), rec


def heavy_ball_by_hand(eta, mu, steps=STEPS):
    """Velocity form (L0): v <- mu_t v - eta_t g, x <- x + v."""
    x, v, xs = X0.copy(), np.zeros(3), [X0.copy()]
    for t in range(steps):
        g = A * x
        v = mu(t) * v - eta(t) * g
        x = x + v
        xs.append(x.copy())
    return np.array(xs)


def adam_by_hand(alpha, beta1, beta2=0.999, eps=1e-8, steps=STEPS):
    """Adam (L1) with beta1 = beta1(t) at step t and the bias correction of that step."""
    x, m, v, xs = X0.copy(), np.zeros(3), np.zeros(3), [X0.copy()]
    for t in range(steps):
        k, b1 = t + 1, beta1(t)
        g = A * x
        m = b1 * m + (1 - b1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = x - alpha(t) / (1 - b1 ** k) * m / (np.sqrt(v / (1 - beta2 ** k)) + eps)
        xs.append(x.copy())
    return np.array(xs)


MOMENTUM_SCHEDULES = {
    "OneCycle": lambda: S.OneCycle(0.2, STEPS, pct_start=0.3),
    "OneCycle(three_phase, linear)": lambda: S.OneCycle(0.2, STEPS, pct_start=0.25,
                                                        anneal_strategy="linear",
                                                        three_phase=True),
    "CyclicalLR(cycle_momentum)": lambda: S.CyclicalLR(0.01, 0.2, step_size_up=5,
                                                       cycle_momentum=True),
    "scale(OneCycle, 0.5)": lambda: S.scale(S.OneCycle(0.4, STEPS), 0.5),
}


@pytest.mark.parametrize("name", sorted(MOMENTUM_SCHEDULES))
def test_heavy_ball_follows_the_schedules_step_and_momentum(name):
    sched = MOMENTUM_SCHEDULES[name]()
    xs, rec = run_optimizer(lambda p: Momentum(p, lr=sched, momentum=0.9))
    for t, (lr_t, mu_t) in enumerate(rec):
        assert lr_t == sched(t) and mu_t == sched.momentum(t)
    np.testing.assert_allclose(xs, heavy_ball_by_hand(sched, sched.momentum), rtol=1e-12,
                               atol=1e-14)
    # companion: the same loop with the optimizer's own constant momentum 0.9 is another path
    wrong = heavy_ball_by_hand(sched, lambda t: 0.9)
    assert np.abs(xs - wrong).max() > 1e-3


def test_adam_beta1_follows_the_1cycle_momentum_and_beta2_is_kept():
    oc = S.OneCycle(0.05, STEPS, pct_start=0.3, base_momentum=0.85, max_momentum=0.95)
    xs, rec = run_optimizer(lambda p: Adam(p, lr=oc, betas=(0.9, 0.999)))
    assert [r[1] for r in rec] == [oc.momentum(t) for t in range(STEPS)]
    np.testing.assert_allclose(xs, adam_by_hand(oc, oc.momentum), rtol=1e-12, atol=1e-14)
    assert np.abs(xs - adam_by_hand(oc, lambda t: 0.9)).max() > 1e-4   # companion


def test_without_cycle_momentum_the_optimizer_keeps_its_own():
    oc = S.OneCycle(0.2, STEPS, cycle_momentum=False)
    xs, rec = run_optimizer(lambda p: Momentum(p, lr=oc, momentum=0.7))
    assert all(r[1] is None for r in rec)
    np.testing.assert_allclose(xs, heavy_ball_by_hand(oc, lambda t: 0.7), rtol=1e-12, atol=1e-14)


def test_an_optimizer_without_momentum_takes_the_rate_only():
    oc = S.OneCycle(0.2, STEPS)
    xs, rec = run_optimizer(lambda p: SGD(p, lr=oc))
    assert all(r[1] is None for r in rec) and [r[0] for r in rec] == list(oc(np.arange(STEPS)))
    np.testing.assert_allclose(xs, heavy_ball_by_hand(oc, lambda t: 0.0), rtol=1e-12, atol=1e-14)


def _drive(spec, opt, x, grads):
    """One step of ``opt`` with the next fixed gradient, through the closure kind it needs."""
    def feed(*_):
        x.grad = mg.backend.asarray(next(grads), dtype=x.dtype)
        return mg.Tensor(0.0)
    if spec.closure == "none":
        feed()
        opt.step()
    else:
        opt.step(feed)


@pytest.mark.parametrize("spec", [s for s in specs() if s.follows_momentum_schedule],
                         ids=[s.name for s in specs() if s.follows_momentum_schedule])
def test_every_optimizer_with_momentum_reads_the_real_1cycle(spec):
    """Every registered optimizer with a momentum or beta1: at each step the rate and the momentum
    it used are the 1cycle's values at that step (not a stand-in schedule's)."""
    oc = S.OneCycle(0.01, 20, pct_start=0.3)
    x = mg.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = spec.make([x], lr=oc)
    rng = np.random.default_rng(0)
    grads = iter([rng.standard_normal(3) for _ in range(200)])
    for t in range(20):
        _drive(spec, opt, x, grads)
        group = opt.param_groups[0]
        assert group["last_lr"] == oc(t), (spec.name, t)
        assert group["last_momentum"] == oc.momentum(t), (spec.name, t)


@pytest.mark.parametrize("spec", specs(), ids=[s.name for s in specs()])
def test_every_optimizer_accepts_a_package_schedule_as_lr(spec):
    """A schedule of the package (warmup then cosine) is evaluated at the step count."""
    sched = S.WarmupCosine(0.01, 3, 10, init_value=0.001)
    x = mg.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = spec.make([x], lr=sched)
    rng = np.random.default_rng(1)
    grads = iter([rng.standard_normal(3) for _ in range(200)])
    for t in range(6):
        _drive(spec, opt, x, grads)
        assert opt.param_groups[0]["last_lr"] == sched(t), (spec.name, t)


def test_reduce_on_plateau_as_lr_drives_the_next_steps():
    """ReduceLROnPlateau is handed over as lr and stepped with a metric from the training loop:
    the optimizer's next step uses the reduced rate (and the update is GD with that rate)."""
    plateau = S.ReduceLROnPlateau(0.1, factor=0.5, patience=1)
    xs, used = [X0.copy()], []
    x = mg.Tensor(X0, requires_grad=True)
    opt = SGD([x], lr=plateau)
    for metric in [1.0, 1.0, 1.0, 1.0, 1.0, 0.5]:
        x.grad = None
        (0.5 * (mg.Tensor(A) * x * x).sum()).backward()
        opt.step()
        used.append(opt.param_groups[0]["last_lr"])
        xs.append(x.numpy().copy())
        plateau.step(metric)
    # first metric sets the best; the 2nd is tolerated (patience 1); the 3rd reduces: 0.05 from
    # step 4 on (index 3); the 4th is tolerated, the 5th reduces again: 0.025 from index 5
    assert used == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025]
    expected = [X0.copy()]
    for eta in used:
        expected.append(expected[-1] - eta * A * expected[-1])
    np.testing.assert_allclose(xs, expected, rtol=1e-14)
