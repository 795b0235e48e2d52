"""The experiments gallery: one card per registered experiment, from saved results.

The saved results are ``docs/results/<name>/verdict.json`` (the file the experiment's run
wrote) and the figure it names. A card shows the figure, the claim, the lectures it comes
from (section 10 of the formula map), the verdict with its one-line summary (a FAIL in the
same place and size as a PASS, with the reason the run gives), the rule and the measured
figures that decide it, and which budget (quick or full), seed and backend produced it.
A registered experiment without saved results, a saved result of no registered experiment,
or a figure that is missing raises :class:`GalleryError`: the gallery cannot fall behind the
registry.
"""
from __future__ import annotations

import html
import json
import pathlib
import re

from . import formula_map, refs, urls

PAGE = "gallery.md"
RESULTS = "results"  # under docs/


class GalleryError(LookupError):
    """The saved results and the registry disagree."""


def results_dir() -> pathlib.Path:
    return refs.ROOT / "docs" / RESULTS


def load(results: pathlib.Path | None = None) -> dict[str, dict]:
    """The saved verdicts, by experiment name."""
    results = results_dir() if results is None else results
    out = {}
    for path in sorted(results.glob("*/verdict.json")):
        verdict = json.loads(path.read_text(encoding="utf-8"))
        name = verdict.get("name", path.parent.name)
        if name != path.parent.name:
            raise GalleryError(f"{path}: the verdict is of {name!r}, not {path.parent.name!r}")
        out[name] = verdict
    return out


