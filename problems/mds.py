r"""Multidimensional scaling (L1's example of a non-convex problem).

Given target distances between :math:`N` objects, find coordinates
:math:`W\in\mathbb{R}^{N\times d}` (row :math:`W_i` is object :math:`i`). Two forms:

* "squared" (the lecture's, L1): :math:`L(W)=\sum_{i,j=1}^N\bigl(\|W_i-W_j\|_2^2-D_{ij}\bigr)^2`,
  where :math:`D_{ij}` plays the role of a *squared* distance;
* "raw" (Kruskal's raw stress): :math:`L(W)=\sum_{i,j=1}^N\bigl(\|W_i-W_j\|_2-d_{ij}\bigr)^2`
  with unsquared distances :math:`d_{ij}` (not differentiable where two points coincide; the
  engine takes the gradient of the norm at 0 as 0).

The double sum runs over ordered pairs, so each unordered pair :math:`p=\{i<j\}` counts twice
and the diagonal contributes 0. As a finite sum over the :math:`P=N(N-1)/2` pairs,
:math:`f_p=2P\,t_p` with :math:`t_p` the pair's squared residual, so that
:math:`\frac1P\sum_pf_p` is exactly the lecture's :math:`L(W)`.

Constants: :math:`L(W)` is invariant under rotations and translations of all points, so it is
not strongly convex (``mu`` None) and, being quartic, not globally smooth (``L`` None). For
exactly embeddable data (:meth:`MDS.synthetic`: the distances of points in
:math:`\mathbb{R}^d`) :math:`f^*=0`, attained at the generating points (``x_star``). The
capitals' great-circle distances (:meth:`MDS.capitals`) are not exactly embeddable in the plane
(they lie on a sphere), so their :math:`f^*>0` is unknown (None).
"""
from __future__ import annotations

import csv
import importlib.resources
import math

import minigrad as mg
from minigrad import backend as B
from problems import _validate as V
from problems.base import FiniteSumProblem, as_rng

__all__ = ["MDS", "load_capitals", "haversine_km", "capital_distances", "EARTH_RADIUS_KM"]

EARTH_RADIUS_KM = 6371.0


def load_capitals() -> tuple[list, list, list]:
    """``(names, latitudes, longitudes)`` (degrees) of the European capitals in
    ``problems/data/capitals.csv`` (well-known public coordinates of the city centres)."""
    text = importlib.resources.files("problems").joinpath("data/capitals.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    return ([r["name"] for r in rows], [float(r["lat"]) for r in rows],
            [float(r["lon"]) for r in rows])


