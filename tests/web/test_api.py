"""The JSON API, in process, with the real store, cache and espeak engine."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from helpers import ARTICLE, AUTH, create, decode, wait_ready

from tts_service.audio import mp3


@pytest.fixture
def backend(every_backend: str) -> str:
    """Every test here holds on SQLite + files and on PostgreSQL + S3."""
    return every_backend


async def test_create_get_list(client: httpx.AsyncClient) -> None:
    response = await create(client, {**ARTICLE, "byline": "记者 王", "date": "2026-11-20"})
    assert response.status_code == 201
    article = response.json()
    assert (article["slug"], article["revision"], article["title"]) == ("lib", 1, "社区图书馆")
    assert article["url"] == "http://testserver/articles/lib"
    assert (article["byline"], article["date"]) == ("记者 王", "2026-11-20")

    listed = (await client.get("/api/articles")).json()
    assert [(a["slug"], a["title"], a["revision"]) for a in listed] == [("lib", "社区图书馆", 1)]
    one = (await client.get("/api/articles/lib")).json()
    assert one["text"] == ARTICLE["text"]


async def test_put_makes_a_new_revision(client: httpx.AsyncClient) -> None:
    await create(client)
    response = await client.put(
        "/api/articles/lib", json={"title": "新标题", "text": "改过了。"}, headers=AUTH
    )
    assert response.status_code == 200
    assert (response.json()["revision"], response.json()["title"]) == (2, "新标题")
    assert (await client.get("/api/articles/lib")).json()["text"] == "改过了。"


async def test_put_unknown_slug_is_404(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/articles/nope", json={"title": "t", "text": "x"}, headers=AUTH)
    assert response.status_code == 404
    assert (await client.get("/api/articles")).json() == []


async def test_delete(client: httpx.AsyncClient) -> None:
    await create(client)
    assert (await client.delete("/api/articles/lib", headers=AUTH)).status_code == 204
    assert (await client.get("/api/articles/lib")).status_code == 404
    assert (await client.delete("/api/articles/lib", headers=AUTH)).status_code == 404


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}])
async def test_editor_endpoints_need_the_token(client: httpx.AsyncClient, headers: dict) -> None:
    responses = [
        await client.post("/api/articles", json=ARTICLE, headers=headers),
        await client.put("/api/articles/lib", json=ARTICLE, headers=headers),
        await client.delete("/api/articles/lib", headers=headers),
        await client.post("/api/articles/lib/audio", headers=headers),
    ]
    assert [r.status_code for r in responses] == [401] * 4
    assert responses[0].headers["www-authenticate"] == "Bearer"
    assert (await client.get("/api/articles")).json() == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"title": "t", "text": ""}, "text"),
        ({"title": "t", "text": "   \n  "}, "must not be empty"),
        ({"title": "", "text": "正文"}, "title"),
        ({"title": "t", "text": "x", "slug": "../etc"}, "slug"),
        ({"title": "t", "text": "x", "date": "yesterday"}, "date"),
    ],
)
async def test_bad_input_is_422_with_a_message(client: httpx.AsyncClient, body: dict, needle: str) -> None:
    response = await create(client, body)
    assert response.status_code == 422
    assert needle in response.text
    assert (await client.get("/api/articles")).json() == []


async def test_too_large_is_413_and_stores_nothing(client: httpx.AsyncClient, settings) -> None:
    body = {**ARTICLE, "text": "字" * (settings.max_article_chars + 1)}
    response = await create(client, body)
    assert response.status_code == 413
    assert str(settings.max_article_chars) in response.json()["detail"]
    assert (await client.get("/api/articles")).json() == []


async def test_unknown_engine_lists_the_valid_ones(client: httpx.AsyncClient) -> None:
    response = await create(client, {**ARTICLE, "engine": "nope"})
    assert response.status_code == 422
    assert "espeak" in response.json()["detail"] and "edge" in response.json()["detail"]


async def test_unknown_voice_lists_the_valid_ones(client: httpx.AsyncClient) -> None:
    response = await create(client, {**ARTICLE, "voice": "zh-CN-Nobody"})
    assert response.status_code == 422
    assert "cmn" in response.json()["detail"]
    response = await create(client, {**ARTICLE, "engine": "edge", "voice": "cmn"})
    assert "zh-CN-XiaoxiaoNeural" in response.json()["detail"]


async def test_unknown_slug_is_404(client: httpx.AsyncClient) -> None:
    for path in ("/api/articles/none", "/api/articles/none/audio"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "none" in response.json()["detail"]


async def test_audio_manifest_goes_from_pending_to_ready(client: httpx.AsyncClient, espeak) -> None:
    await create(client)
    manifest = await wait_ready(client, "lib")
    assert manifest["status"] == "ready" and manifest["progress"] == 1.0
    assert [c["text"] for c in manifest["chunks"]] == ["今天开馆。", "欢迎大家！", "第二段只有一句。"]
    assert [(c["paragraph"], c["sentences"]) for c in manifest["chunks"]] == [(0, [0]), (0, [1]), (1, [0])]
    for chunk in manifest["chunks"]:
        assert chunk["url"].startswith("http://testserver/audio/")
        assert 0.5 < chunk["duration"] < 10
    assert sorted(espeak.calls) == sorted(["今天开馆。", "欢迎大家！", "第二段只有一句。"])


async def test_audio_file_http_behaviour(client: httpx.AsyncClient) -> None:
    await create(client)
    url = (await wait_ready(client, "lib"))["chunks"][0]["url"]
    full = await client.get(url)
    assert full.status_code == 200
    assert full.headers["content-type"] == "audio/mpeg"
    assert int(full.headers["content-length"]) == len(full.content)
    assert (
        "immutable" in full.headers["cache-control"] and "max-age=31536000" in full.headers["cache-control"]
    )
    seconds, rms = decode(full.content)
    assert seconds > 0.5 and rms > 0.01

    part = await client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.content == full.content[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{len(full.content)}"

    etag = full.headers["etag"]
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304


@pytest.mark.parametrize("key", ["nothex", "0" * 64, "..%2F..%2Fetc%2Fpasswd"])
async def test_bad_audio_keys_are_404(client: httpx.AsyncClient, key: str) -> None:
    assert (await client.get(f"/audio/{key}.mp3")).status_code == 404


async def test_start_generation_endpoint(client: httpx.AsyncClient) -> None:
    await create(client)
    response = await client.post("/api/articles/lib/audio", headers=AUTH)
    assert response.status_code == 202
    assert response.json()["status"] in ("pending", "ready")
    assert (await wait_ready(client, "lib"))["status"] == "ready"


async def test_failed_generation_is_reported(client: httpx.AsyncClient, espeak, monkeypatch) -> None:
    from tts_service.errors import SynthesisError

    async def broken(text, voice, prosody):
        raise SynthesisError("espeak-ng exited with 1: boom")

    monkeypatch.setattr(espeak.inner, "synthesize", broken)
    await create(client)
    manifest = await wait_ready(client, "lib")
    assert manifest["status"] == "failed"
    assert "boom" in manifest["error"]
    assert all(c["url"] is None for c in manifest["chunks"])


async def test_editor_access_disabled_without_a_token(app, client: httpx.AsyncClient) -> None:
    app.state.settings.editor_token = None
    response = await create(client)
    assert response.status_code == 401
    assert "TTS_EDITOR_TOKEN" in response.json()["detail"]


async def test_lexicon_crud(client: httpx.AsyncClient) -> None:
    entry = {"written": "ANSO", "spoken": "安索"}
    assert (await client.post("/api/lexicon", json=entry)).status_code == 401
    assert (await client.post("/api/lexicon", json=entry, headers=AUTH)).status_code == 201
    replaced = await client.post("/api/lexicon", json={**entry, "spoken": "安所"}, headers=AUTH)
    assert replaced.status_code == 200
    assert (await client.get("/api/lexicon", headers=AUTH)).json() == [{"written": "ANSO", "spoken": "安所"}]
    assert (await client.delete("/api/lexicon/ANSO", headers=AUTH)).status_code == 204
    assert (await client.delete("/api/lexicon/ANSO", headers=AUTH)).status_code == 404
    bad = await client.post("/api/lexicon", json={"written": "A\nB", "spoken": "x"}, headers=AUTH)
    assert bad.status_code == 422


@pytest.mark.parametrize("path", ["/api/lexicon/km%2Fh", "/api/lexicon/km/h"])
async def test_lexicon_entry_with_a_slash_can_be_deleted(client: httpx.AsyncClient, path: str) -> None:
    entry = {"written": "km/h", "spoken": "千米每小时"}
    assert (await client.post("/api/lexicon", json=entry, headers=AUTH)).status_code == 201
    assert (await client.delete(path, headers=AUTH)).status_code == 204
    assert (await client.get("/api/lexicon", headers=AUTH)).json() == []
    assert (await client.delete(path, headers=AUTH)).status_code == 404


async def test_lexicon_change_resynthesises_only_touched_chunks(client: httpx.AsyncClient, espeak) -> None:
    body = {"title": "t", "text": "ANSO成立了。\n\n天气很好。", "slug": "lex"}
    await create(client, body)
    before = await wait_ready(client, "lex")
    espeak.calls.clear()
    await client.post("/api/lexicon", json={"written": "ANSO", "spoken": "安索"}, headers=AUTH)
    pending = (await client.get("/api/articles/lex/audio")).json()
    assert pending["chunks"][0]["url"] is None  # new spoken text, new key: not cached yet
    assert pending["chunks"][1]["url"] == before["chunks"][1]["url"]  # untouched chunk keeps its audio
    after = await wait_ready(client, "lex")
    assert after["status"] == "ready"
    assert espeak.calls == ["安索成立了。"]
    assert after["chunks"][0]["text"] == "ANSO成立了。"  # the page still shows what was written


async def test_import_page_through_the_api(client: httpx.AsyncClient) -> None:
    from helpers import CORPUS

    body = CORPUS.read_bytes()
    assert (await client.post("/api/articles/import", content=body)).status_code == 401
    response = await client.post(
        "/api/articles/import?slug=coop", content=body, headers={**AUTH, "Content-Type": "text/plain"}
    )
    assert response.status_code == 201, response.text
    article = response.json()
    assert (article["slug"], article["date"], article["byline"]) == ("coop", "2020-01-17", "张亚平")
    assert article["text"].startswith("2019年是我们伟大祖国70周年华诞")
    assert "京ICP备" not in article["text"] and "语音播报" not in article["text"]


async def test_import_reads_no_dtd_and_no_undeclared_entity(client: httpx.AsyncClient, espeak) -> None:
    page = """<!DOCTYPE html [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
    <html><head><title>冬季供暖热线开通&xxe;</title></head><body><p>冬季供暖热线开通&xxe;</p>
    <p>即日起，市民可拨打供暖服务热线&xxe;反映室温不达标等问题。</p><p>热线全天有人值守。</p></body></html>"""
    response = await client.post("/api/articles/import?slug=heat", content=page.encode(), headers=AUTH)
    assert response.status_code == 201, response.text
    article = response.json()
    assert article["title"] == "冬季供暖热线开通"
    assert article["text"] == "即日起，市民可拨打供暖服务热线反映室温不达标等问题。\n热线全天有人值守。"
    assert (await wait_ready(client, "heat"))["status"] == "ready"
    spoken = " ".join(espeak.calls)
    assert espeak.calls and not any(s in spoken for s in ("xxe", "]>", "ENTITY", "passwd"))


async def test_import_without_an_article_is_422(client: httpx.AsyncClient) -> None:
    page = "<nav><a href='/'>首页</a></nav>".encode()
    response = await client.post("/api/articles/import", content=page, headers=AUTH)
    assert response.status_code == 422
    assert (await client.get("/api/articles")).json() == []


SLUG_CHARS = "abc-019\n\r\t A/.%_é"


def test_every_stored_slug_round_trips_through_its_own_urls(settings, espeak) -> None:
    """Whatever slug the API accepts, the URLs it gives for that article lead back to that article, read as
    a browser reads them (tabs and newlines dropped, as urllib.parse does too)."""
    from urllib.parse import urlsplit

    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st

    from tts_service.web import create_app

    app = create_app(settings, engines={"espeak": espeak})
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    lifespan = app.router.lifespan_context(app)

    async def round_trip(slug: str) -> None:
        body = {"title": "题", "text": "一句。", "slug": slug}
        created = await http.post("/api/articles", json=body, headers=AUTH)
        if created.status_code != 201:
            assert created.status_code == 422, created.text
            return
        article = created.json()
        assert article["slug"] == slug
        for field, kind in (("url", "text/html"), ("api_url", "application/json")):
            response = await http.get(urlsplit(article[field]).path)
            assert response.status_code == 200, (slug, article[field])
            assert response.headers["content-type"].startswith(kind)
        api_path = urlsplit(article["api_url"]).path
        assert (await http.get(api_path)).json()["slug"] == slug
        assert (await http.delete(api_path, headers=AUTH)).status_code == 204

    with asyncio.Runner() as runner:
        runner.run(lifespan.__aenter__())
        try:

            @hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
            @given(
                st.one_of(st.text(SLUG_CHARS, min_size=1, max_size=12), st.sampled_from(["abc\n", "a-b\n"]))
            )
            def check(slug: str) -> None:
                runner.run(round_trip(slug))

            check()
        finally:
            runner.run(http.aclose())
            runner.run(lifespan.__aexit__(None, None, None))


async def test_fifty_concurrent_edits_each_get_their_own_revision_and_the_last_is_voiced(
    client: httpx.AsyncClient,
) -> None:
    """As found: 49 of 50 responses described another request's revision. Each answer must be the
    revision that request wrote, and the job of the revision that ends up current must run. (Concurrent
    POSTs of one slug were the reproduction; since issue 14 a POST never overwrites, so edits are PUTs.)"""
    await create(client, {"title": "标题", "text": "初稿。", "slug": "busy"})
    bodies = [{"title": f"标题{n}", "text": f"第{n}份稿子。"} for n in range(50)]
    responses = await asyncio.gather(
        *(client.put("/api/articles/busy", json=body, headers=AUTH) for body in bodies)
    )
    assert [r.status_code for r in responses] == [200] * 50
    answers = [r.json() for r in responses]
    assert sorted(a["revision"] for a in answers) == list(range(2, 52))
    for body, answer in zip(bodies, answers, strict=True):
        assert (answer["title"], answer["text"]) == (body["title"], body["text"])
    manifest = await wait_ready(client, "busy")
    assert (manifest["status"], manifest["revision"]) == ("ready", 51)
    async with asyncio.timeout(30):  # the audio is all there; the job records its end a moment later
        while manifest["job"]["status"] == "running":
            manifest = (await client.get("/api/articles/busy/audio")).json()
    assert manifest["job"]["status"] == "done" and manifest["job"]["revision"] == 51


async def test_an_article_with_nothing_to_speak_is_consistently_empty(client: httpx.AsyncClient) -> None:
    """As found: the manifest said ready, audio.mp3 answered 503 "is ready" forever, captions 409."""
    assert (
        await create(client, {"title": "只有标点", "text": "。。。……——", "slug": "quiet"})
    ).status_code == 201
    manifest = (await client.get("/api/articles/quiet/audio")).json()
    assert (manifest["status"], manifest["chunks"], manifest["url"]) == ("empty", [], None)
    for path in ("/articles/quiet/audio.mp3", "/api/articles/quiet/captions.vtt"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found" and "nothing to speak" in response.json()["detail"]
    page = await client.get("/articles/quiet")
    assert page.status_code == 200
    assert "read-aloud" not in page.text and "<audio" not in page.text
    assert "本文没有可朗读的文字" in page.text
    assert "无可朗读的文字" in (await client.get("/")).text
    feed = await client.get("/feed.xml")
    assert "quiet" not in feed.text


async def test_an_article_can_name_its_page_stored_in_canonical_form(client: httpx.AsyncClient) -> None:
    page = "https://News.Example:443/a/t20200117_1.html?utm_source=feed#comments"
    created = await create(client, {**ARTICLE, "url": page})
    assert created.status_code == 201
    assert created.json()["source_url"] == "https://news.example/a/t20200117_1.html"
    assert created.json()["url"] == "http://testserver/articles/lib"  # ours, as before
    other = await create(
        client, {**ARTICLE, "slug": "other", "url": "https://news.example/a/t20200117_1.html"}
    )
    assert (other.status_code, other.json()["code"]) == (409, "conflict")
    bad = await create(client, {**ARTICLE, "slug": "bad", "url": "javascript:alert(1)"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_input")
    assert [a["slug"] for a in (await client.get("/api/articles")).json()] == ["lib"]


# Issue 14: no silent overwrite, and one error shape everywhere -----------------------------------------


async def test_post_of_an_existing_slug_is_409_with_the_articles_url(client: httpx.AsyncClient) -> None:
    """As found: a second POST with the same slug replaced the article silently (the editor lost it)."""
    assert (await create(client)).status_code == 201
    again = await create(client, {**ARTICLE, "title": "别人的稿子", "text": "完全不同。"})
    assert again.status_code == 409, again.text
    body = again.json()
    assert body["code"] == "conflict" and "lib" in body["message"] and body["detail"] == body["message"]
    assert body["url"] == "http://testserver/articles/lib"
    assert again.headers["location"] == "http://testserver/articles/lib"
    kept = (await client.get("/api/articles/lib")).json()
    assert (kept["revision"], kept["title"], kept["text"]) == (1, ARTICLE["title"], ARTICLE["text"])


async def test_concurrent_posts_of_one_slug_make_one_article(client: httpx.AsyncClient) -> None:
    bodies = [{"title": f"标题{n}", "text": f"第{n}份稿子。", "slug": "race"} for n in range(20)]
    responses = await asyncio.gather(*(create(client, body) for body in bodies))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    assert (await client.get("/api/articles/race")).json()["revision"] == 1


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/nope", 404, "not_found"),
        ("GET", "/api/articles/lib/nope", 404, "not_found"),
        ("PATCH", "/api/articles", 405, "method_not_allowed"),
        ("DELETE", "/api/articles", 405, "method_not_allowed"),
        ("GET", "/api/articles/nope", 404, "not_found"),
        ("GET", "/api/jobs/0", 422, "invalid_input"),
        ("POST", "/api/articles", 401, "unauthorized"),
    ],
)
async def test_every_error_has_code_and_message(
    client: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    """As found: unknown routes and 405s answered {"detail": "Not Found"}-style bodies without a message."""
    response = await client.request(method, path, headers={} if status == 401 else AUTH)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and isinstance(body["message"], str) and body["message"], body
    assert "detail" in body  # kept for clients written against the old shape


async def test_unknown_page_paths_answer_json_to_json_clients(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and response.json()["message"]


async def test_captions_url_only_once_captions_exist(client: httpx.AsyncClient) -> None:
    """As found: the manifest named a captions URL that answered 409 until the audio was ready."""
    await create(client)
    pending = (await client.get("/api/articles/lib/audio")).json()
    if pending["status"] == "pending":
        assert pending["captions_url"] is None
    ready = await wait_ready(client, "lib")
    assert ready["captions_url"] == "http://testserver/api/articles/lib/captions.vtt"
    assert (await client.get(ready["captions_url"])).status_code == 200
    quiet = {"title": "只有标点", "text": "。。。", "slug": "quiet"}
    await create(client, quiet)
    assert (await client.get("/api/articles/quiet/audio")).json()["captions_url"] is None


# The list a page at a time, and search ----------------------------------------------------------------


async def add_notices(client: httpx.AsyncClient, count: int) -> None:
    for n in range(count):
        body = {"title": f"通知{n}", "text": f"第{n}条。", "slug": f"n-{n}"}
        assert (await create(client, body)).status_code == 201


async def test_the_list_without_parameters_is_the_whole_plain_list(client: httpx.AsyncClient) -> None:
    await add_notices(client, 3)
    response = await client.get("/api/articles")
    assert [a["slug"] for a in response.json()] == ["n-2", "n-1", "n-0"]
    assert "link" not in response.headers and "x-next-cursor" not in response.headers


async def test_limit_pages_through_link_headers(client: httpx.AsyncClient) -> None:
    await add_notices(client, 5)
    seen, sizes, url = [], [], "/api/articles?limit=2"
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        seen += [a["slug"] for a in response.json()]  # each page is still a plain list
        sizes.append(len(response.json()))
        url = response.links.get("next", {}).get("url")
        if url:
            assert url.startswith("http://testserver/api/articles?")
            assert response.headers["x-next-cursor"] in url
    assert seen == ["n-4", "n-3", "n-2", "n-1", "n-0"] and sizes == [2, 2, 1]


async def test_q_searches_and_keeps_its_query_in_the_next_link(client: httpx.AsyncClient) -> None:
    await add_notices(client, 3)
    await create(client, {"title": "养老服务", "text": "正文。", "slug": "care"})
    assert [a["slug"] for a in (await client.get("/api/articles", params={"q": "养老"})).json()] == ["care"]
    first = await client.get("/api/articles", params={"q": "通知", "limit": 2})
    assert [a["slug"] for a in first.json()] == ["n-2", "n-1"]
    second = await client.get(first.links["next"]["url"])
    assert [a["slug"] for a in second.json()] == ["n-0"] and "link" not in second.headers


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "cursor=nonsense", "q=" + "字" * 101])
async def test_bad_list_parameters_are_422(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/api/articles?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["code"]


async def test_inline_readings_are_kept_in_the_text_and_never_shown(
    client: httpx.AsyncClient, espeak
) -> None:
    body = {**ARTICLE, "text": "他在银行{yin2 hang2}工作。\n\n行{háng}业的规矩，写作\\{x}。"}
    article = (await create(client, body)).json()
    assert (article["text"], article["format"]) == (body["text"], "text")
    manifest = await wait_ready(client, "lib")
    assert [c["text"] for c in manifest["chunks"]] == ["他在银行工作。", "行业的规矩，写作{x}。"]
    page = (await client.get("/articles/lib")).text
    assert "他在银行工作。" in page and "{yin2" not in page and "{háng}" not in page and "写作{x}" in page
    # the plain-text engine got the readings as characters read that way
    assert any(call.startswith("他在银") and call != "他在银行工作。" for call in espeak.calls)


async def test_a_bad_inline_reading_is_refused_before_anything_is_stored(client: httpx.AsyncClient) -> None:
    response = await create(client, {**ARTICLE, "text": "行{hagn2}业。"})
    assert response.status_code == 422
    assert "hagn2" in response.json()["message"]
    assert (await client.get("/api/articles")).json() == []


async def test_an_ssml_article_shows_its_text_and_says_its_markup(client: httpx.AsyncClient, espeak) -> None:
    text = (
        '<speak><p>世卫组织即<sub alias="世界卫生组织">WHO</sub>。</p>'
        '<p>电话<say-as interpret-as="telephone">12345</say-as>，<break time="800ms"/>'
        '<phoneme alphabet="x-pinyin" ph="hang2">行</phoneme>业。</p></speak>'
    )
    article = (await create(client, {**ARTICLE, "text": text, "format": "ssml"})).json()
    assert (article["text"], article["format"]) == (text, "ssml")
    manifest = await wait_ready(client, "lib")
    assert [c["text"] for c in manifest["chunks"]] == ["世卫组织即WHO。", "电话12345，行业。"]
    page = (await client.get("/articles/lib")).text
    assert "电话12345，行业。" in page and "say-as" not in page and "&lt;" not in page
    said = " ".join(espeak.calls)
    assert "世界卫生组织" in said and "幺二三四五" in said and "行业" not in said  # 行 read háng: 航业


async def test_ssml_outside_the_subset_is_400_naming_it(client: httpx.AsyncClient) -> None:
    body = {**ARTICLE, "text": "<speak>你好<audio src='x.mp3'/></speak>", "format": "ssml"}
    response = await create(client, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_ssml" and "audio" in response.json()["message"]
    assert (await client.get("/api/articles")).json() == []


async def test_api_tts_takes_ssml_and_inline_readings(client: httpx.AsyncClient, espeak) -> None:
    async def seconds(text: str) -> float:
        response = await client.post("/api/tts", json={"text": text}, headers=AUTH)
        assert response.status_code == 200, response.text
        return float(response.headers["x-audio-duration"])

    plain = await seconds("先说这个。再说那个。")
    paused = await seconds('<speak>先说这个。<break time="1500ms"/>再说那个。</speak>')
    assert 1.2 < paused - plain < 1.8
    await seconds("行{hang2}业。")
    assert espeak.calls[-1] not in ("行业。", "行业") and espeak.calls[-1].endswith("业。")
    refused = await client.post("/api/tts", json={"text": "<speak><voice>x</voice></speak>"}, headers=AUTH)
    assert refused.status_code == 400 and "voice" in refused.json()["message"]


async def test_each_chunk_has_word_marks_in_its_file_and_the_whole_file(client: httpx.AsyncClient) -> None:
    await create(client, {"title": "数字", "text": "2019年，我们开馆。\n第二段只有一句。", "slug": "marks"})
    manifest = await wait_ready(client, "marks")
    assert manifest["url"] is not None
    first = manifest["chunks"][0]
    assert first["timing"] == "proportional"  # espeak reports no timings: its syllables are spread
    texts = [first["text"][m["offsets"][0] - first["offsets"][0] : m["offsets"][1] - first["offsets"][0]]
             for m in first["marks"]]  # fmt: skip
    assert texts == ["2019", "年，", "我", "们", "开", "馆。"]
    for chunk in manifest["chunks"]:
        marks = chunk["marks"]
        assert (
            marks[0]["offsets"][0] == chunk["offsets"][0] and marks[-1]["offsets"][1] == chunk["offsets"][1]
        )
        assert all(a["offsets"][1] == b["offsets"][0] for a, b in zip(marks, marks[1:], strict=False))
        assert all(a["end"] <= b["start"] for a, b in zip(marks, marks[1:], strict=False))
        assert 0 < marks[0]["start"] and marks[-1]["end"] <= chunk["duration"]
        for mark in marks:  # the whole file's times: the chunk's span there, moved by its codec delay
            shift = chunk["start"] - mp3.LEAD_SECONDS
            assert mark["article_start"] == pytest.approx(shift + mark["start"], abs=0.002)
            assert (
                chunk["start"] - 0.05 <= mark["article_start"] <= mark["article_end"] <= chunk["end"] + 0.05
            )


async def test_captions_carry_word_timestamps_when_asked(client: httpx.AsyncClient) -> None:
    await create(client, {"title": "字幕", "text": "今天开馆，欢迎大家。", "slug": "cues"})
    manifest = await wait_ready(client, "cues")
    plain = (await client.get("/api/articles/cues/captions.vtt")).text
    assert "<00:" not in plain and "今天开馆，欢迎大家。" in plain
    timed = (await client.get("/api/articles/cues/captions.vtt?words=1")).text
    cue = timed.split("\n")[4]
    stamps = re.findall(r"<(\d\d):(\d\d):(\d\d)\.(\d\d\d)>", cue)
    assert re.sub(r"<[^>]+>", "", cue) == "今天开馆，欢迎大家。"
    assert len(stamps) == 8  # one before each character (the first starts a little after the cue)
    seconds = [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms in stamps]
    assert seconds == sorted(seconds) and len(set(seconds)) == len(seconds)
    chunk = manifest["chunks"][0]
    assert chunk["start"] < seconds[0] and seconds[-1] < chunk["end"]
    assert seconds[1] == pytest.approx(chunk["marks"][1]["article_start"], abs=0.001)
