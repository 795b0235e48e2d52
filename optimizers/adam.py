r"""Adam and the methods that are "Adam plus one change".

:class:`Adam` writes its step as a chain of small hooks, in the order of the formulas::

    g  <- _gradient(p, g)              coupled weight decay (Adam's weight_decay); AdamW: none
    m  <- ema_(m, g, beta1)            m = beta1 m + (1 - beta1) g
    v  <- _second_moment(...)          v = beta2 v + (1 - beta2) g^2      AdaBelief, Adamax
    d  <- _denominator(...)            sqrt(v_hat) + eps                  AMSGrad, Adamax
          _decay_weights(...)          nothing; AdamW: x <- x - alpha lambda x
    x  <- _apply(...)                  x - alpha m_hat / d                NAdam, RAdam, AdaBound

and each variant overrides the one or two hooks that make it different:

==============  ======================================================================
AMSGrad         ``_denominator``: the running maximum of v (Reddi et al. 2018)
AdamW           ``_gradient`` and ``_decay_weights``: decoupled weight decay (L2, L4)
AdaBelief       ``_second_moment``: the EMA of (g - m)^2 + eps (Zhuang et al. 2020; L0)
NAdam           ``_apply``: Nesterov momentum in Adam (Dozat 2016)
RAdam           ``_apply``: the variance rectification (Liu et al. 2020)
Adamax          ``_second_moment`` and ``_denominator``: the infinity norm (Kingma & Ba 2015)
==============  ======================================================================

AdaBound / AMSBound (a clipped step size) live in :mod:`optimizers.adabound`.
"""
from __future__ import annotations

import math

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.base import Optimizer
from optimizers.inplace import (add_, addcdiv_, bias_corrected_root, decoupled_decay_, ema_,
                                ema_square_, root_plus_eps)

