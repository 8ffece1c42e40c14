"""An audio file from memory, answered as Starlette's FileResponse answers for the same file on disk.

The same status, headers and body for every request (ranges, ``If-Range``, HEAD), checked case by case
against FileResponse in ``tests/web/test_audio.py``; but without what FileResponse needs for a file: no
thread trips, and no task listening for the client to leave while the file is read (the bytes go out in
one message).
"""

from __future__ import annotations

import secrets

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from tts_service.web import byte_ranges
from tts_service.web.audio_memory import HeldFile

MEDIA_TYPE = "audio/mpeg"


class HeldAudio(Response):
    """``held``'s bytes with its ETag and Cache-Control, and the headers FileResponse adds."""

    media_type = MEDIA_TYPE

    def __init__(self, held: HeldFile, etag: str, cache_control: str) -> None:
        self.held, self.etag = held, etag
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"etag", etag.encode("latin-1")),
            (b"cache-control", cache_control.encode("latin-1")),
            (b"content-type", MEDIA_TYPE.encode("latin-1")),
            (b"accept-ranges", b"bytes"),
            (b"content-length", str(len(held.data)).encode("latin-1")),
            (b"last-modified", held.last_modified.encode("latin-1")),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Headers(scope=scope)
        asked, if_range = request.get("range"), request.get("if-range")
        ranges: list[tuple[int, int]] | byte_ranges.Refusal = []
        if asked is not None and (if_range is None or self._is_current(if_range)):
            ranges = byte_ranges.parse(asked, len(self.held.data))
        if isinstance(ranges, byte_ranges.Refusal):
            await self._refuse(ranges)(scope, receive, send)
            return
        status, headers, body = self._content(ranges)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        head_only = scope["method"] == "HEAD"
        await send({"type": "http.response.body", "body": b"" if head_only else body, "more_body": False})

    def _is_current(self, if_range: str) -> bool:
        """``If-Range``: whether the client's copy is this file (a strong ETag or the exact date)."""
        if if_range.startswith("W/"):
            return False
        return if_range in (self.etag, self.held.last_modified)

    def _content(self, ranges: list[tuple[int, int]]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Status, headers and body: the whole file, one range, or several as ``multipart/byteranges``."""
        data = self.held.data
        if not ranges:
            return 200, self.raw_headers, data
        if len(ranges) == 1:
            start, end = ranges[0]
            range_header = f"bytes {start}-{end - 1}/{len(data)}".encode("latin-1")
            headers = self._replacing({b"content-length": str(end - start).encode("latin-1")})
            return 206, [*headers, (b"content-range", range_header)], data[start:end]
        boundary = secrets.token_hex(13)  # what browsers use: about 100 bits
        body = byte_ranges.multipart(data, ranges, boundary, MEDIA_TYPE)
        replaced = {
            b"content-type": f"multipart/byteranges; boundary={boundary}".encode("latin-1"),
            b"content-length": str(len(body)).encode("latin-1"),
        }
        return 206, self._replacing(replaced), body

    def _replacing(self, values: dict[bytes, bytes]) -> list[tuple[bytes, bytes]]:
        return [(k, values.get(k, v)) for k, v in self.raw_headers]

    def _refuse(self, refusal: byte_ranges.Refusal) -> Response:
        """FileResponse's refusals: a plain-text 400 saying why, or an empty 416 giving the size."""
        if refusal.status == 416:
            size = {"Content-Range": f"bytes */{len(self.held.data)}"}
            return PlainTextResponse(status_code=416, headers=size)
        return PlainTextResponse(refusal.message, status_code=400)
