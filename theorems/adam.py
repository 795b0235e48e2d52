r"""Reddi, Kale & Kumar (2018), "On the Convergence of Adam and Beyond" (cited in L1 and L2;
docs/lectures.md section 3): the online counterexample as a claim that Adam must violate and
AMSGrad must satisfy, :data:`REDDI_CONVERGENCE`.

On :math:`\mathcal F=[-1,1]` the online losses :math:`f_t(x)=Cx` for :math:`t\bmod p=1`,
:math:`-sx` otherwise (``problems.ReddiOnline``, :math:`C>(p-1)s`) have :math:`x^*=-1`. The
method is played online from :math:`x_1=1`: :math:`x_t` is played, :math:`\nabla f_t(x_t)`
observed, one step with :math:`\alpha_t=\alpha/\sqrt t`, then the projection onto
:math:`[-1,1]`. Regret :math:`R_T=\sum_{t\le T}f_t(x_t)-\min_{x\in\mathcal F}\sum_{t\le T}
f_t(x)`; playing :math:`+1` forever gives :math:`R_T/T\to2\bar s`,
:math:`\bar s=(C-(p-1)s)/p`.

**The claim "the method converges"** (what AMSGrad's theorem gives, :math:`R_T=O(\sqrt T)`),
checked at :math:`T`: the final :math:`x` (the mean of :math:`x_t` over the last period) is
within ``x_tol`` = 0.05 of :math:`-1`; the average regret :math:`R_T/T` is at most
``regret_small`` = 0.1 of :math:`2\bar s` and at most ``regret_decay`` = 0.5 of
:math:`R_{T/10}/(T/10)` (decaying: :math:`O(1/\sqrt T)` gives 0.32). The defaults are Reddi et
al.'s Theorem 1: :math:`C=3`, :math:`p=3`, :math:`s=1`, :math:`\beta_1=0`,
:math:`\beta_2=1/(1+C^2)`, :math:`\alpha=\sqrt{1-\beta_2}/2` (the theorem needs
:math:`\alpha<\sqrt{1-\beta_2}`), :math:`T=3000`.

**The counterexample** (:meth:`ReddiConvergence.counterexample`): Adam ends at :math:`+1`
(within ``x_tol``) and its :math:`R_T/T` does not vanish (at least ``regret_keep`` = 0.9 of
:math:`2\bar s` and of :math:`R_{T/10}/(T/10)`). So Adam is the companion of this claim: its
report is violated.
"""
from __future__ import annotations

import math

import optimizers
import problems as P
from minigrad import backend as B
from theorems.base import Companion, Theorem
from theorems.forms import OptimizerForm, StepForm
from theorems.instance import Instance
from theorems.report import Evaluation
from theorems.runs import Record

__all__ = ["REDDI_CONVERGENCE", "ReddiConvergence", "regret_curve"]

np = B.host_xp()


def regret_curve(problem, xs):
    r""":math:`R_t=\sum_{s\le t}c_sx_s+|\sum_{s\le t}c_s|` for every :math:`t` (the minimum of
    :math:`(\sum c)x` over :math:`[-1,1]` is :math:`-|\sum c|`)."""
    xs = np.asarray(xs, dtype=float)
    c = np.array([problem.coefficient(t) for t in range(1, xs.size + 1)])
    return np.cumsum(c * xs) + np.abs(np.cumsum(c))


