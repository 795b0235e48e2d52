r"""Small neural-network building blocks: modules, initialisation, losses.

Enough to train the lectures' small networks, in torch's vocabulary:

* :class:`Module` (``parameters()``, ``zero_grad()``, ``train()``/``eval()``, ``state_dict()``/
  ``load_state_dict()``), :class:`Linear`, :class:`MLP`, :class:`Dropout`;
* gradient clipping as ``torch.nn.utils`` (:func:`clip_grad_norm_`, :func:`clip_grad_value_`);
  mini-batches are in :mod:`minigrad.data`;
* initialisation (:func:`he_normal`, :func:`he_uniform`, :func:`xavier_normal`,
  :func:`xavier_uniform`), drawn on the host from a seeded NumPy generator and moved to the
  backend, so CPU and GPU runs start from bit-identical weights;
* losses, each numerically stable: :func:`mse_loss`, :func:`logistic_loss` (labels in
  {-1, +1}, the lectures' form :math:`\log(1 + e^{-y z})`), :func:`binary_cross_entropy_with_logits`
  (labels in {0, 1}), :func:`cross_entropy` (softmax cross-entropy with integer labels), and
  :func:`accuracy`.

Weights follow torch's layout: ``Linear(n_in, n_out).W`` has shape ``(n_out, n_in)`` and the layer
computes ``x @ W.T + b`` on a batch of row vectors.
"""
from __future__ import annotations

import math
import numbers
from collections import OrderedDict, namedtuple

from minigrad import backend as B
from minigrad import fused, ops
from minigrad.tensor import Tensor, leaf

__all__ = [
    "Module", "Linear", "MLP", "Dropout", "Sequential", "ACTIVATIONS",
    "he_normal", "he_uniform", "xavier_normal", "xavier_uniform",
    "mse_loss", "logistic_loss", "binary_cross_entropy_with_logits", "cross_entropy", "accuracy",
    "clip_grad_norm_", "clip_grad_value_", "LoadResult",
]


# --------------------------------------------------------------------------- initialisation
def _param(host_array, dtype) -> Tensor:
    return Tensor(B.asarray(host_array, dtype=dtype), requires_grad=True)


def he_normal(shape, fan_in: int, rng):
    r"""He et al. 2015: :math:`W \sim N(0, 2 / n_{in})`, for ReLU layers."""
    return rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)


def he_uniform(shape, fan_in: int, rng):
    r"""He et al. 2015, uniform: :math:`W \sim U(-a, a)`, :math:`a = \sqrt{6 / n_{in}}`."""
    a = math.sqrt(6.0 / fan_in)
    return rng.uniform(-a, a, size=shape)


def xavier_normal(shape, fan_in: int, fan_out: int, rng):
    r"""Glorot & Bengio 2010: :math:`W \sim N(0, 2 / (n_{in} + n_{out}))`, for tanh layers."""
    return rng.standard_normal(shape) * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_uniform(shape, fan_in: int, fan_out: int, rng):
    r"""Glorot & Bengio 2010, uniform: :math:`a = \sqrt{6 / (n_{in} + n_{out})}`."""
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape)


_INITS = {
    "he": lambda shape, i, o, rng: he_normal(shape, i, rng),
    "he_uniform": lambda shape, i, o, rng: he_uniform(shape, i, rng),
    "xavier": lambda shape, i, o, rng: xavier_normal(shape, i, o, rng),
    "xavier_uniform": lambda shape, i, o, rng: xavier_uniform(shape, i, o, rng),
}


