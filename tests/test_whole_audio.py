"""The whole-article MP3 through the API: timeline, captions, stable URL, feed and HTTP behaviour."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import httpx
import miniaudio
import numpy as np
import pytest
from helpers import AUTH, create, wait_ready
from mutagen.id3 import ID3


@pytest.fixture
def backend(every_backend: str) -> str:
    """Every test here holds on SQLite + files and on PostgreSQL + S3."""
    return every_backend


TEXT = "第一段第一句。第一段第二句，稍微长一点。\n\n第二段只有一句。\n\n第三段：最后一句！"
ARTICLE = {"title": "全文音频", "text": TEXT, "slug": "whole", "byline": "记者", "date": "2026-11-20"}


async def ready(client: httpx.AsyncClient) -> dict:
    await create(client, ARTICLE)
    manifest = await wait_ready(client, "whole")
    assert manifest["status"] == "ready"
    return manifest


def decoded(mp3: bytes) -> np.ndarray:
    sound = miniaudio.decode(
        mp3, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=24000
    )
    return np.frombuffer(sound.samples, dtype=np.int16).astype(np.float32) / 32768


def untagged(mp3: bytes) -> bytes:
    """The MPEG frames after an ID3v2 tag (its size: four synchsafe bytes at offset 6)."""
    assert mp3[:3] == b"ID3"
    size = (mp3[6] << 21) | (mp3[7] << 14) | (mp3[8] << 7) | mp3[9]
    return mp3[10 + size :]


async def test_manifest_has_the_whole_file_and_a_timeline(client: httpx.AsyncClient) -> None:
    manifest = await ready(client)
    assert manifest["url"].startswith("http://testserver/audio/")
    chunks = manifest["chunks"]
    assert [(c["paragraph"], c["sentence"]) for c in chunks] == [(0, 0), (0, 1), (1, 0), (2, 0)]
    assert 0 < chunks[0]["start"] < 0.06  # the encoder's delay comes before the first sound
    for a, b in zip(chunks, chunks[1:], strict=False):
        gap = b["start"] - a["end"]
        assert 0.2 <= gap <= 0.3 if a["paragraph"] == b["paragraph"] else 0.55 <= gap <= 0.65
    for c in chunks:  # a span is the sound itself: the chunk file minus the encoder's delay and padding
        assert c["duration"] - 0.1 < c["end"] - c["start"] < c["duration"]

    audio = (await client.get(manifest["url"])).content
    samples = decoded(audio)
    assert abs(len(samples) / 24000 - manifest["duration"]) < 0.05
    # Silence where the timeline says the pauses are, speech where it says the sentences are.
    for a, b in zip(chunks, chunks[1:], strict=False):
        pause = samples[int((a["end"] + 0.05) * 24000) : int((b["start"] - 0.05) * 24000)]
        assert np.abs(pause).max() < 0.01
    for c in chunks:
        speech = samples[int(c["start"] * 24000) : int(c["end"] * 24000)]
        assert np.sqrt(np.mean(speech**2)) > 0.02


async def test_whole_file_is_tagged(client: httpx.AsyncClient) -> None:
    manifest = await ready(client)
    audio = (await client.get(manifest["url"])).content
    tags = ID3(io.BytesIO(audio))
    assert (
        str(tags["TIT2"]) == "全文音频" and str(tags["TPE1"]) == "记者" and str(tags["TDRC"]) == "2026-11-20"
    )


async def test_captions(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/articles/whole/captions.vtt")).status_code == 404
    manifest = await ready(client)
    response = await client.get(manifest["captions_url"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/vtt")
    lines = response.text.splitlines()
    assert lines[0] == "WEBVTT"
    cues = [lines[i + 1] for i, line in enumerate(lines[:-1]) if "-->" in line]
    assert cues == ["第一段第一句。", "第一段第二句，稍微长一点。", "第二段只有一句。", "第三段：最后一句！"]


async def test_stable_url_redirects_to_the_current_revision(client: httpx.AsyncClient) -> None:
    await create(client, ARTICLE)
    early = await client.get("/articles/whole/audio.mp3")
    assert early.status_code in (200, 302)  # streamed while being made, or already made
    manifest = await wait_ready(client, "whole")
    response = await client.get("/articles/whole/audio.mp3")
    assert response.status_code == 302 and response.headers["location"] == manifest["url"]
    assert response.headers["cache-control"] == "no-cache"
    await client.put(
        "/api/articles/whole",
        json={**ARTICLE, "text": TEXT.replace("最后一句", "真正的最后一句")},
        headers=AUTH,
    )
    edited = await wait_ready(client, "whole")
    assert edited["url"] != manifest["url"]
    assert (await client.get("/articles/whole/audio.mp3")).headers["location"] == edited["url"]


async def test_edit_resynthesises_one_chunk_then_reassembles(client: httpx.AsyncClient, espeak) -> None:
    await ready(client)
    espeak.calls.clear()
    changed = TEXT.replace("第二段只有一句。", "第二段改了一句。")
    await client.put("/api/articles/whole", json={**ARTICLE, "text": changed}, headers=AUTH)
    manifest = await wait_ready(client, "whole")
    assert espeak.calls == ["第二段改了一句。"]
    audio = (await client.get(manifest["url"])).content
    assert abs(len(decoded(audio)) / 24000 - manifest["duration"]) < 0.05


async def test_http_behaviour_of_audio_urls(client: httpx.AsyncClient) -> None:
    url = (await ready(client))["url"]
    full = await client.get(url)
    size = len(full.content)
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    tail = await client.get(url, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == full.content[-100:]
    assert tail.headers["content-range"] == f"bytes {size - 100}-{size - 1}/{size}"
    assert (await client.get(url, headers={"Range": f"bytes={size + 10}-"})).status_code == 416
    head = await client.head(url)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == size
    assert (await client.get(url, headers={"If-None-Match": full.headers["etag"]})).status_code == 304
    middle = await client.get(url, headers={"Range": "bytes=100-299"})
    assert middle.status_code == 206 and middle.content == full.content[100:300]
    assert middle.headers["content-range"] == f"bytes 100-299/{size}"
    assert middle.headers["etag"] == full.headers["etag"]
    assert (await client.get(url, headers={"Range": "pages=1"})).status_code == 400


async def test_feed(client: httpx.AsyncClient) -> None:
    empty = ET.fromstring((await client.get("/feed.xml")).content)
    assert empty.find("channel/item") is None
    manifest = await ready(client)
    response = await client.get("/feed.xml")
    assert response.headers["content-type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    assert channel.findtext("language") == "zh-cn"
    item = channel.find("item")
    assert item.findtext("title") == "全文音频"
    enclosure = item.find("enclosure")
    assert enclosure.get("url") == manifest["url"] and enclosure.get("type") == "audio/mpeg"
    assert int(enclosure.get("length")) == len((await client.get(manifest["url"])).content)
    duration = item.findtext("{http://www.itunes.com/dtds/podcast-1.0.dtd}duration")
    h, m, s = map(int, duration.split(":"))
    assert abs(h * 3600 + m * 60 + s - manifest["duration"]) <= 0.5


async def test_stable_url_streams_while_the_audio_is_made(client: httpx.AsyncClient, espeak) -> None:
    await create(client, ARTICLE)
    async with client.stream("GET", "/articles/whole/audio.mp3") as response:
        assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"
        assert response.headers["cache-control"] == "no-store"
        streamed = b"".join([part async for part in response.aiter_bytes()])
    manifest = await wait_ready(client, "whole")
    whole = (await client.get(manifest["url"])).content
    # The same frames and pauses as the cached file, each behind its tag (the stream's has no length).
    assert untagged(whole) == untagged(streamed)
    assert abs(len(decoded(streamed)) / 24000 - manifest["duration"]) < 0.001
    assert sorted(espeak.calls) == sorted(c["text"] for c in manifest["chunks"])  # each sentence made once


async def test_stable_url_of_failed_audio_is_503(client: httpx.AsyncClient, espeak, monkeypatch) -> None:
    from tts_service.errors import SynthesisError

    async def broken(text, voice, prosody):
        raise SynthesisError("boom")

    monkeypatch.setattr(espeak.inner, "synthesize", broken)
    await create(client, ARTICLE)
    await wait_ready(client, "whole")
    response = await client.get("/articles/whole/audio.mp3")
    assert response.status_code == 503 and response.headers["retry-after"] == "60"


async def test_stream_carries_the_whole_files_tags(client: httpx.AsyncClient, espeak) -> None:
    """As found: the stable URL streamed bare frames while pending, so players showed no title."""
    await create(client, ARTICLE)
    async with client.stream("GET", "/articles/whole/audio.mp3") as response:
        assert response.status_code == 200
        streamed = b"".join([part async for part in response.aiter_bytes()])
    manifest = await wait_ready(client, "whole")
    whole = ID3(io.BytesIO((await client.get(manifest["url"])).content))
    tags = ID3(io.BytesIO(streamed))
    for frame in ("TIT2", "TPE1", "TDRC"):
        assert str(tags[frame]) == str(whole[frame]), frame
    assert str(tags["TIT2"]) == "全文音频"


async def test_feed_is_ordered_by_publication_date_then_update(client: httpx.AsyncClient) -> None:
    """As found: the feed followed the last edit, so fixing a typo in an old article put it on top."""
    for slug, date in (("old-news", "2026-01-05"), ("older", "2025-06-01"), ("same-day", "2026-01-05")):
        body = {"title": slug, "text": f"{slug}的正文。", "slug": slug, "date": date}
        assert (await create(client, body)).status_code == 201
    await client.put(
        "/api/articles/older",
        json={"title": "older", "text": "改过的正文。", "date": "2025-06-01"},
        headers=AUTH,
    )
    for slug in ("old-news", "older", "same-day"):
        await wait_ready(client, slug)
    channel = ET.fromstring((await client.get("/feed.xml")).content).find("channel")
    assert [item.findtext("title") for item in channel.findall("item")] == ["same-day", "old-news", "older"]
