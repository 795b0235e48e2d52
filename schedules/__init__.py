"""Learning-rate schedules: pure, closed-form, vectorised functions of the step count.

``sched(t)`` takes the 0-based step count ``t`` (the number of optimizer steps already taken)
and returns a float for a number, an array of the same shape for an array (NumPy or CuPy, in
the array's own library). Schedules compose (:func:`warmup`, :func:`join`, :func:`scale`,
``sched * c``); the stateful reduce-on-plateau is kept apart (:class:`ReduceLROnPlateau`).
A schedule that also drives the momentum (:class:`OneCycle`) carries it as ``.momentum``.
See docs/schedules.md for the formulas, references and torch/optax conventions.

This package imports nothing of the project, and no module in it imports NumPy.
"""
from .base import Schedule, as_schedule
from .batch_size import linear_scaling, sqrt_scaling
from .compose import Join, Scaled, join, scale, sequence, warmup
from .cooldown import LongTrapezoid, WarmupStableDecay
from .cyclical import SGDR, CosineWarmRestarts, CyclicalLR
from .decay import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    LinearCosineDecay,
    LinearDecay,
    MultiStepDecay,
    NoisyLinearCosineDecay,
    PolynomialDecay,
    StepDecay,
)
from .onecycle import OneCycle
from .plateau import ReduceLROnPlateau
from .theory import HorizonSGDStep, InverseSqrtSGDStep, StronglyConvexSGDStep
from .warmups import (
    ConstantWarmup,
    GradualWarmup,
    SlantedTriangular,
    Warmup,
    WarmupCosine,
    WarmupInverseSqrt,
    WarmupMultiStep,
)

__all__ = [
    # protocol
    "Schedule", "as_schedule",
    # decay (L0 table 1)
    "Constant", "StepDecay", "MultiStepDecay", "LinearDecay", "PolynomialDecay",
    "ExponentialDecay", "InverseTimeDecay", "CosineDecay", "LinearCosineDecay",
    "NoisyLinearCosineDecay",
    # cyclical (L0 table 2)
    "CyclicalLR", "CosineWarmRestarts", "SGDR",
    # warmup (L0 table 3, L1)
    "Warmup", "GradualWarmup", "ConstantWarmup", "WarmupMultiStep", "WarmupInverseSqrt",
    "WarmupCosine", "SlantedTriangular", "LongTrapezoid", "OneCycle",
    # cooldown (L1)
    "WarmupStableDecay",
    # the SGD theorems' steps (L1, L2)
    "StronglyConvexSGDStep", "InverseSqrtSGDStep", "HorizonSGDStep",
    # composition
    "Join", "Scaled", "join", "sequence", "scale", "warmup",
    # batch size (L1)
    "linear_scaling", "sqrt_scaling",
    # stateful
    "ReduceLROnPlateau",
]
