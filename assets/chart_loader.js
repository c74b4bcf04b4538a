// plotly.js for the charts: the official "basic" bundle (scatter, bar, pie; the dashboard draws
// only scatter traces), 1.2 MB instead of the 4.8 MB full bundle dcc.Graph would fetch — and
// parse, which was most of the time a job's first chart took. dcc.Graph uses window.Plotly
// when it is already there, so the graphs mount only once this has loaded (lazy_graphs.py).
// Nothing loads on the jobs list; on a job's own URL it starts at once, alongside Dash's start.
(function () {
  // The vendored file's version, as its ?m=: a new file gets a new URL (assets are cached for a year).
  const VERSION = "4.1.1";
  const base = (document.currentScript && document.currentScript.src) || location.href;
  let loading = null;

  function loadPlotly() {
    if (window.Plotly) { return Promise.resolve(window.Plotly); }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        const script = document.createElement("script");
        script.src = new URL("vendor/plotly-basic.min.js?m=" + VERSION, base).href;
        script.onload = function () { resolve(window.Plotly); };
        script.onerror = function () { loading = null; reject(new Error("plotly.js did not load")); };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  window.fakeaiDash = Object.assign(window.fakeaiDash || {}, {loadPlotly: loadPlotly});
  if (/\/jobs\/[^/]+\/?$/.test(location.pathname)) { loadPlotly().catch(function () {}); }
})();
