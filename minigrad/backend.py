"""The one module that decides between NumPy (CPU), CuPy (GPU) and the strict CPU stand-in for CuPy.

Everything else in the project gets its array module from here: from the data it holds
(:func:`get_array_module`, CuPy's idiom) or from the current default (:func:`xp`). No other module
under ``minigrad/``, ``optimizers/``, ``schedules/`` or ``problems/`` imports NumPy to do array math
(a test scans for that): a CuPy array handed to ``numpy.*`` either fails or silently copies to the
host.

Choosing a backend:

* ``minigrad.set_backend("cupy")`` switches the default for new tensors now, for good; its
  return value is also a context manager that restores the previous backend on exit
  (``with minigrad.set_backend("cupy"): ...``);
* ``with minigrad.use_backend("cupy"): ...`` switches only inside the block: it is a context
  manager and nothing else (it switches on entry and restores on exit; calling it without
  ``with`` changes nothing, though an unknown or unavailable backend raises at once);
* the environment variable ``MINIGRAD_BACKEND=cupy`` sets the default at import time (an
  unknown or unavailable value raises :class:`BackendError` naming the variable, its value and
  the choices; ``python -m experiments`` prints that as one line and exits with status 2);
* asking for CuPy where CuPy or a GPU is missing raises :class:`BackendError` (a RuntimeError),
  never a silent fallback to NumPy;
* ``"strict"`` (:mod:`minigrad.strict`) runs on the CPU but behaves like CuPy where device code
  goes wrong (no implicit conversion to NumPy, no mixing with NumPy arrays, 0-d results, counted
  device-to-host transfers): the suite and the experiments run on it to prove the GPU path
  without a GPU.

Host-side arrays: :func:`host_xp` is NumPy, named, for data made on the host whatever the
backend (move it with :func:`asarray`); this module's own ``np`` is not for other modules.

Random numbers: :func:`host_rng` gives a seeded NumPy generator; draw on the host and move to the
device with :func:`asarray` when CPU and GPU runs must be bit-identical (what the project does by
default).
"""
from __future__ import annotations

import os

import numpy as np

__all__ = [
    "BackendError", "set_backend", "use_backend", "get_backend", "xp", "host_xp",
    "get_array_module",
    "backend_name_of", "asarray", "to_numpy", "scatter_add", "host_rng", "cupy_available",
    "is_array", "buffer_id",
]

BACKENDS = ("numpy", "strict", "cupy")


class BackendError(RuntimeError):
    """A backend was asked for that is unknown or unavailable, or two backends were mixed."""


_cupy = None  # the cupy module once imported and checked
_strict = None  # minigrad.strict once imported


def _load_cupy():
    """Import CuPy and check that a GPU is present; raise BackendError otherwise."""
    global _cupy
    if _cupy is not None:
        return _cupy
    try:
        import cupy  # noqa: PLC0415 (optional dependency)
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise BackendError(
            "backend 'cupy' was requested but CuPy is not installed; install the extra "
            "'cuda12' or 'cuda13' (pip install -e '.[cuda12]') on a machine with an NVIDIA GPU"
        ) from exc
    try:  # pragma: no cover - depends on the machine
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # pragma: no cover
        raise BackendError(f"backend 'cupy' was requested but no CUDA GPU is usable: {exc}") from exc
    if n < 1:  # pragma: no cover
        raise BackendError("backend 'cupy' was requested but no CUDA GPU is present")
    _cupy = cupy  # pragma: no cover
    return cupy  # pragma: no cover


def cupy_available() -> bool:
    """True when CuPy imports and a CUDA GPU is present."""
    try:
        _load_cupy()
    except BackendError:
        return False
    return True  # pragma: no cover


def _load_strict():
    global _strict
    if _strict is None:
        from minigrad import strict  # noqa: PLC0415 (imported when first asked for)

        _strict = strict
    return _strict


def _module_for(name: str):
    if name == "numpy":
        return np
    if name == "strict":
        return _load_strict()
    if name == "cupy":
        return _load_cupy()
    raise BackendError(f"unknown backend {name!r}; choose one of {BACKENDS}")


_current_name = "numpy"
_current = np


class _BackendToken:
    """Returned by :func:`set_backend`; as a context manager it restores the previous backend."""

    def __init__(self, previous: str):
        self.previous = previous

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        set_backend(self.previous)
        return False


def set_backend(name: str) -> _BackendToken:
    """Make ``name`` ("numpy", "strict" or "cupy") the default backend for new tensors.

    Returns a token that, used as a context manager, restores the previous backend on exit.
    """
    global _current_name, _current
    module = _module_for(name)
    previous = _current_name
    _current_name, _current = name, module
    return _BackendToken(previous)


