// Follows a queued or running scan: polls its JSON status and reloads the page when it is final.
// Without JavaScript the "Refresh" link next to the progress bar does the same.
(function () {
  "use strict";
  var box = document.getElementById("scan");
  var url = box && box.getAttribute("data-status-url");
  if (!url) { return; }
  var state = box.querySelector("[data-state]");
  var step = box.querySelector("[data-step]");
  var bar = box.querySelector("[data-progress]");
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { return; }
        if (state) { state.textContent = s.state; }
        if (step) { step.textContent = s.step ? "— " + s.step : ""; }
        if (bar) { bar.value = s.progress; bar.textContent = s.progress + "%"; }
        if (s.final) { window.location.reload(); } else { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
