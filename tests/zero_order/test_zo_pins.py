r"""The documented defaults of zero-order GD and of Nelder-Mead's simplex, and CMA-ES's h_sigma.

``zo_gd(fun, x0, lr=1e-3, tau=1e-4, estimator="two-point", maxiter=1000, seed=0, ...)`` (its
signature, and docs/zero_order.md for tau, estimator, maxiter and seed) and ``ZeroOrderGD``
("Defaults: lr=1e-3, tau=1e-4, estimator="two-point", seed=0", its docstring): a run with the
defaults left out must be bit for bit the run with those values written out, through
``zo_gd``, through ``minimize(method="zo-gd")`` and through the optimizer. A different seed
gives a different run (so the comparison does see the seed).

``NelderMeadSimplex.start`` defaults to the standard coefficients. ZO-GD reports status 3 for a
non-finite value met at its last iterate. CMA-ES's Heaviside
:math:`h_\sigma` after the second generation, with the normaliser
:math:`\sqrt{1 - (1 - c_\sigma)^{2(g+1)}}` of Hansen's tutorial, on either side of its
threshold, read from the evolution path :math:`p_c` that it gates.
CMA-ES's :math:`c_\mu` capped at :math:`1 - c_1` (Table 1).
The documented defaults of CMAES, OnePlusOneES and GeneticAlgorithm, as for ZeroOrderGD.
CMA-ES's TolFun history length and its status 3 (non-finite values only).
"""
import math

import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import minimize
from optimizers.zero_order.cmaes import CMAES, CMAESState, cma_parameters, cmaes
from optimizers.zero_order.evolution import OnePlusOneES
from optimizers.zero_order.genetic import GeneticAlgorithm
from optimizers.zero_order.nelder_mead import NelderMeadSimplex
from optimizers.zero_order.zo_gd import ZeroOrderGD, zo_gd

DOCUMENTED = dict(lr=1e-3, tau=1e-4, estimator="two-point", maxiter=1000, seed=0)
X0 = np.array([1.0, -2.0, 0.5])


def quad(x):
    """f(x) = sum_i (i + 1) x_i^2 (the weights on x's backend; x is a Tensor in an optimizer's
    closure, a backend array in a value-only method's f, as SciPy gives it)."""
    backend = x.backend if isinstance(x, mg.Tensor) else mg.backend.backend_name_of(x)
    w = mg.backend.asarray(np.array([1.0, 2.0, 3.0]), backend=backend)
    return (x * x * w).sum()


def test_zo_gd_defaults_are_the_documented_ones():
    """zo_gd with no options = zo_gd with lr=1e-3, tau=1e-4, two-point, maxiter=1000, seed=0:
    same iterate, same value, nit = 1000 (no ftarget: the budget is spent, status 1), and
    two evaluations per two-point step plus the final one."""
    default = zo_gd(quad, X0)
    written = zo_gd(quad, X0, **DOCUMENTED)
    np.testing.assert_array_equal(mg.to_numpy(default.x), mg.to_numpy(written.x))
    assert default.fun == written.fun
    assert (default.nit, default.status, default.nfev) == (1000, 1, 2 * 1000 + 1)
    other = zo_gd(quad, X0, **dict(DOCUMENTED, seed=1))
    assert not np.array_equal(mg.to_numpy(other.x), mg.to_numpy(written.x))


def test_minimize_zo_gd_defaults_are_the_documented_ones():
    """minimize(method="zo-gd") passes no defaults of its own: the same run as above."""
    default = minimize(quad, X0, method="zo-gd")
    written = zo_gd(quad, X0, **DOCUMENTED)
    np.testing.assert_array_equal(mg.to_numpy(default.x), mg.to_numpy(written.x))
    assert default.nit == 1000


def test_zero_order_gd_optimizer_defaults_are_the_documented_ones():
    """ZeroOrderGD(params) = ZeroOrderGD(params, lr=1e-3, tau=1e-4, estimator="two-point",
    seed=0) over five steps, and its hyperparameters read back as documented."""
    runs = []
    for kw in ({}, dict(lr=1e-3, tau=1e-4, estimator="two-point", seed=0),
               dict(lr=1e-3, tau=1e-4, estimator="two-point", seed=1)):
        x = mg.Tensor(X0.copy(), requires_grad=True)
        opt = ZeroOrderGD([x], **kw)
        if not kw:
            g = opt.param_groups[0]
            assert (g["lr"], g["tau"], g["estimator"]) == (1e-3, 1e-4, "two-point")
        for _ in range(5):
            opt.step(lambda: quad(x))
        runs.append(x.numpy())  # a copy, on the host
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[1], runs[2])


