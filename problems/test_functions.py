r"""Classical optimisation test functions with their published minima.

Each is written on the last axis of its argument (``_f_batched``), so ``f`` of a point is a
scalar and ``values`` of an (..., d) array of points is one vectorised call. Formulas and minima
are those of the standard test-function collections (e.g. Jamil & Yang 2013, "A literature
survey of benchmark functions for global optimization problems"; Moré, Garbow & Hillstrom 1981
for Rosenbrock's start point).
"""
from __future__ import annotations

import math

import minigrad as mg
from minigrad import backend as B
from problems import _validate as V
from problems.base import Problem
from problems.newton import newton_minimize
from problems.quadratic import Quadratic

__all__ = ["Rosenbrock", "Beale", "Himmelblau", "Rastrigin", "Ackley", "IllConditionedQuadratic",
           "HIMMELBLAU_MINIMA"]

#: Himmelblau's four minima as published (6 decimals); the class refines them by Newton
HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                     (3.584428, -1.848126))


class _TestFunction(Problem):
    """A function defined by ``_f_batched`` on the last axis."""

    convex = False

    def _f(self, x):
        return self._f_batched(x)

    def _start(self, owner, x0, default, dim):
        x0 = default if x0 is None else B.to_numpy(x0)
        shape = tuple(B.host_xp().shape(x0))
        if shape != (dim,):
            raise ValueError(f"{owner}: x0 has shape {shape} but the problem's "
                             f"variable has shape {(dim,)}")
        return x0


class Rosenbrock(_TestFunction):
    r"""Rosenbrock's banana valley (L1, L2: "many methods on Rosenbrock, lr 0.003"), in ``dim``
    dimensions:

    .. math:: f(x)=\sum_{i=1}^{d-1} b\,(x_{i+1}-x_i^2)^2+(a-x_i)^2 .

    Minimum: :math:`x^*=(1,\dots,1)`, :math:`f^*=0` for :math:`a=1` (any ``dim``); for
    ``dim=2`` and any :math:`a`: :math:`x^*=(a,a^2)`. Not convex, and not globally smooth
    (quartic): ``mu`` and ``L`` are None; ``L_star`` is the largest Hessian eigenvalue at
    :math:`x^*` (about 1001.6 for the 2-D default). Start: the classic
    :math:`(-1.2, 1, -1.2, 1, \dots)` (Moré, Garbow & Hillstrom 1981).
    """

    name = "rosenbrock"
    bounds = ((-2.0, 2.0), (-1.0, 3.0))

    def __init__(self, dim: int = 2, a: float = 1.0, b: float = 100.0, x0=None,
                 dtype="float64"):
        owner = type(self).__name__
        dim = V.positive_int(owner, "dim", dim, minimum=2)
        self.a = V.finite(owner, "a", a)
        self.b = V.positive(owner, "b", b)
        if dim > 2 and self.a != 1.0:
            raise ValueError(f"{owner}: for dim > 2 the known minimum needs a = 1; got a={a!r}")
        default = B.host_xp().array([-1.2 if i % 2 == 0 else 1.0 for i in range(dim)])
        x_star = B.host_xp().ones(dim) if dim > 2 else B.host_xp().array([self.a, self.a ** 2])
        self._setup(self._start(owner, x0, default, dim), shape=(dim,), x_star=x_star,
                    f_star=0.0, dtype=dtype)

    @property
    def L_star(self) -> float:
        """The largest eigenvalue of the Hessian at :math:`x^*` (the local smoothness)."""
        return float(B.host_xp().linalg.eigvalsh(B.to_numpy(self.hessian(self.x_star)))[-1])

    def _f_batched(self, x):
        u, v = x[..., :-1], x[..., 1:]
        w = v - u * u
        r = self.a - u
        return mg.sum(self.b * (w * w) + r * r, axis=-1)

    def grad_closed_form(self, x):
        r""":math:`\partial_i f=-4b\,x_i(x_{i+1}-x_i^2)-2(a-x_i)+2b(x_i-x_{i-1}^2)` (terms that
        exist)."""
        x = self._array(x)
        xp = B.get_array_module(x)
        g = xp.zeros_like(x)
        w = x[1:] - x[:-1] ** 2
        g[:-1] += -4.0 * self.b * x[:-1] * w - 2.0 * (self.a - x[:-1])
        g[1:] += 2.0 * self.b * w
        return g


