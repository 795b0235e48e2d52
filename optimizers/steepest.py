r"""Steepest descent in a chosen norm: normalised GD, non-Euclidean GD, sign descent.

Lecture L2 (Merkulov & Ostroukhov, week 14, "intuition behind Muon"; docs/lectures.md section 6)
after
Bernstein & Newhouse, "Old Optimizer, New Norm: An Anthology" (2024). GD is a model step,

.. math::

    x_{k+1} = \arg\min_x f(x_k) + \langle g, x - x_k\rangle + \frac{1}{2\alpha}\|x - x_k\|^2
            = x_k + \alpha \|g\|^* \,\mathrm{LMO}(g)   \qquad\text{(non-Euclidean GD)},

and with the step length fixed instead of penalised,

.. math::

    x_{k+1} = \arg\min_{\|x - x_k\| = \alpha} f(x_k) + \langle g, x - x_k\rangle
            = x_k + \alpha\,\mathrm{LMO}(g)            \qquad\text{(normalised GD)},

where :math:`g = \nabla f(x_k)`, :math:`\|g\|^*` is the dual norm and LMO the linear minimisation
oracle (:mod:`optimizers.norms`). In the Euclidean norm these are GD and
:math:`x_k - \alpha g/\|g\|_2`; in :math:`\ell_\infty` the normalised step is sign descent
:math:`x_k - \alpha\,\mathrm{sign}(g)`; in the spectral norm of a matrix it is
:math:`W_k - \alpha UV^\top`, Muon without momentum.

The vector :math:`x` is a whole parameter group (see :mod:`optimizers.norms` for how a norm
acts on several parameters: vector norms on their concatenation, matrix norms as the max over the
matrices).
"""
from __future__ import annotations

from optimizers import _validate as V
from optimizers import nonfinite as NF
from optimizers.base import Optimizer
from optimizers.inplace import add_
from optimizers.norms import Norm, get_norm, inner

__all__ = ["SteepestDescent", "NormalizedGD"]


class SteepestDescent(Optimizer):
    r"""Steepest descent in the norm ``norm`` (L2):

    .. math::

        \text{normalized=False:}\quad x_{k+1} = x_k + \alpha \|g\|^*\,\mathrm{LMO}(g), \qquad
        \text{normalized=True:}\quad x_{k+1} = x_k + \alpha\,\mathrm{LMO}(g).

    ``norm``: ``"l2"`` (default), ``"linf"`` (sign descent), ``"l1"`` (greedy coordinate descent),
    ``"frobenius"``, ``"spectral"``, ``"nuclear"`` (matrix parameters only), or a
    :class:`~optimizers.norms.Norm` instance such as ``Spectral(polar="newton_schulz")``.
    ``normalized`` defaults to False, the lecture's first form (for ``"l2"`` it is plain GD).
    The dual norm is computed as :math:`\|g\|^* = -\langle g, \mathrm{LMO}(g)\rangle`, the lecture's
    identity, so one LMO serves both forms (and an approximate spectral LMO gives the matching
    approximate dual norm). Default ``lr=1e-2``. No per-parameter state.
    """

    def __init__(self, params, lr=1e-2, norm="l2", normalized=False, nonfinite=None):
        super().__init__(params, dict(lr=lr, norm=norm, normalized=normalized), nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        try:
            nrm = get_norm(group["norm"])
        except ValueError as exc:
            raise ValueError(f"{self.name}: invalid norm={group['norm']!r}; {exc}") from None
        for j, p in enumerate(group["params"]):
            if nrm.matrix and p.ndim != 2:
                raise ValueError(f"{self.name}: invalid norm={group['norm']!r} for parameter {j} "
                                 f"of shape {tuple(p.shape)}; the {nrm.name} norm needs matrix "
                                 f"(2-D) parameters")
        group["normalized"] = V.flag(self.name, "normalized", group["normalized"])

    def step(self, closure=None):
        """One step on every group: the group's gradients are one vector :math:`g`."""
        loss = closure() if closure is not None else None
        if not self._admits():  # nonfinite="raise" / "skip": check before any change
            return loss
        t = self.step_count
        for group in self.param_groups:
            hp = self._hyperparameters(group, t)
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._group_update(params, [p.grad for p in params], hp)
        self.step_count += 1
        return loss

    def _group_update(self, params, gs, hp):
        nrm: Norm = get_norm(hp["norm"])
        d = nrm.lmo_blocks(gs)  # LMO(g) (fresh arrays)
        scale = hp["lr"]  # alpha
        if not hp["normalized"]:
            dual = -sum(inner(g, di) for g, di in zip(gs, d))  # ||g||_* = -<g, LMO(g)>
            scale = dual * hp["lr"]  # alpha ||g||_*
        for p, g, di in zip(params, gs, d):
            NF.mark(di, g, scratch=self._scratch(p))  # NaN where g is inf/NaN (an LMO hides it)
            add_(p.data, di, scale, scratch=di)  # x_{k+1} = x_k + alpha [||g||_*] LMO(g)


class NormalizedGD(SteepestDescent):
    r"""Normalised gradient descent (L2): the Euclidean case of normalised steepest descent,

    .. math::

        x_{k+1} = \arg\min_{\|x - x_k\|_2 = \alpha}\langle \nabla f(x_k), x - x_k\rangle
                = x_k - \alpha \frac{\nabla f(x_k)}{\|\nabla f(x_k)\|_2}.

    Every step has length exactly :math:`\alpha` (the gradient of a parameter group is one vector),
    so with a constant step it ends oscillating at a distance of order :math:`\alpha` from a minimum:
    use a decreasing schedule to converge. Default ``lr=1e-2``; ``x`` stays put where
    :math:`g = 0`.
    """

    def __init__(self, params, lr=1e-2, nonfinite=None):
        super().__init__(params, lr=lr, norm="l2", normalized=True, nonfinite=nonfinite)

    def _validate_group(self, group):
        if group.get("norm") != "l2" or group.get("normalized") is not True:
            raise ValueError(f"{self.name}: norm and normalized are fixed ('l2', True); got "
                             f"norm={group.get('norm')!r}, normalized={group.get('normalized')!r}")
        super()._validate_group(group)
