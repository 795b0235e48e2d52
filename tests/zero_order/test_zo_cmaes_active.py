"""CMA-ES's active covariance update and pycma's step-size constant (optimizers.zero_order.cmaes).

Oracles: the negative weights written out again from N. Hansen's tutorial ("The CMA Evolution
Strategy: A Tutorial", arXiv:1604.00772, Table 1), and the figures pycma 4 prints in its own
documentation: the 12 recombination weights of its default (6_w,12)-aCMA-ES in dimension 20
(``CMAParameters``: 0.4024029428..., ..., -0.4152044225...) and the damping
``1.479176368423 < damps < 1.479176368424`` of ``CMAEvolutionStrategy(4 * [1], 1)``
(``CMAAdaptSigmaCSA.initialize``)."""
import math

import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import minimize
from optimizers.zero_order.cmaes import CMAESState, cma_parameters, cmaes

PYCMA_WEIGHTS_20 = [0.4024029428, 0.2533890840, 0.1662215645, 0.1043752252, 0.05640347757,
                    0.01720770576, -0.05018713636, -0.1406167894, -0.2203813963, -0.2917332686,
                    -0.3562788884, -0.4152044225]


def tutorial_negative_weights(N):
    lam = 4 + math.floor(3 * math.log(N))
    mu = lam // 2
    wp = np.array([math.log((lam + 1) / 2) - math.log(i) for i in range(1, lam + 1)])
    pos, neg = wp[:mu], wp[mu:]
    mu_eff = pos.sum() ** 2 / (pos ** 2).sum()
    mu_eff_neg = neg.sum() ** 2 / (neg ** 2).sum()
    c1 = 2 / ((N + 1.3) ** 2 + mu_eff)
    cmu = min(1 - c1, 2 * (0.25 + mu_eff + 1 / mu_eff - 2) / ((N + 2) ** 2 + mu_eff))
    alpha = min(1 + c1 / cmu, 1 + 2 * mu_eff_neg / (mu_eff + 2), (1 - c1 - cmu) / (N * cmu))
    return alpha * neg / np.abs(neg).sum()


@pytest.mark.parametrize("N", [2, 5, 10, 20])
def test_negative_weights_are_the_tutorials(N):
    p = cma_parameters(N, active=True)
    np.testing.assert_allclose(p["weights_neg"], tutorial_negative_weights(N), rtol=1e-12)
    assert all(w <= 0 for w in p["weights_neg"]) and len(p["weights_neg"]) == p["lam"] - p["mu"]


def test_the_weights_are_pycmas_published_ones_in_dimension_20():
    p = cma_parameters(20, active=True)
    np.testing.assert_allclose(p["weights"] + p["weights_neg"], PYCMA_WEIGHTS_20, rtol=0,
                               atol=1e-10)


def test_pycmas_step_size_constant_gives_its_published_damping():
    """pycma: c_sigma = (mu_eff + 2) / (N + mu_eff + 3), d_sigma = 1 + ... + c_sigma; for N = 4
    its documentation bounds d_sigma to (1.479176368423, 1.479176368424). The tutorial's form
    (N + mu_eff + 5) gives another value."""
    d = cma_parameters(4, c_sigma_form="pycma")["d_sigma"]
    assert 1.479176368423 < d < 1.479176368424
    assert not 1.479176368423 < cma_parameters(4)["d_sigma"] < 1.479176368424
    with pytest.raises(ValueError, match="c_sigma_form"):
        cmaes(lambda x: float((x * x).sum()), np.ones(2), c_sigma_form="hansen")


def test_the_active_update_is_the_tutorials_formula():
    """One generation written out: C' = (1 + c1 delta - c1 - cmu sum_j w_j) C + c1 pc pc^T
    + cmu sum_i w_i° y_i y_i^T, w_i° = w_i n / ||C^{-1/2} y_i||^2 for w_i < 0."""
    N = 3
    state = CMAESState(np.zeros(N), 0.7, active=True)
    rng = np.random.default_rng(3)
    C0 = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 0.5]])
    state.C = C0.copy()
    state._eig()
    y = rng.standard_normal((state.par["lam"], N))
    fvals = [float(v) for v in rng.standard_normal(state.par["lam"])]
    state.tell(y.copy(), fvals)
    P = state.par
    order = np.argsort(fvals, kind="stable")
    ys = y[order]
    w = np.concatenate([P["weights"], P["weights_neg"]])
    Cinv = np.linalg.inv(C0)
    mahal = np.einsum("ij,jk,ik->i", ys, Cinv, ys)
    w_circ = np.where(w >= 0, w, w * N / mahal)
    rank_mu = (ys.T * w_circ) @ ys
    pc = state.p_c
    h = 1.0 if np.linalg.norm(state.p_sigma) / math.sqrt(1 - (1 - P["c_sigma"]) ** 2) < \
        (1.4 + 2 / (N + 1)) * P["chi_N"] else 0.0
    delta = (1 - h) * P["c_c"] * (2 - P["c_c"])
    want = (1 + P["c_1"] * delta - P["c_1"] - P["c_mu"] * w.sum()) * C0 \
        + P["c_1"] * np.outer(pc, pc) + P["c_mu"] * rank_mu
    want = (want + want.T) / 2
    np.testing.assert_allclose(state.C, want, rtol=1e-12, atol=1e-15)


