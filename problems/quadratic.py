r"""Quadratics with a chosen spectrum: the model problem of every linear-rate claim.

.. math:: f(x) = \tfrac12 x^\top A x - b^\top x,\qquad
   A = Q\,\mathrm{diag}(\lambda_1,\dots,\lambda_d)\,Q^\top,

with :math:`Q` a random rotation (Haar: the QR factor of a Gaussian matrix with the signs of
:math:`\mathrm{diag}(R)` fixed) and :math:`\mu=\lambda_1\le\dots\le\lambda_d=L`, both endpoints
included exactly. Then :math:`\nabla f(x)=Ax-b`, :math:`\nabla^2 f=A`, so :math:`f` is
:math:`L`-smooth and :math:`\mu`-strongly convex with these exact constants, and with
:math:`b = Ax^*`: :math:`x^*` is a minimiser and :math:`f^*=-\tfrac12 b^\top x^*` (closed forms;
for :math:`\mu=0` the minimisers are :math:`x^*+\ker A`).

Source: the GD rates of docs/lectures.md section 1 (L1: :math:`\|x_k-x^*\|^2=O((1-\mu/L)^k)`); a
quadratic with eigenvalue :math:`\mu` along the start direction is the worst case for GD with
step :math:`1/L` on that claim (``x0="slowest"``).
"""
from __future__ import annotations

import minigrad as mg
from minigrad import backend as B
from problems import _validate as V
from problems.base import Problem, as_rng

__all__ = ["Quadratic", "SPACINGS"]

SPACINGS = ("linear", "log", "random")


def _spectrum(owner, dim, mu, L, spacing, rng):
    np = B.host_xp()
    if dim == 1:
        if mu != L:
            raise ValueError(f"{owner}: with dim=1 the spectrum {{mu, L}} has one eigenvalue, so "
                             f"mu must equal L; got mu={mu!r}, L={L!r}")
        return np.array([L])
    if spacing == "linear":
        lam = np.linspace(mu, L, dim)
    elif spacing == "log":
        if mu == 0:
            raise ValueError(f"{owner}: spacing='log' needs mu > 0; got mu={mu!r}")
        lam = np.geomspace(mu, L, dim)
    else:  # random: uniform in [mu, L] with both endpoints kept
        lam = np.sort(np.concatenate([[mu, L], rng.uniform(mu, L, size=dim - 2)]))
    lam[0], lam[-1] = mu, L  # exact endpoints (geomspace can round the last one)
    return lam


