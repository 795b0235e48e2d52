r"""What a theorem is, as a value: :class:`Theorem`, the statistical :class:`Procedure` of the
stochastic ones, the :class:`Companion` runs that must fail, and :class:`HypothesisError`.

A theorem states

* its **hypotheses**: the problem class (:meth:`Theorem.hypotheses`, one message per failing
  hypothesis) and the admissible parameters as functions of the constants
  (:meth:`Theorem.default_parameters`, :meth:`Theorem.admissible`);
* the **quantity** it bounds (:math:`f(x_k)-f^*`, :math:`\|x_k-x^*\|^2`,
  :math:`\min_{i<k}\|\nabla f(x_i)\|^2`, of the last or of an averaged iterate) and the
  **bound** as a function of :math:`k` and the constants (:meth:`Theorem.bound`, public: the
  experiments evaluate their bounds with it);
* the **rounding slack** added to the bound (``rtol`` and an absolute term stated per
  theorem), and for a stochastic theorem its :class:`Procedure` (seeds, averaging, the
  one-sided test and its confidence);
* its **companions**: documented ways to see it fail (a step outside the admissible range, a
  deliberately broken update, a problem outside the class), each a recipe for
  :func:`theorems.check` whose report must come out violated.

:func:`theorems.check` runs an optimizer and evaluates the theorem on the run; a problem or a
parameter outside the hypotheses is refused with :class:`HypothesisError` (naming each failing
hypothesis) unless ``outside=True`` is passed: that is how the companions are built.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["Companion", "HypothesisError", "Procedure", "Theorem", "relative_step"]


class HypothesisError(ValueError):
    """The problem or the parameters lie outside a theorem's hypotheses; ``failures`` lists
    each failing hypothesis in words."""

    def __init__(self, theorem: str, failures: list):
        self.theorem, self.failures = theorem, list(failures)
        lines = "\n".join(f"  - {f}" for f in self.failures)
        super().__init__(f"{theorem}: outside the theorem's hypotheses:\n{lines}\n"
                         f"(check(..., outside=True) runs it anyway and reports what happens)")


@dataclass(frozen=True)
class Procedure:
    r"""The statistical test of a bound on an expectation: ``seeds`` independent runs; at every
    :math:`k` the sample mean minus ``z`` standard errors (the standard deviation over the runs,
    ``ddof=1``, over :math:`\sqrt{\text{seeds}}`) must lie below the bound. If the true
    expectation is at the bound, the sample mean exceeds it by more than ``z`` standard errors
    with probability about :math:`1-\Phi(z)` per iteration (central limit theorem): the
    one-sided level of each comparison. The runs are seeded, so a check is deterministic."""

    seeds: int
    z: float

    @property
    def level(self) -> float:
        r""":math:`1-\Phi(z)`, the one-sided false-alarm probability of one comparison."""
        return 0.5 * math.erfc(self.z / math.sqrt(2.0))

    def describe(self) -> str:
        return (f"{self.seeds} independent seeded runs; at every k the mean minus {self.z:g} "
                f"standard errors must lie below the bound (one-sided, confidence "
                f"{1 - self.level:.4f} per iteration)")


@dataclass(frozen=True)
class Companion:
    """A documented way to see a theorem fail. ``build(theorem, instance)`` returns the keyword
    arguments of :func:`theorems.check` (``optimizer``, ``problem``, and any of ``params``,
    ``steps``, ``outside``) of a run whose report must be violated."""

    name: str
    description: str
    build: object = field(repr=False)


def relative_step(lr: float, scale: float, unit: str) -> str:
    """``lr`` in words with its value in units of ``unit`` (e.g. ``"0.25 (= 2.5/L)"``)."""
    if scale is None or not math.isfinite(scale) or scale <= 0:
        return f"{lr:.6g}"
    return f"{lr:.6g} (= {lr / scale:.6g}{unit})"


class Theorem:
    """The base of every theorem object (module docstring). Subclasses set the class
    attributes and implement :meth:`bound`, :meth:`hypotheses`, :meth:`default_parameters`,
    :meth:`admissible`, :meth:`run` and :meth:`evaluate`."""

    #: a short name ("GD, smooth strongly convex")
    name = ""
    #: the statement, a formula in the notation of the docs ($...$ math)
    statement = ""
    #: the lecture and/or paper it comes from
    source = ""
    #: the problem class, in words
    problem_class = ""
    #: the quantity bounded, in words
    quantity = ""
    #: the admissible parameters, in words
    parameters_text = ""
    #: relative rounding slack on the bound
    rtol = 1e-9
    #: the statistical procedure (None: a deterministic bound, checked at every iterate)
    procedure: Procedure | None = None
    #: an empirical claim (a criterion on a run, not a proved inequality)
    empirical = False
    #: the number of steps a check runs when ``steps`` is not given
    default_steps = 100
    #: the documented ways to see the theorem fail
    companions: tuple = ()

    # ------------------------------------------------------------------ hypotheses
    def hypotheses(self, inst) -> list:
        """The hypotheses on the problem that ``inst`` fails, one message each (empty: inside
        the class)."""
        return []

    def default_parameters(self, inst) -> dict:
        """The parameters the check uses when none are given (admissible ones)."""
        return {}

    def admissible(self, inst, params: dict) -> list:
        """The hypotheses on the parameters that ``params`` fail, one message each."""
        return []

    def describe_parameters(self, inst, params: dict) -> str:
        """The parameters in words (a step also in units of the theorem's scale)."""
        return ", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v!r}"
                         for k, v in params.items())

    # ------------------------------------------------------------------ the check
    def run(self, form, inst, params: dict, steps: int):  # pragma: no cover - abstract
        """Run the optimizer ``form`` (:mod:`theorems.forms`) on ``inst``; a record of what
        :meth:`evaluate` needs."""
        raise NotImplementedError

    def evaluate(self, record, inst, params: dict):  # pragma: no cover - abstract
        """``theorems.report.Evaluation`` of the run ``record``."""
        raise NotImplementedError

    def example(self):
        """``(instance, params)``: a small problem inside the class and admissible parameters,
        on which every companion is shown to fail (tests/theorems)."""
        raise NotImplementedError

    def strategy(self, **kw):
        """The hypothesis strategy that draws this theorem's problem class
        (:mod:`theorems.strategies`; needs hypothesis, the ``test`` extra)."""
        from theorems import strategies
        return strategies.for_theorem(self, **kw)

    def check(self, optimizer, problem, **kw):
        """:func:`theorems.check` with this theorem."""
        from theorems.check import check
        return check(optimizer, self, problem, **kw)

    def describe(self) -> str:
        """The theorem in words: statement, class, parameters, quantity, source, procedure."""
        lines = [f"{self.name}: {self.statement}",
                 f"  problem class: {self.problem_class}",
                 f"  parameters:    {self.parameters_text}",
                 f"  bounds:        {self.quantity}",
                 f"  source:        {self.source}"]
        if self.procedure is not None:
            lines.append(f"  procedure:     {self.procedure.describe()}")
        if self.empirical:
            lines.append("  (an empirical claim: a criterion on a run, not a proved bound)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<theorem {self.name}>"
