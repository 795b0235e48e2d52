"""Student's t and the one-sided tests of experiments/stats.py, against published values.

Oracles: the quantiles are the two-decimal-rounded entries of the standard t table (Fisher and
Yates, *Statistical Tables for Biological, Agricultural and Medical Research*, 1963, Table III;
the same values as NIST/SEMATECH, *e-Handbook of Statistical Methods*, 1.3.6.7.2); the exact
closed forms for 1 and 2 degrees of freedom (Cauchy: P(T>t) = 1/2 - atan(t)/pi; nu = 2:
P(T>t) = (1 - t/sqrt(t^2+2))/2); a hand-computed t statistic.
"""
import math

import numpy as np
import pytest

from experiments import stats

pytestmark = pytest.mark.host_only  # host statistics, no backend

TABLE = [  # (one-sided upper tail probability, df, t)
    (0.05, 3, 2.353), (0.05, 9, 1.833), (0.05, 10, 1.812), (0.05, 19, 1.729),
    (0.025, 3, 3.182), (0.025, 9, 2.262), (0.025, 30, 2.042), (0.01, 11, 2.718),
    (0.005, 5, 4.032), (0.10, 4, 1.533), (0.001, 10, 4.144)]


@pytest.mark.parametrize("alpha,df,t", TABLE)
def test_quantiles_match_the_table(alpha, df, t):
    assert stats.t_quantile(1 - alpha, df) == pytest.approx(t, abs=6e-4)
    assert stats.t_sf(t, df) == pytest.approx(alpha, rel=2e-3)
    assert stats.t_quantile(alpha, df) == pytest.approx(-t, abs=6e-4)  # symmetry


@pytest.mark.parametrize("t", [-4.0, -1.0, 0.0, 0.3, 1.0, 2.5, 40.0])
def test_closed_forms_for_one_and_two_degrees_of_freedom(t):
    assert stats.t_sf(t, 1) == pytest.approx(0.5 - math.atan(t) / math.pi, abs=1e-13)
    assert stats.t_sf(t, 2) == pytest.approx((1 - t / math.sqrt(t * t + 2)) / 2, abs=1e-13)


def test_large_df_tends_to_the_normal():
    assert stats.t_quantile(0.975, 1e6) == pytest.approx(1.959964, abs=1e-5)


def test_one_sided_t_by_hand():
    x = [1.0, 2.0, 3.0, 4.0]  # mean 2.5, sd sqrt(5/3), se sqrt(5/12)
    r = stats.one_sided_t(x, mu0=1.0)
    assert r["t"] == pytest.approx(1.5 / math.sqrt(5 / 12), rel=1e-14)
    assert r["effect"] == pytest.approx(1.5 / math.sqrt(5 / 3), rel=1e-14)
    assert r["df"] == 3
    # t = 2.324 < 2.353, the 5% point with 3 df: not significant at 95%, significant at 90%
    assert not r["significant"] and 0.05 < r["p"] < 0.10
    assert stats.one_sided_t(x, mu0=1.0, confidence=0.9)["significant"]
    assert r["bound"] == pytest.approx(2.5 - 2.3534 * math.sqrt(5 / 12), abs=1e-3)
    less = stats.one_sided_t(x, mu0=1.0, alternative="less")
    assert less["p"] == pytest.approx(1 - r["p"], rel=1e-12)
    assert less["bound"] == pytest.approx(2.5 + 2.3534 * math.sqrt(5 / 12), abs=1e-3)


def test_paired_uses_the_differences():
    a, b = np.array([3.0, 5.0, 4.0, 6.0]), np.array([2.0, 3.0, 1.0, 2.0])
    assert stats.paired(a, b)["t"] == stats.one_sided_t(a - b)["t"]
    with pytest.raises(ValueError, match="same number of seeds"):
        stats.paired(a, b[:3])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="at least 2"):
        stats.one_sided_t([1.0])
    with pytest.raises(ValueError, match="finite"):
        stats.one_sided_t([1.0, math.nan])
    with pytest.raises(ValueError, match="alternative"):
        stats.one_sided_t([1.0, 2.0], alternative="two-sided")
    with pytest.raises(ValueError, match="degrees of freedom"):
        stats.t_sf(1.0, 0)
    with pytest.raises(ValueError, match="confidence"):
        stats.one_sided_t([1.0, 2.0], confidence=1.5)


def test_bootstrap_bound_brackets_the_mean():
    x = np.random.default_rng(0).normal(1.0, 1.0, 40)
    lo = stats.bootstrap_bound(x, side="lower")
    hi = stats.bootstrap_bound(x, side="upper")
    assert lo < x.mean() < hi
    # for a normal sample the percentile bound is close to the t bound (within a tenth of an SE)
    t = stats.one_sided_t(x)
    assert abs(lo - t["bound"]) < 0.1 * t["se"] * 3
