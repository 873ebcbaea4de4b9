// site.js - the baked documentation site's one script: marks the page
// being shown in the side list (aria-current, styled by style.css), so the
// nav needs no per-page HTML. The site works without it.
(function () {
  "use strict";
  function norm(p) {
    return p.replace(/\/index\.html$/, "/").replace(/\/+$/, "") || "/";
  }
  var here = norm(location.pathname);
  var links = document.querySelectorAll("nav.side a");
  for (var i = 0; i < links.length; i++) {
    if (norm(links[i].pathname) === here) {
      links[i].setAttribute("aria-current", "page");
    }
  }
})();
