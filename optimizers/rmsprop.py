r"""RMSProp (Tieleman & Hinton 2012), as written in L2 and L4 (also L0, L3)."""
from __future__ import annotations

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.base import Optimizer
from optimizers.inplace import addcdiv_, ema_square_, root_plus_eps

__all__ = ["RMSProp"]


class RMSProp(Optimizer):
    r"""RMSProp: Adagrad with an exponential moving average of the squared gradients.

    L2 / L4 (Merkulov & Ostroukhov, week 14), for each coordinate :math:`j`:

    .. math::
        v_j^{(k)} = \gamma v_j^{(k-1)} + (1 - \gamma)(g_j^{(k)})^2, \qquad
        x_j^{(k)} = x_j^{(k-1)} - \alpha \frac{g_j^{(k)}}{\sqrt{v_j^{(k)} + \epsilon}}

    Variants: ``eps_inside=False`` gives :math:`\alpha g / (\sqrt{v} + \epsilon)` (L3, torch,
    Keras); ``bias_correction=True`` divides :math:`v` by :math:`1 - \gamma^k` first (as Adam
    does; with it, ``eps_inside=False`` and :math:`\gamma = \beta_2`, RMSProp is Adam with
    :math:`\beta_1 = 0`: a test checks it).

    Defaults: ``lr=1e-2`` (torch), ``gamma=0.9`` (L0, and Hinton's lecture; L3 and torch's
    ``alpha`` use 0.99), ``eps=1e-6`` (the lectures' :math:`\epsilon` of the adaptive methods,
    inside the root; torch 1e-8 outside), ``eps_inside=True`` (L2, L4), ``bias_correction=False``,
    ``weight_decay=0`` (coupled). torch's ``momentum`` and ``centered`` options are not provided.
    """

    def __init__(self, params, lr=1e-2, gamma=0.9, eps=1e-6, eps_inside=True,
                 bias_correction=False, weight_decay=0.0, nonfinite=None):
        super().__init__(params, dict(lr=lr, gamma=gamma, eps=eps, eps_inside=eps_inside,
                                      bias_correction=bias_correction, weight_decay=weight_decay),
                         nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["gamma"] = V.real(n, "gamma", group["gamma"], lo=0.0, hi=1.0, hi_open=True)
        group["eps"] = V.real(n, "eps", group["eps"], lo=0.0, lo_open=True)
        group["eps_inside"] = V.flag(n, "eps_inside", group["eps_inside"])
        group["bias_correction"] = V.flag(n, "bias_correction", group["bias_correction"])
        group["weight_decay"] = V.real(n, "weight_decay", group["weight_decay"], lo=0.0)

    def _init_state(self, p, hp):
        xp = B.get_array_module(p.data)
        return {"k": 0, "v": xp.zeros_like(p.data)}  # v^{(0)} = 0

    def _update(self, p, g, state, hp):
        xp = B.get_array_module(p.data)
        gamma = hp["gamma"]
        k = state["k"] = state["k"] + 1
        tmp = self._scratch(p)
        g = self._coupled_decay(p, g, hp["weight_decay"])        # g <- g + lambda x (lambda > 0)
        v = ema_square_(state["v"], g, gamma, tmp)               # v = gamma v + (1 - gamma) g^2
        c = 1.0 / (1.0 - gamma ** k) if hp["bias_correction"] else 1.0
        v_hat = xp.multiply(v, c, out=tmp)                       # v / (1 - gamma^k) (optional)
        denom = root_plus_eps(v_hat, hp["eps"], tmp, hp["eps_inside"])  # sqrt(v + eps)
        addcdiv_(p.data, g, denom, -hp["lr"], tmp)               # x = x - alpha g / denom
