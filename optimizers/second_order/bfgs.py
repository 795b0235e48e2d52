r"""BFGS in the inverse-Hessian form, with the strong Wolfe line search (docs/lectures.md section
5, L0).

L0's slide "Алгоритм BFGS" (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Algorithm 6.1):

.. math::
    &\text{given } x_0,\ \varepsilon > 0,\ H_0;\ k \leftarrow 0 \\
    &\textbf{while } \|\nabla f_k\| > \varepsilon: \\
    &\quad p_k = -H_k \nabla f_k \\
    &\quad x_{k+1} = x_k + \alpha_k p_k, \quad \alpha_k \text{ from a (strong) Wolfe line search} \\
    &\quad s_k = x_{k+1} - x_k, \quad y_k = \nabla f_{k+1} - \nabla f_k, \quad
        \rho_k = \frac{1}{y_k^\top s_k} \\
    &\quad H_{k+1} = (I - \rho_k s_k y_k^\top) H_k (I - \rho_k y_k s_k^\top) + \rho_k s_k s_k^\top \\
    &\quad k \leftarrow k + 1

The update makes :math:`H_{k+1}` the symmetric matrix closest to :math:`H_k` (in a weighted norm)
that satisfies the secant equation :math:`H_{k+1} y_k = s_k`; the Wolfe conditions give
:math:`y_k^\top s_k > 0`, so :math:`H_{k+1}` stays positive definite.

Choices, documented and tested:

* ``H0="identity"`` (default, as SciPy's BFGS) or ``H0="scaled"``: N&W eq. 6.20, after the first
  step and before the first update, :math:`H_0 \leftarrow \frac{y_0^\top s_0}{y_0^\top y_0} I`.
* Skipping: the update is skipped when :math:`y_k^\top s_k \le \epsilon \|s_k\|\|y_k\|` (a
  relative threshold, ``skip_eps`` = :math:`10^{-8}` by default); skips are counted (``nskip``).
  With exact arithmetic and a Wolfe step this never happens; it guards against rounding.
* Initial trial step: on the first iteration :math:`H_0` knows nothing of the scale of f and the
  trial is :math:`\alpha = \min(1, 1/\|p_0\|_2)`, a first step of length at most 1 (as
  L-BFGS-B does). Then ``initial_step="interpolate"`` (BFGS's default, as SciPy):
  :math:`\alpha = \min(1, 1.01\cdot 2(f_k - f_{k-1})/\phi'(0))` (N&W eq. 3.60), which is 1
  once the steps are well scaled, so unit quasi-Newton steps are tried whenever the last decrease
  allows; ``"unit"`` (L-BFGS's default; N&W section 3.5 "quasi-Newton steps: always try 1 first"):
  :math:`\alpha = 1`.
* Stopping: :math:`\|\nabla f_k\|_\infty \le` ``gtol`` (:math:`10^{-5}`, SciPy's default and norm),
  ``maxiter`` iterations (default :math:`200 n`, SciPy's), a non-finite f or gradient (status 3,
  not a success), or a failed line search (status 2: one retry from :math:`H = I` first).

The update is written out as a rank-two correction,

.. math::
    H_{k+1} = H_k - \rho_k (H_k y_k s_k^\top + s_k y_k^\top H_k)
        + \rho_k (1 + \rho_k y_k^\top H_k y_k) s_k s_k^\top ,

which is the product form above multiplied out (:math:`O(n^2)` instead of :math:`O(n^3)`); its two
middle terms are transposes of each other, so :math:`H` stays exactly symmetric in floating point.
"""
from __future__ import annotations

import math

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.callbacks import STATUS_CALLBACK, STOP_MESSAGE, as_iteration_callback
from optimizers.objective import Objective, line_search_wolfe
from optimizers.vector_optimizer import VectorOptimizer
from optimizers.second_order.termination import decrease_below
from optimizers.wolfe import check_wolfe_constants
from optimizers.minimize import (STATUS_LINESEARCH, STATUS_MAXITER, STATUS_NONFINITE,
                                 STATUS_SUCCESS, OptimizeResult, _check_real, as_vector)

