"""The reader pages in real headless Chromium (Debian's package, driven by Playwright), as readers use it."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from helpers import ARTIFACTS, AUTH, LiveServer, _cli, axe_problems, body_font_px, wait_until
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.browser
SIZES_PX = {"s": 16, "m": 19, "l": 24, "xl": 40}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("browser-home"))
    live.cli("seed")
    live.cli("pregen", "demo")
    live.start()
    yield live
    live.stop()


def new_context(browser: Browser, server: LiveServer, *, size: str = "m", scheme: str = "auto", **options):
    context = browser.new_context(locale="zh-CN", **options)
    context.add_cookies(
        [
            {"name": "tts_size", "value": size, "url": server.url},
            {"name": "tts_scheme", "value": scheme, "url": server.url},
        ]
    )
    return context


@pytest.fixture
def context(browser: Browser, server: LiveServer) -> Iterator[BrowserContext]:
    ctx = new_context(browser, server)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def current_time(page: Page) -> float:
    return page.evaluate("document.querySelector('.player-audio').currentTime")


def reading_index(page: Page) -> str | None:
    return page.evaluate("document.querySelector('.chunk.reading')?.dataset.chunk ?? null")


# --- accessibility audits ------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["auto", "contrast"])
@pytest.mark.parametrize("size", list(SIZES_PX))
def test_axe_finds_no_wcag_violations(browser: Browser, server: LiveServer, size: str, scheme: str) -> None:
    for color_scheme in ("light", "dark") if scheme == "auto" else ("light",):
        # bypass_csp: the policy (script-src 'self') would refuse the axe script the test injects.
        ctx = new_context(
            browser, server, size=size, scheme=scheme, color_scheme=color_scheme, bypass_csp=True
        )
        page = ctx.new_page()
        for path in ("/", "/articles/demo"):
            page.goto(server.url + path)
            problems = axe_problems(page)
            assert problems == [], f"{path} size={size} scheme={scheme} {color_scheme}: {problems}"
        ctx.close()


def contrast(page: Page, selector: str) -> float:
    """WCAG contrast ratio between an element's text colour and the page background."""
    return page.evaluate(
        """sel => {
            const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
            const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
                return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
            const fg = lum(rgb(getComputedStyle(document.querySelector(sel)).color));
            const bg = lum(rgb(getComputedStyle(document.body).backgroundColor));
            return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
        }""",
        selector,
    )


@pytest.mark.parametrize(
    ("scheme", "color_scheme", "least"), [("auto", "light", 7), ("auto", "dark", 7), ("contrast", "light", 7)]
)
def test_contrast_of_text(browser: Browser, server: LiveServer, scheme: str, color_scheme: str, least: float):
    ctx = new_context(browser, server, scheme=scheme, color_scheme=color_scheme)
    page = ctx.new_page()
    page.goto(f"{server.url}/articles/demo")
    assert contrast(page, ".article-body p") >= least
    assert contrast(page, ".meta") >= 4.5
    ctx.close()


# --- text size -----------------------------------------------------------------------------------------


def test_text_size_steps_change_instantly_and_are_kept(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/articles/demo")
    assert body_font_px(page) == SIZES_PX["m"]
    for size, label in (("l", "大"), ("xl", "特大"), ("s", "小")):
        page.get_by_role("button", name=f"字体{label}").click()
        expect(page.get_by_role("button", name=f"字体{label}")).to_have_attribute("aria-pressed", "true")
        assert body_font_px(page) == SIZES_PX[size]
    assert SIZES_PX["xl"] >= 2 * SIZES_PX["m"]
    page.get_by_role("button", name="字体特大").click()
    page.reload()
    assert body_font_px(page) == SIZES_PX["xl"]
    spacing = page.evaluate(
        """() => { const p = getComputedStyle(document.querySelector('.article-body p'));
                   return [parseFloat(p.lineHeight) / parseFloat(p.fontSize),
                           parseFloat(p.marginBottom),
                           parseFloat(p.lineHeight) - parseFloat(p.fontSize)]; }"""
    )
    assert spacing[0] >= 1.5 and spacing[1] > spacing[2]  # paragraph gap larger than the gap between lines


def test_measure_is_35_to_40_characters_on_wide_screens(page: Page, server: LiveServer) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server.url}/articles/demo")
    chars = page.evaluate(
        "(() => { const p = document.querySelector('.article-body p'); "
        "return p.clientWidth / parseFloat(getComputedStyle(p).fontSize); })()"
    )
    assert 35 <= chars <= 40


