r"""Gradient estimators from function values only (docs/lectures.md section 7, L1).

L1 ("Проклятие размерности методов нулевого порядка"): zero-order GD is
:math:`x_{k+1} = x_k - \alpha_k G`, where :math:`G` is a two-point or multi-point estimate of the
gradient from values of f. Three families, each a function ``estimator(f, x, tau, rng, fx=None)``
returning :math:`G` (an array like ``x``); ``f`` maps a flat array to a float and ``rng`` is a
seeded NumPy generator from :func:`minigrad.backend.host_rng` (directions are drawn on the host and
moved to ``x``'s backend, so CPU and GPU runs are identical):

* :func:`two_point` — along a random unit direction :math:`e` (uniform on the sphere):

  .. math:: G = \frac{n}{2\tau}\,\big(f(x + \tau e) - f(x - \tau e)\big)\,e

  The factor :math:`n` makes it unbiased for a quadratic, since :math:`\mathbb{E}[ee^\top] = I/n`.
  2 evaluations.

* :func:`gaussian_smoothing` — Nesterov & Spokoiny (2017), "Random gradient-free minimization of
  convex functions" (Found. Comput. Math. 17), the oracles :math:`g_\mu` and :math:`\hat g_\mu`
  of their section 3 with :math:`B = I`, :math:`\mu = \tau`, :math:`u \sim N(0, I)`:

  .. math::
      G_{\text{forward}} = \frac{f(x + \tau u) - f(x)}{\tau}\,u, \qquad
      G_{\text{symmetric}} = \frac{f(x + \tau u) - f(x - \tau u)}{2\tau}\,u .

  Both are unbiased estimates of :math:`\nabla f_\tau(x)`, the gradient of the smoothed function
  :math:`f_\tau(x) = \mathbb{E}_u f(x + \tau u)` (their section 2); for a
  quadratic :math:`f_\tau = f + \frac{\tau^2}{2}\mathrm{tr}A`, so they are unbiased for
  :math:`\nabla f` itself. Their variance grows in proportion to :math:`n`:
  :math:`\mathbb{E}\|G_{\text{sym}} - \nabla f\|^2 = (n + 1)\|\nabla f\|^2` on a quadratic
  (from :math:`\mathbb{E}[(g^\top u)^2\|u\|^2] = (n + 2)\|g\|^2`). That is where the factor
  :math:`n` of L1's rate table comes from. 1 evaluation (forward, given ``fx``) or 2.

* :func:`coordinate` — multi-point, one central difference per coordinate:

  .. math:: G = \sum_{i=1}^n \frac{f(x + \tau e_i) - f(x - \tau e_i)}{2\tau}\,e_i

  Deterministic, exact for a quadratic, :math:`2n` evaluations: the factor :math:`n` moves from
  the variance to the cost.
"""
from __future__ import annotations

from minigrad import backend as B

__all__ = ["two_point", "gaussian_smoothing", "gaussian_forward", "gaussian_symmetric",
           "coordinate", "ESTIMATORS", "evaluations_per_estimate", "random_normal", "random_unit"]


def random_normal(rng, like):
    r""":math:`u \sim N(0, I)` of ``like``'s size, drawn on the host by ``rng`` and moved to
    ``like``'s backend and dtype."""
    u = rng.standard_normal(like.size)
    return B.asarray(u, dtype=like.dtype, backend=B.backend_name_of(like))


def random_unit(rng, like):
    r""":math:`e = u / \|u\|_2`, uniform on the unit sphere."""
    u = rng.standard_normal(like.size)
    u /= (u @ u) ** 0.5
    return B.asarray(u, dtype=like.dtype, backend=B.backend_name_of(like))


def two_point(f, x, tau, rng, fx=None):
    r""":math:`G = \frac{n}{2\tau}(f(x + \tau e) - f(x - \tau e))\,e`, :math:`e` uniform on the
    unit sphere (L1; docs/lectures.md section 7). ``fx`` is not used."""
    n = x.size
    e = random_unit(rng, x)                              # e ~ U(S^{n-1})
    delta = f(x + tau * e) - f(x - tau * e)              # f(x + tau e) - f(x - tau e)
    return (n * delta / (2.0 * tau)) * e                 # G = n/(2 tau) (...) e


def gaussian_forward(f, x, tau, rng, fx=None):
    r""":math:`G = \frac{f(x + \tau u) - f(x)}{\tau}\,u`, :math:`u \sim N(0, I)` (Nesterov &
    Spokoiny 2017). ``fx`` = :math:`f(x)` saves one evaluation when known."""
    u = random_normal(rng, x)                            # u ~ N(0, I)
    if fx is None:
        fx = f(x)
    return ((f(x + tau * u) - fx) / tau) * u             # G = (f(x + tau u) - f(x)) / tau u


def gaussian_symmetric(f, x, tau, rng, fx=None):
    r""":math:`G = \frac{f(x + \tau u) - f(x - \tau u)}{2\tau}\,u`, :math:`u \sim N(0, I)`
    (Nesterov & Spokoiny 2017). ``fx`` is not used."""
    u = random_normal(rng, x)                            # u ~ N(0, I)
    return ((f(x + tau * u) - f(x - tau * u)) / (2.0 * tau)) * u


def gaussian_smoothing(f, x, tau, rng, fx=None, kind: str = "forward"):
    """Gaussian smoothing, ``kind="forward"`` (default) or ``"symmetric"``."""
    if kind == "forward":
        return gaussian_forward(f, x, tau, rng, fx)
    if kind == "symmetric":
        return gaussian_symmetric(f, x, tau, rng, fx)
    raise ValueError(f"gaussian_smoothing: kind must be 'forward' or 'symmetric'; got {kind!r}")


def coordinate(f, x, tau, rng=None, fx=None):
    r""":math:`G = \sum_i \frac{f(x + \tau e_i) - f(x - \tau e_i)}{2\tau} e_i` (central
    differences along the coordinate axes; ``rng`` and ``fx`` are not used)."""
    xp = B.get_array_module(x)
    G = xp.empty_like(x)
    e = xp.zeros_like(x)
    for i in range(x.size):
        e[i] = tau                                       # tau e_i
        G[i] = (f(x + e) - f(x - e)) / (2.0 * tau)       # (f(x + tau e_i) - f(x - tau e_i)) / 2tau
        e[i] = 0.0
    return G


ESTIMATORS = {
    "two-point": two_point,
    "gaussian-forward": gaussian_forward,
    "gaussian-symmetric": gaussian_symmetric,
    "coordinate": coordinate,
}


def evaluations_per_estimate(name: str, n: int, fx_known: bool = True) -> int:
    """Evaluations of f per estimate: 2, 1 (2 without ``f(x)``), 2 and ``2n``."""
    return {"two-point": 2, "gaussian-forward": 1 if fx_known else 2,
            "gaussian-symmetric": 2, "coordinate": 2 * n}[name]
