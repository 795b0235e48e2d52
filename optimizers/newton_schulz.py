r"""The polar factor :math:`UV^\top` without an SVD: Newton–Schulz iterations and Polar Express.

Lecture L2 (Merkulov & Ostroukhov, week 14): the steepest-descent step in the spectral norm is
:math:`-UV^\top` for the reduced SVD :math:`G = U\Sigma V^\top`, and "Newton–Schulz / Polar
Express iterations, which use matrix products only, approximate :math:`UV^\top` in a few steps and
remove the bottleneck of a full SVD inside Muon".

Every method here is an *odd matrix polynomial* applied a few times,

.. math::

    X_0 = \frac{G}{\|G\|_F (1 + s) + \varepsilon}, \qquad
    X_{t+1} = a_t X_t + b_t (X_tX_t^\top) X_t + c_t (X_tX_t^\top)^2 X_t = U\,p_t(\Sigma_t)\,V^\top,

so it keeps the singular vectors and maps each singular value :math:`\sigma \mapsto p_t(\sigma)`
with :math:`p_t(x) = a_tx + b_tx^3 + c_tx^5`. Dividing by the Frobenius norm puts every
:math:`\sigma` in :math:`(0, 1]`; the polynomials are chosen to push :math:`(0, 1]` towards 1.

* cubic Newton–Schulz: :math:`p(x) = \tfrac32 x - \tfrac12 x^3`, the Newton–Schulz iteration for the
  matrix sign; converges (quadratically near 1) to exactly :math:`UV^\top` for any full-rank
  :math:`G` (:func:`newton_schulz_cubic`);
* Muon's quintic (Jordan et al. 2024): :math:`(a, b, c) = (3.4445, -4.7750, 2.0315)`, tuned for a
  steep slope at 0 (:math:`p'(0) = 3.4445`); its fixed points are not at 1, so after five steps the
  singular values oscillate in roughly :math:`[0.68, 1.13]`: an *approximate* polar factor,
  good enough for Muon (:func:`newton_schulz_quintic`);
* Polar Express (Amsel, Persson, Musco & Gower 2025, "The Polar Express: Optimal Matrix Sign
  Methods and Their Application to the Muon Algorithm", arXiv:2505.16932): at each step the
  degree-5 odd polynomial that is optimal in the minimax sense on the current interval
  :math:`[\ell_t, u_t]` holding the singular values, so the composition is the best possible
  for its degree (:func:`polar_express`, coefficients from :func:`polar_express_coefficients`).
  Two tables are offered (``polar_express(..., table=)``): by default
  :data:`POLAR_EXPRESS_COEFFICIENTS`, the five rows of the authors' generator with safety
  :math:`2\cdot10^{-2}` (the table modded-nanogpt ships), and ``table="paper"``,
  :data:`POLAR_EXPRESS_PAPER_COEFFICIENTS`, the eight rows of the paper's Algorithm 1.

Wide and tall inputs both work: the iteration runs on the orientation with the smaller Gram
matrix :math:`XX^\top` (a tall :math:`G` is transposed and the result transposed back). Leading
batch axes are allowed. Coefficients are Python floats, so a float32 input stays float32.
"""
from __future__ import annotations

import math

from minigrad import backend as B

__all__ = ["MUON_QUINTIC", "CUBIC", "odd_polynomial_iteration", "newton_schulz_cubic",
           "newton_schulz_quintic", "polar_express", "optimal_odd_quintic",
           "polar_express_coefficients", "POLAR_EXPRESS_COEFFICIENTS",
           "POLAR_EXPRESS_PAPER_ROWS", "POLAR_EXPRESS_PAPER_COEFFICIENTS", "polar_factor_svd",
           "normalize"]

#: Newton–Schulz's cubic :math:`p(x) = \tfrac32x - \tfrac12x^3`
CUBIC = (1.5, -0.5)
#: Muon's tuned quintic (Keller Jordan's reference implementation)
MUON_QUINTIC = (3.4445, -4.7750, 2.0315)


