"""The ``"strict"`` backend: a CPU stand-in for CuPy that refuses what CuPy refuses.

No GPU is needed to find the mistakes that break code on one. The strict backend computes with
NumPy underneath, but its arrays (:class:`ndarray`) are their own type and behave like CuPy's
where device code usually goes wrong:

* **no implicit trip to the host.** ``numpy.asarray(a)``, ``a.__array__()``, any NumPy function
  or ufunc given a strict array (``numpy.exp(a)``, ``numpy.sum(a)``) raises ``TypeError``, as
  ``numpy.asarray`` does on a CuPy array;
* **no mixing.** An operation that combines a strict array with a NumPy array
  (``a + numpy_array``, ``strict.where(c, a, numpy_array)``, ``a[...] = numpy_array``) raises
  :class:`DeviceMixError`; Python numbers and NumPy scalars are fine, as in CuPy. Host data
  goes to the device with :func:`asarray` (or :func:`array`), explicitly;
* **reductions and indexing give 0-d arrays**, never NumPy scalars (``a.sum()``, ``a[0]``);
* **duplicate indices** in ``a[idx] = values`` (so also ``a[idx] += v``) raise: in CuPy which
  write wins is undefined; accumulate with :func:`scatter_add` (``cupyx.scatter_add``);
* **the only ways to the host** are :meth:`ndarray.get` and the backend's ``to_numpy``; the
  implicit ones (``.item()``, ``float(a)``, ``int(a)``, ``bool(a)``, ``a.tolist()``,
  ``format(a)``, ``repr(a)``) work, as in CuPy, but each is **counted** as a device-to-host
  transfer (a synchronisation on a GPU): :func:`count_transfers` measures them, and also the
  operations whose result's size depends on the data, which CuPy must synchronise to size
  (boolean-mask indexing, ``nonzero``, ``argwhere``, ``unique``, one-argument ``where``,
  ``bincount`` without ``minlength``; kind ``"sync"``);
* **linear algebra raises as NumPy does** (``LinAlgError``), where CuPy by default returns
  NaN or inf for a singular or non-positive-definite matrix: code must not rely on the
  exception to detect one on a GPU;
* **its own random stream.** ``strict.random.default_rng(seed)`` draws other numbers than
  ``numpy.random.default_rng(seed)``, as CuPy's generator does: code that must give the same
  draws on every backend draws on the host (``minigrad.backend.host_rng``) and moves them.

The module exposes the part of CuPy's API that the project uses (creation, elementwise math,
reductions, shape functions, ``linalg``, ``random``, ``cuda.Device().synchronize()``), each
name one that CuPy has too; a name outside it is an ``AttributeError`` that says so.

Use it like the others: ``minigrad.set_backend("strict")``, ``MINIGRAD_BACKEND=strict``,
``--backend strict`` on every experiment, ``pytest --backend strict`` for the test suite.
"""
from __future__ import annotations

import builtins  # this module defines any, all, sum, ...: the builtins are named in full
import collections
import sys
import types

import numpy as _np

__all__ = ["ndarray", "DeviceMixError", "count_transfers", "transfer_counts", "scatter_add",
           "asarray", "array", "to_host"]


class DeviceMixError(TypeError):
    """A strict (device) array and a NumPy (host) array met in one operation."""


#: device-to-host transfers so far, by kind ("get", "item", "float", "bool", ...)
_TRANSFERS: collections.Counter = collections.Counter()


def _transfer(kind: str) -> None:
    _TRANSFERS[kind] += 1


def transfer_counts() -> dict:
    """The device-to-host transfers counted since the process started, by kind."""
    return dict(_TRANSFERS)


class count_transfers:
    """``with count_transfers() as c: ...``; then ``c.total`` and ``c.by_kind`` (a dict) are the
    device-to-host transfers made inside the block (read live inside it, too)."""

    def __enter__(self):
        self._start = collections.Counter(_TRANSFERS)
        return self

    def __exit__(self, *exc):
        self._end = collections.Counter(_TRANSFERS)
        return False

    @property
    def by_kind(self) -> dict:
        end = getattr(self, "_end", None) or collections.Counter(_TRANSFERS)
        diff = end - self._start
        return {k: v for k, v in diff.items() if v}

    @property
    def total(self) -> int:
        return builtins.sum(self.by_kind.values())


