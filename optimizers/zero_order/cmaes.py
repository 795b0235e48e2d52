r"""CMA-ES, the covariance matrix adaptation evolution strategy (L1, "Эволюционные методы").

N. Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772 (v2, 2023), Table 1 (default
parameters) and the summary in its appendix A; the :math:`(\mu/\mu_W, \lambda)`-CMA-ES with
positive recombination weights (:math:`w_i = 0` for :math:`i > \mu`; ``active=False``, the
default of :class:`CMAESState` and the form :class:`CMAES` runs), or with ``active=True`` the
tutorial's active update (its Table 1 and eq. 46-47; pycma's default, ``CMA_active``, and the
default of :func:`cmaes` together with ``c_sigma_form="pycma"``), in which the
:math:`\lambda - \mu` worst steps enter the rank-:math:`\mu` update with negative weights.

Defaults, for dimension :math:`N`:

.. math::
    \lambda = 4 + \lfloor 3\ln N\rfloor, \quad \mu = \lfloor\lambda/2\rfloor, \quad
    w_i' = \ln\frac{\lambda + 1}{2} - \ln i, \quad w_i = \frac{w_i'}{\sum_{j\le\mu} w_j'}
        \ (i \le \mu), \quad
    \mu_{\text{eff}} = \frac{1}{\sum_{i\le\mu} w_i^2}, \\
    c_\sigma = \frac{\mu_{\text{eff}} + 2}{N + \mu_{\text{eff}} + 5}, \quad
    d_\sigma = 1 + 2\max\Big(0, \sqrt{\tfrac{\mu_{\text{eff}} - 1}{N + 1}} - 1\Big) + c_\sigma, \quad
    c_c = \frac{4 + \mu_{\text{eff}}/N}{N + 4 + 2\mu_{\text{eff}}/N}, \\
    c_1 = \frac{2}{(N + 1.3)^2 + \mu_{\text{eff}}}, \quad
    c_\mu = \min\Big(1 - c_1,\ 2\,\frac{\frac14 + \mu_{\text{eff}} + 1/\mu_{\text{eff}} - 2}
        {(N + 2)^2 + \mu_{\text{eff}}}\Big), \quad
    \mathbb{E}\|N(0, I)\| \approx \sqrt N\Big(1 - \frac1{4N} + \frac1{21N^2}\Big).

(:math:`d_\sigma` is the tutorial's formula, not pycma's ``purecma`` variant
:math:`2\mu_{\text{eff}}/\lambda + 0.3 + c_\sigma`; :math:`c_\mu` has the :math:`\frac14` of the
2023 tutorial and pycma, where the 2016 version wrote :math:`\mu_{\text{eff}} - 2 + 1/\mu_{\text{eff}}`.)

One generation :math:`g`:

.. math::
    &y_k = B D z_k,\ z_k \sim N(0, I), \quad x_k = m + \sigma y_k, \quad k = 1..\lambda
        \quad (C = B D^2 B^\top) \\
    &\langle y\rangle_w = \textstyle\sum_{i\le\mu} w_i y_{i:\lambda}, \qquad
        m \leftarrow m + c_m \sigma \langle y\rangle_w \quad (c_m = 1) \\
    &p_\sigma \leftarrow (1 - c_\sigma) p_\sigma
        + \sqrt{c_\sigma(2 - c_\sigma)\mu_{\text{eff}}}\ C^{-1/2}\langle y\rangle_w \\
    &\sigma \leftarrow \sigma\exp\Big(\frac{c_\sigma}{d_\sigma}\Big(
        \frac{\|p_\sigma\|}{\mathbb{E}\|N(0, I)\|} - 1\Big)\Big)
        \quad \text{(cumulative step-size adaptation)} \\
    &h_\sigma = 1 \text{ if } \frac{\|p_\sigma\|}{\sqrt{1 - (1 - c_\sigma)^{2(g + 1)}}}
        < (1.4 + \tfrac{2}{N + 1})\,\mathbb{E}\|N(0, I)\| \text{, else } 0 \\
    &p_c \leftarrow (1 - c_c) p_c + h_\sigma\sqrt{c_c(2 - c_c)\mu_{\text{eff}}}\ \langle y\rangle_w \\
    &C \leftarrow (1 + c_1\delta(h_\sigma) - c_1 - c_\mu)\,C
        + c_1 p_c p_c^\top \ \text{(rank one)}
        + c_\mu \textstyle\sum_{i\le\mu} w_i y_{i:\lambda} y_{i:\lambda}^\top \ \text{(rank } \mu\text{)},
        \quad \delta(h_\sigma) = (1 - h_\sigma) c_c (2 - c_c)

The active update (``active=True``) gives the steps :math:`i > \mu` the weights

.. math::
    w_i = \frac{\min(\alpha_\mu^-, \alpha_{\mu_{\text{eff}}}^-, \alpha_{\text{posdef}}^-)}
        {\sum_{j > \mu}|w_j'|}\, w_i', \quad
    \alpha_\mu^- = 1 + \frac{c_1}{c_\mu}, \quad
    \alpha_{\mu_{\text{eff}}}^- = 1 + \frac{2\mu_{\text{eff}}^-}{\mu_{\text{eff}} + 2}, \quad
    \alpha_{\text{posdef}}^- = \frac{1 - c_1 - c_\mu}{N c_\mu}, \quad
    \mu_{\text{eff}}^- = \frac{(\sum_{i>\mu} w_i')^2}{\sum_{i>\mu} w_i'^2},

(:math:`w_i' = \ln\frac{\lambda + 1}{2} - \ln i` for all :math:`i \le \lambda`), and the update
of :math:`C` becomes

.. math::
    C \leftarrow \Big(1 + c_1\delta(h_\sigma) - c_1 - c_\mu\sum_{j\le\lambda} w_j\Big)C
        + c_1 p_c p_c^\top + c_\mu\sum_{i\le\lambda} w_i^\circ y_{i:\lambda}y_{i:\lambda}^\top,
    \quad w_i^\circ = w_i \Big(1 \text{ if } w_i \ge 0 \text{, else }
        \frac{N}{\|C^{-1/2}y_{i:\lambda}\|^2}\Big).

``c_sigma_form="pycma"`` takes pycma's :math:`c_\sigma = \frac{\mu_{\text{eff}} + 2}{N +
\mu_{\text{eff}} + 3}` for the tutorial's :math:`\frac{\mu_{\text{eff}} + 2}{N +
\mu_{\text{eff}} + 5}` (:math:`d_\sigma` follows it).

(:math:`p_\sigma` uses the :math:`\sigma` before its update, as in the tutorial.) The eigen-
decomposition of :math:`C` is refreshed every generation (cheap at the dimensions the tests use).
Stopping: ``ftarget``, ``maxfev`` (default :math:`100\lambda + 150(N + 3)^2\sqrt\lambda`, pycma's
purecma), ``tolfun`` (the spread of the values of the last generation and of the best values of
the last :math:`10 + \lceil 30N/\lambda\rceil` generations below :math:`10^{-12}`, Hansen's TolFun)
and ``tolx`` (:math:`\sigma\sqrt{\max\mathrm{eig}\,C} < 10^{-11}`).
"""
from __future__ import annotations

