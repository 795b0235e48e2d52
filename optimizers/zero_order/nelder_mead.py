r"""The Nelder–Mead simplex method (L1, "Метод Нелдера - Мида"; docs/lectures.md section 7).

The version of Lagarias, Reeds, Wright & Wright (1998), "Convergence properties of the
Nelder–Mead simplex method in low dimensions" (SIAM J. Optim. 9), which SciPy and MATLAB's
``fminsearch`` implement. A simplex of :math:`n + 1` vertices, ordered
:math:`f(x_1) \le \dots \le f(x_{n+1})`, with centroid of the best :math:`n`,
:math:`\bar x = \frac1n\sum_{i \le n} x_i`; one iteration:

.. math::
    &\text{reflect:}\quad x_r = \bar x + \rho(\bar x - x_{n+1});
        \quad \textbf{if } f_1 \le f_r < f_n: \text{ accept } x_r \\
    &\text{expand:}\quad \textbf{if } f_r < f_1:\ x_e = \bar x + \chi(x_r - \bar x);\
        \text{accept } x_e \text{ if } f_e < f_r \text{, else } x_r \\
    &\text{contract outside:}\quad \textbf{if } f_n \le f_r < f_{n+1}:\
        x_c = \bar x + \gamma(x_r - \bar x);\ \text{accept if } f_c \le f_r \text{, else shrink} \\
    &\text{contract inside:}\quad \textbf{if } f_r \ge f_{n+1}:\
        x_{cc} = \bar x - \gamma(\bar x - x_{n+1});\ \text{accept if } f_{cc} < f_{n+1}
        \text{, else shrink} \\
    &\text{shrink:}\quad x_i \leftarrow x_1 + \sigma(x_i - x_1),\ i = 2, \dots, n + 1

Coefficients: the standard :math:`(\rho, \chi, \gamma, \sigma) = (1, 2, \frac12, \frac12)`, or with
``adaptive=True`` those of Gao & Han (2012), "Implementing the Nelder–Mead simplex algorithm with
adaptive parameters" (Comput. Optim. Appl. 51), for higher dimensions:
:math:`\rho = 1,\ \chi = 1 + \frac2n,\ \gamma = \frac34 - \frac1{2n},\ \sigma = 1 - \frac1n`.

Initial simplex: :math:`x_0` and :math:`x_0 + h_i e_i` with :math:`h_i = 0.05\,x_{0,i}`
(:math:`0.00025` when :math:`x_{0,i} = 0`): L. Pfeffer's rule, used by ``fminsearch`` and SciPy.
Ties are broken as Lagarias et al. ask: a new vertex goes after the old ones of equal value (a
stable sort). Stopping (SciPy's test): :math:`\max_i\|x_i - x_1\|_\infty \le` ``xatol`` and
:math:`\max_i |f_i - f_1| \le` ``fatol`` (both :math:`10^{-4}` by default), or ``maxiter`` /
``maxfev`` (both :math:`200n` by default, as SciPy). One iteration uses 1 or 2 evaluations, or
:math:`n + 2` with a shrink; ``nfev`` never exceeds ``maxfev`` (as in SciPy, an iteration the
budget cannot finish is left undone, except that a cut shrink keeps the vertices it already moved
and evaluated: a shrink moves each vertex together with its value).
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

__all__ = ["nelder_mead", "NelderMead", "NelderMeadSimplex", "coefficients", "initial_simplex"]


def coefficients(n: int, adaptive: bool = False) -> tuple[float, float, float, float]:
    r""":math:`(\rho, \chi, \gamma, \sigma)`: standard, or Gao & Han's for dimension ``n``."""
    if adaptive:
        return 1.0, 1.0 + 2.0 / n, 0.75 - 1.0 / (2.0 * n), 1.0 - 1.0 / n
    return 1.0, 2.0, 0.5, 0.5


def initial_simplex(x0, nonzdelt: float = 0.05, zdelt: float = 0.00025):
    r"""Pfeffer's simplex: rows :math:`x_0` and :math:`x_0 + h_i e_i` (module docstring)."""
    xp = B.get_array_module(x0)
    n = x0.size
    sim = xp.empty((n + 1, n), dtype=x0.dtype)
    sim[0] = x0
    for i in range(n):
        y = x0.copy()
        y[i] = (1.0 + nonzdelt) * y[i] if float(y[i]) != 0.0 else zdelt
        sim[i + 1] = y
    return sim


