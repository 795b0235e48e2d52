r"""The (1+1)-evolution strategy with the one-fifth success rule (L1, "Эволюционные методы").

One parent :math:`x`, one offspring per iteration, elitist selection, and Rechenberg's rule: the
step size grows after a success and shrinks after a failure so that about one trial in five
succeeds (the success rate that maximises progress on the sphere). In the form of Hansen, Arnold &
Auger, "Evolution Strategies" (Springer Handbook of Computational Intelligence, 2015),
Algorithm 3, with damping :math:`D = \sqrt{n + 1}`:

.. math::
    &y = x + \sigma\, z, \quad z \sim N(0, I) \\
    &\sigma \leftarrow \sigma\,\exp\Big(\frac1D\big(\mathbb{1}[f(y) \le f(x)] - \tfrac15\big)\Big) \\
    &\textbf{if } f(y) \le f(x):\ x \leftarrow y

At a success rate of exactly :math:`1/5` the expected change of :math:`\log\sigma` is 0;
``adapt=False`` keeps :math:`\sigma` constant (the ablation the tests use). One evaluation per
iteration.
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
from optimizers.zero_order.estimators import random_normal

__all__ = ["one_plus_one_es", "OnePlusOneES", "one_fifth_trial"]


def one_fifth_trial(f, x, fx: float, sigma: float, rng, damping: float, adapt: bool = True):
    r"""One iteration of the (1+1)-ES: returns ``(x, f(x), sigma, success)``."""
    y = x + sigma * random_normal(rng, x)                 # y = x + sigma z, z ~ N(0, I)
    fy = f(y)
    success = math.isfinite(fy) and (fy <= fx or not math.isfinite(fx))  # f(y) <= f(x)
    if adapt:
        sigma *= math.exp((float(success) - 0.2) / damping)  # sigma exp((1[succ] - 1/5) / D)
    if success:
        return y, fy, sigma, True                        # x <- y
    return x, fx, sigma, False


def one_plus_one_es(fun, x0, args=(), sigma0=0.5, maxfev=None, ftarget=None, tolx=1e-12,
                    damping=None, adapt=True, seed=0, callback=None) -> OptimizeResult:
    r"""Minimise ``fun`` by the (1+1)-ES with the 1/5 success rule (module docstring).

    ``damping`` :math:`D` defaults to :math:`\sqrt{n + 1}`; ``maxfev`` to :math:`1000 n`.
    Stops at ``ftarget`` or when :math:`\sigma <` ``tolx`` (status 0), at ``maxfev`` (status 1).
    ``nit`` counts trials (one evaluation each); the start point's evaluation counts too.
    """
    x = as_vector(x0, "one_plus_one_es")
    n = x.size
    sigma = V.real("one_plus_one_es", "sigma0", sigma0, lo=0.0, lo_open=True)
    damping = math.sqrt(n + 1.0) if damping is None else \
        V.real("one_plus_one_es", "damping", damping, lo=0.0, lo_open=True)
    maxfev = 1000 * n if maxfev is None else V.integer("one_plus_one_es", "maxfev", maxfev, lo=1)
    obj = Objective(fun, x, args=args, name="one_plus_one_es", values_only=True)
    notify = as_iteration_callback(callback)
    rng = B.host_rng(seed)
    fx = obj.f(x)
    k, successes = 0, 0
    status, message = STATUS_MAXITER, "maxfev evaluations were reached"
    while True:
        if ftarget is not None and fx <= ftarget:
            status, message = STATUS_SUCCESS, "f reached ftarget"
            break
        if sigma < tolx:
            status, message = STATUS_SUCCESS, "tolx: the step size collapsed"
            break
        if obj.nfev >= maxfev:
            break
        x, fx, sigma, ok = one_fifth_trial(obj.f, x, fx, sigma, rng, damping, adapt)
        k += 1
        successes += ok
        if notify is not None and notify(x, fx, sigma=sigma):
            status, message = STATUS_CALLBACK, STOP_MESSAGE
            break
    if not math.isfinite(fx):
        status, message = STATUS_NONFINITE, "no finite value of f was found"
    return OptimizeResult(x=x, fun=fx, jac=None, nit=k, nfev=obj.nfev, njev=0, status=status,
                          success=status == STATUS_SUCCESS, message=message, sigma=sigma,
                          success_rate=successes / k if k else 0.0)


class OnePlusOneES(VectorOptimizer):
    r"""The (1+1)-ES as a torch.optim-style optimizer: ``step(closure)`` makes one trial (one
    evaluation of the closure, which returns the loss; the first step also evaluates the start).
    The parameters hold the parent; the step returns its loss. Defaults: ``sigma0=0.5``,
    ``damping`` :math:`\sqrt{n + 1}`, ``seed=0``."""

    _vstate_keys = ("sigma", "fx")

    def __init__(self, params, sigma0=0.5, damping=None, seed=0, nonfinite=None):
        super().__init__(params, dict(sigma0=sigma0, damping=damping), seed=seed,
                         nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        group["sigma0"] = V.real(self.name, "sigma0", group["sigma0"], lo=0.0, lo_open=True)
        if group["damping"] is not None:
            group["damping"] = V.real(self.name, "damping", group["damping"], lo=0.0,
                                      lo_open=True)

    def _step(self, obj):
        group = self.param_groups[0]
        x = obj.get()
        damping = group["damping"] or math.sqrt(x.size + 1.0)
        if "fx" not in self.vstate:
            self.vstate["sigma"], self.vstate["fx"] = group["sigma0"], obj.f(x)
        x, fx, sigma, _ = one_fifth_trial(obj.f, x, float(self.vstate["fx"]),
                                          float(self.vstate["sigma"]), self.rng, damping)
        self.vstate["sigma"], self.vstate["fx"] = sigma, fx
        obj.put(x)
        self._finish(obj)
        return fx
