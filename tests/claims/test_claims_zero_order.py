r"""Property test of zero-order GD's linear rate with the factor n (L1; docs/lectures.md sections
1, 7).

Claim: on an :math:`L`-smooth, :math:`\mu`-strongly convex :math:`f` on :math:`\mathbb{R}^n`,
zero-order GD (``optimizers.zero_order.zo_gd``) with the two-point estimate
:math:`G=\frac{n}{2\tau}(f(x+\tau e)-f(x-\tau e))e`, :math:`e` uniform on the unit sphere, and
the step :math:`\alpha=\frac1{nL}` satisfies

.. math:: \mathbb{E}[f(x_k)-f^*]\le\Bigl(1-\frac{\mu}{nL}\Bigr)^k(f(x_0)-f^*).

(On a quadratic the central difference is exact, :math:`\mathbb{E}G=\nabla f` and
:math:`\mathbb{E}\|G\|^2=n\|\nabla f\|^2`; the descent lemma and
:math:`\|\nabla f\|^2\ge2\mu(f-f^*)` give the contraction per step in expectation.)

What is asserted: hypothesis draws a quadratic (dimension, spectrum in :math:`[\mu,L]`,
rotation, start); ``SEEDS`` independent runs (seeds 0..SEEDS-1 of ``zo_gd``) estimate the
expectation; at every iterate the mean gap is at most the bound plus 4 standard errors of the
mean (the statistical margin; everything is seeded, so the test is deterministic).

Companion: the step :math:`8/(nL)` (outside the theorem's :math:`\alpha\le1/(nL)` scale) on
quadratics with equispaced spectra and :math:`n\ge4`: there
:math:`\frac{\alpha^2}2\mathbb{E}[G^\top AG]>\alpha\|\nabla f\|^2`, the expected gap grows,
and the same check fails.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import problems as P
from optimizers.zero_order.zo_gd import zo_gd

SETTINGS = settings(deadline=None, derandomize=True, max_examples=12)
SEEDS = 48
Z = 4.0


def mean_gaps(q, lr, steps):
    """(mean over seeds of f(x_k) - f*, its standard error), k = 0..steps."""
    gap0 = q.value(q.x0) - q.f_star
    runs = []
    for seed in range(SEEDS):
        gaps = [gap0]
        zo_gd(q.value, q.x0, lr=lr, tau=1e-3, estimator="two-point", maxiter=steps, seed=seed,
              callback=lambda x, gaps=gaps: gaps.append(q.value(x) - q.f_star))
        runs.append(gaps)
    G = np.array(runs)
    return G.mean(axis=0), G.std(axis=0, ddof=1) / math.sqrt(SEEDS)


def violations(mean, se, mu, L, n):
    k = np.arange(len(mean))
    bound = (1 - mu / (n * L)) ** k * mean[0]
    ok = mean <= bound * (1 + 1e-9) + Z * se + 1e-12 * (1 + abs(mean[0]))
    return np.nonzero(~ok)[0]


@st.composite
def quadratics(draw, dims=(2, 8), spacings=("linear", "log", "random")):
    L = draw(st.floats(0.1, 10.0))
    mu = L / 10 ** draw(st.floats(0.2, 1.3))
    return P.Quadratic(dim=draw(st.integers(*dims)), mu=mu, L=L,
                       spacing=draw(st.sampled_from(spacings)),
                       seed=draw(st.integers(0, 2**16)),
                       x0=draw(st.sampled_from(["random", "slowest", "fastest"])),
                       radius=draw(st.floats(0.1, 10.0)))


@pytest.mark.slow
@SETTINGS
@given(q=quadratics())
def test_zero_order_gd_linear_rate_with_the_factor_n(q):
    n = q.dim
    steps = min(int(3 * n * q.L / q.mu), 120)        # about 3 time constants n kappa
    mean, se = mean_gaps(q, 1.0 / (n * q.L), steps)
    assert violations(mean, se, q.mu, q.L, n).size == 0


@pytest.mark.slow
@SETTINGS
@given(q=quadratics(dims=(4, 8), spacings=("linear",)))
def test_companion_step_8_over_nL_violates(q):
    n = q.dim
    mean, se = mean_gaps(q, 8.0 / (n * q.L), 4 * n)
    assert violations(mean, se, q.mu, q.L, n).size > 0