class Beale(_TestFunction):
    r"""Beale's function,

    .. math:: f(x,y)=(1.5-x+xy)^2+(2.25-x+xy^2)^2+(2.625-x+xy^3)^2,

    with its global minimum :math:`x^*=(3, 0.5)`, :math:`f^*=0` (each bracket vanishes there).
    Plotting window :math:`[-4.5, 4.5]^2`; start :math:`(1, 1.5)`.
    """

    name = "beale"
    bounds = ((-4.5, 4.5), (-4.5, 4.5))

    def __init__(self, x0=None, dtype="float64"):
        self._setup(self._start(type(self).__name__, x0, [1.0, 1.5], 2), shape=(2,),
                    x_star=[3.0, 0.5], f_star=0.0, dtype=dtype)

    def _f_batched(self, p):
        x, y = p[..., 0], p[..., 1]
        a = 1.5 - x + x * y
        b = 2.25 - x + x * (y * y)
        c = 2.625 - x + x * (y * y * y)
        return a * a + b * b + c * c

    def grad_closed_form(self, p):
        p = self._array(p)
        xp = B.get_array_module(p)
        x, y = p[0], p[1]
        a, b, c = 1.5 - x + x * y, 2.25 - x + x * y ** 2, 2.625 - x + x * y ** 3
        return xp.stack([2 * a * (y - 1) + 2 * b * (y ** 2 - 1) + 2 * c * (y ** 3 - 1),
                         2 * a * x + 4 * b * x * y + 6 * c * x * y ** 2])


class Himmelblau(_TestFunction):
    r"""Himmelblau's function, four global minima of value 0:

    .. math:: f(x,y)=(x^2+y-11)^2+(x+y^2-7)^2 .

    Published minima (6 decimals): :math:`(3,2)`, :math:`(-2.805118, 3.131312)`,
    :math:`(-3.779310,-3.283186)`, :math:`(3.584428,-1.848126)`; ``minima`` holds them refined
    by Newton's method to a gradient norm below :math:`10^{-12}`. ``x_star`` is :math:`(3,2)`,
    the exact one. Start :math:`(0,0)`.
    """

    name = "himmelblau"
    bounds = ((-5.0, 5.0), (-5.0, 5.0))

    def __init__(self, x0=None, dtype="float64"):
        self._setup(self._start(type(self).__name__, x0, [0.0, 0.0], 2), shape=(2,),
                    x_star=[3.0, 2.0], f_star=0.0, dtype=dtype)
        self.minima = [newton_minimize(self._flat_f, B.asarray(m, dtype=dtype))[0]
                       for m in HIMMELBLAU_MINIMA]

    def _f_batched(self, p):
        x, y = p[..., 0], p[..., 1]
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return a * a + b * b

    def grad_closed_form(self, p):
        p = self._array(p)
        xp = B.get_array_module(p)
        x, y = p[0], p[1]
        a, b = x * x + y - 11.0, x + y * y - 7.0
        return xp.stack([4 * a * x + 2 * b, 2 * a + 4 * b * y])


class Rastrigin(_TestFunction):
    r"""Rastrigin's function, a regular lattice of local minima:

    .. math:: f(x)=Ad+\sum_{j=1}^d\bigl(x_j^2-A\cos2\pi x_j\bigr),\qquad A=10,

    global minimum :math:`x^*=0`, :math:`f^*=0`. Smooth with
    :math:`L=2+4\pi^2A` (:math:`f''=2+4\pi^2A\cos2\pi x_j`), not convex. Window
    :math:`[-5.12,5.12]^2`; start :math:`(3.3,\dots,3.3)`.
    """

    name = "rastrigin"
    bounds = ((-5.12, 5.12), (-5.12, 5.12))

    def __init__(self, dim: int = 2, A: float = 10.0, x0=None, dtype="float64"):
        owner = type(self).__name__
        dim = V.positive_int(owner, "dim", dim)
        self.A = V.nonnegative(owner, "A", A)
        self._setup(self._start(owner, x0, B.host_xp().full(dim, 3.3), dim), shape=(dim,),
                    L=2.0 + 4.0 * math.pi ** 2 * self.A, x_star=B.host_xp().zeros(dim), f_star=0.0,
                    dtype=dtype)

    def _f_batched(self, x):
        d = x.shape[-1]
        return self.A * d + mg.sum(x * x - self.A * mg.cos((2 * math.pi) * x), axis=-1)

    def grad_closed_form(self, x):
        x = self._array(x)
        xp = B.get_array_module(x)
        return 2.0 * x + 2.0 * math.pi * self.A * xp.sin(2.0 * math.pi * x)


