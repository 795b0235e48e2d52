r"""The grid of a sweep and its tuning protocol, after Schmidt, Schneider and Hennig (2021,
"Descending through a Crowded Valley: Benchmarking Deep Learning Optimizers"): optimizers x
problems x learning-rate schedules x tuning budgets x seeds.

The protocol (stated in every sweep's summary):

1. **Search** for each (optimizer, problem, schedule), over the peak learning rate :math:`\eta`
   of the schedule (the other hyperparameters at the optimizer's defaults):

   * ``random`` search: a budget of :math:`B` evaluations. :math:`B=1` is the *one-shot*
     setting, the optimizer's default learning rate and no tuning; :math:`B>1` takes the first
     :math:`B` draws of :math:`\log_{10}\eta\sim U[\log_{10}\eta_{lo},\log_{10}\eta_{hi}]` from a
     generator seeded by the grid's ``search_seed`` and the names of the optimizer, problem and
     schedule, so a smaller budget's candidates are the first ones of a larger budget's, and a
     rerun draws the same ones;
   * ``grid`` search: the given learning rates, all of them (one budget).

2. **Selection**: every candidate runs once, with seed 0; the selected learning rate is the
   one with the lowest *final validation loss* (a run that diverged counts as :math:`+\infty`;
   ties go to the earlier candidate).

3. **Evaluation**: the selected configuration runs with seeds :math:`0,\dots,S-1` (seed 0 is the
   tuning run itself); its performance is the mean *final test loss* over the seeds.

A seed drives the order of the mini-batches and, for the networks, the initialisation. The
finite-sum problems split their samples once (a permutation of the data seed) into training
(60%), validation (20%) and test (20%) parts; training sees only the first. A deterministic
problem (Rosenbrock) has one objective for all three.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math

__all__ = ["FULL", "Grid", "OPTIMIZERS", "PROBLEMS", "QUICK", "SCHEDULES", "budget_label",
           "candidates", "make_optimizer", "make_problem", "make_schedule"]

#: name -> (optimizers class name, the keyword arguments besides lr)
OPTIMIZERS = {
    "sgd": ("SGD", {}),
    "momentum": ("Momentum", {}),
    "nag": ("NAG", {}),
    "adagrad": ("Adagrad", {}),
    "rmsprop": ("RMSProp", {}),
    "adam": ("Adam", {}),
    "amsgrad": ("AMSGrad", {}),
    "adabelief": ("AdaBelief", {}),
    "nadam": ("NAdam", {}),
    "radam": ("RAdam", {}),
    "lion": ("Lion", {}),
}

#: the schedules of Schmidt et al. 2021, each scaled to the run's length T
SCHEDULES = ("constant", "cosine", "cosine-restarts", "trapezoid")

#: name -> what it is (the builders are in :func:`make_problem`)
PROBLEMS = {
    "logistic": "L2-regularised logistic regression, 500 samples, 20 features (convex)",
    "least-squares": "least squares, 500 samples, 20 features (convex)",
    "mlp-moons": "MLP 2-16-16-2 (tanh) on two moons, 500 samples",
    "mlp-spirals": "MLP 2-32-32-3 (tanh) on three spirals, 500 samples",
    "rosenbrock": "Rosenbrock function in 2-D (deterministic, non-convex)",
}

SPLIT = (0.6, 0.2, 0.2)  # training, validation, test
DATA_SEED = 0


@dataclasses.dataclass(frozen=True)
class Grid:
    """One sweep: which optimizers, problems, schedules, the search, budgets and seeds."""
    optimizers: tuple = ("sgd", "momentum", "adam", "rmsprop")
    problems: tuple = ("logistic", "mlp-moons", "rosenbrock")
    schedules: tuple = ("constant", "cosine")
    search: str = "random"
    budgets: tuple = (1, 6)
    lrs: tuple = ()
    lr_range: tuple = (1e-4, 1.0)
    seeds: int = 3
    steps: int = 250
    batch_size: int = 32
    checkpoints: int = 10
    search_seed: int = 0

    def __post_init__(self):
        for what, names, known in (("optimizer", self.optimizers, OPTIMIZERS),
                                   ("problem", self.problems, PROBLEMS),
                                   ("schedule", self.schedules, SCHEDULES)):
            bad = [n for n in names if n not in known]
            if bad or not names:
                raise ValueError(f"Grid: unknown or no {what}(s) {bad}; known: {list(known)}")
        if self.search not in ("random", "grid"):
            raise ValueError(f"Grid: search must be 'random' or 'grid'; got {self.search!r}")
        if self.search == "grid" and not self.lrs:
            raise ValueError("Grid: a grid search needs its learning rates (lrs)")
        if self.search == "random" and (self.lrs or not self.budgets):
            raise ValueError("Grid: a random search takes budgets, not learning rates")
        if any(int(b) != b or b < 1 for b in self.budgets):
            raise ValueError(f"Grid: budgets must be positive integers; got {self.budgets}")
        if any(not (lr > 0 and math.isfinite(lr)) for lr in self.lrs):
            raise ValueError(f"Grid: learning rates must be positive and finite; got {self.lrs}")
        lo, hi = self.lr_range
        if not 0 < lo < hi < math.inf:
            raise ValueError(f"Grid: lr_range must be 0 < lo < hi; got {self.lr_range}")
        for name in ("seeds", "steps", "batch_size", "checkpoints"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"Grid: {name} must be at least 1; got {getattr(self, name)}")
        if self.search_seed < 0:
            raise ValueError(f"Grid: search_seed must be >= 0; got {self.search_seed}")

    def budget_list(self) -> tuple:
        return tuple(sorted(set(int(b) for b in self.budgets))) if self.search == "random" \
            else (len(self.lrs),)

    def protocol(self) -> str:
        """The tuning protocol of this grid, in a paragraph."""
        if self.search == "random":
            search = (f"random search over the peak learning rate, log-uniform on "
                      f"[{self.lr_range[0]:g}, {self.lr_range[1]:g}], budgets "
                      f"{', '.join(budget_label(self, b) for b in self.budget_list())} "
                      f"(one-shot: the optimizer's default learning rate; a budget's "
                      f"candidates are the first ones of a larger budget's)")
        else:
            search = (f"grid search over the peak learning rate "
                      f"{', '.join(f'{lr:g}' for lr in self.lrs)}")
        return (f"{search}; selection: the lowest final validation loss of a run with seed 0; "
                f"evaluation: the mean final test loss of the selected configuration over "
                f"seeds 0..{self.seeds - 1}; {self.steps} steps, mini-batches of "
                f"{self.batch_size} (finite sums; a 60/20/20 split into training, validation "
                f"and test samples), losses measured at {self.checkpoints} checkpoints.")


#: the --quick grid: finishes in about a minute on 2 cores
QUICK = Grid()
#: the full grid (its cost: ``python -m experiments sweep --full --plan``)
FULL = Grid(optimizers=tuple(OPTIMIZERS), problems=tuple(PROBLEMS), schedules=SCHEDULES,
            budgets=(1, 25, 50, 75), seeds=10, steps=1000)


def budget_label(grid: Grid, budget: int) -> str:
    if grid.search == "grid":
        return f"grid-{budget}"
    return "one-shot" if budget == 1 else f"random-{budget}"


def default_lr(optimizer: str) -> float:
    """The optimizer's own default learning rate (the one-shot setting)."""
    import inspect

    import optimizers

    cls = getattr(optimizers, OPTIMIZERS[optimizer][0])
    return float(inspect.signature(cls.__init__).parameters["lr"].default)


