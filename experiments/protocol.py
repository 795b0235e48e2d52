r"""The rule of an experiment, fixed before the run and applied exactly as printed.

Every experiment that checks a claim declares, at module level, the rules it has been judged
by: ``RULES = (Rule(1, ...), Rule(2, ...), ...)``, the last one the rule in force. A rule is a
list of :class:`Condition`\ s, each a measured number against a threshold. After the run the
experiment computes one number per condition key and passes them to :func:`verdict`, which

* evaluates **every** condition of the rule in force, and refuses a measurement that is
  missing, or one that no rule uses (so the bound printed in the report is exactly the set of
  conditions the verdict applied);
* gives PASS only when every condition holds: the claim's conditions and the controls';
* evaluates every earlier rule on the same run and keeps its outcome under ``earlier_rules``
  (a rule changed after seeing results is a new version, and the old outcome is still
  reported).

A **control** (``role="control"``) is a setting outside the theorem's hypotheses (a step beyond
the admissible range, a broken update, a problem outside the class) run in the same experiment;
its condition states how it must violate the claim's bound, so a check that cannot fail makes
the verdict FAIL. A diverged run is a measured outcome: record ``inf`` (a NaN never satisfies a
condition).
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

__all__ = ["Condition", "Rule", "check_rules", "decide", "verdict"]

_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
ROLES = ("claim", "control")


@dataclass(frozen=True)
class Condition:
    """One condition of a rule: the measured number ``key`` ``op`` ``threshold``.

    ``text``: the condition as the report prints it (it should name the threshold);
    ``role``: ``"claim"`` for a condition of the claim itself, ``"control"`` for one a control
    run outside the theorem's hypotheses must meet (it must violate the claim's bound)."""

    key: str
    text: str
    op: str
    threshold: float
    role: str = "claim"

    def __post_init__(self):
        if self.op not in _OPS:
            raise ValueError(f"Condition {self.key!r}: op must be one of {sorted(_OPS)}; "
                             f"got {self.op!r}")
        if self.role not in ROLES:
            raise ValueError(f"Condition {self.key!r}: role must be one of {ROLES}; "
                             f"got {self.role!r}")
        if not isinstance(self.threshold, (int, float)) or isinstance(self.threshold, bool) \
                or math.isnan(self.threshold):
            raise ValueError(f"Condition {self.key!r}: threshold must be a number; "
                             f"got {self.threshold!r}")

    def holds(self, value) -> bool:
        """Whether ``value`` meets the condition (NaN never does; ``inf`` compares as usual)."""
        value = float(value)
        return not math.isnan(value) and bool(_OPS[self.op](value, self.threshold))

    def check(self, value) -> dict:
        """The record of this condition applied to ``value`` (what ``verdict.json`` keeps)."""
        return {"key": self.key, "condition": self.text, "role": self.role,
                "value": float(value), "op": self.op, "threshold": float(self.threshold),
                "passed": self.holds(value)}


@dataclass(frozen=True)
class Rule:
    """Version ``version`` of an experiment's rule: its conditions, all required.

    ``note``: for a rule that replaced another, why (shown with the earlier rule's outcome)."""

    version: int
    conditions: tuple
    note: str = ""
    keys: tuple = field(init=False, repr=False)

    def __post_init__(self):
        conds = tuple(self.conditions)
        if not conds or not all(isinstance(c, Condition) for c in conds):
            raise ValueError(f"Rule {self.version}: conditions must be a non-empty sequence of "
                             "Condition")
        keys = tuple(c.key for c in conds)
        if len(set(keys)) != len(keys):
            raise ValueError(f"Rule {self.version}: condition keys must be distinct; got {keys}")
        object.__setattr__(self, "conditions", conds)
        object.__setattr__(self, "keys", keys)

    @property
    def text(self) -> str:
        """The rule as printed: its conditions, separated by semicolons."""
        return "; ".join(c.text for c in self.conditions)

    @property
    def controls(self) -> tuple:
        """The conditions a control run must meet."""
        return tuple(c for c in self.conditions if c.role == "control")

    def evaluate(self, values: dict) -> list:
        """One check record per condition (see :meth:`Condition.check`)."""
        missing = [k for k in self.keys if k not in values]
        if missing:
            raise ValueError(f"rule {self.version}: no measurement for {missing}")
        return [c.check(values[c.key]) for c in self.conditions]


def check_rules(rules) -> tuple:
    """``rules`` as a tuple, after checking that it is a non-empty sequence of :class:`Rule`
    numbered 1, 2, ... in order (the last is the rule in force)."""
    rules = tuple(rules)
    if not rules or not all(isinstance(r, Rule) for r in rules):
        raise ValueError("rules must be a non-empty sequence of Rule")
    versions = [r.version for r in rules]
    if versions != list(range(1, len(rules) + 1)):
        raise ValueError(f"rule versions must be 1, 2, ... in order; got {versions}")
    return rules


def decide(rules, values: dict) -> dict:
    """Apply the last of ``rules`` (and each earlier one, for the record) to ``values``.

    Returns ``passed`` (every condition of the rule in force holds), ``bound`` (its text),
    ``rule_version``, ``checks`` (one record per condition) and ``earlier_rules`` (for each
    earlier rule: its version, text, note, verdict and checks). ``values`` must hold exactly the
    keys the rules use: a measurement no rule applies is an error, like a missing one."""
    rules = check_rules(rules)
    used = {k for r in rules for k in r.keys}
    extra = sorted(set(values) - used)
    if extra:
        raise ValueError(f"measurements {extra} are not applied by any rule")
    current = rules[-1]
    checks = current.evaluate(values)
    earlier = []
    for r in rules[:-1]:
        cs = r.evaluate(values)
        earlier.append({"version": r.version, "rule": r.text, "note": r.note,
                        "verdict": "PASS" if all(c["passed"] for c in cs) else "FAIL",
                        "checks": cs})
    return {"passed": all(c["passed"] for c in checks), "bound": current.text,
            "rule_version": current.version, "checks": checks, "earlier_rules": earlier}


def verdict(rules, values: dict, *, claim: str, measured: str, figure: str | None,
            summary: str | None = None, **extra) -> dict:
    """The verdict dict of an experiment judged by ``rules`` (:func:`decide`): the fields of
    :func:`experiments.common.verdict`, with ``bound`` the text of the rule in force, plus
    ``checks``, ``rule_version`` and ``earlier_rules``."""
    from experiments.common import verdict as make_verdict

    d = decide(rules, values)
    failed = [c["condition"] for c in d["checks"] if not c["passed"]]
    if failed and summary:
        summary = f"{summary}; fails: {'; '.join(failed)}"
    return make_verdict(d["passed"], claim=claim, bound=d["bound"], measured=measured,
                        figure=figure, summary=summary, checks=d["checks"],
                        rule_version=d["rule_version"], earlier_rules=d["earlier_rules"],
                        **extra)
