r"""Adadelta (Zeiler 2012), as written in L4 (also L0)."""
from __future__ import annotations

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.base import Optimizer

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
        xp = B.get_array_module(p.data)
        gamma, rho, eps, lr = hp["gamma"], hp["rho"], hp["eps"], hp["lr"]
        v, dx = state["v"], state["dx"]
        if hp["weight_decay"] != 0.0:  # g <- g + lambda x, kept in slot 2 (slot 1 is taken)
            g_decayed = self._scratch(p, 2)
            xp.multiply(p.data, hp["weight_decay"], out=g_decayed)
            g_decayed += g
            g = g_decayed
        t0, t1 = self._scratch(p, 0), self._scratch(p, 1)
        v *= gamma                                     # gamma v^{(k-1)}
        xp.multiply(g, g, out=t0)                      # g^2
        t0 *= 1.0 - gamma                              # (1 - gamma) g^2
        v += t0                                        # v^{(k)} = gamma v + (1 - gamma) g^2
        xp.add(dx, eps, out=t0)                        # Delta x^{(k-1)} + eps
        xp.add(v, eps, out=t1)                         # v^{(k)} + eps
        t0 /= t1                                       # (Delta x + eps) / (v + eps)
        xp.sqrt(t0, out=t0)                            # sqrt(Delta x + eps) / sqrt(v + eps)
        t0 *= g                                        # g~ = sqrt(..)/sqrt(..) g
        if lr == 1.0:
            p.data -= t0                               # x^{(k)} = x^{(k-1)} - g~
        else:
            xp.multiply(t0, lr, out=t1)                # lr g~
            p.data -= t1                               # x^{(k)} = x^{(k-1)} - lr g~
        dx *= rho                                      # rho Delta x^{(k-1)}
        t0 *= t0                                       # g~^2
        t0 *= 1.0 - rho                                # (1 - rho) g~^2
        dx += t0                                       # Delta x^{(k)} = rho Dx + (1 - rho) g~^2
