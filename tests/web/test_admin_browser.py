"""The editor page in real headless Chromium against a real server: sign in, manage articles and lexicon."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from helpers import ARTIFACTS, AUTH, TOKEN, LiveServer, axe_problems
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
ARTICLES = {
    "keep": ("区政府发布养老服务指南", "本区新增十家社区食堂。老年人凭卡就餐可享优惠。"),
    "gone": ("即将删除的旧通知", "这则通知已经过期。"),
    "odd": ('<b>"粗体"</b>标题', "标题里有标记。"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("admin-home")
    live = LiveServer(home, TTS_ENGINE="espeak")
    for slug, (title, text) in ARTICLES.items():
        source = home / f"{slug}.txt"
        source.write_text(f"{title}\n\n{text}\n", encoding="utf-8")
        live.cli("add", str(source), "--slug", slug)  # stored only: no audio until someone asks
    # The API keys' table too, with a live key and a revoked one.
    live.cli("keys", "create", "reader-app", "--rate", "60", "--chars-per-day", "100000")
    live.cli("keys", "create", "old-app")
    live.cli("keys", "revoke", "old-app")
    live.start()
    yield live
    live.stop()


def sign_in(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/admin")
    expect(page).to_have_url(f"{server.url}/admin/login")
    page.get_by_label("编辑令牌").fill(TOKEN)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server.url}/admin")


def audio_status(slug: str, server: LiveServer) -> str:
    return httpx.get(f"{server.url}/api/articles/{slug}/audio").json()["status"]


def test_editor_session_end_to_end_without_javascript(browser: Browser, server: LiveServer) -> None:
    ctx = browser.new_context(locale="zh-CN", java_script_enabled=False)  # every action is a plain form
    page = ctx.new_page()
    page.goto(f"{server.url}/admin/login")
    page.get_by_label("编辑令牌").fill("not-the-token")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("编辑令牌不正确，请重新输入。")
    sign_in(page, server)

    table = page.get_by_role("table", name="文章")
    for title, _ in ARTICLES.values():
        expect(table.get_by_role("link", name=title, exact=True)).to_be_visible()  # markup shown as text
    keep = page.get_by_role("row").filter(has_text=ARTICLES["keep"][0])
    expect(keep).to_contain_text("未完成（已生成 0%）")
    expect(keep).to_contain_text("espeak")

    page.get_by_label("写法").fill("食堂")
    page.get_by_label("读法").fill("食堂")
    page.get_by_role("button", name="保存词条").click()
    expect(page.get_by_role("status")).to_have_text("词条已保存。")
    expect(page.get_by_role("region", name="词典词条")).to_contain_text("食堂")
    assert httpx.get(f"{server.url}/api/lexicon", headers=AUTH).json() == [
        {"written": "食堂", "spoken": "食堂"}
    ]

    keep.get_by_role("button", name=f"重新生成：{ARTICLES['keep'][0]}").click()
    expect(page.get_by_role("status")).to_have_text("已开始重新生成音频。")
    deadline = time.monotonic() + 60
    while audio_status("keep", server) == "pending":
        assert time.monotonic() < deadline, "regenerated audio never finished"
        time.sleep(0.2)
    assert audio_status("keep", server) == "ready"
    page.reload()
    expect(page.get_by_role("row").filter(has_text=ARTICLES["keep"][0])).to_contain_text("已就绪")

    page.get_by_role("link", name=f"删除：{ARTICLES['gone'][0]}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("删除文章")
    expect(page.get_by_role("main")).to_contain_text(f"《{ARTICLES['gone'][0]}》")
    page.get_by_role("button", name="确认删除").click()
    expect(page.get_by_role("status")).to_have_text("文章已删除。")
    expect(page.get_by_role("link", name=ARTICLES["gone"][0])).to_have_count(0)
    assert httpx.get(f"{server.url}/api/articles/gone").status_code == 404

    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("status")).to_have_text("已退出登录。")
    page.goto(f"{server.url}/admin")
    expect(page).to_have_url(f"{server.url}/admin/login")
    ctx.close()


@pytest.mark.parametrize(
    ("scheme", "color_scheme"), [("auto", "light"), ("auto", "dark"), ("contrast", "light")]
)
def test_axe_finds_no_wcag_violations(browser: Browser, server: LiveServer, scheme: str, color_scheme: str):
    # bypass_csp: the policy (script-src 'self') would refuse the axe script the test injects.
    ctx = browser.new_context(locale="zh-CN", color_scheme=color_scheme, bypass_csp=True)
    ctx.add_cookies([{"name": "tts_scheme", "value": scheme, "url": server.url}])
    page = ctx.new_page()
    page.goto(f"{server.url}/admin/login")
    assert axe_problems(page) == [], "login"
    page.get_by_label("编辑令牌").fill("wrong")
    page.get_by_role("button", name="登录").click()
    assert axe_problems(page) == [], "login with an error"
    sign_in(page, server)
    assert axe_problems(page) == [], "admin"
    page.get_by_label("写法").fill("   ")  # passes `required`, fails validation: the 422 page
    page.get_by_label("读法").fill("读法")
    page.get_by_role("button", name="保存词条").click()
    expect(page.get_by_role("alert")).to_have_text("写法须为 1 到 100 个字符的一行文字。")
    assert axe_problems(page) == [], "admin with an error"
    page.goto(f"{server.url}/admin/articles/keep/delete")
    assert axe_problems(page) == [], "confirm delete"
    ctx.close()


def test_keyboard_focus_is_visible(context: BrowserContext, server: LiveServer) -> None:
    page = context.new_page()
    sign_in(page, server)
    page.get_by_role("button", name="退出登录").focus()
    for _ in range(6):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement); "
            "return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
        )
        assert style[0] != "none" and style[1] >= 2, page.evaluate("document.activeElement.outerHTML")


def test_no_page_scrolling_at_320px_largest_text(context: BrowserContext, server: LiveServer) -> None:
    context.add_cookies([{"name": "tts_size", "value": "xl", "url": server.url}])
    page = context.new_page()
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, server)
    assert (
        page.evaluate("document.documentElement.scrollWidth") <= 320
    )  # articles as cards; the lexicon scrolls in its region


def test_screenshot(context: BrowserContext, server: LiveServer) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "admin-1280.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
