"""Where MkDocs puts a page, and relative links between pages, for links written in raw HTML
(which MkDocs does not rewrite): the same rules as MkDocs' own, for ``use_directory_urls``
true (``a/b.md`` is served at ``a/b/``) or false (``a/b.html``)."""
from __future__ import annotations

import posixpath


def code_page(path: str) -> str:
    """The source page of a file: ``optimizers/sgd.py`` -> ``code/optimizers/sgd.md``."""
    stem = path[:-3] if path.endswith(".py") else path
    return f"code/{stem}.md"


def page_url(src: str, directory_urls: bool = True) -> str:
    """The URL (relative to the site's root) of the page or file ``src`` of the docs folder."""
    if not src.endswith(".md"):
        return src
    stem = src[:-3]
    if not directory_urls:
        return stem + ".html"
    if stem == "index" or stem.endswith("/index"):
        return stem[:-len("index")]
    return stem + "/"


def href(from_src: str, to_src: str, anchor: str = "", directory_urls: bool = True) -> str:
    """A relative link from the page ``from_src`` to the page or file ``to_src``."""
    here = page_url(from_src, directory_urls)
    base = here if here.endswith("/") or here == "" else posixpath.dirname(here)
    target = page_url(to_src, directory_urls)
    rel = posixpath.relpath(target or ".", base.rstrip("/") or ".")
    if target.endswith("/") and not rel.endswith("/"):
        rel += "/"
    if rel == "./":
        rel = "./"
    return rel + (f"#{anchor}" if anchor else "")


def resolve_href(from_src: str, link: str, directory_urls: bool = True) -> str:
    """The site path a relative link of the page ``from_src`` points at (its anchor dropped),
    for checks: ``../../code/optimizers/sgd/#L44`` from ``literate/gd.md`` is
    ``code/optimizers/sgd/``."""
    link = link.split("#", 1)[0]
    here = page_url(from_src, directory_urls)
    base = here if here.endswith("/") or here == "" else posixpath.dirname(here)
    joined = posixpath.normpath(posixpath.join(base, link))
    if link.endswith("/"):
        joined += "/"
    return "" if joined in (".", "./") else joined
