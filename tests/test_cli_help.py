"""``python -m experiments --help``: plain text, and every option of every command explained.

The help is read by people at a terminal: no reStructuredText markup (double backquotes,
``:math:``, ``:func:`` and the other roles) may reach it, and every argument of the top-level
parser and of each sub-command carries a help text.
"""
import argparse
import re
import subprocess
import sys

import pytest

from experiments.__main__ import _parser

pytestmark = pytest.mark.host_only

RST_MARKUP = re.compile(r"``|:(?:math|func|class|mod|meth|data|attr|exc|ref):`")


def _parsers(parser, name="python -m experiments"):
    """The parser and, recursively, its sub-command parsers, as (name, parser) pairs."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def _problems(parser, prog="python -m experiments"):
    """What is wrong with a parser's help: RST markup in its text, arguments without help."""
    found = []
    for name, p in _parsers(parser, prog):
        text = p.format_help()
        for m in RST_MARKUP.finditer(text):
            found.append(f"{name}: markup {m.group(0)!r} in the help")
        for action in p._actions:
            if not action.help or action.help == argparse.SUPPRESS:
                label = "/".join(action.option_strings) or action.metavar or action.dest
                found.append(f"{name}: {label} has no help text")
    return found


def test_every_command_and_option_has_plain_help():
    parser = _parser()
    names = [name for name, _ in _parsers(parser)]
    assert names == ["python -m experiments", "python -m experiments list",
                     "python -m experiments run", "python -m experiments report",
                     "python -m experiments sweep", "python -m experiments sweep report"]
    assert _problems(parser) == []


def test_the_check_finds_markup_and_a_missing_help():
    """The companion: a parser with a bare option and a docstring-style description fails."""
    bad = argparse.ArgumentParser(prog="bad", description="Runs ``f`` with :math:`x`.")
    sub = bad.add_subparsers(dest="command", help="the command")
    run = sub.add_parser("run", help="run")
    run.add_argument("--seed", type=int)
    problems = _problems(bad, "bad")
    assert "bad: markup '``' in the help" in problems
    assert "bad: markup ':math:`' in the help" in problems
    assert "bad run: --seed has no help text" in problems


def test_the_real_command_prints_it():
    out = subprocess.run([sys.executable, "-m", "experiments", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("usage: python -m experiments")
    assert not RST_MARKUP.search(out)
    assert "python -m experiments run all --quick" in out  # the examples are there
