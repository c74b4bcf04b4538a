/* The scripts' strings in the page's language. The server puts their translations in the page
   head (fakeai_dash/i18n_web.py, from the same gettext catalog as the Python side); T("msgid")
   marks a string for `pybabel extract` (babel.cfg) and looks it up here. Loaded first (sorted
   name): other scripts call T when they draw, never before the page is parsed. */
(function () {
  var catalog = null;

  function load() {
    if (catalog) return catalog;
    var block = document.getElementById("fakeai-i18n");
    try {
      catalog = block ? JSON.parse(block.textContent) : {};
    } catch (unreadable) {
      catalog = {};
    }
    catalog.messages = catalog.messages || {};
    return catalog;
  }

  /* T("Step {step} of {total}", {step: 3, total: 10}): placeholders as in Python's str.format. */
  window.T = function (msgid, values) {
    var text = load().messages[msgid] || msgid;
    if (!values) return text;
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  };

  /* The page's locale as a BCP 47 tag for Intl (numbers, dates). */
  window.fakeaiLocale = function () {
    return {de: "de-DE", zh: "zh-CN"}[load().locale] || "en-US";
  };
})();
