"""Sweeps: the tuning protocol (candidates, selection), one cell against a hand-written loop,
the cache (a rerun computes only new cells), the tidy tables, the performance profiles and
ranks against hand-computed values, bad input, and a Dask cluster giving the local table."""
import dataclasses
import math
import os
import signal
import subprocess
import sys
import time

import pytest

import exp_testkit as kit

from experiments import sweep, sweep_grid
from experiments.sweep_cell import run_cell
from experiments.sweep_report import mean_ranks, performance_profile, ranks
from experiments.sweep_store import RUN_COLUMNS, read_table, write_table

pytestmark = pytest.mark.host_only  # cells run on NumPy whatever the suite's backend

TINY = sweep_grid.Grid(optimizers=("sgd", "adam"), problems=("rosenbrock",),
                       schedules=("constant",), budgets=(1, 3), seeds=2, steps=12, checkpoints=4)


def test_random_search_candidates_are_nested_reproducible_and_in_range():
    g = dataclasses.replace(TINY, budgets=(1, 4, 8))
    small = sweep_grid.candidates(g, "adam", "logistic", "cosine", 4)
    large = sweep_grid.candidates(g, "adam", "logistic", "cosine", 8)
    assert large[:4] == small and len(large) == 8
    assert small == sweep_grid.candidates(g, "adam", "logistic", "cosine", 4)
    assert all(1e-4 <= lr <= 1.0 for _, lr in large)
    assert [s for s, _ in small] == ["random 0", "random 1", "random 2", "random 3"]
    # another configuration, or another search seed, draws other rates
    assert sweep_grid.candidates(g, "sgd", "logistic", "cosine", 4) != small
    assert sweep_grid.candidates(dataclasses.replace(g, search_seed=1), "adam", "logistic",
                                 "cosine", 4) != small
    # one-shot: the optimizer's own default (Adam's lr=1e-3, Adagrad's 1e-2)
    assert sweep_grid.candidates(g, "adam", "logistic", "cosine", 1) == [("default", 1e-3)]
    assert sweep_grid.candidates(g, "adagrad", "logistic", "cosine", 1) == [("default", 1e-2)]
    grid = sweep_grid.Grid(search="grid", lrs=(0.1, 0.01), budgets=())
    assert sweep_grid.candidates(grid, "sgd", "logistic", "constant", 2) == [
        ("grid 0", 0.1), ("grid 1", 0.01)]


def test_the_selection_rule_takes_the_lowest_validation_loss():
    rows = {0.1: {"final_valid": 0.5}, 0.01: {"final_valid": 0.2},
            1.0: {"final_valid": math.nan}, 0.3: {"final_valid": 0.2}}
    cands = [("a", 1.0), ("b", 0.1), ("c", 0.01), ("d", 0.3)]
    assert sweep.select(rows, cands) == ("c", 0.01)           # ties: the earlier candidate
    assert sweep.select(rows, [("a", 1.0), ("b", 0.1)]) == ("b", 0.1)   # NaN counts as +inf


def test_a_cell_is_gd_on_rosenbrock_written_out_by_hand():
    lr, steps = 1e-3, 6
    x, y = -1.2, 1.0
    f = []
    for _ in range(steps + 1):
        f.append((1 - x) ** 2 + 100 * (y - x * x) ** 2)
        gx, gy = -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)
        x, y = x - lr * gx, y - lr * gy
    row = run_cell({"optimizer": "sgd", "problem": "rosenbrock", "schedule": "constant",
                    "lr": lr, "seed": 0, "steps": steps, "batch_size": 32,
                    "checkpoints": steps})
    assert row["final_train"] == pytest.approx(f[-1], rel=1e-12)
    assert row["best_train"] == pytest.approx(min(f), rel=1e-12)
    assert row["final_valid"] == row["final_test"] == row["final_train"]  # deterministic
    assert row["n_grad"] == steps and row["steps_done"] == steps and not row["diverged"]
    # a cosine schedule changes the steps: the last step uses a rate near 0
    cos = run_cell(dict(row, schedule="cosine"))
    assert cos["final_train"] != row["final_train"]


