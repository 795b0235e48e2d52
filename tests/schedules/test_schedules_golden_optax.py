"""Golden values from optax's schedule tests, and hand derivations where no library test exists.

Sources:
- google-deepmind/optax, optax/schedules/_schedule_test.py (class and test names given below);
- google-deepmind/optax, optax/schedules/_join_test.py (JoinTest.test_join_schedules);
- google-deepmind/optax, optax/schedules/schedules_warmup_cosine_test.py;
- tensorflow/tensorflow, tensorflow/python/keras/optimizer_v2/learning_rate_schedule_test.py
  (LinearCosineDecayTestV2: its reference is a formula, evaluated by hand below).
optax's vectors are float32 results checked with atol=1e-3; here float64 lets the tolerance be
tighter (rtol 1e-9) except for optax's own float32 printouts (rtol 1e-6, as optax uses).
"""
import math

import numpy as np
import pytest

import schedules as S


def check(sched, expected, steps=None, rtol=1e-9, atol=1e-12):
    expected = np.asarray(expected, dtype=float)
    steps = np.arange(len(expected)) if steps is None else np.asarray(steps)
    np.testing.assert_allclose(sched(steps), expected, rtol=rtol, atol=atol)
    np.testing.assert_allclose([sched(s.item()) for s in steps], expected, rtol=rtol, atol=atol)


# --- optax _schedule_test.py -----------------------------------------------------------------

def test_constant():
    # ConstantTest.test_constant
    check(S.Constant(10), [10] * 15)


def test_polynomial_linear():
    # PolynomialTest.test_linear: init 10, end 20, power 1, transition_steps 10
    check(S.PolynomialDecay(10.0, 20.0, total_steps=10, power=1), list(range(10, 20)) + [20] * 5)
    check(S.LinearDecay(10.0, 20.0, total_steps=10), list(range(10, 20)) + [20] * 5)


def test_polynomial_nonlinear():
    # PolynomialTest.test_nonlinear: init 25, end 10, power 2, transition_steps 10
    check(S.PolynomialDecay(25.0, 10.0, total_steps=10, power=2),
          [10.0 + 15.0 * (1.0 - n / 10) ** 2 for n in range(10)] + [10] * 5)


def test_polynomial_with_decay_begin_is_a_join():
    # PolynomialTest.test_with_decay_begin: transition_begin=4 holds init for 4 steps; the same
    # curve is join([Constant(30), PolynomialDecay(...)], [4])
    s = S.join([S.Constant(30.0), S.PolynomialDecay(30.0, 10.0, total_steps=10, power=2)], [4])
    check(s, [30.0] * 4 + [10.0 + 20.0 * (1.0 - n / 10) ** 2 for n in range(10)] + [10] * 6)


def test_piecewise_constant_positive():
    # PiecewiseConstantTest.test_positive: 0.1, {3: 2., 6: 0.5}
    check(S.join([S.Constant(0.1), S.Constant(0.2), S.Constant(0.1)], [3, 6]),
          [0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1])


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("transition_begin", [0, 5])
def test_exponential(staircase, transition_begin):
    # ExponentialTest.test_exponential: init 1, transition_steps 2, decay_rate 2 (it grows)
    def staircased(count):
        p = count / 2
        return math.floor(p) if staircase else p

    s = S.ExponentialDecay(1.0, decay_rate=2.0, transition_steps=2, staircase=staircase)
    if transition_begin:
        s = S.join([S.Constant(1.0), s], [transition_begin])
    check(s, [1.0] * transition_begin + [2.0 ** staircased(c) for c in range(15)])


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_constant_schedule(staircase):
    # ExponentialTest.test_constant_schedule: decay_rate 1 -> constant
    check(S.ExponentialDecay(1.0, 1.0, transition_steps=15, staircase=staircase), [1.0] * 15)


@pytest.mark.parametrize("decay_rate, end_value", [(0.2, 0.1), (2.0, 3.0)])
@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_end_value_with_staircase(decay_rate, end_value, staircase):
    # ExponentialTest.test_end_value_with_staircase: transition_steps 2, transition_begin 3;
    # clipped from below (rate < 1) or from above (rate > 1) at end_value
    def staircased(count):
        p = count / 2
        return math.floor(p) if staircase else p

    s = S.ExponentialDecay(1.0, decay_rate, transition_steps=2, staircase=staircase,
                           end_value=end_value)
    s = S.join([S.Constant(1.0), s], [3])
    raw = np.array([1.0] * 3 + [decay_rate ** staircased(c) for c in range(11)])
    clip = np.maximum if decay_rate < 1 else np.minimum
    check(s, clip(raw, end_value))


