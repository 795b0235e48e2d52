r"""Heavy-tailed class imbalance in the descent regime: the lecture's claim restricted to step
sizes that never raise the loss (L1; Kunstner, Yadav, Milligan, Schmidt & Bietti 2024,
"Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent on Language Models";
docs/lectures.md section 9).

**Claim**: with heavy-tailed class frequencies and every method at its best step size **among
those whose loss never rises above its start** :math:`f(W_0)=\log c`, GD barely reduces the loss
of the rare classes while Adam and sign descent reduce the loss of every frequency group. This is
a narrower claim than the lecture's (``heavy-tailed-imbalance``,
:mod:`experiments.class_imbalance`): on these separable data, GD with a step far beyond
:math:`1/L` first raises the loss by orders of magnitude (the frequent class's logits overshoot)
and then fits every group, so the unrestricted claim fails; the restriction was added after that
result, and this experiment reports it as a claim of its own, next to the unrestricted one.

**Set-up**: the runs of :mod:`experiments.imbalance_runs`, shared with
``heavy-tailed-imbalance`` (the same data sets, grids and budgets; a process that runs both
computes them once).

**Step-size rule** (the same for the three methods, on every data set): the grid value with the
lowest final full loss among the runs whose loss never exceeded :math:`f(W_0)` at any step.

**Rule in force** (rule 2): checks (a), (b), (c) of :mod:`experiments.class_imbalance` on each
heavy-tailed data set, on at least 80% of them, with this selection; **control**: on balanced
data sets (equal class frequencies, GD, the same selection) check (c) may hold on at most 20%.

**Statistics**: as in :mod:`experiments.class_imbalance` (deterministic methods, a family of data
sets, 10 in the full run, ``--quick`` 1; the share of data sets on which the claim holds).

**History.**

1. Rule 1: the restricted selection on one data set (data seed 0) with a half-decade grid, checks
   (a), (b), :math:`r^{GD}_{k-1}\ge0.5` and :math:`r^{GD}_0<r^{GD}_{k-1}`: the rule added after
   the unrestricted rule failed. On a 4-per-decade grid GD's selected step moves up and its
   rare-group :math:`r` falls from 0.91 to 0.63 (``--quick`` sizes), close to the threshold 0.5:
   one data set and a coarse grid were too little to trust. Evaluated here on the half-decade
   points of the grid, data set 0 (``earlier_rules``).
2. Rule 2 (in force): the family of data sets, the finer grid, GD's lag in place of
   :math:`r^{GD}_0<r^{GD}_{k-1}`, the balanced control.

**Outcome** (full run, seed 0): PASS. The claim holds on all 10 data sets (GD at 0.1, rare-group
:math:`r` 0.64 to 0.69, the thinnest margin: 1.28 times the threshold 0.5; lag 3.4 to 9.5; rare
factors 438 to 552; largest adaptive :math:`r` 0.19); control: on every balanced set GD at 1.78,
:math:`r\approx0.005`, lag 1.02 to 1.06. ``--quick``: holds on its data set (GD 0.1, rare
:math:`r` 0.91, lag 3.4, factors 70 and 72). Rule 1: PASS.
"""
from __future__ import annotations

import functools
import sys

from experiments import imbalance_runs as H
from experiments.registry import register

CLAIM = ("Heavy-tailed class imbalance, descent regime (Kunstner et al. 2024, restricted): at "
         "each method's best step size among those that never raise the loss, GD barely "
         "reduces the loss of the rare classes while Adam and sign descent reduce the loss of "
         "every frequency group")
SELECTION = "lowest final loss among the runs whose loss never exceeds f(W_0)"
RULES = H.rules(SELECTION, "the restricted claim as first checked, after the unrestricted "
                          "rule failed: one data set, half-decade grid")
BOUND = RULES[-1].text
FIGURE = "class_imbalance_restricted.png"
RESTRICTED = True


#: the outcome of this experiment's selection rule on the saved runs; its verdict; its figure
#: (from the saved runs only)
analyse = functools.partial(H.analyse, restricted=RESTRICTED)
verdict = functools.partial(H.judge, rules=RULES, claim=CLAIM, selection=SELECTION,
                            steps="descent-regime step sizes", figure=FIGURE)
draw = functools.partial(H.draw, restricted=RESTRICTED, figure=FIGURE)


@register("heavy-tailed-imbalance-restricted", CLAIM)
def run(out_dir, *, quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict:
    return H.run_experiment(sys.modules[__name__], out_dir, quick=quick, seed=seed)