import math

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.callbacks import STATUS_CALLBACK, STOP_MESSAGE, as_iteration_callback
from optimizers.objective import Objective
from optimizers.vector_optimizer import VectorOptimizer
from optimizers.minimize import (STATUS_MAXITER, STATUS_NONFINITE, STATUS_SUCCESS,
                                 OptimizeResult, as_vector)

__all__ = ["cmaes", "CMAES", "CMAESState", "cma_parameters", "C_SIGMA_FORMS"]

C_SIGMA_FORMS = ("tutorial", "pycma")


def cma_parameters(N: int, popsize: int | None = None, active: bool = False,
                   c_sigma_form: str = "tutorial") -> dict:
    r"""The default strategy parameters of the tutorial's Table 1 for dimension ``N`` (module
    docstring): ``lam, mu, weights (mu,), mu_eff, c_sigma, d_sigma, c_c, c_1, c_mu, chi_N``.
    With ``active=True`` also ``weights_neg`` (:math:`\lambda - \mu` entries
    :math:`w_i \le 0`, :math:`i > \mu`: the tutorial's negative weights, module docstring) and
    ``mu_eff_neg``; ``c_sigma_form``: ``"tutorial"`` or ``"pycma"``."""
    if c_sigma_form not in C_SIGMA_FORMS:
        raise ValueError(f"cma_parameters: c_sigma_form must be one of {C_SIGMA_FORMS}; got "
                         f"{c_sigma_form!r}")
    lam = 4 + int(math.floor(3.0 * math.log(N))) if popsize is None else int(popsize)
    mu = lam // 2                                                  # mu = floor(lambda / 2)
    w_prime = [math.log((lam + 1) / 2.0) - math.log(i) for i in range(1, mu + 1)]
    total = sum(w_prime)
    weights = [w / total for w in w_prime]                        # sum_{i<=mu} w_i = 1
    mu_eff = 1.0 / sum(w * w for w in weights)                    # mu_eff
    if c_sigma_form == "pycma":
        c_sigma = (mu_eff + 2.0) / (N + mu_eff + 3.0)             # pycma's c_sigma
    else:
        c_sigma = (mu_eff + 2.0) / (N + mu_eff + 5.0)             # the tutorial's
    d_sigma = 1.0 + 2.0 * max(0.0, math.sqrt((mu_eff - 1.0) / (N + 1.0)) - 1.0) + c_sigma
    c_c = (4.0 + mu_eff / N) / (N + 4.0 + 2.0 * mu_eff / N)
    alpha_cov = 2.0
    c_1 = alpha_cov / ((N + 1.3) ** 2 + mu_eff)
    c_mu = min(1.0 - c_1, alpha_cov * (0.25 + mu_eff + 1.0 / mu_eff - 2.0)
               / ((N + 2.0) ** 2 + alpha_cov * mu_eff / 2.0))
    chi_N = math.sqrt(N) * (1.0 - 1.0 / (4.0 * N) + 1.0 / (21.0 * N * N))  # E||N(0, I)||
    out = dict(lam=lam, mu=mu, weights=weights, mu_eff=mu_eff, c_sigma=c_sigma,
               d_sigma=d_sigma, c_c=c_c, c_1=c_1, c_mu=c_mu, chi_N=chi_N)
    if active:
        w_neg = [math.log((lam + 1) / 2.0) - math.log(i) for i in range(mu + 1, lam + 1)]
        mu_eff_neg = sum(w_neg) ** 2 / sum(w * w for w in w_neg) if any(w_neg) else 0.0
        alpha_mu = 1.0 + c_1 / c_mu                               # alpha_mu^-
        alpha_mu_eff = 1.0 + 2.0 * mu_eff_neg / (mu_eff + 2.0)    # alpha_mu_eff^-
        alpha_posdef = (1.0 - c_1 - c_mu) / (N * c_mu)            # alpha_posdef^-
        scale = min(alpha_mu, alpha_mu_eff, alpha_posdef)
        total_neg = sum(abs(w) for w in w_neg if w < 0.0)
        out["weights_neg"] = [scale * w / total_neg if w < 0.0 else 0.0 for w in w_neg]
        out["mu_eff_neg"] = mu_eff_neg
    return out


