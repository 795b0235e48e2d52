r"""Sharpness-aware minimisation: SAM (Foret, Kleiner, Mobahi & Neyshabur 2021; L0) and its
adaptive variant ASAM (Kwon, Kim, Park & Choi 2021)."""
from __future__ import annotations

import math

from minigrad import backend as B
from optimizers import _validate as V
from optimizers import nonfinite as NF
from optimizers.wrapper import Wrapper

__all__ = ["SAM"]


class SAM(Wrapper):
    r"""SAM: a base optimizer's step taken with the gradient at the worst nearby point.

    L0 (after Foret et al.): :math:`L^{SAM}(w) = \max_{\|\epsilon\|_p \le \rho} L(w + \epsilon)`,
    approximated to first order by

    .. math::
        \hat\epsilon(w) = \rho\, \frac{\mathrm{sign}(\nabla L)\,|\nabla L|^{q-1}}
                                     {\left(\|\nabla L\|_q^q\right)^{1/p}},
        \quad \tfrac1p + \tfrac1q = 1
        \qquad (p = 2:\ \hat\epsilon = \rho \nabla L / \|\nabla L\|_2), \\
        g = \nabla L_B(w)\big|_{w + \hat\epsilon(w)}, \qquad w_{t+1} = \mathrm{base\ step}(w_t, g)

    (with SGD as the base, :math:`w_{t+1} = w_t - \eta g`). ``adaptive=True`` is ASAM: the
    perturbation is measured in the parameter-scaled norm, with :math:`T_w = |w| + \eta_{A}`,
    :math:`h = T_w \nabla L`: :math:`\hat\epsilon = \rho\, T_w\, \mathrm{sign}(h) |h|^{q-1} /
    (\|h\|_q^q)^{1/p}` (for :math:`p = 2`: :math:`\rho T_w^2 \nabla L / \|T_w \nabla L\|_2`).
    The norm is taken over all parameters together.

    Two gradients per step, so ``step(closure)`` is required: the closure recomputes the loss
    and the gradients at the current parameters and returns the loss. It is called twice also
    when the gradient is exactly zero: :math:`\hat\epsilon` is then 0 (the test of the norm stays
    on the device), so the second gradient is taken at :math:`w` itself. The step calls it at
    :math:`w` (its loss is returned), moves to :math:`w + \hat\epsilon`, calls it again, restores
    :math:`w` exactly (from a copy) and lets the base optimizer step with the second gradient.

    ``SAM(params, base_optimizer=SGD, rho=0.05, adaptive=False, p=2, eta=0.01, **base_kwargs)`` or
    ``SAM(Adam(params), rho=...)``. Defaults: ``rho=0.05`` (Foret et al.; ASAM uses larger
    values, e.g. 0.5), ``p=2``, ``eta=0.01`` (ASAM's :math:`\eta_A`, used only when adaptive).
    """

    def __init__(self, params, base_optimizer=None, rho=0.05, adaptive=False, p=2.0, eta=0.01,
                 **base_kwargs):
        self.rho = V.real("SAM", "rho", rho, lo=0.0)
        self.adaptive = V.flag("SAM", "adaptive", adaptive)
        self.p = V.real("SAM", "p", p, lo=1.0, lo_open=True, finite=False)
        self.eta = V.real("SAM", "eta", eta, lo=0.0)
        super().__init__(params, base_optimizer, **base_kwargs)

    def _perturbations(self) -> list:
        r""":math:`\hat\epsilon` for every parameter with a gradient: a list of (p, eps_hat)."""
        p_norm = self.p
        q = 1.0 if math.isinf(p_norm) else p_norm / (p_norm - 1.0)   # 1/p + 1/q = 1
        items = []
        total = 0.0  # a float64 0-d array once a norm is added: the sum stays on the device
        for p in self.parameters():
            if p.grad is None:
                continue
            xp = B.get_array_module(p.data)
            T = xp.abs(p.data) + self.eta if self.adaptive else None  # T_w = |w| + eta (ASAM)
            h = p.grad * T if self.adaptive else p.grad               # h = T_w grad L (or grad L)
            if q == 2.0:
                total = total + xp.sum(h * h).astype(xp.float64)     # ||h||_2^2
            elif q != 1.0:
                total = total + xp.sum(xp.abs(h) ** q).astype(xp.float64)  # ||h||_q^q
            items.append((p, xp, T, h))
        if not items or self.rho == 0.0:
            return []
        if q != 1.0:
            denom = xp.float_power(total, 1.0 / p_norm)               # (||h||_q^q)^{1/p}
            ratio = _ratio(xp, self.rho, denom)                       # rho / denom (0 if g = 0)
        out = []
        for p, xp, T, h in items:
            if q == 2.0:
                e = h * ratio.astype(h.dtype)                         # rho h / ||h||_2
            elif q == 1.0:
                e = xp.sign(h) * self.rho                             # rho sign(h)  (p = inf)
            else:
                e = xp.sign(h) * xp.abs(h) ** (q - 1.0) * ratio.astype(h.dtype)  # rho sgn|h|^{q-1}
            if self.adaptive:
                e *= T                                                # T_w (...)  (ASAM)
            out.append((p, e))
        return out

    def step(self, closure=None):
        if closure is None:
            raise ValueError("SAM needs step(closure): the closure recomputes the loss and the "
                             "gradients at the current parameters (it is called twice per step)")
        loss = self._call_closure(closure)               # grad L at w
        if not self._admits():                           # nonfinite="raise" / "skip"
            return loss
        moves = self._perturbations()                    # eps_hat(w)
        saved = []
        for p, e in moves:
            saved.append((p, B.get_array_module(p.data).array(p.data, copy=True)))
            p.data += e                                  # w + eps_hat(w)
        if moves:
            try:
                self._call_closure(closure)              # g = grad L_B at w + eps_hat(w)
            finally:
                for p, w in saved:
                    p.data[...] = w                      # back to w, exactly
            if not self._admits(what="the gradient at w + eps_hat of"):
                return loss
            for p, e in moves:                           # NaN where eps_hat, so grad L at w, is
                if p.grad is not None:                   # inf/NaN ("propagate")
                    NF.mark(p.grad, e, scratch=self._scratch(p))
        self.base.step()                                 # w_{t+1} = base step with g
        self.step_count += 1
        return loss


def _ratio(xp, rho: float, denom):
    r""":math:`\rho / d` for :math:`d > 0` and 0 for :math:`d = 0` (a zero gradient: no ascent, the
    second gradient is taken at :math:`w` itself), as a float64 0-d array computed on the device
    (no host synchronisation to test :math:`d = 0`)."""
    zero = denom == 0
    return xp.where(zero, 0.0, rho / xp.where(zero, 1.0, denom))
