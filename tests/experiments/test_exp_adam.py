"""The Adam experiments (adam-failures, adamw-decay): PASS in --quick mode with their files
written, figures redrawn from the saved data alone, the verdicts recomputed from the saved data,
and FAIL when the saved measurements are made to break the claims or a setting is wrong."""
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
    kit.assert_wrote_its_files(out, name, v)
    assert all(v["checks"].values())
    folder = out / name
    if name == "adam-failures":
        reddi, cycle = af.load(folder)
        assert {(t.meta["setting"], t.meta["method"]) for t in reddi} == {
            (s, m) for s in ("theorem", "synthetic") for m in ("Adam", "AMSGrad")}
        assert [t.meta["method"] for t in cycle] == ["Adam", "Adam", "SGD", "HB"]
    else:
        runs_, _ = aw.load_runs(folder)
        assert set(runs_) == set(aw.METHODS)
        assert runs_["adam_l2"]["delta"].shape == runs_["adam_l2"]["x"].shape
        assert runs_["adam"]["delta"].size == 0          # no decay, no probes


def test_draw_and_verdict_use_the_saved_data_only(quick_runs, monkeypatch):
    out, runs = quick_runs
    for name in ("reddi_run", "reddi_runs", "cycle_runs", "run_trace"):
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
    reddi, cycle = af.load(quick_runs[0] / "adam-failures")
    adam, ams = _by(reddi, "theorem", "Adam"), _by(reddi, "theorem", "AMSGrad")
    for col in ("x", "regret"):
        adam.columns[col], ams.columns[col] = ams.columns[col], adam.columns[col]
    ok = af.checks(af.analyse(reddi, cycle))
    assert not ok["theorem: Adam ends at +1"] and not ok["theorem: AMSGrad ends at -1"]
    assert not ok["theorem: Adam's R_T/T does not vanish"]
    assert af.verdict(af.analyse(reddi, cycle))["verdict"] == "FAIL"


def test_adam_failures_fails_when_synthetic_amsgrad_stalls(quick_runs):
    reddi, cycle = af.load(quick_runs[0] / "adam-failures")
    ams = _by(reddi, "synthetic", "AMSGrad")
    x = np.asarray(ams["x"]).copy()
    x[len(x) // 2:] = x[len(x) // 2 - 1]                  # frozen after T/2: no drift
    ams.columns["x"] = x
    ok = af.checks(af.analyse(reddi, cycle))
    assert not ok["synthetic: AMSGrad moves towards -1 at its predicted speed"]


def test_limit_cycle_fails_with_a_large_eps_or_a_shrunk_cycle(quick_runs):
    """A deliberately wrong setting: eps = 1 instead of 0 makes Adam's step about eta*g, and Adam
    converges on w^2; and saved |w| shrunk by 10% is no longer at eta/2."""
    reddi, cycle = af.load(quick_runs[0] / "adam-failures")
    wrong = af.cycle_runs(steps=af.QUICK["cycle_steps"], eps=1.0)
    a = af.analyse(reddi, wrong)
    assert all(c["tail_mean"] < 1e-3 for c in a["cycle"][:2])
    assert af.verdict(a)["verdict"] == "FAIL"
    shrunk = copy.deepcopy(cycle)
    shrunk[0].columns["dist2"] = np.asarray(shrunk[0]["dist2"]) * 0.81
    assert af.verdict(af.analyse(reddi, shrunk))["verdict"] == "FAIL"
    # SGD that has not converged
    slow = copy.deepcopy(cycle)
    slow[2].columns["dist2"] = np.asarray(slow[2]["dist2"]) + 1e-10
    assert not af.checks(af.analyse(reddi, slow))[f"cycle: {slow[2].label}"]


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
    assert not any(ok.values())
    assert aw.verdict(a)["verdict"] == "FAIL"


def test_adamw_decay_fails_when_the_coupled_decay_is_not_rescaled(quick_runs):
    """Saved shrinks replaced by a uniform alpha*lambda*x (what a coupled decay without the
    denominator would give): the ratio and the mechanism checks fail."""
    runs, meta = aw.load_runs(quick_runs[0] / "adamw-decay")
    l2 = dict(runs["adam_l2"])
    l2["delta"] = meta["lr"] * meta["lam"] * (1 - meta["betas"][0]) * l2["x"]
    ok = aw.checks(aw.analyse(dict(runs, adam_l2=l2), meta))
    assert not ok["Adam+L2: decay ratio (smallest/largest gradient) >= 10"]
    assert not ok["Adam+L2: decay = alpha(1-beta1)lambda/((1-beta1^k)(sqrt(v_hat)+eps)) "
                  "within 5%"]


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
