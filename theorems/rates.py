r"""Empirical rates with confidence intervals, for the reports of the rate theorems.

* :func:`fit_linear_rate`: the per-step factor :math:`\hat\rho` of :math:`y_k\approx C\hat\rho^k`
  by least squares on :math:`\log y_k=c+k\log\hat\rho` (with ``power=True`` also a
  :math:`\log k` column: the :math:`k\rho^k` form of a double eigenvalue), on the points above
  the round-off floor and among those on the last ``tail`` fraction of the iterations;
* :func:`fit_order`: the order :math:`\hat p` of :math:`e_{k+1}\approx Ce_k^{\hat p}`
  (:math:`\hat p=2`: quadratic convergence) by least squares on
  :math:`\log e_{k+1}=c+p\log e_k`.

The interval is the usual one of a least-squares coefficient: estimate :math:`\pm\,t_{0.975,
\nu}` standard errors, :math:`\nu` = points minus coefficients (a two-sided 95% interval under
independent Gaussian residuals; the residuals of a deterministic run are neither, so the
interval measures how well the model fits the curve, not a sampling error). The quantiles
:math:`t_{0.975,\nu}` for :math:`\nu\le30` are the standard table's; above, the Cornish-Fisher
expansion :math:`z+\frac{z^3+z}{4\nu}+\frac{5z^5+16z^3+3z}{96\nu^2}`, :math:`z=1.959964`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from minigrad import backend as B

__all__ = ["RateEstimate", "fit_linear_rate", "fit_order", "t975"]

np = B.host_xp()

_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
_Z975 = 1.959964


def t975(nu: int) -> float:
    r"""The 0.975 quantile of Student's :math:`t` with :math:`\nu\ge1` degrees of freedom."""
    if nu < 1:
        raise ValueError(f"t975: nu must be >= 1; got {nu}")
    if nu <= len(_T975):
        return _T975[nu - 1]
    z = _Z975
    return z + (z ** 3 + z) / (4 * nu) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * nu ** 2)


@dataclass(frozen=True)
class RateEstimate:
    """A fitted rate and its 95% interval, against the theorem's value."""

    what: str          # "per-step factor of ||x_k - x*||^2", "order of e_k"
    fitted: float
    low: float
    high: float
    theory: float | None
    points: int
    first: int
    last: int

    def __str__(self) -> str:
        s = (f"fitted {self.what} {self.fitted:.6g} (95% interval [{self.low:.6g}, "
             f"{self.high:.6g}], {self.points} points, k = {self.first}..{self.last})")
        if self.theory is not None:
            s += f"; the theorem's {self.theory:.6g}"
        return s


def _lstsq_with_interval(X, y, j: int):
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    n, p = X.shape
    resid = y - X @ coef
    nu = n - p
    s2 = float(resid @ resid) / nu
    cov = s2 * np.linalg.inv(X.T @ X)
    half = t975(nu) * math.sqrt(max(float(cov[j, j]), 0.0))
    return float(coef[j]), half


def fit_linear_rate(k, y, *, what: str, theory: float | None = None, floor: float = 1e-13,
                    tail: float = 0.5, power: bool = False):
    """The per-step factor of ``y`` (module docstring); None when fewer than 4 points (5 with
    ``power``) lie above ``floor * y[0]``."""
    k, y = np.asarray(k, dtype=float), np.asarray(y, dtype=float)
    if y.size < 2 or not (y[0] > 0) or not math.isfinite(y[0]):
        return None
    ok = np.isfinite(y) & (y > floor * y[0]) & (k > 0)
    idx = np.nonzero(ok)[0]
    if idx.size:
        idx = idx[k[idx] >= k[idx[0]] + (1.0 - tail) * (k[idx[-1]] - k[idx[0]])]
    need = 5 if power else 4
    if idx.size < need:
        return None
    cols = [np.ones(idx.size), k[idx]] + ([np.log(k[idx])] if power else [])
    slope, half = _lstsq_with_interval(np.stack(cols, axis=1), np.log(y[idx]), 1)
    return RateEstimate(what, math.exp(slope), math.exp(slope - half), math.exp(slope + half),
                        theory, int(idx.size), int(k[idx[0]]), int(k[idx[-1]]))


def fit_order(e, *, floor: float, theory: float | None = 2.0, first: int = 0):
    r"""The order of convergence of the errors ``e`` (pairs :math:`(e_k,e_{k+1})`, :math:`k\ge`
    ``first``, with :math:`e_{k+1}` above ``floor``); None when fewer than 3 pairs."""
    e = np.asarray(e, dtype=float)
    ks = [k for k in range(first, e.size - 1)
          if e[k + 1] > floor and e[k] > 0 and math.isfinite(e[k])]
    if len(ks) < 3:
        return None
    ks = np.asarray(ks)
    X = np.stack([np.ones(ks.size), np.log(e[ks])], axis=1)
    p, half = _lstsq_with_interval(X, np.log(e[ks + 1]), 1)
    return RateEstimate("order p of e_(k+1) ~ C e_k^p", p, p - half, p + half, theory,
                        int(ks.size), int(ks[0]), int(ks[-1]))
