"""Seeded mini-batches over arrays of samples, in the vocabulary of torch's ``DataLoader``.

>>> loader = DataLoader(X, y, batch_size=32, shuffle=True, seed=0)
>>> for xb, yb in loader:          # one epoch; the next ``for`` draws a new permutation
...     loss = nn.cross_entropy(model(xb), yb)

The arrays (NumPy or CuPy arrays, Tensors, nested lists; samples along the first axis) are moved
once, when the loader is built, to the backend current then (:mod:`minigrad.backend`), and every
batch is a tuple of Tensors (leaves, ``requires_grad=False``) of that backend, one per array,
keeping each array's dtype (integer labels stay integers). Epoch ``e`` (the ``e``-th ``for``
over the loader, counted from 0) visits the samples in the order of a permutation drawn on the
host from ``numpy.random.default_rng([seed, e])``: the same seed gives the same batches, epoch
after epoch, whatever happened to earlier epochs (an epoch left early included).
"""
from __future__ import annotations

import math
import numbers

from minigrad import backend as B
from minigrad.tensor import Tensor, leaf

__all__ = ["DataLoader"]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"DataLoader: {name} must be an integer; got {value!r}")
    if value < 1:
        raise ValueError(f"DataLoader: {name} must be >= 1; got {value}")
    return int(value)


class DataLoader:
    """Iterate over mini-batches of ``arrays`` (all of one length along axis 0).

    ``batch_size`` >= 1; ``shuffle`` (default True) draws a new permutation of the samples each
    epoch, ``shuffle=False`` keeps their order; ``drop_last`` drops the last, smaller batch;
    ``seed`` (an integer >= 0, or None for a fresh one) seeds the permutations. ``len(loader)``
    is the number of batches per epoch; ``loader.epoch`` the number of epochs begun, and
    ``loader.set_epoch(e)`` makes the next one epoch ``e``.
    """

    def __init__(self, *arrays, batch_size: int, shuffle: bool = True, drop_last: bool = False,
                 seed: int | None = 0):
        if not arrays:
            raise ValueError("DataLoader: give at least one array of samples")
        self.batch_size = _positive_int(batch_size, "batch_size")
        if seed is None:
            seed = int(B.host_rng().integers(2**63))
        elif isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"DataLoader: seed must be an integer >= 0 or None; got {seed!r}")
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.backend = B.get_backend()
        data = []
        for k, a in enumerate(arrays):
            a = B.asarray(a.data if isinstance(a, Tensor) else a, backend=self.backend)
            if a.ndim == 0:
                raise ValueError(f"DataLoader: arrays[{k}] is 0-d; samples lie along axis 0")
            data.append(a)
        lengths = [len(a) for a in data]
        if len(set(lengths)) > 1:
            raise ValueError(f"DataLoader: the arrays must have one length along axis 0; got "
                             f"lengths {lengths}")
        self.arrays = tuple(data)
        self.n_samples = lengths[0]
        self.epoch = 0

    def __len__(self) -> int:
        if self.drop_last:
            return self.n_samples // self.batch_size
        return math.ceil(self.n_samples / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch`` (its permutation is fixed by seed and epoch)."""
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"DataLoader: epoch must be an integer >= 0; got {epoch!r}")
        self.epoch = int(epoch)

    def order(self, epoch: int):
        """The sample indices of epoch ``epoch`` in visiting order (a host NumPy array)."""
        if not self.shuffle:
            return B.host_xp().arange(self.n_samples)
        return B.host_rng([self.seed, epoch]).permutation(self.n_samples)

    def __iter__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        order = self.order(epoch)
        for k in range(len(self)):
            lo, hi = k * self.batch_size, min((k + 1) * self.batch_size, self.n_samples)
            if self.shuffle:
                index = B.asarray(order[lo:hi], backend=self.backend)
                yield tuple(leaf(a[index]) for a in self.arrays)  # a gather: a fresh array
            else:
                yield tuple(leaf(a[lo:hi].copy()) for a in self.arrays)  # not views of the data

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.arrays)} arrays of {self.n_samples} samples, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed}, backend={self.backend!r})")