__all__ = ["bfgs", "bfgs_update", "InverseBFGS", "quasi_newton", "quasi_newton_iterations",
           "curvature_ok", "BFGS", "QuasiNewtonOptimizer"]

H0_CHOICES = ("identity", "scaled")


def curvature_ok(s, y, skip_eps: float) -> bool:
    r"""The curvature test of the update: :math:`y^\top s > \epsilon \|s\|_2 \|y\|_2`."""
    xp = B.get_array_module(s)
    ys = float(xp.vdot(y, s))
    return ys > skip_eps * float(xp.linalg.norm(s)) * float(xp.linalg.norm(y))


def bfgs_update(H, s, y):
    r"""The inverse BFGS update of ``H`` in place (N&W eq. 6.17):
    :math:`H \leftarrow (I - \rho s y^\top) H (I - \rho y s^\top) + \rho s s^\top`,
    :math:`\rho = 1/(y^\top s)`, computed as the rank-two correction of the module docstring."""
    xp = B.get_array_module(H)
    rho = 1.0 / float(xp.vdot(y, s))                     # rho_k = 1 / (y_k^T s_k)
    Hy = H @ y                                           # H_k y_k
    yHy = float(xp.vdot(y, Hy))                          # y_k^T H_k y_k
    H -= rho * (xp.outer(Hy, s) + xp.outer(s, Hy))       # - rho (H y s^T + s y^T H)
    H += (rho * (1.0 + rho * yHy)) * xp.outer(s, s)      # + rho (1 + rho y^T H y) s s^T
    return H


class InverseBFGS:
    r"""The dense inverse-Hessian approximation :math:`H_k` of BFGS: ``direction(g)`` gives
    :math:`p_k = -H_k g`, ``update(s, y)`` applies the BFGS update (or counts a skip)."""

    def __init__(self, n: int, like, H0: str = "identity", skip_eps: float = 1e-8):
        xp = B.get_array_module(like)
        self.H = xp.eye(n, dtype=like.dtype)             # H_0 = I
        self.H0, self.skip_eps = H0, skip_eps
        self.n_updates = 0
        self.nskip = 0

    def direction(self, g):
        return -(self.H @ g)                             # p_k = -H_k grad f_k

    def reset(self):
        """Forget the curvature information: :math:`H = I`."""
        xp = B.get_array_module(self.H)
        self.H = xp.eye(self.H.shape[0], dtype=self.H.dtype)
        self.n_updates = 0

    @property
    def is_identity(self) -> bool:
        return self.n_updates == 0

    def update(self, s, y) -> bool:
        if not curvature_ok(s, y, self.skip_eps):        # y^T s <= eps ||s|| ||y||: skip
            self.nskip += 1
            return False
        if self.n_updates == 0 and self.H0 == "scaled":  # N&W eq. 6.20
            xp = B.get_array_module(s)
            self.H *= float(xp.vdot(y, s)) / float(xp.vdot(y, y))  # H_0 = (y^T s / y^T y) I
        bfgs_update(self.H, s, y)                        # H_{k+1}
        self.n_updates += 1
        return True


INITIAL_STEPS = ("interpolate", "unit")


def _initial_step(k: int, p, rule="interpolate", f=None, f_prev=None, derphi0=None) -> float:
    r"""The first trial step of iteration ``k`` (module docstring).

    ``k = 0``: :math:`\min(1, 1/\|p_0\|_2)`. Then ``rule="unit"``: 1; ``rule="interpolate"``:
    N&W eq. 3.60, :math:`\alpha_0 = \min(1, 1.01 \cdot 2 (f_k - f_{k-1}) / \phi'(0))`, the
    minimiser of the quadratic through :math:`f_k, \phi'(0)` that predicts the last decrease again,
    capped at 1 so that unit quasi-Newton steps are tried whenever the prediction allows them."""
    if k == 0:
        norm = float(B.get_array_module(p).linalg.norm(p))
        return min(1.0, 1.0 / norm) if norm > 0.0 else 1.0
    if rule == "unit" or f_prev is None or not derphi0 < 0.0:
        return 1.0
    alpha0 = 1.01 * 2.0 * (f - f_prev) / derphi0          # N&W eq. 3.60
    return min(1.0, alpha0) if alpha0 > 0.0 else 1.0


