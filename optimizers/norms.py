r"""Norms, their dual norms and linear minimisation oracles (LMOs): the geometry of steepest descent.

Lecture L2 (Merkulov & Ostroukhov, week 14, "non-Euclidean steepest descent"; docs/lectures.md
section 6)
and Bernstein & Newhouse, "Old Optimizer, New Norm: An Anthology" (2024), which the slide cites.

For a norm :math:`\|\cdot\|` on the parameters,

.. math::

    \|g\|^* = \sup_{\|x\| = 1} \langle g, x\rangle, \qquad
    \mathrm{LMO}(g) = \operatorname*{argmin}_{\|x\| = 1} \langle g, x\rangle, \qquad
    \langle g, \mathrm{LMO}(g)\rangle = -\|g\|^*,

with :math:`\langle A, B\rangle = \mathrm{tr}(A^\top B) = \sum_{ij} A_{ij} B_{ij}` for matrices.

==============  =========================  ===========================  ======================================
name            :math:`\|x\|`              dual :math:`\|g\|^*`          :math:`\mathrm{LMO}(g)`
==============  =========================  ===========================  ======================================
``"l2"``        :math:`\|x\|_2`            :math:`\|g\|_2`              :math:`-g / \|g\|_2`
``"linf"``      :math:`\max_j |x_j|`       :math:`\|g\|_1`              :math:`-\mathrm{sign}(g)` (sign descent)
``"l1"``        :math:`\sum_j |x_j|`       :math:`\|g\|_\infty`         :math:`-\mathrm{sign}(g_{j^*}) e_{j^*}`, :math:`j^* = \arg\max_j |g_j|`
``"frobenius"`` :math:`\|X\|_F`            :math:`\|G\|_F`              :math:`-G / \|G\|_F`
``"spectral"``  :math:`\sigma_{\max}(X)`   :math:`\sum_i \sigma_i(G)`   :math:`-U V^\top` (reduced SVD :math:`G = U\Sigma V^\top`)
``"nuclear"``   :math:`\sum_i \sigma_i(X)` :math:`\sigma_{\max}(G)`     :math:`-u_1 v_1^\top` (top singular pair)
==============  =========================  ===========================  ======================================

Vector norms (``l1``, ``l2``, ``linf``) act on every entry of an array of any shape (a matrix is
read as the vector of its entries); matrix norms need a 2-D array.

Conventions:

* :math:`\mathrm{LMO}(0)` is any unit vector (every one is a minimiser); we return the zero array,
  so a steepest-descent step at a stationary point does nothing. The identities above are stated
  for :math:`g \ne 0`.
* ties in the :math:`\ell_1` LMO go to the first index (``argmax``), as in NumPy;
* the :math:`\ell_\infty` LMO is :math:`-\mathrm{sign}(g)` with :math:`\mathrm{sign}(0) = 0`: a zero
  coordinate does not change :math:`\langle g, x\rangle`, so this is still a minimiser and its norm
  is 1 whenever :math:`g \ne 0`;
* the spectral LMO of a rank-deficient :math:`G` is :math:`-U_rV_r^\top` over the :math:`r`
  singular values above :math:`\max(m, n)\,\epsilon_{\text{mach}}\sigma_{\max}` (as
  ``matrix_rank``): any completion of it on the null spaces is also a minimiser; this one has the
  least Frobenius norm and is the limit of the Newton–Schulz iterations, which map a zero
  singular value to 0; ``polar="newton_schulz"``
  or ``"polar_express"`` replace the SVD by the matrix-product iterations of
  :mod:`optimizers.newton_schulz` (an approximation of :math:`UV^\top`).

Several parameters (the blocks :math:`x = (x_1, \dots, x_n)` of a parameter group) are one vector:
for a vector norm, the norm of the concatenation (:meth:`Norm.norm_blocks`, ...), computed without
concatenating; for a matrix norm, the max over the blocks,
:math:`\|(X_1, \dots, X_n)\| = \max_i \|X_i\|` (the "modular" norm of the anthology), whose dual
is :math:`\sum_i \|G_i\|^*` and whose LMO is the list of the blocks' LMOs. With one block both are
the lecture's formulas.

Dual norms are returned as 0-d arrays of the input's dtype (no host synchronisation on CuPy);
``float(...)`` them to print.
"""
from __future__ import annotations