class Ackley(_TestFunction):
    r"""Ackley's function, a nearly flat outer region with a deep central hole:

    .. math:: f(x)=-a\,e^{-b\sqrt{\frac1d\sum_jx_j^2}}-e^{\frac1d\sum_j\cos cx_j}+a+e,

    :math:`a=20`, :math:`b=0.2`, :math:`c=2\pi`; global minimum :math:`x^*=0`, :math:`f^*=0`.
    It is not differentiable at :math:`x^*` (a cone): the engine's convention
    :math:`\nabla\|x\|=0` at 0 makes the gradient there 0. Window :math:`[-5,5]^2`; start
    :math:`(3.5,\dots,3.5)`.
    """

    name = "ackley"
    bounds = ((-5.0, 5.0), (-5.0, 5.0))

    def __init__(self, dim: int = 2, a: float = 20.0, b: float = 0.2, c: float = 2 * math.pi,
                 x0=None, dtype="float64"):
        owner = type(self).__name__
        dim = V.positive_int(owner, "dim", dim)
        self.a, self.b = V.positive(owner, "a", a), V.positive(owner, "b", b)
        self.c = V.positive(owner, "c", c)
        self._setup(self._start(owner, x0, B.host_xp().full(dim, 3.5), dim), shape=(dim,),
                    x_star=B.host_xp().zeros(dim), f_star=0.0, dtype=dtype)

    def _f_batched(self, x):
        d = x.shape[-1]
        r = mg.norm(x, axis=-1) / math.sqrt(d)
        return (-self.a * mg.exp(-self.b * r) - mg.exp(mg.mean(mg.cos(self.c * x), axis=-1))
                + (self.a + math.e))

    def grad_closed_form(self, x):
        x = self._array(x)
        xp = B.get_array_module(x)
        d = x.size
        r = float(xp.sqrt(xp.sum(x * x) / d))
        g1 = 0.0 * x if r == 0 else self.a * self.b * math.exp(-self.b * r) * x / (d * r)
        e = float(xp.exp(xp.mean(xp.cos(self.c * x))))
        return g1 + e * self.c * xp.sin(self.c * x) / d


class IllConditionedQuadratic(Quadratic):
    r"""The 2-D quadratic :math:`f(x,y)=x^2+3y^2+2xy=\tfrac12 z^\top Az`,
    :math:`A=\begin{pmatrix}2&2\\2&6\end{pmatrix}`: :math:`x^*=0`, :math:`f^*=0`,
    :math:`\mu=4-2\sqrt2\approx1.172`, :math:`L=4+2\sqrt2\approx6.828` (the eigenvalues of
    :math:`A`, :math:`\kappa=3+2\sqrt2\approx5.83`); its level sets are tilted ellipses, so GD
    zig-zags. Start :math:`(-2.5, 1.5)`.
    """

    name = "ill_conditioned_quadratic"
    bounds = ((-3.0, 3.0), (-3.0, 3.0))

    def __init__(self, x0=None, dtype="float64"):
        q = Quadratic.from_matrix([[2.0, 2.0], [2.0, 6.0]],
                                  x0=[-2.5, 1.5] if x0 is None else x0, dtype=dtype)
        self.__dict__.update(vars(q))

    def _f_batched(self, p):
        x, y = p[..., 0], p[..., 1]
        return x * x + 3.0 * (y * y) + 2.0 * (x * y)