# ---------------------------------------------------------------------------- wrapping
def _mix_error(where: str) -> DeviceMixError:
    return DeviceMixError(
        f"{where}: a NumPy (host) array was mixed with a strict-backend (device) array; move it "
        f"to the device first (minigrad.backend.asarray) or bring the device array to the host "
        f"explicitly (.get(), minigrad.to_numpy)")


def _unwrap(x, where: str):
    """The NumPy array behind ``x``; lists and tuples unwrapped element by element; a NumPy
    array (a host array) is a :class:`DeviceMixError`."""
    t = type(x)
    if t is ndarray:
        return x._a
    if t is _np.ndarray:
        raise _mix_error(where)
    if t is list or t is tuple:
        return t(_unwrap(v, where) for v in x)
    return x


def _wrap(r):
    """NumPy results back on the device: arrays and NumPy scalars become :class:`ndarray`
    (scalars as 0-d arrays, as CuPy's reductions give), tuples and lists element by element."""
    t = type(r)
    if t is _np.ndarray:
        return ndarray(r)
    if t is _np.float64 or t is _np.float32 or isinstance(r, _np.generic):
        return ndarray(_np.asarray(r))
    if t is tuple or t is list or isinstance(r, tuple):  # namedtuples become plain tuples
        return (list if t is list else tuple)(_wrap(v) for v in r)
    return r


def _call(func, name: str, args, kwargs):
    a = [x._a if type(x) is ndarray else _unwrap(x, name) for x in args]
    if not kwargs:  # the common case, kept short: this is every device operation's path
        return _wrap(func(*a))
    out = kwargs.get("out")
    r = func(*a, **{key: _unwrap(v, name) for key, v in kwargs.items()})
    if out is not None and type(out) is ndarray and r is out._a:
        return out
    return _wrap(r)


#: functions whose result's size depends on the data: CuPy synchronises to size it
_SYNCING = frozenset(("nonzero", "argwhere", "flatnonzero", "unique"))


def _syncs(name: str, args, kwargs) -> bool:
    return (name in _SYNCING or (name == "where" and len(args) == 1 and not kwargs)
            or (name == "bincount" and kwargs.get("minlength") is None and len(args) < 3))