def haversine_km(lat1, lon1, lat2, lon2, radius: float = EARTH_RADIUS_KM) -> float:
    r"""The great-circle distance (km) between two points given in degrees (haversine formula):
    :math:`2R\arcsin\sqrt{\sin^2\frac{\Delta\varphi}2
    +\cos\varphi_1\cos\varphi_2\sin^2\frac{\Delta\lambda}2}`."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(min(1.0, math.sqrt(a)))


def capital_distances(radius: float = EARTH_RADIUS_KM):
    """``(names, D)``: the capitals' names and their haversine distance matrix in km (host
    array), computed at load time from ``capitals.csv``."""
    names, lat, lon = load_capitals()
    N = len(names)
    D = B.host_xp().zeros((N, N))
    for i in range(N):
        for j in range(i + 1, N):
            D[i, j] = D[j, i] = haversine_km(lat[i], lon[i], lat[j], lon[j], radius)
    return names, D


class MDS(FiniteSumProblem):
    r"""Multidimensional scaling of an :math:`N\times N` target matrix ``D`` into ``dim``
    dimensions; the variable is :math:`W` of shape (N, dim). ``form`` is "squared" (``D`` holds
    squared distances, the lecture's form) or "raw" (``D`` holds distances). See the module
    docstring for the formulas and constants. ``x0``: an array, or by default
    :math:`N(0,\text{init\_scale}^2)` entries from ``seed``.
    """

    name = "mds"
    convex = False

    def __init__(self, D, dim: int = 2, form: str = "squared", x0=None, seed: int = 0,
                 init_scale: float = 1.0, x_star=None, f_star=None, names=None,
                 dtype="float64"):
        owner = type(self).__name__
        np = B.host_xp()
        V.check_choice(owner, "form", form, ("squared", "raw"))
        dim = V.positive_int(owner, "dim", dim)
        init_scale = V.positive(owner, "init_scale", init_scale)
        D = np.asarray(B.to_numpy(D), dtype=float)
        if D.ndim != 2 or D.shape[0] != D.shape[1] or D.shape[0] < 2:
            raise ValueError(f"{owner}: D must be a square matrix of at least 2 objects; got "
                             f"shape {D.shape}")
        if not np.allclose(D, D.T) or np.any(np.diag(D) != 0) or np.any(D < 0):
            raise ValueError(f"{owner}: D must be symmetric, non-negative, with a zero diagonal")
        N = D.shape[0]
        I, J = np.triu_indices(N, k=1)
        self.form = form
        self.names = names
        self.D = B.asarray(D, dtype=dtype)
        self._I, self._J = B.asarray(I), B.asarray(J)
        self._d = B.asarray(D[I, J], dtype=dtype)
        self.n = I.size
        if x0 is None:
            x0 = init_scale * as_rng(seed).standard_normal((N, dim))
        self._setup(x0, shape=(N, dim), x_star=x_star, f_star=f_star, dtype=dtype)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def synthetic(cls, n_points: int = 10, dim: int = 2, form: str = "squared", seed: int = 0,
                  init_scale: float = 1.0, dtype="float64") -> MDS:
        r"""An exactly embeddable instance: points :math:`P_i\sim N(0,I_{dim})` from ``seed``,
        ``D`` their (squared, for "squared") distances; ``x_star`` = the points, ``f_star`` = 0
        (any rotation or translation of them is a minimiser too)."""
        owner = cls.__name__
        n_points = V.positive_int(owner, "n_points", n_points, minimum=2)
        dim = V.positive_int(owner, "dim", dim)
        np, rng = B.host_xp(), as_rng(seed)
        P = rng.standard_normal((n_points, dim))
        diff = P[:, None, :] - P[None, :, :]
        sq = np.sum(diff * diff, axis=-1)
        D = sq if form == "squared" else np.sqrt(sq)
        x0 = init_scale * rng.standard_normal((n_points, dim))
        return cls(D, dim=dim, form=form, x0=x0, x_star=P, f_star=0.0, dtype=dtype)

    @classmethod
    def capitals(cls, form: str = "raw", dim: int = 2, unit_km: float = 1000.0, seed: int = 0,
                 dtype="float64") -> MDS:
        r"""The 20 European capitals of ``problems/data/capitals.csv``: great-circle distances
        by the haversine formula (Earth radius 6371 km), in units of ``unit_km`` (default
        1000 km, so the numbers are of order 1); squared for ``form="squared"``. ``f_star`` is
        unknown (None). ``names`` lists the cities in row order."""
        unit_km = V.positive(cls.__name__, "unit_km", unit_km)
        names, D = capital_distances()
        D = D / unit_km
        if form == "squared":
            D = D * D
        return cls(D, dim=dim, form=form, seed=seed, names=names, dtype=dtype)

    # ------------------------------------------------------------------ objective
    def _terms(self, x, idx):
        I = self._I if idx is None else self._I[idx]
        J = self._J if idx is None else self._J[idx]
        d = self._d if idx is None else self._d[idx]
        diff = x[I] - x[J]
        if self.form == "squared":
            r = mg.sum(diff * diff, axis=1) - d
        else:
            r = mg.norm(diff, axis=1) - d
        return (2.0 * self.n) * (r * r)

    def grad_closed_form(self, x):
        r"""Squared form: :math:`\nabla_{W_i}=8\sum_j(\|W_i-W_j\|^2-D_{ij})(W_i-W_j)`; raw form:
        :math:`4\sum_{j:W_j\ne W_i}(\|W_i-W_j\|-d_{ij})\frac{W_i-W_j}{\|W_i-W_j\|}`."""
        W = self._array(x)
        xp = B.get_array_module(W)
        diff = W[:, None, :] - W[None, :, :]
        sq = xp.sum(diff * diff, axis=-1)
        if self.form == "squared":
            coef = 8.0 * (sq - self.D)
        else:
            dist = xp.sqrt(sq)
            safe = xp.where(dist == 0, 1.0, dist)
            coef = xp.where(dist == 0, 0.0, 4.0 * (dist - self.D) / safe)
        return xp.sum(coef[:, :, None] * diff, axis=1)

    def distances(self, x):
        """The pairwise distances of the embedding ``x`` as an (N, N) array."""
        W = self._array(x)
        xp = B.get_array_module(W)
        diff = W[:, None, :] - W[None, :, :]
        return xp.sqrt(xp.sum(diff * diff, axis=-1))

    def classical_embedding(self):
        r"""Classical (Torgerson) MDS: the top ``dim`` eigenpairs of the double-centred squared
        distances :math:`-\tfrac12 J D^{(2)} J`, :math:`J=I-\tfrac1N\mathbf 1\mathbf 1^\top`.
        Exact for embeddable data; a good start point otherwise."""
        xp = B.get_array_module(self.D)
        N, d = self.shape
        D2 = self.D if self.form == "squared" else self.D * self.D
        Jc = xp.eye(N, dtype=self.dtype) - 1.0 / N
        Bm = -0.5 * Jc @ D2 @ Jc
        lam, U = xp.linalg.eigh(0.5 * (Bm + Bm.T))
        lam, U = lam[::-1][:d], U[:, ::-1][:, :d]
        return U * xp.sqrt(xp.clip(lam, 0.0, None))