class use_backend:
    """Context manager: ``with use_backend("cupy"): ...`` switches the default backend on entry
    and restores the previous one on exit.

    Only a ``with`` switches: ``use_backend(name)`` on its own changes nothing (use
    :func:`set_backend` to switch for good). An unknown or unavailable backend raises
    :class:`BackendError` when the object is made. One object may be entered again, also inside
    itself; ``__enter__`` returns the token of :func:`set_backend` (``token.previous``).
    """

    def __init__(self, name: str):
        _module_for(name)  # an unknown or unavailable backend is an error here, not on entry
        self.name = name
        self._tokens: list[_BackendToken] = []

    def __enter__(self) -> _BackendToken:
        token = set_backend(self.name)
        self._tokens.append(token)
        return token

    def __exit__(self, *exc):
        self._tokens.pop().__exit__(*exc)
        return False

    def __repr__(self) -> str:
        return f"use_backend({self.name!r})"


def get_backend() -> str:
    """The name of the current default backend."""
    return _current_name


def xp():
    """The array module of the current default backend (``numpy``, ``minigrad.strict`` or
    ``cupy``)."""
    return _current


def host_xp():
    """The host array module (NumPy) whatever the default backend: for data made on the host
    and moved to the device afterwards with :func:`asarray` (datasets, starting points, small
    dense linear algebra) and for host-side bookkeeping. Modules other than this one get NumPy
    only from here (a test scans for ``import numpy`` and for this module's ``np``)."""
    return np


def is_array(x) -> bool:
    """True for a NumPy, strict or CuPy ndarray (or a NumPy scalar, which NumPy's ufuncs return
    for 0-d)."""
    return isinstance(x, (np.ndarray, np.generic)) or (
        _strict is not None and type(x) is _strict.ndarray) or (
        _cupy is not None and isinstance(x, _cupy.ndarray))


def backend_name_of(a) -> str:
    """"cupy" for a CuPy array, "strict" for a strict array, "numpy" for anything else."""
    if _strict is not None and type(a) is _strict.ndarray:
        return "strict"
    if _cupy is not None and isinstance(a, _cupy.ndarray):  # pragma: no cover - GPU only
        return "cupy"
    return "numpy"


def buffer_id(a) -> int:
    """The identity of the memory behind the array ``a`` (its base's for a view)."""
    if _strict is not None and type(a) is _strict.ndarray:
        a = a._a
    base = getattr(a, "base", None)
    return id(a if base is None else base)


def get_array_module(*arrays):
    """The array module of ``arrays`` (CuPy's ``get_array_module`` idiom).

    Raises BackendError when arrays of two backends are mixed.
    """
    if _cupy is None and _strict is None:  # no device array can exist: the fast path
        return np
    if len(arrays) == 1:  # the common call: one array, nothing to mix
        t = type(arrays[0])
        if t is np.ndarray:
            return np
        if _strict is not None and t is _strict.ndarray:
            return _strict
    names = {backend_name_of(a) for a in arrays if is_array(a)}
    if len(names) > 1:
        raise BackendError(f"arrays of two backends ({' and '.join(sorted(names))}) were mixed "
                           f"in one operation; move them to one backend first (Tensor.to(...) "
                           f"or minigrad.to_numpy)")
    if names == {"strict"}:
        return _strict
    if names == {"cupy"}:  # pragma: no cover - GPU only
        return _cupy
    return np


def asarray(data, dtype=None, backend: str | None = None):
    """``data`` as an array of ``backend`` (default: the current one), copying across devices."""
    module = _current if backend is None else _module_for(backend)
    source = backend_name_of(data)
    if source != "numpy" and module is not _module_for(source):
        data = data.get()  # across devices through the host
    return module.asarray(data, dtype=dtype)


def to_numpy(x):
    """A NumPy array of ``x`` (a Tensor, a NumPy, strict or CuPy array, or a number), on the
    host (for device data a transfer, counted on the strict backend)."""
    data = getattr(x, "data", x) if not is_array(x) else x
    name = backend_name_of(data)
    if name == "strict":
        return _strict.to_host(data)
    if name == "cupy":  # pragma: no cover - GPU only
        return data.get()
    return np.asarray(data)


def scatter_add(target, index, values):
    """``target[index] += values`` in place, accumulating repeated indices.

    ``a[idx] += v`` does not accumulate duplicates (in NumPy the last write wins, in CuPy the
    result is undefined): ``numpy.add.at`` / ``cupyx.scatter_add`` do.
    """
    name = backend_name_of(target)
    if name == "strict":
        _strict.scatter_add(target, index, values)
    elif name == "cupy":  # pragma: no cover - GPU only
        import cupyx  # noqa: PLC0415

        cupyx.scatter_add(target, index, values)
    else:
        np.add.at(target, index, values)
    return target


def host_rng(seed=None) -> np.random.Generator:
    """A seeded NumPy generator on the host (draw here, then :func:`asarray` to the device)."""
    return np.random.default_rng(seed)


_env = os.environ.get("MINIGRAD_BACKEND")
if _env:
    try:
        set_backend(_env.strip().lower())
    except BackendError as _exc:
        raise BackendError(f"the environment variable MINIGRAD_BACKEND={_env!r} names no usable "
                           f"backend: {_exc}") from None
