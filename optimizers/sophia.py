r"""Sophia: clipped Newton-like steps with a cheap diagonal Hessian estimate (L0).

Lecture L0 (Bursky, lecture 3, slides "Sophia — a second-order optimizer" and "Algorithm 3
Sophia"), after Liu, Li, Hall, Liang & Ma 2023, "Sophia: A Scalable Stochastic Second-order
Optimizer for Language Model Pre-training" (arXiv:2305.14342). docs/lectures.md section 4:

.. math::

    m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
    h_t &= \beta_2 h_{t-k} + (1 - \beta_2) \hat h_t \quad \text{every } k \text{ steps, else }
           h_t = h_{t-1} \\
    \theta_t &\leftarrow \theta_t - \eta_t \lambda \theta_t \\
    \theta_{t+1} &= \theta_t - \eta_t\,\mathrm{clip}\!\left(\frac{m_t}{\max\{\gamma h_t, \epsilon\}}, 1\right)

where :math:`\mathrm{clip}(z, \rho) = \max(\min(z, \rho), -\rho)` coordinate-wise and
:math:`\hat h_t` estimates the diagonal of the Hessian:

* Hutchinson (Sophia-H): :math:`\hat h = u \odot (\nabla^2 L(\theta)\,u)`, :math:`u \sim N(0, I)`
  (or Rademacher :math:`\pm 1`); unbiased: :math:`\mathbb{E}[u_j (Hu)_j] = \sum_k H_{jk}
  \mathbb{E}[u_ju_k] = H_{jj}`. One Hessian-vector product, by reverse over reverse;
* Gauss–Newton–Bartlett (Sophia-G): sample labels :math:`\hat y_b` from the model's own softmax
  :math:`\mathrm{softmax}(f(\theta, x_b))`, take the mini-batch loss with those labels
  :math:`\hat L(\theta) = \frac1B \sum_b \ell_{CE}(f(\theta, x_b), \hat y_b)` and
  :math:`\hat h = B\,\hat g \odot \hat g` with :math:`\hat g = \nabla \hat L(\theta)`. By Bartlett's
  second identity its mean is the diagonal of the Gauss–Newton matrix; always :math:`\ge 0`.

Three parameterisations of the clipped step are in the literature (``clip=``):

* ``"paper"`` (default, the paper's final version):
  :math:`\mathrm{clip}(m_t / \max\{\gamma h_t, \epsilon\}, 1)`, so every coordinate moves by at
  most :math:`\eta`; the paper uses :math:`\gamma = 0.01` (Sophia-H) and :math:`0.05`
  (Sophia-G);
* ``"lecture"`` (L0's slide, the paper's first version):
  :math:`\mathrm{clip}(m_t / \max\{h_t, \epsilon\}, \rho)`: each coordinate moves by at most
  :math:`\eta\rho`. It is the paper's form with :math:`\eta' = \eta\rho`, :math:`\gamma = \rho`,
  :math:`\epsilon' = \rho\epsilon` (because :math:`\mathrm{clip}(z, \rho) = \rho\,\mathrm{clip}(z/\rho, 1)`;
  a test checks it);
* ``"official"`` (the authors' ``SophiaG`` code):
  ``ratio = (|m| / (rho * bs * h + 1e-15)).clamp(max=1)``, ``theta -= lr * sign(m) * ratio``,
  where their ``h`` is the EMA of :math:`\hat g \odot \hat g` *without* the factor :math:`B` and
  ``bs`` is the batch size (tokens) of the step, so ``rho * bs * h`` is our :math:`\gamma h`
  with :math:`\gamma` = ``rho``. It differs from the paper's form in adding :math:`\epsilon`
  instead of taking the max, which matters only where :math:`h \le 0` (never for GNB; for
  Hutchinson a negative :math:`h` makes the ratio negative and the step *ascends*: we keep
  that literal behaviour under this name and do not recommend it).

Before any Hessian estimate :math:`h = 0`, the denominator is :math:`\epsilon` and the step is
:math:`-\eta\,\mathrm{sign}(m_t)` (signSGD with momentum) wherever :math:`|m_t| \ge \epsilon`.
"""
from __future__ import annotations

import math