def test_exponential_rate_one_end_value_clips_everything():
    # the (1.0, 0.1) case of test_end_value_with_staircase: rate 1 is "not < 1", so optax takes
    # the minimum with end_value: every value is 0.1
    check(S.ExponentialDecay(1.0, 1.0, transition_steps=2, end_value=0.1), [0.1] * 11)


def test_growing_exponential_with_end_value_at_huge_steps():
    # 2^(t/2) clipped at 3: 3 for every t >= 4 (2^(4/2) = 4 > 3), even where 2^(t/2) overflows
    s = S.ExponentialDecay(1.0, 2.0, transition_steps=2, end_value=3.0)
    check(s, [3.0, 3.0, 3.0], steps=[4, 10**6, 10**12])


def test_exponential_immutable_count():
    # ExponentialTest.test_immutable_count: init 32, transition_steps 1, decay_rate 0.5
    check(S.ExponentialDecay(32.0, 0.5, transition_steps=1), [32, 16, 8, 4, 2])


def _cos_mult(fracs):
    return 0.5 + 0.5 * np.cos(np.pi * np.array(fracs))


def test_cosine_decay_count_smaller_count():
    # CosineDecayTest.test_decay_count_smaller_count: init 0.1, decay_steps 10, alpha 0
    check(S.CosineDecay(0.1, 10, 0.0), 0.1 * _cos_mult([k / 10 for k in range(10)]))


def test_cosine_decay_count_greater_count_is_clamped():
    # CosineDecayTest.test_decay_count_greater_count: decay_steps 5, held after step 5
    fr = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    check(S.CosineDecay(0.1, 5, 0.0), 0.1 * _cos_mult(fr))
    # ..._with_alpha: alpha 0.1 -> multipliers 0.9 m + 0.1, i.e. end_value = alpha * init
    check(S.CosineDecay(0.1, 5, end_value=0.1 * 0.1), 0.1 * (0.9 * _cos_mult(fr) + 0.1))


def test_cosine_with_exponent():
    # CosineDecayTest.test_with_exponent: init 0.1, decay_steps 100, exponent 2
    check(S.CosineDecay(0.1, 100, 0.0, exponent=2),
          [0.1, 0.09516553580760956, 0.025, 0.0021446612663567066, 0.0],
          steps=[0, 10, 50, 75, 100], rtol=1e-6, atol=1e-8)


def test_cosine_with_giant_int_steps():
    # CosineDecayTest.test_with_giant_int_steps: decay_steps 1e10, count 1e9
    s = S.CosineDecay(1000.0, int(1e10), 0.0)
    np.testing.assert_allclose(s(int(1e9)), 975.52826)
    np.testing.assert_allclose(s(np.array([int(1e9)])), [975.52826])


@pytest.mark.parametrize("init_value, peak_value, end_value", [(10, 0.5, 1e-4), (5, 3, 0.0)])
def test_warmup_cosine_limits(init_value, peak_value, end_value):
    # WarmupCosineDecayTest.test_limits: warmup_steps 100, decay_steps 1000 (includes warmup)
    s = S.WarmupCosine(peak_value, warmup_steps=100, total_steps=1000, init_value=init_value,
                       end_value=end_value)
    np.testing.assert_allclose(s(0), init_value)
    np.testing.assert_allclose(s(100), peak_value)
    np.testing.assert_allclose(s(1000), end_value, rtol=1e-3)


def test_warmup_cosine_reaches_peak_and_end():
    # schedules_warmup_cosine_test.py: test_warmup_increases_and_reaches_peak and
    # test_decay_nonincreasing_and_hits_end_value
    s = S.WarmupCosine(1.0, warmup_steps=5, total_steps=25, init_value=0.0, end_value=0.1)
    vals = s(np.arange(26))
    assert np.all(np.diff(vals[:6]) > 0)
    assert vals[5] == pytest.approx(1.0, abs=1e-7)
    s = S.WarmupCosine(2.0, warmup_steps=4, total_steps=20, init_value=0.0, end_value=0.5)
    vals = s(np.arange(21))
    assert np.all(np.diff(vals[4:]) <= 0)
    assert vals[-1] == pytest.approx(0.5, abs=1e-7)


def test_warmup_cosine_raises_when_decay_equals_warmup():
    # schedules_warmup_cosine_test.py: test_raises_when_decay_equals_warmup
    with pytest.raises(ValueError, match="total_steps"):
        S.WarmupCosine(1.2, warmup_steps=10, total_steps=10, init_value=0.2)


