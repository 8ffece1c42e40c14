"""Audio files by content key: the answer to one request, and a plain ASGI path that gives it before routing.

Profiled with the files in memory (BENCHMARKS.md), half of the event loop's time per request went to FastAPI
and Starlette finding the route and preparing the endpoint's arguments, more than serving the bytes. So
``HotAudio`` sits inside every middleware (security headers, request ids, the access log and metrics, CORS,
body limits all apply as before) but in front of the router: it answers a GET or HEAD of a well-formed
``/audio/{key}.mp3`` whose file exists itself. Anything else, a missing file included, goes on to the routes
as before, so 404s, 405s and the OpenAPI schema are the routes' own.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tts_service.cache import IMMUTABLE, AudioCache, is_key
from tts_service.errors import NotFound, TTSError
from tts_service.web import audio_objects
from tts_service.web.audio_memory import AudioMemory, HeldFile
from tts_service.web.audio_response import MEDIA_TYPE, HeldAudio
from tts_service.web.middleware import route_path

_PATH = re.compile(r"/audio/([0-9a-f]{64})\.mp3")  # what AudioCache.path accepts; the routes see the rest


async def answer(state: Any, key: str, scope: Scope) -> Response:
    """The response to a GET or HEAD of the audio under ``key``, given the app's ``state``; NotFound when
    there is no such file or object."""
    if not is_key(key):  # anything else (path tricks included) is no audio, whatever else it asks
        raise NotFound("no such audio")
    etag = f'"{key}"'  # the key is a hash of everything that shapes the sound: a perfect validator
    request = Headers(scope=scope)
    if_none_match = request.get("if-none-match")
    if if_none_match and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": IMMUTABLE})
    cache = state.cache
    if not isinstance(cache, AudioCache):  # an object store: no file to hold or stat
        return await audio_objects.answer(cache, state.settings, key, request, scope["method"])
    memory: AudioMemory = state.audio_memory
    found = await memory.get(key, cache)  # NotFound when the file is not on disk (any more)
    if isinstance(found, HeldFile):
        return HeldAudio(found, etag, IMMUTABLE)
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}  # too large to hold: streamed from disk
    return _AudioFile(cache.path(key), stat_result=found, media_type=MEDIA_TYPE, headers=headers)


class _AudioFile(FileResponse):
    """Reads in 1 MiB blocks: a whole-article file goes out in a few thread trips, not dozens."""

    chunk_size = 1024 * 1024


class HotAudio:
    """Answers GET and HEAD of existing audio files before the router; ``routes`` by method: the routes
    they stand for (the access log and the metrics name them, as if they had answered)."""

    def __init__(self, app: ASGIApp, routes: dict[str, APIRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["method"]) if scope["type"] == "http" else None
        found = _PATH.fullmatch(route_path(scope)) if route is not None else None
        if found is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await answer(scope["app"].state, found[1], scope)
        except TTSError:  # no such audio, or the store is down: the route says so, in the service's own shape
            await self.app(scope, receive, send)
            return
        scope["route"] = route
        await response(scope, receive, send)
