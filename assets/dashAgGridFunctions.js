/* Value helpers for the jobs grid: times stay relative to the viewer's clock. */
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

dagfuncs.relativeTime = function (epochSeconds) {
  if (!epochSeconds) return "—";
  var s = Math.max(0, Date.now() / 1000 - epochSeconds);
  if (s < 45) return T("just now");
  if (s < 3600) return T("{count} min ago", {count: Math.round(s / 60)});
  if (s < 86400) return T("{count} h ago", {count: Math.round(s / 3600)});
  return T("{count} days ago", {count: Math.round(s / 86400)});
};

dagfuncs.absoluteTime = function (epochSeconds) {
  if (!epochSeconds) return "";
  // UTC, like every server-rendered time on the page.
  return new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace("T", " ") + " UTC";
};

dagfuncs.compactNumber = function (n) {
  if (n == null) return "—";
  // The page's locale: "1.2K" in English, "1,2 Mio." in German, "120万" in Chinese.
  return new Intl.NumberFormat(window.fakeaiLocale ? window.fakeaiLocale() : "en-US",
                               {notation: "compact", maximumFractionDigits: 1}).format(n);
};

/* One progress rule with the details panel. By steps, the percent is the server's: the sync loop
   publishes it with the steps (metrics.shown_progress, the details' own call), so the two cannot
   disagree. Otherwise, for a running job with an expected finish time, the elapsed share of the
   expected duration, marked as an estimate (metrics.estimated_fraction and whole_percent). */
dagfuncs.jobProgress = function (d) {
  if (!d) return null;
  if (d.percent != null && d.total_steps) {
    return {pct: d.percent, estimated: false, title: T("Step {step} of {total}", {step: d.step, total: d.total_steps})};
  }
  if (d.status !== "running" || !d.estimated_finish || !d.created_at) return null;
  var total = d.estimated_finish - d.created_at;
  if (total <= 0) return null;
  var fraction = Math.min(Math.max((Date.now() / 1000 - d.created_at) / total, 0), 0.99);
  return {pct: Math.floor(fraction * 100 + 0.5), estimated: true,
          title: T("Estimated from the API's expected finish time")};
};

/* The cells' values, for the grid's change detection: AG Grid redraws a cell only when its value
   changes, so a cell that draws several fields of its row takes a value made of all of them. */
dagfuncs.jobCellValue = function (d) {
  if (!d) return null;
  return [d.model, d.suffix, d.fine_tuned_model, d.id].map(function (v) { return v == null ? "" : String(v); }).join("\u0001");
};

dagfuncs.statusCellValue = function (d) {
  if (!d) return null;
  var progress = dagfuncs.jobProgress(d);
  var alerts = (d.alerts || []).map(function (a) { return JSON.stringify(a); }).join(",");
  return [d.status, progress ? progress.pct + (progress.estimated ? "~" : "") : "", d.step, d.total_steps,
          alerts].map(function (v) { return v == null ? "" : String(v); }).join("\u0001");
};

dagfuncs.searchText = function (d) {
  return [d.id, d.model, d.suffix, d.fine_tuned_model].filter(Boolean).join(" ");
};
