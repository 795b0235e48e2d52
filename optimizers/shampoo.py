r"""Shampoo: a Kronecker-factored full-matrix preconditioner (L2, "bonus: more methods").

Lecture L2 (Merkulov & Ostroukhov, week 14), after Gupta, Koren & Singer 2018 ("Shampoo:
Preconditioned Stochastic Tensor Optimization") and Anil et al. 2020 ("Scalable Second Order
Optimization for Deep Learning"). For a weight matrix :math:`W \in \mathbb{R}^{m\times n}` with
gradient :math:`G_k`, the slide's four steps:

.. math::

    L_k &= \beta L_{k-1} + (1 - \beta) G_kG_k^\top, \qquad
    R_k = \beta R_{k-1} + (1 - \beta) G_k^\top G_k \\
    P_L &= L_k^{-1/4}, \qquad P_R = R_k^{-1/4} \\
    W_{k+1} &= W_k - \alpha P_L G_k P_R

The paper sums instead of averaging, :math:`L_k = L_{k-1} + G_kG_k^\top` from
:math:`L_0 = \epsilon I` (AdaGrad's accumulation; ``form="sum"``).

Inverse fourth roots come from a symmetric eigendecomposition
:math:`L + \epsilon I = Q\Lambda Q^\top \Rightarrow (L + \epsilon I)^{-1/4} = Q\Lambda^{-1/4}Q^\top`
(eigenvalues below 0 from rounding are clipped to 0 first). With :math:`\beta = 0` and
:math:`\epsilon \to 0`: :math:`(GG^\top)^{-1/4}G(G^\top G)^{-1/4} = UV^\top`, Muon's direction (the
derivation is on the Muon slide; ``docs/geometry.md``; a test checks it).
"""
from __future__ import annotations

import math

from minigrad import backend as B
from optimizers import _validate as V
from optimizers.base import Optimizer
from optimizers.inplace import add_, ema_

__all__ = ["Shampoo", "inverse_root"]


def inverse_root(A, p: int, eps: float = 0.0):
    r""":math:`(A + \epsilon I)^{-1/p}` of a symmetric positive semi-definite matrix ``A`` by a
    symmetric eigendecomposition :math:`A = Q\Lambda Q^\top`:
    :math:`Q\,\mathrm{diag}((\max(\lambda_i, 0) + \epsilon)^{-1/p})\,Q^\top`."""
    xp = B.get_array_module(A)
    lam, Q = xp.linalg.eigh(A)  # A = Q diag(lambda) Q^T
    lam = xp.maximum(lam, 0.0)
    lam += eps  # eigenvalues of A + eps I
    lam **= -1.0 / p  # lambda^{-1/p}
    return (Q * lam) @ Q.T  # Q diag(lambda^{-1/p}) Q^T


