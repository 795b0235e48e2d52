"""The zero-order methods as torch.optim-style optimizers (step(closure)): same iterates as the
functional versions, convergence, state_dict round trips in lockstep, validation.

(They are not in the optimizer registry: its generic tests feed gradients with a constant loss,
which a method that reads only the loss cannot follow; see tests/optim_registry/quasi_newton.py.)
"""
import io

import numpy as np
import pytest

import minigrad as mg
from optimizers import flatten_state_dict, unflatten_state_dict
from optimizers.zero_order.cmaes import CMAES, cmaes
from optimizers.zero_order.evolution import OnePlusOneES, one_plus_one_es
from optimizers.zero_order.genetic import GeneticAlgorithm, genetic_algorithm
from optimizers.zero_order.nelder_mead import NelderMead, nelder_mead
from optimizers.zero_order.zo_gd import ZeroOrderGD

X0 = [1.0, -0.5, 0.8]


def loss(x):
    return ((x - 0.25) ** 2).sum()


def closure_for(*params):
    def closure():
        v = mg.concatenate([p.reshape(-1) for p in params])
        return loss(v)
    return closure


MAKERS = {
    "ZeroOrderGD": lambda p: ZeroOrderGD(p, lr=0.05, estimator="gaussian-symmetric", seed=1),
    "NelderMead": lambda p: NelderMead(p),
    "NelderMead(adaptive)": lambda p: NelderMead(p, adaptive=True),
    "CMAES": lambda p: CMAES(p, sigma0=0.3, seed=2),
    "OnePlusOneES": lambda p: OnePlusOneES(p, sigma0=0.3, seed=3),
    "GeneticAlgorithm": lambda p: GeneticAlgorithm(p, popsize=20, sigma0=0.5, seed=4),
}
STEPS = {"ZeroOrderGD": 300, "NelderMead": 150, "NelderMead(adaptive)": 150, "CMAES": 120,
         "OnePlusOneES": 600, "GeneticAlgorithm": 150}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_converges_through_step_closure(name):
    x = mg.Tensor(X0, requires_grad=True)
    opt = MAKERS[name]([x])
    closure = closure_for(x)
    for _ in range(STEPS[name]):
        value = opt.step(closure)
    np.testing.assert_allclose(x.numpy(), 0.25, atol=1e-3)
    assert value == pytest.approx(float(loss(x).item()), abs=1e-12)
    assert opt.njev == 0 and opt.nfev > 0 and opt.step_count == STEPS[name]


