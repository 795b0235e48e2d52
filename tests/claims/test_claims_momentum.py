r"""Property tests of the heavy ball on quadratics (Polyak 1964; L0, L3; docs/lectures.md section
2).

On :math:`f=\frac12x^\top Ax-b^\top x` with spectrum in :math:`[\mu,L]`, :math:`\kappa=L/\mu>1`,
the heavy ball ``optimizers.Momentum`` (velocity form :math:`v\leftarrow\beta v-\alpha g`,
:math:`w\leftarrow w+v`, ``lr`` = :math:`\alpha`, ``momentum`` = :math:`\beta`; or the
accumulator form, the same iterates for a constant step) with

.. math:: \alpha^*=\frac4{(\sqrt L+\sqrt\mu)^2},\qquad\beta^*=\rho^2,\qquad
          \rho=\frac{\sqrt\kappa-1}{\sqrt\kappa+1}.

**What is asserted.**

1. *The iteration matrix.* On the pair :math:`(x_k-x^*,x_{k-1}-x^*)` the method is linear with
   :math:`T=\begin{pmatrix}(1+\beta)I-\alpha A&-\beta I\\I&0\end{pmatrix}`; per eigenvalue
   :math:`\lambda` of :math:`A` a 2x2 block with characteristic polynomial
   :math:`z^2-(1+\beta-\alpha\lambda)z+\beta`. At :math:`(\alpha^*,\beta^*)` the trace
   :math:`t(\lambda)=1+\beta^*-\alpha^*\lambda` runs linearly from :math:`2\rho` at
   :math:`\lambda=\mu` to :math:`-2\rho` at :math:`\lambda=L`, so every root has modulus
   :math:`\sqrt{\beta^*}=\rho`: the spectral radius of :math:`T`, computed numerically
   (``numpy.linalg.eigvals`` of the :math:`2n\times2n` matrix built from the problem's
   :math:`A`), equals :math:`\rho` (to :math:`10^{-6}`: the double roots at :math:`\mu` and
   :math:`L` are Jordan blocks, computed to about :math:`\sqrt{\text{eps}}`).

2. *An explicit bound at every iterate.* Per eigencomponent :math:`e_k` of :math:`x_k-x^*`:
   :math:`e_{k+1}=t\,e_k-\beta e_{k-1}` for :math:`k\ge1` and :math:`e_1=(1-\alpha\lambda)e_0`
   (from :math:`v_0=0`). With :math:`s_k=e_k/\rho^k` and :math:`c=t/(2\rho)\in[-1,1]`:
   :math:`s_{k+1}=2cs_k-s_{k-1}`, whose solution is
   :math:`s_k=s_1U_{k-1}(c)-s_0U_{k-2}(c)` (Chebyshev polynomials of the second kind,
   :math:`|U_j(c)|\le j+1` on :math:`[-1,1]`, :math:`U_{-1}=0`). Hence, with
   :math:`M=\max(|1-\alpha^*\mu|,|1-\alpha^*L|)`,

   .. math:: \|x_k-x^*\|\le C_k\,\rho^k\,\|x_0-x^*\|,\qquad
             C_k=k\frac{M}{\rho}+k-1\ (k\ge1),\quad C_0=1,

   the :math:`k\rho^k` form of a double root. Asserted at every iterate of a run of the real
   optimizer, with relative slack :math:`10^{-9}` and an absolute one at the rounding level.

**Companions** (the same checks fail): the step :math:`2\alpha^*` (outside the range where all
roots have modulus :math:`\rho`: the block at :math:`\lambda=L` gets a root of modulus above 1);
plain GD with its best step :math:`2/(\mu+L)` (rate :math:`\frac{\kappa-1}{\kappa+1}>\rho`: the
bound is an acceleration claim, and GD breaks it); and :math:`\beta=\beta^*/2` (a broken
parameter: the spectral radius exceeds :math:`\rho`).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import optimizers
import problems as P

SETTINGS = settings(deadline=None, derandomize=True, max_examples=25)
RTOL = 1e-9


def optimal(mu, L):
    """(alpha*, beta*, rho)."""
    rho = (math.sqrt(L) - math.sqrt(mu)) / (math.sqrt(L) + math.sqrt(mu))
    return 4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2, rho * rho, rho


def heavy_ball_distances(q, lr, momentum, steps, form="velocity"):
    """||x_k - x*|| for k = 0..steps of optimizers.Momentum on the quadratic q."""
    x = q.start()
    opt = optimizers.Momentum([x], lr=lr, momentum=momentum, form=form)
    out = []
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps + 1):
            out.append(float(np.sqrt(float(((x.data - q.x_star) ** 2).sum()))))
            if k == steps or not math.isfinite(out[-1]):
                break
            opt.zero_grad()
            q.f(x).backward()
            opt.step()
    return np.array(out)


def bound_constants(mu, L, alpha, rho, steps):
    """C_k of the explicit bound, k = 0..steps."""
    M = max(abs(1 - alpha * mu), abs(1 - alpha * L))
    k = np.arange(steps + 1, dtype=float)
    C = k * M / rho + k - 1
    C[0] = 1.0
    return C


def bound_violations(dist, mu, L, alpha, rho, atol):
    """Iterates with ||x_k - x*|| > C_k rho^k ||x_0 - x*|| (1 + 1e-9) + atol (a diverged run
    counts as violating at its last iterate)."""
    C = bound_constants(mu, L, alpha, rho, len(dist) - 1)
    k = np.arange(len(dist))
    bound = C * rho ** k * dist[0]
    return np.nonzero(~(dist <= bound * (1 + RTOL) + atol))[0]


def rounding_atol(q):
    """The rounding level of the iterates: 1e-13 (1 + max|x*| + ||x_0 - x*||)."""
    xs = mg.to_numpy(q.x_star)
    return 1e-13 * (1 + np.abs(xs).max() + np.linalg.norm(mg.to_numpy(q.x0) - xs))


def spectral_radius(q, alpha, beta):
    """max |eigenvalue| of the heavy ball's iteration matrix on (x_k - x*, x_{k-1} - x*)."""
    A = mg.to_numpy(q.A)
    n = A.shape[0]
    I = np.eye(n)
    T = np.block([[(1 + beta) * I - alpha * A, -beta * I], [I, np.zeros((n, n))]])
    return float(np.abs(np.linalg.eigvals(T)).max())