def _stop(f, g, gtol, xp):
    r"""The status of the stopping tests at :math:`x_k` (a non-finite f or gradient, then
    :math:`\|\nabla f_k\|_\infty \le` ``gtol``), or None to go on."""
    if not (math.isfinite(f) and bool(xp.isfinite(g).all())):
        return STATUS_NONFINITE
    if float(xp.abs(g).max()) <= gtol:                   # ||grad f_k||_inf <= gtol
        return STATUS_SUCCESS
    return None


def _search(obj, x, f, g, p, alpha0, approx, memo, line_search, retry):
    r"""The line search along ``p``; when it fails and ``retry`` is set, once more along
    :math:`-\nabla f_k` (:math:`H = I`). Each failure is counted in ``memo["n_ls_fail"]``."""
    ls = line_search(obj, x, p, f, g, alpha0)            # alpha_k (Wolfe)
    if not ls.success and retry and not approx.is_identity:  # retry once along -grad f_k
        memo["n_ls_fail"] = int(memo.get("n_ls_fail", 0)) + 1
        approx.reset()
        p = approx.direction(g)
        ls = line_search(obj, x, p, f, g, _initial_step(0, p))
    if not ls.success:
        memo["n_ls_fail"] = int(memo.get("n_ls_fail", 0)) + 1
    return ls


def quasi_newton_iterations(obj, x, f, g, approx, memo: dict, n_iter: int, gtol: float,
                            line_search=None, lr=1.0, initial_step="interpolate", retry=False,
                            callback=None, ftol=0.0):
    r"""Up to ``n_iter`` iterations of N&W Algorithm 6.1 (and 7.5) from :math:`x_k` = ``x``
    with :math:`f_k` = ``f``, :math:`\nabla f_k` = ``g``: the one loop of :func:`quasi_newton`
    and of :class:`QuasiNewtonOptimizer`.

    .. math::
        &\textbf{stop if } f_k \text{ or } \nabla f_k \text{ is not finite, or }
            \|\nabla f_k\|_\infty \le \texttt{gtol}
            \text{ (or the relative decrease is below } \texttt{ftol}) \\
        &s_{k-1} = x_k - x_{k-1},\ y_{k-1} = \nabla f_k - \nabla f_{k-1}:\ \text{update } H \\
        &p_k = -H_k\nabla f_k, \quad x_{k+1} = x_k + \alpha_k p_k

    With ``ftol > 0`` a step of the line search whose relative decrease
    :math:`0 \le f_{k-1} - f_k \le \texttt{ftol}\max(|f_{k-1}|, |f_k|)` is small ends the run
    too (status 0; :mod:`optimizers.second_order.termination`).

    The pair of an iteration updates :math:`H` at the start of the next one (after its stopping
    tests), from ``memo``, which keeps :math:`x_{k-1}, \nabla f_{k-1}, f_{k-1}` (``x_prev``,
    ``g_prev``, ``f_prev``), the iteration count ``k`` and ``n_ls_fail`` between calls.
    :math:`\alpha_k`: ``line_search(obj, x, p, f, g, alpha0)`` from ``lr`` times the initial step
    (``initial_step``), retried once from :math:`H = I` when ``retry``; ``line_search=None`` is the
    fixed step ``lr`` times the unit rule (no evaluation after the last iteration). When the
    search fails, :math:`H` is reset, the pair memory cleared and the point kept. Returns
    ``(x, f, g, status, ls)``: ``status`` from :class:`~optimizers.results.Status`, ``ls`` the
    failed search (status 2) or None.
    """
    xp = B.get_array_module(x)
    it = 0
    while True:
        status = _stop(f, g, gtol, xp)
        if status is not None:
            return x, f, g, status, None
        if it > 0 and line_search is not None and decrease_below(memo["f_prev"], f, ftol):
            memo["stop"] = "ftol"                        # 0 <= f_{k-1} - f_k <= ftol max|f|
            return x, f, g, STATUS_SUCCESS, None
        if it >= n_iter:
            return x, f, g, STATUS_MAXITER, None
        if "x_prev" in memo:
            approx.update(x - memo["x_prev"], g - memo["g_prev"])  # s_{k-1}, y_{k-1}: H_k
        p = approx.direction(g)                          # p_k = -H_k grad f_k
        k = int(memo.get("k", 0))
        if line_search is None:
            alpha0 = _initial_step(k, p, "unit")
        else:
            alpha0 = _initial_step(k, p, initial_step, f, memo.get("f_prev"),
                                   float(xp.vdot(g, p)))
        alpha0 *= lr
        memo["x_prev"], memo["g_prev"], memo["f_prev"] = x, g, f
        if line_search is None:
            x = x + alpha0 * p                           # x_{k+1} = x_k + lr p_k
            if it + 1 < n_iter:
                f, g = obj.fg(x)
        else:
            ls = _search(obj, x, f, g, p, alpha0, approx, memo, line_search, retry)
            if not ls.success:                           # stay; forget the curvature pairs
                approx.reset()
                for key in ("x_prev", "g_prev", "f_prev"):
                    memo.pop(key, None)
                return x, f, g, STATUS_LINESEARCH, ls
            x, f, g = ls.x, ls.f, ls.g                   # x_{k+1} = x_k + alpha_k p_k
        memo["k"] = k + 1
        it += 1
        if callback is not None and callback(x.reshape(obj.shape), f):
            memo["stop"] = "callback"                    # the callback raised StopIteration
            return x, f, g, STATUS_CALLBACK, None