class ReddiConvergence(Theorem):
    name = "online convergence on Reddi et al.'s counterexample"
    statement = ("$x_T\\to x^*=-1$ and $R_T/T\\to0$ on $f_t(x)=Cx$ ($t\\bmod p=1$), $-sx$ "
                 "otherwise, over $[-1,1]$")
    source = ("Reddi, Kale & Kumar 2018, On the Convergence of Adam and Beyond, Theorem 1 "
              "(cited in L1 and L2, the Adam slide)")
    problem_class = "problems.ReddiOnline (deterministic), played online with projection"
    parameters_text = ("base step alpha (alpha_t = alpha/sqrt t) and betas; default Theorem 1's: "
                       "beta1 = 0, beta2 = 1/(1+C^2), alpha = sqrt(1-beta2)/2")
    quantity = "final x (mean over the last period) and the average regret R_T/T"
    empirical = True
    default_steps = 3000
    x_tol = 0.05
    regret_small = 0.1
    regret_decay = 0.5
    regret_keep = 0.9
    companions = (Companion("Adam", "Adam with the same parameters: it ends at +1 (Reddi et "
                            "al.'s Theorem 1)",
                            lambda t, inst: dict(optimizer=optimizers.Adam, problem=inst)),)

    # ------------------------------------------------------------------ criteria
    def criteria(self, x_final, avg_regret, avg_regret_tenth, plus_one_rate) -> dict:
        """The claim's checks by name, True when each holds (module docstring)."""
        return {"ends at -1": x_final <= -1.0 + self.x_tol,
                "R_T/T vanishes": (avg_regret <= self.regret_decay * avg_regret_tenth
                                   and avg_regret <= self.regret_small * plus_one_rate)}

    def counterexample(self, x_final, avg_regret, avg_regret_tenth, plus_one_rate) -> dict:
        """The counterexample's checks by name (Adam's failure), True when each holds."""
        return {"ends at +1": x_final >= 1.0 - self.x_tol,
                "R_T/T does not vanish": (avg_regret >= self.regret_keep * plus_one_rate
                                          and avg_regret >= self.regret_keep * avg_regret_tenth)}

    # ------------------------------------------------------------------ hypotheses
    def hypotheses(self, inst):
        p = inst.problem
        if not isinstance(p, P.ReddiOnline) or p.stochastic:
            return [f"the problem must be a deterministic problems.ReddiOnline; got "
                    f"{type(p).__name__}"]
        return []

    def default_parameters(self, inst):
        p = inst.problem
        if not isinstance(p, P.ReddiOnline):
            return {}
        beta2 = 1.0 / (1.0 + p.C ** 2)
        return {"lr": math.sqrt(1.0 - beta2) / 2, "betas": (0.0, beta2)}

    def describe_parameters(self, inst, params):
        return ", ".join(f"{k} = {v!r}" for k, v in params.items())

    # ------------------------------------------------------------------ the check
    def run(self, form, inst, params, steps):
        p = inst.problem
        x = inst.start()
        hp = dict(params)
        alpha = float(hp.pop("lr"))
        if isinstance(form, OptimizerForm):
            drv = form.build([x], {"lr": lambda k: alpha / math.sqrt(k + 1), **hp})
        elif isinstance(form, StepForm):
            drv = form.build([x], {})
        else:
            raise TypeError(f"{self.name}: an optimizer class, factory or step function is "
                            f"needed; got a {form.kind}")
        xs = np.empty(steps)
        with np.errstate(all="ignore"):
            for t in range(1, steps + 1):
                xs[t - 1] = float(B.to_numpy(x.data)[0])   # x_t is played
                x.grad = p.grad_at(t, x.data)               # grad f_t(x_t)
                drv.step([x], t - 1, None)
                x.data[...] = p.project(x.data)             # x_{t+1} = Pi_[-1,1](...)
        bad = np.nonzero(~np.isfinite(xs))[0]
        return Record({"k": np.arange(1, steps + 1, dtype=float), "x": xs,
                       "regret": regret_curve(p, xs)}, int(bad[0]) + 1 if bad.size else None)

    def numbers(self, record, inst) -> dict:
        """The final x, the average regrets at T and T/10, the rate of playing +1."""
        p = inst.problem
        xs, regret = record["x"], record["regret"]
        T = xs.size
        tenth = round(T * 0.1)
        return {"x_final": float(np.mean(xs[-int(p.period):])),
                "avg_regret": float(regret[T - 1] / T),
                "avg_regret_tenth": float(regret[tenth - 1] / tenth),
                "plus_one_rate": 2.0 * float(p.slope)}

    def evaluate(self, record, inst, params):
        n = self.numbers(record, inst)
        T = float(record["x"].size)
        measured = [n["x_final"] - (-1.0), n["avg_regret"], n["avg_regret"]]
        bound = [self.x_tol, self.regret_small * n["plus_one_rate"],
                 self.regret_decay * n["avg_regret_tenth"]]
        return Evaluation(np.full(3, T), np.array(measured), np.array(bound), np.zeros(3),
                          notes=["k = T: x_T + 1 <= x_tol; R_T/T <= regret_small * 2 slope; "
                                 "R_T/T <= regret_decay * R_(T/10)/(T/10)"],
                          constants={"2 slope (playing +1)": n["plus_one_rate"]})

    def example(self):
        p = P.ReddiOnline(C=3.0)
        return (Instance(p, words="Reddi et al.'s online problem, C = 3, period 3, small slope "
                                  "1, start x_1 = 1"),
                self.default_parameters(Instance(p)))


REDDI_CONVERGENCE = ReddiConvergence()
