r"""What the wrappers (SAM, Lookahead) share: they drive a base optimizer over the same parameter
groups (``wrapper.param_groups is wrapper.base.param_groups``) and save its state_dict as
``"base"`` in theirs.

A wrapper changes *where* or *how often* the base update :math:`w \leftarrow
\mathcal U_{\text{base}}(w, g)` is applied, never the base update itself:

* SAM (L0, Foret et al. 2020): :math:`\hat\epsilon = \rho\,g/\|g\|_2`, then
  :math:`w \leftarrow \mathcal U_{\text{base}}\bigl(w, \nabla L(w + \hat\epsilon)\bigr)`
  (:mod:`optimizers.sam`);
* Lookahead (Zhang et al. 2019, L0's chart): :math:`k` base steps from the slow weights
  :math:`\phi`, then :math:`\phi \leftarrow \phi + \alpha(\theta_k - \phi)`
  (:mod:`optimizers.lookahead`).
"""
from __future__ import annotations

from optimizers.base import Optimizer

__all__ = ["Wrapper"]


class Wrapper(Optimizer):
    """Base class of optimizers that wrap another one (``self.base``).

    Built either around an optimizer (``Lookahead(Adam(params, lr=1e-3))``) or from parameters,
    a base class and its keyword arguments (``Lookahead(params, base_optimizer=Adam, lr=1e-3)``;
    the default base is :class:`~optimizers.sgd.SGD`).
    """

    _saves_groups = False

    def __init__(self, params, base_optimizer=None, **base_kwargs):
        if isinstance(params, Optimizer):
            if base_optimizer is not None or base_kwargs:
                raise ValueError(f"{type(self).__name__}: given an optimizer to wrap, pass no "
                                 f"base_optimizer or base keyword arguments "
                                 f"(got {sorted(base_kwargs) or base_optimizer!r})")
            base = params
        else:
            if base_optimizer is None:
                from optimizers.sgd import SGD  # noqa: PLC0415 (avoid a cycle at import)
                base_optimizer = SGD
            if not (isinstance(base_optimizer, type) and issubclass(base_optimizer, Optimizer)):
                raise ValueError(f"{type(self).__name__}: base_optimizer must be an Optimizer "
                                 f"class; got {base_optimizer!r}")
            base = base_optimizer(params, **base_kwargs)
        self.base = base
        self.defaults = base.defaults
        self.param_groups = base.param_groups
        self.state = {}
        self.step_count = 0
        self._buffers = {}
        self.nonfinite = base.nonfinite  # the wrapped optimizer's policy, checked by both
        self.skipped_steps = 0

    def add_param_group(self, group: dict) -> None:
        self.base.add_param_group(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.base.zero_grad(set_to_none)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "base": self.base.state_dict()}

    def _prepare_load(self, sd: dict):
        own = {k: v for k, v in sd.items() if k != "base"}
        install_own, base_sd = super()._prepare_load(own), self._entry(sd, "base")
        try:
            install_base = self.base._prepare_load(base_sd)
        except ValueError as e:
            raise ValueError(f"{self.name}.load_state_dict: in 'base' (the wrapped optimizer's "
                             f"state): {e}") from None

        def install():
            install_base()
            install_own()
        return install
