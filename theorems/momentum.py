r"""The heavy ball on quadratics at its optimal parameters (Polyak 1964, "Some methods of speeding
up the convergence of iteration methods"; Bursky's training algorithms, L0, and Nikulin, L3;
docs/lectures.md section 2): :data:`HEAVY_BALL`.

On :math:`f=\frac12x^\top Ax-b^\top x` with spectrum in :math:`[\mu,L]`,
:math:`\kappa=L/\mu>1`, the heavy ball :math:`v\leftarrow\beta v-\alpha\nabla f(w)`,
:math:`w\leftarrow w+v` (``optimizers.Momentum``: ``lr`` :math:`=\alpha`, ``momentum``
:math:`=\beta`) with

.. math:: \alpha^*=\frac4{(\sqrt L+\sqrt\mu)^2},\qquad\beta^*=\rho^2,\qquad
          \rho=\frac{\sqrt\kappa-1}{\sqrt\kappa+1}

satisfies at every iterate

.. math:: \|x_k-x^*\|\le C_k\,\rho^k\,\|x_0-x^*\|,\qquad C_k=k\frac M\rho+k-1\ (k\ge1),
          \quad C_0=1,\quad M=\max(|1-\alpha^*\mu|,|1-\alpha^*L|).

Derivation: per eigencomponent :math:`e_{k+1}=t\,e_k-\beta e_{k-1}`,
:math:`t=1+\beta-\alpha\lambda`, :math:`e_1=(1-\alpha\lambda)e_0` (from :math:`v_0=0`). At
:math:`(\alpha^*,\beta^*)`, :math:`t` runs linearly from :math:`2\rho` at :math:`\mu` to
:math:`-2\rho` at :math:`L`, so every root of :math:`z^2-tz+\beta^*` has modulus :math:`\rho`
(:meth:`HeavyBallQuadratic.spectral_radius`: the spectral radius of the iteration matrix
:math:`T=\begin{pmatrix}(1+\beta)I-\alpha A&-\beta I\\I&0\end{pmatrix}` is :math:`\rho`).
With :math:`s_k=e_k/\rho^k` and :math:`c=t/(2\rho)\in[-1,1]`: :math:`s_{k+1}=2cs_k-s_{k-1}`,
:math:`s_k=s_1U_{k-1}(c)-s_0U_{k-2}(c)` (Chebyshev polynomials of the second kind,
:math:`|U_j|\le j+1` on :math:`[-1,1]`): the :math:`k\rho^k` of a double root. Slack:
relative :math:`10^{-9}`, absolute :math:`10^{-13}(1+\max|x^*|+\|x_0-x^*\|)`. The report fits
the rate of :math:`\|x_k-x^*\|` with a :math:`\log k` term.

GD with its best step :math:`2/(\mu+L)` converges at :math:`\frac{\kappa-1}{\kappa+1}>\rho`
(:meth:`HeavyBallQuadratic.gd_rate`): the bound is an acceleration claim.

Companions: twice the optimal step (the block at :math:`\lambda=L` gets a root of modulus above
1); GD with its best step (:math:`\beta=0`, for :math:`\kappa\ge10`); half the optimal momentum
(its spectral radius exceeds :math:`\rho`).
"""
from __future__ import annotations

import math

import minigrad as mg
import problems as P
from minigrad import backend as B
from optimizers import Momentum
from theorems import hypotheses as H
from theorems.base import Companion, Theorem
from theorems.instance import Instance
from theorems.rates import fit_linear_rate
from theorems.report import Evaluation
from theorems.runs import run_full

__all__ = ["HEAVY_BALL", "HeavyBallQuadratic"]

np = B.host_xp()


def _companion(alpha_factor: float, beta_factor: float, steps: int, gd: bool = False):
    def build(theorem, inst):
        alpha, beta = theorem.optimal_parameters(inst.mu, inst.L)
        if gd:
            alpha, beta = 2.0 / (inst.mu + inst.L), 0.0
        return dict(optimizer=Momentum, problem=inst, steps=steps, outside=True,
                    params={"lr": alpha * alpha_factor, "momentum": beta * beta_factor})
    return build


