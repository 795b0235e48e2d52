r"""RMSProp (Tieleman & Hinton 2012), as written in L2 and L4 (also L0, L3)."""
from __future__ import annotations

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.base import Optimizer

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
        alpha, gamma, eps, v = hp["lr"], hp["gamma"], hp["eps"], state["v"]
        k = state["k"] = state["k"] + 1
        g = self._coupled_decay(p, g, hp["weight_decay"])  # g <- g + lambda x (if lambda > 0)
        tmp = self._scratch(p)
        v *= gamma                                         # gamma v^{(k-1)}
        xp.multiply(g, g, out=tmp)                         # g^2
        tmp *= 1.0 - gamma                                 # (1 - gamma) g^2
        v += tmp                                           # v^{(k)} = gamma v + (1 - gamma) g^2
        c = 1.0 / (1.0 - gamma ** k) if hp["bias_correction"] else 1.0
        xp.multiply(v, c, out=tmp)                         # v_hat = v / (1 - gamma^k) (optional)
        if hp["eps_inside"]:
            tmp += eps                                     # v + eps
            xp.sqrt(tmp, out=tmp)                          # sqrt(v + eps)
        else:
            xp.sqrt(tmp, out=tmp)                          # sqrt(v)
            tmp += eps                                     # sqrt(v) + eps
        xp.divide(g, tmp, out=tmp)                         # g / sqrt(v + eps)
        tmp *= alpha                                       # alpha g / sqrt(v + eps)
        p.data -= tmp                                      # x^{(k)} = x^{(k-1)} - alpha g / ...
