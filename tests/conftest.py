"""Shared pytest fixtures."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import edge_tts.communicate
import edge_tts.voices
import httpx
import pytest
from edge_double import EdgeDouble
from edge_tts.drm import DRM
from fastapi import FastAPI
from helpers import CHROMIUM, CHROMIUM_ARGS, TOKEN, CountingEngine, open_pipeline
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from postgres import PostgresServer
from redis_server import RedisServer
from seaweed import REGION, SeaweedFS, credentials

from tts_service.config import Settings
from tts_service.engines.espeak import EspeakEngine
from tts_service.pipeline import Pipeline
from tts_service.web import create_app


@pytest.fixture
async def edge_double(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[EdgeDouble]:
    """A running local double of Microsoft's Read Aloud service that the real edge-tts client reaches."""
    # edge-tts's ClientSession has trust_env=True, so a proxy variable would divert it from the double.
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    double = EdgeDouble()
    # edge-tts passes its module-level certifi context to ws_connect, overriding the connector's;
    # swapping it (undone at teardown) for one trusting the test CA leaves no global residue.
    monkeypatch.setattr(edge_tts.communicate, "_SSL_CTX", double.client_ssl_context())
    monkeypatch.setattr(edge_tts.voices, "_SSL_CTX", double.client_ssl_context())  # list_voices has its own
    # A 403 makes edge-tts adjust its process-wide clock skew; put it back after each test.
    monkeypatch.setattr(DRM, "clock_skew_seconds", DRM.clock_skew_seconds)
    await double.start()
    try:
        yield double
    finally:
        await double.stop()


@pytest.fixture
def backend() -> str:
    """Where the state of ``settings`` lives: "local" (SQLite and files under TTS_HOME, the default).
    Modules whose tests must hold on every deployment override this fixture with ``every_backend``."""
    return "local"


@pytest.fixture(params=["local", "cloud"])
def every_backend(request: pytest.FixtureRequest) -> str:
    """Both deployments: "local" (SQLite + files) and "cloud" (PostgreSQL + S3, real servers)."""
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    """Settings with all state under a temporary TTS_HOME and a known editor token; no fallback engine.
    With a ``backend`` other than "local", the database and the audio live on the suite's servers."""
    where: dict[str, object] = {}
    if backend in ("s3", "cloud"):
        where |= request.getfixturevalue("s3_state")
    if backend in ("postgres", "cloud"):
        where |= request.getfixturevalue("postgres_state")
    return Settings(
        home=tmp_path, engine="espeak", editor_token=TOKEN, workers=2, fallback_engine=None, **where
    )


@pytest.fixture
def espeak() -> CountingEngine:
    return CountingEngine(EspeakEngine())


@pytest.fixture
async def pipeline(settings: Settings, espeak: CountingEngine) -> AsyncIterator[Pipeline]:
    """A pipeline (store, cache, engines) without the web app; the espeak engine counts its calls."""
    async with open_pipeline(settings, espeak=espeak) as p:
        yield p


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, one per test module."""
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A browser context that fails the test if a page breaks the Content-Security-Policy (no inline code).
    Modules with needs of their own (viewport, init scripts) define their own ``context``."""
    ctx = browser.new_context(locale="zh-CN")
    refused: list[str] = []
    ctx.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    yield ctx
    ctx.close()
    assert refused == []


@pytest.fixture
async def app(settings: Settings, espeak: CountingEngine) -> AsyncIterator[FastAPI]:
    """The real app, lifespan running, with the espeak engine wrapped so tests can count calls."""
    application = create_app(settings, engines={"espeak": espeak})
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process HTTP client for the app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


# PostgreSQL: one server per test run, a new database per test ----------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server (Debian's package) on a free loopback port, for the whole run."""
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture
def postgres_state(postgres_server: PostgresServer) -> Iterator[dict[str, object]]:
    """Settings values that put the store in a new, empty PostgreSQL database (dropped afterwards)."""
    name = postgres_server.create_database()
    yield {"database_url": postgres_server.url(name)}
    postgres_server.drop_database(name)


# --- S3: one SeaweedFS per test run (tests/seaweed.py); each test its own prefix in one bucket -----------
# One bucket for the run: SeaweedFS gives each bucket volumes of its own, so a bucket per test would run it
# out of volumes; a prefix per test keeps tests apart as well.
S3_BUCKET = "tts-test"


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """A running SeaweedFS with its S3 gateway, and credentials in the environment for boto3's chain."""
    saved = {name: os.environ.get(name) for name in credentials()}
    os.environ.update(credentials())
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"), S3_BUCKET)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def s3_state(seaweedfs: SeaweedFS, request: pytest.FixtureRequest) -> dict[str, object]:
    """Settings fields that put the audio in the suite's SeaweedFS, under a prefix of this test's own.
    A fault test that stopped the server gets it started again."""
    if seaweedfs.process is None:
        seaweedfs.start()
    prefix = f"t/{uuid.uuid4().hex[:12]}"
    return {
        "audio_store": f"s3://{S3_BUCKET}/{prefix}",
        "s3_endpoint_url": seaweedfs.endpoint,
        "s3_region": REGION,
        "s3_path_style": True,
    }


# --- Redis: one server per test run (Debian's redis-server), emptied for each test that uses it ---------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The suite's Redis, empty."""
    redis_server.flush()
    return redis_server.url
