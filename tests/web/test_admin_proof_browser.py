"""The proofreading page in real headless Chromium against a real server: axe finds nothing in both colour
schemes, and a fix works by keyboard and plain forms (JavaScript off)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from helpers import TOKEN, LiveServer, axe_problems
from playwright.sync_api import Browser, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("proof-home")
    live = LiveServer(home, TTS_ENGINE="espeak")
    source = home / "a.txt"
    source.write_text("校对读音\n\n2019年，他在银行当行长。\n\n今天天气很好。\n", encoding="utf-8")
    live.cli("add", str(source), "--slug", "a")
    live.start()
    yield live
    live.stop()


def sign_in(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/admin/login")
    page.get_by_label("编辑令牌").fill(TOKEN)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server.url}/admin")


def wait_ready(server: LiveServer) -> None:
    deadline = time.monotonic() + 60
    while httpx.get(f"{server.url}/api/articles/a/audio").json()["status"] == "pending":
        assert time.monotonic() < deadline, "audio never finished"
        time.sleep(0.2)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_axe_finds_nothing_on_the_proof_page(browser: Browser, server: LiveServer, color_scheme: str) -> None:
    ctx = browser.new_context(locale="zh-CN", color_scheme=color_scheme, bypass_csp=True)  # for axe's script
    page = ctx.new_page()
    sign_in(page, server)
    wait_ready(server)
    page.goto(f"{server.url}/admin/articles/a/proof")
    expect(page.locator("ruby.flagged")).to_have_count(1)
    assert axe_problems(page) == [], "proof page"
    ctx.close()


def test_fix_here_by_keyboard_without_javascript(browser: Browser, server: LiveServer) -> None:
    ctx = browser.new_context(locale="zh-CN", java_script_enabled=False)
    page = ctx.new_page()
    sign_in(page, server)
    page.get_by_role("link", name="校对读音：校对读音（1 处待校对）").click()
    expect(page.get_by_text("1 处待校对", exact=True)).to_be_visible()
    select = page.get_by_label("“当”读作")
    select.select_option("dang4")
    select.focus()
    page.keyboard.press("Tab")  # to 仅此处
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("本文将重新合成 1 句。")
    expect(page.locator("ruby", has_text="当")).to_have_text("当dàng")
    expect(page.get_by_text("0 处待校对", exact=True)).to_be_visible()
    ctx.close()
