"""The trajectories experiment: its --quick run judged by its rule with its files written (the
named starts, the random starts, the control bowls), figures redrawn from the saved runs alone,
the batched runs equal to the runner's, divergence detected, the verdict turning to FAIL when the
saved curves are altered to break each claim, and each control violating the claim's bound, its
condition failing when its runs are replaced by runs inside the claim's hypotheses."""
import json
import shutil

import exp_testkit as kit
import numpy as np
import pytest
from exp_testkit import session_backend

import optimizers
from experiments import trajectories as T
from experiments import trajectory_family as TF
from experiments.__main__ import run_one
from experiments.runner import run as run_trace
from minigrad import to_numpy

#: the quick run's verdict: FAIL (150 steps and 6 valley instances: NAG's t bound, Adagrad's
#: share and one method that does not descend; see the module docstring)
QUICK_VERDICT = "FAIL"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out / "trajectories", run_one("trajectories", str(out), True, 0, session_backend())


def _check(v, key) -> dict:
    return next(c for c in v["checks"] if c["key"] == key)


def test_quick_run_writes_its_files_and_is_judged_by_its_rule(quick_run):
    folder, v = quick_run
    kit.assert_wrote_its_files(folder.parent, "trajectories", v, expected=QUICK_VERDICT)
    runs = T.load_runs(folder)
    assert list(runs) == list(T.QUICK["problems"])
    steps, n_lr = T.QUICK["steps"], len(T.QUICK["lr_exponents"])
    for name, d in runs.items():
        assert d["f"].shape == (steps + 1, len(T.VARIANTS), n_lr)
        assert d["x"].shape == (steps + 1, len(T.VARIANTS), n_lr, 2)
        assert np.allclose(d["x"][0], d["x0"])                 # same start for every run
        assert np.allclose(d["f"][0], d["f"][0, 0, 0])
        for key, lr in v["chosen_lr"][name].items():             # chosen from the grid
            assert np.isclose(d["lrs"], lr).any(), (name, key, lr)
            assert np.isfinite(d["f"][-1, d["keys"].index(key), np.isclose(d["lrs"], lr)]).all()


def test_the_family_is_fixed_in_advance_and_saved(quick_run):
    """Every problem from its named start and QUICK["starts"] random starts near it (the same
    for any run with this seed), and QUICK["bowls"] bowls, each run with the same grid."""
    folder, v = quick_run
    fam = T.load_family(folder)
    runs = T.load_runs(folder)
    steps, n_lr = T.QUICK["steps"], len(T.QUICK["lr_exponents"])
    assert len(fam["landscape"]) == T.QUICK["starts"] * len(T.QUICK["problems"])
    assert len(fam["bowls"]) == T.QUICK["bowls"]
    assert v["instances"] == len(runs) + len(fam["landscape"]) and v["bowls"] == len(fam["bowls"])
    for d in fam["landscape"] + fam["bowls"]:
        assert d["f"].shape[0] == steps + 1 and d["f"].shape[2] == n_lr
        assert np.allclose(d["x"][0], d["x0"], atol=1e-6)      # every run from its start
        np.testing.assert_array_equal(d["lrs"], runs["ravine"]["lrs"])
    for name, named in runs.items():                # the starts: the documented draw, near x0
        mine = [d for d in fam["landscape"] if d["meta"]["problem"] == name]
        assert [d["meta"]["instance"] for d in mine] == list(range(1, T.QUICK["starts"] + 1))
        drawn = TF.random_starts(named["x0"], named["bounds"], T.QUICK["starts"],
                                 TF.STARTS_SEED + T.PROBLEMS.index(name))   # seed 0
        np.testing.assert_array_equal([d["x0"] for d in mine], drawn)
        (xl, xh), (yl, yh) = named["bounds"]
        for d in mine:
            assert d["keys"] == list(T.FAMILY_VARIANTS)
            gap = np.linalg.norm(d["x0"] - named["x0"])
            assert 0 < gap <= TF.START_RADIUS * min(xh - xl, yh - yl)
    for d in fam["bowls"]:
        c = d["meta"]["curvature"]
        assert np.linalg.norm(d["x0"]) == pytest.approx(TF.BOWL_DISTANCE)
        assert np.isclose(d["lrs"], 1.0 / c).any()             # the step 1/c is on the grid
        assert d["f"][0, 0, 0] == pytest.approx(0.5 * c * TF.BOWL_DISTANCE ** 2)


