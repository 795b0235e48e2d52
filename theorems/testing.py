r"""Pytest support: one decorator and one assertion.

.. code-block:: python

    from theorems import GD_STRONGLY_CONVEX
    from theorems.testing import assert_satisfied, given_instances

    @given_instances(GD_STRONGLY_CONVEX, max_examples=25)
    def test_my_gd(instance):
        assert_satisfied(my_step, GD_STRONGLY_CONVEX, instance)

:func:`given_instances` is hypothesis's ``given`` over the theorem's problem class
(:func:`theorems.strategies.for_theorem`, or any strategy of
:class:`~theorems.instance.Instance`), with deterministic settings (``derandomize=True``,
``deadline=None``); further strategies go in as keywords (``h=st.floats(0.05, 1.0)``). A
failure prints the shrunk counterexample in words (the instance's ``repr``: dimension,
spectrum, start) and the report (step, constants, every violation). :func:`assert_violated`
is the assertion of a companion: the run must come out violated.

This module needs hypothesis (the ``test`` extra).
"""
from __future__ import annotations

from hypothesis import given, settings

from theorems.base import Theorem
from theorems.check import check

__all__ = ["assert_satisfied", "assert_violated", "given_instances"]


def given_instances(theorem_or_strategy, *, max_examples: int = 25, **strategies):
    """Decorate a test ``fn(instance, ...)``: ``instance`` drawn from the theorem's problem
    class (or from the strategy given), the keyword ``strategies`` for the other arguments."""
    strategy = (theorem_or_strategy.strategy() if isinstance(theorem_or_strategy, Theorem)
                else theorem_or_strategy)

    def decorate(fn):
        return settings(deadline=None, derandomize=True, max_examples=max_examples)(
            given(instance=strategy, **strategies)(fn))
    return decorate


def assert_satisfied(optimizer, theorem, instance, **kw):
    """:func:`theorems.check` and an ``AssertionError`` with the report when violated; returns
    the report."""
    report = check(optimizer, theorem, instance, **kw)
    if not report.satisfied:
        raise AssertionError(f"{theorem.name} violated on {report.instance} "
                             f"({report.parameters}):\n{report}")
    return report


def assert_violated(optimizer, theorem, instance, **kw):
    """The assertion of a companion: the report must be violated (a check that cannot fail is
    worth nothing); returns the report."""
    report = check(optimizer, theorem, instance, **kw)
    if report.satisfied:
        raise AssertionError(f"{theorem.name}: this run was expected to violate the bound but "
                             f"satisfied it, on {report.instance} ({report.parameters}):\n"
                             f"{report}")
    return report
