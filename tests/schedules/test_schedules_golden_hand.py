"""Golden values derived by hand from the published formulas (no library test to cite).

Each test writes the formula, the parameters and the arithmetic; the numbers are typed in, not
computed by the code under test.
"""
import math

import numpy as np
import pytest

import schedules as S


def check(sched, expected, steps=None, rtol=1e-12, atol=1e-15):
    expected = np.asarray(expected, dtype=float)
    steps = np.arange(len(expected)) if steps is None else np.asarray(steps)
    np.testing.assert_allclose(sched(steps), expected, rtol=rtol, atol=atol)
    np.testing.assert_allclose([sched(s.item()) for s in steps], expected, rtol=rtol, atol=atol)


def test_inverse_time_decay():
    # eta_0 / (1 + k t), eta_0 = 1, k = 0.5: 1, 1/1.5, 1/2, 1/2.5, 1/3
    check(S.InverseTimeDecay(1.0, 0.5), [1, 2 / 3, 1 / 2, 2 / 5, 1 / 3])
    # staircase with decay_steps 2: floor(t/2) = 0, 0, 1, 1, 2
    check(S.InverseTimeDecay(1.0, 0.5, decay_steps=2, staircase=True),
          [1, 1, 2 / 3, 2 / 3, 1 / 2])


def test_exponential_lecture_form():
    # eta_0 e^{-k t} with k = ln 2: 1, 1/2, 1/4, 1/8
    check(S.ExponentialDecay.from_rate_constant(1.0, math.log(2)), [1, 0.5, 0.25, 0.125])


def test_step_decay_by_hand():
    # 0.1 * 0.5^floor(t/4) at t = 0, 3, 4, 7, 8, 12
    check(S.StepDecay(0.1, 4, 0.5), [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125],
          steps=[0, 3, 4, 7, 8, 12])


def test_gradual_warmup_lecture_formula():
    # alpha_t = alpha_max t / T_w (L1, Goyal et al. 2017), alpha_max 0.1, T_w 5
    check(S.GradualWarmup(0.1, 5), [0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.1, 0.1])


def test_constant_warmup_he():
    # He et al. 2016 (ResNet-110): 0.01 for the first 400 iterations, then 0.1
    check(S.ConstantWarmup(0.1, 400, warmup_value=0.01), [0.01, 0.01, 0.1, 0.1],
          steps=[0, 399, 400, 10_000])


def test_goyal_imagenet_schedule():
    # Goyal et al. 2017 in epochs: 0.1 -> 3.2 (k=32) over 5 epochs, x0.1 at 30, 60, 80
    s = S.WarmupMultiStep(3.2, 5, milestones=[30, 60, 80], gamma=0.1, init_value=0.1)
    # t=0: 0.1; t=1: 0.1 + 3.1/5 = 0.72; t=5..29: 3.2; t=30: 0.32; t=60: 0.032; t=80: 0.0032
    check(s, [0.1, 0.72, 3.2, 3.2, 0.32, 0.032, 0.0032], steps=[0, 1, 5, 29, 30, 60, 80])


def test_warmup_shift_conventions():
    # shift=True (optax join): after T_w=2 the schedule restarts at its step 0
    base = S.ExponentialDecay(1.0, 0.5)
    check(S.warmup(base, 2), [0.0, 0.5, 1.0, 0.5, 0.25])
    # shift=False (milestones from the start): target is s(T_w) = 0.25, then s(t)
    check(S.warmup(base, 2, shift=False), [0.0, 0.125, 0.25, 0.125, 0.0625])
    # constant mode, init 0.05
    check(S.warmup(base, 2, init_value=0.05, mode="constant"), [0.05, 0.05, 1.0, 0.5])


def test_warmup_inverse_sqrt_vaswani():
    # Vaswani et al. 2017: d_model 512, warmup 4000: peak = 512^-1/2 4000^-1/2 = 1/sqrt(2048000)
    # = 6.987712429686844e-04, reached at t = 4000; t=2000: half of it (ramp);
    # t=16000: peak * sqrt(4000/16000) = half of it; t=0: 0
    s = S.WarmupInverseSqrt.from_d_model(512, 4000)
    p = 6.987712429686844e-04
    check(s, [0.0, p / 2, p, p / 2], steps=[0, 2000, 4000, 16000])


def test_slanted_triangular_ulmfit():
    # Howard & Ruder 2018: T=100, cut_frac 0.1, ratio 32, eta_max 0.01: cut = 10
    # t=0: p=0 -> 0.01/32 = 3.125e-4; t=5: p=0.5 -> 0.01 (1 + 15.5)/32 = 5.15625e-3
    # t=10: p=1 -> 0.01; t=55: p = 1 - 45/(10*9) = 0.5 -> 5.15625e-3; t=100: p=0 -> 3.125e-4
    # t=150: p clipped at 0 -> 3.125e-4
    check(S.SlantedTriangular(0.01, 100), [3.125e-4, 5.15625e-3, 0.01, 5.15625e-3, 3.125e-4,
                                           3.125e-4], steps=[0, 5, 10, 55, 100, 150])


@pytest.mark.parametrize("cooldown, at85", [
    ("linear", 0.75),                                  # 1 - s, s = 5/20 = 0.25
    ("cosine", (1 + math.sqrt(2) / 2) / 2),            # (1 + cos(pi/4))/2
    ("1-sqrt", 0.5),                                   # 1 - sqrt(0.25)
])
def test_warmup_stable_decay(cooldown, at85):
    # peak 1, T = 100, T_w = 10, T_d = 20 (cooldown starts at 80)
    s = S.WarmupStableDecay(1.0, 100, warmup_steps=10, decay_steps=20, cooldown=cooldown)
    check(s, [0.0, 0.5, 1.0, 1.0, 1.0, at85, 0.0, 0.0], steps=[0, 5, 10, 50, 80, 85, 100, 120])


