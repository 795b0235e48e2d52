"""The documentation site, checked like code: a strict build, then a real browser.

The site is built once per module (``mkdocs build --strict`` into a temporary folder: any
warning — a broken link, a missing page, a docstring mkdocstrings cannot read — fails it). Then
headless Chromium, driven by selenium, opens the built pages from a local HTTP server and
checks what a reader sees: formulas typeset by KaTeX (no raw ``$``, ``\\frac`` or ``\\(`` left
in the text), a literate page with each formula beside its code, the gallery's figures loaded.
Nothing is fetched from outside: every ``<script>`` and stylesheet is served by the site.

Screenshots of three pages go to ``site-screenshots/`` under pytest's base temporary folder
and, when the environment variable ``SITE_SCREENSHOTS`` names a folder, there too.

Needs the ``docs`` extra (``pip install -e ".[docs]"``) and Chromium with its driver (Debian:
``apt-get install chromium chromium-driver``); without them the tests fail in CI (``CI=1``)
and are skipped elsewhere, naming what is missing.
"""
from __future__ import annotations

import functools
import html.parser
import http.server
import json
import os
import pathlib
import posixpath
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest
import sitegen
from sitetools import missing, need_module

pytestmark = pytest.mark.host_only

ROOT = pathlib.Path(__file__).resolve().parents[2]

#: the pages whose typeset formulas are looked at in the browser (site paths); every formula of
#: every page is parsed by KaTeX in test_every_formula_of_the_site_parses
FORMULA_PAGES = ["optimizers/", "geometry/", "theorems_rates/"]
#: the API pages, whose text must hold no reStructuredText
API_PAGES = ["api/minigrad/", "api/optimizers/", "api/second_order/", "api/zero_order/",
             "api/schedules/", "api/problems/", "api/theorems/", "api/experiments/"]
