"""Which modules of ``experiments/`` are experiments: those that decorate a function with
``@register(...)``; no list of machinery modules is kept."""
import os
import pathlib

import pytest

from experiments import registry

pytestmark = pytest.mark.host_only  # a source scan of experiments/

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_rule_reads_the_decorator():
    assert registry.is_experiment_source(
        "from experiments.registry import register\n\n"
        "@register('x', 'a claim')\ndef run(out_dir, **kw):\n    return {}\n")
    assert registry.is_experiment_source(
        "from experiments import registry\n\n"
        "@registry.register('x', 'a claim')\ndef run(out_dir, **kw):\n    return {}\n")
    # a helper module, and one that only names register, are not experiments
    assert not registry.is_experiment_source("def helper():\n    return 1\n")
    assert not registry.is_experiment_source(
        "from experiments.registry import register\n\ndef run():\n    return register\n")


def test_every_module_is_an_experiment_or_machinery_by_the_rule():
    modules = set(registry.experiment_modules())
    for name in ("registry", "runner", "trace", "report", "plotting", "common", "stochastic",
                 "sharpness", "jobs", "__main__"):
        assert f"experiments.{name}" not in modules
    for name in ("gd_rates", "schedules_gallery", "momentum", "trajectories"):
        assert f"experiments.{name}" in modules
    # every experiment module registers at least one experiment when imported, and every
    # registered experiment comes from one of them
    exps = registry.all_experiments()
    assert {e.run.__module__ for e in exps.values()} == modules
    files = {p.stem for p in (ROOT / "experiments").glob("*.py")}
    assert {m.split(".")[1] for m in modules} <= files


def test_a_module_is_read_again_when_it_changes(tmp_path):
    """The rule's answer is kept for each version of a file (modification time and size), so a
    module edited during a session is read again."""
    path = tmp_path / "candidate.py"
    path.write_text("def helper():\n    return 1\n")

    def answer():
        stat = path.stat()
        return registry._defines_an_experiment(str(path), stat.st_mtime_ns, stat.st_size)

    assert answer() is False
    path.write_text("from experiments.registry import register\n\n"
                    "@register('x', 'a claim')\ndef run(out_dir, **kw):\n    return {}\n")
    assert answer() is True
    assert answer() is True                          # the same version: from the cache
    size = path.stat().st_size
    path.write_text("def helper():\n    return 1\n".ljust(size - 1) + "\n")  # same size
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert path.stat().st_size == size
    assert answer() is False                          # a later time alone: read again