def test_a_finite_sum_cell_trains_on_the_training_split_and_counts_its_samples():
    p, (train, valid, test) = sweep_grid.make_problem("logistic", 0)
    assert (len(train), len(valid), len(test)) == (300, 100, 100)
    assert len(set(train) | set(valid) | set(test)) == p.n
    row = run_cell({"optimizer": "sgd", "problem": "logistic", "schedule": "constant",
                    "lr": 0.5, "seed": 3, "steps": 20, "batch_size": 16, "checkpoints": 2})
    assert row["n_grad"] == 20 * 16
    assert row["final_train"] < row["best_train"] + 1e-15      # decreasing here
    assert row["final_train"] < math.log(2)                   # below the start's loss
    diverged = run_cell(dict(row, lr=1e6, optimizer="sgd", problem="rosenbrock"))
    assert diverged["diverged"] and diverged["steps_done"] < 20


def test_a_rerun_computes_only_the_new_cells_and_the_table_reads_back_bit_for_bit(tmp_path):
    first = sweep.run_sweep(TINY, tmp_path)
    # 2 optimizers x (one default + 3 random rates) tuning runs + one more seed per budget
    selected = read_table(tmp_path / "selected.csv")
    finals = {(r["optimizer"], r["selected_lr"]) for r in selected}
    assert first["cells_computed"] == 2 * 4 + len(finals) == first["cells"]
    again = sweep.run_sweep(TINY, tmp_path)
    assert again["cells_computed"] == 0 and again["cells_cached"] == first["cells"]
    more = sweep.run_sweep(dataclasses.replace(TINY, seeds=3), tmp_path)
    assert more["cells_computed"] == len(finals)               # seed 2 of each selected rate
    rows = read_table(tmp_path / "runs.csv")
    assert len(rows) == more["cells"] and set(rows[0]) == set(RUN_COLUMNS)
    write_table(tmp_path / "copy.csv", rows, RUN_COLUMNS)
    assert (tmp_path / "copy.csv").read_text() == (tmp_path / "runs.csv").read_text()
    by_budget = {r["budget_label"] for r in read_table(tmp_path / "selected.csv")}
    assert by_budget == {"one-shot", "random-3"}


def test_performance_profiles_and_ranks_by_hand():
    costs = {"p1": {"a": 1.0, "b": 2.0, "c": 4.0},
             "p2": {"a": 3.0, "b": 1.5, "c": math.inf},
             "p3": {"a": 0.0, "b": 0.0, "c": 1.0},
             "p4": {"a": 2.0, "b": 2.0, "c": 2.0}}
    # ratios: a (1, 2, 1, 1), b (2, 1, 1, 1), c (4, inf, inf, 1)
    prof = performance_profile(costs, [1.0, 1.9, 2.0, 4.0, 100.0])
    assert prof == {"a": [0.75, 0.75, 1.0, 1.0, 1.0], "b": [0.75, 0.75, 1.0, 1.0, 1.0],
                    "c": [0.25, 0.25, 0.25, 0.5, 0.5]}
    assert ranks(costs["p1"]) == {"a": 1, "b": 2, "c": 3}
    assert ranks(costs["p4"]) == {"a": 2, "b": 2, "c": 2}          # ties share their mean
    assert ranks(costs["p3"]) == {"a": 1.5, "b": 1.5, "c": 3}
    assert mean_ranks(costs) == {"a": (1 + 2 + 1.5 + 2) / 4, "b": (2 + 1 + 1.5 + 2) / 4,
                                 "c": (3 + 3 + 3 + 2) / 4}


