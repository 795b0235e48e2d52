r"""The instance families of the ``trajectories`` experiment: random starts on its landscapes,
the isotropic bowls of its controls, and the comparisons over them.

* **Landscape instances.** Every problem of the budget from its named start (instance 0) and from
  ``count`` random starts (instances 1, 2, ...) drawn uniformly in the disc of radius
  :math:`0.1\min(\text{window width},\text{height})` around the named start (a start of the
  same situation: on the same hillside, in the same valley), from the seed
  ``STARTS_SEED + 1000 seed + problem index``.
* **Bowls** (the controls): :math:`f(p)=\frac c2\|p\|^2`, :math:`x^*=0`, :math:`f^*=0`, with
  :math:`c=1/\alpha` for an interior learning rate :math:`\alpha` of the grid (cycled), started
  at distance 2 from :math:`x^*` in a random direction. On this class the best first-order step
  is known: GD with :math:`\alpha=1/c` reaches :math:`x^*` in one step, so no method can beat
  GD there, and momentum has nothing to gain.
* **Comparisons** (:func:`compare`): on each instance every method is at its own chosen
  learning rate (the experiment's rule, the same for all); the margins are paired (both arms on
  the same instance) and summarised by :mod:`experiments.family_stats`.
"""
from __future__ import annotations

import math

import numpy as np

from experiments.family_stats import mean_bound, win_share
from problems.landscapes import Landscape

__all__ = ["Bowl", "bowl_instances", "compare", "random_starts", "tied_winners"]

STARTS_SEED = 7211
BOWL_SEED = 4099
START_RADIUS = 0.1   # random starts: within this fraction of the window's smaller side
BOWL_DISTANCE = 2.0  # bowls: |x_0 - x^*|


class Bowl(Landscape):
    r"""The isotropic quadratic bowl :math:`f(p)=\frac c2\|p\|^2` (curvature :math:`c` in every
    direction, condition number 1), :math:`x^*=(0,0)`, :math:`f^*=0`."""

    name = "bowl"
    bounds = ((-3.0, 3.0), (-3.0, 3.0))
    exact = True
    start_point = (-2.0, 0.0)

    def __init__(self, curvature: float, x0=None, dtype="float64"):
        if not (isinstance(curvature, (int, float)) and math.isfinite(curvature)
                and curvature > 0):
            raise ValueError(f"Bowl: curvature must be a positive number; got {curvature!r}")
        self.curvature = float(curvature)
        super().__init__(x0=x0, dtype=dtype)

    def _f_batched(self, p):
        x, y = p[..., 0], p[..., 1]
        return (0.5 * self.curvature) * (x * x + y * y)

    def grad_closed_form(self, p):
        r""":math:`\nabla f(p)=c\,p`."""
        return self.curvature * self._array(p)


def random_starts(x0, bounds, count: int, seed: int) -> list:
    """``count`` host points uniform in the disc of radius ``START_RADIUS`` times the window's
    smaller side around ``x0``."""
    (xl, xh), (yl, yh) = bounds
    radius = START_RADIUS * min(xh - xl, yh - yl)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        r = radius * math.sqrt(rng.uniform())
        phi = rng.uniform(0.0, 2.0 * math.pi)
        out.append(np.asarray(x0, dtype=float) + r * np.array([math.cos(phi), math.sin(phi)]))
    return out


def bowl_instances(count: int, lrs, seed: int) -> list:
    r"""``(curvature, start)`` of the ``count`` bowls: :math:`c=1/\alpha` for the interior
    rates of the grid ``lrs`` in turn, a start at distance ``BOWL_DISTANCE`` in a random
    direction."""
    interior = list(lrs)[1:-1] or list(lrs)
    rng = np.random.default_rng(BOWL_SEED + 1000 * seed)
    out = []
    for j in range(count):
        phi = rng.uniform(0.0, 2.0 * math.pi)
        out.append((1.0 / float(interior[j % len(interior)]),
                    BOWL_DISTANCE * np.array([math.cos(phi), math.sin(phi)])))
    return out


def tied_winners(methods: dict, main) -> list:
    """The methods of ``main`` with the lowest score (mean log-gap) on one instance; a tie gives
    each tied method the win."""
    scores = {k: methods[k]["score"] for k in main}
    best = min(scores.values())
    return [k for k in main if scores[k] == best]


def _margin(a: float, b: float) -> float:
    """``a - b`` of two final log-gaps (``inf`` for a diverged run; NaN when both are)."""
    with np.errstate(invalid="ignore"):
        return float(np.float64(a) - np.float64(b))


def compare(instances: list, main, *, faster: tuple, decades: float, cap: float,
            adagrad: str, control: str | None, confidence: float = 0.95) -> dict:
    r"""The family's comparisons, from ``instances`` (``analyse_problem`` outputs, each with its
    ``problem`` and ``valley`` flag).

    * valleys: for each method of ``faster`` the margin
      :math:`\log_{10}(f(x_T)-f^*)_{\text{GD}}-\log_{10}(f(x_T)-f^*)_{\text{method}}` on
      every valley instance, its share :math:`\ge` ``decades`` and its t bound; GD's share of
      wins by the same margin;
    * robustness: the difference of the numbers of working rates, ``adagrad`` minus GD (and
      ``control`` minus GD), its share :math:`\ge1` (strictly more), GD's share, and the t
      bound of the mean difference;
    * winners: each method's share of the instances it wins (ties shared) and the largest share;
    * the (instance, method) pairs that did not end below their start."""
    valley = [d for d in instances if d["valley"]]
    out = {"n_instances": len(instances), "n_valley": len(valley), "valley": {}}
    for key in faster:
        m = [_margin(d["methods"]["GD"]["final_log_gap"], d["methods"][key]["final_log_gap"])
             for d in valley]
        out["valley"][key] = {
            "margins": m, "share": win_share(m, decades) if m else math.nan,
            "gd_share": win_share([-x for x in m], decades) if m else math.nan,
            "t": mean_bound(m, margin=decades, cap=cap, confidence=confidence) if m else None}
    rob = {}
    for key in (adagrad, control):
        if key is None:
            continue
        diff = [d["methods"][key]["good_lrs"] - d["methods"]["GD"]["good_lrs"]
                for d in instances]
        rob[key] = {"diff": diff, "share": win_share(diff, 1), "gd_share":
                    win_share([-x for x in diff], 1),
                    "t": mean_bound(diff, margin=0.0, cap=float(instances[0]["n_lrs"]),
                                    confidence=confidence)}
    out["robust"] = rob
    out["adagrad_diverged"] = int(sum(d["methods"][adagrad]["diverged_lrs"] for d in instances))
    wins = {k: 0 for k in main}
    winners = []
    for d in instances:
        w = tied_winners(d["methods"], main)
        winners.append(w)
        for k in w:
            wins[k] += 1
    share = {k: wins[k] / len(instances) for k in main}
    top = max(share, key=share.get)
    out.update(winners=winners, win_share=share, top=top, top_share=share[top],
               not_descending=[(d["label"], k) for d in instances for k in main
                               if not d["methods"][k]["descended"]])
    return out
