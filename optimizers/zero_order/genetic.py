r"""A real-coded genetic algorithm (L1, "Генетические алгоритмы").

A population of :math:`P` points evolves by the four operators of a GA (Goldberg 1989; Eiben &
Smith, *Introduction to Evolutionary Computing*, 2015, ch. 3-5), each one line below:

.. math::
    &\text{elitism:}\quad \text{the } e \text{ best individuals pass unchanged} \\
    &\text{tournament selection:}\quad \text{parent} = \arg\min_{i \in T} f(x_i),\
        T = k \text{ individuals drawn uniformly} \\
    &\text{crossover (BLX-}\alpha\text{, Eshelman \& Schaffer 1993), with probability } p_c:\quad
        c_j \sim U[\min(a_j, b_j) - \alpha d_j,\ \max(a_j, b_j) + \alpha d_j],\
        d_j = |a_j - b_j| \\
    &\text{mutation (Gaussian), each gene with probability } p_m:\quad
        c_j \leftarrow c_j + \sigma_g\,\xi,\ \xi \sim N(0, 1), \quad
        \sigma_g = \sigma_m \beta^g

Defaults: :math:`P = 50`, :math:`e = 2`, :math:`k = 3`, :math:`p_c = 0.9`, :math:`\alpha = 0.5`,
:math:`p_m = 1/n`, :math:`\sigma_m = 0.1`, :math:`\beta = 0.98` (the mutation step decays so that
the population can settle; BLX-:math:`\alpha` already scales its spread with the parents'
distance). The initial population is :math:`x_0` and :math:`P - 1` points
:math:`x_0 + \sigma_0 N(0, I)`. ``tournament=1`` is selection without pressure (random parents):
the ablation the tests use. Each generation costs :math:`P - e` evaluations.
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

__all__ = ["genetic_algorithm", "GeneticAlgorithm", "Population"]


def _key(v: float) -> float:
    return math.inf if math.isnan(v) else v


class Population:
    """The population (rows), its values, and one generation (:meth:`generation`)."""

    def __init__(self, X, fvals, elitism=2, tournament=3, crossover=0.9, alpha=0.5,
                 mutation_rate=None, mutation_scale=0.1, mutation_decay=0.98, g=0):
        self.X, self.fvals = X, list(fvals)
        n = X.shape[1]
        self.elitism, self.tournament = elitism, tournament
        self.crossover, self.alpha = crossover, alpha
        self.mutation_rate = 1.0 / n if mutation_rate is None else mutation_rate
        self.mutation_scale, self.mutation_decay = mutation_scale, mutation_decay
        self.g = g

    @classmethod
    def start(cls, f, x0, popsize, sigma0, rng, **kw):
        n = x0.size
        noise = B.asarray(rng.standard_normal((popsize - 1, n)), dtype=x0.dtype,
                          backend=B.backend_name_of(x0))
        xp = B.get_array_module(x0)
        X = xp.concatenate([x0.reshape(1, n), x0 + sigma0 * noise])  # x_0, x_0 + sigma_0 N(0, I)
        return cls(X, [f(X[i]) for i in range(popsize)], **kw)

    def best(self):
        i = min(range(len(self.fvals)), key=lambda j: _key(self.fvals[j]))
        return self.X[i], self.fvals[i]

    def _select(self, rng) -> int:
        T = rng.integers(0, len(self.fvals), size=self.tournament)  # k individuals at random
        return int(min(T, key=lambda i: _key(self.fvals[i])))      # the best of them

    def generation(self, f, rng) -> None:
        xp = B.get_array_module(self.X)
        P, n = self.X.shape
        order = sorted(range(P), key=lambda i: _key(self.fvals[i]))
        rows = [self.X[i] for i in order[:self.elitism]]             # elitism
        vals = [self.fvals[i] for i in order[:self.elitism]]
        sigma_g = self.mutation_scale * self.mutation_decay ** self.g  # sigma_m beta^g
        backend = B.backend_name_of(self.X)
        while len(rows) < P:
            a = self.X[self._select(rng)]                            # tournament selection
            b = self.X[self._select(rng)]
            if rng.random() < self.crossover:                        # BLX-alpha crossover
                u = B.asarray(rng.random(n), dtype=self.X.dtype, backend=backend)
                lo, hi = xp.minimum(a, b), xp.maximum(a, b)
                d = hi - lo                                          # d_j = |a_j - b_j|
                c = (lo - self.alpha * d) + u * ((1.0 + 2.0 * self.alpha) * d)  # c_j ~ U[...]
            else:
                c = a.copy()
            mask = rng.random(n) < self.mutation_rate                # genes to mutate
            if mask.any():
                xi = rng.standard_normal(n) * mask
                c = c + sigma_g * B.asarray(xi, dtype=self.X.dtype, backend=backend)
            rows.append(c)
            vals.append(f(c))
        self.X = xp.stack(rows)
        self.fvals = vals
        self.g += 1


def genetic_algorithm(fun, x0, args=(), popsize=50, sigma0=1.0, maxgen=None, maxfev=None,
                      ftarget=None, elitism=2, tournament=3, crossover=0.9, alpha=0.5,
                      mutation_rate=None, mutation_scale=0.1, mutation_decay=0.98, seed=0,
                      callback=None) -> OptimizeResult:
    r"""Minimise ``fun`` by the genetic algorithm of the module docstring, around ``x0``.

    Stops at ``ftarget`` (status 0), after ``maxgen`` generations (default 200) or ``maxfev``
    evaluations (status 1). Returns the best individual (``x``, ``fun``); ``nit`` counts
    generations, ``nfev`` evaluations (:math:`P` for the first population, then :math:`P - e` per
    generation).
    """
    name = "genetic_algorithm"
    x = as_vector(x0, name)
    popsize = V.integer(name, "popsize", popsize, lo=2)
    elitism = V.integer(name, "elitism", elitism, lo=0, hi=popsize - 1)
    tournament = V.integer(name, "tournament", tournament, lo=1)
    crossover = V.real(name, "crossover", crossover, lo=0.0, hi=1.0)
    alpha = V.real(name, "alpha", alpha, lo=0.0)
    if mutation_rate is not None:
        mutation_rate = V.real(name, "mutation_rate", mutation_rate, lo=0.0, hi=1.0)
    mutation_scale = V.real(name, "mutation_scale", mutation_scale, lo=0.0)
    mutation_decay = V.real(name, "mutation_decay", mutation_decay, lo=0.0, hi=1.0)
    sigma0 = V.real(name, "sigma0", sigma0, lo=0.0)
    maxgen = 200 if maxgen is None else V.integer(name, "maxgen", maxgen, lo=0)
    maxfev = math.inf if maxfev is None else V.integer(name, "maxfev", maxfev, lo=1)
    obj = Objective(fun, x, args=args, name=name, values_only=True)
    notify = as_iteration_callback(callback)
    rng = B.host_rng(seed)
    pop = Population.start(obj.f, x, popsize, sigma0, rng, elitism=elitism,
                           tournament=tournament, crossover=crossover, alpha=alpha,
                           mutation_rate=mutation_rate, mutation_scale=mutation_scale,
                           mutation_decay=mutation_decay)
    status, message = STATUS_MAXITER, "maxgen generations were reached"
    while True:
        fbest = pop.best()[1]
        if ftarget is not None and fbest <= ftarget:
            status, message = STATUS_SUCCESS, "f reached ftarget"
            break
        if pop.g >= maxgen:
            break
        if obj.nfev + popsize - elitism > maxfev:
            message = "maxfev evaluations were reached"
            break
        pop.generation(obj.f, rng)
        if notify is not None and notify(*pop.best()):
            status, message = STATUS_CALLBACK, STOP_MESSAGE
            break
    xbest, fbest = pop.best()
    if not math.isfinite(fbest):
        status, message = STATUS_NONFINITE, "no individual has a finite value of f"
    return OptimizeResult(x=xbest.copy(), fun=fbest, jac=None, nit=pop.g, nfev=obj.nfev, njev=0,
                          status=status, success=status == STATUS_SUCCESS, message=message,
                          population=pop.X)


class GeneticAlgorithm(VectorOptimizer):
    r"""The genetic algorithm as a torch.optim-style optimizer: ``step(closure)`` runs one
    generation (the closure returns the loss; no ``backward()`` needed); the first step also
    builds the initial population around the current parameters. The parameters are left at the
    best individual, whose loss the step returns. Defaults as :func:`genetic_algorithm`."""

    _vstate_keys = ("X", "fvals", "g")

    def __init__(self, params, popsize=50, sigma0=1.0, elitism=2, tournament=3, crossover=0.9,
                 alpha=0.5, mutation_rate=None, mutation_scale=0.1, mutation_decay=0.98, seed=0,
                 nonfinite=None):
        super().__init__(params, dict(popsize=popsize, sigma0=sigma0, elitism=elitism,
                                      tournament=tournament, crossover=crossover, alpha=alpha,
                                      mutation_rate=mutation_rate, mutation_scale=mutation_scale,
                                      mutation_decay=mutation_decay), seed=seed,
                         nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["popsize"] = V.integer(n, "popsize", group["popsize"], lo=2)
        group["elitism"] = V.integer(n, "elitism", group["elitism"], lo=0,
                                     hi=group["popsize"] - 1)
        group["tournament"] = V.integer(n, "tournament", group["tournament"], lo=1)
        group["crossover"] = V.real(n, "crossover", group["crossover"], lo=0.0, hi=1.0)
        group["alpha"] = V.real(n, "alpha", group["alpha"], lo=0.0)
        if group["mutation_rate"] is not None:
            group["mutation_rate"] = V.real(n, "mutation_rate", group["mutation_rate"], lo=0.0,
                                            hi=1.0)
        group["mutation_scale"] = V.real(n, "mutation_scale", group["mutation_scale"], lo=0.0)
        group["mutation_decay"] = V.real(n, "mutation_decay", group["mutation_decay"], lo=0.0,
                                         hi=1.0)
        group["sigma0"] = V.real(n, "sigma0", group["sigma0"], lo=0.0)

    def _shape_ok(self, key, shape, n):
        P = self.param_groups[0]["popsize"]
        return shape == ((P, n) if key == "X" else (P,))

    def _step(self, obj):
        g = self.param_groups[0]
        kw = dict(elitism=g["elitism"], tournament=g["tournament"], crossover=g["crossover"],
                  alpha=g["alpha"], mutation_rate=g["mutation_rate"],
                  mutation_scale=g["mutation_scale"], mutation_decay=g["mutation_decay"])
        if "X" not in self.vstate:
            pop = Population.start(obj.f, obj.get(), g["popsize"], g["sigma0"], self.rng, **kw)
        else:
            fvals = [float(v) for v in B.to_numpy(self.vstate["fvals"])]
            pop = Population(self.vstate["X"], fvals, g=int(self.vstate["g"]), **kw)
        pop.generation(obj.f, self.rng)
        self.vstate["X"], self.vstate["g"] = pop.X, pop.g
        self.vstate["fvals"] = B.asarray(pop.fvals, dtype=float, backend=B.backend_name_of(pop.X))
        xbest, fbest = pop.best()
        obj.put(xbest)
        self._finish(obj)
        return fbest