from minigrad import backend as B
from optimizers import newton_schulz as _ns

__all__ = ["Norm", "L1", "L2", "LInf", "Frobenius", "Spectral", "Nuclear", "get_norm", "NORMS",
           "dual_norm", "lmo", "inner"]


def inner(a, b):
    r""":math:`\langle A, B\rangle = \mathrm{tr}(A^\top B) = \sum_{ij} A_{ij}B_{ij}` (0-d array)."""
    xp = B.get_array_module(a, b)
    return xp.vdot(a.reshape(-1), b.reshape(-1))


def _minus_inverse(n):
    r""":math:`-1/n` for a norm :math:`n > 0` and 0 for :math:`n = 0`, as a 0-d array of ``n``'s
    dtype computed on the device (no host synchronisation to test :math:`n = 0`)."""
    xp = B.get_array_module(n)
    zero = n == 0
    return xp.where(zero, xp.zeros((), n.dtype), -1.0 / xp.where(zero, xp.ones((), n.dtype), n))


class Norm:
    """A norm with its dual norm and LMO. Subclasses implement ``__call__``, ``dual``, ``lmo``."""

    name = "norm"
    matrix = False  #: True for norms defined on 2-D arrays only

    def __call__(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def dual(self, g):  # pragma: no cover - abstract
        raise NotImplementedError

    def lmo(self, g):  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, x, what: str = "array") -> None:
        """Raise ValueError if this norm cannot act on ``x`` (matrix norms need 2-D arrays)."""
        if self.matrix and x.ndim != 2:
            raise ValueError(f"the {self.name} norm is defined for matrices (2-D arrays); got a "
                             f"{what} of shape {tuple(x.shape)}")

    # ---- several blocks: the max-combination for matrix norms (overridden by vector norms)
    def norm_blocks(self, xs):
        r""":math:`\max_i \|X_i\|`."""
        xp = B.get_array_module(*xs)
        return xp.max(xp.stack([self(x) for x in xs]))

    def dual_blocks(self, gs):
        r""":math:`\sum_i \|G_i\|^*` (the dual of the max-combination)."""
        return sum(self.dual(g) for g in gs)

    def lmo_blocks(self, gs):
        r""":math:`(\mathrm{LMO}(G_1), \dots, \mathrm{LMO}(G_n))`."""
        return [self.lmo(g) for g in gs]

    def __repr__(self):
        return f"{type(self).__name__}()"


# --------------------------------------------------------------------------- vector norms
class L2(Norm):
    r"""The Euclidean norm: :math:`\|g\|^*_2 = \|g\|_2`, :math:`\mathrm{LMO}(g) = -g/\|g\|_2`."""

    name = "l2"

    def __call__(self, x):
        xp = B.get_array_module(x)
        return xp.sqrt(xp.vdot(x.reshape(-1), x.reshape(-1)))  # ||x||_2

    dual = __call__  # the l2 norm is its own dual

    def lmo(self, g):
        return g * _minus_inverse(self(g))  # LMO(g) = -g / ||g||_2  (0 for g = 0)

    def norm_blocks(self, xs):
        xp = B.get_array_module(*xs)
        return xp.sqrt(sum(xp.vdot(x.reshape(-1), x.reshape(-1)) for x in xs))

    dual_blocks = norm_blocks

    def lmo_blocks(self, gs):
        scale = _minus_inverse(self.norm_blocks(gs))
        return [g * scale for g in gs]


class LInf(Norm):
    r"""The max norm: :math:`\|g\|^*_\infty = \|g\|_1`, :math:`\mathrm{LMO}(g) = -\mathrm{sign}(g)`
    (steepest descent in this norm is sign descent)."""

    name = "linf"

    def __call__(self, x):
        xp = B.get_array_module(x)
        return xp.max(xp.abs(x)) if x.size else xp.zeros((), x.dtype)  # max_j |x_j|

    def dual(self, g):
        xp = B.get_array_module(g)
        return xp.sum(xp.abs(g))  # ||g||_1

    def lmo(self, g):
        xp = B.get_array_module(g)
        return -xp.sign(g)  # LMO(g) = -sign(g)

    def norm_blocks(self, xs):
        xp = B.get_array_module(*xs)
        return xp.max(xp.stack([self(x) for x in xs]))

    def dual_blocks(self, gs):
        return sum(self.dual(g) for g in gs)

    def lmo_blocks(self, gs):
        return [self.lmo(g) for g in gs]