# --------------------------------------------------------------------------- modules
LoadResult = namedtuple("LoadResult", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class: holds Tensors and sub-modules as attributes (also inside lists and tuples)."""

    training = True

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def _children(self):
        for name, value in vars(self).items():
            items = value if isinstance(value, (list, tuple)) else [value]
            for k, item in enumerate(items):
                label = name if len(items) == 1 and item is value else f"{name}.{k}"
                yield label, item

    def named_parameters(self, prefix: str = ""):
        """(name, Tensor) for every tensor that requires a gradient, in definition order."""
        for name, item in self._children():
            if isinstance(item, Tensor) and item.requires_grad:
                yield prefix + name, item
            elif isinstance(item, Module):
                yield from item.named_parameters(prefix + name + ".")

    def parameters(self) -> list:
        """The tensors that require a gradient (what an optimizer is built over)."""
        return [p for _, p in self.named_parameters()]

    def modules(self):
        yield self
        for _, item in self._children():
            if isinstance(item, Module):
                yield from item.modules()

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def state_dict(self) -> OrderedDict:
        """The parameters as an ordered dict ``name -> NumPy array`` (a host copy), the names those
        of :meth:`named_parameters` (``layers.0.W``): ``numpy.savez(f, **model.state_dict())``
        saves it, ``model.load_state_dict(numpy.load(f))`` restores it."""
        return OrderedDict((name, B.to_numpy(p.data).copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state_dict, strict: bool = True) -> LoadResult:
        """Copy ``state_dict``'s arrays (NumPy, CuPy, Tensors, nested lists; a dict or the
        ``NpzFile`` of ``numpy.load``) into the parameters, in place, on each parameter's backend
        and in its dtype.

        Everything is checked before anything is copied, so on a ``ValueError`` the module is
        unchanged: with ``strict=True`` a parameter without an entry and an entry without a
        parameter are refused; always, an entry of another shape, or of a dtype that does not cast
        to the parameter's (NumPy's ``same_kind``: complex into real, text, objects). Returns
        ``LoadResult(missing_keys, unexpected_keys)``, as torch does."""
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected a mapping name -> array; got "
                            f"{type(state_dict).__name__}")
        params = OrderedDict(self.named_parameters())
        names = list(state_dict.keys())
        missing = [n for n in params if n not in state_dict]
        unexpected = [n for n in names if n not in params]
        problems = []
        if strict:
            problems += [f"missing entry {n!r}" for n in missing]
            problems += [f"unexpected entry {n!r}" for n in unexpected]
        staged = []
        for name, p in params.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            host = B.to_numpy(value.data if isinstance(value, Tensor) else value)
            if host.shape != p.shape:
                problems.append(f"entry {name!r} has shape {host.shape}, the parameter {p.shape}")
            elif not B.host_xp().can_cast(host.dtype, p.dtype, casting="same_kind"):
                problems.append(f"entry {name!r} of dtype {host.dtype} does not cast to the "
                                f"parameter's {p.dtype}")
            else:
                staged.append((p, host))
        if problems:
            raise ValueError(f"load_state_dict ({type(self).__name__}): " + "; ".join(problems)
                             + "; nothing was loaded")
        moved = [(p, B.asarray(host, dtype=p.dtype, backend=p.backend)) for p, host in staged]
        for p, value in moved:
            p.data[...] = value
        return LoadResult(missing, unexpected)

    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active); returns self."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> "Module":
        """Evaluation mode (dropout is the identity); returns self."""
        return self.train(False)


class Linear(Module):
    """An affine layer :math:`y = x W^\\top + b`, with ``W`` of shape (n_out, n_in)."""

    def __init__(self, n_in: int, n_out: int, bias: bool = True, init: str = "he",
                 rng=None, seed: int | None = 0, dtype="float64"):
        if n_in < 1 or n_out < 1:
            raise ValueError(f"Linear: sizes must be positive; got n_in={n_in}, n_out={n_out}")
        if init not in _INITS:
            raise ValueError(f"Linear: unknown init {init!r}; choose one of {sorted(_INITS)}")
        rng = B.host_rng(seed) if rng is None else rng
        self.W = _param(_INITS[init]((n_out, n_in), n_in, n_out, rng), dtype)
        self.b = _param(B.host_xp().zeros(n_out), dtype) if bias else None

    def forward(self, x):
        return fused.linear(x, self.W, self.b)  # x W^T + b, one primitive


class Dropout(Module):
    """Inverted dropout: in training, zero each entry with probability ``p`` and scale the rest
    by ``1/(1-p)``; the identity in evaluation mode."""

    def __init__(self, p: float = 0.5, seed: int | None = 0):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1); got {p}")
        self.p = p
        self.rng = B.host_rng(seed)

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = self.rng.random(x.shape) >= self.p
        mask = B.asarray(keep, dtype=x.dtype, backend=x.backend) / (1.0 - self.p)
        return x * mask


ACTIVATIONS = {
    "relu": ops.relu, "tanh": ops.tanh, "sigmoid": ops.sigmoid, "softplus": ops.softplus,
    "identity": lambda x: x,
}


class Sequential(Module):
    """Apply layers (modules or functions) in order."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


_MLP_FORMS = ("MLP(sizes, activation='relu', ...) with sizes = [n_in, *hidden, n_out], or "
              "MLP(in_features, hidden_sizes, out_features, activation='relu', ...)")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _size(value, what: str) -> int:
    if not _is_int(value):
        raise TypeError(f"MLP: {what} must be a positive integer; got {value!r}. "
                        f"Expected {_MLP_FORMS}")
    if value < 1:
        raise ValueError(f"MLP: {what} must be a positive integer; got {value!r}")
    return int(value)


