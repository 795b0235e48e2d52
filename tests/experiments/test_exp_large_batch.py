"""The large-batch experiment: its --quick verdict (FAIL: with the base rate tuned, the linear
rule does not match the small batch up to 4x) judged by its rule in force with its files
written, the figure redrawn from the saved files alone, the base rate tuned by its stated rule,
the verdict turning to FAIL when measurements that satisfy the claim are altered to break it, the
control flagged and a verdict that fails when an in-hypothesis run takes its place, divergence
recorded as an outcome, and the batch-size rates."""
import math

import exp_testkit as kit
import numpy as np
import pytest

import schedules
from experiments import large_batch as LB

# Student's t quantile t_{0.95, 2} from the published tables (e.g. Abramowitz and Stegun 1964,
# table 26.10), for the 3 quick seeds
T95_DF2 = 2.919986


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    return kit.quick_runs(tmp_path_factory, ["large-batch"])


def _data(quick_runs):
    return LB._load(quick_runs[0] / "large-batch" / LB.DATA)


def _check(v, key):
    return next(c for c in v["checks"] if c["key"] == key)


I_N, I_W = LB.SETTINGS.index(("linear", False)), LB.SETTINGS.index(("linear", True))


def _claim_holds(d):
    """The saved measurements altered so that the claim holds: linear + warmup ends within 1.5
    times the baseline at every k, the linear rule without warmup diverges beyond B_0 (so warmup
    extends the range on every seed); the control is left as measured."""
    c = d["curves"].copy()
    base = c[I_W, :, 0, -1]
    c[I_W, :, 1:, -1] = 1.5 * base[:, None]
    c[I_N, :, 1:, 1:] = np.nan
    return dict(d, curves=c)


def test_quick_run_gives_its_verdict_and_writes_its_files(quick_runs):
    out, runs = quick_runs
    v = runs["large-batch"]
    saved = kit.assert_wrote_its_files(out, "large-batch", v, expected="FAIL")
    assert saved["rule_version"] == 4
    assert not _check(saved, "match_upper")["passed"]            # the claim's check 1 fails
    assert _check(saved, "control_lower")["passed"]              # the control is flagged


def test_draw_uses_the_saved_files_only(quick_runs, monkeypatch):
    out, runs = quick_runs
    folder = out / "large-batch"
    (folder / runs["large-batch"]["figure"]).unlink()
    for attr in ("runs", "train"):
        monkeypatch.setattr(LB, attr, None)             # no run can happen while drawing
    assert LB.draw(folder).exists()


def test_large_batch_saves_every_setting(quick_runs):
    _out, runs = quick_runs
    v = runs["large-batch"]
    d = _data(quick_runs)
    S, ks = LB.QUICK["seeds"], LB.QUICK["ks"]
    assert d["curves"].shape == (len(LB.QUICK["settings"]), S, len(ks), LB.EPOCHS + 1)
    assert d["tuning"].shape == (len(LB.QUICK["grid"]), S, LB.EPOCHS + 1)
    assert d["control"].shape == (S, LB.EPOCHS + 1)
    # the rules agree at B_0, and the baseline runs converged
    base = d["curves"][:, :, 0, -1]
    assert np.all(np.isfinite(base)) and np.all(base < 1e-2 * d["curves"][:, :, 0, 0])
    # k_crit of the verdict, recomputed by hand from the saved final losses
    for i, (rule, warm) in enumerate(LB.QUICK["settings"]):
        for s in range(S):
            k_crit = 0
            for j, k in enumerate(ks):
                f = d["curves"][i, s, j, -1]
                if not (np.isfinite(f) and f <= 3 * d["curves"][i, s, 0, -1]):
                    break
                k_crit = k
            assert v["k_crit"][LB.label(rule, warm)][s] == k_crit


def test_the_base_rate_is_tuned_by_its_rule(quick_runs):
    d = _data(quick_runs)
    grid, final = d["grid"], d["tuning"][:, :, -1]
    means = []
    for g in range(grid.size):                        # geometric means, a diverged seed: inf
        f = final[g]
        means.append(math.inf if not np.all(np.isfinite(f)) else
                     math.exp(sum(math.log(x) for x in f) / f.size))
    best = min(range(grid.size), key=lambda g: means[g])
    assert int(d["g_star"]) == best
    np.testing.assert_allclose(d["alpha_base"], grid[best] / d["lam0"])
    for i in range(d["curves"].shape[0]):             # the baseline is the selected tuning run
        np.testing.assert_array_equal(d["curves"][i, :, 0], d["tuning"][best])
    assert LB.select_base(np.array([[1.0, 1.0], [0.5, np.nan], [0.8, 0.9]])) == 2
    # every grid point diverged: the smallest rate, no exception (the runs record the rest)
    assert LB.select_base(np.array([[np.inf, 1.0], [np.nan, 0.1]])) == 0
    assert list(LB.FULL["grid"]) == sorted(LB.FULL["grid"])
    assert list(LB.QUICK["grid"]) == sorted(LB.QUICK["grid"])


