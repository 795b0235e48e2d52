r"""Line searches: Armijo backtracking and the strong Wolfe search (docs/lectures.md section 5, L0).

Along a descent direction :math:`p_k` from :math:`x_k` a line search looks at the scalar function

.. math::
    \phi(\alpha) = f(x_k + \alpha p_k), \qquad \phi'(\alpha) = \nabla f(x_k + \alpha p_k)^\top p_k,
    \qquad \phi'(0) < 0,

and returns a step :math:`\alpha_k > 0` that satisfies (Nocedal & Wright, *Numerical
Optimization*, 2nd ed., eqs. 3.6-3.7; L0's slide "BFGS")

.. math::
    \text{sufficient decrease (Armijo):}\quad & \phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0) \\
    \text{strong curvature:}\quad & |\phi'(\alpha)| \le c_2 |\phi'(0)|, \qquad 0 < c_1 < c_2 < 1,

with :math:`c_1 = 10^{-4}` and :math:`c_2 = 0.9` by default (the values for quasi-Newton methods).

Two searches, each on a scalar function (``phi``, ``derphi``) and, for the optimizers, along a ray
of an :class:`Objective`:

* :func:`armijo_backtracking` (N&W Algorithm 3.1): the first condition alone; the step shrinks by
  quadratic and then cubic interpolation (N&W eqs. 3.57-3.58), kept in
  :math:`[0.1\,\alpha_i, 0.5\,\alpha_i]` (the safeguard of Dennis & Schnabel, Algorithm A6.3.1),
  or by a constant factor :math:`\rho` (halving for :math:`\rho = 1/2`);
* :func:`strong_wolfe` (N&W Algorithms 3.5 and 3.6): a bracketing phase that extrapolates the
  step (by cubic interpolation, at least doubling it and at most multiplying it by 10) until an
  interval containing strong-Wolfe points is found, then ``zoom``, which shrinks the
  interval by cubic interpolation with a safeguard (the trial is clamped into the middle 80% of
  the interval, so that each step removes at least a tenth of it), a quadratic fallback when the
  cubic has no minimiser, and bisection last (no usable values).

Conventions shared by both:

* a **non-finite** trial value :math:`\phi(\alpha)` (``inf`` or ``nan``, e.g. an overflow) means
  "the step is too long": the step shrinks and that value is never accepted;
* a **failure** (iteration budget spent, interval shrunk to rounding level, no descent direction,
  ``alpha_max`` reached) is not an exception: the result carries a ``status`` and a message, and the
  best point found (the trial with the lowest finite value below :math:`\phi(0)`, or
  :math:`\alpha = 0` when there is none);
* calls are counted: ``nfev`` calls of :math:`\phi` (of f) and ``njev`` calls of :math:`\phi'`
  (of the gradient). Along an :class:`Objective`, the counts are the objective's own (see there:
  with minigrad or ``jac=True`` one evaluation gives f and the gradient together).

The modules: :mod:`optimizers.armijo` (:func:`armijo_backtracking`), :mod:`optimizers.wolfe`
(:func:`strong_wolfe`, its ``zoom``), :mod:`optimizers.scalar_search` (what the two share: counted
calls, the best trial, the interpolants), :mod:`optimizers.objective` (:class:`Objective` and the
searches along a ray), :mod:`optimizers.vector_optimizer` (:class:`ClosureObjective`,
:class:`VectorOptimizer`) and :mod:`optimizers.results` (:class:`LineSearchResult`, the status
codes). This module gathers their public names.

Status codes of :class:`LineSearchResult` (:class:`~optimizers.results.Status`, the table that
``minimize`` uses too, SciPy's numbering): 0 conditions satisfied; 1 iteration budget spent (or
``alpha_max`` reached without a bracket); 2 no acceptable step can be resolved (the interval or the
step fell below rounding level); 4 :math:`\phi'(0) \ge 0`, not a descent direction.
"""
from __future__ import annotations

from optimizers.armijo import armijo_backtracking
from optimizers.objective import Objective, line_search_armijo, line_search_wolfe
from optimizers.results import STATUS_MESSAGES, LineSearchResult, Status
from optimizers.vector_optimizer import ClosureObjective, VectorOptimizer
from optimizers.wolfe import check_wolfe_constants, strong_wolfe

__all__ = ["LineSearchResult", "Objective", "armijo_backtracking", "strong_wolfe",
           "line_search_armijo", "line_search_wolfe", "check_wolfe_constants",
           "ClosureObjective", "VectorOptimizer", "Status", "STATUS_MESSAGES"]

#: the message of each status code (:data:`optimizers.results.STATUS_MESSAGES`)
MESSAGES = STATUS_MESSAGES
