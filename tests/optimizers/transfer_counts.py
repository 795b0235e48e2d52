"""Device-to-host transfers of one optimizer step, measured on the strict backend.

Shared by ``tests/optimizers/test_optim_transfers.py`` (which pins the counts) and
``benchmarks/bench_transfers.py`` (which prints them). On a GPU each transfer is a
synchronisation: the device waits, the host reads a value, the next kernel starts late.

* First-order and geometry optimizers: **0** (every decision stays on the device), except
  Shampoo's one: under its non-finite policy (``nonfinite="raise"`` or ``"skip"``: it factorises
  the preconditioners, so a non-finite value cannot be carried on) it checks that the gradients
  are finite before the state changes, one transfer for all parameters.
* Methods that need a scalar on the host (a line search compares numbers; Nelder–Mead, CMA-ES,
  the ES and the genetic algorithm rank function values; zero-order gradient descent reads the
  values of its estimator): a stated number per step, pinned by the test.
"""
from __future__ import annotations

import numpy as np

import minigrad as mg
import optimizers as O
from minigrad import strict as S

#: the quadratic of the non-registry cases: 1/2 x^T A x - b^T x, A > 0
A = np.array([[3.0, 0.5], [0.5, 1.0]])
b = np.array([1.0, -1.0])
X0 = np.array([1.0, 2.0])


def quadratic(x):
    return 0.5 * (x @ (mg.Tensor(A) @ x)) - mg.Tensor(b) @ x


class Counted:
    """The closures of one case, counting their calls (function evaluations)."""

    def __init__(self, x, opt):
        self.x, self.opt, self.calls = x, opt, 0

    def loss_and_grad(self):  # returns the loss, gradients in .grad
        self.calls += 1
        self.opt.zero_grad()
        loss = quadratic(self.x)
        loss.backward()
        return loss

    def loss(self):  # the recorded loss; the method differentiates it itself
        self.calls += 1
        return quadratic(self.x)

    def value(self):  # the value only (zero-order methods)
        self.calls += 1
        with mg.no_grad():
            return quadratic(self.x)


#: (name, factory, closure kind, the transfers of one step by kind, why): the second- and
#: zero-order methods, each with its default settings. For the value-only methods the ``item``
#: count is the number of function evaluations of the step (one value read per evaluation).
HOST_SCALAR_CASES = [
    ("Newton", lambda ps: O.Newton(ps), "loss", {"item": 3, "to_numpy": 2, "float": 3},
     "Armijo backtracking compares f values on the host; the solve's result is checked finite"),
    ("BFGS", lambda ps: O.BFGS(ps), "loss_and_grad",
     {"item": 2, "to_numpy": 4, "float": 10, "bool": 2},
     "the strong-Wolfe line search compares f and the directional derivative on the host"),
    ("LBFGS", lambda ps: O.LBFGS(ps), "loss_and_grad",
     {"item": 2, "to_numpy": 5, "float": 12, "bool": 2},
     "the strong-Wolfe line search compares f and the directional derivative on the host"),
    ("ZeroOrderGD", lambda ps: O.ZeroOrderGD(ps, lr=0.01), "value", {"item": 3},
     "one value per function evaluation (the estimator's differences are formed on the host)"),
    ("OnePlusOneES", lambda ps: O.OnePlusOneES(ps, sigma0=0.5), "value", {"item": 1},
     "one value per function evaluation (the 1/5 success rule compares on the host)"),
    ("NelderMead", lambda ps: O.NelderMead(ps), "value", {"item": 2, "to_numpy": 3},
     "the simplex is ranked on the host: the values, and the points it keeps"),
    ("CMAES", lambda ps: O.CMAES(ps, sigma0=0.5), "value",
     {"item": 6, "to_numpy": 5, "float": 1},
     "the offspring are ranked on the host; the mean and the step size are read back"),
    ("GeneticAlgorithm", lambda ps: O.GeneticAlgorithm(ps), "value", {"item": 48, "to_numpy": 3},
     "the population is ranked on the host: one value per individual, and the selections"),
]


