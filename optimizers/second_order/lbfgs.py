r"""L-BFGS: BFGS with the last :math:`m` pairs instead of the matrix (docs/lectures.md section 5,
L0).

L-BFGS is BFGS (:mod:`optimizers.second_order.bfgs`) plus one change: :math:`H_k` is never
formed. The direction :math:`p_k = -H_k \nabla f_k` comes from the last :math:`m` pairs
:math:`(s_i, y_i)`, :math:`\rho_i = 1/(y_i^\top s_i)`, by the two-loop recursion (Nocedal & Wright,
Algorithm 7.4; L0's slide "L-BFGS"):

.. math::
    &q \leftarrow \nabla f_k \\
    &\textbf{for } i = k-1, k-2, \dots, k-m: \quad a_i \leftarrow \rho_i s_i^\top q, \quad
        q \leftarrow q - a_i y_i \\
    &r \leftarrow H_k^0 q, \qquad H_k^0 = \gamma_k I, \quad
        \gamma_k = \frac{s_{k-1}^\top y_{k-1}}{y_{k-1}^\top y_{k-1}} \quad \text{(N\&W eq. 7.20)} \\
    &\textbf{for } i = k-m, \dots, k-1: \quad b \leftarrow \rho_i y_i^\top r, \quad
        r \leftarrow r + s_i (a_i - b) \\
    &p_k = -r

It equals :math:`-H_k\nabla f_k` for the matrix that :math:`m` BFGS updates of :math:`H_k^0` would
give, at :math:`O(mn)` cost and memory. The outer loop is N&W Algorithm 7.5, the loop of BFGS
(:func:`optimizers.second_order.bfgs.quasi_newton`): strong Wolfe line search (:math:`c_1 = 10^{-4}`,
:math:`c_2 = 0.9`), the same first step, the same stopping rules
(:math:`\|\nabla f_k\|_\infty \le` ``gtol`` = :math:`10^{-5}`, ``maxiter``, non-finite values), and the
same skipping rule: a pair with :math:`y^\top s \le \epsilon\|s\|\|y\|` is not stored (counted in
``nskip``).

The line search of :func:`lbfgs` (a documented choice, measured on the standard set by
``benchmarks/bench_minimize.py``): while no pair is stored (the first iteration, and after a reset)
:math:`p_k = -\nabla f_k` and the trial step :math:`\min(1, 1/\|\nabla f_k\|_2)` are of
unknown scale, and a trial that overshoots is cut by the interpolation of Moré & Thuente, "Line
search algorithms with guaranteed sufficient decrease" (1994), section 4, case 1 (SciPy's
L-BFGS-B searches with their ``dcsrch``): the cubic step when it is closer to the better end than
the quadratic step, else the mean of the two (:func:`optimizers.wolfe.more_thuente_case1`). Once a
pair scales :math:`H_k^0` the unit step is well scaled, and zoom interpolates by N&W's cubic
(eq. 3.59). ``unscaled_interpolation="cubic"`` keeps N&W's cubic throughout. On Chebyquad
(:math:`n = 8`) the first search takes 4 evaluations instead of 6 (the trial
:math:`1/\|\nabla f_0\| = 0.656` gives :math:`f = 2.6\cdot 10^7` from :math:`f_0 = 0.039`); the
torch-style :class:`LBFGS` keeps N&W's cubic.

``H0="scaled"`` (default) is N&W eq. 7.20 above; ``H0="identity"`` keeps :math:`H_k^0 = I`, so that
with :math:`m` at least the number of iterations L-BFGS reproduces BFGS started from
:math:`H_0 = I` (a test checks it on a quadratic). Memory ``m = 10`` by default (SciPy's L-BFGS-B
and torch use 10).
"""
from __future__ import annotations

from collections import deque

from minigrad import backend as B
from optimizers.objective import Objective, line_search_wolfe
from optimizers.minimize import OptimizeResult, as_vector
from optimizers.wolfe import INTERPOLATIONS, check_wolfe_constants
from optimizers.second_order.bfgs import QuasiNewtonOptimizer, curvature_ok, quasi_newton
from optimizers import _validate as V

__all__ = ["lbfgs", "wolfe_search", "two_loop", "LimitedMemoryBFGS", "InverseHessianProduct",
           "LBFGS"]

H0_CHOICES = ("scaled", "identity")