@pytest.mark.parametrize("scheme", ["auto", "contrast"])
def test_no_horizontal_scrolling_at_320px_largest_text(
    browser: Browser, server: LiveServer, scheme: str
) -> None:
    ctx = new_context(browser, server, size="xl", scheme=scheme, viewport={"width": 320, "height": 800})
    page = ctx.new_page()
    for path in ("/", "/articles/demo"):
        page.goto(server.url + path)
        if path != "/":
            page.get_by_role("button", name="语音播报").click()  # the player's controls are shown too
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    ctx.close()


# --- the player ----------------------------------------------------------------------------------------


def test_keyboard_only_reading_session(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/articles/demo")
    for _ in range(20):  # Tab to 语音播报
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "语音播报":
            break
    else:
        pytest.fail("语音播报 is not reachable with Tab")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # visible focus
    page.keyboard.press("Enter")
    wait_until(page, "document.querySelector('.player-audio').currentTime > 0.3", timeout=20_000)
    assert reading_index(page) == "0"
    expect(page.locator(".player-status")).to_contain_text("正在播报第 1 句")

    page.keyboard.press("Tab")  # into the player controls: 上一句
    page.keyboard.press("Tab")  # 暂停
    page.keyboard.press("Tab")  # 下一句
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "下一句"
    page.keyboard.press("Enter")
    expect(page.locator(".chunk.reading")).to_have_attribute("data-chunk", "1")
    page.keyboard.press("ArrowRight")  # player shortcut: next sentence
    expect(page.locator(".chunk.reading")).to_have_attribute("data-chunk", "2")
    page.keyboard.press("k")  # pause
    expect(page.locator(".player-status")).to_have_text("已暂停")

    page.locator(".chunk").first.focus()  # the text is one tab stop; arrows move between sentences
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # 指读: read from the focused sentence
    expect(page.locator(".chunk.reading")).to_have_attribute("data-chunk", "3")
    wait_until(page, "!document.querySelector('.player-audio').paused")
    status = page.locator(".player-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_contain_text("正在播报第 4 句")


def test_click_a_sentence_reads_from_it_and_continues(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/articles/demo")
    count = page.locator(".chunk").count()
    page.locator(f'.chunk[data-chunk="{count - 2}"]').click()
    expect(page.locator(".chunk.reading")).to_have_attribute("data-chunk", str(count - 2))
    page.evaluate("document.querySelector('.player-audio').playbackRate = 2")
    # 连读: reading goes on by itself to the last sentence, then stops.
    expect(page.locator(".player-status")).to_have_text("播报结束", timeout=30_000)


def test_player_follows_the_whole_file_timeline(page: Page, server: LiveServer) -> None:
    manifest = httpx.get(f"{server.url}/api/articles/demo/audio").json()
    page.goto(f"{server.url}/articles/demo")
    page.get_by_role("button", name="语音播报").click()
    wait_until(page, "document.querySelector('.player-audio').currentTime > 0.2", timeout=20_000)
    assert page.evaluate("document.querySelector('.player-audio').src") == manifest["url"]  # one gapless file
    track = page.locator(".player-audio track")
    expect(track).to_have_attribute("src", manifest["captions_url"])
    seek = manifest["chunks"][5]["start"] + 0.3
    page.evaluate(f"document.querySelector('.player-audio').currentTime = {seek}")
    expect(page.locator(".chunk.reading")).to_have_attribute("data-chunk", "5")
    download = page.locator(".player-download a")
    expect(download).to_have_attribute("href", f"{server.url}/articles/demo/audio.mp3")


def test_speed_is_applied_and_kept(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/articles/demo")
    page.get_by_role("button", name="语音播报").click()
    page.get_by_label("语速").select_option("1.5")
    wait_until(page, "document.querySelector('.player-audio').playbackRate === 1.5")
    page.reload()
    assert page.get_by_label("语速").input_value() == "1.5"


def test_progress_shows_elapsed_and_total(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/articles/demo")
    page.get_by_role("button", name="语音播报").click()
    wait_until(page, "document.querySelector('.player-audio').currentTime > 1.1", timeout=20_000)
    expect(page.locator(".elapsed")).to_have_text(re.compile(r"00:0[1-3]"))
    total = page.locator(".total").text_content()
    minutes, seconds = map(int, total.split(":"))
    assert 120 < minutes * 60 + seconds < 900  # the whole demo article, about 1,500 characters


def test_pending_audio_starts_without_reload(page: Page, server: LiveServer) -> None:
    body = {"title": "新文章", "text": "这篇文章刚刚发布。音频还没有生成。请稍候片刻。", "slug": "fresh"}
    assert httpx.post(f"{server.url}/api/articles", json=body, headers=AUTH).status_code == 201
    page.goto(f"{server.url}/articles/fresh")
    page.get_by_role("button", name="语音播报").click()
    wait_until(page, "document.querySelector('.player-audio').currentTime > 0.3", timeout=30_000)
    assert page.url.endswith("/articles/fresh")


WAITING = "音频生成中，请稍候"


def job_status(server: LiveServer, slug: str) -> str | None:
    """The article's latest job, read straight from the database as another process sees it."""
    with sqlite3.connect(f"file:{server.home / 'tts.db'}?mode=ro", uri=True, timeout=5) as conn:
        row = conn.execute("SELECT status FROM jobs WHERE slug = ? ORDER BY id DESC", (slug,)).fetchone()
    return row[0] if row else None


@contextmanager
def generation_held(
    server: LiveServer, tmp_path: Path, slug: str, topic: str
) -> Iterator[Callable[[], None]]:
    """A new article whose audio stays pending until the test calls release().

    An operator's `tts-service pregen` owns the article's job and is stopped (SIGSTOP) before it makes the
    first sentence; the server sees the job running in another live process and leaves it alone. release()
    lets pregen go on (SIGCONT) and waits until every sentence is made. The topic keeps the sentences apart
    from any other test's, whose audio may be cached already.
    """
    sentences = "".join(f"这是{topic}的第{n}句话。" for n in "一二三四五六")
    doc = tmp_path / f"{slug}.txt"
    doc.write_text(f"正在生成的文章\n\n{sentences}\n", encoding="utf-8")
    server.cli("add", str(doc), "--slug", slug)
    proc = subprocess.Popen([_cli(), "pregen", slug], env=server.env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while job_status(server, slug) != "running":
            assert proc.poll() is None and time.monotonic() < deadline, "pregen did not start its job"
            time.sleep(0.005)
        proc.send_signal(signal.SIGSTOP)
        manifest = httpx.get(f"{server.url}/api/articles/{slug}/audio").json()
        assert manifest["status"] == "pending" and manifest["chunks"][0]["url"] is None  # really held

        def release() -> None:
            proc.send_signal(signal.SIGCONT)
            assert proc.wait(timeout=300) == 0

        yield release
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait()


def record_statuses(page: Page) -> None:
    """Keep every text the live region is given, in order, in window.statuses (each one is announced)."""
    page.evaluate(
        """() => { const el = document.querySelector('.player-status'); window.statuses = [];
                   new MutationObserver(() => window.statuses.push(el.textContent.trim()))
                     .observe(el, {childList: true, characterData: true, subtree: true}); }"""
    )


def test_status_follows_playback_that_starts_after_waiting(page: Page, server: LiveServer, tmp_path: Path):
    with generation_held(server, tmp_path, "held", "试听") as release:
        page.goto(f"{server.url}/articles/held")
        record_statuses(page)
        page.get_by_role("button", name="语音播报").click()
        expect(page.locator(".player-status")).to_have_text(WAITING)
        release()
    assert httpx.get(f"{server.url}/api/articles/held/audio").json()["status"] == "ready"
    wait_until(
        page,
        "Number(document.querySelector('.chunk.reading')?.dataset.chunk) >= 2"
        " && !document.querySelector('.player-audio').paused",
        timeout=60_000,
    )
    status = page.locator(".player-status").text_content()
    assert status.startswith("正在播报第") and "生成中" not in status, status
    # Each wait is announced once, then the start that ends it, once; never a sentence by sentence chatter.
    statuses = page.evaluate("window.statuses")
    assert statuses[::2] == [WAITING] * len(statuses[::2]), statuses
    assert len(statuses) % 2 == 0 and all(s.startswith("正在播报第") for s in statuses[1::2]), statuses


def test_pressing_again_while_waiting_pauses(page: Page, server: LiveServer, tmp_path: Path) -> None:
    button = page.get_by_role("button", name="语音播报")
    with generation_held(server, tmp_path, "paused", "暂停") as release:
        page.goto(f"{server.url}/articles/paused")
        record_statuses(page)
        button.click()
        expect(page.locator(".player-status")).to_have_text(WAITING)
        button.click()
        expect(page.locator(".player-status")).to_have_text("已暂停")
        expect(button).to_have_attribute("aria-pressed", "false")
        release()  # takes seconds: a player still waiting would ask again, and start, meanwhile
    assert page.evaluate("document.querySelector('.player-audio').paused")
    button.click()
    wait_until(page, "document.querySelector('.player-audio').currentTime > 0.2", timeout=30_000)
    assert reading_index(page) == "0"
    expect(page.locator(".player-status")).to_have_text("正在播报第 1 句，共 6 句")
    assert page.evaluate("window.statuses") == [WAITING, "已暂停", "正在播报第 1 句，共 6 句"]


def test_status_says_when_audio_becomes_ready_before_playing(page: Page, server: LiveServer, tmp_path: Path):
    with generation_held(server, tmp_path, "idle", "等候") as release:
        page.goto(f"{server.url}/articles/idle")
        expect(page.locator(".player-status")).to_contain_text("音频生成中")
        release()
    expect(page.locator(".player-status")).to_have_text("音频已就绪", timeout=15_000)


# --- without JavaScript --------------------------------------------------------------------------------


def test_without_javascript(browser: Browser, server: LiveServer) -> None:
    ctx = new_context(browser, server, java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{server.url}/articles/demo")
    expect(page.locator("h1")).to_have_text("青禾区图书馆推出无障碍语音播报服务")
    assert page.locator("audio[controls]").count() == 1  # the first sentence, playable natively
    # No button that needs JavaScript to do anything: the native player stands in their place.
    assert page.get_by_role("button", name="语音播报").count() == 0
    assert not page.locator(".player-keys").is_visible()  # the keyboard help is about those buttons
    with page.expect_navigation():
        page.get_by_role("button", name="字体大").click()
    assert page.url == f"{server.url}/articles/demo"
    assert body_font_px(page) == SIZES_PX["l"]
    with page.expect_navigation():
        page.get_by_role("button", name="配色高对比").click()
    assert "scheme-contrast" in page.evaluate("document.documentElement.className")
    ctx.close()


# --- screenshots, for people to look at ----------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["auto", "contrast"])
@pytest.mark.parametrize("width", [1280, 320])
def test_screenshots(browser: Browser, server: LiveServer, scheme: str, width: int) -> None:
    ctx = new_context(browser, server, scheme=scheme, viewport={"width": width, "height": 900})
    page = ctx.new_page()
    page.goto(f"{server.url}/articles/demo")
    page.get_by_role("button", name="语音播报").click()
    wait_until(page, "document.querySelector('.player-audio').currentTime > 0.2", timeout=20_000)
    page.get_by_role("button", name="暂停").click()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"article-{scheme}-{width}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    ctx.close()


def test_reader_runs_under_the_content_security_policy(page: Page, server: LiveServer) -> None:
    """The real policy, not bypassed: the player works with nothing inline and nothing evaluated."""
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.on("pageerror", lambda error: messages.append(str(error)))
    response = page.goto(server.url + "/articles/demo")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_role("button", name="语音播报").click()
    wait_until(page, "document.querySelector('.player-audio').currentTime > 0.3", timeout=20_000)
    assert not [m for m in messages if "Content Security Policy" in m], messages