def test_long_trapezoid():
    # peak 2, T = 10, up 2, down 4: 0, 1, 2, 2, 2, 2, 2 (t=6 starts the decay), 1.5, 1, 0.5, 0
    check(S.LongTrapezoid(2.0, 10, warmup_steps=2, decay_steps=4),
          [0, 1, 2, 2, 2, 2, 2, 1.5, 1, 0.5, 0, 0])


def test_sgdr_with_decaying_peaks():
    # peak 1, T_0 10, T_mult 2, peak_decay 0.5, end 0: cycles [0,10), [10,30), [30,70)
    # t=5: (1+cos(pi/2))/2 = 0.5; t=10: restart, peak 0.5; t=20: 0.5 * (1+cos(pi*10/20))/2 = 0.25;
    # t=30: restart, 0.25; t=50: 0.25 * 0.5 = 0.125
    check(S.CosineWarmRestarts(1.0, 10, 2, peak_decay=0.5), [1.0, 0.5, 0.5, 0.25, 0.25, 0.125],
          steps=[0, 5, 10, 20, 30, 50])


def test_sgdr_restart_exactly_at_boundaries_non_integer_T_mult():
    # T_0 = 3, T_mult = 1.5: cycles start at 0, 3, 7.5, 14.25, 24.375 where the rate is the peak;
    # just before each restart it is near eta_min
    s = S.CosineWarmRestarts(1.0, 3, 1.5, end_value=0.1)
    check(s, [1.0, 1.0, 1.0, 1.0, 1.0], steps=[0.0, 3.0, 7.5, 14.25, 24.375])
    before = s(np.array([3.0, 7.5, 14.25, 24.375]) - 1e-9)
    np.testing.assert_allclose(before, 0.1, atol=1e-9)


def test_sgd_theorem_steps():
    # (2k+1) / (2 mu (k+1)^2), mu = 2: k=0: 1/4; k=1: 3/16; k=3: 7/64
    check(S.StronglyConvexSGDStep(2.0), [0.25, 3 / 16, 7 / 64], steps=[0, 1, 3])
    # alpha_0 / sqrt(k+1), alpha_0 = 0.1: k=0: 0.1; k=3: 0.05; k=99: 0.01
    check(S.InverseSqrtSGDStep(0.1), [0.1, 0.05, 0.01], steps=[0, 3, 99])
    # R / (sigma sqrt(K)), R = 2, sigma = 4, K = 100: 2/40 = 0.05 at every step
    check(S.HorizonSGDStep(2.0, 4.0, 100), [0.05] * 3, steps=[0, 50, 1000])


def test_batch_size_rules():
    # linear: 0.1 * 1024/256 = 0.4; square root: 0.1 * sqrt(4) = 0.2
    assert S.linear_scaling(0.1, 256, 1024) == pytest.approx(0.4, rel=1e-15)
    assert S.sqrt_scaling(0.1, 256, 1024) == pytest.approx(0.2, rel=1e-15)
    # on a schedule: the whole curve is scaled, the momentum cycle (1cycle) is kept
    oc = S.OneCycle(1.0, 100)
    big = S.linear_scaling(oc, 256, 1024)
    check(big, [4 * oc(t) for t in (0, 29, 99)], steps=[0, 29, 99])
    assert big.momentum is oc.momentum
    check(S.sqrt_scaling(S.Constant(0.1), 100, 400), [0.2, 0.2])


def test_scale_and_operator():
    s = S.ExponentialDecay(1.0, 0.5)
    check(S.scale(s, 3.0), [3.0, 1.5, 0.75])
    check(s * 3.0, [3.0, 1.5, 0.75])
    check(3.0 * s, [3.0, 1.5, 0.75])


def test_noisy_linear_cosine_noise_is_standard_normal():
    # With variance_decay 0 and initial_variance 0.25, eps_t = 0.5 z_t; recover z_t from the
    # value (alpha 0, beta 0, nonnegative=False): z = ((v/init)/cos - (T - t)/T) / 0.5, on steps
    # where the cosine factor is not small. Over 20000 steps, mean 0 and std 1 within 4 standard
    # errors (1/sqrt(n) = 0.007 for the mean, 1/sqrt(2n) = 0.005 for the std).
    T = 200_000
    s = S.NoisyLinearCosineDecay(1.0, T, initial_variance=0.25, variance_decay=0.0, beta=0.0,
                                 seed=3, nonnegative=False)
    t = np.arange(20_000, dtype=float)
    cos = 0.5 * (1 + np.cos(2 * np.pi * 0.5 * t / T))
    z = (s(t) / cos - (T - t) / T) / 0.5
    n = z.size
    assert abs(z.mean()) < 4 / math.sqrt(n)
    assert abs(z.std() - 1) < 4 / math.sqrt(2 * n)
    # and the noise is a function: the same step gives the same value, scalar or array
    assert [s(int(k)) for k in (7, 7, 12345)] == [s(7), s(7), s(12345)]
    np.testing.assert_array_equal(s(np.array([7, 12345])), [s(7), s(12345)])
    # different seeds give different noise
    other = S.NoisyLinearCosineDecay(1.0, T, initial_variance=0.25, variance_decay=0.0,
                                     beta=0.0, seed=4, nonnegative=False)
    assert not np.allclose(other(t[:100]), s(t[:100]))