def test_large_batch_records_a_tuning_where_every_rate_diverged_as_a_fail(quick_runs):
    d = dict(_data(quick_runs))
    for k in ("tuning", "curves", "control"):            # every run diverged after its start
        d[k] = d[k].copy()
        d[k][..., 1:] = np.nan
    v = LB.verdict(LB.analyse(d))                         # no exception: a measured outcome
    assert v["verdict"] == "FAIL"
    assert not _check(v, "match_upper")["passed"]


def test_large_batch_fails_when_warmup_does_not_help(quick_runs):
    d = _claim_holds(_data(quick_runs))
    v = LB.verdict(LB.analyse(d))
    assert v["verdict"] == "PASS"
    assert [r["version"] for r in v["earlier_rules"]] == [1, 2, 3]   # every earlier rule kept
    assert all(r["note"] for r in v["earlier_rules"][1:])
    swapped = dict(d, curves=d["curves"].copy())
    swapped["curves"][[I_N, I_W]] = d["curves"][[I_W, I_N]]          # warmup now hurts
    a = LB.analyse(swapped)
    assert np.all(a["k_crit"][I_W] <= a["k_crit"][I_N])
    assert LB.verdict(a)["verdict"] == "FAIL"
    same = dict(d, curves=d["curves"].copy())
    same["curves"][I_W] = d["curves"][I_N]                           # warmup changes nothing
    assert LB.verdict(LB.analyse(same))["verdict"] == "FAIL"
    one_worse = dict(d, curves=d["curves"].copy())                   # warmup helps seed 0 only
    one_worse["curves"][I_W, 1:] = d["curves"][I_N, 1:]
    one_worse["curves"][I_N, 1] = d["curves"][I_W, 1]                # ... and hurts seed 1
    a = LB.analyse(one_worse)
    assert a["k_crit"][I_W, 0] > a["k_crit"][I_N, 0] and a["k_crit"][I_W, 1] < a["k_crit"][I_N, 1]
    v1 = LB.verdict(a)
    assert v1["verdict"] == "FAIL" and not _check(v1, "warmup_p")["passed"]
    short = dict(d, curves=d["curves"].copy())
    short["curves"][I_W, 0, 1:, -1] = np.nan                     # warmup runs diverge at k >= 2
    v2 = LB.verdict(LB.analyse(short))
    assert v2["verdict"] == "FAIL" and _check(v2, "match_upper")["value"] == math.inf
    loose = dict(d, curves=d["curves"].copy())                        # warmup ends 4x above
    loose["curves"][I_W, :, 1:, -1] = 4.0 * d["curves"][I_W, :, :1, -1]
    assert LB.verdict(LB.analyse(loose))["verdict"] == "FAIL"


def test_check_1_is_an_upper_t_bound_of_the_geometric_mean(quick_runs):
    d = _claim_holds(_data(quick_runs))
    c = d["curves"].copy()
    c[I_W, :, 1, -1] = c[I_W, :, 0, -1] * np.array([1.2, 2.0, 1.6])   # three different ratios
    a = LB.analyse(dict(d, curves=c))
    r = np.log([1.5, 2.0, 1.6])                       # per seed: the largest ratio over k <= 4
    bound = math.exp(r.mean() + T95_DF2 * r.std(ddof=1) / math.sqrt(3))
    assert a["match_upper"] == pytest.approx(bound, rel=1e-6)


def test_the_control_is_flagged_and_an_in_hypothesis_run_in_its_place_fails(quick_runs):
    d = _claim_holds(_data(quick_runs))
    v = LB.verdict(LB.analyse(d))
    ctrl = _check(v, "control_lower")
    assert ctrl["role"] == "control" and ctrl["passed"] and v["verdict"] == "PASS"
    baseline = dict(d, control=d["curves"][I_W, :, 0].copy())   # the tuned baseline: in range
    v2 = LB.verdict(LB.analyse(baseline))
    assert v2["verdict"] == "FAIL"
    assert [c["key"] for c in v2["checks"] if not c["passed"]] == ["control_lower"]


def test_divergence_is_a_measured_outcome():
    p = LB.make_problem(0)
    curve = LB.train(p, 50.0, 8 * LB.B0, seed=0)      # far beyond the stability limit
    assert curve.shape == (LB.EPOCHS + 1,) and np.isfinite(curve[0])
    assert np.isnan(curve[-1])


def test_large_batch_rates_follow_the_rules():
    base = 0.1
    assert LB.learning_rate(base, 4 * LB.B0, "linear", False) == pytest.approx(0.4)
    assert LB.learning_rate(base, 4 * LB.B0, "sqrt", False) == pytest.approx(0.2)
    B = 8 * LB.B0
    lr = LB.learning_rate(base, B, "linear", True)
    Tw = LB.WARMUP_EPOCHS * (LB.M // B)
    assert isinstance(lr, schedules.Schedule)
    assert lr(0) == 0.0 and lr(Tw // 2) == pytest.approx(0.8 * (Tw // 2) / Tw)
    assert lr(Tw) == pytest.approx(0.8) and lr(10 * Tw) == pytest.approx(0.8)
    assert LB.steps_per(LB.EPOCHS, 24) == 853           # k = 1.5: 20 * 1024 / 24 = 853.3
