"""The documented defaults of every first-order and geometry optimizer, and first steps taken
with those defaults.

The table ``DOCUMENTED`` is transcribed by hand from each class's docstring ("Defaults: ...",
"Hyperparameters (...)", or the call signature written out in the docstring); where a docstring
says its defaults are torch.optim's, the torch value fills a hyperparameter the docstring names
without a number (``weight_decay=0``, ``dampening=0``: torch.optim.SGD / Adam defaults). The
non-finite policies are those of the ``optimizers.nonfinite`` module docstring ("propagate" for
the first-order and geometry methods, "raise" for Shampoo). Every expected number in the step
tests is computed by hand in the comments and again with Python floats (no call into
``optimizers``).
"""
import math

import numpy as np
import pytest

import minigrad as mg
import optimizers as O
from optimizers import flatten_state_dict

B2 = (0.9, 0.999)  # Adam's (beta1, beta2), the lectures' and torch.optim.Adam's

#: class name -> the defaults its docstring documents
DOCUMENTED = {
    "SGD": dict(lr=1e-3, weight_decay=0.0),
    "Momentum": dict(lr=1e-3, momentum=0.9, form="velocity", dampening=0.0,
                     momentum_init="zero", weight_decay=0.0),
    "NAG": dict(lr=1e-3, momentum=0.9, form="lookahead", weight_decay=0.0),
    "Adagrad": dict(lr=1e-2, eps=1e-6, eps_inside=True, initial_accumulator_value=0.0,
                    weight_decay=0.0),
    "RMSProp": dict(lr=1e-2, gamma=0.9, eps=1e-6, eps_inside=True, bias_correction=False,
                    weight_decay=0.0),
    "Adadelta": dict(lr=1.0, gamma=0.9, rho=0.9, eps=1e-6, weight_decay=0.0),
    "Adam": dict(lr=1e-3, betas=B2, eps=1e-8, weight_decay=0.0),
    "AMSGrad": dict(lr=1e-3, betas=B2, eps=1e-8, weight_decay=0.0, max_of="v"),
    "AdamW": dict(lr=1e-3, betas=B2, eps=1e-8, weight_decay=1e-2),
    "AdaBelief": dict(lr=1e-3, betas=B2, eps=1e-16),
    "NAdam": dict(lr=2e-3, betas=B2, eps=1e-8, momentum_decay=4e-3, weight_decay=0.0),
    "RAdam": dict(lr=1e-3, betas=B2, eps=1e-8),
    "Adamax": dict(lr=2e-3, betas=B2, eps=1e-8),
    "AdaBound": dict(lr=1e-3, final_lr=0.1, gamma=1e-3, betas=B2, eps=1e-8, weight_decay=0.0),
    "AMSBound": dict(lr=1e-3, final_lr=0.1, gamma=1e-3, betas=B2, eps=1e-8, weight_decay=0.0,
                     max_of="v"),
    "SignSGD": dict(lr=1e-3),
    "Signum": dict(lr=1e-3, momentum=0.9),
    "Lion": dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0),
    "NAGGS": dict(lr=0.05, mu=1.0, gamma=1.5),
    "SteepestDescent": dict(lr=1e-2, norm="l2", normalized=False),
    "NormalizedGD": dict(lr=1e-2, norm="l2", normalized=True),
    "Muon": dict(lr=0.02, momentum=0.95, nesterov=True, weight_decay=0.0, ns_steps=5,
                 polar="newton_schulz", use_muon=None, adamw_lr=3e-4, adamw_betas=(0.9, 0.95),
                 adamw_eps=1e-10, adamw_weight_decay=0.0),
    "Shampoo": dict(lr=1e-2, beta=0.99, eps=1e-12, form="ema", update_freq=1),
    "Sophia": dict(lr=1e-4, betas=(0.965, 0.99), gamma=0.01, eps=1e-12, weight_decay=0.1, k=10,
                   estimator="hutchinson", probe="gaussian", clip="paper", rho=0.04),
    "SVRG": dict(lr=1e-2),
    "SAG": dict(lr=1e-2),
}

#: the non-finite policy each method takes by default (optimizers.nonfinite)
RAISING_BY_DEFAULT = {"Shampoo"}


