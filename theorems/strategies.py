r"""Hypothesis strategies that draw problems from the class a theorem covers, each as an
:class:`~theorems.instance.Instance` carrying the constants the theorem needs (:math:`\mu`,
:math:`L`, :math:`x^*`, :math:`f^*`, :math:`R^2=\|x_0-x^*\|^2`; the :math:`\sigma^2` of the
stochastic theorems is certified on each run) and a description in words (its ``repr``, so
that a falsifying example reads as "quadratic, dimension 2, spectrum [0.5, 1] (linear
spacing), ...").

This module needs hypothesis (the ``test`` extra: ``pip install -e ".[test]"``); ``import
theorems`` does not import it.

Shrinking: every draw starts with the simplest choice (the lowest dimension first, linear
spacing first, the first start kind), so a failing example shrinks to a small dimension, a
simple spectrum and a plain start.

* :func:`quadratics`: :math:`\frac12x^\top Ax-b^\top x`, spectrum in :math:`[\mu,L]` (or
  :math:`[0,L]`), dimension, :math:`L`, condition number, spacing, rotation, start direction
  and distance drawn (``problems.Quadratic``);
* :func:`huber_functions` (convex, not quadratic, random starts) and :func:`huber_worst_cases`
  (the function on which GD attains the convex bound; ``meta["h"]`` is its step factor)
  (``problems.HuberWorstCase``);
* :func:`logistic_regressions`, with or without the :math:`\ell_2` term
  (``problems.LogisticRegression``);
* :func:`pl_functions` (:math:`\sum_jx_j^2+3\sin^2x_j`, ``problems.PLSine``) and
  :func:`nonconvex_functions` (those and Rastrigin's function);
* :func:`strongly_convex_finite_sums`, :func:`convex_finite_sums`,
  :func:`minibatch_finite_sums`: finite sums for the SGD theorems and the descent lemma
  (logistic regression, least squares; ``meta["seed"]`` seeds the runs);
* :func:`for_theorem`: the strategy of a theorem's problem class.
"""
from __future__ import annotations

import math

from hypothesis import assume
from hypothesis import strategies as st

import problems as P
from minigrad import backend as B
from theorems.instance import Instance

__all__ = ["convex_finite_sums", "for_theorem", "huber_functions", "huber_worst_cases",
           "logistic_regressions", "minibatch_finite_sums", "nonconvex_functions",
           "pl_functions", "quadratics", "strongly_convex_finite_sums"]

np = B.host_xp()

_START_WORDS = {"random": "in a random direction", "slowest": "along the eigenvector of mu",
                "fastest": "along the eigenvector of L"}


def _unit(rng, d):
    u = rng.standard_normal(d)
    return u / np.linalg.norm(u)


@st.composite
def quadratics(draw, convex_only: bool = False, dims=(2, 30), L=(0.1, 10.0),
               log_kappa=(0.2, 3.0), spacings=("linear", "log", "random"),
               starts=("random", "slowest", "fastest"), radius=(0.1, 10.0)):
    r"""A quadratic with spectrum in :math:`[\mu,L]`, :math:`\kappa=L/\mu=10^u`, :math:`u` in
    ``log_kappa`` (``convex_only``: :math:`\mu=0`, spacing linear or random)."""
    dim = draw(st.integers(*dims))
    Lv = draw(st.floats(*L))
    if convex_only:
        mu = 0.0
        spacing = draw(st.sampled_from([s for s in spacings if s != "log"]))
    else:
        mu = Lv / 10 ** draw(st.floats(*log_kappa))
        spacing = draw(st.sampled_from(spacings))
    seed = draw(st.integers(0, 2 ** 16))
    start = draw(st.sampled_from(starts))
    r = draw(st.floats(*radius))
    q = P.Quadratic(dim=dim, mu=mu, L=Lv, spacing=spacing, seed=seed, x0=start, radius=r)
    words = (f"quadratic, dimension {dim}, spectrum [{mu:.4g}, {Lv:.4g}] ({spacing} spacing), "
             f"rotation seed {seed}, start {_START_WORDS[start]} at distance {r:.4g}")
    return Instance(q, words=words, meta={"seed": seed, "spacing": spacing, "start": start})


@st.composite
def huber_functions(draw, L=(0.1, 10.0), N=(1, 50), dims=(1, 6), scale=(0.05, 20.0)):
    """Drori & Teboulle's Huber function (convex, L-smooth, not quadratic; x* = 0) with kink
    radius 1/(2N+1), from a random start (not its worst one)."""
    Lv, n, dim = draw(st.floats(*L)), draw(st.integers(*N)), draw(st.integers(*dims))
    seed, s = draw(st.integers(0, 2 ** 16)), draw(st.floats(*scale))
    p = P.HuberWorstCase(L=Lv, R=1.0, n_steps=n, dim=dim)
    x0 = s * B.host_rng(seed).standard_normal(dim)
    return Instance(p, x0=x0, words=f"Huber function, L = {Lv:.4g}, kink radius 1/(2*{n}+1), "
                                    f"dimension {dim}, random start (seed {seed}) of scale "
                                    f"{s:.4g}", meta={"seed": seed})


