// Reader page behaviour: instant preferences, and the 语音播报 player (player-core.js) with 指读 (at a
// sentence, or at a word with the pointer), 连读 and the word being read highlighted.
// The page works without this file: preferences are forms, and the first sentence has a native player.
"use strict";

(function (ns) {
  const COOKIES = { size: "tts_size", scheme: "tts_scheme", words: "tts_words" };
  const root = document.documentElement;

  // 逐词高亮 (the words preference): on unless the page says off (a page without the class has the default).
  const wordsOn = () => !root.classList.contains("words-off");

  // The choice as a class on <html>; the page has the classes of size and scheme always, and words-off only
  // when the reader chose it (the default needs no class).
  function apply(name, value) {
    const pattern = new RegExp(`\\b${name}-\\S+`);
    if (pattern.test(root.className)) root.className = root.className.replace(pattern, `${name}-${value}`);
    else root.classList.add(`${name}-${value}`);
  }

  function setupPreferences(changed) {
    for (const form of document.querySelectorAll(".pref-group")) {
      form.addEventListener("submit", (event) => {
        const button = event.submitter;
        if (!button || !(button.name in COOKIES)) return;
        event.preventDefault();
        const { name, value } = button;
        document.cookie = `${COOKIES[name]}=${value}; path=/; max-age=31536000; samesite=lax`;
        apply(name, value);
        for (const b of form.querySelectorAll(`button[name=${name}]`)) {
          b.setAttribute("aria-pressed", String(b === button));
        }
        changed(name);
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

  // A paragraph's text nodes with where each starts, in UTF-16 code units: the manifest's offsets count so.
  function textNodes(paragraph) {
    const walker = document.createTreeWalker(paragraph, NodeFilter.SHOW_TEXT);
    const nodes = [];
    for (let at = 0, node = walker.nextNode(); node; node = walker.nextNode()) {
      nodes.push({ node, at });
      at += node.data.length;
    }
    return nodes;
  }

  // The Range of [start, end) in the paragraph that holds sentence index, or null.
  function wordRange(sentences) {
    return (index, [start, end]) => {
      const paragraph = sentences[index]?.closest("p");
      if (!paragraph || end <= start) return null;
      const nodes = textNodes(paragraph);
      const from = nodes.find(({ node, at }) => start >= at && start < at + node.data.length);
      const to = nodes.find(({ node, at }) => end > at && end <= at + node.data.length);
      if (!from || !to) return null;
      const range = new Range();
      range.setStart(from.node, start - from.at);
      range.setEnd(to.node, end - to.at);
      return range;
    };
  }

  // Where a click landed, as an offset in the paragraph of the sentence clicked; null: not in its text.
  function offsetAt(event, sentence) {
    const [node, offset] = ns.caretAt(event.clientX, event.clientY);
    if (!node || node.nodeType !== Node.TEXT_NODE || !sentence.contains(node)) return null;
    const found = textNodes(sentence.closest("p")).find((entry) => entry.node === node);
    return found ? found.at + offset : null;
  }

  // 指读: click a sentence (at the word clicked), or Enter on it (at its start). One tab stop for the whole text (roving tabindex); arrows move
  // between sentences.
  function setupSentences(sentences, player) {
    const focus = (i) => {
      sentences.forEach((el, j) => { el.tabIndex = j === i ? 0 : -1; });
      sentences[i].focus();
    };
    sentences.forEach((el, i) => {
      el.tabIndex = i === 0 ? 0 : -1;
      el.addEventListener("click", (event) => player.readFrom(i, offsetAt(event, el)));
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
      wordRange: wordRange(sentences),
      words: wordsOn,
      pending: root.dataset.status === "pending",
    });
    setupSentences(sentences, player);
    // The page is served with these hidden, so that without JavaScript no button does nothing.
    for (const element of root.querySelectorAll(".needs-js")) element.hidden = false;
    return player;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const players = [...document.querySelectorAll(".player")].map(setupPlayer);
    // A change of 逐词高亮 applies at once, also while paused (no frames run then).
    const changed = (name) => { if (name === "words") for (const player of players) player.showWord(); };
    setupPreferences(changed);
    document.addEventListener("tts-prefs", (event) => changed(event.detail));  // local-prefs.js, static site
  });
})(globalThis.ttsService);
