r"""Lookahead (Zhang, Lucas, Hinton & Ba 2019, "Lookahead Optimizer: k steps forward, 1 step
back"; named in L0's chart)."""
from __future__ import annotations

from minigrad import backend as B
from optimizers.inplace import add_
from optimizers import _validate as V
from optimizers import nonfinite as NF
from optimizers.wrapper import Wrapper

__all__ = ["Lookahead"]


class Lookahead(Wrapper):
    r"""Lookahead: the base ("fast") optimizer takes :math:`k` steps, then the slow weights move
    a fraction :math:`\alpha` towards the fast ones and the fast weights restart from there:

    .. math::
        \theta_{t,i} = \mathrm{base\ step}(\theta_{t,i-1}),\ i = 1..k; \qquad
        \phi_{t+1} = \phi_t + \alpha(\theta_{t,k} - \phi_t); \qquad \theta_{t+1,0} = \phi_{t+1}

    with :math:`\phi_0 = \theta_0` (the parameters when the first step starts). With
    :math:`k = 1, \alpha = 1` it is the base optimizer (a test checks it).

    ``Lookahead(params, base_optimizer=SGD, k=5, alpha=0.5, **base_kwargs)`` or
    ``Lookahead(Adam(params), k=5, alpha=0.5)``. Defaults are the paper's (``k=5``,
    ``alpha=0.5``). ``step(closure)`` passes the closure to the base optimizer (so Lookahead
    wraps SAM or a look-ahead NAG as well).
    """

    def __init__(self, params, base_optimizer=None, k=5, alpha=0.5, **base_kwargs):
        self.k = V.integer("Lookahead", "k", k, lo=1)
        self.alpha = V.real("Lookahead", "alpha", alpha, lo=0.0, hi=1.0)
        super().__init__(params, base_optimizer, **base_kwargs)

    def _init_state(self, p, hp):
        return {"slow": B.get_array_module(p.data).array(p.data, copy=True)}  # phi_0 = theta_0

    def step(self, closure=None):
        fresh = [p for p in self.parameters() if p not in self.state]
        for group in self.param_groups:
            for p in group["params"]:
                self._state_of(p, group)                # phi_0 = theta_0 at the first step
        skipped = self.base.skipped_steps
        try:
            loss = self.base.step(closure)              # theta_{t,i} = base step
        except NF.NonFiniteError as exc:                # nonfinite="raise": nothing changed
            for p in fresh:
                del self.state[p]
            raise NF.NonFiniteError(f"{self.name}, in its base optimizer: {exc}") from None
        if self.base.skipped_steps != skipped:          # skipped (nonfinite="skip"): so is this
            for p in fresh:
                del self.state[p]
            self.skipped_steps += 1
            return loss
        self.step_count += 1
        if self.step_count % self.k == 0:
            for p in self.parameters():
                phi = self.state[p]["slow"]
                tmp = self._scratch(p)
                diff = B.get_array_module(phi).subtract(p.data, phi, out=tmp)  # theta_{t,k} - phi_t
                add_(phi, diff, self.alpha, tmp)        # phi_{t+1} = phi_t + alpha (theta - phi)
                p.data[...] = phi                       # theta_{t+1,0} = phi_{t+1}
        return loss
