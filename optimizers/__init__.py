"""From-scratch optimizers that mirror the lectures' formulas line by line.

The core ``Optimizer`` API, first-order methods, geometry and
curvature methods, quasi-Newton, zero-order methods and a SciPy-style ``minimize``.

First-order methods, one family per module:

* :mod:`optimizers.base`: :class:`Optimizer` (parameter groups, state, schedules, state_dict);
* :mod:`optimizers.sgd`: :class:`SGD`, :class:`Momentum`, :class:`NAG`;
* :mod:`optimizers.adagrad`, :mod:`optimizers.rmsprop`, :mod:`optimizers.adadelta`;
* :mod:`optimizers.adam`: :class:`Adam`, :class:`AMSGrad`, :class:`AdamW`, :class:`AdaBelief`,
  :class:`NAdam`, :class:`RAdam`, :class:`Adamax` (each "Adam plus one change");
* :mod:`optimizers.adabound`: :class:`AdaBound`, :class:`AMSBound`;
* :mod:`optimizers.sign`: :class:`SignSGD`, :class:`Signum`, :class:`Lion`;
* :mod:`optimizers.naggs`: :class:`NAGGS`;
* :mod:`optimizers.sam`, :mod:`optimizers.lookahead`: the wrappers :class:`SAM`,
  :class:`Lookahead`;
* :mod:`optimizers.variance_reduced`: :class:`SVRG`, :class:`SAG` for finite sums.

Geometry and curvature: :mod:`optimizers.norms` (dual norms and LMOs),
:mod:`optimizers.steepest` (:class:`SteepestDescent`, :class:`NormalizedGD`),
:mod:`optimizers.newton_schulz` (polar factor without an SVD, Polar Express),
:class:`Muon`, :class:`Shampoo`, :class:`Sophia`, and :class:`Newton`
(:mod:`optimizers.second_order.newton`).

Line searches, quasi-Newton and zero-order methods: :mod:`optimizers.line_search`,
:class:`BFGS`, :class:`LBFGS`, :mod:`optimizers.zero_order` (estimators, :class:`ZeroOrderGD`,
:class:`NelderMead`, :class:`CMAES`, :class:`OnePlusOneES`, :class:`GeneticAlgorithm`), and the
SciPy-style :func:`minimize`.

See ``docs/optimizers.md`` for the formulas, their lectures, defaults and variants.
"""
from optimizers.base import Optimizer
from optimizers.state_format import flatten_state_dict, unflatten_state_dict
from optimizers.sgd import NAG, SGD, Momentum
from optimizers.adagrad import Adagrad
from optimizers.rmsprop import RMSProp
from optimizers.adadelta import Adadelta
from optimizers.adam import AMSGrad, AdaBelief, Adam, Adamax, AdamW, NAdam, RAdam
from optimizers.adabound import AdaBound, AMSBound
from optimizers.sign import Lion, Signum, SignSGD
from optimizers.naggs import NAGGS
from optimizers.wrapper import Wrapper
from optimizers.sam import SAM
from optimizers.lookahead import Lookahead
from optimizers.variance_reduced import SAG, SVRG
from optimizers.steepest import NormalizedGD, SteepestDescent
from optimizers.muon import Muon
from optimizers.shampoo import Shampoo
from optimizers.sophia import Sophia
from optimizers.newton_schulz import (newton_schulz_cubic, newton_schulz_quintic, polar_express,
                                      polar_express_coefficients)
from optimizers.line_search import LineSearchResult, armijo_backtracking, strong_wolfe
from optimizers.second_order.newton import Newton, minimize_newton
from optimizers.second_order.bfgs import BFGS, bfgs
from optimizers.second_order.lbfgs import LBFGS, lbfgs
from optimizers.zero_order.zo_gd import ZeroOrderGD, zo_gd
from optimizers.zero_order.nelder_mead import NelderMead, nelder_mead
from optimizers.zero_order.cmaes import CMAES, cmaes
from optimizers.zero_order.evolution import OnePlusOneES, one_plus_one_es
from optimizers.zero_order.genetic import GeneticAlgorithm, genetic_algorithm
from optimizers.minimize import OptimizeResult, minimize

__all__ = [
    "Optimizer", "Wrapper", "flatten_state_dict", "unflatten_state_dict",
    "SGD", "Momentum", "NAG",
    "Adagrad", "RMSProp", "Adadelta",
    "Adam", "AMSGrad", "AdamW", "AdaBelief", "NAdam", "RAdam", "Adamax",
    "AdaBound", "AMSBound",
    "SignSGD", "Signum", "Lion",
    "NAGGS", "SAM", "Lookahead", "SVRG", "SAG",
    "SteepestDescent", "NormalizedGD", "Muon", "Shampoo", "Sophia", "Newton", "minimize_newton",
    "newton_schulz_cubic", "newton_schulz_quintic", "polar_express", "polar_express_coefficients",
    "armijo_backtracking", "strong_wolfe", "LineSearchResult",
    "BFGS", "bfgs", "LBFGS", "lbfgs",
    "ZeroOrderGD", "zo_gd", "NelderMead", "nelder_mead", "CMAES", "cmaes",
    "OnePlusOneES", "one_plus_one_es", "GeneticAlgorithm", "genetic_algorithm",
    "minimize", "OptimizeResult",
]
