// The create dialog's upload refuses a file over the server's limit in the browser (dcc.Upload's
// max_size drops it silently): say so, with the words the server would use, instead of silence
// or a request the server must answer 413. The server still checks every upload it receives.
(function () {
  const BOX = "create-job-upload-box", REPORT = "create-job-upload-report", MB = 1024 * 1024;

  function refuse(file, limitMb) {
    const sizeMb = (file.size / MB).toLocaleString(window.fakeaiLocale(), {maximumFractionDigits: 1, minimumFractionDigits: 1});
    const message = T(" was not uploaded: The file is {size} MB; files up to {limit} MB can be uploaded from the " +
                      "browser. Upload larger files with the API and type their id.", {size: sizeMb, limit: limitMb});
    const view = {
      type: "Div", namespace: "dash_html_components",
      props: {id: "create-job-dataset-report", className: "dataset-report dataset-report-invalid", children: [{
        type: "Div", namespace: "dash_html_components",
        props: {className: "report-title", children: [
          {type: "Strong", namespace: "dash_html_components", props: {children: "✗ " + (file.name || T("File"))}},
          message]}}]}};
    window.dash_clientside.set_props(REPORT, {children: view});
  }

  function check(files, target) {
    const box = target && target.closest && target.closest("#" + BOX);
    const limit = box ? Number(box.dataset.limitBytes) : 0;
    if (!limit || !files || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    const over = Array.from(files).find(function (file) { return file.size > limit; });
    if (over) { refuse(over, box.dataset.limitMb); }
  }

  document.addEventListener("change", function (event) { check(event.target.files, event.target); }, true);
  document.addEventListener("drop", function (event) {
    check(event.dataTransfer && event.dataTransfer.files, event.target);
  }, true);
})();
