// Renders the formulas of a page with the bundled KaTeX (javascripts/katex/).
// Python-Markdown's arithmatex extension (generic mode) leaves every formula as
// <span class="arithmatex">\( ... \)</span> or <div class="arithmatex">\[ ... \]</div>;
// the API pages' formulas come out the same way. Each one is typeset in place; a formula
// KaTeX cannot parse is shown as its source, in red, with the parse error as its title.
(function () {
  "use strict";

  function strip(tex) {
    tex = tex.trim();
    var pairs = [["\\(", "\\)"], ["\\[", "\\]"], ["$$", "$$"], ["$", "$"]];
    for (var i = 0; i < pairs.length; i++) {
      var open = pairs[i][0], close = pairs[i][1];
      if (tex.length >= open.length + close.length &&
          tex.slice(0, open.length) === open && tex.slice(-close.length) === close) {
        return tex.slice(open.length, tex.length - close.length);
      }
    }
    return tex;
  }

  function render(root) {
    var nodes = root.querySelectorAll(".arithmatex");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      if (el.getAttribute("data-katex") === "done") continue;
      var display = el.tagName === "DIV";
      katex.render(strip(el.textContent), el, {
        displayMode: display,
        throwOnError: false,
        strict: "ignore",
        trust: false
      });
      el.setAttribute("data-katex", "done");
    }
  }

  if (typeof document$ !== "undefined" && document$.subscribe) {
    document$.subscribe(function (doc) { render(doc.body || document.body); });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { render(document.body); });
  } else {
    render(document.body);
  }
})();