def _param(shape=(2,)):
    return mg.Tensor(np.ones(shape), requires_grad=True)


def _build(name):
    cls = getattr(O, name)
    if name in ("SVRG", "SAG"):
        return cls([_param()], n=4)
    return cls([_param()])


def _same(actual, expected):
    if isinstance(expected, tuple):
        return tuple(actual) == expected
    if isinstance(expected, (bool, str)) or expected is None:
        return actual is expected or actual == expected and type(actual) is type(expected)
    return actual == expected


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_defaults(name):
    """Built with only its parameters, the optimizer's group holds the documented defaults."""
    opt = _build(name)
    group = opt.param_groups[0]
    wrong = {k: (group.get(k), v) for k, v in DOCUMENTED[name].items()
             if not _same(group.get(k), v)}
    assert not wrong, f"{name}: (actual, documented) {wrong}"
    expected_policy = "raise" if name in RAISING_BY_DEFAULT else "propagate"
    assert opt.nonfinite == expected_policy


def test_sophia_default_seed_and_finite_sum_defaults():
    """Sophia's documented ``seed=0``; SVRG's ``batch_size=1``, ``seed=0`` and
    ``inner_steps = ceil(n / b)``; SAG's ``divide_by="n"``, ``seed=0`` and one component per
    step."""
    assert O.Sophia([_param()]).seed == 0
    svrg = O.SVRG([_param()], n=7)
    assert (svrg.batch_size, svrg.seed, svrg.inner_steps, svrg.sampler) == (1, 0, 7, None)
    assert O.SVRG([_param()], n=7, batch_size=3).inner_steps == 3  # ceil(7 / 3)
    sag = O.SAG([_param()], n=5)
    assert (sag.divide_by, sag.seed, sag.batch_size, sag.sampler) == ("n", 0, 1, None)


def test_wrapper_defaults():
    """SAM: ``rho=0.05``, ``adaptive=False``, ``p=2``, ``eta=0.01``; Lookahead: ``k=5``,
    ``alpha=0.5``; both wrap SGD (with SGD's own defaults) when no base is named."""
    sam = O.SAM([_param()])
    assert (sam.rho, sam.adaptive, sam.p, sam.eta) == (0.05, False, 2.0, 0.01)
    la = O.Lookahead([_param()])
    assert (la.k, la.alpha) == (5, 0.5)
    for w in (sam, la):
        assert type(w.base) is O.SGD
        assert w.param_groups[0]["lr"] == 1e-3 and w.param_groups[0]["weight_decay"] == 0.0


# --------------------------------------------------------------------------- steps with defaults
def _one_step(opt_factory, x0, g):
    x = mg.Tensor(np.array(x0, dtype=float), requires_grad=True)
    opt = opt_factory([x])
    x.grad = mg.backend.asarray(np.array(g, dtype=float))
    opt.step()
    return x.numpy()


def test_adagrad_first_step_with_the_default_eps_inside_the_root():
    """Adagrad's first step with its defaults (lr=1e-2, eps=1e-6 inside the root):
    x1 = x0 - lr g / sqrt(g^2 + eps). With g = 1e-3, g^2 = 1e-6 = eps, so
    x1 = -1e-2 * 1e-3 / sqrt(2e-6) = -1e-5 / 1.41421e-3 = -7.0710678e-3 (for x0 = 0); for a large
    g = 10 the eps is negligible: x1 = -lr sign(g) (1 - eps / (2 g^2)) ~ -1e-2."""
    x = _one_step(O.Adagrad, [0.0, 0.0], [1e-3, 10.0])
    expected = [-1e-2 * 1e-3 / math.sqrt(1e-6 + 1e-6), -1e-2 * 10.0 / math.sqrt(100.0 + 1e-6)]
    assert x[0] == pytest.approx(-1e-2 / math.sqrt(2.0), rel=1e-12)
    np.testing.assert_allclose(x, expected, rtol=1e-13, atol=0.0)


