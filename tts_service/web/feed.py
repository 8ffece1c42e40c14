"""A podcast-style RSS 2.0 feed of the articles whose audio is ready."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from email.utils import format_datetime

from fastapi import APIRouter, Request, Response

from tts_service.article import Article
from tts_service.store import AssemblyRecord
from tts_service.web.deps import PipelineDep, StoreDep

router = APIRouter()
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ET.register_namespace("itunes", ITUNES)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _published(article: Article) -> dt.datetime:
    """When the article was published: its date, or when it was first stored if it has none."""
    when = dt.datetime.fromisoformat(article.date or article.created_at)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _pub_date(article: Article) -> str:
    return format_datetime(_published(article))


def _newest_first(article: Article) -> tuple[dt.datetime, str]:
    """The feed's order: publication date, then the last update (a typo fixed in an old article does not
    bring it to the top, as ordering by update alone did)."""
    return _published(article), article.updated_at


def rss(request: Request, items: list[tuple[Article, AssemblyRecord]]) -> bytes:
    """The feed document, built as a tree so that every title and URL is escaped properly."""
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    for tag, text in (
        ("title", "tts_service 语音播报"),
        ("link", str(request.url_for("index"))),
        ("description", "文章的朗读音频"),
        ("language", "zh-cn"),
    ):
        ET.SubElement(channel, tag).text = text
    for article, whole in items:
        item = ET.SubElement(channel, "item")
        page = str(request.url_for("article_page", slug=article.slug))
        ET.SubElement(item, "title").text = article.title
        ET.SubElement(item, "link").text = page
        ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = f"{article.slug}@{article.revision}"
        ET.SubElement(item, "pubDate").text = _pub_date(article)
        if article.byline:
            ET.SubElement(item, f"{{{ITUNES}}}author").text = article.byline
        url = str(request.url_for("audio_file", key=whole.key))
        ET.SubElement(item, "enclosure", {"url": url, "length": str(whole.size), "type": "audio/mpeg"})
        ET.SubElement(item, f"{{{ITUNES}}}duration").text = _duration(whole.duration)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


class RSSResponse(Response):
    media_type = "application/rss+xml"


@router.get("/feed.xml", name="feed", response_class=RSSResponse)
async def feed(request: Request, store: StoreDep, pipeline: PipelineDep) -> Response:
    items = []
    for article in sorted(await store.list_articles(), key=_newest_first, reverse=True):
        whole = (await pipeline.audio(article, start=False)).whole
        if whole is not None:
            items.append((article, whole))
    return Response(rss(request, items), media_type="application/rss+xml; charset=utf-8")
