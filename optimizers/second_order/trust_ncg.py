r"""Trust-region Newton-CG, as SciPy's ``method="trust-ncg"`` runs it:
``minimize(f, x0, method="trust-ncg")``.

Nocedal & Wright (*Numerical Optimization*, 2nd ed., 2006): the trust-region framework of their
Algorithm 4.1 around the quadratic model of f at :math:`x_k`,

.. math::
    m_k(p) = f_k + \nabla f_k^\top p + \tfrac12 p^\top B_k p, \qquad B_k = \nabla^2 f(x_k),

minimised inside the trust region :math:`\|p\|_2 \le \Delta_k` by Steihaug's conjugate
gradients (their Algorithm 7.2), which need Hessian-vector products only.

Algorithm 4.1 (given :math:`\hat\Delta > 0`, :math:`\Delta_0 \in (0, \hat\Delta]`: SciPy refuses
:math:`\Delta_0 = \hat\Delta`, here it is allowed;
:math:`\eta \in [0, \frac14)`):

.. math::
    &p_k \approx \arg\min_{\|p\|_2 \le \Delta_k} m_k(p) \quad \text{(Steihaug's CG, below)} \\
    &\rho_k = \frac{f(x_k) - f(x_k + p_k)}{m_k(0) - m_k(p_k)} \\
    &\Delta_{k+1} = \tfrac14\Delta_k \text{ if } \rho_k < \tfrac14; \quad
        \min(2\Delta_k, \hat\Delta) \text{ if } \rho_k > \tfrac34 \text{ and }
        \|p_k\|_2 = \Delta_k; \quad \Delta_k \text{ otherwise} \\
    &x_{k+1} = x_k + p_k \text{ if } \rho_k > \eta, \text{ else } x_{k+1} = x_k

Algorithm 7.2 (CG-Steihaug), with the forcing tolerance of Algorithm 7.1,
:math:`\varepsilon_k = \min(0.5, \sqrt{\|\nabla f_k\|_2})\,\|\nabla f_k\|_2`:

.. math::
    &z_0 = 0,\quad r_0 = \nabla f_k,\quad d_0 = -r_0 \\
    &\textbf{for } j = 0, 1, \dots: \\
    &\quad \textbf{if } d_j^\top B_k d_j \le 0: \textbf{ return } p_k = z_j + \tau d_j,
        \ \tau \text{ the root of } \|z_j + \tau d_j\|_2 = \Delta_k \text{ that minimises } m_k \\
    &\quad \alpha_j = r_j^\top r_j / d_j^\top B_k d_j,\quad z_{j+1} = z_j + \alpha_j d_j \\
    &\quad \textbf{if } \|z_{j+1}\|_2 \ge \Delta_k: \textbf{ return } p_k = z_j + \tau d_j,
        \ \tau \ge 0 \text{ with } \|p_k\|_2 = \Delta_k \\
    &\quad r_{j+1} = r_j + \alpha_j B_k d_j;\quad
        \textbf{if } \|r_{j+1}\|_2 < \varepsilon_k: \textbf{ return } p_k = z_{j+1} \\
    &\quad \beta_{j+1} = r_{j+1}^\top r_{j+1} / r_j^\top r_j,\quad
        d_{j+1} = -r_{j+1} + \beta_{j+1} d_j

Negative curvature is no failure here: the step goes to the boundary along it. The defaults are
SciPy's (:math:`\Delta_0 = 1`, :math:`\hat\Delta = 1000`, :math:`\eta = 0.15`, ``maxiter`` =
:math:`200n`); the stopping tests are those of Newton's method
(:mod:`optimizers.second_order.termination`: the absolute and relative gradient, and after an
accepted step inside the region a step below ``xtol`` or a relative decrease below ``ftol``),
plus two of the trust region: a radius below ``xtol`` :math:`(\texttt{xtol} + \|x_k\|_2)` (no
step the model trusts decreases f any more: rounding at the solution, or wrong derivatives) and
a model that predicts no decrease; both end with status 2. A trial point where f is not finite
is a rejected step (the region shrinks); a non-finite gradient at an accepted point or a
non-finite Hessian-vector product ends the run with status 3.
"""
from __future__ import annotations