@st.composite
def huber_worst_cases(draw, N=(1, 200), h=(0.05, 1.0), L=(0.1, 10.0), R=(0.1, 10.0),
                      dims=(1, 4)):
    """The worst case of ``N`` GD steps with step ``h/L``, from its start ``R e_1``;
    ``meta["h"]`` and ``meta["N"]``."""
    n, hv, Lv, Rv = (draw(st.integers(*N)), draw(st.floats(*h)), draw(st.floats(*L)),
                     draw(st.floats(*R)))
    dim = draw(st.integers(*dims))
    p = P.HuberWorstCase(L=Lv, R=Rv, n_steps=n, h=hv, dim=dim)
    return Instance(p, words=f"Huber worst case for N = {n} steps of h/L, h = {hv:.4g}, "
                             f"L = {Lv:.4g}, R = {Rv:.4g}, dimension {dim}",
                    meta={"h": hv, "N": n})


def logistic_regressions(mu=(0.001, 0.5), m=(10, 60), dims=(2, 8)):
    r"""Logistic regression, :math:`\mu` drawn from ``mu`` (a range; a number fixes it),
    started at 0."""
    mus = st.just(float(mu)) if isinstance(mu, (int, float)) else st.floats(*mu)

    def build(m_, d, mu_, seed):
        p = P.LogisticRegression(m=m_, dim=d, mu=mu_, seed=seed)
        return Instance(p, words=f"logistic regression, m = {m_}, dimension {d}, mu = "
                                 f"{mu_:.4g}, data seed {seed}, start 0", meta={"seed": seed})
    return st.builds(build, st.integers(*m), st.integers(*dims), mus, st.integers(0, 2 ** 16))


@st.composite
def pl_functions(draw, dims=(1, 6), spread=(0.5, 8.0)):
    r""":math:`\sum_jx_j^2+3\sin^2x_j` (PL, not convex), start uniform in
    :math:`[-s,s]^d`."""
    dim, seed, s = draw(st.integers(*dims)), draw(st.integers(0, 2 ** 16)), draw(
        st.floats(*spread))
    p = P.PLSine(dim=dim, seed=seed, spread=s)
    return Instance(p, words=f"PLSine (sum of x^2 + 3 sin^2 x), dimension {dim}, start "
                             f"uniform in [-{s:.4g}, {s:.4g}]^{dim} (seed {seed})",
                    meta={"seed": seed})


@st.composite
def nonconvex_functions(draw, dims=(1, 6)):
    r"""PLSine (:math:`L=8`) or Rastrigin's function (:math:`L=2+4\pi^2A`) from a random
    start; :math:`f^*=0`, the global minimum."""
    dim = draw(st.integers(*dims))
    seed = draw(st.integers(0, 2 ** 16))
    if draw(st.booleans()):
        s = draw(st.floats(0.5, 8.0))
        return Instance(P.PLSine(dim=dim, seed=seed, spread=s),
                        words=f"PLSine, dimension {dim}, start uniform in [-{s:.4g}, "
                              f"{s:.4g}]^{dim} (seed {seed})", meta={"seed": seed})
    A = draw(st.floats(0.5, 10.0))
    x0 = B.host_rng(seed).uniform(-5.0, 5.0, size=dim)
    return Instance(P.Rastrigin(dim=dim, A=A, x0=x0),
                    words=f"Rastrigin, A = {A:.4g}, dimension {dim}, start uniform in "
                          f"[-5, 5]^{dim} (seed {seed})", meta={"seed": seed})


@st.composite
def strongly_convex_finite_sums(draw, least_squares: bool = True, dims=(2, 5), dist=(0.0, 3.0)):
    """A strongly convex finite sum (logistic regression with mu > 0, or least squares with
    m >= 3d) started at x* + dist u; ``meta["seed"]`` seeds the runs."""
    kind = draw(st.sampled_from(["logistic", "least squares"] if least_squares
                                else ["logistic"]))
    seed = draw(st.integers(0, 10_000))
    d = draw(st.integers(*dims))
    m = draw(st.integers(3 * d, 12 * d))
    r = draw(st.floats(*dist))
    rng = B.host_rng(seed + 1)
    if kind == "logistic":
        mu = draw(st.floats(0.1, 2.0))
        p = P.LogisticRegression(m=m, dim=d, mu=mu, seed=seed)
        what = f"logistic regression, mu = {mu:.4g}"
    else:
        noise = draw(st.floats(0.3, 1.5))
        p = P.LeastSquares(m=m, dim=d, noise=noise, seed=seed)
        what = f"least squares, noise {noise:.4g}"
    x_star = Instance(p).x_star
    return Instance(p, x0=x_star + r * _unit(rng, d), x_star=x_star,
                    words=f"{what}, m = {m}, dimension {d}, data seed {seed}, start at "
                          f"distance {r:.4g} from x*", meta={"seed": seed, "kind": kind})


