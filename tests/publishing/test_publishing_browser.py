"""A published site in real Chromium, served by Debian's nginx with the README's static-site block and no
tts_service process running: the page renders, axe finds nothing, 语音播报 plays and highlights, 字体 and
配色 persist across reloads (localStorage), and without JavaScript a native player of the whole article.

nginx rather than ``python -m http.server``: the player seeks in the whole-article MP3 (指读), which needs
``Range`` answers, and http.server sends none.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import NGINX, NGINX_MAIN_CONF, REPO_ROOT, LiveServer, axe_problems, body_font_px, wait_until
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.browser
SIZES_PX = {"m": 19, "xl": 40}


def readme_static_site(out: Path, port: int) -> str:
    """The README's static-site block, with only the port and the root changed."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"^```nginx static-site\n(.*?)^```$", readme, re.M | re.S)
    block, listens = re.subn(r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{port};", block, flags=re.M)
    block, roots = re.subn(r"^(\s*root )/srv/tts-site;", rf"\g<1>{out};", block, flags=re.M)
    assert (listens, roots) == (1, 1)
    return block


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo article, its audio made, published, and served by nginx; the site's URL."""
    tmp = tmp_path_factory.mktemp("published")
    home, out = tmp / "home", tmp / "site"
    home.mkdir()
    tool = LiveServer(home, TTS_ENGINE="espeak")  # its environment and cli(); no tts_service server runs
    tool.cli("seed")
    tool.cli("pregen", "demo")
    tool.cli("publish", str(out))
    port = free_port()
    conf = tmp / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""  # to read pytest's 0700 directories
    conf.write_text(
        NGINX_MAIN_CONF.format(tmp=tmp, user=user, site=readme_static_site(out, port)), encoding="utf-8"
    )
    nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")])
    try:
        deadline = time.monotonic() + 30
        while True:
            assert nginx.poll() is None, (tmp / "error.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not come up"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page under the site's own policy (the conftest's context fails the test on a CSP violation)."""
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == []


def test_axe_finds_no_violations(browser: Browser, site: str) -> None:
    ctx = browser.new_context(locale="zh-CN", bypass_csp=True)  # the policy would refuse axe's script
    page = ctx.new_page()
    for path in ("/", "/articles/demo.html"):
        page.goto(site + path)
        assert axe_problems(page) == [], path
    page.get_by_role("button", name="字体特大").click()
    page.get_by_role("button", name="配色高对比").click()
    page.reload()
    assert axe_problems(page) == [], "特大, 高对比"
    ctx.close()


def test_read_aloud_plays_the_whole_file_and_highlights_the_sentence(page: Page, site: str) -> None:
    page.goto(f"{site}/articles/demo.html")
    expect(page.locator("h1")).to_have_text("青禾区图书馆推出无障碍语音播报服务")
    manifest = json.loads(page.request.get(f"{site}/articles/demo.audio.json").body())
    page.evaluate(
        """() => { window.loads = 0;
                   document.querySelector('.player-audio').addEventListener('loadstart', () => loads++); }"""
    )
    page.get_by_role("button", name="语音播报").click()
    wait_until(page, "document.querySelector('.player-audio').currentTime > 0.3")
    expect(page.locator(".chunk.reading")).to_have_attribute("data-chunk", "0")
    expect(page.locator(".player-status")).to_contain_text("正在播报第 1 句")
    audio_src = page.evaluate("document.querySelector('.player-audio').src")
    assert audio_src == f"{site}/audio/{manifest['url'].removeprefix('../audio/')}"
    expect(page.locator(".player-audio track")).to_have_attribute("src", f"{site}/articles/demo.vtt")
    assert page.request.get(f"{site}/articles/demo.vtt").headers["content-type"].startswith("text/vtt")
    # 指读: click a sentence far into the article; the player seeks there in the one file (Range).
    page.locator('.chunk[data-chunk="5"]').click()
    expect(page.locator(".chunk.reading")).to_have_attribute("data-chunk", "5")
    start = manifest["chunks"][5]["start"]
    wait_until(page, f"document.querySelector('.player-audio').currentTime > {start + 0.2}")
    # Still the one file, never loaded again: the manifest's URLs (relative to it) were resolved before the
    # player compared them with the element's (absolute) src.
    assert page.evaluate("document.querySelector('.player-audio').src") == audio_src
    assert page.evaluate("window.loads") == 1


def test_text_size_and_scheme_persist_across_reloads(page: Page, site: str) -> None:
    page.goto(f"{site}/articles/demo.html")
    assert body_font_px(page) == SIZES_PX["m"]
    expect(page.get_by_role("button", name="字体中")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="字体特大").click()
    assert body_font_px(page) == SIZES_PX["xl"]
    page.get_by_role("button", name="配色高对比").click()
    assert page.evaluate("localStorage.getItem('tts_size')") == "xl"
    for path in ("/articles/demo.html", "/"):  # kept on reload, and on the site's other pages
        page.goto(site + path)
        assert page.evaluate("document.documentElement.className") == "size-xl scheme-contrast"
        expect(page.get_by_role("button", name="字体特大")).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_role("button", name="字体中")).to_have_attribute("aria-pressed", "false")
        expect(page.get_by_role("button", name="配色高对比")).to_have_attribute("aria-pressed", "true")
    page.goto(f"{site}/articles/demo.html")
    assert body_font_px(page) == SIZES_PX["xl"]
    page.get_by_role("button", name="字体中").click()
    page.reload()
    assert body_font_px(page) == SIZES_PX["m"]


def test_without_javascript(browser: Browser, site: str) -> None:
    ctx = browser.new_context(locale="zh-CN", java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{site}/articles/demo.html")
    expect(page.locator("h1")).to_have_text("青禾区图书馆推出无障碍语音播报服务")
    native = page.locator("audio[controls]")
    assert native.count() == 1
    assert re.fullmatch(r"\.\./audio/[0-9a-f]{64}\.mp3", native.get_attribute("src"))
    assert (
        page.request.get(f"{site}/articles/{native.get_attribute('src')}").headers["content-type"]
        == "audio/mpeg"
    )
    assert body_font_px(page) == SIZES_PX["m"]  # the default size
    # Nothing that needs JavaScript to do anything: no 语音播报 button, no preference buttons.
    assert page.get_by_role("button", name="语音播报").count() == 0
    assert page.get_by_role("button", name="字体大").count() == 0
    ctx.close()


def test_the_readme_block_serves_what_the_player_needs(site: str) -> None:
    """Range answers for seeking, the captions' type, caching by kind of file, and publish's record hidden."""
    import httpx

    manifest = httpx.get(f"{site}/articles/demo.audio.json").json()
    mp3 = f"{site}/articles/{manifest['url']}"
    part = httpx.get(mp3, headers={"Range": "bytes=1000-1999"})
    assert (
        part.status_code == 206 and len(part.content) == 1000 and part.headers["content-type"] == "audio/mpeg"
    )
    assert part.headers["cache-control"] == "public, max-age=31536000, immutable"
    page = httpx.get(f"{site}/articles/demo.html")
    assert page.headers["cache-control"] == "no-cache" and page.headers["x-frame-options"] == "DENY"
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert httpx.get(f"{site}/articles/demo.vtt").headers["content-type"] == "text/vtt; charset=utf-8"
    assert httpx.get(f"{site}/").text == httpx.get(f"{site}/index.html").text
    assert httpx.get(f"{site}/.tts-published.json").status_code == 404