def two_loop(g, pairs, gamma: float = 1.0):
    r"""The two-loop recursion (N&W Algorithm 7.4): :math:`H_k \nabla f_k` from the stored
    ``pairs`` (oldest first, each ``(s, y, rho)``) and :math:`H_k^0 = \gamma I`."""
    xp = B.get_array_module(g)
    q = g.copy()                                         # q <- grad f_k
    a = [0.0] * len(pairs)
    for i in range(len(pairs) - 1, -1, -1):              # i = k-1, ..., k-m
        s, y, rho = pairs[i]
        a[i] = rho * float(xp.vdot(s, q))                # a_i <- rho_i s_i^T q
        q -= a[i] * y                                    # q <- q - a_i y_i
    r = q
    r *= gamma                                           # r <- H_k^0 q
    for i in range(len(pairs)):                          # i = k-m, ..., k-1
        s, y, rho = pairs[i]
        b = rho * float(xp.vdot(y, r))                   # b <- rho_i y_i^T r
        r += (a[i] - b) * s                              # r <- r + s_i (a_i - b)
    return r                                             # H_k grad f_k


class LimitedMemoryBFGS:
    r"""The last ``m`` pairs :math:`(s_i, y_i, \rho_i)`; ``direction(g)`` is
    :math:`p_k = -H_k g` by :func:`two_loop`, ``update(s, y)`` stores a pair (or counts a skip)."""

    def __init__(self, m: int = 10, H0: str = "scaled", skip_eps: float = 1e-8):
        self.m, self.H0, self.skip_eps = m, H0, skip_eps
        self.pairs = deque(maxlen=m)
        self.nskip = 0

    @property
    def gamma(self) -> float:
        r""":math:`\gamma_k = s_{k-1}^\top y_{k-1} / y_{k-1}^\top y_{k-1}` (N&W eq. 7.20), or 1."""
        if self.H0 == "identity" or not self.pairs:
            return 1.0
        s, y, rho = self.pairs[-1]
        xp = B.get_array_module(y)
        return 1.0 / (rho * float(xp.vdot(y, y)))        # s^T y / y^T y

    def direction(self, g):
        r = two_loop(g, self.pairs, self.gamma)          # r = H_k grad f_k
        r *= -1.0
        return r                                         # p_k = -r

    def reset(self):
        self.pairs.clear()

    @property
    def is_identity(self) -> bool:
        return not self.pairs

    def update(self, s, y) -> bool:
        if not curvature_ok(s, y, self.skip_eps):        # y^T s <= eps ||s|| ||y||: skip
            self.nskip += 1
            return False
        xp = B.get_array_module(s)
        rho = 1.0 / float(xp.vdot(y, s))                 # rho_k = 1 / (y_k^T s_k)
        self.pairs.append((s, y, rho))                   # drop the oldest pair when full
        return True


class InverseHessianProduct:
    r"""The result's ``hess_inv``: :math:`H_k` of the last pairs as an operator (SciPy's
    ``LbfgsInvHessProduct``): ``H @ v`` (or ``H.dot(v)``) is :func:`two_loop` of ``v``, and
    :meth:`todense` the :math:`n\times n` matrix (:math:`n` products: for small problems)."""

    def __init__(self, pairs, gamma: float, n: int, like):
        self.pairs, self.gamma = list(pairs), gamma
        self.shape = (n, n)
        self._like = like

    def dot(self, v):
        return two_loop(v, self.pairs, self.gamma)       # H_k v

    __matmul__ = dot

    def todense(self):
        xp = B.get_array_module(self._like)
        eye = xp.eye(self.shape[0], dtype=self._like.dtype)
        return xp.stack([self.dot(eye[i]) for i in range(self.shape[0])], axis=1)


def wolfe_search(approx, c1=1e-4, c2=0.9, unscaled_interpolation="more-thuente"):
    r"""The line search of :func:`lbfgs` (module docstring), as ``search(obj, x, p, f, g,
    alpha0)``: :func:`~optimizers.wolfe.strong_wolfe` along :math:`x + \alpha p` with zoom's
    ``unscaled_interpolation`` while ``approx`` stores no pair, N&W's cubic after."""

    def search(obj, x, p, f0, g0, alpha0):
        rule = unscaled_interpolation if approx.is_identity else "cubic"
        return line_search_wolfe(obj, x, p, f0, g0, alpha0=alpha0, c1=c1, c2=c2,
                                 interpolation=rule)

    return search


