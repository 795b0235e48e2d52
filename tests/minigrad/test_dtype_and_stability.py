"""dtype is preserved; stable primitives stay finite at extreme arguments."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn


def test_float32_in_float32_values_and_gradients_out(backend, xp):
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    y = mg.tanh(x @ w) * 0.5 + 1.0
    z = (mg.logsumexp(y) + mg.norm(x) + (x ** 2).mean() / 3.0 + mg.sigmoid(y).var()
         + mg.softplus(-y).sum() + (2.0 ** y).sum() + mg.max(y) - mg.sqrt(mg.abs(y)).sum())
    assert z.dtype == np.float32
    z.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_mlp_in_float32_keeps_float32():
    m = nn.MLP([3, 5, 2], dtype="float32")
    x = Tensor(np.ones((4, 3), dtype=np.float32))
    loss = nn.cross_entropy(m(x), np.array([0, 1, 0, 1]))
    assert loss.dtype == np.float32
    loss.backward()
    assert all(p.grad.dtype == np.float32 for p in m.parameters())


@pytest.mark.parametrize("margin", [1e4, -1e4, 0.0, 50.0, -50.0])
def test_logistic_loss_is_finite_at_large_margins(margin):
    z = Tensor([margin], requires_grad=True)
    loss = nn.logistic_loss(z, [1.0])
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(mg.to_numpy(z.grad)))
    # closed form: log(1 + e^{-m}) and its derivative -1/(1 + e^{m})
    expected = max(-margin, 0.0) + np.log1p(np.exp(-abs(margin)))
    assert loss.item() == pytest.approx(expected, rel=1e-12, abs=0.0)
    with np.errstate(over="ignore"):
        expected_grad = -1.0 / (1.0 + np.exp(margin))  # exp overflows to inf at 1e4: exactly -0
    assert float(z.grad[0]) == pytest.approx(expected_grad, rel=1e-12, abs=0.0)


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_logsumexp_and_cross_entropy_are_finite_at_huge_logits(scale):
    logits = Tensor(np.array([[1.0, 0.0, -1.0], [0.5, 0.2, 0.1]]) * scale, requires_grad=True)
    lse = mg.logsumexp(logits, axis=1)
    assert np.all(np.isfinite(lse.numpy()))
    assert lse.numpy()[0] == pytest.approx(max(scale, -scale), rel=1e-12)
    loss = nn.cross_entropy(logits, np.array([2, 0]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(mg.to_numpy(logits.grad)))
    # each row of d loss / d logits is (softmax - onehot)/n: rows sum to zero
    assert np.allclose(mg.to_numpy(logits.grad).sum(axis=1), 0.0, atol=1e-12)


def test_sigmoid_is_stable_and_exact_in_the_tails():
    x = Tensor([-1e4, -40.0, 0.0, 40.0, 1e4])
    s = mg.sigmoid(x).numpy()
    assert np.all(np.isfinite(s))
    assert s[1] == pytest.approx(np.exp(-40.0) / (1 + np.exp(-40.0)), rel=1e-14)
    assert s[2] == 0.5 and s[4] == 1.0 and s[0] == 0.0