from minigrad import backend as B
from minigrad import nn as _nn
from minigrad.autograd import vjp_of
from minigrad.tensor import Tensor, enable_grad
from optimizers import _validate as V
from optimizers import nonfinite as NF
from optimizers.base import Optimizer
from optimizers.inplace import add_, clip_ratio, decoupled_decay_, ema_, scale_floor, scale_shift

__all__ = ["Sophia", "hutchinson_diagonal", "gnb_diagonal"]


def _draw(rng, shape, probe: str):
    if probe == "gaussian":
        return rng.standard_normal(shape)  # u ~ N(0, I)
    return rng.integers(0, 2, size=shape) * 2.0 - 1.0  # u ~ Rademacher (+-1)


def hutchinson_diagonal(loss_fn, params, rng, probe: str = "gaussian"):
    r"""One Hutchinson estimate :math:`\hat h = u \odot (\nabla^2 L\,u)` of the Hessian diagonal,
    one array per parameter.

    ``loss_fn()`` returns the scalar loss as a Tensor recorded from ``params`` (it must not call
    ``backward``). ``rng`` is a host generator (:func:`minigrad.backend.host_rng`); ``probe`` is
    ``"gaussian"`` or ``"rademacher"``. Reverse over reverse: :math:`g = \nabla L` recorded
    (``create_graph``), then :math:`Hu = \nabla_\theta \langle g, u\rangle`.
    """
    params = list(params)
    with enable_grad():
        loss = loss_fn()
        if not isinstance(loss, Tensor) or loss.size != 1:
            raise ValueError("Sophia (Hutchinson): the hessian_closure must return the scalar loss "
                             "as a minigrad Tensor (recorded, without calling backward)")
        gs = vjp_of(loss, params, create_graph=True)  # g = grad L, differentiable
        us = [B.asarray(_draw(rng, p.shape, probe), dtype=p.dtype, backend=p.backend)
              for p in params]
        inner = None
        for g, u in zip(gs, us):
            if g.requires_grad:
                term = (g * u).sum()  # <g, u>
                inner = term if inner is None else inner + term
        if inner is None:  # L is affine in theta: H = 0
            return [u * 0.0 for u in us]
        Hus = vjp_of(inner, params)  # H u = grad_theta <g, u>
    return [u * Hu.data for u, Hu in zip(us, Hus)]  # h_hat = u * (H u)


def _sample_labels(logits, rng):
    """Labels drawn from softmax(logits), one per row, with a host generator (inverse CDF)."""
    xp = B.get_array_module(logits)
    z = logits - logits.max(axis=1, keepdims=True)
    p = xp.exp(z)
    p /= p.sum(axis=1, keepdims=True)  # softmax(f(theta, x_b))
    cdf = B.to_numpy(p).cumsum(axis=1)  # on the host: the same draws on CPU and GPU
    u = rng.random((z.shape[0], 1)) * cdf[:, -1:]
    y = (cdf < u).sum(axis=1)  # the first class whose CDF reaches u
    return B.asarray(y.clip(0, z.shape[1] - 1), backend=B.backend_name_of(logits))


def gnb_diagonal(logits_fn, params, rng):
    r"""One Gauss–Newton–Bartlett estimate :math:`\hat h = B\,\hat g \odot \hat g`.

    ``logits_fn()`` returns the model's logits on the mini-batch, a Tensor of shape
    ``(B, classes)`` recorded from ``params``; the labels :math:`\hat y_b` are sampled from
    their softmax, :math:`\hat L = \frac1B\sum_b \ell_{CE}(f(\theta, x_b), \hat y_b)` and
    :math:`\hat g = \nabla\hat L`.
    """
    params = list(params)
    with enable_grad():
        logits = logits_fn()
        if not isinstance(logits, Tensor) or logits.ndim != 2:
            raise ValueError("Sophia (GNB): the hessian_closure must return the logits, a minigrad "
                             "Tensor of shape (batch, classes)")
        y_hat = _sample_labels(logits.data, rng)  # y_hat_b ~ softmax(f(theta, x_b))
        loss = _nn.cross_entropy(logits, y_hat)  # L_hat = mean_b CE(f(theta, x_b), y_hat_b)
        g_hat = vjp_of(loss, params)  # g_hat = grad L_hat
    n = float(logits.shape[0])
    return [n * g.data * g.data for g in g_hat]  # h_hat = B g_hat * g_hat


