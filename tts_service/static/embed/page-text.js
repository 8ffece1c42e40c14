// The host page's title and paragraphs, by exactly the rule of tts_service/text/blocks.py (the crawler
// stores a page by that rule, so what the toolbar sends matches what was crawled). Keep the two in step;
// tests/web/test_embed_browser.py compares them on real pages. For each paragraph it also keeps where every
// character came from (text node and offset), so that a sentence's offsets map back to a DOM Range.
"use strict";

(function (ns) {
  const words = (text) => new Set(text.split(" "));
  const BLOCK_TAGS = words(
    "address article aside blockquote body br caption center dd details dialog div dl dt fieldset figcaption"
    + " figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section summary table tbody"
    + " td tfoot th thead tr ul",
  );
  const NEVER_READ = words(
    "audio button canvas embed head iframe input math noscript object option script select style svg"
    + " template textarea title tts-toolbar video",
  );
  const WHITESPACE = /\s/;  // blocks.WHITESPACE spells out these same characters
  const HIDDEN_STYLE = /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!important)?\s*(?:;|$)/i;
  const FALLBACK_ROOTS = ["[data-tts-article]", "article", "main"];

  const collapse = (text) => text.replace(/\s+/g, " ").replace(/^ +| +$/g, "");
  const codePoints = (text) => [...text].length;  // Python's len()

  function hidden(el) {
    // The markup's own marks (as the crawler sees them), and what the site's stylesheets hide.
    if (el.hasAttribute("hidden") || (el.getAttribute("aria-hidden") || "").trim().toLowerCase() === "true") {
      return true;
    }
    if (HIDDEN_STYLE.test(el.getAttribute("style") || "")) return true;
    const style = getComputedStyle(el);
    return style.display === "none" || style.visibility === "hidden";
  }

  function largestBlock() {
    // The element whose own <p> children hold the most text (the first one on a tie).
    let best = null;
    let bestSize = 0;
    for (const el of [document.documentElement, ...document.documentElement.querySelectorAll("*")]) {
      let size = 0;
      for (const child of el.children) {
        if (child.localName === "p") size += codePoints(collapse(child.textContent));
      }
      if (size > bestSize) [best, bestSize] = [el, size];
    }
    return best;
  }

  function articleRoot(selector) {
    if (selector) return document.querySelector(selector);  // null: nothing to read, as blocks says
    for (const css of FALLBACK_ROOTS) {
      const found = document.querySelector(css);
      if (found) return found;
    }
    return largestBlock() || document.body;
  }

  // Collects characters into paragraphs, collapsing whitespace as it goes and remembering each
  // character's source: a collapsed space comes from the first whitespace character of its run.
  class Paragraphs {
    constructor() {
      this.found = [];
      this.open();
    }

    open() {
      Object.assign(this, { chars: [], nodes: [], offsets: [], space: null });
    }

    add(node) {
      const data = node.data;
      for (let k = 0; k < data.length; k += 1) {
        if (WHITESPACE.test(data[k])) {
          if (this.chars.length && !this.space) this.space = [node, k];
          continue;
        }
        if (this.space) this.push(" ", ...this.space);
        this.space = null;
        this.push(data[k], node, k);
      }
    }

    push(char, node, offset) {
      this.chars.push(char);
      this.nodes.push(node);
      this.offsets.push(offset);
    }

    close() {
      if (this.chars.length) {
        this.found.push({ text: this.chars.join(""), nodes: this.nodes, offsets: this.offsets });
      }
      this.open();
    }
  }

  function walk(el, skipped, out) {
    const tag = el.localName.toLowerCase();
    if (skipped.has(el) || NEVER_READ.has(tag) || hidden(el)) return;
    const block = BLOCK_TAGS.has(tag);
    if (block) out.close();
    for (const node of el.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) out.add(node);
      else if (node.nodeType === Node.ELEMENT_NODE) walk(node, skipped, out);
    }
    if (block) out.close();
  }

  function titleOf(selector) {
    if (selector) {
      const found = document.querySelector(selector);
      if (found) return collapse(found.textContent);
    }
    for (const css of ["h1", "title"]) {
      const found = document.querySelector(css);
      if (found && collapse(found.textContent)) return collapse(found.textContent);
    }
    return "";
  }

  // The page as blocks.host_page reads it: {root, title, paragraphs: [{text, nodes, offsets}]}; root is
  // null when the article selector matches nothing.
  function read({ article, skip, title } = {}) {
    const root = articleRoot(article);
    const out = new Paragraphs();
    if (root) {
      const skipped = new Set(skip ? root.querySelectorAll(skip) : []);
      if (skip && root.matches(skip)) skipped.add(root);
      walk(root, skipped, out);
      out.close();
    }
    return { root, title: titleOf(title), paragraphs: out.found };
  }

  ns.pageText = { read, collapse };
})(globalThis.ttsService);