def _transpose(X):
    return X.swapaxes(-1, -2)


def normalize(G, safety: float = 0.0, eps: float = 1e-7):
    r""":math:`X_0 = G / (\|G\|_F (1 + s) + \varepsilon)`: every singular value in :math:`[0, 1)`.

    ``safety`` :math:`s` leaves room for rounding (Polar Express uses 0.01 in bfloat16); ``eps``
    keeps :math:`G = 0` finite (Muon's reference uses :math:`10^{-7}`)."""
    xp = B.get_array_module(G)
    nrm = xp.linalg.norm(G, axis=(-2, -1), keepdims=True)  # ||G||_F
    return G / (nrm * (1.0 + safety) + eps)  # X_0 = G / (||G||_F (1 + s) + eps)


def odd_polynomial_iteration(G, coefficients, safety: float = 0.0, eps: float = 1e-7):
    r"""Apply the odd polynomials ``coefficients`` (rows ``(a, b)`` or ``(a, b, c)``) in turn:
    :math:`X \leftarrow aX + b(XX^\top)X + c(XX^\top)^2X` from :math:`X_0` of :func:`normalize`.

    Matrix products only. Works on ``(..., m, n)`` arrays; runs on the orientation whose Gram
    matrix :math:`XX^\top` is the smaller one.
    """
    if G.ndim < 2:
        raise ValueError(f"the polar factor needs a matrix (ndim >= 2); got shape {G.shape}")
    tall = G.shape[-2] > G.shape[-1]
    X = normalize(_transpose(G) if tall else G, safety, eps)  # X_0 = G / ||G||_F, wide
    for row in coefficients:
        a, b = float(row[0]), float(row[1])
        c = float(row[2]) if len(row) > 2 else 0.0
        A = X @ _transpose(X)  # A = X X^T (m x m, m <= n)
        if c != 0.0:
            P = A @ A  # A^2
            P *= c  # c A^2
            A *= b
            P += A  # P = b A + c A^2
        else:
            A *= b
            P = A  # P = b A
        PX = P @ X  # (b A + c A^2) X = b X^3 + c X^5
        X *= a
        X += PX  # X <- a X + b X X^T X + c (X X^T)^2 X
    return _transpose(X) if tall else X


def newton_schulz_cubic(G, steps: int = 20, eps: float = 1e-7):
    r"""Cubic Newton–Schulz: :math:`X \leftarrow \tfrac32X - \tfrac12XX^\top X` from
    :math:`X_0 = G/\|G\|_F`, ``steps`` times.

    Converges to :math:`UV^\top` for a full-rank :math:`G`: a small singular value grows by about
    1.5 per step, then the error :math:`1 - \sigma` squares (:math:`1 - p(\sigma) \approx
    \tfrac32(1-\sigma)^2`). From :math:`\sigma_{\min}(X_0) = \sigma_{\min}(G)/\|G\|_F` it takes
    about :math:`\log_{1.5}(\|G\|_F/\sigma_{\min}(G))` steps to reach the quadratic phase and a
    few more for float64 accuracy: the default 20 steps suffice for
    :math:`\|G\|_F/\sigma_{\min}(G) \le 300` (17 steps for 100, 22 for 1000).
    """
    _check_steps(steps)
    return odd_polynomial_iteration(G, [CUBIC] * steps, eps=eps)


def newton_schulz_quintic(G, steps: int = 5, coefficients=MUON_QUINTIC, eps: float = 1e-7):
    r"""Muon's quintic Newton–Schulz: :math:`X \leftarrow aX + b(XX^\top)X + c(XX^\top)^2X` with
    :math:`(a, b, c) = (3.4445, -4.7750, 2.0315)`, ``steps`` times (Jordan et al. 2024).

    Not a convergent iteration: the result's singular values lie roughly in :math:`[0.68, 1.13]`
    after five steps (an approximate :math:`UV^\top`)."""
    _check_steps(steps)
    return odd_polynomial_iteration(G, [tuple(coefficients)] * steps, eps=eps)


