r"""Plateaus before narrow wells (part B of the ``schedules-in-use`` experiment): the designed
problem, a family of its instances, and full-batch GD on many instances and rates at once.

Every instance has its minimum at the origin and is radial:

.. math:: f(p)=\varepsilon\sqrt{\delta^2+\|p\|^2}-D\,e^{-\|p\|^2/(2w^2)}+D-\varepsilon\delta,

a plateau of gradient about :math:`\varepsilon` that tilts towards a well of width :math:`w`;
:math:`f^*=f(0)=0`, and the Hessian at the minimum is :math:`(\varepsilon/\delta+D/w^2)I`, so GD
with a constant rate :math:`\alpha` can settle in the well only when
:math:`\alpha<2/(\varepsilon/\delta+D/w^2)`. :class:`PlateauWell` is the designed instance
(:math:`\varepsilon=0.02`, :math:`\delta=0.5`, :math:`D=1`, :math:`w=0.25`, start
:math:`(-3,2)`); :func:`draw_instances` perturbs it (:math:`\varepsilon`, :math:`w` and the
start's distance :math:`r_0` each times a log-uniform factor in :math:`[0.8,1.25]`) or, for the
control, starts inside the well (:math:`r_0` one well width from the minimum, no plateau on the
way). Since :math:`f` is radial, only the start's distance matters; the start lies on the ray of
the designed start.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import minigrad as mg
import optimizers
from problems.landscapes import Landscape

__all__ = ["SPREAD", "Instances", "PlateauWell", "draw_instances", "gd_many", "plateau_well"]

DELTA, DEPTH = 0.5, 1.0
EPS, WIDTH, START = 0.02, 0.25, (-3.0, 2.0)
SPREAD = 1.25   # each perturbed parameter: the designed value times a factor in [1/SPREAD, SPREAD]


def plateau_well(p, eps, delta, depth, width):
    r""":math:`\varepsilon\sqrt{\delta^2+\|p\|^2}-De^{-\|p\|^2/(2w^2)}+D-\varepsilon\delta` on the
    last axis of the Tensor ``p``; the parameters are floats or arrays broadcasting against
    ``p[..., 0]`` (one value per instance)."""
    x, y = p[..., 0], p[..., 1]
    r2 = x * x + y * y
    return (eps * mg.sqrt(delta ** 2 + r2)
            - depth * mg.exp(-r2 * (1.0 / (2.0 * width ** 2)))
            + (depth - eps * delta))


class PlateauWell(Landscape):
    r"""The designed instance: a plateau with a slight tilt towards a narrow well,
    :math:`f(p)=\varepsilon\sqrt{\delta^2+\|p\|^2}-De^{-\|p\|^2/(2w^2)}+D-\varepsilon\delta`;
    minimum (exact) at 0 with :math:`f^*=0` and Hessian
    :math:`(\varepsilon/\delta+D/w^2)I`."""

    name = "plateau_well"
    exact = True
    centre = (0.0, 0.0)
    start_point = START
    bounds = ((-3.5, 1.0), (-1.5, 2.5))
    eps, delta, depth, width = EPS, DELTA, DEPTH, WIDTH

    @property
    def sharpness(self) -> float:
        return self.eps / self.delta + self.depth / self.width ** 2

    def _f_batched(self, p):
        return plateau_well(p, self.eps, self.delta, self.depth, self.width)


@dataclass(frozen=True)
class Instances:
    r"""``n`` instances of the plateau-and-well family: host arrays ``eps``, ``width`` (the well's
    :math:`w`) and ``r0`` (the start's distance from the minimum), all of shape (n,);
    :math:`\delta` and :math:`D` as designed."""

    eps: np.ndarray
    width: np.ndarray
    r0: np.ndarray

    def __post_init__(self):
        n = len(self.r0)
        for name in ("eps", "width", "r0"):
            a = np.asarray(getattr(self, name), dtype=float)
            if a.shape != (n,) or not np.all(np.isfinite(a)) or not np.all(a > 0):
                raise ValueError(f"Instances: {name} must be {n} positive finite numbers; got "
                                 f"{a!r}")
            object.__setattr__(self, name, a)

    def __len__(self) -> int:
        return len(self.r0)

    @property
    def sharpness(self) -> np.ndarray:
        r"""The Hessian's eigenvalue at the minimum, :math:`\varepsilon/\delta+D/w^2`."""
        return self.eps / DELTA + DEPTH / self.width ** 2

    def starts(self) -> np.ndarray:
        """The starts, shape (n, 2): distance ``r0`` on the ray of the designed start."""
        ray = np.asarray(START, dtype=float) / math.hypot(*START)
        return self.r0[:, None] * ray[None, :]

    def values(self, p, backend: str):
        """``f`` of instance ``i`` at ``p[..., i, :]`` (a Tensor of shape (..., n, 2))."""
        eps, width = (mg.backend.asarray(a, backend=backend) for a in (self.eps, self.width))
        return plateau_well(p, eps, DELTA, DEPTH, width)

    @staticmethod
    def concat(*parts) -> Instances:
        return Instances(*(np.concatenate([getattr(q, k) for q in parts])
                           for k in ("eps", "width", "r0")))


def designed() -> Instances:
    """The designed instance (:class:`PlateauWell`) as a family of one."""
    return Instances(np.array([EPS]), np.array([WIDTH]), np.array([math.hypot(*START)]))


def draw_instances(rng, n: int, where: str = "plateau", spread: float = SPREAD) -> Instances:
    r"""``n`` random instances: :math:`\varepsilon`, :math:`w` and :math:`r_0` the designed
    values times independent log-uniform factors in :math:`[1/s,s]`, :math:`s=` ``spread``
    (``where="plateau"``), or with the start inside the well, :math:`r_0=w\cdot u`, :math:`u`
    log-uniform in :math:`[1/s,s]` (``where="well"``: the control, no plateau to cross)."""
    if where not in ("plateau", "well"):
        raise ValueError(f"draw_instances: where must be 'plateau' or 'well'; got {where!r}")
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"draw_instances: n must be a positive integer; got {n!r}")
    if not (isinstance(spread, (int, float)) and math.isfinite(spread) and spread >= 1.0):
        raise ValueError(f"draw_instances: spread must be a finite number >= 1; got {spread!r}")
    u = np.exp(rng.uniform(-math.log(spread), math.log(spread), size=(3, n)))
    eps, width = EPS * u[0], WIDTH * u[1]
    r0 = math.hypot(*START) * u[2] if where == "plateau" else width * u[2]
    return Instances(eps, width, r0)


