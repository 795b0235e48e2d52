"""Every theorem of the package states itself, passes on its example with a method it covers, and
fails on every one of its shipped companions: a checker that cannot fail is a defect."""
import pytest

import optimizers
import theorems
from optimizers.minimize import minimize
from optimizers.zero_order.zo_gd import zo_gd
from theorems import Solver, check

#: a method each theorem covers (the default: gradient descent, optimizers.SGD)
METHOD = {
    id(theorems.HEAVY_BALL): optimizers.Momentum,
    id(theorems.ZERO_ORDER_GD): Solver(zo_gd, values_only=True, tau=1e-3),
    id(theorems.NEWTON_QUADRATIC): Solver(minimize, method="newton", line_search=None),
    id(theorems.BFGS_SUPERLINEAR): Solver(minimize, method="bfgs", gtol=1e-10),
    id(theorems.REDDI_CONVERGENCE): optimizers.AMSGrad,
}
IDS = [t.name for t in theorems.THEOREMS]


@pytest.mark.parametrize("theorem", theorems.THEOREMS, ids=IDS)
def test_the_theorem_states_its_parts(theorem):
    text = theorem.describe()
    for part in (theorem.statement, theorem.problem_class, theorem.parameters_text,
                 theorem.quantity, theorem.source):
        assert part and part in text
    assert len(theorem.companions) >= 1
    assert all(c.name and c.description for c in theorem.companions)
    assert (theorem.procedure is not None) == theorem.name.startswith(("SGD", "zero-order"))


@pytest.mark.parametrize("theorem", theorems.THEOREMS, ids=IDS)
def test_the_example_satisfies_the_theorem(theorem):
    inst, params = theorem.example()
    assert theorem.hypotheses(inst) == [] and theorem.admissible(inst, params) == []
    report = check(METHOD.get(id(theorem), optimizers.SGD), theorem, inst, params=params)
    assert report.satisfied, str(report)
    assert report.violations == [] and len(report.k) >= 1


@pytest.mark.parametrize("theorem", theorems.THEOREMS, ids=IDS)
def test_every_companion_is_reported_violated(theorem):
    inst, params = theorem.example()
    for companion in theorem.companions:
        kw = companion.build(theorem, inst)
        kw["params"] = {**params, **kw.get("params", {})}
        report = check(theorem=theorem, **kw)
        assert not report.satisfied, f"{companion.name}:\n{report}"
        assert report.violations and report.margin < 0
        v = report.violations[0]
        assert v.k in set(report.k.tolist()) | {report.k.max() + 1}
        assert v.reason != "above the bound" or v.measured > v.bound + v.slack


def test_adam_is_reddi_et_al_s_counterexample_and_amsgrad_is_not():
    """On Theorem 1's problem Adam ends at +1 with a non-vanishing average regret, AMSGrad at
    -1 with a vanishing one (the claim's two readings of the same numbers)."""
    from theorems.forms import as_form

    T = theorems.REDDI_CONVERGENCE
    inst, params = T.example()
    adam = T.numbers(T.run(as_form(optimizers.Adam), inst, params, 3000), inst)
    ams = T.numbers(T.run(as_form(optimizers.AMSGrad), inst, params, 3000), inst)
    assert all(T.counterexample(**adam).values()) and not any(T.criteria(**adam).values())
    assert all(T.criteria(**ams).values()) and not any(T.counterexample(**ams).values())
    assert adam["plus_one_rate"] == pytest.approx(2 / 3)          # 2 (C - 2)/3 with C = 3
