r"""Named 2-D landscapes for the trajectory pictures of L0 (Bursky's lecture 3).

The lecture shows optimizers' paths on landscapes it calls "rectangles", "spikes", "basins and
walls" and "hills and canyon" (Adagrad for :math:`\epsilon\in\{10^{-7},0.1,10\}`, RMSProp for
several :math:`\gamma`, Adam for several :math:`\beta_2`, and a comparison of Adam, Adagrad,
RMSProp, Adadelta and Nesterov), but gives no formulas; "ravine" is the classic narrow valley
of the same discussion. The functions below are designed for those pictures from smooth
minigrad operations (``sigmoid``, ``exp``, ``sin``, polynomials); each docstring says what it is
for. Every one has a bowl term that dominates far away, so the global minimum is inside the
plotting window ``bounds``; ``x_star``/``f_star`` are exact where the construction makes them so
and otherwise refined by Newton's method from the designed centre (gradient norm below
:math:`10^{-12}`); a test checks each against a grid search plus local refinement.

Gaussian bump: :math:`G(p;c,w)=\exp(-\|p-c\|^2/(2w^2))`.
"""
from __future__ import annotations

import math

import minigrad as mg
from minigrad import backend as B
from problems.newton import newton_minimize
from problems.test_functions import _TestFunction

__all__ = ["Landscape", "Rectangles", "Spikes", "BasinsAndWalls", "HillsAndCanyon", "Ravine",
           "LANDSCAPES", "landscape"]


def _bump(x, y, cx, cy, w):
    dx, dy = x - cx, y - cy
    return mg.exp(-(dx * dx + dy * dy) * (1.0 / (2.0 * w * w)))


def _bump_grad(xp, x, y, cx, cy, w):
    r""":math:`\nabla G(p;c,w) = -G(p;c,w)\,(p-c)/w^2`, as ``(d/dx, d/dy)`` (floats or arrays)."""
    dx, dy = x - cx, y - cy
    G = xp.exp(-(dx * dx + dy * dy) / (2.0 * w * w))
    return -G * dx / (w * w), -G * dy / (w * w)


def _point(problem, p):
    """``(xp, x, y)`` for a point ``p`` of shape (2,)."""
    p = problem._array(p)
    return B.get_array_module(p), p[0], p[1]


class Landscape(_TestFunction):
    """A 2-D landscape: ``_f_batched`` on the last axis, a start ``x0``, a window ``bounds``."""

    #: the designed location of the global minimum, refined by Newton when not exact
    centre = (0.0, 0.0)
    exact = False
    start_point = (0.0, 0.0)

    def __init__(self, x0=None, dtype="float64"):
        owner = type(self).__name__
        self._setup(self._start(owner, x0, list(self.start_point), 2), shape=(2,), dtype=dtype)
        if self.exact:
            self._x_star = B.asarray(self.centre, dtype=dtype)
        else:
            self._x_star = self.refine(self.centre)
        self._f_star = self.value(self._x_star)
        self.local_minima = [self.refine(c) for c in getattr(self, "basin_centres", ())]

    def refine(self, guess):
        """The local minimum near ``guess`` by Newton's method (gradient norm < 1e-12)."""
        x, _ = newton_minimize(self._flat_f, B.asarray(guess, dtype=self.dtype,
                                                       backend=self.backend))
        return x


