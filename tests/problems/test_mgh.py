"""The Moré-Garbow-Hillstrom set (problems/mgh.py) against values that do not come from it.

Oracles, each independent of the code under test:

* the paper's definitions transcribed a second time below (``REF``: plain NumPy, one residual
  at a time as the paper writes them, complex-safe so that complex-step derivatives give exact
  gradients);
* values worked out by hand from the definitions (f at the starts of problems 1, 4, 10, 14-17;
  f = 0 at the published minimisers);
* the published minima of J. J. Moré, B. S. Garbow and K. E. Hillstrom, "Testing Unconstrained
  Optimization Software", ACM TOMS 7(1):17-41, 1981, section 3 (truncated decimals such as
  "2.28767..."), reached from the standard start by the test's own damped Newton iteration on
  the transcription;
* the published output of Algorithm 566's Fortran (ACM TOMS 7(1):136-140, 1981) through the
  Julia package Toms566.jl (its README's table: f(x0) and |grad f(x0)| to 3 digits, at its
  sizes n).
"""
import math

import numpy as np
import pytest

import minigrad as mg
import problems as P
from minigrad.gradcheck import check_grads
from problems import mgh as M


# --------------------------------------------------------------------------- the transcription
def _abs(z):
    """|z| for real z, continued analytically for the complex step."""
    return -z if z.real < 0 else z


def r_helical(x):
    x1, x2, x3 = x
    if x1.real > 0:
        th = np.arctan(x2 / x1) / (2 * math.pi)
    elif x1.real < 0:
        th = np.arctan(x2 / x1) / (2 * math.pi) + 0.5
    else:
        th = 0.25 if x2.real >= 0 else -0.25
    return [10 * (x3 - 10 * th), 10 * (np.sqrt(x1 ** 2 + x2 ** 2) - 1), x3]


def r_biggs(x, m=13):
    out = []
    for i in range(1, m + 1):
        t = i / 10
        y = math.exp(-t) - 5 * math.exp(-10 * t) + 3 * math.exp(-4 * t)
        out.append(x[2] * np.exp(-t * x[0]) - x[3] * np.exp(-t * x[1])
                   + x[5] * np.exp(-t * x[4]) - y)
    return out


GAUSS_Y = [0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
           0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009]


def r_gaussian(x):
    return [x[0] * np.exp(-x[1] * ((8 - i) / 2 - x[2]) ** 2 / 2) - GAUSS_Y[i - 1]
            for i in range(1, 16)]


def r_powell_bs(x):
    return [1e4 * x[0] * x[1] - 1, np.exp(-x[0]) + np.exp(-x[1]) - 1.0001]


def r_box(x, m=10):
    return [np.exp(-i / 10 * x[0]) - np.exp(-i / 10 * x[1])
            - x[2] * (math.exp(-i / 10) - math.exp(-i)) for i in range(1, m + 1)]


def r_vardim(x):
    n = len(x)
    s = sum((j + 1) * (x[j] - 1) for j in range(n))
    return [x[j] - 1 for j in range(n)] + [s, s ** 2]


def r_watson(x):
    n = len(x)
    out = []
    for i in range(1, 30):
        t = i / 29
        s1 = sum((j - 1) * x[j - 1] * t ** (j - 2) for j in range(2, n + 1))
        s2 = sum(x[j - 1] * t ** (j - 1) for j in range(1, n + 1))
        out.append(s1 - s2 ** 2 - 1)
    return out + [x[0], x[1] - x[0] ** 2 - 1]


def r_penalty1(x):
    a = 1e-5
    return [math.sqrt(a) * (xi - 1) for xi in x] + [sum(xi ** 2 for xi in x) - 0.25]


