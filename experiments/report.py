"""``results/report.md``: one row per claim, from the verdict files the experiments wrote.

Each experiment writes ``<out>/<name>/verdict.json`` with at least ``verdict`` (PASS, FAIL or
INFO; ERROR when the experiment raised, written by the command line) and ``summary``; where it
checks a claim also ``claim``, ``bound`` and ``measured``, and
``figure`` (a PNG file name in the same folder).
"""
from __future__ import annotations

import json
import pathlib


def _cell(text) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def collect(out_dir) -> list:
    """The verdicts found under ``out_dir``, sorted by experiment name."""
    rows = []
    for path in sorted(pathlib.Path(out_dir).glob("*/verdict.json")):
        v = json.loads(path.read_text())
        v.setdefault("name", path.parent.name)
        v["folder"] = path.parent.name  # NAME, or NAME-large for a --size large run
        rows.append(v)
    return rows


def write_report(out_dir) -> pathlib.Path:
    """Write ``out_dir/report.md`` from the verdict files; return its path."""
    out_dir = pathlib.Path(out_dir)
    rows = collect(out_dir)
    lines = ["# Experiments report", "",
             "Each row is a claim of the lectures checked on a real run "
             "(`python -m experiments run NAME`).", "",
             "| experiment | claim | bound | measured | verdict | figure |",
             "| --- | --- | --- | --- | --- | --- |"]
    for v in rows:
        fig = v.get("figure")
        fig_cell = f"[{fig}]({v['folder']}/{fig})" if fig else ""
        size = v.get("size", "default")
        name = v["name"] if size == "default" else f"{v['name']} (size {size})"
        lines.append("| " + " | ".join(_cell(c) for c in (
            name, v.get("claim"), v.get("bound"), v.get("measured", v.get("summary")),
            f"**{v.get('verdict', '?')}**")) + f" | {fig_cell} |")
    counts = {k: sum(v.get("verdict") == k for v in rows)
              for k in ("PASS", "FAIL", "INFO", "ERROR")}
    lines += ["", f"{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['INFO']} INFO, "
              f"{counts['ERROR']} ERROR "
              f"(of {len(rows)} experiments).", ""]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines))
    return path
