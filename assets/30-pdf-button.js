/* The PDF button: a print takes seconds, so the button says so, cannot be pressed twice while
   it works, and a refusal (busy, failed) is shown instead of a silent nothing. The file is
   fetched and handed to the browser as a download, the same file and name the link gives. */
(function () {
  "use strict";
  var STATUS_ID = "pdf-export-status";

  function statusRegion() {
    var el = document.getElementById(STATUS_ID);
    if (!el) {
      // Outside Dash's React tree, so a re-render never removes or fights it.
      el = document.createElement("div");
      el.id = STATUS_ID;
      el.setAttribute("role", "status");
      el.setAttribute("aria-live", "polite");
      el.className = "pdf-export-status";
      document.body.appendChild(el);
    }
    return el;
  }

  function say(text, isError) {
    var el = statusRegion();
    el.textContent = text || "";
    el.classList.toggle("alert", !!isError);
    el.classList.toggle("alert-warning", !!isError);
    el.classList.toggle("visually-hidden", !isError);
    if (isError) {
      window.setTimeout(function () { if (el.textContent === text) { say(""); } }, 10000);
    }
  }

  function fileName(response, fallback) {
    var cd = response.headers.get("Content-Disposition") || "";
    var star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
    if (star) { return decodeURIComponent(star[1]); }
    var plain = /filename="?([^";]+)"?/i.exec(cd);
    return plain ? plain[1] : fallback;
  }

  function messageOf(html, fallback) {
    try {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var p = doc.querySelector("p, .alert");
      var text = p && p.textContent.trim();
      return text || fallback;
    } catch (e) {
      return fallback;
    }
  }

  function setBusy(link, busy) {
    link.classList.toggle("is-busy", busy);
    if (busy) {
      link.setAttribute("aria-disabled", "true");
      link.setAttribute("aria-busy", "true");
    } else {
      link.removeAttribute("aria-disabled");
      link.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-export=pdf]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    if (link.classList.contains("is-busy")) { return; }  // one print at a time
    if (!window.fetch || !window.URL || !URL.createObjectURL) {
      window.location.href = link.href;  // old browser: the plain download
      return;
    }
    var failed = link.getAttribute("data-error-label") || "";
    // A 503 means other PDFs are printing: the server queues a request for a second at most (a
    // waiting request holds a thread from everyone else), so the longer wait happens here, for
    // `Retry-After` seconds, within a budget (data-retry-budget, seconds; about a minute).
    var budget = parseFloat(link.getAttribute("data-retry-budget") || "60");
    setBusy(link, true);
    say(link.getAttribute("data-busy-label") || "", false);

    function attempt() {
      return fetch(link.href, { credentials: "same-origin" }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.ok && type.indexOf("application/pdf") === 0) {
          return response.blob().then(function (blob) {
            var url = URL.createObjectURL(blob);
            var a = document.createElement("a");
            a.href = url;
            a.download = fileName(response, "dashboard.pdf");
            document.body.appendChild(a);
            a.click();
            a.remove();
            window.setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
            say("", false);
          });
        }
        if (response.redirected && response.url.indexOf("/login") !== -1) {
          window.location.href = response.url;  // the session ended: sign in again
          return null;
        }
        var wait = parseFloat(response.headers.get("Retry-After") || "");
        if (response.status === 503 && wait > 0 && wait <= budget) {
          budget -= wait;
          say(link.getAttribute("data-wait-label") || "", false);
          return new Promise(function (resolve) { window.setTimeout(resolve, wait * 1000); })
            .then(function () {
              say(link.getAttribute("data-busy-label") || "", false);
              return attempt();
            });
        }
        return response.text().then(function (html) { say(messageOf(html, failed), true); });
      });
    }

    attempt()
      .catch(function () { say(failed, true); })
      .then(function () { setBusy(link, false); });
  });
})();
