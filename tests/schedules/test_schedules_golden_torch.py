"""Golden values from torch's own scheduler tests.

Source: pytorch/pytorch, test/optim/test_lrscheduler.py (class TestLRScheduler); the test name
is given next to each vector. torch checks them with atol=1e-5; the values here are exact in
float64, so the tolerance is tighter (rtol 1e-9). torch's tests list the rate used at epoch
0, 1, 2, ... (before each ``scheduler.step()``), which is our ``sched(t)`` with t = 0, 1, 2, ...

Every vector is checked twice: one vectorised call on an array of steps, and one call per step
with a Python int (the two paths of schedules._math). The array path runs on each backend of the
``xp`` fixture (tests/conftest.py): NumPy, and CuPy where a GPU is present.
"""
import math

import numpy as np
import pytest

import schedules as S


def check(xp, sched, expected, steps=None, rtol=1e-9, atol=1e-12):
    expected = np.asarray(expected, dtype=float)
    steps = np.arange(len(expected)) if steps is None else np.asarray(steps)
    vec = sched(xp.asarray(steps))
    vec = vec.get() if hasattr(vec, "get") else np.asarray(vec)
    np.testing.assert_allclose(vec, expected, rtol=rtol, atol=atol)
    one_by_one = [sched(s.item()) for s in steps]
    assert all(type(x) is float for x in one_by_one)
    np.testing.assert_allclose(one_by_one, expected, rtol=rtol, atol=atol)


# --- decay -------------------------------------------------------------------------------

def test_step_lr(xp):
    # test_step_lr: StepLR(gamma=0.1, step_size=3), lr 0.05
    check(xp, S.StepDecay(0.05, step_size=3, gamma=0.1),
          [0.05] * 3 + [0.005] * 3 + [0.0005] * 3 + [0.00005] * 3)


def test_multi_step_lr(xp):
    # test_multi_step_lr: MultiStepLR(gamma=0.1, milestones=[2, 5, 9]), lr 0.05
    check(xp, S.MultiStepDecay(0.05, milestones=[2, 5, 9], gamma=0.1),
          [0.05] * 2 + [0.005] * 3 + [0.0005] * 4 + [0.00005] * 3)


def test_linearlr(xp):
    # test_linearlr: LinearLR(start_factor=1/2, total_iters=4), lr 0.05
    check(xp, S.LinearDecay(0.025, 0.05, total_steps=4),
          [0.025, 0.03125, 0.0375, 0.04375] + [0.05] * 6)
    # the same ramp read as a gradual warmup from 0.025
    check(xp, S.GradualWarmup(0.05, warmup_steps=4, init_value=0.025),
          [0.025, 0.03125, 0.0375, 0.04375] + [0.05] * 6)


def test_get_last_lr_linearlr(xp):
    # test_get_last_lr_linearlr: start_factor=1/4, end_factor=3/5, total_iters=4, lr 0.05;
    # factors 1/4 + i (3/5 - 1/4)/4 = 0.25, 0.3375, 0.425, 0.5125, then 0.6
    check(xp, S.LinearDecay(0.05 / 4, 0.05 * 3 / 5, total_steps=4),
          [0.05 * f for f in (0.25, 0.3375, 0.425, 0.5125)] + [0.03] * 6)


def test_constantlr(xp):
    # test_constantlr: ConstantLR(factor=1/2, total_iters=5), lr 0.05
    check(xp, S.ConstantWarmup(0.05, warmup_steps=5, warmup_value=0.025),
          [0.025] * 5 + [0.05] * 5)


def test_exp_lr(xp):
    # test_exp_lr: ExponentialLR(gamma=0.9), lr 0.05: 0.05 * 0.9**x
    check(xp, S.ExponentialDecay(0.05, decay_rate=0.9), [0.05 * 0.9**x for x in range(10)])


def test_poly_lr(xp):
    # test_poly_lr: PolynomialLR(power=0.9, total_iters=5), lr 0.05
    check(xp, S.PolynomialDecay(0.05, 0.0, total_steps=5, power=0.9),
          [(1.0 - x / 5) ** 0.9 * 0.05 for x in range(5)] + [0.0] * 5)


def test_cos_anneal_lr(xp):
    # test_cos_anneal_lr: CosineAnnealingLR(T_max=10, eta_min=1e-10), lr 0.05
    eta_min = 1e-10
    expected = [eta_min + (0.05 - eta_min) * (1 + math.cos(math.pi * x / 10)) / 2
                for x in range(10)]
    check(xp, S.CosineDecay(0.05, total_steps=10, end_value=eta_min), expected)
    check(xp, S.CosineDecay(0.05, total_steps=10, end_value=eta_min, clamp=False), expected)


