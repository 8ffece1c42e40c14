"""An article's revisions on /admin: when each was made, what it changed, and restoring an old one.

Restoring publishes the old revision again as a new one. Its sentences have the same text, engine and voice,
so the same cache keys: the audio still cached plays at once and nothing is synthesised again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from tts_service.errors import NotFound
from tts_service.text.diff import text_diff
from tts_service.web import session
from tts_service.web.admin_page import NOTICES, back, page, signed_in, to_login
from tts_service.web.auth import AuthFirst
from tts_service.web.deps import PipelineDep, SettingsDep, StoreDep

router = APIRouter(include_in_schema=False, route_class=AuthFirst)  # under /admin: admin.router includes it
RevisionNumber = Annotated[int, Path(ge=1, le=2**62)]
_FIELDS = (("title", "标题"), ("byline", "作者"), ("date", "日期"), ("engine", "引擎"), ("voice", "音色"))


@router.get("/articles/{slug}/revisions", name="admin_revisions")
async def revisions(
    request: Request, slug: str, settings: SettingsDep, store: StoreDep, done: str = ""
) -> Response:
    """The article's revisions, newest first, each with its time and a link to its changes."""
    csrf = await signed_in(request, settings)
    if csrf is None:
        return to_login(request)
    article, history = await store.get_article(slug), await store.revisions(slug)
    context = {"article": article, "history": history, "csrf": csrf, "notice": NOTICES.get(done)}
    return page(request, "admin_revisions.html", context)


@router.get("/articles/{slug}/revisions/{revision}", name="admin_revision")
async def revision(
    request: Request, slug: str, revision: RevisionNumber, settings: SettingsDep, store: StoreDep
) -> Response:
    """One revision: what it changed against the one before (if that one is still kept)."""
    csrf = await signed_in(request, settings)
    if csrf is None:
        return to_login(request)
    current, shown = await store.get_article(slug), await store.get_revision(slug, revision)
    try:
        before = await store.get_revision(slug, revision - 1) if revision > 1 else None
    except NotFound:  # gone with retention (TTS_KEEP_REVISIONS)
        before = None
    fields = []
    if before is not None:
        for name, label in _FIELDS:
            old, new = getattr(before, name), getattr(shown, name)
            if old != new:
                fields.append((label, old or "（无）", new or "（无）"))
    context = {
        "current": current,
        "shown": shown,
        "before": before,
        "fields": fields,
        "changes": text_diff(before.text, shown.text) if before is not None else None,
        "csrf": csrf,
    }
    return page(request, "admin_revision.html", context)


@router.post(
    "/articles/{slug}/revisions/{revision}/restore", name="admin_restore", dependencies=[session.EditorForm]
)
async def restore(
    request: Request, slug: str, revision: RevisionNumber, store: StoreDep, pipeline: PipelineDep
) -> Response:
    """Publish an old revision again, as the newest one."""
    old = await store.get_revision(slug, revision)
    await pipeline.publish(old.draft(), must_exist=True)  # every field as it was: SSML stays SSML
    return back(request, "restored", "admin_revisions", slug=slug)
