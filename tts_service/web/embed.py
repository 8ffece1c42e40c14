"""The embedded toolbar's API: a host page's audio by its URL (``/api/embed``), for allowed sites only.

The allow-list (TTS_EMBED_ORIGINS) is checked on the ``Origin`` header before the body is read, and the page
must belong to that origin. Anyone can forge an Origin with curl, so this is not authentication: what a
caller can make the service do is bounded by the quotas and the article-size limit (README: threat model).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator

from tts_service.errors import Forbidden
from tts_service.text.unicode import check_text
from tts_service.urls import MAX_URL_CHARS, canonical_url, site_of
from tts_service.web.auth import AuthFirst, precheck
from tts_service.web.deps import PipelineDep, SettingsDep, StoreDep
from tts_service.web.schemas import ERRORS, EmbedOut, ErrorOut

router = APIRouter(prefix="/api", responses=ERRORS, route_class=AuthFirst)


def _answers(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """Error answers in the schema, with what each means for this operation (the router's ERRORS else)."""
    return {code: {"model": ErrorOut, "description": text} for code, text in descriptions.items()}


_POST_ERRORS = _answers(
    {
        403: "The Origin is not in TTS_EMBED_ORIGINS (or there is none), or the page is not on that site;"
        " nothing is read, stored or synthesised",
        404: "TTS_EMBED_MODE=published-only, and no editor published or pre-generated this page",
        409: "The page's URL belongs to another article",
        413: "Over a size limit: the request body (TTS_MAX_BODY_BYTES), the text (TTS_MAX_ARTICLE_CHARS),"
        " or more new text than the site's whole daily quota (TTS_EMBED_DAILY_CHARS)",
        422: "Invalid input: not an absolute http(s) URL, no text, control characters",
        429: "The site's quota is spent (TTS_EMBED_REVISIONS_PER_MINUTE new revisions a minute, or"
        " TTS_EMBED_DAILY_CHARS characters of new text a UTC day); nothing is stored",
    }
)
_POST_ERRORS[429]["headers"] = {
    "Retry-After": {
        "description": "Whole seconds until the site may store a new revision again",
        "schema": {"type": "integer"},
    }
}
_GET_ERRORS = _answers({404: "No page is stored under this URL", 422: "Not an absolute http(s) URL"})


class EmbedIn(BaseModel):
    """What the toolbar read of a host page (``text/blocks.py`` states the rule it follows)."""

    url: str = Field(max_length=MAX_URL_CHARS, description="The page's address (location.href).")
    title: str = Field(min_length=1, max_length=300)
    paragraphs: list[str] = Field(min_length=1, max_length=10_000, description="The article's paragraphs.")

    @field_validator("url", "title")
    @classmethod
    def _valid_unicode(cls, value: str) -> str:
        return check_text(value)

    @field_validator("paragraphs")
    @classmethod
    def _valid_paragraphs(cls, value: list[str]) -> list[str]:
        return [check_text(p) for p in value]


async def _check_site(request: Request) -> None:
    await _site(request)


@precheck(_check_site)
async def _site(request: Request) -> str:
    """The calling site (``Origin``) if it may embed; 403 otherwise, before the body is read."""
    allowed: frozenset[str] = request.app.state.settings.embed_origin_list
    origin = (request.headers.get("origin") or "").rstrip("/").lower()
    if not allowed:
        raise Forbidden("embedding is off on this service: its operator sets TTS_EMBED_ORIGINS")
    if origin not in allowed:
        shown = origin or "a request without an Origin header"
        raise Forbidden(f"{shown} may not embed this service: it is not in TTS_EMBED_ORIGINS")
    return origin


@router.post("/embed", responses=_POST_ERRORS)
async def embed_page(
    request: Request,
    body: EmbedIn,
    settings: SettingsDep,
    pipeline: PipelineDep,
    site: Annotated[str, Depends(_site)],
) -> EmbedOut:
    """The audio of a host page as the toolbar read it: stored under the page's canonical URL (a new
    revision when its text changed), and made where missing; answers at once, pending or ready."""
    if site_of(body.url) != site:
        raise Forbidden(f"the page {body.url} does not belong to {site}, the site asking for it")
    create = settings.embed_mode == "open"
    audio = await pipeline.page(body.url, body.title, body.paragraphs, create=create, site=site)
    return EmbedOut.of(request, audio)


@router.get("/embed", responses=_GET_ERRORS)
async def embedded_page(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    pipeline: PipelineDep,
    url: Annotated[str, Query(max_length=MAX_URL_CHARS, description="The page's address.")],
) -> EmbedOut:
    """The audio of a page stored already (published by an editor, crawled, or embedded before)."""
    article = await store.article_by_url(canonical_url(url, settings.embed_keep_query_list))
    return EmbedOut.of(request, await pipeline.audio(article))
