"""The batch-size experiment: PASS in --quick mode, figure and traces written, judged by its rule
in force, the figure redrawn from the saved traces alone, a FAIL when the measured curves break
the claim, the control (a sampler stuck on one batch) flagged, and the samplers and constants
checked against independent oracles."""
import itertools
import math

import exp_testkit as kit
import numpy as np
import pytest
from exp_testkit import session_backend

import minigrad as mg
from experiments import batch_size
from experiments.__main__ import run_one
from experiments.stochastic import far_start_logistic
from experiments.trace import load_traces

# Student's t quantile t_{0.95, 9} from the published tables (e.g. Abramowitz and Stegun 1964,
# table 26.10), for the 10 quick seeds
T95_DF9 = 1.833113


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out, run_one("batch-size", str(out), True, 0, session_backend())


def _traces(quick_run):
    return load_traces(quick_run[0] / "batch-size", stem=batch_size.STEM)


def _check(v, key):
    return next(c for c in v["checks"] if c["key"] == key)


def test_quick_run_passes_and_writes_its_files(quick_run):
    out, v = quick_run
    saved = kit.assert_wrote_its_files(out, "batch-size", v)
    assert saved["rule_version"] == 2
    assert [r["version"] for r in saved["earlier_rules"]] == [1]
    assert saved["earlier_rules"][0]["note"] == ""
    assert batch_size.RULES[-1].note                     # why version 2 replaced version 1
    traces = load_traces(out / "batch-size", stem=batch_size.STEM)
    assert sorted({t.meta["batch"] for t in traces}) == [1, 10, 50, 100, 200]
    gd = [t for t in traces if t.meta["batch"] == 200]
    assert len(gd) == 1 and gd[0]["n_grad"][1] == 200     # a GD step costs n gradients
    one = next(t for t in traces if t.meta["batch"] == 1)
    assert one["n_grad"][10] == 10
    _steps, n_seeds, n_ctrl = batch_size.QUICK
    ctrl = [t for t in traces if t.meta.get("control")]
    assert len(ctrl) == n_ctrl and all(t.meta["batch"] == batch_size.CONTROL_BATCH for t in ctrl)
    for B in batch_size.BATCHES:                           # the same seeds for every batch size
        seeds = sorted(t.meta["seed"] for t in traces
                       if t.meta["batch"] == B and not t.meta.get("control"))
        assert seeds == list(range(n_seeds))


def test_draw_uses_the_saved_traces_only(quick_run, monkeypatch):
    out, v = quick_run
    folder = out / "batch-size"
    (folder / v["figure"]).unlink()
    monkeypatch.setattr(batch_size, "run_seeds", None)
    assert batch_size.draw(folder).exists()


def test_verdict_fails_when_larger_batches_are_no_better(quick_run):
    traces = _traces(quick_run)
    ones = [t for t in traces if t.meta["batch"] == 1 and not t.meta.get("control")]
    for t in traces:  # every batch size gets batch 1's curves: same floors, same iterations
        if t.meta["batch"] != 1:
            src = ones[t.meta["seed"] % len(ones)]
            t.columns["f_gap"] = np.array(src["f_gap"])
    v = batch_size.verdict(batch_size.analyse(traces))
    assert v["verdict"] == "FAIL"
    assert not _check(v, "floor_p")["passed"] and not _check(v, "floor_factor")["passed"]


def test_verdict_fails_when_a_larger_batch_saves_no_iterations(quick_run):
    traces = _traces(quick_run)
    for t in traces:  # batch 10 reaches every accuracy 10 iterations later
        if t.meta["batch"] == 10 and not t.meta.get("control"):
            g = np.asarray(t["f_gap"], dtype=float)
            t.columns["f_gap"] = np.concatenate([np.full(10, g[0]), g[:-10]])
    v = batch_size.verdict(batch_size.analyse(traces))
    assert v["verdict"] == "FAIL" and not _check(v, "iter_saving")["passed"]


def test_verdict_fails_when_the_small_batch_never_gets_there(quick_run):
    traces = _traces(quick_run)
    F1 = traces[0].meta["F1"]
    for t in traces:  # batch 1 stuck above eps = F_1: it needs infinitely many evaluations
        if t.meta["batch"] == 1:
            t.columns["f_gap"] = np.maximum(np.asarray(t["f_gap"], dtype=float), 1.5 * F1)
    v = batch_size.verdict(batch_size.analyse(traces))
    assert v["verdict"] == "FAIL" and not _check(v, "evals_ratio")["passed"]
    assert _check(v, "evals_ratio")["value"] == 0.0


