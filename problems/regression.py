r"""Linear models as finite sums: least squares, binary logistic regression (the lectures'
strongly convex example) and softmax regression (with the heavy-tailed class imbalance of
Kunstner et al. 2024).

All three draw their data on the host from ``seed`` and move them to the current backend; the
constants are computed on the host from the same arrays.
"""
from __future__ import annotations

import minigrad as mg
from minigrad import backend as B
from problems import _validate as V
from problems.base import FiniteSumProblem, as_rng
from problems.datasets import gaussian_blobs
from problems.newton import newton_minimize

__all__ = ["LeastSquares", "LogisticRegression", "SoftmaxRegression"]


def _host_matrix(owner, name, value, ndim):
    arr = B.host_xp().asarray(B.to_numpy(value))
    if arr.ndim != ndim:
        raise ValueError(f"{owner}: {name} must have {ndim} dimension(s); got shape {arr.shape}")
    return arr


def _sigmoid(z):
    """The logistic function on backend arrays, stable for any z."""
    xp = B.get_array_module(z)
    return 0.5 * (1.0 + xp.tanh(0.5 * z))


class _LinearModel(FiniteSumProblem):
    """Shared pieces: the design matrix ``A`` (m, dim) on the backend, and x0."""

    def _x0(self, owner, x0, shape, dtype):
        if x0 is None:
            return B.host_xp().zeros(shape)
        x0 = B.to_numpy(x0)
        if tuple(x0.shape) != tuple(shape):
            raise ValueError(f"{owner}: x0 has shape {tuple(x0.shape)} but the problem's "
                             f"variable has shape {tuple(shape)}")
        return x0

    def _per_sample_grads_fast(self, x, idx=None):
        return self.per_sample_grads_closed_form(x, None if idx is None else self._index(idx))

    def _rows(self, M, idx):
        return M if idx is None else M[idx]


class LeastSquares(_LinearModel):
    r"""Linear regression (L3: "GD for linear regression"):

    .. math:: f(x) = \frac1{2m}\|Ax-b\|_2^2
       = \frac1m\sum_{i=1}^m \underbrace{\tfrac12(a_i^\top x-b_i)^2}_{f_i(x)}.

    Data: :math:`A_{ij}\sim N(0,1)`, :math:`b=Ax_{true}+\text{noise}\cdot N(0,I)`,
    :math:`x_{true}\sim N(0,I)` (or ``A``, ``b`` given). Constants (closed form):
    :math:`\nabla^2 f = A^\top A/m`, so :math:`\mu=\lambda_{\min}(A^\top A/m)` (0 when
    :math:`m<\text{dim}`) and :math:`L=\lambda_{\max}(A^\top A/m)`; :math:`x^*` is the
    (minimum-norm) least-squares solution, :math:`f^*=f(x^*)`. ``n = m`` terms;
    :math:`\nabla f_i(x)=a_i(a_i^\top x-b_i)`.
    """

    name = "least_squares"
    convex = True

    def __init__(self, m: int = 100, dim: int = 10, noise: float = 0.1, seed: int = 0,
                 A=None, b=None, x0=None, dtype="float64"):
        owner = type(self).__name__
        np = B.host_xp()
        if A is None:
            m = V.positive_int(owner, "m", m)
            dim = V.positive_int(owner, "dim", dim)
            noise = V.nonnegative(owner, "noise", noise)
            rng = as_rng(seed)
            A = rng.standard_normal((m, dim))
            self.x_true = B.asarray(rng.standard_normal(dim), dtype=dtype)
            if b is None:
                b = A @ B.to_numpy(self.x_true) + noise * rng.standard_normal(m)
        else:
            A = _host_matrix(owner, "A", A, 2).astype(float)
            m, dim = A.shape
            self.x_true = None
            if b is None:
                raise ValueError(f"{owner}: b is required when A is given")
        b = _host_matrix(owner, "b", b, 1).astype(float)
        if b.shape != (m,):
            raise ValueError(f"{owner}: b has shape {b.shape} but A has {m} rows")
        lam = np.linalg.eigvalsh(A.T @ A / m)
        x_star = np.linalg.lstsq(A, b, rcond=None)[0]
        r = A @ x_star - b
        self.A = B.asarray(A, dtype=dtype)
        self.b = B.asarray(b, dtype=dtype)
        self.n = m
        mu = max(float(lam[0]), 0.0) if m >= dim else 0.0
        self._setup(self._x0(owner, x0, (dim,), dtype), shape=(dim,), mu=mu, L=float(lam[-1]),
                    x_star=x_star, f_star=0.5 * float(r @ r) / m, dtype=dtype)
        self.mu_kind = "strongly convex" if self.mu > 0 else None

    def _terms(self, x, idx):
        r = mg.matmul(self._rows(self.A, idx), x) - self._rows(self.b, idx)
        return 0.5 * (r * r)

    def grad_closed_form(self, x):
        r""":math:`A^\top(Ax-b)/m`."""
        x = self._array(x)
        return self.A.T @ (self.A @ x - self.b) / self.n

    def hessian_closed_form(self, x=None):
        r""":math:`A^\top A/m`."""
        return self.A.T @ self.A / self.n

    def per_sample_grads_closed_form(self, x, idx=None):
        r""":math:`\nabla f_i(x)=a_i(a_i^\top x-b_i)`, stacked (rows ``idx``)."""
        x = self._array(x)
        A, b = self._rows(self.A, idx), self._rows(self.b, idx)
        return A * (A @ x - b)[:, None]


