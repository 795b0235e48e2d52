r"""The lectures' convergence theorems as values, and a checker that tests any optimizer against
them (docs/theorems.md: "Test your optimizer against a theorem").

.. code-block:: python

    import optimizers, problems, theorems
    q = problems.Quadratic(dim=5, mu=0.1, L=1.0)
    report = theorems.check(optimizers.SGD, theorems.GD_STRONGLY_CONVEX, q)
    print(report)          # SATISFIED / VIOLATED, every violation, margin, constants, rate

* the theorems (:mod:`theorems.base`: hypotheses, parameters, quantity, bound, slack,
  statistical procedure, companions): GD's three rates (:data:`GD_CONVEX`,
  :data:`GD_STRONGLY_CONVEX`, :data:`GD_NONCONVEX`), the four SGD theorems
  (:data:`SGD_CONSTANT_STEP`, :data:`SGD_DECREASING_STEP`, :data:`SGD_CONVEX_AVERAGED`,
  :data:`SGD_INVERSE_SQRT`), the mini-batch descent lemma (:data:`MINIBATCH_DESCENT`), the
  heavy ball (:data:`HEAVY_BALL`), zero-order GD's factor :math:`n` (:data:`ZERO_ORDER_GD`),
  Newton's local quadratic rate (:data:`NEWTON_QUADRATIC`), BFGS's superlinear rate
  (:data:`BFGS_SUPERLINEAR`, empirical) and Reddi et al.'s counterexample
  (:data:`REDDI_CONVERGENCE`: AMSGrad satisfies it, Adam violates it); all in
  :data:`THEOREMS`;
* :func:`check` (:mod:`theorems.check`) and its :class:`Report`; :class:`Instance` (a problem
  with its constants); :class:`Solver` (a SciPy-style solver as an optimizer);
  :class:`HypothesisError`;
* :mod:`theorems.broken`: the deliberately broken updates of the companions;
* :mod:`theorems.strategies` (hypothesis strategies of the problem classes) and
  :mod:`theorems.testing` (the pytest decorator and assertion) need hypothesis, which the
  ``test`` extra installs; ``import theorems`` does not.
"""
from theorems.adam import REDDI_CONVERGENCE
from theorems.base import Companion, HypothesisError, Procedure, Theorem
from theorems.check import check
from theorems.forms import Solver
from theorems.gd import GD_CONVEX, GD_NONCONVEX, GD_STRONGLY_CONVEX
from theorems.instance import Instance, as_instance
from theorems.minibatch import MINIBATCH_DESCENT
from theorems.momentum import HEAVY_BALL
from theorems.report import Report, Violation
from theorems.second_order import BFGS_SUPERLINEAR, NEWTON_QUADRATIC
from theorems.sgd import (SGD_CONSTANT_STEP, SGD_CONVEX_AVERAGED, SGD_DECREASING_STEP,
                          SGD_INVERSE_SQRT)
from theorems.zero_order import ZERO_ORDER_GD

#: every theorem of the package
THEOREMS = (GD_CONVEX, GD_STRONGLY_CONVEX, GD_NONCONVEX, SGD_CONSTANT_STEP, SGD_DECREASING_STEP,
            SGD_CONVEX_AVERAGED, SGD_INVERSE_SQRT, MINIBATCH_DESCENT, HEAVY_BALL, ZERO_ORDER_GD,
            NEWTON_QUADRATIC, BFGS_SUPERLINEAR, REDDI_CONVERGENCE)

__all__ = ["THEOREMS", "check", "Report", "Violation", "Instance", "as_instance", "Solver",
           "Theorem", "Procedure", "Companion", "HypothesisError",
           "GD_CONVEX", "GD_STRONGLY_CONVEX", "GD_NONCONVEX", "SGD_CONSTANT_STEP",
           "SGD_DECREASING_STEP", "SGD_CONVEX_AVERAGED", "SGD_INVERSE_SQRT", "MINIBATCH_DESCENT",
           "HEAVY_BALL", "ZERO_ORDER_GD", "NEWTON_QUADRATIC", "BFGS_SUPERLINEAR",
           "REDDI_CONVERGENCE"]