def lbfgs(fun, x0, jac=None, args=(), m=10, gtol=1e-5, maxiter=None, H0="scaled", c1=1e-4,
          c2=0.9, skip_eps=1e-8, initial_step="unit", line_search=None,
          callback=None, ftol=1e-12, unscaled_interpolation="more-thuente") -> OptimizeResult:
    r"""Minimise ``fun`` by L-BFGS (N&W Algorithm 7.5, module docstring) from ``x0``.

    ``jac``: None (minigrad), True (``fun`` returns ``(f, g)``) or a callable.
    ``initial_step="unit"`` (default: with the scaling of eq. 7.20 the direction is well scaled and
    N&W Algorithm 7.5 tries :math:`\alpha = 1` first) or ``"interpolate"`` (N&W eq. 3.60, BFGS's
    default). ``unscaled_interpolation``: zoom's rule while no pair is stored, ``"more-thuente"``
    (default) or ``"cubic"`` (module docstring; :func:`wolfe_search`); ``line_search``, a callable
    ``line_search(obj, x, p, f, g, alpha0)``, replaces the search. Returns an
    :class:`~optimizers.minimize.OptimizeResult` with ``hess_inv`` (an
    :class:`InverseHessianProduct`), ``nskip`` (pairs not stored) and ``nls_fail`` besides
    SciPy's fields.
    """
    m = V.integer("lbfgs", "m", m, lo=1)
    if H0 not in H0_CHOICES:
        raise ValueError(f"lbfgs: H0 must be one of {H0_CHOICES}; got {H0!r}")
    skip_eps = V.real("lbfgs", "skip_eps", skip_eps, lo=0.0)
    x = as_vector(x0, "lbfgs")
    obj = Objective(fun, x, jac=jac, args=args, name="lbfgs")
    unscaled_interpolation = V.choice("lbfgs", "unscaled_interpolation", unscaled_interpolation,
                                      INTERPOLATIONS)
    approx = LimitedMemoryBFGS(m=m, H0=H0, skip_eps=skip_eps)
    if line_search is None:
        c1, c2 = check_wolfe_constants(c1, c2, "lbfgs")
        line_search = wolfe_search(approx, c1, c2, unscaled_interpolation)
    res = quasi_newton(obj, x, approx, gtol=gtol, maxiter=maxiter, c1=c1, c2=c2,
                       line_search=line_search, callback=callback, name="lbfgs",
                       initial_step=initial_step, ftol=ftol)
    res["hess_inv"] = InverseHessianProduct(approx.pairs, approx.gamma, x.size, x)
    return res


class LBFGS(QuasiNewtonOptimizer):
    r"""L-BFGS (module docstring) as a torch.optim-style optimizer: each iteration
    :math:`x_{k+1} = x_k - \alpha_k H_k \nabla f_k`, with :math:`H_k \nabla f_k` from the two-loop
    recursion over the last :math:`m` pairs and :math:`H_k^0 = \frac{s_{k-1}^\top y_{k-1}}
    {y_{k-1}^\top y_{k-1}} I` (N&W eq. 7.20), :math:`\alpha_k` from the strong Wolfe search; see
    :class:`~optimizers.second_order.bfgs.QuasiNewtonOptimizer` for the step.
    ``LBFGS(params, lr=1.0, m=10, max_iter=1, gtol=1e-5, line_search="strong_wolfe", c1=1e-4,
    c2=0.9, H0="scaled", skip_eps=1e-8, initial_step="unit")``. torch.optim.LBFGS's
    ``history_size`` is ``m`` here (torch's default is 100, SciPy's and ours 10)."""

    _vstate_keys = ("S", "Y", "nskip", "x_prev", "g_prev", "f_prev", "k", "n_ls_fail")

    def __init__(self, params, lr=1.0, m=10, max_iter=1, gtol=1e-5, line_search="strong_wolfe",
                 c1=1e-4, c2=0.9, H0="scaled", skip_eps=1e-8, initial_step="unit", nonfinite=None):
        super().__init__(params, dict(lr=lr, m=m, max_iter=max_iter, gtol=gtol,
                                      line_search=line_search, c1=c1, c2=c2, H0=H0,
                                      skip_eps=skip_eps, initial_step=initial_step),
                         nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        group["m"] = V.integer(self.name, "m", group["m"], lo=1)
        group["H0"] = V.choice(self.name, "H0", group["H0"], H0_CHOICES)

    def _approx(self, hp, n, like):
        approx = LimitedMemoryBFGS(m=hp["m"], H0=hp["H0"], skip_eps=hp["skip_eps"])
        if "S" in self.vstate:
            xp = B.get_array_module(like)
            for s, y in zip(self.vstate["S"], self.vstate["Y"]):
                approx.pairs.append((s, y, 1.0 / float(xp.vdot(y, s))))
            approx.nskip = int(self.vstate["nskip"])
        return approx

    def _store(self, approx):
        xp = B.get_array_module(self.param_groups[0]["params"][0].data)
        n = sum(int(p.data.size) for p in self.param_groups[0]["params"])
        dtype = self.param_groups[0]["params"][0].data.dtype
        if approx.pairs:
            self.vstate["S"] = xp.stack([s for s, _, _ in approx.pairs])
            self.vstate["Y"] = xp.stack([y for _, y, _ in approx.pairs])
        else:
            self.vstate["S"] = xp.zeros((0, n), dtype=dtype)
            self.vstate["Y"] = xp.zeros((0, n), dtype=dtype)
        self.vstate["nskip"] = approx.nskip
