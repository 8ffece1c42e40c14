"""The editor's pages under /admin, behind a sign-in with the editor token.

Every page works without JavaScript: actions are forms that post, then redirect back (303) to the list with a
short notice chosen from a fixed set, so nothing a visitor typed is ever echoed by a link.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from redis.exceptions import RedisError

from tts_service import proofing
from tts_service.catalog import MAX_QUERY_CHARS
from tts_service.config import Settings
from tts_service.errors import RateLimited, TooLarge
from tts_service.jobs import Job
from tts_service.keys import ApiKeys
from tts_service.manifest import Manifest
from tts_service.pipeline import Pipeline
from tts_service.states import AudioStatus, JobStatus
from tts_service.store import Store
from tts_service.text.lexicon import LexiconEntry
from tts_service.web import admin_articles, admin_proof, admin_revisions, session, toolbar
from tts_service.web.admin_page import NOTICES, back, page, redirect, signed_in
from tts_service.web.auth import AuthFirst, guard
from tts_service.web.deps import PipelineDep, SettingsDep, StoreDep

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AuthFirst)

LOGIN_NOTICES = {"signed-out": "已退出登录。"}
_FIELD_NAMES = {"written": "写法", "spoken": "读法"}
PAGE_SIZE = 50  # articles a list page shows; the next page is one keyset step away
_DONE = {AudioStatus.READY, AudioStatus.EMPTY}  # nothing more to make


@dataclass(frozen=True)
class StatusCell:
    """What the editor sees of an article's audio."""

    state: AudioStatus  # also the CSS class; never "empty" (nothing to speak is shown as ready)
    label: str
    detail: str | None = None


def audio_status(manifest: Manifest, job: Job | None = None) -> StatusCell:
    """The audio status cell: the audio as readers get it, and the latest job's state."""
    fallback = job.fallback if job is not None and job.fallback else None
    ready, pending = AudioStatus.READY, AudioStatus.PENDING
    if job is not None and job.active:
        label = "排队中" if job.status == JobStatus.QUEUED else f"生成中（{round(job.progress * 100)}%）"
        if manifest.status == ready:
            label += "，现有音频可播放"
        return StatusCell(pending, f"{label} · 任务 {job.id}", fallback)
    if manifest.status == ready:
        return StatusCell(ready, "已就绪", fallback)
    if manifest.status == AudioStatus.FAILED:
        return StatusCell(AudioStatus.FAILED, "生成失败", manifest.error)
    if manifest.status == AudioStatus.EMPTY:
        return StatusCell(ready, "无可朗读的文字（无音频）")
    return StatusCell(pending, f"未完成（已生成 {round(manifest.progress * 100)}%）")


def _max_length(field: str) -> int:
    """The lexicon model's own limit, so the form and its messages never disagree with the validation."""
    limits = [m.max_length for m in LexiconEntry.model_fields[field].metadata if hasattr(m, "max_length")]
    limit: int = limits[0]
    return limit


def _lexicon_error(exc: ValidationError) -> str:
    """One readable message for the fields that failed."""
    fields = dict.fromkeys(str(error["loc"][0]) for error in exc.errors())
    return "；".join(f"{_FIELD_NAMES[f]}须为 1 到 {_max_length(f)} 个字符的一行文字" for f in fields) + "。"


@dataclass(frozen=True)
class ListView:
    """What the list shows: a page of the articles (after ``cursor``), those matching ``query`` if any."""

    query: str = ""
    cursor: str | None = None


