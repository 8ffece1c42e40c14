"""JSON API for apps and editors. Handlers parse, call the store or pipeline, and return."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse

from tts_service import captions
from tts_service.article import ArticleDraft, draft_from
from tts_service.catalog import MAX_QUERY_CHARS
from tts_service.errors import NotFound, NotReady, SlugTaken, TooLarge
from tts_service.pipeline import Pipeline
from tts_service.states import AudioStatus
from tts_service.text.lexicon import LexiconEntry
from tts_service.web import api_proof
from tts_service.web.auth import AuthFirst
from tts_service.web.deps import Editor, PipelineDep, SettingsDep, StoreDep
from tts_service.web.schemas import ERRORS, ArticleOut, ArticleSummary, AudioOut, JobOut

router = APIRouter(prefix="/api", responses=ERRORS, route_class=AuthFirst)


_LIST_HEADERS: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "Link": {
                "description": '`<…?limit=…&cursor=…>; rel="next"` when there is a next page (with `limit`)',
                "schema": {"type": "string"},
            },
            "X-Next-Cursor": {
                "description": "the next page's cursor, when there is one",
                "schema": {"type": "string"},
            },
        }
    }
}


@router.get("/articles", responses=_LIST_HEADERS)
async def list_articles(
    request: Request,
    response: Response,
    store: StoreDep,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS)] = None,
) -> list[ArticleSummary]:
    """Articles, most recently updated first; ``q``: those whose title, slug or byline contain it. Always a
    plain list. Without ``limit``, every article (as before pagination existed); with it, at most ``limit``,
    and when more follow, a ``Link: <…>; rel="next"`` header (and ``X-Next-Cursor``) to the next page."""
    if limit is None and cursor is None:
        page = await store.find_articles(limit=2**62, query=q)
    else:
        page = await store.find_articles(limit=limit or 100, cursor=cursor, query=q)
    if page.next_cursor is not None:
        following = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["Link"] = f'<{following}>; rel="next"'
        response.headers["X-Next-Cursor"] = page.next_cursor
    return [ArticleSummary.of(request, a) for a in page.articles]


@router.get("/articles/{slug}")
async def get_article(request: Request, slug: str, store: StoreDep) -> ArticleOut:
    return ArticleOut.of(request, await store.get_article(slug))


async def _publish_new(request: Request, pipeline: Pipeline, draft: ArticleDraft) -> ArticleOut:
    """Publish a new article; 409 with the existing article's page (body ``url`` and ``Location``) if the
    slug is in use: a POST never replaces an article (an edit is a PUT)."""
    try:
        article = await pipeline.publish(draft, must_be_new=True)
    except SlugTaken as exc:
        raise SlugTaken(exc.slug, str(request.url_for("article_page", slug=exc.slug))) from None
    return ArticleOut.of(request, article)


@router.post("/articles", status_code=201, dependencies=[Editor])
async def create_article(request: Request, draft: ArticleDraft, pipeline: PipelineDep) -> ArticleOut:
    """A new article (201); 409 ``conflict`` with the existing article's URL if its slug is in use."""
    return await _publish_new(request, pipeline, draft)


_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}


@router.post("/articles/import", status_code=201, dependencies=[Editor], openapi_extra=_IMPORT_BODY)
async def import_article(
    request: Request, settings: SettingsDep, pipeline: PipelineDep, slug: str | None = None
) -> ArticleOut:
    """Import a saved article page (HTML or scraped text) sent as the request body: a new article, so 409
    if its slug is in use, as for ``POST /api/articles``."""
    from tts_service.text.extract import extract

    body = await request.body()
    if len(body) > 8 * settings.max_article_chars:  # generous for markup around the text limit
        raise TooLarge(f"page is {len(body)} bytes; the limit is {8 * settings.max_article_chars}")
    doc = await asyncio.to_thread(extract, body)
    return await _publish_new(request, pipeline, draft_from(doc, slug=slug))


@router.put("/articles/{slug}", dependencies=[Editor])
async def update_article(
    request: Request, slug: str, draft: ArticleDraft, pipeline: PipelineDep
) -> ArticleOut:
    article = await pipeline.publish(draft.model_copy(update={"slug": slug}), must_exist=True)
    return ArticleOut.of(request, article)