import math

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.callbacks import STATUS_CALLBACK, STOP_MESSAGE, as_iteration_callback
from optimizers.minimize import (STATUS_LINESEARCH, STATUS_MAXITER, STATUS_NONFINITE,
                                 OptimizeResult, as_vector)
from optimizers.results import Status
from optimizers.second_order import termination as T
from optimizers.second_order.newton import _FunctionOracle
from optimizers.second_order.newton_directions import forcing_tolerance

__all__ = ["minimize_trust_ncg", "steihaug_cg"]

_NAME = "minimize(method='trust-ncg')"


def _boundary_taus(z, d, Delta: float, xp):
    r"""The two roots :math:`\tau_- \le \tau_+` of :math:`\|z + \tau d\|_2 = \Delta`."""
    a = float(xp.vdot(d, d))
    if a == 0.0:                                          # d underflowed: no step along it
        return 0.0, 0.0
    b = 2.0 * float(xp.vdot(z, d))
    c = float(xp.vdot(z, z)) - Delta * Delta
    root = math.sqrt(max(b * b - 4.0 * a * c, 0.0))
    q = -0.5 * (b + math.copysign(root, b))               # the stable form of the roots
    t1, t2 = (q / a, c / q) if q != 0.0 else (0.0, 0.0)
    return min(t1, t2), max(t1, t2)


def _lower_boundary_point(g, z, Bz, d, Bd, Delta: float, xp):
    r"""Of the two points :math:`z + \tau d` with :math:`\|z + \tau d\|_2 = \Delta`, the one with
    the lower model value :math:`m(p) = g^\top p + \frac12 p^\top Bp` (the one with the larger
    :math:`\tau` on a tie, as SciPy), and its :math:`Bp` (from :math:`Bz`, :math:`Bd`)."""
    best = None
    for tau in reversed(_boundary_taus(z, d, Delta, xp)):  # tau_+ first: it wins a tie
        p, Bp = z + tau * d, Bz + tau * Bd
        m = float(xp.vdot(g, p)) + 0.5 * float(xp.vdot(p, Bp))
        if best is None or m < best[0]:
            best = (m, p, Bp)
    return best[1], best[2]


def steihaug_cg(hessp, g, Delta: float, eps: float, max_iter: int):
    r"""CG-Steihaug (N&W Algorithm 7.2, module docstring): an approximate minimiser of
    :math:`m(p) = g^\top p + \frac12 p^\top B p` over :math:`\|p\|_2 \le \Delta`, ``hessp(v)`` =
    :math:`Bv`, residual tolerance ``eps``, at most ``max_iter`` products.

    Returns ``(p, Bp, how, n_products)``: ``Bp`` = :math:`Bp` (accumulated, no extra product),
    ``how`` one of ``"interior"`` (the residual test), ``"boundary"`` (the step left the region),
    ``"negative curvature"`` (to the boundary along :math:`d_j`), ``"max_iter"`` and
    ``"non-finite"`` (a product that is not finite; ``p`` is then :math:`z_j`)."""
    xp = B.get_array_module(g)
    z = xp.zeros_like(g)                                  # z_0 = 0
    Bz = xp.zeros_like(g)                                 # B z_j, kept along
    r = g.copy()                                          # r_0 = grad f_k
    d = -r                                                # d_0 = -r_0
    rr = float(xp.vdot(r, r))
    if math.sqrt(rr) < eps:
        return z, Bz, "interior", 0
    for j in range(max_iter):
        Bd = hessp(d)
        dBd = float(xp.vdot(d, Bd))                       # d_j^T B_k d_j
        if not math.isfinite(dBd):
            return z, Bz, "non-finite", j + 1
        if dBd <= 0.0:                                    # negative curvature: to the boundary
            p, Bp = _lower_boundary_point(g, z, Bz, d, Bd, Delta, xp)
            return p, Bp, "negative curvature", j + 1
        alpha = rr / dBd                                  # alpha_j = r_j^T r_j / d_j^T B d_j
        z_next = z + alpha * d                            # z_{j+1} = z_j + alpha_j d_j
        if float(xp.linalg.norm(z_next)) >= Delta:        # left the region: stop on its boundary
            tau = _boundary_taus(z, d, Delta, xp)[1]      # tau >= 0
            return z + tau * d, Bz + tau * Bd, "boundary", j + 1
        z, Bz = z_next, Bz + alpha * Bd
        r = r + alpha * Bd                                # r_{j+1} = r_j + alpha_j B d_j
        rr_next = float(xp.vdot(r, r))
        if math.sqrt(rr_next) < eps:                      # ||r_{j+1}|| < eps_k
            return z, Bz, "interior", j + 1
        beta = rr_next / rr                               # beta_{j+1}
        d = -r + beta * d                                 # d_{j+1} = -r_{j+1} + beta d_j
        rr = rr_next
    return z, Bz, "max_iter", max_iter