class CMAESState:
    r"""The distribution :math:`(m, \sigma, C, p_\sigma, p_c)` and one generation (:meth:`generation`).

    ``adapt_covariance=False`` keeps :math:`C = I` (only :math:`\sigma` adapts: a CSA-ES), the
    ablation the tests use to show that covariance adaptation is what solves Rosenbrock.
    ``active=True`` adds the active update (module docstring): the :math:`\lambda - \mu` worst
    steps enter the rank-:math:`\mu` term with negative weights.
    """

    def __init__(self, m, sigma: float, popsize=None, adapt_covariance: bool = True,
                 active: bool = False, c_sigma_form: str = "tutorial"):
        xp = B.get_array_module(m)
        N = m.size
        self.N = N
        self.active = active
        self.par = cma_parameters(N, popsize, active=active, c_sigma_form=c_sigma_form)
        self.m = m.copy()
        self.sigma = float(sigma)
        self.C = xp.eye(N, dtype=m.dtype)
        self.p_sigma = xp.zeros_like(m)
        self.p_c = xp.zeros_like(m)
        self.g = 0
        self.adapt_covariance = adapt_covariance
        self.w = B.asarray(self.par["weights"], dtype=m.dtype, backend=B.backend_name_of(m))
        if active:
            self.w_neg = B.asarray(self.par["weights_neg"], dtype=m.dtype,
                                   backend=B.backend_name_of(m))
        self._eig()

    def _eig(self):
        xp = B.get_array_module(self.C)
        self.C = (self.C + self.C.T) / 2.0                        # keep C exactly symmetric
        D2, self.B = xp.linalg.eigh(self.C)                       # C = B D^2 B^T
        self.D = xp.sqrt(xp.maximum(D2, 0.0))

    def ask(self, rng):
        r""":math:`\lambda` candidates :math:`x_k = m + \sigma B D z_k` (rows) and the
        :math:`y_k = B D z_k`."""
        lam = self.par["lam"]
        z = B.asarray(rng.standard_normal((lam, self.N)), dtype=self.m.dtype,
                      backend=B.backend_name_of(self.m))          # z_k ~ N(0, I)
        y = (z * self.D) @ self.B.T                               # y_k = B D z_k
        return self.m + self.sigma * y, y                         # x_k = m + sigma y_k

    def tell(self, y, fvals) -> None:
        r"""Update :math:`m, p_\sigma, \sigma, p_c, C` from the steps ``y`` and their values."""
        xp = B.get_array_module(y)
        P = self.par
        mu = P["mu"]
        order = sorted(range(len(fvals)), key=lambda i: _key(fvals[i]))
        y_sel = y[xp.asarray(order[:mu])]                         # y_{i:lambda}, i <= mu
        y_w = self.w @ y_sel                                      # <y>_w = sum w_i y_{i:lambda}
        self.m = self.m + self.sigma * y_w                        # m <- m + c_m sigma <y>_w
        c_s, c_c, mu_eff = P["c_sigma"], P["c_c"], P["mu_eff"]
        C_inv_sqrt_yw = self.B @ ((self.B.T @ y_w) / self.D)      # C^{-1/2} <y>_w
        self.p_sigma = (1.0 - c_s) * self.p_sigma \
            + math.sqrt(c_s * (2.0 - c_s) * mu_eff) * C_inv_sqrt_yw   # p_sigma
        ps_norm = float(xp.linalg.norm(self.p_sigma))
        self.sigma *= math.exp((c_s / P["d_sigma"]) * (ps_norm / P["chi_N"] - 1.0))  # CSA
        self.g += 1
        h_sigma = 1.0 if ps_norm / math.sqrt(1.0 - (1.0 - c_s) ** (2 * self.g)) \
            < (1.4 + 2.0 / (self.N + 1.0)) * P["chi_N"] else 0.0  # h_sigma
        self.p_c = (1.0 - c_c) * self.p_c \
            + h_sigma * math.sqrt(c_c * (2.0 - c_c) * mu_eff) * y_w   # p_c
        if self.adapt_covariance:
            c_1, c_mu = P["c_1"], P["c_mu"]
            delta_h = (1.0 - h_sigma) * c_c * (2.0 - c_c)         # delta(h_sigma)
            rank_one = xp.outer(self.p_c, self.p_c)               # p_c p_c^T
            rank_mu = (y_sel.T * self.w) @ y_sel                  # sum w_i y_i y_i^T
            w_sum = 1.0                                           # sum_j w_j
            if self.active:
                y_neg = y[xp.asarray(order[mu:])]                 # y_{i:lambda}, i > mu
                z2 = (((y_neg @ self.B) / self.D) ** 2).sum(axis=1)  # ||C^{-1/2} y_i||^2
                w_circ = self.w_neg * (self.N / z2)               # w_i n / ||C^{-1/2} y_i||^2
                rank_mu = rank_mu + (y_neg.T * w_circ) @ y_neg    # + sum w_i° y_i y_i^T
                w_sum += sum(P["weights_neg"])
            self.C = (1.0 + c_1 * delta_h - c_1 - c_mu * w_sum) * self.C \
                + c_1 * rank_one + c_mu * rank_mu                 # C <- ...
            self._eig()

    def generation(self, f, rng):
        """Sample, evaluate (``f`` of each row) and update; returns ``(X, values)``."""
        X, y = self.ask(rng)
        fvals = [f(X[k]) for k in range(X.shape[0])]
        self.tell(y, fvals)
        return X, fvals

    # state as arrays / numbers (for the optimizer's state_dict)
    def to_dict(self) -> dict:
        return {"m": self.m, "C": self.C, "p_sigma": self.p_sigma, "p_c": self.p_c,
                "sigma": self.sigma, "g": self.g}

    def load(self, d: dict) -> None:
        self.m, self.C = d["m"], d["C"]
        self.p_sigma, self.p_c = d["p_sigma"], d["p_c"]
        self.sigma, self.g = float(d["sigma"]), int(d["g"])
        self._eig()