def r_penalty2(x):
    n, a = len(x), 1e-5
    out = [x[0] - 0.2]
    for i in range(2, n + 1):
        y = math.exp(i / 10) + math.exp((i - 1) / 10)
        out.append(math.sqrt(a) * (np.exp(x[i - 1] / 10) + np.exp(x[i - 2] / 10) - y))
    for i in range(n + 1, 2 * n):
        out.append(math.sqrt(a) * (np.exp(x[i - n] / 10) - math.exp(-1 / 10)))
    out.append(sum((n - j + 1) * x[j - 1] ** 2 for j in range(1, n + 1)) - 1)
    return out


def r_brown_bs(x):
    return [x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2]


def r_brown_dennis(x, m=20):
    out = []
    for i in range(1, m + 1):
        t = i / 5
        out.append((x[0] + t * x[1] - math.exp(t)) ** 2
                   + (x[2] + x[3] * math.sin(t) - math.cos(t)) ** 2)
    return out


def r_gulf(x, m=99):
    out = []
    for i in range(1, m + 1):
        t = i / 100
        y = 25 + (-50 * math.log(t)) ** (2 / 3)
        out.append(np.exp(-_abs(y - x[1]) ** x[2] / x[0]) - t)
    return out


def r_trig(x):
    n = len(x)
    c = sum(np.cos(xj) for xj in x)
    return [n - c + i * (1 - np.cos(x[i - 1])) - np.sin(x[i - 1]) for i in range(1, n + 1)]


