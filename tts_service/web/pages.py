"""Reader pages: the article list, the article with its 语音播报 player, and the reading preferences.

Rendered pages are cached (``page_cache``); a fresh one is answered before any of this runs (``page_front``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from tts_service import resources
from tts_service.errors import NoArticle, NotFound, TTSError
from tts_service.manifest import Manifest
from tts_service.planning import Plan
from tts_service.states import AudioStatus
from tts_service.store import AssemblyRecord
from tts_service.web import prefs
from tts_service.web.deps import PipelineDep, StoreDep
from tts_service.web.middleware import route_template
from tts_service.web.page_cache import CachedPage, PageCache, page_response, scope_key
from tts_service.web.prefs import PREFS

Context = dict[str, Any]  # what a template reads
router = APIRouter(include_in_schema=False)  # pages for people; the schema documents the API
_YEAR = 365 * 24 * 3600


def _prefs(request: Request) -> dict[str, str]:
    """The reader's choices from their cookies, defaults for anything missing or unknown."""
    return prefs.chosen(value for name, value in request.scope["headers"] if name == b"cookie")


def render(request: Request, name: str, context: Context, status_code: int = 200) -> HTMLResponse:
    """A template rendered with the reader's preferences (size, scheme, words) in its context."""
    context = {"prefs": _prefs(request), "choices": {k: v[1] for k, v in PREFS.items()}, **context}
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _cached_page(
    request: Request,
    name: str,
    content: Hashable,
    context: Callable[[], Context],
    *,
    generation: int,
    settled: bool = True,
    job: asyncio.Task[Any] | None = None,
) -> Response:
    """The page from the cache, or rendered now, with a strong ETag; 304 if the reader already has it.

    ``content`` must hold everything the template reads from its context, read from the store after its
    generation was ``generation``; ``settled`` and ``job`` as ``CachedPage``'s. What the page reads from the
    request is the cache key (``page_cache.scope_key``).
    """
    cache: PageCache = request.app.state.page_cache
    key, content = scope_key(request.scope), (name, content)
    page = cache.get(key)
    newer = page is None or generation >= page.generation  # never replace what a later read put there
    if page is None or page.content != content:
        body = bytes(render(request, name, context()).body)
        route = route_template(request.scope, request.scope.get("root_path", ""))
        page = CachedPage.rendered(body, content, route, generation, settled, job)
        if newer:
            cache.put(key, page)
    elif newer and (page.generation, page.settled, page.job) != (generation, settled, job):
        page = cache.put(key, page.stamped(generation, settled, job))
    return page_response(page.body, page.etag, request.headers.get("if-none-match", ""))


def _paragraphs(plan: Plan) -> list[list[tuple[str, int | None]]]:
    """Each paragraph as (text, spoken chunk index or None) pieces, so the page can mark what is read."""
    spoken_index = {id(c): i for i, c in enumerate(plan.spoken)}
    return [
        [(c.text, spoken_index.get(id(c))) for c in pieces]
        for _, pieces in groupby(plan.chunks, key=lambda c: c.paragraph)
    ]


def _audio_state(manifest: Manifest) -> tuple[str, float, bool]:
    """What the pages show of a manifest: status, progress, whether the first chunk is ready."""
    spoken = manifest.plan.spoken
    return manifest.status, manifest.progress, bool(spoken) and spoken[0].key in manifest.records


def _settled(manifest: Manifest, whole: AssemblyRecord | None, job: asyncio.Task[Any] | None) -> bool:
    """Whether asking for the article's audio again would only read (``CachedPage.settled``): not while it
    is missing and this process is not making it (asking starts or resumes the job), nor while its whole
    file is missing (asking builds it)."""
    if manifest.status == AudioStatus.PENDING:
        return job is not None
    return manifest.status != AudioStatus.READY or whole is not None