def _key(v: float) -> float:
    return math.inf if math.isnan(v) else v


def cmaes(fun, x0, args=(), sigma0=0.5, popsize=None, maxfev=None, ftarget=None, tolfun=1e-12,
          tolx=1e-11, seed=0, adapt_covariance=True, active=True, c_sigma_form="pycma",
          callback=None) -> OptimizeResult:
    r"""Minimise ``fun`` by CMA-ES (module docstring) from the mean ``x0`` with step ``sigma0``.

    ``seed`` seeds the host generator of the samples; ``active`` (the active covariance
    update) and ``c_sigma_form`` are the variants of the module docstring. The defaults are
    pycma's (its documented ``CMA_active=True`` and its :math:`c_\sigma`): the active update
    with the tutorial's negative weights, the same algorithm as pycma's defaults, and on
    the ellipsoid and Rosenbrock in 5 and 10 dimensions as fast (``benchmarks/bench_minimize.py``);
    ``active=False, c_sigma_form="tutorial"`` is the tutorial's positive-weight form, the one
    :class:`CMAES` runs. Returns the best point seen (``x``,
    ``fun``) and the final mean ``xmean`` and ``sigma``; ``nit`` counts generations, ``nfev``
    evaluations (:math:`\lambda` per generation). ``status`` 0 when ``ftarget``, ``tolfun`` or
    ``tolx`` stopped it, 1 when ``maxfev`` did, 3 for non-finite values only. ``callback`` gets
    the best point seen after each generation (with ``intermediate_result``: also ``fun`` and
    the mean ``xmean`` and ``sigma``).
    """
    x = as_vector(x0, "cmaes")
    sigma0 = V.real("cmaes", "sigma0", sigma0, lo=0.0, lo_open=True)
    active = V.flag("cmaes", "active", active)
    c_sigma_form = V.choice("cmaes", "c_sigma_form", c_sigma_form, C_SIGMA_FORMS)
    state = CMAESState(x, sigma0, popsize=popsize, adapt_covariance=adapt_covariance,
                       active=active, c_sigma_form=c_sigma_form)
    lam, N = state.par["lam"], x.size
    if lam < 2:
        raise ValueError(f"cmaes: popsize must be at least 2; got {lam}")
    if maxfev is None:
        maxfev = int(100 * lam + 150 * (N + 3) ** 2 * math.sqrt(lam))
    maxfev = V.integer("cmaes", "maxfev", maxfev, lo=1)
    obj = Objective(fun, x, args=args, name="cmaes", values_only=True)
    notify = as_iteration_callback(callback)
    rng = B.host_rng(seed)
    best_x, best_f = x.copy(), math.inf
    history = []                                  # best value of each generation
    hist_len = 10 + math.ceil(30 * N / lam)
    status, message = STATUS_MAXITER, "maxfev evaluations were reached"
    while True:
        if ftarget is not None and best_f <= ftarget:
            status, message = STATUS_SUCCESS, "f reached ftarget"
            break
        if obj.nfev + lam > maxfev:
            break
        X, fvals = state.generation(obj.f, rng)
        i_best = min(range(lam), key=lambda i: _key(fvals[i]))
        if _key(fvals[i_best]) < best_f:
            best_x, best_f = X[i_best].copy(), fvals[i_best]
        history.append(fvals[i_best])
        history = history[-hist_len:]
        if notify is not None and notify(best_x, best_f, xmean=state.m, sigma=state.sigma):
            status, message = STATUS_CALLBACK, STOP_MESSAGE
            break
        finite = [v for v in fvals if math.isfinite(v)]
        if not finite and not math.isfinite(best_f):
            status, message = STATUS_NONFINITE, "no candidate has a finite value of f"
            break
        if ftarget is not None and best_f <= ftarget:
            status, message = STATUS_SUCCESS, "f reached ftarget"
            break
        if (len(history) == hist_len and finite and
                max(max(finite), max(history)) - min(min(finite), min(history)) < tolfun):
            status, message = STATUS_SUCCESS, "tolfun: the values stopped changing"
            break
        if state.sigma * float(B.get_array_module(state.D).max(state.D)) < tolx:
            status, message = STATUS_SUCCESS, "tolx: the search distribution collapsed"
            break
    return OptimizeResult(x=best_x, fun=best_f, jac=None, nit=state.g, nfev=obj.nfev, njev=0,
                          status=status, success=status == STATUS_SUCCESS, message=message,
                          xmean=state.m, sigma=state.sigma)