def test_rmsprop_first_step_with_the_default_gamma_and_eps():
    """RMSProp's first step with its defaults (lr=1e-2, gamma=0.9, eps=1e-6 inside the root, no
    bias correction): v1 = (1 - gamma) g^2 = 0.1 g^2, x1 = x0 - lr g / sqrt(0.1 g^2 + eps).
    g = 1e-2: v1 = 1e-5, sqrt(1e-5 + 1e-6) = sqrt(1.1e-5) = 3.31662e-3, x1 = -1e-4 / 3.31662e-3
    = -3.01511e-2."""
    x = _one_step(O.RMSProp, [0.0], [1e-2])
    assert x[0] == pytest.approx(-1e-2 * 1e-2 / math.sqrt(0.1 * 1e-4 + 1e-6), rel=1e-12)
    assert x[0] == pytest.approx(-3.0151134e-2, rel=1e-7)


def test_adadelta_first_step_with_the_defaults():
    """Adadelta's first step with its defaults (lr=1, gamma=0.9, eps=1e-6, Delta x0 = 0):
    v1 = 0.1 g^2, g~ = sqrt(0 + eps) / sqrt(v1 + eps) g. g = 1e-3: v1 = 1e-7,
    g~ = 1e-3 sqrt(1e-6 / 1.1e-6) = 1e-3 / sqrt(1.1) = 9.53463e-4."""
    x = _one_step(O.Adadelta, [0.0], [1e-3])
    assert x[0] == pytest.approx(-1e-3 * math.sqrt(1e-6 / (0.1 * 1e-6 + 1e-6)), rel=1e-12)


def test_adam_family_first_steps_with_the_default_eps():
    """With the bias corrections the first step of Adam and AMSGrad with their defaults is
    lr g / (|g| + eps): for g = 1e-8 = eps exactly half of lr = 1e-3. Adamax: u1 = |g| + eps,
    x1 = -(lr / (1 - beta1)) (1 - beta1) g / u1 = -lr / 2 with lr = 2e-3. AdaBelief (eps = 1e-16
    inside s and after the root): m1 = 0.1 g, s1 = 0.001 (0.9 g)^2 + 1e-16."""
    g = 1e-8
    assert _one_step(O.Adam, [0.0], [g])[0] == pytest.approx(-1e-3 / 2, rel=1e-7)
    assert _one_step(O.AMSGrad, [0.0], [g])[0] == pytest.approx(-1e-3 / 2, rel=1e-7)
    assert _one_step(O.Adamax, [0.0], [g])[0] == pytest.approx(-2e-3 / 2, rel=1e-7)
    # AdaBelief: m1 = 0.1 g, s1 = 0.001 (0.9 g)^2 + 1e-16, s_hat = s1 / 0.001,
    # x1 = -lr (m1 / 0.1) / (sqrt(s_hat) + 1e-16)
    s_hat = (0.001 * (0.9 * g) ** 2 + 1e-16) / 0.001
    expected = -1e-3 * g / (math.sqrt(s_hat) + 1e-16)
    assert _one_step(O.AdaBelief, [0.0], [g])[0] == pytest.approx(expected, rel=1e-9)


# --------------------------------------------------------------------------- the checked ranges
TINY = 5e-324          # the smallest positive float
BELOW_ONE = 1.0 - 2.0**-53  # the largest float below 1
ABOVE_ONE = 1.0 + 2.0**-52  # the smallest float above 1

#: the documented ranges (docs/optimizers.md: "a negative learning rate, a beta or momentum
#: outside [0, 1), a non-positive epsilon, a negative weight decay ... raise ValueError naming the
#: hyperparameter"), and the ranges each formula needs: a step count or period >= 1, a
#: denominator > 0 (AdaBound's gamma t, Sophia's gamma h and rho, NAG-GS's gamma), NAG-GS's
#: mu >= 0 ("it allows mu = 0"), Lookahead's fraction alpha in [0, 1], SAM's p > 1 (1/p + 1/q = 1)
UNIT = [0.0, BELOW_ONE], [1.0, -TINY]          # [0, 1): (accepted, refused)
NONNEG = [0.0, 1.0], [-TINY]                   # [0, inf)
POSITIVE = [TINY, 1.0], [0.0, -TINY]           # (0, inf)
COUNT = [1, 2], [0, -1]                        # integers >= 1

