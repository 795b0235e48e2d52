"""Invalid parameters raise a ValueError at construction, naming the parameter and the value."""
import math

import pytest

import schedules as S

CASES = [
    # (builder, parameter named in the message, bad value shown in the message)
    (lambda: S.Constant(-1.0), "value", "-1.0"),
    (lambda: S.Constant(math.nan), "value", "nan"),
    (lambda: S.Constant(True), "value", "True"),
    (lambda: S.StepDecay(0.1, 0), "step_size", "0"),
    (lambda: S.StepDecay(0.1, 2.5), "step_size", "2.5"),
    (lambda: S.StepDecay(0.1, 3, gamma=1.5), "gamma", "1.5"),
    (lambda: S.StepDecay(0.1, 3, gamma=0.0), "gamma", "0.0"),
    (lambda: S.MultiStepDecay(0.1, [5, 3]), "milestones", "[5, 3]"),
    (lambda: S.MultiStepDecay(0.1, [0, 3]), "milestones[0]", "0"),
    (lambda: S.LinearDecay(0.1, 0.0, 0), "total_steps", "0"),
    (lambda: S.PolynomialDecay(0.1, 0.0, 10, power=0), "power", "0"),
    (lambda: S.ExponentialDecay(0.1, 0.0), "decay_rate", "0.0"),
    (lambda: S.ExponentialDecay(0.1, 0.9, transition_steps=0), "transition_steps", "0"),
    (lambda: S.ExponentialDecay(0.1, 0.9, end_value=-1), "end_value", "-1"),
    (lambda: S.ExponentialDecay.from_rate_constant(0.1, -1), "k", "-1"),
    (lambda: S.InverseTimeDecay(0.1, -0.5), "decay_rate", "-0.5"),
    (lambda: S.CosineDecay(0.1, -10), "total_steps", "-10"),
    (lambda: S.CosineDecay(0.1, 10, exponent=0), "exponent", "0"),
    (lambda: S.LinearCosineDecay(0.1, 10, num_periods=0), "num_periods", "0"),
    (lambda: S.LinearCosineDecay(0.1, 10, beta=-1), "beta", "-1"),
    (lambda: S.NoisyLinearCosineDecay(0.1, 10, initial_variance=-1), "initial_variance", "-1"),
    (lambda: S.NoisyLinearCosineDecay(0.1, 10, seed=-3), "seed", "-3"),
    (lambda: S.CyclicalLR(0.1, 0.05), "max_lr", "0.05"),
    (lambda: S.CyclicalLR(0.1, 1.0, step_size_up=0), "step_size_up", "0"),
    (lambda: S.CyclicalLR(0.1, 1.0, mode="CATS"), "mode", "'CATS'"),  # torch: invalid_mode
    (lambda: S.CyclicalLR(0.1, 1.0, gamma=2.0), "gamma", "2.0"),
    (lambda: S.CyclicalLR(0.1, 1.0, base_momentum=0.9, max_momentum=0.8), "max_momentum", "0.8"),
    (lambda: S.CosineWarmRestarts(0.1, 0), "T_0", "0"),
    (lambda: S.CosineWarmRestarts(0.1, 10, T_mult=0.5), "T_mult", "0.5"),
    (lambda: S.CosineWarmRestarts(0.1, 10, peak_decay=1.5), "peak_decay", "1.5"),
    (lambda: S.GradualWarmup(0.1, -1), "warmup_steps", "-1"),
    (lambda: S.ConstantWarmup(0.1, 5, -0.01), "warmup_value", "-0.01"),
    (lambda: S.ConstantWarmup(-0.1, 5, 0.01), "peak_value", "-0.1"),
    (lambda: S.ConstantWarmup(0.1, 2.5, 0.01), "warmup_steps", "2.5"),
    (lambda: S.warmup(S.Constant(0.1), 5, mode="cubic"), "mode", "'cubic'"),
    (lambda: S.warmup(S.Constant(0.1), 5, init_value=-0.1), "init_value", "-0.1"),
    (lambda: S.WarmupMultiStep(0.1, 10, [5, 20]), "milestones", "[5, 20]"),
    (lambda: S.WarmupInverseSqrt(0.1, 0), "warmup_steps", "0"),
    (lambda: S.WarmupInverseSqrt.from_d_model(0, 4000), "d_model", "0"),
    (lambda: S.WarmupCosine(0.1, 10, 10), "total_steps", "10"),
    (lambda: S.SlantedTriangular(0.1, 100, cut_frac=1.0), "cut_frac", "1.0"),
    (lambda: S.SlantedTriangular(0.1, 100, ratio=0.5), "ratio", "0.5"),
    (lambda: S.SlantedTriangular(0.1, 5, cut_frac=0.1), "total_steps", "5"),
    (lambda: S.WarmupStableDecay(1.0, 100, 60, 50), "decay_steps", "50"),
    (lambda: S.WarmupStableDecay(1.0, 100, 10, 20, cooldown="sqrt"), "cooldown", "'sqrt'"),
    (lambda: S.LongTrapezoid(1.0, 100, 10, 0), "decay_steps", "0"),
    (lambda: S.OneCycle(1.0, 10, pct_start=1.1), "pct_start", "1.1"),  # torch: invalid_pct_start
    (lambda: S.OneCycle(1.0, 10, anneal_strategy="CATS"), "anneal_strategy", "'CATS'"),
    (lambda: S.OneCycle(1.0, 10, div_factor=0.5), "div_factor", "0.5"),
    (lambda: S.OneCycle(1.0, 10, convention="jax"), "convention", "'jax'"),
    (lambda: S.OneCycle(1.0, 10, pct_start=0.05), "total_steps", "10"),
    (lambda: S.OneCycle(1.0, 10, pct_final=0.8), "pct_final", "0.8"),
    (lambda: S.OneCycle(1.0, 10, three_phase=True, convention="optax", pct_final=0.2),
     "pct_final", "0.2"),
    (lambda: S.StronglyConvexSGDStep(0.0), "mu", "0.0"),
    (lambda: S.InverseSqrtSGDStep(1.0, L=1.0), "alpha0", "1.0"),
    (lambda: S.HorizonSGDStep(1.0, 0.0, 10), "sigma", "0.0"),
    (lambda: S.HorizonSGDStep(1.0, 1.0, 0), "K", "0"),
    (lambda: S.join([S.Constant(1), S.Constant(2)], []), "boundaries", "[]"),
    (lambda: S.join([S.Constant(1), S.Constant(2), S.Constant(3)], [5, 3]), "boundaries", "[5, 3]"),
    (lambda: S.join([S.Constant(1), S.Constant(2)], [0]), "boundaries", "[0]"),
    (lambda: S.join([], []), "schedules", "[]"),
    (lambda: S.scale(S.Constant(1), -2), "factor", "-2"),
    (lambda: S.Constant(1) * -2, "factor", "-2"),
    (lambda: S.linear_scaling(0.1, 0, 256), "B_base", "0"),
    (lambda: S.sqrt_scaling(0.1, 256, -1), "B_new", "-1"),
    (lambda: S.linear_scaling(-0.1, 256, 512), "alpha_base", "-0.1"),
    (lambda: S.ReduceLROnPlateau(0.1, mode="avg"), "mode", "'avg'"),
    (lambda: S.ReduceLROnPlateau(0.1, factor=1.0), "factor", "1.0"),
    (lambda: S.ReduceLROnPlateau(0.1, patience=-1), "patience", "-1"),
    (lambda: S.ReduceLROnPlateau(0.1, threshold_mode="pct"), "threshold_mode", "'pct'"),
    (lambda: S.ReduceLROnPlateau(0.1, cooldown=1.5), "cooldown", "1.5"),
    (lambda: S.ReduceLROnPlateau(0.1, min_lr=-1e-3), "min_lr", "-0.001"),
]


@pytest.mark.parametrize("build, param, value", CASES, ids=[f"{c[1]}={c[2]}" for c in CASES])
def test_invalid_parameter_raises_value_error_naming_it(build, param, value):
    with pytest.raises(ValueError) as info:
        build()
    msg = str(info.value)
    assert param in msg and value in msg, msg


def test_plateau_load_state_dict_rejects_incomplete_state():
    with pytest.raises(ValueError, match="missing"):
        S.ReduceLROnPlateau(0.1).load_state_dict({"lr": 0.1})
