"""Writing articles on /admin in process: new, edit and import through a preview, one sentence's audio,
revisions with their changes and restore, the list a page at a time, and 重新生成 when nothing is missing."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from fastapi import FastAPI
from helpers import ARTICLE, AUTH, DATA, create, decode, wait_ready
from test_admin import sign_in

from tts_service.article import ArticleDraft

SPEAK_LINK = re.compile(r'class="button-link speak" href="([^"]+)"')
NEW = {
    "mode": "new",
    "title": "二〇一九年工作回顾",
    "slug": "",
    "byline": "区政府办公室",
    "date": "2026-03-01",
    "voice_choice": "",
    "text": "2019年是关键一年。全年新增就业3万人！\r\n\r\n第二段只有一句。",  # as browsers send a textarea
}


def sentences(page: httpx.Response) -> list[str]:
    return [html.unescape(s) for s in re.findall(r'<p class="sentence-text">([^<]*)</p>', page.text)]


async def preview(client: httpx.AsyncClient, csrf: str, **fields: str) -> httpx.Response:
    return await client.post("/admin/articles/preview", data={**NEW, **fields, "csrf": csrf})


async def test_new_article_is_previewed_as_it_will_be_read_then_published(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    csrf = await sign_in(client)
    form = await client.get("/admin/articles/new")
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    assert 'name="title"' in form.text and '<option value="espeak:cmn"' in form.text
    page = await preview(client, csrf)
    assert page.status_code == 200, page.text
    assert sentences(page) == ["2019年是关键一年。", "全年新增就业3万人！", "第二段只有一句。"]
    assert "<dd>区政府办公室</dd>" in page.text and "<dd>2026-03-01</dd>" in page.text
    assert "/articles/er-ling-yi-jiu-nian-gong-zuo-hui-gu" in page.text  # the slug it will get
    assert '<span class="spoken-label">读作：</span>二零一九年是关键一年。' in page.text
    assert page.text.count('class="spoken"') == 2  # "第二段只有一句。" reads as written
    assert len(SPEAK_LINK.findall(page.text)) == 3
    assert (await app.state.store.find_articles(limit=5)).articles == ()  # a preview stores nothing
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    fields = {k: html.unescape(v) for k, v in fields.items()}
    assert fields["text"] == NEW["text"].replace("\r\n", "\n")  # carried on unchanged, line breaks and all
    published = await client.post("/admin/articles/publish", data=fields)
    assert published.status_code == 303
    assert published.headers["location"] == "http://testserver/admin?done=published"
    article = await app.state.store.get_article("er-ling-yi-jiu-nian-gong-zuo-hui-gu")
    assert (article.title, article.byline, article.date) == (NEW["title"], "区政府办公室", "2026-03-01")
    assert article.text == "2019年是关键一年。全年新增就业3万人！\n\n第二段只有一句。"
    assert (await wait_ready(client, article.slug))["status"] == "ready"  # publishing started the audio
    listed = await client.get(published.headers["location"])
    assert "文章已发布，正在生成音频。" in listed.text


async def test_back_to_the_form_keeps_what_was_typed(client: httpx.AsyncClient) -> None:
    csrf = await sign_in(client)
    page = await client.post("/admin/articles/form", data={**NEW, "title": "<b>标题</b>", "csrf": csrf})
    assert page.status_code == 200
    assert 'value="&lt;b&gt;标题&lt;/b&gt;"' in page.text and "第二段只有一句。</textarea>" in page.text


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"title": "  "}, 422, "标题须为 1 到 300 个字符"),
        ({"text": ""}, 422, "正文不能为空"),
        ({"slug": "Bad Slug"}, 422, "地址须为 1 到 80 个小写字母"),
        ({"date": "2026-13-01"}, 422, "日期须为形如 2026-01-31 的日期"),
        ({"voice_choice": "espeak:nobody"}, 422, "引擎或音色无效"),
        ({"slug": "lib"}, 409, "地址“lib”已有文章《社区图书馆》"),
    ],
)
async def test_a_bad_form_comes_back_with_what_is_wrong(
    app: FastAPI, client: httpx.AsyncClient, fields: dict, status: int, message: str
) -> None:
    await app.state.store.save_article(ArticleDraft(**ARTICLE))
    csrf = await sign_in(client)
    for path in ("/admin/articles/preview", "/admin/articles/publish"):
        page = await client.post(path, data={**NEW, **fields, "csrf": csrf})
        assert page.status_code == status, (path, page.text)
        assert message in html.unescape(page.text) and 'role="alert"' in page.text
    assert [a.slug for a in (await app.state.store.find_articles(limit=5)).articles] == ["lib"]


async def test_too_long_a_text_is_413(client: httpx.AsyncClient, settings) -> None:
    csrf = await sign_in(client)
    page = await preview(client, csrf, text="字" * (settings.max_article_chars + 1))
    assert page.status_code == 413 and "超过了" in page.text


async def test_edit_shows_the_current_revision_and_publishes_the_next(
    app: FastAPI, client: httpx.AsyncClient
):
    await create(client)
    csrf = await sign_in(client)
    form = await client.get("/admin/articles/lib/edit")
    assert form.status_code == 200 and 'name="slug" type="text" readonly value="lib"' in form.text
    assert "今天开馆。欢迎大家！\n\n第二段只有一句。</textarea>" in form.text
    assert '<input type="hidden" name="mode" value="edit">' in form.text
    fields = {**NEW, "mode": "edit", "slug": "lib", "title": "社区图书馆", "text": "今天开馆。欢迎大家来！"}
    page = await preview(client, csrf, **fields)
    assert page.status_code == 200 and "发布为新的修订" in page.text
    done = await client.post("/admin/articles/publish", data={**fields, "csrf": csrf})
    assert done.status_code == 303
    article = await app.state.store.get_article("lib")
    assert (article.revision, article.text) == (2, "今天开馆。欢迎大家来！")
    assert (await client.get("/admin/articles/nope/edit")).status_code == 404


async def test_the_sentence_audio_is_the_articles_own(
    app: FastAPI, client: httpx.AsyncClient, espeak
) -> None:
    csrf = await sign_in(client)
    page = await preview(client, csrf)
    url = html.unescape(SPEAK_LINK.findall(page.text)[0])
    audio = await client.get(url)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    assert decode(audio.content)[0] > 0.5  # a real MP3 with speech in it
    assert espeak.calls == ["二零一九年是关键一年。"]  # just that sentence
    again = await client.get(url)
    assert again.content == audio.content and len(espeak.calls) == 1  # cached
    fields = {**NEW, "slug": "review"}
    await client.post("/admin/articles/publish", data={**fields, "csrf": csrf})
    await wait_ready(client, "review")
    assert espeak.calls.count("二零一九年是关键一年。") == 1  # publishing did not make it again


async def test_the_sentence_audio_is_for_editors_only(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/speak.mp3", params={"text": "一句话。"})
    assert response.status_code == 403
    await sign_in(client)
    assert (
        await client.get("/admin/speak.mp3", params={"text": "一句话。", "engine": "nope"})
    ).status_code == 422
    assert (await client.get("/admin/speak.mp3", params={"text": "……"})).status_code == 422


async def test_import_pasted_html_shows_what_was_found(app: FastAPI, client: httpx.AsyncClient) -> None:
    csrf = await sign_in(client)
    page_html = (DATA / "pages" / "district-cn-date.html").read_bytes()
    upload = await client.post(
        "/admin/import", data={"csrf": csrf}, files={"file": ("page.html", page_html, "text/html")}
    )
    assert upload.status_code == 200, upload.text
    assert "<h1>预览并确认</h1>" in upload.text and len(sentences(upload)) > 3
    pasted = await client.post("/admin/import", data={"csrf": csrf, "html": page_html.decode("utf-8")})
    assert pasted.status_code == 200 and sentences(pasted) == sentences(upload)
    assert (await app.state.store.find_articles(limit=5)).articles == ()  # nothing stored before confirming
    empty = await client.post("/admin/import", data={"csrf": csrf, "html": "  "})
    assert empty.status_code == 422 and "请粘贴网页的 HTML" in empty.text


async def test_regenerate_on_ready_audio_says_nothing_changed(
    app: FastAPI, client: httpx.AsyncClient, espeak
) -> None:
    await create(client)
    await wait_ready(client, "lib")
    csrf = await sign_in(client)
    calls, job = len(espeak.calls), await app.state.pipeline.jobs.latest("lib", 1)
    response = await client.post("/admin/articles/lib/regenerate", data={"csrf": csrf})
    assert response.headers["location"] == "http://testserver/admin?done=unchanged"
    page = await client.get(response.headers["location"])
    assert "音频已是最新，没有需要重新生成的内容。" in page.text
    assert len(espeak.calls) == calls and await app.state.pipeline.jobs.latest("lib", 1) == job


# --- revisions -----------------------------------------------------------------------------------------


async def test_revisions_list_their_changes_and_restore_reuses_the_audio(
    app: FastAPI, client: httpx.AsyncClient, espeak
) -> None:
    await create(client)
    await wait_ready(client, "lib")
    await client.put("/api/articles/lib", json={**ARTICLE, "text": "今天闭馆。欢迎大家！"}, headers=AUTH)
    await wait_ready(client, "lib")
    csrf = await sign_in(client)
    listed = await client.get("/admin/articles/lib/revisions")
    assert listed.status_code == 200
    assert listed.text.index("第 2 版") < listed.text.index("第 1 版") and "（当前版本）" in listed.text
    assert 'aria-label="恢复第 1 版"' in listed.text and 'aria-label="恢复第 2 版"' not in listed.text
    changes = await client.get("/admin/articles/lib/revisions/2")
    assert "与第 1 版相比" in changes.text
    marked = re.sub(r"\s+", "", changes.text)
    assert '今天<del><spanclass="visually-hidden">［删除：</span>开' in marked
    assert (
        '<ins><spanclass="visually-hidden">［新增：</span>闭<spanclass="visually-hidden">］</span></ins>'
        in marked
    )
    assert "删除的段落" in changes.text and "第二段只有一句。" in changes.text
    first = await client.get("/admin/articles/lib/revisions/1")
    assert "没有可以比较的上一版" in first.text
    calls = len(espeak.calls)
    restored = await client.post("/admin/articles/lib/revisions/1/restore", data={"csrf": csrf})
    assert restored.headers["location"] == "http://testserver/admin/articles/lib/revisions?done=restored"
    article = await app.state.store.get_article("lib")
    assert (article.revision, article.text) == (3, ARTICLE["text"])
    assert (await wait_ready(client, "lib"))["status"] == "ready"
    assert len(espeak.calls) == calls  # same text, same keys: every sentence was cached
    for path in ("/admin/articles/lib/revisions/9", "/admin/articles/nope/revisions"):
        assert (await client.get(path)).status_code == 404


async def test_restoring_an_ssml_revision_keeps_it_ssml(app: FastAPI, client: httpx.AsyncClient) -> None:
    """As found (issue 20's review): a restore dropped the format, so SSML came back as plain text."""
    ssml = '<speak>先说这个<break time="500ms"/>再说那个。</speak>'
    await create(client, {"title": "标记", "text": ssml, "slug": "marked", "format": "ssml"})
    await client.put("/api/articles/marked", json={"title": "标记", "text": "改成纯文本。"}, headers=AUTH)
    csrf = await sign_in(client)
    await client.post("/admin/articles/marked/revisions/1/restore", data={"csrf": csrf})
    article = await app.state.store.get_article("marked")
    assert (article.revision, article.format, article.text) == (3, "ssml", ssml)
    page = await client.get("/articles/marked")
    assert "先说这个再说那个。" in page.text and "&lt;break" not in page.text


# --- the list: pages and search -------------------------------------------------------------------------


async def test_the_list_pages_and_searches(app: FastAPI, client: httpx.AsyncClient) -> None:
    for n in range(55):
        await app.state.store.save_article(
            ArticleDraft(title=f"通知{n:02d}", text="正文。", slug=f"n-{n:02d}")
        )
    await app.state.store.save_article(ArticleDraft(title="养老服务指南", text="正文。", slug="care"))
    await sign_in(client)
    first = await client.get("/admin")
    assert first.text.count('<th scope="row"') == 50 and "养老服务指南" in first.text
    following = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert following, "no next page link"
    second = await client.get(html.unescape(following.group(1)))
    assert second.text.count('<th scope="row"') == 6 and 'rel="next"' not in second.text
    assert "回到第一页" in second.text and "通知00" in second.text
    found = await client.get("/admin", params={"q": "养老"})
    assert found.text.count('<th scope="row"') == 1 and 'value="养老"' in found.text
    nothing = await client.get("/admin", params={"q": "没有这篇"})
    assert "没有找到文章" in nothing.text
    assert (await client.get("/admin", params={"cursor": "nonsense"})).status_code == 422