RAW_MATH = re.compile(r"\$|\\frac|\\\(|\\\[|\\begin\{")
RST_LEFT = re.compile(r":math:`|\.\. math::|:(?:class|func|mod|meth):`")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site: (folder, seconds the build took, its log)."""
    need_module("mkdocs")
    need_module("material")
    need_module("mkdocstrings_handlers")
    out = tmp_path_factory.mktemp("site")
    # no bytecode under docs/ from the page generators the build imports (see sitegen)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", DISABLE_MKDOCS_2_WARNING="true",
               PYTHONDONTWRITEBYTECODE="1")
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(out)], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log = run.stdout + run.stderr
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{log}"
    print(f"\nsite built in {seconds:.1f} s")
    return out, seconds, log


class _ArticleText(html.parser.HTMLParser):
    """Of a page: the URLs it loads by itself (script sources, stylesheets, icons, images),
    and of its article the formulas (the text of each ``arithmatex`` element, display or not)
    and the text outside formulas, code, scripts and styles."""

    SKIP = {"pre", "code", "script", "style"}
    LOADED_LINKS = {"stylesheet", "preload", "preconnect", "icon", "manifest", "modulepreload"}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.links: list[str] = []
        self.formulas: list[tuple[str, bool]] = []
        self.text: list[str] = []
        self._in_article = 0
        self._capture: list | None = None  # [tag, depth, display, pieces]
        self._skip: list | None = None     # [tag, depth]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href") and set((a.get("rel") or "").split()) & \
                self.LOADED_LINKS:
            self.urls.append(a["href"])
        if tag == "a" and self._in_article and a.get("href"):
            self.links.append(a["href"])
        classes = (a.get("class") or "").split()
        if tag == "article":
            self._in_article += 1
        if self._capture is not None:
            self._capture[1] += tag == self._capture[0]
        elif self._skip is not None:
            self._skip[1] += tag == self._skip[0]
        elif self._in_article and "arithmatex" in classes:
            self._capture = [tag, 1, tag == "div", []]
        elif self._in_article and tag in self.SKIP:
            self._skip = [tag, 1]

    def handle_endtag(self, tag):
        if self._capture is not None and tag == self._capture[0]:
            self._capture[1] -= 1
            if self._capture[1] == 0:
                self.formulas.append(("".join(self._capture[3]).strip(), self._capture[2]))
                self._capture = None
        elif self._skip is not None and tag == self._skip[0]:
            self._skip[1] -= 1
            if self._skip[1] == 0:
                self._skip = None
        if tag == "article":
            self._in_article -= 1

    def handle_data(self, data):
        if self._capture is not None:
            self._capture[3].append(data)
        elif self._skip is None and self._in_article:
            self.text.append(data)


def _external(urls: list[str]) -> list[str]:
    """The URLs that a browser would fetch from another host (a scheme, or ``//host``)."""
    return [u for u in urls if re.match(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//", u)]


#: a source page's listing (docs/_gen/source.py): one element per line, its text escaped
LISTING = re.compile(r'(?<=<div class="source-page"><pre><code>)'
                     r'(?:<span id="L\d+">[^<]*</span>)+(?=</code></pre></div>)')


def _article(page: pathlib.Path) -> _ArticleText:
    """The page read by :class:`_ArticleText`. A source listing is left out of what the
    parser reads: it is code (skipped) and its elements load and link nothing, so the parser
    finds the same without reading its thousands of elements one by one."""
    parser = _ArticleText()
    parser.feed(LISTING.sub("", page.read_text(encoding="utf-8")))
    return parser


@pytest.fixture(scope="module")
def articles(site):
    out, _, _ = site
    return {page.relative_to(out).as_posix(): _article(page)
            for page in sorted(out.rglob("*.html"))}


def test_no_page_leaves_math_outside_a_formula(articles):
    """Every page, read from its HTML: no ``$``, ``\\frac``, ``\\(``... in the text outside
    the formulas and the code (a formula that Markdown did not recognise stays raw)."""
    raw = []
    for page, art in articles.items():
        found = RAW_MATH.findall("".join(art.text))
        if found:
            raw.append(f"{page}: {found[:5]}")
    assert raw == []
    assert sum(len(a.formulas) for a in articles.values()) > 3000


def test_the_static_checks_can_fail():
    """The companions: a formula outside an arithmatex element and one inside are told apart,
    and a stylesheet or script from another host is caught."""
    parser = _ArticleText()
    parser.feed('<article><p>a <span class="arithmatex">\\(x^2\\)</span> and $y$ and '
                '<code>$z$</code></p><div class="arithmatex">\\[\\frac12\\]</div></article>'
                '<nav>$nav$</nav>')
    assert parser.formulas == [("\\(x^2\\)", False), ("\\[\\frac12\\]", True)]
    assert RAW_MATH.findall("".join(parser.text)) == ["$", "$"]
    loads = _ArticleText()
    loads.feed('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">'
               '<link rel="stylesheet" href="assets/site.css"><script src="//cdn.example/k.js">'
               '</script><script src="javascripts/katex/katex.min.js"></script>'
               '<a href="https://example.org">a link is not loaded</a>')
    assert _external(loads.urls) == ["https://fonts.googleapis.com/css?family=Roboto",
                                     "//cdn.example/k.js"]


def test_a_source_listing_left_out_changes_nothing_the_checks_read(site):
    """The companion of :data:`LISTING`: on a source page it matches the whole listing, and
    the page read whole gives the parser the same URLs, links, formulas and text."""
    out, _, _ = site
    text = (out / "code" / "optimizers" / "sgd" / "index.html").read_text(encoding="utf-8")
    (listing,) = LISTING.findall(text)
    assert listing.count('<span id="L') == len(sitegen.file_lines("optimizers/sgd.py")) - 1
    whole, cut = _ArticleText(), _ArticleText()
    whole.feed(text)
    cut.feed(LISTING.sub("", text))
    assert (whole.urls, whole.links, whole.formulas, whole.text) == (
        cut.urls, cut.links, cut.formulas, cut.text)
    assert whole.urls and whole.links and "".join(whole.text).strip()


def test_the_search_index_leaves_out_the_source_pages(site):
    """The search index (the theme's search plugin) holds the topic, literate and API pages
    and none of the source listings (``search: exclude`` in their front matter): a search
    for a name finds its documentation, not every line that mentions it."""
    out, _, _ = site
    index = json.loads((out / "search" / "search_index.json").read_text(encoding="utf-8"))
    pages = {entry["location"].split("#")[0] for entry in index["docs"]}
    assert not [p for p in pages if p.startswith("code/")]
    for needed in ("", "lectures/", "literate/gd/", "api/optimizers/", "gallery/"):
        assert needed in pages, needed
    assert (out / "code" / "optimizers" / "sgd" / "index.html").is_file()


def _links_home(page: str, hrefs: list[str]) -> bool:
    """Whether one of the links of the page at ``page`` (``a/b/index.html``) leads to the site's
    front page."""
    base = posixpath.dirname(page)
    for href in hrefs:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//|^#", href):
            continue
        target = posixpath.normpath(posixpath.join(base, href.split("#")[0]))
        if target in (".", "index.html"):
            return True
    return False


def test_every_page_links_back_to_the_index(articles):
    """Every page of the site but the source listings (``code/``) has a link to the front page
    in its text (the theme's logo is not counted)."""
    lonely = [page for page, art in articles.items()
              if page not in ("index.html", "404.html") and not page.startswith("code/")
              and not _links_home(page, art.links)]
    assert lonely == []
    # the companion: a page without such a link is found
    assert not _links_home("api/optimizers/index.html", ["../minigrad/", "#top", "https://x.org/"])
    assert _links_home("api/optimizers/index.html", ["../../#where-to-start"])


#: the API pages and the package each documents, module by module
API_PACKAGES = {"minigrad": "minigrad", "optimizers": "optimizers",
                "second_order": "optimizers.second_order", "zero_order": "optimizers.zero_order",
                "schedules": "schedules", "problems": "problems", "theorems": "theorems",
                "experiments": "experiments"}


def test_every_public_module_is_on_its_api_page():
    """A module added to a package appears in the API reference (a ``::: package.module``
    directive on the package's page), and no page names a module that is gone."""
    for page, package in API_PACKAGES.items():
        text = (ROOT / "docs" / "api" / f"{page}.md").read_text(encoding="utf-8")
        listed = set(re.findall(r"^::: (\S+)$", text, re.M)) - {package}
        folder = ROOT / package.replace(".", "/")
        modules = {f"{package}.{p.stem}" for p in folder.glob("*.py") if not p.stem.startswith("_")}
        assert listed == modules, (page, sorted(listed ^ modules))


def test_strict_build_has_no_warning(site):
    _, _, log = site
    assert not [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]


def test_every_page_loads_only_what_the_site_serves(site, articles):
    """No CDN, no Google Fonts: every script, stylesheet and image of every page is a path of
    the site, and the bundled KaTeX is there."""
    out, _, _ = site
    assert len(articles) > 30
    outside = [f"{page}: {u}" for page, art in articles.items() for u in _external(art.urls)]
    assert outside == []
    for asset in ("javascripts/katex/katex.min.js", "javascripts/katex/katex.min.css",
                  "javascripts/katex/fonts/KaTeX_Main-Regular.woff2",
                  "javascripts/katex-render.js"):
        assert (out / asset).is_file(), asset
    assert "javascripts/katex/katex.min.js" in articles["index.html"].urls


def test_the_api_pages_hold_no_restructuredtext(site):
    out, _, _ = site
    for page in API_PAGES:
        text = (out / page / "index.html").read_text(encoding="utf-8")
        assert "doc-heading" in text, page  # mkdocstrings rendered something
        assert RST_LEFT.search(text) is None, (page, RST_LEFT.search(text).group(0))


# --------------------------------------------------------------------------- in the browser
@pytest.fixture(scope="module")
def server(site):
    out, _, _ = site

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Quiet, directory=str(out)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    thread.join()


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    need_module("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = _chromium(), shutil.which("chromedriver")
    if binary is None or driver is None:
        missing("Chromium and chromium-driver" if binary is None and driver is None
                else "Chromium" if binary is None else "chromium-driver",
                "Debian: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--disable-extensions"):
        options.add_argument(arg)
    try:  # explicit driver path: selenium's manager never tries to download one
        chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    except Exception as exc:  # noqa: BLE001 - any failure to start is reported as such
        missing(f"a working headless Chromium ({type(exc).__name__}: {exc})".strip(),
                "check that chromium and chromium-driver are the same version")
    chrome.set_page_load_timeout(30)
    yield chrome
    chrome.quit()


def _open(browser, url):
    browser.get(url)
    # katex-render.js marks each formula once typeset; wait until every formula is done
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pending = browser.execute_script(
            "return document.querySelectorAll('.arithmatex:not([data-katex=done])').length")
        if pending == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"{url}: formulas still not typeset after 20 s")


_TEXT_OUTSIDE_MATH_AND_CODE = """
const c = document.querySelector('article').cloneNode(true);
c.querySelectorAll('.katex, pre, code, script, style').forEach(e => e.remove());
return c.textContent;
"""

_FORMULAS = """
return {
  formulas: document.querySelectorAll('.arithmatex').length,
  typeset: document.querySelectorAll('.arithmatex .katex').length,
  errors: [...document.querySelectorAll('.katex-error')].map(e => e.title).slice(0, 5),
};
"""


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    folders = [tmp_path_factory.getbasetemp() / "site-screenshots"]
    if os.environ.get("SITE_SCREENSHOTS"):
        folders.append(pathlib.Path(os.environ["SITE_SCREENSHOTS"]))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)

    def save(browser, name):
        png = browser.get_screenshot_as_png()
        for folder in folders:
            (folder / f"{name}.png").write_bytes(png)
        return [folder / f"{name}.png" for folder in folders]

    return save


def test_formulas_are_typeset(browser, server):
    problems = []
    for page in FORMULA_PAGES:
        _open(browser, server + page)
        seen = browser.execute_script(_FORMULAS)
        if seen["formulas"] == 0 or seen["typeset"] != seen["formulas"] or seen["errors"]:
            problems.append(f"{page}: {seen}")
        raw = [m.group(0) for m in RAW_MATH.finditer(
            browser.execute_script(_TEXT_OUTSIDE_MATH_AND_CODE))]
        if raw:
            problems.append(f"{page}: raw math in the text: {raw[:5]}")
    assert problems == []


_PARSE_ALL = """
const [formulas] = arguments, failed = [];
for (const [page, tex, display] of formulas) {
  try { katex.renderToString(tex, {displayMode: display, throwOnError: true, strict: "ignore"}); }
  catch (e) { failed.push(page + ": " + e.message); }
}
return failed;
"""


def _strip(tex: str) -> str:
    """The formula without its delimiters, as katex-render.js strips them."""
    for open_, close in (("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$"), ("$", "$")):
        if tex.startswith(open_) and tex.endswith(close) and len(tex) >= len(open_ + close):
            return tex[len(open_):len(tex) - len(close)]
    return tex


def test_every_formula_of_the_site_parses(browser, server, articles):
    """All formulas of all pages (thousands), handed to the bundled KaTeX in one page: none is
    a parse error. The companion: a broken formula is reported."""
    _open(browser, server)
    formulas = [[page, _strip(tex), display] for page, art in articles.items()
                for tex, display in art.formulas]
    assert len(formulas) > 3000
    assert browser.execute_script(_PARSE_ALL, formulas) == []
    broken = browser.execute_script(_PARSE_ALL, [["x", "\\frac{1}{", False]])
    assert len(broken) == 1 and "KaTeX parse error" in broken[0]


def test_the_check_of_raw_math_can_fail(browser, server, site):
    """The companion: a page whose formula was left as TeX is caught (a copy of a built page
    with one formula's marker class removed, so that the renderer passes it by)."""
    out, _, _ = site
    text = (out / "schedules" / "index.html").read_text(encoding="utf-8")
    broken = text.replace('class="arithmatex"', 'class="not-math"', 1)
    assert broken != text
    (out / "schedules" / "broken.html").write_text(broken, encoding="utf-8")
    _open(browser, server + "schedules/broken.html")
    raw = RAW_MATH.findall(browser.execute_script(_TEXT_OUTSIDE_MATH_AND_CODE))
    assert raw  # the unrendered \( ... \) is visible text


def test_the_front_page(browser, server, screenshots):
    _open(browser, server)
    links = browser.execute_script(
        "return [...document.querySelectorAll('article a')].map(a => a.getAttribute('href'))")
    for target in ("optimizers/", "lectures/", "literate/", "gallery/", "api/",
                   "experiments/", "theorems_rates/"):
        assert any(h and h.rstrip("/").endswith(target.rstrip("/")) for h in links), target
    screenshots(browser, "index")


def test_a_literate_page_shows_formula_beside_code(browser, server, site, screenshots):
    out, _, _ = site
    pages = sorted(p for p in (out / "literate").glob("*/index.html")) if (
        out / "literate").is_dir() else []
    assert pages, "the build made no literate pages (literate/<family>/)"
    page = pages[0].parent.relative_to(out).as_posix() + "/"
    _open(browser, server + page)
    rows = browser.execute_script("""
      return [...document.querySelectorAll('.literate-row')].map(r => {
        const f = r.querySelector('.literate-formula'), c = r.querySelector('.literate-code');
        if (!f || !c) return null;
        const a = f.getBoundingClientRect(), b = c.getBoundingClientRect();
        return {fl: a.left, fr: a.right, ft: a.top, fb: a.bottom,
                cl: b.left, ct: b.top, cb: b.bottom,
                math: f.querySelectorAll('.katex').length,
                code: c.querySelectorAll('pre, code').length};
      });""")
    assert rows and None not in rows, f"{page}: rows without both cells"
    browser.execute_script("document.querySelector('.literate-row').scrollIntoView()")
    with_math = [r for r in rows if r["math"] > 0]
    assert with_math, f"{page}: no row has a typeset formula"
    for r in rows:
        assert r["code"] > 0
        assert r["fr"] <= r["cl"] + 1, r  # the formula cell is left of the code cell
        assert r["ft"] < r["cb"] and r["ct"] < r["fb"], r  # side by side: they overlap vertically
    screenshots(browser, "literate")


def test_the_gallery_shows_its_figures(browser, server, screenshots):
    _open(browser, server + "gallery/")
    # a lazy image below the fold is not fetched by a headless window: ask for all of them
    browser.execute_script(
        "document.querySelectorAll('.gallery-card img').forEach(i => { i.loading = 'eager'; });")
    deadline = time.monotonic() + 20
    while True:
        images = browser.execute_script("""
          return [...document.querySelectorAll('.gallery-card img')].map(i => ({
            src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth}));""")
        if all(i["complete"] for i in images) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    cards = browser.execute_script("return document.querySelectorAll('.gallery-card').length")
    assert cards > 0 and len(images) >= cards
    assert [i["src"] for i in images if i["width"] == 0] == []
    screenshots(browser, "gallery")
