"""``results/report.md``: one short row per claim, the details below, the run's metadata on top.

Each experiment writes ``<out>/<folder>/verdict.json`` (``<folder>``: its name, or ``NAME-large``
for the large size) with at least ``verdict`` (PASS, FAIL or INFO; ERROR when the experiment
raised, INTERRUPTED when its run was stopped) and ``summary``; where it checks a claim also
``claim``, ``bound``, ``measured`` and ``figure`` (a PNG file name in the same folder), and
``decisive``: the one number that decides the verdict and its threshold (``label``, ``value``,
``op``, ``threshold``, recorded by the figure's decisive panel, :mod:`experiments.plotting`).
The command line adds ``meta``: quick or full, seed, backend, size, start and end, duration,
the work done, the fingerprint of the result and the versions it ran with.

The report lists every registered experiment (``not run`` where no verdict is saved), and
every large-size result found:

1. the run's metadata (quick or full, seeds, backend, package version and git commit, dates,
   Python and NumPy versions, durations), summarised over the saved verdicts;
2. the table: the claim in a line, the verdict, the decisive number against its threshold and
   a link to the details;
3. the counts, then one section per experiment: the claim in full, the bound, the measured
   figures, how it ran, the figure; where the experiment is judged by a rule
   (:mod:`experiments.protocol`), one line per condition with its measured value and whether
   it held (controls marked).
"""
from __future__ import annotations

import collections
import json
import pathlib

from experiments import atomic, runinfo
from experiments.state import CODE_FIELDS, changed

__all__ = ["collect", "decisive_text", "entries", "write_report"]

CLAIM_WIDTH = 110
STATUSES = ("PASS", "FAIL", "INFO", "ERROR", "INTERRUPTED", "NOT RUN")


def _cell(text) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def one_line(text, width: int = CLAIM_WIDTH) -> str:
    """``text`` on one line, cut at a word boundary to at most ``width`` characters."""
    text = " ".join(str(text or "").split())
    if len(text) <= width:
        return text
    cut = text[:width - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def _numbers(value, threshold) -> tuple:
    """The two numbers in short form, with as many digits as it takes (up to 12) to show
    them apart when they differ."""
    from experiments.common import fmt

    if not all(isinstance(x, (int, float)) and not isinstance(x, bool)
               for x in (value, threshold)):
        return str(value), str(threshold)
    for digits in range(4, 13):
        a, b = fmt(value, digits), fmt(threshold, digits)
        if a != b or value == threshold:
            break
    return a, b


def decisive_text(d: dict | None) -> str:
    """``label: value op threshold`` of a verdict's ``decisive`` entry ('' when there is none)."""
    if not d:
        return ""
    value, threshold = _numbers(d.get("value"), d.get("threshold"))
    return f"{d.get('label', 'measured')}: {value} {d.get('op', '')} {threshold}".rstrip()


def collect(out_dir) -> list:
    """The verdicts found under ``out_dir``, sorted by folder name."""
    rows = []
    for path in sorted(pathlib.Path(out_dir).glob("*/verdict.json")):
        try:
            v = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        v.setdefault("name", path.parent.name)
        v["folder"] = path.parent.name  # NAME, or NAME-large for a --size large run
        rows.append(v)
    return rows


def entries(out_dir, experiments=None) -> list:
    """One entry per registered experiment and per saved result (a dict like a verdict, with
    ``status`` and, for a saved result whose code changed since, ``stale``)."""
    if experiments is None:
        from experiments.registry import all_experiments

        experiments = all_experiments()
    found = {v["folder"]: v for v in collect(out_dir)}
    out = []
    for name, exp in experiments.items():
        if name not in found:
            out.append({"name": name, "folder": name, "claim": exp.claim, "verdict": "NOT RUN",
                        "summary": "not run yet"})
    for folder, v in found.items():
        exp = experiments.get(v["name"])
        if exp is not None:
            v.setdefault("claim", exp.claim)
            fp = runinfo.fingerprint(exp, size=v.get("size", "default"),
                                     quick=bool(v.get("quick")), seed=int(v.get("seed") or 0),
                                     backend=v.get("backend", "numpy"))
            if v.get("verdict") not in ("INTERRUPTED", "ERROR"):
                v["stale"] = changed(v, fp, CODE_FIELDS)
        out.append(v)
    return sorted(out, key=lambda v: v["folder"])


def _shown_name(v) -> str:
    size = v.get("size", "default")
    return v["name"] if size == "default" else f"{v['name']} (size {size})"


def _tally(values) -> str:
    counts = collections.Counter(str(x) for x in values if x is not None)
    if not counts:
        return "n/a"
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{k} ({n})" for k, n in sorted(counts.items(), key=lambda kn: (-kn[1],
                                                                                kn[0])))