def _mlp_sizes(args: tuple, sizes, in_features, hidden_sizes, out_features) -> list:
    """The layer widths of either form of the MLP constructor."""
    torch_keys = (in_features, hidden_sizes, out_features)
    torch_given = any(k is not None for k in torch_keys)
    if sizes is None and len(args) == 1 and not _is_int(args[0]):
        sizes, args = args[0], ()
    if sizes is not None and (args or torch_given):
        raise TypeError(f"MLP: give sizes or (in_features, hidden_sizes, out_features), not "
                        f"both. Expected {_MLP_FORMS}")
    elif args and not _is_int(args[0]):
        raise TypeError(f"MLP: unexpected arguments {args!r} (activation, dropout, init, seed and "
                        f"dtype are keywords). Expected {_MLP_FORMS}")
    if sizes is not None:
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            raise TypeError(f"MLP: sizes must be a sequence of layer widths; got {sizes!r}. "
                            f"Expected {_MLP_FORMS}")
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size; got "
                             f"{sizes}")
        return [_size(n, f"sizes[{k}]") for k, n in enumerate(sizes)]
    if len(args) > 3:
        raise TypeError(f"MLP: too many positional arguments ({len(args)}); activation, dropout, "
                        f"init, seed and dtype are keywords. Expected {_MLP_FORMS}")
    given = dict(zip(("in_features", "hidden_sizes", "out_features"), args))
    for key, value in zip(("in_features", "hidden_sizes", "out_features"), torch_keys):
        if value is not None:
            if key in given:
                raise TypeError(f"MLP: {key} given twice. Expected {_MLP_FORMS}")
            given[key] = value
    absent = [k for k in ("in_features", "hidden_sizes", "out_features") if k not in given]
    if absent:
        raise TypeError(f"MLP: missing {', '.join(absent)}. Expected {_MLP_FORMS}")
    hidden = given["hidden_sizes"]
    if _is_int(hidden):
        hidden = [hidden]  # one hidden layer
    elif isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
        raise TypeError(f"MLP: hidden_sizes must be a sequence of widths (or one width); got "
                        f"{hidden!r}. Expected {_MLP_FORMS}")
    return ([_size(given["in_features"], "in_features")]
            + [_size(n, f"hidden_sizes[{k}]") for k, n in enumerate(hidden)]
            + [_size(given["out_features"], "out_features")])


class MLP(Module):
    """A multilayer perceptron ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Two forms: ``MLP([n_in, *hidden, n_out], ...)`` and, as in torch-style code,
    ``MLP(in_features, hidden_sizes, out_features, ...)`` (``hidden_sizes`` a sequence of
    widths, possibly empty, or one width; the three also as keywords). ``activation`` (a name
    from :data:`ACTIVATIONS` or a function) follows every layer but the last; ``dropout`` > 0
    inserts :class:`Dropout` after each activation. ``init`` defaults to He for ReLU-like
    activations and Xavier otherwise. The options are keywords.
    """

    def __init__(self, *args, sizes=None, in_features=None, hidden_sizes=None,
                 out_features=None, activation="relu", dropout: float = 0.0,
                 init: str | None = None, seed: int | None = 0, dtype="float64"):
        sizes = _mlp_sizes(args, sizes, in_features, hidden_sizes, out_features)
        if isinstance(activation, str):
            if activation not in ACTIVATIONS:
                raise ValueError(f"MLP: unknown activation {activation!r}; choose one of "
                                 f"{sorted(ACTIVATIONS)}")
            act_name, act = activation, ACTIVATIONS[activation]
        elif callable(activation):
            act_name, act = getattr(activation, "__name__", "custom"), activation
        else:
            raise TypeError(f"MLP: activation must be a name from {sorted(ACTIVATIONS)} or a "
                            f"function; got {activation!r}")
        init = init or ("he" if act_name in ("relu", "softplus") else "xavier")
        rng = B.host_rng(seed)
        self.activation = act
        self.layers = [Linear(i, o, init=init, rng=rng, dtype=dtype)
                       for i, o in zip(sizes[:-1], sizes[1:])]
        self.dropouts = [Dropout(dropout, seed=None if seed is None else seed + 1 + k)
                         for k in range(len(sizes) - 2)] if dropout > 0 else []

    def forward(self, x):
        for k, layer in enumerate(self.layers):
            x = layer(x)
            if k < len(self.layers) - 1:
                x = self.activation(x)
                if self.dropouts:
                    x = self.dropouts[k](x)
        return x


