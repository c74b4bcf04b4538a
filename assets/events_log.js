/* Value helpers for the events grid (fakeai_dash/components/events_log.py). */
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

/* info / warning / error, or "other" for a level the filters fold into info (debug, notice…). */
dagfuncs.eventLevelClass = function (d) {
  var level = (d && d.level) || "info";
  return level === "info" || level === "warning" || level === "error" ? level : "other";
};

dagfuncs.eventRowClass = function (params) {
  var d = params.data || {};
  return "events-grid-row level-" + dagfuncs.eventLevelClass(d) + " type-" + (d.type_group || "message");
};

/* Metrics data on one line: "step 120 · train_loss 0.4123 · …". */
dagfuncs.eventDataText = function (data) {
  if (!data || typeof data !== "object") return "";
  return Object.keys(data).map(function (key) {
    var value = data[key];
    if (typeof value === "number" && !Number.isInteger(value)) value = Number(value.toPrecision(5));
    return key + " " + (typeof value === "object" ? JSON.stringify(value) : value);
  }).join(" · ");
};

dagfuncs.eventDataJson = function (data) {
  if (!data || typeof data !== "object") return null;
  return JSON.stringify(data, Object.keys(data).sort(), 2);
};