def _md_inline(text: str, page: str, directory_urls: bool) -> str:
    """A Markdown fragment (code, math, links) as HTML, for a card (raw HTML)."""
    out, pos = [], 0
    pattern = re.compile(r"\$([^$]+)\$|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)")
    for m in pattern.finditer(text):
        out.append(html.escape(text[pos:m.start()], quote=False))
        if m.group(1) is not None:
            out.append('<span class="arithmatex">\\(' + html.escape(m.group(1), quote=False)
                       + "\\)</span>")
        elif m.group(2) is not None:
            out.append("<code>" + html.escape(m.group(2), quote=False) + "</code>")
        else:
            target, _, anchor = m.group(4).partition("#")
            out.append(f'<a href="{html.escape(urls.href(page, target, anchor, directory_urls))}"'
                       f">{html.escape(m.group(3), quote=False)}</a>")
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def _pages(text: str | None = None) -> dict[str, str]:
    """Section 10's third column: experiment name -> the docs page that reports it."""
    out = {}
    for line in (formula_map.source_text() if text is None else text).splitlines():
        m = re.match(r"\|\s*\[\[experiment:([a-z0-9-]+)\]\].*\]\(([^)#]+\.md)[^)]*\)\s*\|\s*$",
                     line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _esc(value) -> str:
    return html.escape(str(value), quote=False)


def card(name: str, verdict: dict, lectures: str, report_page: str | None, source: str | None,
         figure_src: str, directory_urls: bool = True) -> str:
    """The HTML of one card."""
    v = str(verdict.get("verdict", "?")).upper()
    cls = {"PASS": "pass", "FAIL": "fail", "INFO": "info"}.get(v, "error")
    budget = "quick budget (--quick)" if verdict.get("quick") else "full budget"
    img = urls.href(PAGE, figure_src, "", directory_urls)
    parts = [f'<div class="gallery-card gallery-{cls}" id="{_esc(name)}">',
             f'<div class="gallery-head"><span class="gallery-name">{_esc(name)}</span>'
             f'<span class="gallery-verdict gallery-verdict-{cls}">{_esc(v)}</span></div>',
             f'<a href="{html.escape(img)}"><img src="{html.escape(img)}" '
             f'alt="{_esc(name)}: the figure of the run" loading="lazy"></a>',
             f'<p class="gallery-claim"><strong>Claim.</strong> {_esc(verdict.get("claim", ""))}'
             f'</p>',
             f'<p class="gallery-lecture"><strong>Lecture.</strong> '
             f'{_md_inline(lectures, PAGE, directory_urls)}</p>',
             f'<p class="gallery-summary"><strong>{"Why it fails" if v == "FAIL" else "Verdict"}'
             f'.</strong> <span class="gallery-verdict-word">{_esc(v)}</span>: '
             f'{_esc(verdict.get("summary", ""))}</p>']
    details = []
    if verdict.get("bound"):
        details.append(f'<p><strong>Rule.</strong> {_esc(verdict["bound"])}</p>')
    if verdict.get("measured"):
        details.append(f'<p><strong>Measured.</strong> {_esc(verdict["measured"])}</p>')
    if details:
        opened = " open" if v != "PASS" else ""
        parts.append(f'<details class="gallery-numbers"{opened}><summary>The figures that '
                     f'decide it</summary>{"".join(details)}</details>')
    seconds = verdict.get("seconds")
    took = f", {seconds:.0f} s" if isinstance(seconds, (int, float)) else ""
    parts.append(f'<p class="gallery-budget">{_esc(budget)}, seed {_esc(verdict.get("seed", "?"))}'
                 f', {_esc(verdict.get("backend", "?"))} backend{took}</p>')
    links = []
    if report_page:
        links.append(f'<a href="{html.escape(urls.href(PAGE, report_page, "", directory_urls))}'
                     f'">the experiment\'s page</a>')
    if source:
        code = urls.href(PAGE, urls.code_page(source), "", directory_urls)
        links.append(f'<a href="{html.escape(code)}">'
                     f'its source</a>')
    if links:
        parts.append('<p class="gallery-links">' + " · ".join(links) + "</p>")
    parts.append("</div>")
    return "\n".join(parts)


def experiment_sources() -> dict[str, str]:
    """Registered experiment name -> the repository path of its module."""
    return refs.registered_experiments()


def render(results: pathlib.Path | None = None, registered=None, map_text: str | None = None,
           directory_urls: bool = True, results_src: str = RESULTS) -> str:
    """The Markdown of the gallery page. ``registered`` (names; default: the registry),
    ``results`` (a folder of ``<name>/verdict.json``) and ``map_text`` (the formula map's
    source) are for tests."""
    results = results_dir() if results is None else pathlib.Path(results)
    sources = dict(experiment_sources()) if registered is None else {n: None for n in registered}
    verdicts = load(results)
    missing = sorted(set(sources) - set(verdicts))
    extra = sorted(set(verdicts) - set(sources))
    if missing or extra:
        raise GalleryError(f"saved results under {results} and the registry disagree: "
                           f"no results for {missing}; results of no experiment {extra}")
    lectures = formula_map.experiment_lectures(map_text)
    pages = _pages(map_text)
    unmapped = sorted(set(sources) - set(lectures))
    if unmapped:
        raise GalleryError(f"experiments without a row in section 10 of docs/lectures.md: "
                           f"{unmapped}")
    counts = {k: sum(str(v.get("verdict")).upper() == k for v in verdicts.values())
              for k in ("PASS", "FAIL", "INFO")}
    budgets = sorted({"quick" if v.get("quick") else "full" for v in verdicts.values()})
    cards = []
    for name in sorted(sources):
        verdict = verdicts[name]
        figure = verdict.get("figure")
        if not figure or not (results / name / figure).is_file():
            raise GalleryError(f"{name}: the figure {figure!r} named by its verdict.json is "
                               f"not in {results / name}")
        cards.append(card(name, verdict, lectures[name], pages.get(name), sources[name],
                          f"{results_src}/{name}/{figure}", directory_urls))
    head = ["---", "hide:", "  - toc", "---", "", "# Experiments gallery", "",
            "[Back to the index](index.md)", "",
            "One card per experiment: the claim it checks, the lecture it comes from, its "
            "figure, and the verdict with the figures that decide it. A FAIL is a result and "
            "stays on its card with the reason the run gives. The cards are built from the "
            "saved results in `docs/results/` (each experiment's `verdict.json` and figure, "
            "as `python -m experiments run` wrote them); the budget on each card "
            "says which run produced it. The full runs, their discussion and earlier rules "
            "are on the [experiments pages](experiments.md).", "",
            f"{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['INFO']} INFO of "
            f"{len(cards)} experiments ({', '.join(budgets)} budget).", "",
            '<div class="gallery">']
    return "\n".join(head + cards + ["</div>", ""])
