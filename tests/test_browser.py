"""The reader page in real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import LiveServer
from playwright.sync_api import Browser, Page, expect, sync_playwright

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("browser-home"))
    live.cli("seed")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN")
    yield context.new_page()
    context.close()


def body_font_px(page: Page) -> float:
    return page.evaluate("parseFloat(getComputedStyle(document.querySelector('.article-body p')).fontSize)")


def test_read_aloud_plays_and_highlights(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/articles/demo")
    button = page.get_by_role("button", name="语音播报")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    # Audio is generated in the background; the player starts as soon as the first chunk exists.
    page.wait_for_function("document.querySelector('.player-audio').currentTime > 0.5", timeout=60_000)
    expect(page.locator(".chunk.reading")).to_have_attribute("data-chunk", "0")
    expect(page.locator(".player-status")).to_have_text("正在播报")
    button.click()
    expect(page.locator(".player-status")).to_have_text("已暂停")
    assert page.evaluate("document.querySelector('.player-audio').paused")


def test_text_size_changes_instantly_and_is_kept(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/articles/demo")
    medium = body_font_px(page)
    page.get_by_role("button", name="字体大").click()
    expect(page.get_by_role("button", name="字体大")).to_have_attribute("aria-pressed", "true")
    assert page.url.endswith("/articles/demo")
    large = body_font_px(page)
    assert large / medium == pytest.approx(24 / 19, rel=0.01)
    page.reload()
    assert body_font_px(page) == large
    page.get_by_role("button", name="字体小").click()
    assert body_font_px(page) / medium == pytest.approx(16 / 19, rel=0.01)


def test_text_size_without_javascript(browser: Browser, server: LiveServer, tmp_path: Path) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/articles/demo")
    medium = body_font_px(page)
    with page.expect_navigation():
        page.get_by_role("button", name="字体大").click()
    assert page.url == f"{server.url}/articles/demo"
    assert body_font_px(page) / medium == pytest.approx(24 / 19, rel=0.01)
    context.close()