class Rectangles(Landscape):
    r"""Terraces with rectangular level sets: plateaus separated by steep axis-aligned steps.

    .. math:: f(x,y)=T(x/w_x)+T(y/w_y)+c\,(x^2+y^2),\quad
       T(t)=\sum_{k=1}^{3}\bigl[\sigma(s(t-k))+\sigma(s(-t-k))\bigr]-T(0),

    :math:`\sigma` the logistic function, :math:`s=16`, :math:`w_x=1`, :math:`w_y=0.6`,
    :math:`c=0.01`. Purpose: on a plateau the gradient is tiny (only the weak bowl), at a step
    it is large, and the steps in :math:`x` and :math:`y` differ in spacing: GD crawls on
    plateaus and jumps at steps, while Adagrad/RMSProp/Adam rescale each coordinate by its own
    gradient history (L0 shows Adagrad here for :math:`\epsilon\in\{10^{-7},0.1,10\}`: a large
    :math:`\epsilon` turns it back into plain GD). Minimum (exact): :math:`T` is even and
    increasing in :math:`|t|` (each pair of sigmoids is), so :math:`x^*=(0,0)`, :math:`f^*=0`.
    """

    name = "rectangles"
    bounds = ((-4.0, 4.0), (-2.6, 2.6))
    exact = True
    start_point = (-3.6, 2.3)
    steps, sharpness, wx, wy, bowl = 3, 16.0, 1.0, 0.6, 0.01

    def _T(self, t):
        s = self.sharpness
        out = 0.0
        for k in range(1, self.steps + 1):
            out = out + mg.sigmoid(s * (t - k)) + mg.sigmoid(s * (-t - k))
        t0 = 2.0 * sum(1.0 / (1.0 + math.exp(s * k)) for k in range(1, self.steps + 1))
        return out - t0

    def _f_batched(self, p):
        x, y = p[..., 0], p[..., 1]
        return self._T(x / self.wx) + self._T(y / self.wy) + self.bowl * (x * x + y * y)

    def _dT(self, xp, t):
        r""":math:`T'(t)=s\sum_k\bigl[\sigma'(s(t-k))-\sigma'(s(-t-k))\bigr]`,
        :math:`\sigma'=\sigma(1-\sigma)`."""
        s = self.sharpness
        out = 0.0
        for k in range(1, self.steps + 1):
            a = 0.5 * (1.0 + xp.tanh(0.5 * s * (t - k)))   # sigma(s(t - k))
            b = 0.5 * (1.0 + xp.tanh(0.5 * s * (-t - k)))  # sigma(s(-t - k))
            out = out + s * (a * (1.0 - a) - b * (1.0 - b))
        return out

    def grad_closed_form(self, p):
        r""":math:`\bigl(T'(x/w_x)/w_x+2cx,\ T'(y/w_y)/w_y+2cy\bigr)`."""
        xp, x, y = _point(self, p)
        return xp.stack([self._dT(xp, x / self.wx) / self.wx + 2.0 * self.bowl * x,
                         self._dT(xp, y / self.wy) / self.wy + 2.0 * self.bowl * y])


class Spikes(Landscape):
    r"""A smooth elliptic bowl studded with narrow, tall Gaussian spikes.

    .. math:: f(p)=0.1x^2+0.3y^2+\sum_k h_k\,G(p;c_k,0.15),

    spikes on the lattice :math:`c=(i+\tfrac12(j\bmod2),\,j)`, :math:`|i|\le3`,
    :math:`|j|\le2`, kept when :math:`\|c\|\ge1.5`, heights :math:`h=1.5+(i+j)\bmod3`.
    Purpose: rare, huge gradients: an optimizer that meets a spike gets kicked; Adam's
    :math:`\beta_2` sets how long the kick's squared gradient keeps damping later steps (L0
    shows Adam here for several :math:`\beta_2`). Minimum: at the origin, where every spike is
    at least 1.5 (10 widths) away, so their pull is below :math:`10^{-20}`; ``x_star`` is refined
    by Newton from :math:`(0,0)` and is :math:`(0,0)` to machine precision, :math:`f^*\approx0`.
    """

    name = "spikes"
    bounds = ((-4.0, 4.0), (-3.0, 3.0))
    start_point = (-3.5, 2.5)
    width = 0.15

    @property
    def spikes(self) -> list:
        """``(cx, cy, height)`` of each spike."""
        out = []
        for j in range(-2, 3):
            for i in range(-3, 4):
                cx, cy = i + 0.5 * (j % 2), float(j)
                if math.hypot(cx, cy) >= 1.5:
                    out.append((cx, cy, 1.5 + (i + j) % 3))
        return out

    def _f_batched(self, p):
        x, y = p[..., 0], p[..., 1]
        f = 0.1 * (x * x) + 0.3 * (y * y)
        for cx, cy, h in self.spikes:
            f = f + h * _bump(x, y, cx, cy, self.width)
        return f

    def grad_closed_form(self, p):
        r""":math:`(0.2x,\,0.6y)+\sum_kh_k\nabla G(p;c_k,0.15)`."""
        xp, x, y = _point(self, p)
        gx, gy = 0.2 * x, 0.6 * y
        for cx, cy, h in self.spikes:
            bx, by = _bump_grad(xp, x, y, cx, cy, self.width)
            gx, gy = gx + h * bx, gy + h * by
        return xp.stack([gx, gy])


