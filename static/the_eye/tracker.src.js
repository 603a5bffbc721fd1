/* The Eye tracker: one tag, no dependencies. What it sends and why: README, "JS tracker".
   This is the source; `manage.py build_tracker` minifies it into tracker.js, which pages load:
   <script defer src="https://COLLECTOR/static/the_eye/tracker.js" data-site="SITE_ID"></script> */
(function (w, d, n) {
  var me = d.currentScript;
  if (!me) return;
  var tag = me.dataset, // the tag's data-* attributes: data-respect-dnt is tag.respectDnt
    api = tag.api || new URL(me.src).origin + '/api/events/', site = tag.site, cookieless = 'cookieless' in tag,
    loc = w.location, OUT = '_theEye_out', SESSION = '_theEye_s', GEO = '_theEye_geo',
    // Nothing is recorded, sent or stored (no cookie, no storage) while `allowed` is false: before
    // theEye.consent(true) on a data-require-consent tag, after theEye.consent(false), and always
    // under Do Not Track / Global Privacy Control when the site asks to honour them.
    allowed = 0, dnt = 'respectDnt' in tag && (n.doNotTrack == '1' || w.doNotTrack == '1' || n.globalPrivacyControl),
    // Storage may be missing or throw (privacy modes, blocked cookies): keep working in memory.
    local, tab, memory = {},
    // visitor: the id in our first-party cookie (set in consent); geo: the position, if allowed.
    visitor, geo, referrer = d.referrer, page;
  try { local = w.localStorage; tab = w.sessionStorage; } catch (e) {}
  function get(store, key) {
    try { return JSON.parse(store.getItem(key)); } catch (e) { return memory[key]; }
  }
  function put(store, key, value) {
    if (!allowed) return; // the one place that writes storage
    memory[key] = value;
    try { store.setItem(key, JSON.stringify(value)); } catch (e) {}
  }

  function uuid() {
    // Not crypto.randomUUID: it exists only in secure contexts (https, localhost).
    var b = w.crypto.getRandomValues(new Uint8Array(16)), hex = '', i;
    b[6] = b[6] & 15 | 64; // version 4
    b[8] = b[8] & 63 | 128; // RFC 4122 variant
    for (i = 0; i < 16; i++) hex += (b[i] + 256).toString(16).slice(1);
    return hex.replace(/(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
  }

  // A session ends after 30 minutes without an event. Cookieless sites keep it per tab only.
  function session() {
    var store = cookieless ? tab : local, s = get(store, SESSION), now = Date.now();
    if (!s || now - s.t > 18e5) s = { id: uuid() };
    s.t = now;
    put(store, SESSION, s);
    return s.id;
  }

  function make(category, name, data, href) {
    var u = new URL(href || loc.href);
    return {
      id: uuid(), site_id: site, session_id: session(), visitor_id: visitor, geo: geo,
      category: category, name: name, timestamp: new Date().toISOString(),
      url: u.href.slice(0, 4096), referrer: referrer.slice(0, 4096), title: d.title.slice(0, 512),
      screen: screen.width + 'x' + screen.height, language: n.language,
      data: Object.assign({}, data, { host: u.host, path: u.pathname })
    };
  }

  // The outbox: every event waits in localStorage until the collector answers 2xx for it, so
  // events made offline (or lost to a failed request) go out later. Ids make resends harmless.
  function outbox() { return get(local, OUT) || []; }
  function drop(ids) {
    put(local, OUT, outbox().filter(function (e) { return ids.indexOf(e.id) < 0; }));
  }
  var flying = {};
  function send(category, name, data, hiding, href) {
    if (!allowed) return; // dropped, not queued: nothing may be kept before consent
    put(local, OUT, outbox().concat([make(category, name, data, href)]).slice(-300)); // the newest 300
    flush(hiding);
  }
  function flush(hiding) {
    if (!allowed || n.onLine == 0) return; // the 'online' event flushes again
    var batch = outbox().filter(function (e) { return !flying[e.id]; }).slice(0, 50), // 50 a request
      ids = batch.map(function (e) { return e.id; }), body = JSON.stringify(batch);
    if (!batch.length) return;
    // A page being hidden may never run another line: hand the batch to the browser.
    if (hiding && n.sendBeacon && n.sendBeacon(api, body)) return drop(ids);
    ids.forEach(function (id) { flying[id] = 1; });
    // text/plain and no credentials: a simple request, so no preflight and no cookies of ours.
    fetch(api, { method: 'POST', body: body, keepalive: 1, credentials: 'omit' })
      .then(function (r) {
        // 5xx, 408, 429: try again later. Any other answer is final: a 400 names the bad events
        // (drop those, resend the rest); a 2xx or another 4xx settles the whole batch.
        if (r.status < 500 && r.status != 408 && r.status != 429) return r.json().then(function (answer) {
          var bad = (answer.errors || []).filter(function (x) { return x.index != null; });
          drop(bad.length ? bad.map(function (x) { return ids[x.index]; }) : ids);
          return 1;
        });
      })
      .catch(function () {})
      .then(function (sent) {
        ids.forEach(function (id) { delete flying[id]; });
        if (sent) flush();
      });
  }

  // Engaged time: how long the page was visible, sent when it is hidden or left.
  var shown = d.hidden ? 0 : Date.now(), engaged = 0;
  function report(hiding) {
    if (shown) engaged += Date.now() - shown;
    shown = hiding || d.hidden ? 0 : Date.now();
    var seconds = Math.min(Math.round(engaged / 100) / 10, 86400);
    if (seconds && page) {
      engaged = 0;
      send('page_interaction', 'engagement', { engaged_seconds: seconds }, hiding, page);
    }
  }
  function hide() { report(1); flush(1); }

  function pageview() {
    var href = loc.href.split('#')[0];
    if (!allowed || href == page) return; // replaceState of the same page, or a hash change
    if (page) {
      report();
      referrer = page;
    }
    page = href;
    send('page_interaction', 'page_view');
  }

  function track(name, data) {
    if (name) send('custom', String(name), data && typeof data == 'object' ? data : {});
  }

  // Exit links (to another host name) and elements marked data-the-eye-event="name".
  function click(ev) {
    if (ev.type == 'auxclick' && ev.button != 1) return; // middle click opens a link; right click does not
    var t = ev.target, a = t.closest && t.closest('a[href]'), el = t.closest && t.closest('[data-the-eye-event]'),
      props = {}, key;
    if (el) {
      for (key in el.dataset) {
        if (key.indexOf('theEye') == 0 && key != 'theEyeEvent') props[key.charAt(6).toLowerCase() + key.slice(7)] = el.dataset[key];
      }
      track(el.dataset.theEyeEvent, props);
    }
    if (a && /^https?:$/.test(a.protocol) && a.hostname != loc.hostname) {
      send('page_interaction', 'exit_link', { href: a.href }, 1);
    }
  }

  ['pushState', 'replaceState'].forEach(function (method) {
    var original = history[method];
    history[method] = function () {
      var result = original.apply(this, arguments);
      pageview();
      return result;
    };
  });
  w.addEventListener('popstate', pageview);
  d.addEventListener('click', click, 1);
  d.addEventListener('auxclick', click, 1);
  d.addEventListener('visibilitychange', function () { d.hidden ? hide() : shown = Date.now(); });
  w.addEventListener('pagehide', hide);
  w.addEventListener('online', function () { flush(); });

  // The ids this page's events carry, for the page's own scripts to attach other records to
  // the same visit (The Eye's watch page sends them with its heartbeats).
  function ids() { return allowed ? { session_id: session(), visitor_id: visitor } : {}; }

  // theEye.consent(true) starts recording (the current page view first); theEye.consent(false)
  // stops it and removes the visitor cookie and everything the tracker stored.
  function consent(yes) {
    if (!yes) {
      allowed = page = 0; // a later consent(true) records the page view again
      memory = {};
      d.cookie = '_theEye_v=;path=/;max-age=0';
      try {
        local.removeItem(OUT); local.removeItem(SESSION); tab.removeItem(SESSION); tab.removeItem(GEO);
      } catch (e) {}
    } else if (!allowed && !dnt) {
      allowed = 1;
      // The visitor: a first-party cookie of the host site, renewed for 6 months on every visit.
      if (!cookieless) {
        visitor = (d.cookie.match(/(?:^|; )_theEye_v=([\w-]+)/) || [])[1] || uuid();
        d.cookie = '_theEye_v=' + visitor + ';path=/;max-age=15552000;samesite=lax' +
          (loc.protocol == 'https:' ? ';secure' : '');
      }
      // Precise position, only where the site asks and the visitor agrees; kept for the tab.
      geo = get(tab, GEO);
      if ('geolocation' in tag && !geo && n.geolocation) {
        n.geolocation.getCurrentPosition(function (p) {
          p = p.coords;
          geo = { latitude: p.latitude, longitude: p.longitude, accuracy: p.accuracy };
          put(tab, GEO, geo);
        }); // a refusal or an error leaves geo empty
      }
      pageview(); // also sends what an earlier page left in the outbox
    }
  }

  // Calls made before this script ran: theEye.q = [[name, data], ...] (see README).
  var early = w.theEye && w.theEye.q || [];
  w.theEye = { track: track, ids: ids, consent: consent };
  if (!('requireConsent' in tag)) consent(1);
  for (var i = 0; i < early.length; i++) track(early[i][0], early[i][1]);
})(window, document, navigator);
