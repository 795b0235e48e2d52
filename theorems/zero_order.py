r"""Zero-order GD's linear rate with the factor :math:`n` (Merkulov 2024 talk, L1;
docs/lectures.md sections 1 and 7): :data:`ZERO_ORDER_GD`.

On an :math:`L`-smooth, :math:`\mu`-strongly convex quadratic on :math:`\mathbb R^n`, zero-order
GD with the two-point estimate :math:`G=\frac n{2\tau}(f(x+\tau e)-f(x-\tau e))e`, :math:`e`
uniform on the unit sphere, and the step :math:`\alpha=\frac1{nL}` satisfies

.. math:: \mathbb E[f(x_k)-f^*]\le\Bigl(1-\frac{\mu}{nL}\Bigr)^k(f(x_0)-f^*).

(On a quadratic the central difference is exact, :math:`\mathbb EG=\nabla f` and
:math:`\mathbb E\|G\|^2=n\|\nabla f\|^2`; the descent lemma and
:math:`\|\nabla f\|^2\ge2\mu(f-f^*)` give the contraction per step in expectation.) Hence the
iterations to a relative accuracy :math:`\varepsilon` in expectation are at most
:math:`n\kappa\ln\frac1\varepsilon` (:meth:`ZeroOrderGDRate.iterations`, from
:math:`-\ln(1-x)\ge x`): :math:`n` times GD's.

The optimizer is a :class:`theorems.Solver` around a zero-order method with the signature of
``optimizers.zero_order.zo_gd``: ``fn(fun, x0, lr=..., maxiter=..., seed=..., callback=...)``,
called once per seed ``0..seeds-1``; ``fun`` is the quadratic's closed form
:math:`\frac12x^\top Ax-b^\top x` (checked against the engine's value at the start). The
procedure: 48 seeds, and at every :math:`k` the mean gap minus 4 standard errors must lie
below the bound plus a slack of :math:`10^{-9}` of it and :math:`10^{-12}(1+|f(x_0)-f^*|)`.

Companion: the step :math:`8/(nL)` on quadratics with equispaced spectra and :math:`n\ge4`;
there :math:`\frac{\alpha^2}2\mathbb E[G^\top AG]>\alpha\|\nabla f\|^2`, the expected gap
grows. The report fits the per-step factor of the mean gap against :math:`1-\frac\mu{nL}`.
"""
from __future__ import annotations

import math

import minigrad as mg
import problems as P
from minigrad import backend as B
from optimizers.zero_order.zo_gd import zo_gd
from theorems import hypotheses as H
from theorems.base import Companion, Procedure, Theorem, relative_step
from theorems.forms import Solver
from theorems.instance import Instance
from theorems.rates import fit_linear_rate
from theorems.report import Evaluation
from theorems.runs import Record
from theorems.stochastic import one_sided

__all__ = ["ZERO_ORDER_GD", "ZeroOrderGDRate", "quadratic_value"]

np = B.host_xp()


def quadratic_value(q):
    r"""The closed form :math:`\frac12x^\top Ax-b^\top x` of the quadratic ``q`` on its backend,
    as a function returning a float; ``AssertionError`` if it differs from the engine's value
    at the start by more than :math:`10^{-12}` relative."""
    A, b = q.A, q.b

    def fun(x):
        a = x.data if isinstance(x, mg.Tensor) else x
        return float(0.5 * (a @ (A @ a)) - b @ a)

    f0 = q.value(q.x0)
    if not math.isclose(fun(q.x0), f0, rel_tol=1e-12, abs_tol=1e-300):
        raise AssertionError(f"closed form {fun(q.x0)!r} != the problem's f {f0!r}")
    return fun