def polar_express(G, steps: int = 5, coefficients=None, safety: float = 0.01, eps: float = 1e-7,
                  table: str | None = None):
    r"""Polar Express (Amsel et al. 2025): step :math:`t` applies the optimal odd quintic
    :math:`p_t` for the interval of the current singular values.

    The coefficient table is ``coefficients`` (rows ``(a, b, c)``) or one of two named tables,
    ``table=``:

    * ``"generator"`` (the default, also when ``table`` is ``None``):
      :data:`POLAR_EXPRESS_COEFFICIENTS`, five rows from :func:`polar_express_coefficients` with
      :math:`\ell = 10^{-3}`, safety :math:`2\cdot10^{-2}` and cushion 0.02 — the table of the
      authors' later generator that modded-nanogpt ships, not the one printed in the paper;
    * ``"paper"``: :data:`POLAR_EXPRESS_PAPER_COEFFICIENTS`, the eight rows of the paper's
      Algorithm 1 with its safety factor 1.01 applied to all but the last. Row by row the first
      five differ from the default's by 3.5 % to 6.2 % (largest relative difference of a
      coefficient).

    Past the end of the table the last row is repeated, as in the authors' code. The paper's
    table ends in the limit quintic :math:`(15x - 10x^3 + 3x^5)/8`, whose fixed point is 1, so
    more steps converge to :math:`UV^\top` (eight reach it to rounding for normalised singular
    values above :math:`10^{-3}`); the default's last row maps 1 to
    :math:`a + b + c \approx 1.06`, so five steps give singular values in
    :math:`[0.8589, 1.1411]` and more steps do not converge. The input is
    divided by :math:`1.01\,\|G\|_F` (``safety=0.01``, the authors' margin for rounding, the
    same in both tables' sources).
    """
    _check_steps(steps)
    if table is not None and coefficients is not None:
        raise ValueError("polar_express: give coefficients= or table=, not both")
    if coefficients is None:
        name = "generator" if table is None else table
        if name not in _TABLES:
            raise ValueError(f"polar_express: invalid table={table!r}; expected one of "
                             f"{sorted(_TABLES)}")
        coefficients = _TABLES[name]
    rows = list(coefficients)
    rows = rows[:steps] + [rows[-1]] * (steps - len(rows))
    return odd_polynomial_iteration(G, rows, safety=safety, eps=eps)


def polar_factor_svd(G):
    r""":math:`UV^\top` from the reduced SVD :math:`G = U\Sigma V^\top` (the reference)."""
    xp = B.get_array_module(G)
    U, _, Vt = xp.linalg.svd(G, full_matrices=False)
    return U @ Vt


def _check_steps(steps):
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"invalid steps={steps!r}; expected an integer >= 1")


# --------------------------------------------------------------------------- Polar Express
def _solve(A, y):
    """Solve the small dense system ``A x = y`` (lists of floats) by Gaussian elimination with
    partial pivoting: four unknowns, pure Python, no array library needed on the host."""
    n = len(y)
    M = [list(map(float, row)) + [float(v)] for row, v in zip(A, y)]
    for k in range(n):
        piv = max(range(k, n), key=lambda i: abs(M[i][k]))
        M[k], M[piv] = M[piv], M[k]
        for i in range(k + 1, n):
            f = M[i][k] / M[k][k]
            for j in range(k, n + 1):
                M[i][j] -= f * M[k][j]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (M[i][n] - sum(M[i][j] * x[j] for j in range(i + 1, n))) / M[i][i]
    return x


def _p(coeffs, x: float) -> float:
    """:math:`p(x) = \\sum_i c_i x^{2i+1}`."""
    return sum(c * x ** (2 * i + 1) for i, c in enumerate(coeffs))


