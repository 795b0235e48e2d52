"""The strict backend refuses what CuPy refuses, counts what CuPy would transfer, and otherwise
computes exactly what NumPy computes."""
import copy
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend as B
from minigrad import strict as S


def dev(x, dtype=None):
    return S.asarray(np.asarray(x, dtype=dtype))


def test_selectable_like_the_other_backends():
    before = B.get_backend()  # numpy, or the session's --backend
    with mg.use_backend("strict"):
        t = mg.Tensor([1.0, 2.0], requires_grad=True)
        assert t.backend == "strict" and type(t.data) is S.ndarray
        assert B.get_array_module(t.data) is S
    assert B.get_backend() == before
    assert "strict" in B.BACKENDS


@pytest.mark.parametrize("convert", [
    np.asarray, np.array, lambda a: np.exp(a), lambda a: np.sum(a), lambda a: np.linalg.norm(a),
    lambda a: np.testing.assert_allclose(a, 1.0), lambda a: a.__array__(),
])
def test_implicit_conversion_to_numpy_is_a_type_error(convert):
    with pytest.raises(TypeError, match="strict-backend|not supported|does not support"):
        convert(dev([1.0, 2.0]))


@pytest.mark.parametrize("mix", [
    lambda a, h: a + h, lambda a, h: h + a, lambda a, h: a * h, lambda a, h: h @ a,
    lambda a, h: S.where(a > 0, a, h), lambda a, h: S.stack([a, h]),
    lambda a, h: a.__setitem__(slice(None), h), lambda a, h: a.__iadd__(h),
])
def test_mixing_with_a_numpy_array_is_refused(mix):
    with pytest.raises(TypeError, match="mixed|does not support|not supported"):
        mix(dev([1.0, 2.0]), np.array([3.0, 4.0]))


def test_mixing_in_the_engine_is_refused_with_the_backend_names():
    a = dev([1.0])
    with pytest.raises(B.BackendError, match="numpy and strict"):
        B.get_array_module(a, np.array([1.0]))


def test_numbers_and_numpy_scalars_are_welcome():
    a = dev([1.0, 2.0])
    for s in (2, 2.0, np.float64(2.0), np.float32(2.0), True):
        assert type(a * s) is S.ndarray and type(s + a) is S.ndarray


def test_reductions_and_scalar_indexing_give_0d_arrays():
    a = dev([[1.0, 2.0], [3.0, 4.0]])
    for r in (a.sum(), S.sum(a), a[0, 1], S.max(a), S.linalg.norm(a), S.vdot(a, a), a.mean()):
        assert type(r) is S.ndarray and r.shape == ()


def test_values_equal_numpys_bit_for_bit():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((5, 4))
    a = S.asarray(h)
    checks = [
        (S.exp(a) * 2 - a ** 2, np.exp(h) * 2 - h ** 2),
        (S.linalg.svd(a)[1], np.linalg.svd(h)[1]),
        (S.einsum("ij,kj->ik", a, a), np.einsum("ij,kj->ik", h, h)),
        (a.T @ a, h.T @ h),
        (S.where(a > 0, a, 0.0), np.where(h > 0, h, 0.0)),
        (S.sum(a, axis=0, keepdims=True), np.sum(h, axis=0, keepdims=True)),
    ]
    for got, want in checks:
        assert np.array_equal(B.to_numpy(got), want)


def test_out_arguments_and_in_place_operators_write_into_the_array():
    a, b = dev([1.0, 2.0]), dev([3.0, 4.0])
    r = S.multiply(a, b, out=a)
    assert r is a and np.array_equal(a.get(), [3.0, 8.0])
    a += 1
    a[0] = 0.0
    assert np.array_equal(a.get(), [0.0, 9.0])


def test_repeated_indices_in_an_assignment_are_refused_and_scatter_add_accumulates():
    a = dev(np.zeros(3))
    idx = np.array([0, 0, 2])
    with pytest.raises(ValueError, match="repeated indices.*scatter_add"):
        a[idx] += dev([1.0, 1.0, 1.0])
    B.scatter_add(a, idx, dev([1.0, 1.0, 1.0]))
    assert np.array_equal(a.get(), [2.0, 0.0, 1.0])


def test_every_way_to_the_host_is_counted():
    a = dev([1.5, 2.5])
    ways = {"get": lambda: a.get(), "item": lambda: a[0].item(), "float": lambda: float(a[0]),
            "int": lambda: int(a[0]), "bool": lambda: bool(a[0] > 0),
            "tolist": lambda: a.tolist(), "to_numpy": lambda: B.to_numpy(a),
            "format": lambda: f"{a[0]:.2f}"}
    for kind, way in ways.items():
        with S.count_transfers() as c:
            way()
        assert c.by_kind == {kind: 1}, kind
    with S.count_transfers() as c:
        b = S.exp(a) + a.sum() * 2 - a[1]   # device work only
        b[0] = 3.0
    assert c.total == 0