def test_the_bowl_is_the_isotropic_quadratic():
    b = TF.Bowl(4.0, x0=[1.0, -2.0])
    assert b.value(b.x0) == pytest.approx(0.5 * 4.0 * 5.0)
    np.testing.assert_allclose(to_numpy(b.grad(b.x0)), [4.0, -8.0])   # c p
    assert b.f_star == 0.0 and np.allclose(to_numpy(b.x_star), 0.0)
    with pytest.raises(ValueError, match="curvature"):
        TF.Bowl(0.0)


def test_gd_with_the_step_one_over_c_solves_a_bowl_in_one_step():
    """The bowl control's premise: with alpha = 1/c GD lands on x* in one step, so no method
    ends below it (a hand computation: x_1 = x_0 - (1/c) c x_0 = 0)."""
    c, x0 = TF.bowl_instances(1, [1e-3, 1e-2, 1e-1], seed=0)[0]
    b = TF.Bowl(c, x0=list(x0))
    gd = [v for v in T.VARIANTS if v.key == "GD"]
    res = T.batched_runs(b, gd, [1.0 / c], 3)
    assert res["f"][1, 0, 0] <= 1e-28 * res["f"][0, 0, 0]


def test_the_no_accumulator_control_is_gd():
    """Adagrad with eps = 1e30 and its rate scaled by 1e15 takes GD's steps (to rounding)."""
    problem = T.make_problem("rosenbrock")
    pair = [v for v in T.VARIANTS if v.key in ("GD", T.NO_ACCUMULATOR)]
    res = T.batched_runs(problem, pair, [1e-3, 3e-3], 30)
    np.testing.assert_allclose(res["f"][:, 1], res["f"][:, 0], rtol=1e-9)


def test_draw_uses_the_saved_runs_only(quick_run, monkeypatch):
    folder, v = quick_run
    (folder / v["figure"]).unlink()
    for name in ("batched_runs", "run_problem", "make_problem", "batched_value_and_grad"):
        monkeypatch.setattr(T, name, None)                       # no run can happen while drawing
    assert T.draw(folder).exists()
    assert not list(folder.glob("trajectories_*.png"))           # quick data: overview only
    runs, a = T.load_runs(folder), T.analyse(folder)
    assert T.draw_problem(folder, "ravine", runs["ravine"],
                          a["problems"]["ravine"]["methods"]).stat().st_size > 10_000
    gif = T.animate(folder, "ravine", frames=4, dpi=30)
    assert gif.stat().st_size > 1_000
    assert T.verdict(a)["verdict"] == v["verdict"]               # the verdict too


def test_batched_runs_equal_the_runner_run_by_run():
    problem = T.make_problem("ravine")
    variants = [v for v in T.VARIANTS if v.key in ("GD", "Momentum", "NAG", "Adagrad", "Adam")]
    lrs = [3e-3, 3e-2]                                           # no run diverges
    res = T.batched_runs(problem, variants, lrs, 25)
    assert (res["diverged_at"] == -1).all()
    for i, v in enumerate(variants):
        for j, lr in enumerate(lrs):
            ref = run_trace(problem, lambda ps, v=v, lr=lr: getattr(optimizers, v.cls)(
                ps, lr=lr, **v.kwargs), steps=25, closure=v.cls == "NAG")
            np.testing.assert_allclose(res["f"][:, i, j], ref["f"], rtol=1e-12, atol=1e-15)


