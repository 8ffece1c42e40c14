"""``/feed.xml``: the feed (``tts_service.feeds``) with the URLs of this server."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tts_service import feeds
from tts_service.web.audio_urls import audio_url
from tts_service.web.deps import PipelineDep, StoreDep

router = APIRouter()


class RSSResponse(Response):
    media_type = "application/rss+xml"


@router.get("/feed.xml", name="feed", response_class=RSSResponse)
async def feed(request: Request, store: StoreDep, pipeline: PipelineDep) -> Response:
    items = []
    for article in feeds.newest_first(await store.list_articles()):
        whole = (await pipeline.audio(article, start=False)).whole
        if whole is not None:
            page = str(request.url_for("article_page", slug=article.slug))
            audio = audio_url(request, whole.key)
            items.append(feeds.FeedItem(article, whole, page, audio))
    body = feeds.rss(str(request.url_for("index")), items)
    return Response(body, media_type="application/rss+xml; charset=utf-8")
