// plotly.js for the charts: the official "basic" bundle (scatter, bar, pie; the dashboard draws
// only scatter traces), 1.2 MB instead of the 4.8 MB full bundle dcc.Graph would fetch — and
// parse, which was most of the time a job's first chart took. dcc.Graph uses window.Plotly
// when it is already there, so the graphs mount only once this has loaded (lazy_graphs.py).
// Nothing loads on the jobs list; a job's own URL loads it as the page's first script
// (server/first_view.py: its graphs come in the first layout), so this finds it there.
(function () {
  // The vendored file's version, as its ?m=: a new file gets a new URL (assets are cached for a year).
  // server/first_view.py names the files and the version too (a unit test keeps them equal).
  const VERSION = "4.1.1";
  const base = (document.currentScript && document.currentScript.src) || location.href;
  let loading = null;

  // plotly.js's own words (the toolbar's tooltips, month names) in the page's language: its
  // locale files of the same version, loaded after it (they register themselves with Plotly).
  // The graphs name the locale in their config (lazy_graphs.py, plotlyLocale below). Both files
  // are dist/ of the npm package plotly.js@4.1.1, as published (no version line in them: bump
  // them with the bundle and VERSION).
  const LOCALES = {"de-DE": {file: "plotly-locale-de.js", name: "de"},
                   "zh-CN": {file: "plotly-locale-zh-cn.js", name: "zh-CN"}};

  function pageLocale() {
    return LOCALES[window.fakeaiLocale ? window.fakeaiLocale() : "en-US"] || null;
  }

  function plotlyLocale() {
    const locale = pageLocale();
    return locale ? locale.name : "en";
  }

  function loadScript(file) {
    return new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      script.src = new URL("vendor/" + file + "?m=" + VERSION, base).href;
      script.onload = function () { resolve(window.Plotly); };
      script.onerror = function () { reject(new Error(file + " did not load")); };
      document.head.appendChild(script);
    });
  }

  function loadPlotly() {
    if (!loading) {
      // A job's own page loads both as its first scripts (server/first_view.py).
      const locale = document.querySelector("script[data-plotly-locale]") ? null : pageLocale();
      const plotly = window.Plotly ? Promise.resolve(window.Plotly) : loadScript("plotly-basic.min.js");
      loading = plotly.then(function (Plotly) {
        // Without its locale the charts still draw, in English.
        return locale ? loadScript(locale.file).then(function () { return Plotly; }, function () { return Plotly; })
                      : Plotly;
      }, function (error) { loading = null; throw error; });
    }
    return loading;
  }

  window.fakeaiDash = Object.assign(window.fakeaiDash || {}, {loadPlotly: loadPlotly, plotlyLocale: plotlyLocale});
  if (/\/jobs\/[^/]+\/?$/.test(location.pathname)) { loadPlotly().catch(function () {}); }
})();