# --------------------------------------------------------------------------- losses
def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none'; got {reduction!r}")


def _targets(y, like: Tensor, name: str):
    yd = y.data if isinstance(y, Tensor) else B.asarray(y, backend=like.backend)
    if yd.shape != like.shape:
        raise ValueError(f"{name}: targets of shape {yd.shape} do not match predictions of shape "
                         f"{like.shape}")
    return yd


def mse_loss(pred, target, reduction: str = "mean") -> Tensor:
    r"""Mean squared error :math:`\frac1n\sum_i (\hat y_i - y_i)^2`."""
    if not isinstance(target, Tensor):
        target = _targets(target, pred, "mse_loss").astype(pred.dtype, copy=False)
    elif target.shape != pred.shape:
        raise ValueError(f"mse_loss: targets of shape {target.shape} do not match predictions "
                         f"of shape {pred.shape}")
    d = pred - target
    return _reduce(d * d, reduction)


def logistic_loss(z, y, reduction: str = "mean") -> Tensor:
    r"""Binary logistic loss :math:`\log(1 + e^{-y z}) = \mathrm{softplus}(-y z)`, labels
    :math:`y \in \{-1, +1\}` (the lectures' form); finite for margins of any size."""
    yd = _targets(y, z, "logistic_loss")
    xp = B.get_array_module(yd)
    if not bool(xp.all((yd == 1) | (yd == -1))):
        raise ValueError("logistic_loss: labels must be -1 or +1 (use "
                         "binary_cross_entropy_with_logits for 0/1 labels)")
    return _reduce(ops.softplus(-(z * yd.astype(z.dtype))), reduction)


def binary_cross_entropy_with_logits(z, t, reduction: str = "mean") -> Tensor:
    r"""Binary cross-entropy on logits, labels :math:`t \in \{0, 1\}`:
    :math:`\mathrm{softplus}(z) - t z` (stable for any z)."""
    td = _targets(t, z, "binary_cross_entropy_with_logits")
    xp = B.get_array_module(td)
    if not bool(xp.all((td == 0) | (td == 1))):
        raise ValueError("binary_cross_entropy_with_logits: labels must be 0 or 1")
    return _reduce(ops.softplus(z) - z * td.astype(z.dtype), reduction)


def cross_entropy(logits, labels, reduction: str = "mean") -> Tensor:
    r"""Softmax cross-entropy with integer labels:
    :math:`\mathrm{logsumexp}(z_i) - z_{i, y_i}` per row (the max shift keeps it finite)."""
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (batch, classes); got {logits.shape}")
    yd = labels.data if isinstance(labels, Tensor) else B.asarray(labels, backend=logits.backend)
    if yd.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integers; got dtype {yd.dtype}")
    n, c = logits.shape
    if yd.shape != (n,):
        raise ValueError(f"cross_entropy: labels of shape {yd.shape} for logits {logits.shape}")
    if n and (int(yd.min()) < 0 or int(yd.max()) >= c):
        raise ValueError(f"cross_entropy: labels must lie in [0, {c}); got range "
                         f"[{int(yd.min())}, {int(yd.max())}]")
    return _reduce(fused.cross_entropy_rows(logits, yd), reduction)  # logsumexp(z_i) - z_{i y_i}


def accuracy(logits, labels) -> float:
    """The fraction of correct predictions: argmax for (batch, classes) logits, the sign for
    1-D logits (labels in {-1, +1} or {0, 1})."""
    z = logits.data if isinstance(logits, Tensor) else logits
    y = (labels.data if isinstance(labels, Tensor)
         else B.asarray(labels, backend=B.backend_name_of(z)))
    xp = B.get_array_module(z)
    if z.ndim == 2:
        pred = xp.argmax(z, axis=1)
    else:
        pred = (z > 0).astype(y.dtype) if bool(xp.all(y >= 0)) else xp.where(z > 0, 1, -1)
    return float(xp.mean(pred == y))


# --------------------------------------------------------------------------- gradient clipping
# torch.nn.utils' semantics, on the parameters' .grad, in place; parameters with grad None are
# skipped. The total norm is that of all gradients concatenated; both stay on the gradients'
# backend and dtype (no transfer to the host unless error_if_nonfinite=True).
_EPS = 1e-6  # torch's: clip_coef = max_norm / (total_norm + 1e-6)


