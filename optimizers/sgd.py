r"""Gradient descent, heavy-ball momentum and Nesterov's accelerated gradient.

* :class:`SGD`: :math:`x_{k+1} = x_k - \alpha_k g_k` (L2, L3). With the full-sample gradient this
  is gradient descent (L3: :math:`w_t = w_{t-1} - \lambda_t g_t`); with a mini-batch gradient it is
  SGD (L0, L1, L2).
* :class:`Momentum`: the heavy ball, in both of the lectures' written forms (``form=``).
* :class:`NAG`: Nesterov's method with the gradient at the look-ahead point (through a closure),
  or the reparametrised form used by deep-learning libraries (no closure).
"""
from __future__ import annotations

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.base import Optimizer
from optimizers.inplace import add_, scale_add_

__all__ = ["SGD", "Momentum", "NAG"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (L2: :math:`x_{k+1} = x_k - \alpha_k \nabla f_{i_k}(x_k)`;
    gradient descent when the gradient is the full-sample one, L3).

    .. math::
        g \leftarrow g + \lambda x \quad\text{(optional coupled weight decay, an } \ell_2
        \text{ penalty)}, \qquad x_{k+1} = x_k - \alpha_k g

    Defaults: ``lr=1e-3`` (torch.optim.SGD's), ``weight_decay=0``. torch's ``momentum`` and
    ``nesterov`` options are the classes :class:`Momentum` and :class:`NAG` here.
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.0, nonfinite=None):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay), nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        group["weight_decay"] = V.real(self.name, "weight_decay", group["weight_decay"], lo=0.0)

    def _update(self, p, g, state, hp):
        g = self._coupled_decay(p, g, hp["weight_decay"])  # g <- g + lambda x
        add_(p.data, g, -hp["lr"], self._scratch(p))       # x_{k+1} = x_k - alpha_k g


class Momentum(Optimizer):
    r"""Heavy-ball momentum, in the two forms the lectures write.

    ``form="velocity"`` (default; L0, Bursky, and Sutskever et al. 2013):

    .. math::
        v \leftarrow \mu v - \eta g, \qquad w \leftarrow w + v

    ``form="accumulator"`` (L3, Nikulin; also torch.optim.SGD with ``momentum``):

    .. math::
        m_t = \alpha m_{t-1} + g_t, \qquad w_t = w_{t-1} - \lambda m_t

    Here ``lr`` is :math:`\eta` / :math:`\lambda` and ``momentum`` is :math:`\mu` / :math:`\alpha`
    (0.5-0.9 in L0, "usually 0.9" in L3). For a constant step the two forms give the same
    iterates with :math:`v = -\lambda m` (a test checks it); with a schedule they differ (the
    velocity form keeps old steps' :math:`\eta` inside :math:`v`). L0's "habr" form
    :math:`v_t = \gamma v_{t-1} + \eta g_t`, :math:`\theta_{t+1} = \theta_t - v_t` is the velocity
    form with :math:`v` negated.

    Variants: ``dampening`` :math:`d` scales the gradient term by :math:`1 - d` (torch's
    ``dampening``); ``momentum_init="zero"`` (default, the lectures' :math:`v_0 = 0`) or
    ``"grad"`` (torch: the buffer starts as the first, undampened gradient term; the two differ
    only when ``dampening > 0``); ``weight_decay`` adds :math:`\lambda x` to the gradient
    (coupled). Defaults: ``lr=1e-3`` (torch's SGD), ``momentum=0.9`` (L0, L3; torch's default is 0).
    """

    momentum_key = "momentum"
    FORMS = ("velocity", "accumulator")

    def __init__(self, params, lr=1e-3, momentum=0.9, form="velocity", dampening=0.0,
                 momentum_init="zero", weight_decay=0.0, nonfinite=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, form=form, dampening=dampening,
                                      momentum_init=momentum_init, weight_decay=weight_decay),
                         nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["momentum"] = V.real(n, "momentum", group["momentum"], lo=0.0, hi=1.0, hi_open=True)
        group["form"] = V.choice(n, "form", group["form"], self.FORMS)
        group["dampening"] = V.real(n, "dampening", group["dampening"], lo=0.0, hi=1.0,
                                    hi_open=True)
        group["momentum_init"] = V.choice(n, "momentum_init", group["momentum_init"],
                                          ("zero", "grad"))
        group["weight_decay"] = V.real(n, "weight_decay", group["weight_decay"], lo=0.0)

    def _init_state(self, p, hp):
        xp = B.get_array_module(p.data)
        return {"k": 0, "v": xp.zeros_like(p.data)}  # v_0 = 0 (m_0 = 0 in the accumulator form)

    def _gradient_weight(self, state, hp) -> float:
        """The factor of the gradient term: 1 - dampening, or 1 on the first step when the
        buffer starts from the first gradient (torch)."""
        first = state["k"] == 1
        return 1.0 if first and hp["momentum_init"] == "grad" else 1.0 - hp["dampening"]

    def _update(self, p, g, state, hp):
        state["k"] += 1
        g = self._coupled_decay(p, g, hp["weight_decay"])  # g <- g + lambda x (if lambda > 0)
        c = self._gradient_weight(state, hp)               # 1, or 1 - d (dampening)
        tmp = self._scratch(p)
        if hp["form"] == "velocity":
            v = scale_add_(state["v"], hp["momentum"], g, -(hp["lr"] * c), tmp)  # v = mu v - eta g
            p.data += v                                                       # w = w + v
        else:
            m = scale_add_(state["v"], hp["momentum"], g, c, tmp)  # m_t = alpha m_{t-1} + (1-d) g_t
            add_(p.data, m, -hp["lr"], tmp)                        # w_t = w_{t-1} - lambda m_t