class Quadratic(Problem):
    r"""A quadratic :math:`f(x)=\tfrac12x^\top Ax-b^\top x` with spectrum in :math:`[\mu, L]`.

    Parameters: ``dim``; ``mu``, ``L`` (:math:`0\le\mu\le L`, both are eigenvalues of
    :math:`A`); ``spacing`` of the other eigenvalues: "linear" (equispaced), "log" (geometric,
    the usual model of an ill-conditioned spectrum) or "random" (uniform in :math:`[\mu,L]`),
    or ``eigenvalues`` given outright; ``seed`` (rotation, :math:`x^*` and start direction);
    ``x_star``: "random" (:math:`N(0,I)`), "zeros", or an array; ``x0``: "random" (a uniformly
    random direction), "slowest" (along the eigenvector of :math:`\mu`: the worst case of GD's
    linear rate), "fastest" (along that of :math:`L`), or an array; ``radius``:
    :math:`\|x_0-x^*\|` for the named starts.

    Constants (exact, closed form): ``mu``, ``L``; ``x_star``; ``f_star`` :math:`=-\tfrac12
    b^\top x^*`; ``A``, ``b``, ``eigenvalues`` (ascending) and ``eigenvectors`` (columns).
    """

    name = "quadratic"
    convex = True

    def __init__(self, dim: int = 10, mu: float = 0.1, L: float = 1.0, spacing: str = "linear",
                 seed: int = 0, x_star="random", x0="random", radius: float = 1.0,
                 eigenvalues=None, dtype="float64"):
        owner = type(self).__name__
        np = B.host_xp()
        rng = as_rng(seed)
        if eigenvalues is not None:
            lam = np.sort(np.asarray(B.to_numpy(eigenvalues), dtype=float).ravel())
            if lam.size == 0:
                raise ValueError(f"{owner}: eigenvalues must not be empty")
            dim = lam.size
            mu, L = V.check_mu_L(owner, float(lam[0]), float(lam[-1]))
        else:
            dim = V.positive_int(owner, "dim", dim)
            mu, L = V.check_mu_L(owner, mu, L)
            V.check_choice(owner, "spacing", spacing, SPACINGS)
            lam = _spectrum(owner, dim, mu, L, spacing, rng)
        G = rng.standard_normal((dim, dim))
        Q, R = np.linalg.qr(G)
        Q = Q * np.where(np.diag(R) < 0, -1.0, 1.0)  # Haar-distributed rotation
        A = (Q * lam) @ Q.T
        A = 0.5 * (A + A.T)
        self._init_from(A, lam, Q, x_star, x0, radius, rng, dtype)

    @classmethod
    def from_matrix(cls, A, b=None, x0=None, dtype="float64") -> Quadratic:
        r"""The quadratic :math:`\tfrac12x^\top Ax-b^\top x` for a given symmetric positive
        semi-definite ``A`` (``b`` defaults to 0); :math:`\mu, L` are its extreme eigenvalues,
        :math:`x^*` solves :math:`Ax=b` (least squares when :math:`A` is singular)."""
        np = B.host_xp()
        owner = cls.__name__
        A = np.array(B.to_numpy(A), dtype=float)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"{owner}: A must be a square matrix; got shape {A.shape}")
        if not np.allclose(A, A.T):
            raise ValueError(f"{owner}: A must be symmetric")
        lam, Q = np.linalg.eigh(A)
        if lam[0] < -1e-12 * max(1.0, abs(lam[-1])):
            raise ValueError(f"{owner}: A must be positive semi-definite; its smallest eigenvalue "
                             f"is {lam[0]!r}")
        lam = np.clip(lam, 0.0, None)
        d = A.shape[0]
        b = np.zeros(d) if b is None else np.asarray(B.to_numpy(b), dtype=float)
        if b.shape != (d,):
            raise ValueError(f"{owner}: b has shape {b.shape} but A is {A.shape}")
        x_star = np.linalg.lstsq(A, b, rcond=None)[0]
        self = cls.__new__(cls)
        self._init_from(A, lam, Q, x_star, np.zeros(d) if x0 is None else x0, 1.0,
                        B.host_rng(0), dtype, b=b)
        return self

    def _init_from(self, A, lam, Q, x_star, x0, radius, rng, dtype, b=None):
        np = B.host_xp()
        owner = type(self).__name__
        d = A.shape[0]
        if isinstance(x_star, str):
            V.check_choice(owner, "x_star", x_star, ("random", "zeros"))
            xs = rng.standard_normal(d) if x_star == "random" else np.zeros(d)
        else:
            xs = np.asarray(B.to_numpy(x_star), dtype=float)
            if xs.shape != (d,):
                raise ValueError(f"{owner}: x_star has shape {xs.shape} but dim={d}")
        if b is None:
            b = A @ xs
        if isinstance(x0, str):
            V.check_choice(owner, "x0", x0, ("random", "slowest", "fastest"))
            radius = V.nonnegative(owner, "radius", radius)
            if x0 == "random":
                u = rng.standard_normal(d)
                u /= np.linalg.norm(u)
            else:
                u = Q[:, 0] if x0 == "slowest" else Q[:, -1]
            x0 = xs + radius * u
        else:
            x0 = B.to_numpy(x0)
        self.A = B.asarray(A, dtype=dtype)
        self.b = B.asarray(b, dtype=dtype)
        self.eigenvalues = B.asarray(lam, dtype=dtype)
        self.eigenvectors = B.asarray(Q, dtype=dtype)
        self._setup(x0, shape=(d,), mu=float(lam[0]), L=float(lam[-1]), x_star=xs,
                    f_star=-0.5 * float(b @ xs), dtype=dtype)
        self.mu_kind = "strongly convex" if self.mu > 0 else None

    def _f(self, x):
        return 0.5 * mg.dot(x, mg.matmul(self.A, x)) - mg.dot(x, self.b)

    def grad_closed_form(self, x):
        """:math:`Ax - b`."""
        return self.A @ self._array(x) - self.b

    def hessian_closed_form(self, x=None):
        """:math:`A` (constant)."""
        return self.A.copy()

    @property
    def condition_number(self) -> float:
        """:math:`L/\\mu` (infinite when :math:`\\mu = 0`)."""
        return float("inf") if self.mu == 0 else self.L / self.mu
