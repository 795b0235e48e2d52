"""References to the code, resolved to a file and a line.

The formula map (``docs/lectures.md``) names code in double brackets:

* ``[[optimizers.sgd.Momentum]]``, ``[[optimizers.Momentum]]`` (a name the package re-exports),
  ``[[optimizers.sgd.Momentum._update]]``, ``[[problems.base.Problem.mu]]`` (a class
  attribute), ``[[optimizers.zero_order.estimators]]`` (a module): a Python object, found by
  importing it and located in its defining module's source with :mod:`ast` (a class at its
  ``class`` line, a function or method at its ``def`` line, an attribute at its assignment);
  an inherited method resolves to the class that defines it;
* ``[[tests/optimizers/test_optim_equivalences.py]]`` (a file) and
  ``[[tests/optimizers/test_optim_equivalences.py::test_name]]`` (a test function, or
  ``::TestClass::test_name``): located in the file with :mod:`ast`;
* ``[[experiment:gd-rates]]``: an experiment of the registry, resolved to its card in the
  gallery.

Anything that does not resolve raises :class:`RefError`, which stops the site's build.
"""
from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pathlib
import re
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[2]

#: ``[[target]]`` in a page's source
REF = re.compile(r"\[\[([^\[\]\s]+)\]\]")


class RefError(LookupError):
    """A reference that does not resolve."""


@dataclass(frozen=True)
class Target:
    """Where a reference points: ``path`` (relative to the repository, posix) and ``line``
    (1-based; 1 for a whole file), or ``experiment`` for an experiment's card."""

    ref: str
    label: str
    path: str | None = None
    line: int = 1
    kind: str = "file"        # module, class, function, attribute, file, test, experiment
    experiment: str | None = None


@functools.lru_cache(maxsize=None)
def _tree(path: str) -> ast.Module:
    return ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)


def locate(path: str, qualname: str) -> tuple[int, str]:
    """The line of ``qualname`` (dotted: ``Class.method``) in the file ``path``: the ``class``
    or ``def`` line, or the first line of an assignment; and its kind."""
    scope = _tree(path).body
    node = None
    parts = qualname.split(".")
    for k, name in enumerate(parts):
        found = None
        for child in scope:
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                if child.name == name:
                    found = child
            elif isinstance(child, ast.Assign) and k == len(parts) - 1:
                if any(isinstance(t, ast.Name) and t.id == name for t in child.targets):
                    found = found or child
            elif isinstance(child, ast.AnnAssign) and k == len(parts) - 1:
                if isinstance(child.target, ast.Name) and child.target.id == name:
                    found = found or child
        if found is None:
            raise RefError(f"{qualname!r}: no {name!r} in {path}")
        node = found
        scope = getattr(found, "body", [])
    kind = ("class" if isinstance(node, ast.ClassDef) else
            "function" if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else
            "attribute")
    return node.lineno, kind


def module_path(module) -> str:
    return pathlib.Path(inspect.getsourcefile(module)).resolve().relative_to(ROOT).as_posix()


def _import_prefix(dotted: str):
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        name = ".".join(parts[:k])
        try:
            return importlib.import_module(name), parts[k:]
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
    raise RefError(f"{dotted!r}: no importable module")


def _defining(obj, attrs: list[str]):
    """Follow ``attrs`` from ``obj``; return ``(module name, qualname)`` of where the last one
    is defined."""
    module_name, qual = None, []
    current = obj
    for k, name in enumerate(attrs):
        if inspect.isclass(current):
            owner = next((c for c in current.__mro__ if name in vars(c)), None)
            if owner is None:
                raise RefError(f"{'.'.join(attrs)!r}: {current.__qualname__} has no {name!r}")
            raw = vars(owner)[name]
            module_name, qual = owner.__module__, owner.__qualname__.split(".") + [name]
            value = getattr(current, name)
            if inspect.isclass(raw):
                module_name, qual = raw.__module__, raw.__qualname__.split(".")
            current = value
            continue
        if not hasattr(current, name):
            raise RefError(f"{'.'.join(attrs)!r}: {getattr(current, '__name__', current)!r} "
                           f"has no {name!r}")
        value = getattr(current, name)
        if (inspect.isclass(value) or inspect.isfunction(value)) and \
                "<locals>" not in value.__qualname__:
            module_name, qual = value.__module__, value.__qualname__.split(".")
        elif inspect.ismodule(current):
            module_name, qual = current.__name__, [name]
        else:
            raise RefError(f"{'.'.join(attrs)!r}: cannot locate {name!r}")
        current = value
    return module_name, ".".join(qual)


@functools.lru_cache(maxsize=None)
def resolve(ref: str) -> Target:
    """The :class:`Target` of one reference (the text between the double brackets)."""
    if ref.startswith("experiment:"):
        return _experiment(ref)
    if "/" in ref or ref.endswith(".py") or "::" in ref:
        return _file_ref(ref)
    module, attrs = _import_prefix(ref)
    if not attrs:
        path = module_path(module)
        return Target(ref, path, path, 1, "module")
    module_name, qualname = _defining(module, attrs)
    path = module_path(importlib.import_module(module_name))
    line, kind = locate(path, qualname)
    return Target(ref, qualname, path, line, kind)


def _file_ref(ref: str) -> Target:
    path, _, qual = ref.partition("::")
    file = ROOT / path
    if not path.endswith(".py") or not file.is_file() or ROOT not in file.resolve().parents:
        raise RefError(f"{ref!r}: no Python file {path} in the repository")
    if not qual:
        return Target(ref, path, path, 1, "file")
    line, _ = locate(path, qual.replace("::", "."))
    return Target(ref, qual.split("::")[-1], path, line, "test")


@functools.lru_cache(maxsize=1)
def registered_experiments() -> dict[str, str]:
    """The registered experiments, name -> the repository path of the module that registers
    it: the ``@register("name", ...)`` decorators of the experiment modules
    (:func:`experiments.registry.experiment_modules`), read from their source without
    importing them (importing every experiment costs seconds of the site's build)."""
    from experiments.registry import experiment_modules

    out = {}
    for module in experiment_modules():
        path = module.replace(".", "/") + ".py"
        for node in ast.walk(_tree(path)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for dec in node.decorator_list:
                func = dec.func if isinstance(dec, ast.Call) else None
                name = getattr(func, "id", getattr(func, "attr", None))
                if name == "register" and dec.args and isinstance(dec.args[0], ast.Constant):
                    out[dec.args[0].value] = path
    return dict(sorted(out.items()))


def experiment_names() -> tuple[str, ...]:
    return tuple(registered_experiments())


def _experiment(ref: str) -> Target:
    name = ref.partition(":")[2]
    if name not in experiment_names():
        raise RefError(f"{ref!r}: no registered experiment {name!r}")
    return Target(ref, name, None, 1, "experiment", name)


def find_refs(text: str) -> list[str]:
    """The references of a page's source, in order."""
    return REF.findall(text)