class L1(Norm):
    r"""The :math:`\ell_1` norm: :math:`\|g\|^*_1 = \|g\|_\infty`, and the LMO is the signed
    coordinate vector :math:`-\mathrm{sign}(g_{j^*}) e_{j^*}` at :math:`j^* = \arg\max_j |g_j|`
    (the first index on ties): a greedy coordinate-descent step."""

    name = "l1"

    def __call__(self, x):
        xp = B.get_array_module(x)
        return xp.sum(xp.abs(x))  # sum_j |x_j|

    def dual(self, g):
        xp = B.get_array_module(g)
        return xp.max(xp.abs(g)) if g.size else xp.zeros((), g.dtype)  # ||g||_inf

    def lmo(self, g):
        return self.lmo_blocks([g])[0]

    def norm_blocks(self, xs):
        return sum(self(x) for x in xs)

    def dual_blocks(self, gs):
        xp = B.get_array_module(*gs)
        return xp.max(xp.stack([self.dual(g) for g in gs]))

    def lmo_blocks(self, gs):
        xp = B.get_array_module(*gs)
        flat = xp.concatenate([g.reshape(-1) for g in gs])  # all blocks as one vector
        if flat.size == 0:
            return [xp.zeros_like(g) for g in gs]
        j = xp.argmax(xp.abs(flat))  # j* = argmax_j |g_j| (the first on ties), on the device
        d = xp.zeros_like(flat)
        d[j] = 0.0 - xp.sign(flat[j])  # LMO(g) = -sign(g_j*) e_j*  (+0 for g = 0)
        out, start = [], 0
        for g in gs:
            out.append(d[start:start + g.size].reshape(g.shape).astype(g.dtype, copy=False))
            start += g.size
        return out


# --------------------------------------------------------------------------- matrix norms
class Frobenius(Norm):
    r"""The Frobenius norm of a matrix: self-dual, :math:`\mathrm{LMO}(G) = -G/\|G\|_F`."""

    name = "frobenius"
    matrix = True

    def __call__(self, x):
        self.check(x)
        return L2()(x)  # ||X||_F = sqrt(sum_ij X_ij^2)

    def dual(self, g):
        return self(g)

    def lmo(self, g):
        self.check(g)
        return L2().lmo(g)  # LMO(G) = -G / ||G||_F


_POLAR_ITERATIONS = {"newton_schulz": _ns.newton_schulz_quintic, "cubic": _ns.newton_schulz_cubic,
                     "polar_express": _ns.polar_express}


def _rank_mask(S, g):
    r"""1 for the first :math:`r` singular values, 0 for the rest, where :math:`r \ge 1` is the
    numerical rank (the singular values above ``max(m, n) * eps * sigma_max``, as matrix_rank
    counts them); ``S`` is sorted, so the mask is a prefix. Computed on the device.

    ``(U * mask) @ V^T`` equals ``U[:, :r] @ V^T[:r]`` exactly at full rank; for
    :math:`1 < r < \min(m, n)` the product also sums the zeroed terms, which BLAS may group
    differently: the entries (at most 1 in size) then agree to a few units in the last place."""
    xp = B.get_array_module(S)
    tol = S[0] * (max(g.shape) * float(xp.finfo(g.dtype).eps))
    return ((S > tol) | (xp.arange(S.shape[0]) == 0)).astype(S.dtype)


def _unless_zero(g, d):
    """``d``, or ``G`` itself where ``G = 0`` (the LMO of the zero matrix is 0), chosen on the
    device."""
    xp = B.get_array_module(g)
    return xp.where(xp.any(g), d, g)


def _svd(g):
    xp = B.get_array_module(g)
    return xp.linalg.svd(g, full_matrices=False)


