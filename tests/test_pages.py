"""Reader pages, server-rendered: they must work with no JavaScript at all."""

from __future__ import annotations

import httpx
import pytest
from helpers import AUTH

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