async def _admin_page(
    request: Request,
    store: Store,
    pipeline: Pipeline,
    csrf: str,
    *,
    view: ListView = ListView(),
    notice: str | None = None,
    error: str | None = None,
    entry: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = await store.find_articles(limit=PAGE_SIZE, cursor=view.cursor, query=view.query or None)
    rows = []
    for article in found.articles:
        audio = await pipeline.audio(article, start=False, with_job=True)
        flagged = len((await proofing.proof(pipeline, article, audio.manifest.plan)).flagged)
        rows.append((article, audio.manifest.plan, audio_status(audio.manifest, audio.job), flagged))
    lexicon = sorted((await store.lexicon()).items())
    following = None
    if found.next_cursor is not None:
        following = request.url_for("admin_page").include_query_params(q=view.query, cursor=found.next_cursor)
    context = {
        "rows": rows,
        "query": view.query,
        "first_page": view.cursor is None,
        "next_url": following,
        "lexicon": lexicon,
        "csrf": csrf,
        "notice": notice,
        "error": error,
        "entry": entry or {"written": "", "spoken": ""},
        "limits": {field: _max_length(field) for field in _FIELD_NAMES},
        "embed_url": await toolbar.versioned_url(request),
        "embed_origins": sorted(request.app.state.settings.embed_origin_list),
        "queue": await _queue(pipeline),
        "api_keys": await ApiKeys(store).list(),
    }
    return page(request, "admin.html", context, status_code)


async def _queue(pipeline: Pipeline) -> dict[str, Any] | None:
    """The task queue's lengths and the workers seen recently (TTS_REDIS_URL); None without a queue, and
    ``{"down": True}`` while Redis does not answer."""
    if pipeline.queue is None:
        return None
    try:
        async with asyncio.timeout(5):
            return dict(await asyncio.to_thread(pipeline.queue.status))
    except (RedisError, TimeoutError):
        return {"down": True}


# --- sign-in -----------------------------------------------------------------------------------------


def _login_page(
    request: Request,
    settings: Settings,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if settings.editor_key is None:
        return page(request, "admin_login.html", {"disabled": True}, 403)
    csrf = session.login_csrf(request, settings)
    context = {"disabled": False, "csrf": csrf, "notice": notice, "error": error}
    response = page(request, "admin_login.html", context, status_code)
    session.keep_login_csrf(request, response, settings, csrf)
    return response


@router.get("/login", name="admin_login_form")
async def login_form(request: Request, settings: SettingsDep, done: str = "") -> Response:
    """The sign-in form, with its pre-session CSRF cookie; straight on to the list when already signed in."""
    if await session.current(request, settings) is not None:
        return redirect(request, "admin_page")
    return _login_page(request, settings, notice=LOGIN_NOTICES.get(done))


@router.post("/login", name="admin_login", dependencies=[session.LoginForm])
async def login(request: Request, settings: SettingsDep, token: Annotated[str, Form()] = "") -> Response:
    """Check the editor token; a right one starts a session, a wrong one shows the form again (401).

    Wrong tokens count against the client wherever tokens are checked (``auth.TokenGuard``): past the limit
    the form comes back with 429 and ``Retry-After``; the right token always signs in.
    """
    assert settings.editor_key is not None  # the LoginForm check refuses the form when editor access is off
    try:
        right = await guard(request).allows(request, token, (settings.editor_key,))
    except RateLimited as exc:
        error = f"尝试次数过多，请 {exc.retry_after} 秒后再试。"
        response = _login_page(request, settings, error=error, status_code=429)
        response.headers.update(exc.headers)
        return response
    if not right:
        return _login_page(request, settings, error="编辑令牌不正确，请重新输入。", status_code=401)
    signed_in_now = redirect(request, "admin_page")
    await session.start(request, signed_in_now, settings)
    return signed_in_now


@router.post("/logout", name="admin_logout", dependencies=[session.EditorForm])
async def logout(request: Request) -> Response:
    """End the session on the server and in the browser; a form (with its CSRF token) so other sites
    cannot sign an editor out."""
    response = redirect(request, "admin_login_form", done="signed-out")
    await session.end(request, response)
    return response


# --- articles ----------------------------------------------------------------------------------------


@router.get("", name="admin_page")
async def admin_page(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    pipeline: PipelineDep,
    done: str = "",
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The article list (a page at a time, searchable) with audio status, engine and voice, and the
    lexicon; sign-in first."""
    csrf = await signed_in(request, settings)
    if csrf is None:
        return redirect(request, "admin_login_form")
    view = ListView(q.strip(), cursor)
    return await _admin_page(request, store, pipeline, csrf, view=view, notice=NOTICES.get(done))


@router.post("/articles/{slug}/regenerate", name="admin_regenerate", dependencies=[session.EditorForm])
async def regenerate(request: Request, slug: str, store: StoreDep, pipeline: PipelineDep) -> Response:
    """Start the article's audio again, even after a failure; chunks already cached are kept. Audio that
    is complete, with the article's own voice, is left alone, and the editor is told so."""
    article = await store.get_article(slug)
    audio = await pipeline.audio(article, start=False, with_job=True)
    job = audio.job
    if audio.manifest.status in _DONE and not (job is not None and (job.active or job.fallback)):
        return back(request, "unchanged")
    await pipeline.regenerate(article)
    return back(request, "regenerating")


@router.get("/articles/{slug}/delete", name="admin_confirm_delete")
async def confirm_delete(request: Request, slug: str, settings: SettingsDep, store: StoreDep) -> Response:
    """Ask before deleting: a link cannot delete, only the form on this page can."""
    csrf = await signed_in(request, settings)
    if csrf is None:
        return redirect(request, "admin_login_form")
    article = await store.get_article(slug)
    return page(request, "admin_confirm_delete.html", {"article": article, "csrf": csrf})


@router.post("/articles/{slug}/delete", name="admin_delete", dependencies=[session.EditorForm])
async def delete(request: Request, slug: str, pipeline: PipelineDep) -> Response:
    """Stop the article's jobs and delete it with all its revisions; `cache gc` later frees its audio."""
    await pipeline.delete(slug)
    return back(request, "deleted")


# --- lexicon -----------------------------------------------------------------------------------------


@router.post("/lexicon", name="admin_lexicon_add")
async def add_lexicon(
    request: Request,
    csrf: session.SessionForm,
    store: StoreDep,
    pipeline: PipelineDep,
    settings: SettingsDep,
    written: Annotated[str, Form()] = "",
    spoken: Annotated[str, Form()] = "",
) -> Response:
    """Add or replace an entry; a bad one shows the page again with a message and the typed values."""
    try:
        entry = LexiconEntry(written=written, spoken=spoken)
    except ValidationError as exc:
        typed = {"written": written, "spoken": spoken}
        return await _admin_page(
            request, store, pipeline, csrf, error=_lexicon_error(exc), entry=typed, status_code=422
        )
    try:
        await store.put_lexicon(entry.written, entry.spoken, limit=settings.max_lexicon_entries)
    except TooLarge as exc:
        typed = {"written": written, "spoken": spoken}
        return await _admin_page(
            request, store, pipeline, csrf, error=exc.message, entry=typed, status_code=413
        )
    return back(request, "lexicon-saved")


@router.post("/lexicon/delete", name="admin_lexicon_remove", dependencies=[session.EditorForm])
async def remove_lexicon(request: Request, store: StoreDep, written: Annotated[str, Form()] = "") -> Response:
    """Remove an entry; the written form comes from a hidden field, so any text (even markup) round-trips."""
    await store.remove_lexicon(written)
    return back(request, "lexicon-removed")


# Writing articles and their revisions: modules of their own, under /admin with the same checks.
router.include_router(admin_articles.router)
router.include_router(admin_revisions.router)
router.include_router(admin_proof.router)
