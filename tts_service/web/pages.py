"""Reader pages: the article list, the article with its 语音播报 player, and the reading preferences."""

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

# Preferences live in cookies and are applied when the server renders, so the page never flashes.
PREFS = {
    "size": ("tts_size", {"s": "小", "m": "中", "l": "大", "xl": "特大"}, "m"),
    "scheme": ("tts_scheme", {"auto": "标准", "contrast": "高对比"}, "auto"),
}
_YEAR = 365 * 24 * 3600


def _prefs(request: Request) -> dict[str, str]:
    """The reader's choices from their cookies, defaults for anything missing or unknown."""
    chosen = {}
    for name, (cookie, values, default) in PREFS.items():
        value = request.cookies.get(cookie, default)
        chosen[name] = value if value in values else default
    return chosen


def _render(request: Request, name: str, context: dict, status_code: int = 200) -> HTMLResponse:
    prefs = _prefs(request)
    context = {"prefs": prefs, "choices": {k: v[1] for k, v in PREFS.items()}, **context}
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
async def index(request: Request, store: StoreDep, pipeline: PipelineDep) -> HTMLResponse:
    articles = await store.list_articles()
    manifests = [await pipeline.manifest(article) for article in articles]
    return _render(request, "index.html", {"items": list(zip(articles, manifests, strict=True))})


@router.get("/articles/{slug}", response_class=HTMLResponse, name="article_page")
async def article_page(request: Request, slug: str, store: StoreDep, pipeline: PipelineDep) -> HTMLResponse:
    article = await store.get_article(slug)
    manifest = await pipeline.manifest(article)
    if manifest.status == "pending":
        await pipeline.start(article)  # render now; audio arrives in the background
    whole = await pipeline.whole(article, manifest)
    context = {"article": article, "paragraphs": _paragraphs(manifest.plan), "manifest": manifest}
    context["whole"] = whole
    return _render(request, "article.html", context)


@router.post("/prefs", name="set_prefs")
async def set_prefs(
    size: Annotated[str | None, Form()] = None,
    scheme: Annotated[str | None, Form()] = None,
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Keep a reading preference in a cookie and go back: how the controls work without JavaScript."""
    # Only same-site paths: "//host" and "/\\host" would send the reader elsewhere.
    target = next if next.startswith("/") and next[1:2] not in ("/", "\\") else "/"
    response = RedirectResponse(target, status_code=303)
    for name, value in (("size", size), ("scheme", scheme)):
        cookie, values, _ = PREFS[name]
        if value in values:
            response.set_cookie(cookie, value, max_age=_YEAR, samesite="lax", httponly=False)
    return response


def error_page(request: Request, exc: TTSError) -> HTMLResponse:
    return _render(request, "error.html", {"error": exc}, status_code=exc.status_code)
