"""The embedded toolbar (embed.js) on host pages of another origin, in real headless Chromium.

Two host pages are served from their own loopback port: a strict CMS page (site CSS with px sizes, a strict
content security policy allowing only itself and the service, Trusted Types required) and a typical one (no
policy, inline ``font-size:14px`` on paragraphs and spans). The service is the real one (``tts-service serve``
with espeak) and the pages' text is stored first by the API as a crawler would, from ``text/blocks.py``'s
reading of the same HTML: the toolbar must send exactly that, so its first reader makes no new revision.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from helpers import ARTIFACTS, DATA, LiveServer, axe_problems, wait_until
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tts_service.text import blocks

pytestmark = pytest.mark.browser
HOST = DATA / "host"


@dataclass(frozen=True)
class HostPage:
    """A page of the host site, with the data-* attributes its script line carries."""

    path: str
    file: str
    strict: bool  # served with the strict content security policy
    article: str | None = None
    skip: str | None = None
    title: str | None = None

    def html(self) -> str:
        return (HOST / self.file).read_text(encoding="utf-8")

    def expected(self, html: str | None = None) -> blocks.HostPage:
        """What the toolbar must read: the crawler's rule (text/blocks.py) on the same HTML."""
        return blocks.host_page(html or self.html(), article=self.article, skip=self.skip, title=self.title)


STRICT = HostPage("/zwgk/t20200117_1.html", "strict.html", True, "#zoom", ".share, .print", ".title h1")
TYPICAL = HostPage("/city/t20200118_2.html", "typical.html", False, skip=".share-bar")
PAGES = {"strict": STRICT, "typical": TYPICAL}


def strict_policy(service: str) -> str:
    """The host page's policy: itself, and exactly what the README says the toolbar needs from us."""
    return (
        f"default-src 'self'; script-src 'self' {service}; connect-src 'self' {service}; "
        f"media-src 'self' {service}; style-src 'self'; img-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'; require-trusted-types-for 'script'"
    )