def test_the_sweep_report_draws_its_figures_and_summary(tmp_path):
    from experiments.sweep_report import write_sweep_report

    sweep.run_sweep(TINY, tmp_path)
    text = write_sweep_report(tmp_path).read_text()
    assert "**Protocol.** random search" in text and "one-shot" in text
    assert "| optimizer | one-shot | random-3 |" in text
    for fig in ("profiles.png", "ranks.png"):
        assert (tmp_path / fig).stat().st_size > 10_000 and f"({fig})" in text


def _exit_status(argv) -> int:
    from experiments.__main__ import main

    try:
        return main(argv)
    except SystemExit as exc:      # argparse's errors
        return exc.code


def test_bad_sweep_input_is_one_line_and_exit_status_2(tmp_path, capsys):
    for argv, words in ((["--optimizers", "adma"], "did you mean adam?"),
                        (["--lrs", "0.1"], "--search grid"),
                        (["--search", "grid"], "--lrs"),
                        (["--budgets", "0"], "at least 1"),
                        (["--steps", "-3"], "at least 1"),
                        (["--scheduler", "tcp://127.0.0.1:1"], "cannot reach")):
        rc = _exit_status(["sweep", "--quick", *argv, "--out", str(tmp_path)])
        err = capsys.readouterr().err
        assert rc == 2 and words in err and "Traceback" not in err, (argv, err)
        assert len(err.strip().splitlines()) == 1
    assert _exit_status(["sweep", "report", "--out", str(tmp_path / "none")]) == 2
    assert "no finished sweep" in capsys.readouterr().err


def _run_cli(*args, out, **popen):
    cmd = [sys.executable, "-m", "experiments", "sweep", *args, "--out", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=kit.foreground_sigint, **popen)


@pytest.mark.slow
def test_a_dask_cluster_gives_the_local_table_cell_for_cell(tmp_path):
    distributed = pytest.importorskip("distributed")
    args = ("--optimizers", "sgd,adam", "--problems", "rosenbrock,logistic", "--schedules",
            "constant", "--budgets", "1,2", "--seeds", "2", "--steps", "15")
    local = sweep.run_sweep(dataclasses.replace(
        sweep_grid.FULL, optimizers=("sgd", "adam"), problems=("rosenbrock", "logistic"),
        schedules=("constant",), budgets=(1, 2), seeds=2, steps=15), tmp_path / "local")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        proc = _run_cli(*args, "--scheduler", cluster.scheduler_address, out=tmp_path / "dask")
        stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stdout + stderr
    assert f"sweep: {local['cells']} runs ({local['cells']} computed, 0 cached)" in stdout
    a = read_table(tmp_path / "local" / "runs.csv")
    b = read_table(tmp_path / "dask" / "runs.csv")
    assert len(a) == len(b) == local["cells"]
    for row_a, row_b in zip(a, b):    # every value but the wall time, bit for bit
        assert {k: v for k, v in row_a.items() if k != "seconds"} == \
            {k: v for k, v in row_b.items() if k != "seconds"}
    assert (tmp_path / "local" / "selected.csv").read_text() == \
        (tmp_path / "dask" / "selected.csv").read_text()


@pytest.mark.slow
def test_sigint_stops_a_sweep_keeping_its_finished_runs(tmp_path):
    out = tmp_path / "sw"
    args = ("--optimizers", "sgd", "--problems", "rosenbrock", "--schedules", "constant",
            "--budgets", "1,4", "--seeds", "1", "--steps", "4000")
    proc = _run_cli(*args, out=out)
    t0 = time.monotonic()
    while not (out / "cells").is_dir() or not any((out / "cells").glob("*.json")):
        assert time.monotonic() - t0 < 60 and proc.poll() is None, "no run finished"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in stdout + stderr, stdout + stderr
    kept = len(list((out / "cells").glob("*.json")))
    assert 1 <= kept < 5 and len(read_table(out / "runs.csv")) == kept
    proc = _run_cli(*args, out=out)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stdout + stderr
    assert f"sweep: 5 runs ({5 - kept} computed, {kept} cached)" in stdout
