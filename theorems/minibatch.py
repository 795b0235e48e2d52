r"""Mini-batch SGD as gradient descent with an error (Merkulov 2024 talk, L1, and Merkulov &
Ostroukhov week-14 lecture, L2; docs/lectures.md section 1, item 5): :data:`MINIBATCH_DESCENT`.

For :math:`x_{k+1}=x_k-\frac1L(\nabla f(x_k)+e_k)`, :math:`e_k=g_k-\nabla f(x_k)` the error of
the gradient :math:`g_k` the step used, the descent lemma of an :math:`L`-smooth :math:`f` gives,
deterministically, at every step

.. math:: f(x_{k+1})-f(x_k)\le-\frac{\|\nabla f(x_k)\|^2-\|e_k\|^2}{2L}.

It holds for any error (a biased gradient does not break it); a step other than :math:`1/L`
does. The check measures :math:`e_k` at each step (the gradient the optimizer received minus
the full gradient at :math:`x_k`), with mini-batches drawn by ``problem.sample_batch`` from a
seeded generator (run options ``batch``, None for the full gradient, and ``rng_seed``).

Rounding slack (float64, :math:`\epsilon` the machine epsilon):
:math:`64\epsilon\,(|f(x_k)|+|f(x_{k+1})|+\frac{\|\nabla f\|^2+\|e_k\|^2}{2L}
+\sqrt{2(|f(x_k)|+|f(x_{k+1})|)}\,d\,s)` with :math:`s=\max_i(|a_i|^\top|x_{k+1}|+|b_i|)`
(least squares; :math:`\max_i|a_i|^\top|x_{k+1}|` for logistic regression, 0 otherwise): near
an interpolating least-squares solution the residuals :math:`a_i^\top x-b_i` are differences
of numbers of size :math:`s`, so :math:`f` carries an absolute error of order
:math:`\epsilon\,d\,s\sqrt{2f}`, far above :math:`\epsilon f`. A run whose :math:`|f|`
exceeds :math:`10^{200}` is checked up to there (a note says so); a non-finite value is a
violation.

Companion: GD with the step :math:`2/L` on least squares (:math:`L=\lambda_{\max}`, attained):
the top eigen-direction of the Hessian no longer decays and the inequality fails at some step.
"""
from __future__ import annotations

import math

import minigrad as mg
import problems as P
from minigrad import backend as B
from optimizers import SGD
from theorems import hypotheses as H
from theorems.base import Companion, Theorem, relative_step
from theorems.instance import Instance
from theorems.report import Evaluation
from theorems.runs import Record

__all__ = ["MINIBATCH_DESCENT", "MiniBatchDescent", "data_scale"]

np = B.host_xp()
EPS = float(np.finfo(np.float64).eps)
#: above this |f| a run is checked up to there and stopped (it diverges; no overflow to inf)
F_MAX = 1e200


def data_scale(problem, x) -> float:
    r"""The size of the numbers cancelling inside :math:`f` at ``x`` (module docstring)."""
    if not isinstance(problem, (P.LeastSquares, P.LogisticRegression)):
        return 0.0
    A = np.abs(np.asarray(mg.to_numpy(problem.A)))
    s = float(np.max(A @ np.abs(np.asarray(mg.to_numpy(x)))))
    if isinstance(problem, P.LeastSquares):
        s += float(np.max(np.abs(mg.to_numpy(problem.b))))
    return s


