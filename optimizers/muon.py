r"""Muon: momentum, then the polar factor of each weight matrix's update (L2).

Lecture L2 (Merkulov & Ostroukhov, week 14, slide "Muon", after Bernstein's "Deriving Muon"):

.. math::

    W_{t+1} = W_t - \eta (G_tG_t^\top)^{-1/4} G_t (G_t^\top G_t)^{-1/4} = W_t - \eta\,UV^\top,

the normalised steepest-descent step in the spectral norm (:mod:`optimizers.steepest`), applied
to the momentum-averaged gradient of each matrix parameter, with :math:`UV^\top` computed by
Newton–Schulz iterations (:mod:`optimizers.newton_schulz`). The practical details follow Keller
Jordan's reference implementation (github.com/KellerJordan/Muon, ``muon.py``): EMA momentum
with Nesterov's look-ahead, Muon's tuned quintic for five steps, the shape factor
:math:`\sqrt{\max(1, m/n)}` and decoupled weight decay; the parameters that are not matrices go to
AdamW ("MuonWithAuxAdam").
"""
from __future__ import annotations

import math

from minigrad import backend as B
from optimizers import _validate as V
from optimizers import newton_schulz as ns
from optimizers.adam import AdamW
from optimizers.base import Optimizer
from optimizers.inplace import add_, decoupled_decay_, ema_, scale_add_

__all__ = ["Muon", "orthogonalize"]

POLAR_METHODS = ("newton_schulz", "polar_express", "cubic", "svd")


def orthogonalize(G, method: str = "newton_schulz", steps: int = 5):
    r"""An (approximate) polar factor :math:`UV^\top` of the matrix ``G``: Muon's quintic
    (``"newton_schulz"``), ``"polar_express"``, the ``"cubic"`` Newton–Schulz iteration, or the
    exact ``"svd"``."""
    if method == "newton_schulz":
        return ns.newton_schulz_quintic(G, steps=steps)
    if method == "polar_express":
        return ns.polar_express(G, steps=steps)
    if method == "cubic":
        return ns.newton_schulz_cubic(G, steps=steps)
    if method == "svd":
        return ns.polar_factor_svd(G)
    raise ValueError(f"orthogonalize: invalid method={method!r}; expected one of {POLAR_METHODS}")