def ellipsoid(x):
    x = mg.to_numpy(x)
    return float(np.sum(10.0 ** (6.0 * np.arange(x.size) / (x.size - 1)) * x * x))


def test_the_active_update_is_cheaper_on_the_ellipsoid():
    """5-D ellipsoid (condition 1e6) from x0 = 1, sigma0 = 1, to f <= 1e-8, seeds 0-2: the active
    update needs fewer evaluations than the positive-weight form on every seed (learning the
    small variances from the bad steps too), and reaches the target within 1,700 evaluations
    (pycma's default, also active, needs about 1,500 here)."""
    for seed in range(3):
        kw = dict(sigma0=1.0, ftarget=1e-8, seed=seed)
        plain = minimize(ellipsoid, np.ones(5), method="cma-es", active=False,
                         c_sigma_form="tutorial", **kw)
        active = minimize(ellipsoid, np.ones(5), method="cma-es", active=True,
                          c_sigma_form="tutorial", **kw)
        assert plain.success and active.success
        assert active.nfev < plain.nfev and active.nfev <= 1700, (seed, active.nfev, plain.nfev)


def test_the_default_of_cmaes_is_pycmas_active_form():
    """``cmaes`` (and ``minimize(method="cma-es")``) runs pycma's defaults: the active update and
    pycma's c_sigma; the tutorial's positive-weight form stays one argument away."""
    kw = dict(sigma0=1.0, maxfev=120, seed=2)
    default = minimize(ellipsoid, np.ones(5), method="cma-es", **kw)
    explicit = minimize(ellipsoid, np.ones(5), method="cma-es", active=True,
                        c_sigma_form="pycma", **kw)
    tutorial = minimize(ellipsoid, np.ones(5), method="cma-es", active=False,
                        c_sigma_form="tutorial", **kw)
    np.testing.assert_array_equal(mg.to_numpy(default.xmean), mg.to_numpy(explicit.xmean))
    assert default.sigma == explicit.sigma and default.fun == explicit.fun
    assert tutorial.sigma != default.sigma


@pytest.mark.parametrize("N,c_sigma,c_c,c_1,c_mu,w_neg_sum", [
    # pycma 4.5.0, CMAEvolutionStrategy(N * [0], 0.5): adapt_sigma.cs, sp.cc, sp.c1, sp.cmu and
    # the sum of the negative entries of sp.weights (its defaults, CMA_active=True)
    (5, 0.43397181326609285, 0.45019955799280803, 0.047292304159400896, 0.04785904960298248,
     -0.14853743453079063 - 0.4055746760130295 - 0.6228965671385448 - 0.811149352026059),
    (10, 0.3196142529106334, 0.29499038303562225, 0.015283824524751714, 0.02355177665041747,
     -0.08001260758087224 - 0.22176416099914653 - 0.34455494178482093 - 0.45286408637842196
     - 0.5497499176973853)])
def test_pycma_form_parameters_are_pycmas(N, c_sigma, c_c, c_1, c_mu, w_neg_sum):
    P = cma_parameters(N, active=True, c_sigma_form="pycma")
    assert P["c_sigma"] == pytest.approx(c_sigma, rel=1e-12)
    assert P["d_sigma"] == pytest.approx(1.0 + c_sigma, rel=1e-12)  # pycma's damps, this N
    assert P["c_c"] == pytest.approx(c_c, rel=1e-12)
    assert P["c_1"] == pytest.approx(c_1, rel=1e-12)
    assert P["c_mu"] == pytest.approx(c_mu, rel=1e-12)
    assert sum(P["weights_neg"]) == pytest.approx(w_neg_sum, rel=1e-12)
