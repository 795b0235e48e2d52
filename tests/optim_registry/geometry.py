r"""The registry entries of the geometry and curvature methods.

Importing this module registers, in :mod:`optim_registry`, the methods of
:mod:`optimizers.steepest`, :mod:`optimizers.muon`, :mod:`optimizers.shampoo` and
:mod:`optimizers.sophia`, so that the generic tests of ``tests/optimizers/`` run on them. It is a
separate module so that each family of methods keeps its entries in one file;
``optim_registry`` imports every submodule of its package when it loads (and a spec already
registered is skipped).

The generic tests drive 1-D and 2x2 parameters with plain ``step()`` (or a closure that calls
``backward()``); what that means here, and the rule behind each convergence setting (the rules of
:mod:`optim_registry`):

* ``SteepestDescent`` with ``norm="l2"`` is GD: rule 1 (:math:`\alpha = 1/L`); with ``"l1"`` the
  step :math:`\alpha\|g\|_\infty` along one coordinate is never longer than GD's: rule 1 too;
  sign descent (``"linf"``, normalised) and ``NormalizedGD`` move by :math:`\alpha` per step at
  the minimiser as well: rule 3 (a decaying schedule). The matrix norms need matrix parameters
  and are tested in ``tests/geometry``.
* ``Muon`` sends vectors to AdamW (the test problems are vectors), so its convergence entries
  test that partition: ``adamw_lr`` from rule 2, with Adam's ``betas`` (the reference's
  ``(0.9, 0.95)`` needs more steps on the quadratic). The matrix update is tested in
  ``tests/geometry``.
* ``Shampoo`` on a vector is full-matrix RMSProp (EMA of :math:`gg^\top`), whose normalised step
  does not shrink at the minimiser: rule 3; ``Shampoo(sum)`` is full-matrix AdaGrad, whose steps
  shrink by themselves: rule 2 with Adagrad's values.
* ``Sophia`` driven by plain ``step()`` gets no Hessian estimate, so :math:`h = 0` and its steps
  are clipped sign steps of its momentum: rule 3, and ``weight_decay=0`` (decay moves the
  minimiser). Its estimators are tested in ``tests/geometry``.
* ``Newton`` is not registered: its ``step(closure)`` differentiates the loss twice, which the
  generic drivers (fixed gradient sequences, closures that already called ``backward``) cannot
  provide; ``tests/geometry/test_curv_newton_optimizer.py`` runs the same checks on it.
"""
from __future__ import annotations

import math

from optimizers.muon import Muon
from optim_registry import REGISTRY, Convergence, ExpDecay, OptimizerSpec, register
from optimizers.shampoo import Shampoo
from optimizers.sophia import Sophia
from optimizers.steepest import NormalizedGD, SteepestDescent

__all__ = ["GEOMETRY_SPECS"]

_LR = (({"lr": -1e-3}, "lr"), ({"lr": math.nan}, "lr"), ({"lr": "fast"}, "lr"))
_BETAS = (({"betas": (1.0, 0.99)}, "betas[0]"), ({"betas": (0.9, 1.0)}, "betas[1]"),
          ({"betas": 0.9}, "betas"))

