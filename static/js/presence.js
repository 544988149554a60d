/* Presence on an event's page or board: while the page is visible, tell the hub once on load
   and then every minute, so that the attendance record knows how long it was open. Plain JS,
   no build step. The <script> tag carries the data: data-presence-url (the endpoint),
   data-presence-end (the event's end, ms since the epoch). The CSRF token comes from the
   page's <meta name="csrf-token">. The hub answers 204 outside the event's time; a refusal
   (403, 404, or 400 for an expired session) stops the reports. */
(function () {
  "use strict";
  var tag = document.querySelector("script[data-presence-url]");
  if (!tag || !window.fetch) { return; }
  var url = tag.getAttribute("data-presence-url");
  var endsAt = Number(tag.getAttribute("data-presence-end")) || 0;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var EVERY = 60 * 1000;
  var SLACK = 10 * 60 * 1000;  /* a device clock a few minutes off must not stop it early */
  var timer = null;
  var last = 0;
  var stopped = false;

  function stop() {
    stopped = true;
    if (timer) { clearInterval(timer); }
    document.removeEventListener("visibilitychange", onVisibility);
  }

  function report() {
    if (stopped || document.visibilityState !== "visible") { return; }
    if (endsAt && Date.now() > endsAt + SLACK) { stop(); return; }
    last = Date.now();
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/json",
                 "Accept": "application/json" },
      body: "{}"
    }).then(function (response) {
      if (response.status === 400 || response.status === 403 || response.status === 404) {
        stop();
      }
    }).catch(function () { /* offline for a moment: the next report tries again */ });
  }

  function onVisibility() {
    if (document.visibilityState === "visible" && Date.now() - last >= EVERY / 2) { report(); }
  }

  document.addEventListener("visibilitychange", onVisibility);
  timer = setInterval(report, EVERY);
  report();
}());
