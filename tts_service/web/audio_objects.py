"""Audio from an object store, answered by this service when TTS_AUDIO_BASE_URL is unset.

Two ways, by TTS_AUDIO_REDIRECT. "stream": the bytes go through this service, with ranges (players seek
with them) answered as for a file: 206 with Content-Range, 416 past the end, the same ETag (the key) and
Last-Modified (the object's). A single range is fetched from the store as a range, so seeking in a long
article does not fetch all of it. "presigned": a 302 to a signed URL valid for TTS_PRESIGNED_SECONDS, so
the bytes go from the store to the reader; the redirect itself is not cached past a minute, well within
the URL's life.
"""

from __future__ import annotations

import asyncio
from email.utils import formatdate

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from tts_service.cache import IMMUTABLE, AudioStore, ObjectInfo
from tts_service.config import Settings
from tts_service.web import byte_ranges
from tts_service.web.audio_memory import HeldFile
from tts_service.web.audio_response import MEDIA_TYPE, HeldAudio

REDIRECT_MAX_AGE = 60  # seconds a client may reuse the redirect; presigned URLs live far longer


async def answer(store: AudioStore, settings: Settings, key: str, request: Headers, method: str) -> Response:
    """The response to a GET or HEAD of the object under ``key``; NotFound when there is none."""
    etag = f'"{key}"'
    info = await asyncio.to_thread(store.info, key)  # NotFound: the route answers 404
    if settings.audio_redirect == "presigned":
        url = await asyncio.to_thread(store.presigned_url, key, settings.presigned_seconds)
        if url is not None:
            headers = {"Cache-Control": f"private, max-age={REDIRECT_MAX_AGE}"}
            return RedirectResponse(url, status_code=302, headers=headers)
    last_modified = formatdate(info.mtime, usegmt=True)
    asked, if_range = request.get("range"), request.get("if-range")
    current = if_range is None or if_range in (etag, last_modified)
    if method == "GET" and asked is not None and current:
        ranges = byte_ranges.parse(asked, info.size)
        if isinstance(ranges, byte_ranges.Refusal):
            return _refuse(ranges, info)
        if len(ranges) == 1:
            return await _one_range(store, key, ranges[0], info, etag, last_modified)
    if method == "HEAD":
        return Response(headers=_headers(info.size, etag, last_modified), media_type=MEDIA_TYPE)
    data = await asyncio.to_thread(store.read, key)
    # Several ranges, or none: the whole object, answered as for a file in memory (multipart included).
    held = HeldFile(key, data, (0, 0, len(data), int(info.mtime)), last_modified)
    return HeldAudio(held, etag, IMMUTABLE)


async def _one_range(
    store: AudioStore, key: str, span: tuple[int, int], info: ObjectInfo, etag: str, last_modified: str
) -> Response:
    start, end = span
    data = await asyncio.to_thread(store.read_range, key, start, end)
    headers = _headers(len(data), etag, last_modified)
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{info.size}"
    return Response(data, status_code=206, headers=headers, media_type=MEDIA_TYPE)


def _headers(length: int, etag: str, last_modified: str) -> dict[str, str]:
    return {
        "ETag": etag,
        "Cache-Control": IMMUTABLE,
        "Accept-Ranges": "bytes",
        "Content-Length": str(length),
        "Last-Modified": last_modified,
    }


def _refuse(refusal: byte_ranges.Refusal, info: ObjectInfo) -> Response:
    """A file's refusals: a plain-text 400 saying why, or an empty 416 giving the size."""
    if refusal.status == 416:
        return PlainTextResponse(status_code=416, headers={"Content-Range": f"bytes */{info.size}"})
    return PlainTextResponse(refusal.message, status_code=400)
