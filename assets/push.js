/* The push bridge (fakeai_dash/components/push_listener.py; the server side is fakeai_dash/server/push_stream.py).
 *
 * One EventSource per page, for what the page shows: the list, the open job, the compared jobs.
 * A "change" event bumps a signal store (set_props), and the usual fetch callbacks run: pushed
 * updates are drawn exactly like polled ones. If the stream cannot open or drops, the page
 * polls (state "polling": the refresh Interval runs) and the stream is retried with backoff;
 * once it is back, the page resyncs (the server names every member whose version moved). */
(function () {
  "use strict";
  var STATE = "push-state-store", LIST = "push-list-signal", JOB = "push-job-signal",
    PROGRESS = "push-progress-signal", LIST_PROGRESS = "list-progress";
  var SIGNALS = {list: LIST, job: JOB, progress: PROGRESS};

  var push = {
    source: null, url: null, state: "polling", reported: "polling", wanted: false, attempt: 0, retry: null,
    lastMessage: 0, versions: {}, counters: {list: 0, job: 0, progress: 0}, heard: {list: 0, job: 0, progress: 0}, job: null, compare: [], settledJob: null,
    config: {}, heartbeat: null, watchdog: null, opened: 0, changes: 0, pauses: 0, holds: 0
  };

  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(id, props);
    }
  }

  function setState(state) {
    push.state = state;
    if (push.reported !== state) {
      push.reported = state;
      setProps(STATE, {data: state});
    }
  }

  function report() {
    // The bridge callback's answer: the state, or no_update when the store already holds it
    // (an unchanged store must not re-run toggle_polling, a server callback).
    if (push.reported === push.state) { return window.dash_clientside.no_update; }
    push.reported = push.state;
    return push.state;
  }

  function bump(which) {
    push.counters[which] += 1;
    setProps(SIGNALS[which], {data: push.counters[which]});
  }

  /* Backpressure. A running job changes several times a second, and each change sets off a chain
   * of callbacks (the job's fetch, then the charts, timeline, cost, log, audit) whose answers the
   * page's one main thread must apply. Bumped on every change, the chains overlapped: the main
   * thread was busy half the time, and a new job's row (the list's fetch, its render, the grid)
   * queued behind that backlog for up to seconds (issue #22, item 7: 0.3 s with the list alone,
   * 1-4 s beside a live chart). So a job's or the live fields' change that arrives while the
   * page is still applying earlier callbacks is held and sent once the page is idle: changes in
   * between merge into one fetch, which reads the newest state anyway. The list's own changes
   * (rare: a new row, a new status) are never held. HOLD_MAX_MS bounds the wait, so a slow
   * callback never starves the chart; IDLE_GAP_MS is the breather between two chains. */
  var HOLD_MAX_MS = 1000, IDLE_GAP_MS = 100;
  var held = {job: false, progress: false, unsubscribe: null, timer: null, breather: null};

  function dashStore() {
    var stores = window.dash_stores;  // dash-renderer's Redux store (its isLoading: callbacks pending)
    return stores && stores.length ? stores[0] : null;
  }

  function release() {
    if (held.unsubscribe) { held.unsubscribe(); held.unsubscribe = null; }
    if (held.timer) { clearTimeout(held.timer); held.timer = null; }
    if (held.breather) { clearTimeout(held.breather); held.breather = null; }
    push.holds += held.job || held.progress ? 1 : 0;
    if (held.job) { held.job = false; bump("job"); }
    if (held.progress) { held.progress = false; bump("progress"); }
  }

  function bumpWhenIdle(which) {
    var store = dashStore();
    if (!store || !store.getState().isLoading) { bump(which); return; }
    held[which] = true;
    if (held.unsubscribe) { return; }
    held.unsubscribe = store.subscribe(function () {
      // A breather once idle (not a chain at once): the page paints, takes input, and a list
      // change arriving now runs alone; and the page is seen settled between chains.
      if (!store.getState().isLoading && !held.breather) {
        held.breather = setTimeout(function () { held.breather = null; release(); }, IDLE_GAP_MS);
      }
    });
    held.timer = setTimeout(release, HOLD_MAX_MS);
  }

  function members() {
    var list = ["list", LIST_PROGRESS];  // the server adds the list's live fields to every stream
    if (push.job) { list.push(push.job); }
    push.compare.forEach(function (id) { if (list.indexOf(id) < 0) { list.push(id); } });
    return list;
  }

  function streamUrl() {
    var params = [];
    if (push.job) { params.push("job=" + encodeURIComponent(push.job)); }
    var compared = push.compare.filter(function (id) { return id !== push.job; });
    if (compared.length) { params.push("compare=" + compared.map(encodeURIComponent).join(",")); }
    return (push.config.path || "/_push") + (params.length ? "?" + params.join("&") : "");
  }

  function withVersions(url) {
    var seen = members().filter(function (m) { return push.versions[m] !== undefined; })
      .map(function (m) { return m + ":" + push.versions[m]; });
    if (!seen.length) { return url; }
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "v=" + encodeURIComponent(seen.join(","));
  }

  function close() {
    if (push.source) {
      push.source.onopen = push.source.onerror = null;
      push.source.close();
      push.source = null;
    }
    if (push.retry) { clearTimeout(push.retry); push.retry = null; }
  }

  function onChange(message) {
    var change;
    try { change = JSON.parse(message.data); } catch (notJson) { return; }
    push.lastMessage = Date.now();
    push.changes += 1;
    push.versions[change.member] = change.version;
    // Three signals, three fetches: a running job's steps (several a second) re-run only the small
    // live-fields fetch, never the list's own, whose answer with a new row a re-run would drop.
    var which = change.member === "list" ? "list" : change.member === LIST_PROGRESS ? "progress" : "job";
    push.heard[which] += 1;
    if (which === "list") { bump("list"); } else { bumpWhenIdle(which); }
  }

  function open() {
    close();
    push.url = streamUrl();
    var source = new EventSource(withVersions(push.url));
    push.source = source;
    source.onopen = function () {
      push.lastMessage = Date.now();
      push.opened += 1;
    };
    // Live once the server says hello: a paused answer (below) opens too, but says no hello.
    source.addEventListener("hello", function () {
      push.lastMessage = Date.now();
      push.attempt = 0;
      setState("live");
    });
    source.addEventListener("pause", function () {
      // The server cannot hear changes (its shared store is down): poll, and try the stream
      // again with the usual backoff. A clean answer, so the console stays quiet.
      close();
      push.pauses += 1;
      if (!push.wanted) { return; }
      var backoff = push.config.backoff_ms || [1000, 2000, 4000, 8000, 15000, 30000];
      setState("polling");
      push.retry = setTimeout(open, backoff[Math.min(push.attempt, backoff.length - 1)] * (0.8 + Math.random() * 0.4));
      push.attempt += 1;
    });
    source.addEventListener("ping", function () { push.lastMessage = Date.now(); });
    source.addEventListener("change", onChange);
    source.addEventListener("bye", function () {
      // The worker is stopping: another one takes the stream over at once (nothing is missed:
      // the versions say what changed in between).
      close();
      push.retry = setTimeout(open, 100 + Math.random() * 400);
    });
    source.onmessage = function () { push.lastMessage = Date.now(); };
    source.onerror = function () { failed(); };
  }

  function failed() {
    close();
    if (!push.wanted) { return; }
    var delay;
    if (push.attempt === 0 && push.state === "live") {
      delay = 300 + Math.random() * 700;  // a dropped stream: one quick retry before polling
    } else {
      var backoff = push.config.backoff_ms || [1000, 2000, 4000, 8000, 15000, 30000];
      delay = backoff[Math.min(push.attempt, backoff.length - 1)] * (0.8 + Math.random() * 0.4);
      setState("polling");
    }
    push.attempt += 1;
    push.retry = setTimeout(open, delay);
  }

  function heartbeat() {
    // While live the Interval is off: this is the page's one keep-alive fetch. An unfinished
    // open job is revalidated too (its elapsed time and estimate move with the clock).
    if (push.state !== "live") { return; }
    bump("list");
    if (push.job && push.settledJob !== push.job) { bump("job"); }
  }

  function watchdog() {
    // Keep-alives come every 15 s; a proxy that silently stalls the stream is caught here.
    if (push.source && push.state === "live" && Date.now() - push.lastMessage > (push.config.stale_ms || 40000)) {
      failed();
    }
  }

  function stopTimers() {
    if (push.heartbeat) { clearInterval(push.heartbeat); push.heartbeat = null; }
    if (push.watchdog) { clearInterval(push.watchdog); push.watchdog = null; }
  }

  window.fakeaiPush = {
    /* Called by the bridge callback whenever auto-refresh, the open job or the compared jobs
     * change; returns the state now. */
    configure: function (enabled, job, compare, config) {
      push.config = config || {};
      var on = enabled && push.config.enabled !== false && typeof EventSource !== "undefined";
      if (!on) {
        push.wanted = false;
        close();
        stopTimers();
        push.state = enabled ? "polling" : "off";
        return report();
      }
      push.wanted = true;
      push.job = job;
      push.compare = (compare || []).slice(0, 8);
      if (!push.heartbeat) {
        push.heartbeat = setInterval(heartbeat, push.config.heartbeat_ms || 45000);
        push.watchdog = setInterval(watchdog, 5000);
      }
      if (streamUrl() !== push.url || (!push.source && !push.retry)) {
        if (push.state === "off") { push.state = "polling"; }
        push.attempt = 0;
        open();
      }
      return report();
    },
    /* Whether the open job is settled (its details say so): the heartbeat then leaves it alone. */
    settled: function (job, final) { push.settledJob = final ? job : null; },
    /* For tests and the load harness: what the bridge has done so far. */
    stats: function () {
      return {state: push.state, opened: push.opened, changes: push.changes, attempt: push.attempt,
              url: push.url, pauses: push.pauses, holds: push.holds,
              heard: Object.assign({}, push.heard), bumps: Object.assign({}, push.counters), versions: Object.assign({}, push.versions)};
    }
  };
})();
