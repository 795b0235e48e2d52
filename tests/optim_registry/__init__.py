r"""One spec per optimizer: what the generic tests need to know about it.

This is test metadata (invalid arguments, convergence settings and the rules behind them), not
part of the library: it lives in ``tests/optim_registry/`` and is imported as ``optim_registry``
(``tests`` is on pytest's ``pythonpath``, see ``pyproject.toml``; a script outside pytest puts
``tests/`` on ``sys.path`` first, as ``tests/parity/parity_cases.py`` does).

A new optimizer gets every generic test of ``tests/optimizers/`` (construction and validation,
zero gradient, dtype, state_dict round trip, schedules, convergence on a quadratic and on
Rosenbrock) by being registered here (or in a submodule of this package, see the end of this
file)::

    register(OptimizerSpec(
        name="Muon", cls=Muon,
        invalid=(({"lr": -1.0}, "lr"), ({"momentum": 1.0}, "momentum")),
        quadratic=Convergence(lr=0.1, steps=300), rosenbrock=Convergence(lr=1e-3, steps=3000),
    ))

The convergence settings and the rule they follow
-------------------------------------------------
The two test problems are fixed (see ``tests/optimizers/optim_testkit.py``):

* a strongly convex quadratic :math:`\tfrac12 x^\top A x - b^\top x` in 2-D with eigenvalues
  :math:`\mu = 1`, :math:`L = 10`, started at (3, 2): success is
  :math:`\|x_k - x^*\|_2 \le 10^{-4}` after the stated number of steps;
* Rosenbrock :math:`(1 - x)^2 + 100 (y - x^2)^2` from (-1.2, 1) (:math:`L \approx 1002` at the
  minimiser (1, 1)): success is :math:`\|x_k - x^*\|_2 \le 10^{-2}`.

Learning rates are not tuned in secret; they follow these rules, written next to each entry:

1. *Gradient-scaled steps* (SGD, momentum, NAG, SVRG, SAG, Lookahead and SAM over them): the
   step of gradient descent that theory allows, :math:`\alpha = 1/L`: 0.1 on the quadratic; on
   Rosenbrock 2e-3 (:math:`\approx 2/L` at the minimiser; from (-1.2, 1) larger steps diverge)
   for GD-like methods and 1e-3 with momentum 0.9.
2. *Scale-free steps* (Adam and its variants, Adamax, AdaBound, Adagrad, RMSProp): each
   coordinate moves by about :math:`\alpha` per step whatever the gradient's scale, so
   :math:`\alpha` is a fraction of the distance to travel: 0.1 on the quadratic (distance 3.4),
   0.03 on Rosenbrock (a curved valley of length about 3); methods whose early steps are
   smaller by design (Adagrad's shrinking steps, RAdam's rectification, NAdam's schedule) get
   the value from the half-decade grid {1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001} that converges,
   and it is stated.
3. *Methods that cannot converge with a constant step* (sign methods, whose step has length
   :math:`\alpha` per coordinate even at the minimiser, and RMSProp, whose normalised step does
   the same) get an exponentially decaying schedule :math:`\alpha_t = \alpha_0 d^t`, written out.
4. *Adadelta* becomes gradient descent with step ``lr`` near the minimiser (both running
   averages fall below :math:`\epsilon`), so ``lr`` is rule 1's step; ``eps=1e-2`` keeps its
   first steps from being tiny.
5. *NAG-GS*: :math:`\alpha = 1/\sqrt{L}` on the quadratic (0.3), 0.03 on Rosenbrock.
6. *SAM* converges to a point at distance :math:`\rho` from the minimiser of a quadratic
   (:math:`\nabla f(w + \rho\hat g) = 0`): ``rho`` is set below the tolerance.

Budgets are the step counts stated in each entry (a few hundred to 20,000 steps); all of them
together run in about 20 s on one core.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from optimizers.adabound import AdaBound, AMSBound
from optimizers.adadelta import Adadelta
from optimizers.adagrad import Adagrad
from optimizers.adam import AMSGrad, AdaBelief, Adam, Adamax, AdamW, NAdam, RAdam
from optimizers.lookahead import Lookahead
from optimizers.naggs import NAGGS
from optimizers.rmsprop import RMSProp
from optimizers.sam import SAM
from optimizers.sgd import NAG, SGD, Momentum
from optimizers.sign import Lion, Signum, SignSGD
from optimizers.variance_reduced import SAG, SVRG

__all__ = ["Convergence", "OptimizerSpec", "REGISTRY", "register", "specs", "ExpDecay"]


class ExpDecay:
    r"""The schedule :math:`\alpha_t = \alpha_0 d^t` (rule 3 above), written here so that the
    registry does not depend on the ``schedules`` package."""

    def __init__(self, lr0: float, decay: float):
        self.lr0, self.decay = float(lr0), float(decay)

    def __call__(self, t):
        return self.lr0 * self.decay ** t

    def __repr__(self) -> str:
        return f"{self.lr0:g} * {self.decay:g}**t"


@dataclass(frozen=True)
class Convergence:
    """A convergence setting: ``lr`` (a number or a schedule), ``steps``, the tolerance on
    ``||x - x*||_2`` (None: the problem's default), extra constructor ``kwargs`` and the rule
    that chose them."""

    lr: Any
    steps: int
    tol: float | None = None
    kwargs: dict = field(default_factory=dict)
    rule: str = ""


@dataclass(frozen=True)
class OptimizerSpec:
    """What the generic tests know about an optimizer.

    * ``cls``, ``kwargs``: how to build it (``cls(params, **kwargs)``; ``kwargs`` holds what has
      no default, e.g. SVRG's ``n``);
    * ``invalid``: pairs (keyword arguments, the hyperparameter name that the ``ValueError``
      must mention);
    * ``closure``: "none" (plain ``step()``), "loss" (``step(closure)`` with ``closure()``
      returning the loss after ``backward()``) or "finite_sum" (``closure(indices)``);
    * ``exact_zero_gradient``: a zero gradient leaves the parameters bit-for-bit unchanged;
    * ``quadratic``, ``rosenbrock``: the convergence settings (see the module docstring).
    """

    name: str
    cls: type
    quadratic: Convergence
    rosenbrock: Convergence
    kwargs: dict = field(default_factory=dict)
    invalid: tuple = ()
    closure: str = "none"
    exact_zero_gradient: bool = True
    notes: str = ""

    def make(self, params, **overrides):
        """``cls(params, **kwargs, **overrides)``."""
        return self.cls(params, **{**self.kwargs, **overrides})

    @property
    def follows_momentum_schedule(self) -> bool:
        return getattr(self.cls, "momentum_key", None) is not None


REGISTRY: dict[str, OptimizerSpec] = {}


def register(spec: OptimizerSpec) -> OptimizerSpec:
    """Add ``spec`` (a name may be registered once)."""
    if spec.name in REGISTRY:
        raise ValueError(f"optimizer {spec.name!r} is registered already")
    REGISTRY[spec.name] = spec
    return spec


def specs() -> list:
    """Every registered spec, in registration order."""
    return list(REGISTRY.values())


# --------------------------------------------------------------------------- shared pieces
_NAN = math.nan
_LR = (({"lr": -1e-3}, "lr"), ({"lr": _NAN}, "lr"), ({"lr": "fast"}, "lr"))
_BETAS = (({"betas": (1.0, 0.999)}, "betas[0]"), ({"betas": (-0.1, 0.999)}, "betas[0]"),
          ({"betas": (0.9, 1.0)}, "betas[1]"), ({"betas": (0.9, 1.5)}, "betas[1]"),
          ({"betas": 0.9}, "betas"))
_EPS = (({"eps": 0.0}, "eps"), ({"eps": -1e-8}, "eps"))
_WD = (({"weight_decay": -0.1}, "weight_decay"),)
_MOMENTUM = (({"momentum": 1.0}, "momentum"), ({"momentum": -0.5}, "momentum"))

_GD_Q = "rule 1: alpha = 1/L = 0.1"
_GD_R = "rule 1: 2e-3 (about 2/L at the minimiser)"
_MOM_R = "rule 1: 1e-3 with momentum 0.9"
_FREE_Q = "rule 2: 0.1 (distance 3.4)"
_FREE_R = "rule 2: 0.03"

# --------------------------------------------------------------------------- the registry
register(OptimizerSpec(
    name="SGD", cls=SGD, invalid=_LR + _WD,
    quadratic=Convergence(0.1, 300, rule=_GD_Q),
    rosenbrock=Convergence(2e-3, 15000, rule=_GD_R)))
register(OptimizerSpec(
    name="Momentum", cls=Momentum,
    invalid=_LR + _WD + _MOMENTUM + (({"form": "nesterov"}, "form"),
                                     ({"dampening": 1.0}, "dampening"),
                                     ({"momentum_init": "ones"}, "momentum_init")),
    quadratic=Convergence(0.1, 300, rule=_GD_Q),
    rosenbrock=Convergence(1e-3, 3000, rule=_MOM_R)))
register(OptimizerSpec(
    name="Momentum(accumulator)", cls=Momentum, kwargs={"form": "accumulator"},
    invalid=_LR + _MOMENTUM,
    quadratic=Convergence(0.1, 300, rule=_GD_Q),
    rosenbrock=Convergence(1e-3, 3000, rule=_MOM_R)))
register(OptimizerSpec(
    name="NAG", cls=NAG, closure="loss",
    invalid=_LR + _WD + _MOMENTUM + (({"form": "torch"}, "form"),),
    quadratic=Convergence(0.1, 300, rule=_GD_Q),
    rosenbrock=Convergence(1e-3, 3000, rule=_MOM_R)))
register(OptimizerSpec(
    name="NAG(reparametrised)", cls=NAG, kwargs={"form": "reparametrised"},
    invalid=_LR + _MOMENTUM,
    quadratic=Convergence(0.1, 300, rule=_GD_Q),
    rosenbrock=Convergence(1e-3, 3000, rule=_MOM_R)))
register(OptimizerSpec(
    name="Adagrad", cls=Adagrad,
    invalid=_LR + _EPS + _WD + (({"eps_inside": 1}, "eps_inside"),
                                ({"initial_accumulator_value": -1.0},
                                 "initial_accumulator_value")),
    quadratic=Convergence(1.0, 300, rule="rule 2, grid: 1.0 (Adagrad's steps shrink)"),
    rosenbrock=Convergence(0.5, 10000, rule="rule 2, grid: 0.5")))
register(OptimizerSpec(
    name="RMSProp", cls=RMSProp,
    invalid=_LR + _EPS + _WD + (({"gamma": 1.0}, "gamma"), ({"gamma": -0.1}, "gamma"),
                                ({"bias_correction": "yes"}, "bias_correction")),
    quadratic=Convergence(ExpDecay(0.1, 0.98), 500, rule="rule 3: 0.1 * 0.98^t"),
    rosenbrock=Convergence(ExpDecay(0.01, 0.999), 5000, rule="rule 3: 0.01 * 0.999^t")))
register(OptimizerSpec(
    name="Adadelta", cls=Adadelta,
    invalid=_LR + _EPS + _WD + (({"rho": 1.0}, "rho"), ({"gamma": 1.2}, "gamma")),
    quadratic=Convergence(0.1, 300, kwargs={"eps": 1e-2}, rule="rule 4: lr 0.1, eps 1e-2"),
    rosenbrock=Convergence(2e-3, 20000, kwargs={"eps": 1e-2},
                           rule="rule 4: lr 2e-3, eps 1e-2")))
register(OptimizerSpec(
    name="Adam", cls=Adam, invalid=_LR + _BETAS + _EPS + _WD,
    quadratic=Convergence(0.1, 300, rule=_FREE_Q),
    rosenbrock=Convergence(0.03, 3000, rule=_FREE_R)))
register(OptimizerSpec(
    name="AMSGrad", cls=AMSGrad,
    invalid=_LR + _BETAS + _EPS + _WD + (({"max_of": "m"}, "max_of"),),
    quadratic=Convergence(0.1, 300, rule=_FREE_Q),
    rosenbrock=Convergence(0.1, 3000, rule="rule 2, grid: 0.1 (the max keeps steps small)")))
register(OptimizerSpec(
    name="AMSGrad(v_hat)", cls=AMSGrad, kwargs={"max_of": "v_hat"},
    invalid=_LR + _BETAS,
    quadratic=Convergence(0.1, 300, rule=_FREE_Q),
    rosenbrock=Convergence(0.3, 10000,
                           rule="rule 2, grid: 0.3 (the max of the bias-corrected v keeps the "
                                "first, largest gradient: steps are alpha/|g_1| small)")))
register(OptimizerSpec(
    name="AdamW", cls=AdamW, invalid=_LR + _BETAS + _EPS + _WD,
    quadratic=Convergence(0.1, 300, kwargs={"weight_decay": 0.0}, rule=_FREE_Q),
    rosenbrock=Convergence(0.03, 3000, kwargs={"weight_decay": 0.0}, rule=_FREE_R),
    notes="weight decay moves the minimiser, so the convergence tests use weight_decay=0"))
register(OptimizerSpec(
    name="AdaBelief", cls=AdaBelief, invalid=_LR + _BETAS + _EPS + _WD,
    quadratic=Convergence(0.1, 300, rule=_FREE_Q),
    rosenbrock=Convergence(0.03, 3000, rule=_FREE_R)))
register(OptimizerSpec(
    name="NAdam", cls=NAdam,
    invalid=_LR + _BETAS + _EPS + _WD + (({"momentum_decay": -1e-3}, "momentum_decay"),),
    quadratic=Convergence(0.1, 300, rule=_FREE_Q),
    rosenbrock=Convergence(0.01, 10000, rule="rule 2, grid: 0.01")))
register(OptimizerSpec(
    name="RAdam", cls=RAdam, invalid=_LR + _BETAS + _EPS + _WD,
    quadratic=Convergence(0.3, 300, rule="rule 2, grid: 0.3 (rectification shrinks early steps)"),
    rosenbrock=Convergence(3e-3, 10000,
                           rule="rule 2, grid: 3e-3 (its first steps are un-adapted momentum "
                                "steps of size alpha*g, g ~ 200 at the start)")))
register(OptimizerSpec(
    name="Adamax", cls=Adamax, invalid=_LR + _BETAS + _EPS + _WD,
    quadratic=Convergence(0.1, 300, rule=_FREE_Q),
    rosenbrock=Convergence(0.1, 3000, rule="rule 2, grid: 0.1")))
register(OptimizerSpec(
    name="AdaBound", cls=AdaBound,
    invalid=_LR + _BETAS + _EPS + _WD + (({"final_lr": -0.1}, "final_lr"),
                                         ({"gamma": 0.0}, "gamma")),
    quadratic=Convergence(0.1, 300, rule=_FREE_Q + "; final_lr 0.1 = 1/L (rule 1)"),
    rosenbrock=Convergence(0.03, 15000, kwargs={"final_lr": 2e-3},
                           rule=_FREE_R + "; final_lr 2e-3 (rule 1): it ends as SGD")))
register(OptimizerSpec(
    name="AMSBound", cls=AMSBound,
    invalid=_LR + _BETAS + (({"final_lr": -0.1}, "final_lr"), ({"max_of": 2}, "max_of")),
    quadratic=Convergence(0.1, 300, rule=_FREE_Q + "; final_lr 0.1 = 1/L (rule 1)"),
    rosenbrock=Convergence(0.03, 15000, kwargs={"final_lr": 2e-3},
                           rule=_FREE_R + "; final_lr 2e-3 (rule 1): it ends as SGD")))
register(OptimizerSpec(
    name="SignSGD", cls=SignSGD, invalid=_LR,
    quadratic=Convergence(ExpDecay(0.1, 0.98), 500, rule="rule 3: 0.1 * 0.98^t"),
    rosenbrock=Convergence(ExpDecay(0.01, 0.999), 10000, rule="rule 3: 0.01 * 0.999^t")))
register(OptimizerSpec(
    name="Signum", cls=Signum, invalid=_LR + _MOMENTUM,
    quadratic=Convergence(ExpDecay(0.1, 0.98), 500, rule="rule 3: 0.1 * 0.98^t"),
    rosenbrock=Convergence(ExpDecay(0.01, 0.999), 5000, rule="rule 3: 0.01 * 0.999^t")))
register(OptimizerSpec(
    name="Lion", cls=Lion, invalid=_LR + _BETAS + _WD,
    quadratic=Convergence(ExpDecay(0.1, 0.99), 1000,
                          rule="rule 3: 0.1 * 0.99^t (beta2 = 0.99 is a slow momentum)"),
    rosenbrock=Convergence(ExpDecay(0.01, 0.998), 3000, rule="rule 3: 0.01 * 0.998^t")))
register(OptimizerSpec(
    name="NAGGS", cls=NAGGS,
    invalid=_LR + (({"mu": -1.0}, "mu"), ({"gamma": 0.0}, "gamma"), ({"gamma": -1.0}, "gamma")),
    quadratic=Convergence(0.3, 300, rule="rule 5: 1/sqrt(L)"),
    rosenbrock=Convergence(0.03, 3000, rule="rule 5: 0.03")))
register(OptimizerSpec(
    name="SAM", cls=SAM, closure="loss",
    invalid=_LR + (({"rho": -0.05}, "rho"), ({"p": 1.0}, "p"), ({"adaptive": 1}, "adaptive"),
                   ({"eta": -1.0}, "eta")),
    quadratic=Convergence(0.1, 300, kwargs={"rho": 1e-5}, rule="rule 1 (SGD base); rule 6"),
    rosenbrock=Convergence(1e-3, 5000, kwargs={"rho": 1e-3, "base_optimizer": Momentum},
                           rule="rule 1 (momentum base); rule 6")))
register(OptimizerSpec(
    name="SAM(adaptive)", cls=SAM, closure="loss", kwargs={"adaptive": True},
    invalid=(({"rho": -1.0}, "rho"),),
    quadratic=Convergence(0.1, 300, kwargs={"rho": 1e-5}, rule="rule 1 (SGD base); rule 6"),
    rosenbrock=Convergence(1e-3, 5000, kwargs={"rho": 1e-3, "base_optimizer": Momentum},
                           rule="rule 1 (momentum base); rule 6")))
register(OptimizerSpec(
    name="Lookahead", cls=Lookahead,
    invalid=_LR + (({"k": 0}, "k"), ({"k": 2.5}, "k"), ({"alpha": 1.5}, "alpha"),
                   ({"alpha": -0.1}, "alpha")),
    quadratic=Convergence(0.1, 300, rule="rule 1 (SGD base)"),
    rosenbrock=Convergence(3e-3, 3000, kwargs={"base_optimizer": Momentum},
                           rule="rule 1 (momentum base; the slow average allows 3e-3)")))
register(OptimizerSpec(
    name="SVRG", cls=SVRG, kwargs={"n": 4}, closure="finite_sum",
    invalid=_LR + (({"n": 0}, "n"), ({"batch_size": 5}, "batch_size"),
                   ({"inner_steps": 0}, "inner_steps"), ({"seed": -1}, "seed"),
                   ({"sampler": 3}, "sampler")),
    quadratic=Convergence(0.1, 300, rule=_GD_Q),
    rosenbrock=Convergence(2e-3, 10000, kwargs={"n": 2}, rule=_GD_R)))
register(OptimizerSpec(
    name="SAG", cls=SAG, kwargs={"n": 4}, closure="finite_sum",
    invalid=_LR + (({"n": 0}, "n"), ({"divide_by": "m"}, "divide_by"), ({"seed": 1.5}, "seed")),
    quadratic=Convergence(0.1, 300, rule=_GD_Q),
    rosenbrock=Convergence(2e-3, 10000, kwargs={"n": 2}, rule=_GD_R)))


# --------------------------------------------------------------------------- extensions
def _load_extensions() -> None:
    """Import every submodule of this package (``geometry``, ``quasi_newton``, ...), in the
    order of their names: each registers the specs of one family of methods here, so that the
    generic tests see them without this file naming them."""
    import importlib  # noqa: PLC0415
    import pkgutil  # noqa: PLC0415

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{info.name}")


_load_extensions()
