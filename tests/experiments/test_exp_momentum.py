"""The momentum-quadratic experiment: PASS in --quick mode, files written, the figure redrawn
from saved traces, the theory of the noise floor, and a FAIL with broken parameters."""
import numpy as np
import pytest
from exp_testkit import session_backend

import problems as P
from experiments import momentum
from experiments.__main__ import run_one
from experiments.trace import load_traces


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out, run_one("momentum-quadratic", str(out), True, 0, session_backend())


def test_quick_run_passes_and_writes_its_files(quick_run):
    out, v = quick_run
    assert v["verdict"] == "PASS", v["measured"]
    folder = out / "momentum-quadratic"
    assert (folder / v["figure"]).stat().st_size > 10_000
    det = load_traces(folder, stem="det")
    noisy = load_traces(folder, stem="noise")
    assert {t.meta["method"] for t in det} == {"HB", "GD"}
    assert {t.meta["regime"] for t in noisy} == {"constant", "decreasing"}
    for row in v["rates"].values():
        assert row["HB"][0] < row["GD"][0]          # accelerated


def test_draw_uses_the_saved_traces_only(quick_run, monkeypatch):
    out, v = quick_run
    folder = out / "momentum-quadratic"
    (folder / v["figure"]).unlink()
    monkeypatch.setattr(momentum, "run_trace", None)
    monkeypatch.setattr(momentum, "noisy_run", None)
    assert momentum.draw(folder).exists()


def test_optimal_parameters_and_rates():
    alpha, beta = momentum.optimal_parameters(0.01, 1.0)     # kappa = 100
    assert alpha == pytest.approx(4 / 1.1 ** 2)
    assert np.sqrt(beta) == pytest.approx(momentum.rate_hb(100)) == pytest.approx(9 / 11)
    assert momentum.rate_gd(100) == pytest.approx(99 / 101)


def test_noise_floor_formula_against_a_long_scalar_simulation():
    """The AR(2) stationary variance behind F(alpha, beta), checked on one eigenvalue by a
    long simulation of the scalar recursion (independent of the optimizer classes)."""
    rng = np.random.default_rng(0)
    lam, alpha, beta, s = 0.5, 0.2, 0.8, 0.1
    n, burn = 400_000, 1_000
    xi = rng.standard_normal(n)
    e_prev = e = 0.0
    acc = []
    t = 1 + beta - alpha * lam
    for k in range(n):
        e, e_prev = t * e - beta * e_prev - alpha * s * xi[k], e
        if k >= burn:
            acc.append(e * e)
    measured = 0.5 * lam * np.mean(acc)
    assert measured == pytest.approx(momentum.noise_floor(alpha, beta, [lam], s), rel=0.05)


def test_noisy_runs_with_zero_noise_follow_the_deterministic_iteration(monkeypatch):
    """With s = 0 the inline loop is plain heavy ball: every seed (row) gives the same gap as
    the runner's deterministic run."""
    import optimizers
    from experiments.runner import run

    monkeypatch.setattr(momentum, "NOISE", 0.0)
    q = P.Quadratic(dim=6, mu=0.1, L=1.0, seed=2)
    tr = momentum.noisy_run(q, lambda ps: optimizers.Momentum(ps, lr=0.3, momentum=0.5),
                            steps=30, seeds=3, seed=0, label="x")
    ref = run(q, lambda ps: optimizers.Momentum(ps, lr=0.3, momentum=0.5), steps=30)
    np.testing.assert_allclose(tr["f_gap"], ref["f_gap"], rtol=1e-7, atol=1e-14)
    assert np.all(tr["f_gap_se"] <= 1e-12)


@pytest.mark.slow
def test_broken_parameters_fail(tmp_path, monkeypatch):
    """Half the optimal momentum: the measured rate no longer matches the claimed one."""
    good = momentum.optimal_parameters
    monkeypatch.setattr(momentum, "optimal_parameters",
                        lambda mu, L: (good(mu, L)[0], good(mu, L)[1] / 2))
    v = momentum.run(tmp_path, quick=True, seed=0)
    assert v["verdict"] == "FAIL"
