"""The Adam experiments (adam-failures, adamw-decay): PASS in --quick mode with their files
written, judged by their rules in force (version 1 still reported), figures redrawn from the
saved data alone, the verdicts recomputed from the saved data, every control violating the
claim's bound, runs reproducible bit for bit, and FAIL when the saved measurements are made to
break the claims, when a setting is wrong, or when a control is replaced by a run inside the
hypotheses."""
import copy
import math

import numpy as np
import pytest

import minigrad as mg
import optimizers
import problems as P
from experiments import adam_failures as af
from experiments import adamw_decay as aw
import exp_testkit as kit


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    return kit.quick_runs(tmp_path_factory, ("adam-failures", "adamw-decay"))


@pytest.mark.parametrize("name", ["adam-failures", "adamw-decay"])
def test_quick_run_passes_and_writes_its_files(quick_runs, name):
    out, runs = quick_runs
    v = runs[name]
    saved = kit.assert_wrote_its_files(out, name, v)
    assert all(c["passed"] for c in v["checks"])
    module = af if name == "adam-failures" else aw
    assert saved["rule_version"] == module.RULES[-1].version == {"adam-failures": 2,
                                                                  "adamw-decay": 3}[name]
    assert saved["earlier_rules"][0]["verdict"] == "PASS"     # version 1 (no control) too
    assert all(r["verdict"] == "PASS" for r in saved["earlier_rules"])
    folder = out / name
    if name == "adam-failures":
        reddi, cycle, control_reddi, control_cycle = af.load(folder)
        assert {(t.meta["setting"], t.meta["method"]) for t in reddi} == {
            (s, m) for s in ("theorem", "synthetic") for m in ("Adam", "AMSGrad")}
        assert [t.meta["method"] for t in cycle] == ["Adam", "Adam", "SGD", "HB"]
        assert [t.meta["constant"] for t in control_reddi] == [True]
        assert [t.meta["run"] for t in control_cycle] == ["sgd_2_over_L", "adam_eps1"]
    else:
        runs_, _ = aw.load_runs(folder)
        assert set(runs_) == set(aw.METHODS) | {aw.CONTROL}
        assert runs_["adam_l2"]["delta"].shape == runs_["adam_l2"]["x"].shape
        assert runs_["adam"]["delta"].size == 0          # no decay, no probes


def test_draw_and_verdict_use_the_saved_data_only(quick_runs, monkeypatch):
    out, runs = quick_runs
    for name in ("reddi_run", "reddi_runs", "cycle_runs", "run_trace", "control_reddi_runs",
                 "control_cycle_runs", "_cycle_trace"):
        monkeypatch.setattr(af, name, None)
    for name in ("train", "run_all", "make_problem"):
        monkeypatch.setattr(aw, name, None)
    folder = out / "adam-failures"
    (folder / runs["adam-failures"]["figure"]).unlink()
    assert af.draw(folder).exists()
    assert af.verdict(af.analyse(*af.load(folder)))["verdict"] == "PASS"
    folder = out / "adamw-decay"
    (folder / runs["adamw-decay"]["figure"]).unlink()
    assert aw.draw(folder).exists()
    assert aw.verdict(aw.analyse(*aw.load_runs(folder)))["verdict"] == "PASS"


# ----------------------------------------------------------------------------- adam-failures
def _by(traces, setting, method):
    return next(t for t in traces if t.meta["setting"] == setting and t.meta["method"] == method)


def test_adam_failures_fails_when_adam_and_amsgrad_are_swapped(quick_runs):
    reddi, cycle, *controls = af.load(quick_runs[0] / "adam-failures")
    adam, ams = _by(reddi, "theorem", "Adam"), _by(reddi, "theorem", "AMSGrad")
    for col in ("x", "regret"):
        adam.columns[col], ams.columns[col] = ams.columns[col], adam.columns[col]
    ok = af.checks(af.analyse(reddi, cycle, *controls))
    assert not ok["theorem_adam_x_final"] and not ok["theorem_amsgrad_x_final"]
    assert not ok["theorem_adam_regret_over_plus_one"]
    assert not ok["theorem_amsgrad_regret_over_tenth"]
    assert af.verdict(af.analyse(reddi, cycle, *controls))["verdict"] == "FAIL"


