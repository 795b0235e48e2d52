r"""The cases that pin the optimizers' trajectories: every optimizer driven by ``opt.step()`` /
``opt.step(closure)`` takes ``STEPS`` steps on two small problems, and every iterate is kept.

A case is named ``<method>/<dtype>/<problem>/<wd|nowd>/<sched|const>``, e.g.
``Adam/float32/quadratic/wd/sched``:

* ``<method>``: every entry of the test registry ``optim_registry`` (``tests/optim_registry/``,
  its submodules included) under its registry name, built with the registry's
  constructor arguments and the learning rate of its quadratic setting (``spec.kwargs``,
  ``spec.quadratic``; a registry schedule :math:`\alpha_0 d^t` contributes its :math:`\alpha_0`)
  and driven the way its ``closure`` field says; then :data:`EXTRA_METHODS`, the step()-driven
  classes and updates that the registry leaves out: Newton (damped, Armijo search), BFGS and
  L-BFGS with their strong Wolfe search, Sophia with its Hutchinson Hessian estimate, the
  matrix updates of Muon, Shampoo and steepest descent in the spectral norm (on a matrix-shaped
  parameter), and the zero-order methods (ZO-GD, Nelder-Mead plain and adaptive, CMA-ES, the
  (1+1)-ES, the genetic algorithm). The SciPy-style functions (``minimize``, ``bfgs``,
  ``nelder_mead``, ...) are not cases.
* ``<dtype>``: ``float64`` or ``float32``: the problem's data, the parameter and the optimizer's
  state are in that dtype, and so are the stored iterates.
* ``<problem>``: ``quadratic``, an ill-conditioned :class:`problems.Quadratic` (dimension 6,
  log-spaced spectrum from :math:`\mu = 0.1` to :math:`L = 10`, seed 0, started at distance 3
  from :math:`x^*`), or ``logistic``, a :class:`problems.LogisticRegression` (40 samples, 5
  features, ridge :math:`\mu = 0.1`, seed 0, a fixed non-zero start), full batch. The matrix
  cases give the problem their parameter flattened (:data:`MATRIX_SHAPES`). SVRG and SAG step
  on components (drawn from their own seed): the logistic regression's samples, and for the
  quadratic four weighted copies :math:`s_i\,\tfrac12 x^\top Ax - t_i\,b^\top x` with
  :math:`\bar s = \bar t = 1`.
* ``wd``: the method's weight-decay arguments (``weight_decay``; for Muon also
  ``adamw_weight_decay``) set to :data:`WEIGHT_DECAY`; ``nowd``: set to 0 (AdamW and Sophia
  decay by default). Only methods whose constructor has such an argument have ``wd`` cases
  (SAM and Lookahead hand theirs to the base optimizer, whose decay SGD's cases pin).
* ``sched``: each learning rate (``lr``; for Muon also ``adamw_lr``) replaced by
  ``schedules.CosineDecay(lr, STEPS, end_value=lr / 10)``; ``const``: the constant. Methods
  without a learning rate (Nelder-Mead, CMA-ES, the (1+1)-ES, the genetic algorithm) have
  ``const`` cases only.

Gradients and losses come from the problems' formulas written out in NumPy on the problems'
data (:func:`_closed_form`), so that the cases pin the optimizers and their cost is the
optimizers' own; the engine's numbers are pinned on their own (``engine_cases.py``). The methods
that differentiate the loss themselves get it recorded from the engine (``problem.f``): Newton
(gradient and Hessian) and Sophia's Hessian estimate.

:func:`run` returns the ``(STEPS, *shape)`` array of the iterates after each step (the start is
not included). The recorder ``record_trajectories.py`` saves them in ``trajectories.npz`` and
``test_trajectory_parity.py`` compares them bit for bit; the recorder's docstring says how to
regenerate the file.
"""
from __future__ import annotations

import functools
import inspect
import pathlib
import sys
from dataclasses import dataclass, field

import numpy as np

