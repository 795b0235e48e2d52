r"""The checker: :func:`check` runs an optimizer on a problem and evaluates a theorem on the run.

.. code-block:: python

    report = theorems.check(optimizers.SGD, theorems.GD_STRONGLY_CONVEX, problem)
    report.satisfied, report.violations, print(report)

Steps: the problem (a ``problems.Problem`` or a :class:`~theorems.instance.Instance`) and the
parameters (``params``, default the theorem's) are checked against the theorem's hypotheses,
and refused with :class:`~theorems.base.HypothesisError` naming every failing hypothesis,
unless ``outside=True`` (then the run goes ahead and the report lists what fails: that is how
a companion is run); then the theorem runs the optimizer (:mod:`theorems.forms`: a class or
factory with the project's API, a step function ``x_next = step(x, grad, k)``, or a
:class:`~theorems.forms.Solver`) for ``steps`` steps and evaluates the bound at every iterate
(:mod:`theorems.report`).
"""
from __future__ import annotations

from theorems.base import HypothesisError
from theorems.forms import as_form
from theorems.instance import as_instance
from theorems.report import make_report

__all__ = ["check"]


def check(optimizer, theorem, problem, *, params: dict | None = None, steps: int | None = None,
          outside: bool = False, **options):
    """Run ``optimizer`` on ``problem`` and return the :class:`~theorems.report.Report` of
    ``theorem`` (module docstring). ``params``: the optimizer's hyperparameters (passed to a
    class or factory; for a step function, the step it uses); ``steps``: the number of steps
    (default the theorem's); ``outside``: run even when a hypothesis fails; ``options``: the
    theorem's own run options (e.g. ``seeds`` of a stochastic theorem), listed in its
    docstring."""
    inst = as_instance(problem)
    form = as_form(optimizer)
    given = dict(params or {})
    full = {**theorem.default_parameters(inst), **given}
    failures = list(theorem.hypotheses(inst)) + list(theorem.admissible(inst, full))
    if failures and not outside:
        raise HypothesisError(theorem.name, failures)
    steps = theorem.default_steps if steps is None else int(steps)
    if steps < 1:
        raise ValueError(f"check: steps must be >= 1; got {steps}")
    record = theorem.run(form, inst, full, steps, **options)
    ev = theorem.evaluate(record, inst, full)
    return make_report(theorem, ev, inst=inst, params=full, optimizer=form.label, steps=steps,
                       outside=failures, diverged_at=record.diverged_at,
                       run_notes=record.notes)
