r"""Test problems and drivers shared by the optimizer tests (a uniquely named helper module: the
test folders have no __init__.py).

The problems are written here with minigrad ops (the ``problems`` package is not used):

* ``quadratic()``: f(x) = 1/2 x^T A x - b^T x in 2-D, A = Q diag(1, 10) Q^T (mu = 1, L = 10),
  b = (1, -2), started at (3, 2); as a finite sum of 4 components
  f_i(x) = s_i 1/2 x^T A x - t_i b^T x with mean(s) = mean(t) = 1;
* ``rosenbrock()``: (1 - x)^2 + 100 (y - x^2)^2 from (-1.2, 1), minimiser (1, 1); as a finite sum
  of 2 components f +- 3 (x - y), whose gradients at (1, 1) are +-3 (1, -1), not 0 (so SGD with a
  constant step would not converge there, SVRG and SAG do). ``rosenbrock(closed_form=True)``
  is the same problem with its gradient written out in NumPy,
  :math:`\nabla f = (-2(1-x) - 400x(y-x^2) + s, 200(y-x^2) - s)` with :math:`s` the component
  shift: the long convergence runs use it, so that they measure the optimizers and not the
  engine's per-operation overhead (the engine's gradients are tested on their own, and the
  quadratic runs still go through it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

import minigrad as mg


@dataclass
class Problem:
    name: str
    x0: np.ndarray
    x_star: np.ndarray
    tol: float
    loss: Callable          # loss(x: Tensor) -> scalar Tensor
    component_loss: Callable  # component_loss(x, indices) -> mean over the components
    n: int                  # number of finite-sum components
    closed_form: Callable | None = None  # closed_form(x_array, indices or None) -> (f, grad)


def quadratic() -> Problem:
    c, s = math.cos(0.3), math.sin(0.3)
    Q = np.array([[c, -s], [s, c]])
    A = Q @ np.diag([1.0, 10.0]) @ Q.T
    b = np.array([1.0, -2.0])
    weights_A = np.array([0.5, 1.5, 0.8, 1.2])
    weights_b = np.array([1.5, 0.5, 1.2, 0.8])

    def loss(x):
        At, bt = mg.Tensor(A, dtype=x.dtype), mg.Tensor(b, dtype=x.dtype)
        return 0.5 * (x @ (At @ x)) - bt @ x

    def component_loss(x, indices):
        sa = float(np.mean(weights_A[list(indices)]))
        sb = float(np.mean(weights_b[list(indices)]))
        At, bt = mg.Tensor(A, dtype=x.dtype), mg.Tensor(b, dtype=x.dtype)
        return sa * (0.5 * (x @ (At @ x))) - sb * (bt @ x)

    return Problem("quadratic", np.array([3.0, 2.0]), np.linalg.solve(A, b), 1e-4, loss,
                   component_loss, 4)


def _rosenbrock_shift(indices) -> float:
    """The mean of the components' shifts +-3 over ``indices`` (0 for the full function)."""
    if indices is None:
        return 0.0
    idx = list(indices)
    return 3.0 * (idx.count(0) - idx.count(1)) / len(idx)


def _rosenbrock_closed_form(x, indices):
    """(f, grad) of the Rosenbrock function (a finite-sum component mean when ``indices``)."""
    shift = _rosenbrock_shift(indices)
    a = 1.0 - x[0]
    c = x[1] - x[0] * x[0]
    f = a * a + 100.0 * (c * c) + shift * (x[0] - x[1])
    return f, np.array([-2.0 * a - 400.0 * x[0] * c + shift, 200.0 * c - shift])


def rosenbrock(closed_form: bool = False) -> Problem:
    def loss(x):
        a = 1.0 - x[0]
        c = x[1] - x[0] * x[0]
        return a * a + 100.0 * (c * c)

    def component_loss(x, indices):
        shift = _rosenbrock_shift(indices)
        a = 1.0 - x[0]
        c = x[1] - x[0] * x[0]
        return a * a + 100.0 * (c * c) + shift * (x[0] - x[1])

    return Problem("rosenbrock", np.array([-1.2, 1.0]), np.array([1.0, 1.0]), 1e-2, loss,
                   component_loss, 2, _rosenbrock_closed_form if closed_form else None)


