"""API keys on the web (web/api_keys.py): POST /api/tts and a /v1 route with a key, its limits, revocation
seen by another process at once, the editor token still good, wrong tokens counted, CORS for /v1, and usage
on /admin and /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest
from fastapi import APIRouter, Request
from helpers import AUTH, CountingEngine
from pydantic import BaseModel, SecretStr
from test_admin import sign_in

from tts_service.config import Settings
from tts_service.keys import ApiKeys
from tts_service.store import Store
from tts_service.web import create_app
from tts_service.web.api_keys import Caller, charge, note_cache_hits
from tts_service.web.auth import FAILURES_PER_MINUTE, AuthFirst

ClientFactory = Callable[..., AsyncIterator[httpx.AsyncClient]]
ORIGIN = "https://app.example"
TEXT = "你好。今天天气很好。"  # two sentences, 10 characters


class EchoIn(BaseModel):
    text: str


# A route of the API for apps as the real ones use the dependency: the caller, checked before the body.
v1 = APIRouter(prefix="/v1", route_class=AuthFirst)


@v1.post("/echo")
async def echo(request: Request, body: EchoIn, caller: Caller) -> dict[str, object]:
    await charge(request, caller, len(body.text))
    await note_cache_hits(request, caller, 1)
    return {"editor": caller.editor, "key": caller.key.name if caller.key else None}


@pytest.fixture
def make_client(settings: Settings, espeak: CountingEngine) -> ClientFactory:
    """A client for an app built with some settings changed, with the /v1/echo test route."""

    @asynccontextmanager
    async def make(host: str = "198.51.100.7", **changes: object) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=changes), engines={"espeak": espeak})
        app.include_router(v1)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(host, 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return make


@pytest.fixture
async def keys(settings: Settings) -> AsyncIterator[ApiKeys]:
    """The keys of the test's database, from a store of their own (as `tts-service keys` opens it)."""
    store = Store(settings.database)
    try:
        yield ApiKeys(store)
    finally:
        store.close()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_a_key_speaks_and_its_usage_and_cache_hits_are_counted(
    make_client: ClientFactory, keys: ApiKeys
) -> None:
    _, secret = await keys.create("app")
    async with make_client() as client:
        first = await client.post("/api/tts", json={"text": TEXT}, headers=bearer(secret))
        assert first.status_code == 200, first.text
        assert first.headers["content-type"] == "audio/mpeg" and len(first.content) > 1000
        again = await client.post("/api/tts", json={"text": TEXT}, headers=bearer(secret))
        assert again.status_code == 200
    usage = await keys.get("app")
    assert (usage.requests, usage.chars, usage.cache_hits) == (2, 2 * len(TEXT), 2)  # 2nd: both sentences


async def test_revoked_in_one_process_refused_by_the_other_at_the_next_request(
    make_client: ClientFactory, keys: ApiKeys
) -> None:
    _, secret = await keys.create("app")
    async with make_client() as first, make_client() as second:
        assert (await second.post("/api/tts", json={"text": TEXT}, headers=bearer(secret))).status_code == 200
        await ApiKeys(first.app.state.store).revoke("app")  # type: ignore[attr-defined]
        refused = await second.post("/api/tts", json={"text": TEXT}, headers=bearer(secret))
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "unauthorized" and refused.headers["www-authenticate"] == "Bearer"
        assert (await second.post("/v1/echo", json={"text": "x"}, headers=bearer(secret))).status_code == 401
    assert (await keys.get("app")).requests == 1


async def test_the_key_rate_gives_429_with_retry_after_before_the_body_is_read(
    make_client: ClientFactory, keys: ApiKeys
) -> None:
    _, secret = await keys.create("limited", rate_per_minute=2)
    _, other = await keys.create("other", rate_per_minute=2)
    async with make_client() as client:
        for _ in range(2):
            ok = await client.post("/api/tts", json={"text": TEXT}, headers=bearer(secret))
            assert ok.status_code == 200
        refused = await client.post("/api/tts", content=b"{not json", headers=bearer(secret))
        assert refused.status_code == 429, refused.text  # not 422: the body was never read
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert (await client.post("/v1/echo", json={"text": "x"}, headers=bearer(secret))).status_code == 429
        assert (await client.post("/v1/echo", json={"text": "x"}, headers=bearer(other))).status_code == 200
    assert (await keys.get("limited")).requests == 2  # refused requests are not counted


