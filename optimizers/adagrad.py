r"""Adagrad (Duchi, Hazan & Singer 2011), as written in L2 and L4 (also L0, L3)."""
from __future__ import annotations

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.base import Optimizer
from optimizers.inplace import add_square_, addcdiv_, root_plus_eps

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad: a per-coordinate step that shrinks with the sum of the squared gradients.

    L2 / L4 (Merkulov & Ostroukhov, week 14), for each coordinate :math:`j`:

    .. math::
        v_j^{(k)} = v_j^{(k-1)} + (g_j^{(k)})^2, \qquad
        x_j^{(k)} = x_j^{(k-1)} - \alpha \frac{g_j^{(k)}}{\sqrt{v_j^{(k)} + \epsilon}}

    with :math:`\epsilon \approx 10^{-6}` (L4). ``eps_inside=False`` puts :math:`\epsilon`
    outside the root, :math:`\alpha g / (\sqrt{v} + \epsilon)`, as L3, one slide of L4 and
    torch.optim.Adagrad do (torch's default is then ``eps=1e-10``).

    Defaults: ``lr=1e-2`` (L3: "usually 0.01"; torch's too), ``eps=1e-6`` (L4; torch 1e-10,
    outside), ``eps_inside=True`` (L2, L4; torch: outside), ``initial_accumulator_value=0``
    (torch's ``initial_accumulator_value``), ``weight_decay=0`` (coupled, as torch's). torch's
    ``lr_decay`` is a schedule here: ``lr=lambda t: lr0 / (1 + t * decay)``.
    """

    def __init__(self, params, lr=1e-2, eps=1e-6, eps_inside=True, initial_accumulator_value=0.0,
                 weight_decay=0.0, nonfinite=None):
        super().__init__(params, dict(lr=lr, eps=eps, eps_inside=eps_inside,
                                      initial_accumulator_value=initial_accumulator_value,
                                      weight_decay=weight_decay), nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["eps"] = V.real(n, "eps", group["eps"], lo=0.0, lo_open=True)
        group["eps_inside"] = V.flag(n, "eps_inside", group["eps_inside"])
        group["initial_accumulator_value"] = V.real(
            n, "initial_accumulator_value", group["initial_accumulator_value"], lo=0.0)
        group["weight_decay"] = V.real(n, "weight_decay", group["weight_decay"], lo=0.0)

    def _init_state(self, p, hp):
        xp = B.get_array_module(p.data)
        return {"v": xp.full_like(p.data, hp["initial_accumulator_value"])}  # v^{(0)}

    def _update(self, p, g, state, hp):
        tmp = self._scratch(p)
        g = self._coupled_decay(p, g, hp["weight_decay"])        # g <- g + lambda x (lambda > 0)
        v = add_square_(state["v"], g, tmp)                      # v_j = v_j + g_j^2
        denom = root_plus_eps(v, hp["eps"], tmp, hp["eps_inside"])  # sqrt(v_j + eps)
        addcdiv_(p.data, g, denom, -hp["lr"], tmp)               # x_j = x_j - alpha g_j / denom