def _device_function(func, name: str):
    if name in _SYNCING or name in ("where", "bincount"):
        def f(*args, **kwargs):
            if _syncs(name, args, kwargs):
                _transfer("sync")
            return _call(func, name, args, kwargs)
    else:  # never synchronises: no test on each call
        def f(*args, **kwargs):
            return _call(func, name, args, kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``{name}`` on strict-backend arrays (NumPy's, on the device's terms)."
    return f


def _host_refused(what: str) -> TypeError:
    return TypeError(
        f"{what} on a strict-backend (device) array: implicit conversion to a NumPy array is "
        f"not allowed (CuPy refuses it too); use .get() or minigrad.to_numpy to copy it to the "
        f"host, or the array module of the data (minigrad.backend.get_array_module)")


# ---------------------------------------------------------------------------- the array
_METHODS = frozenset(
    "all any argmax argmin argsort astype clip conj copy cumprod cumsum diagonal dot fill "
    "flatten max mean min nonzero prod ravel repeat reshape round sort squeeze std sum swapaxes "
    "take trace transpose var view".split())
_PLAIN = frozenset("shape dtype ndim size itemsize nbytes strides".split())


class _Flags:
    """``a.flags`` as CuPy 13 has them: ``c_contiguous``, ``f_contiguous``, ``owndata`` (no
    ``writeable``: code that reads it fails here as it fails on such a CuPy)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, a):
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = a.flags.owndata

    def __getitem__(self, name):
        return getattr(self, name.lower())


class ndarray:
    """A strict-backend array: a NumPy array held on a pretend device (see the module)."""

    __slots__ = ("_a",)
    __array_ufunc__ = None       # NumPy's ufuncs and operators refuse it (then ours run)
    __hash__ = None

    def __init__(self, a):
        self._a = a

    # -- the refusals: no implicit way to the host
    def __array__(self, *args, **kwargs):
        raise _host_refused("numpy.asarray (or __array__)")

    def __array_function__(self, func, types_, args, kwargs):
        raise _host_refused(f"numpy.{getattr(func, '__name__', func)}")

    # -- the explicit and the counted ways to the host
    def get(self, stream=None, order="C", out=None):
        """A NumPy copy of the array on the host (CuPy's ``get``): a counted transfer."""
        _transfer("get")
        return _np.array(self._a, order=order, copy=True)

    def __format__(self, spec):
        _transfer("format")
        return format(self._a if self._a.ndim else self._a.item(), spec)

    def __repr__(self):
        _transfer("repr")
        return "strict." + repr(self._a)

    # -- attributes and methods
    @property
    def T(self):
        return ndarray(self._a.T)

    @property
    def real(self):
        return ndarray(self._a.real)

    @property
    def imag(self):
        return ndarray(self._a.imag)

    @property
    def base(self):
        """None for an array that owns its memory, else a strict view of the owner."""
        return None if self._a.base is None else _wrap(self._a.base)

    @property
    def device(self):
        return "strict"

    @property
    def flags(self):
        return _Flags(self._a)

    def __array_namespace__(self, api_version=None):
        """This module (the array-API way to find an array's functions)."""
        return sys.modules[__name__]

    def __getattr__(self, name):  # what the class does not define (see the loops below)
        raise AttributeError(f"strict-backend arrays have no attribute {name!r} (the strict "
                             f"backend offers the part of CuPy's ndarray the project uses)")

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        for i in range(len(self._a)):
            yield ndarray(self._a[i:i + 1].reshape(self._a.shape[1:]))

    def __getitem__(self, key):
        key = _index(key)
        if _has_mask(key):  # the result's size depends on the data: CuPy synchronises
            _transfer("sync")
        return _wrap(self._a[key])

    def __setitem__(self, key, value):
        key = _index(key)
        v = _unwrap(value, "ndarray.__setitem__")
        _refuse_duplicates(self._a.shape, key, v)
        self._a[key] = v

    def __copy__(self):
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray(self._a.copy())

    def __reduce__(self):
        return (ndarray, (self._a,))


def _index(key):
    """An index with the strict arrays in it unwrapped (NumPy index arrays are allowed: CuPy
    copies them to the device)."""
    t = type(key)
    if t is ndarray:
        return key._a
    if t is tuple:
        return tuple(k._a if type(k) is ndarray else k for k in key)
    return key


def _has_mask(key) -> bool:
    keys = key if type(key) is tuple else (key,)
    return builtins.any(isinstance(k, _np.ndarray) and k.dtype == bool and k.ndim > 0 for k in keys)


def _refuse_duplicates(shape, key, value) -> None:
    """Raise when an assignment with integer index arrays writes one element twice (with
    values that are not one scalar): the index arrays taken together, negatives wrapped."""
    if _np.ndim(value) == 0:
        return
    keys = key if type(key) is tuple else (key,)
    plain = not builtins.any(k is Ellipsis or k is None for k in keys)
    arrays = [(axis, _np.asarray(k)) for axis, k in enumerate(keys)
              if isinstance(k, (_np.ndarray, list)) and _np.asarray(k).dtype.kind in "iu"]
    if not arrays or (not plain and len(arrays) > 1):
        return
    cols = _np.broadcast_arrays(*[a for _, a in arrays])
    if plain:  # the axes are known: wrap negative indices
        cols = [c % shape[axis] for (axis, _), c in zip(arrays, cols)]
    rows = _np.stack([c.ravel() for c in cols], axis=1)
    if _np.unique(rows, axis=0).shape[0] != rows.shape[0]:
        raise ValueError(
            "ndarray.__setitem__ with repeated indices: which write wins is undefined on a GPU "
            "(CuPy); accumulate with minigrad.backend.scatter_add instead")


def _operand(other, name: str):
    """The NumPy value of the other operand, or None when the operator should defer."""
    t = type(other)
    if t is ndarray:
        return other._a
    if t is _np.ndarray:
        raise _mix_error(f"ndarray.{name}")
    return other if isinstance(other, (int, float, complex, _np.generic)) else None


def _binary(name):
    op = getattr(_np.ndarray, name)

    def method(self, other):
        if type(other) is ndarray:  # the common case first
            return _wrap(op(self._a, other._a))
        value = _operand(other, name)
        return NotImplemented if value is None else _wrap(op(self._a, value))
    method.__name__ = name
    return method


def _inplace(name):
    op = getattr(_np.ndarray, name)

    def method(self, other):
        value = _operand(other, name)
        if value is None:
            return NotImplemented
        op(self._a, value)
        return self
    method.__name__ = name
    return method


def _unary(name):
    op = getattr(_np.ndarray, name)

    def method(self):
        return _wrap(op(self._a))
    method.__name__ = name
    return method


for _name in ("add sub mul truediv floordiv mod pow matmul and or xor lshift rshift "
              "lt le gt ge eq ne").split():
    setattr(ndarray, f"__{_name}__", _binary(f"__{_name}__"))
    if _name not in ("lt", "le", "gt", "ge", "eq", "ne"):
        setattr(ndarray, f"__r{_name}__", _binary(f"__r{_name}__"))
        setattr(ndarray, f"__i{_name}__", _inplace(f"__i{_name}__"))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_name}__", _unary(f"__{_name}__"))


def _plain(name: str):
    return property(lambda self: getattr(self._a, name), doc=f"NumPy's ``{name}``.")


def _method(name: str):
    where = f"ndarray.{name}"
    if name == "nonzero":  # the result's size depends on the data: CuPy synchronises
        def method(self, *args, **kwargs):
            _transfer("sync")
            return _call(getattr(self._a, name), where, args, kwargs)
    else:
        def method(self, *args, **kwargs):
            return _call(getattr(self._a, name), where, args, kwargs)
    method.__name__ = name
    return method


for _name in _PLAIN:
    setattr(ndarray, _name, _plain(_name))
for _name in _METHODS:
    setattr(ndarray, _name, _method(_name))


def _counted(kind: str, name: str, convert):
    """A conversion to a host value, counted as a transfer of ``kind``."""
    def method(self, *args):
        _transfer(kind)
        return convert(self._a, *args)
    method.__name__ = name
    return method


# the implicit ways to the host: they work (as in CuPy) and each one is counted
for _kind, _name, _convert in (
        ("item", "item", lambda a, *args: a.item(*args)),
        ("tolist", "tolist", lambda a: a.tolist()), ("float", "__float__", float),
        ("int", "__int__", int),
        ("index", "__index__", lambda a: a.__index__()), ("complex", "__complex__", complex),
        ("bool", "__bool__", bool), ("str", "__str__", str)):
    setattr(ndarray, _name, _counted(_kind, _name, _convert))


# ---------------------------------------------------------------------------- the module
def asarray(a, dtype=None, order=None):
    """``a`` on the device: a strict array as it is (or cast), host data copied over."""
    if type(a) is ndarray:
        return a if dtype is None or a._a.dtype == dtype else ndarray(a._a.astype(dtype))
    return ndarray(_np.array(_unwrap_host(a), dtype=dtype, order=order or "K", copy=True))


def array(a, dtype=None, copy=True, order="K", ndmin=0):
    """A device array from ``a`` (copied unless ``copy=False`` and it already is one)."""
    if type(a) is ndarray and copy is False and (dtype is None or a._a.dtype == dtype):
        return a
    src = a._a if type(a) is ndarray else _unwrap_host(a)
    return ndarray(_np.array(src, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def _unwrap_host(a):
    """Host data for a transfer to the device: NumPy arrays are welcome here; strict arrays in
    a list are unwrapped."""
    t = type(a)
    if t is list or t is tuple:
        return t(_unwrap_host(v) for v in a)
    return a._a if t is ndarray else a


def to_host(a):
    """A NumPy copy of the strict array ``a`` (``minigrad.to_numpy``): a counted transfer."""
    _transfer("to_numpy")
    return a._a.copy()


def scatter_add(target, index, values) -> None:
    """``target[index] += values`` accumulating repeated indices, in place
    (``cupyx.scatter_add``)."""
    _np.add.at(_unwrap(target, "scatter_add"), _index(index), _unwrap(values, "scatter_add"))


#: the functions, all names that CuPy's top-level namespace has too
_FUNCTIONS = (
    "abs absolute add all allclose amax amin any arange arccos arccosh arcsin arcsinh arctan "
    "arctan2 arctanh argmax argmin argsort around array_equal ascontiguousarray atleast_1d "
    "atleast_2d atleast_3d bincount broadcast_arrays broadcast_to cbrt ceil clip column_stack "
    "concatenate copy copysign copyto cos cosh count_nonzero cross cumprod cumsum deg2rad diag "
    "diagflat diagonal diff divide dot dstack einsum empty empty_like equal exp exp2 expand_dims "
    "expm1 eye fabs flip fliplr flipud floor floor_divide fmax fmin fmod full full_like greater "
    "greater_equal hstack hypot identity inner isclose isfinite isinf isnan kron ldexp less "
    "less_equal linspace log log10 log1p log2 logaddexp logaddexp2 logical_and logical_not "
    "logical_or logical_xor logspace matmul max maximum mean median meshgrid min minimum mod "
    "moveaxis multiply nan_to_num nanargmax nanargmin nanmax nanmean nanmin nanstd nansum "
    "nanvar negative nonzero not_equal ones ones_like outer pad percentile positive power prod "
    "ptp quantile rad2deg ravel reciprocal remainder repeat reshape rint roll rollaxis rot90 "
    "round searchsorted sign signbit sin sinc sinh sort split sqrt square squeeze stack std "
    "subtract sum swapaxes take take_along_axis tan tanh tensordot tile trace transpose tri tril "
    "triu true_divide trunc unique var vdot vstack where zeros zeros_like float_power").split()

#: names CuPy re-exports from NumPy (types, constants, dtype helpers): the same objects here
_FROM_NUMPY = (
    "bool_ int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 "
    "complex128 dtype finfo iinfo result_type issubdtype can_cast e pi inf nan newaxis").split()

for _name in _FUNCTIONS:
    globals()[_name] = _device_function(getattr(_np, _name), _name)
for _name in _FROM_NUMPY:
    globals()[_name] = getattr(_np, _name)

linalg = types.ModuleType("minigrad.strict.linalg", "``linalg`` on strict-backend arrays.")
for _name in ("cholesky det eigh eigvalsh inv lstsq matrix_power matrix_rank norm pinv qr "
              "slogdet solve svd").split():
    setattr(linalg, _name, _device_function(getattr(_np.linalg, _name), f"linalg.{_name}"))
linalg.LinAlgError = _np.linalg.LinAlgError


class _Generator:
    """``strict.random.default_rng(seed)``: NumPy's PCG64 on a stream of its own (other numbers
    than ``numpy.random.default_rng(seed)`` gives, as CuPy's generator does), results on the
    device."""

    _STREAM = 0x5741C7  # mixed into the seed: the device stream is not the host stream

    def __init__(self, seed=None):
        entropy = None if seed is None else [int(seed), self._STREAM]
        self._g = _np.random.default_rng(entropy)

    def __getattr__(self, name):
        if name in ("standard_normal", "normal", "uniform", "random", "integers", "choice",
                    "permutation", "exponential", "standard_exponential", "gamma", "beta",
                    "binomial", "poisson"):
            method = getattr(self._g, name)
            return lambda *args, **kwargs: _call(method, f"random.{name}", args, kwargs)
        raise AttributeError(f"the strict backend's generator has no method {name!r}")


random = types.ModuleType("minigrad.strict.random", "``random`` on the strict backend.")
random.default_rng = _Generator


class _Device:
    """``strict.cuda.Device()``: the pretend device; ``synchronize()`` does nothing."""

    def __init__(self, device=0):
        self.id = device

    def synchronize(self):
        return None


class _Stream:
    null = None

    def synchronize(self):
        return None


_Stream.null = _Stream()
cuda = types.SimpleNamespace(Device=_Device, Stream=_Stream)


def __getattr__(name):
    raise AttributeError(f"the strict backend has no {name!r}: it offers the part of CuPy's "
                         f"API that the project uses (see minigrad.strict)")


def _register() -> None:
    """The backend module knows this module as soon as it is imported (also by a direct
    ``import minigrad.strict``), so that its arrays are recognised everywhere."""
    from minigrad import backend  # noqa: PLC0415 (minigrad.backend imports this module lazily)

    backend._strict = sys.modules[__name__]


_register()