def test_adam_failures_fails_when_synthetic_amsgrad_stalls(quick_runs):
    reddi, cycle, *controls = af.load(quick_runs[0] / "adam-failures")
    ams = _by(reddi, "synthetic", "AMSGrad")
    x = np.asarray(ams["x"]).copy()
    x[len(x) // 2:] = x[len(x) // 2 - 1]                  # frozen after T/2: no drift
    ams.columns["x"] = x
    ok = af.checks(af.analyse(reddi, cycle, *controls))
    assert not ok["synthetic_amsgrad_drift_error"]


def test_limit_cycle_fails_with_a_large_eps_or_a_shrunk_cycle(quick_runs):
    """A deliberately wrong setting: eps = 1 instead of 0 makes Adam's step about eta*g, and Adam
    converges on w^2; and saved |w| shrunk by 10% is no longer at eta/2."""
    reddi, cycle, *controls = af.load(quick_runs[0] / "adam-failures")
    wrong = af.cycle_runs(steps=af.QUICK["cycle_steps"], eps=1.0)
    a = af.analyse(reddi, wrong, *controls)
    assert all(c["tail_mean"] < 1e-3 for c in a["cycle"][:2])
    assert af.verdict(a)["verdict"] == "FAIL"
    shrunk = copy.deepcopy(cycle)
    shrunk[0].columns["dist2"] = np.asarray(shrunk[0]["dist2"]) * 0.81
    assert af.verdict(af.analyse(reddi, shrunk, *controls))["verdict"] == "FAIL"
    # SGD that has not converged
    slow = copy.deepcopy(cycle)
    slow[2].columns["dist2"] = np.asarray(slow[2]["dist2"]) + 1e-10
    assert slow[2].meta["run"] == "sgd"
    assert not af.checks(af.analyse(reddi, slow, *controls))["cycle_sgd_final"]


def _failed(v):
    return [c["key"] for c in v["checks"] if not c["passed"]]


def test_adam_failures_controls_violate_the_claim(quick_runs):
    """Each control outside a hypothesis breaks the check of the claim it stands against:
    AMSGrad with a constant step stays about 0.17 above -1 with a non-decaying regret, SGD at
    2/L flips w -> -w forever (|w_T| = eta/2), Adam with eps = 1 converges (no cycle)."""
    v = quick_runs[1]["adam-failures"]
    checks = {c["key"]: c for c in v["checks"]}
    controls = [c.key for c in af.RULES[-1].controls]
    assert len(controls) == 4
    for key in controls:
        assert checks[key]["role"] == "control" and checks[key]["passed"], checks[key]
    assert checks["control_amsgrad_constant_x_final"]["value"] == pytest.approx(-0.834,
                                                                                 abs=0.01)
    assert checks["control_amsgrad_constant_regret_over_tenth"]["value"] > 0.8
    assert checks["control_sgd_2_over_L_final"]["value"] == af.ETA / 2
    assert checks["control_adam_eps1_error"]["value"] == pytest.approx(1.0)
    # the claim's own conditions, applied to the control runs, fail
    values = af.measurements(af.analyse(*af.load(quick_runs[0] / "adam-failures")))
    claim = {c.key: c for c in af.RULES[-1].conditions}
    assert not claim["theorem_amsgrad_x_final"].holds(values["control_amsgrad_constant_x_final"])
    assert not claim["theorem_amsgrad_regret_over_tenth"].holds(
        values["control_amsgrad_constant_regret_over_tenth"])
    assert not claim["cycle_sgd_final"].holds(values["control_sgd_2_over_L_final"])
    assert not claim["cycle_adam_error"].holds(values["control_adam_eps1_error"])


def test_adam_failures_fails_when_a_control_is_inside_the_hypotheses(quick_runs):
    """Each control replaced by the claim's run it stands against (AMSGrad with alpha/sqrt t,
    SGD with the step eta, Adam with eps = 0): the verdict is FAIL on that control alone."""
    reddi, cycle, control_reddi, control_cycle = af.load(quick_runs[0] / "adam-failures")
    assert af.verdict(af.analyse(reddi, cycle, control_reddi, control_cycle))["verdict"] \
        == "PASS"
    ams = _by(reddi, "theorem", "AMSGrad")
    v = af.verdict(af.analyse(reddi, cycle, [ams], control_cycle))
    assert v["verdict"] == "FAIL" and _failed(v) == [
        "control_amsgrad_constant_x_final", "control_amsgrad_constant_regret_over_tenth"]
    v1 = next(r for r in v["earlier_rules"] if r["version"] == 1)
    assert v1["verdict"] == "PASS"                       # version 1 had no control
    for i, (run, inside, key) in enumerate((
            ("sgd_2_over_L", cycle[2], "control_sgd_2_over_L_final"),
            ("adam_eps1", cycle[0], "control_adam_eps1_error"))):
        ctrl = copy.deepcopy(control_cycle)
        ctrl[i] = copy.deepcopy(inside)
        ctrl[i].meta["run"] = run
        v = af.verdict(af.analyse(reddi, cycle, control_reddi, ctrl))
        assert v["verdict"] == "FAIL" and _failed(v) == [key]


def test_adam_failures_runs_are_reproducible_bit_for_bit(quick_runs):
    """The claim is deterministic: rerunning the cycle runs and the controls gives the saved
    traces bit for bit (the wall-clock column aside)."""
    _, cycle, control_reddi, control_cycle = af.load(quick_runs[0] / "adam-failures")
    steps = af.QUICK["cycle_steps"]
    again = (af.cycle_runs(steps=steps) + af.control_reddi_runs()
             + af.control_cycle_runs(steps=steps))
    for saved, new in zip(cycle + control_reddi + control_cycle, again, strict=True):
        assert saved.label == new.label
        for col in saved.columns:
            if col != "time":
                np.testing.assert_array_equal(saved[col], new[col], err_msg=col)


def test_regret_curve_ends_at_the_problem_regret():
    p = P.ReddiOnline(C=3.0)
    xs = np.random.default_rng(0).uniform(-1, 1, 60)
    R = af.regret_curve(p, xs)
    assert R[-1] == pytest.approx(p.regret(xs))
    assert R[29] == pytest.approx(p.regret(xs[:30]))


def test_reddi_run_plays_x_t_then_steps_and_projects():
    """The online loop against a hand-written Adam (bias-corrected, eps inside the update)."""
    p = P.ReddiOnline(C=3.0)
    T, alpha, b1, b2, eps = 40, 0.3, 0.5, 0.1, 1e-8
    tr = af.reddi_run(p, optimizers.Adam, T=T, alpha=alpha, betas=(b1, b2), label="x")
    x, m, v, xs = 1.0, 0.0, 0.0, []
    for t in range(1, T + 1):
        xs.append(x)
        g = p.coefficient(t)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x -= alpha / math.sqrt(t) * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
        x = min(1.0, max(-1.0, x))
    np.testing.assert_allclose(tr["x"], xs, rtol=1e-12, atol=1e-14)


def test_eps_zero_stand_in_is_bit_identical_to_eps_zero():
    """Adam with EPS_ZERO against a hand-written beta1 = 0, eps = 0 loop doing the same float
    operations in the same order as optimizers.Adam, from a far start: equal bit for bit, and
    the iterates end on the cycle +-eta/2."""
    eta, b2 = 0.1, 0.9
    w = mg.Tensor(np.array([1.0]), requires_grad=True)
    opt = optimizers.Adam([w], lr=eta, betas=(0.0, b2), eps=af.EPS_ZERO)
    ref, v = 1.0, 0.0
    for k in range(1, 301):
        g = 2.0 * ref
        w.grad = mg.backend.asarray(np.array([g]))
        opt.step()
        m = g * 1.0                                       # beta1 = 0: m = (1 - 0) g
        v = v * b2 + (g * g) * (1.0 - b2)
        d = math.sqrt(v) * (1.0 / math.sqrt(1.0 - b2 ** k)) + 0.0        # eps = 0
        ref = ref - (m / d) * (eta / (1.0 - 0.0 ** k))
        assert w.data[0] == ref
    assert abs(abs(ref) / (eta / 2) - 1) < 1e-3


# ----------------------------------------------------------------------------- adamw-decay
def test_adamw_decay_fails_when_the_runs_are_swapped(quick_runs):
    runs, meta = aw.load_runs(quick_runs[0] / "adamw-decay")
    swapped = dict(runs, adam_l2=runs["adamw"], adamw=runs["adam_l2"])
    a = aw.analyse(swapped, meta)
    ok = aw.checks(a)
    assert a["adam_l2"]["ratio"] == pytest.approx(1.0, rel=1e-6)   # a uniform decay
    assert not any(ok[c.key] for c in aw.RULES[-1].conditions if c.role == "claim")
    coupled = aw.RULES[1].conditions[-1]                    # rule 2's broken-decoupling control
    assert not coupled.holds(aw.measurements(a)[coupled.key])   # the "coupled" run is uniform
    assert aw.verdict(a)["verdict"] == "FAIL"


def test_adamw_decay_fails_when_the_coupled_decay_is_not_rescaled(quick_runs):
    """Saved shrinks replaced by a uniform alpha*lambda*x (what a coupled decay without the
    denominator would give): the ratio and the mechanism checks fail."""
    runs, meta = aw.load_runs(quick_runs[0] / "adamw-decay")
    l2 = dict(runs["adam_l2"])
    l2["delta"] = meta["lr"] * meta["lam"] * (1 - meta["betas"][0]) * l2["x"]
    ok = aw.checks(aw.analyse(dict(runs, adam_l2=l2), meta))
    assert not ok["adam_l2_ratio"]
    assert not ok["adam_l2_model_error"]


def test_adamw_decay_controls_violate_the_claim(quick_runs):
    """The controls hold their conditions: on equal column scales the coupled decay is nearly
    uniform (ratio below 10, the claim's check 1 fails on it), and (rule 2's control, dropped
    by rule 3 and still evaluated) the coupled decay is far from AdamW's alpha*lambda (check 3
    fails on it); the control still follows the coupled formula."""
    v = quick_runs[1]["adamw-decay"]
    rule2 = {c["key"]: c for c in v["earlier_rules"][1]["checks"]}
    checks = {c["key"]: c for c in v["checks"]}
    checks["control_coupled_uniform_error"] = rule2["control_coupled_uniform_error"]
    assert [c.key for c in aw.RULES[-1].controls] == ["control_equal_scales_ratio"]
    controls = [c.key for c in aw.RULES[1].controls]
    assert controls == ["control_equal_scales_ratio", "control_coupled_uniform_error"]
    for key in controls:
        assert checks[key]["role"] == "control" and checks[key]["passed"], checks[key]
    assert checks["control_equal_scales_ratio"]["value"] < 3
    assert checks["control_coupled_uniform_error"]["value"] > 0.9
    claim = {c.key: c for c in aw.RULES[-1].conditions}
    assert not claim["adam_l2_ratio"].holds(checks["control_equal_scales_ratio"]["value"])
    assert not claim["adamw_uniform_error"].holds(
        checks["control_coupled_uniform_error"]["value"])
    a = aw.analyse(*aw.load_runs(quick_runs[0] / "adamw-decay"))
    assert max(abs(q - 1) for q in a[aw.CONTROL]["model_ratio"]) <= aw.MECH_TOL


def test_adamw_decay_fails_when_a_control_is_inside_the_hypotheses(quick_runs):
    """The control replaced by the claim's Adam + L2 run (spread column scales): FAIL on that
    control alone; a decoupled decay under the coupled control's measurement fails it too."""
    runs, meta = aw.load_runs(quick_runs[0] / "adamw-decay")
    v = aw.verdict(aw.analyse(dict(runs, **{aw.CONTROL: runs["adam_l2"]}), meta))
    assert v["verdict"] == "FAIL"
    assert [c["key"] for c in v["checks"] if not c["passed"]] == ["control_equal_scales_ratio"]
    assert v["earlier_rules"][0]["verdict"] == "PASS"      # version 1 had no control
    a = aw.analyse(runs, meta)
    control = next(c for c in aw.RULES[1].controls if c.key == "control_coupled_uniform_error")
    assert not control.holds(aw.uniform_error(a["adamw"]["rate"], a["lr"] * a["lam"]))


def test_adamw_decay_rule_2s_broken_decoupling_control_follows_from_the_claim():
    """Why rule 3 drops it: on the Adam + L2 run, a decay ratio >= 10 (claim condition 1) puts
    the groups' rates at least a factor 10 apart, so they cannot all lie within 1% of
    alpha*lambda: the control holds whenever the claim does, and could not fail."""
    ratio = next(c for c in aw.RULES[-1].conditions if c.key == "adam_l2_ratio")
    coupled = next(c for c in aw.RULES[1].controls if c.key == "control_coupled_uniform_error")
    ref = 1.0
    for lo in np.linspace(0.5, 1.5, 11):           # any two rates r_small >= 10 r_big
        rates = np.array([10.0 * lo, lo])
        assert ratio.holds(rates[0] / rates[1])
        assert coupled.holds(aw.uniform_error(rates, ref))


def test_adamw_decay_runs_are_reproducible_bit_for_bit():
    """The same seed gives the same run bit for bit (the claim is checked on one run)."""
    problem, _, _ = aw.make_problem(0)
    first, second = (aw.train(problem, "adam_l2", steps=200, seed=1) for _ in range(2))
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)


def test_counterfactual_probe_of_adamw_is_alpha_lambda_x():
    problem, groups, _ = aw.make_problem(3)
    r = aw.train(problem, "adamw", steps=40, seed=1)
    np.testing.assert_allclose(r["delta"], aw.LR * aw.LAM * r["x"], rtol=1e-8, atol=1e-20)
    assert problem.A.shape == (aw.M, groups.size)


def test_ridge_solution_is_the_fixed_point_of_adam_l2():
    problem, _, _ = aw.make_problem(0)
    x = aw.ridge_solution(problem, aw.LAM)
    x = mg.to_numpy(x)
    g = mg.to_numpy(problem.grad(x)) + aw.LAM * x
    assert np.linalg.norm(g) < 1e-8 * max(
        1.0, np.linalg.norm(mg.to_numpy(problem.grad(np.zeros_like(x)))))
