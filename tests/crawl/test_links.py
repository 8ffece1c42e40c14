"""Where a crawl goes next: the scope of a site, a page's links, and what a sitemap lists."""

from __future__ import annotations

import gzip

import pytest

from tts_service.crawl import links
from tts_service.crawl.links import Scope, page_links, sitemap
from tts_service.errors import InvalidInput

SITE = "https://www.academy.example"


@pytest.mark.parametrize(
    ("start", "whole_site", "prefix"),
    [
        (f"{SITE}/xwzx/index.html", False, "/xwzx/"),
        (f"{SITE}/xwzx/", False, "/xwzx/"),
        (f"{SITE}/xwzx", False, "/"),
        (f"{SITE}/xwzx/zhyw/index.shtml?page=2", False, "/xwzx/zhyw/"),
        (f"{SITE}/xwzx/index.html", True, "/"),
    ],
)
def test_the_scope_is_the_start_urls_directory(start: str, whole_site: bool, prefix: str) -> None:
    assert Scope.of(start, whole_site=whole_site) == Scope(SITE, prefix)


@pytest.mark.parametrize(
    ("url", "page"),
    [
        (f"{SITE}/xwzx/t20200117_1.html#top", f"{SITE}/xwzx/t20200117_1.html"),
        (f"{SITE}:443/xwzx/t1.html?utm_source=wx&id=7", f"{SITE}/xwzx/t1.html?id=7"),  # TTS_EMBED_KEEP_QUERY
        (f"{SITE}/xwzx/sub/t2.htm", f"{SITE}/xwzx/sub/t2.htm"),
        (f"{SITE}/xwzx/download", f"{SITE}/xwzx/download"),  # no suffix: fetched, its type decides
        (f"{SITE}/xwzx/report.PDF", None),
        (f"{SITE}/xwzx/files/notice.docx", None),
        (f"{SITE}/about/index.html", None),  # outside the prefix
        ("http://www.academy.example/xwzx/t1.html", None),  # another origin: http is not https
        ("https://other.example/xwzx/t1.html", None),
        ("mailto:news@academy.example", None),
        ("javascript:void(0)", None),
    ],
)
def test_a_page_in_scope_and_its_canonical_url(url: str, page: str | None) -> None:
    assert Scope(SITE, "/xwzx/", frozenset({"id"})).page(url) == page


def test_links_in_document_order_against_the_base() -> None:
    html = """<html><head><base href="/xwzx/2020/"></head><body>
      <a href="t1.html">一</a><a href="#top">顶部</a><a>无链接</a><map><area href="../t2.html"></map>
      <a href=" https://other.example/x "></a><a href="mailto:a@b.example">信箱</a></body></html>"""
    assert page_links(html, f"{SITE}/index.html") == [
        f"{SITE}/xwzx/2020/t1.html",
        f"{SITE}/xwzx/t2.html",
        "https://other.example/x",
        "mailto:a@b.example",
    ]


URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc> https://www.academy.example/xwzx/t1.html </loc><lastmod>2024-05-06</lastmod></url>
  <url><loc>/xwzx/t2.html</loc></url>
  <url><lastmod>2024-05-06</lastmod></url>
</urlset>"""


def test_a_urlset_lists_pages() -> None:
    found = sitemap(URLSET, f"{SITE}/sitemap.xml")
    assert found.pages == (f"{SITE}/xwzx/t1.html", f"{SITE}/xwzx/t2.html") and found.sitemaps == ()


def test_an_index_lists_sitemaps_and_gzip_is_read() -> None:
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://www.academy.example/sitemap-1.xml.gz</loc></sitemap></sitemapindex>"""
    found = sitemap(gzip.compress(index), f"{SITE}/sitemap.xml.gz")
    assert found == links.Sitemap(sitemaps=(f"{SITE}/sitemap-1.xml.gz",))


def test_entities_are_never_expanded() -> None:
    xxe = b"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/hostname">]>
      <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>/a&x;.html</loc></url></urlset>"""
    assert sitemap(xxe, f"{SITE}/sitemap.xml").pages == (f"{SITE}/a",)


@pytest.mark.parametrize("content", [b"<html><body>404</body></html>", b"not xml", b"\x1f\x8b broken gzip"])
def test_anything_else_is_not_a_sitemap(content: bytes) -> None:
    with pytest.raises(InvalidInput, match="not"):
        sitemap(content, f"{SITE}/sitemap.xml")


def test_a_gzip_bomb_stops_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(links, "MAX_SITEMAP_BYTES", 1000)
    with pytest.raises(InvalidInput, match="larger than"):
        sitemap(gzip.compress(URLSET + b" " * 5000), f"{SITE}/sitemap.xml")
