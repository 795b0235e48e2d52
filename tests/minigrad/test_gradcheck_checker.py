"""The gradient checker can fail: it rejects a VJP that is wrong by 0.1%, at first and at
second order, and accepts the correct one."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.gradcheck import GradientCheckError, check_grads
from minigrad.tensor import make


def _exp(scale):
    """exp with a VJP scaled by ``scale`` (1.0 is correct)."""
    def f(x):
        return make(np.exp(x.data), (x,), (lambda g, out: g * out * scale,), "exp_test")
    return f


def _cos_bad_vjp(x):
    """cos with a VJP off by 0.1%: -1.001 g sin(x)."""
    return make(np.cos(x.data), (x,), (lambda g, out: -1.001 * g * mg.sin(x),), "cos_bad")


def _sin_with_bad_second_order(x):
    """sin with a correct first derivative (its VJP is g cos x) whose own derivative is wrong."""
    return make(np.sin(x.data), (x,), (lambda g, out: g * _cos_bad_vjp(x),), "sin_bad2")


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