@st.composite
def convex_finite_sums(draw, dims=(2, 5), dist=(0.3, 3.0)):
    """A convex, not strongly convex finite sum: logistic regression with mu = 0 on
    non-separable data (a draw whose data are separable is rejected), or least squares with a
    rank-deficient design (x* the minimiser nearest to the start)."""
    kind = draw(st.sampled_from(["logistic", "least squares"]))
    seed = draw(st.integers(0, 10_000))
    d = draw(st.integers(*dims))
    m = draw(st.integers(15 * d, 30 * d))
    r = draw(st.floats(*dist))
    rng = B.host_rng(seed + 1)
    if kind == "logistic":
        noise = draw(st.floats(1.0, 3.0))
        p = P.LogisticRegression(m=m, dim=d, mu=0.0, seed=seed, label_noise=noise)
        try:
            base = Instance(p)
        except ValueError:       # separable data: no minimiser
            assume(False)
        return Instance(p, x0=base.x_star + r * _unit(rng, d), x_star=base.x_star,
                        f_star=base.f_star,
                        words=f"logistic regression, mu = 0, label noise {noise:.4g}, m = {m}, "
                              f"dimension {d}, data seed {seed}, start at distance {r:.4g} "
                              f"from x*", meta={"seed": seed, "kind": kind})
    rank = draw(st.integers(1, d - 1))
    A = rng.standard_normal((m, rank)) @ rng.standard_normal((rank, d)) / math.sqrt(rank)
    noise = draw(st.floats(0.3, 1.5))
    b = A @ rng.standard_normal(d) + noise * rng.standard_normal(m)
    p = P.LeastSquares(A=A, b=b)
    x_mn = np.asarray(B.to_numpy(p.x_star), dtype=float)      # the minimum-norm minimiser
    return Instance(p, x0=x_mn + r * _unit(rng, d),
                    words=f"least squares of rank {rank}, noise {noise:.4g}, m = {m}, "
                          f"dimension {d}, data seed {seed}, start at distance {r:.4g} from "
                          f"the minimum-norm minimiser", meta={"seed": seed, "kind": kind})


@st.composite
def minibatch_finite_sums(draw, dims=(1, 6), m=(2, 60)):
    """A logistic regression (mu in {0, 0.1, 1}) or a least squares problem, from a random
    start; ``meta["seed"]`` seeds the mini-batches."""
    kind = draw(st.sampled_from(["logistic", "least squares"]))
    seed = draw(st.integers(0, 10_000))
    d = draw(st.integers(*dims))
    m_ = draw(st.integers(*m))
    scale = draw(st.floats(0.0, 3.0))
    x0 = scale * B.host_rng(seed + 1).standard_normal(d)
    if kind == "logistic":
        mu = draw(st.sampled_from([0.0, 0.1, 1.0]))
        p = P.LogisticRegression(m=m_, dim=d, mu=mu, seed=seed, x0=x0)
        what = f"logistic regression, mu = {mu:g}"
    else:
        noise = draw(st.floats(0.0, 1.0))
        p = P.LeastSquares(m=m_, dim=d, noise=noise, seed=seed, x0=x0)
        what = f"least squares, noise {noise:.4g}"
    return Instance(p, minimiser=False,
                    words=f"{what}, m = {m_}, dimension {d}, data seed {seed}, random start of "
                          f"scale {scale:.4g}", meta={"seed": seed, "kind": kind})


def for_theorem(theorem, **kw):
    """The strategy of ``theorem``'s problem class (keyword arguments go to it)."""
    from theorems import (GD_CONVEX, GD_NONCONVEX, GD_STRONGLY_CONVEX,
                          HEAVY_BALL, MINIBATCH_DESCENT, NEWTON_QUADRATIC, SGD_CONSTANT_STEP,
                          SGD_CONVEX_AVERAGED, SGD_DECREASING_STEP, SGD_INVERSE_SQRT,
                          ZERO_ORDER_GD)
    table = {
        id(GD_CONVEX): lambda: quadratics(convex_only=True, **kw),
        id(GD_STRONGLY_CONVEX): lambda: quadratics(**kw),
        id(GD_NONCONVEX): lambda: nonconvex_functions(**kw),
        id(SGD_CONSTANT_STEP): lambda: strongly_convex_finite_sums(**kw),
        id(SGD_DECREASING_STEP): lambda: strongly_convex_finite_sums(least_squares=False, **kw),
        id(SGD_CONVEX_AVERAGED): lambda: convex_finite_sums(**kw),
        id(SGD_INVERSE_SQRT): lambda: convex_finite_sums(**kw),
        id(MINIBATCH_DESCENT): lambda: minibatch_finite_sums(**kw),
        id(HEAVY_BALL): lambda: quadratics(log_kappa=(0.2, 4.0), **kw),
        id(ZERO_ORDER_GD): lambda: quadratics(dims=(2, 8), log_kappa=(0.2, 1.3), **kw),
        id(NEWTON_QUADRATIC): lambda: logistic_regressions(mu=(0.05, 1.0), dims=(2, 6), **kw),
    }
    if id(theorem) not in table:
        raise ValueError(f"for_theorem: no strategy for {theorem!r} (an empirical claim is "
                         f"checked on given problems); pass one explicitly")
    return table[id(theorem)]()