def _grads(parameters, owner: str) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    try:
        params = list(parameters)
    except TypeError:
        raise TypeError(f"{owner}: parameters must be a Tensor or an iterable of Tensors; got "
                        f"{type(parameters).__name__}") from None
    for k, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{owner}: parameters[{k}] is a {type(p).__name__}, not a Tensor")
    grads = [p.grad for p in params if p.grad is not None]
    B.get_array_module(*grads)  # refuses NumPy and CuPy gradients mixed
    return [(p, p.grad) for p in params if p.grad is not None]


def _real(value, owner: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number; got {value!r}")
    return float(value)


def _norm_type(norm_type) -> float:
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        return math.inf
    p = _real(norm_type, "clip_grad_norm_", "norm_type")
    if not p > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 or inf; got {norm_type!r}")
    return p


def _vector_norm(xp, g, p: float):
    """:math:`\\|g\\|_p` of the flattened array (0 for an empty one), in ``g``'s dtype."""
    if g.size == 0:
        return xp.zeros((), dtype=g.dtype)
    a = xp.abs(g)
    if p == math.inf:
        return xp.max(a)
    if p == 1.0:
        return xp.sum(a)
    if p == 2.0:
        return xp.sqrt(xp.sum(a * a))
    return xp.sum(a ** p) ** (1.0 / p)


def _scale(p: Tensor, g, factor) -> None:
    flags = getattr(g, "flags", None)
    if flags is not None and not getattr(flags, "writeable", True):
        p.grad = g * factor  # a read-only array someone assigned: replaced, not written
    else:
        g *= factor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite: bool = False):
    r"""Scale the gradients so that their total ``norm_type``-norm is at most ``max_norm``, as
    ``torch.nn.utils.clip_grad_norm_``.

    The total norm is the norm of the vector of per-parameter norms (= the norm of all gradients
    concatenated). Every gradient is multiplied in place by
    :math:`\min(1, \text{max\_norm}/(\text{total} + 10^{-6}))`: by exactly 1 (unchanged) when the
    total is well below ``max_norm``, and to a total of ``max_norm`` (up to the
    :math:`10^{-6}`) above it. A non-finite total raises ``RuntimeError`` with
    ``error_if_nonfinite=True``; otherwise, as in torch, the gradients are multiplied by the
    resulting factor (NaN for a NaN total, 0 for an infinite one).

    ``parameters``: a Tensor or an iterable of Tensors; those with ``grad`` None are skipped.
    ``max_norm`` >= 0; ``norm_type`` > 0 or ``inf`` (``float('inf')`` or ``"inf"``).
    Returns the total norm before clipping as a 0-d Tensor on the gradients' backend (0.0 when
    no parameter has a gradient).
    """
    max_norm = _real(max_norm, "clip_grad_norm_", "max_norm")
    if not max_norm >= 0.0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0 (and not NaN); got {max_norm}")
    p = _norm_type(norm_type)
    pairs = _grads(parameters, "clip_grad_norm_")
    if not pairs:
        return leaf(B.xp().zeros(()))
    xp = B.get_array_module(*(g for _, g in pairs))
    norms = xp.stack([_vector_norm(xp, g, p) for _, g in pairs])
    total = xp.asarray(_vector_norm(xp, norms, p))
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{float(total)}, so it cannot be clipped; pass error_if_nonfinite=False to scale "
            f"the gradients by the non-finite norm anyway")
    factor = xp.asarray(xp.minimum(max_norm / (total + _EPS), 1.0))  # NaN stays NaN (clamp)
    with B.host_xp().errstate(invalid="ignore"):  # inf * 0 = NaN is torch's result too
        for param, g in pairs:
            _scale(param, g, factor.astype(g.dtype))
    return leaf(total)


def clip_grad_value_(parameters, clip_value) -> None:
    r"""Clamp every gradient entry into :math:`[-c, c]` in place, ``c`` = ``clip_value`` >= 0
    (``inf``: no change),
    as ``torch.nn.utils.clip_grad_value_`` (NaN entries stay NaN). Parameters with ``grad``
    None are skipped."""
    c = _real(clip_value, "clip_grad_value_", "clip_value")
    if not c >= 0.0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0 (and not NaN); got "
                         f"{clip_value}")
    for param, g in _grads(parameters, "clip_grad_value_"):
        xp = B.get_array_module(g)
        flags = getattr(g, "flags", None)
        if flags is not None and not getattr(flags, "writeable", True):
            param.grad = xp.clip(g, -c, c)
        else:
            xp.clip(g, -c, c, out=g)
