"""Reader pages, server-rendered: they must work with no JavaScript at all."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from helpers import AUTH, wait_ready

HOSTILE = {
    "title": "<script>alert(1)</script>标题",
    "text": "第一句<img src=x onerror=alert(2)>。\n\n第二段。",
    "slug": "hostile",
}


async def test_index_lists_articles(client: httpx.AsyncClient) -> None:
    await client.post(
        "/api/articles", json={"title": "第一篇", "text": "正文。", "slug": "one"}, headers=AUTH
    )
    page = await client.get("/")
    assert page.status_code == 200
    assert '<html lang="zh-CN"' in page.text
    assert 'href="http://testserver/articles/one"' in page.text and "第一篇" in page.text


async def test_article_page_has_size_controls_and_player(client: httpx.AsyncClient) -> None:
    await client.post(
        "/api/articles", json={"title": "标题", "text": "第一句。第二句。", "slug": "a"}, headers=AUTH
    )
    page = await client.get("/articles/a")
    assert page.status_code == 200
    for label in ("小", "中", "大", "特大"):
        assert f'aria-label="字体{label}">{label}</button>' in page.text
    for label in ("标准", "高对比"):
        assert f'aria-label="配色{label}">{label}</button>' in page.text
    assert '<html lang="zh-CN" class="size-m scheme-auto">' in page.text
    assert ">语音播报</button>" in page.text
    assert 'data-manifest="http://testserver/api/articles/a/audio"' in page.text
    assert '<span class="chunk" data-chunk="0">第一句。</span>' in page.text
    assert '<span class="chunk" data-chunk="1">第二句。</span>' in page.text


async def test_markup_is_shown_as_text(client: httpx.AsyncClient) -> None:
    await client.post("/api/articles", json=HOSTILE, headers=AUTH)
    page = (await client.get("/articles/hostile")).text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;标题" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page


async def test_size_choice_without_javascript(client: httpx.AsyncClient) -> None:
    await client.post("/api/articles", json={"title": "标题", "text": "正文。", "slug": "a"}, headers=AUTH)
    response = await client.post("/prefs", data={"size": "l", "next": "/articles/a"})
    assert response.status_code == 303
    assert response.headers["location"] == "/articles/a"
    assert "tts_size=l" in response.headers["set-cookie"]
    page = await client.get("/articles/a")  # the client kept the cookie
    assert '<html lang="zh-CN" class="size-l scheme-auto">' in page.text
    assert 'value="l" aria-pressed="true"' in page.text
    response = await client.post("/prefs", data={"scheme": "contrast", "next": "/articles/a"})
    assert "tts_scheme=contrast" in response.headers["set-cookie"]
    assert '<html lang="zh-CN" class="size-l scheme-contrast">' in (await client.get("/articles/a")).text


async def test_word_highlighting_choice_without_javascript(client: httpx.AsyncClient) -> None:
    await client.post("/api/articles", json={"title": "标题", "text": "正文。", "slug": "a"}, headers=AUTH)
    page = " ".join((await client.get("/articles/a")).text.split())  # attributes one space apart
    assert 'value="on" aria-pressed="true" aria-label="逐词高亮开">开</button>' in page  # on by default
    response = await client.post("/prefs", data={"words": "off", "next": "/articles/a"})
    assert response.status_code == 303 and "tts_words=off" in response.headers["set-cookie"]
    page = " ".join((await client.get("/articles/a")).text.split())
    assert '<html lang="zh-CN" class="size-m scheme-auto words-off">' in page
    assert 'value="off" aria-pressed="true" aria-label="逐词高亮关">关</button>' in page
    assert "set-cookie" not in (await client.post("/prefs", data={"words": "maybe"})).headers
    client.cookies.set("tts_words", "maybe")  # unknown: the default
    assert '<html lang="zh-CN" class="size-m scheme-auto">' in (await client.get("/articles/a")).text


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/"])
async def test_prefs_never_redirects_off_site(client: httpx.AsyncClient, target: str) -> None:
    response = await client.post("/prefs", data={"size": "s", "next": target})
    assert response.headers["location"] == "/"


async def test_unknown_size_is_ignored(client: httpx.AsyncClient) -> None:
    response = await client.post("/prefs", data={"size": "huge", "next": "/"})
    assert "set-cookie" not in response.headers
    client.cookies.set("tts_size", "x;y")
    client.cookies.set("tts_scheme", "<script>")
    assert 'class="size-m scheme-auto"' in (await client.get("/")).text


async def test_unknown_article_page_is_404(client: httpx.AsyncClient) -> None:
    page = await client.get("/articles/missing")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"] and "missing" in page.text


@pytest.fixture
def renders(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates rendered, in order."""
    names: list[str] = []
    templates = app.state.templates
    original = templates.TemplateResponse

    def counting(request, name, *args, **kwargs):
        names.append(name)
        return original(request, name, *args, **kwargs)

    monkeypatch.setattr(templates, "TemplateResponse", counting)
    return names


async def ready_article(client: httpx.AsyncClient, body: dict) -> None:
    assert (await client.post("/api/articles", json=body, headers=AUTH)).status_code == 201
    assert (await wait_ready(client, body["slug"]))["status"] == "ready"


async def test_same_page_is_rendered_once(client: httpx.AsyncClient, renders: list[str]) -> None:
    await ready_article(client, {"title": "标题", "text": "第一句。第二句。", "slug": "a"})
    client.cookies.set("tts_size", "l")
    first, second = await client.get("/articles/a"), await client.get("/articles/a")
    assert renders == ["article.html"]
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert "text/html" in second.headers["content-type"] and "size-l" in second.text
    index = [(await client.get("/")).content for _ in range(2)]
    assert renders == ["article.html", "index.html"] and index[0] == index[1]


