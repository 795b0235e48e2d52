"""What a result was computed with: the environment of a run and the fingerprint of a result.

* :func:`environment`: the package version, its git commit where the package is a git checkout
  (with ``dirty`` when it has uncommitted changes), the Python, NumPy and platform versions;
* :func:`fingerprint`: everything a result depends on that a user can change (the experiment,
  its size, quick or full, seed, backend, the package version and the source of the experiment's
  module). ``--resume`` reruns a result whose fingerprint differs from the one a new run would
  have: it is *stale*;
* :func:`now`: the current time as an ISO 8601 string (UTC, seconds).
"""
from __future__ import annotations

import datetime
import functools
import hashlib
import pathlib
import platform
import subprocess
import sys

__all__ = ["environment", "fingerprint", "now", "package_version", "source_digest"]

PACKAGE = "minigrad-optim"


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@functools.lru_cache(maxsize=1)
def package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the checkout the package runs from (``+dirty`` with uncommitted changes),
    or None (an installed copy, no git, or a failure of any kind)."""
    root = pathlib.Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def environment() -> dict:
    """The versions a run used (JSON-ready)."""
    import numpy

    return {"package": PACKAGE, "package_version": package_version(), "git_commit": git_commit(),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "platform": platform.platform(terse=True)}


def source_digest(module_name: str) -> str | None:
    """The first 16 hex digits of the SHA-256 of a module's source file (None if it has none)."""
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if not path:
        return None
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()[:16]


def fingerprint(exp, *, size: str, quick: bool, seed: int, backend: str) -> dict:
    """The fingerprint of the result of experiment ``exp`` (a registry entry) for these options."""
    return {"name": exp.name, "size": size, "quick": bool(quick), "seed": int(seed),
            "backend": backend, "package_version": package_version(),
            "source": source_digest(exp.run.__module__)}