def _closed_form_closure(x: mg.Tensor, closed_form, finite_sum: bool) -> Callable:
    """A closure that sets ``x.grad`` from the closed form and returns the loss as a Tensor."""
    def evaluate(indices=None):
        f, g = closed_form(mg.backend.to_numpy(x.data).astype(float), indices)
        x.grad = mg.backend.asarray(g, dtype=x.dtype, backend=x.backend)
        return mg.Tensor(f, dtype=x.dtype)
    return evaluate if finite_sum else (lambda: evaluate())


def loss_closure(x: mg.Tensor, loss) -> Callable:
    """closure() for step(closure): zero the gradient, recompute the loss, backward."""
    def closure():
        x.grad = None
        value = loss(x)
        value.backward()
        return value
    return closure


def finite_sum_closure(x: mg.Tensor, component_loss) -> Callable:
    """closure(indices) for SVRG / SAG."""
    def closure(indices):
        x.grad = None
        value = component_loss(x, indices)
        value.backward()
        return value
    return closure


def stepper(spec, opt, x: mg.Tensor, problem: Problem) -> Callable:
    """A function that takes one step of ``opt`` on ``problem`` the way ``spec`` needs."""
    if problem.closed_form is not None:
        closure = _closed_form_closure(x, problem.closed_form, spec.closure == "finite_sum")
    elif spec.closure == "finite_sum":
        closure = finite_sum_closure(x, problem.component_loss)
    else:
        closure = loss_closure(x, problem.loss)
    if spec.closure in ("finite_sum", "loss"):
        return lambda: opt.step(closure)

    def plain():
        closure()
        return opt.step()
    return plain


def run(spec, problem: Problem, setting, backend_x0=None, **overrides):
    """Run ``spec`` with a convergence ``setting`` on ``problem``; return (x, opt)."""
    x = mg.Tensor(problem.x0 if backend_x0 is None else backend_x0, requires_grad=True)
    opt = spec.make([x], **{**setting.kwargs, "lr": setting.lr, **overrides})
    step = stepper(spec, opt, x, problem)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(setting.steps):
            step()
            if not np.all(np.isfinite(x.numpy())):
                break
    return x, opt


class GradientSequence:
    """Feeds a fixed sequence of gradients, whatever the point: ``feed(x)`` sets ``x.grad`` to the
    next one; ``closure`` / ``finite_sum_closure`` do the same inside ``step(closure)``."""

    def __init__(self, x: mg.Tensor, grads):
        self.x = x
        self.grads = [np.asarray(g, dtype=float) for g in grads]
        self.i = 0

    def feed(self):
        g = self.grads[self.i]
        self.i += 1
        self.x.grad = mg.backend.asarray(g, dtype=self.x.dtype, backend=self.x.backend)
        return mg.Tensor(0.0)

    def closure(self):
        return self.feed()

    def finite_sum_closure(self, indices):
        return self.feed()


# --------------------------------------------------------------------------- state_dict entries
def required_entries(sd, prefix=()):
    """The path (a tuple of keys) of every entry of a nested state_dict that a load needs: each
    key at every level but a group's hyperparameters (a schedule is not saved; the loading
    optimizer keeps its own value), a parameter's whole state (absent: no state yet) and a list
    element."""
    items = sd.items() if isinstance(sd, dict) else enumerate(sd)
    for key, value in items:
        path = (*prefix, key)
        hyper = len(prefix) > 1 and prefix[-2] == "param_groups" and key != "params"
        if not (isinstance(sd, list) or (prefix and prefix[-1] == "state") or hyper):
            yield path
        if isinstance(value, dict) or (isinstance(value, list) and value
                                       and isinstance(value[0], dict)):
            yield from required_entries(value, path)


def without(sd, path):
    """A deep copy of the nested state_dict ``sd`` with the entry at ``path`` removed."""
    import copy  # noqa: PLC0415

    out = copy.deepcopy(sd)
    node = out
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return out


def missing_entry_message(path) -> str:
    """A regex the error for the missing entry ``path`` must match: the path as
    flatten_state_dict writes it (after 'base' for a wrapper's base)."""
    import re  # noqa: PLC0415

    parts = [str(p) for p in path]
    if parts[0] == "base" and len(parts) > 1:
        return re.escape("'base'") + ".*" + re.escape(repr("/".join(parts[1:])))
    return re.escape(repr("/".join(parts)))


def nested_arrays(sd) -> list:
    """The NumPy arrays among the leaves of a nested state_dict."""
    if isinstance(sd, dict):
        return [a for v in sd.values() for a in nested_arrays(v)]
    if isinstance(sd, list):
        return [a for v in sd for a in nested_arrays(v)]
    return [sd] if isinstance(sd, np.ndarray) else []