def one_step_transfers(make, x0, closure_kind: str, backend: str = "strict"):
    """``(transfers by kind, function evaluations)`` of the second step of ``make([x])``
    (the first step makes the state), on ``backend`` (strict by default)."""
    with mg.use_backend(backend):
        x = mg.Tensor(x0, requires_grad=True)
        opt = make([x])
        counted = Counted(x, opt)
        closure = getattr(counted, closure_kind)
        opt.step(closure)
        counted.calls = 0
        with S.count_transfers() as c:
            opt.step(closure)
        return c.by_kind, counted.calls


def registry_step_transfers(spec, problem, stepper, backend: str = "strict") -> dict:
    """The transfers of the second step of a registered optimizer on ``problem``, stepped the
    way its spec says (``stepper`` is ``optim_testkit.stepper``)."""
    with mg.use_backend(backend):
        x = mg.Tensor(problem.x0, requires_grad=True)
        setting = spec.quadratic
        opt = spec.make([x], **{**setting.kwargs, "lr": setting.lr})
        step = stepper(spec, opt, x, problem)
        step()
        with S.count_transfers() as c:
            step()
        return c.by_kind


#: the matrix geometry: (name, factory, transfers of one step, why) on a 3 x 4 parameter
MATRIX_CASES = [
    ("SteepestDescent(spectral)", lambda ps: O.SteepestDescent(ps, lr=0.1, norm="spectral"),
     {}, "no host decision: the rank cut and the test for G = 0 are masks on the device"),
    ("SteepestDescent(spectral, newton_schulz)",
     lambda ps: O.SteepestDescent(ps, lr=0.1, norm=O.norms.Spectral("newton_schulz")), {},
     "no host decision in a step"),
    ("SteepestDescent(nuclear)", lambda ps: O.SteepestDescent(ps, lr=0.1, norm="nuclear"),
     {}, "no host decision: the test for G = 0 is a mask on the device"),
    ("Muon", lambda ps: O.Muon(ps, lr=0.1), {}, "no host decision in a step"),
    ("Shampoo", lambda ps: O.Shampoo(ps, lr=0.1), {"to_numpy": 1},
     "the finiteness check of the non-finite policy"),
    ("Adam", lambda ps: O.Adam(ps, lr=0.1), {}, "no host decision in a step"),
]
W0 = np.arange(12.0).reshape(3, 4) / 7.0 - 0.5
TARGET = np.cos(np.arange(12.0)).reshape(3, 4)


def matrix_step_transfers(make, backend: str = "strict") -> dict:
    """The transfers of the second step of ``make([W])`` on ||W - T||_F^2 (W a 3 x 4 matrix)."""
    with mg.use_backend(backend):
        W = mg.Tensor(W0, requires_grad=True)
        T = mg.Tensor(TARGET)
        opt = make([W])

        def closure():
            opt.zero_grad()
            loss = ((W - T) * (W - T)).sum()
            loss.backward()
            return loss
        closure()
        opt.step()
        closure()
        with S.count_transfers() as c:
            opt.step()
        return c.by_kind


#: registered optimizers that make transfers in a step, and why (every other one makes none)
REGISTRY_NONZERO = {
    "Shampoo": ({"to_numpy": 1}, "the finiteness check of the non-finite policy"),
    "Shampoo(sum)": ({"to_numpy": 1}, "the finiteness check of the non-finite policy"),
    "BFGS(fixed step)": ({"to_numpy": 4, "item": 1, "bool": 2, "float": 7},
                         "quasi-Newton: the curvature condition s^T y > 0 and the loss are read "
                         "on the host, and the all-or-nothing step checks its inputs are finite"),
    "LBFGS(fixed step)": ({"to_numpy": 5, "item": 1, "bool": 2, "float": 9},
                          "quasi-Newton: the curvature condition s^T y > 0 and the loss are read "
                          "on the host, and the all-or-nothing step checks its inputs are finite"),
}
