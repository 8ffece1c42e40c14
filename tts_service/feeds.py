"""The podcast-style RSS 2.0 feed of the articles whose audio is ready: one document, served by the app
(``/feed.xml``) and written by ``tts-service publish``; each caller says where its pages and audio are."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.utils import format_datetime

from tts_service.article import Article
from tts_service.store import AssemblyRecord

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ET.register_namespace("itunes", ITUNES)


@dataclass(frozen=True)
class FeedItem:
    """An article in the feed, with the absolute URLs of its page and of its whole-article MP3."""

    article: Article
    whole: AssemblyRecord
    page_url: str
    audio_url: str


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _published(article: Article) -> dt.datetime:
    """When the article was published: its date, or when it was first stored if it has none."""
    when = dt.datetime.fromisoformat(article.date or article.created_at)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def newest_first(articles: Iterable[Article]) -> list[Article]:
    """The feed's order: publication date, then the last update (a typo fixed in an old article does not
    bring it to the top, as ordering by update alone did)."""
    return sorted(articles, key=lambda a: (_published(a), a.updated_at), reverse=True)


def rss(link: str, items: Sequence[FeedItem]) -> bytes:
    """The feed document (``link``: the site's front page), built as a tree so that every title and URL is
    escaped properly."""
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    for tag, text in (
        ("title", "tts_service 语音播报"),
        ("link", link),
        ("description", "文章的朗读音频"),
        ("language", "zh-cn"),
    ):
        ET.SubElement(channel, tag).text = text
    for entry in items:
        article, whole = entry.article, entry.whole
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = article.title
        ET.SubElement(item, "link").text = entry.page_url
        ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = f"{article.slug}@{article.revision}"
        ET.SubElement(item, "pubDate").text = format_datetime(_published(article))
        if article.byline:
            ET.SubElement(item, f"{{{ITUNES}}}author").text = article.byline
        attributes = {"url": entry.audio_url, "length": str(whole.size), "type": "audio/mpeg"}
        ET.SubElement(item, "enclosure", attributes)
        ET.SubElement(item, f"{{{ITUNES}}}duration").text = _duration(whole.duration)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