def optimal_odd_quintic(l: float, u: float, tol: float = 1e-15, max_iter: int = 100):
    r"""The odd quintic :math:`p(x) = ax + bx^3 + cx^5` that best approximates 1 on :math:`[l, u]`
    in the max norm: :math:`\min_p \max_{x\in[l,u]} |1 - p(x)|`.

    By the equioscillation theorem (three free coefficients, so four alternation points) the
    optimum satisfies :math:`p(l) = 1 - E`, :math:`p(q) = 1 + E`, :math:`p(r) = 1 - E`,
    :math:`p(u) = 1 + E` where :math:`l < q < r < u` and :math:`q, r` are the critical points of
    :math:`p`. Remez's algorithm: guess :math:`q, r` (here the quarter points), solve the 4x4 linear
    system for :math:`(a, b, c, E)`, move :math:`q, r` to the roots of
    :math:`p'(x) = a + 3bx^2 + 5cx^4`, i.e.
    :math:`x^2 = (-3b \mp \sqrt{9b^2 - 20ac}) / (10c)`, and repeat until :math:`E` stops changing.

    When :math:`l/u \ge 1 - 5\cdot10^{-6}` the system is numerically singular and the optimum is,
    to machine precision, its limit :math:`p(x) = \tfrac{15}{8}\tfrac xu - \tfrac{10}8(\tfrac xu)^3
    + \tfrac38(\tfrac xu)^5` (the quintic with :math:`p(u) = 1`, :math:`p'(u) = p''(u) = 0`).
    """
    if not 0.0 <= l <= u or u <= 0.0:
        raise ValueError(f"optimal_odd_quintic: need 0 <= l <= u and u > 0; got l={l!r}, u={u!r}")
    if l / u >= 1.0 - 5e-6:
        return (15 / 8) / u, (-10 / 8) / u ** 3, (3 / 8) / u ** 5
    q, r = (3 * l + u) / 4, (l + 3 * u) / 4  # initial alternation points
    E, old_E = math.inf, None
    for _ in range(max_iter):
        a, b, c, E = _solve([[x, x ** 3, x ** 5, s] for x, s in ((l, 1), (q, -1), (r, 1), (u, -1))],
                            [1.0] * 4)  # p(x_i) + (-1)^i E = 1 at l, q, r, u
        d = math.sqrt(9 * b * b - 20 * a * c)
        q, r = math.sqrt((-3 * b - d) / (10 * c)), math.sqrt((-3 * b + d) / (10 * c))  # p'(x) = 0
        if old_E is not None and abs(old_E - E) <= tol:
            break
        old_E = E
    return a, b, c