def test_piecewise_interpolate_linear_is_a_continuous_join():
    # PiecewiseInterpolateTest.test_linear_piecewise: 'linear', 200., {5: 1.5, 10: 0.25}
    s = S.join([S.LinearDecay(200.0, 300.0, 5), S.LinearDecay(300.0, 75.0, 5)], [5])
    check(s, [200., 220., 240., 260., 280., 300., 255., 210., 165., 120., 75., 75., 75.])


def test_piecewise_interpolate_cosine_is_a_join_of_cosines():
    # PiecewiseInterpolateTest.test_cos_piecewise: 'cosine', 400., {5: 1.2, 3: 0.6, 7: 1.}
    # i.e. 400 -> 240 on [0, 3], 240 -> 288 on [3, 5], then 288
    s = S.join([S.CosineDecay(400.0, 3, end_value=240.0), S.CosineDecay(240.0, 2, end_value=288.0),
                S.Constant(288.0)], [3, 5])
    check(s, [400., 360., 280., 240., 264., 288., 288., 288., 288.])


def test_linear_onecycle_optax():
    # OneCycleTest.test_linear: transition_steps 10, peak 1000, pct_start 0.3, pct_final 0.7,
    # div_factor 10, final_div_factor 100 (three phases, optax's phase ends 3, 7, 10)
    s = S.OneCycle(1000, 10, pct_start=0.3, anneal_strategy="linear", div_factor=10.0,
                   final_div_factor=100.0, three_phase=True, convention="optax", pct_final=0.7)
    check(s, [100., 400., 700., 1000., 775., 550., 325., 100., 67., 34., 1., 1.])


def test_cosine_onecycle_optax():
    # OneCycleTest.test_cosine: transition_steps 5, peak 1000, pct_start 0.4, div 10, final 100
    s = S.OneCycle(1000.0, 5, pct_start=0.4, div_factor=10.0, final_div_factor=100.0,
                   convention="optax")
    check(s, [100., 550., 1000., 750.25, 250.75, 1., 1.])


def test_onecycle_nonpositive_transition_steps():
    # OneCycleTest.test_nonpositive_transition_steps
    for conv in ("torch", "optax"):
        with pytest.raises(ValueError, match="total_steps"):
            S.OneCycle(5.0, 0, convention=conv)


def test_join_schedules():
    # _join_test.py JoinTest.test_join_schedules: constants 1, 2, 1 joined at [3, 6]
    check(S.join([S.Constant(1.0), S.Constant(2.0), S.Constant(1.0)], [3, 6]),
          [1, 1, 1, 2, 2, 2, 1], atol=0.0, rtol=0.0)


# --- TensorFlow's linear cosine decay (reference formula, evaluated by hand) ----------------

def test_linear_cosine_default():
    # LinearCosineDecayTestV2.testDefaultDecay: init 1, decay_steps 1000, steps 0, 250, ..., 1250;
    # num_periods 0.5, alpha 0, beta 1e-3: value = (1 - t/T) * (1 + cos(pi t/T))/2 + beta:
    #   t=0:    1 * 1 + 0.001                               = 1.001
    #   t=250:  0.75 * (1 + sqrt(2)/2)/2 + 0.001            = 0.641164...
    #   t=500:  0.5 * 0.5 + 0.001                           = 0.251
    #   t=750:  0.25 * (1 - sqrt(2)/2)/2 + 0.001            = 0.037611...
    #   t>=1000: 0 + 0.001
    r = math.sqrt(2) / 2
    expected = [1.001, 0.75 * (1 + r) / 2 + 0.001, 0.251, 0.25 * (1 - r) / 2 + 0.001, 0.001, 0.001]
    check(S.LinearCosineDecay(1.0, 1000), expected, steps=range(0, 1500, 250))


def test_linear_cosine_non_default():
    # LinearCosineDecayTestV2.testNonDefaultDecay: alpha 0.1, beta 1e-4, num_periods 5:
    # the cosine argument 2 pi * 5 * t/1000 is pi * {0, 2.5, 5, 7.5, 10, 10}:
    #   cos = 1, 0, -1, 0, 1, 1 -> (1+cos)/2 = 1, 1/2, 0, 1/2, 1, 1
    #   value = (0.1 + 1 - t/1000) * that + 1e-4
    expected = [1.1 * 1 + 1e-4, 0.85 * 0.5 + 1e-4, 1e-4, 0.35 * 0.5 + 1e-4, 0.1 + 1e-4,
                0.1 + 1e-4]
    check(S.LinearCosineDecay(1.0, 1000, num_periods=5, alpha=0.1, beta=1e-4), expected,
          steps=range(0, 1500, 250), atol=1e-12)
