/* The Resumen's first view, drawn by the server into the page's HTML (dashboard.web.pages), stays
   in front until React's own copy of the page shows its content, then leaves: the cards never
   blink away between the two, and no id or text is there twice for long. */
(function () {
  "use strict";
  var first = document.querySelector(".first-view");
  var root = document.getElementById("react-entry-point");
  if (!first || !root) {
    return;
  }

  function filled(id) {
    var el = document.getElementById(id);
    return !!el && root.contains(el) && el.childElementCount > 0;
  }

  function live() {
    // The cards' and the briefing's callbacks have answered (content, an empty or an error
    // state), or the app shows something else instead (the database's banner, a 404).
    if (filled("overview-cards") && filled("briefing")) {
      return true;
    }
    return !!root.querySelector("#page-content .error-state, #page-content .not-found");
  }

  var observer = new MutationObserver(function () {
    if (live()) {
      observer.disconnect();
      var focused = first.contains(document.activeElement);
      first.remove();
      if (focused) {
        var main = document.getElementById("main");
        if (main) {
          main.focus({ preventScroll: true });
        }
      }
    }
  });
  observer.observe(root, { childList: true, subtree: true });
})();
