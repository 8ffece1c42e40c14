"""Hostile input: limits with clear 4xx answers, markup shown as text, no path tricks, odd Unicode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from helpers import AUTH, CountingEngine, decode

from tts_service.config import Settings
from tts_service.web import create_app
from tts_service.web.ratelimit import RateLimiter

ClientFactory = Callable[..., AsyncIterator[httpx.AsyncClient]]


@pytest.fixture
def make_client(settings: Settings, espeak: CountingEngine) -> ClientFactory:
    """A client for an app built with some settings changed."""

    @asynccontextmanager
    async def make(client_host: str = "127.0.0.1", **changes) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=changes), engines={"espeak": espeak})
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(client_host, 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield client

    return make


def assert_error(response: httpx.Response, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    message = body["message"] if isinstance(body["detail"], list) else body["detail"]
    assert all(word in message for word in words), message


# Limits -----------------------------------------------------------------------------------------


async def test_article_size_limit(make_client: ClientFactory) -> None:
    async with make_client(max_article_chars=50) as client:
        body = {"title": "长", "text": "字" * 51, "slug": "long"}
        response = await client.post("/api/articles", json=body, headers=AUTH)
        assert_error(response, 413, "too_large", "51", "50")
        body["text"] = "字" * 50
        assert (await client.post("/api/articles", json=body, headers=AUTH)).status_code == 201


async def test_lexicon_size_limit(make_client: ClientFactory) -> None:
    async with make_client(max_lexicon_entries=2) as client:
        for written in ("甲", "乙"):
            entry = {"written": written, "spoken": "读音"}
            assert (await client.post("/api/lexicon", json=entry, headers=AUTH)).status_code == 201
        third = await client.post("/api/lexicon", json={"written": "丙", "spoken": "读音"}, headers=AUTH)
        assert_error(third, 413, "too_large", "2 entries")
        # Replacing an entry is not growth.
        again = await client.post("/api/lexicon", json={"written": "甲", "spoken": "新读音"}, headers=AUTH)
        assert again.status_code == 200
        long = {"written": "长" * 101, "spoken": "x"}
        assert (await client.post("/api/lexicon", json=long, headers=AUTH)).status_code == 422


async def test_request_body_limit(make_client: ClientFactory) -> None:
    async with make_client(max_body_bytes=1000) as client:
        body = {"title": "大", "text": "字" * 400}  # 1.2 kB of UTF-8
        assert_error(await client.post("/api/articles", json=body, headers=AUTH), 413, "too_large", "1000")


# POST /api/tts ----------------------------------------------------------------------------------


async def test_tts_for_editors(client: httpx.AsyncClient, espeak: CountingEngine) -> None:
    response = await client.post("/api/tts", json={"text": "你好。今天天气很好。"}, headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"
    seconds, rms = decode(response.content)
    assert seconds == pytest.approx(float(response.headers["x-audio-duration"]), abs=0.06) and rms > 0.01
    assert sorted(espeak.calls) == ["今天天气很好。", "你好。"]
    again = await client.post("/api/tts", json={"text": "你好。今天天气很好。"}, headers=AUTH)
    assert again.content == response.content and len(espeak.calls) == 2  # cached per sentence


async def test_tts_refuses_without_the_token(client: httpx.AsyncClient, espeak: CountingEngine) -> None:
    response = await client.post("/api/tts", json={"text": "你好。"})
    assert_error(response, 401, "unauthorized", "TTS_PUBLIC_TTS")
    wrong = {"Authorization": "Bearer nope"}
    assert_error(await client.post("/api/tts", json={"text": "你好。"}, headers=wrong), 401, "unauthorized")
    assert espeak.calls == []


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        ({"text": "长" * 501}, 413, "too_large", ("501", "500")),
        ({"text": ""}, 422, "invalid_input", ("text",)),
        ({"text": "——……"}, 422, "invalid_input", ("nothing to say",)),
        ({"text": "你好", "voice": "nobody"}, 422, "invalid_input", ("unknown voice",)),
        ({"text": "你好", "engine": "nope"}, 422, "invalid_input", ("unknown engine",)),
        ({"text": "你好", "rate": 500}, 422, "invalid_input", ("rate",)),
        ({"text": "你\x00好"}, 422, "invalid_input", ("NUL",)),
    ],
)
async def test_tts_bad_input(client: httpx.AsyncClient, body, status, code, words) -> None:
    response = await client.post("/api/tts", json=body, headers=AUTH)
    assert_error(response, status, code, *words)


async def test_public_tts_is_rate_limited_per_client(make_client: ClientFactory) -> None:
    async with make_client(public_tts=True, public_tts_per_minute=3) as client:
        for _ in range(3):
            assert (await client.post("/api/tts", json={"text": "你好。"})).status_code == 200
        limited = await client.post("/api/tts", json={"text": "你好。"})
        assert_error(limited, 429, "rate_limited", "3 requests a minute")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # Editors are not limited; a wrong token is not treated as a public caller.
        assert (await client.post("/api/tts", json={"text": "你好。"}, headers=AUTH)).status_code == 200
        wrong = await client.post("/api/tts", json={"text": "你好。"}, headers={"Authorization": "Bearer x"})
        assert wrong.status_code == 401
    async with make_client(client_host="10.0.0.9", public_tts=True, public_tts_per_minute=3) as other:
        assert (await other.post("/api/tts", json={"text": "你好。"})).status_code == 200


def test_rate_limiter_window_and_memory() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 60, max_clients=2, clock=lambda: now[0])
    assert [limiter.check("a") for _ in range(3)] == [0, 0, 60]
    now[0] = 30
    assert limiter.check("a") == 30
    now[0] = 60.5
    assert limiter.check("a") == 0  # the first call left the window
    limiter.check("b")
    limiter.check("c")  # "a" is the longest idle: forgotten
    assert limiter.check("a") == 0 and limiter.check("a") == 0 and limiter.check("a") > 0


# Markup, paths, Unicode -------------------------------------------------------------------------

SCRIPT = "<script>alert('x')</script>"


async def test_markup_is_text_everywhere(client: httpx.AsyncClient, app) -> None:
    body = {
        "title": f"标题{SCRIPT}",
        "text": f"正文<img src=x onerror=alert(1)>。{SCRIPT}",
        "slug": "xss",
        "byline": '"><svg onload=alert(1)>',
    }
    assert (await client.post("/api/articles", json=body, headers=AUTH)).status_code == 201
    await app.state.pipeline.wait(await app.state.pipeline.jobs.latest("xss", 1))  # so the feed lists it
    for path in ("/", "/articles/xss", "/feed.xml"):
        page = (await client.get(path)).text
        assert "<script>alert" not in page and "<img src=x" not in page and "<svg onload" not in page, path
        assert "&lt;script&gt;alert" in page or "&amp;lt;script" in page, path
    assert (await client.get("/api/articles/xss")).json()["title"] == f"标题{SCRIPT}"  # JSON keeps it as data
    bad_slug = {**body, "slug": "<b>x</b>"}
    response = await client.post("/api/articles", json=bad_slug, headers=AUTH)
    assert_error(response, 422, "invalid_input", "slug")
    entry = {"written": SCRIPT, "spoken": "<b>读</b>"}
    assert (await client.post("/api/lexicon", json=entry, headers=AUTH)).status_code == 201


@pytest.mark.parametrize(
    "path",
    [
        "/audio/..%2F..%2Ftts.db.mp3",
        "/audio/%2e%2e%2ftts.db.mp3",
        "/audio/" + "A" * 64 + ".mp3",
        "/audio/" + "0" * 63 + ".mp3",
        "/audio/" + "0" * 64 + ".mp3",
        "/api/articles/..%2F..%2Ftts.db",
        "/articles/..%2F..%2Ftts.db/audio.mp3",
        "/static/..%2F..%2Ftts.db",
        "/static/../../tts.db",
    ],
)
async def test_no_path_leads_outside(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404, path
    assert b"SQLite format" not in response.content


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ('{"title": "t", "text": "a\\u0000b"}', ("text", "NUL")),
        ('{"title": "\\ud800", "text": "x"}', ("title", "valid string", "unicode")),
        ('{"title": "t", "text": "x\\udfff"}', ("text", "unicode")),
        ('{"title": "t", "text": "x\\u0007y"}', ("text", "U+0007")),
        ('{"title": "t", "text": "x", "byline": "\\u0000"}', ("byline", "NUL")),
    ],
)
async def test_invalid_unicode_is_422(client: httpx.AsyncClient, raw: str, words) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await client.post("/api/articles", content=raw.encode(), headers=headers)
    assert_error(response, 422, "invalid_input", *words)
    assert (await client.get("/api/articles")).json() == []


async def test_lexicon_refuses_invalid_unicode(client: httpx.AsyncClient) -> None:
    raw = b'{"written": "\\ud83d", "spoken": "x"}'
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await client.post("/api/lexicon", content=raw, headers=headers)
    assert_error(response, 422, "invalid_input", "written", "unicode")


async def test_bidi_and_zero_width_marks_are_kept_on_the_page_and_not_spoken(client, app) -> None:
    text = "阿拉伯文\u202eمرحبا\u202c。零宽\u200b空格\u200d。"
    assert (
        await client.post("/api/articles", json={"title": "标记", "text": text, "slug": "bidi"}, headers=AUTH)
    ).status_code == 201
    article = await app.state.store.get_article("bidi")
    plan = await app.state.pipeline.planner.plan(article)
    assert "".join(c.text for c in plan.chunks) == text  # shown as written
    assert all(not any(ch in c.spoken for ch in "\u202e\u202c\u200b\u200d") for c in plan.spoken)
    assert "\u202e" in (await client.get("/articles/bidi")).text


async def test_100_kb_without_spaces_or_punctuation(client: httpx.AsyncClient, app) -> None:
    text = "长" * 100_000
    body = {"title": "长", "text": text, "slug": "wall"}
    response = await client.post("/api/articles", json=body, headers=AUTH)
    assert response.status_code == 201
    page = await client.get("/articles/wall")
    assert page.status_code == 200 and page.text.count("长") >= 100_000
    manifest = (await client.get("/api/articles/wall/audio")).json()
    assert len(manifest["chunks"]) > 100 and all(len(c["text"]) <= 300 for c in manifest["chunks"])
    assert "".join(c["text"] for c in manifest["chunks"]) == text


async def test_tts_rate_takes_edge_tts_percentages_and_plain_numbers(client: httpx.AsyncClient) -> None:
    """As found: the CLI took "+20%" and the API only 20; one convention now, both forms everywhere."""
    answers = [
        await client.post("/api/tts", json={"text": "你好。", "rate": rate}, headers=AUTH)
        for rate in ("+20%", 20, "20", " +20 % ")
    ]
    assert [r.status_code for r in answers] == [200] * 4, [r.text for r in answers]
    assert len({r.content for r in answers}) == 1  # the same speed, so the same cached audio
    slower = await client.post("/api/tts", json={"text": "你好。", "rate": "-10%"}, headers=AUTH)
    assert slower.status_code == 200 and slower.content != answers[0].content
    for bad in ("fast", "+500%", "20%%", True, 1.5):
        assert_error(
            await client.post("/api/tts", json={"text": "你好。", "rate": bad}, headers=AUTH),
            422,
            "invalid_input",
            "rate",
        )