class CMAES(VectorOptimizer):
    r"""CMA-ES as a torch.optim-style optimizer: ``step(closure)`` runs one generation
    (:math:`\lambda` evaluations of the closure, which returns the loss; no ``backward()``
    needed), starting from the current parameters as the mean with step ``sigma0`` (the first
    step also evaluates that start). The parameters are left at the best point seen so far, whose
    loss the step returns; the mean and
    the rest of the distribution are in ``vstate``. Defaults: ``sigma0=0.5``, ``popsize`` from
    Table 1, ``seed=0``."""

    _vstate_keys = ("m", "C", "p_sigma", "p_c", "sigma", "g", "best_x", "best_f")

    def __init__(self, params, sigma0=0.5, popsize=None, seed=0, nonfinite=None):
        super().__init__(params, dict(sigma0=sigma0, popsize=popsize), seed=seed,
                         nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        group["sigma0"] = V.real(self.name, "sigma0", group["sigma0"], lo=0.0, lo_open=True)
        if group["popsize"] is not None:
            group["popsize"] = V.integer(self.name, "popsize", group["popsize"], lo=2)

    def _shape_ok(self, key, shape, n):
        return shape == ((n, n) if key == "C" else (n,))

    def _step(self, obj):
        group = self.param_groups[0]
        x = obj.get()
        state = CMAESState(x, group["sigma0"], popsize=group["popsize"])
        if "m" in self.vstate:
            state.load(self.vstate)
            best_x, best_f = self.vstate["best_x"], float(self.vstate["best_f"])
        else:
            best_x, best_f = x, obj.f(x)                 # the start counts as seen
        X, fvals = state.generation(obj.f, self.rng)
        i_best = min(range(len(fvals)), key=lambda i: _key(fvals[i]))
        if _key(fvals[i_best]) < best_f:
            best_x, best_f = X[i_best].copy(), fvals[i_best]
        self.vstate.update(state.to_dict())
        self.vstate["best_x"], self.vstate["best_f"] = best_x, best_f
        obj.put(best_x)
        self._finish(obj)
        return best_f
