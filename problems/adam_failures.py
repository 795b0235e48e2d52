r"""Problems on which Adam fails: Reddi et al.'s online counterexample and the limit cycle on
:math:`w^2`.

**Reddi, Kale & Kumar (2018), "On the Convergence of Adam and Beyond"** (cited in L1, L2;
docs/lectures.md section 3, AMSGrad). On the feasible set :math:`\mathcal F=[-1,1]`, the online
losses

.. math:: f_t(x)=\begin{cases}Cx,& t\bmod 3=1\\ -x,&\text{otherwise}\end{cases}\qquad(C>2)

have :math:`x^*=-1` (the average slope over a period is :math:`(C-2)/3>0`), yet Adam with
:math:`\beta_1=0`, :math:`\beta_2=1/(1+C^2)` (the proof of their Theorem 1) drifts to :math:`+1`:
dividing by :math:`\sqrt{v_t}` shrinks the rare large gradient :math:`C` to a step of about the
same size as those of the frequent gradients :math:`-1`, so the two steps in the wrong direction
outweigh the one in the right direction. Their
synthetic experiment (Section 5) uses :math:`f_t(x)=1010x` for :math:`t\bmod101=1` and
:math:`-10x` otherwise (:meth:`ReddiOnline.synthetic`), and a stochastic version: :math:`1010x`
with probability 0.01, :math:`-10x` otherwise (``stochastic=True``). AMSGrad's
:math:`\hat v_t=\max(\hat v_{t-1},v_t)` fixes it.

**The limit cycle** (the lectures' remark that Adam "does not converge on some simple problems,
even convex ones"): on :math:`L(w)=w^2`, Adam with :math:`\beta_1=0` and :math:`\epsilon=0` started
at :math:`w_0=\eta/2` has :math:`g_k=\pm\eta`, so :math:`g_k^2=\eta^2` for every :math:`k`,
:math:`\hat v_k=v_k/(1-\beta_2^k)=\eta^2` exactly (for any :math:`\beta_2`), and the step is
:math:`\eta\,g_k/|g_k|=\pm\eta`: the iterates alternate :math:`\eta/2,-\eta/2,\eta/2,\dots`
forever, with :math:`L=\eta^2/4>0=L^*`.
"""
from __future__ import annotations

from minigrad import backend as B
from problems import _validate as V
from problems.base import Problem, as_rng

__all__ = ["ReddiOnline", "AdamLimitCycle"]