class LogisticRegression(_LinearModel):
    r"""Strongly convex binary logistic regression (L1, L2; docs/lectures.md section 9):

    .. math:: f(x)=\frac\mu2\|x\|_2^2
       +\frac1m\sum_{i=1}^m\log\bigl(1+\exp(-y_i\langle a_i,x\rangle)\bigr),
       \qquad f_i(x)=\frac\mu2\|x\|_2^2+\log\bigl(1+e^{-y_i\langle a_i,x\rangle}\bigr),

    with the lecture's defaults :math:`m=200`, :math:`n=10` (here ``dim``: ``n`` is the number of
    terms of the finite sum, :math:`=m`) and :math:`\mu=1`. Data: :math:`a_i\sim N(0,I)`,
    :math:`y_i=\mathrm{sign}(\langle a_i,x_{true}\rangle+\text{label\_noise}\cdot\xi_i)`,
    :math:`x_{true},\xi\sim N(0,\cdot)`.

    Constants: :math:`\nabla^2 f(x)=\mu I+\frac1mA^\top D(x)A` with
    :math:`D=\mathrm{diag}(\sigma(z_i)\sigma(-z_i))`, :math:`0<D_{ii}\le\frac14`, so ``mu`` is
    :math:`\mu` and :math:`L=\mu+\frac{\|A\|_2^2}{4m}` (the lecture's value; an upper bound that
    the Hessian approaches where the margins are near 0). :math:`x^*` has no closed form: it is
    computed once by Newton's method (engine Hessian, gradient norm below
    :math:`10^{-12}` in float64) on first access, and :math:`f^*=f(x^*)`; for :math:`\mu=0`
    ``x_star`` is None (the minimum need not be attained).
    """

    name = "logistic_regression"
    convex = True

    def __init__(self, m: int = 200, dim: int = 10, mu: float = 1.0, seed: int = 0,
                 label_noise: float = 1.0, A=None, y=None, x0=None, dtype="float64"):
        owner = type(self).__name__
        np = B.host_xp()
        mu = V.nonnegative(owner, "mu", mu)
        if A is None:
            m = V.positive_int(owner, "m", m)
            dim = V.positive_int(owner, "dim", dim)
            label_noise = V.nonnegative(owner, "label_noise", label_noise)
            rng = as_rng(seed)
            A = rng.standard_normal((m, dim))
            x_true = rng.standard_normal(dim)
            y = np.sign(A @ x_true + label_noise * rng.standard_normal(m))
            y[y == 0] = 1.0
        else:
            A = _host_matrix(owner, "A", A, 2).astype(float)
            m, dim = A.shape
            if y is None:
                raise ValueError(f"{owner}: y is required when A is given")
        y = _host_matrix(owner, "y", y, 1).astype(float)
        if y.shape != (m,):
            raise ValueError(f"{owner}: y has shape {y.shape} but A has {m} rows")
        if not np.all((y == 1) | (y == -1)):
            raise ValueError(f"{owner}: labels y must be -1 or +1")
        self.A = B.asarray(A, dtype=dtype)
        self.y = B.asarray(y, dtype=dtype)
        self.n = m
        L = mu + float(np.linalg.norm(A, 2)) ** 2 / (4 * m)
        self._setup(self._x0(owner, x0, (dim,), dtype), shape=(dim,), mu=mu, L=L, dtype=dtype,
                    lazy_star=mu > 0)
        self.mu_kind = "strongly convex" if mu > 0 else None

    def _compute_star(self):
        x, _ = newton_minimize(self._flat_f, self.x0.reshape(-1) * 0.0)
        return x.reshape(self.shape), None

    def _terms(self, x, idx):
        z = mg.matmul(self._rows(self.A, idx), x) * self._rows(self.y, idx)
        return mg.softplus(-z) + 0.5 * self.mu * mg.sum(x * x)

    def grad_closed_form(self, x):
        r""":math:`\mu x-\frac1mA^\top\bigl(y\odot\sigma(-y\odot Ax)\bigr)`."""
        x = self._array(x)
        z = self.y * (self.A @ x)
        return self.mu * x - self.A.T @ (self.y * _sigmoid(-z)) / self.n

    def hessian_closed_form(self, x):
        r""":math:`\mu I+\frac1mA^\top\mathrm{diag}(\sigma(z)\sigma(-z))A`, :math:`z=y\odot Ax`."""
        x = self._array(x)
        xp = B.get_array_module(x)
        z = self.y * (self.A @ x)
        s = _sigmoid(z) * _sigmoid(-z)
        return self.mu * xp.eye(self.dim, dtype=self.dtype) + (self.A.T * s) @ self.A / self.n

    def per_sample_grads_closed_form(self, x, idx=None):
        r""":math:`\nabla f_i(x)=\mu x-y_i\sigma(-y_i a_i^\top x)a_i`, stacked."""
        x = self._array(x)
        A, y = self._rows(self.A, idx), self._rows(self.y, idx)
        c = y * _sigmoid(-y * (A @ x))
        return self.mu * x[None, :] - A * c[:, None]


