"""Shared by the site's tests (imported as ``sitetools``): what to do when a tool is missing.

In CI (the environment variable ``CI`` is ``1`` or ``true``; ``.ci/run`` sets it) a missing
tool — the ``docs`` extra's packages, Chromium and its driver — is a failure: CI installs them,
so their absence is a broken set-up. Elsewhere the test is skipped, and the reason names what is
missing and how to install it.
"""
from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(what: str, install: str):
    """Fail (in CI) or skip (elsewhere) because ``what`` is missing; ``install`` says how to
    get it."""
    message = f"{what} is missing ({install})"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def need_module(name: str):
    """Import ``name`` or fail/skip naming it."""
    try:
        return __import__(name)
    except ImportError:
        missing(f"the Python package {name!r}", 'pip install -e ".[docs]"')