def test_divergence_is_detected_and_never_chosen():
    problem = T.make_problem("rosenbrock")
    gd = [v for v in T.VARIANTS if v.key == "GD"]
    res = T.batched_runs(problem, gd, [1e-3, 1.0], 40)
    assert res["diverged_at"][0, 0] == -1 and res["diverged_at"][0, 1] > 0
    assert np.isnan(res["f"][-1, 0, 1]) and np.isfinite(res["f"][-1, 0, 0])
    d = {"f": res["f"], "f_star": problem.f_star, "keys": ["GD"], "lrs": np.array([1e-3, 1.0])}
    m = T.analyse_problem(d)["methods"]["GD"]
    assert m["lr"] == 1e-3 and m["diverged_lrs"] == 1


# ----------------------------------------------------------------------------- FAIL cases
def altered(src, dst, change):
    """Copy the saved runs of ``src`` (named starts, random starts, bowls) to ``dst`` with
    ``change(name, data, keys)`` applied to each (``name``: the file's stem)."""
    dst.mkdir()
    for path in src.glob("*.npz"):
        with np.load(path) as z:
            d = {k: z[k] for k in z.files}
        change(path.stem, d, [str(k) for k in d["keys"]])
        np.savez(dst / path.name, **d)
    return T.verdict(T.analyse(dst))


def _problem(stem: str) -> str:
    """The problem of a saved file: runs_<name>, start<j>_<name> or bowl<j>."""
    return stem.split("_", 1)[1] if stem.startswith(("runs_", "start")) else "bowl"


def test_fails_when_gd_beats_momentum_in_a_valley(quick_run, tmp_path):
    folder, v0 = quick_run
    assert _check(v0, "valley_hb_share")["passed"]

    def swap(stem, d, keys):            # GD's runs and the heavy ball's exchanged
        if _problem(stem) == "ravine":  # on every ravine instance
            g, m = keys.index("GD"), keys.index("Momentum")
            d["f"][:, [g, m]] = d["f"][:, [m, g]]
    v = altered(folder, tmp_path / "x", swap)
    assert v["verdict"] == "FAIL" and not _check(v, "valley_hb_share")["passed"]
    assert v["earlier_rules"][0]["verdict"] == "FAIL"


def test_fails_when_adagrad_diverges_once(quick_run, tmp_path):
    folder, v0 = quick_run
    assert _check(v0, "adagrad_diverged")["passed"]

    def blow_up(stem, d, keys):
        if stem == "runs_beale":
            d["f"][-1, keys.index("Adagrad"), -1] = np.nan
    v = altered(folder, tmp_path / "x", blow_up)
    assert v["verdict"] == "FAIL" and not _check(v, "adagrad_diverged")["passed"]
    assert v["earlier_rules"][0]["verdict"] == "FAIL"


def test_fails_when_one_method_wins_everywhere(quick_run, tmp_path):
    folder, v0 = quick_run
    assert _check(v0, "top_winner_share")["passed"]

    def adam_perfect(stem, d, keys):     # Adam at f* from the first step on, at every lr
        if _problem(stem) != "bowl":
            d["f"][1:, keys.index("Adam")] = float(d["f_star"])
    v = altered(folder, tmp_path / "x", adam_perfect)
    assert set(v["winners"].values()) == {"Adam"}
    assert v["family"]["win_share"]["Adam"] == 1.0
    assert v["verdict"] == "FAIL" and not _check(v, "top_winner_share")["passed"]
    assert v["earlier_rules"][0]["verdict"] == "FAIL"


