// 字体 and 配色 for the host page's article only, through the article's own elements' inline styles
// (CSSOM with !important: it wins over the site's px rules and inline font-size, and a content security
// policy without 'unsafe-inline' allows it). Every value it replaces is kept, so 中 and 标准 give the
// page back exactly as it was.
"use strict";

(function (ns) {
  const SIZES = { s: 0.875, m: 1, l: 1.3, xl: 2.1 };  // 大 ≥ 1.25× and 特大 ≥ 2× the site's own size
  const SIZE_PROPS = ["font-size", "line-height", "overflow-wrap"];
  const SCHEME_PROPS = ["color", "background-color", "text-decoration-line"];
  const CONTRAST = { fg: "#ffffff", bg: "#000000", link: "#ffd84d" };

  // Inline declarations set by the toolbar, with what each replaced.
  class InlineStyles {
    constructor() { this.saved = new Map(); }  // element → {attribute: had a style attribute, props}

    set(el, prop, value) {
      let entry = this.saved.get(el);
      if (!entry) {
        entry = { attribute: el.hasAttribute("style"), props: new Map() };
        this.saved.set(el, entry);
      }
      if (!entry.props.has(prop)) {
        entry.props.set(prop, [el.style.getPropertyValue(prop), el.style.getPropertyPriority(prop)]);
      }
      el.style.setProperty(prop, value, "important");
    }

    restore(props) {
      for (const [el, entry] of this.saved) {
        for (const prop of props) {
          if (!entry.props.has(prop)) continue;
          const [value, priority] = entry.props.get(prop);
          if (value) el.style.setProperty(prop, value, priority);
          else el.style.removeProperty(prop);
          entry.props.delete(prop);
        }
        if (entry.props.size) continue;
        // hasAttribute first: Chrome writes the attribute back from the CSSOM lazily, and a removeAttribute
        // before that write-back leaves an empty style="" behind.
        if (!entry.attribute && el.hasAttribute("style")) el.removeAttribute("style");
        this.saved.delete(el);
      }
    }
  }

  class ArticleStyle {
    // root: the article; skip(el): true for what is not the article's (the toolbar, if it stands inside).
    constructor(root, skip = () => false) {
      this.root = root;
      this.skip = skip;
      this.styles = new InlineStyles();
    }

    elements() {
      return [this.root, ...this.root.querySelectorAll("*")].filter((el) => !this.skip(el) && el.style);
    }

    size(name) {
      this.styles.restore(SIZE_PROPS);  // measured at the site's own sizes
      const factor = SIZES[name] || 1;
      if (factor === 1) return;
      const measured = this.elements().map((el) => {
        const style = getComputedStyle(el);
        return [el, parseFloat(style.fontSize), parseFloat(style.lineHeight)];
      });
      for (const [el, fontSize, lineHeight] of measured) {
        if (!fontSize) continue;
        this.styles.set(el, "font-size", `${Math.round(fontSize * factor * 100) / 100}px`);
        if (factor > 1) {
          // Lines spaced at least 1.5 (a px line height would make large text overlap), and long words wrap.
          const ratio = lineHeight ? lineHeight / fontSize : 0;
          this.styles.set(el, "line-height", String(Math.max(1.5, Math.round(ratio * 100) / 100)));
          this.styles.set(el, "overflow-wrap", "anywhere");
        }
      }
    }

    scheme(name) {
      this.styles.restore(SCHEME_PROPS);
      if (name !== "contrast") return;
      for (const el of this.elements()) {
        const link = el.closest("a[href]");
        this.styles.set(el, "color", link ? CONTRAST.link : CONTRAST.fg);
        this.styles.set(el, "background-color", CONTRAST.bg);
        if (link) this.styles.set(el, "text-decoration-line", "underline");
      }
    }
  }

  Object.assign(ns, { ArticleStyle, SIZES });
})(globalThis.ttsService);
