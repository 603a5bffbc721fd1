/* The watch page: start at the resume point (or ?t=), report the stretches actually played,
 * and show completion as soon as the server grants it.
 *
 * Only stretches the video really played are reported: a jump of the playhead (seek, scrub, a
 * timeupdate further ahead than the clock allows) closes the current stretch and opens a new one
 * where playback resumes, so seeking to the end earns nothing. Heartbeats go out every
 * `heartbeatSeconds` of playback and on pause, seek, end and leaving the page. Each carries its
 * own id and waits in a per-learner outbox in localStorage until the server answers, so a
 * heartbeat lost offline is sent later, and a resend is harmless. Each also carries the ids of
 * the page's tracker (theEye.ids()), so the server files its video event under the page's visit.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("watch-config").textContent);
  var video = document.getElementById("player");
  if (!video) return;

  var startApplied = false;
  var skipSeekReport = false;

  function applyStart() {
    if (startApplied) return;
    startApplied = true;
    var length = video.duration || config.duration;
    if (config.start > 0 && config.start < length) {
      skipSeekReport = true;
      video.currentTime = config.start;
    }
  }
  if (video.readyState >= 1) applyStart();
  else video.addEventListener("loadedmetadata", applyStart, { once: true });

  if (!config.learner) return; // anonymous visitors watch without any progress calls

  var OUTBOX_KEY = "the-eye-progress-outbox:" + config.learnerKey;
  var OUTBOX_LIMIT = 500;
  var played = []; // closed [start, end] stretches not yet reported
  var open = null; // [start, end] of the stretch being played; end = last trusted playhead
  var lastWall = 0;

  function clock() {
    return performance.now() / 1000;
  }

  function round(x) {
    return Math.round(x * 1000) / 1000;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function begin(at) {
    open = [at, at];
    lastWall = clock();
  }

  function closeAt(at) {
    if (open && at > open[0]) played.push([round(open[0]), round(at)]);
    open = null;
  }

  // Whether the playhead could have reached `t` by playing since the last trusted tick.
  function plausible(t) {
    var allowed = (clock() - lastWall) * (video.playbackRate || 1) + 1;
    return t >= open[1] && t - open[1] <= allowed;
  }

  video.addEventListener("playing", function () {
    if (!open) begin(video.currentTime);
  });

  video.addEventListener("timeupdate", function () {
    if (!open || video.seeking || video.paused) return;
    var t = video.currentTime;
    if (plausible(t)) {
      open[1] = t;
      lastWall = clock();
    } else {
      closeAt(open[1]);
      begin(t);
    }
  });

  video.addEventListener("seeking", function () {
    // currentTime is already the target here; the stretch ends at the last trusted tick.
    if (open) closeAt(open[1]);
    if (skipSeekReport) {
      skipSeekReport = false;
      return;
    }
    send("seek");
  });

  video.addEventListener("seeked", function () {
    if (!video.paused) begin(video.currentTime);
  });

  video.addEventListener("pause", function () {
    if (open) closeAt(plausible(video.currentTime) ? video.currentTime : open[1]);
    if (!video.ended) send("pause");
  });

  video.addEventListener("ended", function () {
    if (open) closeAt(plausible(video.currentTime) ? video.currentTime : open[1]);
    send("ended");
  });

  setInterval(function () {
    if (!open || video.paused) return;
    var upTo = open[1];
    closeAt(upTo);
    begin(upTo);
    send("interval");
  }, Math.max(1, config.heartbeatSeconds) * 1000);

  function leaving() {
    if (open) {
      var upTo = open[1];
      closeAt(upTo);
      if (!video.paused) begin(upTo);
    }
    send("hide", true);
  }
  window.addEventListener("pagehide", leaving);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") leaving();
  });

  // --- Outbox and sending -------------------------------------------------------------------

  function readOutbox() {
    try {
      return JSON.parse(localStorage.getItem(OUTBOX_KEY) || "[]");
    } catch (e) {
      return [];
    }
  }

  function writeOutbox(items) {
    try {
      localStorage.setItem(OUTBOX_KEY, JSON.stringify(items.slice(-OUTBOX_LIMIT)));
    } catch (e) {
      /* storage full or disabled: heartbeats are then sent once, without retry */
    }
  }

  function removeFromOutbox(id) {
    writeOutbox(readOutbox().filter(function (item) { return item.id !== id; }));
  }

  function post(url, body, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRFToken": config.csrfToken },
      body: JSON.stringify(body),
    });
  }

  function send(reason, keepalive) {
    var heartbeat = {
      id: newId(),
      tutorial: config.tutorial,
      language: config.language,
      position: round(Math.min(video.currentTime, video.duration || config.duration)),
      segments: played.splice(0),
      duration: round(video.duration || config.duration),
      at: new Date().toISOString(),
      reason: reason,
    };
    // The page's own tracker ids, taken now (not when sent), so the heartbeat joins this visit.
    var ids = window.theEye && theEye.ids ? theEye.ids() : {};
    if (ids.session_id) heartbeat.session_id = ids.session_id;
    if (ids.visitor_id) heartbeat.visitor_id = ids.visitor_id;
    var items = readOutbox();
    items.push(heartbeat);
    writeOutbox(items);
    flush(keepalive);
  }

  var flushing = false;

  function flush(keepalive) {
    if (flushing && !keepalive) return;
    var items = readOutbox();
    if (!items.length) return;
    if (keepalive) {
      // The page is going away: hand everything to the browser at once.
      items.forEach(function (item) { post(config.heartbeatUrl, item, true); });
      return;
    }
    flushing = true;
    var item = items[0];
    post(config.heartbeatUrl, item, false)
      .then(function (response) {
        if (response.ok) {
          removeFromOutbox(item.id);
          return response.json().then(function (state) {
            if (item.tutorial === config.tutorial && item.language === config.language) show(state);
            flushing = false;
            flush();
          });
        }
        if (response.status === 400) {
          // The server will never accept this one; keep the rest moving.
          removeFromOutbox(item.id);
          flushing = false;
          flush();
          return;
        }
        flushing = false; // 403 (logged out) or 5xx: keep it for a later attempt
        setStatus("Progress not saved yet — will retry.");
      })
      .catch(function () {
        flushing = false;
        setStatus("Offline — progress will be sent when the connection is back.");
      });
  }

  window.addEventListener("online", function () { flush(); });
  setInterval(function () { flush(); }, 30000);
  flush();

  // --- What the learner sees ----------------------------------------------------------------

  var label = document.getElementById("completion");
  var percent = document.getElementById("percent");
  var markComplete = document.getElementById("mark-complete");
  var markIncomplete = document.getElementById("mark-incomplete");
  var playlistBadge = document.getElementById("playlist-badge");
  var saveState = document.getElementById("save-state");

  function setStatus(text) {
    if (saveState) saveState.textContent = text;
  }

  function show(state) {
    label.textContent = state.completed ? "Completed" : "Not completed";
    label.classList.toggle("done", state.completed);
    percent.textContent = state.percent + " % watched";
    markComplete.hidden = state.completed;
    markIncomplete.hidden = !state.completed;
    if (playlistBadge) {
      playlistBadge.textContent = state.completed ? "✓ Completed" : state.percent ? state.percent + " %" : "New";
      playlistBadge.classList.toggle("done", state.completed);
      showCourse();
    }
    setStatus("");
  }

  // The course bar counts the playlist's completed badges, so it follows the live badge.
  function showCourse() {
    var items = document.querySelectorAll("#playlist li").length;
    var done = document.querySelectorAll("#playlist .badge.done").length;
    var value = items ? Math.floor((done * 100) / items) : 0;
    var bar = document.getElementById("course-bar");
    var text = document.getElementById("course-percent");
    if (bar) bar.value = value;
    if (text) text.textContent = "Course progress: " + value + " %";
  }

  function mark(completed) {
    post(config.markUrl, { tutorial: config.tutorial, language: config.language, completed: completed }, false)
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(show)
      .catch(function () { setStatus("Could not save — try again."); });
  }

  markComplete.addEventListener("click", function () { mark(true); });
  markIncomplete.addEventListener("click", function () { mark(false); });
})();
