r"""Adadelta (Zeiler 2012), as written in L4 (also L0)."""
from __future__ import annotations

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.base import Optimizer
from optimizers.inplace import add_, ema_square_

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta: RMSProp whose step size is the running RMS of the past updates.

    L4 (week 14 seminar), for each coordinate :math:`j`:

    .. math::
        v_j^{(k)} &= \gamma v_j^{(k-1)} + (1 - \gamma)(g_j^{(k)})^2 \\
        \tilde g_j^{(k)} &= \frac{\sqrt{\Delta x_j^{(k-1)} + \epsilon}}
                                  {\sqrt{v_j^{(k)} + \epsilon}}\, g_j^{(k)} \\
        x_j^{(k)} &= x_j^{(k-1)} - \tilde g_j^{(k)} \\
        \Delta x_j^{(k)} &= \rho \Delta x_j^{(k-1)} + (1 - \rho)(\tilde g_j^{(k)})^2

    No learning rate in the lecture; ``lr`` multiplies :math:`\tilde g` in the update (torch's
    ``lr``, default 1.0 = the lecture's form). L0 writes the same with RMS:
    :math:`\Delta\theta_t = -\frac{RMS[\Delta\theta]_{t-1}}{RMS[g]_t} g_t`.

    Defaults: ``gamma=0.9``, ``rho=0.9`` (torch uses one ``rho=0.9`` for both averages; Zeiler's
    paper 0.95), ``eps=1e-6`` (Zeiler, torch), ``lr=1.0`` (torch), ``weight_decay=0`` (coupled).
    The ratio of roots is computed as the root of the ratio (one square root instead of two).
    """

    def __init__(self, params, lr=1.0, gamma=0.9, rho=0.9, eps=1e-6, weight_decay=0.0,
                 nonfinite=None):
        super().__init__(params, dict(lr=lr, gamma=gamma, rho=rho, eps=eps,
                                      weight_decay=weight_decay), nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["gamma"] = V.real(n, "gamma", group["gamma"], lo=0.0, hi=1.0, hi_open=True)
        group["rho"] = V.real(n, "rho", group["rho"], lo=0.0, hi=1.0, hi_open=True)
        group["eps"] = V.real(n, "eps", group["eps"], lo=0.0, lo_open=True)
        group["weight_decay"] = V.real(n, "weight_decay", group["weight_decay"], lo=0.0)

    def _init_state(self, p, hp):
        xp = B.get_array_module(p.data)
        return {"v": xp.zeros_like(p.data), "dx": xp.zeros_like(p.data)}  # v = Delta x = 0

    def _update(self, p, g, state, hp):
        t0, t1 = self._scratch(p, 0), self._scratch(p, 1)
        g = self._coupled_decay(p, g, hp["weight_decay"], slot=2)  # g + lambda x (lambda > 0)
        v = ema_square_(state["v"], g, hp["gamma"], t0)            # v = gamma v + (1-gamma) g^2
        g_tilde = _rms_ratio(state["dx"], v, hp["eps"], g, t0, t1)  # sqrt(dx+eps)/sqrt(v+eps) g
        add_(p.data, g_tilde, -hp["lr"], t1)                       # x = x - lr g~
        ema_square_(state["dx"], g_tilde, hp["rho"], t0)           # dx = rho dx + (1-rho) g~^2


def _rms_ratio(dx, v, eps, g, out, scratch):
    r""":math:`\frac{\sqrt{\Delta x + \epsilon}}{\sqrt{v + \epsilon}}\,g` into ``out``, as the root
    of the ratio (one square root instead of two)."""
    xp = B.get_array_module(out)
    xp.add(dx, eps, out=out)                       # Delta x + eps
    out /= xp.add(v, eps, out=scratch)             # (Delta x + eps) / (v + eps)
    xp.sqrt(out, out=out)
    out *= g
    return out