# --------------------------------------------------------------------------- Nelder-Mead's start
def test_nelder_mead_simplex_start_defaults_to_the_standard_coefficients():
    """NelderMeadSimplex.start(f, x0) without ``adaptive`` uses the standard coefficients
    (rho, chi, gamma, sigma) = (1, 2, 1/2, 1/2) (Lagarias et al. 1998; module docstring), as
    nelder_mead's own default adaptive=False; in n = 5 Gao & Han's would be
    (1, 1.4, 0.65, 0.8). The simplex is Pfeffer's: x0 and x0 + 0.05 x0_i e_i."""
    x0 = np.array([1.0, 2.0, -1.0, 4.0, 0.5])
    state = NelderMeadSimplex.start(lambda v: float(v @ v), x0)
    assert state.adaptive is False
    assert (state.rho, state.chi, state.gamma, state.sigma) == (1.0, 2.0, 0.5, 0.5)
    expected = np.vstack([x0] + [x0 + np.eye(5)[i] * 0.05 * x0[i] for i in range(5)])
    np.testing.assert_allclose(np.sort(state.sim, axis=0), np.sort(expected, axis=0),
                               rtol=1e-15, atol=0)
    adaptive = NelderMeadSimplex.start(lambda v: float(v @ v), x0, adaptive=True)
    assert (adaptive.rho, adaptive.chi, adaptive.gamma, adaptive.sigma) == pytest.approx(
        (1.0, 1.4, 0.65, 0.8), rel=1e-15)


# --------------------------------------------------------------------------- CMA-ES's h_sigma
def _table1(N, lam):
    """mu_eff, c_sigma, c_c and E||N(0, I)|| of Hansen's tutorial (arXiv:1604.00772, Table 1 and
    eq. for chi_N), written out here for dimension N and population lam."""
    mu = lam // 2
    wp = [math.log((lam + 1) / 2.0) - math.log(i) for i in range(1, mu + 1)]
    w = [v / sum(wp) for v in wp]
    mu_eff = 1.0 / sum(v * v for v in w)
    c_s = (mu_eff + 2.0) / (N + mu_eff + 5.0)
    c_c = (4.0 + mu_eff / N) / (N + 4.0 + 2.0 * mu_eff / N)
    chi = math.sqrt(N) * (1.0 - 1.0 / (4.0 * N) + 1.0 / (21.0 * N * N))
    return mu_eff, c_s, c_c, chi


@pytest.mark.parametrize("factor, h2", [(0.85, 1.0), (1.15, 0.0)])
def test_cmaes_h_sigma_at_the_second_generation(factor, h2):
    """CMA-ES with C kept at I (adapt_covariance=False), N = 2, lambda = 6, and every step
    y_k = v in both generations, so <y>_w = v. Then (the tutorial's updates, module docstring)
    p_sigma = k_s v after generation 1 and (2 - c_s) k_s v after generation 2
    (k_s = sqrt(c_s (2 - c_s) mu_eff)); h_sigma at generation g + 1 = 2 compares
    ||p_sigma|| / sqrt(1 - (1 - c_s)^4) with T = (1.4 + 2/3) E||N(0, I)||. |v| is chosen so that
    this ratio is factor * T: below T (h_sigma = 1) or above (h_sigma = 0); generation 1's ratio,
    sqrt(mu_eff) |v|, is below T in both cases. So p_c = k_c v after generation 1 and
    (1 - c_c) k_c v + h_sigma k_c v after generation 2 (k_c = sqrt(c_c (2 - c_c) mu_eff))."""
    N, lam = 2, 6
    mu_eff, c_s, c_c, chi = _table1(N, lam)
    T = (1.4 + 2.0 / (N + 1.0)) * chi
    norm_v = factor * T * math.sqrt(1.0 + (1.0 - c_s) ** 2) / ((2.0 - c_s) * math.sqrt(mu_eff))
    assert math.sqrt(mu_eff) * norm_v < T              # generation 1: h_sigma = 1
    ratio2 = (2.0 - c_s) * math.sqrt(c_s * (2.0 - c_s) * mu_eff) * norm_v \
        / math.sqrt(1.0 - (1.0 - c_s) ** 4)
    assert ratio2 == pytest.approx(factor * T, rel=1e-12)
    v = np.array([norm_v, 0.0])
    state = CMAESState(np.zeros(N), 0.5, adapt_covariance=False)
    assert state.par["lam"] == lam
    y = np.tile(v, (lam, 1))
    k_c = math.sqrt(c_c * (2.0 - c_c) * mu_eff)
    state.tell(y, [float(i) for i in range(lam)])
    np.testing.assert_allclose(state.p_c, k_c * v, rtol=1e-12, atol=0)
    state.tell(y, [float(i) for i in range(lam)])
    np.testing.assert_allclose(state.p_sigma, (2.0 - c_s) * math.sqrt(c_s * (2.0 - c_s) * mu_eff)
                               * v, rtol=1e-12, atol=0)
    np.testing.assert_allclose(state.p_c, ((1.0 - c_c) + h2) * k_c * v, rtol=1e-12, atol=1e-300)