class ReddiOnline(Problem):
    r"""Reddi et al.'s online problem on :math:`[-1,1]`:
    :math:`f_t(x)=Cx` when :math:`t\bmod p=1`, :math:`-sx` otherwise (steps
    :math:`t=1,2,\dots`); defaults :math:`C=3`, :math:`p=3`, :math:`s=1` (the paper's first
    example needs :math:`C>2`).

    ``grad_at(t, x)`` is the gradient :math:`\nabla f_t` (it does not depend on :math:`x`),
    ``loss_at(t, x)`` the loss, ``project(x)`` the projection onto :math:`[-1,1]` (a clip),
    ``regret(xs)`` the regret :math:`\sum_t f_t(x_t)-\min_{x\in\mathcal F}\sum_t f_t(x)` of
    iterates :math:`x_1,x_2,\dots`. As a :class:`Problem`, ``f`` is the average loss over one
    period, :math:`\bar f(x)=\frac{C-(p-1)s}{p}x`, minimised on :math:`\mathcal F` at
    :math:`x^*=-1` with :math:`f^*=-\frac{C-(p-1)s}{p}` (``L = 0``: it is linear; ``mu = 0``).
    The start is :math:`x_1=1` (the proof's). With ``stochastic=True`` the loss at each step is
    :math:`Cx` with probability :math:`1/p` and :math:`-sx` otherwise, drawn from ``rng``
    (the expected loss is :math:`\bar f`).

    Raises ValueError unless :math:`C>(p-1)s` (otherwise :math:`x^*\ne-1`).
    """

    name = "reddi_online"
    convex = True
    lower, upper = -1.0, 1.0

    def __init__(self, C: float = 3.0, period: int = 3, small: float = 1.0,
                 stochastic: bool = False, rng=None, x0: float = 1.0, dtype="float64"):
        owner = type(self).__name__
        self.C = V.positive(owner, "C", C)
        self.period = V.positive_int(owner, "period", period, minimum=2)
        self.small = V.positive(owner, "small", small)
        if self.C <= (self.period - 1) * self.small:
            raise ValueError(f"{owner}: C must exceed (period - 1) * small = "
                             f"{(self.period - 1) * self.small!r} so that x* = -1; got C={C!r}")
        self.stochastic = bool(stochastic)
        self.rng = as_rng(rng) if stochastic else None
        self.slope = (self.C - (self.period - 1) * self.small) / self.period
        x0 = V.finite(owner, "x0", x0)
        self._setup([x0], shape=(1,), mu=0.0, L=0.0, x_star=[-1.0], f_star=-self.slope,
                    dtype=dtype)

    @classmethod
    def synthetic(cls, stochastic: bool = False, rng=None, dtype="float64") -> ReddiOnline:
        """The paper's synthetic experiment: 1010x once every 101 steps, -10x otherwise (or
        with probabilities 0.01 / 0.99 when ``stochastic``)."""
        return cls(C=1010.0, period=101, small=10.0, stochastic=stochastic, rng=rng,
                   dtype=dtype)

    def _f(self, x):
        return (self.slope * x).sum()

    def grad_closed_form(self, x):
        xp = B.get_array_module(self.x0)
        return xp.full(self.shape, self.slope, dtype=self.dtype)

    def coefficient(self, t: int) -> float:
        """The slope of :math:`f_t`: ``C`` on the rare steps, ``-small`` otherwise (random
        when ``stochastic``: call once per step)."""
        t = V.positive_int(type(self).__name__, "t", t)
        if self.stochastic:
            return self.C if self.rng.random() < 1.0 / self.period else -self.small
        return self.C if t % self.period == 1 else -self.small

    def grad_at(self, t: int, x=None):
        r""":math:`\nabla f_t(x)` as an array of shape (1,) (constant in :math:`x`)."""
        xp = B.get_array_module(self.x0)
        return xp.full(self.shape, self.coefficient(t), dtype=self.dtype)

    def loss_at(self, t: int, x) -> float:
        """:math:`f_t(x)` (deterministic version only: the stochastic one draws its slope in
        :meth:`coefficient`)."""
        return self.coefficient(t) * float(self._array(x).reshape(-1)[0])

    def project(self, x):
        """The Euclidean projection onto :math:`[-1, 1]` (works on arrays and Tensors' data)."""
        a = x.data if hasattr(x, "data") and not B.is_array(x) else x
        xp = B.get_array_module(a)
        return xp.clip(a, self.lower, self.upper)

    def regret(self, xs) -> float:
        r""":math:`R_T=\sum_{t=1}^T f_t(x_t)-\min_{x\in[-1,1]}\sum_{t=1}^T f_t(x)` for the
        iterates ``xs`` = :math:`(x_1,\dots,x_T)` (deterministic version)."""
        if self.stochastic:
            raise ValueError(f"{type(self).__name__}: regret needs the deterministic losses "
                             f"(stochastic=False)")
        xs = [float(v) for v in B.to_numpy(xs).reshape(-1)]
        coefs = [self.coefficient(t) for t in range(1, len(xs) + 1)]
        total = sum(c * x for c, x in zip(coefs, xs))
        return total + abs(sum(coefs))  # min over [-1, 1] of (sum c) x is -|sum c|


class AdamLimitCycle(Problem):
    r""":math:`L(w)=w^2` with the start :math:`w_0=\eta/2`, on which Adam with
    :math:`\beta_1=0`, :math:`\epsilon=0` and step :math:`\eta` cycles between
    :math:`\pm\eta/2` (module docstring). :math:`w^*=0`, :math:`L^*=0`,
    :math:`\mu=L=2`; ``cycle`` is :math:`(\eta/2,-\eta/2)` and ``cycle_loss``
    :math:`\eta^2/4`."""

    name = "adam_limit_cycle"
    convex = True
    mu_kind = "strongly convex"

    def __init__(self, eta: float = 0.1, dtype="float64"):
        self.eta = V.positive(type(self).__name__, "eta", eta)
        self.cycle = (self.eta / 2, -self.eta / 2)
        self.cycle_loss = self.eta ** 2 / 4
        self._setup([self.eta / 2], shape=(1,), mu=2.0, L=2.0, x_star=[0.0], f_star=0.0,
                    dtype=dtype)

    def _f(self, w):
        return (w * w).sum()

    def grad_closed_form(self, w):
        return 2.0 * self._array(w)
