/* Value helpers for the jobs grid: times stay relative to the viewer's clock. */
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

dagfuncs.relativeTime = function (epochSeconds) {
  if (!epochSeconds) return "—";
  var s = Math.max(0, Date.now() / 1000 - epochSeconds);
  if (s < 45) return "just now";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  if (s < 86400) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " days ago";
};

dagfuncs.absoluteTime = function (epochSeconds) {
  if (!epochSeconds) return "";
  // UTC, like every server-rendered time on the page.
  return new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace("T", " ") + " UTC";
};

dagfuncs.compactNumber = function (n) {
  if (n == null) return "—";
  if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (n >= 1e3) return (n / 1e3).toFixed(1) + "K";
  return String(n);
};

/* Running jobs with an expected finish time: elapsed share of the expected duration. */
dagfuncs.estimatedProgress = function (d) {
  if (!d || d.status !== "running" || !d.estimated_finish || !d.created_at) return null;
  var total = d.estimated_finish - d.created_at;
  if (total <= 0) return null;
  var pct = Math.round((100 * (Date.now() / 1000 - d.created_at)) / total);
  return Math.max(0, Math.min(99, pct));
};

dagfuncs.searchText = function (d) {
  return [d.id, d.model, d.suffix, d.fine_tuned_model].filter(Boolean).join(" ");
};
