"""The trajectories experiment: PASS in --quick mode with its files written, figures redrawn
from the saved runs alone, the batched runs equal to the runner's, divergence detected, and the
verdict turning to FAIL when the saved curves are altered to break each claim."""
import json

import numpy as np
import pytest
from exp_testkit import session_backend

import optimizers
from experiments import trajectories as T
from experiments.__main__ import run_one
from experiments.runner import run as run_trace


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out / "trajectories", run_one("trajectories", str(out), True, 0, session_backend())


def test_quick_run_passes_and_writes_its_files(quick_run):
    folder, v = quick_run
    assert v["verdict"] == "PASS", v["measured"]
    assert all(v["claims"].values())
    assert (folder / v["figure"]).stat().st_size > 10_000
    assert json.loads((folder / "verdict.json").read_text())["verdict"] == "PASS"
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
    assert T.verdict(a)["verdict"] == "PASS"                     # the verdict too


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
    """Copy the saved runs of ``src`` to ``dst`` with ``change(name, data)`` applied."""
    dst.mkdir()
    for path in src.glob("runs_*.npz"):
        with np.load(path) as z:
            d = {k: z[k] for k in z.files}
        change(path.stem[len("runs_"):], d, [str(k) for k in d["keys"]])
        np.savez(dst / path.name, **d)
    return T.verdict(T.analyse(dst))


def test_fails_when_gd_beats_momentum_in_a_valley(quick_run, tmp_path):
    folder, _ = quick_run

    def swap(name, d, keys):            # GD's runs and the heavy ball's exchanged
        if name == "ravine":
            g, m = keys.index("GD"), keys.index("Momentum")
            d["f"][:, [g, m]] = d["f"][:, [m, g]]
    v = altered(folder, tmp_path / "x", swap)
    assert v["verdict"] == "FAIL" and not v["claims"]["momentum_in_valleys"]


def test_fails_when_adagrad_diverges_once(quick_run, tmp_path):
    folder, _ = quick_run

    def blow_up(name, d, keys):
        if name == "beale":
            d["f"][-1, keys.index("Adagrad"), -1] = np.nan
    v = altered(folder, tmp_path / "x", blow_up)
    assert v["verdict"] == "FAIL" and not v["claims"]["adagrad_robust_to_lr"]


def test_fails_when_one_method_wins_everywhere(quick_run, tmp_path):
    folder, _ = quick_run

    def adam_perfect(name, d, keys):     # Adam at f* from the first step on, at every lr
        d["f"][1:, keys.index("Adam")] = float(d["f_star"])
    v = altered(folder, tmp_path / "x", adam_perfect)
    assert set(v["winners"].values()) == {"Adam"}
    assert v["verdict"] == "FAIL" and not v["claims"]["no_single_best"]


def test_fails_when_a_method_ends_above_its_start(quick_run, tmp_path):
    folder, _ = quick_run

    def climb(name, d, keys):            # Adadelta's last value above its start, at every lr
        if name == "rectangles":
            a = keys.index("Adadelta")
            d["f"][-1, a] = d["f"][0, a] + 1.0
    v = altered(folder, tmp_path / "x", climb)
    assert v["verdict"] == "FAIL" and not v["claims"]["every_method_descends"]