async def test_the_daily_budget_refuses_without_charging(make_client: ClientFactory, keys: ApiKeys) -> None:
    _, secret = await keys.create("app", chars_per_day=15)
    async with make_client() as client:
        assert (await client.post("/api/tts", json={"text": TEXT}, headers=bearer(secret))).status_code == 200
        refused = await client.post("/api/tts", json={"text": TEXT}, headers=bearer(secret))
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 86_400  # the next UTC day
        assert "10 of its 15 characters" in refused.json()["message"]
        fits = await client.post("/api/tts", json={"text": "好的。"}, headers=bearer(secret))
        assert fits.status_code == 200  # 3 more fit
        too_large = await client.post("/api/tts", json={"text": "好" * 16}, headers=bearer(secret))
        assert too_large.status_code == 413
    usage = await keys.get("app")
    assert (usage.requests, usage.chars, usage.chars_today) == (2, 13, 13)


async def test_requests_refused_for_their_content_are_not_charged(
    make_client: ClientFactory, keys: ApiKeys
) -> None:
    _, secret = await keys.create("app", chars_per_day=1000)
    async with make_client(tts_max_chars=20) as client:
        refusals = [
            ({"text": "好" * 21}, 413),  # past TTS_TTS_MAX_CHARS
            ({"text": "。。。"}, 422),  # nothing to say
            ({"text": TEXT, "engine": "edge"}, 403),  # keys get the default engine
            ({"text": TEXT, "voice": "no-such-voice"}, 422),
        ]
        for body, status in refusals:
            answer = await client.post("/api/tts", json=body, headers=bearer(secret))
            assert answer.status_code == status, (body, answer.text)
    assert (await keys.get("app")).requests == 0


async def test_a_key_gets_its_limits_instead_of_the_public_limit(
    make_client: ClientFactory, keys: ApiKeys
) -> None:
    _, secret = await keys.create("app")
    async with make_client(public_tts=True, public_tts_per_minute=1) as client:
        assert (await client.post("/api/tts", json={"text": TEXT})).status_code == 200
        assert (await client.post("/api/tts", json={"text": TEXT})).status_code == 429  # the public, by IP
        for _ in range(3):
            answer = await client.post("/api/tts", json={"text": TEXT}, headers=bearer(secret))
            assert answer.status_code == 200  # the same address, with a key: the key's limits (none)


async def test_the_editor_token_still_works_with_any_engine(make_client: ClientFactory) -> None:
    async with make_client() as client:
        spoken = await client.post("/api/tts", json={"text": TEXT, "engine": "espeak"}, headers=AUTH)
        assert spoken.status_code == 200
        echoed = await client.post("/v1/echo", json={"text": "x"}, headers=AUTH)
        assert echoed.json() == {"editor": True, "key": None}


async def test_without_a_right_token_401_before_the_body_is_read(
    make_client: ClientFactory, keys: ApiKeys
) -> None:
    _, secret = await keys.create("app")
    async with make_client() as client:
        bad_body = {"content": b"{not json", "headers": {"Content-Type": "application/json"}}
        assert (await client.post("/v1/echo", **bad_body)).status_code == 401
        assert (await client.post("/api/tts", **bad_body)).status_code == 401
        wrong = {"Authorization": "Bearer " + secret[:-2] + "xx", "Content-Type": "application/json"}
        assert (await client.post("/v1/echo", content=b"{not json", headers=wrong)).status_code == 401
        answer = await client.post("/v1/echo", json={"text": "x"}, headers=bearer(secret))
        assert answer.json() == {"editor": False, "key": "app"}
        # A key is good for the API for apps, never for editor endpoints.
        assert (await client.delete("/api/articles/x", headers=bearer(secret))).status_code == 401


async def test_wrong_and_revoked_keys_count_as_wrong_tokens(
    make_client: ClientFactory, keys: ApiKeys
) -> None:
    _, secret = await keys.create("app")
    await keys.revoke("app")
    _, good = await keys.create("good")
    async with make_client() as client:
        statuses = []
        for n in range(FAILURES_PER_MINUTE + 1):
            given = secret if n % 2 else "tts_" + "x" * 43
            answer = await client.post("/v1/echo", json={"text": "x"}, headers=bearer(given))
            statuses.append(answer.status_code)
        assert statuses == [401] * FAILURES_PER_MINUTE + [429]
        # The right key always gets through, so a guesser never locks out the owner.
        assert (await client.post("/v1/echo", json={"text": "x"}, headers=bearer(good))).status_code == 200