import minigrad as mg
import schedules
from optimizers import (BFGS, CMAES, LBFGS, AdaBound, GeneticAlgorithm, Muon, NelderMead,
                        Newton,
                        OnePlusOneES, Shampoo, Sophia, SteepestDescent, ZeroOrderGD)
from problems import LogisticRegression, Quadratic

# the test registry lives in tests/optim_registry (pytest has tests/ on its pythonpath; the
# recorder runs outside pytest, from any checkout, so the folder is put on the path here)
_TESTS = str(pathlib.Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(1, _TESTS)
from optim_registry import ExpDecay, specs  # noqa: E402

__all__ = ["STEPS", "DTYPES", "PROBLEMS", "WEIGHT_DECAY", "Method", "METHODS", "CASES",
           "make_problem", "run"]

STEPS = 100
DTYPES = ("float64", "float32")
PROBLEMS = ("quadratic", "logistic")
WEIGHT_DECAY = 0.05

#: the shape of the parameter of the matrix cases (the problem sees it flattened)
MATRIX_SHAPES = {"quadratic": (2, 3), "logistic": (5, 1)}

# the quadratic's finite-sum split for SVRG / SAG: f_i = s_i 1/2 x^T A x - t_i b^T x
_SPLIT_A = (0.5, 1.5, 0.8, 1.2)
_SPLIT_B = (1.5, 0.5, 1.2, 0.8)
_LOGISTIC_X0 = (1.0, -0.5, 0.25, -1.0, 0.5)

# how a step is taken ("the closure" sets x.grad from the closed form and returns the loss):
#   "grad":       x.grad from the closed form, then opt.step()
#   "closure":    opt.step(closure), closure() as above
#   "finite_sum": opt.step(closure), closure(indices) the same for the mean of those components
#   "value":      opt.step(closure), closure() returning the closed-form loss only
#   "engine":     opt.step(closure), closure() returning problem.f(x), recorded, no backward
#   "sophia":     opt.step(closure, hessian_closure=problem.f(x) recorded, as for "engine")
DRIVES = ("grad", "closure", "finite_sum", "value", "engine", "sophia")
_DRIVE_OF_SPEC = {"none": "grad", "loss": "closure", "finite_sum": "finite_sum"}
_LR_KEYS = ("lr", "adamw_lr")
_WD_KEYS = ("weight_decay", "adamw_weight_decay")


@dataclass(frozen=True)
class Method:
    """An optimizer as the cases drive it: ``cls(params, **kwargs, **lrs, **decays)``.

    ``lrs``: the learning-rate arguments and their constant values (empty: the method has no
    learning rate); ``decays``: the weight-decay arguments (empty: none); ``matrix``: the
    parameter is a matrix (:data:`MATRIX_SHAPES`); ``finite_sum``: the constructor takes the
    number of components ``n``."""

    name: str
    cls: type
    drive: str
    lrs: dict = field(default_factory=dict)
    kwargs: dict = field(default_factory=dict)
    decays: tuple = ()
    matrix: bool = False
    finite_sum: bool = False

    def __post_init__(self):
        if self.drive not in DRIVES:
            raise ValueError(f"{self.name}: unknown drive {self.drive!r}; one of {DRIVES}")

    def make(self, params, n_components: int, wd: bool, sched: bool):
        kwargs = dict(self.kwargs)
        if self.finite_sum:
            kwargs["n"] = n_components
        for key, lr in self.lrs.items():
            kwargs[key] = schedules.CosineDecay(lr, STEPS, end_value=lr / 10) if sched else lr
        for key in self.decays:
            kwargs[key] = WEIGHT_DECAY if wd else 0.0
        return self.cls(params, **kwargs)


def _decays_of(cls) -> tuple:
    """The weight-decay arguments of ``cls``'s constructor (a wrapper's base optimizer's
    arguments are not its own)."""
    return tuple(k for k in _WD_KEYS if k in inspect.signature(cls.__init__).parameters)


def _from_spec(spec) -> Method:
    setting = spec.quadratic
    lr = setting.lr.lr0 if isinstance(setting.lr, ExpDecay) else setting.lr
    kwargs = {**spec.kwargs, **setting.kwargs}
    lrs = {"lr": float(lr)}
    for key in _LR_KEYS[1:]:
        if key in kwargs:
            lrs[key] = float(kwargs.pop(key))
    drive = _DRIVE_OF_SPEC[spec.closure]
    decays = _decays_of(spec.cls)
    for key in _WD_KEYS:
        kwargs.pop(key, None)
    if drive == "finite_sum":
        kwargs.pop("n", None)
    return Method(spec.name, spec.cls, drive, lrs, kwargs, decays,
                  finite_sum=drive == "finite_sum")


def _extra(name, cls, drive, lr=None, matrix=False, **kwargs) -> Method:
    lrs = {} if lr is None else {"lr": float(lr)}
    return Method(name, cls, drive, lrs, kwargs, _decays_of(cls), matrix=matrix)


#: the step()-driven optimizers that the registry does not register, or registers without
#: reaching the update named here
EXTRA_METHODS = (
    _extra("Newton", Newton, "engine", lr=0.1),
    _extra("BFGS", BFGS, "closure", lr=1.0, gtol=1e-4),
    _extra("LBFGS", LBFGS, "closure", lr=1.0, m=5, gtol=1e-4),
    _extra("Sophia(hutchinson)", Sophia, "sophia", lr=0.1, gamma=1.0, k=10),
    _extra("Muon(matrix)", Muon, "grad", lr=0.1, matrix=True),
    _extra("Shampoo(matrix)", Shampoo, "grad", lr=0.1, matrix=True),
    _extra("SteepestDescent(spectral)", SteepestDescent, "grad", lr=0.02, norm="spectral",
           matrix=True),
    _extra("Sophia(lecture)", Sophia, "sophia", lr=0.1, gamma=1.0, k=10, clip="lecture"),
    _extra("Sophia(official)", Sophia, "sophia", lr=0.1, gamma=1.0, k=10, clip="official"),
    _extra("Muon(matrix, no nesterov)", Muon, "grad", lr=0.1, nesterov=False, matrix=True),
    _extra("Shampoo(matrix, sum)", Shampoo, "grad", lr=0.1, form="sum", matrix=True),
    _extra("SteepestDescent(linf, matrix)", SteepestDescent, "grad", lr=0.02, norm="linf",
           matrix=True),
    _extra("AdaBound(gamma=0.1)", AdaBound, "grad", lr=0.01, gamma=0.1),
    _extra("ZeroOrderGD", ZeroOrderGD, "value", lr=0.02, tau=1e-3, seed=0),
    _extra("NelderMead", NelderMead, "value"),
    _extra("NelderMead(adaptive)", NelderMead, "value", adaptive=True),
    _extra("CMAES", CMAES, "value", sigma0=0.5, popsize=6, seed=0),
    _extra("OnePlusOneES", OnePlusOneES, "value", sigma0=0.5, seed=0),
    _extra("GeneticAlgorithm", GeneticAlgorithm, "value", popsize=6, sigma0=0.5, seed=0),
)

#: every method, by name (registry entries first, in registration order)
METHODS: dict = {}
for _m in (*(_from_spec(s) for s in specs()), *EXTRA_METHODS):
    if _m.name in METHODS:
        raise ValueError(f"method {_m.name!r} is defined twice")
    METHODS[_m.name] = _m


def _case_key(method, dtype, problem, wd, sched) -> str:
    return f"{method}/{dtype}/{problem}/{'wd' if wd else 'nowd'}/{'sched' if sched else 'const'}"


#: case key -> (method name, dtype, problem, wd, sched)
CASES: dict = {}
for _m in METHODS.values():
    for _dtype in DTYPES:
        for _problem in PROBLEMS:
            for _wd in ((False, True) if _m.decays else (False,)):
                for _sched in ((False, True) if _m.lrs else (False,)):
                    CASES[_case_key(_m.name, _dtype, _problem, _wd, _sched)] = (
                        _m.name, _dtype, _problem, _wd, _sched)


@functools.lru_cache(maxsize=None)
def make_problem(problem: str, dtype: str):
    """The problem of the cases, its data in ``dtype`` (built once; nothing changes it)."""
    if problem == "quadratic":
        return Quadratic(dim=6, mu=0.1, L=10.0, spacing="log", seed=0, radius=3.0, dtype=dtype)
    if problem == "logistic":
        return LogisticRegression(m=40, dim=5, mu=0.1, seed=0, x0=np.array(_LOGISTIC_X0),
                                  dtype=dtype)
    raise KeyError(problem)


def _closed_form(problem: str, P):
    """(n, grad(z, rows), loss(z, rows)): the number of finite-sum components, and the gradient
    and the loss at the flat vector ``z`` written out in NumPy (in the problem's dtype), of the
    whole problem when ``rows`` is None, else of the mean of the components ``rows``."""
    if problem == "quadratic":
        A, b = mg.to_numpy(P.A), mg.to_numpy(P.b)  # the problem's data, on the host

        def weights(rows):
            if rows is None:
                return 1.0, 1.0
            return (float(np.mean([_SPLIT_A[i] for i in rows])),
                    float(np.mean([_SPLIT_B[i] for i in rows])))

        def grad(z, rows):
            sa, sb = weights(rows)
            return A @ z - b if rows is None else sa * (A @ z) - sb * b  # s A z - t b

        def loss(z, rows):
            sa, sb = weights(rows)
            return sa * (0.5 * (z @ (A @ z))) - sb * (b @ z)  # s 1/2 z^T A z - t b^T z

        return len(_SPLIT_A), grad, loss

    A, y, mu = mg.to_numpy(P.A), mg.to_numpy(P.y), P.mu  # the problem's data, on the host

    def grad(z, rows):
        Ar, yr = (A, y) if rows is None else (A[rows], y[rows])
        s = 0.5 * (1.0 + np.tanh(-0.5 * (yr * (Ar @ z))))  # sigmoid(-y a^T z)
        return mu * z - Ar.T @ (yr * s) / len(yr)  # mu z - A^T (y sigmoid(-y Az)) / m

    def loss(z, rows):
        Ar, yr = (A, y) if rows is None else (A[rows], y[rows])
        return np.mean(np.logaddexp(0.0, -(yr * (Ar @ z)))) + 0.5 * mu * (z @ z)

    return P.n, grad, loss


def run(key: str) -> np.ndarray:
    """The iterates of case ``key`` after each of its ``STEPS`` steps, shape (STEPS, *shape)."""
    name, dtype, problem, wd, sched = CASES[key]
    method = METHODS[name]
    P = make_problem(problem, dtype)
    shape = MATRIX_SHAPES[problem] if method.matrix else P.shape
    x = mg.Tensor(mg.to_numpy(P.x0).reshape(shape), requires_grad=True)
    n, grad, loss = _closed_form(problem, P)

    def flat():  # the iterate on the host (the closed forms compute with NumPy there)
        z = x.numpy()
        return z.reshape(-1) if method.matrix else z

    def set_grad(rows=None):  # x.grad from the closed form, moved to the backend of x
        g = grad(flat(), rows)
        x.grad = mg.backend.asarray(g.reshape(shape) if method.matrix else g)

    def closure(rows=None):  # the same, and the loss as a Tensor
        set_grad(rows)
        return mg.Tensor(loss(flat(), rows))

    def value():  # the loss only (the zero-order methods)
        return mg.Tensor(loss(flat(), None))

    def engine_loss():  # the recorded loss, for the methods that differentiate it themselves
        return P.f(x.reshape(-1) if method.matrix else x)

    opt = method.make([x], n, wd, sched)
    drive = method.drive
    out = np.empty((STEPS, *shape), dtype=dtype)
    for t in range(STEPS):
        if drive == "grad":
            set_grad()
            opt.step()
        elif drive in ("closure", "finite_sum"):
            opt.step(closure)
        elif drive == "value":
            opt.step(value)
        elif drive == "engine":
            opt.step(engine_loss)
        elif drive == "sophia":
            opt.step(closure, hessian_closure=engine_loss)
        else:
            raise ValueError(f"unknown drive {drive!r}")
        out[t] = x.numpy()
    return out