def test_closed_form_cos_anneal_lr_is_not_clamped(xp):
    # test_closed_form_cos_anneal_lr: T_max=5, eta_min=1e-10, 20 epochs; torch's recursive form
    # equals its closed form eta_min + (lr - eta_min)(1 + cos(pi t / T_max))/2 for all 20 epochs,
    # i.e. it is NOT clamped after T_max: by hand, t=5 -> eta_min, t=10 -> lr, t=15 -> eta_min.
    eta_min = 1e-10
    sched = S.CosineDecay(0.05, total_steps=5, end_value=eta_min, clamp=False)
    check(xp, sched, [eta_min, 0.05, eta_min, 0.05], steps=[5, 10, 15, 20])
    expected = [eta_min + (0.05 - eta_min) * (1 + math.cos(math.pi * x / 5)) / 2
                for x in range(20)]
    check(xp, sched, expected)
    # optax's convention (the default) stays at eta_min after T_max
    check(xp, S.CosineDecay(0.05, total_steps=5, end_value=eta_min), [eta_min] * 4,
          steps=[5, 10, 15, 20])


# --- composition (torch's SequentialLR / ChainedScheduler) --------------------------------

def test_sequentiallr1(xp):
    # test_sequentiallr1: ExponentialLR(0.8) then StepLR(0.1, step 4) from milestone 3
    check(xp, S.join([S.ExponentialDecay(0.05, 0.8), S.StepDecay(0.05, 4, 0.1)], [3]),
          [0.05, 0.04, 0.032] + [0.05] * 4 + [0.005] * 4 + [0.0005] * 4 + [0.00005] * 4)


def test_sequentiallr2(xp):
    # test_sequentiallr2: ConstantLR(0.1, 3) then ExponentialLR(0.9) from milestone 3
    check(xp, S.join([S.Constant(0.005), S.ExponentialDecay(0.05, 0.9)], [3]),
          [0.005] * 3 + [0.05 * 0.9**x for x in range(10)])


def test_sequentiallr3(xp):
    # test_sequentiallr3: ConstantLR(0.1, 3), ExponentialLR(0.8), StepLR(0.1, 2); milestones [3, 6]
    check(xp, S.join([S.Constant(0.005), S.ExponentialDecay(0.05, 0.8),
                      S.StepDecay(0.05, 2, 0.1)], [3, 6]),
          [0.005] * 3 + [0.05, 0.04, 0.032] + [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005])


def test_sequentiallr_does_not_alias_lr_and_initial_lr(xp):
    # LinearLR(0.1 -> 0.8, 4) then LinearLR(0.8 -> 0.1, 4), lr 2.0, milestone 4
    check(xp, S.join([S.LinearDecay(0.2, 1.6, 4), S.LinearDecay(1.6, 0.2, 4)], [4]),
          [0.2, 0.55, 0.9, 1.25, 1.6, 1.25, 0.9, 0.55])


def test_chained_lr2(xp):
    # test_chained_lr2: LinearLR(start_factor=0.4, total_iters=3), lr 0.05
    check(xp, S.GradualWarmup(0.05, 3, init_value=0.02), [0.02, 0.03, 0.04] + [0.05] * 9)


def test_chained_lr3_is_warmup_multistep(xp):
    # test_chained_lr3: LinearLR(start_factor=0.4, total_iters=3) chained with
    # MultiStepLR(milestones=[4, 8, 10], gamma=0.1), lr 0.05, 10 epochs checked
    check(xp, S.WarmupMultiStep(0.05, 3, milestones=[4, 8, 10], gamma=0.1, init_value=0.02),
          [0.02, 0.03, 0.04, 0.05] + [0.005] * 4 + [0.0005] * 2)


# --- cyclical ------------------------------------------------------------------------------

TRI = [1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3]
TRI2 = [1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2.0, 2.5, 3.0, 2.5, 2.0, 1.5, 1, 1.25, 1.50, 1.75,
        2.00, 1.75]
TRI2_MOM = [5.0, 4.0, 3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 5.0, 4.5, 4.0, 3.5, 3.0, 3.5, 4.0, 4.5,
            5.0, 4.75, 4.5, 4.25, 4.0, 4.25]


