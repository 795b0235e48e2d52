r"""AdaBound and AMSBound (Luo, Xiong, Liu & Sun 2019, "Adaptive Gradient Methods with Dynamic
Bound of Learning Rate"; named in L0's chart): Adam / AMSGrad whose per-coordinate step size is
clipped into bounds that close in on a final SGD step size."""
from __future__ import annotations

from optimizers import _validate as V
from optimizers.adam import Adam, AMSGrad
from optimizers.inplace import addcmul_, clip_ratio

__all__ = ["AdaBound", "AMSBound"]


class AdaBound(Adam):
    r"""AdaBound: Adam with the step size :math:`\alpha / (\sqrt{\hat v} + \epsilon)` clipped
    into :math:`[\eta_l(t), \eta_u(t)]`, bounds that converge to ``final_lr``:

    .. math::
        \eta_l(t) = \eta^*\left(1 - \frac{1}{\gamma t + 1}\right), \quad
        \eta_u(t) = \eta^*\left(1 + \frac{1}{\gamma t}\right), \quad
        \eta_t = \mathrm{Clip}\left(\frac{\alpha}{(1 - \beta_1^t)(\sqrt{\hat v_t} + \epsilon)},
                                   \eta_l(t), \eta_u(t)\right), \quad
        x_t = x_{t-1} - \eta_t \odot m_t

    so it behaves like Adam early and like SGD (step :math:`\eta^*`) late. As in the authors'
    code (and every library), the bias correction of :math:`m` sits inside the clip and
    :math:`\eta^*` follows a schedule of ``lr``: :math:`\eta^* = ` ``final_lr`` :math:`\cdot
    \alpha_t / \alpha_0`; the paper's extra :math:`1/\sqrt t` factor is left out, as there.

    Where :math:`\epsilon` goes: here it is added to the root of the bias-corrected
    :math:`\hat v` (Adam's denominator :math:`\sqrt{\hat v_t} + \epsilon`). The authors' code
    adds it to the root of the raw :math:`v` and puts :math:`\sqrt{1 - \beta_2^t}` into the step
    size, :math:`\alpha\sqrt{1 - \beta_2^t} / ((1 - \beta_1^t)(\sqrt{v_t} + \epsilon))`, which
    is the formula above with :math:`\epsilon / \sqrt{1 - \beta_2^t}` in place of
    :math:`\epsilon`: the same step where :math:`\sqrt{\hat v} \gg \epsilon`, and an
    :math:`\epsilon` up to :math:`1/\sqrt{1 - \beta_2}` (31.6 for :math:`\beta_2 = 0.999`) times
    larger in the first steps there.

    Defaults (the authors'): ``lr=1e-3``, ``final_lr=0.1``, ``gamma=1e-3``, ``betas=(0.9,
    0.999)``, ``eps=1e-8``, ``weight_decay=0`` (coupled).
    """

    def __init__(self, params, lr=1e-3, final_lr=0.1, gamma=1e-3, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay=0.0, nonfinite=None, *, extra_defaults=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         nonfinite=nonfinite, extra_defaults={
                             "final_lr": final_lr, "gamma": gamma, **(extra_defaults or {})})

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["final_lr"] = V.real(n, "final_lr", group["final_lr"], lo=0.0)
        group["gamma"] = V.real(n, "gamma", group["gamma"], lo=0.0, lo_open=True)

    def _hyperparameters(self, group, t, record=True):
        hp = super()._hyperparameters(group, t, record)
        lr = group["lr"]  # alpha_0, the lr at step 0, which final_lr is relative to
        hp["base_lr"] = V.scheduled(self.name, "lr", lr, 0) if callable(lr) else lr
        return hp

    def _apply(self, p, g, m, denom, tmp, state, k, hp):
        alpha, beta1, gamma, base = hp["lr"], hp["betas"][0], hp["gamma"], hp["base_lr"]
        eta_star = hp["final_lr"] * (alpha / base if base > 0.0 else 1.0)  # final_lr a_t / a_0
        lower = eta_star * (1.0 - 1.0 / (gamma * k + 1.0))     # eta_l(t)
        upper = eta_star * (1.0 + 1.0 / (gamma * k))           # eta_u(t)
        # eta_t = Clip(alpha / ((1 - beta1^t)(sqrt(v_hat) + eps)), eta_l, eta_u)
        eta = clip_ratio(alpha / (1.0 - beta1 ** k), denom, lower, upper, out=tmp)
        addcmul_(p.data, eta, m, -1.0, tmp)                    # x_t = x_{t-1} - eta_t * m_t


class AMSBound(AdaBound, AMSGrad):
    r"""AMSBound: AdaBound on AMSGrad's denominator (the running maximum of :math:`v`; see
    :class:`~optimizers.adam.AMSGrad` for ``max_of``). Defaults as :class:`AdaBound`."""

    def __init__(self, params, lr=1e-3, final_lr=0.1, gamma=1e-3, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay=0.0, max_of="v", nonfinite=None):
        # AdaBound's __init__, then (by the method resolution order) AMSGrad's and Adam's
        super().__init__(params, lr=lr, final_lr=final_lr, gamma=gamma, betas=betas, eps=eps,
                         weight_decay=weight_decay, nonfinite=nonfinite,
                         extra_defaults={"max_of": max_of})