def test_the_control_is_flagged_and_an_unbiased_run_in_its_place_fails(quick_run):
    _out, v = quick_run
    ctrl = _check(v, "control_factor")
    assert ctrl["role"] == "control" and ctrl["passed"] and ctrl["value"] > 2
    traces = _traces(quick_run)
    tens = {t.meta["seed"]: t for t in traces
            if t.meta["batch"] == 10 and not t.meta.get("control")}
    for t in traces:  # the control's curves replaced by the coupled batch-10 run of its seed
        if t.meta.get("control"):
            t.columns["f_gap"] = np.array(tens[t.meta["seed"]]["f_gap"])
    v2 = batch_size.verdict(batch_size.analyse(traces))
    assert v2["verdict"] == "FAIL"
    assert [c["key"] for c in v2["checks"] if not c["passed"]] == ["control_factor"]


def test_the_floor_bounds_use_the_t_quantile_of_the_seeds(quick_run):
    a = batch_size.analyse(_traces(quick_run), bootstrap=False)
    rows = {r["B"]: r for r in a["rows"]}
    n = a["n"]
    for s in a["scaling"]:
        d = (np.log2(rows[s["B"]]["floors"]) - np.log2(rows[1]["floors"])
             - np.log2((n - s["B"]) / (s["B"] * (n - 1))))
        assert d.size == 10
        half = T95_DF9 * d.std(ddof=1) / math.sqrt(d.size)
        assert s["upper"] == pytest.approx(d.mean() + half, rel=1e-6)
        assert s["lower"] == pytest.approx(d.mean() - half, rel=1e-6)


def test_the_earlier_rule_is_evaluated_on_the_same_run(quick_run):
    _out, v = quick_run
    (v1,) = v["earlier_rules"]
    assert [c["key"] for c in v1["checks"]] == list(batch_size.RULES[0].keys)
    assert v1["verdict"] == ("PASS" if all(c["passed"] for c in v1["checks"]) else "FAIL")


def test_coupled_batches_are_nested_and_without_replacement():
    p = batch_size.CoupledBatches(**batch_size._data(far_start_logistic(0)))
    for step in range(3):
        drawn = {B: p.sample_batch(B, mg.backend.host_rng(5 + step)) for B in (1, 10, 50)}
        assert len(set(drawn[50].tolist())) == 50
        assert drawn[10].tolist() == drawn[50][:10].tolist()
        assert drawn[1].tolist() == drawn[10][:1].tolist()
    with pytest.raises(ValueError, match="replace"):
        p.sample_batch(5, mg.backend.host_rng(0), replace=True)
    with pytest.raises(ValueError, match="batch_size"):
        p.sample_batch(p.n + 1, mg.backend.host_rng(0))


def test_the_broken_sampler_returns_one_batch():
    q = batch_size.SameBatch(batch=[3, 1, 4], **batch_size._data(far_start_logistic(0)))
    rng = mg.backend.host_rng(0)
    assert q.sample_batch(3, rng).tolist() == q.sample_batch(3, rng).tolist() == [3, 1, 4]
    with pytest.raises(ValueError, match="batch_size"):
        q.sample_batch(2, rng)


def test_predicted_factor_is_the_variance_of_a_batch_mean_without_replacement():
    x = np.array([0.3, -1.2, 2.0, 0.7, -0.4])         # every batch of 2 of these 5 values
    n, B = x.size, 2
    means = [x[list(c)].mean() for c in itertools.combinations(range(n), B)]
    assert np.var(means) == pytest.approx(batch_size.predicted_factor(B, n) * np.var(x))


def test_the_accuracy_is_theorem_1s_neighbourhood_for_one_sample():
    p = far_start_logistic(0)
    A, y = mg.to_numpy(p.A), mg.to_numpy(p.y)
    x = mg.to_numpy(p.x_star)
    z = y * (A @ x)                                    # grad f_i = mu x - y_i a_i s(-z_i)
    G = p.mu * x - (y / (1 + np.exp(z)))[:, None] * A
    sigma2 = np.mean(np.sum(G * G, axis=1))
    alpha = batch_size.ALPHA
    assert batch_size.floor_of_theorem(p, alpha) == pytest.approx(
        p.L * sigma2 * alpha / (4 * p.mu), rel=1e-9)
