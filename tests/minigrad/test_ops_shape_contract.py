"""minigrad.ops_shape and minigrad.ops_contract: values against NumPy over hypothesis sweeps of
shapes, axes and subscripts, first- and second-order gradient checks against central
differences, closed-form gradients, float32, errors, functions and methods."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import ops_contract, ops_shape
from minigrad.gradcheck import check_grads

SWEEP = settings(max_examples=30, deadline=None, derandomize=True)
seeds = st.integers(0, 2**16)
dims = st.integers(1, 3)


def _shape(draw, lo, hi):
    return tuple(draw(st.lists(dims, min_size=lo, max_size=hi)))


def _axis(draw, nd):
    """An axis of either sign for ``nd`` dimensions."""
    return draw(st.integers(-nd, nd - 1))


# --------------------------------------------------------------------------- the cases
# Each strategy draws ``(shapes, params)``: the operands' shapes and the keyword parameters;
# CALLS gives the minigrad and NumPy calls with ``(*operands, **params)``.
@st.composite
def trace_case(draw):
    shape = _shape(draw, 2, 4)
    nd = len(shape)
    a1 = _axis(draw, nd)
    a2 = draw(st.integers(-nd, nd - 1).filter(lambda a: a % nd != a1 % nd))
    return [shape], {"offset": draw(st.integers(-3, 3)), "axis1": a1, "axis2": a2}


@st.composite
def diag_case(draw):
    return [_shape(draw, 1, 2)], {"k": draw(st.integers(-3, 3))}


@st.composite
def triangle_case(draw):
    return [_shape(draw, 1, 4)], {"k": draw(st.integers(-3, 3))}


@st.composite
def roll_case(draw):
    shape = _shape(draw, 0, 3)
    nd = len(shape)
    if nd == 0 or draw(st.booleans()):
        shift = draw(st.one_of(st.integers(-7, 7), st.lists(st.integers(-4, 4), min_size=1,
                                                            max_size=2)))
        return [shape], {"shift": shift, "axis": None}
    if draw(st.booleans()):
        return [shape], {"shift": draw(st.integers(-7, 7)), "axis": _axis(draw, nd)}
    axes = draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=3))  # may repeat
    shift = draw(st.one_of(st.integers(-5, 5),
                           st.lists(st.integers(-5, 5), min_size=len(axes), max_size=len(axes))))
    return [shape], {"shift": shift if isinstance(shift, int) else tuple(shift),
                     "axis": tuple(axes)}


@st.composite
def repeat_case(draw):
    shape = _shape(draw, 0, 3)
    nd = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1))) if nd else draw(
        st.sampled_from([None, 0, -1]))
    n = int(np.prod(shape)) if axis is None else (shape[axis] if nd else 1)
    repeats = draw(st.one_of(st.integers(0, 3),
                             st.lists(st.integers(0, 3), min_size=n, max_size=n),
                             st.lists(st.integers(0, 3), min_size=1, max_size=1)))
    return [shape], {"repeats": repeats, "axis": axis}


@st.composite
def tile_case(draw):
    reps = draw(st.one_of(st.integers(0, 3),
                          st.lists(st.integers(0, 3), min_size=0, max_size=4).map(tuple)))
    return [_shape(draw, 0, 3)], {"reps": reps}


@st.composite
def split_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    ax = _axis(draw, len(shape))
    n = shape[ax]
    if draw(st.booleans()):
        sections = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    else:  # indices, unsorted, negative or past the end: NumPy's slice semantics
        sections = draw(st.lists(st.integers(-5, 6), min_size=0, max_size=3))
    return [shape], {"indices_or_sections": sections, "axis": ax}


@st.composite
def hstack_case(draw):
    base = _shape(draw, 0, 3)
    count = draw(st.integers(1, 3))
    if len(base) == 0:  # 0-d and 1-d operands mix: both become vectors
        return [draw(st.sampled_from([(), (1,), (2,)])) for _ in range(count)], {}
    ax = 0 if len(base) == 1 else 1
    return [base[:ax] + (draw(dims),) + base[ax + 1:] for _ in range(count)], {}


@st.composite
def vstack_case(draw):
    base = _shape(draw, 0, 3)
    count = draw(st.integers(1, 3))
    if len(base) <= 1:  # (n,) is a (1, n) row: it joins (k, n) matrices
        n = base[0] if base else 1
        options = [(n,), (draw(dims), n)] if base else [(), (1,), (1, 1)]
        return [draw(st.sampled_from(options)) for _ in range(count)], {}
    return [(draw(dims),) + base[1:] for _ in range(count)], {}


@st.composite
def tensordot_case(draw):
    inner = _shape(draw, 0, 2)
    free_a, free_b = _shape(draw, 0, 2), _shape(draw, 0, 2)
    if draw(st.booleans()):  # the int form: a's last and b's first axes
        return [free_a + inner, inner + free_b], {"axes": len(inner)}
    na, nb = len(free_a) + len(inner), len(free_b) + len(inner)
    pos_a = draw(st.permutations(range(na)))[:len(inner)]
    pos_b = draw(st.permutations(range(nb)))[:len(inner)]

    def place(free, pos, n):
        shape, it = [None] * n, iter(free)
        for k, p in enumerate(pos):
            shape[p] = inner[k]
        return tuple(s if s is not None else next(it) for s in shape)

    signed = [p - draw(st.sampled_from([0, n])) for p, n in
              [(p, na) for p in pos_a] + [(p, nb) for p in pos_b]]
    axes = (list(signed[:len(inner)]), list(signed[len(inner):]))
    if len(inner) == 1 and draw(st.booleans()):
        axes = (axes[0][0], axes[1][0])  # a pair of ints
    return [place(free_a, pos_a, na), place(free_b, pos_b, nb)], {"axes": axes}


@st.composite
def einsum_case(draw):
    """A random subscripts string: 1-3 operands with 0-3 labels each (repeats allowed, lower
    and upper case), labels of length 1 broadcasting, '...' with broadcast dimensions, implicit
    or explicit output."""
    labels = "abcB"
    size = {c: draw(st.integers(1, 3)) for c in labels}
    n_ops = draw(st.integers(1, 3))
    ell = draw(st.booleans())
    ell_shape = _shape(draw, 0, 2) if ell else ()
    terms, shapes = [], []
    for _ in range(n_ops):
        term = "".join(draw(st.lists(st.sampled_from(labels), min_size=0, max_size=3)))
        shape = []
        for c in term:
            first = term.index(c) < len(shape)  # a repeated label keeps its first length
            shape.append(shape[term.index(c)] if first else
                         draw(st.sampled_from([size[c], 1])) if draw(st.booleans())
                         else size[c])
        if ell and draw(st.booleans()):
            cut = draw(st.integers(0, len(ell_shape)))
            own = tuple(draw(st.sampled_from([n, 1])) for n in ell_shape[cut:])
            where = draw(st.integers(0, len(term)))
            term = term[:where] + "..." + term[where:]
            shape = shape[:where] + list(own) + shape[where:]
        terms.append(term)
        shapes.append(tuple(shape))
    subscripts = ",".join(terms)
    used = sorted(set("".join(terms)) - {"."})
    if draw(st.booleans()):
        out = "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
        if "..." in subscripts:
            where = draw(st.integers(0, len(out)))
            out = out[:where] + "..." + out[where:]
        subscripts += "->" + out
    return shapes, {"subscripts": subscripts}


CASES = {
    "trace": trace_case(), "diag": diag_case(), "tril": triangle_case(),
    "triu": triangle_case(), "roll": roll_case(), "repeat": repeat_case(), "tile": tile_case(),
    "split": split_case(), "hstack": hstack_case(), "vstack": vstack_case(),
    "tensordot": tensordot_case(), "einsum": einsum_case(),
}


def _stacked(fn):
    return lambda *xs, **p: fn(list(xs), **p)


def _subscripted(fn):
    return lambda *xs, subscripts: fn(subscripts, *xs)


#: name -> (minigrad call, NumPy call, exact): exact means bit-for-bit equal (the rearrangements);
#: the sums match to rounding
CALLS = {
    "trace": (mg.trace, np.trace, False),
    "diag": (mg.diag, np.diag, True),
    "tril": (mg.tril, np.tril, True),
    "triu": (mg.triu, np.triu, True),
    "roll": (mg.roll, np.roll, True),
    "repeat": (mg.repeat, np.repeat, True),
    "tile": (mg.tile, np.tile, True),
    "split": (mg.split, np.split, True),
    "hstack": (_stacked(mg.hstack), _stacked(np.hstack), True),
    "vstack": (_stacked(mg.vstack), _stacked(np.vstack), True),
    "tensordot": (mg.tensordot, np.tensordot, False),
    "einsum": (_subscripted(mg.einsum), _subscripted(np.einsum), False),
}


def test_every_function_is_swept():
    """Every public function of the two modules has a sweep, a float32 case and an error case
    (a new function fails here until it is checked)."""
    names = set(ops_shape.__all__) | set(ops_contract.__all__)
    assert names == set(CASES) == set(CALLS) == set(FLOAT32) == {e[0] for e in ERRORS}


def _points(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _compare(got, want, exact):
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want):
            _compare(g, w, exact)
        return
    assert isinstance(got, mg.Tensor)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape,
                                                                   got.dtype, want.dtype)
    if exact:
        np.testing.assert_array_equal(got.numpy(), want)
    else:
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
@SWEEP
@given(data=st.data(), seed=seeds)
def test_values_match_numpy_and_second_order_gradients(name, data, seed):
    shapes, params = data.draw(CASES[name])
    fn, ref, exact = CALLS[name]
    xs = _points(shapes, seed)
    want = ref(*xs, **params)
    _compare(fn(*xs, **params), want, exact)
    _compare(fn(*[mg.Tensor(x) for x in xs], **params), want, exact)
    check_grads(lambda *ts: fn(*ts, **params), *xs, order=2)


EINSUM_FORMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3),
    (2, 3, 2)]), ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]), ("i,j->ij", [(2,), (3,)]),
    ("i,i", [(3,), (3,)]), ("ij->ji", [(2, 3)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]), ("iii->", [(2, 2, 2)]), ("ij,ij->i", [(1, 3), (4, 1)]),
    ("ijk,ikl->", [(2, 3, 1), (2, 1, 4)]), ("i,ii->i", [(3,), (3, 3)]), ("->", [()]),
    ("a...,...", [(2, 3, 4), (4,)]), ("Ba,aC", [(2, 3), (3, 4)]), ("aB", [(2, 3)]),
    ("ij, jk ->ik", [(2, 3), (3, 2)]), ("ab,cd->", [(2, 3), (1, 2)]), (",i->i", [(), (3,)]),
]


@pytest.mark.parametrize("subscripts,shapes", EINSUM_FORMS)
def test_einsum_forms(subscripts, shapes):
    """The common forms by name: products, batches, transposes, traces, diagonals, spaces,
    upper-case labels (ASCII order in the implicit output), broadcasting, 0-d operands."""
    xs = _points(shapes, 5)
    _compare(mg.einsum(subscripts, *xs), np.einsum(subscripts, *xs), False)
    _compare(mg.einsum(subscripts, *xs, optimize=True), np.einsum(subscripts, *xs), False)
    check_grads(lambda *ts: mg.einsum(subscripts, *ts), *xs, order=2)
    check_grads(lambda *ts: mg.einsum(subscripts, *ts, optimize="greedy"), *xs, order=2)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(case=einsum_case(), seed=seeds)
def test_einsum_wider_sweep(case, seed):
    """einsum has the most cases (repeated labels, '...', broadcasting, implicit output): a
    longer sweep."""
    shapes, params = case
    xs = _points(shapes, seed)
    _compare(mg.einsum(params["subscripts"], *xs), np.einsum(params["subscripts"], *xs), False)
    check_grads(lambda *ts: mg.einsum(params["subscripts"], *ts), *xs, order=2)


# --------------------------------------------------------------------------- closed forms
def test_closed_form_gradients():
    """The VJPs stated in the docstrings, against their closed forms."""
    rng = np.random.default_rng(3)
    x = mg.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = rng.standard_normal((3, 4))
    wd = mg.backend.asarray(w)  # the cotangent on the tensors' backend
    for fn, ref in [(mg.tril, np.tril), (mg.triu, np.triu)]:
        for k in (-1, 0, 2):
            x.grad = None
            (fn(x, k) * wd).sum().backward()
            np.testing.assert_array_equal(mg.to_numpy(x.grad), ref(w, k))
    x.grad = None
    mg.trace(x, 1).backward()
    np.testing.assert_array_equal(mg.to_numpy(x.grad), np.eye(3, 4, 1))
    x.grad = None
    (mg.repeat(x, [2, 0, 1, 3], axis=1) * 1.0).sum().backward()
    np.testing.assert_array_equal(mg.to_numpy(x.grad),
                                  np.broadcast_to([2.0, 0.0, 1.0, 3.0], (3, 4)))
    x.grad = None
    (mg.roll(x, 1, axis=1) * wd).sum().backward()
    np.testing.assert_array_equal(mg.to_numpy(x.grad), np.roll(w, -1, axis=1))
    x.grad = None
    (mg.tile(x, (2, 3)).sum()).backward()
    np.testing.assert_array_equal(mg.to_numpy(x.grad), np.full((3, 4), 6.0))
    x.grad = None
    parts = mg.split(x, [1, 3], axis=1)
    (parts[1] * wd[:, 1:3]).sum().backward()  # unused parts contribute zeros
    np.testing.assert_array_equal(mg.to_numpy(x.grad), np.pad(w[:, 1:3], ((0, 0), (1, 1))))
    a = mg.Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    mg.einsum("ii", a).backward()
    np.testing.assert_array_equal(mg.to_numpy(a.grad), np.eye(3))
    a.grad = None
    (mg.einsum("ii->i", a) * wd[0, :3]).sum().backward()
    np.testing.assert_array_equal(mg.to_numpy(a.grad), np.diag(w[0, :3]))
    b = rng.standard_normal((3, 5))
    a.grad = None
    (mg.einsum("ij,jk->ik", a, mg.backend.asarray(b)) * wd[:, :1]).sum().backward()
    np.testing.assert_allclose(mg.to_numpy(a.grad), w[:, :1] @ b.sum(1, keepdims=True).T,
                               rtol=1e-14)


def test_einsum_gradient_of_a_broadcast_label_is_summed():
    """A label of length 1 against a longer one: the gradient sums over the broadcast copies."""
    a = mg.Tensor(np.ones((1, 3)), requires_grad=True)
    b = np.arange(12.0).reshape(4, 3)
    mg.einsum("ij,ij->", a, mg.backend.asarray(b)).backward()
    np.testing.assert_array_equal(mg.to_numpy(a.grad), b.sum(0, keepdims=True))


# --------------------------------------------------------------------------- float32
FLOAT32 = {
    "trace": lambda x: mg.trace(x),
    "diag": lambda x: mg.diag(mg.diag(x)),
    "tril": lambda x: mg.tril(x),
    "triu": lambda x: mg.triu(x, 1),
    "roll": lambda x: mg.roll(x, 1, 0),
    "repeat": lambda x: mg.repeat(x, [1, 2, 0], axis=1),
    "tile": lambda x: mg.tile(x, 2),
    "split": lambda x: mg.split(x, 3, axis=0)[1],
    "hstack": lambda x: mg.hstack([x, 0.5]),  # vectors: the number joins as float32
    "vstack": lambda x: mg.vstack([x, x]),
    "tensordot": lambda x: mg.tensordot(x, x, 1),
    "einsum": lambda x: mg.einsum("ij,jk", x, x),
}


@pytest.mark.parametrize("name", sorted(FLOAT32))
def test_float32_stays_float32(name):
    shape = (3,) if name == "hstack" else (3, 3)
    x = mg.Tensor(np.arange(1.0, 10.0, dtype=np.float32)[:np.prod(shape)].reshape(shape) / 7,
                  requires_grad=True)
    out = FLOAT32[name](x)
    assert out.dtype == np.float32
    (out * out).sum().backward()
    assert x.grad.dtype == np.float32
    assert mg.grad(lambda t: (FLOAT32[name](t) ** 2).sum())(x).dtype == np.float32


# --------------------------------------------------------------------------- errors
ERRORS = [
    ("trace", lambda: mg.trace(np.ones(3)), ValueError, "at least two dimensions"),
    ("trace", lambda: mg.trace(np.ones((2, 2)), axis1=1, axis2=-1), ValueError, "the same"),
    ("trace", lambda: mg.trace(np.ones((2, 2)), axis2=2), ValueError, "axis2 2 is out of"),
    ("diag", lambda: mg.diag(np.ones((2, 2, 2))), ValueError, "1- or 2-d"),
    ("diag", lambda: mg.diag(np.ones(2), 1.5), TypeError, "k must be an integer"),
    ("tril", lambda: mg.tril(3.0), ValueError, "at least one dimension"),
    ("triu", lambda: mg.triu(np.ones((2, 2)), k=0.5), TypeError, "k must be an integer"),
    ("roll", lambda: mg.roll(np.ones((2, 2)), (1, 2), (0, 1, 1)), ValueError, "broadcast"),
    ("roll", lambda: mg.roll(np.ones((2, 2)), 1, 2), ValueError, "axis 2 is out of bounds"),
    ("roll", lambda: mg.roll(np.ones(2), 1.5, 0), TypeError, "shift must be an integer"),
    ("repeat", lambda: mg.repeat(np.ones(2), [1, 2, 3]), ValueError, "3 repeats do not match"),
    ("repeat", lambda: mg.repeat(np.ones(2), -1), ValueError, "negative"),
    ("repeat", lambda: mg.repeat(np.ones(2), 1.5), TypeError, "integers"),
    ("repeat", lambda: mg.repeat(np.ones(2), 2, axis=1), ValueError, "out of bounds"),
    ("tile", lambda: mg.tile(np.ones(2), -1), ValueError, "negative"),
    ("tile", lambda: mg.tile(np.ones(2), 1.5), TypeError, "reps must be an integer"),
    ("split", lambda: mg.split(np.ones(5), 2), ValueError, "does not result in an equal div"),
    ("split", lambda: mg.split(np.ones(4), 0), ValueError, "must be positive"),
    ("split", lambda: mg.split(3.0, 1), ValueError, "0-d"),
    ("hstack", lambda: mg.hstack([np.ones((2, 3)), np.ones(3)]), ValueError, "hstack: the sha"),
    ("hstack", lambda: mg.hstack([]), ValueError, "at least one"),
    ("vstack", lambda: mg.vstack([np.ones((2, 3)), np.ones(2)]), ValueError, "vstack: the sha"),
    ("tensordot", lambda: mg.tensordot(np.ones((2, 3)), np.ones((4, 2)), 1), ValueError,
     "shape-mismatch for sum: axis 1 of a"),
    ("tensordot", lambda: mg.tensordot(np.ones((2, 3)), np.ones((3, 2)), ([1], [0, 1])),
     ValueError, "1 axes of a"),
    ("tensordot", lambda: mg.tensordot(np.ones((2, 3)), np.ones((3, 2)), 3), ValueError,
     "cannot sum over 3 axes"),
    ("tensordot", lambda: mg.tensordot(np.ones((2, 2)), np.ones((2, 2)), ([0, 0], [0, 1])),
     ValueError, "duplicate axes"),
    ("tensordot", lambda: mg.tensordot(np.ones(2), np.ones(2), ([1], [0])), ValueError,
     "axis 1 is out of bounds for a"),
    ("einsum", lambda: mg.einsum("ij,jk", np.ones((2, 3)), np.ones((4, 2))), ValueError,
     "label 'j' has lengths 3 and 4"),
    ("einsum", lambda: mg.einsum("ii", np.ones((2, 3))), ValueError, "repeated in operand 0"),
    ("einsum", lambda: mg.einsum("ij", np.ones(2)), ValueError, "2 subscripts for its 1"),
    ("einsum", lambda: mg.einsum("i,i", np.ones(2)), ValueError, "name 2 operands; got 1"),
    ("einsum", lambda: mg.einsum("i1", np.ones((2, 2))), ValueError, "invalid subscript '1'"),
    ("einsum", lambda: mg.einsum("i->j", np.ones(2)), ValueError, "'j' appears in no operand"),
    ("einsum", lambda: mg.einsum("i->ii", np.ones(2)), ValueError, "more than once"),
    ("einsum", lambda: mg.einsum("...i->", np.ones((2, 2))), ValueError, "no '...' to keep"),
    ("einsum", lambda: mg.einsum("...i...", np.ones((2, 2))), ValueError, "more than one '...'"),
    ("einsum", lambda: mg.einsum(np.ones(2), [0], [0]), NotImplementedError, "sublist"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_errors_name_the_problem(case):
    name, call, exc, message = case
    with pytest.raises(exc, match=message.replace("(", r"\(").replace("[", r"\[")):
        call()


def test_the_same_inputs_are_errors_in_numpy():
    """The refusals above follow NumPy: each of these inputs is an error there too."""
    for call in [lambda: np.trace(np.ones(3)), lambda: np.diag(np.ones((2, 2, 2))),
                 lambda: np.split(np.ones(5), 2), lambda: np.repeat(np.ones(2), [1, 2, 3]),
                 lambda: np.repeat(np.ones(2), -1), lambda: np.tile(np.ones(2), -1),
                 lambda: np.hstack([np.ones((2, 3)), np.ones(3)]),
                 lambda: np.tensordot(np.ones((2, 3)), np.ones((4, 2)), 1),
                 lambda: np.einsum("ij,jk", np.ones((2, 3)), np.ones((4, 2))),
                 lambda: np.einsum("ii", np.ones((2, 3))), lambda: np.einsum("i->j", np.ones(2)),
                 lambda: np.einsum("...i->", np.ones((2, 2)))]:
        with pytest.raises((ValueError, TypeError, IndexError)):
            call()


# --------------------------------------------------------------------------- names, methods
def test_functions_and_methods():
    for name in ops_shape.__all__ + ops_contract.__all__:
        assert getattr(mg, name) is getattr(ops_shape if name in ops_shape.__all__
                                            else ops_contract, name)
        assert getattr(mg.ops, name) is getattr(mg, name)  # found by recorded VJPs as xp.<name>
    a = np.arange(12.0).reshape(3, 4)
    t = mg.Tensor(a)
    np.testing.assert_array_equal(t.trace().numpy(), a.trace())
    np.testing.assert_array_equal(t.trace(1, 1, 0).numpy(), a.trace(1, 1, 0))
    np.testing.assert_array_equal(t.repeat(2).numpy(), a.repeat(2))  # NumPy's, not torch's
    np.testing.assert_array_equal(t.repeat([1, 0, 2], axis=0).numpy(),
                                  a.repeat([1, 0, 2], axis=0))
    for name in ("diag", "tril", "triu", "tile", "einsum"):
        assert not hasattr(mg.Tensor, name) and not hasattr(np.ndarray, name)


def test_split_takes_a_numpy_integer_as_the_number_of_sections():
    x = np.arange(6.0)
    parts = mg.split(mg.Tensor(x), np.int64(3))
    assert [p.data.tolist() for p in parts] == [a.tolist() for a in np.split(x, 3)]
