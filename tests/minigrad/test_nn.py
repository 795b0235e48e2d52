"""minigrad.nn: modules, initialisation, losses against closed forms, training a tiny net."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn


def test_linear_shapes_layout_and_parameters():
    layer = nn.Linear(3, 2, seed=0)
    assert layer.W.shape == (2, 3) and layer.b.shape == (2,)
    x = np.arange(6.0).reshape(2, 3)
    y = layer(Tensor(x)).numpy()
    np.testing.assert_allclose(y, x @ layer.W.numpy().T + layer.b.numpy(), rtol=1e-15)
    assert [p.shape for p in nn.MLP([3, 4, 2]).parameters()] == [(4, 3), (4,), (2, 4), (2,)]
    with pytest.raises(ValueError, match="init"):
        nn.Linear(2, 2, init="magic")


def test_he_and_xavier_variances():
    rng = np.random.default_rng(0)
    w = nn.he_normal((400, 500), 500, rng)
    assert w.var() == pytest.approx(2.0 / 500, rel=0.02)  # 200k samples: sd of var ~0.3%
    w = nn.xavier_uniform((400, 500), 500, 400, rng)
    assert w.var() == pytest.approx(2.0 / 900, rel=0.02)  # U(-a, a) has variance a^2/3
    assert np.abs(w).max() <= np.sqrt(6.0 / 900)


def test_dropout_train_and_eval():
    d = nn.Dropout(0.5, seed=0)
    x = Tensor(np.ones(10_000))
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert y.mean() == pytest.approx(1.0, abs=0.05)  # inverted dropout keeps the mean
    d.eval()
    assert np.array_equal(d(x).numpy(), x.numpy())
    m = nn.MLP([2, 3, 1], dropout=0.2).eval()
    assert all(not mod.training for mod in m.modules())
    with pytest.raises(ValueError):
        nn.Dropout(1.0)


def test_losses_match_closed_forms():
    z = np.array([0.3, -1.2, 2.0])
    y = np.array([1.0, -1.0, -1.0])
    assert nn.logistic_loss(Tensor(z), y).item() == pytest.approx(
        np.mean(np.log1p(np.exp(-y * z))), rel=1e-14)
    t = (y + 1) / 2
    assert nn.binary_cross_entropy_with_logits(Tensor(z), t).item() == pytest.approx(
        np.mean(np.log1p(np.exp(-y * z))), rel=1e-14)  # the same loss, labels 0/1
    logits = np.array([[1.0, 2.0, 0.5], [0.1, -0.3, 0.2]])
    labels = np.array([1, 2])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert nn.cross_entropy(Tensor(logits), labels).item() == pytest.approx(
        -np.mean(np.log(p[[0, 1], labels])), rel=1e-14)
    assert nn.mse_loss(Tensor([1.0, 2.0]), [0.0, 4.0]).item() == 2.5
    assert nn.accuracy(Tensor(logits), labels) == 1.0  # argmaxes are 1 and 2
    assert nn.accuracy(Tensor(logits), np.array([1, 0])) == 0.5
    with pytest.raises(ValueError, match=r"-1 or \+1"):
        nn.logistic_loss(Tensor(z), [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        nn.cross_entropy(Tensor(logits), np.array([0, 3]))
    with pytest.raises(TypeError, match="integers"):
        nn.cross_entropy(Tensor(logits), np.array([0.0, 1.0]))


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    logits = np.array([[1.0, 2.0, 0.5], [0.1, -0.3, 0.2]])
    labels = np.array([1, 2])
    z = Tensor(logits, requires_grad=True)
    nn.cross_entropy(z, labels).backward()
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(mg.to_numpy(z.grad), (p - np.eye(3)[labels]) / 2, rtol=1e-13)


def test_zero_grad_and_a_few_gd_steps_reduce_the_loss():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    net = nn.MLP([2, 16, 2], activation="tanh", seed=1)
    losses = []
    for _ in range(200):
        net.zero_grad()
        loss = nn.cross_entropy(net(Tensor(X)), y)
        loss.backward()
        for p in net.parameters():
            p.data -= 0.5 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert nn.accuracy(net(Tensor(X)), y) > 0.9
