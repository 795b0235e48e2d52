r"""Small neural-network problems for the deep-learning experiments, and a matrix problem for
Muon and Shampoo.

Each is a finite sum over its samples with two equivalent interfaces:

* functional, like every :class:`~problems.base.Problem`: the variable ``x`` is the vector of
  all the network's parameters (flattened in the order of ``model.parameters()``), ``f(x)`` /
  ``f_batch(x, idx)`` evaluate the network at ``x`` (so ``hvp``, ``hessian``, loss along a line
  :math:`L(w_0+\alpha w_1)` or on a plane, and the lecture's projections all work);
* object-oriented, like torch: ``model`` is a :class:`minigrad.nn.Module` whose parameters start
  at ``x0``; ``model_loss(idx)`` is the mini-batch loss through the module (dropout active in
  training mode), ready for ``loss.backward(); opt.step()``. ``load(x)`` writes ``x`` into the
  module, ``from_model()`` reads it back.

Data are drawn on the host from ``seed`` (:mod:`problems.datasets`); nothing is downloaded.
"""
from __future__ import annotations

import minigrad as mg
from minigrad import backend as B
from minigrad import nn
from problems import _validate as V
from problems.base import FiniteSumProblem, as_rng
from problems.datasets import DATASETS

__all__ = ["MLPClassification", "TeacherStudent", "MatrixRegression"]


class _ModelProblem(FiniteSumProblem):
    """A finite sum whose variable is the parameters of ``self.model``."""

    convex = False

    def _init_model(self):
        self._param_shapes = [tuple(p.shape) for p in self.model.parameters()]
        self._param_sizes = [int(p.data.size) for p in self.model.parameters()]

    def _split(self, x):
        """The parameter tensors (slices of ``x``, differentiable) in ``parameters()`` order."""
        flat = x.reshape(-1)
        out, start = [], 0
        for shape, size in zip(self._param_shapes, self._param_sizes):
            out.append(flat[start:start + size].reshape(shape))
            start += size
        return out

    def from_model(self):
        """The module's current parameters as one array of the problem's shape (a copy)."""
        params = self.model.parameters()
        xp = B.get_array_module(params[0].data)
        flat = xp.concatenate([p.data.reshape(-1) for p in params])
        shape = getattr(self, "shape", flat.shape)
        return flat.reshape(shape)

    def load(self, x) -> None:
        """Write ``x`` (the problem's shape) into the module's parameters, in place."""
        flat = self._array(x).reshape(-1)
        if flat.size != self.dim:
            raise ValueError(f"{type(self).__name__}: x has {flat.size} entries but the model has "
                             f"{self.dim} parameters")
        start = 0
        for p, size in zip(self.model.parameters(), self._param_sizes):
            p.data[...] = flat[start:start + size].reshape(p.shape)
            start += size

    def parameters(self) -> list:
        """The module's parameters (what a torch-style optimizer is built over)."""
        return self.model.parameters()

    def model_loss(self, idx=None):
        """The mean loss of the samples ``idx`` (all when None) through ``model``."""
        idx = self._index(idx)
        return mg.mean(self._sample_losses(self.model(self._inputs(idx)), idx))

    def _inputs(self, idx):
        return self.X if idx is None else self.X[idx]

    def _terms(self, x, idx):
        return self._sample_losses(self._forward(self._split(x), self._inputs(idx)), idx)


class _MLPForward:
    """The functional forward pass of ``nn.MLP`` on a list of (W, b) tensors (no dropout)."""

    def _forward(self, params, h):
        n_layers = len(params) // 2
        for k in range(n_layers):
            W, b = params[2 * k], params[2 * k + 1]
            h = mg.matmul(h, W.T) + b  # h may be a data array: keep the Tensor op
            if k < n_layers - 1:
                h = self.model.activation(h)
        return h