class Shampoo(Optimizer):
    r"""Shampoo (Gupta et al. 2018; the lecture's EMA form by default, L2).

    Matrix parameters (and parameters with more axes, viewed as ``(shape[0], -1)``):

    .. math::

        L_k = \beta L_{k-1} + (1 - \beta) G_kG_k^\top, \quad
        R_k = \beta R_{k-1} + (1 - \beta) G_k^\top G_k, \quad
        W_{k+1} = W_k - \alpha (L_k + \epsilon I)^{-1/4} G_k (R_k + \epsilon I)^{-1/4}

    ``form="ema"`` (default, the lecture) or ``"sum"`` (the paper: :math:`L_k = L_{k-1} +
    G_kG_k^\top`, with :math:`L_0 = \epsilon I` written as the :math:`+\epsilon I` of the root).
    Vectors (biases, scalars) use the paper's order-1 rule, full-matrix AdaGrad:
    :math:`H_k = \beta H_{k-1} + (1 - \beta) g_kg_k^\top` (or the sum),
    :math:`x_{k+1} = x_k - \alpha (H_k + \epsilon I)^{-1/2} g_k` (:math:`n^2` memory: meant for
    small vectors).

    Defaults: ``lr=1e-2``, ``beta=0.99`` (the lecture gives no value), ``eps=1e-12`` (Distributed
    Shampoo's), ``update_freq=1``: the roots :math:`P_L, P_R` are recomputed every
    ``update_freq`` steps (the statistics every step), as practical Shampoo does to amortise the
    eigendecompositions.
    """

    #: eigendecompositions cannot carry a NaN to the parameters: raise (default) or skip
    nonfinite_policies = ("raise", "skip")

    def __init__(self, params, lr=1e-2, beta=0.99, eps=1e-12, form="ema", update_freq=1,
                 nonfinite=None):
        super().__init__(params, dict(lr=lr, beta=beta, eps=eps, form=form,
                                      update_freq=update_freq), nonfinite=nonfinite)

    def _validate_group(self, group):
        super()._validate_group(group)
        n = self.name
        group["beta"] = V.real(n, "beta", group["beta"], lo=0.0, hi=1.0, hi_open=True)
        group["eps"] = V.real(n, "eps", group["eps"], lo=0.0, lo_open=True)
        group["form"] = V.choice(n, "form", group["form"], ("ema", "sum"))
        group["update_freq"] = V.integer(n, "update_freq", group["update_freq"], lo=1)

    @staticmethod
    def _matrix_shape(p):
        if p.ndim >= 2:
            return p.shape[0], math.prod(p.shape[1:])  # (rows, the other axes flattened)
        return None

    def _init_state(self, p, hp):
        xp = B.get_array_module(p.data)
        dt = p.data.dtype
        shape = self._matrix_shape(p)
        if shape is None:  # order 1: full-matrix AdaGrad on the vector
            n = p.size
            return {"k": 0, "H": xp.zeros((n, n), dt), "P": xp.zeros((n, n), dt)}
        m, n = shape
        return {"k": 0, "L": xp.zeros((m, m), dt), "R": xp.zeros((n, n), dt),
                "P_L": xp.zeros((m, m), dt), "P_R": xp.zeros((n, n), dt)}

    @staticmethod
    def _accumulate(S, GGt, beta, form):
        """S_k = beta S_{k-1} + (1 - beta) G G^T ("ema"), or S_{k-1} + G G^T ("sum"), in place
        (``GGt``, a fresh product, is the scratch)."""
        if form == "ema":
            ema_(S, GGt, beta, scratch=GGt)
        else:
            S += GGt

    def _update(self, p, g, state, hp):
        k = state["k"] = state["k"] + 1
        beta, eps, form = hp["beta"], hp["eps"], hp["form"]
        refresh = (k - 1) % hp["update_freq"] == 0
        shape = self._matrix_shape(p)
        if shape is None:
            gv = g.reshape(-1, 1)
            self._accumulate(state["H"], gv @ gv.T, beta, form)  # H_k = beta H + (1-beta) g g^T
            if refresh:
                state["P"][...] = inverse_root(state["H"], 2, eps)  # P = (H_k + eps I)^{-1/2}
            step = (state["P"] @ gv).reshape(p.shape)  # P g
        else:
            G = g.reshape(shape)
            self._accumulate(state["L"], G @ G.T, beta, form)  # L_k = beta L + (1-beta) G G^T
            self._accumulate(state["R"], G.T @ G, beta, form)  # R_k = beta R + (1-beta) G^T G
            if refresh:
                state["P_L"][...] = inverse_root(state["L"], 4, eps)  # P_L = (L_k + eps I)^{-1/4}
                state["P_R"][...] = inverse_root(state["R"], 4, eps)  # P_R = (R_k + eps I)^{-1/4}
            step = (state["P_L"] @ G @ state["P_R"]).reshape(p.shape)  # P_L G_k P_R
        add_(p.data, step, -hp["lr"], scratch=step)  # W_{k+1} = W_k - alpha P_L G_k P_R
