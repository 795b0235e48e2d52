r"""The stopping tests of Newton's method (:mod:`optimizers.second_order.newton`): when an iterate
is accepted as a minimiser, and when the run can make no more progress.

At an iterate :math:`x_k` (value :math:`f_k`, gradient :math:`g_k`), in this order:

.. math::
    &\text{non-finite } f_k \text{ or } g_k: && \text{status 3} \\
    &\|g_k\|_2 \le \texttt{gtol} && \text{status 0 (absolute gradient)} \\
    &\frac{\max_i |g_{k,i}|\max(|x_{k,i}|, 1)}{\max(|f_k|, 1)} \le \texttt{gtol\_rel}
        && \text{status 0 (relative gradient)}

After a step :math:`s_k = x_{k+1} - x_k` chosen by a line search (checked at :math:`x_{k+1}`,
after the tests above):

.. math::
    &|s_{k,i}| \le \texttt{xtol}\,(\texttt{xtol} + |x_{k+1,i}|) \text{ for every } i
        && \text{status 0 after a full step, else 2 (step)} \\
    &0 \le f_k - f_{k+1} \le \texttt{ftol}\,\max(|f_k|, |f_{k+1}|) && \text{status 0 after a
        full step (decrease)} \\
    &f_{k+1} \ge f_k && \text{status 2 (no decrease)}

Pure Newton (no line search) is the lecture's iteration as written: it stops on the gradient
tests (and its budget) only.

Sources and choices:

* The relative gradient is Dennis & Schnabel's (*Numerical Methods for Unconstrained
  Optimization and Nonlinear Equations*, 1983, eq. 7.2.5, with the typical sizes
  :math:`\mathrm{typ}\,x_i = \mathrm{typ}\,f = 1`): the relative change of :math:`f` for a
  relative change of :math:`x_i`. It is the test that stops a run whose minimum value is large
  (the gradient computed there has a rounding floor far above an absolute ``gtol``).
* The step test has the form of SciPy's relative step tolerances (``xtol`` of
  ``least_squares``, ``xrtol`` of BFGS), taken coordinate by coordinate, so that a variable
  whose size is far below the others' (MGH's Powell badly scaled function:
  :math:`x^* \approx (1.1\cdot10^{-5}, 9.1)`) is not declared converged by the large ones. A
  *full step* is one the line search accepted at its
  first trial (or a pure Newton step) along an unmodified Hessian: near a strict minimum its
  length is the error of :math:`x_k`, so :math:`x_{k+1}` is accurate far below ``xtol``
  (quadratic convergence squares it). A step that short after a backtracking or along a
  modified Hessian is no evidence of convergence: the run stops there with status 2, the line
  search's "no more progress".
* The decrease test is SciPy's L-BFGS-B test (``ftol``, :math:`2.2\cdot10^{-9}` =
  :math:`10^7\varepsilon`) without its floor :math:`\max(\dots, 1)`, so that it never stops a run
  whose minimum value is small (MGH's Penalty II, :math:`f^* \approx 9.4\cdot10^{-6}`) at an
  absolute decrease; it applies after a full step only.
* A line search that accepts a step with :math:`f_{k+1} \ge f_k` (rounding: sufficient decrease
  holds because :math:`f_k + c_1\alpha\nabla f_k^\top d_k` rounds to :math:`f_k`) can no longer
  decrease f: status 2.

Each test is off when its tolerance is 0.
"""
from __future__ import annotations

import math

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.results import Status

__all__ = ["Tolerances", "check_tolerances", "at_iterate", "after_step", "decrease_below"]

SUCCESS, LINE_SEARCH, NONFINITE = int(Status.SUCCESS), int(Status.LINE_SEARCH), \
    int(Status.NONFINITE)


class Tolerances:
    """The four tolerances of the module docstring (floats >= 0; 0 switches a test off)."""

    __slots__ = ("gtol", "gtol_rel", "xtol", "ftol")

    def __init__(self, gtol: float, gtol_rel: float, xtol: float, ftol: float):
        self.gtol, self.gtol_rel, self.xtol, self.ftol = gtol, gtol_rel, xtol, ftol


def check_tolerances(owner: str, gtol, gtol_rel, xtol, ftol) -> Tolerances:
    """The tolerances as floats, each a real number >= 0 (a ``ValueError`` naming it otherwise)."""
    return Tolerances(*(V.real(owner, name, value, lo=0.0)
                        for name, value in (("gtol", gtol), ("gtol_rel", gtol_rel),
                                            ("xtol", xtol), ("ftol", ftol))))


def at_iterate(x, f: float, g, tol: Tolerances):
    r"""The tests at :math:`x_k`: ``(status, message)`` or None to go on."""
    xp = B.get_array_module(g)
    if not (math.isfinite(f) and bool(xp.all(xp.isfinite(g)))):
        return NONFINITE, "A non-finite value of f or of its gradient was met."
    if float(xp.linalg.norm(g)) <= tol.gtol:                       # ||g_k||_2 <= gtol
        return SUCCESS, "Optimization terminated successfully (gradient norm below gtol)."
    if tol.gtol_rel > 0.0:
        scaled = xp.abs(g) * xp.maximum(xp.abs(x), 1.0)            # |g_i| max(|x_i|, 1)
        if float(scaled.max()) / max(abs(f), 1.0) <= tol.gtol_rel:  # D&S eq. 7.2.5
            return SUCCESS, ("Optimization terminated successfully (relative gradient below "
                             "gtol_rel).")
    return None


def decrease_below(f_old: float, f_new: float, ftol: float) -> bool:
    r"""The decrease test: :math:`0 \le f_k - f_{k+1} \le \texttt{ftol}\max(|f_k|, |f_{k+1}|)`
    (never with ``ftol = 0``)."""
    return ftol > 0.0 and 0.0 <= f_old - f_new <= ftol * max(abs(f_old), abs(f_new))


def after_step(x_new, s, f_old: float, f_new: float, full: bool, tol: Tolerances):
    r"""The tests after the step ``s`` to :math:`x_{k+1}` = ``x_new``, chosen by a line search:
    ``(status, message)`` or None to go on. ``full``: the step was a full step (module
    docstring)."""
    xp = B.get_array_module(s)
    if tol.xtol > 0.0:
        ratio = xp.abs(s) / (tol.xtol + xp.abs(x_new))              # |s_i| / (xtol + |x_i|)
        if float(ratio.max()) <= tol.xtol:
            if full:
                return SUCCESS, ("Optimization terminated successfully (the last full Newton "
                                 "step was below xtol).")
            return LINE_SEARCH, ("No further progress: the line search could only make a step "
                                 "below xtol.")
    if full and decrease_below(f_old, f_new, tol.ftol):
        return SUCCESS, ("Optimization terminated successfully (the relative decrease of f "
                         "was below ftol).")
    if not f_new < f_old:                                           # f_{k+1} >= f_k
        return LINE_SEARCH, ("No further progress: the line search could no longer decrease "
                             "f (rounding level).")
    return None
