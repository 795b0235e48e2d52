"""No synchronisation in a step: the device-to-host transfers of one ``step()`` of every
optimizer, counted on the strict backend (see ``transfer_counts``) and pinned."""
import pytest

import optim_testkit as K
import transfer_counts as T
from optim_registry import specs

SPECS = specs()


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_a_first_order_or_geometry_step_stays_on_the_device(spec):
    got = T.registry_step_transfers(spec, K.quadratic(), K.stepper)
    expected, why = T.REGISTRY_NONZERO.get(spec.name, ({}, "no host decision in a step"))
    assert got == expected, f"{spec.name}: {got} transfers in one step; expected {expected} ({why})"


@pytest.mark.parametrize("case", T.HOST_SCALAR_CASES, ids=[c[0] for c in T.HOST_SCALAR_CASES])
def test_a_method_that_needs_scalars_makes_its_stated_transfers(case):
    name, make, kind, expected, why = case
    got, evaluations = T.one_step_transfers(make, T.X0, kind)
    assert got == expected, f"{name}: {got} in one step; expected {expected} ({why})"
    if kind == "value":  # one value read per function evaluation
        assert got["item"] == evaluations


@pytest.mark.parametrize("case", T.MATRIX_CASES, ids=[c[0] for c in T.MATRIX_CASES])
def test_a_matrix_step_makes_its_stated_transfers(case):
    name, make, expected, why = case
    got = T.matrix_step_transfers(make)
    assert got == expected, f"{name}: {got} in one step; expected {expected} ({why})"


def test_the_count_sees_a_transfer_in_a_step():
    """The check can fail: an optimizer that reads one value on the host is counted."""
    import optimizers as O

    class Chatty(O.SGD):
        def step(self, closure=None):
            out = super().step(closure)
            float(self.param_groups[0]["params"][0].data.sum())   # a host read
            return out

    got, _ = T.one_step_transfers(lambda ps: Chatty(ps, lr=0.1), T.X0, "loss_and_grad")
    assert got == {"float": 1}
    got, _ = T.one_step_transfers(lambda ps: O.SGD(ps, lr=0.1), T.X0, "loss_and_grad")
    assert got == {}