def test_same_iterates_as_the_functional_versions():
    k = 12
    x = mg.Tensor(X0, requires_grad=True)
    nm = NelderMead([x])
    for _ in range(k):
        nm.step(closure_for(x))
    ref = nelder_mead(loss, X0, maxiter=k, xatol=0.0, fatol=0.0)
    np.testing.assert_array_equal(mg.to_numpy(nm.vstate["sim"]),
                                  mg.to_numpy(ref.final_simplex[0]))

    x = mg.Tensor(X0, requires_grad=True)
    es = CMAES([x], sigma0=0.3, seed=5)
    for _ in range(k):
        es.step(closure_for(x))
    lam = 4 + int(np.floor(3 * np.log(3)))
    ref = cmaes(loss, X0, sigma0=0.3, seed=5, maxfev=k * lam, tolfun=0.0, tolx=0.0,
                active=False, c_sigma_form="tutorial")  # the form CMAES runs
    assert ref.nit == k
    np.testing.assert_allclose(mg.to_numpy(es.vstate["m"]), mg.to_numpy(ref.xmean), rtol=1e-12)

    x = mg.Tensor(X0, requires_grad=True)
    opo = OnePlusOneES([x], sigma0=0.3, seed=6)
    for _ in range(k):
        opo.step(closure_for(x))
    ref = one_plus_one_es(loss, X0, sigma0=0.3, seed=6, maxfev=k + 1)
    np.testing.assert_array_equal(x.numpy(), mg.to_numpy(ref.x))

    x = mg.Tensor(X0, requires_grad=True)
    ga = GeneticAlgorithm([x], popsize=10, seed=7)
    for _ in range(k):
        ga.step(closure_for(x))
    ref = genetic_algorithm(loss, X0, popsize=10, seed=7, maxgen=k)
    np.testing.assert_array_equal(x.numpy(), mg.to_numpy(ref.x))


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_state_dict_round_trip_through_savez_continues_in_lockstep(name):
    a = mg.Tensor([1.0, -0.5], requires_grad=True)
    b = mg.Tensor([[0.8]], requires_grad=True)
    opt = MAKERS[name]([a, b])
    for _ in range(6):
        opt.step(closure_for(a, b))
    buf = io.BytesIO()
    np.savez(buf, **flatten_state_dict(opt.state_dict()))
    buf.seek(0)
    a2, b2 = mg.Tensor(a.numpy(), requires_grad=True), mg.Tensor(b.numpy(), requires_grad=True)
    opt2 = MAKERS[name]([a2, b2])
    opt2.load_state_dict(unflatten_state_dict(np.load(buf)))
    for _ in range(6):
        opt.step(closure_for(a, b))
        opt2.step(closure_for(a2, b2))
    np.testing.assert_array_equal(a2.numpy(), a.numpy())
    np.testing.assert_array_equal(b2.numpy(), b.numpy())
    assert opt2.nfev == opt.nfev and opt2.step_count == opt.step_count == 12


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_loading_into_parameters_of_another_size_raises_and_changes_nothing(name):
    x = mg.Tensor(X0, requires_grad=True)
    opt = MAKERS[name]([x])
    for _ in range(3):
        opt.step(closure_for(x))
    sd = opt.state_dict()
    y = mg.Tensor([0.0, 0.0], requires_grad=True)
    victim = MAKERS[name]([y])
    victim.step(closure_for(y))
    before = flatten_state_dict(victim.state_dict())
    if not any(isinstance(v, np.ndarray) and v.ndim > 0 for v in sd["extra"].values()):
        # nothing in the state depends on the parameters' size: it loads
        victim.load_state_dict(sd)
        assert victim.step_count == opt.step_count
        return
    with pytest.raises(ValueError, match="shape"):
        victim.load_state_dict(sd)
    after = flatten_state_dict(victim.state_dict())
    assert sorted(after) == sorted(before)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


@pytest.mark.parametrize("cls,kwargs,name", [
    (ZeroOrderGD, {"lr": -1.0}, "lr"), (ZeroOrderGD, {"tau": 0.0}, "tau"),
    (ZeroOrderGD, {"estimator": "five-point"}, "estimator"), (ZeroOrderGD, {"seed": -1}, "seed"),
    (NelderMead, {"adaptive": 1}, "adaptive"),
    (CMAES, {"sigma0": 0.0}, "sigma0"), (CMAES, {"popsize": 1}, "popsize"),
    (OnePlusOneES, {"sigma0": -1.0}, "sigma0"), (OnePlusOneES, {"damping": 0.0}, "damping"),
    (GeneticAlgorithm, {"popsize": 1}, "popsize"), (GeneticAlgorithm, {"elitism": 50}, "elitism"),
    (GeneticAlgorithm, {"tournament": 0}, "tournament"),
    (GeneticAlgorithm, {"crossover": 1.5}, "crossover"),
    (GeneticAlgorithm, {"mutation_decay": 2.0}, "mutation_decay"),
])
def test_invalid_hyperparameters_raise_value_error_naming_them(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls([mg.Tensor([1.0, 2.0], requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_step_needs_a_closure(name):
    opt = MAKERS[name]([mg.Tensor([1.0, 2.0], requires_grad=True)])
    with pytest.raises(ValueError, match="closure"):
        opt.step()


def test_float32_parameters_stay_float32():
    for name, make in MAKERS.items():
        x = mg.Tensor(np.array(X0, dtype=np.float32), requires_grad=True)
        opt = make([x])
        for _ in range(3):
            opt.step(closure_for(x))
        assert x.data.dtype == np.float32, name
