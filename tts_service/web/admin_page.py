"""What the editor's pages share: private rendering, redirects with a fixed notice, the signed-in check.

Notices are chosen from a fixed set by a short name in the query string, so nothing a visitor typed is ever
echoed by a link.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tts_service.config import Settings
from tts_service.errors import Forbidden
from tts_service.web import session
from tts_service.web.pages import Context, render

NOTICES = {
    "regenerating": "已开始重新生成音频。",
    "unchanged": "音频已是最新，没有需要重新生成的内容。",
    "deleted": "文章已删除。",
    "published": "文章已发布，正在生成音频。",
    "restored": "已恢复为新的修订，音频相同的句子直接沿用。",
    "lexicon-saved": "词条已保存。",
    "lexicon-removed": "词条已删除。",
}
PRIVATE = {"Cache-Control": "no-store"}  # pages carry the CSRF token and unpublished state


def page(request: Request, name: str, context: Context, status_code: int = 200) -> HTMLResponse:
    """An editor page: rendered like the reader's pages, never kept by a cache."""
    response = render(request, name, context, status_code=status_code)
    response.headers.update(PRIVATE)
    return response


def redirect(
    request: Request, route: str, /, path: dict[str, str] | None = None, **params: str
) -> RedirectResponse:
    """See Other (303) to a named route, so a reload never posts the form again."""
    url = request.url_for(route, **(path or {})).include_query_params(**params)
    return RedirectResponse(str(url), status_code=303)


def back(request: Request, done: str, route: str = "admin_page", **path: str) -> RedirectResponse:
    """Back to a page with one of the fixed notices."""
    assert done in NOTICES
    return redirect(request, route, path, done=done)


def to_login(request: Request) -> RedirectResponse:
    return redirect(request, "admin_login_form")


async def signed_in(request: Request, settings: Settings) -> str | None:
    """The session's CSRF token for a page's forms; None when the visitor must sign in first."""
    return await session.current(request, settings)


async def require_editor(request: Request, settings: Settings) -> None:
    """For what is not a page (audio): Forbidden without a live session; a redirect would be no use."""
    if await session.current(request, settings) is None:
        raise Forbidden("请先登录编辑页。")
