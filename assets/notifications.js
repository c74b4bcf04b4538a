/* Browser notifications and alert badges (fakeai_dash/components/notifications.py, training_alerts.py).

   Everything here runs in the browser from stores the page already has (the jobs list and the
   alerts map): the server sends nothing extra for notifications.

   - A job's terminal transition (succeeded, failed, cancelled) is announced once per browser:
     the last status seen per job is kept in localStorage, so a refresh, a reload or a second
     tab finds it already announced. A job first seen already finished is no transition.
   - Tabs take turns through the Web Locks API (one lock per origin): the first tab to see a
     transition records and announces it, the next one finds it recorded.
   - Where notifications are unsupported or not granted, an in-page toast says the same.
*/
(function () {
  "use strict";
  var SEEN_KEY = "fakeai-dash:seen-status";      // {job id: last status seen}
  var ALERTED_KEY = "fakeai-dash:announced-alerts"; // {job id: [alert kinds announced]}
  var ENABLED_KEY = "fakeai-dash:notify-enabled"; // "1" once the user opted in
  var LOCK = "fakeai-dash-notify";
  var TERMINAL = ["succeeded", "failed", "cancelled"];
  var BUTTON = "notify-enable-button";
  var TOASTS = "notify-toasts";
  var TOAST_MS = 20000;

  function read(key) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch (unreadable) {
      return null;
    }
  }

  function write(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (full) { /* private mode, quota */ }
  }

  function enabled() {
    try { return window.localStorage.getItem(ENABLED_KEY) === "1"; } catch (blocked) { return false; }
  }

  function permission() {
    return "Notification" in window ? window.Notification.permission : "unsupported";
  }

  /* -- what to announce (pure: tested through the browser tests) ------------------------ */

  // Terminal statuses stick: a tab holding an older list must not turn "succeeded" back into
  // "running" and so announce the same success again later.
  function transitions(rows, seen, first) {
    var found = [];
    var next = {};
    rows.forEach(function (row) {
      if (!row || typeof row.id !== "string") { return; }
      var before = seen[row.id];
      var status = String(row.status);
      if (TERMINAL.indexOf(before) >= 0) { next[row.id] = before; return; }
      next[row.id] = status;
      if (!first && before !== undefined && before !== status && TERMINAL.indexOf(status) >= 0) {
        found.push({id: row.id, status: status, row: row});
      }
    });
    return {found: found, seen: next};
  }

  // Kinds announced per job only ever grow (while the job is listed): a reload whose alerts map
  // arrives after its jobs list, or an alert that comes and goes, is not announced again.
  function newAlerts(alerts, announced, rows, first) {
    var found = [];
    var next = {};
    var byId = {};
    rows.forEach(function (row) { if (row && row.id) { byId[row.id] = row; } });
    Object.keys(announced).forEach(function (id) {
      if (byId[id] && Array.isArray(announced[id])) { next[id] = announced[id].slice(); }
    });
    Object.keys(alerts || {}).forEach(function (id) {
      if (!byId[id]) { return; }  // only jobs this user sees in the list
      next[id] = next[id] || [];
      shownAlerts(alerts[id], byId[id]).forEach(function (alert) {
        if (next[id].indexOf(alert.kind) >= 0) { return; }
        next[id].push(alert.kind);
        if (!first) { found.push({id: id, alert: alert, row: byId[id]}); }
      });
    });
    return {found: found, announced: next};
  }

  function shownAlerts(list, row) {
    // A stall is about a running job: once the list says it moved on, the stall is over.
    return (Array.isArray(list) ? list : []).filter(function (a) {
      return a && typeof a.kind === "string" && (a.kind !== "stall" || (row && row.status === "running"));
    });
  }

  function jobLabel(row) {
    return (row.model || "job") + (row.suffix ? " · " + row.suffix : "") + " · " + row.id;
  }

  /* -- delivery --------------------------------------------------------------------------- */

  function jobPath(id) {
    var prefix = "/";
    try {
      var config = JSON.parse(document.getElementById("_dash-config").textContent);
      prefix = config.requests_pathname_prefix || config.url_base_pathname || "/";
    } catch (noConfig) { /* served at the root */ }
    return prefix + "jobs/" + encodeURIComponent(id);
  }

  function openJob(id) {
    window.focus();
    // What dcc.Link does: dcc.Location hears the event and the page selects the job.
    window.history.pushState({}, "", jobPath(id));
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
  }

  function toast(title, body, id, kind) {
    var box = document.getElementById(TOASTS);
    if (!box) { return; }
    var item = document.createElement("div");
    item.className = "notify-toast notify-" + kind;
    item.setAttribute("role", "status");
    var heading = document.createElement("div");
    heading.className = "notify-toast-title";
    heading.textContent = title;  // text, never HTML: ids and names come from the API
    var text = document.createElement("div");
    text.className = "notify-toast-body";
    text.textContent = body;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white notify-toast-close";
    close.setAttribute("aria-label", T("Dismiss"));
    close.addEventListener("click", function (event) { event.stopPropagation(); item.remove(); });
    item.appendChild(close);
    item.appendChild(heading);
    item.appendChild(text);
    item.addEventListener("click", function () { item.remove(); openJob(id); });
    box.appendChild(item);
    window.setTimeout(function () { item.remove(); }, TOAST_MS);
  }

  function deliver(title, body, id, tag, kind) {
    if (permission() === "granted") {
      try {
        var note = new window.Notification(title, {body: body, tag: tag});
        note.onclick = function () { openJob(id); note.close(); };
        return;
      } catch (refused) { /* some platforms need a service worker: fall back to the toast */ }
    }
    toast(title, body, id, kind);
  }

  function statusTitle(status) {
    return {succeeded: T("Fine-tuning job succeeded"), failed: T("Fine-tuning job failed"),
            cancelled: T("Fine-tuning job cancelled")}[status];
  }

  function announce(rows, alerts, prefs) {
    var seenBefore = read(SEEN_KEY);
    var announcedBefore = read(ALERTED_KEY);
    var status = transitions(rows, seenBefore || {}, seenBefore === null);
    var flagged = newAlerts(alerts, announcedBefore || {}, rows, announcedBefore === null);
    write(SEEN_KEY, status.seen);
    write(ALERTED_KEY, flagged.announced);
    window.fakeaiAlerts.checked = status.seen;  // what this tab last compared (tests read it)
    if (!enabled()) { return; }  // recorded all the same: opting in later announces nothing old
    var wanted = prefs || TERMINAL.concat(["alerts"]);
    status.found.forEach(function (t) {
      if (wanted.indexOf(t.status) >= 0) {
        deliver(statusTitle(t.status), jobLabel(t.row), t.id, "fakeai-dash:" + t.id + ":" + t.status, t.status);
      }
    });
    if (wanted.indexOf("alerts") >= 0) {
      flagged.found.forEach(function (f) {
        deliver(T("Training alert: {title}", {title: T(f.alert.title || f.alert.kind)}), alertText(f.alert) + " — " + jobLabel(f.row),
                f.id, "fakeai-dash:" + f.id + ":alert:" + f.alert.kind, "alert");
      });
    }
  }

  function check(rows, alerts, prefs) {
    if (!Array.isArray(rows)) { return; }
    var run = function () { announce(rows, alerts, prefs); };
    if (navigator.locks && navigator.locks.request) {
      // One tab at a time reads, records and announces: the others find it recorded.
      navigator.locks.request(LOCK, run).catch(function () { /* lock refused: next update tries again */ });
    } else {
      run();
    }
  }

  /* -- the opt-in button: permission is asked on the click itself (a user gesture) ---------- */

  function buttonState() {
    var on = enabled();
    var perm = permission();
    var label = on ? T("Notifications on") : T("Notify me");
    var title = T("Get a notification when a job finishes, fails or is cancelled, or raises a training alert");
    if (on && perm !== "granted") {
      label = T("In-page alerts on");
      title = perm === "unsupported" ? T("This browser has no notifications: alerts show on this page")
                                     : T("Notifications are blocked for this site: alerts show on this page");
    } else if (on) {
      title = T("Notifications are on; click to turn them off");
    }
    return {on: on, permission: perm, label: label, title: title};
  }

  function publishState() {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("notify-state", {data: buttonState()});
    }
  }

  document.addEventListener("click", function (event) {
    if (!event.target || !event.target.closest || !event.target.closest("#" + BUTTON)) { return; }
    if (enabled()) {
      try { window.localStorage.removeItem(ENABLED_KEY); } catch (blocked) { /* nothing kept */ }
      publishState();
      return;
    }
    try { window.localStorage.setItem(ENABLED_KEY, "1"); } catch (blocked) { /* still on for this page */ }
    if (permission() === "default") {
      window.Notification.requestPermission().then(publishState, publishState);
    }
    publishState();
  });

  /* -- alert badges in the jobs list ------------------------------------------------------ */

  /* An alert's sentence in the page's language: its parts translated (alerts.py), else as stored. */
  function alertText(alert) {
    if (Array.isArray(alert.message_parts)) {
      return alert.message_parts.map(function (part) { return T(part[0], part[1]); }).join("");
    }
    return alert.message || "";
  }

  function badgeText(kind) {
    return {nan: T("NaN loss"), divergence: T("diverging"), overfitting: T("overfitting"), stall: T("stalled"),
            budget: T("over budget")}[kind];
  }

  function withAlerts(row, alerts) {
    var shown = shownAlerts(alerts && alerts[row.id], row);
    if (!shown.length) {
      return row.alerts ? Object.assign({}, row, {alerts: null, alert_kinds: null}) : row;
    }
    return Object.assign({}, row, {alerts: shown, alert_kinds: shown.map(function (a) { return a.kind; }).join(" ")});
  }

  function badges(list, h) {
    return h("div", {key: "alerts", className: "alert-badges"}, list.map(function (alert) {
      return h("span", {key: alert.kind, className: "alert-badge alert-" + alert.kind, title: alertText(alert)},
               "⚠ " + (badgeText(alert.kind) || alert.kind));
    }));
  }

  window.fakeaiAlerts = {withAlerts: withAlerts, badges: badges, check: check, state: buttonState,
                         transitions: transitions};
})();
