r"""The two base classes: :class:`Problem` (an objective with its constants) and
:class:`FiniteSumProblem` (an average of ``n`` terms, with mini-batches).

A problem holds its data as backend arrays (NumPy or CuPy; drawn on the host from a seeded
generator and moved to the current backend, so CPU and GPU problems are bit-identical) and
builds its objective from minigrad operations, so the engine differentiates it to any order.

What a problem knows, where it can be derived (``None`` where it cannot):

* ``f(x)``: the objective, a scalar Tensor of a Tensor ``x`` of shape ``shape``;
* ``x0``: the start point (an array; ``start()`` gives a fresh Tensor leaf to optimise);
* ``x_star``, ``f_star``: a minimiser and the minimum (closed form, or computed once by Newton's
  method and cached, as each problem's docstring says);
* ``mu``: the strong-convexity constant (``mu_kind == "strongly convex"``) or the
  Polyak-Lojasiewicz constant (``mu_kind == "PL"``); ``L``: the smoothness constant;
* ``grad_closed_form(x)`` where the gradient has a closed form, to cross-check the engine.

For a finite sum :math:`f(x) = \frac1n\sum_{i=1}^n f_i(x)` (docs/lectures.md section 0) also:
``f_batch(x, idx)``, ``sample_batch(batch_size, rng)``, per-sample gradients, and
:math:`\sigma^2 = \mathbb{E}_i\|\nabla f_i(x)\|^2` (the lectures' bounded-variance constant).
"""
from __future__ import annotations

import copy
import math
import numbers

import minigrad as mg
from minigrad import backend as B
from minigrad.nn import Module
from minigrad.tensor import Tensor
from problems import _validate as V

__all__ = ["Problem", "FiniteSumProblem", "as_rng"]


def as_rng(rng):
    """A NumPy ``Generator`` on the host: ``rng`` itself, or a new one seeded with ``rng``
    (an int or None)."""
    if rng is None or isinstance(rng, numbers.Integral):
        return B.host_rng(rng)
    if hasattr(rng, "integers") and hasattr(rng, "permutation"):
        return rng
    raise TypeError(f"rng must be a seeded generator (minigrad.backend.host_rng(seed)), an int "
                    f"seed or None; got {type(rng).__name__}")


