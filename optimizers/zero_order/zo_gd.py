r"""Zero-order gradient descent (docs/lectures.md section 7, L1).

L1: :math:`x_{k+1} = x_k - \alpha_k G`, where :math:`G` is a two-point or multi-point estimate of
:math:`\nabla f(x_k)` from function values only (:mod:`optimizers.zero_order.estimators`).

Why the rate carries a factor :math:`n` (L1's table: :math:`O(n/k)` and
:math:`O((1 - \frac{\mu}{nL})^k)` where GD has :math:`O(1/k)` and :math:`O((1 - \frac{\mu}{L})^k)`):
the estimates are unbiased (for a quadratic) but their second moment is about :math:`n` times
:math:`\|\nabla f\|^2` (:math:`\mathbb{E}\|G\|^2 = n\|\nabla f\|^2` for the two-point estimate
along a unit direction with the factor :math:`n`). The descent lemma then gives

.. math::
    \mathbb{E} f(x_{k+1}) \le f(x_k) - \alpha\|\nabla f(x_k)\|^2 + \frac{L\alpha^2}{2} n
        \|\nabla f(x_k)\|^2 ,

so the best step is :math:`\alpha = 1/(nL)`, :math:`n` times smaller than GD's, and each step
makes :math:`1/n` of GD's progress. On :math:`f = \frac{L}{2}\|x\|^2` with the two-point
estimate and :math:`\alpha = \frac{1}{nL}` this is exact:
:math:`\mathbb{E}\|x_{k+1}\|^2 = (1 - \frac1n)\|x_k\|^2` (a test checks it).
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
from optimizers.zero_order.estimators import ESTIMATORS

__all__ = ["zo_gd", "ZeroOrderGD"]


def _estimator(name, owner):
    if callable(name):
        return name
    if name not in ESTIMATORS:
        raise ValueError(f"{owner}: unknown estimator {name!r}; choose one of "
                         f"{sorted(ESTIMATORS)} or pass a callable est(f, x, tau, rng, fx)")
    return ESTIMATORS[name]


def zo_gd(fun, x0, args=(), lr=1e-3, tau=1e-4, estimator="two-point", maxiter=1000, seed=0,
          ftarget=None, callback=None) -> OptimizeResult:
    r"""Zero-order GD, :math:`x_{k+1} = x_k - \alpha_k G` (module docstring), from ``x0``.

    ``lr``: :math:`\alpha_k`, a number or a schedule (a callable of :math:`k`); ``tau``: the
    difference step; ``estimator``: ``"two-point"`` (default, L1's example), ``"gaussian-forward"``,
    ``"gaussian-symmetric"``, ``"coordinate"`` or a callable ``est(f, x, tau, rng, fx)``; ``seed``
    seeds the host generator of the random directions.

    Stops after ``maxiter`` steps (status 1: there is no stopping test that a zero-order method
    can check reliably), when ``f <= ftarget`` (status 0, success) or at a non-finite value
    (status 3). f is evaluated at the iterates only when the estimator needs it
    (``gaussian-forward``) or ``ftarget`` is set, and once at the end for ``fun``; ``nfev`` counts
    every evaluation, ``njev`` is 0.
    """
    est = _estimator(estimator, "zo_gd")
    lr = V.learning_rate("zo_gd", lr)
    tau = V.real("zo_gd", "tau", tau, lo=0.0, lo_open=True)
    maxiter = V.integer("zo_gd", "maxiter", maxiter, lo=0)
    x = as_vector(x0, "zo_gd")
    obj = Objective(fun, x, args=args, name="zo_gd", values_only=True)
    notify = as_iteration_callback(callback)
    rng = B.host_rng(seed)
    needs_fx = estimator == "gaussian-forward" or ftarget is not None
    fx = obj.f(x) if needs_fx else None
    status, message = STATUS_MAXITER, "maxiter iterations done (no stopping test was met)"
    k = 0
    while k < maxiter:
        if fx is not None and not math.isfinite(fx):
            status, message = STATUS_NONFINITE, "a non-finite value of f was met"
            break
        if ftarget is not None and fx <= ftarget:
            status, message = STATUS_SUCCESS, "f reached ftarget"
            break
        alpha = V.scheduled("zo_gd", "lr", lr, k) if callable(lr) else lr
        G = est(obj.f, x, tau, rng, fx)                  # G: estimate of grad f(x_k)
        x = x - alpha * G                                # x_{k+1} = x_k - alpha_k G
        k += 1
        fx = obj.f(x) if needs_fx else None
        if notify is not None and notify(x, fx):
            status, message = STATUS_CALLBACK, STOP_MESSAGE
            break
    if fx is None:
        fx = obj.f(x)
        if not math.isfinite(fx):
            status, message = STATUS_NONFINITE, "a non-finite value of f was met"
        elif ftarget is not None and fx <= ftarget:
            status, message = STATUS_SUCCESS, "f reached ftarget"
    elif status == STATUS_MAXITER and not math.isfinite(fx):
        status, message = STATUS_NONFINITE, "a non-finite value of f was met"
    elif status == STATUS_MAXITER and ftarget is not None and fx <= ftarget:
        status, message = STATUS_SUCCESS, "f reached ftarget"
    return OptimizeResult(x=x, fun=fx, jac=None, nit=k, nfev=obj.nfev, njev=0, status=status,
                          success=status == STATUS_SUCCESS, message=message)


class ZeroOrderGD(VectorOptimizer):
    r"""Zero-order GD as a torch.optim-style optimizer: ``step(closure)`` with a closure that
    returns the loss (it need not call ``backward()``; gradients are never read).

    One step: :math:`G` from the estimator (its evaluations of the closure at perturbed
    parameters), then :math:`x_{k+1} = x_k - \alpha_k G` on all parameters together (flattened).
    The closure is also called once at :math:`x_k`, whose loss the step returns (the forward
    Gaussian estimator reuses it). ``lr`` may be a schedule. Defaults: ``lr=1e-3``, ``tau=1e-4``,
    ``estimator="two-point"``, ``seed=0``.
    """

    def __init__(self, params, lr=1e-3, tau=1e-4, estimator="two-point", seed=0, nonfinite=None):
        super().__init__(params, dict(lr=lr, tau=tau, estimator=estimator), seed=seed,
                         nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        group["tau"] = V.real(self.name, "tau", group["tau"], lo=0.0, lo_open=True)
        group["estimator"] = V.choice(self.name, "estimator", group["estimator"],
                                      tuple(ESTIMATORS))

    def _step(self, obj):
        hp = self._hyperparameters(self.param_groups[0], self.step_count)
        x = obj.get()
        fx = obj.f(x)                                    # f(x_k) (the loss returned)
        G = ESTIMATORS[hp["estimator"]](obj.f, x, hp["tau"], self.rng, fx)
        x -= hp["lr"] * G                                # x_{k+1} = x_k - alpha_k G
        obj.put(x)
        self._finish(obj)
        return fx
