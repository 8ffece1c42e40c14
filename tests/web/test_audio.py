"""/audio/{key}.mp3 in process: hot files from memory, with the HTTP behaviour of Starlette's FileResponse.

The reference for "as before" is the handler as it was (one ``stat``, then Starlette's ``FileResponse``), run
here on the same file; every response of the app must match it header for header, byte for byte.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from helpers import AUTH, opened
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from tts_service.cache import AudioCache
from tts_service.config import Settings
from tts_service.web.middleware import CSP, SECURITY_HEADERS

KEY = "ab" * 32  # a file the app holds in memory once served
LARGE = "ef" * 32  # a file too large to hold (over 1/8 of the memory): streamed from disk, as before
OTHER = "cd" * 32
# Not MP3, but the serving code never looks inside: distinct bytes make every range checkable.
AUDIO = bytes(range(256)) * 40 + b"tail"
LARGE_AUDIO = bytes(range(255, -1, -1)) * 800
SIZE = len(AUDIO)
_IMMUTABLE = "public, max-age=31536000, immutable"


def reference_app(cache: AudioCache) -> Starlette:
    """The handler as it was before audio was kept in memory: a stat, then FileResponse, per request."""

    async def audio_file(request: Request) -> Response:
        key = request.path_params["key"]
        etag = f'"{key}"'
        if_none_match = request.headers.get("if-none-match")
        if if_none_match and etag in {t.strip() for t in if_none_match.split(",")}:
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": _IMMUTABLE})
        path = cache.path(key)
        stat = os.stat(path)
        headers = {"ETag": etag, "Cache-Control": _IMMUTABLE}
        return FileResponse(path, stat_result=stat, media_type="audio/mpeg", headers=headers)

    return Starlette(routes=[Route("/audio/{key}.mp3", audio_file, methods=["GET", "HEAD"])])


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """1 MB of audio memory: files up to 128 kB are held."""
    return settings.model_copy(update={"audio_memory_mb": 1})


@pytest.fixture
async def stored(app: FastAPI) -> AudioCache:
    cache: AudioCache = app.state.cache
    cache.write(KEY, AUDIO)
    cache.write(LARGE, LARGE_AUDIO)
    return cache


@pytest.fixture
async def reference(stored: AudioCache) -> Iterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=reference_app(stored))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _boundary(response: httpx.Response) -> str | None:
    found = re.search(r"boundary=(\w+)", response.headers.get("content-type", ""))
    return found.group(1) if found else None


def comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers (sorted; no request id; a multipart boundary made constant) and body."""
    boundary = _boundary(response)
    body = response.content
    headers = [(k.lower(), v) for k, v in response.headers.multi_items() if k.lower() != "x-request-id"]
    if boundary:
        body = body.replace(boundary.encode(), b"BOUNDARY")
        headers = [(k, v.replace(boundary, "BOUNDARY")) for k, v in headers]
    return response.status_code, sorted(headers), body