def test_cycle_lr_triangular_mode_one_lr(xp):
    # test_cycle_lr_triangular_mode_one_lr: base 1, max 5, step_size_up 4, momentum 1..5
    s = S.CyclicalLR(1, 5, step_size_up=4, mode="triangular", cycle_momentum=True,
                     base_momentum=1, max_momentum=5)
    check(xp, s, TRI)
    check(xp, s.momentum, [5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3])


def test_cycle_lr_triangular_no_momentum_by_default():
    # test_cycle_lr_triangular_mode_one_lr_no_momentum: cycle_momentum=False leaves momentum be
    s = S.CyclicalLR(1, 5, step_size_up=4)
    assert not hasattr(s, "momentum")
    assert [s(i) for i in range(len(TRI))] == pytest.approx(TRI, rel=1e-12)


def test_cycle_lr_triangular2_mode_one_lr(xp):
    # test_cycle_lr_triangular2_mode_one_lr
    s = S.CyclicalLR(1, 5, step_size_up=4, mode="triangular2", cycle_momentum=True,
                     base_momentum=1, max_momentum=5)
    check(xp, s, TRI2)
    check(xp, s.momentum, TRI2_MOM)


def test_cycle_lr_exp_range_mode_one_lr(xp):
    # test_cycle_lr_exp_range_mode_one_lr: gamma 0.9
    xs = [0, 0.25, 0.5, 0.75, 1, 0.75, 0.50, 0.25, 0, 0.25, 0.5, 0.75, 1]
    s = S.CyclicalLR(1, 5, step_size_up=4, mode="exp_range", gamma=0.9, cycle_momentum=True,
                     base_momentum=1, max_momentum=5)
    check(xp, s, [1 + x * 4 * 0.9**i for i, x in enumerate(xs)])
    check(xp, s.momentum, [5 - x * 4 * 0.9**i for i, x in enumerate(xs)])


def test_cycle_lr_triangular_mode_step_size_up_down(xp):
    # test_cycle_lr_triangular_mode_step_size_up_down: up 4, down 6
    s = S.CyclicalLR(1, 5, step_size_up=4, step_size_down=6, cycle_momentum=True,
                     base_momentum=1, max_momentum=5)
    check(xp, s, [1.0, 2.0, 3.0, 4.0, 5.0, 13.0 / 3, 11.0 / 3, 9.0 / 3, 7.0 / 3, 5.0 / 3, 1.0])
    check(xp, s.momentum,
          [5.0, 4.0, 3.0, 2.0, 1.0, 5.0 / 3, 7.0 / 3, 3.0, 11.0 / 3, 13.0 / 3, 5.0])


def test_cycle_lr_triangular2_mode_step_size_up_down(xp):
    # test_cycle_lr_triangular2_mode_step_size_up_down: up 2, down 6 (first group: base 1, max 5)
    lr = [1.0, 3.0, 5.0, 13.0 / 3, 11.0 / 3, 9.0 / 3, 7.0 / 3, 5.0 / 3, 1.0, 2.0, 3.0,
          8.0 / 3, 7.0 / 3, 6.0 / 3, 5.0 / 3, 4.0 / 3, 1.0, 3.0 / 2, 2.0, 11.0 / 6, 10.0 / 6,
          9.0 / 6, 8.0 / 6, 7.0 / 6]
    mom = [5.0, 3.0, 1.0, 5.0 / 3, 7.0 / 3, 3.0, 11.0 / 3, 13.0 / 3, 5.0, 4.0, 3.0, 10.0 / 3,
           11.0 / 3, 4.0, 13.0 / 3, 14.0 / 3, 5.0, 4.5, 4.0, 25.0 / 6, 13.0 / 3, 4.5, 14.0 / 3,
           29.0 / 6]
    s = S.CyclicalLR(1, 5, step_size_up=2, step_size_down=6, mode="triangular2",
                     cycle_momentum=True, base_momentum=1, max_momentum=5)
    check(xp, s, lr)
    check(xp, s.momentum, mom)
    # second group of the same test: base 3, max 7 (every value shifted by 2)
    s3 = S.CyclicalLR(3, 7, step_size_up=2, step_size_down=6, mode="triangular2")
    check(xp, s3, [x + 2 for x in lr])


