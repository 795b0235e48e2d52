r"""One cell of a sweep: an optimizer with a scheduled learning rate on a problem, for a budget
of steps, from one seed; a row of numbers out.

The loop (the optimizer API of :mod:`optimizers.base`), for :math:`k=0,\dots,T-1`: draw a
mini-batch :math:`B_k` of the training samples (uniformly, without replacement inside a batch,
from a generator seeded by the cell's seed; the whole objective for a deterministic problem),
``loss.backward()``, ``opt.step()``, the learning rate at step :math:`k` being the schedule's
:math:`\eta_k`. At ``checkpoints + 1`` evenly spaced iterations (the first and the last
included) it measures, without counting them as work, the mean loss over the training,
validation and test samples; a loss that is not finite ends the run (``diverged``).

The row: the configuration, ``final_*`` (at the last checkpoint reached) and ``best_*`` (the
lowest over the checkpoints) losses, ``diverged``, ``steps_done``, ``n_grad`` (per-sample
gradients: :math:`|B|` per step, :math:`1` for a deterministic problem) and ``seconds`` (the
wall time of the cell, measurements included).
"""
from __future__ import annotations

import hashlib
import json
import math
import time

__all__ = ["CONFIG_KEYS", "cell_key", "run_cell"]

#: what a cell's result depends on (with the package version): its cache key
CONFIG_KEYS = ("optimizer", "problem", "schedule", "lr", "seed", "steps", "batch_size",
               "checkpoints")


def cell_key(cell: dict, version: str) -> str:
    """The cache key of a cell: a hash of its configuration and the package version."""
    config = {k: cell[k] for k in CONFIG_KEYS}
    config["lr"] = repr(float(config["lr"]))
    text = json.dumps({"config": config, "version": version}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _losses(problem, x, split) -> tuple:
    import minigrad as mg

    with mg.no_grad():
        if split is None:
            v = float(problem.f(x).item())
            return v, v, v
        return tuple(float(problem.f_batch(x, idx).item()) for idx in split)


def run_cell(cell: dict) -> dict:
    """Run one cell (a dict with :data:`CONFIG_KEYS`); return its row."""
    import numpy as np

    import minigrad as mg
    from experiments.sweep_grid import make_optimizer, make_problem, make_schedule

    t0 = time.perf_counter()
    steps, seed = int(cell["steps"]), int(cell["seed"])
    with mg.use_backend("numpy"):
        problem, split = make_problem(cell["problem"], seed)
        x = problem.start()
        opt = make_optimizer(cell["optimizer"], [x], make_schedule(cell["schedule"],
                                                                   float(cell["lr"]), steps))
        rng = mg.backend.host_rng(seed)
        train = None if split is None else split[0]
        batch = None if train is None else min(int(cell["batch_size"]), len(train))
        marks = set(np.linspace(0, steps, int(cell["checkpoints"]) + 1).round().astype(int))
        seen = {"train": [], "valid": [], "test": []}
        diverged, k, n_grad = False, 0, 0
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(steps + 1):
                if k in marks:
                    values = _losses(problem, x, split)
                    for name, v in zip(seen, values):
                        seen[name].append(v)
                    if not all(math.isfinite(v) for v in values):
                        diverged = True
                        break
                if k == steps:
                    break
                opt.zero_grad()
                if train is None:
                    loss = problem.f(x)
                    n_grad += 1
                else:
                    loss = problem.f_batch(x, train[rng.choice(len(train), batch,
                                                               replace=False)])
                    n_grad += batch
                loss.backward()
                opt.step()
    row = {key: cell[key] for key in CONFIG_KEYS}
    row["lr"] = float(row["lr"])
    for name, values in seen.items():
        finite = [v for v in values if math.isfinite(v)]
        row[f"final_{name}"] = values[-1] if values else math.nan
        row[f"best_{name}"] = min(finite) if finite else math.nan
    row.update(diverged=diverged, steps_done=k, n_grad=n_grad,
               seconds=round(time.perf_counter() - t0, 4))
    return row