def polar_express_coefficients(l: float = 1e-3, num_iters: int = 5, safety: float = 2e-2,
                               cushion: float = 0.02):
    r"""The Polar Express table: ``num_iters`` rows :math:`(a_t, b_t, c_t)` for singular values
    known to lie in :math:`[\ell, 1]` after normalisation (Amsel et al. 2025, Algorithm 1 and
    section 4.4).

    Start with :math:`[\ell_0, u_0] = [\ell, 1]`. At step :math:`t`:

    1. *cushion*: take the optimal quintic on :math:`[\max(\ell_t, \kappa u_t), u_t]`
       (:math:`\kappa` = ``cushion``): when :math:`\ell_t` is tiny the optimal polynomial has a huge
       slope at 0 and is fragile in low precision, so the lower end is floored at
       :math:`\kappa u_t`; if it was floored, rescale :math:`p` so that the image of
       :math:`[\ell_t, u_t]` is again centred on 1: :math:`p \leftarrow \frac{2}{p(\ell_t) + p(u_t)}p`;
    2. *safety*: except for the last step, replace :math:`p(x)` by :math:`p(x / (1 + s))`
       (:math:`a/(1+s)`, :math:`b/(1+s)^3`, :math:`c/(1+s)^5`, :math:`s` = ``safety``), so that a
       singular value slightly above :math:`u_t` after rounding is still mapped below the
       polynomial's blow-up;
    3. the new interval: :math:`\ell_{t+1} = p(\ell_t)`, :math:`u_{t+1} = 2 - \ell_{t+1}` (the
       optimal polynomial equioscillates about 1), with :math:`\ell_{t+1} \le u_{t+1}` enforced.

    With the defaults (:math:`\ell = 10^{-3}`, five steps, :math:`s = 2\cdot10^{-2}`,
    :math:`\kappa = 0.02`) this reproduces, to about :math:`3\cdot10^{-14}`, the five-row table
    that modded-nanogpt ships (the authors' generator run with safety :math:`2\cdot10^{-2}`),
    whose first row is ``(8.156554524902461, -22.48329292557795, 15.878769915207462)``. The
    table printed in the paper's Algorithm 1 is another one:
    :data:`POLAR_EXPRESS_PAPER_COEFFICIENTS`.
    """
    if not (isinstance(num_iters, int) and not isinstance(num_iters, bool) and num_iters >= 1):
        raise ValueError(f"polar_express_coefficients: invalid num_iters={num_iters!r}; expected "
                         f"an integer >= 1")
    for name, v, lo, hi in (("l", l, 0.0, 1.0), ("safety", safety, 0.0, 1.0),
                            ("cushion", cushion, 0.0, 1.0)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi or (
                name == "l" and v == 0.0):
            raise ValueError(f"polar_express_coefficients: invalid {name}={v!r}; expected a number "
                             f"in {'(' if name == 'l' else '['}{lo}, {hi}]")
    u, sf, rows = 1.0, 1.0 + safety, []
    for t in range(num_iters):
        a, b, c = optimal_odd_quintic(max(l, cushion * u), u)  # optimal on [max(l, kappa u), u]
        if cushion * u > l:  # floored: recentre p([l, u]) on 1
            scale = 2.0 / (_p((a, b, c), l) + _p((a, b, c), u))
            a, b, c = a * scale, b * scale, c * scale
        if t < num_iters - 1:  # p(x) <- p(x / (1 + s)), all but the last step
            a, b, c = a / sf, b / sf ** 3, c / sf ** 5
        rows.append((a, b, c))
        l = _p((a, b, c), l)  # l_{t+1} = p(l_t)
        u = 2.0 - l  # u_{t+1} = 2 - l_{t+1}
        l = min(l, u)
    return rows


#: The default Polar Express table: the authors' generator with l = 1e-3, 5 steps, safety 2e-2,
#: cushion 0.02 (the table modded-nanogpt ships)
POLAR_EXPRESS_COEFFICIENTS = tuple(polar_express_coefficients())

#: The eight rows (a, b, c) printed in Amsel, Persson, Musco & Gower (2025), Algorithm 1 (the
#: degree-5 listing), before its safety factor; the last row is the limit 15/8, -10/8, 3/8
POLAR_EXPRESS_PAPER_ROWS = (
    (8.28721201814563, -23.595886519098837, 17.300387312530933),
    (4.107059111542203, -2.9478499167379106, 0.5448431082926601),
    (3.9486908534822946, -2.908902115962949, 0.5518191394370137),
    (3.3184196573706015, -2.488488024314874, 0.51004894012372),
    (2.300652019954817, -1.6689039845747493, 0.4188073119525673),
    (1.891301407787398, -1.2679958271945868, 0.37680408948524835),
    (1.8750014808534479, -1.2500016453999487, 0.3750001645474248),
    (1.875, -1.25, 0.375),
)

#: The table Algorithm 1 applies: p(x) <- p(x / 1.01) on every row but the last
POLAR_EXPRESS_PAPER_COEFFICIENTS = tuple(
    (a / 1.01, b / 1.01 ** 3, c / 1.01 ** 5) for a, b, c in POLAR_EXPRESS_PAPER_ROWS[:-1]
) + POLAR_EXPRESS_PAPER_ROWS[-1:]

_TABLES = {"generator": POLAR_EXPRESS_COEFFICIENTS, "paper": POLAR_EXPRESS_PAPER_COEFFICIENTS}