class HeavyBallQuadratic(Theorem):
    name = "heavy ball on quadratics, optimal parameters"
    statement = ("$\\|x_k-x^*\\|\\le C_k\\rho^k\\|x_0-x^*\\|$, $\\rho=\\frac{\\sqrt\\kappa-1}"
                 "{\\sqrt\\kappa+1}$, $C_k=kM/\\rho+k-1$")
    source = ("Polyak 1964, Some methods of speeding up the convergence of iteration methods; "
              "Bursky's training algorithms (L0) and Nikulin's lecture (L3), momentum")
    problem_class = "quadratic with spectrum in [mu, L], 0 < mu < L"
    parameters_text = "lr = alpha* = 4/(sqrt L + sqrt mu)^2, momentum = beta* = rho^2"
    quantity = "||x_k - x*|| at every iterate"
    default_steps = 200
    companions = (Companion("twice the optimal step", "lr = 2 alpha*: a root of modulus above "
                            "1 at lambda = L", _companion(2.0, 1.0, 200)),
                  Companion("GD with its best step", "momentum 0, lr = 2/(mu + L): rate "
                            "(kappa-1)/(kappa+1) > rho (kappa >= 10)",
                            _companion(1.0, 1.0, 600, gd=True)))

    # ------------------------------------------------------------------ constants
    @staticmethod
    def rate(mu: float, L: float) -> float:
        r""":math:`\rho=(\sqrt\kappa-1)/(\sqrt\kappa+1)`, :math:`\kappa=L/\mu`."""
        kappa = L / mu
        return (math.sqrt(kappa) - 1.0) / (math.sqrt(kappa) + 1.0)

    @staticmethod
    def gd_rate(mu: float, L: float) -> float:
        r""":math:`(\kappa-1)/(\kappa+1)`: GD with the step :math:`2/(\mu+L)`."""
        kappa = L / mu
        return (kappa - 1.0) / (kappa + 1.0)

    @classmethod
    def optimal_parameters(cls, mu: float, L: float) -> tuple:
        r""":math:`(\alpha^*,\beta^*)=(4/(\sqrt L+\sqrt\mu)^2,\ \rho^2)`."""
        alpha = 4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2
        return alpha, cls.rate(mu, L) ** 2

    @staticmethod
    def spectral_radius(A, alpha: float, beta: float) -> float:
        r"""The largest modulus of an eigenvalue of :math:`T` (module docstring) for the
        symmetric matrix ``A``."""
        A = np.asarray(mg.to_numpy(A), dtype=float)
        n = A.shape[0]
        I = np.eye(n)
        T = np.block([[(1 + beta) * I - alpha * A, -beta * I], [I, np.zeros((n, n))]])
        return float(np.abs(np.linalg.eigvals(T)).max())

    @classmethod
    def bound(cls, k, mu, L, dist0):
        r""":math:`C_k\rho^k\|x_0-x^*\|` at the optimal parameters."""
        alpha, _ = cls.optimal_parameters(mu, L)
        rho = cls.rate(mu, L)
        M = max(abs(1 - alpha * mu), abs(1 - alpha * L))
        k = np.asarray(k, dtype=float)
        C = np.where(k == 0, 1.0, k * M / rho + k - 1)
        return C * rho ** k * dist0

    # ------------------------------------------------------------------ hypotheses
    def hypotheses(self, inst):
        out = H.quadratic(inst)
        if not out and not (inst.mu and inst.mu > 0 and inst.L > inst.mu):
            out.append(f"the spectrum must lie in [mu, L] with 0 < mu < L: mu = {inst.mu!r}, "
                       f"L = {inst.L!r}")
        return out

    def default_parameters(self, inst):
        if not (inst.mu and inst.L and 0 < inst.mu < inst.L):
            return {}
        alpha, beta = self.optimal_parameters(inst.mu, inst.L)
        return {"lr": alpha, "momentum": beta}

    def admissible(self, inst, params):
        if not (inst.mu and inst.L and 0 < inst.mu < inst.L):
            return []
        alpha, beta = self.optimal_parameters(inst.mu, inst.L)
        return (H.step_equals(params, "lr", alpha, "alpha* = 4/(sqrt L + sqrt mu)^2")
                + H.step_equals(params, "momentum", beta, "beta* = rho^2"))

    def describe_parameters(self, inst, params):
        parts = []
        if inst.mu and inst.L and 0 < inst.mu < inst.L:
            alpha, beta = self.optimal_parameters(inst.mu, inst.L)
            if "lr" in params:
                parts.append(f"lr = {params['lr']:.6g} (= {params['lr'] / alpha:.4g} alpha*)")
            if "momentum" in params:
                parts.append(f"momentum = {params['momentum']:.6g} (= "
                             f"{params['momentum'] / beta:.4g} beta*)")
        rest = {k: v for k, v in params.items() if k not in ("lr", "momentum") or not parts}
        return ", ".join(parts + [f"{k} = {v!r}" for k, v in rest.items()])

    # ------------------------------------------------------------------ the check
    def run(self, form, inst, params, steps):
        return run_full(form, inst, params, steps, need=())

    @staticmethod
    def atol(inst) -> float:
        return 1e-13 * (1 + float(np.abs(inst.x_star).max()) + math.sqrt(inst.R2))

    def evaluate(self, record, inst, params):
        k = record["k"]
        dist = np.sqrt(record["d2"])
        b = self.bound(k, inst.mu, inst.L, dist[0])
        rate = fit_linear_rate(k, dist, what="per-step factor of ||x_k - x*||",
                               theory=self.rate(inst.mu, inst.L), floor=1e-12, power=True)
        return Evaluation(k, dist, b, self.rtol * b + self.atol(inst), rate=rate)

    def example(self):
        q = P.Quadratic(dim=10, mu=0.01, L=1.0, spacing="linear", seed=0, x0="random")
        inst = Instance(q, words="quadratic, dimension 10, spectrum [0.01, 1] (linear), random "
                                 "start at distance 1")
        return inst, self.default_parameters(inst)


HEAVY_BALL = HeavyBallQuadratic()