@router.delete("/articles/{slug}", status_code=204, dependencies=[Editor])
async def delete_article(slug: str, pipeline: PipelineDep) -> Response:
    await pipeline.delete(slug)
    return Response(status_code=204)


@router.get("/articles/{slug}/audio")
async def article_audio(request: Request, slug: str, store: StoreDep, pipeline: PipelineDep) -> AudioOut:
    """The article's audio manifest; asking for it starts generation if nothing is running."""
    return AudioOut.of(request, await pipeline.audio(await store.get_article(slug), with_job=True))


@router.post("/articles/{slug}/audio", status_code=202, dependencies=[Editor])
async def start_generation(
    request: Request, response: Response, slug: str, store: StoreDep, pipeline: PipelineDep
) -> AudioOut:
    """Start (or retry) generation as a job; answers at once with the manifest and the job (Location)."""
    audio = await pipeline.regenerate(await store.get_article(slug))
    assert audio.job is not None  # regenerating always has a job
    response.headers["Location"] = str(request.url_for("get_job", job_id=audio.job.id))
    return AudioOut.of(request, audio)


@router.get("/jobs/{job_id}", name="get_job", dependencies=[Editor])
async def get_job(
    request: Request, job_id: Annotated[int, Path(ge=1, le=2**63 - 1)], pipeline: PipelineDep
) -> JobOut:
    """A generation job: queued, running (with progress), done, or failed with its reason."""
    return JobOut.of(request, await pipeline.job(job_id))


_VTT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/vtt": {"schema": {"type": "string"}}}, "description": "WebVTT captions"}
}


@router.get("/articles/{slug}/captions.vtt", name="article_captions", response_model=None, responses=_VTT)
async def article_captions(
    slug: str,
    store: StoreDep,
    pipeline: PipelineDep,
    words: Annotated[bool, Query(description="each word's time as a WebVTT inline timestamp")] = False,
) -> PlainTextResponse:
    """WebVTT with one cue per sentence, showing the text as the page shows it; 409 until audio is ready.
    ``?words=1`` puts each word's time in the cue text (``<00:00:01.250>``) for karaoke-style captions."""
    audio = await pipeline.audio(await store.get_article(slug), start=False)
    manifest, whole = audio.manifest, audio.whole
    if manifest.status == AudioStatus.EMPTY:
        raise NotFound(f"article {slug!r} has nothing to speak, so it has no audio and no captions")
    if whole is None:
        raise NotReady(f"the audio of {slug!r} is {manifest.status}; captions follow when it is ready")
    chunks = manifest.plan.spoken
    timed = captions.chunk_words(chunks, whole.spans, manifest.records) if words else None
    text = captions.webvtt(captions.sentence_cues(chunks, whole.spans, timed))
    return PlainTextResponse(text, media_type="text/vtt; charset=utf-8")


@router.get("/lexicon", dependencies=[Editor])
async def list_lexicon(store: StoreDep) -> list[LexiconEntry]:
    """The pronunciation lexicon, sorted by written form."""
    return [LexiconEntry(written=w, spoken=s) for w, s in sorted((await store.lexicon()).items())]


@router.post("/lexicon", dependencies=[Editor])
async def put_lexicon(
    entry: LexiconEntry, store: StoreDep, settings: SettingsDep, response: Response
) -> LexiconEntry:
    """Add an entry (201) or replace the spoken form of an existing one (200)."""
    created = await store.put_lexicon(entry.written, entry.spoken, limit=settings.max_lexicon_entries)
    response.status_code = 201 if created else 200
    return entry


# A path parameter: a written form may hold "/" (km/h), sent as km%2Fh or km/h.
@router.delete("/lexicon/{written:path}", status_code=204, dependencies=[Editor])
async def delete_lexicon(written: str, store: StoreDep) -> Response:
    await store.remove_lexicon(written)
    return Response(status_code=204)


router.include_router(api_proof.router)  # proofreading: GET /api/articles/{slug}/pronunciation
