r"""The base of the closure-driven optimizers that see all parameters as one flat vector
(BFGS, L-BFGS and the zero-order methods): :class:`ClosureObjective`, an
:class:`~optimizers.objective.Objective` evaluated through the user's closure, and
:class:`VectorOptimizer`. The model is torch.optim.LBFGS (Paszke et al., "PyTorch: an imperative
style, high-performance deep learning library", 2019).
"""
from __future__ import annotations

import json
import math

from minigrad import backend as B
from optimizers import _validate as V
from optimizers import nonfinite as NF
from optimizers.base import Optimizer
from optimizers import objective
from optimizers.objective import Objective

__all__ = ["ClosureObjective", "VectorOptimizer"]


# --------------------------------------------------------------------------- closures
class ClosureObjective(Objective):
    r"""An :class:`Objective` over an optimizer's parameters seen as one flat vector :math:`x`
    (torch.optim.LBFGS's model), evaluated through the user's closure.

    ``f(x)`` / ``fg(x)`` write :math:`x` into the parameters (in place), clear their gradients,
    call ``closure()`` (which computes the loss, calls ``backward()`` when gradients are wanted,
    and returns the loss) and read the loss (and the gradients: a parameter without one counts as
    zero). Counting as for :class:`Objective` in the combined mode.
    """

    def __init__(self, params, closure, name: str, finite_values: bool = False):
        if closure is None or not callable(closure):
            raise ValueError(f"{name} evaluates the loss itself and needs step(closure), where "
                             f"closure() recomputes the loss (and, for gradient methods, calls "
                             f"backward()) and returns it")
        self.params = list(params)
        self.closure, self.name, self.args = closure, name, ()
        first = self.params[0].data
        for p in self.params:
            if B.backend_name_of(p.data) != B.backend_name_of(first) or p.dtype != first.dtype:
                raise ValueError(f"{name}: all parameters must share one backend and dtype (they "
                                 f"are optimised as one vector)")
        self.sizes = [int(p.data.size) for p in self.params]
        self.size = sum(self.sizes)
        self.shape = (self.size,)
        self.mode, self.jac = "combined", True
        self.nfev = self.njev = 0
        self.finite_values = finite_values

    def get(self):
        """The parameters as one flat vector (a copy)."""
        xp = B.get_array_module(self.params[0].data)
        return xp.concatenate([p.data.reshape(-1) for p in self.params])

    def put(self, x) -> None:
        """Write the flat vector ``x`` into the parameters, in place."""
        o = 0
        for p, n in zip(self.params, self.sizes):
            p.data[...] = x[o:o + n].reshape(p.data.shape)
            o += n

    def _call(self, x):
        self.put(x)
        for p in self.params:
            p.grad = None
        value = self._scalar(self.closure())
        if self.finite_values and not math.isfinite(value):
            raise NF.NonFiniteError(f"{self.name}: the loss returned by the closure is {value} "
                                    f"(evaluation {self.nfev} of this step); the step was not "
                                    f"taken and nothing changed")
        return value

    def f(self, x) -> float:
        self.nfev += 1
        objective.count_value_evaluation()
        return self._call(x)

    def fg(self, x):
        self.nfev += 1
        self.njev += 1
        value = self._call(x)
        xp = B.get_array_module(x)
        g = xp.concatenate([(p.grad if p.grad is not None else xp.zeros_like(p.data)).reshape(-1)
                            for p in self.params])
        return value, g

    def g(self, x):
        return self.fg(x)[1]


