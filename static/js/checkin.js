/* Vmeste hub: the presence check display (templates/attendance/checkin_display.html).
 * Plain JavaScript, no inline script: the page's data- attributes say where the state is.
 * The code is the server's: this script only asks for it (GET code.json) at every 30-second
 * rotation and every few seconds for the count, and counts down between answers using the
 * seconds the server gave (the computer's clock is never trusted). A round that opens or
 * closes elsewhere reloads the page. */
(function () {
  "use strict";
  var root = document.getElementById("checkin-display");
  if (!root || !window.fetch) return;
  var POLL_MS = 5000;
  var ROTATION_MS = 30000;
  var stateUrl = root.getAttribute("data-state-url");
  var roundId = root.getAttribute("data-round") || "";
  var rotateAt = 0;
  var closeAt = 0;
  var timer = null;

  function $(id) { return document.getElementById(id); }
  function setText(id, text) { var el = $(id); if (el) el.textContent = text; }

  function deadlines(secondsLeft, closesIn) {
    var now = performance.now();
    rotateAt = now + secondsLeft * 1000;
    closeAt = now + closesIn * 1000;
  }

  function tick() {
    var now = performance.now();
    var left = Math.max(0, rotateAt - now);
    setText("checkin-seconds", String(Math.ceil(left / 1000)));
    var bar = $("checkin-bar");
    if (bar) bar.style.width = (100 * left / ROTATION_MS).toFixed(1) + "%";
    var closes = Math.max(0, Math.ceil((closeAt - now) / 1000));
    var seconds = closes % 60;
    setText("checkin-closes", Math.floor(closes / 60) + ":" + (seconds < 10 ? "0" : "") + seconds);
  }

  function schedule(ms) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(poll, Math.max(200, ms));
  }

  function apply(state) {
    if (String(state.round_id || "") !== roundId) { window.location.reload(); return; }
    if (!state.open) { schedule(POLL_MS); return; }
    setText("checkin-code", state.code.slice(0, 3) + " " + state.code.slice(3));
    setText("checkin-count", String(state.count));
    var qr = $("checkin-qr");
    if (qr && qr.getAttribute("data-url") !== state.url) {
      qr.innerHTML = state.qr_svg;  /* SVG made by the hub (segno) from its own URL */
      qr.setAttribute("data-url", state.url);
    }
    deadlines(state.seconds_left, state.closes_in);
    tick();
    schedule(Math.min(state.seconds_left * 1000 + 300, POLL_MS));
  }

  function poll() {
    fetch(stateUrl, { credentials: "same-origin", cache: "no-store",
                      headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(apply)
      .catch(function () { schedule(POLL_MS * 2); });
  }

  deadlines(parseFloat(root.getAttribute("data-seconds-left")) || 0,
            parseFloat(root.getAttribute("data-closes-in")) || 0);
  setInterval(tick, 250);
  tick();
  schedule(roundId ? Math.min((parseFloat(root.getAttribute("data-seconds-left")) || 0) * 1000 + 300, POLL_MS) : POLL_MS);
})();
