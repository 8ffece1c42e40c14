"""Writing articles on /admin in real Chromium against a real server, at 1280 and 360 px, with and without
JavaScript: new → preview (▶ per sentence) → publish, edit, import with confirmation, revisions with their
changes and restore, the list a page at a time and searched; axe and 44×44 px targets on every page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from helpers import ARTIFACTS, DATA, LiveServer, axe_problems, decode
from playwright.sync_api import Browser, BrowserContext, Page, expect
from test_admin_browser import sign_in

from tts_service.article import ArticleDraft
from tts_service.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
WIDTHS = [1280, 360]
TEXT = "2019年是关键一年。全年新增就业3万人！\n第二段只有一句。"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("admin-write-home")

    async def fill() -> None:  # enough for two pages of the list, stored before the server starts
        store = Store(home / "tts.db")
        for n in range(52):
            draft = ArticleDraft(
                title=f"街道通知第{n:02d}号", text="请居民留意。", slug=f"jie-dao-tong-zhi-{n:02d}"
            )
            await store.save_article(draft)
        await store.save_article(
            ArticleDraft(title="养老服务指南", text="本区新增十家社区食堂。", slug="yang-lao")
        )
        store.close()

    with ThreadPoolExecutor(1) as thread:  # this module's tests run inside an event loop already
        thread.submit(asyncio.run, fill()).result()
    live = LiveServer(home, TTS_ENGINE="espeak")
    live.start()
    yield live
    live.stop()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-top.png"))  # what the editor sees first, full size


def fill_new(page: Page, title: str, slug: str, text: str = TEXT) -> None:
    page.get_by_role("link", name="新建文章").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("新建文章")
    page.get_by_label("标题").fill(title)
    page.get_by_label("地址").fill(slug)
    page.get_by_label("作者").fill("区政府办公室")
    page.get_by_label("日期").fill("2026-03-01")
    page.get_by_label("引擎与音色").select_option("espeak:cmn")
    page.get_by_label("正文").fill(text)
    page.get_by_role("button", name="预览").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("预览并确认")


def check_mp3(page: Page, server: LiveServer, href: str) -> None:
    """The ▶ link's MP3, fetched with the page's session: it answers and decodes to speech."""
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "audio/mpeg"
    assert decode(response.body())[0] > 0.5
    assert httpx.get(href).status_code == 403  # not without the editor's session


@pytest.mark.parametrize("width", WIDTHS)
def test_new_preview_publish_edit_and_restore_without_javascript(
    browser: Browser, server: LiveServer, width: int
) -> None:
    ctx = browser.new_context(locale="zh-CN", java_script_enabled=False)
    page = ctx.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server)
    slug, title = f"review-{width}", f"年度工作回顾{width}"
    fill_new(page, title, slug)
    main = page.get_by_role("main")
    expect(main).to_contain_text("区政府办公室")
    expect(main).to_contain_text("2026-03-01")
    expect(main).to_contain_text("读作：二零一九年是关键一年。")
    expect(page.get_by_role("heading", name="第 2 段")).to_be_visible()
    speak = page.get_by_role("link", name="试听第 1 段第 1 句（MP3，在新窗口打开）")
    check_mp3(page, server, speak.get_attribute("href") or "")
    shot(page, f"admin-preview-{width}-nojs")

    page.get_by_role("button", name="返回修改").click()  # back to the form, as typed
    expect(page.get_by_label("正文")).to_have_value(TEXT)
    page.get_by_role("button", name="预览").click()
    page.get_by_role("button", name="确认发布").click()
    expect(page.get_by_role("status")).to_have_text("文章已发布，正在生成音频。")
    article = httpx.get(f"{server.url}/api/articles/{slug}").json()
    assert (article["text"], article["byline"], article["date"]) == (TEXT, "区政府办公室", "2026-03-01")

    page.get_by_role("link", name=f"编辑：{title}").click()
    expect(page.get_by_label("地址")).to_have_value(slug)
    page.get_by_label("正文").fill(TEXT.replace("关键", "重要"))
    page.get_by_role("button", name="预览").click()
    page.get_by_role("button", name="确认发布").click()
    expect(page.get_by_role("status")).to_have_text("文章已发布，正在生成音频。")

    page.get_by_role("link", name=f"修订记录：{title}").click()
    page.get_by_role("link", name="查看第 2 版的改动").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("与第 1 版相比")
    expect(page.locator("del")).to_have_text("［删除：关键］")  # its label is read, not shown
    expect(page.locator("ins")).to_have_text("［新增：重要］")
    shot(page, f"admin-diff-{width}-nojs")
    page.get_by_role("link", name="返回修订记录").click()
    page.get_by_role("button", name="恢复第 1 版").click()
    expect(page.get_by_role("status")).to_have_text("已恢复为新的修订，音频相同的句子直接沿用。")
    expect(page.get_by_role("heading", name="第 3 版（当前版本）")).to_be_visible()
    assert httpx.get(f"{server.url}/api/articles/{slug}").json()["text"] == TEXT
    shot(page, f"admin-revisions-{width}-nojs")
    ctx.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_import_an_uploaded_page_after_confirming_it(context: BrowserContext, server: LiveServer, width: int):
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server)
    page.get_by_role("link", name="导入网页").click()
    page.get_by_label("网页文件").set_input_files(str(DATA / "pages" / "gov-library.html"))
    page.get_by_role("button", name="提取并预览").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("预览并确认")
    title = page.locator(".meta-list dd").first.inner_text()
    assert title and page.locator(".sentence").count() > 3
    shot(page, f"admin-import-preview-{width}")
    page.get_by_role("button", name="返回修改").click()  # the extracted article, editable
    page.get_by_label("地址").fill(f"imported-{width}")
    page.get_by_role("button", name="预览").click()
    page.get_by_role("button", name="确认发布").click()
    expect(page.get_by_role("status")).to_have_text("文章已发布，正在生成音频。")
    assert httpx.get(f"{server.url}/api/articles/imported-{width}").json()["title"] == title


def test_a_sentence_plays_in_the_page_with_javascript(context: BrowserContext, server: LiveServer) -> None:
    page = context.new_page()
    sign_in(page, server)
    fill_new(page, "试听一句", "listen-once")
    speak = page.get_by_role("link", name="试听第 1 段第 2 句（MP3，在新窗口打开）")
    with page.expect_response(re.compile(r"/admin/speak\.mp3")) as answer:
        speak.click()
    assert answer.value.status == 200 and answer.value.headers["content-type"] == "audio/mpeg"
    expect(page.locator("#speak-status")).to_have_text(re.compile("正在试听|试听结束"), timeout=20_000)
    assert len(page.context.pages) == 1  # played here, no new window
    check_mp3(page, server, speak.get_attribute("href") or "")


@pytest.mark.parametrize("javascript", [True, False])
def test_the_list_pages_and_searches(browser: Browser, server: LiveServer, javascript: bool) -> None:
    ctx = browser.new_context(locale="zh-CN", java_script_enabled=javascript)
    page = ctx.new_page()
    page.set_viewport_size({"width": 360, "height": 900})
    sign_in(page, server)
    rows = page.locator(".article-table tbody tr")
    expect(rows).to_have_count(50)
    page.get_by_role("link", name="下一页").click()
    expect(page.get_by_role("link", name="回到第一页")).to_be_visible()
    assert 1 <= rows.count() < 50
    expect(page.get_by_role("row", name=re.compile("街道通知第00号"))).to_be_visible()
    page.get_by_label("搜索标题、地址或作者").fill("养老")
    page.get_by_role("button", name="搜索").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("养老服务指南")
    page.get_by_role("link", name="显示全部文章").click()
    expect(rows).to_have_count(50)
    ctx.close()


PAGES = {
    "list": "/admin",
    "new": "/admin/articles/new",
    "edit": "/admin/articles/yang-lao/edit",
    "import": "/admin/import",
    "revisions": "/admin/articles/yang-lao/revisions",
    "revision": "/admin/articles/yang-lao/revisions/1",
    "delete": "/admin/articles/yang-lao/delete",
}
TARGETS = "button, a.button-link, .admin input:not([type=hidden]), .admin select"


def small_targets(page: Page) -> list[str]:
    """Buttons and button-like links under 44×44 px, and buttons so narrow that their words wrap."""
    return page.evaluate(
        """sel => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null).flatMap(e => {
            const r = e.getBoundingClientRect(), line = parseFloat(getComputedStyle(e).lineHeight) || 24;
            const small = r.width < 44 || r.height < 44;
            const wrapped = e.matches('button, a') && r.height > 2.2 * line;
            return small || wrapped ? [`${e.outerHTML.slice(0, 80)} ${r.width}x${r.height}`] : [];
        })""",
        TARGETS,
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_passes_axe_with_large_targets_and_no_sideways_scrolling(
    browser: Browser, server: LiveServer, width: int
) -> None:
    ctx = browser.new_context(locale="zh-CN", bypass_csp=True)  # bypass_csp: for axe's injected script
    page = ctx.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server)
    for name, path in PAGES.items():
        page.goto(server.url + path)
        assert axe_problems(page) == [], name
        assert small_targets(page) == [], name
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        shot(page, f"admin-{name}-{width}")
    page.goto(server.url + "/admin/articles/new")
    page.get_by_label("标题").fill("预览页")
    page.get_by_label("正文").fill(TEXT)
    page.get_by_role("button", name="预览").click()
    assert axe_problems(page) == [], "preview"
    assert small_targets(page) == [], "preview"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "preview"
    shot(page, f"admin-preview-{width}")
    page.goto(server.url + "/admin")
    slug = page.locator("code.slug").first
    height, line = slug.evaluate(
        "e => [e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).lineHeight)]"
    )
    assert height < 1.5 * line, "a slug that fits on one line is not broken"  # jie-dao-tong-zhi-51
    ctx.close()


@pytest.mark.parametrize(("scheme", "color_scheme"), [("auto", "dark"), ("contrast", "light")])
def test_preview_and_changes_pass_axe_in_the_other_schemes(
    browser: Browser, server: LiveServer, scheme: str, color_scheme: str
) -> None:
    ctx = browser.new_context(locale="zh-CN", color_scheme=color_scheme, bypass_csp=True)
    ctx.add_cookies([{"name": "tts_scheme", "value": scheme, "url": server.url}])
    page = ctx.new_page()
    sign_in(page, server)
    slug = f"scheme-{scheme}-{color_scheme}"
    fill_new(page, f"配色{slug}", slug)
    assert axe_problems(page) == [], "preview"
    page.get_by_role("button", name="确认发布").click()
    page.goto(f"{server.url}/admin/articles/{slug}/edit")
    page.get_by_label("正文").fill(TEXT.replace("关键", "重要"))
    page.get_by_role("button", name="预览").click()
    page.get_by_role("button", name="确认发布").click()
    page.goto(f"{server.url}/admin/articles/{slug}/revisions/2")
    expect(page.locator("ins")).to_have_text("［新增：重要］")
    assert axe_problems(page) == [], "changes"  # <del> and <ins> keep their contrast
    shot(page, f"admin-diff-{scheme}-{color_scheme}")
    ctx.close()