def _move(value, backend: str, dtype):
    """``value`` with every backend array and Tensor inside it copied to ``backend``."""
    if B.is_array(value):
        cast = dtype if (dtype is not None and value.dtype.kind == "f") else None
        out = B.asarray(value, dtype=cast, backend=backend)
        return out.copy() if out is value else out
    if isinstance(value, Tensor):
        t = value.to(backend)
        if dtype is not None and t.data.dtype.kind == "f":
            t.data = t.data.astype(dtype)
        return t
    if isinstance(value, Module):
        new = copy.copy(value)
        new.__dict__ = {k: _move(v, backend, dtype) for k, v in vars(value).items()}
        return new
    if isinstance(value, list):
        return [_move(v, backend, dtype) for v in value]
    if isinstance(value, tuple):
        return tuple(_move(v, backend, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _move(v, backend, dtype) for k, v in value.items()}
    if hasattr(value, "bit_generator"):  # a NumPy Generator: copy its state, do not share it
        return copy.deepcopy(value)
    return value


class Problem:
    r"""An objective :math:`f:\mathbb{R}^{\text{shape}}\to\mathbb{R}` built from minigrad
    operations, with its start point and, where derivable, :math:`x^*`, :math:`f^*`,
    :math:`\mu`, :math:`L`.

    Subclasses implement ``_f(x)`` (``x`` a Tensor of shape ``self.shape``) and call
    ``_setup(x0, ...)`` in their constructor. Attributes:

    * ``shape``, ``dim`` (the number of entries), ``dtype``, ``backend``;
    * ``x0`` (backend array); ``x_star``, ``f_star`` (array, float; ``None`` when unknown);
    * ``mu``, ``L`` (floats or ``None``), ``mu_kind`` ("strongly convex", "PL" or None),
      ``convex`` (bool);
    * ``bounds``: for 2-D problems, the plotting window ``((x_lo, x_hi), (y_lo, y_hi))``.
    """

    name = "problem"
    convex = False
    mu_kind: str | None = None
    bounds = None

    # ------------------------------------------------------------------ construction
    def _setup(self, x0, *, shape=None, mu=None, L=None, x_star=None, f_star=None,
               dtype="float64", lazy_star: bool = False):
        """Store the start point and the constants (arrays go to the current backend)."""
        x0 = B.asarray(x0.data if isinstance(x0, Tensor) else x0, dtype=dtype)
        if shape is not None and tuple(x0.shape) != tuple(shape):
            raise ValueError(f"{type(self).__name__}: x0 has shape {tuple(x0.shape)} but the "
                             f"problem's variable has shape {tuple(shape)}")
        self.x0 = x0
        self.shape = tuple(x0.shape)
        self.mu = None if mu is None else float(mu)
        self.L = None if L is None else float(L)
        self._x_star = None if x_star is None else B.asarray(x_star, dtype=dtype)
        self._f_star = None if f_star is None else float(f_star)
        self._star_pending = bool(lazy_star)
        if self._x_star is not None and self._x_star.shape != x0.shape:
            raise ValueError(f"{type(self).__name__}: x_star has shape {self._x_star.shape} but "
                             f"the problem's variable has shape {self.shape}")

    # ------------------------------------------------------------------ constants
    @property
    def dim(self) -> int:
        """The number of entries of the variable."""
        return math.prod(self.shape)

    @property
    def dtype(self):
        return self.x0.dtype

    @property
    def backend(self) -> str:
        """"numpy", "strict" or "cupy": where the problem's data live."""
        return B.backend_name_of(self.x0)

    @property
    def x_star(self):
        """A minimiser (a backend array), or None where none is known."""
        if self._star_pending:
            self._resolve_star()
        return self._x_star

    @property
    def f_star(self):
        """The minimum value (a float), or None where it is not known."""
        if self._star_pending:
            self._resolve_star()
        if self._f_star is None and self._x_star is not None:
            self._f_star = self.value(self._x_star)
        return self._f_star

    def _resolve_star(self):
        x_star, f_star = self._compute_star()
        self._x_star = None if x_star is None else B.asarray(x_star, dtype=self.dtype,
                                                             backend=self.backend)
        self._f_star = None if f_star is None else float(f_star)
        self._star_pending = False

    def _compute_star(self):  # pragma: no cover - overridden where lazy_star is used
        raise NotImplementedError

    def constants(self) -> dict:
        """The known constants as a dict (for logs and experiment reports)."""
        return {"name": self.name, "dim": self.dim, "mu": self.mu, "mu_kind": self.mu_kind,
                "L": self.L, "f_star": self.f_star, "convex": self.convex}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(shape={self.shape}, mu={self.mu}, L={self.L}, "
                f"backend={self.backend!r})")

    # ------------------------------------------------------------------ the objective
    def _f(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _tensor(self, x, requires_grad: bool = False) -> Tensor:
        """``x`` (a Tensor, array, list or number) as a Tensor on the problem's backend."""
        if isinstance(x, Tensor):
            if x.backend != self.backend:
                raise B.BackendError(f"{type(self).__name__}: x lives on {x.backend} but the "
                                     f"problem's data live on {self.backend}; use "
                                     f"problem.to({x.backend!r}) or x.to({self.backend!r})")
            return x
        with B.use_backend(self.backend):
            return Tensor(B.asarray(x, dtype=self.dtype, backend=self.backend),
                          requires_grad=requires_grad)

    def _check_shape(self, x: Tensor, what: str = "x"):
        if tuple(x.shape) != self.shape:
            raise ValueError(f"{type(self).__name__}: {what} has shape {tuple(x.shape)} but the "
                             f"problem's variable has shape {self.shape}")

    def f(self, x) -> Tensor:
        """The objective at ``x`` as a scalar Tensor (differentiable when ``x`` requires a
        gradient). ``x``: a Tensor (or array) of shape ``self.shape``."""
        x = self._tensor(x)
        self._check_shape(x)
        return self._f(x)

    __call__ = f

    def start(self, requires_grad: bool = True) -> Tensor:
        """A fresh Tensor leaf holding a copy of ``x0`` (the parameter an optimizer updates)."""
        with B.use_backend(self.backend):
            return Tensor(self.x0, requires_grad=requires_grad)

    # ------------------------------------------------------------------ array helpers
    def value(self, x) -> float:
        """``f(x)`` as a Python float (no graph is recorded)."""
        with mg.no_grad():
            return float(self.f(x).item())

    def grad(self, x):
        """The engine's gradient at ``x`` (an array of ``x``'s shape)."""
        return mg.grad(self.f)(self._tensor(x).detach()).data

    def value_and_grad(self, x):
        """``(f(x) as a float, the engine's gradient as an array)`` with one evaluation."""
        v, g = mg.value_and_grad(self.f)(self._tensor(x).detach())
        return float(v.item()), g.data

    def _flat_f(self, z: Tensor) -> Tensor:
        return self.f(z.reshape(self.shape))

    def hessian(self, x):
        """The engine's Hessian at ``x`` as a (dim, dim) array (one reverse pass per entry)."""
        z = self._tensor(x).detach().reshape(-1)
        return mg.hessian(self._flat_f, z).data

    def hvp(self, x, v):
        """The engine's Hessian-vector product at ``x`` along ``v`` (arrays of ``x``'s shape)."""
        x = self._tensor(x).detach()
        v = self._tensor(v).detach()
        return mg.hvp(self.f, x, v).data

    def values(self, points):
        """``f`` at many points at once: ``points`` has shape ``(..., *shape)``; returns an array
        of shape ``(...)`` (vectorised where the problem defines ``_f_batched``, a loop
        otherwise). No graph is recorded."""
        P = self._array(points)
        k = len(self.shape)
        if tuple(P.shape[P.ndim - k:]) != self.shape:
            raise ValueError(f"{type(self).__name__}: points of shape {tuple(P.shape)} do not end "
                             f"with the variable's shape {self.shape}")
        batched = getattr(self, "_f_batched", None)
        with mg.no_grad():
            if batched is not None:
                return batched(self._tensor(P)).data
            xp = B.get_array_module(P)
            flat = P.reshape((-1,) + self.shape)
            out = [self._f(self._tensor(p)).data for p in flat]
            out = xp.stack(out) if out else xp.zeros(0, dtype=self.dtype)
            return out.reshape(P.shape[:P.ndim - k])

    def grid(self, n: int = 201, bounds=None):
        """For a 2-D problem: ``(X, Y, Z)`` arrays of shape (n, n) with ``Z = f`` on the grid
        spanning ``bounds`` (default ``self.bounds``), for contour plots and grid searches."""
        if self.shape != (2,):
            raise ValueError(f"{type(self).__name__}: grid() needs a 2-D problem; the variable "
                             f"has shape {self.shape}")
        (x_lo, x_hi), (y_lo, y_hi) = bounds if bounds is not None else self.bounds
        xp = B.get_array_module(self.x0)
        X, Y = xp.meshgrid(xp.linspace(x_lo, x_hi, n, dtype=self.dtype),
                           xp.linspace(y_lo, y_hi, n, dtype=self.dtype))
        return X, Y, self.values(xp.stack([X, Y], axis=-1))

    def grad_closed_form(self, x):
        """The gradient from its closed form (arrays in, array out), where one exists."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form gradient")

    @property
    def has_closed_form_grad(self) -> bool:
        return type(self).grad_closed_form is not Problem.grad_closed_form

    def _array(self, x):
        """``x`` as a backend array of the problem's dtype."""
        if isinstance(x, Tensor):
            x = x.data
        return B.asarray(x, dtype=self.dtype, backend=self.backend)

    # ------------------------------------------------------------------ backends
    def to(self, backend: str, dtype=None) -> Problem:
        """A copy of the problem whose arrays live on ``backend`` ("numpy", "strict" or "cupy"),
        cast to ``dtype`` (floating arrays only) when given."""
        new = copy.copy(self)
        new.__dict__ = {k: _move(v, backend, dtype) for k, v in vars(self).items()}
        return new


class FiniteSumProblem(Problem):
    r"""A finite sum :math:`f(x)=\frac1n\sum_{i=1}^n f_i(x)` (docs/lectures.md section 0).

    Subclasses implement ``_terms(x, idx)``: the vector :math:`(f_i(x))_{i\in idx}` as a Tensor
    (``idx`` a backend integer array, or None for all ``n`` terms), and set ``self.n``.
    Mini-batches are index arrays: ``sample_batch`` draws them uniformly from a seeded host
    generator; ``f_batch(x, idx)`` is their mean loss, an unbiased estimate of ``f(x)``
    (docs/lectures.md section 1, item 6).
    """

    n: int = 0
    #: above this many terms, sigma2 estimates by sampling unless told to be exact
    exact_sigma2_max_n = 4096

    def _terms(self, x: Tensor, idx) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _f(self, x: Tensor) -> Tensor:
        return mg.mean(self._terms(x, None))

    # ------------------------------------------------------------------ indices
    def _index(self, idx):
        """``idx`` (an int, a list, a host or backend integer array) as a checked backend
        integer array (``None`` stays None: all terms)."""
        if idx is None:
            return None
        if isinstance(idx, numbers.Integral):
            idx = [int(idx)]
        arr = B.asarray(idx, backend=self.backend)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{type(self).__name__}: a batch must be a non-empty 1-D array of "
                             f"indices; got shape {tuple(arr.shape)}")
        if arr.dtype.kind not in "iu":
            raise ValueError(f"{type(self).__name__}: batch indices must be integers; got dtype "
                             f"{arr.dtype}")
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= self.n:
            raise ValueError(f"{type(self).__name__}: batch indices must lie in [0, {self.n}); "
                             f"got the range [{lo}, {hi}]")
        return arr

    # ------------------------------------------------------------------ losses
    def terms(self, x, idx=None) -> Tensor:
        """The vector of the terms :math:`f_i(x)`, ``i`` in ``idx`` (all when None)."""
        x = self._tensor(x)
        self._check_shape(x)
        return self._terms(x, self._index(idx))

    def f_batch(self, x, idx) -> Tensor:
        r"""The mini-batch loss :math:`\frac1{|B|}\sum_{i\in B} f_i(x)` as a scalar Tensor."""
        return mg.mean(self.terms(x, idx))

    def f_i(self, x, i: int) -> Tensor:
        """The single term :math:`f_i(x)` as a scalar Tensor."""
        return self.f_batch(x, [int(i)])

    def grad_batch(self, x, idx):
        """The engine's gradient of the mini-batch loss (an array of ``x``'s shape)."""
        idx = self._index(idx)
        return mg.grad(lambda z: self.f_batch(z, idx))(self._tensor(x).detach()).data

    def grad_i(self, x, i: int):
        r"""The engine's :math:`\nabla f_i(x)`."""
        return self.grad_batch(x, [int(i)])

    full_grad = Problem.grad

    def per_sample_grads(self, x, idx=None):
        r"""The engine's :math:`\nabla f_i(x)` for each ``i`` in ``idx`` (all when None), stacked
        into an array of shape ``(len(idx),) + shape`` (one reverse pass per sample)."""
        idx = self._index(idx)
        xp = B.get_array_module(self.x0)
        ids = range(self.n) if idx is None else [int(i) for i in B.to_numpy(idx)]
        x = self._tensor(x).detach()
        return xp.stack([self.grad_batch(x, [i]) for i in ids])

    def _per_sample_grads_fast(self, x, idx=None):
        """Per-sample gradients by the fastest available route (a closed form where the
        subclass has one, else the engine)."""
        return self.per_sample_grads(x, idx)

    # ------------------------------------------------------------------ sampling
    def sample_batch(self, batch_size: int, rng=None, replace: bool = False):
        """A mini-batch of ``batch_size`` indices drawn uniformly from ``rng`` (a seeded host
        generator, or an int seed): without replacement inside the batch by default, i.i.d.
        with ``replace=True``; either way every index is equally likely, so the mini-batch
        gradient is unbiased. Returns a host (NumPy) integer array, which ``f_batch`` accepts
        on any backend."""
        batch_size = V.positive_int(type(self).__name__, "batch_size", batch_size)
        if not replace and batch_size > self.n:
            raise ValueError(f"{type(self).__name__}: batch_size must be <= n = {self.n} without "
                             f"replacement; got batch_size={batch_size}")
        return as_rng(rng).choice(self.n, size=batch_size, replace=replace)

    def epoch_batches(self, batch_size: int, rng=None, drop_last: bool = False) -> list:
        """One epoch: a random permutation of the ``n`` indices cut into batches of
        ``batch_size`` (the last one shorter unless ``drop_last``)."""
        batch_size = V.positive_int(type(self).__name__, "batch_size", batch_size)
        perm = as_rng(rng).permutation(self.n)
        batches = [perm[i:i + batch_size] for i in range(0, self.n, batch_size)]
        if drop_last and len(batches[-1]) < batch_size:
            batches.pop()
        return batches

    # ------------------------------------------------------------------ noise constants
    def sigma2(self, x, n_samples: int | None = None, rng=None) -> float:
        r""":math:`\sigma^2(x)=\mathbb{E}_i\|\nabla f_i(x)\|^2` for uniform ``i`` (the lectures'
        second-moment bound, docs/lectures.md section 0).

        Exact (the average over all ``n`` terms) when ``n_samples`` is None and
        ``n <= exact_sigma2_max_n``; otherwise a Monte Carlo estimate from ``n_samples``
        (default 1024) indices drawn uniformly with replacement from ``rng``.
        """
        G = self._sigma_grads(x, n_samples, rng)
        xp = B.get_array_module(G)
        return float(xp.mean(xp.sum(G.reshape(G.shape[0], -1) ** 2, axis=1)))

    def grad_variance(self, x, n_samples: int | None = None, rng=None) -> float:
        r"""The centred variance :math:`\mathbb{E}_i\|\nabla f_i(x)-\nabla f(x)\|^2` (exact or
        estimated as in :meth:`sigma2`); it equals :math:`\sigma^2(x)-\|\nabla f(x)\|^2`."""
        G = self._sigma_grads(x, n_samples, rng)
        xp = B.get_array_module(G)
        g = self.grad(x)
        D = (G - g[None]).reshape(G.shape[0], -1)
        return float(xp.mean(xp.sum(D ** 2, axis=1)))

    def _sigma_grads(self, x, n_samples, rng):
        if n_samples is None and self.n <= self.exact_sigma2_max_n:
            return self._per_sample_grads_fast(x, None)
        n_samples = 1024 if n_samples is None else V.positive_int(
            type(self).__name__, "n_samples", n_samples)
        idx = as_rng(rng).integers(0, self.n, size=n_samples)
        return self._per_sample_grads_fast(x, idx)
