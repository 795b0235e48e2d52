"""The gradient checker can fail: it rejects a VJP that is wrong by 0.1%, at first and at
second order, and accepts the correct one."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.gradcheck import GradientCheckError, check_grads
from minigrad.primitive import apply, defprim, defvjp

# Deliberately wrong primitives, defined through the engine's table like any other; each name
# gets a fresh entry so the module can be imported more than once in one process.
_N = [0]


def _prim(name, forward, vjp):
    _N[0] += 1
    return defvjp(defprim(f"{name}_{id(_N)}_{_N[0]}", forward), vjp)


def _exp(scale):
    """exp with a VJP scaled by ``scale`` (1.0 is correct)."""
    prim = _prim("exp_test", np.exp, lambda xp, g, ans, x: g * ans * scale)
    return lambda x: apply(prim, (x,), {})


_COS_BAD = _prim("cos_bad", np.cos, lambda xp, g, ans, x: -1.001 * g * xp.sin(x))


def _cos_bad_vjp(x):
    """cos with a VJP off by 0.1%: -1.001 g sin(x)."""
    return apply(_COS_BAD, (x,), {})


class _WithBadCos:
    """A namespace that computes cos with the wrong VJP (for the VJP below to call)."""

    def __init__(self, xp):
        self.xp = xp

    def cos(self, x):
        return _cos_bad_vjp(x) if isinstance(x, mg.Tensor) else np.cos(x)


_SIN_BAD2 = _prim("sin_bad2", np.sin, lambda xp, g, ans, x: g * _WithBadCos(xp).cos(x))


def _sin_with_bad_second_order(x):
    """sin with a correct first derivative (its VJP is g cos x) whose own derivative is wrong."""
    return apply(_SIN_BAD2, (x,), {})


X = np.random.default_rng(0).standard_normal(5)


def test_correct_vjp_passes():
    check_grads(_exp(1.0), X, order=2)


def test_first_order_error_of_a_tenth_of_a_percent_is_rejected():
    with pytest.raises(GradientCheckError, match="order 1"):
        check_grads(_exp(1.001), X, order=1)


def test_second_order_error_of_a_tenth_of_a_percent_is_rejected():
    check_grads(_sin_with_bad_second_order, X, order=1)  # first order is right...
    with pytest.raises(GradientCheckError, match="order 1"):  # ...the VJP's derivative is not
        check_grads(_sin_with_bad_second_order, X, order=2)


def test_checker_compares_in_float64_even_for_float32_inputs():
    check_grads(lambda t: mg.tanh(t) * t, X.astype(np.float32), order=2)
