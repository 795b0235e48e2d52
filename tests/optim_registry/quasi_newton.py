r"""Registry entries of the quasi-Newton optimizers, added to
:mod:`optim_registry` when this module is imported (``import optim_registry.quasi_newton``;
``optim_registry`` imports it when it loads).

What is registered, and why only that
-------------------------------------
The generic tests drive an optimizer with a fixed sequence of random gradients and a closure whose
loss is a constant 0 (``tests/optimizers/optim_testkit.py: GradientSequence``). That is a fine
oracle for methods that read only gradients, but not for methods that read the loss:

* with the strong Wolfe search, BFGS and L-BFGS see :math:`\phi(\alpha) = 0` and
  :math:`\phi'(0) < 0`, so no step satisfies sufficient decrease and they (rightly) stay put,
  which fails the check that "a parameter with a gradient moves";
* the zero-order methods (ZO-GD, Nelder–Mead, CMA-ES, the (1+1)-ES, the GA) read only the loss,
  which is constant, so they do not move either (and Nelder–Mead, the (1+1)-ES and the GA have no
  learning rate, which every spec needs).

So the entries here are BFGS and L-BFGS with ``line_search=None``: torch.optim.LBFGS's default, a
fixed step :math:`\alpha_k = \texttt{lr}` along :math:`p_k = -H_k\nabla f_k`; that exercises the
whole optimizer (the :math:`H_k` / two-loop updates, skipping, the state_dict, schedules, float32)
except the line search, which ``tests/second_order/`` tests with the Wolfe default. The step rule
of these entries (in the registry's terms): *quasi-Newton steps are scaled by* :math:`H_k`, *so
the natural step is* :math:`\texttt{lr} = 1` (N&W section 3.5), on both problems.
"""
from __future__ import annotations

import math

from optim_registry import Convergence, OptimizerSpec, register
from optimizers.second_order.bfgs import BFGS
from optimizers.second_order.lbfgs import LBFGS

__all__ = ["SPECS"]

_NAN = math.nan
_LR = (({"lr": -1e-3}, "lr"), ({"lr": _NAN}, "lr"), ({"lr": "fast"}, "lr"))
_QN = (({"c1": 0.0}, "c1"), ({"c2": 1.0}, "c2"), ({"c1": 0.5, "c2": 0.4}, "c2"),
       ({"max_iter": 0}, "max_iter"), ({"gtol": -1.0}, "gtol"),
       ({"line_search": "wolfe"}, "line_search"), ({"skip_eps": -1.0}, "skip_eps"),
       ({"initial_step": "two"}, "initial_step"))
_RULE = "quasi-Newton: lr = 1 (the step is scaled by H_k; N&W section 3.5)"

SPECS = [
    register(OptimizerSpec(
        name="BFGS(fixed step)", cls=BFGS, closure="loss", kwargs={"line_search": None},
        invalid=_LR + _QN + (({"H0": "eye"}, "H0"),),
        quadratic=Convergence(1.0, 30, rule=_RULE),
        rosenbrock=Convergence(1.0, 300, rule=_RULE),
        notes="line_search=None (torch.optim.LBFGS's default); the Wolfe default is tested in "
              "tests/second_order")),
    register(OptimizerSpec(
        name="LBFGS(fixed step)", cls=LBFGS, closure="loss", kwargs={"line_search": None},
        invalid=_LR + _QN + (({"H0": "eye"}, "H0"), ({"m": 0}, "m"), ({"m": 2.5}, "m")),
        quadratic=Convergence(1.0, 30, rule=_RULE),
        rosenbrock=Convergence(1.0, 300, rule=_RULE),
        notes="line_search=None (torch.optim.LBFGS's default); the Wolfe default is tested in "
              "tests/second_order")),
]
