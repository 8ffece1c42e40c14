"""Audio files by content key: the answer to a GET or HEAD, from memory when the file is held there."""

from __future__ import annotations

from typing import Any

from starlette.responses import FileResponse, Response

from tts_service.cache import AudioCache, is_key
from tts_service.errors import NotFound
from tts_service.web.audio_memory import AudioMemory, HeldFile
from tts_service.web.audio_response import MEDIA_TYPE, HeldAudio

IMMUTABLE = "public, max-age=31536000, immutable"


async def answer(state: Any, key: str, if_none_match: str | None) -> Response:
    """The response to a GET or HEAD of the audio under ``key``, given the app's ``state``; NotFound when
    there is no such file."""
    if not is_key(key):  # anything else (path tricks included) is no audio, whatever else it asks
        raise NotFound("no such audio")
    etag = f'"{key}"'  # the key is a hash of everything that shapes the sound: a perfect validator
    if if_none_match and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": IMMUTABLE})
    memory: AudioMemory = state.audio_memory
    cache: AudioCache = state.cache
    found = await memory.get(key, cache)  # NotFound when the file is not on disk (any more)
    if isinstance(found, HeldFile):
        return HeldAudio(found, etag, IMMUTABLE)
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}  # too large to hold: streamed from disk
    return _AudioFile(cache.path(key), stat_result=found, media_type=MEDIA_TYPE, headers=headers)


class _AudioFile(FileResponse):
    """Reads in 1 MiB blocks: a whole-article file goes out in a few thread trips, not dozens."""

    chunk_size = 1024 * 1024
