r"""The result type and the status codes shared by the line searches and by ``minimize``.

Every solver of :mod:`optimizers.minimize` returns an :class:`OptimizeResult` (SciPy's result
object: a dict whose keys are also attributes); the line searches return a
:class:`LineSearchResult`, the same type with the fields of a one-dimensional search. Both report
their outcome in ``status``, one code of :class:`Status` (or, for ``minimize`` only, 99:
:data:`CALLBACK_STOP`), and in ``success`` (``status == 0``).

The codes follow ``scipy.optimize.minimize`` (Virtanen et al., "SciPy 1.0: fundamental
algorithms for scientific computing in Python", 2020) where SciPy has one: 0 success,
1 the iteration budget, 2 precision loss (the line search found no acceptable step), 3 a NaN
(here: any non-finite value), 99 a callback that raised ``StopIteration`` (SciPy 1.11 and
later); 4 is the line searches' own "not a descent direction".

=====  ==============  =================================================================
code   name            meaning
=====  ==============  =================================================================
0      SUCCESS         converged; for a line search: its conditions are satisfied
1      MAXITER         the iteration (or evaluation) budget was spent; for a line search
                       also: ``alpha_max`` was reached without a bracket
2      LINE_SEARCH     no acceptable step could be resolved: a line search failed (its
                       interval or step fell below rounding level, or it found no decrease)
3      NONFINITE       a non-finite value of f or of its gradient was met
4      NOT_DESCENT     :math:`\phi'(0) \ge 0`: the direction is not a descent direction
99     CALLBACK_STOP   the callback raised ``StopIteration``: the run stopped at the
                       iterate it was shown (never success)
=====  ==============  =================================================================
"""
from __future__ import annotations

import enum

__all__ = ["Status", "STATUS_MESSAGES", "OptimizeResult", "LineSearchResult", "CALLBACK_STOP",
           "CALLBACK_STOP_MESSAGE"]


class Status(enum.IntEnum):
    """The status codes of :class:`OptimizeResult` and :class:`LineSearchResult` (module
    docstring). Results store the plain integer (``int(Status.SUCCESS) == 0``)."""

    SUCCESS = 0
    MAXITER = 1
    LINE_SEARCH = 2
    NONFINITE = 3
    NOT_DESCENT = 4

    @property
    def message(self) -> str:
        """The general meaning of the code (:data:`STATUS_MESSAGES`)."""
        return STATUS_MESSAGES[self]


#: one message for each status code; the line searches report these, the solvers of ``minimize``
#: a message that names the test that stopped them
STATUS_MESSAGES = {
    Status.SUCCESS: "the line search conditions are satisfied",
    Status.MAXITER: "the line search reached its iteration budget (or alpha_max) without "
                    "satisfying its conditions; the best point found is returned",
    Status.LINE_SEARCH: "no acceptable step could be resolved (interval or step below rounding "
                        "level); the best point found is returned",
    Status.NONFINITE: "a non-finite value of f or of its gradient was met",
    Status.NOT_DESCENT: "phi'(0) >= 0: p is not a descent direction; no step taken",
}

#: code 99 of the table, SciPy's for a callback that raised ``StopIteration``, and SciPy's message;
#: a code of ``minimize``'s results only (no line search returns it), so not a :class:`Status`
CALLBACK_STOP = 99
CALLBACK_STOP_MESSAGE = "`callback` raised `StopIteration`."



class OptimizeResult(dict):
    """SciPy's result object: a dict whose keys are also attributes (``res.x``, ``res["x"]``).

    Fields: ``x`` (the solution, an array of ``x0``'s shape and backend), ``fun`` (f there),
    ``jac`` (the gradient there, or None for zero-order methods), ``nit``, ``nfev``, ``njev``,
    ``status`` (a code of :class:`Status`), ``success``, ``message``; method-specific extras.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __repr__(self) -> str:
        if not self:
            return "OptimizeResult()"
        width = max(map(len, self)) + 1
        return "\n".join(f"{k.rjust(width)}: {v!r}" for k, v in self.items())

    def __dir__(self):
        return list(self.keys())


class LineSearchResult(OptimizeResult):
    """What a line search returns: an :class:`OptimizeResult` with the fields of a search.

    ``alpha``: the step (the accepted one, or the best one found on failure, 0 when none
    decreased :math:`\\phi`); ``phi``/``derphi``: :math:`\\phi(\\alpha)` and
    :math:`\\phi'(\\alpha)` (``derphi`` is None when it was not evaluated); ``nfev``/``njev``:
    calls of f and of the gradient made by the search; ``status`` (:class:`Status`),
    ``success`` and ``message``; along a ray, ``x``/``f``/``g`` are the new point, its value and
    its gradient (``g`` None when not evaluated).
    """

    def __init__(self, alpha: float, phi: float, derphi: float | None, nfev: int, njev: int,
                 status: int, message: str, x=None, f: float | None = None, g=None):
        super().__init__(alpha=alpha, phi=phi, derphi=derphi, nfev=nfev, njev=njev,
                         status=status, message=message, x=x, f=f, g=g)

    @property
    def success(self) -> bool:
        return self.status == Status.SUCCESS