ADAPTIVE = ["Adam", "AMSGrad", "AdamW", "AdaBelief", "NAdam", "RAdam", "Adamax", "AdaBound",
            "AMSBound"]
RANGES = {name: {"lr": NONNEG} for name in DOCUMENTED}
for _name in ["SGD", "Momentum", "NAG", "Adagrad", "RMSProp", "Adadelta", "Lion", "Muon", "Sophia",
              *ADAPTIVE]:
    RANGES[_name]["weight_decay"] = NONNEG
for _name in ["Adagrad", "RMSProp", "Adadelta", "Shampoo", "Sophia", *ADAPTIVE]:
    RANGES[_name]["eps"] = POSITIVE
for _name in ["Momentum", "NAG", "Signum", "Muon"]:
    RANGES[_name]["momentum"] = UNIT
RANGES["Momentum"]["dampening"] = UNIT
RANGES["Adagrad"]["initial_accumulator_value"] = NONNEG
RANGES["RMSProp"]["gamma"] = UNIT
RANGES["Adadelta"].update(gamma=UNIT, rho=UNIT)
RANGES["NAdam"]["momentum_decay"] = NONNEG
for _name in ["AdaBound", "AMSBound"]:
    RANGES[_name].update(final_lr=NONNEG, gamma=POSITIVE)
RANGES["NAGGS"].update(mu=NONNEG, gamma=POSITIVE)
RANGES["Shampoo"].update(beta=UNIT, update_freq=COUNT)
RANGES["Sophia"].update(gamma=POSITIVE, rho=POSITIVE, k=COUNT)
RANGES["Muon"].update(ns_steps=COUNT, adamw_lr=NONNEG, adamw_eps=POSITIVE,
                      adamw_weight_decay=NONNEG)
BETAS = {name: "betas" for name in [*ADAPTIVE, "Lion", "Sophia"]}
BETAS["Muon"] = "adamw_betas"


def _make(name, **kw):
    cls = getattr(O, name)
    extra = {"n": 4} if name in ("SVRG", "SAG") else {}
    shape = (2, 2) if name == "Muon" else (2,)
    return cls([_param(shape)], **extra, **kw)


CASES = [(name, key, ok, bad) for name in sorted(RANGES)
         for key, (ok, bad) in sorted(RANGES[name].items())]


