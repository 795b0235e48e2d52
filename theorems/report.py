r"""What a check returns: :class:`Report` (satisfied or not, every :class:`Violation` with its
:math:`k`, the measured value and the bound, the smallest margin, the constants and parameters
used, the empirical rate where the theorem is a rate), built from a theorem's
:class:`Evaluation` of a run.

At iterate :math:`k` the measured value :math:`m_k` satisfies the bound :math:`b_k` when
:math:`m_k\le b_k+s_k`, :math:`s_k` the rounding slack the theorem states; the margin is
:math:`b_k+s_k-m_k` (negative: a violation). A non-finite :math:`m_k` (a run that produced
NaN or an infinity) is a violation, whatever the bound.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from minigrad import backend as B

__all__ = ["Evaluation", "Report", "Violation", "make_report"]

np = B.host_xp()

#: violations listed in a report's text (all are kept in ``Report.violations``)
SHOWN = 5


@dataclass(frozen=True)
class Violation:
    """Iterate ``k`` where ``measured`` exceeds ``bound`` plus ``slack`` (or is not finite)."""

    k: int
    measured: float
    bound: float
    slack: float = 0.0
    reason: str = "above the bound"

    def __str__(self) -> str:
        return (f"k = {self.k}: measured {self.measured:.6g} > bound {self.bound:.6g}"
                f" (+ slack {self.slack:.2g})" if self.reason == "above the bound" else
                f"k = {self.k}: {self.reason} (measured {self.measured!r}, bound "
                f"{self.bound:.6g})")


@dataclass
class Evaluation:
    """A theorem's reading of a run: at the iterates ``k`` the ``measured`` quantity, the
    ``bound`` and the ``slack`` (arrays of one length); ``notes`` (sentences for the report),
    ``rate`` (a :class:`~theorems.rates.RateEstimate` or None), ``constants`` measured on
    the run (e.g. the certified :math:`\\sigma^2`) and ``failures`` (violations of a
    criterion that is not a bound at an iterate)."""

    k: object
    measured: object
    bound: object
    slack: object
    notes: list = field(default_factory=list)
    rate: object = None
    constants: dict = field(default_factory=dict)
    #: violations of a criterion that is not a bound at an iterate (e.g. too few points)
    failures: list = field(default_factory=list)


@dataclass
class Report:
    """The result of :func:`theorems.check` (module docstring). ``satisfied`` is True when no
    iterate violates the bound; ``str(report)`` is the report in words."""

    theorem: str
    statement: str
    quantity: str
    satisfied: bool
    violations: list
    margin: float
    margin_at: int | None
    relative_margin: float
    constants: dict
    parameters: str
    instance: str
    optimizer: str
    steps: int
    procedure: str | None
    outside: list
    rate: object
    notes: list
    k: object = field(repr=False, default=None)
    measured: object = field(repr=False, default=None)
    bound: object = field(repr=False, default=None)
    slack: object = field(repr=False, default=None)

    @property
    def first_violation(self):
        return self.violations[0] if self.violations else None

    def summary(self) -> str:
        if self.satisfied:
            return (f"{self.theorem}: satisfied at all {len(self.k)} iterates checked "
                    f"(smallest margin {self.margin:.3g} at k = {self.margin_at})")
        return (f"{self.theorem}: VIOLATED at {len(self.violations)} of {len(self.k)} "
                f"iterates, first {self.violations[0]}")

    def __str__(self) -> str:
        head = "SATISFIED" if self.satisfied else "VIOLATED"
        lines = [f"{self.theorem}: {head}",
                 f"  claim       {self.statement}",
                 f"  quantity    {self.quantity}, k = 0..{self.steps}",
                 f"  optimizer   {self.optimizer}, {self.parameters}",
                 f"  problem     {self.instance}",
                 "  constants   " + ", ".join(f"{k} = {_num(v)}" for k, v in
                                              self.constants.items())]
        if self.procedure:
            lines.append(f"  procedure   {self.procedure}")
        if self.outside:
            lines.append("  OUTSIDE the hypotheses (run on request): " + "; ".join(self.outside))
        lines.append(f"  margin      smallest bound + slack - measured = {self.margin:.6g} at k = "
                     f"{self.margin_at} ({self.relative_margin:.3g} times the bound there)")
        if self.rate is not None:
            lines.append(f"  rate        {self.rate}")
        if self.violations:
            lines.append(f"  violations  {len(self.violations)} of {len(self.k)} iterates:")
            lines += [f"    {v}" for v in self.violations[:SHOWN]]
            if len(self.violations) > SHOWN:
                lines.append(f"    ... and {len(self.violations) - SHOWN} more")
        else:
            lines.append("  violations  none")
        lines += [f"  note        {n}" for n in self.notes]
        return "\n".join(lines)


def _num(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def make_report(theorem, ev: Evaluation, *, inst, params: dict, optimizer: str, steps: int,
                outside: list, diverged_at=None, run_notes=()) -> Report:
    """The :class:`Report` of the evaluation ``ev`` (module docstring for the rule)."""
    k = np.asarray(ev.k, dtype=int)
    m = np.asarray(ev.measured, dtype=float)
    b = np.asarray(ev.bound, dtype=float)
    s = np.asarray(ev.slack, dtype=float)
    with np.errstate(invalid="ignore"):
        margin = b + s - m
    violations = []
    for i in range(k.size):
        if not math.isfinite(m[i]):
            violations.append(Violation(int(k[i]), float(m[i]), float(b[i]), float(s[i]),
                                        "non-finite value (the run diverged)"))
        elif not margin[i] >= 0:
            violations.append(Violation(int(k[i]), float(m[i]), float(b[i]), float(s[i])))
    violations += list(ev.failures)
    notes = list(run_notes) + list(ev.notes)
    if diverged_at is not None:
        if not any(v.k == diverged_at for v in violations):
            violations.append(Violation(int(diverged_at), math.nan, math.nan, 0.0,
                                        "non-finite value or optimizer failure (the run "
                                        "stopped)"))
        notes.append(f"the run stopped at k = {diverged_at} (a non-finite value)")
    finite = np.isfinite(margin)
    if k.size > 1 and k.min() < k.max():  # the start (most bounds hold there with equality)
        finite &= k > k.min()
    if finite.any():
        i = int(np.argmin(np.where(finite, margin, np.inf)))
        low, at = float(margin[i]), int(k[i])
        rel = low / b[i] if b[i] != 0 and math.isfinite(b[i]) else math.nan
    else:
        low, at, rel = -math.inf, None, math.nan
    constants = {**inst.constants(), **ev.constants}
    return Report(theorem=theorem.name, statement=theorem.statement, quantity=theorem.quantity,
                  satisfied=not violations, violations=violations, margin=low, margin_at=at,
                  relative_margin=float(rel), constants=constants,
                  parameters=theorem.describe_parameters(inst, params) or "default parameters",
                  instance=inst.describe(), optimizer=optimizer, steps=steps,
                  procedure=theorem.procedure.describe() if theorem.procedure else None,
                  outside=list(outside), rate=ev.rate, notes=notes, k=k, measured=m, bound=b,
                  slack=s)
