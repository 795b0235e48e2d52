"""Objectives of the lectures with their constants (mu, L, sigma^2, x*, f*) known and checked.

Every problem builds its objective from minigrad operations (so the engine differentiates it,
to second order for Newton and Hessian-vector products), draws its data from a seed on the host
and moves them to the current backend (``problem.to("cupy")`` copies it to the GPU), and states
where its constants come from. See ``docs/problems.md`` for the formulas and the derivations.

* base: :class:`Problem`, :class:`FiniteSumProblem`, :func:`newton_minimize`;
* convex with known constants: :class:`Quadratic`, :class:`HuberWorstCase`,
  :class:`LeastSquares`, :class:`LogisticRegression`, :class:`SoftmaxRegression`,
  :class:`MatrixRegression`;
* PL but not convex: :class:`PLSine`; non-convex: :class:`MDS`, the test functions
  (:class:`Rosenbrock`, :class:`Beale`, :class:`Himmelblau`, :class:`Rastrigin`,
  :class:`Ackley`, :class:`IllConditionedQuadratic`) and the named landscapes
  (:data:`LANDSCAPES`, :func:`landscape`);
* the Moré-Garbow-Hillstrom unconstrained set (:mod:`problems.mgh`): the 18 sums of squares
  (:class:`HelicalValley` ... :class:`Chebyquad`), :data:`MGH_PROBLEMS`, :func:`mgh_problem`;
* Adam's failures: :class:`ReddiOnline`, :class:`AdamLimitCycle`;
* networks: :class:`MLPClassification`, :class:`TeacherStudent`; data sets in
  :mod:`problems.datasets`.
"""
from problems.adam_failures import AdamLimitCycle, ReddiOnline
from problems.base import FiniteSumProblem, Problem
from problems.datasets import gaussian_blobs, spirals, two_moons
from problems.landscapes import (LANDSCAPES, BasinsAndWalls, HillsAndCanyon, Landscape, Ravine,
                                 Rectangles, Spikes, landscape)
from problems.mds import MDS, capital_distances, haversine_km, load_capitals
from problems.mgh import (MGH_PROBLEMS, BealeMGH, BiggsExp6, Box3D, BrownBadlyScaled,
                          BrownDennis, Chebyquad, ExtendedPowellSingular, ExtendedRosenbrock,
                          GaussianMGH, GulfResearch, HelicalValley, MGHEntry, PenaltyI, PenaltyII,
                          PowellBadlyScaled, Trigonometric, VariablyDimensioned, Watson, Wood,
                          mgh_problem)
from problems.networks import MatrixRegression, MLPClassification, TeacherStudent
from problems.newton import newton_minimize
from problems.pl import PLSine
from problems.quadratic import Quadratic
from problems.regression import LeastSquares, LogisticRegression, SoftmaxRegression
from problems.test_functions import (Ackley, Beale, Himmelblau, IllConditionedQuadratic,
                                     Rastrigin, Rosenbrock)
from problems.worst_case import HuberWorstCase

__all__ = [
    "Problem", "FiniteSumProblem", "newton_minimize",
    "Quadratic", "HuberWorstCase",
    "LeastSquares", "LogisticRegression", "SoftmaxRegression",
    "PLSine",
    "MDS", "load_capitals", "haversine_km", "capital_distances",
    "Rosenbrock", "Beale", "Himmelblau", "Rastrigin", "Ackley", "IllConditionedQuadratic",
    "Landscape", "Rectangles", "Spikes", "BasinsAndWalls", "HillsAndCanyon", "Ravine",
    "LANDSCAPES", "landscape",
    "HelicalValley", "BiggsExp6", "GaussianMGH", "PowellBadlyScaled", "Box3D",
    "VariablyDimensioned", "Watson", "PenaltyI", "PenaltyII", "BrownBadlyScaled", "BrownDennis",
    "GulfResearch", "Trigonometric", "ExtendedRosenbrock", "ExtendedPowellSingular", "BealeMGH",
    "Wood", "Chebyquad", "MGH_PROBLEMS", "MGHEntry", "mgh_problem",
    "ReddiOnline", "AdamLimitCycle",
    "two_moons", "spirals", "gaussian_blobs",
    "MLPClassification", "TeacherStudent", "MatrixRegression",
]
