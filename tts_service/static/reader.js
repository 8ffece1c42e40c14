// Reader page behaviour: instant text size, and the 语音播报 player. The page works without this file.
"use strict";

(function () {
  const SIZE_COOKIE = "tts_size";

  function setupTypeControls() {
    for (const form of document.querySelectorAll(".type-controls")) {
      form.addEventListener("submit", (event) => {
        const button = event.submitter;
        if (!button || button.name !== "size") return;
        event.preventDefault();
        const size = button.value;
        document.cookie = `${SIZE_COOKIE}=${size}; path=/; max-age=31536000; samesite=lax`;
        document.documentElement.className = document.documentElement.className
          .replace(/\bsize-\w+\b/, "").trim() + ` size-${size}`;
        for (const b of form.querySelectorAll("button[name=size]")) {
          b.setAttribute("aria-pressed", String(b === button));
        }
      });
    }
  }

  class Player {
    constructor(root) {
      this.root = root;
      this.url = root.dataset.manifest;
      this.button = root.querySelector(".read-aloud");
      this.status = root.querySelector(".player-status");
      this.audio = root.querySelector(".player-audio");
      this.chunks = [];
      this.index = 0;
      this.started = false;
      this.button.addEventListener("click", () => this.toggle());
      this.audio.addEventListener("ended", () => this.play(this.index + 1));
      this.audio.addEventListener("error", () => this.say("音频加载失败"));
    }

    say(text) { this.status.textContent = text; }

    async refresh() {
      const response = await fetch(this.url, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`manifest ${response.status}`);
      const manifest = await response.json();
      this.chunks = manifest.chunks;
      return manifest;
    }

    async toggle() {
      if (this.started && !this.audio.paused) {
        this.audio.pause();
        this.button.setAttribute("aria-pressed", "false");
        this.say("已暂停");
        return;
      }
      this.button.setAttribute("aria-pressed", "true");
      if (this.started && this.audio.src) {
        await this.audio.play();
        this.say("正在播报");
        return;
      }
      this.started = true;
      await this.play(0);
    }

    async play(index) {
      if (index >= this.chunks.length || !this.chunks[index].url) {
        const manifest = await this.refresh();
        if (index >= this.chunks.length) return this.finish();
        if (!this.chunks[index].url) {
          if (manifest.status === "failed") return this.say("音频生成失败");
          this.say(`音频生成中（${Math.round(manifest.progress * 100)}%）`);
          setTimeout(() => this.play(index), 1000);
          return;
        }
      }
      this.index = index;
      this.highlight(index);
      this.audio.src = this.chunks[index].url;
      this.say("正在播报");
      await this.audio.play();
    }

    highlight(index) {
      for (const el of document.querySelectorAll(".chunk.reading")) el.classList.remove("reading");
      const el = document.querySelector(`.chunk[data-chunk="${index}"]`);
      if (!el) return;
      el.classList.add("reading");
      const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      el.scrollIntoView({ block: "nearest", behavior: smooth ? "smooth" : "auto" });
    }

    finish() {
      this.started = false;
      this.highlight(-1);
      this.button.setAttribute("aria-pressed", "false");
      this.say("播报结束");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupTypeControls();
    for (const root of document.querySelectorAll(".player")) new Player(root);
  });
})();
