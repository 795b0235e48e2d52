"""The formula map (docs/lectures.md) cannot rot: every reference resolves, every link lands
on the line it names, and every public optimizer, schedule and problem is on the map.

The line checks read the files as text, independently of the resolver (which uses ``ast``):
the line a link names must start with ``class Name`` / ``def name`` / ``name =``.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import posixpath
import re

import pytest
import sitegen

pytestmark = pytest.mark.host_only

gen = sitegen.load()
refs, formula_map, urls = gen.refs, gen.formula_map, gen.urls


@pytest.fixture(scope="module")
def references():
    return formula_map.references()


@pytest.fixture(scope="module")
def targets(references):
    return {ref: refs.resolve(ref) for ref in references}


@pytest.fixture(scope="module")
def all_pages():
    return gen.pages.pages()


def names_line(path: str, line: int, name: str, kind: str) -> bool:
    """Whether line ``line`` of ``path`` (read as text) defines ``name``."""
    text = sitegen.file_lines(path)[line - 1].strip()
    if kind == "class":
        return re.match(rf"class {re.escape(name)}\b", text) is not None
    if kind in ("function", "test"):
        return re.match(rf"(async )?def {re.escape(name)}\(", text) is not None
    return re.match(rf"{re.escape(name)}\s*(:|=)", text) is not None


def test_the_map_has_references_and_every_one_resolves(references, targets):
    assert len(references) > 250
    assert set(targets) == set(references)
    formula_map.render()  # what the build runs: raises on a reference that does not resolve


def test_every_anchor_names_the_line_that_defines_the_object(targets):
    wrong = []
    for ref, t in targets.items():
        if t.kind == "experiment":
            continue
        assert (sitegen.ROOT / t.path).is_file(), ref
        if t.kind in ("module", "file"):
            assert t.line == 1, ref
            continue
        name = ref.split("::")[-1].split(".")[-1]
        if t.kind != "test" and t.label.split(".")[-1] != name:
            name = t.label.split(".")[-1]  # an alias (SGDR = CosineWarmRestarts): its class
        if not names_line(t.path, t.line, name, t.kind):
            wrong.append(f"{ref}: {t.path}:{t.line}")
    assert wrong == []


def test_the_line_check_can_fail(targets):
    t = targets["optimizers.sgd.Momentum"]
    assert names_line(t.path, t.line, "Momentum", "class")
    assert not names_line(t.path, t.line + 1, "Momentum", "class")
    assert not names_line(t.path, t.line, "SGD", "class")
    u = targets["optimizers.sgd.Momentum._update"]
    assert names_line(u.path, u.line, "_update", "function")
    assert not names_line(u.path, u.line - 1, "_update", "function")


def test_a_link_of_the_map_lands_on_the_line_of_the_source_page(all_pages):
    """Each ``code/<path>.md#L<n>`` link of the generated map: that page is generated, it has
    the element ``L<n>``, and that element holds line ``n`` of the file."""
    text = all_pages["lectures.md"]
    links = re.findall(r"\]\((code/[^)#]+\.md)(?:#L(\d+))?\)", text)
    assert len(links) > 250
    for page, line in links:
        assert page in all_pages, page
        lines = sitegen.source_page_lines(all_pages[page])
        path = page[len("code/"):-len(".md")] + ".py"
        source = sitegen.file_lines(path)
        assert lines[1] == source[0]
        if line:
            assert lines[int(line)] == source[int(line) - 1], (page, line)
    experiments = re.findall(r"\]\(gallery\.md#([a-z0-9-]+)\)", text)
    assert experiments and set(experiments) <= set(refs.experiment_names())


def test_every_generated_link_to_a_source_page_has_its_target(all_pages):
    """All generated pages (map, literate pages, gallery): every link into ``code/`` points at
    a generated page and, with ``#L<n>``, at one of its lines."""
    seen = 0
    for src, text in all_pages.items():
        for link in re.findall(r'(?:href="|\]\()([^")#]*code/[^")#]*)(?:#L(\d+))?', text):
            target, line = link
            if target.endswith(".md"):
                page = posixpath.normpath(posixpath.join(posixpath.dirname(src), target))
            else:
                site_path = urls.resolve_href(src, target)
                page = site_path.rstrip("/") + ".md"
            assert page in all_pages, (src, target)
            if line:
                assert int(line) in sitegen.source_page_lines(all_pages[page]), (src, link)
            seen += 1
    assert seen > 1000


def test_every_module_of_the_packages_has_a_source_page(all_pages):
    for package in ("minigrad", "optimizers", "schedules", "problems"):
        for path in (sitegen.ROOT / package).rglob("*.py"):
            rel = path.relative_to(sitegen.ROOT).as_posix()
            assert f"code/{rel[:-3]}.md" in all_pages, rel


def _optimizer_classes():
    from optimizers.base import Optimizer

    modules = [importlib.import_module("optimizers")]
    for sub in ("optimizers.second_order", "optimizers.zero_order"):
        pkg = importlib.import_module(sub)
        modules += [importlib.import_module(f"{sub}.{m.name}")
                    for m in pkgutil.iter_modules(pkg.__path__)]
    names = set()
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, Optimizer):
                names.add(name)
    return names


def _problem_classes():
    import problems
    from problems.base import Problem

    return {n for n in problems.__all__
            if inspect.isclass(getattr(problems, n)) and issubclass(getattr(problems, n), Problem)}


def _schedules():
    import schedules

    return set(schedules.__all__)


@pytest.mark.parametrize("public", [_optimizer_classes, _schedules, _problem_classes],
                         ids=["optimizers", "schedules", "problems"])
def test_every_public_name_is_on_the_map(public, references):
    named = {r.split(".")[-1] for r in references if "/" not in r and ":" not in r}
    expected = public()
    assert len(expected) > 30
    assert sorted(expected - named) == []


def test_a_reference_that_does_not_resolve_fails_the_build():
    for bad in ("optimizers.sgd.Nope", "optimizers.sgd.Momentum.nope", "nomodule.x",
                "tests/optimizers/test_optim_first_steps.py::test_nope",
                "tests/no_such_file.py", "experiment:no-such-experiment",
                "docs/../../outside.py"):
        with pytest.raises(refs.RefError):
            formula_map.render(f"| x | [[{bad}]] | y |\n")


def test_references_in_comments_are_not_read_and_comments_are_not_published():
    text = "<!-- [[optimizers.sgd.Nope]] -->\n| x | [[optimizers.sgd.SGD]] |\n"
    assert formula_map.references(text) == ["optimizers.sgd.SGD"]
    out = formula_map.render(text)
    assert "Nope" not in out and "<!--" not in out
    assert "](code/optimizers/sgd.md#L" in out


def test_the_lecture_labels_keep_their_table_at_the_top():
    text = formula_map.source_text()
    labels = text.index("## The lectures")
    assert labels < text.index("## 0.")
    table = text[labels:text.index("## 0.")]
    for label in ("L0", "L1", "L2", "L3", "L4"):
        assert f"| **{label}** |" in table


def test_every_registered_experiment_has_a_row_in_section_10():
    lectures = formula_map.experiment_lectures()
    assert sorted(lectures) == sorted(refs.experiment_names())
    assert all(v for v in lectures.values())
