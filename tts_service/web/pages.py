"""Reader pages: the article list, the article with its 语音播报 player, and the text-size preference."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from tts_service.errors import TTSError
from tts_service.pipeline import Plan
from tts_service.web.deps import PipelineDep, StoreDep

router = APIRouter()

SIZES = {"s": "小", "m": "中", "l": "大"}
SIZE_COOKIE = "tts_size"
_YEAR = 365 * 24 * 3600


def _size(request: Request) -> str:
    value = request.cookies.get(SIZE_COOKIE, "m")
    return value if value in SIZES else "m"


def _render(request: Request, name: str, context: dict, status_code: int = 200) -> HTMLResponse:
    context = {"size": _size(request), "sizes": SIZES, **context}
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _paragraphs(plan: Plan) -> list[list[tuple[str, int | None]]]:
    """Each paragraph as (text, spoken chunk index or None) pieces, so the page can mark what is read."""
    spoken_index = {id(c): i for i, c in enumerate(plan.spoken)}
    return [
        [(c.text, spoken_index.get(id(c))) for c in pieces]
        for _, pieces in groupby(plan.chunks, key=lambda c: c.paragraph)
    ]


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, store: StoreDep) -> HTMLResponse:
    return _render(request, "index.html", {"articles": await store.list_articles()})


@router.get("/articles/{slug}", response_class=HTMLResponse, name="article_page")
async def article_page(request: Request, slug: str, store: StoreDep, pipeline: PipelineDep) -> HTMLResponse:
    article = await store.get_article(slug)
    manifest = await pipeline.manifest(article)
    if manifest.status == "pending":
        await pipeline.start(article)  # render now; audio arrives in the background
    context = {"article": article, "paragraphs": _paragraphs(manifest.plan), "manifest": manifest}
    return _render(request, "article.html", context)


@router.post("/prefs", name="set_prefs")
async def set_prefs(size: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    """Keep the text size in a cookie and go back; this is how the size buttons work without JavaScript."""
    # Only same-site paths: "//host" and "/\\host" would send the reader elsewhere.
    target = next if next.startswith("/") and next[1:2] not in ("/", "\\") else "/"
    response = RedirectResponse(target, status_code=303)
    if size in SIZES:
        response.set_cookie(SIZE_COOKIE, size, max_age=_YEAR, samesite="lax", httponly=False)
    return response


def error_page(request: Request, exc: TTSError) -> HTMLResponse:
    return _render(request, "error.html", {"error": exc}, status_code=exc.status_code)
