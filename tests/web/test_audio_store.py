"""Audio where the settings put it: served from the object store, redirected to it, or linked under
TTS_AUDIO_BASE_URL (a CDN) from every manifest, page, feed and the toolbar's answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from helpers import AUTH, CountingEngine, create, wait_ready
from seaweed import SeaweedFS

from tts_service import objects
from tts_service.config import Settings
from tts_service.web import create_app

CDN = "https://cdn.example/audio"
SITE = "https://news.example"
ARTICLE = {"title": "存储", "text": "第一句。第二句。\n\n第二段。", "slug": "stored", "date": "2026-12-01"}


@pytest.fixture(params=["local", "cloud"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


async def opened(settings: Settings, espeak: CountingEngine) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings, engines={"espeak": espeak})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
async def cdn_client(settings: Settings, espeak: CountingEngine) -> AsyncIterator[httpx.AsyncClient]:
    update = {"audio_base_url": CDN, "embed_origins": SITE}  # model_copy skips validation: as validated
    async for http in opened(settings.model_copy(update=update), espeak):
        yield http


async def test_with_a_base_url_every_audio_link_points_there(
    cdn_client: httpx.AsyncClient, settings: Settings, backend: str
) -> None:
    await create(cdn_client, ARTICLE)
    manifest = await wait_ready(cdn_client, "stored")
    assert manifest["status"] == "ready"
    prefix = f"{settings.s3_location[1]}/" if settings.s3_location else ""
    whole = manifest["url"]
    assert whole.startswith(f"{CDN}/{prefix}") and whole.endswith(".mp3")
    key = whole.rsplit("/", 1)[1].removesuffix(".mp3")
    assert whole == f"{CDN}/{prefix}{key[:2]}/{key}.mp3"
    assert all(c["url"].startswith(f"{CDN}/{prefix}") for c in manifest["chunks"])
    assert manifest["captions_url"] == "http://testserver/api/articles/stored/captions.vtt"  # here
    assert (await cdn_client.get(manifest["captions_url"])).status_code == 200

    stable = await cdn_client.get("/articles/stored/audio.mp3")
    assert stable.status_code == 302 and stable.headers["location"] == whole
    page = await cdn_client.get("/articles/stored")
    assert "media-src 'self' https://cdn.example;" in page.headers["content-security-policy"]
    again = await cdn_client.get("/articles/stored")  # from the page cache, before routing: the same policy
    assert again.headers["content-security-policy"] == page.headers["content-security-policy"]
    feed = (await cdn_client.get("/feed.xml")).text
    assert f'url="{whole}"' in feed
    embedded = await cdn_client.get("/api/embed", params={"url": SITE + "/x.html"}, headers={"Origin": SITE})
    assert embedded.status_code == 404  # no such page; one made through the toolbar:
    body = {"url": SITE + "/x.html", "title": "页", "paragraphs": ["第一句。"]}
    slug = (await cdn_client.post("/api/embed", json=body, headers={"Origin": SITE})).json()["slug"]
    await wait_ready(cdn_client, slug)
    toolbar = (
        await cdn_client.get("/api/embed", params={"url": body["url"]}, headers={"Origin": SITE})
    ).json()
    assert toolbar["url"].startswith(f"{CDN}/{prefix}") and toolbar["chunks"][0]["url"].startswith(CDN)


async def test_without_a_base_url_audio_is_served_here(client: httpx.AsyncClient) -> None:
    await create(client, ARTICLE)
    manifest = await wait_ready(client, "stored")
    assert manifest["url"].startswith("http://testserver/audio/")
    page = await client.get("/articles/stored")
    assert "media-src 'self';" in page.headers["content-security-policy"]


# --- the object store only -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["s3"])
async def test_presigned_redirects_to_a_url_that_gives_the_audio(
    settings: Settings, espeak: CountingEngine
) -> None:
    async for http in opened(settings.model_copy(update={"audio_redirect": "presigned"}), espeak):
        await create(http, ARTICLE)
        manifest = await wait_ready(http, "stored")
        answer = await http.get(manifest["url"])
        assert answer.status_code == 302 and "X-Amz-Signature=" in answer.headers["location"]
        assert answer.headers["cache-control"] == "private, max-age=60"
        async with httpx.AsyncClient() as outside:
            audio = await outside.get(answer.headers["location"])
        assert audio.status_code == 200 and audio.content[:3] == b"ID3"
        assert audio.headers["content-type"] == "audio/mpeg"
        assert (await http.get("/audio/" + "0" * 64 + ".mp3")).status_code == 404  # no redirect to nothing
        # The page lets its <audio> follow the redirect: browsers check media-src again after one.
        policy = (await http.get("/articles/stored")).headers["content-security-policy"]
        assert f"media-src 'self' {settings.s3_endpoint_url};" in policy


@pytest.mark.parametrize("backend", ["s3"])
async def test_a_write_that_fails_leaves_no_record(
    settings: Settings, espeak: CountingEngine, seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(objects, "RETRIES", 2)  # fail within a second or two, not after the full backoff
    settings.outage_wait = 0.5  # and the job waits out the outage only briefly
    async for http in opened(settings, espeak):
        seaweedfs.stop()
        try:
            await create(http, ARTICLE)
            manifest = await wait_ready(http, "stored")
        finally:
            seaweedfs.start()
        assert manifest["status"] == "failed"
        assert "the audio store s3://" in manifest["error"] and "failed to store" in manifest["error"]
        assert all(c["url"] is None for c in manifest["chunks"])  # nothing recorded without its object
        retried = await http.post("/api/articles/stored/audio", headers=AUTH)
        assert retried.status_code in (200, 202)
        assert (await wait_ready(http, "stored"))["status"] == "ready"


@pytest.mark.parametrize("backend", ["s3"])
async def test_healthz_reports_the_object_store(
    client: httpx.AsyncClient, seaweedfs: SeaweedFS, caplog: pytest.LogCaptureFixture
) -> None:
    assert (await client.get("/healthz")).json()["audio_store"] == {"available": True}
    seaweedfs.stop()
    try:
        answer = await client.get("/healthz")
    finally:
        seaweedfs.start()
    # Degraded, not down: stored audio still plays; the reason is logged, not told to anyone who asks.
    assert answer.status_code == 200 and answer.json()["status"] == "degraded"
    assert answer.json()["audio_store"] == {"available": False}
    assert "the audio store s3://" in caplog.text