class SoftmaxRegression(_LinearModel):
    r"""Multinomial logistic (softmax) regression with an optional ridge term; the variable is
    the weight matrix :math:`W\in\mathbb{R}^{c\times d}` (a natural matrix parameter):

    .. math:: f(W)=\frac1m\sum_{i=1}^m f_i(W),\qquad
       f_i(W)=\log\sum_{k=1}^c e^{(Wa_i)_k}-(Wa_i)_{y_i}+\frac\mu2\|W\|_F^2 .

    Constants: the cross-entropy Hessian of sample :math:`i` is
    :math:`(\mathrm{diag}(p_i)-p_ip_i^\top)\otimes a_ia_i^\top` with
    :math:`\|\mathrm{diag}(p)-pp^\top\|_2\le\frac12` (Böhning 1992), so
    :math:`L=\mu+\frac{\lambda_{\max}(A^\top A)}{2m}` (an upper bound), and ``mu`` is exactly
    :math:`\mu`: adding the same vector to every row of :math:`W` leaves the cross-entropy
    unchanged, so its Hessian is singular. :math:`x^*` (for :math:`\mu>0`) by Newton's method once,
    on first access (dense engine Hessian for at most 300 weights, else conjugate gradients on
    engine Hessian-vector products); None for :math:`\mu=0`.

    Build one from data (``X`` (m, d), integer ``y``), or with :meth:`heavy_tailed` (Kunstner
    et al. 2024) or :meth:`blobs`. ``groups`` (one integer per sample) defines
    :meth:`group_losses`; by default each class is a group.
    """

    name = "softmax_regression"
    convex = True

    def __init__(self, X, y, n_classes: int | None = None, mu: float = 0.0, groups=None,
                 x0=None, dtype="float64"):
        owner = type(self).__name__
        np = B.host_xp()
        mu = V.nonnegative(owner, "mu", mu)
        X = _host_matrix(owner, "X", X, 2).astype(float)
        y = _host_matrix(owner, "y", y, 1)
        m, d = X.shape
        if y.shape != (m,):
            raise ValueError(f"{owner}: y has shape {y.shape} but X has {m} rows")
        if y.dtype.kind not in "iu":
            raise ValueError(f"{owner}: labels y must be integers; got dtype {y.dtype}")
        c = int(y.max()) + 1 if n_classes is None else V.positive_int(owner, "n_classes",
                                                                       n_classes, minimum=2)
        if int(y.min()) < 0 or int(y.max()) >= c:
            raise ValueError(f"{owner}: labels must lie in [0, {c}); got the range "
                             f"[{int(y.min())}, {int(y.max())}]")
        groups = y if groups is None else _host_matrix(owner, "groups", groups, 1)
        if groups.shape != (m,):
            raise ValueError(f"{owner}: groups has shape {groups.shape} but X has {m} rows")
        self.X = B.asarray(X, dtype=dtype)
        self.labels = B.asarray(y.astype(np.int64))
        self.Y = B.asarray(np.eye(c)[y], dtype=dtype)  # one-hot labels
        self.groups = B.asarray(groups.astype(np.int64))
        self.n_groups = int(groups.max()) + 1
        self.n_classes = c
        self.n = m
        L = mu + float(np.linalg.eigvalsh(X.T @ X)[-1]) / (2 * m)
        self._setup(self._x0(owner, x0, (c, d), dtype), shape=(c, d), mu=mu, L=L, dtype=dtype,
                    lazy_star=mu > 0)
        self.mu_kind = "strongly convex" if mu > 0 else None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def heavy_tailed(cls, k: int = 5, mu: float = 0.0, inputs: str = "uniform",
                     dim: int | None = None, seed: int = 0, dtype="float64"):
        r"""The heavy-tailed class imbalance of Kunstner et al. (2024, "Heavy-Tailed Class
        Imbalance and Why Adam Outperforms Gradient Descent on Language Models", the linear
        model on synthetic data; L1): for :math:`i=0,\dots,k-1`, :math:`2^i` classes with
        :math:`2^{k-i}` samples each, so each frequency group :math:`i` holds :math:`2^k`
        samples, :math:`m=k2^k` samples, :math:`c=2^k-1` classes (class frequencies fall like
        Zipf's law in steps). Inputs are independent, "uniform" on [0, 1) (their default) or
        "gaussian"; ``dim`` defaults to :math:`(k+1)2^k`, as in the paper's code, which makes
        the data separable. ``groups`` are the frequency groups (0 = the most frequent class).
        """
        owner = cls.__name__
        k = V.positive_int(owner, "k", k, minimum=2)
        V.check_choice(owner, "inputs", inputs, ("uniform", "gaussian"))
        np, rng = B.host_xp(), as_rng(seed)
        ys, gs, cls_id = [], [], 0
        for i in range(k):
            for _ in range(2 ** i):
                ys.append(np.full(2 ** (k - i), cls_id, dtype=np.int64))
                gs.append(np.full(2 ** (k - i), i, dtype=np.int64))
                cls_id += 1
        y, groups = np.concatenate(ys), np.concatenate(gs)
        d = (k + 1) * 2 ** k if dim is None else V.positive_int(owner, "dim", dim)
        X = rng.random((y.size, d)) if inputs == "uniform" else rng.standard_normal((y.size, d))
        prob = cls(X, y, n_classes=cls_id, mu=mu, groups=groups, dtype=dtype)
        prob.k = k
        return prob

    @classmethod
    def blobs(cls, m: int = 200, dim: int = 5, n_classes: int = 3, mu: float = 0.1,
              spread: float = 1.0, seed: int = 0, dtype="float64"):
        """Softmax regression on Gaussian blobs (:func:`problems.datasets.gaussian_blobs`)."""
        X, y = gaussian_blobs(m=m, n_classes=n_classes, dim=dim, spread=spread, seed=seed)
        return cls(X, y, n_classes=n_classes, mu=mu, dtype=dtype)

    # ------------------------------------------------------------------ objective
    def _compute_star(self):
        x, _ = newton_minimize(self._flat_f, self.x0.reshape(-1) * 0.0)
        return x.reshape(self.shape), None

    def _cross_entropy(self, W, idx):
        logits = mg.matmul(self._rows(self.X, idx), W.T)
        return mg.logsumexp(logits, axis=1) - mg.sum(logits * self._rows(self.Y, idx), axis=1)

    def _terms(self, x, idx):
        ce = self._cross_entropy(x, idx)
        return ce + 0.5 * self.mu * mg.sum(x * x) if self.mu > 0 else ce

    def group_losses(self, x):
        """The mean cross-entropy (without the ridge term) of each group of samples, as an array
        of length ``n_groups`` (for :meth:`heavy_tailed`: group 0 holds the most frequent
        class, group k-1 the 2^(k-1) rarest)."""
        with mg.no_grad():
            ce = self._cross_entropy(self._tensor(x), None).data
        xp = B.get_array_module(ce)
        counts = xp.bincount(self.groups, minlength=self.n_groups)
        sums = xp.bincount(self.groups, weights=ce, minlength=self.n_groups)
        return sums / counts

    def probabilities(self, x, idx=None):
        """The softmax probabilities (rows ``idx``) as an array."""
        with mg.no_grad():
            return mg.softmax(mg.matmul(self._rows(self.X, self._index(idx)), self._tensor(x).T),
                              axis=1).data

    def accuracy(self, x) -> float:
        xp = B.get_array_module(self.X)
        pred = xp.argmax(self.X @ self._array(x).T, axis=1)
        return float(xp.mean(pred == self.labels))

    def grad_closed_form(self, x):
        r""":math:`\frac1m(P-Y)^\top A+\mu W`, :math:`P` the softmax probabilities."""
        W = self._array(x)
        P = self.probabilities(W)
        return (P - self.Y).T @ self.X / self.n + self.mu * W

    def per_sample_grads_closed_form(self, x, idx=None):
        r""":math:`\nabla f_i(W)=(p_i-e_{y_i})a_i^\top+\mu W`, stacked to (len(idx), c, d)."""
        W = self._array(x)
        X, Y = self._rows(self.X, idx), self._rows(self.Y, idx)
        with mg.no_grad():
            P = mg.softmax(self._tensor(X @ W.T), axis=1).data
        return (P - Y)[:, :, None] * X[:, None, :] + self.mu * W[None]