_MESSAGES = {STATUS_SUCCESS: "the gradient norm is below gtol",
             "ftol": "the relative decrease of f is below ftol",
             STATUS_MAXITER: "maxiter iterations were reached",
             STATUS_NONFINITE: "a non-finite value of f or of its gradient was met",
             "callback": STOP_MESSAGE}


def quasi_newton(obj: Objective, x, approx, gtol=1e-5, maxiter=None, c1=1e-4, c2=0.9,
                 line_search=None, callback=None, name="bfgs",
                 initial_step="interpolate", ftol=1e-12) -> OptimizeResult:
    r"""N&W Algorithm 6.1 (and 7.5) by :func:`quasi_newton_iterations`, shared by BFGS and
    L-BFGS; ``approx`` provides ``direction(g)`` (:math:`p_k = -H_k\nabla f_k`), ``update(s, y)``,
    ``reset()`` and counters. A failed line search is retried once from :math:`H = I`; when that
    fails too, the run stops at the best point the search found (status 2).

    ``line_search``, when given, replaces the strong Wolfe search: it is called as
    ``line_search(obj, x, p, f, g, alpha0)`` and returns a
    :class:`~optimizers.results.LineSearchResult` with ``x``, ``f`` and ``g`` set (tests pass
    an exact line search this way).
    """
    maxiter = 200 * x.size if maxiter is None else int(maxiter)
    gtol = _check_real(name, "gtol", gtol, lo=0.0)
    ftol = _check_real(name, "ftol", ftol, lo=0.0)
    c1, c2 = check_wolfe_constants(c1, c2, name)
    if initial_step not in INITIAL_STEPS:
        raise ValueError(f"{name}: initial_step must be one of {INITIAL_STEPS}; got "
                         f"{initial_step!r}")
    if line_search is None:
        def line_search(obj_, x_, p_, f_, g_, alpha0):
            return line_search_wolfe(obj_, x_, p_, f_, g_, alpha0=alpha0, c1=c1, c2=c2)

    f, g = obj.fg(x)                                     # f_0, grad f_0
    memo: dict = {}
    x, f, g, status, ls = quasi_newton_iterations(
        obj, x, f, g, approx, memo, maxiter, gtol, line_search=line_search,
        initial_step=initial_step, retry=True, callback=as_iteration_callback(callback),
        ftol=ftol)
    if status == STATUS_LINESEARCH:
        if ls.alpha > 0.0 and ls.f < f:                  # keep the best point found
            if ls.g is None:
                ls.g = obj.g(ls.x)
            x, f, g = ls.x, ls.f, ls.g
        message = f"the line search failed: {ls.message}"
    else:
        message = _MESSAGES[memo.get("stop", status)]
        if "x_prev" in memo:                             # the pair of the last step: H_{k+1}
            approx.update(x - memo["x_prev"], g - memo["g_prev"])
    return OptimizeResult(x=x.reshape(obj.shape), fun=f, jac=g.reshape(obj.shape),
                          nit=int(memo.get("k", 0)), nfev=obj.nfev, njev=obj.njev, status=status,
                          success=status == STATUS_SUCCESS, message=message,
                          nskip=approx.nskip, nls_fail=int(memo.get("n_ls_fail", 0)))