@st.composite
def quadratics(draw, log_kappa=(0.2, 4.0), starts=("random", "slowest", "fastest")):
    """A quadratic with spectrum in [mu, L] (both eigenvalues), kappa = 10^u, u in log_kappa."""
    L = draw(st.floats(0.1, 10.0))
    mu = L / 10 ** draw(st.floats(*log_kappa))
    return P.Quadratic(dim=draw(st.integers(2, 30)), mu=mu, L=L,
                       spacing=draw(st.sampled_from(["linear", "log", "random"])),
                       seed=draw(st.integers(0, 2**16)), x0=draw(st.sampled_from(starts)),
                       radius=draw(st.floats(0.1, 10.0)))


@SETTINGS
@given(q=quadratics())
def test_spectral_radius_of_the_iteration_matrix_is_rho(q):
    alpha, beta, rho = optimal(q.mu, q.L)
    assert abs(spectral_radius(q, alpha, beta) - rho) <= 1e-6


@pytest.mark.slow
@SETTINGS
@given(q=quadratics(), form=st.sampled_from(["velocity", "accumulator"]))
def test_heavy_ball_explicit_bound_at_every_iterate(q, form):
    alpha, beta, rho = optimal(q.mu, q.L)
    dist = heavy_ball_distances(q, alpha, beta, 200, form=form)
    assert bound_violations(dist, q.mu, q.L, alpha, rho, rounding_atol(q)).size == 0


@pytest.mark.slow
@SETTINGS
@given(q=quadratics(log_kappa=(1.0, 2.5)))
def test_heavy_ball_beats_gd_rate(q):
    """The measured decay over 200 steps is faster than GD's best rate (kappa-1)/(kappa+1)
    allows, as soon as the run is long enough for the factor C_k to matter less than the rate:
    ||x_200 - x*|| <= rho_GD^200 ||x_0 - x*||."""
    alpha, beta, _ = optimal(q.mu, q.L)
    dist = heavy_ball_distances(q, alpha, beta, 200)
    kappa = q.L / q.mu
    assert dist[-1] <= ((kappa - 1) / (kappa + 1)) ** 200 * dist[0] + rounding_atol(q)


# ----------------------------------------------------------------------------- companions
@pytest.mark.slow
@SETTINGS
@given(q=quadratics(starts=("random", "fastest")))
def test_companion_twice_the_optimal_step_violates_the_bound(q):
    alpha, beta, rho = optimal(q.mu, q.L)
    dist = heavy_ball_distances(q, 2 * alpha, beta, 200)
    assert bound_violations(dist, q.mu, q.L, alpha, rho, rounding_atol(q)).size > 0


@pytest.mark.slow
@SETTINGS
@given(q=quadratics(log_kappa=(1.0, 3.0), starts=("random", "slowest", "fastest")))
def test_companion_gd_with_its_best_step_violates_the_heavy_ball_bound(q):
    """GD (beta = 0, step 2/(mu+L)) contracts the extreme eigencomponents by exactly
    (kappa-1)/(kappa+1) > rho per step, so it breaks the accelerated bound (kappa >= 10)."""
    alpha, _, rho = optimal(q.mu, q.L)
    dist = heavy_ball_distances(q, 2.0 / (q.mu + q.L), 0.0, 600)
    assert bound_violations(dist, q.mu, q.L, alpha, rho, rounding_atol(q)).size > 0


@SETTINGS
@given(q=quadratics())
def test_companion_half_the_momentum_has_a_larger_spectral_radius(q):
    alpha, beta, rho = optimal(q.mu, q.L)
    assert spectral_radius(q, alpha, beta / 2) > rho + 1e-3 * (1 - rho)