class Sophia(Optimizer):
    r"""Sophia (Liu et al. 2023; L0): see the module docstring for the formulas and variants.

    ``Sophia(params, lr=1e-4, betas=(0.965, 0.99), gamma=0.01, eps=1e-12, weight_decay=0.1,
    k=10, estimator="hutchinson", probe="gaussian", clip="paper", rho=0.04, seed=0)``

    * ``betas`` :math:`(\beta_1, \beta_2)`, ``weight_decay`` :math:`\lambda` (decoupled),
      ``k`` (estimate every k steps), ``gamma`` :math:`\gamma` and ``eps`` :math:`\epsilon` of the
      paper's form; ``rho`` :math:`\rho` is the clipping threshold of the ``"lecture"`` form (the
      other forms clip at 1). Defaults are the paper's / official code's for GPT-2
      (:math:`\beta_1 = 0.965`, :math:`\beta_2 = 0.99`, :math:`k = 10`, :math:`\lambda = 0.1`),
      :math:`\gamma = 0.01` (Sophia-H; use 0.05 with ``estimator="gnb"``).
    * ``estimator``: ``"hutchinson"`` or ``"gnb"``; ``probe``: ``"gaussian"`` or
      ``"rademacher"`` (Hutchinson only; Rademacher has the smaller variance).
    * ``seed``: probes and sampled labels of the estimate at step ``t`` come from
      ``host_rng((seed, t))``: reproducible, identical on CPU and GPU, and no generator state to
      save.

    **Interface.** The gradient step is the usual one (``zero_grad``; ``loss.backward()``;
    ``step()``, or ``step(closure)`` with a torch-style closure). The Hessian estimate needs a
    second function, ``hessian_closure``, whose contract depends on the estimator:

    * Hutchinson: ``hessian_closure()`` returns the mini-batch **loss** (a recorded scalar Tensor;
      it must not call ``backward``): Sophia differentiates it twice;
    * GNB: ``hessian_closure()`` returns the mini-batch **logits** ``(B, classes)`` (recorded):
      Sophia samples the labels from their softmax and differentiates the cross-entropy.

    ``opt.step(closure=None, hessian_closure=None)`` runs the estimate first on the steps the
    paper's schedule names (:math:`t \bmod k = 1`, :math:`t = 1, k+1, 2k+1, \dots`; 1-based) when
    a ``hessian_closure`` is given; ``opt.update_hessian(hessian_closure)`` runs one whenever you
    call it (the official code's training-loop style). Without any estimate :math:`h = 0` and the
    steps are clipped sign steps. The estimate does not touch ``.grad``.
    """

    momentum_key = "betas"

    def __init__(self, params, lr=1e-4, betas=(0.965, 0.99), gamma=0.01, eps=1e-12,
                 weight_decay=0.1, k=10, estimator="hutchinson", probe="gaussian", clip="paper",
                 rho=0.04, seed=0, nonfinite=None):
        super().__init__(params, dict(lr=lr, betas=betas, gamma=gamma, eps=eps,
                                      weight_decay=weight_decay, k=k, estimator=estimator,
                                      probe=probe, clip=clip, rho=rho), nonfinite=nonfinite)
        self.seed = V.integer(self.name, "seed", seed, lo=0)
        for g in self.param_groups[1:]:
            if g["estimator"] != self.param_groups[0]["estimator"] or g["k"] != \
                    self.param_groups[0]["k"]:
                raise ValueError(f"{self.name}: estimator and k must be the same in every "
                                 f"parameter group (one Hessian estimate serves them all)")

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["betas"] = V.betas(n, group["betas"])
        group["gamma"] = V.real(n, "gamma", group["gamma"], lo=0.0, lo_open=True)
        group["eps"] = V.real(n, "eps", group["eps"], lo=0.0, lo_open=True)
        group["weight_decay"] = V.real(n, "weight_decay", group["weight_decay"], lo=0.0)
        group["k"] = V.integer(n, "k", group["k"], lo=1)
        group["estimator"] = V.choice(n, "estimator", group["estimator"], ("hutchinson", "gnb"))
        group["probe"] = V.choice(n, "probe", group["probe"], ("gaussian", "rademacher"))
        group["clip"] = V.choice(n, "clip", group["clip"], ("paper", "lecture", "official"))
        group["rho"] = V.real(n, "rho", group["rho"], lo=0.0, lo_open=True)

    def _init_state(self, p, hp):
        xp = B.get_array_module(p.data)
        return {"m": xp.zeros_like(p.data), "h": xp.zeros_like(p.data),  # m_0 = 0, h = 0
                "n_estimates": 0}

    # ------------------------------------------------------------------ the Hessian estimate
    def update_hessian(self, hessian_closure):
        r"""Run the estimator now and fold it in: :math:`h \leftarrow \beta_2 h + (1-\beta_2)\hat h`.
        Returns the list of estimates :math:`\hat h` (one per parameter)."""
        group0 = self.param_groups[0]
        params = [p for p in self.parameters()]
        rng = B.host_rng((self.seed, self.step_count))
        if group0["estimator"] == "hutchinson":
            h_hat = hutchinson_diagonal(hessian_closure, params, rng, group0["probe"])
        else:
            h_hat = gnb_diagonal(hessian_closure, params, rng)
        labels = [f"the Hessian estimate of parameter {j} of group {gi} (shape {p.shape})"
                  for gi, group in enumerate(self.param_groups)
                  for j, p in enumerate(group["params"])]
        if not self._admits(list(zip(labels, h_hat))):  # nonfinite="skip": the estimate is dropped
            return h_hat
        by_param = dict(zip(map(id, params), h_hat))
        for group in self.param_groups:
            hp = self._hyperparameters(group, self.step_count, record=False)
            beta2 = hp["betas"][1]
            for p in group["params"]:
                state = self._state_of(p, hp)
                # h_t = beta2 h_{t-k} + (1 - beta2) h_hat_t
                ema_(state["h"], by_param[id(p)], beta2, self._scratch(p))
                state["n_estimates"] += 1
        return h_hat

    def step(self, closure=None, hessian_closure=None):
        """One Sophia step; on the paper's schedule (:math:`t \\bmod k = 1`) the Hessian estimate
        from ``hessian_closure`` comes first (see the class docstring)."""
        t = self.step_count + 1  # the paper's 1-based t
        if hessian_closure is not None and (t - 1) % self.param_groups[0]["k"] == 0:
            skipped = self.skipped_steps
            self.update_hessian(hessian_closure)  # every k steps: h_hat_t = Estimator(theta_t)
            if self.skipped_steps != skipped:  # a non-finite estimate under nonfinite="skip"
                return None
        return super().step(closure)  # g_t (closure), then the update of every parameter

    def _update(self, p, g, state, hp):
        xp = B.get_array_module(p.data)
        beta1, lr, gamma, eps = hp["betas"][0], hp["lr"], hp["gamma"], hp["eps"]
        h, tmp = state["h"], self._scratch(p)
        # m_t = beta1 m_{t-1} + (1 - beta1) g_t
        m = ema_(state["m"], g, beta1, tmp)
        # theta_t <- theta_t - eta lambda theta_t
        decoupled_decay_(p.data, lr, hp["weight_decay"])
        if hp["clip"] == "paper":      # clip(m_t / max{gamma h_t, eps}, 1)
            step = clip_ratio(m, scale_floor(h, gamma, eps, out=tmp), -1.0, 1.0, out=tmp)
        elif hp["clip"] == "lecture":  # clip(m_t / max{h_t, eps}, rho)
            step = clip_ratio(m, scale_floor(h, 1.0, eps, out=tmp), -hp["rho"], hp["rho"], out=tmp)
        else:  # the official code: sign(m_t) min(|m_t| / (gamma h_t + eps), 1), gamma = rho bs
            step = clip_ratio(xp.abs(m), scale_shift(h, gamma, eps, tmp), -math.inf, 1.0, tmp)
            xp.multiply(step, xp.sign(m), out=step)
        NF.mark(step, g, h, scratch=self._scratch(p, 1))  # NaN where g or h is inf/NaN
        # theta_{t+1} = theta_t - eta clip(...)
        add_(p.data, step, -lr, step)