def test_fails_when_a_method_ends_above_its_start(quick_run, tmp_path):
    folder, v0 = quick_run
    assert v0["earlier_rules"][0]["verdict"] == "PASS"           # every method descends there

    def climb(stem, d, keys):            # Adadelta's last value above its start, at every lr
        if _problem(stem) == "rectangles":
            a = keys.index("Adadelta")
            d["f"][-1, a] = d["f"][0, a] + 1.0
    v = altered(folder, tmp_path / "x", climb)
    c = _check(v, "not_descending")
    assert v["verdict"] == "FAIL" and not c["passed"]
    before = [tuple(p) for p in v0["family"]["not_descending"]]
    new = {(f"rectangles#{j}", "Adadelta") for j in range(T.QUICK["starts"] + 1)} - set(before)
    assert sorted(tuple(p) for p in v["family"]["not_descending"]) == sorted(before + list(new))
    assert v["earlier_rules"][0]["verdict"] == "FAIL"


# ----------------------------------------------------------------------------- controls
def _as_bowls(src, dst, pick):
    """``dst``: the runs of ``src`` with the bowls replaced by the landscape instances that
    ``pick(stem)`` selects (inside the claims' hypotheses)."""
    dst.mkdir()
    files = [p for p in src.glob("*.npz") if not p.stem.startswith("bowl")]
    for p in files:
        shutil.copy(p, dst / p.name)
    for j, p in enumerate(sorted(p for p in files if pick(p.stem))):
        with np.load(p) as z:
            d = {k: z[k] for k in z.files}
        meta = dict(json.loads(str(d["meta"])), problem="bowl", instance=j)
        d["meta"] = np.asarray(json.dumps(meta))
        np.savez(dst / f"bowl{j}.npz", **d)
    return T.verdict(T.analyse(dst))


def test_control_bowls_momentum_does_not_win(quick_run, tmp_path):
    """On the bowls neither HB nor NAG ends a decade below GD; with the bowls replaced by the
    valley instances their control conditions fail (they take the valleys' shares)."""
    folder, v0 = quick_run
    for key in ("control_bowl_hb_share", "control_bowl_nag_share"):
        c = _check(v0, key)
        assert c["role"] == "control" and c["passed"] and c["value"] == 0.0
    v = _as_bowls(folder, tmp_path / "x", lambda stem: _problem(stem) in T.VALLEYS)
    for key, share in (("control_bowl_hb_share", "valley_hb_share"),
                       ("control_bowl_nag_share", "valley_nag_share")):
        assert _check(v, key)["value"] == _check(v, share)["value"] >= T.VALLEY_SHARE
        assert not _check(v, key)["passed"]
    assert v["verdict"] == "FAIL"


def test_control_bowls_have_one_best_method(quick_run, tmp_path):
    """GD (with NAG, tied: the same first step) wins every bowl; with the bowls replaced by the
    landscape instances the control fails (no method wins 3/4 of them)."""
    folder, v0 = quick_run
    c = _check(v0, "control_bowl_top_share")
    assert c["role"] == "control" and c["passed"] and c["value"] == 1.0
    assert all("GD" in w for w in v0["bowl"]["winners"])
    v = _as_bowls(folder, tmp_path / "x", lambda stem: _problem(stem) != "bowl")
    assert _check(v, "control_bowl_top_share")["value"] == _check(v, "top_winner_share")["value"]
    assert not _check(v, "control_bowl_top_share")["passed"] and v["verdict"] == "FAIL"


def test_control_adagrad_without_accumulator_is_no_more_robust(quick_run, tmp_path):
    """Adagrad with its accumulator swamped (GD) has more working lrs than GD on no instance;
    with its runs replaced by an adaptive method's whose step does not scale with the gradient
    (Adam's) the control fails."""
    folder, v0 = quick_run
    c = _check(v0, "control_no_accumulator_share")
    assert c["role"] == "control" and c["passed"] and c["value"] == 0.0

    def adaptive(stem, d, keys):
        if T.NO_ACCUMULATOR in keys:
            d["f"][:, keys.index(T.NO_ACCUMULATOR)] = d["f"][:, keys.index("Adam")]
    v = altered(folder, tmp_path / "x", adaptive)
    c = _check(v, "control_no_accumulator_share")
    assert c["value"] >= T.ROBUST_SHARE and not c["passed"] and v["verdict"] == "FAIL"