class NelderMeadSimplex:
    r"""The simplex and its values; :meth:`iterate` performs one Nelder–Mead iteration."""

    def __init__(self, sim, fsim, adaptive: bool = False):
        self.sim = sim                      # vertices, rows sorted by value
        self.fsim = list(fsim)              # f at the vertices (Python floats)
        self.adaptive = adaptive
        self.rho, self.chi, self.gamma, self.sigma = coefficients(sim.shape[1], adaptive)
        self._sort()

    @classmethod
    def start(cls, f, x0, adaptive=False, simplex=None):
        sim = initial_simplex(x0) if simplex is None else simplex
        return cls(sim, [f(v) for v in sim], adaptive)

    def _sort(self):
        order = sorted(range(len(self.fsim)), key=lambda i: _key(self.fsim[i]))  # stable
        if order != list(range(len(order))):
            xp = B.get_array_module(self.sim)
            self.sim = self.sim[xp.asarray(order)]
            self.fsim = [self.fsim[i] for i in order]

    def _replace_worst(self, x, fx):
        self.sim[-1] = x
        self.fsim[-1] = fx

    def iterate(self, f) -> str:
        """One iteration; returns what it did ("reflect", "expand", "contract outside",
        "contract inside", "shrink")."""
        rho, chi, gamma = self.rho, self.chi, self.gamma
        sim, fs = self.sim, self.fsim
        xbar = sim[:-1].mean(axis=0)                     # x_bar = (1/n) sum_{i<=n} x_i
        worst = sim[-1]
        xr = xbar + rho * (xbar - worst)                 # x_r = x_bar + rho (x_bar - x_{n+1})
        fr = f(xr)
        if _lt(fr, fs[0]):                               # f_r < f_1: expand
            xe = xbar + chi * (xr - xbar)                # x_e = x_bar + chi (x_r - x_bar)
            fe = f(xe)
            if _lt(fe, fr):
                self._replace_worst(xe, fe)
                what = "expand"
            else:
                self._replace_worst(xr, fr)
                what = "reflect"
        elif _lt(fr, fs[-2]):                            # f_1 <= f_r < f_n: accept x_r
            self._replace_worst(xr, fr)
            what = "reflect"
        elif _lt(fr, fs[-1]):                            # f_n <= f_r < f_{n+1}: outside
            xc = xbar + gamma * (xr - xbar)              # x_c = x_bar + gamma (x_r - x_bar)
            fc = f(xc)
            if _le(fc, fr):
                self._replace_worst(xc, fc)
                what = "contract outside"
            else:
                what = self._shrink(f)
        else:                                            # f_r >= f_{n+1}: inside
            xcc = xbar - gamma * (xbar - worst)          # x_cc = x_bar - gamma (x_bar - x_{n+1})
            fcc = f(xcc)
            if _lt(fcc, fs[-1]):
                self._replace_worst(xcc, fcc)
                what = "contract inside"
            else:
                what = self._shrink(f)
        self._sort()
        return what

    def _shrink(self, f) -> str:
        x1 = self.sim[0]
        for i in range(1, self.sim.shape[0]):
            x_i = x1 + self.sigma * (self.sim[i] - x1)  # x_i <- x_1 + sigma (x_i - x_1)
            self.fsim[i] = f(x_i)   # evaluated first: a vertex never moves without its value
            self.sim[i] = x_i
        return "shrink"

    def converged(self, xatol: float, fatol: float) -> bool:
        """SciPy's test: max_i ||x_i - x_1||_inf <= xatol and max_i |f_i - f_1| <= fatol."""
        xp = B.get_array_module(self.sim)
        dx = float(xp.abs(self.sim[1:] - self.sim[0]).max())
        df = max(abs(v - self.fsim[0]) for v in self.fsim[1:])
        return dx <= xatol and df <= fatol


def _key(v: float) -> float:
    """Sort key: a NaN value sorts last (it is never better than anything)."""
    return math.inf if math.isnan(v) else v


def _lt(a: float, b: float) -> bool:
    return _key(a) < _key(b)


def _le(a: float, b: float) -> bool:
    return _key(a) <= _key(b)


class _BudgetSpent(Exception):
    """Raised by ``nelder_mead``'s evaluations once ``maxfev`` of them were made."""