async def test_cache_key_follows_preferences(client: httpx.AsyncClient, renders: list[str]) -> None:
    await ready_article(client, {"title": "标题", "text": "正文。", "slug": "a"})
    classes = []
    for size, scheme in (("l", "auto"), ("xl", "auto"), ("xl", "contrast"), ("l", "auto")):
        client.cookies.set("tts_size", size)
        client.cookies.set("tts_scheme", scheme)
        classes.append((await client.get("/articles/a")).text.split("<html", 1)[1].split(">", 1)[0])
    assert classes == [
        ' lang="zh-CN" class="size-l scheme-auto"',
        ' lang="zh-CN" class="size-xl scheme-auto"',
        ' lang="zh-CN" class="size-xl scheme-contrast"',
        ' lang="zh-CN" class="size-l scheme-auto"',
    ]
    assert len(renders) == 3  # the last one came from the cache


async def test_cache_key_follows_the_host(client: httpx.AsyncClient) -> None:
    """Absolute URLs come from the request: one Host must never see another's links."""
    await ready_article(client, {"title": "标题", "text": "正文。", "slug": "a"})
    assert "http://testserver/api/articles/a/audio" in (await client.get("/articles/a")).text
    other = (await client.get("/articles/a", headers={"Host": "other.example"})).text
    assert "http://other.example/api/articles/a/audio" in other and "testserver" not in other
    assert "other.example" not in (await client.get("/articles/a")).text


async def test_new_revision_and_audio_state_are_shown(client: httpx.AsyncClient) -> None:
    await ready_article(client, {"title": "标题", "text": "旧的一句。", "slug": "a"})
    assert "旧的一句。" in (await client.get("/articles/a")).text
    update = {"title": "新标题", "text": "旧的一句。新的一句。"}
    assert (await client.put("/api/articles/a", json=update, headers=AUTH)).status_code == 200
    page = (await client.get("/articles/a")).text
    assert "新标题" in page and '<span class="chunk" data-chunk="1">新的一句。</span>' in page
    assert "音频生成中" in page and "下载全文音频" not in page
    await wait_ready(client, "a")
    page = (await client.get("/articles/a")).text
    assert "音频已就绪" in page and "下载全文音频" in page
    # A slug deleted and added again starts over at revision 1: the page must still be the new one.
    assert (await client.delete("/api/articles/a", headers=AUTH)).status_code == 204
    await ready_article(client, {"title": "又一篇", "text": "旧的一句。", "slug": "a"})
    page = (await client.get("/articles/a")).text
    assert "又一篇" in page and "新标题" not in page and "新的一句" not in page


async def test_index_shows_new_articles(client: httpx.AsyncClient) -> None:
    await ready_article(client, {"title": "第一篇", "text": "正文。", "slug": "one"})
    assert "第一篇" in (await client.get("/")).text
    await ready_article(client, {"title": "第二篇", "text": "正文。", "slug": "two"})
    page = (await client.get("/")).text
    assert "第一篇" in page and "第二篇" in page


async def test_etag_and_if_none_match(client: httpx.AsyncClient) -> None:
    await ready_article(client, {"title": "标题", "text": "正文。", "slug": "a"})
    page = await client.get("/articles/a")
    etag = page.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 20  # strong
    assert page.headers["cache-control"] == "no-cache" and page.headers["vary"] == "Cookie"
    for header in (etag, f'"other", W/{etag}', "*"):
        again = await client.get("/articles/a", headers={"If-None-Match": header})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert (await client.get("/articles/a", headers={"If-None-Match": '"other"'})).status_code == 200
    client.cookies.set("tts_scheme", "contrast")  # another page, so another validator
    contrast = await client.get("/articles/a", headers={"If-None-Match": etag})
    assert contrast.status_code == 200 and contrast.headers["etag"] != etag
    client.cookies.delete("tts_scheme")
    await client.put("/api/articles/a", json={"title": "标题", "text": "改过的正文。"}, headers=AUTH)
    changed = await client.get("/articles/a", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "改过的正文。" in changed.text
    index = await client.get("/")
    assert (await client.get("/", headers={"If-None-Match": index.headers["etag"]})).status_code == 304


async def test_head_on_pages(client: httpx.AsyncClient) -> None:
    await client.post("/api/articles", json={"title": "标题", "text": "正文。", "slug": "h"}, headers=AUTH)
    for path in ("/", "/articles/h"):
        response = await client.head(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert (await client.head("/articles/nope")).status_code == 404


# Issue 14: pages for people when something is missing, and a favicon ---------------------------------------

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/articles/no-such-article", "没有找到这篇文章"),
        ("/articles/no-such-article/audio.mp3", "没有找到这篇文章"),
        ("/no/such/page", "没有找到这个页面"),
    ],
)
async def test_a_browser_gets_a_chinese_404_page(client: httpx.AsyncClient, path: str, heading: str) -> None:
    """As found: English ("no article 'x'", "Not Found") or JSON for a reader who followed a dead link."""
    response = await client.get(path, headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert f"<h1>{heading}</h1>" in response.text and '<html lang="zh-CN"' in response.text
    assert "Not Found" not in response.text and "no article" not in response.text
    assert 'href="http://testserver/"' in response.text  # a way back to the list


async def test_a_player_still_gets_json_for_missing_audio(client: httpx.AsyncClient) -> None:
    response = await client.get("/articles/no-such-article/audio.mp3", headers={"Accept": "*/*"})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_favicon(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "max-age=31536000" in response.headers["cache-control"]
