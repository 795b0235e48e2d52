"""torch's scheduler habit, ``CosineDecay(opt, T_max=200)``, is answered with the ``lr=`` form:
every schedule class refuses an optimizer among its arguments with a TypeError saying that a
schedule is passed to the optimizer as ``lr=``."""
import inspect

import pytest

import minigrad as mg
import optimizers as O
import schedules as S

CLASS_NAMES = [name for name in S.__all__ if inspect.isclass(getattr(S, name))]
CLASSES = list(dict.fromkeys(getattr(S, name) for name in CLASS_NAMES))  # SGDR is an alias
FUNCTIONS = ["join", "sequence", "scale", "warmup", "linear_scaling", "sqrt_scaling",
             "as_schedule"]


class TorchLikeOptimizer:
    """What a ``torch.optim`` optimizer looks like from outside: param_groups, step, zero_grad."""

    def __init__(self):
        self.param_groups = [{"lr": 0.1, "params": []}]

    def step(self, closure=None):
        return None

    def zero_grad(self, set_to_none=True):
        return None


def _adam():
    return O.Adam([mg.Tensor([1.0, 2.0], requires_grad=True)], lr=0.1)


def _sam():
    return O.SAM(O.SGD([mg.Tensor([1.0, 2.0], requires_grad=True)], lr=0.1))


OPTIMIZERS = {"Adam": _adam, "SAM": _sam, "TorchLikeOptimizer": TorchLikeOptimizer}


def test_every_class_and_function_of_the_package_is_covered():
    assert set(CLASS_NAMES) | set(FUNCTIONS) == set(S.__all__)
    assert {c.__name__ for c in CLASSES} >= {"CosineDecay", "OneCycle", "ReduceLROnPlateau"}


def _check(exc: pytest.ExceptionInfo, owner: str, opt_type: str) -> None:
    msg = str(exc.value)
    assert msg.startswith(f"{owner}: got an optimizer ({opt_type})")
    assert "lr=" in msg and "Adam(params, lr=CosineDecay(1e-3, 200))" in msg


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_torch_style_construction_is_refused_with_the_lr_hint(cls, opt_name):
    opt = OPTIMIZERS[opt_name]()
    with pytest.raises(TypeError) as exc:
        cls(opt, T_max=200)  # torch's keyword, unknown here: the hint comes first
    _check(exc, cls.__name__, opt_name)
    if cls is not S.Schedule:
        expected = inspect.signature(cls.__init__).parameters
        first = [p for p in expected if p != "self"][0]
        assert f"Expected {cls.__name__}({first}" in str(exc.value)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_an_optimizer_in_any_position_or_keyword_is_refused(cls):
    opt = TorchLikeOptimizer()
    with pytest.raises(TypeError, match="lr="):
        cls(0.1, opt)
    with pytest.raises(TypeError, match="lr="):
        cls(optimizer=opt)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_composition_functions_give_the_hint_too(name):
    fn = getattr(S, name)
    opt = _adam()
    args = {"join": ([opt, 0.1], [5]), "sequence": ([opt, 0.1], [5]), "scale": (opt, 2.0),
            "warmup": (opt, 5), "linear_scaling": (opt, 256, 512),
            "sqrt_scaling": (opt, 256, 512), "as_schedule": (opt,)}[name]
    with pytest.raises(TypeError, match=r"lr=.*Adam\(params, lr=CosineDecay\(1e-3, 200\)\)"):
        fn(*args)


def test_the_lr_form_the_hint_shows_works():
    p = mg.Tensor([1.0, 2.0], requires_grad=True)
    sched = S.CosineDecay(1e-3, 200)
    opt = O.Adam([p], lr=sched)
    (p * p).sum().backward()
    opt.step()
    assert opt.last_lr == [sched(0)]


def test_numbers_and_schedules_are_still_accepted():
    assert S.CosineDecay(0.1, 10)(0) == 0.1
    assert S.warmup(S.CosineDecay(0.1, 10), 5)(5) == 0.1
    assert S.ReduceLROnPlateau(0.1)(0) == 0.1
