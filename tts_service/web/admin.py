"""The editor's pages under /admin, behind a sign-in with the editor token.

Every page works without JavaScript: actions are forms that post, then redirect back (303) to the list with a
short notice chosen from a fixed set, so nothing a visitor typed is ever echoed by a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from tts_service.config import Settings
from tts_service.errors import RateLimited, TooLarge
from tts_service.jobs import Job
from tts_service.manifest import Manifest
from tts_service.pipeline import Pipeline
from tts_service.states import AudioStatus, JobStatus
from tts_service.store import Store
from tts_service.text.lexicon import LexiconEntry
from tts_service.web import session, toolbar
from tts_service.web.auth import AuthFirst, guard
from tts_service.web.deps import PipelineDep, SettingsDep, StoreDep
from tts_service.web.pages import Context, render

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AuthFirst)

NOTICES = {
    "regenerating": "已开始重新生成音频。",
    "deleted": "文章已删除。",
    "lexicon-saved": "词条已保存。",
    "lexicon-removed": "词条已删除。",
}
LOGIN_NOTICES = {"signed-out": "已退出登录。"}
_FIELD_NAMES = {"written": "写法", "spoken": "读法"}
_PRIVATE = {"Cache-Control": "no-store"}  # pages carry the CSRF token and unpublished state


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


def _page(request: Request, name: str, context: Context, status_code: int = 200) -> HTMLResponse:
    response = render(request, name, context, status_code=status_code)
    response.headers.update(_PRIVATE)
    return response


def _redirect(request: Request, route: str, **params: str) -> RedirectResponse:
    return RedirectResponse(str(request.url_for(route).include_query_params(**params)), status_code=303)


def _back(request: Request, done: str) -> RedirectResponse:
    """Back to the editor page, with one of the fixed notices."""
    assert done in NOTICES
    return _redirect(request, "admin_page", done=done)


def _max_length(field: str) -> int:
    """The lexicon model's own limit, so the form and its messages never disagree with the validation."""
    limits = [m.max_length for m in LexiconEntry.model_fields[field].metadata if hasattr(m, "max_length")]
    limit: int = limits[0]
    return limit


def _lexicon_error(exc: ValidationError) -> str:
    """One readable message for the fields that failed."""
    fields = dict.fromkeys(str(error["loc"][0]) for error in exc.errors())
    return "；".join(f"{_FIELD_NAMES[f]}须为 1 到 {_max_length(f)} 个字符的一行文字" for f in fields) + "。"


async def _admin_page(
    request: Request,
    store: Store,
    pipeline: Pipeline,
    csrf: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    entry: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = []
    for article in await store.list_articles():
        audio = await pipeline.audio(article, start=False, with_job=True)
        rows.append((article, audio.manifest.plan, audio_status(audio.manifest, audio.job)))
    lexicon = sorted((await store.lexicon()).items())
    context = {
        "rows": rows,
        "lexicon": lexicon,
        "csrf": csrf,
        "notice": notice,
        "error": error,
        "entry": entry or {"written": "", "spoken": ""},
        "limits": {field: _max_length(field) for field in _FIELD_NAMES},
        "embed_url": await toolbar.versioned_url(request),
        "embed_origins": sorted(request.app.state.settings.embed_origin_list),
    }
    return _page(request, "admin.html", context, status_code)


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
        return _page(request, "admin_login.html", {"disabled": True}, 403)
    csrf = session.login_csrf(request, settings)
    context = {"disabled": False, "csrf": csrf, "notice": notice, "error": error}
    response = _page(request, "admin_login.html", context, status_code)
    session.keep_login_csrf(request, response, settings, csrf)
    return response


@router.get("/login", name="admin_login_form")
async def login_form(request: Request, settings: SettingsDep, done: str = "") -> Response:
    """The sign-in form, with its pre-session CSRF cookie; straight on to the list when already signed in."""
    if await session.current(request, settings) is not None:
        return _redirect(request, "admin_page")
    return _login_page(request, settings, notice=LOGIN_NOTICES.get(done))


@router.post("/login", name="admin_login", dependencies=[session.LoginForm])
async def login(request: Request, settings: SettingsDep, token: Annotated[str, Form()] = "") -> Response:
    """Check the editor token; a right one starts a session, a wrong one shows the form again (401).

    Wrong tokens count against the client wherever tokens are checked (``auth.TokenGuard``): past the limit
    the form comes back with 429 and ``Retry-After``; the right token always signs in.
    """
    assert settings.editor_key is not None  # the LoginForm check refuses the form when editor access is off
    try:
        right = guard(request).allows(request, token, (settings.editor_key,))
    except RateLimited as exc:
        error = f"尝试次数过多，请 {exc.retry_after} 秒后再试。"
        response = _login_page(request, settings, error=error, status_code=429)
        response.headers.update(exc.headers)
        return response
    if not right:
        return _login_page(request, settings, error="编辑令牌不正确，请重新输入。", status_code=401)
    signed_in = _redirect(request, "admin_page")
    await session.start(request, signed_in, settings)
    return signed_in


@router.post("/logout", name="admin_logout", dependencies=[session.EditorForm])
async def logout(request: Request) -> Response:
    """End the session on the server and in the browser; a form (with its CSRF token) so other sites
    cannot sign an editor out."""
    response = _redirect(request, "admin_login_form", done="signed-out")
    await session.end(request, response)
    return response


# --- articles ----------------------------------------------------------------------------------------


@router.get("", name="admin_page")
async def admin_page(
    request: Request, settings: SettingsDep, store: StoreDep, pipeline: PipelineDep, done: str = ""
) -> Response:
    """The article list with audio status, engine and voice, and the lexicon; sign-in first."""
    csrf = await session.current(request, settings)
    if csrf is None:
        return _redirect(request, "admin_login_form")
    return await _admin_page(request, store, pipeline, csrf, notice=NOTICES.get(done))


@router.post("/articles/{slug}/regenerate", name="admin_regenerate", dependencies=[session.EditorForm])
async def regenerate(request: Request, slug: str, store: StoreDep, pipeline: PipelineDep) -> Response:
    """Start the article's audio again, even after a failure; chunks already cached are kept."""
    await pipeline.regenerate(await store.get_article(slug))
    return _back(request, "regenerating")


@router.get("/articles/{slug}/delete", name="admin_confirm_delete")
async def confirm_delete(request: Request, slug: str, settings: SettingsDep, store: StoreDep) -> Response:
    """Ask before deleting: a link cannot delete, only the form on this page can."""
    csrf = await session.current(request, settings)
    if csrf is None:
        return _redirect(request, "admin_login_form")
    article = await store.get_article(slug)
    return _page(request, "admin_confirm_delete.html", {"article": article, "csrf": csrf})


@router.post("/articles/{slug}/delete", name="admin_delete", dependencies=[session.EditorForm])
async def delete(request: Request, slug: str, pipeline: PipelineDep) -> Response:
    """Stop the article's jobs and delete it with all its revisions; `cache gc` later frees its audio."""
    await pipeline.delete(slug)
    return _back(request, "deleted")


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
    return _back(request, "lexicon-saved")


@router.post("/lexicon/delete", name="admin_lexicon_remove", dependencies=[session.EditorForm])
async def remove_lexicon(request: Request, store: StoreDep, written: Annotated[str, Form()] = "") -> Response:
    """Remove an entry; the written form comes from a hidden field, so any text (even markup) round-trips."""
    await store.remove_lexicon(written)
    return _back(request, "lexicon-removed")