@pytest.mark.parametrize("name, key, ok, bad", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_range_boundaries_are_accepted_and_values_just_outside_refused(name, key, ok, bad):
    """The boundary of each documented range is accepted (and stored as given); the nearest
    values outside it raise ValueError naming the hyperparameter."""
    for value in ok:
        assert _make(name, **{key: value}).param_groups[0][key] == value
    for value in bad:
        with pytest.raises(ValueError, match=key):
            _make(name, **{key: value})


@pytest.mark.parametrize("name", sorted(BETAS))
def test_beta_boundaries(name):
    """Each beta lies in [0, 1): (0, 0) and (1 - 2^-53, 1 - 2^-53) are accepted; 1 and -tiny in
    either place are refused, naming which beta."""
    key = BETAS[name]
    for ok in [(0.0, 0.0), (BELOW_ONE, BELOW_ONE)]:
        assert tuple(_make(name, **{key: ok}).param_groups[0][key]) == ok
    for bad, which in [((1.0, 0.5), "[0]"), ((-TINY, 0.5), "[0]"), ((0.5, 1.0), "[1]"),
                       ((0.5, -TINY), "[1]")]:
        with pytest.raises(ValueError, match=f"{key}\\{which}"):
            _make(name, **{key: bad})


def test_wrapper_and_finite_sum_boundaries():
    """Lookahead: k >= 1, alpha in [0, 1]; SAM: rho >= 0, eta >= 0, p > 1 (p = inf allowed);
    SVRG: n >= 1, 1 <= batch_size <= n, inner_steps >= 1, seed >= 0; SAG: n >= 1, seed >= 0."""
    p = _param
    for k in (1, 2):
        assert O.Lookahead([p()], k=k).k == k
    for alpha in (0.0, 1.0):
        assert O.Lookahead([p()], alpha=alpha).alpha == alpha
    for kw, key in [({"k": 0}, "k"), ({"alpha": -TINY}, "alpha"), ({"alpha": ABOVE_ONE}, "alpha")]:
        with pytest.raises(ValueError, match=key):
            O.Lookahead([p()], **kw)
    assert O.SAM([p()], rho=0.0).rho == 0.0 and O.SAM([p()], eta=0.0).eta == 0.0
    assert O.SAM([p()], p=ABOVE_ONE).p == ABOVE_ONE and O.SAM([p()], p=math.inf).p == math.inf
    for kw, key in [({"rho": -TINY}, "rho"), ({"eta": -TINY}, "eta"), ({"p": 1.0}, "p")]:
        with pytest.raises(ValueError, match=key):
            O.SAM([p()], **kw)
    assert O.SVRG([p()], n=1).n == 1
    assert O.SVRG([p()], n=3, batch_size=3).batch_size == 3
    assert O.SVRG([p()], n=3, inner_steps=1).inner_steps == 1
    assert O.SVRG([p()], n=3, seed=0).seed == 0
    for kw, key in [({"n": 0}, "n"), ({"n": 3, "batch_size": 4}, "batch_size"),
                    ({"n": 3, "batch_size": 0}, "batch_size"),
                    ({"n": 3, "inner_steps": 0}, "inner_steps"), ({"n": 3, "seed": -1}, "seed")]:
        with pytest.raises(ValueError, match=key):
            O.SVRG([p()], **kw)
    assert O.SAG([p()], n=1).n == 1 and O.SAG([p()], n=2, seed=0).seed == 0
    for kw, key in [({"n": 0}, "n"), ({"n": 2, "seed": -1}, "seed")]:
        with pytest.raises(ValueError, match=key):
            O.SAG([p()], **kw)


# --------------------------------------------------------------------------- loading a state_dict
@pytest.mark.parametrize("key, bad", [("step_count", -1), ("step_count", True),
                                      ("step_count", 1.5), ("skipped_steps", -1),
                                      ("skipped_steps", True), ("skipped_steps", 0.5)])
def test_load_refuses_an_invalid_counter_and_changes_nothing(key, bad):
    """step_count and skipped_steps are integers >= 0 (a bool is not a count); a state_dict with
    another value raises ValueError naming it, and the optimizer is left as it was."""
    x = mg.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = O.Adam([x], lr=0.1)
    x.grad = mg.backend.asarray(np.array([0.5, 0.5]))
    opt.step()
    sd = opt.state_dict()
    before = flatten_state_dict(sd)
    with pytest.raises(ValueError, match=key):
        opt.load_state_dict({**sd, key: bad})
    after = flatten_state_dict(opt.state_dict())
    assert after.keys() == before.keys()
    for k, v in before.items():
        np.testing.assert_array_equal(after[k], v)
    good = {**sd, "step_count": 3, "skipped_steps": 2}
    opt.load_state_dict(good)
    assert (opt.step_count, opt.skipped_steps) == (3, 2)


# --------------------------------------------------------------------------- Lion's weight decay
@pytest.mark.parametrize("wd", [1.0, 0.5, 0.0])
def test_lion_decoupled_weight_decay(wd):
    """Lion: x_1 = x_0 - lr (sign(c_1) + lambda x_0) with c_1 = (1 - beta1) g (m_0 = 0). lr = 0.1,
    x0 = (2, -1), g = (1, 1): sign(c_1) = (1, 1); lambda = 1: x_1 = (2 - 0.1 (1 + 2),
    -1 - 0.1 (1 - 1)) = (1.7, -1.0); lambda = 0.5: (1.8, -1.05); lambda = 0: (1.9, -1.1)."""
    x = _one_step(lambda p: O.Lion(p, lr=0.1, weight_decay=wd), [2.0, -1.0], [1.0, 1.0])
    expected = [2.0 - 0.1 * (1.0 + wd * 2.0), -1.0 - 0.1 * (1.0 + wd * -1.0)]
    assert expected == pytest.approx({1.0: [1.7, -1.0], 0.5: [1.8, -1.05],
                                      0.0: [1.9, -1.1]}[wd])
    np.testing.assert_allclose(x, expected, rtol=1e-15, atol=1e-15)