def with_security_headers(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """The reference's answer as the app sends it: the middleware adds the security headers."""
    status, headers, body = comparable(response)
    added = [(k.lower(), v) for k, v in {"Content-Security-Policy": CSP, **SECURITY_HEADERS}.items()]
    return status, sorted(headers + added), body


def cases(key: str, size: int) -> dict[str, dict[str, str]]:
    """Requests by name: every edge of Range and the validators, for the file under ``key``."""
    return {
        "plain": {},
        "empty Range": {"Range": ""},
        "first 100 bytes": {"Range": "bytes=0-99"},
        "one byte": {"Range": "bytes=0-0"},
        "last byte": {"Range": f"bytes={size - 1}-"},
        "open end": {"Range": "bytes=100-"},
        "end past the size": {"Range": f"bytes=100-{size + 500}"},
        "suffix": {"Range": "bytes=-100"},
        "suffix longer than the file": {"Range": f"bytes=-{size + 10}"},
        "start at the size": {"Range": f"bytes={size}-"},
        "start past the size": {"Range": f"bytes={size + 10}-"},
        "start after end": {"Range": "bytes=50-10"},
        "zero suffix": {"Range": "bytes=-0"},
        "not bytes": {"Range": "items=0-1"},
        "no equals sign": {"Range": "bytes"},
        "no range at all": {"Range": "bytes="},
        "not a number": {"Range": "bytes=a-b"},
        "spaces": {"Range": " bytes = 0 - 9 "},
        "two ranges": {"Range": "bytes=0-9,200-299"},
        "overlapping ranges": {"Range": "bytes=0-99,50-149"},
        "adjacent ranges merge": {"Range": "bytes=0-9,10-19"},
        "one of two past the size": {"Range": f"bytes=0-9,{size + 1}-"},
        "too many ranges": {"Range": "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 202, 2))},
        "If-Range, the ETag": {"Range": "bytes=0-99", "If-Range": f'"{key}"'},
        "If-Range, another ETag": {"Range": "bytes=0-99", "If-Range": f'"{OTHER}"'},
        "If-Range, a weak ETag": {"Range": "bytes=0-99", "If-Range": f'W/"{key}"'},
        "If-Range, a date": {"Range": "bytes=0-99", "If-Range": "Wed, 21 Oct 2015 07:28:00 GMT"},
        "If-None-Match": {"If-None-Match": f'"{key}"'},
        "If-None-Match in a list": {"If-None-Match": f'"{OTHER}", "{key}"'},
        "If-None-Match, another": {"If-None-Match": f'"{OTHER}"'},
        "If-None-Match and a range": {"If-None-Match": f'"{key}"', "Range": "bytes=0-99"},
    }


CASES = list(cases(KEY, SIZE))


@pytest.mark.parametrize("key", [KEY, LARGE], ids=["held", "streamed"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("case", CASES)
async def test_answers_as_file_responses_did(
    client: httpx.AsyncClient, reference: httpx.AsyncClient, key: str, method: str, case: str
) -> None:
    url = f"/audio/{key}.mp3"
    headers = cases(key, len(AUDIO if key == KEY else LARGE_AUDIO))[case]
    expected = with_security_headers(await reference.request(method, url, headers=headers))
    for attempt in ("first (read from disk)", "again (from memory when held)"):
        got = comparable(await client.request(method, url, headers=headers))
        assert got == expected, attempt


@pytest.mark.parametrize("key", [KEY, LARGE], ids=["held", "streamed"])
async def test_if_range_with_the_files_date_gives_the_range(
    client: httpx.AsyncClient, reference: httpx.AsyncClient, key: str
) -> None:
    url = f"/audio/{key}.mp3"
    modified = (await reference.get(url)).headers["last-modified"]
    headers = {"Range": "bytes=0-99", "If-Range": modified}
    expected = with_security_headers(await reference.get(url, headers=headers))
    assert expected[0] == 206
    for _ in range(2):
        assert comparable(await client.get(url, headers=headers)) == expected


async def test_hot_audio_is_served_without_opening_its_file(
    client: httpx.AsyncClient, stored: AudioCache
) -> None:
    url = f"/audio/{KEY}.mp3"
    assert (await client.get(url)).content == AUDIO
    with opened() as files:
        for headers in ({}, {"Range": "bytes=0-99"}, {"Range": "bytes=-10"}):
            assert (await client.get(url, headers=headers)).status_code in (200, 206)
        assert (await client.head(url)).status_code == 200
    times = files.count(str(stored.path(KEY)))
    assert times == 0, f"opened {times} times for 4 requests"


async def test_a_file_too_large_to_hold_is_read_from_disk_each_time(
    app: FastAPI, client: httpx.AsyncClient, stored: AudioCache
) -> None:
    url = f"/audio/{LARGE}.mp3"
    with opened() as files:
        for _ in range(2):
            assert (await client.get(url)).content == LARGE_AUDIO
    assert files.count(str(stored.path(LARGE))) == 2
    assert len(app.state.audio_memory) == 0


async def test_readers_arriving_at_once_share_one_read(client: httpx.AsyncClient, stored: AudioCache) -> None:
    url = f"/audio/{KEY}.mp3"
    with opened() as files:
        answers = await asyncio.gather(*(client.get(url) for _ in range(10)))
    assert all(answer.content == AUDIO for answer in answers)
    assert files.count(str(stored.path(KEY))) == 1


async def test_a_removed_file_is_not_served_from_memory(
    app: FastAPI, client: httpx.AsyncClient, stored: AudioCache
) -> None:
    url = f"/audio/{KEY}.mp3"
    assert (await client.get(url)).content == AUDIO
    assert (await client.get(url)).content == AUDIO  # from memory now
    assert len(app.state.audio_memory) == 1
    stored.path(KEY).unlink()  # as `cache gc` removes it, from another process
    for method in ("GET", "HEAD"):
        response = await client.request(method, url, headers={"Accept": "application/json"})
        assert response.status_code == 404
    assert (await client.get(url, headers={"Accept": "application/json"})).json()["code"] == "not_found"
    assert len(app.state.audio_memory) == 0  # and the memory it took is free
    stored.write(KEY, AUDIO)  # made again
    assert (await client.get(url)).content == AUDIO


async def test_a_replaced_file_is_served_as_it_now_is(client: httpx.AsyncClient, stored: AudioCache) -> None:
    """A file quarantined by `cache verify` and made again has new bytes under the same key."""
    url = f"/audio/{KEY}.mp3"
    assert (await client.get(url)).content == AUDIO
    stored.write(KEY, AUDIO[::-1])
    again = await client.get(url)
    assert again.content == AUDIO[::-1]
    assert again.headers["last-modified"] == os_date(stored.path(KEY))


def os_date(path: Path) -> str:
    return formatdate(path.stat().st_mtime, usegmt=True)


async def test_audio_requests_keep_their_route_in_metrics(
    client: httpx.AsyncClient, stored: AudioCache
) -> None:
    await client.get(f"/audio/{KEY}.mp3")
    await client.get(f"/audio/{KEY}.mp3")
    scraped = (await client.get("/metrics", headers=AUTH)).text
    line = 'tts_http_requests_total{method="GET",route="/audio/{key}.mp3",status="200"} 2.0'
    assert line in scraped.splitlines()


async def test_what_is_not_a_hot_file_reaches_the_routes(
    client: httpx.AsyncClient, stored: AudioCache
) -> None:
    """Other methods, other spellings of a key and missing files get the routes' own answers."""
    json = {"Accept": "application/json"}
    refused = await client.post(f"/audio/{KEY}.mp3", headers=json)
    assert (refused.status_code, refused.json()["code"]) == (405, "method_not_allowed")
    for path in (f"/audio/{KEY.upper()}.mp3", f"/audio/{OTHER}.mp3", f"/audio/{KEY}.mp3.mp3"):
        missing = await client.get(path, headers=json)
        assert missing.status_code == 404, path
        assert missing.headers["content-security-policy"] == CSP