def test_to_the_device_and_back_is_explicit_and_exact():
    h = np.arange(6.0).reshape(2, 3)
    a = B.asarray(h, backend="strict")
    assert type(a) is S.ndarray and np.array_equal(B.to_numpy(a), h)
    back = B.asarray(a, backend="numpy")
    assert type(back) is np.ndarray and np.array_equal(back, h)
    h[0, 0] = 99.0                       # a copy: the device array does not see host writes
    assert B.to_numpy(a)[0, 0] == 0.0


def test_the_device_random_stream_is_not_the_host_stream():
    d = S.random.default_rng(0).standard_normal(4)
    h = np.random.default_rng(0).standard_normal(4)
    assert type(d) is S.ndarray and not np.array_equal(d.get(), h)
    assert np.array_equal(S.random.default_rng(0).standard_normal(4).get(), d.get())


def test_copies_and_pickles_are_device_arrays():
    a = dev([1.0, 2.0])
    for c in (copy.copy(a), copy.deepcopy(a), pickle.loads(pickle.dumps(a))):
        assert type(c) is S.ndarray and np.array_equal(c.get(), a.get())
        c[0] = 5.0
        assert a.get()[0] == 1.0


def test_a_name_outside_the_cupy_subset_is_an_attribute_error():
    with pytest.raises(AttributeError, match="part of CuPy"):
        S.polyfit  # noqa: B018
    with pytest.raises(AttributeError, match="part of CuPy"):
        dev([1.0]).tobytes  # noqa: B018


@pytest.mark.skipif(not mg.cupy_available(), reason="needs CuPy and a CUDA GPU to compare with")
def test_every_name_is_one_that_cupy_has():  # pragma: no cover - GPU machine
    import cupy

    for name in S._FUNCTIONS + S._FROM_NUMPY:
        assert hasattr(cupy, name), name
    for name in dir(S.linalg):
        if not name.startswith("_") and name != "LinAlgError":  # NumPy's exception, not CuPy's
            assert hasattr(cupy.linalg, name), name


def test_gradients_on_strict_equal_numpys():
    rng = np.random.default_rng(1)
    w0, x0 = rng.standard_normal((3, 4)), rng.standard_normal(4)
    grads = {}
    for name in ("numpy", "strict"):
        with mg.use_backend(name):
            w = mg.Tensor(w0, requires_grad=True)
            loss = mg.tanh(w @ mg.Tensor(x0)).sum() ** 2
            with S.count_transfers() as c:
                loss.backward()
            assert c.total == 0
            grads[name] = B.to_numpy(w.grad)
    assert np.array_equal(grads["numpy"], grads["strict"])


def test_repeated_elements_are_found_across_index_arrays_and_negative_indices():
    a = dev(np.zeros((2, 2)))
    a[[0, 0, 1], [0, 1, 1]] = dev([1.0, 2.0, 3.0])            # three different elements: fine
    assert np.array_equal(a.get(), [[1.0, 2.0], [0.0, 3.0]])
    b = dev(np.zeros(3))
    with pytest.raises(ValueError, match="repeated indices"):
        b[[-1, 2]] = dev([1.0, 2.0])                         # -1 is 2
    b[[0, 0]] = 5.0                                          # one scalar: every write agrees
    assert b.get()[0] == 5.0


def test_data_dependent_sizes_are_counted_as_synchronisations():
    a = dev([1.0, -2.0, 3.0])
    for way in (lambda: a[a > 0], lambda: S.nonzero(a), lambda: a.nonzero(),
                lambda: S.where(a > 0), lambda: S.unique(a),
                lambda: S.bincount(S.asarray(np.array([0, 2])))):
        with S.count_transfers() as c:
            way()
        assert c.by_kind == {"sync": 1}
    with S.count_transfers() as c:
        S.where(a > 0, a, 0.0)
        S.bincount(S.asarray(np.array([0, 2])), minlength=4)
    assert c.total == 0


def test_flags_are_cupys():
    f = dev(np.zeros((2, 3))).flags
    assert f.c_contiguous and not f.f_contiguous and f.owndata and f["C_CONTIGUOUS"]
    with pytest.raises(AttributeError):
        f.writeable  # noqa: B018


def test_a_direct_import_is_enough_to_be_recognised():
    import subprocess
    import sys

    code = ("import numpy as np; import minigrad.strict as S; import minigrad as mg; "
            "a = S.asarray(np.array([1.0, 2.0])); "
            "assert mg.backend.backend_name_of(a) == 'strict'; "
            "assert mg.to_numpy(a).tolist() == [1.0, 2.0]; "
            "assert mg.Tensor(a).backend == 'numpy'; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