class BasinsAndWalls(Landscape):
    r"""Four Gaussian basins of different depths, one per quadrant, separated by two walls
    (ridges along the axes), each wall with one door.

    .. math:: f(p)=0.03\|p\|^2-\sum_{k=1}^4 d_kG(p;c_k,0.8)
       +h\,e^{-x^2/(2w^2)}\bigl(1-e^{-(y-1.6)^2/(2g^2)}\bigr)
       +h\,e^{-y^2/(2w^2)}\bigl(1-e^{-(x+1.6)^2/(2g^2)}\bigr),

    basins :math:`c=(-2.5,2),(2.5,2),(-2.5,-2),(2.5,-2)` with depths
    :math:`d=1,1.5,1.8,2.5`; walls of height :math:`h=1.5`, half-width :math:`w=0.25`,
    doors of half-width :math:`g=0.35` at :math:`y=1.6` (vertical wall) and :math:`x=-1.6`
    (horizontal wall). Purpose: the start lies in the shallowest basin (top left); the deepest
    (bottom right) is reached only through both doors, or by momentum carrying the iterate over a
    wall. Minimum: the deepest basin's centre refined by Newton (near :math:`(2.45,-1.96)`);
    ``local_minima`` holds all four basins' refined minima.
    """

    name = "basins_and_walls"
    bounds = ((-4.5, 4.5), (-4.0, 4.0))
    start_point = (-3.0, 2.6)
    basin_centres = ((-2.5, 2.0), (2.5, 2.0), (-2.5, -2.0), (2.5, -2.0))
    depths = (1.0, 1.5, 1.8, 2.5)
    centre = (2.5, -2.0)
    wall_height, wall_width, door_width = 1.5, 0.25, 0.35
    door_v, door_h = 1.6, -1.6

    def _f_batched(self, p):
        x, y = p[..., 0], p[..., 1]
        f = 0.03 * (x * x + y * y)
        for (cx, cy), d in zip(self.basin_centres, self.depths):
            f = f - d * _bump(x, y, cx, cy, 0.8)
        h, w, g = self.wall_height, self.wall_width, self.door_width
        cw, cg = 1.0 / (2 * w * w), 1.0 / (2 * g * g)
        dv, dh = y - self.door_v, x - self.door_h
        f = f + h * mg.exp(-(x * x) * cw) * (1.0 - mg.exp(-(dv * dv) * cg))
        f = f + h * mg.exp(-(y * y) * cw) * (1.0 - mg.exp(-(dh * dh) * cg))
        return f

    def grad_closed_form(self, p):
        r"""With :math:`E_1=e^{-x^2/(2w^2)}`, :math:`D_1=e^{-(y-1.6)^2/(2g^2)}`,
        :math:`E_2=e^{-y^2/(2w^2)}`, :math:`D_2=e^{-(x+1.6)^2/(2g^2)}`:

        .. math::
            \partial_x f = 0.06x-\sum_kd_k\partial_xG_k-\frac{hx}{w^2}E_1(1-D_1)
                +\frac{h(x+1.6)}{g^2}E_2D_2, \quad
            \partial_y f = 0.06y-\sum_kd_k\partial_yG_k+\frac{h(y-1.6)}{g^2}E_1D_1
                -\frac{hy}{w^2}E_2(1-D_2).
        """
        xp, x, y = _point(self, p)
        gx, gy = 0.06 * x, 0.06 * y
        for (cx, cy), d in zip(self.basin_centres, self.depths):
            bx, by = _bump_grad(xp, x, y, cx, cy, 0.8)
            gx, gy = gx - d * bx, gy - d * by
        h, w, g = self.wall_height, self.wall_width, self.door_width
        dv, dh = y - self.door_v, x - self.door_h
        E1, D1 = xp.exp(-x * x / (2 * w * w)), xp.exp(-dv * dv / (2 * g * g))
        E2, D2 = xp.exp(-y * y / (2 * w * w)), xp.exp(-dh * dh / (2 * g * g))
        gx = gx - h * x / (w * w) * E1 * (1.0 - D1) + h * dh / (g * g) * E2 * D2
        gy = gy + h * dv / (g * g) * E1 * D1 - h * y / (w * w) * E2 * (1.0 - D2)
        return xp.stack([gx, gy])


