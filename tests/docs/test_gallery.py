"""The experiments gallery: one card per registered experiment, built from the saved results in
docs/results/; a FAIL keeps its explanation; every figure it shows exists; saved results that
disagree with the registry stop the build."""
from __future__ import annotations

import json
import re
import shutil

import pytest
import sitegen

pytestmark = pytest.mark.host_only

gen = sitegen.load()
gallery, refs, urls = gen.gallery, gen.refs, gen.urls

CARD = re.compile(r'<div class="gallery-card gallery-(\w+)" id="([a-z0-9-]+)">(.*?)\n</div>',
                  re.S)


@pytest.fixture(scope="module")
def page():
    return gallery.render()


def _cards(text):
    return {m.group(2): (m.group(1), m.group(3)) for m in CARD.finditer(text)}


def test_the_registry_read_from_the_sources_is_the_registry():
    """The gallery reads the experiments' names from their ``@register`` decorators (without
    importing them); the registry itself, imported, has the same names and modules."""
    from experiments.registry import all_experiments

    registered = all_experiments()
    assert refs.registered_experiments() == {
        name: exp.run.__module__.replace(".", "/") + ".py" for name, exp in registered.items()}


def test_one_card_per_registered_experiment(page):
    cards = _cards(page)
    assert sorted(cards) == sorted(refs.experiment_names())
    assert len(cards) == page.count('class="gallery-card ')


def test_every_card_shows_an_existing_figure_and_its_verdict(page):
    for name, (cls, body) in _cards(page).items():
        verdict = json.loads((gallery.results_dir() / name / "verdict.json").read_text())
        imgs = re.findall(r'<img src="([^"]+)"', body)
        assert len(imgs) == 1, name
        site_path = urls.resolve_href(gallery.PAGE, imgs[0])
        assert (sitegen.ROOT / "docs" / site_path).is_file(), (name, imgs[0])
        assert site_path == f"results/{name}/{verdict['figure']}"
        assert cls == verdict["verdict"].lower()
        assert f'gallery-verdict-{cls}">{verdict["verdict"]}</span>' in body
        assert "Claim." in body and "Lecture." in body
        budget = "quick budget" if verdict["quick"] else "full budget"
        assert f"{budget} (--quick), seed {verdict['seed']}" in body or (
            not verdict["quick"] and f"full budget, seed {verdict['seed']}" in body)


def test_the_fail_card_keeps_its_explanation(page):
    cards = _cards(page)
    fails = [n for n, (cls, _) in cards.items() if cls == "fail"]
    assert fails, "the saved results hold the FAIL of curvature-sharpness"
    for name in fails:
        body = cards[name][1]
        verdict = json.loads((gallery.results_dir() / name / "verdict.json").read_text())
        assert "Why it fails." in body
        assert gallery._esc(verdict["summary"]) in body
        assert gallery._esc(verdict["measured"]) in body
        assert '<details class="gallery-numbers" open>' in body


def _results(tmp_path, verdicts):
    for name, verdict in verdicts.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "verdict.json").write_text(json.dumps(verdict))
        if verdict.get("figure"):
            (tmp_path / name / verdict["figure"]).write_bytes(b"\x89PNG")
    return tmp_path


MAP = ("| [[experiment:a-claim]] | L1, the slide | [page](experiments/sgd.md) |\n"
       "| [[experiment:b-claim]] | L0, $\\alpha$ and `code` | [page](experiments/adam.md) |\n")


def _verdict(name, verdict, **kw):
    out = dict(name=name, verdict=verdict, claim=f"the claim of {name}", summary="the summary",
               bound="the rule", measured="the numbers", figure=f"{name}.png", quick=True,
               seed=0, backend="numpy")
    return {**out, **kw}


def test_a_fail_is_shown_like_a_pass_with_its_reason(tmp_path):
    results = _results(tmp_path, {"a-claim": _verdict("a-claim", "PASS"),
                                  "b-claim": _verdict("b-claim", "FAIL",
                                                      summary="the step 0.36x, not 2x")})
    cards = _cards(gallery.render(results, registered=["a-claim", "b-claim"], map_text=MAP))
    assert cards["a-claim"][0] == "pass" and cards["b-claim"][0] == "fail"
    fail, ok = cards["b-claim"][1], cards["a-claim"][1]
    assert "Why it fails." in fail and "the step 0.36x, not 2x" in fail and "the numbers" in fail
    assert '<span class="arithmatex">\\(\\alpha\\)</span>' in fail and "<code>code</code>" in fail
    # the same elements in the same order on both cards, only the verdict differs
    tags = [re.sub(r'gallery-(pass|fail)|verdict-(pass|fail)|>[^<]*<', "", t)
            for t in (fail, ok)]
    assert re.findall(r"<(\w+)", tags[0]) == re.findall(r"<(\w+)", tags[1])


@pytest.mark.parametrize("problem", ["missing", "extra", "no figure", "no map row"])
def test_results_that_disagree_with_the_registry_stop_the_build(tmp_path, problem):
    verdicts = {"a-claim": _verdict("a-claim", "PASS"), "b-claim": _verdict("b-claim", "PASS")}
    registered = ["a-claim", "b-claim"]
    map_text = MAP
    if problem == "missing":
        del verdicts["b-claim"]
    elif problem == "extra":
        registered = ["a-claim"]
    elif problem == "no map row":
        map_text = MAP.splitlines()[0] + "\n"
    results = _results(tmp_path, verdicts)
    if problem == "no figure":
        (results / "b-claim" / "b-claim.png").unlink()
    with pytest.raises(gallery.GalleryError):
        gallery.render(results, registered=registered, map_text=map_text)


def test_the_saved_results_are_runs_of_the_registered_experiments():
    for name in refs.experiment_names():
        verdict = json.loads((gallery.results_dir() / name / "verdict.json").read_text())
        assert verdict["name"] == name
        assert verdict["verdict"] in ("PASS", "FAIL", "INFO")
        needed = {"claim", "summary", "figure", "quick", "seed", "backend", "seconds"}
        assert needed <= set(verdict)


def test_a_result_filed_under_another_name_is_refused(tmp_path):
    results = _results(tmp_path, {"a-claim": _verdict("a-claim", "PASS")})
    shutil.move(results / "a-claim", results / "b-claim")
    with pytest.raises(gallery.GalleryError):
        gallery.load(results)