class MLPClassification(_MLPForward, _ModelProblem):
    r"""An MLP classifier with softmax cross-entropy on a synthetic 2-D (or ``dim``-D) data set:

    .. math:: f(w)=\frac1m\sum_{i=1}^m\Bigl[\log\sum_k e^{z_k(a_i;w)}-z_{y_i}(a_i;w)\Bigr],

    :math:`z(a;w)` the logits of ``nn.MLP([d_in, *hidden, n_classes])``. ``dataset``: "moons"
    (two classes), "spirals" or "blobs" (see :mod:`problems.datasets`; ``data_kwargs`` are
    passed on, e.g. ``noise``, ``n_classes``, ``dim``). Non-convex: no ``mu``, ``L``, ``x_star``;
    :math:`f^*\ge0` (0 is approached when the data are separable). ``seed`` draws the data and
    the He/Xavier initialisation (``init_seed`` overrides the latter).
    """

    name = "mlp_classification"

    def __init__(self, dataset: str = "moons", m: int = 200, hidden=(16, 16),
                 activation: str = "tanh", dropout: float = 0.0, seed: int = 0,
                 init_seed: int | None = None, dtype="float64", **data_kwargs):
        owner = type(self).__name__
        V.check_choice(owner, "dataset", dataset, tuple(DATASETS))
        hidden = tuple(V.positive_int(owner, "hidden", h) for h in hidden)
        X, y = DATASETS[dataset](m=m, seed=seed, **data_kwargs)
        c = int(y.max()) + 1
        self.dataset = dataset
        self.n_classes = c
        self.X = B.asarray(X, dtype=dtype)
        self.labels = B.asarray(y)
        self.Y = B.asarray(B.host_xp().eye(c)[y], dtype=dtype)
        self.n = int(X.shape[0])
        self.model = nn.MLP([X.shape[1], *hidden, c], activation=activation, dropout=dropout,
                            seed=seed if init_seed is None else init_seed, dtype=dtype)
        self._init_model()
        self._setup(self.from_model(), dtype=dtype)

    def _sample_losses(self, logits, idx):
        Y = self.Y if idx is None else self.Y[idx]
        return mg.logsumexp(logits, axis=1) - mg.sum(logits * Y, axis=1)

    def accuracy(self, x=None) -> float:
        """The training accuracy at ``x`` (default: the module's current parameters)."""
        xp = B.get_array_module(self.X)
        with mg.no_grad():
            if x is None:
                logits = self.model.eval()(self.X).data
                self.model.train()
            else:
                logits = self._forward(self._split(self._tensor(x)), self.X).data
        return float(xp.mean(xp.argmax(logits, axis=1) == self.labels))


class TeacherStudent(_MLPForward, _ModelProblem):
    r"""Teacher-student regression: a random teacher network labels Gaussian inputs, a student
    network fits them in mean squared error:

    .. math:: f(w)=\frac1m\sum_{i=1}^m\tfrac12\|s(a_i;w)-t(a_i)-\text{noise}\cdot\xi_i\|^2,
       \qquad a_i\sim N(0,I_{d_{in}}).

    The teacher is ``nn.MLP([d_in, *teacher_hidden, d_out])`` initialised from
    ``teacher_seed`` (default ``seed + 1``, so that the student never starts at the teacher; an
    explicit ``teacher_seed`` equal to ``seed`` with equal architectures is refused for that
    reason), the student ``nn.MLP([d_in, *hidden, d_out])`` from ``seed``. When the
    architectures agree and ``noise`` is 0, the teacher's weights are a global minimiser:
    ``x_star`` = the teacher's parameters and ``f_star`` = 0 (one of many: hidden units can be
    permuted, and for tanh their signs flipped). Otherwise ``x_star`` and ``f_star`` are None.
    """

    name = "teacher_student"

    def __init__(self, d_in: int = 5, hidden=(16,), teacher_hidden=None, d_out: int = 1,
                 m: int = 256, noise: float = 0.0, activation: str = "tanh", seed: int = 0,
                 teacher_seed: int | None = None, dtype="float64"):
        owner = type(self).__name__
        if teacher_seed is None:
            teacher_seed = seed + 1
        d_in = V.positive_int(owner, "d_in", d_in)
        d_out = V.positive_int(owner, "d_out", d_out)
        m = V.positive_int(owner, "m", m)
        noise = V.nonnegative(owner, "noise", noise)
        hidden = tuple(V.positive_int(owner, "hidden", h) for h in hidden)
        teacher_hidden = hidden if teacher_hidden is None else tuple(
            V.positive_int(owner, "teacher_hidden", h) for h in teacher_hidden)
        if teacher_seed == seed and teacher_hidden == hidden:
            raise ValueError(f"{owner}: teacher_seed={teacher_seed} equals seed with the same "
                             "architecture: the student would start at the teacher (f(x_0) = 0)")
        rng = as_rng(seed)
        X = rng.standard_normal((m, d_in))
        self.teacher = nn.MLP([d_in, *teacher_hidden, d_out], activation=activation,
                              seed=teacher_seed, dtype=dtype)
        self.X = B.asarray(X, dtype=dtype)
        with mg.no_grad():
            T = self.teacher(self.X).data
        self.T = T + noise * B.asarray(rng.standard_normal(T.shape), dtype=dtype)
        self.n = m
        self.model = nn.MLP([d_in, *hidden, d_out], activation=activation, seed=seed,
                            dtype=dtype)
        self._init_model()
        x_star = f_star = None
        if teacher_hidden == hidden and noise == 0:
            xp = B.get_array_module(self.X)
            x_star = xp.concatenate([p.data.reshape(-1) for p in self.teacher.parameters()])
            f_star = 0.0
        self._setup(self.from_model(), x_star=x_star, f_star=f_star, dtype=dtype)

    def _sample_losses(self, out, idx):
        T = self.T if idx is None else self.T[idx]
        r = out - T
        return 0.5 * mg.sum(r * r, axis=1)


