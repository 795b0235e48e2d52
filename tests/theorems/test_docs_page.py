"""docs/theorems.md cannot go stale: every ``python`` block of the page runs, in order, in one
namespace, and the ``text`` block that follows a ``python`` block is exactly what it printed."""
import contextlib
import io
import pathlib
import re

PAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "theorems.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def blocks():
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(PAGE.read_text())]


def test_the_page_has_its_example_and_its_outputs():
    kinds = [k for k, _ in blocks()]
    assert kinds.count("python") >= 5 and kinds.count("text") >= 4
    first = blocks()[0][1]
    assert "GD_STRONGLY_CONVEX" in first and "def my_gd" in first


def test_every_code_block_of_the_page_runs_and_prints_what_the_page_shows():
    namespace = {"__name__": "docs_theorems"}
    printed = None
    for kind, text in blocks():
        if kind == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(text, f"{PAGE.name} block", "exec"), namespace)
            printed = out.getvalue()
        elif kind == "text":
            assert printed is not None, "a text block with no python block before it"
            assert printed == text, f"the page shows:\n{text}\nthe code prints:\n{printed}"
            printed = None