def _stream_seed(grid: Grid, optimizer: str, problem: str, schedule: str) -> int:
    text = f"{grid.search_seed}/{optimizer}/{problem}/{schedule}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


def candidates(grid: Grid, optimizer: str, problem: str, schedule: str, budget: int) -> list:
    """``[(source, lr), ...]``: the learning rates a budget tries, with where each comes from
    (``default``, ``random 0``, ``random 1``, ..., ``grid 0``, ...)."""
    if grid.search == "grid":
        return [(f"grid {i}", float(lr)) for i, lr in enumerate(grid.lrs)]
    if budget == 1:
        return [("default", default_lr(optimizer))]
    from minigrad.backend import host_rng

    rng = host_rng(_stream_seed(grid, optimizer, problem, schedule))
    lo, hi = math.log10(grid.lr_range[0]), math.log10(grid.lr_range[1])
    return [(f"random {i}", float(10.0 ** e)) for i, e in enumerate(rng.uniform(lo, hi, budget))]


def make_schedule(name: str, lr: float, steps: int):
    """The schedule ``name`` with peak ``lr`` over ``steps`` steps: ``constant``; ``cosine``
    (decay to 0 at T); ``cosine-restarts`` (SGDR, 4 cycles of T/4); ``trapezoid`` (a linear
    warmup over T/10, constant, a linear decay over the last T/5)."""
    import schedules

    if name == "constant":
        return schedules.Constant(lr)
    if name == "cosine":
        return schedules.CosineDecay(lr, total_steps=steps)
    if name == "cosine-restarts":
        return schedules.CosineWarmRestarts(lr, T_0=max(1, steps // 4))
    if name == "trapezoid":
        return schedules.LongTrapezoid(lr, total_steps=steps, warmup_steps=steps // 10,
                                       decay_steps=max(1, steps // 5))
    raise ValueError(f"unknown schedule {name!r}; known: {SCHEDULES}")


def make_optimizer(name: str, params, lr):
    import optimizers

    cls_name, kwargs = OPTIMIZERS[name]
    return getattr(optimizers, cls_name)(params, lr=lr, **kwargs)


def make_problem(name: str, seed: int):
    """``(problem, split)``: the problem (a network initialised from ``seed``) and its
    ``(train, valid, test)`` index arrays, or None for a deterministic problem."""
    import problems as P
    from minigrad.backend import host_rng

    if name == "logistic":
        p = P.LogisticRegression(m=500, dim=20, mu=1e-3, seed=DATA_SEED)
    elif name == "least-squares":
        p = P.LeastSquares(m=500, dim=20, noise=0.1, seed=DATA_SEED)
    elif name == "mlp-moons":
        p = P.MLPClassification("moons", m=500, hidden=(16, 16), seed=DATA_SEED, init_seed=seed)
    elif name == "mlp-spirals":
        p = P.MLPClassification("spirals", m=500, hidden=(32, 32), seed=DATA_SEED,
                                init_seed=seed)
    elif name == "rosenbrock":
        return P.Rosenbrock(), None
    else:
        raise ValueError(f"unknown problem {name!r}; known: {list(PROBLEMS)}")
    perm = host_rng(DATA_SEED).permutation(p.n)
    a = round(SPLIT[0] * p.n)
    b = a + round(SPLIT[1] * p.n)
    return p, (perm[:a], perm[a:b], perm[b:])