def _check(initial_trust_radius, max_trust_radius, eta, maxiter, cg_max_iter, n):
    Delta0 = V.real(_NAME, "initial_trust_radius", initial_trust_radius, lo=0.0, lo_open=True)
    Delta_hat = V.real(_NAME, "max_trust_radius", max_trust_radius, lo=0.0, lo_open=True)
    if Delta0 > Delta_hat:
        raise ValueError(f"{_NAME}: initial_trust_radius ({Delta0}) must not exceed "
                         f"max_trust_radius ({Delta_hat})")
    eta = V.real(_NAME, "eta", eta, lo=0.0, hi=0.25, hi_open=True)
    maxiter = 200 * n if maxiter is None else V.integer(_NAME, "maxiter", maxiter, lo=0)
    cg_max_iter = 2 * n if cg_max_iter is None else V.integer(_NAME, "cg_max_iter",
                                                              cg_max_iter, lo=1)
    return Delta0, Delta_hat, eta, maxiter, cg_max_iter


def minimize_trust_ncg(f, x0, jac=None, hess=None, hessp=None, args=(), callback=None,
                       initial_trust_radius=1.0, max_trust_radius=1000.0, eta=0.15, gtol=1e-8,
                       gtol_rel=1e-10, xtol=1e-8, ftol=2.220446049250313e-9, maxiter=None,
                       cg_max_iter=None) -> OptimizeResult:
    r"""Trust-region Newton-CG (module docstring) on ``f(x, *args)`` from ``x0``.

    Derivatives as for Newton's method: minigrad with ``jac=None``; with ``jac`` (``True`` or a
    callable) give ``hessp(x, v)`` or ``hess(x)``. ``initial_trust_radius`` :math:`\Delta_0`,
    ``max_trust_radius`` :math:`\hat\Delta`, ``eta`` :math:`\eta \in [0, \frac14)`;
    ``cg_max_iter`` caps the products per iteration (:math:`2n` by default). ``nit`` counts
    iterations, rejected steps included (as SciPy), and ``callback`` is called after each.
    Result extras: ``trust_radii`` (:math:`\Delta_k` of each iteration), ``accepted`` (whether
    each iteration's step was taken), ``negative_curvature`` (the iterations where CG met it).
    """
    x = as_vector(x0, _NAME)   # one-dimensional, as SciPy's x0
    n = x.size
    Delta, Delta_hat, eta, maxiter, cg_max_iter = _check(
        initial_trust_radius, max_trust_radius, eta, maxiter, cg_max_iter, n)
    tol = T.check_tolerances(_NAME, gtol, gtol_rel, xtol, ftol)
    if jac is not None and hess is None and hessp is None:
        raise ValueError(f"{_NAME}: with jac given, pass hessp= or hess=; with jac=None minigrad "
                         f"gives all derivatives")
    notify = as_iteration_callback(callback)
    oracle = _FunctionOracle(f, x.shape, jac, hess, hessp, args, _NAME)
    xp = B.get_array_module(x)
    fx, g = oracle.fg(x)                                  # f(x_0), grad f(x_0)
    radii, accepted, negative = [], [], []
    k = 0
    # at x_0 the relative gradient test is 1e-3 times tighter, as Newton's (Dennis & Schnabel's
    # start test: a large |f| alone must not end the run before its first step)
    start = T.Tolerances(tol.gtol, 1e-3 * tol.gtol_rel, tol.xtol, tol.ftol)
    stop = T.at_iterate(x, fx, g, start)
    while stop is None:
        if k >= maxiter:
            stop = STATUS_MAXITER, "Maximum number of iterations has been exceeded."
            break
        if Delta < tol.xtol * (tol.xtol + float(xp.linalg.norm(x))):
            stop = STATUS_LINESEARCH, ("No further progress: the trust region shrank below "
                                       "xtol without a step that decreases f.")
            break
        gnorm = float(xp.linalg.norm(g))
        eps = forcing_tolerance(gnorm, "superlinear")     # eps_k (forcing, Algorithm 7.1)
        p, Bp, how, _ = steihaug_cg(lambda v: oracle.hvp(x, v), g, Delta, eps, cg_max_iter)
        if how == "non-finite":
            stop = STATUS_NONFINITE, "A non-finite Hessian-vector product was met."
            break
        if how == "negative curvature":
            negative.append(k)
        predicted = -(float(xp.vdot(g, p)) + 0.5 * float(xp.vdot(p, Bp)))  # m_k(0) - m_k(p_k)
        if not predicted > 0.0:
            stop = STATUS_LINESEARCH, ("No further progress: the model predicts no decrease "
                                       "(rounding at the solution, or a poor Hessian).")
            break
        x_trial = x + p
        if oracle.combined:
            f_trial, g_trial = oracle.fg(x_trial)
        else:
            f_trial, g_trial = oracle.f(x_trial), None
        rho = (fx - f_trial) / predicted                  # rho_k (NaN when f(x_k + p_k) is not)
        radii.append(Delta)
        on_boundary = how in ("boundary", "negative curvature")
        if not rho >= 0.25:                               # rho_k < 1/4 (or not finite)
            Delta = 0.25 * Delta
        elif rho > 0.75 and on_boundary:                  # rho_k > 3/4 and ||p_k|| = Delta_k
            Delta = min(2.0 * Delta, Delta_hat)
        take = rho > eta                                  # x_{k+1} = x_k + p_k if rho_k > eta
        accepted.append(bool(take))
        k += 1
        if take:
            f_old, x_old = fx, x
            x, fx = x_trial, f_trial
            g = g_trial if g_trial is not None else oracle.g(x)
            stop = T.at_iterate(x, fx, g, tol)
            if stop is not None and stop[0] == T.NONFINITE:
                break
        if notify is not None and notify(x, fx):
            stop = STATUS_CALLBACK, STOP_MESSAGE
            break
        if stop is None and take and how == "interior":   # a Newton-CG step inside the region
            stop = T.after_step(x, x - x_old, f_old, fx, True, tol)  # a full Newton-CG step
    status, message = stop
    return OptimizeResult(x=x, fun=fx, jac=g, nit=k,
                          nfev=oracle.nfev, njev=oracle.njev, nhev=oracle.nhev, status=status,
                          success=status == int(Status.SUCCESS), message=message,
                          trust_radius=Delta, trust_radii=radii, accepted=accepted,
                          negative_curvature=negative)

