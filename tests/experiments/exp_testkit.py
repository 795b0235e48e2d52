"""What the experiments' tests share: running experiments once in --quick mode, and the check
that a quick run gave its verdict and wrote its files (figure, verdict.json)."""
import functools
import json
import signal

import minigrad
from experiments.jobs import run_one

VERDICT_KEYS = ("claim", "bound", "measured", "summary", "figure")


def session_backend() -> str:
    """The backend the suite runs on (``pytest --backend``; numpy by default)."""
    return minigrad.get_backend()


def quick_runs(tmp_path_factory, names):
    """``(out, {name: verdict})``: each experiment run once, --quick, seed 0, on the session's
    backend."""
    out = tmp_path_factory.mktemp("results")
    return out, {name: run_one(name, str(out), True, 0, session_backend()) for name in names}


def assert_wrote_its_files(out, name, v, expected="PASS"):
    """The verdict is ``expected``, every verdict field is filled, the figure is a real PNG and
    ``verdict.json`` holds the same verdict; returns the saved verdict."""
    assert v["verdict"] == expected, v["measured"]
    for key in VERDICT_KEYS:
        assert v[key]
    folder = out / name
    assert (folder / v["figure"]).stat().st_size > 10_000
    saved = json.loads((folder / "verdict.json").read_text())
    assert saved["verdict"] == expected
    assert_judged_by_its_rule(name, saved)
    return saved


@functools.lru_cache(maxsize=None)
def _module_of(name):
    """The module of the registered experiment ``name`` (the registry scans the package once)."""
    import importlib

    from experiments.registry import all_experiments

    return importlib.import_module(all_experiments()[name].run.__module__)


def assert_judged_by_its_rule(name, v):
    """The verdict applied the experiment's rule in force, every condition of it, and nothing
    else: the printed bound is the rule's text, one check per condition, PASS exactly when all
    hold; every earlier rule's outcome is kept."""
    rules = _module_of(name.split("/")[0]).RULES
    assert v["bound"] == rules[-1].text
    assert [c["key"] for c in v["checks"]] == list(rules[-1].keys)
    assert (v["verdict"] == "PASS") == all(c["passed"] for c in v["checks"])
    assert [r["version"] for r in v["earlier_rules"]] == [r.version for r in rules[:-1]]


def foreground_sigint():
    """``preexec_fn`` of a command a test interrupts as Ctrl-C would: SIGINT back to its default
    in the child. A background job of a non-interactive shell (``cmd &``, as some CI runners
    start the suite) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt
    handler, so the command would never see the interrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