async def test_the_key_rate_holds_across_processes_with_redis(
    settings: Settings, espeak: CountingEngine, keys: ApiKeys, redis_url: str
) -> None:
    _, secret = await keys.create("app", rate_per_minute=3)
    shared = settings.model_copy(update={"redis_url": SecretStr(redis_url)})
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            app = create_app(shared, engines={"espeak": espeak})
            app.include_router(v1)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients.append(
                await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://t"))
            )
        statuses = []
        for client in (*clients, *clients):
            answer = await client.post("/v1/echo", json={"text": "x"}, headers=bearer(secret))
            statuses.append(answer.status_code)
        assert statuses == [200, 200, 200, 429]


# CORS for /v1 -----------------------------------------------------------------------------------------


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type",
    }


async def test_v1_preflight_from_an_allowed_origin_allows_the_key_header(
    make_client: ClientFactory, keys: ApiKeys
) -> None:
    _, secret = await keys.create("app")
    async with make_client(cors_origins=ORIGIN) as client:
        answer = await client.options("/v1/echo", headers=preflight(ORIGIN))
        assert answer.status_code == 200, answer.text
        assert answer.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in answer.headers["access-control-allow-methods"]
        allowed = {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")}
        assert {"authorization", "content-type"} <= allowed
        assert "access-control-allow-credentials" not in answer.headers
        called = await client.post(
            "/v1/echo", json={"text": "x"}, headers={"Origin": ORIGIN, **bearer(secret)}
        )
        assert called.status_code == 200 and called.headers["access-control-allow-origin"] == ORIGIN
        assert "retry-after" in called.headers["access-control-expose-headers"].lower()


async def test_v1_preflight_from_another_origin_gets_no_cors_headers(make_client: ClientFactory) -> None:
    async with make_client(cors_origins=ORIGIN) as client:
        answer = await client.options("/v1/echo", headers=preflight("https://evil.example"))
        assert answer.status_code == 403 and "TTS_CORS_ORIGINS" in answer.json()["message"]
        assert not [h for h in answer.headers if h.startswith("access-control-")]
        called = await client.post("/v1/echo", json={"text": "x"}, headers={"Origin": "https://evil.example"})
        assert not [h for h in called.headers if h.startswith("access-control-")]


async def test_api_cors_stays_read_only(make_client: ClientFactory) -> None:
    """/api/* is as it was: GET and HEAD only, no Authorization header, even for an allowed origin."""
    async with make_client(cors_origins=ORIGIN) as client:
        answer = await client.options("/api/tts", headers=preflight(ORIGIN))
        assert answer.status_code == 400
        assert "POST" not in answer.headers.get("access-control-allow-methods", "")
        assert "authorization" not in answer.headers.get("access-control-allow-headers", "").lower()


async def test_without_cors_origins_v1_has_no_cors(make_client: ClientFactory) -> None:
    async with make_client() as client:
        answer = await client.options("/v1/echo", headers=preflight(ORIGIN))
        assert answer.status_code == 405
        assert not [h for h in answer.headers if h.startswith("access-control-")]


# Usage on /admin and /metrics -------------------------------------------------------------------------


async def test_admin_and_metrics_show_every_keys_usage(make_client: ClientFactory, keys: ApiKeys) -> None:
    _, secret = await keys.create("reader-app", rate_per_minute=30, chars_per_day=5000)
    await keys.create("old-app")
    await keys.revoke("old-app")
    async with make_client(metrics_token=SecretStr("m" * 24)) as client:
        for _ in range(2):
            assert (
                await client.post("/api/tts", json={"text": TEXT}, headers=bearer(secret))
            ).status_code == 200
        await sign_in(client)
        page = (await client.get("/admin")).text
        metrics = (await client.get("/metrics", headers=bearer("m" * 24))).text
    assert "应用密钥" in page
    row = page[page.index("reader-app") : page.index("</tr>", page.index("reader-app"))]
    assert secret[:8] in row and "30" in row and "5000" in row
    assert "<td>2</td>" in row and "<td>20（20）</td>" in row and "<td>2</td>" in row
    assert "已吊销" in page[page.index("old-app") :]
    assert secret not in page
    assert 'tts_api_key_requests_total{key="reader-app"} 2.0' in metrics
    assert 'tts_api_key_characters_total{key="reader-app"} 20.0' in metrics
    assert 'tts_api_key_cache_hits_total{key="reader-app"} 2.0' in metrics
    assert 'tts_api_key_requests_total{key="old-app"} 0.0' in metrics


async def test_the_schema_documents_the_key_scheme_beside_the_editors(make_client: ClientFactory) -> None:
    async with make_client() as client:
        schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (`tts-service keys create`), or the editor token.",
    }
    assert schemes["HTTPBearer"]["description"] == "The editor token (TTS_EDITOR_TOKEN)."
    assert schema["paths"]["/v1/echo"]["post"]["security"] == [{"ApiKey": []}]
