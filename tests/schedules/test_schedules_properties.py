"""Property tests (hypothesis): bounds, monotonicity, periodicity, continuity of joins, warmup
peaks, and reduce-on-plateau's patience; parameters are drawn at random, derandomized so the
suite is deterministic."""
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import schedules as S

FAST = settings(max_examples=40, deadline=None, derandomize=True)

lr = st.floats(1e-4, 10.0)
frac = st.floats(0.01, 0.99)
steps_n = st.integers(1, 200)


def grid(horizon):
    """Integer steps up to 3x the horizon, plus fractional steps in between."""
    ints = np.arange(0, 3 * horizon + 2, dtype=float)
    return np.sort(np.concatenate([ints, ints[:-1] + 0.37]))


@st.composite
def any_schedule(draw):
    """(schedule, horizon) for every family of the package, with random valid parameters."""
    kind = draw(st.sampled_from([
        "constant", "step", "multistep", "linear", "poly", "exp", "invtime", "cos", "cos_torch",
        "lincos", "noisy", "cyclic", "sgdr", "gradual", "constwarm", "warm_ms", "invsqrt",
        "warmcos", "slanted", "trapezoid", "wsd", "onecycle", "onecycle_optax", "thm_sc",
        "thm_sqrt", "thm_horizon", "join", "scaled",
    ]))
    a, b = draw(lr), draw(lr)
    n = draw(steps_n)
    if kind == "constant":
        return S.Constant(a), n
    if kind == "step":
        return S.StepDecay(a, draw(st.integers(1, 50)), draw(frac)), n
    if kind == "multistep":
        ms = sorted(set(draw(st.lists(st.integers(1, 300), min_size=1, max_size=5))))
        return S.MultiStepDecay(a, ms, draw(frac)), 300
    if kind == "linear":
        return S.LinearDecay(a, b, n), n
    if kind == "poly":
        return S.PolynomialDecay(a, b, n, draw(st.floats(0.1, 5.0))), n
    if kind == "exp":
        rate = draw(st.floats(0.5, 1.5))
        end = draw(st.none() | lr)
        return S.ExponentialDecay(a, rate, draw(st.integers(1, 20)), draw(st.booleans()), end), n
    if kind == "invtime":
        return S.InverseTimeDecay(a, draw(st.floats(0.0, 5.0)), draw(st.integers(1, 10)),
                                  draw(st.booleans())), n
    if kind in ("cos", "cos_torch"):
        return S.CosineDecay(a, n, b, draw(st.floats(0.5, 3.0)), clamp=kind == "cos"), n
    if kind == "lincos":
        return S.LinearCosineDecay(a, n, draw(st.floats(0.5, 5.0)), draw(st.floats(0, 1)),
                                   draw(st.floats(0, 0.1))), n
    if kind == "noisy":
        return S.NoisyLinearCosineDecay(a, n, seed=draw(st.integers(0, 2**40))), n
    if kind == "cyclic":
        lo, hi = sorted((a, b))
        return S.CyclicalLR(lo, hi, draw(st.integers(1, 30)), draw(st.none() | st.integers(1, 30)),
                            draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
                            draw(st.floats(0.9, 1.0)), cycle_momentum=True), 60
    if kind == "sgdr":
        return S.CosineWarmRestarts(a, draw(st.integers(1, 30)), draw(st.floats(1.0, 3.0)), b,
                                    draw(st.floats(0.1, 1.0))), n
    if kind == "gradual":
        return S.GradualWarmup(a, n, b), n
    if kind == "constwarm":
        return S.ConstantWarmup(a, n, b), n
    if kind == "warm_ms":
        return S.WarmupMultiStep(a, n, [n + 1, 2 * n + 1], draw(frac), b), 3 * n
    if kind == "invsqrt":
        return S.WarmupInverseSqrt(a, n), n
    if kind == "warmcos":
        return S.WarmupCosine(a, n, n + draw(steps_n), b, draw(lr)), 2 * n
    if kind == "slanted":
        return S.SlantedTriangular(a, 10 + n, draw(st.floats(0.1, 0.9)), draw(st.floats(1, 64))), n
    if kind in ("trapezoid", "wsd"):
        T = n + 2
        w = draw(st.integers(0, T // 2))
        d = draw(st.integers(1, T - w))
        cd = ("linear" if kind == "trapezoid"
              else draw(st.sampled_from(["linear", "cosine", "1-sqrt"])))
        return S.WarmupStableDecay(a, T, w, d, cd, b, draw(lr)), T
    if kind in ("onecycle", "onecycle_optax"):
        return S.OneCycle(a, 20 + n, draw(st.floats(0.1, 0.45)),
                          draw(st.sampled_from(["cos", "linear"])), draw(st.floats(1, 50)),
                          draw(st.floats(1, 1e4)), draw(st.booleans()),
                          convention="torch" if kind == "onecycle" else "optax"), 20 + n
    if kind == "thm_sc":
        return S.StronglyConvexSGDStep(draw(st.floats(1e-3, 10))), n
    if kind == "thm_sqrt":
        return S.InverseSqrtSGDStep(a), n
    if kind == "thm_horizon":
        return S.HorizonSGDStep(a, b, n), n
    if kind == "join":
        return S.join([S.LinearDecay(a, b, n), S.CosineDecay(b, n, a), S.Constant(b)],
                      [n, 2 * n]), 2 * n
    return S.scale(S.CosineDecay(a, n, b), draw(st.floats(0, 4))), n


def _tol(hi):
    return 1e-12 * max(1.0, abs(hi) if math.isfinite(hi) else 1.0)


@FAST
@given(any_schedule())
def test_values_stay_within_stated_bounds(case):
    sched, horizon = case
    lo, hi = sched.bounds
    vals = sched(grid(horizon))
    assert np.all(np.isfinite(vals))
    assert np.all(vals >= lo - _tol(lo)), (sched, vals.min(), lo)
    assert np.all(vals <= hi + _tol(hi)), (sched, vals.max(), hi)
    mom = getattr(sched, "momentum", None)
    if mom is not None:
        mlo, mhi = mom.bounds
        mv = mom(grid(horizon))
        assert np.all((mv >= mlo - _tol(mlo)) & (mv <= mhi + _tol(mhi)))


@FAST
@given(any_schedule())
def test_vectorised_equals_one_call_per_step(case):
    sched, horizon = case
    t = grid(horizon)[::7]
    vec = sched(t)
    assert vec.shape == t.shape and vec.dtype == np.float64
    np.testing.assert_allclose(vec, [sched(float(x)) for x in t], rtol=1e-13, atol=1e-300)
    # a 2-d array of steps keeps its shape
    t2 = t[: (t.size // 2) * 2].reshape(2, -1)
    np.testing.assert_array_equal(sched(t2), vec[: t2.size].reshape(2, -1))


@st.composite
def monotone_decreasing(draw):
    a, b = sorted((draw(lr), draw(lr)), reverse=True)
    n = draw(steps_n)
    return draw(st.sampled_from([
        S.StepDecay(a, draw(st.integers(1, 20)), draw(frac)),
        S.MultiStepDecay(a, [n, 2 * n], draw(frac)),
        S.LinearDecay(a, b, n),
        S.PolynomialDecay(a, b, n, draw(st.floats(0.1, 5))),
        S.ExponentialDecay(a, draw(st.floats(0.1, 1.0)), draw(st.integers(1, 9)),
                           draw(st.booleans()), draw(st.none() | st.just(b))),
        S.InverseTimeDecay(a, draw(st.floats(0, 3)), draw(st.integers(1, 9)), draw(st.booleans())),
        S.CosineDecay(a, n, b, draw(st.floats(0.2, 4))),
        S.LinearCosineDecay(a, n, 0.5, draw(st.floats(0, 1)), draw(st.floats(0, 0.1))),
        S.StronglyConvexSGDStep(draw(st.floats(1e-3, 10))),
        S.InverseSqrtSGDStep(a),
    ])), n


@FAST
@given(monotone_decreasing())
def test_decay_schedules_are_nonincreasing(case):
    sched, n = case
    vals = sched(grid(n))
    assert np.all(np.diff(vals) <= 1e-12 * vals[0]), sched


@FAST
@given(lr, lr, steps_n)
def test_gradual_warmup_is_nondecreasing_and_peaks_exactly_at_Tw(peak, init, T_w):
    init = min(init, peak)
    s = S.GradualWarmup(peak, T_w, init)
    t = grid(T_w)
    assert np.all(np.diff(s(t)) >= 0)
    assert s(T_w) == peak  # exactly, not approximately
    assert np.all(s(np.arange(T_w)) <= peak)
    if init < peak:
        assert np.all(s(np.arange(T_w)) < peak)


@FAST
@given(lr, st.integers(1, 300))
def test_warmup_inverse_sqrt_peaks_exactly_at_Tw(peak, T_w):
    s = S.WarmupInverseSqrt(peak, T_w)
    vals = s(np.arange(4 * T_w + 1))
    assert int(np.argmax(vals)) == T_w and vals[T_w] == peak
    assert np.all(np.diff(vals[: T_w + 1]) > 0) and np.all(np.diff(vals[T_w:]) < 0)


@FAST
@given(lr, lr, steps_n, steps_n, st.sampled_from(["linear", "constant"]))
def test_warmup_in_front_of_any_schedule_reaches_its_start_at_Tw(peak, init, T_w, n, mode):
    base = S.CosineDecay(peak, n, peak / 10)
    w = S.warmup(base, T_w, init_value=init, mode=mode)
    assert w(T_w) == base(0) == peak
    np.testing.assert_allclose(w(T_w + np.arange(n)), base(np.arange(n)), rtol=0, atol=0)
    if mode == "linear":  # continuous at T_w: the ramp's left limit is the peak
        eps = 1e-7
        assert abs(w(T_w - eps) - peak) <= abs(peak - init) * eps / T_w * (1 + 1e-6) + 1e-15


@FAST
@given(lr, lr, lr, steps_n, steps_n)
def test_joins_of_matching_pieces_are_continuous(a, b, c, n1, n2):
    s = S.join([S.LinearDecay(a, b, n1), S.LinearDecay(b, c, n2)], [n1])
    slope = max(abs(b - a) / n1, abs(c - b) / n2)
    for eps in (1e-3, 1e-6):
        assert abs(s(n1 - eps) - s(n1)) <= slope * eps * (1 + 1e-6) + 1e-12
        assert abs(s(n1 + eps) - s(n1)) <= slope * eps * (1 + 1e-6) + 1e-12
    # and each piece sees its local step
    np.testing.assert_array_equal(s(n1 + np.arange(n2 + 1)),
                                  S.LinearDecay(b, c, n2)(np.arange(n2 + 1)))


@FAST
@given(lr, lr, steps_n, steps_n)
def test_warmup_cosine_is_continuous_and_peaks_at_Tw(peak, init, T_w, n):
    s = S.WarmupCosine(peak, T_w, T_w + n, init_value=min(init, peak), end_value=peak / 100)
    assert s(T_w) == peak
    assert abs(s(T_w - 1e-6) - peak) <= abs(peak - init) * 1e-6 / T_w * (1 + 1e-6) + 1e-12
    assert abs(s(T_w + 1e-6) - peak) <= peak * 1e-6 * math.pi / n + 1e-12


@FAST
@given(lr, st.integers(40, 500), st.floats(0.05, 0.45), st.sampled_from(["cos", "linear"]),
       st.booleans(), st.sampled_from(["torch", "optax"]))
def test_onecycle_hits_its_corners_and_is_continuous(max_lr, T, pct, anneal, three, conv):
    s = S.OneCycle(max_lr, T, pct, anneal, three_phase=three, convention=conv)
    ends = s.phase_ends
    assert s(0) == s.initial_lr and s(ends[0]) == max_lr
    assert s(ends[-1]) == s(ends[-1] + 10) == s.min_lr
    assert s.momentum(ends[0]) == s.base_momentum and s.momentum(0) == s.max_momentum
    # continuous everywhere: no jump bigger than the steepest phase allows
    t = np.linspace(0, ends[-1], 20001)
    steepest = max_lr / min(b - a for a, b in zip((0.0,) + ends[:-1], ends))
    jumps = np.abs(np.diff(s(t)))
    assert jumps.max() <= steepest * (t[1] - t[0]) * math.pi / 2 * (1 + 1e-9)
    # the momentum goes the opposite way to the rate within the first two phases
    t2 = np.linspace(0, ends[1], 500)
    assert np.all(np.diff(s(t2)) * np.diff(s.momentum(t2)) <= 1e-15)


@FAST
@given(lr, lr, st.integers(1, 40), st.integers(1, 40), st.floats(0.5, 1.0))
def test_cyclical_is_periodic(a, b, up, down, gamma):
    lo, hi = sorted((a, b))
    P = up + down
    t = np.arange(0, 3 * P, dtype=float) + 0.25
    tri = S.CyclicalLR(lo, hi, up, down, "triangular")
    np.testing.assert_allclose(tri(t + P), tri(t), rtol=1e-12, atol=1e-12 * hi)
    # triangular2 halves the amplitude each cycle, exp_range multiplies it by gamma^P
    tri2 = S.CyclicalLR(lo, hi, up, down, "triangular2")
    np.testing.assert_allclose(tri2(t + P) - lo, (tri2(t) - lo) / 2, rtol=1e-9, atol=1e-12 * hi)
    exr = S.CyclicalLR(lo, hi, up, down, "exp_range", gamma)
    np.testing.assert_allclose(exr(t + P) - lo, (exr(t) - lo) * gamma**P, rtol=1e-9,
                               atol=1e-12 * hi)
    assert tri(0) == lo and tri(up) == hi


@FAST
@given(lr, lr, st.integers(1, 50))
def test_sgdr_and_torch_cosine_are_periodic(a, b, T):
    t = np.arange(0, 4 * T, dtype=float) + 0.5
    sgdr = S.CosineWarmRestarts(a, T, 1, b)
    np.testing.assert_allclose(sgdr(t + T), sgdr(t), rtol=1e-9, atol=1e-12)
    cos = S.CosineDecay(a, T, b, clamp=False)  # torch's closed form: period 2T
    np.testing.assert_allclose(cos(t + 2 * T), cos(t), rtol=1e-9, atol=1e-12)


@FAST
@given(st.integers(0, 12), st.integers(0, 6), st.floats(0.05, 0.9), st.floats(0, 0.5),
       st.sampled_from(["min", "max"]))
def test_plateau_reduces_exactly_after_patience_and_never_below_min_lr(
        patience, cooldown, factor, min_frac, mode):
    init = 1.0
    min_lr = init * min_frac
    p = S.ReduceLROnPlateau(init, mode=mode, factor=factor, patience=patience, cooldown=cooldown,
                            min_lr=min_lr, eps=0.0)
    flat = 5.0  # first call sets the best, then the metric never improves
    lrs = [p.step(flat) for _ in range(1 + 5 * (patience + cooldown + 1))]
    # patience bad calls are tolerated; the next one (call patience + 2) reduces
    first = patience + 1  # 0-based index of that call
    assert all(x == init for x in lrs[:first])
    assert lrs[first] == max(init * factor, min_lr)
    # then every cooldown + patience + 1 calls, never below min_lr
    period = cooldown + patience + 1
    expected, cur = [], init
    for i in range(len(lrs)):
        if i >= first and (i - first) % period == 0:
            cur = max(cur * factor, min_lr)
        expected.append(cur)
    np.testing.assert_allclose(lrs, expected, rtol=1e-15, atol=0)
    assert min(lrs) >= min_lr


@FAST
@given(st.integers(0, 8), st.floats(1e-3, 0.5))
def test_plateau_never_reduces_while_metric_improves(patience, threshold):
    p = S.ReduceLROnPlateau(1.0, mode="min", patience=patience, threshold=threshold,
                            threshold_mode="rel")
    metric = 100.0
    for _ in range(60):
        metric *= (1 - threshold) * 0.99  # always better than best * (1 - threshold)
        assert p.step(metric) == 1.0
