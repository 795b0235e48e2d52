r"""The core of every optimizer: parameter groups, per-parameter state, schedules, saving.

The API is torch.optim's, which users know::

    opt = Adam(model.parameters(), lr=1e-3)
    for batch in data:
        opt.zero_grad()
        loss = model_loss(batch)
        loss.backward()
        opt.step()

A subclass writes its update once, for one parameter, in :meth:`Optimizer._update`, on backend
arrays (NumPy or CuPy: ``xp = get_array_module(p.data)``), in place, with the formula of each
line in a comment. It declares its hyperparameters (defaults passed to ``__init__``), checks them
in :meth:`Optimizer._validate_group` and allocates its state in :meth:`Optimizer._init_state`.
Methods that need to re-evaluate the loss (Nesterov's look-ahead, SAM, line searches, zero-order
queries, variance reduction) override :meth:`Optimizer.step` and call the closure themselves.

Conventions
-----------
* **Step count.** ``opt.step_count`` is the number of steps already taken. A learning rate may be
  a number or any callable of the step count (a schedule); step ``t`` (0-based) uses ``lr(t)``,
  so the first step uses ``lr(0)``, as torch's schedulers and optax do. The step size actually
  used by the last step is ``opt.param_groups[i]["last_lr"]`` (also ``opt.last_lr``, one value per
  group).
* **1cycle momentum.** When the schedule has an attribute ``momentum`` (itself a callable of the
  step, as ``schedules.OneCycle`` has), optimizers with a momentum / ``beta1`` hyperparameter use
  ``lr.momentum(t)`` in its place at step ``t`` (recorded as ``group["last_momentum"]``). The
  hyperparameter it drives is named by the class attribute ``momentum_key``.
* **Per-parameter state** lives in ``opt.state[p]`` (a dict of backend arrays on the parameter's
  backend and Python numbers), created at the parameter's first update. Bias corrections count
  the parameter's own updates (``state["k"]``), like torch.
* **Parameters whose** ``.grad`` **is None are left untouched** (no update, no state change).
* **Memory.** Updates are in place on ``p.data`` and on the state arrays. Intermediate results go
  into scratch buffers (:meth:`Optimizer._scratch`): one flat buffer per slot, backend and dtype,
  reused across parameters and steps, so a step allocates nothing once the state exists. Slot 0
  is the one temporary of the main update; methods with a second intermediate (coupled weight
  decay, Adadelta) use slot 1 too.
* **Hyperparameters** are stored as Python numbers (so float32 stays float32) and checked when
  the optimizer or a group is built: an invalid value raises ``ValueError`` naming it.
* **Parameters** are leaf Tensors that require a gradient, each in one group only; anything else
  (``x * 2.0``, a constant, a Tensor given twice) is refused with a message naming it.
* **Non-finite values** follow the ``nonfinite`` policy (``"propagate"``, ``"raise"`` or
  ``"skip"``; :mod:`optimizers.nonfinite`): a class lists the policies it offers in
  ``nonfinite_policies``, its default first; :meth:`Optimizer._admits` is the check.

state_dict layout
-----------------
:meth:`Optimizer.state_dict` returns torch.optim's nested layout (docs/optimizers.md has the
table), with NumPy arrays (host copies) and Python numbers / strings / tuples as leaves::

    {"optimizer": "Adam", "step_count": 10, "skipped_steps": 0,
     "state": {0: {"k": 10, "m": array, "v": array}, ...},   # parameter index -> its state
     "param_groups": [{"lr": 0.1, ..., "last_lr": 0.1, "params": [0]}, ...],
     "extra": {}}                                             # optimizer-wide state

Wrappers (SAM, Lookahead) have no ``param_groups`` but ``base``, the wrapped optimizer's
state_dict. State entries whose name starts with "_" are caches and are not saved, nor is a
schedule (the optimizer that loads keeps its own). :func:`flatten_state_dict` and
:func:`unflatten_state_dict` convert to and from the flat dict of arrays of ``numpy.savez`` /
``numpy.load``. Loading checks everything first and raises ``ValueError`` naming the problem (a
missing entry by its flat key, e.g. ``'state/0/m'``) without changing anything; then it replaces
the state, so that an optimizer built afresh over fresh parameters (holding the same values)
continues exactly like the saved one.
"""
from __future__ import annotations

