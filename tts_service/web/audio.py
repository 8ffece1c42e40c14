"""Audio files by content key (immutable: cached for a year, ranges, ETags) and each article's stable URL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from fastapi.routing import APIRoute

from tts_service.article import Article
from tts_service.assembly import stream_parts, stream_tag
from tts_service.audio.assemble import Piece
from tts_service.errors import NotFound, SynthesisError
from tts_service.manifest import Manifest
from tts_service.pipeline import Pipeline
from tts_service.states import AudioStatus
from tts_service.web import audio_files
from tts_service.web.audio_urls import audio_url
from tts_service.web.deps import PipelineDep, StoreDep
from tts_service.web.schemas import ERRORS

router = APIRouter(responses=ERRORS)
log = logging.getLogger(__name__)


# GET and HEAD as two operations, so that each has its own operation id in the schema. Files that exist are
# answered before routing, by audio_files.HotAudio; what reaches this route is mostly the 404s.
# What the audio routes answer besides errors, for the OpenAPI document (schemathesis checks answers by it).
_MP3: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}},
        "description": "MP3",
    },
}
_ARTICLE_MP3: dict[int | str, dict[str, Any]] = {
    **_MP3,
    302: {"description": "The current revision's whole-article MP3 (Location); while it is being made, 200"},
}


@router.head("/audio/{key}.mp3", name="audio_file_head", response_model=None, responses=_MP3)
@router.get("/audio/{key}.mp3", name="audio_file", response_model=None, responses=_MP3)
async def audio_file(
    request: Request, key: str, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    return await audio_files.answer(request.app.state, key, request.scope)


def install_hot_path(app: FastAPI) -> None:
    """Put ``HotAudio`` in front of ``app``'s router: call it before adding the service's middleware, so
    that all of that middleware applies to it."""
    names = {"GET": "audio_file", "HEAD": "audio_file_head"}
    named = {route.name: route for route in router.routes if isinstance(route, APIRoute)}
    app.add_middleware(audio_files.HotAudio, routes={method: named[name] for method, name in names.items()})


@router.head(
    "/articles/{slug}/audio.mp3", name="article_mp3_head", response_model=None, responses=_ARTICLE_MP3
)
@router.get("/articles/{slug}/audio.mp3", name="article_mp3", response_model=None, responses=_ARTICLE_MP3)
async def article_mp3(request: Request, slug: str, store: StoreDep, pipeline: PipelineDep) -> Response:
    """The stable URL of an article's audio: a redirect to the current revision's file, never cached.

    While the audio is still being made, it streams the article instead, sentence by sentence as each is
    ready, so listening starts at once; the whole file is cached when generation finishes.
    """
    # Asking starts the audio if it is missing (not after a failure, and never for an empty article).
    audio = await pipeline.audio(await store.get_article(slug))
    article, manifest, whole = audio.article, audio.manifest, audio.whole
    if whole is not None:
        target = audio_url(request, whole.key)
        return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-cache"})
    if manifest.status == AudioStatus.EMPTY:
        raise NotFound(f"article {slug!r} has nothing to speak, so it has no audio")
    if manifest.status == AudioStatus.FAILED:
        message = f"the audio of {slug!r} is {manifest.status}"
        body = {"code": "audio_unavailable", "message": message, "detail": message, "error": manifest.error}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "60", "Cache-Control": "no-store"})
    # X-Accel-Buffering: a proxy in front (nginx) passes each sentence on as soon as it is sent.
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    if request.method == "HEAD":
        return Response(media_type="audio/mpeg", headers=headers)
    return StreamingResponse(_stream(pipeline, article, manifest), media_type="audio/mpeg", headers=headers)


async def _stream(pipeline: Pipeline, article: Article, manifest: Manifest) -> AsyncIterator[bytes]:
    yield stream_tag(article)  # players show the title at once, as they do for the finished file
    previous: Piece | None = None
    for chunk in manifest.plan.spoken:
        try:
            piece = Piece(await pipeline.synthesizer.chunk_audio(manifest.plan, chunk), chunk.paragraph)
        except SynthesisError as exc:  # headers are sent: all we can do is end the stream early
            log.warning("stream of %s ended early: %s", article.slug, exc)
            return
        for part in stream_parts(previous, piece):
            yield part
        previous = piece
