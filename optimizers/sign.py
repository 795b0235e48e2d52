r"""Sign methods: signSGD and Signum (Bernstein et al. 2018), Lion (Chen et al. 2023).

Sign descent is steepest descent in the :math:`\ell_\infty` norm: its linear minimisation oracle
is :math:`-\mathrm{sign}(g)` (L2, non-Euclidean steepest descent). Each coordinate moves by exactly
the step size (or stays when its direction is 0).
"""
from __future__ import annotations

from minigrad import backend as B
from optimizers import _validate as V
from optimizers import nonfinite as NF
from optimizers.base import Optimizer
from optimizers.inplace import add_, decoupled_decay_, ema_

__all__ = ["SignSGD", "Signum", "Lion"]


class SignSGD(Optimizer):
    r"""signSGD (Bernstein, Wang, Azizzadenesheli & Anandkumar 2018):

    .. math::
        x_{k+1} = x_k - \alpha_k\,\mathrm{sign}(g_k)

    with :math:`\mathrm{sign}(0) = 0`. Default ``lr=1e-3``. A constant step cannot converge
    closer than about :math:`\alpha` per coordinate: use a decaying schedule.
    """

    def __init__(self, params, lr=1e-3, nonfinite=None, *, extra_defaults=None):
        # extra_defaults: the hyperparameters a subclass adds (its defaults flow up to here)
        super().__init__(params, dict(lr=lr, **(extra_defaults or {})), nonfinite=nonfinite)

    def _direction(self, p, g, state, hp, tmp):
        """The vector whose sign is the step: the gradient itself."""
        return g

    def _decay_weights(self, p, hp):
        """Decoupled weight decay; none in signSGD and Signum (see Lion)."""

    def _update(self, p, g, state, hp):
        xp = B.get_array_module(p.data)
        tmp = self._scratch(p)
        d = self._direction(p, g, state, hp, tmp)  # g (signSGD), m (Signum), c (Lion)
        self._decay_weights(p, hp)                 # (Lion only)
        s = xp.sign(d, out=tmp)                    # sign(d)
        NF.mark(s, g, scratch=self._scratch(p, 1))  # NaN where g is inf/NaN (sign hides it)
        add_(p.data, s, -hp["lr"], s)              # x_{k+1} = x_k - alpha sign(d)


class Signum(SignSGD):
    r"""Signum (Bernstein et al. 2018): signSGD on the momentum,

    .. math::
        m_k = \beta m_{k-1} + (1 - \beta) g_k, \qquad x_{k+1} = x_k - \alpha_k\,\mathrm{sign}(m_k)

    Defaults: ``lr=1e-3``, ``momentum=0.9`` (the paper's :math:`\beta`).
    """

    momentum_key = "momentum"

    def __init__(self, params, lr=1e-3, momentum=0.9, nonfinite=None):
        super().__init__(params, lr=lr, nonfinite=nonfinite, extra_defaults={"momentum": momentum})

    def _validate_group(self, group):
        super()._validate_group(group)
        group["momentum"] = V.real(self.name, "momentum", group["momentum"], lo=0.0, hi=1.0,
                                   hi_open=True)

    def _init_state(self, p, hp):
        return {"m": B.get_array_module(p.data).zeros_like(p.data)}  # m_0 = 0

    def _direction(self, p, g, state, hp, tmp):
        return ema_(state["m"], g, hp["momentum"], tmp)  # m_k = beta m_{k-1} + (1 - beta) g_k


class Lion(SignSGD):
    r"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): the sign of an
    interpolation between the momentum and the gradient, with a second, slower momentum:

    .. math::
        c_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        x_t = x_{t-1} - \alpha_t (\mathrm{sign}(c_t) + \lambda x_{t-1}), \qquad
        m_t = \beta_2 m_{t-1} + (1 - \beta_2) g_t

    With :math:`\beta_1 = \beta_2 = 0` it is signSGD; with :math:`\beta_1 = \beta_2 = \beta` it
    is Signum (tests check both). Defaults (the paper's): ``lr=1e-4``, ``betas=(0.9, 0.99)``,
    ``weight_decay=0`` (decoupled, :math:`\lambda`).
    """

    momentum_key = "betas"

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, nonfinite=None):
        super().__init__(params, lr=lr, nonfinite=nonfinite,
                         extra_defaults={"betas": betas, "weight_decay": weight_decay})

    def _init_state(self, p, hp):
        return {"m": B.get_array_module(p.data).zeros_like(p.data)}  # m_0 = 0

    def _validate_group(self, group):
        super()._validate_group(group)
        group["betas"] = V.betas(self.name, group["betas"])
        group["weight_decay"] = V.real(self.name, "weight_decay", group["weight_decay"], lo=0.0)

    def _direction(self, p, g, state, hp, tmp):
        (beta1, beta2), m, other = hp["betas"], state["m"], self._scratch(p, 1)
        c = ema_(m, g, beta1, other, out=tmp)      # c_t = beta1 m_{t-1} + (1 - beta1) g_t
        ema_(m, g, beta2, other)                   # m_t = beta2 m_{t-1} + (1 - beta2) g_t
        return c

    def _decay_weights(self, p, hp):
        decoupled_decay_(p.data, hp["lr"], hp["weight_decay"])  # x_{t-1} - alpha lambda x_{t-1}
