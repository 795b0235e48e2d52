r"""A problem with the constants a theorem needs, and its start: :class:`Instance`.

The constants come from the ``problems`` class (``mu``, ``L``, ``x_star``, ``f_star``) and,
where the class leaves one unset, from :mod:`theorems.constants`: the minimiser nearest to
:math:`x_0` when the minimisers form an affine set (so that :math:`R^2=\|x_0-x^*\|^2` is the
distance the convex bounds need), :math:`x^*` of logistic regression with :math:`\mu=0`, and
the accuracy of an :math:`x^*` computed by Newton's method (``x_star_error``:
:math:`10^{-12}/\mu` for a gradient norm below :math:`10^{-12}`). A constant measured along
the run (the :math:`\sigma^2` of the SGD theorems, certified over the iterates visited) is
not here: the stochastic theorems compute it from their runs.

``words`` describes the instance for a report and for hypothesis's falsifying examples
(``repr``): the strategies of :mod:`theorems.strategies` set dimension, spectrum, start and
seed in words.
"""
from __future__ import annotations

import math

import minigrad as mg
from minigrad import backend as B
from minigrad.tensor import Tensor
from problems import LogisticRegression, Problem
from theorems import constants as C

__all__ = ["Instance", "as_instance"]

np = B.host_xp()


class Instance:
    r"""``problem`` started at ``x0`` (default ``problem.x0``), with its constants:
    ``x_star`` (host array or None), ``f_star``, ``mu``, ``L``, ``R2``
    (:math:`\|x_0-x^*\|^2`, to the minimiser nearest to :math:`x_0`), ``x_star_error`` (a bound
    on the distance of ``x_star`` to a true minimiser), ``extra`` (any further constant, e.g.
    ``M``, the Lipschitz constant of the Hessian), ``words`` (a description) and ``meta`` (how
    it was drawn: seeds, spacing, ...; not a constant). ``minimiser=False`` leaves
    :math:`x^*`, :math:`f^*` and :math:`R^2` unset (for a theorem that needs only :math:`L`,
    on a problem whose minimiser may not exist)."""

    def __init__(self, problem, *, x0=None, x_star=None, f_star=None, mu=None, L=None,
                 R2=None, x_star_error=None, words: str | None = None, meta=None,
                 minimiser: bool = True, **extra):
        if not isinstance(problem, Problem):
            raise TypeError(f"Instance: a problems.Problem is needed; got "
                            f"{type(problem).__name__}")
        self.problem = problem
        x0 = problem.x0 if x0 is None else x0
        self.x0 = np.asarray(mg.to_numpy(x0.data if isinstance(x0, Tensor) else x0),
                             dtype=float)
        if self.x0.shape != tuple(problem.shape):
            raise ValueError(f"Instance: x0 has shape {self.x0.shape} but the problem's "
                             f"variable has shape {tuple(problem.shape)}")
        if not np.all(np.isfinite(self.x0)):
            raise ValueError("Instance: x0 has a non-finite entry")
        self.mu = problem.mu if mu is None else float(mu)
        self.L = problem.L if L is None else float(L)
        self.x_star_error = 0.0 if x_star_error is None else float(x_star_error)
        if not minimiser:
            pass
        elif x_star is None and isinstance(problem, LogisticRegression) and problem.mu == 0:
            x_star, f_star = C.logistic_minimiser(problem)
        elif x_star is None and problem.x_star is not None:
            x_star = C.nearest_minimiser(problem, self.x0)
        self.x_star = None if x_star is None else np.asarray(mg.to_numpy(x_star), dtype=float)
        if (x_star_error is None and self.x_star is not None
                and isinstance(problem, LogisticRegression) and problem.mu > 0):
            self.x_star_error = C.NEWTON_GTOL / problem.mu   # x* from Newton's method
        if f_star is None and minimiser:
            f_star = (problem.value(B.asarray(self.x_star, backend=problem.backend))
                      if self.x_star is not None and problem.f_star is None else problem.f_star)
        self.f_star = None if f_star is None else float(f_star)
        if R2 is None and self.x_star is not None:
            R2 = float(np.sum((self.x0 - self.x_star) ** 2))
        self.R2 = None if R2 is None else float(R2)
        self.extra = dict(extra)
        self.words = words
        self.meta = dict(meta or {})

    # ------------------------------------------------------------------ views
    @property
    def dim(self) -> int:
        return int(self.x0.size)

    @property
    def backend(self) -> str:
        return self.problem.backend

    def start(self) -> Tensor:
        """A fresh leaf Tensor holding ``x0`` on the problem's backend."""
        with B.use_backend(self.backend):
            return Tensor(B.asarray(self.x0, dtype=self.problem.dtype, backend=self.backend),
                          requires_grad=True)

    def constants(self) -> dict:
        """The known constants by name (for reports)."""
        out = {"mu": self.mu, "L": self.L, "f*": self.f_star, "R^2": self.R2}
        if self.x_star_error:
            out["x* accuracy"] = self.x_star_error
        out.update(self.extra)
        return {k: v for k, v in out.items() if v is not None}

    def describe(self) -> str:
        if self.words:
            return self.words
        p = self.problem
        parts = [f"{type(p).__name__}, dimension {self.dim}"]
        if self.mu is not None and self.L is not None:
            parts.append(f"mu = {self.mu:.4g}, L = {self.L:.4g}")
        if self.R2 is not None:
            parts.append(f"start at distance {math.sqrt(self.R2):.4g} from x*")
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"<{self.describe()}>"


def as_instance(problem) -> Instance:
    """``problem`` itself when it is an :class:`Instance`, else the instance of a
    ``problems.Problem`` from its start."""
    return problem if isinstance(problem, Instance) else Instance(problem)
