"""The table of experiments: a name, a one-line claim and a function that runs it.

An experiment is a function ``run(out_dir: pathlib.Path, *, quick: bool, seed: int,
backend: str) -> dict`` that writes its figure and traces under ``out_dir`` and returns a small
summary (at least ``{"verdict": "PASS" | "FAIL" | "INFO", "summary": str}``).
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

# The modules of the package that are machinery, not experiments. Every other module in
# ``experiments/`` defines experiments and registers them when imported.
INFRASTRUCTURE = {"__main__", "registry", "runner", "trace", "report", "plotting", "common",
                  "stochastic", "sharpness", "jobs"}


def experiment_modules() -> list[str]:
    """The experiment modules of the package, discovered by name (sorted)."""
    import experiments

    return sorted(f"experiments.{m.name}" for m in pkgutil.iter_modules(experiments.__path__)
                  if m.name not in INFRASTRUCTURE and not m.name.startswith("_"))


@dataclass(frozen=True)
class Experiment:
    name: str
    claim: str
    run: Callable[..., dict]


_REGISTRY: dict[str, Experiment] = {}


def register(name: str, claim: str):
    """Decorator: register ``fn`` as the experiment ``name`` with its ``claim``.

    The registered (and returned) function runs ``fn`` with its ``backend`` argument as
    minigrad's default backend (``minigrad.use_backend``), so that a direct call
    ``module.run(out, backend="cupy")`` runs on CuPy (or raises a clear error where CuPy or a GPU
    is missing) rather than silently on the default backend."""

    def deco(fn):
        if name in _REGISTRY:
            raise ValueError(f"experiment {name!r} is registered twice")

        @functools.wraps(fn)
        def run(out_dir, **kwargs):
            import minigrad

            with minigrad.use_backend(kwargs.get("backend", "numpy")):
                return fn(out_dir, **kwargs)

        _REGISTRY[name] = Experiment(name, claim, run)
        return run

    return deco


def all_experiments() -> dict[str, Experiment]:
    """Import every experiment module and return the registry, sorted by name."""
    for mod in experiment_modules():
        importlib.import_module(mod)
    return dict(sorted(_REGISTRY.items()))