def bfgs(fun, x0, jac=None, args=(), gtol=1e-5, maxiter=None, H0="identity", c1=1e-4, c2=0.9,
         skip_eps=1e-8, initial_step="interpolate", line_search=None,
         callback=None, ftol=1e-12) -> OptimizeResult:
    r"""Minimise ``fun`` by BFGS (N&W Algorithm 6.1, module docstring) from ``x0``.

    ``jac``: None (minigrad), True (``fun`` returns ``(f, g)``) or a callable (see
    :class:`~optimizers.line_search.Objective`). ``initial_step``: ``"interpolate"`` (default,
    N&W eq. 3.60, as SciPy: with :math:`H_0 = I` the first updates leave :math:`H_k` badly scaled
    and a unit trial step overshoots by orders of magnitude) or ``"unit"``. Returns an
    :class:`~optimizers.minimize.OptimizeResult` with ``hess_inv`` (:math:`H_k`), ``nskip`` (skipped
    updates) and ``nls_fail`` (failed line searches) besides SciPy's fields.
    """
    if H0 not in H0_CHOICES:
        raise ValueError(f"bfgs: H0 must be one of {H0_CHOICES}; got {H0!r}")
    skip_eps = _check_real("bfgs", "skip_eps", skip_eps, lo=0.0)
    x = as_vector(x0, "bfgs")
    obj = Objective(fun, x, jac=jac, args=args, name="bfgs")
    approx = InverseBFGS(x.size, x, H0=H0, skip_eps=skip_eps)
    res = quasi_newton(obj, x, approx, gtol=gtol, maxiter=maxiter, c1=c1, c2=c2,
                       line_search=line_search, callback=callback, name="bfgs",
                       initial_step=initial_step, ftol=ftol)
    res["hess_inv"] = approx.H
    return res


# --------------------------------------------------------------------------- the optimizer
LINE_SEARCHES = ("strong_wolfe", None)


