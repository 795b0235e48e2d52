"""The rule mechanism of experiments/protocol.py: every condition applied, controls required,
earlier rules reported, and every experiment module judged by its declared rules."""
import math

import pytest

from experiments import protocol, registry
from experiments.protocol import Condition, Rule

pytestmark = pytest.mark.host_only

R1 = Rule(1, (Condition("ratio", "ratio <= 1.1", "<=", 1.1),))
R2 = Rule(2, (Condition("ratio", "ratio <= 1.05", "<=", 1.05),
              Condition("ctrl", "control ratio > 1.5", ">", 1.5, role="control")),
          note="tighter, with a control")


def test_every_condition_is_applied_and_printed():
    d = protocol.decide((R1, R2), {"ratio": 1.07, "ctrl": 3.0})
    assert d["bound"] == "ratio <= 1.05; control ratio > 1.5"
    assert [c["key"] for c in d["checks"]] == ["ratio", "ctrl"]
    assert not d["passed"]  # 1.07 > 1.05
    assert d["earlier_rules"][0]["verdict"] == "PASS"  # the old rule's outcome is kept
    assert d["earlier_rules"][0]["note"] == ""
    assert protocol.decide((R1, R2), {"ratio": 1.0, "ctrl": 3.0})["passed"]


def test_a_control_that_does_not_violate_fails_the_verdict():
    d = protocol.decide((R1, R2), {"ratio": 1.0, "ctrl": 1.2})
    assert not d["passed"]
    assert [c["passed"] for c in d["checks"]] == [True, False]


def test_divergence_is_a_value_and_nan_never_holds():
    assert protocol.decide((R1, R2), {"ratio": 1.0, "ctrl": math.inf})["passed"]
    assert not protocol.decide((R1, R2), {"ratio": math.nan, "ctrl": math.inf})["passed"]
    assert not Condition("x", "x >= 0", ">=", 0.0).holds(math.nan)


def test_missing_or_unused_measurements_are_errors():
    with pytest.raises(ValueError, match="no measurement"):
        protocol.decide((R1, R2), {"ratio": 1.0})
    with pytest.raises(ValueError, match="not applied by any rule"):
        protocol.decide((R1, R2), {"ratio": 1.0, "ctrl": 2.0, "other": 0.0})


def test_rules_are_numbered_in_order_and_conditions_well_formed():
    with pytest.raises(ValueError, match="versions"):
        protocol.decide((R2, R1), {"ratio": 1.0, "ctrl": 2.0})
    with pytest.raises(ValueError, match="op"):
        Condition("x", "x ~ 1", "~", 1.0)
    with pytest.raises(ValueError, match="role"):
        Condition("x", "x < 1", "<", 1.0, role="other")
    with pytest.raises(ValueError, match="distinct"):
        Rule(1, (Condition("x", "a", "<", 1.0), Condition("x", "b", "<", 2.0)))
    with pytest.raises(ValueError, match="non-empty"):
        Rule(1, ())


def test_verdict_keeps_the_checks_and_names_what_failed():
    v = protocol.verdict((R1, R2), {"ratio": 1.07, "ctrl": 3.0}, claim="c", measured="m",
                         figure=None, summary="s")
    assert v["verdict"] == "FAIL" and v["bound"] == R2.text and v["rule_version"] == 2
    assert "ratio <= 1.05" in v["summary"]
    assert v["checks"][1]["role"] == "control"


def _modules():
    import importlib

    return [importlib.import_module(m) for m in registry.experiment_modules()]


def test_every_experiment_declares_its_rules_and_prints_them():
    """The bound an experiment prints is its rule in force, and every experiment that checks a
    bound or a rate has a control."""
    for mod in _modules():
        rules = getattr(mod, "RULES", None)
        assert rules is not None, f"{mod.__name__} declares no RULES"
        rules = protocol.check_rules(rules)
        if hasattr(mod, "BOUND"):
            assert mod.BOUND == rules[-1].text, mod.__name__
        if not getattr(mod, "NO_CONTROL", None):
            assert rules[-1].controls, f"{mod.__name__}: no control condition"
        else:
            assert isinstance(mod.NO_CONTROL, str) and mod.NO_CONTROL
