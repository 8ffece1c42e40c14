"""Audio files by content key (immutable: cached for a year, ranges, ETags) and each article's stable URL."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from tts_service.cache import AudioCache
from tts_service.errors import NotFound
from tts_service.web.deps import PipelineDep, StoreDep

router = APIRouter()
_IMMUTABLE = "public, max-age=31536000, immutable"


@router.api_route("/audio/{key}.mp3", methods=["GET", "HEAD"], name="audio_file")
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


@router.get("/articles/{slug}/audio.mp3", name="article_mp3")
async def article_mp3(request: Request, slug: str, store: StoreDep, pipeline: PipelineDep) -> Response:
    """The stable URL of an article's audio: a redirect to the current revision's file, never cached."""
    article = await store.get_article(slug)
    manifest = await pipeline.manifest(article)
    whole = await pipeline.whole(article, manifest)
    if whole is None:
        if manifest.status == "pending":
            await pipeline.start(article)
        body = {"detail": f"the audio of {slug!r} is {manifest.status}", "progress": manifest.progress}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5", "Cache-Control": "no-store"})
    target = str(request.url_for("audio_file", key=whole.key))
    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-cache"})
