"""Long SAM runs pinned bit for bit: the p-norm's root is where a reordering of the arithmetic
(``sqrt`` for ``x ** 0.5``, a float32 sum) first shows, and 100 steps can miss it.

20 random strongly convex quadratics :math:`\\tfrac12 x^\\top A x - b^\\top x` in 6-D (seeded), SAM
over SGD, float64, 300 steps, for p = 2 and ASAM (adaptive, p = 2) and p = 3; every fifth
iterate and the last (a difference at one step stays in the later iterates' bits).
``record_sam_long.py`` writes them from a checkout; ``test_sam_long_parity.py`` replays them.
"""
from __future__ import annotations

import numpy as np

import minigrad as mg
import optimizers as O

SEEDS = range(20)
STEPS = 300
KEPT = slice(4, None, 5)  # iterates 5, 10, ..., 300
DIM = 6
VARIANTS = {"p2": {}, "asam": {"adaptive": True}, "p3": {"p": 3.0}}


def problem(seed: int):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((DIM, DIM))
    A = M @ M.T / DIM + 0.1 * np.eye(DIM)
    return A, rng.standard_normal(DIM), rng.standard_normal(DIM)


def run(seed: int, variant: str) -> np.ndarray:
    """The kept iterates of one run, shape (STEPS // 5, DIM), on the host."""
    A, b, x0 = problem(seed)
    x = mg.Tensor(x0, requires_grad=True)
    opt = O.SAM([x], O.SGD, lr=0.05, rho=0.05, **VARIANTS[variant])

    def closure():  # the closed-form gradient A x - b and the loss, on x's backend
        xh = x.numpy()
        x.grad = mg.backend.asarray(A @ xh - b, backend=x.backend)
        return mg.Tensor(0.5 * xh @ A @ xh - b @ xh)

    out = np.empty((STEPS, DIM))
    for t in range(STEPS):
        opt.step(closure)
        out[t] = x.numpy()
    return out[KEPT]


def key(seed: int, variant: str) -> str:
    return f"{variant}/{seed}"