def gd_many(instances: Instances, rates: dict, K: int, backend: str = "numpy",
            paths=(0,)) -> dict:
    """Full-batch GD for ``K`` steps on every instance with every rate of ``rates`` (``label ->
    number or schedule``), all at once: one parameter group per rate in one ``optimizers.SGD``,
    its parameter the (n, 2) starts of all instances (the runs are independent: the loss is the
    sum of their losses). Returns the ``labels`` and host arrays ``f`` (rates, K+1, n), ``lr``
    (rates, K) and ``x`` (rates, K+1, len(paths), 2): the iterates of the instances ``paths``."""
    labels = list(rates)
    if not labels:
        raise ValueError("gd_many: rates is empty")
    paths = list(paths)
    x0 = instances.starts()
    xs = [mg.Tensor(mg.backend.asarray(x0, backend=backend), requires_grad=True)
          for _ in labels]
    opt = optimizers.SGD([{"params": [x], "lr": rates[n]} for x, n in zip(xs, labels)])
    f, xy, lr = [], [], []
    for k in range(K + 1):
        opt.zero_grad()
        values = instances.values(mg.stack(xs), backend)      # (rates, n)
        f.append(mg.backend.to_numpy(values.data).astype(float))
        xy.append(np.stack([mg.backend.to_numpy(x.data)[paths] for x in xs]).astype(float))
        if k == K:
            break
        mg.sum(values).backward()
        opt.step()
        lr.append(np.asarray([g["last_lr"] for g in opt.param_groups], dtype=float))
    return {"labels": labels, "f": np.stack(f, axis=1), "x": np.stack(xy, axis=1),
            "lr": np.asarray(lr, dtype=float).reshape(K, len(labels)).T}
