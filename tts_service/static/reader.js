// Reader page behaviour: instant preferences, and the 语音播报 player (player-core.js) with 指读 and 连读.
// The page works without this file: preferences are forms, and the first sentence has a native player.
"use strict";

(function (ns) {
  const COOKIES = { size: "tts_size", scheme: "tts_scheme" };

  function setupPreferences() {
    for (const form of document.querySelectorAll(".pref-group")) {
      form.addEventListener("submit", (event) => {
        const button = event.submitter;
        if (!button || !(button.name in COOKIES)) return;
        event.preventDefault();
        const { name, value } = button;
        document.cookie = `${COOKIES[name]}=${value}; path=/; max-age=31536000; samesite=lax`;
        const root = document.documentElement;
        root.className = root.className.replace(new RegExp(`\\b${name}-\\S+`), `${name}-${value}`);
        for (const b of form.querySelectorAll(`button[name=${name}]`)) {
          b.setAttribute("aria-pressed", String(b === button));
        }
      });
    }
  }

  // The article's sentences are spans (.chunk) the server rendered, one per chunk, in reading order.
  function highlighter(sentences) {
    return (index) => {
      for (const el of document.querySelectorAll(".chunk.reading")) el.classList.remove("reading");
      const el = sentences[index];
      if (!el) return;
      el.classList.add("reading");
      const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      el.scrollIntoView({ block: "nearest", behavior: smooth ? "smooth" : "auto" });
    };
  }

  // 指读: click a sentence, or Enter on it. One tab stop for the whole text (roving tabindex); arrows move
  // between sentences.
  function setupSentences(sentences, player) {
    const focus = (i) => {
      sentences.forEach((el, j) => { el.tabIndex = j === i ? 0 : -1; });
      sentences[i].focus();
    };
    sentences.forEach((el, i) => {
      el.tabIndex = i === 0 ? 0 : -1;
      el.addEventListener("click", () => player.readFrom(i));
      el.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          player.readFrom(i);
        } else if (["ArrowDown", "ArrowRight", "ArrowUp", "ArrowLeft"].includes(event.key)) {
          event.preventDefault();
          const next = i + (event.key === "ArrowDown" || event.key === "ArrowRight" ? 1 : -1);
          focus(Math.min(sentences.length - 1, Math.max(0, next)));
        }
      });
    });
  }

  // A manifest's URLs are relative to the manifest itself on a static site (tts-service publish); the
  // server's are absolute and come out unchanged. The player compares them with the audio element's src,
  // which is always absolute.
  function resolved(manifest, base) {
    const at = (url) => (url ? new URL(url, base).href : url);
    const chunks = manifest.chunks.map((chunk) => ({ ...chunk, url: at(chunk.url) }));
    return { ...manifest, url: at(manifest.url), captions_url: at(manifest.captions_url), chunks };
  }

  async function loadManifest(root) {
    const url = new URL(root.dataset.manifest, document.baseURI).href;
    return resolved(await ns.getJSON(url), url);
  }

  function setupPlayer(root) {
    const sentences = [...document.querySelectorAll(".article-body .chunk")];
    const player = new ns.Player(root, {
      load: () => loadManifest(root),
      highlight: highlighter(sentences),
      pending: root.dataset.status === "pending",
    });
    setupSentences(sentences, player);
    // The page is served with these hidden, so that without JavaScript no button does nothing.
    for (const element of root.querySelectorAll(".needs-js")) element.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupPreferences();
    for (const root of document.querySelectorAll(".player")) setupPlayer(root);
  });
})(globalThis.ttsService);
