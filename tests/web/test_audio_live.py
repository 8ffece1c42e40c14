"""/audio/{key}.mp3 over real HTTP (uvicorn): ranges, validators, HEAD, and `cache gc` run elsewhere."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import ARTICLE, AUTH, LiveServer

from tts_service.web.middleware import CSP, SECURITY_HEADERS

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path, TTS_ENGINE="espeak").start()
    yield live
    live.stop()


def ready(http: httpx.Client) -> dict:
    assert http.post("/api/articles", json=ARTICLE, headers=AUTH).status_code == 201
    deadline = time.monotonic() + 60
    while (manifest := http.get(f"/api/articles/{ARTICLE['slug']}/audio").json())["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert manifest["status"] == "ready", manifest
    return manifest


def test_ranges_validators_and_head_over_http(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        url = ready(http)["chunks"][0]["url"]
        full = http.get(url)
        again = http.get(url)  # from memory
        size = len(full.content)
        assert again.content == full.content and size > 1000
        for response in (full, again):
            assert response.status_code == 200
            assert response.headers["content-type"] == "audio/mpeg"
            assert response.headers["content-length"] == str(size)
            assert response.headers["accept-ranges"] == "bytes"
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert response.headers["etag"] == f'"{url.rsplit("/", 1)[1].removesuffix(".mp3")}"'
            assert response.headers["content-security-policy"] == CSP
            assert all(response.headers[name] == value for name, value in SECURITY_HEADERS.items())
            assert response.headers["x-request-id"]
        assert again.headers["last-modified"] == full.headers["last-modified"]

        part = http.get(url, headers={"Range": "bytes=100-199"})
        assert (part.status_code, part.content) == (206, full.content[100:200])
        assert part.headers["content-range"] == f"bytes 100-199/{size}"
        tail = http.get(url, headers={"Range": "bytes=-100"})
        assert (tail.status_code, tail.content) == (206, full.content[-100:])
        beyond = http.get(url, headers={"Range": f"bytes={size}-"})
        assert (beyond.status_code, beyond.headers["content-range"]) == (416, f"bytes */{size}")
        stale = http.get(url, headers={"Range": "bytes=0-9", "If-Range": '"not-this-one"'})
        assert (stale.status_code, stale.content) == (200, full.content)

        head = http.head(url)
        assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", str(size))
        unchanged = http.get(url, headers={"If-None-Match": full.headers["etag"]})
        assert (unchanged.status_code, unchanged.content) == (304, b"")
        assert unchanged.headers["etag"] == full.headers["etag"]


def test_audio_removed_by_cache_gc_is_gone_at_once(server: LiveServer) -> None:
    """Files served from memory must not outlive their removal by `tts-service cache gc`."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        chunks = [chunk["url"] for chunk in ready(http)["chunks"]]
        for url in chunks * 2:
            assert http.get(url).status_code == 200
        assert http.delete(f"/api/articles/{ARTICLE['slug']}", headers=AUTH).status_code == 204
        assert "removed 4 files" in server.cli("cache", "gc", "--min-age", "0")  # 3 chunks, the whole file
        for url in chunks:
            assert http.get(url).status_code == 404
            assert http.head(url).status_code == 404