class MatrixRegression(_ModelProblem):
    r"""Matrix (multi-output linear) regression with a low-rank target: a linear layer
    :math:`W\in\mathbb{R}^{n_{out}\times n_{in}}` fits :math:`y_i=W_{true}a_i+\text{noise}`,

    .. math:: f(W)=\frac1{2m}\|AW^\top-Y\|_F^2=\frac1m\sum_{i=1}^m\tfrac12\|Wa_i-y_i\|_2^2,

    :math:`W_{true}=UV^\top/\sqrt r` of rank ``rank`` (:math:`U,V` Gaussian; full rank when
    ``rank`` is None), inputs :math:`a_i=\mathrm{diag}(s)z_i`, :math:`z_i\sim N(0,I)`, with
    scales :math:`s` geometric from 1 to :math:`1/\sqrt{\text{cond}}` so the input covariance is
    ill-conditioned (which Shampoo's right preconditioner undoes). The variable is the matrix
    :math:`W` itself (shape ``(n_out, n_in)``), the parameter Muon and Shampoo update; ``model``
    is ``nn.Linear(n_in, n_out, bias=False)`` holding it.

    Constants (closed form): :math:`\nabla^2f=I_{n_{out}}\otimes A^\top A/m`, so :math:`\mu`,
    :math:`L` are the extreme eigenvalues of :math:`A^\top A/m`; :math:`W^*` solves the least-
    squares problem, :math:`f^*=f(W^*)` (0 without noise when :math:`m\ge n_{in}`).
    """

    name = "matrix_regression"
    convex = True

    def __init__(self, n_out: int = 8, n_in: int = 16, rank: int | None = 2, m: int = 256,
                 noise: float = 0.0, cond: float = 10.0, seed: int = 0, x0=None,
                 dtype="float64"):
        owner = type(self).__name__
        np = B.host_xp()
        n_out = V.positive_int(owner, "n_out", n_out)
        n_in = V.positive_int(owner, "n_in", n_in)
        m = V.positive_int(owner, "m", m)
        noise = V.nonnegative(owner, "noise", noise)
        cond = V.positive(owner, "cond", cond)
        if cond < 1:
            raise ValueError(f"{owner}: cond must be >= 1; got cond={cond!r}")
        rng = as_rng(seed)
        if rank is None:
            W_true = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
        else:
            rank = V.positive_int(owner, "rank", rank)
            if rank > min(n_out, n_in):
                raise ValueError(f"{owner}: rank must be <= min(n_out, n_in) = "
                                 f"{min(n_out, n_in)}; got rank={rank!r}")
            W_true = rng.standard_normal((n_out, rank)) @ rng.standard_normal((rank, n_in))
            W_true /= np.sqrt(rank * n_in)
        scales = np.geomspace(1.0, 1.0 / np.sqrt(cond), n_in)
        A = rng.standard_normal((m, n_in)) * scales
        Y = A @ W_true.T + noise * rng.standard_normal((m, n_out))
        lam = np.linalg.eigvalsh(A.T @ A / m)
        W_star = np.linalg.lstsq(A, Y, rcond=None)[0].T
        R = A @ W_star.T - Y
        self.X = B.asarray(A, dtype=dtype)
        self.Yt = B.asarray(Y, dtype=dtype)
        self.W_true = B.asarray(W_true, dtype=dtype)
        self.n = m
        self.model = nn.Linear(n_in, n_out, bias=False, seed=seed, dtype=dtype)
        self._init_model()
        x0 = np.zeros((n_out, n_in)) if x0 is None else B.to_numpy(x0)
        mu = max(float(lam[0]), 0.0) if m >= n_in else 0.0
        self._setup(x0, shape=(n_out, n_in), mu=mu, L=float(lam[-1]), x_star=W_star,
                    f_star=0.5 * float(np.sum(R * R)) / m, dtype=dtype)
        self.mu_kind = "strongly convex" if self.mu > 0 else None
        self.load(self.x0)

    def _split(self, x):
        return [x]

    def _forward(self, params, h):
        return mg.matmul(h, params[0].T)

    def _sample_losses(self, out, idx):
        Y = self.Yt if idx is None else self.Yt[idx]
        r = out - Y
        return 0.5 * mg.sum(r * r, axis=1)

    def grad_closed_form(self, x):
        r""":math:`(WA^\top-Y^\top)A/m`."""
        W = self._array(x)
        return (W @ self.X.T - self.Yt.T) @ self.X / self.n
