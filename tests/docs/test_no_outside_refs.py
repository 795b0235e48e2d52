"""Nothing in the repository refers to a path outside it.

Every file of the working tree that git tracks or would track (``git ls-files --cached
--others --exclude-standard``: new files count before they are committed) is read as text
(binary files are skipped) and checked for

* absolute paths of a machine (a work folder, temporary files, home folders) and the names of
  the specification files that live outside the repository (their folder and the formula and
  design notes): the pattern ``FORBIDDEN``;
* in Markdown and HTML files, every relative link and image (``[text](target)``,
  ``[label]: target``, ``src=`` / ``href=``): the target, resolved from the file's folder, must
  stay inside the repository and exist. Code spans, fenced code and formulas are not links
  and are left out. Pages that the site generates at build time (``docs/gen_pages.py``) do not
  exist in the tree; links to them are checked by the strict build of ``tests/docs/test_site.py``
  instead. URLs with a scheme (``https:``, ``mailto:``) are not paths.

The patterns below are written so that this file does not match them itself.
"""
from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import urllib.parse

import pytest

pytestmark = pytest.mark.host_only

ROOT = pathlib.Path(__file__).resolve().parents[2]

#: absolute paths of a machine, and the specification that stays outside the repository
FORBIDDEN = re.compile(
    r"(?<![\w.-])(?:/wor[k]/|/tm[p]/|/hom[e]/|/roo[t]/|/User[s]/)"  # absolute machine paths
    r"|(?<![\w-])share[d]/"                                       # their folder
    r"|FORMULAS\.md|DESIGN\.md")

#: where the site's generated pages go (docs/gen_pages.py writes them at build time)
GENERATED = ("docs/literate/", "docs/code/", "docs/gallery.md")

_FENCE = re.compile(r"^( {0,3})(```|~~~).*?^\1\2[^\n]*$", re.S | re.M)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
_DISPLAY_MATH = re.compile(r"\$\$.+?\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)[^$\n]+?(?<![\s\\])\$")
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]"      # [text], one level of [..]
                          r"\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")  # (target "title")
_REF_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_HTML_ATTR = re.compile(r"\b(?:src|href)\s*=\s*[\"']([^\"']+)[\"']")
_LINK_SUFFIXES = {".md", ".markdown", ".html", ".htm"}


def repository_files(root: pathlib.Path = ROOT) -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=root, capture_output=True, check=True).stdout
    return sorted({p for p in out.decode("utf-8").split("\0") if p and (root / p).is_file()})


def read_text(path: pathlib.Path) -> str | None:
    """The file's text, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def link_targets(text: str) -> list[str]:
    """The link and image targets of a Markdown/HTML text, code and formulas left out."""
    for pattern in (_FENCE, _CODE_SPAN, _DISPLAY_MATH, _INLINE_MATH):
        text = pattern.sub(" ", text)
    return [m.group(1) for pattern in (_INLINE_LINK, _REF_LINK, _HTML_ATTR)
            for m in pattern.finditer(text)]


def problems_in(rel: str, text: str, root: pathlib.Path = ROOT) -> list[str]:
    """Every reference of the file ``rel`` (relative to ``root``) to a path outside ``root``."""
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for m in FORBIDDEN.finditer(line):
            found.append(f"{rel}:{lineno}: refers to {m.group(0)!r}")
    if pathlib.PurePosixPath(rel).suffix.lower() not in _LINK_SUFFIXES:
        return found
    here = (root / rel).parent
    for target in link_targets(text):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL, or an anchor on the same page
        path = urllib.parse.unquote(target.split("#", 1)[0].split("?", 1)[0])
        if not path:
            continue
        if path.startswith("/"):
            found.append(f"{rel}: link {target!r} is an absolute path")
            continue
        resolved = (here / path).resolve()
        try:
            inside = resolved.relative_to(root.resolve()).as_posix()
        except ValueError:
            found.append(f"{rel}: link {target!r} leaves the repository")
            continue
        if resolved.exists():
            continue
        if (inside + "/").startswith(GENERATED) or inside.startswith(GENERATED):
            continue
        found.append(f"{rel}: link {target!r} points to {inside}, which does not exist")
    return found


def test_no_file_refers_to_a_path_outside_the_repository():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout to list the repository's files")
    files = repository_files()
    assert "README.md" in files and "docs/index.md" in files
    found = []
    for rel in files:
        text = read_text(ROOT / rel)
        if text is not None:
            found.extend(problems_in(rel, text))
    assert found == [], "\n".join(found)


def test_the_check_finds_what_it_must_and_spares_what_it_must(tmp_path):
    """The companion: each kind of outside reference is found; links that resolve inside the
    repository (a figure one folder up, a generated page, a URL, an anchor) are not."""
    (tmp_path / "docs" / "figures").mkdir(parents=True)
    (tmp_path / "docs" / "figures" / "a.png").write_bytes(b"\x89PNG")
    (tmp_path / "docs" / "topic.md").write_text("x")
    machine = "/wo" + "rk/main/x.py"
    spec = "../../sha" + "red/FORMU" + "LAS.md"
    page = "\n".join([
        "# A page",
        f"see {machine}",
        f"[the spec]({spec})",
        "[gone](../../elsewhere/notes.md)",
        "[missing](nothing_here.md)",
        "[absolute](/etc/passwd)",
        "![fig](figures/a.png) [up](../docs/topic.md#part) [gen](literate/gd.md)",
        "[web](https://example.org/a/../b) [anchor](#part)",
        "`[code](../../outside.md)` and $[0, 1](x)$",
        "```",
        "[fenced](../../outside.md)",
        "```",
        '<img src="../../outside.png">',
    ])
    found = problems_in("docs/page.md", page, root=tmp_path)
    assert found == [
        "docs/page.md:2: refers to '/" + "work/'",
        "docs/page.md:3: refers to 'sha" + "red/'",
        "docs/page.md:3: refers to 'FORMU" + "LAS.md'",
        f"docs/page.md: link {spec!r} leaves the repository",
        "docs/page.md: link '../../elsewhere/notes.md' leaves the repository",
        "docs/page.md: link 'nothing_here.md' points to docs/nothing_here.md, which does not exist",
        "docs/page.md: link '/etc/passwd' is an absolute path",
        "docs/page.md: link '../../outside.png' leaves the repository",
    ]
    # outside Markdown only the names are checked: a relative path in code is not a link
    assert problems_in("tools/x.py", 'open("../data.csv")', root=tmp_path) == []
