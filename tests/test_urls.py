"""Canonical page URLs: one key per page however it is linked, and the site it belongs to."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts_service.article import SLUG_RE
from tts_service.errors import InvalidInput
from tts_service.urls import canonical_url, page_slug, site_of


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://News.Example/a/t20200117_1.html", "https://news.example/a/t20200117_1.html"),
        ("http://news.example:80/a.html#top", "http://news.example/a.html"),
        ("https://news.example:443/a.html?utm_source=x&from=timeline", "https://news.example/a.html"),
        ("https://news.example:8443/a.html", "https://news.example:8443/a.html"),
        ("https://news.example", "https://news.example/"),
        ("  https://news.example/a.html  ", "https://news.example/a.html"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
    ],
)
def test_canonical_urls(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_named_query_parameters_are_kept_in_a_fixed_order() -> None:
    keep = {"id", "cat"}
    one = canonical_url("https://gov.example/show.php?utm=1&id=42&cat=7#x", keep)
    two = canonical_url("https://gov.example/show.php?cat=7&id=42", keep)
    assert one == two == "https://gov.example/show.php?cat=7&id=42"


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://news.example/a",
        "/relative/path",
        "news.example/a",
        "https://user:pw@news.example/",
        "http://:80/",
        "javascript:alert(1)",
        "https://news.example:99999/",
        "https://" + "a" * 2001,
    ],
)
def test_anything_but_an_absolute_http_url_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        canonical_url(bad)


def test_the_site_is_the_origin_a_browser_sends() -> None:
    assert site_of("https://News.Example:443/a/b.html?x=1") == "https://news.example"
    assert site_of("http://127.0.0.1:8123/p.html") == "http://127.0.0.1:8123"


@given(
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}\.example", fullmatch=True),
    st.from_regex(r"(/[a-zA-Z0-9._~-]{0,12}){0,4}", fullmatch=True),
)
def test_canonical_is_a_fixed_point(scheme: str, host: str, path: str) -> None:
    once = canonical_url(f"{scheme}://{host}{path}?q=1#f")
    assert canonical_url(once) == once and site_of(once) == f"{scheme}://{host}"


@pytest.mark.parametrize(
    ("url", "start"),
    [
        ("https://www.cas.cn/yw/202001/t20200117_4731234.shtml", "www-cas-cn-t20200117-4731234-"),
        ("https://news.example/", "news-example-"),
        ("http://127.0.0.1:8123/news/index.html", "127-0-0-1-index-"),
        ("https://gov.example/show.php?id=42", "gov-example-show-"),
        ("https://新闻.example/%E6%96%B0%E9%97%BB.html", "example-e6-96-b0-"),
    ],
)
def test_a_page_slug_is_readable_and_valid(url: str, start: str) -> None:
    slug = page_slug(url)
    assert slug.startswith(start) and SLUG_RE.fullmatch(slug) and slug == page_slug(url)


@given(st.from_regex(r"https?://[a-z0-9.-]{1,90}\.example(/[a-zA-Z0-9._~%-]{0,120}){0,3}", fullmatch=True))
def test_every_page_slug_is_a_valid_slug_of_its_url(url: str) -> None:
    slug = page_slug(url)
    assert SLUG_RE.fullmatch(slug) and len(slug) <= 80
    assert slug[-8:] == hashlib.sha256(url.encode()).hexdigest()[:8]


def test_pages_that_differ_only_in_the_kept_query_get_different_slugs() -> None:
    one, two = (canonical_url(f"https://gov.example/show.php?id={n}", {"id"}) for n in (1, 2))
    assert page_slug(one) != page_slug(two) and page_slug(one)[:-8] == page_slug(two)[:-8]