__all__ = ["Adam", "AMSGrad", "AdamW", "AdaBelief", "NAdam", "RAdam", "Adamax"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba 2015), as written in L0-L4:

    .. math::
        m^{(k)} &= \beta_1 m^{(k-1)} + (1 - \beta_1) g^{(k)} \\
        v^{(k)} &= \beta_2 v^{(k-1)} + (1 - \beta_2) (g^{(k)})^2 \\
        \hat m &= \frac{m^{(k)}}{1 - \beta_1^k}, \qquad \hat v = \frac{v^{(k)}}{1 - \beta_2^k} \\
        x^{(k)} &= x^{(k-1)} - \alpha \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    Defaults (the lectures' and torch.optim.Adam's): ``lr=1e-3``, ``betas=(0.9, 0.999)``,
    ``eps=1e-8``. ``weight_decay`` :math:`\lambda` adds :math:`\lambda x` to the gradient
    (coupled, an :math:`\ell_2` penalty, as torch's Adam; the adaptive denominator then rescales
    it, which is what :class:`AdamW` avoids). ``beta1`` follows ``lr.momentum(t)`` when the
    schedule has one (1cycle).
    """

    momentum_key = "betas"
    #: the name of the second-moment state (AdaBelief's is s, Adamax's u)
    v_name = "v"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 nonfinite=None, *, extra_defaults=None):
        # extra_defaults: the hyperparameters a subclass adds (its defaults flow up to here)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      **(extra_defaults or {})), nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["betas"] = V.betas(n, group["betas"])
        group["eps"] = V.real(n, "eps", group["eps"], lo=0.0, lo_open=True)
        group["weight_decay"] = V.real(n, "weight_decay", group["weight_decay"], lo=0.0)

    def _init_state(self, p, hp):
        xp = B.get_array_module(p.data)
        return {"k": 0, "m": xp.zeros_like(p.data), self.v_name: xp.zeros_like(p.data)}

    def _update(self, p, g, state, hp):
        beta1, beta2 = hp["betas"]
        k = state["k"] = state["k"] + 1
        tmp = self._scratch(p)
        g = self._gradient(p, g, hp)                                # g (+ lambda x: coupled)
        m = ema_(state["m"], g, beta1, tmp)                         # m = beta1 m + (1 - beta1) g
        v = state[self.v_name]
        self._second_moment(v, g, m, beta2, hp["eps"], tmp)         # v = beta2 v + (1 - beta2) g^2
        denom = self._denominator(state, k, hp, tmp)                # sqrt(v_hat) + eps
        self._decay_weights(p, hp)                                  # (AdamW only)
        self._apply(p, g, m, denom, tmp, state, k, hp)              # x = x - alpha m_hat / denom

    # ------------------------------------------------------------------ the hooks
    def _gradient(self, p, g, hp):
        """Coupled weight decay: g + lambda x (an l2 penalty in the loss)."""
        return self._coupled_decay(p, g, hp["weight_decay"])

    def _second_moment(self, v, g, m, beta2, eps, tmp):
        ema_square_(v, g, beta2, tmp)              # v = beta2 v + (1 - beta2) g^2

    def _denominator(self, state, k, hp, tmp):
        return bias_corrected_root(state[self.v_name], hp["betas"][1], k, hp["eps"], out=tmp)

    def _decay_weights(self, p, hp):
        """Decoupled weight decay; nothing in Adam (see AdamW)."""

    def _apply(self, p, g, m, denom, tmp, state, k, hp):
        alpha_hat = hp["lr"] / (1.0 - hp["betas"][0] ** k)  # alpha m_hat = alpha_hat m
        addcdiv_(p.data, m, denom, -alpha_hat, tmp)          # x = x - alpha m_hat / denom


class AMSGrad(Adam):
    r"""AMSGrad (Reddi, Kale & Kumar 2018, "On the Convergence of Adam and Beyond"; cited in L1,
    L2): Adam with the running maximum of the second moment in the denominator,

    .. math::
        \hat v^{(k)}_{\max} = \max(\hat v^{(k-1)}_{\max}, v^{(k)}), \qquad
        x^{(k)} = x^{(k-1)}
                  - \alpha \frac{\hat m}{\sqrt{\hat v_{\max} / (1 - \beta_2^k)} + \epsilon}

    so the effective step never grows: the fix of Adam's counterexample (a test runs it).
    ``max_of="v"`` (default: the paper and torch's ``Adam(amsgrad=True)``: the maximum of the raw
    :math:`v`, then bias-corrected) or ``"v_hat"`` (optax's ``amsgrad``: the maximum of the
    bias-corrected :math:`\hat v`). The paper itself has no bias correction. Defaults as
    :class:`Adam`.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 max_of="v", nonfinite=None, *, extra_defaults=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         nonfinite=nonfinite,
                         extra_defaults={"max_of": max_of, **(extra_defaults or {})})

    def _validate_group(self, group):
        super()._validate_group(group)
        group["max_of"] = V.choice(self.name, "max_of", group["max_of"], ("v", "v_hat"))

    def _init_state(self, p, hp):
        state = super()._init_state(p, hp)
        state["v_max"] = B.get_array_module(p.data).zeros_like(p.data)  # v_max^{(0)} = 0
        return state

    def _denominator(self, state, k, hp, tmp):
        xp = B.get_array_module(tmp)
        v, v_max, beta2, eps = state[self.v_name], state["v_max"], hp["betas"][1], hp["eps"]
        if hp["max_of"] == "v":
            xp.maximum(v_max, v, out=v_max)                          # v_max = max(v_max, v)
            return bias_corrected_root(v_max, beta2, k, eps, out=tmp)  # sqrt(v_max/(1-b2^k))+eps
        xp.multiply(v, 1.0 / (1.0 - beta2 ** k), out=tmp)            # v_hat = v / (1 - beta2^k)
        xp.maximum(v_max, tmp, out=v_max)                            # v_max = max(v_max, v_hat)
        return root_plus_eps(v_max, eps, out=tmp, inside=False)      # sqrt(v_max) + eps


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter 2019; L2, L4): Adam with decoupled weight decay,

    .. math::
        x^{(k)} = x^{(k-1)} - \alpha \left( \frac{\hat m}{\sqrt{\hat v} + \epsilon}
                  + \lambda x^{(k-1)} \right)

    the decay is applied to the weights, not added to the gradient (where Adam's denominator
    would rescale it). Defaults: torch.optim.AdamW's (``lr=1e-3``, ``betas=(0.9, 0.999)``,
    ``eps=1e-8``, ``weight_decay=1e-2``). As in torch, the decay uses the scheduled
    :math:`\alpha` (:math:`x \leftarrow (1 - \alpha\lambda) x`); the paper's schedule multiplier
    :math:`\eta_t` multiplies both terms, which is the same thing with ``lr`` a schedule.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 nonfinite=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         nonfinite=nonfinite)

    def _gradient(self, p, g, hp):
        return g                                   # no l2 term in the gradient

    def _decay_weights(self, p, hp):
        decoupled_decay_(p.data, hp["lr"], hp["weight_decay"])  # x = (1 - alpha lambda) x


