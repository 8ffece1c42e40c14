"""End to end: real uvicorn server, the corpus page added through the API, its audio fetched over HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from helpers import AUTH, CORPUS, LiveServer, decode, loudness_of

from tts_service.audio.loudness import CEILING_DBTP, TARGET_LUFS

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path: Path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def test_corpus_article_round_trip(server: LiveServer) -> None:
    text = CORPUS.read_text(encoding="utf-8")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        created = http.post("/api/articles", json={"title": "国际合作工作", "text": text}, headers=AUTH)
        assert created.status_code == 201, created.text
        slug = created.json()["slug"]

        deadline = time.monotonic() + 240
        while (manifest := http.get(f"/api/articles/{slug}/audio").json())["status"] == "pending":
            assert time.monotonic() < deadline, f"still pending at {manifest['progress']:.0%}"
            time.sleep(0.5)
        assert manifest["status"] == "ready", manifest.get("error")
        assert manifest["engine"] == "local"  # the shipped default: the offline neural voice
        assert len(manifest["chunks"]) > 30
        assert all(c["url"].startswith(server.url + "/audio/") for c in manifest["chunks"])

        # A chunk from the speech itself: its audio must decode to speech of a plausible length.
        chunk = next(c for c in manifest["chunks"] if c["text"].startswith("下面,我将重点介绍"))
        audio = http.get(chunk["url"])
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
        seconds, rms = decode(audio.content)
        assert abs(seconds - chunk["duration"]) < 0.05
        assert 0.12 < seconds / len(chunk["text"]) < 0.6 and rms > 0.02

        # Levels as listeners get them, decoded: every chunk and the whole file at -16 LUFS, under -1 dBTP.
        lufs, peak = loudness_of(http.get(manifest["url"]).content)
        assert peak <= CEILING_DBTP, f"the whole file peaks at {peak:+.2f} dBTP decoded"
        assert lufs == pytest.approx(TARGET_LUFS, abs=0.5)
        chunks = [loudness_of(http.get(c["url"]).content) for c in manifest["chunks"]]
        over = [(i, round(peak, 2)) for i, (_, peak) in enumerate(chunks) if peak > CEILING_DBTP]
        assert not over, f"{len(over)} of {len(chunks)} chunks over {CEILING_DBTP} dBTP decoded: {over}"
        assert all(abs(lufs - TARGET_LUFS) <= 1.0 for lufs, _ in chunks)

        page = http.get(f"/articles/{slug}")
        assert page.status_code == 200 and "下面,我将重点介绍" in page.text