class Muon(Optimizer):
    r"""Muon (Jordan et al. 2024; L2) for matrix parameters, AdamW for the others.

    For a matrix parameter :math:`W \in \mathbb{R}^{m\times n}` with gradient :math:`G_t`:

    .. math::

        M_t &= \beta M_{t-1} + (1 - \beta) G_t \\
        \tilde G_t &= (1 - \beta) G_t + \beta M_t \quad\text{(Nesterov; } \tilde G_t = M_t
                     \text{ without)} \\
        O_t &= \mathrm{NS}_5(\tilde G_t) \approx UV^\top, \quad \tilde G_t = U\Sigma V^\top \\
        W_{t+1} &= (1 - \eta\lambda) W_t - \eta \sqrt{\max(1, m/n)}\; O_t

    Hyperparameters (Keller Jordan's defaults): ``lr=0.02`` (:math:`\eta`, "in units of spectral
    norm per update"), ``momentum=0.95`` (:math:`\beta`), ``nesterov=True``, ``weight_decay=0``
    (:math:`\lambda`, decoupled), ``ns_steps=5``, ``polar="newton_schulz"`` (Muon's quintic; or
    ``"polar_express"``, ``"cubic"``, ``"svd"``). Parameters with more than two axes (convolution
    filters) are viewed as ``(shape[0], -1)`` matrices, as in the reference.

    **Partition.** Muon is for the hidden weight matrices. Each parameter goes to Muon or to AdamW
    by its group's ``use_muon``: ``True`` (every parameter must have ``ndim >= 2``), ``False``, or
    ``None`` (the default: Muon for ``ndim >= 2``, AdamW for biases, gains and scalars). The
    reference recommends AdamW also for the input embedding and the output layer, which are
    matrices: put them in a group with ``use_muon=False``::

        Muon([{"params": hidden_weights},
              {"params": [*embedding.parameters(), *head.parameters()], "use_muon": False}])

    The other parameters belong to ``opt.adamw``, an :class:`~optimizers.adam.AdamW` that Muon
    holds (as optax's contrib Muon partitions the parameters between two transformations): one
    AdamW group per Muon group that has such parameters, with the group's ``adamw_lr=3e-4`` (a
    number or a schedule), ``adamw_betas=(0.9, 0.95)``, ``adamw_eps=1e-10`` and
    ``adamw_weight_decay=0`` (the reference's ``MuonWithAuxAdam`` defaults) as its ``lr``,
    ``betas``, ``eps`` and ``weight_decay``. The ``adamw_*`` entries of the Muon group are the
    ones to change (and the ones saved); each step copies them into the AdamW group, and AdamW's
    own update, state initialisation and schedule handling do the rest. All the state lives in
    ``opt.state``, so one state_dict holds both parts. A schedule ``lr`` with a ``momentum``
    attribute (1cycle) drives Muon's :math:`\beta` and AdamW's :math:`\beta_1` together (without
    one, a 1cycle ``adamw_lr`` drives AdamW's :math:`\beta_1`, as it would in AdamW).
    """

    momentum_key = "momentum"
    #: the AdamW hyperparameter that each ``adamw_*`` entry of a Muon group sets
    ADAMW_KEYS = {"adamw_lr": "lr", "adamw_betas": "betas", "adamw_eps": "eps",
                  "adamw_weight_decay": "weight_decay"}

    def __init__(self, params, lr=0.02, momentum=0.95, nesterov=True, weight_decay=0.0,
                 ns_steps=5, polar="newton_schulz", use_muon=None, adamw_lr=3e-4,
                 adamw_betas=(0.9, 0.95), adamw_eps=1e-10, adamw_weight_decay=0.0,
                 nonfinite=None):
        #: the AdamW of the parameters Muon does not orthogonalise (None while there are none)
        self.adamw: AdamW | None = None
        self._adamw_groups: list = []  # per Muon group (by position): its AdamW group, or None
        super().__init__(params, dict(
            lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay,
            ns_steps=ns_steps, polar=polar, use_muon=use_muon, adamw_lr=adamw_lr,
            adamw_betas=adamw_betas, adamw_eps=adamw_eps, adamw_weight_decay=adamw_weight_decay),
                         nonfinite=nonfinite)

    def add_param_group(self, group: dict) -> None:
        """Add a Muon group; its parameters that Muon does not orthogonalise also form a group
        of ``opt.adamw``."""
        super().add_param_group(group)
        self._partition(len(self.param_groups) - 1)

    def _partition(self, gi: int):
        """The AdamW group of Muon group ``gi``, made or brought up to date (its parameters that
        Muon does not orthogonalise, which ``use_muon`` decides, and its ``adamw_*`` entries);
        None when Muon orthogonalises all of them."""
        group = self.param_groups[gi]
        others = [p for p in group["params"] if not self.uses_muon(p, group)]
        self._adamw_groups += [None] * (gi + 1 - len(self._adamw_groups))
        adamw_group = self._adamw_groups[gi]
        if adamw_group is None and others:
            if self.adamw is None:
                self.adamw = AdamW([{"params": others, **self._adamw_entries(group)}])
                self.adamw._buffers = self._buffers  # one set of scratch buffers for both parts
            else:
                self.adamw.add_param_group({"params": others, **self._adamw_entries(group)})
            adamw_group = self._adamw_groups[gi] = self.adamw.param_groups[-1]
        elif adamw_group is not None:
            adamw_group["params"] = others  # (checked by Muon when its group was added)
            adamw_group.update(self._adamw_entries(group))  # the adamw_* entries, as they are now
        return adamw_group if others else None

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["momentum"] = V.real(n, "momentum", group["momentum"], lo=0.0, hi=1.0, hi_open=True)
        group["nesterov"] = V.flag(n, "nesterov", group["nesterov"])
        group["weight_decay"] = V.real(n, "weight_decay", group["weight_decay"], lo=0.0)
        group["ns_steps"] = V.integer(n, "ns_steps", group["ns_steps"], lo=1)
        group["polar"] = V.choice(n, "polar", group["polar"], POLAR_METHODS)
        use = group["use_muon"]
        if use is not None:
            use = V.flag(n, "use_muon", use)
            if use:
                for j, p in enumerate(group["params"]):
                    if p.ndim < 2:
                        raise ValueError(f"{n}: invalid use_muon=True for parameter {j} of shape "
                                         f"{tuple(p.shape)}; Muon needs matrices (ndim >= 2)")
        group["use_muon"] = use
        group["adamw_lr"] = V.learning_rate(n, group["adamw_lr"], name="adamw_lr")
        group["adamw_betas"] = V.betas(n, group["adamw_betas"], name="adamw_betas")
        group["adamw_eps"] = V.real(n, "adamw_eps", group["adamw_eps"], lo=0.0, lo_open=True)
        group["adamw_weight_decay"] = V.real(n, "adamw_weight_decay", group["adamw_weight_decay"],
                                             lo=0.0)

    def _adamw_entries(self, group) -> dict:
        """The group's ``adamw_*`` entries under AdamW's names."""
        return {name: group[key] for key, name in self.ADAMW_KEYS.items()}

    def _hyperparameters(self, group, t, record=True):
        hp = super()._hyperparameters(group, t, record)
        others = [p for p in group["params"] if not self.uses_muon(p, group)]
        if not others:
            return hp
        lr = group["adamw_lr"]
        if callable(lr):  # a bad schedule value is named as Muon's adamw_lr
            V.scheduled(self.name, "adamw_lr", lr, t)
        gi = next((i for i, g in enumerate(self.param_groups) if g is group), None)
        if record and gi is not None:  # a step: the AdamW group records lr and last_lr
            adamw_group = self._partition(gi)
            adamw = self.adamw
        else:  # checking a state_dict (a copy of a group): nothing is made or recorded
            adamw_group = {"params": others, **self._adamw_entries(group)}
            adamw = self.adamw if self.adamw is not None else AdamW([adamw_group])
        hp["adamw"] = adamw._hyperparameters(adamw_group, t, record)
        hp["_adamw"] = adamw
        lr = group.get("lr")
        if callable(lr) and getattr(lr, "momentum", None) is not None:
            # a 1cycle momentum schedule drives Muon's beta and AdamW's beta1 alike
            hp["adamw"]["betas"] = (hp["momentum"], hp["adamw"]["betas"][1])
        return hp

    @staticmethod
    def uses_muon(p, group) -> bool:
        """Whether parameter ``p`` of ``group`` is updated by Muon (else by AdamW)."""
        use = group.get("use_muon")
        return p.ndim >= 2 if use is None else bool(use)

    def _init_state(self, p, hp):
        if self.uses_muon(p, hp):
            return {"momentum_buffer": B.get_array_module(p.data).zeros_like(p.data)}  # M_0 = 0
        return hp["_adamw"]._init_state(p, hp["adamw"])  # AdamW's k, m, v

    def _update(self, p, g, state, hp):
        if not self.uses_muon(p, hp):
            return hp["_adamw"]._update(p, g, state, hp["adamw"])  # AdamW's step
        if p.size == 0:  # a matrix with no entries: nothing to orthogonalise or move
            return
        beta, lr, tmp = hp["momentum"], hp["lr"], self._scratch(p)
        # M_t = beta M_{t-1} + (1 - beta) G_t
        M = ema_(state["momentum_buffer"], g, beta, tmp)
        # G~_t = (1 - beta) G_t + beta M_t (Nesterov), or M_t
        G = scale_add_(g, 1 - beta, M, beta, self._scratch(p, 1), out=tmp) if hp["nesterov"] else M
        # O_t = NS(G~_t) ~ U V^T, a convolution filter viewed as an (out, in kh kw) matrix
        m, n = p.shape[0], math.prod(p.shape[1:])
        O = orthogonalize(G.reshape(m, n), hp["polar"], hp["ns_steps"]).reshape(p.shape)
        # W_{t+1} = (1 - eta lambda) W_t - eta sqrt(max(1, m/n)) O_t
        decoupled_decay_(p.data, lr, hp["weight_decay"])
        add_(p.data, O, -lr * math.sqrt(max(1.0, m / n)), scratch=O)
