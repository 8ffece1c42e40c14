"""Audio files by content key: immutable, so cached for a year, with ranges and ETags."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import FileResponse

from tts_service.cache import AudioCache
from tts_service.errors import NotFound

router = APIRouter()
_IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/audio/{key}.mp3", name="audio_file")
async def audio_file(
    request: Request, key: str, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    cache: AudioCache = request.app.state.cache
    path = cache.path(key)  # NotFound for anything that is not a well-formed key
    etag = f'"{key}"'  # the key is a hash of everything that shapes the sound: a perfect validator
    if if_none_match and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": _IMMUTABLE})
    if not await asyncio.to_thread(path.is_file):
        raise NotFound("no such audio")
    return FileResponse(path, media_type="audio/mpeg", headers={"ETag": etag, "Cache-Control": _IMMUTABLE})