def _metadata(ran: list) -> list:
    metas = [v.get("meta") or {} for v in ran]
    envs = [m.get("environment") or {} for m in metas]
    dates = sorted(d for m in metas for d in (m.get("started"), m.get("finished")) if d)
    seconds = [float(v["seconds"]) for v in ran if isinstance(v.get("seconds"), (int, float))]
    rows = [("budget", _tally("quick" if v.get("quick") else "full" for v in ran
                              if "quick" in v)),
            ("seed", _tally(v.get("seed") for v in ran)),
            ("backend", _tally(v.get("backend") for v in ran)),
            ("package", _tally(f"{e['package']} {e['package_version']}" for e in envs
                               if e.get("package"))),
            ("git commit", _tally(e.get("git_commit") or "not a git checkout" for e in envs
                                  if e)),
            ("dates (UTC)", f"{dates[0]} to {dates[-1]}" if dates else "n/a"),
            ("Python", _tally(e.get("python") for e in envs)),
            ("NumPy", _tally(e.get("numpy") for e in envs)),
            ("duration", f"{sum(seconds):.1f} s of experiment time in all, the longest "
                         f"{max(seconds):.1f} s" if seconds else "n/a")]
    lines = ["| run | |", "| --- | --- |"]
    lines += [f"| {k} | {_cell(val)} |" for k, val in rows]
    return lines


def _details(v) -> list:
    lines = [f"### {v['folder']}", ""]
    status = v.get("verdict", "?")
    decisive = decisive_text(v.get("decisive"))
    lines.append(f"**Verdict: {status}.** " + (f"Decided by {decisive}. " if decisive else "")
                 + _cell(v.get("summary", "")))
    lines += ["", f"**Claim.** {_cell(v.get('claim'))}"]
    if v.get("bound"):
        lines += ["", f"**Bound checked.** {_cell(v['bound'])}"]
    checks = [c for c in v.get("checks") or () if isinstance(c, dict)]  # older runs: bools
    if checks:
        lines += ["", "**Checks** (every condition of the rule in force, as applied):", ""]
        for c in checks:
            value, _ = _numbers(c.get("value"), c.get("threshold"))
            role = " (control)" if c.get("role") == "control" else ""
            lines.append(f"- {_cell(c.get('condition'))}{role}: measured {value}, "
                         f"{'holds' if c.get('passed') else '**fails**'}")
    if v.get("measured") and v.get("measured") != v.get("summary"):
        lines += ["", f"**Measured.** {_cell(v['measured'])}"]
    meta = v.get("meta") or {}
    if status != "NOT RUN":
        how = [("quick" if v.get("quick") else "full") if "quick" in v else None,
               f"seed {v['seed']}" if "seed" in v else None,
               f"backend {v['backend']}" if v.get("backend") else None,
               f"{v['seconds']} s" if v.get("seconds") is not None else None,
               f"started {meta['started']}" if meta.get("started") else None,
               f"{meta['work']['reverse_passes']} gradient passes"
               if (meta.get("work") or {}).get("reverse_passes") is not None else None,
               f"{meta['work']['value_evaluations']} value-only evaluations"
               if (meta.get("work") or {}).get("value_evaluations") else None]
        lines += ["", "**Run.** " + ", ".join(h for h in how if h) + "."]
    if v.get("stale"):
        lines += ["", "**Stale:** the experiment's code changed since this run ("
                  + ", ".join(v["stale"]) + "); `run --resume` runs it again."]
    previous = v.get("previous")
    if status in ("INTERRUPTED", "ERROR") and previous:
        lines += ["", f"**Previous result:** {previous.get('verdict', '?')}, "
                      f"{_cell(one_line(previous.get('summary', ''), 200))}"]
    if status == "ERROR" and v.get("traceback"):
        tail = v["traceback"].strip().splitlines()[-12:]
        lines += ["", "```text", *tail, "```"]
    if v.get("figure") and status not in ("NOT RUN", "INTERRUPTED"):
        lines += ["", f"![{v['folder']}]({v['folder']}/{v['figure']})"]
    return lines + [""]


def write_report(out_dir, experiments=None) -> pathlib.Path:
    """Write ``out_dir/report.md`` (atomically) from the verdict files; return its path."""
    out_dir = pathlib.Path(out_dir)
    rows = entries(out_dir, experiments)
    ran = [v for v in rows if v.get("verdict") != "NOT RUN"]
    lines = ["# Experiments report", "",
             "Each row is a claim of the lectures checked on a real run "
             "(`python -m experiments run NAME`); the details of each are below the table.", ""]
    lines += _metadata(ran) + [""]
    lines += ["| experiment | claim | verdict | decided by | details |",
              "| --- | --- | --- | --- | --- |"]
    for v in rows:
        status = v.get("verdict", "?")
        decided = decisive_text(v.get("decisive")) or one_line(v.get("summary", ""), 80)
        if v.get("stale"):
            decided += " (stale)"
        lines.append("| " + " | ".join(_cell(c) for c in (
            _shown_name(v), one_line(v.get("claim")), f"**{status}**", decided))
            + f" | [details](#{v['folder']}) |")
    counts = collections.Counter(v.get("verdict") for v in rows)
    shown = {"INTERRUPTED": "interrupted", "NOT RUN": "not run"}
    lines += ["", ", ".join(f"{counts.get(k, 0)} {shown.get(k, k)}" for k in STATUSES)
              + f" (of {len(rows)} experiments).", "", "## Details", ""]
    for v in rows:
        lines += _details(v)
    return atomic.write_text(out_dir / "report.md", "\n".join(lines))
