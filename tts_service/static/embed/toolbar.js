// The embedded toolbar: <tts-toolbar>, with an open shadow root, before the host page's article.
// 语音播报 (the shared player), 字体, 配色, 指读, 连读, 逐词高亮, 大字幕 and 阅读模式, all real buttons reached by Tab;
// no keys are taken outside the toolbar and the article's 指读 stops. Host-page text only ever goes into the
// page as text (textContent, text nodes), never as markup. Settings are kept per site in localStorage.
"use strict";

(function (ns) {
  const script = document.currentScript;  // only set while this script first runs
  const SETTINGS_KEY = "tts-toolbar";
  const DEFAULTS = { size: "m", scheme: "standard", point: false, continuous: true, words: true, captions: false };
  const SIZE_LABELS = { s: "小", m: "中", l: "大", xl: "特大" };
  const SIZE_PX = { s: 16, m: 19, l: 24, xl: 40 };  // 阅读模式, as on the reader page
  const SCHEME_LABELS = { standard: "标准", contrast: "高对比" };
  const STATUS = { ready: "音频已就绪", failed: "音频生成失败", empty: "本文没有可朗读的文字" };

  // Elements from plain data: attributes, properties (on*: listeners) and children as text or nodes.
  function h(tag, props = {}, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "className" || key === "hidden" || key === "textContent") el[key] = value;
      else el.setAttribute(key, value);
    }
    el.append(...children);
    return el;
  }

  const button = (text, props = {}) => h("button", { type: "button", ...props }, text);
  const toggle = (text, props = {}) => button(text, { "aria-pressed": "false", ...props });

  function loadSettings() {
    try {
      return { ...DEFAULTS, ...JSON.parse(ns.store.get(SETTINGS_KEY) || "{}") };
    } catch {
      return { ...DEFAULTS };
    }
  }

  function sheet(text) {
    const css = new CSSStyleSheet();
    css.replaceSync(text);
    return css;
  }

  class Toolbar {
    constructor(element, page, service) {
      this.element = element;
      this.page = page;
      this.service = service;
      this.settings = loadSettings();
      this.highlighter = new ns.Highlighter(page.paragraphs, { bottom: () => this.captionHeight() });
      this.style = new ns.ArticleStyle(page.root, (el) => el.closest("tts-toolbar") !== null);
      this.reading = -1;
      this.pointer = null;
      this.stops = [];  // the article's 指读 stops (elements), with what their tabindex was
    }

    body() {
      const texts = this.page.paragraphs.map((p) => p.text);
      const title = this.page.title || ns.pageText.collapse(document.title) || location.hostname;
      return { url: location.href, title: [...title].slice(0, 300).join(""), paragraphs: texts };
    }

    async post() {
      const init = {
        method: "POST", credentials: "omit", body: JSON.stringify(this.body()),
        headers: { "Content-Type": "application/json" },
      };
      const manifest = await ns.getJSON(`${this.service}/api/embed`, init);
      this.posted = true;
      return manifest;
    }

    load() {
      if (!this.posted) return this.post();  // the first answer never came: send the page again
      const url = `${this.service}/api/embed?url=${encodeURIComponent(location.href)}`;
      return ns.getJSON(url, { credentials: "omit" });
    }

    async start() {
      let manifest = null;
      try {
        manifest = await this.post();
      } catch (error) {
        // 404: published-only, and not a page published here. Otherwise (the service is down or busy, or
        // refused this site: a refused preflight is only a network error to the page) 字体 and 配色 still
        // work, and 语音播报 says it is unavailable and asks again when pressed.
        if (error.status === 404) return this.element.remove();
      }
      this.build(manifest);
      this.element.hidden = false;
      this.apply();
    }

    build(manifest) {
      const root = this.element.shadowRoot || this.element.attachShadow({ mode: "open" });
      root.adoptedStyleSheets = [sheet(ns.styles.toolbar)];
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet(ns.styles.page)];
      this.bar = h("div", { className: "bar", lang: "zh-CN" }, this.playerPart(), this.tools());
      this.caption = h("p", { className: "caption-bar", hidden: true, "aria-hidden": "true" });
      this.dialog = this.readingMode();
      this.bar.append(this.caption, this.dialog, h("audio", { className: "player-audio", preload: "none" }));
      root.replaceChildren(this.bar);
      this.player = new ns.Player(this.bar, {
        load: () => this.load(),
        highlight: (index) => this.highlight(index),
        speedKey: "tts-toolbar-speed",
        captions: false,  // a cross-origin <track> needs CORS the host page's <audio> does not ask for
        continuous: () => this.settings.continuous,
        wordRange: (index, offsets) => this.highlighter.wordRange(index, offsets),
        words: () => this.settings.words,
        pending: manifest?.status === "pending",
        onManifest: (m) => this.mapped(m),
      });
      if (manifest) this.player.accept(manifest);
      this.status.textContent = manifest ? this.statusOf(manifest) : "语音播报暂不可用，请稍后重试";
      if (manifest?.status === "empty") this.bar.querySelector(".player").hidden = true;
      this.setupPointing();
    }

    mapped(manifest) {
      this.highlighter.map(manifest);
      // 指读 was on before the service first answered: its stops are known now.
      if (this.settings.point && !this.stops.length && this.bar) this.pointing(true);
    }

    statusOf(manifest) {
      return STATUS[manifest.status] || `音频生成中（${Math.round(manifest.progress * 100)}%）`;
    }

    playerPart() {
      this.status = h("span", { className: "player-status", role: "status", "aria-live": "polite" });
      const speeds = ns.SPEEDS.map((rate) => h("option", { value: String(rate) }, `${rate}×`));
      const speed = h("select", { className: "speed" }, ...speeds);
      speed.value = "1";
      const time = h(
        "span", { className: "player-time" },
        h("span", { className: "visually-hidden" }, "已播放"), h("span", { className: "elapsed" }, "00:00"),
        " / ", h("span", { className: "visually-hidden" }, "总时长"), h("span", { className: "total" }, "--:--"),
      );
      return h(
        "section", { className: "player", "aria-label": "语音播报" },
        h("div", { className: "row" }, toggle("语音播报", { className: "read-aloud" }), this.status),
        h(
          "div", { className: "player-controls", hidden: true },
          button("‹ 上一句", { className: "prev", "aria-label": "上一句" }),
          button("暂停", { className: "play-pause", "aria-label": "暂停" }),
          button("下一句 ›", { className: "next", "aria-label": "下一句" }),
          h("label", { className: "speed-label" }, "语速", speed),
          time,
          h("progress", { className: "player-progress", max: "1", value: "0", "aria-label": "播放进度" }),
        ),
      );
    }

    choice(name, labels, key) {
      const id = `tts-${key}-label`;
      const buttons = Object.entries(labels).map(([value, label]) =>
        toggle(label, { "aria-label": `${name}${label}`, "data-value": value, onclick: () => this.set(key, value) }));
      return h("div", { className: "group", role: "group", "aria-labelledby": id },
        h("span", { className: "label", id }, name), ...buttons);
    }

    tools() {
      const flag = (text, key) => toggle(text, { "data-key": key, onclick: () => this.set(key, !this.settings[key]) });
      return h(
        "div", { className: "tools" },
        this.choice("字体", SIZE_LABELS, "size"),
        this.choice("配色", SCHEME_LABELS, "scheme"),
        h("div", { className: "group" }, flag("指读", "point"), flag("连读", "continuous"), flag("逐词高亮", "words"),
          flag("大字幕", "captions"),
          button("阅读模式", { className: "open-reading", onclick: () => this.openReading() })),
      );
    }

    set(key, value) {
      this.settings[key] = value;
      ns.store.set(SETTINGS_KEY, JSON.stringify(this.settings));
      this.apply(key);
      const said = {
        size: `字体${SIZE_LABELS[value]}`, scheme: `配色${SCHEME_LABELS[value]}`,
        point: value ? "指读已开启：点击正文中的句子，或在正文中按回车键，从那里开始朗读" : "指读已关闭",
        continuous: value ? "连读已开启" : "连读已关闭：每次读一句", captions: value ? "大字幕已开启" : "大字幕已关闭",
        words: value ? "逐词高亮已开启" : "逐词高亮已关闭",
      };
      this.player.say(said[key]);
    }

    // Applies the settings (all, or the one that changed) to the article and the toolbar's buttons.
    apply(changed = null) {
      const { size, scheme, point, captions } = this.settings;
      if (!changed || changed === "size") this.style.size(size);
      if (!changed || changed === "scheme") this.style.scheme(scheme);
      if (!changed || changed === "point") this.pointing(point);
      if (changed === "words") this.player.showWord();  // at once, also while paused
      for (const el of this.bar.querySelectorAll("[data-value]")) {
        const group = el.closest(".group").getAttribute("aria-labelledby");
        const current = group === "tts-size-label" ? size : scheme;
        el.setAttribute("aria-pressed", String(el.dataset.value === current));
      }
      for (const el of this.bar.querySelectorAll("[data-key]")) {
        el.setAttribute("aria-pressed", String(Boolean(this.settings[el.dataset.key])));
      }
      this.bar.classList.toggle("contrast", scheme === "contrast");
      this.dialog.style.setProperty("--reading-size", `${SIZE_PX[size]}px`);
      this.caption.hidden = !captions || this.reading < 0;
    }

    captionHeight() {
      return this.caption.hidden ? 0 : this.caption.getBoundingClientRect().height;
    }

    highlight(index) {
      this.reading = index;
      if (index < 0) {
        delete this.element.dataset.sentence;
        this.highlighter.clear();
      } else {
        this.element.dataset.sentence = String(index);
        this.caption.textContent = this.player.chunks[index]?.text || "";
      }
      this.caption.hidden = !this.settings.captions || index < 0;
      if (index >= 0) this.highlighter.show(index);
      this.showInReading(index);
    }

    // 指读 ------------------------------------------------------------------------------------------

    setupPointing() {
      const root = this.page.root;
      root.addEventListener("click", (event) => this.onClick(event));
      root.addEventListener("keydown", (event) => this.onKey(event));
      root.addEventListener("focusin", (event) => this.onFocus(event));
      root.addEventListener("focusout", (event) => {
        if (!root.contains(event.relatedTarget)) this.point(null);
      });
    }

    pointing(on) {
      for (const [el, tabindex] of this.stops.splice(0)) {
        if (tabindex === null) el.removeAttribute("tabindex");
        else el.setAttribute("tabindex", tabindex);
        el.removeAttribute("data-tts-focus");
      }
      this.page.root.toggleAttribute("data-tts-point", on);
      this.point(null);
      if (!on) return;
      // One tab stop for the whole article (roving tabindex): the paragraphs that have sentences.
      const holders = this.highlighter.spans.map((span, i) => (span ? this.highlighter.holder(i) : null));
      for (const el of new Set(holders.filter(Boolean))) {
        this.stops.push([el, el.getAttribute("tabindex")]);
        el.setAttribute("tabindex", this.stops.length === 1 ? "0" : "-1");
        el.setAttribute("data-tts-focus", "");
      }
      this.holders = holders;
    }

    point(index) {
      this.pointer = index;
      this.highlighter.point(index);
    }

    onClick(event) {
      if (!this.settings.point || event.button !== 0 || event.defaultPrevented) return;
      if (event.target.closest("a, button, input, select, textarea, label, summary, [contenteditable]")) return;
      if (!getSelection().isCollapsed) return;  // selecting text, not pointing
      const [node, offset] = ns.caretAt(event.clientX, event.clientY);
      const [index, at] = node ? this.highlighter.pointAt(node, offset) : [-1, null];
      if (index >= 0) this.player.readFrom(index, at);  // at the word clicked (its mark), when there is one
    }

    stopOf(el) {
      return this.stops.findIndex(([stop]) => stop === el);
    }

    onFocus(event) {
      if (!this.settings.point || this.stopOf(event.target) < 0) return;
      for (const [stop] of this.stops) stop.setAttribute("tabindex", stop === event.target ? "0" : "-1");
      if (this.pointer === null || this.holders[this.pointer] !== event.target) {
        this.point(this.holders.indexOf(event.target));
      }
    }

    onKey(event) {
      if (!this.settings.point || this.stopOf(event.target) < 0 || event.altKey || event.ctrlKey || event.metaKey) {
        return;
      }
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        if (this.pointer !== null && this.pointer >= 0) this.player.readFrom(this.pointer);
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        this.movePointer(event.key === "ArrowDown" ? 1 : -1);
      }
    }

    movePointer(direction) {
      let i = this.pointer ?? -1;
      do i += direction; while (i >= 0 && i < this.holders.length && !this.holders[i]);
      if (i < 0 || i >= this.holders.length) return;
      this.point(i);
      if (this.holders[i] !== document.activeElement) this.holders[i].focus();
    }

    // 阅读模式 ----------------------------------------------------------------------------------------

    readingMode() {
      this.readingText = h("div", { className: "reading-text" });
      // The page outside a modal dialog is inert, its live region too: the player speaks in here meanwhile.
      this.readingStatus = h("span", { className: "reading-status", role: "status", "aria-live": "polite" });
      const dialog = h(
        "dialog", { className: "reading", "aria-labelledby": "tts-reading-title", lang: "zh-CN" },
        h("div", { className: "reading-bar" },
          button("退出阅读模式", { className: "close-reading", onclick: () => this.dialog.close() }),
          button("‹ 上一句", { className: "prev", "aria-label": "上一句" }),
          button("播放", { className: "play-pause", "aria-label": "播放" }),
          button("下一句 ›", { className: "next", "aria-label": "下一句" }),
          this.readingStatus),
        this.readingText,
      );
      dialog.addEventListener("close", () => { this.player.status = this.status; });
      return dialog;
    }

    // A paragraph of the page as text, with its sentences as spans (a click reads from one).
    readingParagraph(tag, j) {
      const text = this.page.paragraphs[j].text;
      const el = h(tag);
      let at = 0;
      this.highlighter.spans.forEach((span, i) => {
        if (!span || span.paragraph !== j) return;
        const onclick = () => this.player.readFrom(i);
        el.append(text.slice(at, span.start));
        el.append(h("span", { className: "sentence", "data-index": String(i), onclick }, text.slice(span.start, span.end)));
        at = span.end;
      });
      el.append(text.slice(at));
      return el;
    }

    openReading() {
      const title = this.body().title;
      const own = this.page.paragraphs;
      // An article that starts with its title (an <h1> inside it) shows it once, as the heading.
      const first = own[0]?.text === title ? 1 : 0;
      const heading = first ? this.readingParagraph("h1", 0) : h("h1", {}, title);
      heading.id = "tts-reading-title";
      const paragraphs = own.slice(first).map((_, j) => this.readingParagraph("p", j + first));
      this.readingText.replaceChildren(heading, ...paragraphs);
      this.readingStatus.textContent = "";
      this.player.status = this.readingStatus;
      this.dialog.showModal();
      this.showInReading(this.reading);
    }

    showInReading(index) {
      if (!this.dialog.open) return;
      for (const el of this.readingText.querySelectorAll(".reading-now")) el.classList.remove("reading-now");
      const el = this.readingText.querySelector(`[data-index="${index}"]`);
      if (!el) return;
      el.classList.add("reading-now");
      const smooth = !matchMedia("(prefers-reduced-motion: reduce)").matches;
      el.scrollIntoView({ block: "nearest", behavior: smooth ? "smooth" : "auto" });
    }
  }

  // The element: where the page has one already, else a new one right before the article.
  function place(root) {
    if (!customElements.get("tts-toolbar")) customElements.define("tts-toolbar", class extends HTMLElement {});
    let element = document.querySelector("tts-toolbar");
    if (!element) {
      element = document.createElement("tts-toolbar");
      if (root === document.body) root.prepend(element);
      else root.before(element);
    }
    element.hidden = true;  // until the service answers: a page it does not speak gets no toolbar
    return element;
  }

  function boot() {
    if (ns.toolbar || !script) return;  // loaded twice: one toolbar
    const data = script.dataset;
    let page;
    try {
      page = ns.pageText.read({ article: data.article, skip: data.skip, title: data.title });
    } catch (error) {  // a selector the browser cannot read
      console.warn(`tts-toolbar: ${error.message}`);
      return;
    }
    if (!page.root || !page.paragraphs.length) return;
    ns.toolbar = new Toolbar(place(page.root), page, new URL(script.src).origin);
    ns.toolbar.start();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})(globalThis.ttsService);