GEOMETRY_SPECS = (
    OptimizerSpec(
        name="SteepestDescent", cls=SteepestDescent,
        invalid=_LR + (({"norm": "l3"}, "norm"), ({"norm": "spectral"}, "norm"),
                       ({"normalized": 1}, "normalized")),
        quadratic=Convergence(0.1, 300, rule="rule 1: alpha = 1/L = 0.1 (l2: GD)"),
        rosenbrock=Convergence(2e-3, 15000, rule="rule 1: 2e-3")),
    OptimizerSpec(
        name="SteepestDescent(l1)", cls=SteepestDescent, kwargs={"norm": "l1"},
        invalid=_LR + (({"norm": 2}, "norm"),),
        quadratic=Convergence(0.1, 300, rule="rule 1: 0.1 (a coordinate step no longer than GD's)"),
        rosenbrock=Convergence(2e-3, 15000, rule="rule 1: 2e-3")),
    OptimizerSpec(
        name="SteepestDescent(linf, normalized)", cls=SteepestDescent,
        kwargs={"norm": "linf", "normalized": True},
        invalid=_LR + (({"normalized": "yes"}, "normalized"),),
        quadratic=Convergence(ExpDecay(0.1, 0.98), 500, rule="rule 3: 0.1 * 0.98^t (sign descent)"),
        rosenbrock=Convergence(ExpDecay(0.01, 0.999), 10000, rule="rule 3: 0.01 * 0.999^t")),
    OptimizerSpec(
        name="NormalizedGD", cls=NormalizedGD, invalid=_LR,
        quadratic=Convergence(ExpDecay(0.1, 0.98), 500, rule="rule 3: 0.1 * 0.98^t"),
        rosenbrock=Convergence(ExpDecay(0.01, 0.999), 10000, rule="rule 3: 0.01 * 0.999^t")),
    OptimizerSpec(
        name="Muon", cls=Muon,
        invalid=_LR + (({"momentum": 1.0}, "momentum"), ({"momentum": -0.1}, "momentum"),
                       ({"nesterov": 1}, "nesterov"), ({"weight_decay": -0.1}, "weight_decay"),
                       ({"ns_steps": 0}, "ns_steps"), ({"polar": "qr"}, "polar"),
                       ({"use_muon": True}, "use_muon"), ({"use_muon": "auto"}, "use_muon"),
                       ({"adamw_lr": -1.0}, "adamw_lr"),
                       ({"adamw_betas": (0.9, 1.0)}, "adamw_betas[1]"),
                       ({"adamw_eps": 0.0}, "adamw_eps"),
                       ({"adamw_weight_decay": -1.0}, "adamw_weight_decay")),
        quadratic=Convergence(0.1, 300, kwargs={"adamw_lr": 0.1, "adamw_betas": (0.9, 0.999)},
                              rule="rule 2 for the AdamW partition (vectors): 0.1"),
        rosenbrock=Convergence(0.03, 3000, kwargs={"adamw_lr": 0.03,
                                                   "adamw_betas": (0.9, 0.999)},
                               rule="rule 2 for the AdamW partition (vectors): 0.03"),
        notes="the test problems are vectors, which Muon hands to AdamW"),
    OptimizerSpec(
        name="Shampoo", cls=Shampoo,
        invalid=_LR + (({"beta": 1.0}, "beta"), ({"beta": -0.5}, "beta"), ({"eps": 0.0}, "eps"),
                       ({"form": "adagrad"}, "form"), ({"update_freq": 0}, "update_freq")),
        quadratic=Convergence(ExpDecay(0.1, 0.98), 500, rule="rule 3: 0.1 * 0.98^t"),
        rosenbrock=Convergence(ExpDecay(0.01, 0.999), 10000, rule="rule 3: 0.01 * 0.999^t")),
    OptimizerSpec(
        name="Shampoo(sum)", cls=Shampoo, kwargs={"form": "sum"},
        invalid=_LR + (({"update_freq": 1.5}, "update_freq"),),
        quadratic=Convergence(1.0, 300, rule="rule 2, grid: 1.0 (AdaGrad's shrinking steps)"),
        rosenbrock=Convergence(0.5, 10000, rule="rule 2, grid: 0.5 (as Adagrad)")),
    OptimizerSpec(
        name="Sophia", cls=Sophia,
        invalid=_LR + _BETAS + (({"gamma": 0.0}, "gamma"), ({"eps": -1.0}, "eps"),
                                ({"weight_decay": -0.1}, "weight_decay"), ({"k": 0}, "k"),
                                ({"estimator": "fisher"}, "estimator"),
                                ({"probe": "uniform"}, "probe"), ({"clip": "none"}, "clip"),
                                ({"rho": 0.0}, "rho"), ({"seed": -1}, "seed")),
        quadratic=Convergence(ExpDecay(0.1, 0.99), 1000, kwargs={"weight_decay": 0.0},
                              rule="rule 3: 0.1 * 0.99^t (no Hessian estimate: clipped sign "
                                   "steps of a slow momentum, beta1 = 0.965)"),
        rosenbrock=Convergence(ExpDecay(0.01, 0.998), 3000, kwargs={"weight_decay": 0.0},
                               rule="rule 3: 0.01 * 0.998^t"),
        notes="weight decay moves the minimiser, so the convergence tests use weight_decay=0"),
)

for _spec in GEOMETRY_SPECS:
    if _spec.name not in REGISTRY:
        register(_spec)