# --------------------------------------------------------------------------- ZO-GD's last value
def _blowup(x):
    """s = ||x||^2 below 25, inf from there (an overflow past a radius of 5)."""
    s = float((x * x).sum().item())
    return s if s < 25.0 else math.inf


def test_zo_gd_reports_a_nonfinite_value_met_at_the_last_iterate():
    """zo_gd's status 3 ("at a non-finite value", its docstring) also when that value is met at
    the last iterate, after the budget is spent. With ftarget set, f is evaluated at every
    iterate. By hand: x0 = (3, 0), the coordinate estimate of grad ||x||^2 = (6, 0) (central
    differences are exact on a quadratic, up to rounding; the probes 3 +- 1e-4 stay inside the
    radius), lr = 2: x1 = (-9, 0), where f = inf. maxiter = 1, so the loop ends there."""
    res = zo_gd(_blowup, [3.0, 0.0], lr=2.0, estimator="coordinate", maxiter=1, ftarget=0.0)
    np.testing.assert_allclose(mg.to_numpy(res.x), [-9.0, 0.0], rtol=1e-9, atol=1e-9)
    assert res.nit == 1
    assert res.fun == math.inf
    assert res.status == 3 and not res.success
    # one more step is the same verdict, met at the top of the loop
    assert zo_gd(_blowup, [3.0, 0.0], lr=2.0, estimator="coordinate", maxiter=2,
                 ftarget=0.0).status == 3


# --------------------------------------------------------------------------- CMA-ES's c_mu
@pytest.mark.parametrize("N, lam", [(1, 100), (2, 200), (3, 10)])
def test_cma_parameters_c_mu_is_capped_at_one_minus_c_1(N, lam):
    """c_mu = min(1 - c_1, alpha_cov (1/4 + mu_eff + 1/mu_eff - 2) / ((N + 2)^2 + alpha_cov mu_eff
    / 2)) with alpha_cov = 2 (Hansen's tutorial, Table 1; module docstring), written out here.
    With a population large for the dimension (N = 1, lambda = 100; N = 2, lambda = 200) the
    second term exceeds 1 - c_1, so the cap decides and c_1 + c_mu = 1 exactly; with the default
    lambda of N = 3 (10) it does not."""
    mu = lam // 2
    wp = [math.log((lam + 1) / 2.0) - math.log(i) for i in range(1, mu + 1)]
    w = [v / sum(wp) for v in wp]
    mu_eff = 1.0 / sum(v * v for v in w)
    c_1 = 2.0 / ((N + 1.3) ** 2 + mu_eff)
    rank_mu = 2.0 * (0.25 + mu_eff + 1.0 / mu_eff - 2.0) / ((N + 2.0) ** 2 + mu_eff)
    P = cma_parameters(N, popsize=lam)
    assert P["c_1"] == pytest.approx(c_1, rel=1e-12)
    assert P["c_mu"] == pytest.approx(min(1.0 - c_1, rank_mu), rel=1e-12)
    if lam >= 100:
        assert rank_mu > 1.0 - c_1
        assert P["c_1"] + P["c_mu"] == pytest.approx(1.0, rel=1e-15)
    else:
        assert rank_mu < 1.0 - c_1


