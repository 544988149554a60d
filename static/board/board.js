/* Vmeste hub: the live board (docs/board.md). Plain JavaScript, no build step.
 *
 * Data: #board-boot (state, socket auth, URLs, limits) and #board-i18n (translated strings),
 * both JSON written by templates/board/board.html.
 *
 * Keeping up with the server: every change carries a board-wide `seq`; the entity it is about
 * carries `rev` (= the seq of its last change). Changes are applied by rev whatever the order
 * they arrive in (an older rev never overwrites a newer one). Separately, the page keeps
 * `lastSeq`, the highest seq up to which it has seen every change without a hole. A change
 * that arrives ahead of lastSeq + 1, or a `head` beyond lastSeq, means a gap: the page waits
 * GAP_WAIT_MS (one burst's changes may arrive out of order) and, if the hole is still there,
 * emits `sync {after: lastSeq}`. On every (re)connection it emits `sync` at once. A sync
 * answer is either exactly the changes after `after` or, when too far behind, the whole
 * state, which replaces everything held (changes newer than it are applied again on top).
 *
 * Safety: only `body_html` (sanitised by the server) is inserted as HTML; every other string
 * (names, titles, link text, errors) goes in as text.
 */
(function () {
  "use strict";

  var GAP_WAIT_MS = 700;
  var ACK_TIMEOUT_MS = 15000;
  var NOTICE_MS = 7000;

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  var boot = readJSON("board-boot");
  var T = readJSON("board-i18n") || {};
  var root = document.getElementById("board-app");
  if (!boot || !root) return;

  var BOARD = boot.board_id;
  var GUEST_STORE = "vmeste-board-guest-" + BOARD;
  var limits = boot.limits || {};
  var COLOURS = boot.colours && boot.colours.length ? boot.colours : ["white"];
  var DEFAULT_BOARD = {
    id: BOARD, title: "", layout: "wall", sort: "manual", reactions: "likes",
    visibility: "participants", comments_enabled: true, anonymous_allowed: false,
    needs_approval: false, frozen: false, frozen_by_hand: false, freeze_after_minutes: null, seq: 0
  };
  var isEventBoard = root.getAttribute("data-event-board") === "1";

  // ---------------------------------------------------------------- small helpers

  function t(key, vars) {
    var s = T[key];
    if (typeof s !== "string") s = key;
    if (vars) {
      Object.keys(vars).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
    }
    return s;
  }

  /** An element: attrs set as attributes (text: textContent); children appended (strings as text). */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") el.textContent = String(v);
        else if (k === "class") el.className = v;
        else if (v === true) el.setAttribute(k, "");
        else el.setAttribute(k, String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) el.append(x); });
      else el.append(c);
    }
    return el;
  }

  function $(id) { return document.getElementById(id); }

  // Icons drawn here (emoji fonts are missing on many school computers).
  var SVGNS = "http://www.w3.org/2000/svg";
  var ICONS = {
    heart: [["path", { d: "M20.8 4.6a5.5 5.5 0 0 0-7.8 0L12 5.7l-1-1.1a5.5 5.5 0 0 0-7.8 7.8l1 1L12 21l7.8-7.6 1-1a5.5 5.5 0 0 0 0-7.8z" }]],
    comment: [["path", { d: "M21 11.5a8.4 8.4 0 0 1-9 8.4 8.5 8.5 0 0 1-3.8-.9L3 21l1.9-5.7a8.4 8.4 0 0 1-.9-3.8 8.5 8.5 0 0 1 4.7-7.6 8.4 8.4 0 0 1 3.8-.9h.5a8.5 8.5 0 0 1 8 8v.5z" }]],
    link: [["path", { d: "M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7" }], ["path", { d: "M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7" }]],
    pin: [["path", { d: "M12 16v6" }], ["path", { d: "M9 3h6l-1 6 4 3.5V16H6v-3.5L10 9z" }]],
    users: [["circle", { cx: 9, cy: 8, r: 3.5 }], ["path", { d: "M2.5 20v-1a5 5 0 0 1 5-5h3a5 5 0 0 1 5 5v1" }], ["path", { d: "M16 4.6a3.5 3.5 0 0 1 0 6.8" }], ["path", { d: "M18.5 14.3a5 5 0 0 1 3 4.7v1" }]],
    trash: [["path", { d: "M3 6h18" }], ["path", { d: "M8 6V4h8v2" }], ["path", { d: "M19 6l-1 14H6L5 6" }]],
    pencil: [["path", { d: "M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z" }]],
    more: [["circle", { cx: 5, cy: 12, r: 1.6, fill: "currentColor" }], ["circle", { cx: 12, cy: 12, r: 1.6, fill: "currentColor" }], ["circle", { cx: 19, cy: 12, r: 1.6, fill: "currentColor" }]],
    grip: [["circle", { cx: 9, cy: 6, r: 1.4, fill: "currentColor" }], ["circle", { cx: 15, cy: 6, r: 1.4, fill: "currentColor" }],
      ["circle", { cx: 9, cy: 12, r: 1.4, fill: "currentColor" }], ["circle", { cx: 15, cy: 12, r: 1.4, fill: "currentColor" }],
      ["circle", { cx: 9, cy: 18, r: 1.4, fill: "currentColor" }], ["circle", { cx: 15, cy: 18, r: 1.4, fill: "currentColor" }]],
    plus: [["path", { d: "M12 5v14M5 12h14" }]],
    up: [["path", { d: "M12 19V5M5 12l7-7 7 7" }]],
    down: [["path", { d: "M12 5v14M19 12l-7 7-7-7" }]],
    left: [["path", { d: "M19 12H5M12 19l-7-7 7-7" }]],
    right: [["path", { d: "M5 12h14M12 5l7 7-7 7" }]],
    "chevron-up": [["path", { d: "M6 15l6-6 6 6" }]],
    "chevron-down": [["path", { d: "M6 9l6 6 6-6" }]],
    star: [["path", { d: "M12 2.5l2.9 6 6.6.9-4.8 4.6 1.2 6.5L12 17.4l-5.9 3.1 1.2-6.5-4.8-4.6 6.6-.9z" }]],
    check: [["path", { d: "M20 6L9 17l-5-5" }]]
  };

  function icon(name, filled) {
    var svg = document.createElementNS(SVGNS, "svg");
    var attrs = { viewBox: "0 0 24 24", width: 18, height: 18, fill: filled ? "currentColor" : "none", stroke: "currentColor",
      "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", focusable: "false", class: "icon-svg icon-" + name };
    Object.keys(attrs).forEach(function (k) { svg.setAttribute(k, String(attrs[k])); });
    (ICONS[name] || []).forEach(function (shape) {
      var el = document.createElementNS(SVGNS, shape[0]);
      Object.keys(shape[1]).forEach(function (k) { el.setAttribute(k, String(shape[1][k])); });
      svg.appendChild(el);
    });
    return svg;
  }

  /** Put `nodes` in `container` in this order, moving only what is out of place. */
  function syncChildren(container, nodes) {
    for (var i = 0; i < nodes.length; i++) {
      if (container.children[i] !== nodes[i]) container.insertBefore(nodes[i], container.children[i] || null);
    }
    while (container.children.length > nodes.length) container.removeChild(container.lastElementChild);
  }

  /** Rebuild a part of the page, keeping the keyboard focus on the "same" control (data-fk). */
  function rebuild(container, build) {
    var active = document.activeElement;
    var fk = active && active !== document.body && container.contains(active) ? active.getAttribute("data-fk") : null;
    container.replaceChildren();
    build(container);
    if (fk) {
      var again = container.querySelector('[data-fk="' + fk + '"]');
      if (again) again.focus({ preventScroll: true });
    }
  }

  function safeHttpUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  function safeLocalUrl(url) {
    if (typeof url !== "string") return null;
    if (url.charAt(0) === "/" && url.charAt(1) !== "/") return url;
    return safeHttpUrl(url);
  }

  var lang = document.documentElement.lang || "ru";
  var fmtTime, fmtDay, fmtFull;
  try {
    fmtTime = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
    fmtDay = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
    fmtFull = new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" });
  } catch (e) {
    fmtTime = fmtDay = fmtFull = { format: function (d) { return d.toLocaleString(); } };
  }

  function timeEl(iso) {
    if (!iso) return null;
    var d = new Date(iso);
    if (isNaN(d)) return null;
    var today = new Date();
    var same = d.toDateString() === today.toDateString();
    return h("time", { datetime: iso, title: fmtFull.format(d), text: (same ? fmtTime : fmtDay).format(d) });
  }

  // ---------------------------------------------------------------- the store

  var S = null;            // {board, viewer, sections: Map, posts: Map, comments: Map, mine: Map}
  var viewer = boot.state ? boot.state.viewer : null;
  var lastSeq = 0;         // every change up to here is applied
  var knownHead = 0;       // the highest seq heard of (changes, head, hello)
  var pending = new Map(); // seq -> [changes] that arrived ahead of lastSeq + 1
  var removed = { post: new Map(), comment: new Map(), section: new Map() }; // id -> seq removed at
  var countsRev = new Map();   // post id -> rev of the counts held
  var orphanCounts = new Map(); // counts of a post not held yet
  var boardRev = 0;

  function setState(st) {
    var prevViewer = viewer;
    viewer = st.viewer || prevViewer;
    S = {
      board: Object.assign({}, DEFAULT_BOARD, st.board || {}),
      viewer: viewer,
      sections: new Map(), posts: new Map(), comments: new Map(), mine: new Map()
    };
    removed.post.clear(); removed.comment.clear(); removed.section.clear();
    countsRev.clear(); orphanCounts.clear();
    (st.sections || []).forEach(function (s) { S.sections.set(s.id, s); });
    (st.posts || []).forEach(function (p) { S.posts.set(p.id, Object.assign({}, p)); countsRev.set(p.id, p.rev || 0); });
    (st.comments || []).forEach(function (c) { S.comments.set(c.id, c); });
    var mine = st.mine || {};
    Object.keys(mine).forEach(function (k) { S.mine.set(Number(k), mine[k]); });
    var head = typeof st.head === "number" ? st.head : (S.board.seq || 0);
    lastSeq = head;
    boardRev = head;
    if (head > knownHead) knownHead = head;
    // Changes newer than the state that arrived meanwhile: apply them again on top.
    Array.from(pending.keys()).sort(function (a, b) { return a - b; }).forEach(function (seq) {
      if (seq <= lastSeq) pending.delete(seq);
      else pending.get(seq).forEach(applyChange);
    });
    advance();
    scheduleRender();
  }

  function applyChange(c) {
    if (!S || !c) return;
    switch (c.kind) {
      case "post": if (c.post) applyPost(c.post); break;
      case "post.removed": removeEntity("post", c.id, c.seq); break;
      case "counts": applyCounts(c); break;
      case "comment": if (c.comment) applyComment(c.comment); break;
      case "comment.removed": removeEntity("comment", c.id, c.seq); break;
      case "section": if (c.section) applySection(c.section); break;
      case "section.removed": removeEntity("section", c.id, c.seq); break;
      case "board": if (c.board) applyBoard(c.board, c.seq); break;
      default: break; // "skip", or a kind this page does not know
    }
  }

  var COUNT_FIELDS = ["likes", "score", "stars", "stars_count", "comments"];

  function applyPost(p) {
    var held = S.posts.get(p.id);
    if (held) {
      if (held.rev > p.rev) return;
      // Same rev in two forms (full and reduced): keep the full one (it knows the author).
      if (held.rev === p.rev && !(p.author_key && !held.author_key)) return;
    }
    var gone = removed.post.get(p.id);
    if (gone !== undefined) {
      if (gone >= p.rev) return;
      removed.post.delete(p.id);
    }
    var next = Object.assign({}, p);
    var cr = countsRev.get(p.id) || 0;
    if (held && cr > p.rev) COUNT_FIELDS.forEach(function (f) { next[f] = held[f]; });
    else countsRev.set(p.id, p.rev);
    S.posts.set(p.id, next);
    var orphan = orphanCounts.get(p.id);
    if (orphan) { orphanCounts.delete(p.id); applyCounts(orphan); }
  }

  function applyCounts(c) {
    var held = S.posts.get(c.id);
    if (!held) {
      var prev = orphanCounts.get(c.id);
      if (!prev || prev.rev < c.rev) orphanCounts.set(c.id, c);
      return;
    }
    if ((countsRev.get(c.id) || 0) >= c.rev) return;
    countsRev.set(c.id, c.rev);
    var next = Object.assign({}, held);
    COUNT_FIELDS.forEach(function (f) { if (c[f] !== undefined) next[f] = c[f]; });
    S.posts.set(c.id, next);
  }

  function applyComment(cm) {
    var held = S.comments.get(cm.id);
    if (held && held.rev >= cm.rev) return;
    var gone = removed.comment.get(cm.id);
    if (gone !== undefined && gone >= cm.rev) return;
    S.comments.set(cm.id, cm);
  }

  function applySection(s) {
    var held = S.sections.get(s.id);
    if (held && held.rev >= s.rev) return;
    var gone = removed.section.get(s.id);
    if (gone !== undefined && gone >= s.rev) return;
    S.sections.set(s.id, s);
  }

  function removeEntity(kind, id, seq) {
    var map = kind === "post" ? S.posts : kind === "comment" ? S.comments : S.sections;
    var held = map.get(id);
    if (held && held.rev >= seq) return; // a newer state of it is already here
    map.delete(id);
    var prev = removed[kind].get(id);
    if (prev === undefined || prev < seq) removed[kind].set(id, seq);
  }

  function applyBoard(b, seq) {
    if (typeof seq === "number") {
      if (seq <= boardRev) return;
      boardRev = seq;
    }
    var wasFrozen = S.board.frozen;
    S.board = Object.assign({}, S.board, b);
    if (wasFrozen && !S.board.frozen) loadState(); // who may post again: ask the server
  }

  function advance() {
    while (pending.has(lastSeq + 1)) {
      pending.delete(lastSeq + 1);
      lastSeq += 1;
    }
    pending.forEach(function (_, seq) { if (seq <= lastSeq) pending.delete(seq); });
  }

  /** Changes from the `changes` event or a sync answer. */
  function receive(changes) {
    if (!Array.isArray(changes)) return;
    changes.forEach(function (c) {
      if (!c || typeof c.seq !== "number") return;
      if (c.seq > knownHead) knownHead = c.seq;
      if (c.seq > lastSeq) {
        var list = pending.get(c.seq);
        if (!list) pending.set(c.seq, list = []);
        list.push(c);
      }
      if (S) applyChange(c);
    });
    if (S) advance();
    scheduleRender();
    checkGap();
  }

  // ---------------------------------------------------------------- catching up

  var gapTimer = null;
  var syncing = false;
  var syncAgain = false;
  var connGeneration = 0;

  function hasGap() { return pending.size > 0 || knownHead > lastSeq; }

  function checkGap() {
    if (!S) return;
    if (!hasGap()) {
      if (gapTimer) { clearTimeout(gapTimer); gapTimer = null; }
      return;
    }
    if (!gapTimer) {
      gapTimer = setTimeout(function () {
        gapTimer = null;
        if (hasGap()) requestSync();
      }, GAP_WAIT_MS);
    }
  }

  function requestSync() {
    if (!S || !socket || !socket.connected) return;
    if (syncing) { syncAgain = true; return; }
    syncing = true;
    var generation = connGeneration;
    var after = lastSeq;
    socket.timeout(ACK_TIMEOUT_MS).emit("sync", { after: after }, function (err, ack) {
      if (generation !== connGeneration) return; // answered on a connection since lost
      syncing = false;
      if (!err && ack && ack.ok) {
        if (ack.state) {
          setState(ack.state);
        } else {
          receive(ack.changes || []);
          // The server sent exactly the changes in (after, head]: nothing there is missing.
          if (typeof ack.head === "number" && lastSeq >= after && ack.head > lastSeq) {
            lastSeq = ack.head;
            advance();
          }
        }
        if (typeof ack.head === "number" && ack.head > knownHead) knownHead = ack.head;
      } else if (!err && ack && ack.error) {
        showNotice(ack.error, "error");
      }
      if (syncAgain || (err && hasGap())) {
        syncAgain = false;
        setTimeout(checkGap, err ? 3000 : 0);
      } else {
        checkGap();
      }
      scheduleRender();
    });
  }

  var stateLoading = false;

  /** The whole state over HTTP: for a guest who just gave a name, or after an unfreeze. */
  function loadState() {
    if (stateLoading) return;
    stateLoading = true;
    var headers = { "Accept": "application/json" };
    if (guestToken) headers["X-Board-Guest"] = guestToken;
    fetch(boot.urls.state, { headers: headers, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (st) {
        stateLoading = false;
        setState(st);
        requestSync();
      })
      .catch(function () {
        stateLoading = false;
        showNotice(t("error"), "error");
      });
  }

  // ---------------------------------------------------------------- the socket

  var socket = null;
  var guestToken = null;
  try { guestToken = sessionStorage.getItem(GUEST_STORE); } catch (e) { guestToken = null; }
  var pendingName = null;
  var helloSeen = false;

  function socketAuth() {
    var auth = Object.assign({}, (boot.socket && boot.socket.auth) || { board: BOARD });
    if (guestToken) auth.guest = guestToken;
    if (pendingName && !guestToken) auth.name = pendingName;
    return auth;
  }

  function connect() {
    if (typeof window.io !== "function") { setConn("offline", t("error")); return; }
    if (socket) { socket.connect(); return; }
    var ns = (boot.socket && boot.socket.namespace) || "/board";
    setConn("connecting");
    socket = window.io(ns, {
      auth: function (cb) { cb(socketAuth()); },
      transports: ["websocket", "polling"],
      // Where a proxy (a school's network) blocks websockets, fall back to long-polling.
      tryAllTransports: true
    });
    socket.on("connect", function () {
      connGeneration += 1;
      syncing = false;
      setConn("live");
      if (S) requestSync();
      else if (helloSeen) loadState();
    });
    socket.on("hello", function (d) {
      if (!d || d.board !== BOARD) return;
      helloSeen = true;
      if (d.guest_token) {
        guestToken = d.guest_token;
        try { sessionStorage.setItem(GUEST_STORE, guestToken); } catch (e) { /* private mode */ }
      }
      pendingName = null;
      if (d.viewer) { viewer = d.viewer; if (S) S.viewer = d.viewer; }
      if (typeof d.head === "number" && d.head > knownHead) knownHead = d.head;
      setPresence(d.presence && typeof d.presence === "object" ? d.presence.count : d.presence);
      $("board-guest").hidden = true;
      if (!S && socket.connected) loadState();
      scheduleRender();
    });
    socket.on("changes", function (d) {
      if (d && d.board === BOARD) receive(d.changes);
    });
    socket.on("head", function (d) {
      if (!d || d.board !== BOARD || typeof d.seq !== "number") return;
      if (d.seq > knownHead) knownHead = d.seq;
      checkGap();
    });
    socket.on("presence", function (d) {
      if (d && d.board === BOARD) setPresence(d.count);
    });
    socket.on("disconnect", function (reason) {
      helloSeen = false;
      connGeneration += 1;
      syncing = false;
      if (reason === "io server disconnect") setConn("offline"); // the server closed it: no retry
      else setConn("reconnecting");
    });
    socket.on("connect_error", function (err) {
      if (socket.active) { setConn("reconnecting"); return; }
      // Refused by the server (not allowed, or the guest token/name did not do).
      var message = (err && err.message) || t("error");
      if (guestToken && boot.needs_name) {
        guestToken = null;
        try { sessionStorage.removeItem(GUEST_STORE); } catch (e) { /* ignore */ }
      }
      if (boot.needs_name && !S) {
        showGuestForm(message);
        setConn("offline");
      } else {
        setConn("offline", t("refused", { message: message }));
      }
    });
  }

  function emit(name, data) {
    return new Promise(function (resolve) {
      if (!socket || !socket.connected) {
        resolve({ ok: false, error: t("not_connected"), code: "not_connected" });
        return;
      }
      socket.timeout(ACK_TIMEOUT_MS).emit(name, data, function (err, ack) {
        if (err) resolve({ ok: false, error: t("not_connected"), code: "timeout" });
        else resolve(ack && typeof ack === "object" ? ack : { ok: false, error: t("error"), code: "error" });
      });
    });
  }

  /** Emit, apply what the ack carries, tell the error in the notice area. */
  function act(name, data) {
    return emit(name, data).then(function (ack) {
      if (ack.ok) {
        if (S && ack.post) applyPost(ack.post);
        if (S && ack.comment) applyComment(ack.comment);
        if (S && ack.section) applySection(ack.section);
        scheduleRender();
      } else {
        showNotice(ack.error || t("error"), "error");
      }
      return ack;
    });
  }

  // ---------------------------------------------------------------- status bits

  var connEl = $("board-conn");
  var retryBtn = $("board-retry");

  function setConn(state, message) {
    connEl.setAttribute("data-conn", state);
    var text = message || t(state);
    connEl.querySelector(".board-conn-text").textContent = text;
    retryBtn.hidden = state !== "offline";
  }

  retryBtn.addEventListener("click", function () {
    if (boot.needs_name && !S && !guestToken) { showGuestForm(); return; }
    setConn("connecting");
    connect();
  });

  function setPresence(n) {
    var el = $("board-presence");
    if (typeof n !== "number") { el.textContent = ""; return; }
    el.replaceChildren(icon("users"), h("span", { text: t("presence", { n: n }) }));
  }

  var noticeTimer = null;
  function showNotice(message, kind) {
    var el = $("board-notice");
    el.textContent = message;
    el.className = "board-notice" + (kind ? " is-" + kind : "");
    if (noticeTimer) clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { el.textContent = ""; el.className = "board-notice"; }, NOTICE_MS);
  }

  // ---------------------------------------------------------------- who may do what

  function isModerator() { return !!(viewer && viewer.moderator); }
  function canPost() { return !!(S && viewer && viewer.can_post && !S.board.frozen); }
  function isMine(key) { return !!(key && viewer && key === viewer.key); }
  function canEditPost(p) { return canPost() && (isModerator() || isMine(p.author_key)); }
  function canDragPosts() {
    return isModerator() && S.board.sort === "manual" && S.board.layout !== "stream" && typeof window.Sortable === "function";
  }
  function canDragSections() {
    return isModerator() && S.board.layout !== "stream" && typeof window.Sortable === "function";
  }

  function authorLabel(p) {
    if (p.anonymous) {
      if (isMine(p.author_key)) return t("anonymous_by", { name: t("you") });
      if (isModerator() && p.author_key && p.author_name) return t("anonymous_by", { name: p.author_name });
      return t("anonymous");
    }
    return p.author_name || t("anonymous");
  }

  // ---------------------------------------------------------------- ordering

  function sortedSections() {
    return Array.from(S.sections.values()).sort(function (a, b) {
      return (a.position - b.position) || (a.id - b.id);
    });
  }

  function effectiveSort() {
    var sort = S.board.sort;
    // The stream is one column, newest first, unless the board asks for the most liked.
    if (S.board.layout === "stream" && sort === "manual") return "newest";
    return sort;
  }

  function newer(a, b) {
    var x = a.created_at || "", y = b.created_at || "";
    return x < y ? 1 : x > y ? -1 : (b.id - a.id);
  }

  function sortPosts(list) {
    var sort = effectiveSort();
    return list.sort(function (a, b) {
      var pin = (b.pinned ? 1 : 0) - (a.pinned ? 1 : 0);
      if (pin) return pin;
      if (sort === "newest") return newer(a, b);
      if (sort === "liked") {
        return (b.likes - a.likes) || ((b.score || 0) - (a.score || 0)) ||
          ((b.stars || 0) - (a.stars || 0)) || newer(a, b);
      }
      return (a.position - b.position) || (a.id - b.id);
    });
  }

  // ---------------------------------------------------------------- rendering

  var area = $("board-area");
  var renderQueued = false;
  var dragging = false;
  var renderAfterDrag = false;
  var currentLayout = null;
  var layoutEl = null;
  var groupCache = new Map(); // key -> group object
  var cardCache = new Map();  // post id -> card object
  var sectionSortable = null;
  var sectionUi = new Map();  // section id -> {renaming: bool}

  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    window.requestAnimationFrame(render);
  }

  function render() {
    renderQueued = false;
    if (dragging) { renderAfterDrag = true; return; }
    renderChrome();
    if (S) renderBoard();
  }

  // --- the page around the board: composer, moderator tools, settings

  var composer = $("board-composer");
  var composerStatus = $("bc-status");
  var composerSig = "";

  function renderChrome() {
    var modTools = $("board-mod-tools");
    var addSection = $("board-add-section");
    modTools.hidden = !(S && isModerator());
    addSection.hidden = !(S && isModerator() && S.board.layout !== "stream");
    if (!S) return;
    if (!isModerator()) closeSettings();
    composer.hidden = false;
    var sig = JSON.stringify([canPost(), S.board.frozen, S.board.anonymous_allowed,
      sortedSections().map(function (s) { return [s.id, s.title]; })]);
    if (sig !== composerSig) {
      composerSig = sig;
      renderComposer();
    }
    if (settingsOpen && !settingsDirty) fillSettings();
  }

  function renderComposer() {
    var allowed = canPost();
    var note = $("board-readonly");
    note.hidden = allowed;
    note.textContent = allowed ? "" : (S.board.frozen ? t("frozen") : t("cannot_post"));
    composer.classList.toggle("is-disabled", !allowed);
    Array.prototype.forEach.call(composer.elements, function (el) { el.disabled = !allowed; });
    $("bc-image").closest(".board-file").classList.toggle("is-disabled", !allowed);
    $("bc-anon-field").hidden = !S.board.anonymous_allowed;
    var select = $("bc-section");
    var chosen = select.value;
    var sections = sortedSections();
    select.replaceChildren(h("option", { value: "", text: t("no_section") }));
    sections.forEach(function (s) { select.append(h("option", { value: String(s.id), text: s.title })); });
    select.value = sections.some(function (s) { return String(s.id) === chosen; }) ? chosen : "";
    $("bc-section-field").hidden = sections.length === 0;
  }

  // --- the board itself

  function renderBoard() {
    area.setAttribute("aria-busy", "false");
    var layout = S.board.layout;
    if (layout !== currentLayout) {
      currentLayout = layout;
      groupCache.forEach(function (g) { if (g.sortable) g.sortable.destroy(); });
      groupCache.clear();
      if (sectionSortable) { sectionSortable.destroy(); sectionSortable = null; }
      layoutEl = h("div", { class: "board-layout board-layout-" + layout });
      area.replaceChildren(layoutEl);
    }
    var sections = sortedSections();
    var posts = Array.from(S.posts.values());
    var groups = [];
    if (layout === "stream") {
      groups.push({ key: "stream", section: null, posts: sortPosts(posts) });
    } else {
      var bySection = new Map();
      var none = [];
      sections.forEach(function (s) { bySection.set(s.id, []); });
      posts.forEach(function (p) {
        var list = p.section_id !== null && p.section_id !== undefined ? bySection.get(p.section_id) : null;
        (list || none).push(p);
      });
      if (none.length || sections.length === 0) groups.push({ key: "none", section: null, posts: sortPosts(none) });
      sections.forEach(function (s) { groups.push({ key: "s" + s.id, section: s, posts: sortPosts(bySection.get(s.id)) }); });
    }

    var nodes = groups.map(function (spec, index) {
      var g = groupCache.get(spec.key);
      if (!g) { g = createGroup(spec.key, layout); groupCache.set(spec.key, g); }
      renderGroup(g, spec, index, groups, sections);
      return g.el;
    });
    var keep = new Set(groups.map(function (g) { return g.key; }));
    groupCache.forEach(function (g, key) {
      if (!keep.has(key)) { if (g.sortable) g.sortable.destroy(); groupCache.delete(key); }
    });
    syncChildren(layoutEl, nodes);
    cardCache.forEach(function (card, id) { if (!S.posts.has(id)) cardCache.delete(id); });
    layoutEl.classList.toggle("is-empty", posts.length === 0);
    setupSectionSortable();
  }

  function createGroup(key, layout) {
    var sectionId = key.charAt(0) === "s" && key !== "stream" ? Number(key.slice(1)) : null;
    var el = h("section", { class: "board-group" + (layout === "columns" ? " board-column" : "") });
    if (sectionId !== null) el.setAttribute("data-section-id", String(sectionId));
    var head = h("header", { class: "board-group-head" });
    var list = h("div", { class: "board-list", "data-section": sectionId === null ? "" : String(sectionId) });
    var empty = h("p", { class: "board-empty muted", hidden: true });
    el.append(head, list, empty);
    return { key: key, sectionId: sectionId, el: el, head: head, list: list, empty: empty, sortable: null, headSig: "" };
  }

  function renderGroup(g, spec, index, groups, sections) {
    var layout = S.board.layout;
    var titled = layout !== "stream" && (spec.section || sections.length > 0 || layout === "columns");
    var sectionIndex = spec.section ? sections.indexOf(spec.section) : -1;
    var ui = spec.section ? (sectionUi.get(spec.section.id) || {}) : {};
    var headSig = JSON.stringify([titled, spec.section && [spec.section.title, spec.section.rev], ui.renaming,
      isModerator(), canPost(), layout, sectionIndex, sections.length, spec.posts.length]);
    if (headSig !== g.headSig) {
      g.headSig = headSig;
      g.head.hidden = !titled;
      rebuild(g.head, function (head) { if (titled) buildGroupHead(head, spec, sectionIndex, sections.length, ui); });
    }
    var label = spec.section ? spec.section.title : (layout === "stream" ? "" : t("no_section"));
    if (label) g.el.setAttribute("aria-label", label); else g.el.removeAttribute("aria-label");

    var ids = spec.posts.map(function (p) { return p.id; });
    var cards = spec.posts.map(function (p, i) {
      var card = cardCache.get(p.id);
      if (!card) { card = createCard(p.id); cardCache.set(p.id, card); }
      // Neighbours in this list: before, after, and the one after that (for "move up/down").
      card.nb = [i > 0 ? ids[i - 1] : null, i + 1 < ids.length ? ids[i + 1] : null, i + 2 < ids.length ? ids[i + 2] : null];
      renderCard(card, p);
      return card.el;
    });
    syncChildren(g.list, cards);
    var emptyText = S.posts.size === 0 && groups.length === 1 && canPost() ? t("empty_board") : t("empty_section");
    g.empty.textContent = emptyText;
    g.empty.hidden = cards.length > 0;
    setupPostSortable(g);
  }

  function buildGroupHead(head, spec, index, count, ui) {
    var s = spec.section;
    if (s && ui.renaming) {
      var input = h("input", { type: "text", value: s.title, maxlength: 120, "aria-label": t("section_title"), "data-fk": "rename-input" });
      var form = h("form", { class: "board-rename", "data-action": "section-rename-save", "data-id": s.id },
        input,
        h("button", { type: "submit", class: "small", text: t("save") }),
        h("button", { type: "button", class: "secondary small", "data-action": "section-rename-cancel", "data-id": s.id, text: t("cancel") }));
      head.append(form);
      setTimeout(function () { input.focus(); input.select(); }, 0);
      return;
    }
    var title = h("h2", { class: "board-group-title" }, s ? s.title : t("no_section"));
    var count_ = h("span", { class: "board-group-count", "aria-hidden": "true", text: String(spec.posts.length) });
    var tools = h("div", { class: "board-group-tools" });
    if (canPost()) {
      tools.append(h("button", { type: "button", class: "icon", "data-action": "add-here", "data-section": s ? s.id : "",
        "aria-label": t("add_here") + (s ? ": " + s.title : ""), title: t("add_here"), "data-fk": "add-here" }, icon("plus")));
    }
    if (s && isModerator()) {
      var columns = S.board.layout === "columns";
      if (canDragSections()) tools.append(h("span", { class: "section-drag", "aria-hidden": "true", title: t("drag_section") }, icon("grip")));
      tools.append(
        h("button", { type: "button", class: "icon", "data-action": "section-up", "data-id": s.id, disabled: index <= 0,
          "aria-label": (columns ? t("move_left") : t("move_up")) + ": " + s.title, title: columns ? t("move_left") : t("move_up"),
          "data-fk": "up" }, icon(columns ? "left" : "up")),
        h("button", { type: "button", class: "icon", "data-action": "section-down", "data-id": s.id, disabled: index >= count - 1,
          "aria-label": (columns ? t("move_right") : t("move_down")) + ": " + s.title, title: columns ? t("move_right") : t("move_down"),
          "data-fk": "down" }, icon(columns ? "right" : "down")),
        h("button", { type: "button", class: "icon", "data-action": "section-rename", "data-id": s.id,
          "aria-label": t("rename") + ": " + s.title, title: t("rename"), "data-fk": "rename" }, icon("pencil")),
        h("button", { type: "button", class: "icon danger", "data-action": "section-delete", "data-id": s.id,
          "aria-label": t("delete") + ": " + s.title, title: t("delete"), "data-fk": "delete" }, icon("trash")));
    }
    head.append(title, count_, tools);
  }

  // --- cards

  function createCard(id) {
    var el = h("article", { class: "board-card", "data-id": id });
    var parts = {
      meta: h("header", { class: "card-meta" }),
      content: h("div", { class: "card-content" }),
      react: h("div", { class: "card-reactions" }),
      tools: h("div", { class: "card-tools", id: "card-tools-" + id, hidden: true }),
      comments: h("div", { class: "card-comments", id: "card-comments-" + id, hidden: true })
    };
    el.append(parts.meta, parts.content, parts.react, parts.tools, parts.comments);
    var commentList = h("ul", { class: "comment-list" });
    var commentForm = h("form", { class: "comment-form", "data-action": "comment-create", "data-id": id },
      h("label", { class: "visually-hidden", for: "comment-body-" + id, text: t("comment_placeholder") }),
      h("textarea", { id: "comment-body-" + id, name: "body", rows: 2, maxlength: limits.comment_chars || 1000,
        placeholder: t("comment_placeholder") }),
      h("button", { type: "submit", class: "small", text: t("send") }));
    parts.comments.append(commentList, commentForm);
    return { id: id, el: el, parts: parts, commentList: commentList, commentForm: commentForm,
      sigs: {}, ui: { tools: false, comments: false, editing: false }, editForm: null };
  }

  function postLabel(p) { return t("post_by", { name: authorLabel(p) }); }

  function renderCard(card, p) {
    var el = card.el;
    el.className = "board-card board-colour-" + (COLOURS.indexOf(p.colour) >= 0 ? p.colour : "white") +
      (p.pinned ? " is-pinned" : "") + (p.state === "pending" ? " is-pending" : "") +
      (p.state === "hidden" ? " is-hidden" : "") + (isMine(p.author_key) ? " is-mine" : "");
    el.setAttribute("aria-label", postLabel(p));
    var hasTools = toolsAvailable(p);
    if (!hasTools) card.ui.tools = false;
    var metaSig = JSON.stringify([p.rev, authorLabel(p), hasTools, card.ui.tools, canDragPosts()]);
    if (card.sigs.meta !== metaSig) { card.sigs.meta = metaSig; rebuild(card.parts.meta, function (c) { buildMeta(c, card, p, hasTools); }); }

    if (card.ui.editing) {
      if (p.rev !== card.editRev && !card.editWarned) {
        card.editWarned = true;
        var warn = card.editForm && card.editForm.querySelector(".card-edit-warn");
        if (warn) { warn.hidden = false; warn.textContent = t("changed_elsewhere"); }
      }
    } else {
      var contentSig = JSON.stringify([p.rev, "view"]);
      if (card.sigs.content !== contentSig) { card.sigs.content = contentSig; rebuild(card.parts.content, function (c) { buildContent(c, p); }); }
    }

    var mine = S.mine.get(p.id) || { like: false, vote: 0, star: 0 };
    var showComments = S.board.comments_enabled || p.comments > 0;
    var reactSig = JSON.stringify([p.likes, p.score, p.stars, p.stars_count, p.comments, mine, S.board.reactions,
      canPost(), p.state, showComments, card.ui.comments]);
    if (card.sigs.react !== reactSig) { card.sigs.react = reactSig; rebuild(card.parts.react, function (c) { buildReactions(c, card, p, mine, showComments); }); }

    card.parts.tools.hidden = !card.ui.tools;
    if (card.ui.tools) {
      var toolsSig = JSON.stringify([p.rev, canPost(), isModerator(), S.board.sort, S.board.layout,
        sortedSections().map(function (s) { return [s.id, s.title]; }), neighbours(p.id)]);
      if (card.sigs.tools !== toolsSig) { card.sigs.tools = toolsSig; rebuild(card.parts.tools, function (c) { buildTools(c, p); }); }
    }

    if (!showComments) card.ui.comments = false;
    card.parts.comments.hidden = !card.ui.comments;
    if (card.ui.comments) {
      var comments = commentsOf(p.id);
      var commentsSig = JSON.stringify([comments.map(function (c) { return [c.id, c.rev]; }), canPost(), isModerator(), viewer && viewer.key]);
      if (card.sigs.comments !== commentsSig) {
        card.sigs.comments = commentsSig;
        rebuild(card.commentList, function (ul) { buildComments(ul, comments); });
      }
      card.commentForm.hidden = !(canPost() && S.board.comments_enabled && p.state === "published");
    }
  }

  function toolsAvailable(p) {
    return isModerator() || canEditPost(p);
  }

  function buildMeta(c, card, p, hasTools) {
    if (canDragPosts()) c.append(h("span", { class: "card-drag", "aria-hidden": "true", title: t("drag_post") }, icon("grip")));
    var who = h("div", { class: "card-who" },
      h("strong", { class: "card-author" }, authorLabel(p)), timeEl(p.created_at));
    c.append(who);
    var badges = h("span", { class: "card-badges" });
    if (p.pinned) badges.append(h("span", { class: "badge pin" }, icon("pin"), t("pinned")));
    if (p.state === "pending") badges.append(h("span", { class: "badge warn", text: t("pending") }));
    if (p.state === "hidden") badges.append(h("span", { class: "badge bad", text: t("hidden") }));
    if (badges.childNodes.length) who.append(badges);
    if (hasTools) {
      c.append(h("button", { type: "button", class: "icon card-menu", "data-action": "toggle-tools", "data-id": p.id,
        "aria-expanded": card.ui.tools ? "true" : "false", "aria-controls": "card-tools-" + p.id,
        "aria-label": t("actions_for", { name: authorLabel(p) }), title: t("actions"), "data-fk": "menu" }, icon("more")));
    }
  }

  function buildContent(c, p) {
    if (p.body_html) {
      var body = h("div", { class: "card-body" });
      body.innerHTML = p.body_html; // sanitised by the server (nh3): the one place HTML goes in
      c.append(body);
    }
    var link = safeHttpUrl(p.link_url);
    if (link) {
      c.append(h("a", { class: "card-link", href: link, rel: "nofollow noopener noreferrer", target: "_blank",
        title: t("link_opens", { domain: p.link_domain || link }) },
        icon("link"), h("span", { class: "card-link-text", text: p.link_domain || link })));
    }
    var image = p.image;
    var full = image && safeLocalUrl(image.url);
    var thumb = image && safeLocalUrl(image.thumb_url || image.url);
    if (full && thumb) {
      var img = h("img", { alt: t("image_by", { name: authorLabel(p) }), loading: "lazy", decoding: "async" });
      if (image.width && image.height) { img.width = image.width; img.height = image.height; }
      setImageSrc(img, thumb);
      c.append(h("a", { class: "card-image", href: full, target: "_blank", rel: "noopener", title: t("open_image"),
        "data-action": "open-image", "data-url": full }, img));
    }
  }

  function buildReactions(c, card, p, mine, showComments) {
    var enabled = canPost() && p.state === "published";
    var like = h("button", { type: "button", class: "react like", "data-action": "like", "data-id": p.id,
      "aria-pressed": mine.like ? "true" : "false", disabled: !enabled, title: t("like"), "data-fk": "like" },
      icon("heart", !!mine.like),
      h("span", { class: "visually-hidden", text: t("like") + ": " }),
      h("span", { class: "react-n", text: String(p.likes || 0) }));
    c.append(like);
    if (S.board.reactions === "votes") {
      c.append(h("span", { class: "votes", role: "group", "aria-label": t("score_n", { n: p.score || 0 }) },
        h("button", { type: "button", class: "react vote", "data-action": "vote", "data-value": 1, "data-id": p.id,
          "aria-pressed": mine.vote === 1 ? "true" : "false", disabled: !enabled, "aria-label": t("vote_up"), title: t("vote_up"), "data-fk": "up" }, icon("chevron-up")),
        h("span", { class: "score", "aria-hidden": "true", text: String(p.score || 0) }),
        h("button", { type: "button", class: "react vote", "data-action": "vote", "data-value": -1, "data-id": p.id,
          "aria-pressed": mine.vote === -1 ? "true" : "false", disabled: !enabled, "aria-label": t("vote_down"), title: t("vote_down"), "data-fk": "down" }, icon("chevron-down"))));
    } else if (S.board.reactions === "stars") {
      var group = h("span", { class: "stars", role: "group",
        "aria-label": p.stars_count ? t("stars_avg", { avg: formatStars(p.stars), count: p.stars_count }) : t("no_stars") });
      for (var n = 1; n <= 5; n++) {
        group.append(h("button", { type: "button", class: "react star" + (n <= (mine.star || 0) ? " is-on" : ""), "data-action": "star",
          "data-value": n, "data-id": p.id, "aria-pressed": mine.star === n ? "true" : "false", disabled: !enabled,
          "aria-label": t("star_n", { n: n }), title: t("star_n", { n: n }), "data-fk": "star" + n }, icon("star", true)));
      }
      group.append(h("span", { class: "stars-avg", "aria-hidden": "true",
        text: p.stars_count ? formatStars(p.stars) + " (" + p.stars_count + ")" : "—" }));
      c.append(group);
    }
    if (showComments) {
      c.append(h("button", { type: "button", class: "react comments-toggle", "data-action": "toggle-comments", "data-id": p.id,
        "aria-expanded": card.ui.comments ? "true" : "false", "aria-controls": "card-comments-" + p.id, title: t("comments"), "data-fk": "comments" },
        icon("comment"),
        h("span", { class: "visually-hidden", text: t("comments") + ": " }),
        h("span", { class: "react-n", text: String(p.comments || 0) })));
    }
  }

  // Pictures. A guest of a link board is known to the server by the X-Board-Guest header only,
  // which an <img> cannot send: for guests the page fetches pictures itself (blob: URLs).
  function isGuest() { return !!(viewer && typeof viewer.key === "string" && viewer.key.charAt(0) === "g" && guestToken); }
  var blobs = new Map(); // url -> Promise of a blob: URL

  function guestBlob(url) {
    if (!blobs.has(url)) {
      blobs.set(url, fetch(url, { headers: { "X-Board-Guest": guestToken }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.blob(); })
        .then(function (b) { return URL.createObjectURL(b); })
        .catch(function (e) { blobs.delete(url); throw e; }));
    }
    return blobs.get(url);
  }

  function setImageSrc(img, url) {
    if (!isGuest()) { img.src = url; return; }
    guestBlob(url).then(function (blobUrl) { img.src = blobUrl; }, function () { img.alt = t("upload_failed"); });
  }

  function formatStars(x) {
    try { return new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(x || 0); } catch (e) { return String(x); }
  }

  /** The ids of the posts shown before and after this one in its list, and the one after that. */
  function neighbours(id) {
    var card = cardCache.get(id);
    return (card && card.nb) || [null, null, null];
  }

  function buildTools(c, p) {
    var row = h("div", { class: "card-tools-row" });
    if (canEditPost(p)) {
      row.append(h("button", { type: "button", class: "secondary small", "data-action": "edit", "data-id": p.id, "data-fk": "edit" }, icon("pencil"), t("edit")));
    }
    if (isModerator()) {
      if (p.state === "pending") row.append(h("button", { type: "button", class: "small", "data-action": "moderate", "data-op": "approve", "data-id": p.id, "data-fk": "approve" }, icon("check"), t("approve")));
      if (p.state === "hidden") row.append(h("button", { type: "button", class: "secondary small", "data-action": "moderate", "data-op": "unhide", "data-id": p.id, "data-fk": "unhide", text: t("unhide") }));
      else row.append(h("button", { type: "button", class: "secondary small", "data-action": "moderate", "data-op": "hide", "data-id": p.id, "data-fk": "hide", text: t("hide") }));
      row.append(h("button", { type: "button", class: "secondary small", "data-action": "moderate", "data-op": p.pinned ? "unpin" : "pin", "data-id": p.id, "data-fk": "pin" },
        icon("pin"), p.pinned ? t("unpin") : t("pin")));
    }
    if (canEditPost(p)) {
      row.append(h("button", { type: "button", class: "danger small", "data-action": "delete", "data-id": p.id, "data-fk": "delete" }, icon("trash"), t("delete")));
    }
    c.append(row);
    if (!isModerator()) return;
    // Moving: up and down in its list (manual order), and to another section.
    var move = h("div", { class: "card-tools-row card-tools-move" });
    if (S.board.sort === "manual" && S.board.layout !== "stream") {
      var nb = neighbours(p.id);
      move.append(
        h("button", { type: "button", class: "secondary small icon", "data-action": "post-up", "data-id": p.id, disabled: !nb[0],
          "aria-label": t("move_up"), title: t("move_up"), "data-fk": "post-up" }, icon("up")),
        h("button", { type: "button", class: "secondary small icon", "data-action": "post-down", "data-id": p.id, disabled: !nb[1],
          "aria-label": t("move_down"), title: t("move_down"), "data-fk": "post-down" }, icon("down")));
    }
    if (S.sections.size) {
      var select = h("select", { "data-action": "move-to", "data-id": p.id, "aria-label": t("move_to"), "data-fk": "move-to", class: "card-move" },
        h("option", { value: "__", text: t("move_to") }),
        h("option", { value: "", text: t("no_section"), disabled: p.section_id === null || p.section_id === undefined }));
      sortedSections().forEach(function (s) {
        select.append(h("option", { value: String(s.id), text: s.title, disabled: p.section_id === s.id }));
      });
      move.append(select);
    }
    if (move.childNodes.length) c.append(move);
  }

  function commentsOf(postId) {
    var list = [];
    S.comments.forEach(function (c) { if (c.post_id === postId) list.push(c); });
    return list.sort(function (a, b) { return a.id - b.id; });
  }

  function buildComments(ul, comments) {
    comments.forEach(function (cm) {
      var body = h("div", { class: "comment-body" });
      body.innerHTML = cm.body_html || ""; // sanitised by the server
      var li = h("li", { class: "comment" + (isMine(cm.author_key) ? " is-mine" : "") },
        h("div", { class: "comment-meta" }, h("strong", {}, cm.author_name || t("anonymous")), " ", timeEl(cm.created_at)),
        body);
      if (canPost() && (isModerator() || isMine(cm.author_key))) {
        li.querySelector(".comment-meta").append(h("button", { type: "button", class: "icon comment-delete",
          "data-action": "comment-delete", "data-id": cm.id, "data-fk": "cdel" + cm.id,
          "aria-label": t("delete") + ": " + (cm.author_name || t("anonymous")), title: t("delete") }, icon("trash")));
      }
      ul.append(li);
    });
  }

  // --- editing a post in place

  function startEdit(card, p) {
    card.ui.editing = true;
    card.ui.tools = false;
    card.editRev = p.rev;
    card.editWarned = false;
    var colour = h("select", { name: "colour", "aria-label": t("colour") });
    COLOURS.forEach(function (name) {
      colour.append(h("option", { value: name, text: (T.colours && T.colours[name]) || name, selected: name === p.colour }));
    });
    var bodyId = "edit-body-" + p.id, linkId = "edit-link-" + p.id;
    var textarea = h("textarea", { id: bodyId, name: "body", rows: 4, maxlength: limits.post_chars || 5000 });
    textarea.value = p.body !== undefined && p.body !== null ? p.body : textOf(p.body_html);
    var link = h("input", { id: linkId, type: "text", name: "link", inputmode: "url", autocomplete: "off" });
    link.value = p.link_url || "";
    var form = h("form", { class: "card-edit", "data-action": "edit-save", "data-id": p.id },
      h("p", { class: "card-edit-warn small", hidden: true }),
      h("label", { for: bodyId, class: "visually-hidden", text: t("text") }), textarea,
      h("label", { for: linkId, class: "small", text: t("link") }), link,
      h("div", { class: "card-edit-row" }, colour,
        p.image ? h("label", { class: "check small" }, h("input", { type: "checkbox", name: "remove_image" }), " " + t("remove_image")) : null),
      h("div", { class: "card-edit-row" },
        h("button", { type: "submit", class: "small", text: t("save") }),
        h("button", { type: "button", class: "secondary small", "data-action": "edit-cancel", "data-id": p.id, text: t("cancel") })));
    card.editForm = form;
    card.parts.content.replaceChildren(form);
    card.sigs.content = "";
    scheduleRender();
    textarea.focus();
  }

  function stopEdit(card) {
    card.ui.editing = false;
    card.editForm = null;
    card.sigs.content = "";
    scheduleRender();
  }

  function textOf(html) {
    var doc = new DOMParser().parseFromString(html || "", "text/html"); // inert: nothing runs or loads
    doc.querySelectorAll("br").forEach(function (br) { br.replaceWith("\n"); });
    doc.querySelectorAll("p, li, h1, h2, h3, h4, blockquote, pre").forEach(function (b) { b.append("\n"); });
    return (doc.body.textContent || "").replace(/\n{3,}/g, "\n\n").trim();
  }

  // ---------------------------------------------------------------- drag and drop

  function setupPostSortable(g) {
    var want = canDragPosts();
    if (want && !g.sortable) {
      g.sortable = window.Sortable.create(g.list, {
        group: "board-posts", animation: 150, handle: ".card-drag", draggable: ".board-card",
        ghostClass: "is-ghost", chosenClass: "is-chosen",
        onStart: function () { dragging = true; },
        onEnd: function (evt) {
          dragging = false;
          onPostDropped(evt);
          if (renderAfterDrag) { renderAfterDrag = false; scheduleRender(); }
        }
      });
    } else if (!want && g.sortable) {
      g.sortable.destroy();
      g.sortable = null;
    }
  }

  function onPostDropped(evt) {
    var id = Number(evt.item.getAttribute("data-id"));
    var list = evt.to;
    var sectionAttr = list.getAttribute("data-section");
    var sectionId = sectionAttr ? Number(sectionAttr) : null;
    var next = evt.item.nextElementSibling;
    var prev = evt.item.previousElementSibling;
    var beforeId = next ? Number(next.getAttribute("data-id")) : null;
    var post = S.posts.get(id);
    if (!post) { scheduleRender(); return; }
    if (evt.from === evt.to && evt.oldIndex === evt.newIndex) return;
    movePost(post, sectionId, beforeId, prev ? Number(prev.getAttribute("data-id")) : null);
  }

  /** Move a post (optimistically here; the server's change settles it). */
  function movePost(post, sectionId, beforeId, prevId) {
    var saved = Object.assign({}, post);
    var before = beforeId !== null ? S.posts.get(beforeId) : null;
    var prev = prevId !== null && prevId !== undefined ? S.posts.get(prevId) : null;
    var position;
    if (before && prev) position = (prev.position + before.position) / 2;
    else if (before) position = before.position - 1;
    else if (prev) position = prev.position + 1;
    else position = post.position;
    S.posts.set(post.id, Object.assign({}, post, { section_id: sectionId, position: position }));
    scheduleRender();
    act("post.move", { id: post.id, section_id: sectionId, before_id: beforeId }).then(function (ack) {
      if (!ack.ok) {
        var now = S.posts.get(post.id);
        if (now && now.rev === saved.rev) S.posts.set(post.id, saved);
        scheduleRender();
      }
    });
  }

  function setupSectionSortable() {
    var want = canDragSections() && S.sections.size > 1;
    if (want && !sectionSortable) {
      sectionSortable = window.Sortable.create(layoutEl, {
        animation: 150, handle: ".section-drag", draggable: ".board-group[data-section-id]",
        ghostClass: "is-ghost",
        onStart: function () { dragging = true; },
        onEnd: function (evt) {
          dragging = false;
          var id = Number(evt.item.getAttribute("data-section-id"));
          var next = evt.item.nextElementSibling;
          while (next && !next.hasAttribute("data-section-id")) next = next.nextElementSibling;
          var prev = evt.item.previousElementSibling;
          while (prev && !prev.hasAttribute("data-section-id")) prev = prev.previousElementSibling;
          if (evt.oldIndex !== evt.newIndex) {
            moveSection(id, next ? Number(next.getAttribute("data-section-id")) : null,
              prev ? Number(prev.getAttribute("data-section-id")) : null);
          }
          if (renderAfterDrag) { renderAfterDrag = false; scheduleRender(); }
        }
      });
    } else if (!want && sectionSortable) {
      sectionSortable.destroy();
      sectionSortable = null;
    }
  }

  function moveSection(id, beforeId, prevId) {
    var s = S.sections.get(id);
    if (!s) return;
    var saved = s;
    var before = beforeId !== null ? S.sections.get(beforeId) : null;
    var prev = prevId !== null ? S.sections.get(prevId) : null;
    var position = before && prev ? (prev.position + before.position) / 2 : before ? before.position - 1 : prev ? prev.position + 1 : s.position;
    S.sections.set(id, Object.assign({}, s, { position: position }));
    scheduleRender();
    act("section.move", { id: id, before_id: beforeId }).then(function (ack) {
      if (!ack.ok) {
        var now = S.sections.get(id);
        if (now && now.rev === saved.rev) S.sections.set(id, saved);
        scheduleRender();
      }
    });
  }

  // ---------------------------------------------------------------- actions on the board

  area.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-action]");
    if (!btn || !area.contains(btn) || btn.tagName === "FORM" || btn.tagName === "SELECT") return;
    var action = btn.getAttribute("data-action");
    var id = Number(btn.getAttribute("data-id"));
    var post = S && S.posts.get(id);
    var card = cardCache.get(id);
    switch (action) {
      case "open-image":
        if (isGuest()) {
          e.preventDefault();
          var tab = window.open("", "_blank");
          guestBlob(btn.getAttribute("data-url")).then(function (blobUrl) {
            if (tab) tab.location.href = blobUrl; else window.location.href = blobUrl;
          }, function () { if (tab) tab.close(); showNotice(t("error"), "error"); });
        }
        break;
      case "like":
        react(id, "like"); break;
      case "vote":
        react(id, "vote", Number(btn.getAttribute("data-value"))); break;
      case "star":
        var value = Number(btn.getAttribute("data-value"));
        var mine = S.mine.get(id) || {};
        react(id, "star", mine.star === value ? 0 : value); break;
      case "toggle-comments":
        if (card) { card.ui.comments = !card.ui.comments; scheduleRender();
          if (card.ui.comments) setTimeout(function () { var ta = card.commentForm.querySelector("textarea"); if (!card.commentForm.hidden && ta) ta.focus(); }, 50); }
        break;
      case "toggle-tools":
        if (card) { card.ui.tools = !card.ui.tools; scheduleRender(); }
        break;
      case "edit":
        if (card && post) startEdit(card, post); break;
      case "edit-cancel":
        if (card) stopEdit(card); break;
      case "delete":
        if (post && window.confirm(t("confirm_delete_post"))) act("post.delete", { id: id });
        break;
      case "moderate":
        act("post.moderate", { id: id, action: btn.getAttribute("data-op") }); break;
      case "post-up":
      case "post-down":
        if (post) {
          var nb = neighbours(id);
          if (action === "post-up" && nb[0]) {
            var twoUp = neighbours(nb[0])[0];
            movePost(post, post.section_id === undefined ? null : post.section_id, nb[0], twoUp);
          } else if (action === "post-down" && nb[1]) {
            movePost(post, post.section_id === undefined ? null : post.section_id, nb[2], nb[1]);
          }
        }
        break;
      case "comment-delete":
        if (window.confirm(t("confirm_delete_comment"))) act("comment.delete", { id: id });
        break;
      case "add-here":
        var sel = $("bc-section");
        sel.value = btn.getAttribute("data-section") || "";
        if (sel.value) openExtras(true);
        composer.scrollIntoView({ behavior: "smooth", block: "center" });
        $("bc-body").focus({ preventScroll: true });
        break;
      case "section-up":
      case "section-down":
        var sections = sortedSections();
        var i = sections.findIndex(function (s) { return s.id === id; });
        if (action === "section-up" && i > 0) {
          moveSection(id, sections[i - 1].id, i > 1 ? sections[i - 2].id : null);
        } else if (action === "section-down" && i >= 0 && i < sections.length - 1) {
          moveSection(id, i + 2 < sections.length ? sections[i + 2].id : null, sections[i + 1].id);
        }
        break;
      case "section-rename":
        sectionUi.set(id, { renaming: true }); scheduleRender(); break;
      case "section-rename-cancel":
        sectionUi.delete(id); scheduleRender(); break;
      case "section-delete":
        var section = S.sections.get(id);
        if (section && window.confirm(t("confirm_delete_section", { title: section.title }))) act("section.delete", { id: id });
        break;
      default: break;
    }
  });

  area.addEventListener("change", function (e) {
    var select = e.target.closest("select[data-action='move-to']");
    if (!select || select.value === "__") return;
    var id = Number(select.getAttribute("data-id"));
    var post = S.posts.get(id);
    var sectionId = select.value ? Number(select.value) : null;
    select.value = "__";
    if (!post) return;
    var card = cardCache.get(id);
    if (card) card.ui.tools = false;
    act("post.move", { id: id, section_id: sectionId, before_id: null }).then(function (ack) {
      if (ack.ok && card) card.el.scrollIntoView({ block: "nearest", behavior: "smooth" });
    });
  });

  area.addEventListener("submit", function (e) {
    var form = e.target;
    var action = form.getAttribute("data-action");
    if (!action) return;
    e.preventDefault();
    var id = Number(form.getAttribute("data-id"));
    if (action === "comment-create") {
      var ta = form.querySelector("textarea");
      var body = ta.value.trim();
      if (!body) { ta.focus(); return; }
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      act("comment.create", { post_id: id, body: body }).then(function (ack) {
        button.disabled = false;
        if (ack.ok) { ta.value = ""; ta.focus(); }
      });
    } else if (action === "edit-save") {
      var card = cardCache.get(id);
      var data = { id: id, body: form.elements.body.value, link: form.elements.link.value.trim(), colour: form.elements.colour.value };
      if (form.elements.remove_image && form.elements.remove_image.checked) data.image_id = null;
      var save = form.querySelector("button[type=submit]");
      save.disabled = true;
      act("post.update", data).then(function (ack) {
        save.disabled = false;
        if (ack.ok && card) stopEdit(card);
        else if (!ack.ok) {
          var warn = form.querySelector(".card-edit-warn");
          warn.hidden = false; warn.textContent = ack.error || t("error");
        }
      });
    } else if (action === "section-rename-save") {
      var title = form.querySelector("input").value.trim();
      if (!title) return;
      act("section.update", { id: id, title: title }).then(function (ack) {
        if (ack.ok) { sectionUi.delete(id); scheduleRender(); }
      });
    }
  });

  area.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var form = e.target.closest && e.target.closest("form.board-rename");
    if (form) { sectionUi.delete(Number(form.getAttribute("data-id"))); scheduleRender(); }
  });

  function react(postId, kind, value) {
    var data = { post_id: postId, kind: kind };
    if (value !== undefined) data.value = value;
    // The like as it should be, not a toggle: sending it again after a lost answer is harmless.
    if (kind === "like") data.like = !(S.mine.get(postId) || {}).like;
    emit("react", data).then(function (ack) {
      if (ack.ok) {
        var mine = Object.assign({ like: false, vote: 0, star: 0 }, S.mine.get(postId) || {});
        var got = ack.mine || {};
        ["like", "vote", "star"].forEach(function (k) { if (got[k] !== null && got[k] !== undefined) mine[k] = got[k]; });
        S.mine.set(postId, mine);
        scheduleRender();
      } else {
        showNotice(ack.error || t("error"), "error");
      }
    });
  }

  // ---------------------------------------------------------------- the composer

  var imageId = null;
  var chosenColour = COLOURS[0];
  var colourBox = $("bc-colours");
  COLOURS.forEach(function (name, i) {
    var input = h("input", { type: "radio", name: "colour", value: name, id: "bc-colour-" + name, checked: i === 0, class: "visually-hidden" });
    colourBox.append(input, h("label", { for: "bc-colour-" + name, class: "swatch board-colour-" + name,
      title: (T.colours && T.colours[name]) || name },
      h("span", { class: "visually-hidden", text: (T.colours && T.colours[name]) || name })));
  });
  colourBox.addEventListener("change", function (e) { if (e.target.name === "colour") chosenColour = e.target.value; });

  var extrasToggle = $("bc-extras-toggle");
  function openExtras(open) {
    composer.classList.toggle("extras-open", open);
    extrasToggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  extrasToggle.addEventListener("click", function () {
    var open = !composer.classList.contains("extras-open");
    openExtras(open);
    if (open) $("bc-link").focus();
  });

  var bodyInput = $("bc-body");
  var countEl = $("bc-count");
  function updateCount() {
    var max = limits.post_chars || 5000;
    var left = max - bodyInput.value.length;
    countEl.textContent = left < 200 ? t("chars_left", { n: Math.max(0, left) }) : "";
    countEl.classList.toggle("is-low", left < 50);
  }
  bodyInput.addEventListener("input", updateCount);
  bodyInput.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); composer.requestSubmit(); }
  });

  var composerTimer = null;
  function composerSay(message, kind) {
    composerStatus.textContent = message || "";
    composerStatus.className = "board-composer-status" + (kind ? " is-" + kind : "");
    if (composerTimer) { clearTimeout(composerTimer); composerTimer = null; }
    if (kind === "ok") composerTimer = setTimeout(function () { composerSay(""); }, NOTICE_MS);
  }

  function guestHeaders() {
    var headers = { "X-CSRFToken": boot.csrf_token || "" };
    if (guestToken && !(viewer && viewer.key && viewer.key.charAt(0) === "p")) headers["X-Board-Guest"] = guestToken;
    return headers;
  }

  function clearImage() {
    imageId = null;
    $("bc-image").value = "";
    $("bc-image-preview").hidden = true;
    $("bc-image-thumb").removeAttribute("src");
  }

  $("bc-image-remove").addEventListener("click", function () { clearImage(); $("bc-image").focus(); });

  $("bc-image").addEventListener("change", function () {
    var file = this.files && this.files[0];
    if (!file) return;
    var max = limits.image_bytes || 8 * 1024 * 1024;
    if (file.size > max) {
      composerSay(t("image_too_big", { mb: Math.round(max / 1048576) }), "error");
      clearImage();
      return;
    }
    var form = new FormData();
    form.append("image", file);
    composerSay(t("uploading"), "busy");
    var submit = $("bc-submit");
    submit.disabled = true;
    fetch(boot.urls.images, { method: "POST", body: form, headers: guestHeaders(), credentials: "same-origin" })
      .then(function (r) {
        return r.json().catch(function () { return { ok: false, error: t("upload_failed") }; });
      })
      .then(function (answer) {
        submit.disabled = !canPost();
        if (answer && answer.ok && answer.image) {
          imageId = answer.image.id;
          var thumb = safeLocalUrl(answer.image.thumb_url || answer.image.url);
          if (thumb) setImageSrc($("bc-image-thumb"), thumb);
          $("bc-image-preview").hidden = false;
          composerSay(t("image_ready"));
        } else {
          clearImage();
          composerSay((answer && answer.error) || t("upload_failed"), "error");
        }
      })
      .catch(function () {
        submit.disabled = !canPost();
        clearImage();
        composerSay(t("upload_failed"), "error");
      });
  });

  // The key of the post being written: sent with every attempt, so that a resend after a lost
  // answer (a dropped connection) gives back the stored post instead of a second one.
  var draftKey = null;
  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  bodyInput.addEventListener("input", function () { draftKey = null; });

  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!S || !canPost()) return;
    var body = bodyInput.value;
    var link = $("bc-link").value.trim();
    if (!body.trim() && !link && !imageId) { composerSay(t("empty_post"), "error"); bodyInput.focus(); return; }
    var max = limits.post_chars || 5000;
    if (body.length > max) { composerSay(t("too_long", { n: max }), "error"); bodyInput.focus(); return; }
    if (!draftKey) draftKey = newKey();
    var data = { body: body, colour: chosenColour, client_key: draftKey };
    if (link) data.link = link;
    if (imageId) data.image_id = imageId;
    var section = $("bc-section").value;
    if (section) data.section_id = Number(section);
    if (S.board.anonymous_allowed && $("bc-anon").checked) data.anonymous = true;
    var submit = $("bc-submit");
    submit.disabled = true;
    composerSay(t("posting"), "busy");
    emit("post.create", data).then(function (ack) {
      submit.disabled = !canPost();
      if (ack.ok) {
        draftKey = null;
        if (ack.post) { applyPost(ack.post); scheduleRender(); }
        bodyInput.value = "";
        $("bc-link").value = "";
        $("bc-anon").checked = false;
        clearImage();
        updateCount();
        composerSay(ack.post && ack.post.state === "pending" ? t("posted_pending") : t("posted"), "ok");
        bodyInput.focus();
      } else {
        composerSay(ack.error || t("error"), "error");
      }
    });
  });

  // ---------------------------------------------------------------- sections (moderators)

  $("board-add-section").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = $("board-new-section");
    var title = input.value.trim();
    if (!title) { input.focus(); return; }
    act("section.create", { title: title }).then(function (ack) { if (ack.ok) input.value = ""; });
  });

  // ---------------------------------------------------------------- settings (moderators)

  var settings = $("board-settings");
  var settingsToggle = $("board-settings-toggle");
  var settingsOpen = false;
  var settingsDirty = false;

  function fillSettings() {
    var b = S.board;
    ["layout", "sort", "reactions", "visibility"].forEach(function (f) { settings.elements[f].value = b[f]; });
    ["comments_enabled", "anonymous_allowed", "needs_approval"].forEach(function (f) { settings.elements[f].checked = !!b[f]; });
    settings.elements.frozen.checked = !!b.frozen_by_hand;
    var freeze = settings.elements.freeze_hours;
    if (freeze) freeze.value = b.freeze_after_minutes === null || b.freeze_after_minutes === undefined ? "" : String(Math.round(b.freeze_after_minutes / 6) / 10);
  }

  function openSettings() {
    if (!S) return;
    settingsOpen = true;
    settingsDirty = false;
    fillSettings();
    settings.hidden = false;
    settingsToggle.setAttribute("aria-expanded", "true");
    settings.elements.layout.focus();
  }

  function closeSettings() {
    if (!settingsOpen) return;
    settingsOpen = false;
    settings.hidden = true;
    settingsToggle.setAttribute("aria-expanded", "false");
  }

  settingsToggle.addEventListener("click", function () { if (settingsOpen) closeSettings(); else openSettings(); });
  $("board-settings-close").addEventListener("click", function () { closeSettings(); settingsToggle.focus(); });
  settings.addEventListener("input", function () { settingsDirty = true; });
  settings.addEventListener("change", function () { settingsDirty = true; });

  settings.addEventListener("submit", function (e) {
    e.preventDefault();
    var b = S.board, data = {};
    ["layout", "sort", "reactions", "visibility"].forEach(function (f) {
      if (settings.elements[f].value !== b[f]) data[f] = settings.elements[f].value;
    });
    ["comments_enabled", "anonymous_allowed", "needs_approval"].forEach(function (f) {
      if (settings.elements[f].checked !== !!b[f]) data[f] = settings.elements[f].checked;
    });
    if (settings.elements.frozen.checked !== !!b.frozen_by_hand) data.frozen = settings.elements.frozen.checked;
    var freeze = settings.elements.freeze_hours;
    var status = $("board-settings-status");
    if (freeze) {
      var raw = freeze.value.trim().replace(",", ".");
      var minutes = raw === "" ? null : Math.round(Number(raw) * 60);
      if (minutes !== null && (!isFinite(minutes) || minutes < 0)) { status.textContent = t("error"); freeze.focus(); return; }
      if (minutes !== (b.freeze_after_minutes === undefined ? null : b.freeze_after_minutes)) data.freeze_after_minutes = minutes;
    }
    if (!Object.keys(data).length) { status.textContent = t("settings_saved"); return; }
    status.textContent = t("saving");
    emit("board.update", data).then(function (ack) {
      if (ack.ok) {
        settingsDirty = false;
        status.textContent = t("settings_saved");
      } else {
        status.textContent = ack.error || t("error");
      }
    });
  });

  // ---------------------------------------------------------------- guests

  var guestForm = $("board-guest");

  function showGuestForm(message) {
    guestForm.hidden = false;
    composer.hidden = true;
    var error = $("board-guest-error");
    error.hidden = !message;
    error.textContent = message || "";
    area.setAttribute("aria-busy", "false");
    area.replaceChildren();
    $("board-guest-name").focus();
  }

  guestForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var name = $("board-guest-name").value.replace(/\s+/g, " ").trim();
    if (name.length < 2) { showGuestForm(t("name_required")); return; }
    pendingName = name;
    $("board-guest-error").hidden = true;
    guestForm.querySelector("button[type=submit]").disabled = true;
    setTimeout(function () { guestForm.querySelector("button[type=submit]").disabled = false; }, 3000);
    connect();
  });

  // ---------------------------------------------------------------- start

  function start() {
    updateCount();
    if (boot.state) {
      setState(boot.state);
      connect();
    } else if (boot.needs_name && !guestToken) {
      showGuestForm();
      setConn("offline", t("offline"));
      retryBtn.hidden = true;
    } else {
      connect();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  // For tests and debugging: how far this page has caught up.
  window.__board = {
    lastSeq: function () { return lastSeq; },
    head: function () { return knownHead; },
    connected: function () { return !!(socket && socket.connected); }
  };
})();