def test_cycle_lr_exp_range_mode_step_size_up_down(xp):
    # test_cycle_lr_exp_range_mode_step_size_up_down: up 2, down 6, gamma 0.9
    xs = [0.0, 0.5, 1.0, 5.0 / 6, 4.0 / 6, 3.0 / 6, 2.0 / 6, 1.0 / 6, 0.0, 0.5, 1.0, 5.0 / 6,
          4.0 / 6]
    s = S.CyclicalLR(1, 5, step_size_up=2, step_size_down=6, mode="exp_range", gamma=0.9,
                     cycle_momentum=True, base_momentum=1, max_momentum=5)
    check(xp, s, [1 + x * 4 * 0.9**i for i, x in enumerate(xs)])
    check(xp, s.momentum, [5 - x * 4 * 0.9**i for i, x in enumerate(xs)])


def _annealing_cos(start, end, pct):  # as written in torch's test_onecycle_lr_cosine_annealing
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def test_onecycle_lr_linear_annealing(xp):
    # test_onecycle_lr_linear_annealing: max_lr 25, final_div_factor 2, momentum 1..22, 10 steps
    s = S.OneCycle(25, total_steps=10, final_div_factor=2, base_momentum=1, max_momentum=22,
                   anneal_strategy="linear")
    check(xp, s, [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5])
    check(xp, s.momentum, [22, 11.5, 1, 4, 7, 10, 13, 16, 19, 22])


def test_onecycle_lr_linear_annealing_three_phases(xp):
    # test_onecycle_lr_linear_annealing_three_phases: pct_start 0.4, final_div_factor 4
    s = S.OneCycle(25, total_steps=10, div_factor=25, base_momentum=1, max_momentum=22,
                   anneal_strategy="linear", pct_start=0.4, final_div_factor=4,
                   three_phase=True)
    check(xp, s, [1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25])
    check(xp, s.momentum, [22, 15, 8, 1, 8, 15, 22, 22, 22, 22])


def test_onecycle_lr_cosine_annealing(xp):
    # test_onecycle_lr_cosine_annealing: default anneal_strategy "cos"
    s = S.OneCycle(25, total_steps=10, final_div_factor=2, base_momentum=1, max_momentum=22)
    check(xp, s, [1, 13, 25] + [_annealing_cos(25, 0.5, k / 7.0) for k in range(1, 7)] + [0.5])
    check(xp, s.momentum,
          [22, 11.5, 1] + [_annealing_cos(1, 22, k / 7.0) for k in range(1, 7)] + [22])


# --- SGDR ----------------------------------------------------------------------------------