class AdaBelief(Adam):
    r"""AdaBelief (Zhuang et al. 2020; L0): Adam whose second moment is the "belief" in the
    gradient, the EMA of its squared deviation from the momentum:

    .. math::
        s_t = \beta_2 s_{t-1} + (1 - \beta_2)(g_t - m_t)^2 + \epsilon, \qquad
        \hat s_t = \frac{s_t}{1 - \beta_2^t}, \qquad
        \theta_t = \theta_{t-1} - \alpha \frac{\hat m_t}{\sqrt{\hat s_t} + \epsilon}

    Defaults: ``lr=1e-3``, ``betas=(0.9, 0.999)``, ``eps=1e-16`` (the authors'
    ``adabelief-pytorch``: their 1e-16 inside :math:`s` plays the role of Adam's 1e-8);
    ``weight_decay`` is coupled here (the authors' package decouples it by default and can
    rectify as RAdam: neither is done here).
    """

    v_name = "s"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16, weight_decay=0.0,
                 nonfinite=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         nonfinite=nonfinite)

    def _second_moment(self, s, g, m, beta2, eps, tmp):
        belief = B.get_array_module(s).subtract(g, m, out=tmp)  # g_t - m_t
        ema_square_(s, belief, beta2, tmp)         # beta2 s_{t-1} + (1 - beta2)(g_t - m_t)^2
        s += eps                                   # s_t = ... + eps


