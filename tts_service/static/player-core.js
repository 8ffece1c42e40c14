// The 语音播报 player, shared by the reader page (reader.js) and the embedded toolbar (embed.js): one copy.
// It drives the controls found under its root by class name (.read-aloud, .play-pause, .prev, .next, .speed,
// .player-status, .elapsed, .total, .player-progress, .player-controls, .player-audio). Where the sentences
// are, and how the one being read is shown, belong to the page: it passes load() and highlight(). The word
// being read (the chunks' marks) is shown here, as the CSS highlight "tts-word", where the page passes
// wordRange(); a browser without the Custom Highlight API shows no word, silently.
// Everything it defines lives on one namespace object, globalThis.ttsService.
"use strict";

(function (ns) {
  const SPEEDS = [0.75, 1, 1.25, 1.5, 2];
  const WORDS = Boolean(globalThis.CSS?.highlights && globalThis.Highlight);

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  }

  // localStorage can be missing or refuse (storage disabled, a sandboxed frame): settings are then not kept.
  const store = {
    get(key) {
      try { return localStorage.getItem(key); } catch { return null; }
    },
    set(key, value) {
      try { localStorage.setItem(key, value); } catch { /* not kept: the setting still applies now */ }
    },
  };

  async function getJSON(url, init = {}) {
    const response = await fetch(url, { ...init, headers: { Accept: "application/json", ...init.headers } });
    if (!response.ok) throw Object.assign(new Error(`${url}: ${response.status}`), { status: response.status });
    return response.json();
  }

  // The character under a point of the page, as [text node, offset], or [null, 0]. The browser gives the
  // caret nearest the point, which is after the character when the right half of it was clicked.
  function caretAt(x, y) {
    const caret = document.caretPositionFromPoint?.(x, y);
    const range = caret ? null : document.caretRangeFromPoint?.(x, y);
    const [node, offset] = caret ? [caret.offsetNode, caret.offset] : [range?.startContainer, range?.startOffset];
    if (!node || node.nodeType !== Node.TEXT_NODE || !offset) return [node || null, offset || 0];
    const before = new Range();
    before.setStart(node, offset - 1);
    before.setEnd(node, offset);
    const box = before.getBoundingClientRect();
    const inside = x >= box.left && x <= box.right && y >= box.top && y <= box.bottom;
    return [node, inside ? offset - 1 : offset];
  }

  class Player {
    // options: load() → the audio manifest; highlight(index), -1 for none; speedKey (where 语速 is kept);
    // captions (add the captions track: same-origin pages only); continuous() (连读: go on to the next
    // sentence; else stop after each); pending (the page was made while the audio was being generated);
    // onManifest(manifest), called with every manifest the player takes; wordRange(index, [start, end]) →
    // the Range of a mark's text in sentence index (offsets in its paragraph), or null; words() → whether
    // the reader wants the word highlighted (checked on every frame, so a change applies at once).
    constructor(root, options) {
      this.root = root;
      this.options = { speedKey: "tts_speed", captions: true, continuous: () => true, ...options };
      const all = (selector) => [...root.querySelectorAll(selector)];
      this.audio = root.querySelector(".player-audio");
      this.readAlouds = all(".read-aloud");
      this.playPauses = all(".play-pause");
      this.controls = root.querySelector(".player-controls");
      this.speed = root.querySelector(".speed");
      this.status = root.querySelector(".player-status");
      this.elapsed = root.querySelector(".elapsed");
      this.total = root.querySelector(".total");
      this.progress = root.querySelector(".player-progress");
      this.chunks = [];
      this.index = 0;
      this.started = false;
      this.source = null;  // "whole" while the whole-article file plays, "chunk" while a sentence's own does
      this.waiting = null;  // the timer that asks again for a sentence whose audio is being made
      this.held = false;  // the player waited for audio: the start that ends the wait is announced
      this.announcement = null;  // what to say once the audio really plays
      this.whole = null;
      this.frame = null;  // the animation frame that follows the word being read, while audio plays
      this.word = null;  // what "tts-word" shows now: "index:start" of the mark, or null
      this.bind(all);
      if (this.options.pending) this.watch();
    }

    bind(all) {
      for (const button of this.readAlouds) button.addEventListener("click", () => this.toggle());
      for (const button of this.playPauses) button.addEventListener("click", () => this.toggle());
      for (const button of all(".prev")) button.addEventListener("click", () => this.step(-1));
      for (const button of all(".next")) button.addEventListener("click", () => this.step(1));
      const saved = Number(store.get(this.options.speedKey));
      if (SPEEDS.includes(saved)) this.speed.value = String(saved);
      this.speed.addEventListener("change", () => this.setSpeed(Number(this.speed.value)));
      // With the whole-article file, one source plays through and the timeline drives the highlight;
      // while it is still being made (or 连读 is off), each sentence's own file plays in turn.
      this.audio.addEventListener("ended", () => this.onEnded());
      this.audio.addEventListener("timeupdate", () => this.onTime());
      // timeupdate comes every 250 ms, too coarse for words (a syllable lasts ~200 ms): frames while playing.
      this.audio.addEventListener("playing", () => this.followWords());
      this.audio.addEventListener("seeked", () => this.showWord());
      this.audio.addEventListener("error", () => this.say("音频加载失败"));
      this.root.addEventListener("keydown", (event) => this.onPlayerKey(event));
    }

    onPlayerKey(event) {
      if (event.target.tagName === "SELECT" || event.altKey || event.ctrlKey || event.metaKey) return;
      const actions = {
        ArrowLeft: () => this.step(-1), ArrowRight: () => this.step(1), k: () => this.toggle(),
        "-": () => this.nudgeSpeed(-1), "=": () => this.nudgeSpeed(1), "+": () => this.nudgeSpeed(1),
      };
      const action = actions[event.key];
      if (action) {
        event.preventDefault();
        action();
      }
    }

    // The live region says what the player is doing, only when that changes: a screen reader speaks every
    // change, and speaks over the article it is reading out.
    say(text) {
      if (this.status.textContent !== text) this.status.textContent = text;
    }

    watch() {
      // The page was made while the audio was being generated: say when it is ready (or failed), unless the
      // reader has started the player, which then reports its own state.
      const check = async () => {
        const manifest = this.started ? null : await this.refresh().catch(() => null);
        if (this.started) return;
        if (manifest?.status === "ready") return this.say("音频已就绪");
        if (manifest?.status === "failed") return this.say("音频生成失败");
        setTimeout(check, 3000);
      };
      setTimeout(check, 3000);
    }

    setSpeed(rate) {
      this.audio.playbackRate = rate;
      this.audio.defaultPlaybackRate = rate;
      store.set(this.options.speedKey, String(rate));
      this.say(`语速 ${rate} 倍`);
    }

    nudgeSpeed(direction) {
      const i = SPEEDS.indexOf(Number(this.speed.value));
      const next = SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, i + direction))];
      this.speed.value = String(next);
      this.setSpeed(next);
    }

    async refresh() {
      return this.accept(await this.options.load());
    }

    accept(manifest) {
      this.chunks = manifest.chunks;
      this.whole = manifest.url ? { url: manifest.url, duration: manifest.duration } : null;
      if (this.whole && this.options.captions && !this.audio.querySelector("track")) {
        // Captions for assistive technology, where the browser exposes them for audio.
        const track = Object.assign(document.createElement("track"), {
          kind: "captions", srclang: "zh-CN", label: "中文字幕", src: manifest.captions_url,
        });
        this.audio.append(track);
      }
      this.options.onManifest?.(manifest);
      return manifest;
    }

    pressed() { return this.readAlouds[0].getAttribute("aria-pressed") === "true"; }

    setPlaying(playing) {
      for (const button of this.readAlouds) button.setAttribute("aria-pressed", String(playing));
      for (const button of this.playPauses) {
        button.textContent = playing ? "暂停" : "播放";
        button.setAttribute("aria-label", playing ? "暂停" : "播放");
      }
    }

    async toggle() {
      if (this.waiting !== null) {  // pressed while waiting for audio: stop waiting
        clearTimeout(this.waiting);
        this.waiting = null;
        this.setPlaying(false);
        this.say("已暂停");
      } else if (this.started && !this.audio.paused) {
        this.audio.pause();
        this.setPlaying(false);
        this.say("已暂停");
      } else if (this.started && this.audio.src && !this.audio.ended) {
        this.setPlaying(true);
        await this.start("继续播报");
      } else {
        await this.readFrom(this.started ? this.index : 0);
      }
    }

    // at: where in the sentence to start, as an offset in its paragraph (指读 on a word), or null: its start.
    async readFrom(index, at = null) {
      this.started = true;
      this.controls.hidden = false;
      this.setPlaying(true);
      await this.play(index, true, at);
    }

    async step(direction) {
      if (!this.started) return this.readFrom(Math.max(0, direction));
      await this.play(Math.min(Math.max(0, this.index + direction), Math.max(0, this.chunks.length - 1)), true);
    }

    async play(index, announce, at = null) {
      clearTimeout(this.waiting);
      this.waiting = null;
      try {
        await this.cue(index, announce, at);
      } catch {  // the manifest could not be fetched (the audio's own faults are handled where it plays)
        this.setPlaying(false);
        this.say("音频加载失败，请稍后重试");
      }
    }

    wholeFile() { return Boolean(this.whole) && this.options.continuous(); }

    async cue(index, announce, at) {
      if (!this.whole && this.chunks.length) await this.refresh();  // the whole file may exist by now
      if (this.wholeFile() && index < this.chunks.length) return this.playWhole(index, announce, at);
      if (index >= this.chunks.length || !this.chunks[index].url) {
        const manifest = await this.refresh();
        if (index >= this.chunks.length) return this.finish();
        if (this.wholeFile()) return this.playWhole(index, announce, at);
        if (!this.chunks[index].url) return this.wait(index, manifest, at);
      }
      this.index = index;
      this.source = "chunk";
      this.highlight(index);
      this.audio.src = this.chunks[index].url;
      const mark = this.markAt(index, at);
      if (mark) this.audio.currentTime = mark.start;  // before it loads: where playback will begin
      this.audio.playbackRate = Number(this.speed.value);
      await this.begin(index, announce);
    }

    async playWhole(index, announce, at) {
      if (this.audio.src !== this.whole.url) this.audio.src = this.whole.url;
      this.index = index;
      this.source = "whole";
      this.highlight(index);
      const word = this.wholeTimes(index, this.markAt(index, at))?.[0];
      // A word exactly; a sentence a little early, so that its first sound is never cut.
      this.audio.currentTime = word ?? Math.max(0, this.chunks[index].start - 0.05);
      this.audio.playbackRate = Number(this.speed.value);
      await this.begin(index, announce);
    }

    wait(index, manifest, at) {
      // Nothing is loaded while a sentence's audio is being made, so pressing play again reads from it.
      this.index = index;
      if (this.audio.hasAttribute("src")) {
        this.audio.removeAttribute("src");
        this.audio.load();
      }
      if (manifest.status === "failed") {
        this.held = false;
        this.setPlaying(false);
        return this.say("音频生成失败");
      }
      if (!this.pressed()) return;  // paused meanwhile: it stays paused
      this.held = true;
      this.say("音频生成中，请稍候");
      this.showProgress(manifest);
      this.waiting = setTimeout(() => this.play(index, false, at), 1000);
    }

    async begin(index, announce) {
      // A sentence the reader chose, or the first one heard after a wait, is announced once it plays;
      // the sentences that follow on their own are not (连读 would talk over itself).
      if (announce || this.held) this.announcement = `正在播报第 ${index + 1} 句，共 ${this.chunks.length} 句`;
      this.held = false;
      if (this.pressed()) await this.start(null);
    }

    async start(fallback) {
      try {
        await this.audio.play();
      } catch (error) {
        if (error.name === "AbortError") return;  // a newer source took over; its own start speaks
        this.setPlaying(false);
        return this.say(error.name === "NotAllowedError" ? "音频已就绪，请按播放" : "音频加载失败");
      }
      const text = this.announcement || fallback;
      this.announcement = null;
      if (text) this.say(text);
    }

    onEnded() {
      if (this.source === "whole") return this.finish();
      if (this.options.continuous()) return this.play(this.index + 1, false);
      // 连读 off: one sentence at a time; the next press of play reads the next one.
      if (this.index + 1 >= this.chunks.length) return this.finish();
      this.index += 1;
      this.setPlaying(false);
      this.say("本句读完，按播放读下一句");
    }

    onTime() {
      this.follow();
      this.showTime();
    }

    follow() {
      if (this.source !== "whole") return;
      // The sentence being heard: the last one whose start has passed (pauses belong to the one before).
      // A chosen sentence is sought to 0.05 s before its start; the margin here is wider, so that the
      // seek's own rounding never lands the highlight on the sentence before.
      const t = this.audio.currentTime + 0.1;
      let i = this.index;
      while (i + 1 < this.chunks.length && this.chunks[i + 1].start <= t) i += 1;
      while (i > 0 && this.chunks[i].start > t) i -= 1;
      if (i !== this.index) {
        this.index = i;
        this.highlight(i);
      }
    }

    // The word being read --------------------------------------------------------------------------------

    // The mark of sentence index that holds paragraph offset at (or the last one that starts before it).
    markAt(index, at) {
      const marks = at === null || at === undefined ? null : this.chunks[index]?.marks;
      if (!marks?.length) return null;
      let found = null;
      for (const mark of marks) if (mark.offsets[0] <= at) found = mark;
      return found;
    }

    // [start, end] of a mark in the whole-article file; null where the manifest cannot place it.
    wholeTimes(index, mark) {
      if (!mark) return null;
      if (mark.article_start !== null && mark.article_start !== undefined) return [mark.article_start, mark.article_end];
      const base = this.chunks[index].start;  // a manifest without article times: the chunk's own, moved
      return base === null || base === undefined ? null : [base + mark.start, base + mark.end];
    }

    followWords() {
      if (this.frame !== null || !WORDS || !this.options.wordRange) return;
      const step = () => {
        this.frame = null;
        if (this.audio.paused || this.audio.ended) return;  // stopped: no frames until it plays again
        this.follow();
        this.showWord();
        this.frame = requestAnimationFrame(step);
      };
      this.frame = requestAnimationFrame(step);
    }

    // The mark being heard: the last one whose start has passed, until the sentence's last one ends.
    currentMark() {
      const chunk = this.chunks[this.index];
      if (!this.started || !chunk?.marks?.length) return null;
      const t = this.audio.currentTime;
      const whole = this.source === "whole";
      let found = null;
      for (const mark of chunk.marks) {
        const [start, end] = whole ? this.wholeTimes(this.index, mark) || [] : [mark.start, mark.end];
        if (start === undefined || start > t) break;
        found = t < end || mark !== chunk.marks[chunk.marks.length - 1] ? mark : null;
      }
      return found;
    }

    showWord() {
      if (!WORDS || !this.options.wordRange) return;
      const on = this.options.words?.() ?? true;
      const mark = on ? this.currentMark() : null;
      const key = mark ? `${this.index}:${mark.offsets[0]}` : null;
      if (key === this.word) return;
      this.word = key;
      const range = mark ? this.options.wordRange(this.index, mark.offsets) : null;
      if (!range) return CSS.highlights.delete("tts-word");
      const highlight = new Highlight(range);
      highlight.priority = 2;  // over the sentence's own highlight, where a page draws it as one
      CSS.highlights.set("tts-word", highlight);
    }

    showProgress(manifest) {
      this.total.textContent = `生成 ${Math.round(manifest.progress * 100)}%`;
    }

    showTime() {
      const before = this.chunks.slice(0, this.index).reduce((sum, c) => sum + (c.duration || 0), 0);
      const all = this.whole ? this.whole.duration : this.chunks.reduce((sum, c) => sum + (c.duration || 0), 0);
      const done = this.source === "whole" ? this.audio.currentTime : before + this.audio.currentTime;
      this.elapsed.textContent = clock(done);
      this.total.textContent = this.whole || this.chunks.every((c) => c.duration) ? clock(all) : "--:--";
      this.progress.value = all ? Math.min(1, done / all) : 0;
    }

    highlight(index) {
      this.options.highlight(index);
    }

    finish() {
      this.started = false;
      this.highlight(-1);
      this.showWord();
      this.setPlaying(false);
      this.say("播报结束");
    }
  }

  Object.assign(ns, { Player, SPEEDS, WORDS, caretAt, clock, store, getJSON });
})(globalThis.ttsService = globalThis.ttsService || {});