def r_ext_rosenbrock(x):
    out = []
    for i in range(1, len(x) // 2 + 1):
        out += [10 * (x[2 * i - 1] - x[2 * i - 2] ** 2), 1 - x[2 * i - 2]]
    return out


def r_ext_powell(x):
    out = []
    for i in range(1, len(x) // 4 + 1):
        a, b, c, d = x[4 * i - 4], x[4 * i - 3], x[4 * i - 2], x[4 * i - 1]
        out += [a + 10 * b, math.sqrt(5) * (c - d), (b - 2 * c) ** 2, math.sqrt(10) * (a - d) ** 2]
    return out


def r_beale(x):
    return [y - x[0] * (1 - x[1] ** i) for i, y in ((1, 1.5), (2, 2.25), (3, 2.625))]


def r_wood(x):
    x1, x2, x3, x4 = x
    return [10 * (x2 - x1 ** 2), 1 - x1, math.sqrt(90) * (x4 - x3 ** 2), 1 - x3,
            math.sqrt(10) * (x2 + x4 - 2), (x2 - x4) / math.sqrt(10)]


def _chebyshev(i, y):
    """T_i(y) by the three-term recurrence (y = 2x - 1 shifts it to [0, 1])."""
    a, b = 1.0, y
    for _ in range(i - 1):
        a, b = b, 2 * y * b - a
    return b


def r_chebyquad(x, m=None):
    n = len(x)
    m = n if m is None else m
    out = []
    for i in range(1, m + 1):
        integral = -1 / (i ** 2 - 1) if i % 2 == 0 else 0.0
        out.append(sum(_chebyshev(i, 2 * xj - 1) for xj in x) / n - integral)
    return out


#: number -> (residuals, the standard start as MGH print it, as a function of n)
REF = {
    1: (r_helical, lambda n: [-1, 0, 0]),
    2: (r_biggs, lambda n: [1, 2, 1, 1, 1, 1]),
    3: (r_gaussian, lambda n: [0.4, 1, 0]),
    4: (r_powell_bs, lambda n: [0, 1]),
    5: (r_box, lambda n: [0, 10, 20]),
    6: (r_vardim, lambda n: [1 - j / n for j in range(1, n + 1)]),
    7: (r_watson, lambda n: [0] * n),
    8: (r_penalty1, lambda n: list(range(1, n + 1))),
    9: (r_penalty2, lambda n: [0.5] * n),
    10: (r_brown_bs, lambda n: [1, 1]),
    11: (r_brown_dennis, lambda n: [25, 5, -5, -1]),
    12: (r_gulf, lambda n: [5, 2.5, 0.15]),
    13: (r_trig, lambda n: [1 / n] * n),
    14: (r_ext_rosenbrock, lambda n: [-1.2, 1] * (n // 2)),
    15: (r_ext_powell, lambda n: [3, -1, 0, 1] * (n // 4)),
    16: (r_beale, lambda n: [1, 1]),
    17: (r_wood, lambda n: [-3, -1, -3, -1]),
    18: (r_chebyquad, lambda n: [j / (n + 1) for j in range(1, n + 1)]),
}

#: the default sizes (n, m): MGH's fixed sizes; for variable ones the sizes with a published f*
DEFAULT_SIZES = {1: (3, 3), 2: (6, 13), 3: (3, 15), 4: (2, 2), 5: (3, 10), 6: (10, 12),
                 7: (6, 31), 8: (4, 5), 9: (4, 8), 10: (2, 3), 11: (4, 20), 12: (3, 99),
                 13: (10, 10), 14: (10, 10), 15: (12, 12), 16: (2, 3), 17: (4, 6), 18: (8, 8)}
#: the section-3 numbers of the 18, in the set's order (MGH p. 30; Algorithm 566's NPROB)
PAPER_NUMBERS = [7, 18, 9, 3, 12, 25, 20, 23, 24, 4, 16, 11, 26, 21, 22, 5, 14, 35]
TITLES = ["Helical valley", "Biggs EXP6", "Gaussian", "Powell badly scaled",
          "Box three-dimensional", "Variably dimensioned", "Watson", "Penalty I", "Penalty II",
          "Brown badly scaled", "Brown and Dennis", "Gulf research and development",
          "Trigonometric", "Extended Rosenbrock", "Extended Powell singular", "Beale", "Wood",
          "Chebyquad"]
VARIABLE_N = {6, 7, 8, 9, 13, 14, 15, 18}
#: extra sizes of the variable-dimension problems
OTHER_N = {6: [1, 3], 7: [2, 9, 12], 8: [1, 10], 9: [1, 10], 13: [1, 5], 14: [2, 100],
           15: [4, 100], 18: [1, 2, 10]}
CASES = [(k, None) for k in range(1, 19)] + [(k, n) for k in OTHER_N for n in OTHER_N[k]]


def ref_f(number, x):
    res = REF[number][0]
    return sum(r * r for r in res(list(x)))


def ref_grad(number, x):
    """The transcription's gradient by complex steps (exact to rounding)."""
    x = np.asarray(x, dtype=float)
    h = 1e-30
    g = np.empty_like(x)
    for k in range(x.size):
        z = x.astype(complex)
        z[k] += 1j * h
        g[k] = ref_f(number, z).imag / h
    return g


def _problem(number, n):
    return P.mgh_problem(number, n)


def _size(number, n):
    return DEFAULT_SIZES[number][0] if n is None else n


# --------------------------------------------------------------------------- starts and f(x0)
@pytest.mark.parametrize("number,n", CASES)
def test_start_and_f_at_start_match_the_transcription(number, n):
    p = _problem(number, n)
    size = _size(number, n)
    x0 = np.asarray(REF[number][1](size), dtype=float)
    np.testing.assert_array_equal(mg.to_numpy(p.x0), x0)
    assert p.shape == (size,) and p.dim == size
    assert p.value(p.x0) == pytest.approx(ref_f(number, x0), rel=1e-12)
    r = mg.to_numpy(p.residuals(p.x0))
    assert r.shape == (p.m,) and r.shape == (len(REF[number][0](list(x0))),)
    np.testing.assert_allclose(r, REF[number][0](list(x0)), rtol=1e-12, atol=1e-14)


def test_f_at_start_by_hand():
    # 1: theta(-1, 0) = 1/2, so f1 = 10 (0 - 5) = -50; f2 = f3 = 0
    assert P.HelicalValley().value([-1.0, 0.0, 0.0]) == 2500.0
    # 4: f1 = -1, f2 = e^-1 - 0.0001
    assert P.PowellBadlyScaled().value([0.0, 1.0]) == pytest.approx(
        1 + (math.exp(-1) - 1e-4) ** 2, rel=1e-14)
    # 7: at 0 each f_i = -1 (i <= 29), f30 = 0, f31 = -1
    assert P.Watson(6).value(np.zeros(6)) == 30.0
    # 10: (1 - 10^6)^2 + (1 - 2 10^-6)^2 + (1 - 2)^2
    assert P.BrownBadlyScaled().value([1.0, 1.0]) == pytest.approx(
        999999.0 ** 2 + 0.999998 ** 2 + 1.0, rel=1e-15)
    # 14, 15: n/2 copies of Rosenbrock's 24.2 and n/4 of Powell's 215 (= 14^2 + 5 + 1 + 10)
    for n in (2, 10, 100):
        assert P.ExtendedRosenbrock(n).value(P.ExtendedRosenbrock(n).x0) == pytest.approx(
            24.2 * n / 2, rel=1e-14)
    for n in (4, 12, 100):
        assert P.ExtendedPowellSingular(n).value(
            P.ExtendedPowellSingular(n).x0) == pytest.approx(215 * n / 4, rel=1e-14)
    # 16: 1.5^2 + 2.25^2 + 2.625^2
    assert P.BealeMGH().value([1.0, 1.0]) == 14.203125
    # 17: 100*10^2 + 4^2 + 90*10^2 + 4^2 + 10*(-4)^2 + 0
    assert P.Wood().value([-3.0, -1.0, -3.0, -1.0]) == pytest.approx(19192.0, rel=1e-15)


#: Toms566.jl README (the Fortran of Algorithm 566): number -> (n, f(x0), |grad f(x0)|)
TOMS566 = {1: (3, 2.50e+03, 1.88e+03), 2: (6, 7.79e-01, 2.55e+00), 3: (3, 3.89e-06, 7.45e-03),
           4: (2, 1.14e+00, 2.00e+04), 5: (3, 1.03e+03, 1.49e+02), 6: (40, 9.39e+10, 1.01e+11),
           7: (9, 3.00e+01, 1.78e+02), 8: (60, 5.45e+09, 8.02e+07), 9: (65, 2.87e+05, 3.28e+05),
           10: (2, 1.00e+12, 2.00e+06), 11: (4, 7.93e+06, 2.14e+06), 12: (3, 1.21e+01, 3.97e+01),
           13: (40, 2.01e-03, 5.30e-02), 14: (40, 4.84e+02, 1.04e+03),
           15: (60, 3.23e+03, 1.78e+03), 16: (2, 1.42e+01, 2.78e+01), 17: (4, 1.92e+04, 1.64e+04),
           18: (50, 1.39e-02, 2.65e+00)}


@pytest.mark.parametrize("number", range(1, 19))
def test_f_and_gradient_norm_at_start_agree_with_algorithm_566(number):
    n, f0, g0 = TOMS566[number]
    p = P.mgh_problem(number, n if number in VARIABLE_N else None)
    assert p.dim == n
    assert float(f"{p.value(p.x0):.2e}") == f0
    assert float(f"{np.linalg.norm(mg.to_numpy(p.grad(p.x0))):.2e}") == g0


# --------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("number,n", CASES)
def test_engine_gradient_equals_the_transcriptions_at_start_and_a_random_point(number, n):
    p = _problem(number, n)
    rng = np.random.default_rng(number)
    x0 = mg.to_numpy(p.x0)
    x_rand = x0 + 0.3 * rng.standard_normal(x0.shape) * np.maximum(1.0, np.abs(x0))
    if number == 12:  # Gulf: x1 > 0 and |y_i - x2| > 0 keep it smooth
        x_rand = np.array([4.0, 3.0, 0.4]) + 0.3 * rng.random(3)
    for x in (x0, x_rand):
        g_ref = ref_grad(number, x)
        g = mg.to_numpy(p.grad(x))
        assert g.shape == x.shape
        np.testing.assert_allclose(g, g_ref, rtol=1e-9, atol=1e-9 * np.abs(g_ref).max() + 1e-300)


#: central differences in float64 lose digits on f of size 1e12 (Brown badly scaled) and on the
#: 1e4-scaled Powell problem; their tolerance is looser
GRADCHECK_RTOL = {4: 1e-4, 10: 1e-3, 11: 1e-5}


@pytest.mark.parametrize("number", range(1, 19))
def test_gradcheck_first_and_second_order(number):
    p = P.mgh_problem(number)
    rng = np.random.default_rng(100 + number)
    x0 = mg.to_numpy(p.x0)
    x = x0 + 0.2 * rng.standard_normal(x0.shape)
    if number == 12:
        x = np.array([4.0, 3.0, 0.4]) + 0.3 * rng.random(3)
    rtol = GRADCHECK_RTOL.get(number, 1e-6)
    # check_grads works on the backend of the arrays it is given: Tensor(...) moves the host
    # points to the session's backend, where the problem's data live
    for point in (x0, x):
        check_grads(p.f, mg.Tensor(point), order=1, rtol=rtol)
    # second order by differences of gradients: truncation ~h^2 and rounding ~eps/h on top
    check_grads(p.f, mg.Tensor(x), order=2, rtol=max(rtol, 1e-5), atol=1e-6)


def test_helical_theta_branches_and_derivatives():
    th = M.helical_theta
    pts = {(-1.0, 0.0): 0.5, (1.0, 1.0): 1 / 8, (-1.0, 1.0): 3 / 8, (-1.0, -1.0): 5 / 8,
           (1.0, -1.0): -1 / 8, (0.0, 2.0): 0.25, (0.0, -2.0): -0.25, (2.0, 0.0): 0.0}
    for (a, b), want in pts.items():
        assert float(th(mg.Tensor(a), mg.Tensor(b)).item()) == pytest.approx(want, abs=1e-15)
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2.0, 5) * rng.choice([-1.0, 1.0], 5)
    b = rng.standard_normal(5)
    check_grads(th, mg.Tensor(a), mg.Tensor(b), order=2)  # on the session's backend


# --------------------------------------------------------------------------- published minima
PUBLISHED_X_STAR = {1: [1, 0, 0], 2: [1, 10, 1, 5, 4, 3], 5: [1, 10, 1], 10: [1e6, 2e-6],
                    12: [50, 25, 1.5], 16: [3, 0.5], 17: [1, 1, 1, 1]}


@pytest.mark.parametrize("number", sorted(PUBLISHED_X_STAR))
def test_f_is_zero_at_the_published_minimiser(number):
    p = P.mgh_problem(number)
    x = np.asarray(PUBLISHED_X_STAR[number], dtype=float)
    np.testing.assert_array_equal(mg.to_numpy(p.x_star), x)
    assert p.f_star == 0.0
    assert p.value(x) <= 1e-24 and ref_f(number, x) <= 1e-24
    assert np.linalg.norm(mg.to_numpy(p.grad(x))) <= 1e-9


@pytest.mark.parametrize("number,n", [(6, 10), (6, 3), (13, 10), (13, 1), (14, 10), (14, 100),
                                      (15, 12), (15, 100)])
def test_variable_dimension_minimisers(number, n):
    p = P.mgh_problem(number, n)
    x = np.ones(n) if number in (6, 14) else np.zeros(n)  # MGH: (1, ..., 1); the origin
    np.testing.assert_array_equal(mg.to_numpy(p.x_star), x)
    assert p.f_star == 0.0 and p.value(x) == 0.0 and not np.any(mg.to_numpy(p.grad(x)))


def test_box_other_minimisers_and_line():
    p = P.Box3D()
    assert p.value([10.0, 1.0, -1.0]) == 0.0
    for s in (0.3, 2.0, 7.0):
        assert p.value([s, s, 0.0]) == 0.0


def test_powell_badly_scaled_minimiser_has_the_published_digits():
    p = P.PowellBadlyScaled()
    x1, x2 = (float(v) for v in mg.to_numpy(p.x_star))
    assert 1.098e-5 <= x1 < 1.099e-5 and 9.106 <= x2 < 9.107  # MGH: 1.098...e-5, 9.106...
    assert abs(1e4 * x1 * x2 - 1) < 1e-15 and abs(math.exp(-x1) + math.exp(-x2) - 1.0001) < 1e-15
    assert p.value(p.x_star) < 1e-29


def test_chebyquad_closed_form_minimisers():
    p1, p2 = P.Chebyquad(1), P.Chebyquad(2)
    assert p1.value([0.5]) == 0.0
    # two-point Chebyshev (equal-weight) quadrature on [0, 1]: 1/2 -+ 1/(2 sqrt 3)
    x = [0.5 - 0.5 / math.sqrt(3), 0.5 + 0.5 / math.sqrt(3)]
    np.testing.assert_allclose(mg.to_numpy(p2.x_star), x, rtol=1e-15)
    assert p2.value(x) < 1e-30 and ref_f(18, x) < 1e-30


def _newton(number, x, iters=300):
    """Newton's method on the transcription (the test's own minimiser): complex-step gradient,
    Hessian by central differences of that gradient (shifted until positive definite),
    Armijo backtracking."""
    x = np.asarray(x, dtype=float)
    f = ref_f(number, x)
    for _ in range(iters):
        g = ref_grad(number, x)
        h = 1e-6 * np.maximum(1.0, np.abs(x))
        H = np.empty((x.size, x.size))
        for k in range(x.size):
            e = np.zeros_like(x)
            e[k] = h[k]
            H[:, k] = (ref_grad(number, x + e) - ref_grad(number, x - e)) / (2 * h[k])
        H = (H + H.T) / 2
        shift = 0.0
        while True:
            try:
                c = np.linalg.cholesky(H + shift * np.eye(x.size))
                break
            except np.linalg.LinAlgError:
                shift = max(2 * shift, 1e-8 * np.abs(H).max())
        d = -np.linalg.solve(c.T, np.linalg.solve(c, g))
        t = 1.0
        while t > 1e-12:
            fn = ref_f(number, x + t * d)
            if fn <= f + 1e-4 * t * (g @ d):
                break
            t /= 2
        if t <= 1e-12 or np.all(np.abs(t * d) <= 1e-15 * (1 + np.abs(x))):
            break
        x, f = x + t * d, fn
    return x


def _digits(value: float, published: str) -> bool:
    """``value`` agrees with MGH's truncated ``published`` digits (to one unit of the last)."""
    mant, exp = published.split("e") if "e" in published else (published, "0")
    decimals = len(mant.split(".")[1])
    unit = 10.0 ** (int(exp) - decimals)
    return float(published) - unit <= value <= float(published) + 2 * unit


#: (number, n) -> MGH's f* (section 3, printed as "2.28767... 10^-3" etc.)
PUBLISHED_F_STAR = {(3, None): "1.12793e-8", (7, 6): "2.28767e-3", (7, 9): "1.39976e-6",
                    (7, 12): "4.72238e-10", (8, 4): "2.24997e-5", (8, 10): "7.08765e-5",
                    (9, 4): "9.37629e-6", (9, 10): "2.93660e-4", (11, None): "85822.2",
                    (18, 8): "3.51687e-3", (18, 10): "6.50395e-3"}


@pytest.mark.parametrize("key", sorted(PUBLISHED_F_STAR, key=str), ids=str)
def test_published_minimum_is_reached_from_the_start(key):
    number, n = key
    published = PUBLISHED_F_STAR[key]
    p = P.mgh_problem(number, n)
    assert p.f_star == float(published) and 0 < p.f_star_rtol <= 1e-5
    x = _newton(number, REF[number][1](_size(number, n)))
    fx = p.value(x)
    assert _digits(fx, published), (fx, published)
    assert _digits(ref_f(number, x), published)
    assert np.linalg.norm(mg.to_numpy(p.grad(x))) <= 1e-8 * max(1.0, fx)
    assert abs(fx - p.f_star) <= 2 * p.f_star_rtol * p.f_star


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 9])
def test_chebyquad_zero_minimum_for_n_up_to_7_and_9(n):
    """MGH: f* = 0 for m = n, 1 <= n <= 7 and n = 9, reached from the start."""
    p = P.Chebyquad(n)
    assert p.f_star == 0.0
    x = _newton(18, REF[18][1](n))
    assert p.value(x) < 1e-20


def test_trigonometric_and_biggs_values():
    # trigonometric: every residual vanishes at 0
    assert P.Trigonometric(7).value(np.zeros(7)) == 0.0
    # Biggs EXP6, m = 13: MGH's other value 5.65565...e-3 is a local minimum value
    p = P.BiggsExp6()
    assert p.f_local == 5.65565e-3 and P.BiggsExp6(m=20).f_local is None
    assert P.BiggsExp6(m=20).value([1.0, 10.0, 1.0, 5.0, 4.0, 3.0]) <= 1e-24


# --------------------------------------------------------------------------- dtypes, batches
@pytest.mark.parametrize("number", range(1, 19))
def test_float32_stays_float32(number):
    cls = M.MGH_PROBLEMS[number - 1].cls
    p64, p32 = cls(), cls(dtype="float32")
    for p in (p32, p64.to("numpy", dtype="float32")):
        assert p.dtype == np.float32 and p.start().dtype == np.float32
        assert p.residuals(p.x0).data.dtype == np.float32
        assert p.f(p.x0).dtype == np.float32
        g = mg.to_numpy(p.grad(p.x0))
        assert g.dtype == np.float32 and g.shape == p.shape
        assert p.value(p.x0) == pytest.approx(p64.value(p64.x0), rel=1e-4)


@pytest.mark.parametrize("number", range(1, 19))
def test_values_of_a_batch_and_residuals(number):
    p = P.mgh_problem(number)
    rng = np.random.default_rng(number)
    pts = mg.to_numpy(p.x0) + 0.1 * rng.standard_normal((4, 2, p.dim))
    v = mg.to_numpy(p.values(pts))
    assert v.shape == (4, 2)
    np.testing.assert_allclose(v, [[p.value(q) for q in row] for row in pts], rtol=1e-13)
    r = p.residuals(pts[0, 0]).data
    assert r.shape == (p.m,) and float(r @ r) == pytest.approx(p.value(pts[0, 0]), rel=1e-13)


# --------------------------------------------------------------------------- registry, checks
def test_registry_lists_the_18_in_order():
    assert len(M.MGH_PROBLEMS) == 18
    assert [e.number for e in M.MGH_PROBLEMS] == list(range(1, 19))
    assert len({e.number for e in M.MGH_PROBLEMS}) == 18
    assert [e.paper_number for e in M.MGH_PROBLEMS] == PAPER_NUMBERS
    assert len(set(PAPER_NUMBERS)) == 18
    assert [e.title for e in M.MGH_PROBLEMS] == TITLES
    for e in M.MGH_PROBLEMS:
        assert (e.n, e.m) == DEFAULT_SIZES[e.number], e.title
        assert e.cls.number == e.number and e.cls.paper_number == e.paper_number
        p = P.mgh_problem(e.number)
        assert type(p) is e.cls and (p.n, p.m) == (e.n, e.m)
        assert e.cls.__name__ in P.__all__ and getattr(P, e.cls.__name__) is e.cls
    assert len({e.cls.name for e in M.MGH_PROBLEMS}) == 18
    assert P.MGH_PROBLEMS is M.MGH_PROBLEMS and P.mgh_problem is M.mgh_problem


def test_mgh_problem_sizes():
    assert P.mgh_problem(14, 100).n == 100 and P.mgh_problem(15, 100).m == 100
    assert P.mgh_problem(1, 3).n == 3  # the fixed size may be named
    assert P.mgh_problem(11, m=30).m == 30 and P.mgh_problem(18, 4, m=6).m == 6
    with pytest.raises(ValueError, match=r"HelicalValley \(MGH problem 1\) has the fixed size "
                                         r"n = 3; got n=4"):
        P.mgh_problem(1, 4)
    with pytest.raises(ValueError, match=r"Wood \(MGH problem 17\) has the fixed size n = 4"):
        P.mgh_problem(17, 10)
    for bad in (0, 19, 2.0, True, "1"):
        with pytest.raises(ValueError, match=r"mgh_problem: number must be an integer from 1 "
                                             r"to 18"):
            P.mgh_problem(bad)


BAD_SIZES = [
    (P.VariablyDimensioned, {"n": 0}, r"VariablyDimensioned: n must be an integer >= 1; got n=0"),
    (P.Watson, {"n": 1}, r"Watson: n must be an integer with 2 <= n <= 31; got n=1"),
    (P.Watson, {"n": 32}, r"Watson: n must be an integer with 2 <= n <= 31; got n=32"),
    (P.PenaltyI, {"n": 0}, r"PenaltyI: n must be an integer >= 1; got n=0"),
    (P.PenaltyII, {"n": 2.5}, r"PenaltyII: n must be an integer >= 1; got n=2\.5"),
    (P.Trigonometric, {"n": True}, r"Trigonometric: n must be an integer >= 1; got n=True"),
    (P.ExtendedRosenbrock, {"n": 3}, r"ExtendedRosenbrock: n must be an even integer >= 2; "
                                     r"got n=3"),
    (P.ExtendedRosenbrock, {"n": 0}, r"ExtendedRosenbrock: n must be an even integer >= 2"),
    (P.ExtendedPowellSingular, {"n": 6}, r"ExtendedPowellSingular: n must be a multiple of 4 "
                                         r"\(>= 4\); got n=6"),
    (P.Chebyquad, {"n": 0}, r"Chebyquad: n must be an integer >= 1; got n=0"),
    (P.Chebyquad, {"n": 5, "m": 4}, r"Chebyquad: m must be an integer >= 5; got m=4"),
    (P.BiggsExp6, {"m": 5}, r"BiggsExp6: m must be an integer >= 6; got m=5"),
    (P.Box3D, {"m": 2}, r"Box3D: m must be an integer >= 3; got m=2"),
    (P.BrownDennis, {"m": 3}, r"BrownDennis: m must be an integer >= 4; got m=3"),
    (P.GulfResearch, {"m": 101}, r"GulfResearch: m must be an integer with 3 <= m <= 100; "
                                 r"got m=101"),
]


@pytest.mark.parametrize("cls,kwargs,msg", BAD_SIZES,
                         ids=[f"{c.__name__}-{k}" for c, k, _ in BAD_SIZES])
def test_bad_sizes_are_refused(cls, kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        cls(**kwargs)


def test_bad_start_and_shape_are_refused():
    with pytest.raises(ValueError, match=r"Wood: x0 has shape \(3,\)"):
        P.Wood(x0=[1.0, 2.0, 3.0])
    p = P.Wood(x0=[1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(mg.to_numpy(p.x0), [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=r"Watson: x has shape \(5,\)"):
        P.Watson(6).value(np.zeros(5))


def test_published_minima_are_none_where_mgh_give_none():
    assert P.Watson(7).f_star is None and P.PenaltyI(5).f_star is None
    assert P.PenaltyII(3).f_star is None and P.BrownDennis(m=21).f_star is None
    assert P.Chebyquad(11).f_star is None and P.Chebyquad(3, m=4).f_star is None
    assert P.GaussianMGH().x_star is None and P.Watson().x_star is None
    assert P.Chebyquad(9).f_star == 0.0 and P.Chebyquad(9).x_star is None
