// The editor's preview: "▶ 试听" plays its sentence in the page instead of opening the MP3 in a new window.
// Progressive enhancement only: without this script the link opens the MP3 (the server makes it either way).
(() => {
  "use strict";
  const status = document.getElementById("speak-status");
  const player = new Audio();
  let playing = null;

  function say(text) {
    if (status) status.textContent = text;
  }

  function stop() {
    player.pause();
    if (playing) {
      playing.textContent = "▶ 试听";
      playing.removeAttribute("aria-pressed");
      playing = null;
    }
  }

  player.addEventListener("ended", () => { stop(); say("试听结束。"); });
  player.addEventListener("error", () => { stop(); say("试听失败：音频无法生成或播放。"); });
  player.addEventListener("playing", () => say("正在试听。"));

  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a.speak") : null;
    if (!link) return;
    event.preventDefault();
    const again = link === playing;
    stop();
    if (again) { say("已停止试听。"); return; }
    playing = link;
    link.textContent = "■ 停止";
    link.setAttribute("aria-pressed", "true");
    say("正在生成这一句的音频……");
    player.src = link.href;
    player.play().catch(() => { stop(); say("试听失败：浏览器没有播放音频。"); });
  });
})();