class NAdam(Adam):
    r"""NAdam (Dozat 2016, "Incorporating Nesterov Momentum into Adam"): Adam whose update looks
    one momentum step ahead, with the paper's momentum schedule
    :math:`\mu_t = \beta_1 (1 - \tfrac12 0.96^{t\psi})`:

    .. math::
        \hat m_t = \frac{\mu_{t+1} m_t}{1 - \prod_{i=1}^{t+1}\mu_i}
                 + \frac{(1 - \mu_t) g_t}{1 - \prod_{i=1}^{t}\mu_i}, \qquad
        \theta_t = \theta_{t-1} - \alpha \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    (torch.optim.NAdam's form). Defaults are torch's: ``lr=2e-3``, ``betas=(0.9, 0.999)``,
    ``eps=1e-8``, ``momentum_decay=4e-3`` (:math:`\psi`, the paper's 1/250), coupled
    ``weight_decay=0``.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, nonfinite=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         nonfinite=nonfinite, extra_defaults={"momentum_decay": momentum_decay})

    def _validate_group(self, group):
        super()._validate_group(group)
        group["momentum_decay"] = V.real(self.name, "momentum_decay", group["momentum_decay"],
                                         lo=0.0)

    def _init_state(self, p, hp):
        state = super()._init_state(p, hp)
        state["mu_product"] = 1.0                  # prod_{i <= 0} mu_i
        return state

    def _apply(self, p, g, m, denom, tmp, state, k, hp):
        beta1, psi, alpha = hp["betas"][0], hp["momentum_decay"], hp["lr"]
        mu_k = beta1 * (1.0 - 0.5 * 0.96 ** (k * psi))            # mu_t
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((k + 1) * psi))   # mu_{t+1}
        state["mu_product"] *= mu_k                                # prod_{i <= t} mu_i
        prod = state["mu_product"]
        out = self._scratch(p, 2)
        # theta_t = theta_{t-1} - alpha m_hat / (sqrt(v_hat) + eps), m_hat's two terms in turn:
        addcdiv_(p.data, g, denom, -(alpha * (1.0 - mu_k) / (1.0 - prod)), out)   # (1 - mu_t) g_t
        addcdiv_(p.data, m, denom, -(alpha * mu_next / (1.0 - prod * mu_next)), out)  # mu_{t+1} m_t


class RAdam(Adam):
    r"""RAdam (Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond"):
    Adam whose adaptive step is switched on only once the variance of :math:`\hat v` is
    tractable, and then rectified:

    .. math::
        \rho_\infty = \frac{2}{1 - \beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}, \\
        \rho_t > 5:\ r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}
                                       {(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}},\
        \theta_t = \theta_{t-1} - \alpha r_t \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon};
        \quad\text{else } \theta_t = \theta_{t-1} - \alpha \hat m_t

    Defaults are torch's (``lr=1e-3``, ``betas=(0.9, 0.999)``, ``eps=1e-8``). torch puts
    :math:`\epsilon` on :math:`\sqrt{v}` before the bias correction; here it is Adam's
    :math:`\sqrt{\hat v} + \epsilon` (the paper has no :math:`\epsilon`).
    """

    def _apply(self, p, g, m, denom, tmp, state, k, hp):
        beta1, beta2 = hp["betas"]
        alpha_hat = hp["lr"] / (1.0 - beta1 ** k)  # alpha / (1 - beta1^t): alpha m_hat = . m
        rho_inf = 2.0 / (1.0 - beta2) - 1.0                          # rho_infinity
        rho_k = rho_inf - 2.0 * k * beta2 ** k / (1.0 - beta2 ** k)  # rho_t
        if rho_k > 5.0:
            r = math.sqrt((rho_k - 4.0) * (rho_k - 2.0) * rho_inf
                          / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_k))  # r_t
            addcdiv_(p.data, m, denom, -(alpha_hat * r), tmp)  # theta - alpha r_t m_hat / denom
        else:
            add_(p.data, m, -alpha_hat, tmp)       # theta - alpha m_hat (un-adapted momentum step)


class Adamax(Adam):
    r"""Adamax (Kingma & Ba 2015, section 7.1): Adam with the infinity norm in place of the
    second moment,

    .. math::
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \qquad
        \theta_t = \theta_{t-1} - \frac{\alpha}{1 - \beta_1^t} \frac{m_t}{u_t}

    (no bias correction of :math:`u`; the paper has no :math:`\epsilon`, torch.optim.Adamax adds
    it inside the maximum as here, so that :math:`u > 0`). Defaults are the paper's and torch's:
    ``lr=2e-3``, ``betas=(0.9, 0.999)``, ``eps=1e-8``.
    """

    v_name = "u"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 nonfinite=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         nonfinite=nonfinite)

    def _second_moment(self, u, g, m, beta2, eps, tmp):
        xp = B.get_array_module(u)
        u *= beta2                                           # beta2 u_{t-1}
        xp.maximum(u, xp.add(xp.abs(g, out=tmp), eps, out=tmp), out=u)  # max(., |g_t| + eps)

    def _denominator(self, state, k, hp, tmp):
        return state["u"]                          # u_t itself (no bias correction)
