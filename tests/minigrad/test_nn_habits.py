"""The PyTorch habits of minigrad.nn and minigrad.data: saving and loading parameters
(``state_dict``), gradient clipping (``torch.nn.utils`` semantics, hand-computed values and NumPy's
norms as oracles), seeded mini-batches, and the torch-like MLP constructor."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import data, nn
from minigrad.data import DataLoader

SWEEP = settings(max_examples=30, deadline=None, derandomize=True)
BACKEND = mg.get_backend()

# every public name of the modules under test, and the test that covers it
COVERED = {
    "clip_grad_norm_": "test_clip_grad_norm_hand_computed",
    "clip_grad_value_": "test_clip_grad_value_hand_computed",
    "DataLoader": "test_every_sample_once_per_epoch",
    "LoadResult": "test_non_strict_loading_reports_missing_and_unexpected",
}
EXTRA_NN_NAMES = ["clip_grad_norm_", "clip_grad_value_", "LoadResult"]


def test_every_public_name_is_covered():
    assert set(data.__all__) | set(EXTRA_NN_NAMES) == set(COVERED)
    assert set(EXTRA_NN_NAMES) <= set(nn.__all__)
    assert all(callable(getattr(nn, n)) for n in EXTRA_NN_NAMES)
    assert all(name in globals() for name in COVERED.values())


def _host(t):
    return mg.to_numpy(t)


def _snapshot(model):
    return [(n, _host(p).copy(), p.dtype) for n, p in model.named_parameters()]


def _same(a, b) -> bool:
    return len(a) == len(b) and all(na == nb and da == db and np.array_equal(xa, xb)
                                    for (na, xa, da), (nb, xb, db) in zip(a, b))


# --------------------------------------------------------------------------- state_dict
def test_state_dict_names_and_copies():
    m = nn.MLP([3, 4, 2])
    sd = m.state_dict()
    assert list(sd) == ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"]
    assert list(sd) == [n for n, _ in m.named_parameters()]
    for (name, p), value in zip(m.named_parameters(), sd.values()):
        assert type(value) is np.ndarray and value.shape == p.shape and value.dtype == p.dtype
        assert np.array_equal(value, _host(p))
    before = _snapshot(m)
    sd["layers.0.W"][...] = 7.0  # a copy: the model does not see it
    assert _same(before, _snapshot(m))


def test_sequential_names():
    s = nn.Sequential(nn.Linear(2, 3), mg.tanh, nn.Linear(3, 1, bias=False))
    assert list(s.state_dict()) == ["layers.0.W", "layers.0.b", "layers.2.W"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_through_savez_is_bit_identical(tmp_path, dtype):
    a = nn.MLP(4, [8, 8], 3, activation="tanh", seed=0, dtype=dtype)
    b = nn.MLP(4, [8, 8], 3, activation="tanh", seed=1, dtype=dtype)
    x = mg.Tensor(np.random.default_rng(5).standard_normal((6, 4)), dtype=dtype)
    assert not np.array_equal(_host(a(x)), _host(b(x)))
    f = tmp_path / "model.npz"
    np.savez(f, **a.state_dict())
    with np.load(f) as saved:
        result = b.load_state_dict(saved)
    assert result == nn.LoadResult([], []) and result.missing_keys == []
    assert _same(_snapshot(a), _snapshot(b))
    assert np.array_equal(_host(a(x)), _host(b(x)))
    assert b(x).dtype == dtype


def test_loading_writes_into_the_existing_arrays():
    m = nn.MLP([2, 3, 1])
    params, arrays = m.parameters(), [p.data for p in m.parameters()]
    src = nn.MLP([2, 3, 1], seed=4)
    m.load_state_dict(src.state_dict())
    assert all(p.data is a for p, a in zip(m.parameters(), arrays))  # same arrays, in place
    assert all(p is q for p, q in zip(params, m.parameters()))
    assert all(p.backend == BACKEND for p in m.parameters())
    assert _same(_snapshot(src), _snapshot(m))


def test_values_are_cast_to_the_parameter_dtype():
    m = nn.MLP([2, 3, 1], dtype="float32")
    sd = {k: v.astype(np.float64) + 0.1 for k, v in m.state_dict().items()}
    sd["layers.1.b"] = np.array([2], dtype=np.int64)  # integers cast to float (same_kind)
    m.load_state_dict(sd)
    for name, p in m.named_parameters():
        assert p.dtype == np.float32
        assert np.array_equal(_host(p), sd[name].astype(np.float32))


def test_tensors_and_lists_are_loaded():
    m = nn.Linear(2, 2)
    m.load_state_dict({"W": mg.Tensor([[1.0, 2.0], [3.0, 4.0]]), "b": [5.0, 6.0]})
    assert np.array_equal(_host(m.W), [[1.0, 2.0], [3.0, 4.0]])
    assert np.array_equal(_host(m.b), [5.0, 6.0])


def _good():
    return nn.MLP([3, 4, 2], seed=3).state_dict()


REFUSALS = {
    "missing": (lambda sd: {k: v for k, v in sd.items() if k != "layers.1.b"},
                "missing entry 'layers.1.b'"),
    "unexpected": (lambda sd: {**sd, "layers.2.W": np.zeros((2, 2))},
                   "unexpected entry 'layers.2.W'"),
    "shape": (lambda sd: {**sd, "layers.1.W": np.zeros((4, 2))},
              r"entry 'layers.1.W' has shape \(4, 2\), the parameter \(2, 4\)"),
    "complex": (lambda sd: {**sd, "layers.1.b": np.zeros(2, dtype=complex)},
                "entry 'layers.1.b' of dtype complex128 does not cast"),
    "text": (lambda sd: {**sd, "layers.1.b": np.array(["a", "b"])},
             "entry 'layers.1.b' of dtype <U1 does not cast"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_name_the_entry_and_change_nothing(case):
    make, message = REFUSALS[case]
    m = nn.MLP([3, 4, 2])
    before = _snapshot(m)
    sd = make(_good())  # the entries before the bad one are valid: none of them is copied
    with pytest.raises(ValueError, match=message):
        m.load_state_dict(sd)
    assert _same(before, _snapshot(m))


def test_every_problem_is_reported_at_once():
    m = nn.MLP([3, 4, 2])
    sd = _good()
    del sd["layers.0.W"]
    sd["layers.1.W"] = np.zeros(3)
    sd["extra"] = np.zeros(1)
    with pytest.raises(ValueError) as exc:
        m.load_state_dict(sd)
    msg = str(exc.value)
    assert "'layers.0.W'" in msg and "'layers.1.W'" in msg and "'extra'" in msg
    assert "nothing was loaded" in msg


def test_non_strict_loading_reports_missing_and_unexpected():
    m = nn.MLP([3, 4, 2])
    sd = _good()
    w0 = sd.pop("layers.0.W")
    sd["extra"] = np.ones(3)
    before_w0 = _host(m.layers[0].W).copy()
    result = m.load_state_dict(sd, strict=False)
    assert isinstance(result, nn.LoadResult)
    assert result.missing_keys == ["layers.0.W"] and result.unexpected_keys == ["extra"]
    assert np.array_equal(_host(m.layers[0].W), before_w0)  # not in sd: untouched
    assert not np.array_equal(before_w0, w0)
    assert np.array_equal(_host(m.layers[1].W), sd["layers.1.W"])
    bad = {**sd, "layers.1.W": np.zeros((1, 1))}
    before = _snapshot(m)
    with pytest.raises(ValueError, match="layers.1.W"):  # shapes are checked even non-strict
        m.load_state_dict(bad, strict=False)
    assert _same(before, _snapshot(m))


def test_a_non_mapping_is_refused():
    with pytest.raises(TypeError, match="mapping"):
        nn.Linear(2, 2).load_state_dict([np.zeros((2, 2)), np.zeros(2)])


# --------------------------------------------------------------------------- clipping
def _with_grads(*grads, dtype="float64"):
    params = []
    for g in grads:
        p = mg.Tensor(np.zeros(np.shape(g)), requires_grad=True, dtype=dtype)
        p.grad = None if g is None else mg.get_array_module(p.data).array(g, dtype=dtype)  # copy
        params.append(p)
    return params


def test_clip_grad_norm_hand_computed():
    a, b = _with_grads([3.0, 4.0], [[12.0]])  # total 2-norm sqrt(9 + 16 + 144) = 13
    ga, gb = a.grad, b.grad
    total = nn.clip_grad_norm_([a, b], max_norm=6.5)
    assert isinstance(total, mg.Tensor) and total.shape == () and float(total) == 13.0
    coef = 6.5 / (13.0 + 1e-6)
    assert np.array_equal(_host(a.grad), np.array([3.0, 4.0]) * coef)
    assert np.array_equal(_host(b.grad), np.array([[12.0]]) * coef)
    assert a.grad is ga and b.grad is gb  # in place, as torch
    assert math.isclose(math.sqrt(float((_host(a.grad) ** 2).sum() + _host(b.grad)[0, 0] ** 2)),
                        6.5, rel_tol=1e-6)  # the 1e-6 in the divisor: 6.5 (1 - 8e-8)


def test_below_max_norm_nothing_changes():
    a, b = _with_grads([3.0, 4.0], [[12.0]])
    assert float(nn.clip_grad_norm_([a, b], max_norm=100.0)) == 13.0
    assert np.array_equal(_host(a.grad), [3.0, 4.0]) and np.array_equal(_host(b.grad), [[12.0]])


@pytest.mark.parametrize("norm_type, total", [
    (1.0, 19.0), (1, 19.0), (math.inf, 12.0), ("inf", 12.0), (3.0, 1819.0 ** (1 / 3))])
def test_other_norms_hand_computed(norm_type, total):
    a, b = _with_grads([3.0, -4.0], [[-12.0]])  # |.|_1 = 19, |.|_inf = 12, |.|_3^3 = 1819
    got = float(nn.clip_grad_norm_([a, b], max_norm=2.0, norm_type=norm_type))
    assert math.isclose(got, total, rel_tol=1e-15)
    coef = 2.0 / (got + 1e-6)
    assert np.array_equal(_host(a.grad), np.array([3.0, -4.0]) * coef)


def test_none_grads_are_skipped_and_a_single_tensor_is_accepted():
    a, b, c = _with_grads([3.0, 4.0], None, [0.0])
    assert float(nn.clip_grad_norm_([a, b, c], 1.0)) == 5.0
    assert b.grad is None
    assert float(nn.clip_grad_norm_(a, 10.0)) == 1.0 / (5.0 + 1e-6) * 5.0
    assert float(nn.clip_grad_norm_(iter([b]), 1.0)) == 0.0  # no gradient at all


def test_float32_stays_float32():
    a, b = _with_grads([3.0, 4.0], [[12.0]], dtype="float32")
    total = nn.clip_grad_norm_([a, b], 1.0)
    assert total.dtype == np.float32 and a.grad.dtype == np.float32
    assert float(total) == 13.0
    coef = np.float32(1.0) / (np.float32(13.0) + np.float32(1e-6))
    assert np.array_equal(_host(a.grad), np.array([3.0, 4.0], dtype=np.float32) * coef)


def test_non_finite_total():
    a, b = _with_grads([np.inf, 1.0], [2.0])
    with pytest.raises(RuntimeError, match="non-finite|inf"):
        nn.clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)
    assert np.array_equal(_host(a.grad), [np.inf, 1.0])  # nothing scaled on the error
    total = nn.clip_grad_norm_([a, b], 1.0)  # torch: the factor 1/(inf + 1e-6) = 0
    assert float(total) == math.inf
    assert np.isnan(_host(a.grad)[0]) and _host(a.grad)[1] == 0.0 and _host(b.grad)[0] == 0.0
    (c,) = _with_grads([np.nan, 1.0])
    assert math.isnan(float(nn.clip_grad_norm_([c], 1.0)))
    assert np.isnan(_host(c.grad)).all()


@pytest.mark.parametrize("kwargs, error, message", [
    ({"max_norm": -1.0}, ValueError, "max_norm must be >= 0"),
    ({"max_norm": math.nan}, ValueError, "max_norm"),
    ({"max_norm": "1"}, TypeError, "max_norm must be a real number"),
    ({"max_norm": True}, TypeError, "max_norm"),
    ({"max_norm": 1.0, "norm_type": 0}, ValueError, "norm_type must be > 0 or inf"),
    ({"max_norm": 1.0, "norm_type": -2.0}, ValueError, "norm_type"),
    ({"max_norm": 1.0, "norm_type": "two"}, TypeError, "norm_type"),
])
def test_clip_grad_norm_refuses_bad_arguments(kwargs, error, message):
    (a,) = _with_grads([1.0])
    with pytest.raises(error, match=message):
        nn.clip_grad_norm_([a], **kwargs)


def test_non_tensors_are_refused():
    with pytest.raises(TypeError, match=r"parameters\[1\] is a ndarray"):
        nn.clip_grad_norm_([_with_grads([1.0])[0], np.ones(2)], 1.0)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        nn.clip_grad_value_(3.0, 1.0)


grad_lists = st.lists(st.lists(st.integers(0, 3), min_size=0, max_size=2).map(tuple),
                      min_size=1, max_size=4)


@SWEEP
@given(shapes=grad_lists, seed=st.integers(0, 2**16),
       norm_type=st.sampled_from([1.0, 1.5, 2.0, 3.0, math.inf]),
       max_norm=st.sampled_from([0.0, 0.1, 1.0, 10.0]))
def test_clip_grad_norm_against_numpy(shapes, seed, norm_type, max_norm):
    """The total norm is NumPy's norm of all gradients concatenated; each gradient is scaled by
    min(1, max_norm / (total + 1e-6))."""
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(s) for s in shapes]
    params = _with_grads(*grads)
    flat = np.concatenate([g.ravel() for g in grads])
    expected = np.linalg.norm(flat, ord=norm_type) if flat.size else 0.0
    total = float(nn.clip_grad_norm_(params, max_norm, norm_type=norm_type))
    assert math.isclose(total, expected, rel_tol=1e-13, abs_tol=1e-300)
    coef = min(1.0, max_norm / (total + 1e-6))
    for p, g in zip(params, grads):
        np.testing.assert_allclose(_host(p.grad), g * coef, rtol=1e-15, atol=0)


def test_clip_grad_value_hand_computed():
    a, b, c = _with_grads([-3.0, 0.5, 2.0, np.nan], None, [[1.0, -1.5]])
    ga = a.grad
    assert nn.clip_grad_value_([a, b, c], 1.0) is None
    assert np.array_equal(_host(a.grad), [-1.0, 0.5, 1.0, np.nan], equal_nan=True)
    assert a.grad is ga and b.grad is None
    assert np.array_equal(_host(c.grad), [[1.0, -1.0]])
    nn.clip_grad_value_(c, 0)
    assert np.array_equal(_host(c.grad), [[0.0, 0.0]])
    (d,) = _with_grads([1e300, -1e300])
    nn.clip_grad_value_([d], math.inf)
    assert np.array_equal(_host(d.grad), [1e300, -1e300])


@pytest.mark.parametrize("value, error", [(-0.1, ValueError), (math.nan, ValueError),
                                          ("1", TypeError), (None, TypeError)])
def test_clip_grad_value_refuses_bad_values(value, error):
    with pytest.raises(error, match="clip_value"):
        nn.clip_grad_value_(_with_grads([1.0]), value)


def test_clipping_against_torch_if_installed():
    torch = pytest.importorskip("torch", reason="torch is not installed in this environment")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)) * 5, rng.standard_normal(7)]
    for norm_type in (1.0, 2.0, 3.0, math.inf):
        ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for t, g in zip(ts, grads):
            t.grad = torch.tensor(g)
        expected = float(torch.nn.utils.clip_grad_norm_(ts, 1.0, norm_type=norm_type))
        params = _with_grads(*grads)
        assert math.isclose(float(nn.clip_grad_norm_(params, 1.0, norm_type)), expected,
                            rel_tol=1e-13)
        for p, t in zip(params, ts):
            np.testing.assert_allclose(_host(p.grad), t.grad.numpy(), rtol=1e-13)


# --------------------------------------------------------------------------- mini-batches
def _indices(loader):
    """The sample indices of one epoch, batch by batch (the data is arange(n) in column 0)."""
    return [[int(i) for i in _host(b[1])] for b in loader]


def _loader(n, **kw):
    X = np.stack([np.arange(n, dtype=float), -np.arange(n, dtype=float)], axis=1)
    return DataLoader(X, np.arange(n), **kw)


@SWEEP
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), shuffle=st.booleans(),
       seed=st.integers(0, 2**31))
def test_every_sample_once_per_epoch(n, batch_size, shuffle, seed):
    loader = _loader(n, batch_size=batch_size, shuffle=shuffle, seed=seed)
    assert len(loader) == math.ceil(n / batch_size)
    for _ in range(3):
        epoch = _indices(loader)
        assert len(epoch) == len(loader)
        assert all(len(b) == batch_size for b in epoch[:-1]) and 1 <= len(epoch[-1]) <= batch_size
        assert sorted(i for b in epoch for i in b) == list(range(n))
        if not shuffle:
            assert [i for b in epoch for i in b] == list(range(n))


@SWEEP
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), seed=st.integers(0, 2**31))
def test_drop_last(n, batch_size, seed):
    loader = _loader(n, batch_size=batch_size, drop_last=True, seed=seed)
    assert len(loader) == n // batch_size
    epoch = _indices(loader)
    assert len(epoch) == n // batch_size and all(len(b) == batch_size for b in epoch)
    seen = [i for b in epoch for i in b]
    assert len(set(seen)) == len(seen) and set(seen) <= set(range(n))


def test_rows_of_all_arrays_stay_aligned():
    for xb, yb in _loader(23, batch_size=5, seed=1):
        x, y = _host(xb), _host(yb)
        assert np.array_equal(x[:, 0], y) and np.array_equal(x[:, 1], -y)


def test_reproducible_with_the_seed_and_epochs_differ():
    a, b, c = (_loader(50, batch_size=8, seed=s) for s in (7, 7, 8))
    epochs_a = [_indices(a) for _ in range(3)]
    assert epochs_a == [_indices(b) for _ in range(3)]
    assert epochs_a[0] != _indices(c)
    assert epochs_a[0] != epochs_a[1] != epochs_a[2] != epochs_a[0]
    assert epochs_a[0] != [list(range(k, min(k + 8, 50))) for k in range(0, 50, 8)]


def test_an_epoch_left_early_does_not_shift_the_next():
    a, b = _loader(30, batch_size=4, seed=3), _loader(30, batch_size=4, seed=3)
    next(iter(a))  # epoch 0 begun and left
    _indices(b)
    assert a.epoch == b.epoch == 1
    assert _indices(a) == _indices(b)
    b.set_epoch(0)
    assert _indices(b) == [list(map(int, a.order(0)[k:k + 4])) for k in range(0, 30, 4)]


def test_batches_are_tensors_of_the_backend_with_the_arrays_dtypes():
    X = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    for shuffle in (True, False):
        loader = DataLoader(mg.Tensor(X, dtype="float32"), np.arange(10, dtype=np.int32),
                            batch_size=4, shuffle=shuffle)
        assert loader.backend == BACKEND
        for xb, yb in loader:
            assert isinstance(xb, mg.Tensor) and isinstance(yb, mg.Tensor)
            assert xb.backend == yb.backend == BACKEND
            assert xb.dtype == np.float32 and yb.dtype == np.int32
            assert not xb.requires_grad and xb.is_leaf
            assert np.array_equal(_host(xb), X[_host(yb)])


def test_single_array_and_lists():
    batches = list(DataLoader([[1.0], [2.0], [3.0]], batch_size=2, shuffle=False))
    assert [len(b) for b in batches] == [1, 1]
    assert np.array_equal(_host(batches[0][0]), [[1.0], [2.0]])


def test_batches_are_not_views_of_the_data():
    loader = _loader(6, batch_size=3, shuffle=False)
    xb, _ = next(iter(loader))
    xb.data[...] = 100.0
    assert _host(loader.arrays[0])[0, 0] == 0.0


@pytest.mark.parametrize("build, error, message", [
    (lambda: DataLoader(np.zeros(3), np.zeros(4), batch_size=2), ValueError,
     r"one length along axis 0; got lengths \[3, 4\]"),
    (lambda: DataLoader(np.zeros(3), batch_size=0), ValueError, "batch_size must be >= 1"),
    (lambda: DataLoader(np.zeros(3), batch_size=2.5), TypeError, "batch_size must be an integer"),
    (lambda: DataLoader(np.zeros(3), batch_size=True), TypeError, "batch_size"),
    (lambda: DataLoader(np.zeros(3), 2), TypeError, "batch_size"),  # a keyword, as in torch
    (lambda: DataLoader(batch_size=2), ValueError, "at least one array"),
    (lambda: DataLoader(np.float64(1.0), batch_size=1), ValueError, r"arrays\[0\] is 0-d"),
    (lambda: DataLoader(np.zeros(3), batch_size=1, seed=-1), ValueError, "seed"),
    (lambda: _loader(3, batch_size=1).set_epoch(-1), ValueError, "epoch"),
])
def test_data_loader_refuses_bad_arguments(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_seed_none_draws_a_fresh_seed():
    loader = _loader(10, batch_size=3, seed=None)
    assert isinstance(loader.seed, int)
    assert sorted(i for b in _indices(loader) for i in b) == list(range(10))


# --------------------------------------------------------------------------- MLP forms
@pytest.mark.parametrize("torch_form, list_form", [
    (lambda: nn.MLP(3, [5, 4], 2, seed=2), lambda: nn.MLP([3, 5, 4, 2], seed=2)),
    (lambda: nn.MLP(3, 5, 2, activation="tanh"), lambda: nn.MLP([3, 5, 2], activation="tanh")),
    (lambda: nn.MLP(3, [], 2), lambda: nn.MLP([3, 2])),
    (lambda: nn.MLP(in_features=3, hidden_sizes=(6,), out_features=1, dtype="float32"),
     lambda: nn.MLP(sizes=[3, 6, 1], dtype="float32")),
    (lambda: nn.MLP(3, out_features=1, hidden_sizes=[6]), lambda: nn.MLP([3, 6, 1])),
    (lambda: nn.MLP(np.int64(3), [np.int32(4)], 2), lambda: nn.MLP([3, 4, 2])),
])
def test_both_mlp_forms_build_the_same_network(torch_form, list_form):
    a, b = torch_form(), list_form()
    assert _same(_snapshot(a), _snapshot(b))
    x = mg.Tensor(np.random.default_rng(1).standard_normal((4, 3)), dtype=a.parameters()[0].dtype)
    assert np.array_equal(_host(a(x)), _host(b(x)))


EXPECTED_FORMS = r"Expected MLP\(sizes, .*MLP\(in_features, hidden_sizes, out_features"


@pytest.mark.parametrize("build, error, message", [
    (lambda: nn.MLP([3, 4, 2], "tanh"), TypeError, "activation, dropout, init, seed and dtype"),
    (lambda: nn.MLP(3, [4]), TypeError, "missing out_features"),
    (lambda: nn.MLP(), TypeError, "missing in_features, hidden_sizes, out_features"),
    (lambda: nn.MLP(3, [4], 2, "relu"), TypeError, "too many positional arguments"),
    (lambda: nn.MLP([3, 4, 2], in_features=3), TypeError, "not both"),
    (lambda: nn.MLP(3, [4], 2, in_features=3), TypeError, "in_features given twice"),
    (lambda: nn.MLP(3, [4.5], 2), TypeError, r"hidden_sizes\[0\] must be a positive integer"),
    (lambda: nn.MLP(3, "4", 2), TypeError, "hidden_sizes must be a sequence"),
    (lambda: nn.MLP(3.0, [4], 2), TypeError, "unexpected arguments"),
    (lambda: nn.MLP(5), TypeError, "missing hidden_sizes, out_features"),
    (lambda: nn.MLP({3, 4}.pop), TypeError, "sizes must be a sequence"),
    (lambda: nn.MLP([3, True]), TypeError, r"sizes\[1\] must be a positive integer"),
])
def test_mlp_signature_errors_show_both_forms(build, error, message):
    with pytest.raises(error, match=message) as exc:
        build()
    assert exc.match(EXPECTED_FORMS)


@pytest.mark.parametrize("build, message", [
    (lambda: nn.MLP(3, [0], 2), r"hidden_sizes\[0\] must be a positive integer; got 0"),
    (lambda: nn.MLP([3]), "at least an input and an output size"),
    (lambda: nn.MLP(0, [2], 2), "in_features must be a positive integer"),
    (lambda: nn.MLP([3, 2], activation="gelu"), "unknown activation"),
])
def test_mlp_value_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# --------------------------------------------------------------------------- together
def test_a_training_loop_in_torch_style(tmp_path):
    """Mini-batches, clipping and saving in one loop: the loss falls, and the saved model
    predicts what the trained one does."""
    from optimizers import SGD

    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    model = nn.MLP(2, [16], 2, activation="tanh", seed=0)
    opt = SGD(model.parameters(), lr=0.5)
    loader = DataLoader(X, y, batch_size=16, seed=0)
    Xt = mg.Tensor(X)

    def full_loss():
        with mg.no_grad():
            return float(nn.cross_entropy(model(Xt), y))

    start = full_loss()
    for _ in range(30):
        for xb, yb in loader:
            opt.zero_grad()
            nn.cross_entropy(model(xb), yb).backward()
            nn.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    assert full_loss() < 0.5 * start
    np.savez(tmp_path / "m.npz", **model.state_dict())
    other = nn.MLP(2, [16], 2, activation="tanh", seed=9)
    other.load_state_dict(np.load(tmp_path / "m.npz"))
    assert np.array_equal(_host(other(Xt)), _host(model(Xt)))
