"""Who may call what (tts_service/web/auth.py): token rules, wrong tokens limited everywhere, checks made
before the body is read, and errors in the service's shape."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from helpers import AUTH, TOKEN, CountingEngine
from pydantic import SecretStr

from tts_service.config import Settings
from tts_service.web import create_app
from tts_service.web.auth import matches

ClientFactory = Callable[..., AsyncIterator[httpx.AsyncClient]]
ARTICLE = {"title": "社区图书馆", "text": "今天开馆。", "slug": "lib"}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def make_client(settings: Settings, espeak: CountingEngine) -> ClientFactory:
    """A client for an app built with some settings changed (tokens given as plain strings)."""

    @asynccontextmanager
    async def make(host: str = "127.0.0.1", **changes) -> AsyncIterator[httpx.AsyncClient]:
        for name in ("editor_token", "metrics_token"):
            if isinstance(changes.get(name), str):
                changes[name] = SecretStr(changes[name])
        app = create_app(settings.model_copy(update=changes), engines={"espeak": espeak})
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(host, 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return make


async def sign_in_form(client: httpx.AsyncClient) -> str:
    page = await client.get("/admin/login")
    found = CSRF.search(page.text)
    return found.group(1) if found else ""


# An editor token must be usable: set, not blank, 16 characters or more -------------------------------


@pytest.mark.parametrize("token", ["", "   ", "\t\n", "short-token-15ch"[:15]])
async def test_a_blank_or_short_token_turns_editor_access_off(
    make_client: ClientFactory, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tts_service"):
        async with make_client(editor_token=token) as client:
            warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
            assert any("TTS_EDITOR_TOKEN" in w and "16 characters" in w and "OFF" in w for w in warnings)
            form = await client.get("/admin/login")
            assert form.status_code == 403 and "编辑入口已关闭" in form.text
            csrf = await sign_in_form(client)
            signed = await client.post("/admin/login", data={"csrf": csrf, "token": token})
            assert signed.status_code == 403 and "set-cookie" not in signed.headers
            assert (await client.get("/admin")).status_code == 303  # to the (closed) sign-in page
            api = await client.post(
                "/api/articles", json=ARTICLE, headers={"Authorization": f"Bearer {token}"}
            )
            assert api.status_code == 401 and "TTS_EDITOR_TOKEN" in api.json()["detail"]


async def test_an_empty_token_never_signs_in_to_admin(make_client: ClientFactory) -> None:
    """The attack as found: TTS_EDITOR_TOKEN= (set, empty) and an empty token in the sign-in form."""
    async with make_client(editor_token="") as client:
        csrf = await sign_in_form(client)
        await client.post("/admin/login", data={"csrf": csrf, "token": ""})
        page = await client.get("/admin")
        assert page.status_code == 303 and "文章" not in page.text


async def test_a_token_of_16_characters_works(make_client: ClientFactory) -> None:
    token = "0123456789abcdef"
    async with make_client(editor_token=token) as client:
        response = await client.post(
            "/api/articles", json=ARTICLE, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201


def test_matches_is_exact() -> None:
    assert matches("a" * 16, ["b" * 16, "a" * 16])
    assert not matches("a" * 16, ["a" * 17, "a" * 15])
    assert not matches("", ["a" * 16])
    assert not matches("anything", [])


# Wrong tokens are limited on every check; the right token always gets through ---------------------------

WRONG = {"Authorization": "Bearer wrong-token-of-some-length"}


async def test_wrong_bearer_tokens_are_limited_and_the_right_one_still_works(
    make_client: ClientFactory,
) -> None:
    async with make_client() as client:
        answers = [(await client.get("/api/lexicon", headers=WRONG)) for _ in range(11)]
        assert [a.status_code for a in answers] == [401] * 10 + [429]
        assert answers[-1].json()["code"] == "rate_limited"
        assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
        assert (
            await client.get("/api/lexicon", headers=AUTH)
        ).status_code == 200  # the owner is not locked out
        assert (await client.get("/metrics", headers=WRONG)).status_code == 429  # one count for every check
        assert (await client.get("/metrics", headers=AUTH)).status_code == 200


async def test_the_limit_is_per_client(make_client: ClientFactory) -> None:
    async with make_client(host="198.51.100.1") as attacker:
        for _ in range(11):
            await attacker.get("/api/lexicon", headers=WRONG)
        assert (await attacker.get("/api/lexicon", headers=WRONG)).status_code == 429
        transport = httpx.ASGITransport(app=attacker.app, client=("198.51.100.2", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            assert (await other.get("/api/lexicon", headers=WRONG)).status_code == 401


async def test_no_token_at_all_is_not_a_guess(make_client: ClientFactory) -> None:
    async with make_client() as client:
        answers = [(await client.get("/api/lexicon")).status_code for _ in range(20)]
        assert answers == [401] * 20
        assert (await client.get("/api/lexicon", headers=WRONG)).status_code == 401


async def test_sign_in_lockout_sends_retry_after_and_lets_the_owner_in(make_client: ClientFactory) -> None:
    async with make_client() as client:
        csrf = await sign_in_form(client)
        answers = [
            await client.post("/admin/login", data={"token": f"guess{i}", "csrf": csrf}) for i in range(11)
        ]
        assert [a.status_code for a in answers] == [401] * 10 + [429]
        assert "尝试次数过多" in answers[-1].text
        assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
        right = await client.post("/admin/login", data={"token": TOKEN, "csrf": csrf})
        assert right.status_code == 303
        assert (await client.get("/admin")).status_code == 200
        # Wrong bearer tokens on the API count against the same client.
        assert (await client.get("/api/lexicon", headers=WRONG)).status_code == 429


# Auth before the body is read, and every error in the documented shape ----------------------------------


def deep_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("body", [b"{not json", deep_array(100_000), json.dumps(ARTICLE).encode()])
async def test_unauthenticated_writes_get_401_whatever_the_body(
    client: httpx.AsyncClient, body: bytes
) -> None:
    for method, path in (("POST", "/api/articles"), ("PUT", "/api/articles/lib"), ("POST", "/api/lexicon")):
        response = await client.request(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401, (path, response.text)
        assert response.json()["code"] == "unauthorized"


async def test_the_body_is_not_read_before_the_token_is_checked(app) -> None:
    """At the ASGI level: an unauthenticated POST never receives a single body message."""
    read, sent = [], []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/articles",
        "raw_path": b"/api/articles",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", b"10"),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }

    async def receive() -> dict:
        read.append(True)
        return {"type": "http.request", "body": b"[" * 10, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 401
    assert read == []


async def test_an_editor_with_a_too_deep_body_gets_a_400_in_shape(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/articles", content=deep_array(100_000), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    body = response.json()
    assert set(body) >= {"detail", "code"} and body["code"] in ("bad_request", "invalid_input")


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [("GET", "/api/nothing-here", 404, "not_found"), ("PATCH", "/api/articles", 405, "method_not_allowed")],
)
async def test_framework_errors_have_the_documented_shape(
    client: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    body = response.json()
    assert body == {"detail": body["message"], "code": code, "message": body["message"]}
    assert isinstance(body["message"], str) and body["message"]


async def test_sessionless_admin_forms_are_refused_before_the_form_is_read(app) -> None:
    read, sent = [], []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/admin/lexicon",
        "raw_path": b"/admin/lexicon",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/x-www-form-urlencoded")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }

    async def receive() -> dict:
        read.append(True)
        return {"type": "http.request", "body": b"written=a&spoken=b&csrf=x", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 403
    assert read == []


# Public /api/tts callers get the default engine only ------------------------------------------------------


async def test_public_callers_cannot_choose_another_engine(make_client: ClientFactory) -> None:
    async with make_client(public_tts=True) as client:
        for engine in ("edge", "local"):
            response = await client.post("/api/tts", json={"text": "你好。", "engine": engine})
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "forbidden" and "default engine" in response.json()["detail"]
        default = await client.post("/api/tts", json={"text": "你好。", "engine": "espeak"})
        assert default.status_code == 200 and default.headers["content-type"] == "audio/mpeg"
        assert (await client.post("/api/tts", json={"text": "你好。"})).status_code == 200


async def test_public_tts_needs_no_body_read_when_closed(make_client: ClientFactory) -> None:
    async with make_client(public_tts=False) as client:
        response = await client.post(
            "/api/tts", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401