class MiniBatchDescent(Theorem):
    name = "mini-batch SGD as GD with an error"
    statement = ("$f(x_{k+1})-f(x_k)\\le-\\frac{\\|\\nabla f(x_k)\\|^2-\\|e_k\\|^2}{2L}$, "
                 "$e_k=g_k-\\nabla f(x_k)$, step $1/L$")
    source = ("Merkulov 2024 talk (L1) and Merkulov & Ostroukhov week-14 lecture (L2): "
              "mini-batch SGD is GD with an error")
    problem_class = "L-smooth (a finite sum for mini-batches)"
    parameters_text = "lr = 1/L"
    quantity = "f(x_{k+1}) - f(x_k) at every step k (deterministic)"
    default_steps = 40
    companions = (Companion("step 2/L", "GD with the step 2/L on least squares (the curvature L "
                            "is attained): the inequality fails at some step",
                            lambda t, inst: dict(optimizer=SGD, problem=inst, steps=200,
                                                 params={"lr": 2.0 / inst.L}, outside=True,
                                                 batch=None)),)

    @staticmethod
    def bound(L, g2, e2):
        r""":math:`-(\|\nabla f(x_k)\|^2-\|e_k\|^2)/(2L)`."""
        return -(g2 - e2) / (2 * L)

    @staticmethod
    def slack(f_k, f_next, g2, e2, L, dim=0, scale=0.0):
        """The rounding slack (module docstring; ``scale`` = 0 leaves out the data term)."""
        f_abs = np.abs(f_k) + np.abs(f_next)
        return 64 * EPS * (f_abs + (g2 + e2) / (2 * L)
                           + np.sqrt(2 * f_abs) * dim * scale)

    def hypotheses(self, inst):
        return H.smooth(inst)

    def default_parameters(self, inst):
        return {"lr": 1.0 / inst.L} if inst.L else {}

    def admissible(self, inst, params):
        return H.step_equals(params, "lr", 1.0 / inst.L, "1/L") if inst.L else []

    def describe_parameters(self, inst, params):
        return f"lr = {relative_step(params['lr'], 1.0 / inst.L, '/L')}" if "lr" in params else ""

    def run(self, form, inst, params, steps, batch=None, rng_seed=0):
        problem = inst.problem
        if batch is not None and not isinstance(problem, P.FiniteSumProblem):
            raise ValueError(f"{self.name}: mini-batches need a finite sum; got "
                             f"{type(problem).__name__}")
        x = inst.start()
        drv = form.build([x], params)
        rng = B.host_rng(rng_seed)
        rows, diverged, notes = [], None, []
        with np.errstate(all="ignore"):
            for k in range(steps):
                f_k, g_full = problem.value_and_grad(x.data)
                idx = problem.sample_batch(batch, rng) if batch is not None else None

                def closure(backward=True, idx=idx):
                    x.grad = None
                    loss = problem.f_batch(x, idx) if idx is not None else problem.f(x)
                    if backward:
                        loss.backward()
                    return loss

                closure()
                e = x.grad - g_full                     # e_k = g_k - grad f(x_k)
                g2 = float(np.sum(mg.to_numpy(g_full) ** 2))
                e2 = float(np.sum(mg.to_numpy(e) ** 2))
                drv.step([x], k, closure)
                f_next = problem.value(x.data)
                rows.append((k, f_k, f_next, g2, e2, data_scale(problem, x.data)))
                if not math.isfinite(f_next):
                    diverged = k
                    break
                if abs(f_next) >= F_MAX:
                    notes.append(f"|f| passed {F_MAX:g} after step {k}: the run diverges and is "
                                 f"checked up to there")
                    break
        cols = np.array(rows, dtype=float).reshape(-1, 6)
        names = ("k", "f", "f_next", "g2", "e2", "scale")
        return Record({n: cols[:, i] for i, n in enumerate(names)}, diverged, notes)

    def evaluate(self, record, inst, params):
        L = inst.L
        f, fn, g2, e2 = record["f"], record["f_next"], record["g2"], record["e2"]
        return Evaluation(record["k"], fn - f, self.bound(L, g2, e2),
                          self.slack(f, fn, g2, e2, L, inst.dim, record["scale"]))

    def example(self):
        p = P.LeastSquares(m=50, dim=4, noise=0.5, seed=2, x0=np.ones(4))
        return Instance(p, words="least squares, m = 50, dimension 4, noise 0.5, data seed 2, "
                                 "start (1, 1, 1, 1)"), {"lr": 1.0 / p.L}


MINIBATCH_DESCENT = MiniBatchDescent()
