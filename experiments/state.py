"""The state of a saved result, for ``run --resume`` and the report.

A result is one of:

* ``missing``: no ``verdict.json``;
* ``interrupted``: its run was stopped (verdict ``INTERRUPTED``);
* ``error``: the experiment raised (verdict ``ERROR``);
* ``stale``: its fingerprint (:func:`experiments.runinfo.fingerprint`) differs from the one a new
  run would have: another budget (quick or full), seed, backend, package version, or the
  experiment's module changed; a result from before fingerprints were recorded is stale too;
* ``done``: none of these; ``--resume`` keeps it.
"""
from __future__ import annotations

__all__ = ["changed", "state_of"]

CODE_FIELDS = ("package_version", "source")


def changed(verdict: dict, fingerprint: dict, fields=None) -> list:
    """The fields (of ``fields``, default all) where the saved fingerprint differs from
    ``fingerprint``; ``["fingerprint"]`` when the verdict has none."""
    saved = (verdict.get("meta") or {}).get("fingerprint")
    if not isinstance(saved, dict):
        return ["fingerprint"]
    return [k for k in (fields or fingerprint) if saved.get(k) != fingerprint.get(k)]


def state_of(verdict: dict | None, fingerprint: dict) -> str:
    """``missing``, ``interrupted``, ``error``, ``stale`` or ``done`` (module docstring)."""
    if verdict is None:
        return "missing"
    if verdict.get("verdict") == "INTERRUPTED":
        return "interrupted"
    if verdict.get("verdict") == "ERROR":
        return "error"
    return "stale" if changed(verdict, fingerprint) else "done"