class NAG(Optimizer):
    r"""Nesterov's accelerated gradient (L0, L3; Sutskever et al. 2013).

    ``form="lookahead"`` (default, the lectures' form; needs ``step(closure)``): the gradient is
    taken at the look-ahead point :math:`\theta - \gamma v` (L0):

    .. math::
        v_t = \gamma v_{t-1} + \eta \nabla_\theta C(\theta_t - \gamma v_{t-1}), \qquad
        \theta_{t+1} = \theta_t - v_t

    (L3 writes :math:`m_t = \alpha m_{t-1} + \nabla L(w_{t-1} - \lambda\alpha m_{t-1})`,
    :math:`w_t = w_{t-1} - \lambda m_t`: the same iterates with :math:`v = \lambda m` for a
    constant step.) The step moves the parameters to the look-ahead point, calls the closure
    (which recomputes the loss and the gradients there and returns the loss: that loss is
    returned), and finishes from there:
    :math:`\theta_{t+1} = (\theta_t - \gamma v_{t-1}) - \eta g`. A parameter that gets no gradient
    is moved back (up to rounding).

    ``form="reparametrised"`` (torch's ``SGD(nesterov=True)``, Keras; no closure needed): the
    stored parameters are the look-ahead points :math:`\phi_t = \theta_t - \gamma v_t`, where the
    gradient is taken, and the update becomes

    .. math::
        v_t = \gamma v_{t-1} + \eta \nabla f(\phi_{t-1}), \qquad
        \phi_t = \phi_{t-1} - \eta \nabla f(\phi_{t-1}) - \gamma v_t

    A test checks that both forms give the same iterates after this change of variables.
    Defaults: ``lr=1e-3``, ``momentum=0.9`` (L0's :math:`\gamma`), ``weight_decay=0`` (coupled).
    """

    momentum_key = "momentum"
    FORMS = ("lookahead", "reparametrised")

    def __init__(self, params, lr=1e-3, momentum=0.9, form="lookahead", weight_decay=0.0,
                 nonfinite=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, form=form,
                                      weight_decay=weight_decay), nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["momentum"] = V.real(n, "momentum", group["momentum"], lo=0.0, hi=1.0, hi_open=True)
        group["form"] = V.choice(n, "form", group["form"], self.FORMS)
        group["weight_decay"] = V.real(n, "weight_decay", group["weight_decay"], lo=0.0)

    def _init_state(self, p, hp):
        xp = B.get_array_module(p.data)
        return {"v": xp.zeros_like(p.data)}  # v_0 = 0

    def step(self, closure=None):
        if not any(g["form"] == "lookahead" for g in self.param_groups):
            return super().step(closure)
        if closure is None:
            raise ValueError("NAG(form='lookahead') evaluates the gradient at the look-ahead "
                             "point and needs step(closure), where closure() recomputes the loss "
                             "and the gradients; use form='reparametrised' to step without one")
        return self._undoable(self._lookahead_step, closure)  # "raise"/"skip": all or nothing

    def _lookahead_step(self, closure):
        t = self.step_count
        hps = [self._hyperparameters(group, t) for group in self.param_groups]
        for group, hp in zip(self.param_groups, hps, strict=True):
            if hp["form"] != "lookahead":
                continue
            for p in group["params"]:
                # the look-ahead point theta_t - gamma v_{t-1}
                add_(p.data, self._state_of(p, hp)["v"], -hp["momentum"], self._scratch(p))
        loss = self._call_closure(closure)                 # g = grad C(theta_t - gamma v_{t-1})
        self._require_finite()                             # else back to theta_t, exactly
        for group, hp in zip(self.param_groups, hps, strict=True):
            for p in group["params"]:
                if hp["form"] == "lookahead" and p.grad is None:
                    # no gradient: back to theta_t
                    add_(p.data, self.state[p]["v"], hp["momentum"], self._scratch(p))
                elif p.grad is not None:
                    self._update(p, p.grad, self._state_of(p, hp), hp)
        self.step_count += 1
        return loss

    def _update(self, p, g, state, hp):
        gamma, eta, v, tmp = hp["momentum"], hp["lr"], state["v"], self._scratch(p)
        g = self._coupled_decay(p, g, hp["weight_decay"])  # g <- g + lambda x (if lambda > 0)
        # v_t = gamma v_{t-1} + eta g (scale_add_ leaves the product eta g in tmp)
        scale_add_(v, gamma, g, eta, tmp)
        # (the look-ahead point) - eta g
        p.data -= tmp
        if hp["form"] == "reparametrised":
            # phi_t = phi_{t-1} - eta g - gamma v_t
            add_(p.data, v, -gamma, tmp)
        # lookahead: p held theta_t - gamma v_{t-1}, so now theta_{t+1} = theta_t - v_t
