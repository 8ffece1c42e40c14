// 字体 and 配色 on the static site (tts-service publish): kept in localStorage, since no server reads a
// cookie there. Loaded in <head> without defer, so a chosen size and scheme apply before the first paint.
// Without JavaScript the buttons stay hidden and the page has the default size and colours.
"use strict";

(function () {
  const CHOICES = { size: ["s", "m", "l", "xl"], scheme: ["auto", "contrast"] };
  const key = (name) => `tts_${name}`;
  const root = document.documentElement;

  // localStorage can be missing or refuse (storage disabled): the choice then lasts for this page only.
  function saved(name) {
    try { return localStorage.getItem(key(name)); } catch { return null; }
  }

  function keep(name, value) {
    try { localStorage.setItem(key(name), value); } catch { /* applies now, not kept */ }
  }

  function apply(name, value) {
    root.className = root.className.replace(new RegExp(`\\b${name}-\\S+`), `${name}-${value}`);
  }

  for (const name of Object.keys(CHOICES)) {
    const value = saved(name);
    if (CHOICES[name].includes(value)) apply(name, value);
  }

  function showPressed(name) {
    for (const button of document.querySelectorAll(`button[data-pref="${name}"]`)) {
      button.setAttribute("aria-pressed", String(root.classList.contains(`${name}-${button.value}`)));
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("button[data-pref]")) {
      const name = button.dataset.pref;
      if (!(name in CHOICES) || !CHOICES[name].includes(button.value)) continue;
      button.addEventListener("click", () => {
        apply(name, button.value);
        keep(name, button.value);
        showPressed(name);
      });
    }
    for (const name of Object.keys(CHOICES)) showPressed(name);
    for (const element of document.querySelectorAll(".prefs.needs-js")) element.hidden = false;
  });
})();
