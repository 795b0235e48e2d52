r"""NAG-GS (Leplat, Merkulov, Katrutsa, Bershatsky, Tsymboi & Oseledets, "NAG-GS: Semi-Implicit,
Accelerated and Robust Stochastic Optimizer", arXiv:2209.14937; presented in L1).

The method integrates an accelerated Nesterov-like flow
:math:`x' = v - x`, :math:`v' = \frac{\mu}{\gamma}(x - v) - \frac1\gamma \nabla f(x)`,
:math:`\gamma' = \mu - \gamma` with a semi-implicit Gauss-Seidel scheme: the new :math:`x` is used
at once in the update of :math:`v`. It keeps one extra vector (:math:`v`) where Adam keeps two
(L1's remark). The update below follows the paper's Algorithm 1; cross-checked against the authors'
reference code (github.com/skolai/nag-gs, ``nag_gs_pytorch.py`` and ``nag_gs_jax.py``).
"""
from __future__ import annotations

from minigrad import backend as B
from optimizers.inplace import add_
from optimizers import _validate as V
from optimizers.base import Optimizer

__all__ = ["NAGGS"]


class NAGGS(Optimizer):
    r"""NAG-GS, one gradient per step (the paper's Algorithm 1, with step :math:`\alpha_k`):

    .. math::
        a_k &= \frac{\alpha_k}{1 + \alpha_k} \\
        x_{k+1} &= (1 - a_k) x_k + a_k v_k \\
        \gamma_{k+1} &= (1 - a_k)\gamma_k + a_k \mu \\
        b_k &= \frac{\alpha_k \mu}{\alpha_k \mu + \gamma_{k+1}} \\
        v_{k+1} &= (1 - b_k) v_k + b_k \left(x_{k+1} - \tfrac1\mu \nabla f(x_{k+1})\right)

    with :math:`v_0 = x_0`. The gradient is taken at :math:`x_{k+1}`, so a call of ``step()``
    (which gets the gradient at the current parameters) performs the :math:`v`-update with it,
    then the :math:`\gamma`- and :math:`x`-updates of the next iteration, as the authors' code does.
    Since :math:`v_0 = x_0`, the first :math:`x`-update is the identity: it is folded into the
    state's initialisation (:math:`\gamma \leftarrow (1 - a_0)\gamma_0 + a_0\mu`), which is what the
    authors' JAX version does on its first call (their PyTorch version skips this and uses
    :math:`\gamma_0` in the first :math:`b`; the two agree when :math:`\gamma_0 = \mu`).

    The :math:`v`-update is written :math:`v + b(x - v) - \frac{\alpha}{\alpha\mu + \gamma} g`
    (the same thing, with :math:`b/\mu = \alpha/(\alpha\mu + \gamma)`: it allows :math:`\mu = 0`
    and leaves :math:`v = x` exactly unchanged when :math:`g = 0`); the :math:`x`-update
    :math:`x + a(v - x)`.

    Defaults (the authors' JAX/README values): ``lr=0.05`` (:math:`\alpha`), ``mu=1.0``
    (:math:`\mu`, a strong-convexity guess), ``gamma=1.5`` (:math:`\gamma_0`). Their PyTorch class
    uses ``lr=1e-2, gamma=1.0``.
    """

    def __init__(self, params, lr=0.05, mu=1.0, gamma=1.5, nonfinite=None):
        super().__init__(params, dict(lr=lr, mu=mu, gamma=gamma), nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        group["mu"] = V.real(self.name, "mu", group["mu"], lo=0.0)
        group["gamma"] = V.real(self.name, "gamma", group["gamma"], lo=0.0, lo_open=True)

    def _init_state(self, p, hp):
        xp = B.get_array_module(p.data)
        a = hp["lr"] / (1.0 + hp["lr"])                          # a_0
        return {"v": xp.array(p.data, copy=True),                # v_0 = x_0
                "gamma": (1.0 - a) * hp["gamma"] + a * hp["mu"]}  # gamma_1 (x_1 = x_0)

    def _update(self, p, g, state, hp):
        xp = B.get_array_module(p.data)
        alpha, mu, gamma, v, x = hp["lr"], hp["mu"], state["gamma"], state["v"], p.data
        tmp = self._scratch(p)
        b = alpha * mu / (alpha * mu + gamma)           # b_k (with gamma_{k+1})
        add_(v, xp.subtract(x, v, out=tmp), b, tmp)    # (1 - b_k) v_k + b_k x_{k+1}
        add_(v, g, -(alpha / (alpha * mu + gamma)), tmp)  # v_{k+1} = ... - (b_k / mu) grad f
        a = alpha / (1.0 + alpha)                       # a_{k+1}
        state["gamma"] = (1.0 - a) * gamma + a * mu     # gamma_{k+2} = (1 - a) gamma + a mu
        add_(x, xp.subtract(v, x, out=tmp), a, tmp)    # x_{k+2} = (1 - a) x_{k+1} + a v_{k+1}
