r"""A finite sum seen by ``S`` independent runs at once: :func:`stacked_view`.

The SGD theorems bound an expectation over the runs; the checks make ``S`` runs of the same
problem from the same start. Their iterates are the rows of an ``(S, d)`` array, and the view
gives, for every row at once,

* ``f(X)``: the full objective of each row (host closed forms);
* ``sigma2(X)``: the exact :math:`\sigma^2(x)=\frac1n\sum_i\|\nabla f_i(x)\|^2` of each row
  (both take the products ``Z = X A^T`` when the caller has them);
* ``batch_loss(X, idx)``: :math:`\sum_s\frac1{|B_s|}\sum_{i\in B_s}f_i(x_s)` as a minigrad
  Tensor, differentiated by the engine, so that the gradient of row ``s`` is row ``s``'s own
  mini-batch gradient. ``X`` is an ``(S, d)`` Tensor (the runs as the rows of one parameter)
  or a list of ``S`` Tensors of shape ``(d,)`` (one parameter per run).

Linear models (``LogisticRegression``, ``LeastSquares``) have vectorised closed forms
(:class:`LinearModelView`, checked against the problem's own engine values in tests/theorems);
any other ``FiniteSumProblem`` falls back to the problem's own methods, one row at a time
(:class:`RowByRowView`).
"""
from __future__ import annotations

import minigrad as mg
from minigrad import backend as B
from problems import FiniteSumProblem, LeastSquares, LogisticRegression

__all__ = ["LinearModelView", "RowByRowView", "stacked_view"]

np = B.host_xp()


def _as_matrix(X):
    """A list of ``(d,)`` Tensors or an ``(S, d)`` Tensor as one ``(S, d)`` Tensor."""
    return mg.stack(list(X), axis=0) if isinstance(X, (list, tuple)) else X


class LinearModelView:
    """The stacked view of logistic regression or least squares (module docstring)."""

    def __init__(self, problem):
        self.p = problem
        self.A = np.asarray(mg.to_numpy(problem.A), dtype=float)
        self.logistic = isinstance(problem, LogisticRegression)
        self.t = np.asarray(mg.to_numpy(problem.y if self.logistic else problem.b), dtype=float)
        self.mu = float(problem.mu) if self.logistic else 0.0
        self.n, self.d = self.A.shape
        self.a2 = np.sum(self.A * self.A, axis=1)                   # ||a_i||^2

    def products(self, X):
        r"""``Z = X A^T``: :math:`a_i^\top x_s` for every row ``s`` and sample ``i``."""
        return X @ self.A.T

    def f(self, X, Z=None):
        Z = X @ self.A.T if Z is None else Z
        if self.logistic:                 # mean_i log(1 + exp(-y_i a_i.x)) + mu/2 ||x||^2
            return np.logaddexp(0.0, -self.t * Z).mean(axis=1) + 0.5 * self.mu * np.sum(
                X * X, axis=1)
        return 0.5 * np.mean((Z - self.t) ** 2, axis=1)   # (1/2m) ||Ax - b||^2

    def sigma2(self, X, Z=None):
        r"""From the per-sample gradients :math:`\mu x+c_ia_i` (logistic,
        :math:`c_i=-y_i\sigma(-y_ia_i^\top x)`) or :math:`r_ia_i` (least squares,
        :math:`r_i=a_i^\top x-b_i`): :math:`\|\nabla f_i\|^2=\mu^2\|x\|^2+2\mu c_i\,a_i^\top x
        +c_i^2\|a_i\|^2`, or :math:`r_i^2\|a_i\|^2`, averaged over :math:`i`."""
        Z = X @ self.A.T if Z is None else Z
        if self.logistic:
            c = -self.t * 0.5 * (1.0 + np.tanh(-0.5 * self.t * Z))  # -y_i sigma(-y_i a_i.x)
            x2 = np.sum(X * X, axis=1)
            return np.mean(self.mu ** 2 * x2[:, None] + 2 * self.mu * c * Z
                           + c * c * self.a2, axis=1)
        r = Z - self.t
        return np.mean(r * r * self.a2, axis=1)

    def batch_loss(self, X, idx):
        X = _as_matrix(X)
        backend = X.backend
        A_idx = B.asarray(self.A[idx], backend=backend)            # (S, B, d)
        t_idx = B.asarray(self.t[idx], backend=backend)            # (S, B)
        z = mg.sum(A_idx * mg.reshape(X, (X.shape[0], 1, self.d)), axis=2)
        if self.logistic:
            terms = mg.softplus(-(z * t_idx)) + 0.5 * self.mu * mg.sum(X * X, axis=1,
                                                                        keepdims=True)
        else:
            r = z - t_idx
            terms = 0.5 * (r * r)
        return mg.sum(mg.mean(terms, axis=1))


class RowByRowView:
    """The stacked view of any ``FiniteSumProblem`` through its own methods, row by row."""

    def __init__(self, problem):
        self.p = problem
        self.n, self.d = problem.n, problem.dim

    def products(self, X):
        return None

    def f(self, X, Z=None):
        return np.array([self.p.value(B.asarray(x, backend=self.p.backend)) for x in X])

    def sigma2(self, X, Z=None):
        return np.array([self.p.sigma2(B.asarray(x, backend=self.p.backend)) for x in X])

    def batch_loss(self, X, idx):
        if not isinstance(X, (list, tuple)):
            raise TypeError("RowByRowView: the runs must be separate parameters "
                            "(parallel='separate') for a problem without a stacked closed form")
        total = None
        for x, i in zip(X, idx):
            term = self.p.f_batch(x, i)
            total = term if total is None else total + term
        return total


def stacked_view(problem):
    """The stacked view of a finite sum (module docstring)."""
    if isinstance(problem, (LogisticRegression, LeastSquares)):
        return LinearModelView(problem)
    if isinstance(problem, FiniteSumProblem):
        return RowByRowView(problem)
    raise TypeError(f"stacked_view: a problems.FiniteSumProblem is needed; got "
                    f"{type(problem).__name__}")