class QuasiNewtonOptimizer(VectorOptimizer):
    r"""What :class:`BFGS` and :class:`~optimizers.second_order.lbfgs.LBFGS` share as
    torch.optim-style optimizers (torch.optim.LBFGS is the model): all parameters form one flat
    vector :math:`x`, ``step(closure)`` is required and the closure zeroes nothing itself (the
    optimizer clears the gradients before each call), recomputes the loss, calls ``backward()``
    and returns the loss.

    One ``step`` makes up to ``max_iter`` iterations (default 1, so that a step is an iteration as
    for the other optimizers; torch's default is 20):

    .. math::
        &f_k, \nabla f_k \leftarrow \text{closure at } x_k \ \text{(once per step)};\quad
            \textbf{stop if } \|\nabla f_k\|_\infty \le \texttt{gtol} \\
        &s_{k-1} = x_k - x_{k-1},\ y_{k-1} = \nabla f_k - \nabla f_{k-1}:\ \text{update } H
            \text{ (skipped when } y^\top s \le \epsilon\|s\|\|y\|) \\
        &p_k = -H_k\nabla f_k, \quad x_{k+1} = x_k + \alpha_k p_k

    with :math:`\alpha_k` from the strong Wolfe search started at ``lr`` times the initial step of
    :func:`quasi_newton` (``line_search="strong_wolfe"``, the default), or the fixed step
    :math:`\alpha_k` = ``lr`` (:math:`\texttt{lr}\cdot\min(1, 1/\|p_0\|_2)` on the first iteration;
    ``line_search=None``, torch's default). When the Wolfe search fails the parameters stay and the
    curvature memory is cleared. The pair of the last iteration of a step is formed at the next
    step, from the fresh evaluation there (the closure may see new data). ``lr`` may be a schedule.
    The state (``vstate``: the approximation, :math:`x_{k-1}`, :math:`\nabla f_{k-1}`,
    :math:`f_{k-1}`, the iteration count and the skip count) is saved by ``state_dict``.
    """

    #: a line-search trial may overflow: the loss and gradient are checked at x_k only
    finite_values = False

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["max_iter"] = V.integer(n, "max_iter", group["max_iter"], lo=1)
        group["gtol"] = V.real(n, "gtol", group["gtol"], lo=0.0)
        if group["line_search"] not in LINE_SEARCHES:
            raise ValueError(f"{n}: invalid line_search={group['line_search']!r}; expected "
                             f"'strong_wolfe' or None (a fixed step lr)")
        c1 = V.real(n, "c1", group["c1"], lo=0.0, hi=1.0, lo_open=True, hi_open=True)
        c2 = V.real(n, "c2", group["c2"], lo=0.0, hi=1.0, lo_open=True, hi_open=True)
        if not c1 < c2:
            raise ValueError(f"{n}: invalid c2={c2!r}; the Wolfe constants need "
                             f"0 < c1 < c2 < 1 (c1={c1!r})")
        group["c1"], group["c2"] = c1, c2
        group["skip_eps"] = V.real(n, "skip_eps", group["skip_eps"], lo=0.0)
        group["initial_step"] = V.choice(n, "initial_step", group["initial_step"],
                                         INITIAL_STEPS)

    # subclasses: the approximation from / to vstate
    def _approx(self, hp, n, like):  # pragma: no cover - abstract
        raise NotImplementedError

    def _store(self, approx) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _step(self, obj):
        hp = self._hyperparameters(self.param_groups[0], self.step_count)
        x = obj.get()
        approx = self._approx(hp, x.size, x)
        f, g = obj.fg(x)                                 # f_k, grad f_k
        loss = f
        xp = B.get_array_module(x)
        self._require_finite([("the loss", xp.asarray(f)),
                              ("the gradient (all parameters as one vector)", g)])
        line_search = None
        if hp["line_search"] is not None:
            def line_search(obj_, x_, p_, f_, g_, alpha0):
                return line_search_wolfe(obj_, x_, p_, f_, g_, alpha0=alpha0, c1=hp["c1"],
                                         c2=hp["c2"])    # alpha_k (strong Wolfe)
        x = quasi_newton_iterations(obj, x, f, g, approx, self.vstate, hp["max_iter"],
                                    hp["gtol"], line_search=line_search, lr=hp["lr"],
                                    initial_step=hp["initial_step"])[0]
        obj.put(x)
        self._store(approx)
        self._finish(obj)
        return loss


class BFGS(QuasiNewtonOptimizer):
    r"""BFGS (module docstring) as a torch.optim-style optimizer; see
    :class:`QuasiNewtonOptimizer` for the step. ``BFGS(params, lr=1.0, max_iter=1, gtol=1e-5,
    line_search="strong_wolfe", c1=1e-4, c2=0.9, H0="identity", skip_eps=1e-8,
    initial_step="interpolate")``. Keeps the dense :math:`n \times n` matrix :math:`H_k`."""

    _vstate_keys = ("H", "n_updates", "nskip", "x_prev", "g_prev", "f_prev", "k", "n_ls_fail")

    def __init__(self, params, lr=1.0, max_iter=1, gtol=1e-5, line_search="strong_wolfe",
                 c1=1e-4, c2=0.9, H0="identity", skip_eps=1e-8, initial_step="interpolate",
                 nonfinite=None):
        super().__init__(params, dict(lr=lr, max_iter=max_iter, gtol=gtol,
                                      line_search=line_search, c1=c1, c2=c2, H0=H0,
                                      skip_eps=skip_eps, initial_step=initial_step),
                         nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        group["H0"] = V.choice(self.name, "H0", group["H0"], H0_CHOICES)

    def _approx(self, hp, n, like):
        approx = InverseBFGS(n, like, H0=hp["H0"], skip_eps=hp["skip_eps"])
        if "H" in self.vstate:
            approx.H = self.vstate["H"]
            approx.n_updates = int(self.vstate["n_updates"])
            approx.nskip = int(self.vstate["nskip"])
        return approx

    def _store(self, approx):
        self.vstate["H"] = approx.H
        self.vstate["n_updates"], self.vstate["nskip"] = approx.n_updates, approx.nskip