class VectorOptimizer(Optimizer):
    r"""Base of the closure-driven optimizers that treat all parameters as one flat vector
    (BFGS, L-BFGS and the zero-order methods), as torch.optim.LBFGS does.

    * one parameter group (the methods couple all coordinates; per-group options make no sense);
    * ``step(closure)`` is required; :meth:`_objective` wraps the closure in a
      :class:`ClosureObjective`; each step adds its evaluations to ``nfev`` / ``njev``;
    * non-finite values (:mod:`optimizers.nonfinite`): ``nonfinite="raise"`` (default) or
      ``"skip"``; a step is one transaction (:meth:`Optimizer._undoable`). With
      ``finite_values`` (default, the zero-order methods) every loss the closure returns must be
      finite; methods that search along a line (BFGS, L-BFGS) set it False, since a trial point
      may overflow, and check the loss and gradient at :math:`x_k` themselves;
    * the optimizer-wide state lives in ``self.vstate`` (backend arrays whose last dimension is
      the vector size, and numbers); the host generator ``self.rng`` (when the method is random)
      is seeded by ``seed``; both are saved in the state_dict's ``extra`` (``rng``: the
      generator's state as JSON; ``unset``: the names of ``_vstate_keys`` the method does not
      hold at this point, e.g. BFGS's ``x_prev`` after a failed line search, so that every other
      one must be there), so a loaded optimizer continues exactly.
    """

    #: the names a subclass keeps in ``vstate``
    _vstate_keys: tuple = ()
    #: a method of one vector cannot carry a NaN to the parameters: raise (default) or skip
    nonfinite_policies = ("raise", "skip")
    #: whether every loss the closure returns must be finite (see the class docstring)
    finite_values = True

    def __init__(self, params, defaults: dict, seed=None, nonfinite=None):
        super().__init__(params, defaults, nonfinite=nonfinite)
        if len(self.param_groups) != 1:
            raise ValueError(f"{self.name} optimises all parameters as one vector and takes one "
                             f"parameter group; got {len(self.param_groups)}")
        if seed is not None:
            seed = V.integer(self.name, "seed", seed, lo=0)
        self.seed = seed
        self.rng = B.host_rng(seed) if seed is not None else None
        self.vstate: dict = {}
        self.nfev = 0
        self.njev = 0

    def _shape_ok(self, key: str, shape: tuple, n: int) -> bool:
        """Whether a saved array of state ``key`` fits a vector of size ``n`` (by default: its
        last dimension is ``n``); subclasses refine it."""
        return shape[-1] == n

    def step(self, closure=None):
        """One step of the method (:meth:`_step`) on the closure's objective, all or nothing
        under the ``nonfinite`` policy."""
        obj = self._objective(closure)
        return self._undoable(self._step, obj)

    def _step(self, obj: ClosureObjective):  # pragma: no cover - abstract
        """One step on ``obj`` (the parameters as one vector); returns the loss."""
        raise NotImplementedError

    def _objective(self, closure) -> ClosureObjective:
        return ClosureObjective(self.param_groups[0]["params"], closure, self.name,
                                finite_values=self.finite_values)

    def _finish(self, obj: ClosureObjective) -> None:
        self.nfev += obj.nfev
        self.njev += obj.njev
        self.step_count += 1

    def _extra_state(self) -> dict:
        out = {"nfev": self.nfev, "njev": self.njev, **self.vstate,
               "unset": tuple(k for k in self._vstate_keys if k not in self.vstate)}
        if self.rng is not None:
            out["rng"] = json.dumps(self.rng.bit_generator.state)
        return out

    def _prepare_extra(self, extra: dict):
        n = sum(int(p.data.size) for p in self.param_groups[0]["params"])
        like = self.param_groups[0]["params"][0].data
        xp = B.get_array_module(like)
        if isinstance(extra, dict) and "rng" in extra and self.rng is None:
            raise ValueError(f"{self.name}.load_state_dict: a generator state was saved "
                             f"but this optimizer has no seed")
        unset = self._entry(extra, "unset", "extra/")
        unset = [str(k) for k in B.to_numpy(unset).reshape(-1).tolist()]
        if set(unset) - set(self._vstate_keys):
            raise ValueError(f"{self.name}.load_state_dict: 'extra/unset' names "
                             f"{sorted(set(unset) - set(self._vstate_keys))}; {self.name} keeps "
                             f"{sorted(self._vstate_keys)}")
        held = [k for k in self._vstate_keys if k not in unset]
        self._check_extra(extra, ["nfev", "njev", "unset", *held]
                          + (["rng"] if self.rng is not None else []))
        counts = {k: int(B.to_numpy(extra[k]).item()) for k in ("nfev", "njev")}
        rng_state = json.loads(B.to_numpy(extra["rng"]).item()) if self.rng is not None else None
        new_state = {}
        for key in held:
            value = extra[key]
            if B.is_array(value) and getattr(value, "ndim", 0) > 0:
                if not self._shape_ok(key, tuple(value.shape), n):
                    raise ValueError(f"{self.name}.load_state_dict: state {key!r} has shape "
                                     f"{tuple(value.shape)}, which does not fit parameters "
                                     f"that form a vector of size {n}")
                new_state[key] = xp.array(B.asarray(value, backend=B.backend_name_of(like)),
                                          copy=True)
            else:
                new_state[key] = B.to_numpy(value).item() if B.is_array(value) else value

        def install():
            self.vstate = new_state
            self.nfev, self.njev = counts["nfev"], counts["njev"]
            if rng_state is not None:
                self.rng.bit_generator.state = rng_state
        return install