import math

from minigrad import backend as B
from minigrad.tensor import Tensor, enable_grad
from optimizers import _validate as V
from optimizers.state_format import (_host_copy, _plain, _savable, flatten_state_dict,
                                     unflatten_state_dict)
from optimizers import nonfinite as NF

__all__ = ["Optimizer", "flatten_state_dict", "unflatten_state_dict"]

_INTERNAL_KEYS = ("last_lr", "last_momentum")


def _param_list(params, where: str) -> list:
    if isinstance(params, Tensor):
        return [params]
    if isinstance(params, (str, bytes, dict)) or B.is_array(params):
        raise TypeError(f"{where}: params must be an iterable of minigrad Tensors; got "
                        f"{type(params).__name__}")
    try:
        return list(params)
    except TypeError:
        raise TypeError(f"{where}: params must be an iterable of minigrad Tensors; got "
                        f"{type(params).__name__}") from None


class Optimizer:
    """Base class of all optimizers: see the module docstring for the conventions.

    ``Optimizer(params, defaults)``: ``params`` is an iterable of :class:`minigrad.Tensor` or of
    parameter groups (dicts with a ``"params"`` entry and any hyperparameters that override
    ``defaults`` for that group), as in torch.optim.
    """

    #: the hyperparameter that a schedule's ``momentum`` attribute drives ("momentum", "betas"
    #: (its first entry), ...), or None when the method has no momentum
    momentum_key: str | None = None
    #: whether state_dict saves the hyperparameters of the groups (wrappers leave it to the base)
    _saves_groups = True
    #: the non-finite policies the method offers, its default first (:mod:`optimizers.nonfinite`)
    nonfinite_policies: tuple = ("propagate", "raise", "skip")

    def __init__(self, params, defaults: dict, nonfinite: str | None = None):
        self.defaults = dict(defaults)
        self.param_groups: list[dict] = []
        self.state: dict = {}
        self.step_count = 0
        self._buffers: dict = {}
        self.nonfinite = NF.policy(type(self).__name__, nonfinite, self.nonfinite_policies)
        self.skipped_steps = 0
        items = _param_list(params, type(self).__name__)
        if not items:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if all(isinstance(x, dict) for x in items):
            for group in items:
                self.add_param_group(group)
        elif any(isinstance(x, dict) for x in items):
            raise TypeError(f"{type(self).__name__}: params mixes Tensors and parameter groups "
                            f"(dicts); pass either Tensors or dicts")
        else:
            self.add_param_group({"params": items})

    # ------------------------------------------------------------------ groups and validation
    @property
    def name(self) -> str:
        return type(self).__name__

    def add_param_group(self, group: dict) -> None:
        """Add a parameter group: a dict with ``"params"`` and hyperparameters overriding the
        defaults. Checks the parameters (Tensors, floating point, each at most once in the
        optimizer) and the hyperparameters."""
        gi = len(self.param_groups)
        if not isinstance(group, dict):
            raise TypeError(f"{self.name}: a parameter group must be a dict; got "
                            f"{type(group).__name__}")
        if "params" not in group:
            raise ValueError(f"{self.name}: parameter group {gi} has no 'params' entry")
        params = _param_list(group["params"], f"{self.name}, parameter group {gi}")
        if not params:
            raise ValueError(f"{self.name}: parameter group {gi} is empty")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for j, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{self.name}: parameter {j} of group {gi} is a "
                                f"{type(p).__name__}, not a minigrad.Tensor")
            if p.data.dtype.kind != "f":
                raise TypeError(f"{self.name}: parameter {j} of group {gi} has dtype "
                                f"{p.data.dtype}; optimizers update floating-point parameters "
                                f"only")
            if not p.is_leaf:
                raise ValueError(f"{self.name}: parameter {j} of group {gi} (shape {p.shape}) is "
                                 f"not a leaf Tensor: it is computed from other Tensors, so "
                                 f"backward() gives it no gradient and a step could not move "
                                 f"it; optimise the leaf it comes from (or pass "
                                 f"t.detach().requires_grad_())")
            if not p.requires_grad:
                raise ValueError(f"{self.name}: parameter {j} of group {gi} (shape {p.shape}) "
                                 f"does not require a gradient; create it with "
                                 f"requires_grad=True (or call p.requires_grad_())")
            if id(p) in seen:
                raise ValueError(f"{self.name}: parameter {j} of group {gi} (shape {p.shape}) "
                                 f"appears more than once in the optimizer (each parameter "
                                 f"belongs to one group)")
            seen.add(id(p))
        unknown = sorted(set(group) - set(self.defaults) - {"params", *_INTERNAL_KEYS})
        if unknown:
            raise ValueError(f"{self.name}: unknown hyperparameter(s) {unknown} in parameter "
                             f"group {gi}; known: {sorted(self.defaults)}")
        merged = {**self.defaults, **group, "params": params}
        self._validate_group(merged)
        self.param_groups.append(merged)

    def _validate_group(self, group: dict) -> None:
        """Check (and normalise in place) the hyperparameters of ``group``; subclasses extend it
        with ``super()._validate_group(group)`` and their own checks."""
        if "lr" in group:
            group["lr"] = V.learning_rate(self.name, group["lr"])

    def parameters(self):
        """Every parameter, group by group."""
        for group in self.param_groups:
            yield from group["params"]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``p.grad = None``), or fill them with zeros in place."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad[...] = 0

    @property
    def last_lr(self) -> list:
        """The step size used by the last step, one entry per group (None before any step)."""
        return [g.get("last_lr") for g in self.param_groups]

    # ------------------------------------------------------------------ one step
    def _hyperparameters(self, group: dict, t: int, record: bool = True) -> dict:
        """The group's hyperparameters at step ``t``: the schedule evaluated (``lr(t)``, and
        ``lr.momentum(t)`` for the ``momentum_key``), recorded as ``last_lr`` / ``last_momentum``
        when ``record``."""
        hp = dict(group)
        lr = group.get("lr")
        if lr is None:
            return hp
        if callable(lr):
            hp["lr"] = V.scheduled(self.name, "lr", lr, t)
            schedule_m = getattr(lr, "momentum", None)
            key = self.momentum_key
            if schedule_m is not None and key is not None and key in group:
                mu = V.scheduled(self.name, "lr.momentum", schedule_m, t, hi=1.0, hi_open=True)
                hp[key] = (mu, group[key][1]) if key == "betas" else mu
                if record:
                    group["last_momentum"] = mu
        if record:
            group["last_lr"] = hp["lr"]
        return hp

    def _state_of(self, p: Tensor, hp: dict) -> dict:
        state = self.state.get(p)
        if state is None:
            state = self.state[p] = self._init_state(p, hp)
        return state

    def step(self, closure=None):
        """One step on every parameter that has a gradient. ``closure``, when given, is called
        first (it should zero the gradients, recompute the loss, call ``backward()`` and return
        the loss); its loss is returned."""
        loss = self._call_closure(closure) if closure is not None else None
        if not self._admits():  # nonfinite="raise" / "skip": check before any change
            return loss
        t = self.step_count
        for group in self.param_groups:
            hp = self._hyperparameters(group, t)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self._update(p, p.grad, self._state_of(p, hp), hp)
        self.step_count += 1
        return loss

    def _nonfinite_in(self, arrays=None, what: str = "the gradient of"):
        """The first of ``arrays`` (a list of (label, array) pairs; None: the gradient of every
        parameter that has one) that holds an inf or NaN, as a NonFiniteError to raise, or None.
        One device-to-host transfer."""
        if arrays is None:
            arrays = [(f"{what} parameter {j} of group {gi} (shape {p.shape})", p.grad)
                      for gi, group in enumerate(self.param_groups)
                      for j, p in enumerate(group["params"]) if p.grad is not None]
        bad = NF.first_nonfinite([a for _, a in arrays])
        if bad is None:
            return None
        label, a = arrays[bad]
        return NF.NonFiniteError(f"{self.name}: {label} has {NF.describe(a)}; the step was not "
                                 f"taken and nothing changed (nonfinite={self.nonfinite!r}; "
                                 f"see optimizers.nonfinite)")

    def _admits(self, arrays=None, what: str = "the gradient of") -> bool:
        """Whether the step may go ahead under the ``nonfinite`` policy, checked before it
        changes anything. ``"propagate"``: always (nothing is checked). ``"raise"`` /
        ``"skip"``: ``arrays`` (see :meth:`_nonfinite_in`) are checked for inf and NaN; a bad one
        raises :class:`~optimizers.nonfinite.NonFiniteError` naming it (``"raise"``), or counts
        a skipped step and returns False (``"skip"``)."""
        if self.nonfinite == "propagate":
            return True
        error = self._nonfinite_in(arrays, what)
        if error is None:
            return True
        if self.nonfinite == "raise":
            raise error
        self.skipped_steps += 1
        return False

    def _require_finite(self, arrays=None, what: str = "the gradient of") -> None:
        """Inside :meth:`_undoable`: raise :class:`~optimizers.nonfinite.NonFiniteError` when
        one of ``arrays`` (see :meth:`_nonfinite_in`) holds an inf or NaN, under ``"raise"`` and
        ``"skip"`` alike (the transaction then undoes the step); no check under
        ``"propagate"``."""
        if self.nonfinite != "propagate":
            error = self._nonfinite_in(arrays, what)
            if error is not None:
                raise error

    def _undoable(self, step, *args):
        """``step(*args)`` as one transaction under ``"raise"`` / ``"skip"``, for steps that
        change things before all their values are known (several closure calls, line searches,
        populations): when a check inside (:meth:`_require_finite`) fails, the parameters, their
        gradients and everything :meth:`state_dict` holds are put back as they were, then the
        error is raised again (``"raise"``) or the step counts as skipped and returns None
        (``"skip"``). Under ``"propagate"`` it is just ``step(*args)``."""
        if self.nonfinite == "propagate":
            return step(*args)
        params = [(p, p.data.copy(), p.grad) for p in self.parameters()]
        restore = self._prepare_load(self.state_dict())
        try:
            return step(*args)
        except NF.NonFiniteError:
            for p, data, grad in params:
                p.data[...] = data
                p.grad = grad
            restore()
            if self.nonfinite == "raise":
                raise
            self.skipped_steps += 1
            return None

    @staticmethod
    def _call_closure(closure, *args):
        """``closure(*args)`` with gradient recording on (as torch does), so that a step taken
        inside ``minigrad.no_grad()`` can still re-evaluate the loss and its gradients."""
        with enable_grad():
            return closure(*args)

    def _init_state(self, p: Tensor, hp: dict) -> dict:
        """The initial state of parameter ``p`` (arrays on ``p``'s backend, Python numbers)."""
        return {}

    def _update(self, p: Tensor, g, state: dict, hp: dict) -> None:  # pragma: no cover
        """Update ``p.data`` in place from its gradient ``g`` (a backend array)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers for updates
    def _scratch(self, p: Tensor, slot: int = 0):
        """A temporary array of ``p``'s shape, dtype and backend: a view of a flat buffer that
        is reused by every parameter and every step (its contents are garbage on entry)."""
        data = p.data
        key = (B.backend_name_of(data), data.dtype.str, slot)
        buf = self._buffers.get(key)
        if buf is None or buf.size < data.size:
            buf = B.get_array_module(data).empty(max(data.size, 1), dtype=data.dtype)
            self._buffers[key] = buf
        return buf[:data.size].reshape(data.shape)

    def _coupled_decay(self, p: Tensor, g, weight_decay: float, slot: int = 1):
        r"""Coupled weight decay (an :math:`\ell_2` penalty in the loss):
        :math:`g \leftarrow g + \lambda x`, into scratch ``slot`` (``g`` itself when
        :math:`\lambda = 0`)."""
        if weight_decay == 0.0:
            return g
        out = self._scratch(p, slot)
        xp = B.get_array_module(p.data)
        xp.multiply(p.data, weight_decay, out=out)  # lambda x
        out += g                                    # g + lambda x
        return out

    # ------------------------------------------------------------------ saving and loading
    def _extra_state(self) -> dict:
        """Optimizer-wide state (not per parameter) for the state_dict; empty by default."""
        return {}

    def _prepare_extra(self, extra: dict):
        """Check loaded optimizer-wide state; return a function that installs it."""
        self._check_extra(extra, self._extra_state())
        return lambda: None

    def _entry(self, mapping, key, where: str = ""):
        """``mapping[key]``, or a ValueError naming the missing entry by its flat key."""
        if not isinstance(mapping, dict) or key not in mapping:
            raise ValueError(f"{self.name}.load_state_dict: the state_dict has no entry "
                             f"{where + str(key)!r}")
        return mapping[key]

    def _check_extra(self, extra, keys) -> None:
        """Refuse optimizer-wide state ``extra`` unless its entries are exactly ``keys``."""
        if not isinstance(extra, dict):
            raise ValueError(f"{self.name}.load_state_dict: 'extra' must be a dict; got "
                             f"{type(extra).__name__}")
        for key in keys:
            self._entry(extra, key, "extra/")
        if set(extra) - set(keys):
            raise ValueError(f"{self.name}.load_state_dict: unexpected optimizer-wide state "
                             f"{sorted(set(extra) - set(keys))} in the state_dict; {self.name} "
                             f"keeps {sorted(keys)}")

    def state_dict(self) -> dict:
        """The state in torch.optim's nested layout (module docstring), arrays as NumPy copies;
        ``numpy.savez(f, **flatten_state_dict(opt.state_dict()))`` saves it."""
        copy = lambda d: {k: _host_copy(v) if B.is_array(v) else v  # noqa: E731
                          for k, v in d.items() if not k.startswith("_")}
        params = list(self.parameters())
        sd = {"optimizer": self.name, "step_count": int(self.step_count),
              "skipped_steps": int(self.skipped_steps),
              "state": {i: copy(self.state[p]) for i, p in enumerate(params) if p in self.state}}
        if self._saves_groups:
            sd["param_groups"], i = [], 0
            for group in self.param_groups:
                saved = {k: _savable(v) for k, v in group.items() if k != "params"}
                saved = {k: v for k, v in saved.items() if v is not None}
                n = len(group["params"])
                sd["param_groups"].append({**saved, "params": list(range(i, i + n))})
                i += n
        sd["extra"] = copy(self._extra_state())
        return sd

    def load_state_dict(self, state_dict) -> None:
        """Load a dict made by :meth:`state_dict` (or by :func:`unflatten_state_dict` from what
        ``numpy.load`` gives). Everything is checked before anything changes; a mismatch or a
        missing entry raises ``ValueError``."""
        self._prepare_load(dict(state_dict))()

    def _prepare_load(self, sd: dict):
        """Check ``sd`` against this optimizer; return a function that installs it."""
        name = _plain(self._entry(sd, "optimizer"))
        if name != self.name:
            raise ValueError(f"{self.name}.load_state_dict: the state_dict is of optimizer "
                             f"{name!r}, not {self.name!r}")
        stray = sorted(set(sd) - {"optimizer", "step_count", "skipped_steps", "state", "extra",
                                  *(("param_groups",) if self._saves_groups else ())})
        if stray:
            flat = "; a flat dict: pass it through optimizers.unflatten_state_dict" if any(
                "/" in str(k) for k in stray) else ""
            raise ValueError(f"{self.name}.load_state_dict: unexpected keys {stray}{flat}")
        counts = {}
        for key in ("step_count", "skipped_steps"):
            counts[key] = v = _plain(self._entry(sd, key))
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{self.name}.load_state_dict: invalid {key} {v!r}")
        new_groups = [dict(g) for g in self.param_groups]
        if self._saves_groups:
            saved_groups = self._entry(sd, "param_groups")
            if not isinstance(saved_groups, (list, tuple)) or len(saved_groups) != len(new_groups):
                n = len(saved_groups) if isinstance(saved_groups, (list, tuple)) else None
                raise ValueError(f"{self.name}.load_state_dict: the state_dict has {n} parameter "
                                 f"groups, the optimizer {len(new_groups)}")
            i = 0
            for gi, (saved, group) in enumerate(zip(saved_groups, new_groups)):
                n, where = len(group["params"]), f"param_groups/{gi}"
                idx = _plain(self._entry(saved, "params", where + "/"))
                idx = idx if isinstance(idx, tuple) else (idx,)
                if idx != tuple(range(i, i + n)):
                    raise ValueError(f"{self.name}.load_state_dict: group {gi} has {len(idx)} "
                                     f"parameters in the state_dict ({list(idx)}), {n} in the "
                                     f"optimizer (numbered across groups, in order: "
                                     f"{list(range(i, i + n))})")
                i += n
                for key, value in saved.items():
                    if key not in self.defaults and key not in (*_INTERNAL_KEYS, "params"):
                        raise ValueError(f"{self.name}.load_state_dict: unknown hyperparameter "
                                         f"{key!r} in {where!r}")
                    if key != "params":
                        group[key] = _plain(value)
                self._validate_group(group)
        saved_state = self._entry(sd, "state")
        n_total = sum(len(g["params"]) for g in new_groups)
        for i in saved_state if isinstance(saved_state, dict) else [saved_state]:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n_total:
                raise ValueError(f"{self.name}.load_state_dict: state entry {i!r} names no "
                                 f"parameter of this optimizer ({n_total} parameters)")
        new_state, i = {}, 0
        for group in new_groups:
            hp = self._hyperparameters(group, counts["step_count"], record=False)
            for p in group["params"]:
                if i in saved_state:
                    new_state[p] = self._check_param_state(p, hp, saved_state[i], i)
                i += 1
        install_extra = self._prepare_extra(self._entry(sd, "extra"))

        def install():
            if self._saves_groups:
                for group, new in zip(self.param_groups, new_groups, strict=True):
                    group.clear()
                    group.update(new)
            self.state = new_state
            self.step_count, self.skipped_steps = counts["step_count"], counts["skipped_steps"]
            install_extra()
        return install

    def _check_param_state(self, p: Tensor, hp: dict, saved: dict, i: int) -> dict:
        """The saved state of parameter ``i`` checked against a freshly initialised one (same
        keys, same array shapes) and moved to ``p``'s backend as copies. Private entries (a
        leading underscore: caches that are not saved) come from the fresh state."""
        fresh = self._init_state(p, hp)
        template = {k: v for k, v in fresh.items() if not k.startswith("_")}
        saved = saved if isinstance(saved, dict) else {}
        missing, stray = sorted(set(template) - set(saved)), sorted(set(saved) - set(template))
        if missing or stray:
            what = (f"has no entry 'state/{i}/{missing[0]}'" if missing else
                    f"has an unexpected entry 'state/{i}/{stray[0]}'")
            raise ValueError(f"{self.name}.load_state_dict: the state_dict {what}: parameter {i} "
                             f"(shape {p.shape}) has state entries {sorted(saved)} but "
                             f"{self.name} keeps {sorted(template)}")
        xp = B.get_array_module(p.data)
        out = {k: v for k, v in fresh.items() if k.startswith("_")}
        for key, like in template.items():
            value = saved[key]
            if B.is_array(like):
                if not (B.is_array(value) or isinstance(value, (list, tuple, int, float))):
                    raise ValueError(f"{self.name}.load_state_dict: state {key!r} of parameter "
                                     f"{i} must be an array; got {type(value).__name__}")
                arr = B.asarray(value, backend=B.backend_name_of(like))
                if arr.shape != like.shape:
                    raise ValueError(f"{self.name}.load_state_dict: state {key!r} of parameter "
                                     f"{i} has shape {arr.shape}, but the parameter (shape "
                                     f"{p.shape}) needs {like.shape}")
                out[key] = xp.array(arr, dtype=like.dtype, copy=True)
            else:
                v = _plain(value)
                if isinstance(v, tuple) or isinstance(v, str) != isinstance(like, str):
                    raise ValueError(f"{self.name}.load_state_dict: state {key!r} of parameter "
                                     f"{i} must be a {type(like).__name__}; got {v!r}")
                out[key] = v = type(like)(v)  # bool, int, float or str, as initialised
                if isinstance(v, float) and math.isnan(v):
                    raise ValueError(f"{self.name}.load_state_dict: state {key!r} of parameter "
                                     f"{i} is NaN")
        return out

    def __repr__(self) -> str:
        lines = [f"{self.name} ("]
        for gi, group in enumerate(self.param_groups):
            hps = ", ".join(f"{k}={v!r}" for k, v in group.items()
                            if k != "params" and k not in _INTERNAL_KEYS)
            lines.append(f"  group {gi}: {len(group['params'])} parameters; {hps}")
        return "\n".join(lines + [")"])
