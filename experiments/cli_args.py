"""The command line's checks of its input: each bad value is one line naming the problem and
exit status 2, never a traceback.

* :class:`Parser`: an ``argparse.ArgumentParser`` whose errors are one line
  (``python -m experiments run: error: argument --seed: ...``) instead of the usage text;
* argument types :func:`seed` (a non-negative integer), :func:`positive_int`,
  :func:`positive_float`, :func:`float_list`, :func:`name_list`;
* :func:`unknown_names` (with "did you mean ...?"), :func:`check_out` (a writable folder).
"""
from __future__ import annotations

import argparse
import difflib
import pathlib
import sys

__all__ = ["Parser", "UsageError", "check_out", "float_list", "name_list", "positive_float",
           "positive_int", "seed", "unknown_names"]


class UsageError(Exception):
    """A bad command line value found after parsing: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # noqa: D102 - argparse's hook
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}") from None


def seed(text: str) -> int:
    """A seed: an integer >= 0 (NumPy's generators take no negative seed)."""
    value = _int(text, "a non-negative integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer (a seed of NumPy's "
                                         f"generators); got {value}")
    return value


def positive_int(text: str) -> int:
    value = _int(text, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number; got {text}")
    return value


def float_list(text: str) -> list:
    """Comma-separated positive numbers: ``1e-3,1e-2,0.1``."""
    return [positive_float(t) for t in text.split(",") if t.strip()]


def name_list(text: str) -> list:
    """Comma-separated names: ``sgd,adam``."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError("must name at least one")
    return names


def unknown_names(names, known, what: str = "experiment") -> str | None:
    """None when every name is known; else the one-line message, with the closest known name
    ("did you mean gd-rates?") for each unknown one."""
    known = list(known)
    bad = [n for n in names if n not in known]
    if not bad:
        return None
    parts = []
    for n in bad:
        close = difflib.get_close_matches(n, known, n=1, cutoff=0.5)
        parts.append(f"{n!r}" + (f" (did you mean {close[0]}?)" if close else ""))
    return (f"unknown {what}{'s' if len(bad) > 1 else ''}: {', '.join(parts)}; known: "
            f"{', '.join(known) or '(none yet)'}")


def check_out(out) -> str | None:
    """None when ``out`` is (or can be made) a writable folder; else the one-line message."""
    out = pathlib.Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        return f"cannot write to output folder {out}: {exc.strerror or exc}"
    return None