class HillsAndCanyon(Landscape):
    r"""Gaussian hills around a narrow winding canyon that slopes down to the global minimum.

    .. math:: f(p)=0.05(x-3)^2+0.02y^2-D\,e^{-(y-a\sin bx)^2/(2w^2)}+\sum_k h_kG(p;c_k,0.6),

    canyon along :math:`y=0.6\sin1.3x` with depth :math:`D=1`, half-width :math:`w=0.2`;
    hills of height 1.5 at :math:`(-2,1.7),(0.5,-1.8),(1.5,1.9),(-1,-1.5),(-3.2,-0.8)`.
    Purpose: from the start on a hillside an optimizer first falls into the canyon, then must
    follow its curved floor, whose walls are steep (curvature about :math:`D/w^2=25` across)
    while its floor descends gently (curvature 0.1 along): GD bounces between the walls, momentum
    and adaptive methods travel along the floor. Minimum: refined by Newton from
    :math:`(3, 0.6\sin3.9)`, the canyon point closest to the slope's centre.
    """

    name = "hills_and_canyon"
    bounds = ((-4.0, 4.0), (-3.0, 3.0))
    start_point = (-3.3, 2.4)
    amp, freq, depth, width = 0.6, 1.3, 1.0, 0.2
    hills = ((-2.0, 1.7), (0.5, -1.8), (1.5, 1.9), (-1.0, -1.5), (-3.2, -0.8))
    centre = (3.0, 0.6 * math.sin(3.9))

    def _f_batched(self, p):
        x, y = p[..., 0], p[..., 1]
        u = x - 3.0
        f = 0.05 * (u * u) + 0.02 * (y * y)
        r = y - self.amp * mg.sin(self.freq * x)
        f = f - self.depth * mg.exp(-(r * r) * (1.0 / (2 * self.width ** 2)))
        for cx, cy in self.hills:
            f = f + 1.5 * _bump(x, y, cx, cy, 0.6)
        return f

    def grad_closed_form(self, p):
        r"""With :math:`r=y-a\sin bx`, :math:`E=e^{-r^2/(2w^2)}`:
        :math:`\partial_xf=0.1(x-3)-\frac{D}{w^2}rE\,ab\cos bx+\sum_k1.5\,\partial_xG_k`,
        :math:`\partial_yf=0.04y+\frac{D}{w^2}rE+\sum_k1.5\,\partial_yG_k`."""
        xp, x, y = _point(self, p)
        a, b, D, w = self.amp, self.freq, self.depth, self.width
        r = y - a * xp.sin(b * x)
        E = xp.exp(-r * r / (2 * w * w))
        gx = 0.1 * (x - 3.0) - D / (w * w) * r * E * a * b * xp.cos(b * x)
        gy = 0.04 * y + D / (w * w) * r * E
        for cx, cy in self.hills:
            bx, by = _bump_grad(xp, x, y, cx, cy, 0.6)
            gx, gy = gx + 1.5 * bx, gy + 1.5 * by
        return xp.stack([gx, gy])


class Ravine(Landscape):
    r"""A narrow curved ravine:

    .. math:: f(x,y)=0.1x^2+10\,(y-\tfrac12\sin x)^2 .

    Purpose: the classic ill-conditioned valley: across it the curvature is 20, along its floor
    :math:`y=\tfrac12\sin x` it is 0.2, and at the minimum the Hessian
    :math:`\begin{pmatrix}5.2&-10\\-10&20\end{pmatrix}` has condition number about 156, so GD
    with a stable step zig-zags across and creeps along; momentum and adaptive steps help.
    Minimum (exact): both squares vanish only at :math:`x^*=(0,0)`, :math:`f^*=0`.
    """

    name = "ravine"
    bounds = ((-4.0, 4.0), (-2.0, 2.0))
    exact = True
    start_point = (-3.5, 1.5)

    def _f_batched(self, p):
        x, y = p[..., 0], p[..., 1]
        r = y - 0.5 * mg.sin(x)
        return 0.1 * (x * x) + 10.0 * (r * r)

    def grad_closed_form(self, p):
        p = self._array(p)
        xp = B.get_array_module(p)
        x, y = p[0], p[1]
        r = y - 0.5 * xp.sin(x)
        return xp.stack([0.2 * x - 10.0 * r * xp.cos(x), 20.0 * r])


LANDSCAPES = {cls.name: cls for cls in (Rectangles, Spikes, BasinsAndWalls, HillsAndCanyon,
                                        Ravine)}


def landscape(name: str, **kwargs) -> Landscape:
    """The landscape called ``name`` (a key of :data:`LANDSCAPES`; spaces and hyphens may stand
    for underscores, so "basins and walls" works)."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    if key not in LANDSCAPES:
        raise ValueError(f"landscape: unknown name={name!r}; choose one of {sorted(LANDSCAPES)}")
    return LANDSCAPES[key](**kwargs)