# --------------------------------------------------------------------------- optimizers' defaults
N3 = 3
DOCUMENTED_OPTIMIZER_DEFAULTS = [
    # CMAES: "Defaults: sigma0=0.5, popsize from Table 1, seed=0" (lambda = 4 + floor(3 ln 3) = 7)
    ("CMAES", dict(sigma0=0.5, popsize=4 + int(math.floor(3.0 * math.log(N3))), seed=0)),
    # OnePlusOneES: "Defaults: sigma0=0.5, damping sqrt(n + 1), seed=0"
    ("OnePlusOneES", dict(sigma0=0.5, damping=math.sqrt(N3 + 1.0), seed=0)),
    # GeneticAlgorithm, "as genetic_algorithm": P = 50, e = 2, k = 3, p_c = 0.9, alpha = 0.5,
    # p_m = 1/n, sigma_m = 0.1, beta = 0.98 (genetic's module docstring), seed=0 (its signature)
    ("GeneticAlgorithm", dict(popsize=50, elitism=2, tournament=3, crossover=0.9, alpha=0.5,
                              mutation_rate=1.0 / N3, mutation_scale=0.1, mutation_decay=0.98,
                              seed=0)),
]


@pytest.mark.parametrize("name, documented", DOCUMENTED_OPTIMIZER_DEFAULTS,
                         ids=[n for n, _ in DOCUMENTED_OPTIMIZER_DEFAULTS])
def test_zero_order_optimizer_defaults_are_the_documented_ones(name, documented):
    """The optimizer built without options runs bit for bit as the one with the documented
    values written out (three steps on f = sum (i + 1) x_i^2 in 3-D); seed 1 runs differently."""
    cls = {"CMAES": CMAES, "OnePlusOneES": OnePlusOneES, "GeneticAlgorithm": GeneticAlgorithm}[name]
    runs = []
    for kw in ({}, documented, dict(documented, seed=1)):
        x = mg.Tensor(X0.copy(), requires_grad=True)
        opt = cls([x], **kw)
        losses = [float(opt.step(lambda: quad(x))) for _ in range(3)]
        runs.append((x.numpy(), losses))  # a copy, on the host
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert not (np.array_equal(runs[2][0], runs[1][0]) and runs[2][1] == runs[1][1])


# --------------------------------------------------------------------------- CMA-ES's stops
@pytest.mark.parametrize("N, lam", [(2, 6), (3, 7)])
def test_cmaes_tolfun_waits_for_10_plus_ceil_30_n_over_lambda_generations(N, lam):
    """TolFun (Hansen's, module docstring): stop when the spread of the last generation's values
    and of the best values of the last 10 + ceil(30 N / lambda) generations is below tolfun. On a
    constant f the spread is 0 from the start, so the run stops exactly when that history is
    full: N = 2 (lambda = 6): 10 + 10 = 20 generations; N = 3 (lambda = 7):
    10 + ceil(90/7) = 23. Status 0, nfev = generations * lambda."""
    gens = 10 + math.ceil(30 * N / lam)
    res = cmaes(lambda x: 0.0, np.ones(N), maxfev=10_000)
    assert res.status == 0 and "tolfun" in res.message
    assert (res.nit, res.nfev) == (gens, gens * lam)


def test_cmaes_status_3_when_no_value_was_ever_finite():
    """Status 3 is for non-finite values only: f = inf everywhere stops after the first
    generation (nit 1, nfev = lambda = 7 in 3-D), not a success."""
    res = cmaes(lambda x: math.inf, np.ones(3), maxfev=1000)
    assert res.status == 3 and not res.success
    assert (res.nit, res.nfev) == (1, 7)


def test_cmaes_goes_on_after_an_all_infinite_generation_once_a_finite_value_was_seen():
    """f finite in the first generation only (the first 7 calls in 3-D, f = the call's index + 1)
    and inf afterwards: a generation with no finite value does not stop a run that has a finite
    best, so it ends at maxfev = 5 lambda (status 1) with the best value 1 of generation 1."""
    calls = []

    def f(x):
        calls.append(1)
        return float(len(calls)) if len(calls) <= 7 else math.inf

    res = cmaes(f, np.ones(3), maxfev=35)
    assert res.status == 1
    assert (res.nit, res.nfev) == (5, 35)
    assert res.fun == 1.0