# HEAD too: uptime monitors and link checkers ask with it (the server drops the body).
@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def index(request: Request, store: StoreDep, pipeline: PipelineDep) -> Response:
    generation = store.changes.generation  # taken first: a change from now on makes the page stale
    articles = await store.list_articles()
    manifests = [await pipeline.manifest(article) for article in articles]
    items = list(zip(articles, manifests, strict=True))
    content = tuple((a.slug, a.title, a.date, _audio_state(m)) for a, m in items)
    return _cached_page(request, "index.html", content, lambda: {"items": items}, generation=generation)


@router.api_route(
    "/articles/{slug}", methods=["GET", "HEAD"], response_class=HTMLResponse, name="article_page"
)
async def article_page(request: Request, slug: str, store: StoreDep, pipeline: PipelineDep) -> Response:
    generation = store.changes.generation  # taken first: a change from now on makes the page stale
    # Asking starts the audio if it is missing: the page renders now, the audio arrives in the background.
    audio = await pipeline.audio(await store.get_article(slug))
    article, manifest, whole = audio.article, audio.manifest, audio.whole
    # Not (slug, revision) alone: a deleted article's slug starts again at revision 1. The chunks carry
    # the text as the page splits it, which the lexicon, engine and voice also shape.
    shown = (article.slug, article.revision, article.title, article.byline, article.date)
    content = (shown, manifest.plan.chunks, _audio_state(manifest), whole.duration if whole else None)
    job = pipeline.running(audio.job) if manifest.status == AudioStatus.PENDING else None

    def context() -> Context:
        paragraphs = _paragraphs(manifest.plan)
        return {"article": article, "paragraphs": paragraphs, "manifest": manifest, "whole": whole}

    settled = _settled(manifest, whole, job)
    return _cached_page(
        request, "article.html", content, context, generation=generation, settled=settled, job=job
    )


@router.api_route("/favicon.ico", methods=["GET", "HEAD"], name="favicon")
async def favicon() -> FileResponse:
    """The site's icon where browsers look for it, kept a year: it seldom changes, and every page asks."""
    path = resources.static_dir() / "favicon.ico"
    headers = {"Cache-Control": f"public, max-age={_YEAR}"}
    return FileResponse(path, media_type="image/x-icon", headers=headers)


@router.post("/prefs", name="set_prefs")
async def set_prefs(
    size: Annotated[str | None, Form()] = None,
    scheme: Annotated[str | None, Form()] = None,
    words: Annotated[str | None, Form()] = None,
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Keep a reading preference in a cookie and go back: how the controls work without JavaScript."""
    # Only same-site paths: "//host" and "/\\host" would send the reader elsewhere.
    target = next if next.startswith("/") and next[1:2] not in ("/", "\\") else "/"
    response = RedirectResponse(target, status_code=303)
    for name, value in (("size", size), ("scheme", scheme), ("words", words)):
        cookie, values, _ = PREFS[name]
        if value in values:
            response.set_cookie(cookie, value, max_age=_YEAR, samesite="lax", httponly=False)
    return response


# What a reader is told, in Chinese; the service's own message (English, for operators and apps) is shown
# only where no sentence here covers the case.
_NO_ARTICLE = ("没有找到这篇文章", "这篇文章可能已经删除，或者链接有误。")
_NO_PAGE = ("没有找到这个页面", "链接可能有误。")


def _reader_text(exc: TTSError) -> tuple[str, str | None]:
    """(heading, explanation) for a reader; explanation None: show the service's message instead."""
    if isinstance(exc, NoArticle):
        return _NO_ARTICLE
    if exc.code == "not_found":
        return _NO_PAGE if type(exc) is not NotFound else ("没有找到", None)
    if exc.code == "method_not_allowed":
        return ("无法这样打开这个页面", "请从文章列表进入。")
    return ("出错了", None)


def error_page(request: Request, exc: TTSError) -> HTMLResponse:
    """The error as a page for people, in Chinese, with a way back to the article list."""
    heading, explanation = _reader_text(exc)
    context = {"error": exc, "heading": heading, "explanation": explanation or exc.message}
    return render(request, "error.html", context, status_code=exc.status_code)