def nelder_mead(fun, x0, args=(), xatol=1e-4, fatol=1e-4, maxiter=None, maxfev=None,
                adaptive=False, initial_simplex=None, callback=None) -> OptimizeResult:
    r"""Minimise ``fun`` by Nelder–Mead (module docstring) from ``x0``.

    ``adaptive=True`` uses Gao & Han's coefficients; ``initial_simplex`` (an ``(n+1, n)`` array)
    replaces Pfeffer's. ``nit`` counts the completed iterations, ``nfev`` all evaluations
    including the :math:`n + 1` of the initial simplex; ``nfev`` never exceeds ``maxfev`` (as in
    SciPy, an iteration that would need one more evaluation is left unfinished and not counted,
    a cut shrink keeping the vertices it moved; ``maxfev`` below :math:`n + 1`, the initial
    simplex, is refused, where SciPy would stop inside the initial simplex). The result's ``final_simplex`` is
    ``(vertices, values)``.
    """
    x = as_vector(x0, "nelder_mead")
    n = x.size
    xatol = V.real("nelder_mead", "xatol", xatol, lo=0.0)
    fatol = V.real("nelder_mead", "fatol", fatol, lo=0.0)
    maxiter = 200 * n if maxiter is None else V.integer("nelder_mead", "maxiter", maxiter, lo=0)
    maxfev = 200 * n if maxfev is None else V.integer("nelder_mead", "maxfev", maxfev)
    if maxfev < n + 1:
        raise ValueError(f"nelder_mead: maxfev must be at least n + 1 = {n + 1} (the initial "
                         f"simplex); got {maxfev}")
    adaptive = V.flag("nelder_mead", "adaptive", adaptive)
    obj = Objective(fun, x, args=args, name="nelder_mead", values_only=True)
    notify = as_iteration_callback(callback)
    sim0 = None
    if initial_simplex is not None:
        xp = B.get_array_module(x)
        sim0 = xp.array(B.asarray(initial_simplex, backend=B.backend_name_of(x)), dtype=x.dtype)
        if sim0.shape != (n + 1, n):
            raise ValueError(f"nelder_mead: initial_simplex must have shape {(n + 1, n)}; got "
                             f"{tuple(sim0.shape)}")
    def f(v):  # the budget: an evaluation past maxfev is never made
        if obj.nfev >= maxfev:
            raise _BudgetSpent
        return obj.f(v)

    state = NelderMeadSimplex.start(obj.f, x, adaptive, sim0)
    k = 0
    while True:
        if not math.isfinite(state.fsim[0]):
            status, message = STATUS_NONFINITE, "no vertex has a finite value of f"
            break
        if state.converged(xatol, fatol):
            status, message = STATUS_SUCCESS, "the simplex is smaller than xatol and fatol"
            break
        if k >= maxiter or obj.nfev >= maxfev:
            status = STATUS_MAXITER
            message = "maxiter iterations were reached" if k >= maxiter else \
                "maxfev evaluations were reached"
            break
        try:
            state.iterate(f)
        except _BudgetSpent:  # the iteration is left unfinished (a cut shrink keeps the vertices
            state._sort()  # it moved and evaluated, so the best may have changed: sort)
            status, message = STATUS_MAXITER, "maxfev evaluations were reached"
            break
        k += 1
        if notify is not None and notify(state.sim[0], state.fsim[0]):
            status, message = STATUS_CALLBACK, STOP_MESSAGE
            break
    return OptimizeResult(x=state.sim[0].copy(), fun=state.fsim[0], jac=None, nit=k,
                          nfev=obj.nfev, njev=0, status=status, success=status == STATUS_SUCCESS,
                          message=message, final_simplex=(state.sim, list(state.fsim)))


class NelderMead(VectorOptimizer):
    r"""Nelder–Mead as a torch.optim-style optimizer: ``step(closure)``, the closure returns the
    loss (no ``backward()`` needed). The first step builds Pfeffer's simplex around the current
    parameters (:math:`n + 1` evaluations); each step then performs one iteration; the parameters
    are left at the best vertex and the step returns its loss. ``adaptive`` selects Gao & Han's
    coefficients."""

    _vstate_keys = ("sim", "fsim")

    def __init__(self, params, adaptive=False, nonfinite=None):
        super().__init__(params, dict(adaptive=adaptive), nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        group["adaptive"] = V.flag(self.name, "adaptive", group["adaptive"])

    def _shape_ok(self, key, shape, n):
        return shape == ((n + 1, n) if key == "sim" else (n + 1,))

    def _step(self, obj):
        adaptive = self.param_groups[0]["adaptive"]
        if "sim" not in self.vstate:
            state = NelderMeadSimplex.start(obj.f, obj.get(), adaptive)
        else:
            fsim = [float(v) for v in B.to_numpy(self.vstate["fsim"])]
            state = NelderMeadSimplex(self.vstate["sim"], fsim, adaptive)
        state.iterate(obj.f)
        self.vstate["sim"] = state.sim
        self.vstate["fsim"] = B.asarray(state.fsim, dtype=float,
                                        backend=B.backend_name_of(state.sim))
        obj.put(state.sim[0])
        self._finish(obj)
        return state.fsim[0]
