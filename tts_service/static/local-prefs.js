// 字体, 配色 and 逐词高亮 on the static site (tts-service publish): kept in localStorage, since no server reads a
// cookie there. Loaded in <head> without defer, so a chosen size and scheme apply before the first paint.
// Without JavaScript the buttons stay hidden and the page has the default size and colours.
"use strict";

(function () {
  const CHOICES = { size: ["s", "m", "l", "xl"], scheme: ["auto", "contrast"], words: ["on", "off"] };
  const key = (name) => `tts_${name}`;
  const root = document.documentElement;

  // localStorage can be missing or refuse (storage disabled): the choice then lasts for this page only.
  function saved(name) {
    try { return localStorage.getItem(key(name)); } catch { return null; }
  }

  function keep(name, value) {
    try { localStorage.setItem(key(name), value); } catch { /* applies now, not kept */ }
  }

  // The page has the classes of size and scheme always; words-off is added when chosen (reader.js alike).
  function apply(name, value) {
    const pattern = new RegExp(`\\b${name}-\\S+`);
    if (pattern.test(root.className)) root.className = root.className.replace(pattern, `${name}-${value}`);
    else root.classList.add(`${name}-${value}`);
  }

  for (const name of Object.keys(CHOICES)) {
    const value = saved(name);
    if (CHOICES[name].includes(value)) apply(name, value);
  }

  function showPressed(name) {
    const buttons = [...document.querySelectorAll(`button[data-pref="${name}"]`)];
    const current = buttons.find((b) => root.classList.contains(`${name}-${b.value}`));
    // A choice with no class on the page (words on, the default) leaves the page's own aria-pressed as it is.
    if (!current) return;
    for (const button of buttons) button.setAttribute("aria-pressed", String(button === current));
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("button[data-pref]")) {
      const name = button.dataset.pref;
      if (!(name in CHOICES) || !CHOICES[name].includes(button.value)) continue;
      button.addEventListener("click", () => {
        apply(name, button.value);
        keep(name, button.value);
        showPressed(name);
        document.dispatchEvent(new CustomEvent("tts-prefs", { detail: name }));  // reader.js's player
      });
    }
    for (const name of Object.keys(CHOICES)) showPressed(name);
    for (const element of document.querySelectorAll(".prefs.needs-js")) element.hidden = false;
  });
})();
