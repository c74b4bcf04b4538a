/* Keyboard shortcuts (the list the user sees: fakeai_dash/components/shortcuts_help.py).

   One keydown listener hands each key to a control the page already has, so nothing here
   repeats what those controls do, and no write starts here that a click could not start (the
   server checks every write anyway):
   - "/" focuses the jobs search box; "r" clicks the Refresh button; "c" clicks the Create button
     (only when it is enabled: viewers get it disabled); "?" clicks the header's shortcuts button.
   - "j"/"k" move the jobs grid's focused cell (AG Grid's own keyboard cursor, which arrow keys
     move too) down/up; "Enter" on it clicks that cell, the very path a mouse click takes
     (cellClicked -> jobs_list.select_job), so a job opens one way only.
   - "Esc" is left to the dialogs: react-bootstrap's Modal closes on it.
   Keys never fire while the user types (text inputs, textareas, selects, contenteditable), with
   Ctrl, Alt or Meta held, or while a dialog is open.
*/
(function () {
  "use strict";
  var GRID = "jobs-grid";
  var SEARCH = "job-search";
  var REFRESH = "refresh-button";
  var CREATE = "create-job-button";
  var HELP = "shortcuts-help-button";
  var CURSOR_COLUMN = "model"; // the Job column: the cell a screen reader reads on each move
  // Inputs that take no typing: a key pressed on them is still a shortcut.
  var NOT_TEXT = ["button", "submit", "reset", "checkbox", "radio", "file", "range", "color", "image"];

  function isTyping(target) {
    if (!target || target.nodeType !== 1) { return false; }
    if (target.isContentEditable) { return true; }
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") { return true; }
    return tag === "INPUT" && NOT_TEXT.indexOf((target.getAttribute("type") || "text").toLowerCase()) < 0;
  }

  // A dialog on screen: Bootstrap's "show" is set while it opens and dropped the moment it starts
  // to close, so a key pressed while the last one fades out already counts.
  function dialogOpen() {
    return document.querySelector(".modal.show") !== null;
  }

  // A control the user could use with the mouse right now: present, enabled and shown.
  function usable(element) {
    return element !== null && !element.disabled && element.getAttribute("aria-disabled") !== "true" &&
      element.getClientRects().length > 0;
  }

  function clickControl(id) {
    var element = document.getElementById(id);
    if (!usable(element)) { return false; }
    element.click();
    return true;
  }

  // The row the cursor starts from: the focused cell's, else the open (selected) job's.
  function startIndex(api) {
    var focused = api.getFocusedCell();
    if (focused && focused.rowIndex != null) { return focused.rowIndex; }
    var selected = api.getSelectedNodes();
    return selected.length && selected[0].rowIndex != null ? selected[0].rowIndex : null;
  }

  function moveCursor(step) {
    if (!window.dash_ag_grid || !usable(document.getElementById(GRID))) { return; }
    window.dash_ag_grid.getApiAsync(GRID).then(function (api) {
      var count = api.getDisplayedRowCount();
      if (!count) { return; }
      var from = startIndex(api);
      var to = from == null ? 0 : Math.min(count - 1, Math.max(0, from + step));
      api.ensureIndexVisible(to);
      api.setFocusedCell(to, CURSOR_COLUMN); // moves the browser's focus there too
    }).catch(function () { /* the grid went away (page change): nothing to move */ });
  }

  // Enter acts only on a cell of the jobs grid that has the keyboard focus: anywhere else Enter
  // belongs to what is focused (a button, a link, a form).
  function openFocusedJob(target) {
    var cell = target && target.closest ? target.closest("#" + GRID + " .ag-center-cols-container .ag-cell") : null;
    if (!cell) { return false; }
    cell.click();
    return true;
  }

  function onKeyDown(event) {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.altKey || event.metaKey) { return; }
    if (isTyping(event.target) || dialogOpen()) { return; }
    var key = event.key;
    if (event.repeat && key !== "j" && key !== "k") { return; } // a held key moves; it does not click again
    var handled = false;
    if (key === "/") {
      var search = document.getElementById(SEARCH);
      if (usable(search)) { search.focus(); search.select(); handled = true; }
    } else if (key === "j" || key === "k") {
      moveCursor(key === "j" ? 1 : -1);
      handled = true;
    } else if (key === "Enter") {
      handled = openFocusedJob(event.target);
    } else if (key === "c") {
      handled = clickControl(CREATE);
    } else if (key === "r") {
      handled = clickControl(REFRESH);
    } else if (key === "?") {
      var help = document.getElementById(HELP);
      if (help) { help.click(); handled = true; } // opens the overlay even where the header hides it
    }
    if (handled) { event.preventDefault(); } // "/" must not land in the search box it focused
  }

  document.addEventListener("keydown", onKeyDown);
})();