class ZeroOrderGDRate(Theorem):
    name = "zero-order GD, rate with the factor n"
    statement = ("$\\mathbb E[f(x_k)-f^*]\\le(1-\\frac{\\mu}{nL})^k(f(x_0)-f^*)$, two-point "
                 "estimate, step $\\frac1{nL}$")
    source = "Merkulov 2024 talk (L1), zero-order methods: the rates carry a factor n"
    problem_class = "quadratic, mu-strongly convex, L-smooth, on R^n"
    parameters_text = "lr = 1/(nL); the two-point estimate along a uniform unit direction"
    quantity = "E[f(x_k) - f*] at every iterate"
    procedure = Procedure(seeds=48, z=4.0)
    default_steps = 120
    companions = (Companion("step 8/(nL)", "eight times the admissible step on an equispaced "
                            "spectrum, n >= 4: the expected gap grows",
                            lambda t, inst: dict(optimizer=Solver(zo_gd, values_only=True,
                                                                  tau=1e-3),
                                                 problem=inst, steps=4 * inst.dim,
                                                 params={"lr": 8.0 / (inst.dim * inst.L)},
                                                 outside=True)),)

    @staticmethod
    def bound(k, mu, L, n, gap0):
        r""":math:`(1-\mu/(nL))^k(f(x_0)-f^*)`."""
        return (1 - mu / (n * L)) ** np.asarray(k, dtype=float) * gap0

    @staticmethod
    def iterations(eps, mu, L, n=1):
        r""":math:`n\frac L\mu\ln\frac1\varepsilon`: enough iterations for a relative gap
        :math:`\varepsilon` in expectation."""
        return n * (L / mu) * math.log(1 / eps)

    def hypotheses(self, inst):
        return H.quadratic(inst) + H.strongly_convex(inst)

    def default_parameters(self, inst):
        return {"lr": 1.0 / (inst.dim * inst.L)} if inst.L else {}

    def admissible(self, inst, params):
        return H.step_equals(params, "lr", 1.0 / (inst.dim * inst.L), "1/(nL)") if inst.L else []

    def describe_parameters(self, inst, params):
        return (f"lr = {relative_step(params['lr'], 1.0 / (inst.dim * inst.L), '/(nL)')}"
                if "lr" in params else "")

    def run(self, form, inst, params, steps, seeds=None):
        if not isinstance(form, Solver):
            raise TypeError(f"{self.name}: the optimizer must be a theorems.Solver around a "
                            f"zero-order method fn(fun, x0, lr=, maxiter=, seed=, callback=); "
                            f"got a {form.kind}")
        q = inst.problem
        fun = quadratic_value(q)
        x0 = B.asarray(inst.x0, dtype=q.dtype, backend=q.backend)
        gap0 = fun(x0) - inst.f_star
        runs = []
        with np.errstate(all="ignore"):
            for seed in range(self.procedure.seeds if seeds is None else seeds):
                gaps = [gap0]
                form.solve(fun, x0, lambda x, gaps=gaps: gaps.append(fun(x) - inst.f_star),
                           maxiter=steps, seed=seed, **params)
                runs.append(gaps[:steps + 1])
        G = np.array(runs, dtype=float).T               # (K+1, seeds)
        bad = np.nonzero(~np.all(np.isfinite(G), axis=1))[0]
        return Record({"k": np.arange(G.shape[0], dtype=float), "gap": G},
                      int(bad[0]) if bad.size else None)

    def evaluate(self, record, inst, params):
        gaps = record["gap"]
        measured, mean, se = one_sided(gaps, self.procedure.z)
        b = self.bound(record["k"], inst.mu, inst.L, inst.dim, mean[0])
        rate = fit_linear_rate(record["k"], mean, what="per-step factor of the mean gap",
                               theory=1 - inst.mu / (inst.dim * inst.L), floor=1e-12)
        return Evaluation(record["k"], measured, b, 1e-9 * b + 1e-12 * (1 + abs(mean[0])),
                          rate=rate, notes=[f"measured = mean over {gaps.shape[1]} runs - "
                                            f"{self.procedure.z:g} standard errors"])

    def example(self):
        q = P.Quadratic(dim=4, mu=0.25, L=1.0, spacing="linear", seed=0, x0="random")
        inst = Instance(q, words="quadratic, dimension 4, spectrum [0.25, 1] (linear), random "
                                 "start at distance 1")
        return inst, self.default_parameters(inst)


ZERO_ORDER_GD = ZeroOrderGDRate()
