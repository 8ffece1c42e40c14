// Where each sentence of the audio is in the host page, and the sentence being read shown there without
// rewriting the page: the CSS Custom Highlight API (highlight "tts-sentence"), or, where a browser lacks
// it, <mark> elements that are taken out again exactly (the page's own text nodes keep their identity).
// The word being read is found by the same mapping (wordRange); the player shows it as "tts-word", and
// only with the API (no <mark> for words: a browser without it shows the sentence alone).
"use strict";

(function (ns) {
  const HIGHLIGHTS = Boolean(globalThis.CSS?.highlights && globalThis.Highlight);

  // The stored paragraphs (the service's) matched to the page's own, in order: equal, or found inside one
  // (an editor's text may be part of a longer paragraph). [own index, base offset], or null: not shown.
  function match(own, stored) {
    let j = 0;
    let from = 0;
    return stored.map((text) => {
      for (let k = j; k < own.length; k += 1) {
        const at = own[k].text.indexOf(text, k === j ? from : 0);
        if (at >= 0) {
          [j, from] = [k, at + text.length];
          return [k, at];
        }
      }
      return null;
    });
  }

  // Marks around a sentence's text: each text node it touches is cut in three, and put back whole.
  class Marks {
    constructor() { this.cuts = []; }

    wrap(node, start, end) {
      const original = node.data;
      const mark = document.createElement("mark");
      mark.setAttribute("data-tts-mark", "");
      mark.textContent = original.slice(start, end);
      const after = document.createTextNode(original.slice(end));
      node.data = original.slice(0, start);
      node.after(mark, after);
      this.cuts.push({ node, original, mark, after, start, end });
    }

    clear() {
      for (const { node, original, mark, after } of this.cuts.splice(0)) {
        mark.remove();
        after.remove();
        node.data = original;
      }
    }

    // A point inside a mark, or after one, as a point in the page's own text node.
    original(node, offset) {
      for (const cut of this.cuts) {
        if (node === cut.mark.firstChild || node === cut.mark) return [cut.node, cut.start + offset];
        if (node === cut.after) return [cut.node, cut.end + offset];
      }
      return [node, offset];
    }

    range() {
      if (!this.cuts.length) return null;
      const range = new Range();
      range.setStartBefore(this.cuts[0].mark);
      range.setEndAfter(this.cuts[this.cuts.length - 1].mark);
      return range;
    }
  }

  // A Range over characters [start, end) of a paragraph read by pageText.read, or null.
  function charRange({ nodes, offsets }, start, end) {
    try {
      const range = new Range();
      range.setStart(nodes[start], offsets[start]);
      range.setEnd(nodes[end - 1], offsets[end - 1] + 1);
      return range;
    } catch {  // the page changed its text since it was read
      return null;
    }
  }

  class Highlighter {
    // own: the page's paragraphs (pageText.read); options.bottom(): the height the toolbar covers at the
    // bottom of the viewport (大字幕), kept clear when a sentence is scrolled into view.
    constructor(own, options = {}) {
      this.own = own;
      this.options = options;
      this.spans = [];  // per sentence: {paragraph (own index), start, end} in the own text, or null
      this.marks = HIGHLIGHTS ? null : new Marks();
    }

    // Each span keeps at, where the stored paragraph starts in the page's own: a mark's offsets count in
    // the stored one, as the sentence's do.
    map(manifest) {
      const bases = match(this.own, manifest.paragraphs);
      this.spans = manifest.chunks.map((chunk) => {
        const base = bases[chunk.paragraph];
        if (!base) return null;
        const [paragraph, at] = base;
        const [start, end] = [at + chunk.offsets[0], at + chunk.offsets[1]];
        return start < end && end <= this.own[paragraph].text.length ? { paragraph, start, end, at } : null;
      });
    }

    range(index) {
      const span = this.spans[index];
      return span ? charRange(this.own[span.paragraph], span.start, span.end) : null;
    }

    // The Range of a mark's text ([start, end) in the stored paragraph) of sentence index, or null.
    wordRange(index, [start, end]) {
      const span = this.spans[index];
      if (!span || start < span.start - span.at || end > span.end - span.at || end <= start) return null;
      return charRange(this.own[span.paragraph], span.at + start, span.at + end);
    }

    show(index) {
      if (this.marks) return this.mark(index);
      const range = this.range(index);
      if (!range) return CSS.highlights.delete("tts-sentence");
      const highlight = new Highlight(range);
      highlight.priority = 1;  // over 指读's pointer where the two meet
      CSS.highlights.set("tts-sentence", highlight);
      this.reveal(range);
    }

    // The sentence 指读 points at with the keyboard (where the browser has highlights).
    point(index) {
      if (this.marks) return;
      const range = index === null ? null : this.range(index);
      if (range) CSS.highlights.set("tts-point", new Highlight(range));
      else CSS.highlights.delete("tts-point");
    }

    mark(index) {
      this.marks.clear();
      const span = this.spans[index];
      if (!span) return;
      const { nodes, offsets } = this.own[span.paragraph];
      const touched = new Map();  // text node → [first, last] offsets of the sentence in it
      for (let k = span.start; k < span.end; k += 1) {
        const [first] = touched.get(nodes[k]) || [offsets[k]];
        touched.set(nodes[k], [first, offsets[k]]);
      }
      const list = [...touched];
      list.forEach(([node, [first, last]], n) => {
        const start = n === 0 ? first : 0;  // whitespace between a sentence's nodes is marked too
        this.marks.wrap(node, start, n === list.length - 1 ? last + 1 : node.data.length);
      });
      this.reveal(this.marks.range());
    }

    reveal(range) {
      const rect = range?.getBoundingClientRect();
      if (!rect || (!rect.width && !rect.height)) return;
      const bottom = innerHeight - (this.options.bottom?.() || 0);
      if (rect.top >= 8 && rect.bottom <= bottom - 8) return;
      const smooth = !matchMedia("(prefers-reduced-motion: reduce)").matches;
      scrollBy({ top: rect.top - Math.max(8, bottom / 3), behavior: smooth ? "smooth" : "auto" });
    }

    // The sentence at a point of the page (a click), or the next one in its paragraph, and the offset of
    // the point in that sentence's stored paragraph (where in the sentence, for a mark), or null when the
    // point is not inside it; [-1, null] if none.
    pointAt(node, offset) {
      if (this.marks) [node, offset] = this.marks.original(node, offset);
      for (let p = 0; p < this.own.length; p += 1) {
        const { nodes, offsets } = this.own[p];
        let k = -1;  // the first character at or after the point (or the node's last one)
        for (let i = 0; i < nodes.length; i += 1) {
          if (nodes[i] !== node) continue;
          k = i;
          if (offsets[i] >= offset) break;
        }
        if (k < 0) continue;
        const index = this.spans.findIndex((span) => span && span.paragraph === p && span.end > k);
        const span = this.spans[index];
        return [index, span && span.start <= k ? k - span.at : null];
      }
      return [-1, null];
    }

    // The element that holds a sentence's paragraph (a 指读 stop for the keyboard).
    holder(index) {
      const span = this.spans[index];
      if (!span) return null;
      const { nodes } = this.own[span.paragraph];
      const range = new Range();
      range.setStartBefore(nodes[0]);
      range.setEndAfter(nodes[nodes.length - 1]);
      const common = range.commonAncestorContainer;
      return common.nodeType === Node.ELEMENT_NODE ? common : common.parentElement;
    }

    clear() {
      this.marks?.clear();
      if (!this.marks) CSS.highlights.delete("tts-sentence");
    }
  }

  Object.assign(ns, { Highlighter, HIGHLIGHTS });
})(globalThis.ttsService);
