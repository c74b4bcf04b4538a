/* Cell renderers for the jobs grid (dash-ag-grid looks them up by name here). */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

var KNOWN_STATUSES = ["validating_files", "queued", "running", "succeeded", "failed", "cancelled", "paused", "pending"];
var h = function () { return React.createElement.apply(React, arguments); };

/* Status names in the page's language (built when first drawn: T is defined by then). */
var statusNames = null;
function statusName(status) {
  statusNames = statusNames || {
    validating_files: T("validating files"), queued: T("queued"), running: T("running"),
    succeeded: T("succeeded"), failed: T("failed"), cancelled: T("cancelled"), paused: T("paused"),
    pending: T("pending"),
  };
  return statusNames[status];
}

function statusBadge(status) {
  var known = KNOWN_STATUSES.indexOf(status) >= 0;
  return h("span", {
    key: "badge",
    className: "status-badge " + (known ? "status-" + status : "status-other"),
    title: known ? statusName(status) : T("Status reported by the API: {status}", {status: status}),
  }, known ? statusName(status) : status);
}

dagcomponentfuncs.StatusCell = function (props) {
  // The cell's value is statusCellValue's (every field drawn here); the badge is the row's status.
  var status = props.data == null || props.data.status == null ? "unknown" : String(props.data.status);
  var progress = window.dashAgGridFunctions.jobProgress(props.data);
  var children = [statusBadge(status)];
  if (progress != null) {
    var label = progress.estimated ? T("~{percent} est.", {percent: progress.pct + "%"}) : progress.pct + "%";
    children.push(h("div", { key: "p", className: "progress-cell", title: progress.title }, [
      h("div", { key: "b", className: "bar" }, h("span", { style: { width: progress.pct + "%" } })),
      h("span", { key: "t", className: "pct" }, label),
    ]));
  }
  if (props.data && props.data.alerts && window.fakeaiAlerts) {
    children.push(window.fakeaiAlerts.badges(props.data.alerts, h));  // assets/notifications.js
  }
  return h("div", { className: "status-cell" }, children);
};

dagcomponentfuncs.JobCell = function (props) {
  var d = props.data || {};
  var lines = [
    h("div", { key: "m", className: "job-cell-model" }, [
      h("span", { key: "n" }, d.model || "—"),
      d.suffix ? h("span", { key: "s", className: "job-cell-suffix" }, d.suffix) : null,
    ]),
    h("div", { key: "i", className: "job-cell-id" }, d.id),
  ];
  if (d.fine_tuned_model) {
    lines.push(h("div", { key: "f", className: "job-cell-output", title: T("Fine-tuned model") }, "→ " + d.fine_tuned_model));
  }
  return h("div", { className: "job-cell", title: d.fine_tuned_model || d.id }, lines);
};
