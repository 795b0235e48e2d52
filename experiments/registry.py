"""The table of experiments: a name, a one-line claim and a function that runs it.

An experiment is a function ``run(out_dir: pathlib.Path, *, quick: bool, seed: int,
backend: str) -> dict`` that writes its figure and traces under ``out_dir`` and returns a small
summary (at least ``{"verdict": "PASS" | "FAIL" | "INFO", "summary": str}``). An experiment
registered with ``sizes=("default", "large")`` also takes ``size="large"``: the same claim on a
problem large enough for a GPU to pay off (``python -m experiments run NAME --size large``).

Experiments kept outside the package run through the same command line: the environment variable
``MINIGRAD_EXPERIMENTS_MODULES`` (importable module names, separated by commas) makes the
registry take its experiments from those modules instead of the package's own.
"""
from __future__ import annotations

import ast
import functools
import importlib
import os
import pathlib
import pkgutil
import re
from dataclasses import dataclass
from typing import Callable

#: a line that may decorate with ``register`` (``@register(`` or ``@registry.register(``); the
#: syntax tree decides
_REGISTER_DECORATOR = re.compile(r"^\s*@\s*(?:\w+\s*\.\s*)*register\b", re.MULTILINE)


def is_experiment_source(source: str) -> bool:
    """True when ``source`` (a module's text) defines an experiment: a function decorated with
    ``@register(...)`` (this module's decorator). The machinery of the package (the runner, the
    plotting helpers, this registry, ...) registers nothing, so it is not one; no list of
    machinery modules is kept."""
    if not _REGISTER_DECORATOR.search(source):  # no line decorates with it: no need to parse
        return False
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                func = dec.func if isinstance(dec, ast.Call) else dec
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name == "register":
                    return True
    return False


@functools.lru_cache(maxsize=None)
def _defines_an_experiment(path: str, mtime_ns: int, size: int) -> bool:
    """:func:`is_experiment_source` of the file at ``path``, read once for each version of it
    (its modification time and size): the registry is asked on every run, and parsing every
    module of the package each time costs a third of a second."""
    return is_experiment_source(pathlib.Path(path).read_text(encoding="utf-8"))


def experiment_modules() -> list[str]:
    """The experiment modules of the package (sorted): the modules of ``experiments/`` whose
    source decorates a function with ``@register(...)``, read without importing them."""
    import experiments

    found = []
    for m in pkgutil.iter_modules(experiments.__path__):
        if m.ispkg or m.name.startswith("_"):
            continue
        path = pathlib.Path(experiments.__path__[0]) / f"{m.name}.py"
        stat = path.stat()
        if _defines_an_experiment(str(path), stat.st_mtime_ns, stat.st_size):
            found.append(f"experiments.{m.name}")
    return sorted(found)


#: the problem sizes an experiment may offer ("default" always)
SIZES = ("default", "large")


@dataclass(frozen=True)
class Experiment:
    name: str
    claim: str
    run: Callable[..., dict]
    sizes: tuple = ("default",)


_REGISTRY: dict[str, Experiment] = {}


def register(name: str, claim: str, sizes: tuple = ("default",)):
    """Decorator: register ``fn`` as the experiment ``name`` with its ``claim`` (and the problem
    ``sizes`` it offers; an experiment with more than the default takes a ``size`` argument).

    The registered (and returned) function runs ``fn`` with its ``backend`` argument as
    minigrad's default backend (``minigrad.use_backend``), so that a direct call
    ``module.run(out, backend="cupy")`` runs on CuPy (or raises a clear error where CuPy or a GPU
    is missing) rather than silently on the default backend."""

    def deco(fn):
        if name in _REGISTRY:
            raise ValueError(f"experiment {name!r} is registered twice")
        bad = [z for z in sizes if z not in SIZES]
        if "default" not in sizes or bad:
            raise ValueError(f"experiment {name!r}: sizes must include 'default' and be among "
                             f"{SIZES}; got {sizes}")

        @functools.wraps(fn)
        def run(out_dir, **kwargs):
            import minigrad

            with minigrad.use_backend(kwargs.get("backend", "numpy")):
                return fn(out_dir, **kwargs)

        _REGISTRY[name] = Experiment(name, claim, run, tuple(sizes))
        return run

    return deco


#: the environment variable naming the modules to take the experiments from (comma-separated)
MODULES_VARIABLE = "MINIGRAD_EXPERIMENTS_MODULES"


def _modules_from_environment() -> list[str]:
    return [m.strip() for m in os.environ.get(MODULES_VARIABLE, "").split(",") if m.strip()]


def all_experiments() -> dict[str, Experiment]:
    """Import every experiment module and return the registry, sorted by name (only the
    experiments of the modules ``MINIGRAD_EXPERIMENTS_MODULES`` names, when it is set)."""
    chosen = _modules_from_environment()
    for mod in chosen or experiment_modules():
        importlib.import_module(mod)
    if chosen:
        return {n: e for n, e in sorted(_REGISTRY.items()) if e.run.__module__ in chosen}
    return dict(sorted(_REGISTRY.items()))