@pytest.mark.parametrize("T_mult", [1, 2, 4])
def test_CosineAnnealingWarmRestarts_lr1(xp, T_mult):
    # test_CosineAnnealingWarmRestarts_lr1: T_0 10, eta_min 1e-10, 100 iterations; the targets
    # come from torch's own recursion on (T_cur, T_i), reproduced here as the test writes it
    eta_min, T_i, T_cur = 1e-10, 10, 0
    expected = [0.05]
    for _ in range(1, 100):
        T_cur += 1
        if T_cur >= T_i:
            T_cur, T_i = T_cur - T_i, int(T_mult) * T_i
        expected.append(eta_min + (0.05 - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2)
    check(xp, S.CosineWarmRestarts(0.05, T_0=10, T_mult=T_mult, end_value=eta_min), expected)


@pytest.mark.parametrize("T_mult, epochs, T_curs, T_is", [
    (1, [1, 2, 3, 4, 5, 12, 27, 3, 4, 5, 6, 13],
     [1, 2, 3, 4, 5, 2, 7, 3, 4, 5, 6, 3], [10] * 12),
    (2, [1, 2, 3, 4, 5, 25, 32, 33, 34, 80, 81, 3],
     [1, 2, 3, 4, 5, 15, 2, 3, 4, 10, 11, 3], [10, 10, 10, 10, 10, 20, 40, 40, 40, 80, 80, 10]),
    (3, [0.1, 0.2, 0.3, 1.3, 2.3, 17.5, 18.5, 19.5, 29.5, 30.5, 31.5, 50],
     [0.1, 0.2, 0.3, 1.3, 2.3, 7.5, 8.5, 9.5, 19.5, 20.5, 21.5, 10],
     [10, 10, 10, 10, 10, 30, 30, 30, 30, 30, 30, 90]),
])
def test_CosineAnnealingWarmRestarts_lr3(xp, T_mult, epochs, T_curs, T_is):
    # test_CosineAnnealingWarmRestarts_lr3: (epoch, T_cur, T_i) triples for T_mult 1, 2, 3,
    # including fractional epochs and steps that go back in time
    eta_min = 1e-10
    expected = [eta_min + (0.05 - eta_min) * (1 + math.cos(math.pi * c / i)) / 2
                for c, i in zip(T_curs, T_is)]
    s = S.CosineWarmRestarts(0.05, T_0=10, T_mult=T_mult, end_value=eta_min)
    check(xp, s, [0.05] + expected, steps=[0] + epochs)


# --- reduce on plateau (stateful; step(metric) then read lr, as torch's helper does) --------

PLATEAU = [
    # (test name, kwargs, metrics, expected lr after each step)
    ("test_reduce_lr_on_plateau1",
     dict(threshold_mode="abs", mode="min", threshold=0.01, patience=5, cooldown=5),
     [10 - i * 0.0167 for i in range(20)], [0.5] * 20),
    ("test_reduce_lr_on_plateau2",
     dict(patience=5, cooldown=0, threshold_mode="abs", mode="min", threshold=0.1),
     [10 - i * 0.0165 for i in range(22)], [0.5] * 6 + [0.05] * 7 + [0.005] * 7 + [0.0005] * 2),
    ("test_reduce_lr_on_plateau3",
     dict(mode="max", patience=5, cooldown=5, threshold_mode="abs"),
     [-0.8] * 2 + [-0.234] * 20, [0.5] * (2 + 6) + [0.05] * (5 + 6) + [0.005] * 4),
    ("test_reduce_lr_on_plateau4",
     dict(mode="max", patience=3, threshold_mode="rel", threshold=0.1),
     [1.5 * (1.025**i) for i in range(20)], [0.5] * 20),
    ("test_reduce_lr_on_plateau5",
     dict(mode="max", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
     [1.5 * (1.005**i) for i in range(20)], [0.5] * 6 + [0.05] * (5 + 6) + [0.005] * 4),
    ("test_reduce_lr_on_plateau6",
     dict(mode="min", threshold_mode="rel", threshold=0.1),
     [1.5 * (0.85**i) for i in range(20)], [0.5] * 20),
    ("test_reduce_lr_on_plateau7",
     dict(mode="min", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
     [1] * 7 + [0.6] + [0.5] * 12, [0.5] * 6 + [0.05] * (5 + 6) + [0.005] * 4),
    ("test_reduce_lr_on_plateau8 (group 1)",
     dict(mode="max", threshold_mode="rel", min_lr=0.4, threshold=0.1, patience=5, cooldown=5),
     [1.5 * (1.005**i) for i in range(20)], [0.5] * 6 + [0.4] * 14),
    ("test_reduce_lr_on_plateau8 (group 2)",
     dict(mode="max", threshold_mode="rel", min_lr=0.3, threshold=0.1, patience=5, cooldown=5),
     [1.5 * (1.005**i) for i in range(20)], [0.5] * 6 + [0.3] * 14),
]


@pytest.mark.parametrize("name, kwargs, metrics, expected", PLATEAU, ids=[p[0] for p in PLATEAU])
def test_reduce_lr_on_plateau(name, kwargs, metrics, expected):
    plateau = S.ReduceLROnPlateau(0.5, **kwargs)
    got = []
    for metric in metrics:
        returned = plateau.step(metric)
        assert returned == plateau.lr == plateau(123)
        got.append(plateau.lr)
    # some of torch's target lists are one longer than the epochs its helper checks
    np.testing.assert_allclose(got, expected[:len(metrics)], rtol=1e-12, atol=0)


def test_reduce_lr_on_plateau_state_dict():
    # test_reduce_lr_on_plateau_state_dict: after these scores, a differently built scheduler
    # that loads the state has the same state
    a = S.ReduceLROnPlateau(0.05, mode="min", factor=0.1, patience=2)
    for score in [1.0, 2.0, 3.0, 4.0, 3.0, 4.0, 5.0, 3.0, 2.0, 1.0]:
        a.step(score)
    b = S.ReduceLROnPlateau(0.7, mode="max", factor=0.5, patience=10)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    # by hand (patience 2: the third bad call reduces): best 1.0 at call 1; calls 2, 3, 4 are
    # bad -> 0.005 at call 4; calls 5, 6, 7 bad -> 0.0005; calls 8, 9, 10 bad too (1.0 is not
    # < best * (1 - 1e-4)) -> 0.00005
    assert a.lr == pytest.approx(0.05 * 0.1**3, rel=1e-12)
    for m in (0.9, 0.8):  # both continue identically
        assert a.step(m) == b.step(m)