@dataclass
class HostSite:
    """The host site: a small threaded HTTP server on its own port (its own origin). Pages are templates in
    which ``{{service}}`` becomes the service's address (``?svc=NAME`` picks another service)."""

    pages: dict[str, tuple[str, bool]] = field(default_factory=dict)  # path → (html, strict)
    services: dict[str, str] = field(default_factory=dict)
    origin: str = ""

    def start(self) -> HostSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                split = urlsplit(self.path)
                service = site.services[parse_qs(split.query).get("svc", ["main"])[0]]
                if split.path == "/favicon.ico":  # browsers ask; a 404 would be a console error
                    return self.reply(b"", "image/x-icon")
                if split.path == "/site.css":
                    return self.reply((HOST / "site.css").read_bytes(), "text/css")
                if split.path not in site.pages:
                    return self.send_error(404)
                html, strict = site.pages[split.path]
                headers = {"Content-Security-Policy": strict_policy(service)} if strict else {}
                self.reply(html.replace("{{service}}", service).encode(), "text/html; charset=utf-8", headers)

            def reply(self, body: bytes, media_type: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(200)
                for name, value in {
                    "Content-Type": media_type,
                    "Cache-Control": "no-store",
                    **(headers or {}),
                }.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def embed(service: LiveServer, site: HostSite, path: str, page: blocks.HostPage) -> dict:
    """POST /api/embed as the toolbar does (or a crawler storing the page), then wait until it is ready."""
    body = {"url": site.origin + path, "title": page.title, "paragraphs": list(page.paragraphs)}
    answer = httpx.post(f"{service.url}/api/embed", json=body, headers={"Origin": site.origin}, timeout=10)
    assert answer.status_code == 200, answer.text
    return wait_ready(service, site.origin + path)


def wait_ready(service: LiveServer, url: str) -> dict:
    deadline = time.monotonic() + 120
    while True:
        manifest = httpx.get(f"{service.url}/api/embed", params={"url": url}, timeout=10).json()
        if manifest["status"] != "pending":
            assert manifest["status"] == "ready", manifest
            return manifest
        assert time.monotonic() < deadline, "audio not ready"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def site() -> Iterator[HostSite]:
    host = HostSite().start()  # first: the service must know the site's origin
    for page in PAGES.values():
        host.pages[page.path] = (page.html(), page.strict)
    yield host
    host.stop()


@pytest.fixture(scope="module")
def service(site: HostSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"TTS_ENGINE": "espeak", "TTS_FALLBACK_ENGINE": "", "TTS_EMBED_ORIGINS": site.origin}
    live = LiveServer(tmp_path_factory.mktemp("embed-home"), **env).start()
    site.services["main"] = live.url
    yield live
    live.stop()


@pytest.fixture(scope="module")
def manifests(service: LiveServer, site: HostSite) -> dict[str, dict]:
    """Each page stored and made before any reader comes (as `tts-service crawl` would)."""
    return {name: embed(service, site, page.path, page.expected()) for name, page in PAGES.items()}


@dataclass
class Visit:
    """A browser page with what it logged: console errors, uncaught errors and CSP violations."""

    page: Page
    errors: list[str]

    def violations(self) -> list[str]:
        return self.page.evaluate("window[Symbol.for('csp')] || []")


RECORD_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => {
  const key = Symbol.for('csp');
  (window[key] = window[key] || []).push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    ctx.add_init_script(RECORD_VIOLATIONS)  # a symbol key: no global name is added
    yield ctx
    ctx.close()


@pytest.fixture
def visit(context: BrowserContext, manifests: dict) -> Iterator[Visit]:
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(f"{m.type}: {m.text} {m.location}") if m.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    seen = Visit(page, errors)
    yield seen
    assert errors == [], errors
    assert seen.violations() == []


def open_page(visit: Visit, site: HostSite, name: str) -> Page:
    page = visit.page
    page.goto(site.origin + PAGES[name].path)
    expect(toolbar(page)).to_be_visible()
    return page


def toolbar(page: Page):
    return page.locator("tts-toolbar")


def tool(page: Page, name: str):
    return toolbar(page).get_by_role("button", name=name, exact=True)


AUDIO = "document.querySelector('tts-toolbar').shadowRoot.querySelector('audio')"
HIGHLIGHTED = (
    "(() => { const h = CSS.highlights.get('tts-sentence');"
    " return h ? [...h].map((r) => r.toString().replace(/\\s+/g, ' ').trim()).join('|') : null; })()"
)
ACTIVE = (
    "(() => { let a = document.activeElement;"
    " while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement; return a; })()"
)


def tab_to(page: Page, test: str, limit: int = 60) -> None:
    """Press Tab until the focused element (inside the toolbar's shadow root too) passes ``test``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(a => {test})({ACTIVE})"):
            return
    pytest.fail(f"no element with {test} is reachable with Tab")


def playing(page: Page) -> None:
    wait_until(page, f"{AUDIO}.currentTime > 0.3 && !{AUDIO}.paused", timeout=20_000)


def sentence_index(page: Page) -> str | None:
    return toolbar(page).get_attribute("data-sentence")


# --- the contract with the crawler ----------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PAGES))
def test_the_toolbar_reads_the_page_as_the_crawler_does(
    visit: Visit, site: HostSite, service: LiveServer, manifests: dict, name: str
) -> None:
    page = visit.page
    with page.expect_request(lambda r: r.url.endswith("/api/embed") and r.method == "POST") as sent:
        page.goto(site.origin + PAGES[name].path)
    body = sent.value.post_data_json
    expected = PAGES[name].expected()
    assert (body["title"], body["paragraphs"]) == (expected.title, list(expected.paragraphs))
    assert body["url"] == site.origin + PAGES[name].path
    expect(toolbar(page)).to_be_visible()
    again = httpx.get(f"{service.url}/api/embed", params={"url": body["url"]}).json()
    assert (again["revision"], again["status"]) == (1, "ready")  # the stored page was already what it sent


# --- the toolbar on each page ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_wcag_violations(browser: Browser, site: HostSite, manifests: dict, name: str) -> None:
    # bypass_csp: the host's policy would refuse the axe script the test injects (the policy's own test is
    # every other test here, which runs under it).
    ctx = browser.new_context(locale="zh-CN", bypass_csp=True)
    page = ctx.new_page()
    page.goto(site.origin + PAGES[name].path)
    expect(toolbar(page)).to_be_visible()
    tool(page, "语音播报").click()  # the player's controls are shown too
    playing(page)
    tool(page, "暂停").click()
    # The whole page, host and toolbar, in each state the toolbar can put it in.
    for step in ("", "字体特大", "配色高对比", "指读", "大字幕", "阅读模式"):
        if step:
            tool(page, step).click()
        problems = axe_problems(page)
        assert problems == [], f"{name} after {step or 'start'}: {problems}"
    ctx.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_keyboard_only_reading(visit: Visit, site: HostSite, manifests: dict, name: str) -> None:
    page = open_page(visit, site, name)
    tab_to(page, "a.textContent.trim() === '语音播报'")
    assert page.evaluate(f"getComputedStyle({ACTIVE}).outlineStyle") != "none"  # the focus is visible
    page.keyboard.press("Enter")
    playing(page)
    first = manifests[name]["chunks"][0]["text"]
    assert page.evaluate(HIGHLIGHTED) == first
    assert sentence_index(page) == "0"
    expect(toolbar(page).locator(".player-status")).to_contain_text("正在播报第 1 句")
    page.keyboard.press("Tab")  # 上一句
    page.keyboard.press("Tab")  # 暂停
    page.keyboard.press("Enter")
    expect(toolbar(page).locator(".player-status")).to_have_text("已暂停")
    assert page.evaluate(f"{AUDIO}.paused")


@pytest.mark.parametrize("name", list(PAGES))
def test_pointing_with_the_keyboard_reads_from_sentence_3(
    visit: Visit, site: HostSite, manifests: dict, name: str
) -> None:
    """指读 on, then Tab into the article (one stop), ↓ three times and Enter: sentence 3 (0-based)."""
    page = open_page(visit, site, name)
    tab_to(page, "a.textContent.trim() === '指读'")
    page.keyboard.press("Enter")
    expect(tool(page, "指读")).to_have_attribute("aria-pressed", "true")
    tab_to(page, "a.hasAttribute('data-tts-focus')", limit=10)
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    playing(page)
    assert sentence_index(page) == "3"
    assert page.evaluate(HIGHLIGHTED) == manifests[name]["chunks"][3]["text"]
    expect(toolbar(page).locator(".player-status")).to_contain_text("正在播报第 4 句")


def test_pointing_with_a_click_reads_from_the_sentence(visit: Visit, site: HostSite, manifests: dict) -> None:
    page = open_page(visit, site, "typical")
    chunk = manifests["typical"]["chunks"][4]
    tool(page, "指读").click()
    box = page.evaluate(  # the middle of the sentence's first characters, found in the page's own text
        """text => {
          const walker = document.createTreeWalker(document.querySelector('article'), NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const at = walker.currentNode.data.indexOf(text);
            if (at < 0) continue;
            const r = new Range();
            r.setStart(walker.currentNode, at);
            r.setEnd(walker.currentNode, at + text.length);
            const b = r.getBoundingClientRect();
            return [b.left + b.width / 2, b.top + b.height / 2];
          }
        }""",
        chunk["text"][:6],
    )
    page.mouse.click(*box)
    playing(page)
    assert sentence_index(page) == "4"
    assert page.evaluate(HIGHLIGHTED) == chunk["text"]


WORD = (
    "(() => { const h = CSS.highlights.get('tts-word');"
    " return h ? [...h].map((r) => r.toString().replace(/\\s+/g, ' ').trim()).join('|') : null; })()"
)


def text_of(chunk: dict, mark: dict) -> str:
    """A mark's text, cut from its chunk's (both count UTF-16 code units from the paragraph's start)."""
    units = chunk["text"].encode("utf-16-le")
    start, end = (offset - chunk["offsets"][0] for offset in mark["offsets"])
    return units[2 * start : 2 * end].decode("utf-16-le").strip()


def test_the_word_being_read_is_highlighted_in_the_host_page(
    visit: Visit, site: HostSite, manifests: dict
) -> None:
    page = open_page(visit, site, "strict")
    tool(page, "语音播报").click()
    playing(page)
    wait_until(page, f"{WORD} !== null")
    heard = page.evaluate(f"({{t: {AUDIO}.currentTime, word: {WORD}}})")
    chunk = manifests["strict"]["chunks"][int(sentence_index(page) or -1)]
    near = {  # the marks heard around that time in the whole-article file (a frame's lag either way)
        text_of(chunk, m)
        for m in chunk["marks"]
        if m["article_start"] - 0.06 <= heard["t"] < m["article_end"] + 0.06
    }
    assert heard["word"] in near, (heard, near)
    tool(page, "逐词高亮").click()  # off: gone at once, and kept
    expect(tool(page, "逐词高亮")).to_have_attribute("aria-pressed", "false")
    wait_until(page, "!CSS.highlights.has('tts-word')")
    assert json.loads(page.evaluate("localStorage.getItem('tts-toolbar')"))["words"] is False


def test_pointing_at_a_word_reads_from_it(visit: Visit, site: HostSite, manifests: dict) -> None:
    """指读 with the pointer, 连读 off (each sentence's own file): playback starts at the word's mark."""
    page = open_page(visit, site, "typical")
    chunk = manifests["typical"]["chunks"][4]
    marks = [m for m in chunk["marks"] if text_of(chunk, m).strip("，。、；：！？“”")]
    mark = marks[len(marks) // 2]
    assert mark["start"] > 0.5  # well into the sentence
    tool(page, "连读").click()
    tool(page, "指读").click()
    found = page.evaluate(  # where the toolbar maps the mark in the page's own text, checked against it
        """offsets => { const r = ttsService.toolbar.highlighter.wordRange(4, offsets);
                        const b = r.getBoundingClientRect();
                        return {text: r.toString(), x: b.left + b.width / 2, y: b.top + b.height / 2}; }""",
        mark["offsets"],
    )
    assert found["text"].strip() == text_of(chunk, mark)
    page.evaluate(
        f"""() => {AUDIO}.addEventListener('playing', () => {{ window.began = {AUDIO}.currentTime; }},
                                             {{once: true}})"""
    )
    page.mouse.click(found["x"], found["y"])
    wait_until(page, "window.began !== undefined", timeout=20_000)
    assert sentence_index(page) == "4"
    assert page.evaluate(f"{AUDIO}.src") == chunk["url"]
    assert abs(page.evaluate("window.began") - mark["start"]) < 0.2


def sizes(page: Page, root: str, outside: str) -> dict[str, list[float]]:
    """Font sizes (px) of the article's text elements, and of elements outside the article."""
    return page.evaluate(
        """([root, outside]) => {
          const px = (el) => parseFloat(getComputedStyle(el).fontSize);
          const text = [...document.querySelector(root).querySelectorAll('p, td, span')];
          return {text: text.map(px), outside: [...document.querySelectorAll(outside)].map(px)};
        }""",
        [root, outside],
    )


def styles_of(page: Page, root: str) -> list:
    """Every inline style in the article, as the browser holds it (present or not, and its declarations)."""
    return page.evaluate(
        "root => [...document.querySelectorAll(`${root}, ${root} *`)]"
        ".map(e => [e.hasAttribute('style'), e.style.cssText])",
        root,
    )


@pytest.mark.parametrize(
    ("name", "root", "outside"),
    [("strict", "#zoom", ".footer p, .crumb, h1"), ("typical", "article", "header, footer")],
)
def test_text_size_reaches_the_ratios_keeps_and_restores(
    visit: Visit, site: HostSite, name: str, root: str, outside: str
) -> None:
    page = open_page(visit, site, name)
    base = sizes(page, root, outside)
    styles = styles_of(page, root)
    assert base["text"] and min(base["text"]) <= 14  # the site's own small px sizes
    for label, ratio in (("大", 1.25), ("特大", 2)):
        tool(page, f"字体{label}").click()
        expect(tool(page, f"字体{label}")).to_have_attribute("aria-pressed", "true")
        now = sizes(page, root, outside)
        assert all(n >= ratio * b for n, b in zip(now["text"], base["text"], strict=True)), (label, now, base)
        assert now["outside"] == base["outside"]  # nothing outside the article changes
    page.reload()
    expect(toolbar(page)).to_be_visible()
    expect(tool(page, "字体特大")).to_have_attribute("aria-pressed", "true")
    now = sizes(page, root, outside)
    assert all(n >= 2 * b for n, b in zip(now["text"], base["text"], strict=True))
    tool(page, "字体中").click()
    assert sizes(page, root, outside) == base
    assert styles_of(page, root) == styles  # given back exactly


def test_high_contrast_applies_to_the_article_and_goes_back(visit: Visit, site: HostSite) -> None:
    page = open_page(visit, site, "strict")
    colours = (
        "[...document.querySelectorAll('#zoom p, #zoom a, .footer p')].map(e => getComputedStyle(e).color)"
    )
    before = page.evaluate(colours)
    styles = styles_of(page, "#zoom")
    tool(page, "配色高对比").click()
    assert (
        page.evaluate("getComputedStyle(document.querySelector('#zoom')).backgroundColor") == "rgb(0, 0, 0)"
    )
    after = page.evaluate(colours)
    assert set(after[:-2]) <= {"rgb(255, 255, 255)", "rgb(255, 216, 77)"} and after[-2:] == before[-2:]
    assert "rgb(255, 216, 77)" in after  # links in yellow
    tool(page, "配色标准").click()
    assert page.evaluate(colours) == before
    assert styles_of(page, "#zoom") == styles


def test_large_captions_show_the_sentence_being_read(visit: Visit, site: HostSite, manifests: dict) -> None:
    page = open_page(visit, site, "strict")
    tool(page, "大字幕").click()
    expect(tool(page, "大字幕")).to_have_attribute("aria-pressed", "true")
    caption = toolbar(page).locator(".caption-bar")
    expect(caption).to_be_hidden()  # nothing is being read yet
    tool(page, "语音播报").click()
    playing(page)
    expect(caption).to_have_text(manifests["strict"]["chunks"][0]["text"])
    box = caption.bounding_box()
    assert box is not None and abs(box["y"] + box["height"] - 900) < 1 and box["width"] >= 1279
    assert caption.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 28
    # At 特大 the sentences run down the page: each one read is scrolled clear of the bar.
    page.emulate_media(reduced_motion="reduce")  # the scroll is then immediate
    tool(page, "字体特大").click()
    for index in range(1, 6):
        tool(page, "下一句").click()
        expect(caption).to_have_text(manifests["strict"]["chunks"][index]["text"])
        top, bottom = page.evaluate(
            "(() => { const r = [...CSS.highlights.get('tts-sentence')][0].getBoundingClientRect();"
            " return [r.top, r.bottom]; })()"
        )
        assert 0 <= top and bottom <= caption.bounding_box()["y"], (index, top, bottom)


def test_reading_mode_shows_the_article_alone(visit: Visit, site: HostSite, manifests: dict) -> None:
    page = open_page(visit, site, "typical")
    tool(page, "字体大").click()
    opener = tool(page, "阅读模式")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = toolbar(page).locator("dialog")
    expect(dialog).to_be_visible()
    expected = TYPICAL.expected()
    texts = dialog.locator("h1, p").all_text_contents()
    assert texts == list(expected.paragraphs)  # the article starts with its title: shown once, as the heading
    assert dialog.locator("h1").text_content() == expected.title
    assert dialog.locator(".reading-text").evaluate("e => getComputedStyle(e).fontSize") == "24px"
    box = dialog.bounding_box()
    assert box == {"x": 0, "y": 0, "width": 1280, "height": 900}  # the whole viewport
    dialog.get_by_role("button", name="播放").click()  # the player works from here too
    playing(page)
    expect(dialog.locator(".sentence.reading-now")).to_have_text(expected.title)
    expect(dialog.get_by_role("status")).to_contain_text("正在播报第 1 句")  # the page behind is inert
    dialog.locator(".sentence").nth(3).click()  # 指读 in the reading mode
    expect(dialog.locator(".sentence.reading-now")).to_have_text(manifests["typical"]["chunks"][3]["text"])
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate(f"{ACTIVE}.textContent") == "阅读模式"  # focus goes back where it was


def test_the_fallback_marks_the_sentence_and_gives_the_page_back(
    context: BrowserContext, site: HostSite, manifests: dict
) -> None:
    context.add_init_script("delete CSS.highlights;")  # a browser without the Custom Highlight API
    page = context.new_page()
    page.goto(site.origin + STRICT.path)
    expect(toolbar(page)).to_be_visible()
    original = page.evaluate("document.querySelector('#zoom').innerHTML")
    text = page.evaluate("document.querySelector('#zoom').textContent")
    tool(page, "语音播报").click()
    playing(page)
    chunks = manifests["strict"]["chunks"]
    marked = (
        "[...document.querySelectorAll('mark[data-tts-mark]')].map(m => m.textContent).join('')"
        ".replace(/\\s+/g, ' ').trim()"
    )
    assert page.evaluate(marked) == chunks[0]["text"]
    tool(page, "下一句").click()
    wait_until(page, f"{json.dumps(chunks[1]['text'])} === {marked}")
    assert page.evaluate("document.querySelector('#zoom').textContent") == text  # marks add no text
    page.evaluate(f"{AUDIO}.currentTime = {AUDIO}.duration - 0.05")  # to the end: reading stops
    expect(toolbar(page).locator(".player-status")).to_have_text("播报结束")
    assert page.evaluate("document.querySelector('#zoom').innerHTML") == original


def test_only_the_namespace_is_added_to_the_window(
    context: BrowserContext, site: HostSite, manifests: dict
) -> None:
    context.add_init_script(
        "Object.defineProperty(window, Symbol.for('before'), {value: Object.getOwnPropertyNames(window)});"
    )
    page = context.new_page()
    page.goto(site.origin + TYPICAL.path)
    expect(toolbar(page)).to_be_visible()
    added = page.evaluate(
        "Object.getOwnPropertyNames(window).filter(n => !window[Symbol.for('before')].includes(n))"
    )
    assert added == ["ttsService"]


# --- the service's side ---------------------------------------------------------------------------------


def audio_rows(service: LiveServer) -> int:
    with sqlite3.connect(f"file:{service.home / 'tts.db'}?mode=ro", uri=True, timeout=5) as conn:
        return conn.execute("SELECT count(*) FROM audio").fetchone()[0]


def test_a_changed_paragraph_makes_only_its_changed_sentence_again(
    visit: Visit, site: HostSite, service: LiveServer, manifests: dict
) -> None:
    path = "/city/t20200119_3.html"
    html = TYPICAL.html().replace("社区食堂开到家门口", "社区食堂越办越好")
    site.pages[path] = (html, False)
    page = visit.page
    page.goto(site.origin + path)
    tool(
        page, "语音播报"
    ).click()  # at once: the new page's audio plays as soon as its first sentence is made
    playing(page)
    assert sentence_index(page) == "0"
    first = wait_ready(service, site.origin + path)
    made = audio_rows(service)
    site.pages[path] = (html.replace("明年还将新增八家", "明年还将新增十家"), False)
    page.reload()
    expect(toolbar(page)).to_be_visible()
    second = wait_ready(service, site.origin + path)
    assert (first["revision"], second["revision"]) == (1, 2)
    assert audio_rows(service) == made + 1  # "明年还将新增十家，覆盖所有街道。": the one changed sentence


def test_published_only_hides_the_toolbar_on_unknown_pages(
    browser: Browser, site: HostSite, tmp_path: Path
) -> None:
    env = {
        "TTS_ENGINE": "espeak",
        "TTS_FALLBACK_ENGINE": "",
        "TTS_EMBED_ORIGINS": site.origin,
        "TTS_EMBED_MODE": "published-only",
    }
    live = LiveServer(tmp_path, **env).start()
    try:
        site.services["published"] = live.url
        ctx = browser.new_context(locale="zh-CN")
        page = ctx.new_page()
        with page.expect_response(lambda r: r.url.endswith("/api/embed")) as answer:
            page.goto(f"{site.origin}{TYPICAL.path}?svc=published")
        assert answer.value.status == 404
        expect(toolbar(page)).to_have_count(0)
        ctx.close()
    finally:
        live.stop()


# --- screenshots, for people to look at ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("width", [1280, 360])
def test_screenshots(browser: Browser, site: HostSite, manifests: dict, name: str, width: int) -> None:
    # Reduced motion: the scrolling to the sentence read is immediate, so the screenshot shows where it ends.
    ctx = browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": 900}, reduced_motion="reduce"
    )
    page = ctx.new_page()
    page.goto(site.origin + PAGES[name].path)
    expect(toolbar(page)).to_be_visible()
    tool(page, "语音播报").click()
    playing(page)
    tool(page, "暂停").click()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"embed-{name}-{width}.png"))
    tool(page, "字体特大").click()
    tool(page, "大字幕").click()
    tool(page, "下一句").click()
    page.screenshot(path=str(ARTIFACTS / f"embed-{name}-{width}-xl-captions.png"))
    tool(page, "阅读模式").click()
    page.screenshot(path=str(ARTIFACTS / f"embed-{name}-{width}-reading.png"))
    page.keyboard.press("Escape")
    tool(page, "配色高对比").click()
    page.screenshot(path=str(ARTIFACTS / f"embed-{name}-{width}-xl-contrast.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width or name == "strict"
    ctx.close()


def test_a_sentence_chosen_while_paused_stays_highlighted(
    visit: Visit, site: HostSite, manifests: dict
) -> None:
    """The seek to a chosen sentence lands just before its start: the timeline must not give the highlight
    back to the sentence before (it did, on the typical page, once the seek's timeupdate came)."""
    page = open_page(visit, site, "typical")
    tool(page, "语音播报").click()
    playing(page)
    tool(page, "暂停").click()
    for index in range(1, 5):
        tool(page, "下一句").click()
        start = manifests["typical"]["chunks"][index]["start"]
        wait_until(page, f"!{AUDIO}.seeking && Math.abs({AUDIO}.currentTime - {start}) < 0.2")
        page.wait_for_timeout(300)  # any timeupdate of the seek has come
        assert sentence_index(page) == str(index)


def test_without_continuous_reading_one_sentence_is_read_at_a_time(
    visit: Visit, site: HostSite, manifests: dict
) -> None:
    page = open_page(visit, site, "typical")
    tool(page, "连读").click()
    expect(tool(page, "连读")).to_have_attribute("aria-pressed", "false")
    tool(page, "语音播报").click()
    status = toolbar(page).locator(".player-status")
    expect(status).to_have_text("本句读完，按播放读下一句", timeout=20_000)
    assert sentence_index(page) == "0" and page.evaluate(f"{AUDIO}.paused")
    assert (
        page.evaluate(f"{AUDIO}.src") == manifests["typical"]["chunks"][0]["url"]
    )  # the sentence's own file
    tool(page, "播放").click()
    playing(page)
    assert sentence_index(page) == "1"
    page.reload()
    expect(toolbar(page)).to_be_visible()
    expect(tool(page, "连读")).to_have_attribute("aria-pressed", "false")  # kept for the site


def test_a_site_not_allowed_gets_no_voice(browser: Browser, site: HostSite, service: LiveServer) -> None:
    """The same page from another origin (localhost is not 127.0.0.1), which TTS_EMBED_ORIGINS does not list:
    the preflight is refused, nothing is stored, and the toolbar says 语音播报 is unavailable."""
    other = site.origin.replace("127.0.0.1", "localhost")
    ctx = browser.new_context(locale="zh-CN")
    page = ctx.new_page()
    page.goto(other + TYPICAL.path)
    expect(toolbar(page).locator(".player-status")).to_have_text("语音播报暂不可用，请稍后重试")
    tool(page, "字体大").click()  # the rest of the toolbar works
    expect(tool(page, "字体大")).to_have_attribute("aria-pressed", "true")
    stored = httpx.get(f"{service.url}/api/embed", params={"url": other + TYPICAL.path})
    assert stored.status_code == 404
    ctx.close()
