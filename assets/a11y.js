// Accessible names and roles that third-party components cannot be given from Python, kept in
// place as the page re-renders (WCAG 2.1 AA; tests/browser/test_accessibility.py runs axe-core).
//
// - A wrapper with data-a11y-name="…" data-a11y-targets="<selector>" names the matching elements
//   inside it (dbc.Progress's bar, the smoothing slider's thumb and input, dcc.Upload's input).
// - Dash 4.4's dcc.Dropdown: its trigger is reached through a hidden focus proxy, an input that
//   is aria-hidden yet in the tab order; the trigger button itself becomes the tab stop. Its
//   popover (role=dialog) and options list (role=listbox of labels wrapping checkboxes, which
//   nests controls inside options) carry no name: they are named after the dropdown, and the
//   options become what they are, a group of labelled checkboxes (radios for a single pick).
// - A table that scrolls sideways (dbc.Table responsive) and holds nothing focusable becomes a
//   focusable region named after its card, so the keyboard can scroll it too.
(function () {
  "use strict";

  function setAttr(el, name, value) {
    if (el.getAttribute(name) !== value) { el.setAttribute(name, value); }
  }

  function dropAttr(el, name) {
    if (el.hasAttribute(name)) { el.removeAttribute(name); }
  }

  function nameTargets(root) {
    root.querySelectorAll("[data-a11y-name][data-a11y-targets]").forEach(function (box) {
      const name = box.getAttribute("data-a11y-name");
      box.querySelectorAll(box.getAttribute("data-a11y-targets")).forEach(function (el) {
        if (!el.hasAttribute("aria-labelledby")) { setAttr(el, "aria-label", name); }
      });
    });
  }

  function dropdownName(trigger) {
    const label = trigger && trigger.labels && trigger.labels[0];
    const text = label ? label.textContent : (trigger && trigger.textContent);
    return (text || T("Options")).trim();
  }

  // Dash names the trigger by its value and count spans (aria-labelledby), whose visible text
  // runs together without the separators CSS draws ("…0012gpt-4o…2 compared"), so the name
  // cannot hold the visible text (WCAG 2.5.3). With a <label>, the label names the trigger and
  // the value and count describe it: "Filter by model, button, All models".
  function nameTrigger(trigger) {
    if (!trigger.id || !(trigger.labels && trigger.labels.length)) { return; }
    const parts = [];
    ["-value", "-value-count"].forEach(function (suffix) {
      const part = trigger.querySelector("[id='" + CSS.escape(trigger.id + suffix) + "']");
      if (part) { parts.push(part.id); }
    });
    dropAttr(trigger, "aria-labelledby");
    if (parts.length) { setAttr(trigger, "aria-describedby", parts.join(" ")); } else { dropAttr(trigger, "aria-describedby"); }
  }

  function fixDropdowns(root) {
    root.querySelectorAll(".dash-dropdown-wrapper").forEach(function (wrapper) {
      const proxy = wrapper.querySelector(":scope > .dash-dropdown-focus-target");
      const trigger = wrapper.querySelector("button.dash-dropdown");
      if (proxy && trigger) {
        // The proxy only forwards focus to the trigger: the trigger takes the tab stop itself.
        if (proxy.tabIndex !== -1) { proxy.tabIndex = -1; }
        if (!trigger.disabled && trigger.tabIndex !== 0) { trigger.tabIndex = 0; }
      }
      if (trigger) { nameTrigger(trigger); }
      const name = dropdownName(trigger);
      wrapper.querySelectorAll(".dash-dropdown-content[role=dialog]").forEach(function (popover) {
        setAttr(popover, "aria-label", name);
      });
      wrapper.querySelectorAll(".dash-options-list").forEach(function (list) {
        setAttr(list, "role", "group");
        setAttr(list, "aria-label", name);
        list.querySelectorAll("label.dash-options-list-option").forEach(function (option) {
          dropAttr(option, "role");
          dropAttr(option, "aria-selected");
        });
      });
    });
  }

  function scrollableTables(root) {
    root.querySelectorAll(".table-responsive").forEach(function (box) {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      const focusable = box.querySelector("a[href], button, input, select, textarea, [tabindex]");
      if (scrolls && !focusable) {
        const card = box.closest(".card");
        const header = card && card.querySelector(".card-header");
        setAttr(box, "tabindex", "0");
        setAttr(box, "role", "region");
        setAttr(box, "aria-label", ((header && header.textContent) || T("Table")).trim());
      } else if (box.getAttribute("role") === "region") {
        dropAttr(box, "tabindex");
        dropAttr(box, "role");
        dropAttr(box, "aria-label");
      }
    });
  }

  let queued = false;
  function repair() {
    queued = false;
    nameTargets(document);
    fixDropdowns(document);
    scrollableTables(document);
  }

  // Mutations arrive in bursts (a grid scroll, a re-render): one repair per burst, before paint.
  const observer = new MutationObserver(function () {
    if (!queued) { queued = true; queueMicrotask(repair); }
  });
  function start() {
    observer.observe(document.body, {childList: true, subtree: true, attributes: true,
                                     attributeFilter: ["tabindex", "role", "aria-selected", "aria-label",
                                                       "aria-labelledby"]});
    window.addEventListener("resize", function () { if (!queued) { queued = true; queueMicrotask(repair); } });
    repair();
  }
  if (document.body) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
