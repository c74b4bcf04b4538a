// The theme before anything paints: loaded in <head> (app.py INDEX_STRING), not with the other
// assets at the end of the body, so the page never shows the wrong theme first. The user's
// choice (localStorage) wins; a first visit follows the browser's prefers-color-scheme.
// components/theme_switch.py reads and changes the theme through window.fakeaiTheme.
(function () {
  var KEY = "fakeai-dash-theme";
  var root = document.documentElement;

  function valid(theme) { return theme === "light" || theme === "dark" ? theme : null; }

  function stored() {
    try { return valid(window.localStorage.getItem(KEY)); } catch (blocked) { return null; }
  }

  function preferred() {
    var media = window.matchMedia;
    if (media && media("(prefers-color-scheme: dark)").matches) { return "dark"; }
    if (media && media("(prefers-color-scheme: light)").matches) { return "light"; }
    return "dark";  // no preference expressed: the NVIDIA dark look
  }

  // The server draws a job's first charts into its page (server/first_view.py) in the theme
  // this names. Set on every load, before the page's first request: a session cookie is enough.
  function share(theme) {
    try { document.cookie = KEY + "=" + theme + "; path=/; SameSite=Lax"; } catch (blocked) { /* drawn dark, then redrawn */ }
  }

  root.setAttribute("data-bs-theme", stored() || preferred());
  share(root.getAttribute("data-bs-theme"));

  window.fakeaiTheme = {
    key: KEY,
    get: function () { return valid(root.getAttribute("data-bs-theme")) || "dark"; },
    // Applies and remembers a theme the user picked.
    choose: function (theme) {
      theme = valid(theme) || "dark";
      root.setAttribute("data-bs-theme", theme);
      share(theme);
      try { window.localStorage.setItem(KEY, theme); } catch (blocked) { /* private mode: this page only */ }
      return theme;
    },
  };
})();
