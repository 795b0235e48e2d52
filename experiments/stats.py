r"""Statistics of the stochastic claims: paired one-sided t-tests, bootstrap intervals, effect
sizes (host NumPy; no SciPy at run time).

* :func:`t_sf`, :func:`t_quantile`: Student's t distribution with :math:`\nu` degrees of freedom,
  through the regularised incomplete beta function,
  :math:`P(T>t)=\tfrac12 I_{\nu/(\nu+t^2)}(\tfrac\nu2,\tfrac12)` for :math:`t\ge0`
  (Abramowitz and Stegun, *Handbook of Mathematical Functions*, 1964, 26.7.1 and 26.5.27);
  :math:`I_x(a,b)` by its continued fraction (26.5.8), evaluated with the modified Lentz method;
* :func:`one_sided_t`: the one-sided t-test of a mean (of paired differences, when the same
  seeds serve both arms): the statistic, the p-value, the one-sided confidence bound and the
  effect size (Cohen's :math:`d_z=\bar d/s_d`);
* :func:`paired`: :func:`one_sided_t` on :math:`a_i-b_i`;
* :func:`bootstrap_bound`: a one-sided percentile-bootstrap confidence bound of a statistic.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["betainc", "bootstrap_bound", "one_sided_t", "paired", "t_quantile", "t_sf"]


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of :math:`I_x(a,b)` (modified Lentz; converges for
    :math:`x<(a+1)/(a+b+2)`)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            return h
    raise ArithmeticError(f"incomplete beta: no convergence for a={a}, b={b}, x={x}")


def betainc(a: float, b: float, x: float) -> float:
    r"""The regularised incomplete beta function :math:`I_x(a,b)`, :math:`0\le x\le1`."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"betainc: x must lie in [0, 1]; got {x}")
    if x in (0.0, 1.0):
        return x
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _check_df(df) -> float:
    if not (isinstance(df, (int, float)) and math.isfinite(df) and df > 0):
        raise ValueError(f"degrees of freedom must be a positive number; got {df!r}")
    return float(df)


def t_sf(t: float, df: float) -> float:
    r""":math:`P(T>t)` for Student's t with ``df`` degrees of freedom."""
    df = _check_df(df)
    t = float(t)
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    tail = 0.5 * betainc(0.5 * df, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def t_quantile(p: float, df: float) -> float:
    r"""The :math:`p`-quantile of Student's t with ``df`` degrees of freedom (bisection on
    :func:`t_sf` to :math:`10^{-12}`)."""
    df = _check_df(df)
    if not 0.0 < p < 1.0:
        raise ValueError(f"t_quantile: p must lie in (0, 1); got {p}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_sf(hi, df) > 1.0 - p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_sf(mid, df) > 1.0 - p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def _sample(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    if x.size < 2:
        raise ValueError(f"{name}: needs at least 2 values; got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: the values must be finite; got {x.tolist()}")
    return x


def one_sided_t(x, *, mu0: float = 0.0, alternative: str = "greater",
                confidence: float = 0.95) -> dict:
    r"""The one-sided t-test of :math:`H_1:\ \mathbb E x>\mu_0` (``alternative="greater"``) or
    :math:`<\mu_0` (``"less"``) on the sample ``x`` (n >= 2, finite).

    Returns ``n``, ``mean``, ``sd``, ``se``, ``t`` :math:`=(\bar x-\mu_0)/(s/\sqrt n)`, ``df``,
    ``p`` (one-sided), ``confidence``, ``bound`` (the one-sided confidence bound of the mean:
    :math:`\bar x-t_{c,n-1}\,s/\sqrt n` for "greater", :math:`+` for "less"), ``effect``
    (:math:`(\bar x-\mu_0)/s`, Cohen's :math:`d_z`) and ``significant`` (:math:`p<1-c`).
    A sample with zero spread has ``t`` and ``effect`` :math:`\pm\infty` (or NaN when the mean
    equals :math:`\mu_0`)."""
    if alternative not in ("greater", "less"):
        raise ValueError(f"alternative must be 'greater' or 'less'; got {alternative!r}")
    if not 0.5 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0.5, 1); got {confidence}")
    x = _sample(x, "one_sided_t")
    n = x.size
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    se = sd / math.sqrt(n)
    diff = mean - mu0
    sign = 1.0 if alternative == "greater" else -1.0
    if se > 0:
        t, effect = diff / se, diff / sd
    else:
        t = effect = math.copysign(math.inf, diff) if diff != 0 else math.nan
    p = t_sf(sign * t, n - 1) if not math.isnan(t) else 1.0
    q = t_quantile(confidence, n - 1)
    return {"n": n, "mean": mean, "sd": sd, "se": se, "t": t, "df": n - 1, "p": p,
            "confidence": confidence, "bound": mean - sign * q * se, "effect": effect,
            "significant": p < 1.0 - confidence, "alternative": alternative, "mu0": mu0}


def paired(a, b, *, alternative: str = "greater", confidence: float = 0.95) -> dict:
    r""":func:`one_sided_t` on the paired differences :math:`d_i=a_i-b_i` (the same seed ``i``
    in both arms): :math:`H_1:\ \mathbb E(a-b)>0` for "greater"."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired: the two arms must have the same number of seeds; got "
                         f"{a.size} and {b.size}")
    return one_sided_t(a - b, alternative=alternative, confidence=confidence)


def bootstrap_bound(x, *, statistic=np.mean, side: str = "lower", confidence: float = 0.95,
                    resamples: int = 4000, seed: int = 0) -> float:
    """The one-sided percentile-bootstrap confidence bound of ``statistic(x)`` (``side``:
    "lower" or "upper"), from ``resamples`` seeded resamples with replacement."""
    if side not in ("lower", "upper"):
        raise ValueError(f"side must be 'lower' or 'upper'; got {side!r}")
    if not 0.5 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0.5, 1); got {confidence}")
    x = _sample(x, "bootstrap_bound")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(int(resamples), x.size))
    stats = np.array([statistic(x[i]) for i in idx])
    q = 1.0 - confidence if side == "lower" else confidence
    return float(np.quantile(stats, q))