class Spectral(Norm):
    r"""The spectral (operator) norm :math:`\|X\|_{op} = \sigma_{\max}(X)`.

    Dual: the nuclear norm :math:`\sum_i \sigma_i(G)`. LMO: :math:`-UV^\top` from the reduced SVD
    :math:`G = U\Sigma V^\top` (the polar factor, "matrix sign", L2). ``polar`` chooses how
    :math:`UV^\top` is computed: ``"svd"`` (exact, the default), or ``"newton_schulz"`` (Muon's
    quintic), ``"cubic"`` or ``"polar_express"`` with ``steps`` iterations (matrix products only;
    see :mod:`optimizers.newton_schulz`).
    """

    name = "spectral"
    matrix = True

    def __init__(self, polar: str = "svd", steps: int = 5):
        if polar not in ("svd",) + tuple(_POLAR_ITERATIONS):
            raise ValueError(f"Spectral: invalid polar={polar!r}; expected one of "
                             f"{('svd',) + tuple(_POLAR_ITERATIONS)}")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"Spectral: invalid steps={steps!r}; expected an integer >= 1")
        self.polar, self.steps = polar, steps

    def __call__(self, x):
        self.check(x)
        xp = B.get_array_module(x)
        if x.size == 0:
            return xp.zeros((), x.dtype)
        return xp.linalg.svd(x, compute_uv=False)[0]  # sigma_max(X)

    def dual(self, g):
        self.check(g)
        xp = B.get_array_module(g)
        return xp.sum(xp.linalg.svd(g, compute_uv=False))  # ||G||_* = sum_i sigma_i

    def lmo(self, g):
        self.check(g)
        if g.size == 0:
            return g * 0.0
        if self.polar == "svd":
            U, S, Vt = _svd(g)  # G = U Sigma V^T (reduced)
            d = -((U * _rank_mask(S, g)) @ Vt)  # LMO(G) = -U V^T  (U, V^T cut at the rank)
        else:
            d = -_POLAR_ITERATIONS[self.polar](g, steps=self.steps)  # -U V^T without an SVD
        return _unless_zero(g, d)

    def __repr__(self):
        return f"Spectral(polar={self.polar!r}, steps={self.steps})"


class Nuclear(Norm):
    r"""The nuclear (trace) norm :math:`\|X\|_* = \sum_i \sigma_i(X)`.

    Dual: the spectral norm :math:`\sigma_{\max}(G)`. LMO: :math:`-u_1 v_1^\top`, the top singular
    pair (a rank-one step, as in Frank–Wolfe for matrix completion).
    """

    name = "nuclear"
    matrix = True

    def __call__(self, x):
        self.check(x)
        xp = B.get_array_module(x)
        return xp.sum(xp.linalg.svd(x, compute_uv=False))  # sum_i sigma_i(X)

    def dual(self, g):
        return Spectral()(g)  # sigma_max(G)

    def lmo(self, g):
        self.check(g)
        if g.size == 0:
            return g * 0.0
        U, _, Vt = _svd(g)
        return _unless_zero(g, -(U[:, :1] @ Vt[:1, :]))  # LMO(G) = -u_1 v_1^T


NORMS = {"l1": L1, "l2": L2, "linf": LInf, "frobenius": Frobenius, "spectral": Spectral,
         "nuclear": Nuclear}
_ALIASES = {"inf": "linf", "max": "linf", "euclidean": "l2", "fro": "frobenius",
            "operator": "spectral", "op": "spectral", "trace": "nuclear"}


def get_norm(norm) -> Norm:
    """A :class:`Norm` from a name (``"l1"``, ``"l2"``, ``"linf"``, ``"frobenius"``, ``"spectral"``,
    ``"nuclear"``, or an alias: ``"inf"``, ``"fro"``, ``"operator"``, ``"op"``, ``"trace"``) or a
    :class:`Norm` instance (returned as is)."""
    if isinstance(norm, Norm):
        return norm
    if isinstance(norm, str):
        key = _ALIASES.get(norm.lower(), norm.lower())
        if key in NORMS:
            return NORMS[key]()
    raise ValueError(f"unknown norm {norm!r}; expected one of {tuple(NORMS)} "
                     f"(aliases {tuple(_ALIASES)}) or a Norm instance")


def dual_norm(g, norm="l2"):
    r""":math:`\|g\|^* = \sup_{\|x\|=1}\langle g, x\rangle` (a 0-d array)."""
    return get_norm(norm).dual(g)


def lmo(g, norm="l2"):
    r""":math:`\mathrm{LMO}(g) = \arg\min_{\|x\|=1}\langle g, x\rangle`."""
    return get_norm(norm).lmo(g)
