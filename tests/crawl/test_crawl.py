"""``tts-service crawl`` against a real local HTTP server serving a saved site (tests/data/site): the real
command line, store, pipeline and espeak engine; nothing is faked."""

from __future__ import annotations

import asyncio
import os
import socket
from itertools import pairwise
from pathlib import Path

import httpx
import pytest
from helpers import CountingEngine
from saved_site import SITE_DIR, Site
from typer.testing import CliRunner, Result

from tts_service.article import Article
from tts_service.cli import app
from tts_service.config import Settings
from tts_service.engines.espeak import EspeakEngine
from tts_service.services import open_services
from tts_service.states import AudioStatus
from tts_service.text.blocks import HostPage, host_page
from tts_service.text.extract import decode
from tts_service.web import create_app

ARTICLES = ["/news/t20240506_1.html", "/news/t20240507_2.html", "/news/t20240508_3.html"]
SELECTORS = ("--article", "#zoom", "--skip", ".img-credit")
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):  # httpx honours proxy variables: keep the loopback site direct
            monkeypatch.delenv(name)
    return {"TTS_HOME": str(tmp_path), "TTS_ENGINE": "espeak", "TTS_FALLBACK_ENGINE": ""}


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the espeak engine is asked to say, in this process (the command runs in process)."""
    calls: list[str] = []
    synthesize = EspeakEngine.synthesize

    async def counted(self, text, *args, **kwargs):
        calls.append(text)
        return await synthesize(self, text, *args, **kwargs)

    monkeypatch.setattr(EspeakEngine, "synthesize", counted)
    return calls


def crawl(env: dict[str, str], *args: str) -> Result:
    return runner.invoke(app, ["crawl", *args], env=env)


def served(path: str, **selectors: str) -> HostPage:
    """What the toolbar reads on the page: the rule of text/blocks over the file as a browser decodes it."""
    return host_page(decode((SITE_DIR / path.lstrip("/")).read_bytes()), **selectors)


def stored(tmp_path: Path) -> dict[str, tuple[Article, AudioStatus]]:
    """Every stored page article by URL, with its audio status, read back from the store."""

    async def read() -> dict[str, tuple[Article, AudioStatus]]:
        async with open_services(Settings(home=tmp_path, engine="espeak", fallback_engine=None)) as services:
            found = {}
            for listed in await services.store.list_articles():
                article = await services.store.get_article(listed.slug)
                if article.url:
                    found[article.url] = (article, (await services.pipeline.manifest(article)).status)
            return found

    return asyncio.run(read())


def test_the_article_pages_are_stored_as_the_toolbar_reads_them(env, tmp_path: Path, site: Site) -> None:
    """Each article under its canonical URL, with exactly the title and paragraphs the toolbar reads, the
    extractor's byline and date, and its audio ready. Disallowed pages (a robots.txt wildcard, a directory)
    are never requested; nor are documents, pages outside /news/, other sites, or one page twice."""
    result = crawl(env, site.url("/news/index.html"), *SELECTORS, "--delay", "0")
    assert result.exit_code == 0, result.output
    pages = stored(tmp_path)
    assert sorted(pages) == [site.url(p) for p in ARTICLES]
    for path in ARTICLES:
        article, audio = pages[site.url(path)]
        page = served(path, article="#zoom", skip=".img-credit")
        assert (article.title, article.text) == (page.title, "\n\n".join(page.paragraphs))
        assert audio == AudioStatus.READY
    first = pages[site.url(ARTICLES[0])][0]
    assert "图为会议现场" not in first.text and "分享到" not in first.text  # --skip, and outside #zoom
    assert (first.byline, first.date) == ("李明", "2024-05-06")  # the extractor's metadata
    assert "老工业基地转型升级" in pages[site.url(ARTICLES[2])][0].text  # the GBK page, decoded
    lines = result.stdout.splitlines()[-10:]  # one per URL reached, then the counts
    index = site.url("/news/index.html")
    assert lines[0] == f"skipped   {index}: no element matches the article selector '#zoom'"
    assert lines[-1] == "3 stored, 0 unchanged, 6 skipped; audio failed for 0"
    assert f"skipped   {site.url('/news/attachment-6')}: not HTML (application/octet-stream)" in lines
    assert f"skipped   {site.url('/news/t20240510_7.html')}: HTTP 404" in lines
    for path in ("/news/t20240509_4_print.html", "/news/internal/t20240509_5.html"):
        assert f"skipped   {site.url(path)}: robots.txt does not allow it" in lines
    assert site.paths() == [
        "/robots.txt",
        "/news/index.html",
        *ARTICLES,
        "/news/t20240510_7.html",
        "/news/attachment-6",
    ]


def test_a_second_crawl_of_an_unchanged_site_makes_nothing(
    env, tmp_path: Path, site: Site, engine_calls
) -> None:
    assert crawl(env, site.url("/news/index.html"), *SELECTORS, "--delay", "0").exit_code == 0
    first = {url: article.revision for url, (article, _) in stored(tmp_path).items()}
    assert len(first) == 3 and engine_calls
    engine_calls.clear()
    again = crawl(env, site.url("/news/index.html"), *SELECTORS, "--delay", "0")
    assert again.exit_code == 0, again.output
    assert {url: article.revision for url, (article, _) in stored(tmp_path).items()} == first
    assert engine_calls == []
    unchanged = [line for line in again.stdout.splitlines() if line.startswith("unchanged")]
    assert len(unchanged) == 3 and all(line.endswith("(revision 1): audio ready") for line in unchanged)
    assert again.stdout.splitlines()[-1] == "0 stored, 3 unchanged, 6 skipped; audio failed for 0"


def test_the_toolbar_finds_a_crawled_page_unchanged(env, tmp_path: Path, site: Site) -> None:
    """What the service was made for: when a reader opens a crawled page, the toolbar sends what it read,
    and the service has it all (the same revision, its audio ready) and synthesises nothing."""
    assert crawl(env, site.url("/news/index.html"), *SELECTORS, "--delay", "0").exit_code == 0
    espeak = CountingEngine(EspeakEngine())
    settings = Settings(home=tmp_path, engine="espeak", fallback_engine=None, embed_origins=site.origin)

    async def embed(path: str) -> dict[str, object]:
        page = served(path, article="#zoom", skip=".img-credit")
        body = {"url": site.url(path) + "#top", "title": page.title, "paragraphs": list(page.paragraphs)}
        application = create_app(settings, engines={"espeak": espeak})
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://tts.test") as client:
                answer = await client.post("/api/embed", json=body, headers={"Origin": site.origin})
        assert answer.status_code == 200, answer.text
        return answer.json()

    for path in ARTICLES:
        answer = asyncio.run(embed(path))
        assert (answer["revision"], answer["status"]) == (1, "ready"), path
    assert espeak.calls == []


def test_without_selectors_index_pages_are_passed_through(env, tmp_path: Path, site: Site) -> None:
    """No --article: the toolbar's fallback rule finds each article's text, and the extractor tells the
    index pages (stored by no one) from the articles. --whole-site leaves /news/; --limit stops the crawl."""
    result = crawl(env, site.url("/"), "--whole-site", "--limit", "4", "--delay", "0")
    assert result.exit_code == 0, result.output
    assert [path for _, path in site.page_requests()] == [
        "/",
        "/news/index.html",
        "/about/index.html",
        "/news/t20240506_1.html",
    ]
    assert "not an article page (no article body found" in result.stdout
    pages = stored(tmp_path)
    assert sorted(pages) == [site.url("/about/index.html"), site.url(ARTICLES[0])]
    for path in ("/about/index.html", ARTICLES[0]):
        article, _ = pages[site.url(path)]
        page = served(path)
        assert (article.title, article.text) == (page.title, "\n\n".join(page.paragraphs))


def test_a_sitemap_lists_the_pages(env, tmp_path: Path, site: Site) -> None:
    """--sitemap: the pages of the sitemap index's sitemaps, in their order, in scope and allowed; no links
    followed. A missing sitemap in the index is reported and passed over."""
    first = crawl(env, site.url("/"), "--sitemap", "--limit", "1", *SELECTORS, "--delay", "0")
    assert first.exit_code == 0, first.output
    assert [path for _, path in site.page_requests()] == ["/news/t20240508_3.html"]
    result = crawl(env, site.url("/sitemap.xml"), "--sitemap", *SELECTORS, "--delay", "0")
    assert result.exit_code == 0, result.output
    assert sorted(stored(tmp_path)) == [site.url(p) for p in ("/about/index.html", ARTICLES[0], ARTICLES[2])]
    lines = [line.split(" → ")[0] for line in result.stdout.splitlines()[-6:]]
    assert lines == [
        f"skipped   {site.url('/sitemap-2023.xml')}: {site.url('/sitemap-2023.xml')} answered HTTP 404",
        f"unchanged {site.url(ARTICLES[2])}",
        f"stored    {site.url('/about/index.html')}",
        f"stored    {site.url(ARTICLES[0])}",
        f"skipped   {site.url('/news/t20240509_4_print.html')}: robots.txt does not allow it",
        "2 stored, 1 unchanged, 2 skipped; audio failed for 0",
    ]
    assert "/news/index.html" not in site.paths()


def gaps(site: Site) -> list[float]:
    return [later - earlier for (earlier, _), (later, _) in pairwise(site.requests)]


def test_requests_are_spaced_by_the_delay(env, site: Site) -> None:
    """Every request, robots.txt included, comes at least --delay after the previous answer. (A lower
    bound only: how much longer a request takes is the machine's business.)"""
    result = crawl(env, site.url("/news/index.html"), "--article", "#none", "--limit", "3", "--delay", "0.2")
    assert result.exit_code == 0, result.output
    assert len(site.requests) == 4 and min(gaps(site)) >= 0.2


def test_a_longer_crawl_delay_in_robots_txt_wins(env, site: Site) -> None:
    robots = b"User-agent: *\nCrawl-delay: 0.3\nDisallow: /search\n"
    site.replaced["/robots.txt"] = (200, "text/plain", robots)
    result = crawl(env, site.url("/news/index.html"), "--article", "#none", "--limit", "2", "--delay", "0")
    assert result.exit_code == 0, result.output
    assert len(site.requests) == 3 and min(gaps(site)[1:]) >= 0.3


def test_a_redirect_is_followed_as_a_link(env, site: Site) -> None:
    """Through the same scope and robots.txt checks as any link: in scope it is fetched, else reported."""
    site.redirects["/news/"] = "/news/index.html"
    site.redirects["/news/t20240510_7.html"] = "https://other.example/t7.html"
    result = crawl(env, site.url("/news/"), "--article", "#none", "--delay", "0")
    assert result.exit_code == 0, result.output
    pages = [path for _, path in site.page_requests()]
    assert pages == ["/news/", "/news/index.html", *ARTICLES, "/news/t20240510_7.html", "/news/attachment-6"]
    assert f"skipped   {site.url('/news/')}: redirects to {site.url('/news/index.html')}" in result.stdout
    seven = site.url("/news/t20240510_7.html")
    assert f"skipped   {seven}: redirects to https://other.example/t7.html" in result.stdout


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "replaced", "message"),
    [
        (("ftp://academy.example/",), {}, "error: url must be an absolute http or https URL"),
        (
            ("{site}/report.pdf",),
            {},
            "error: {site}/report.pdf is not a web page (for a sitemap, add --sitemap)",
        ),
        (("http://127.0.0.1:{closed}/news/",), {}, "error: http://127.0.0.1:{closed} did not answer: "),
        (
            ("{site}/news/index.html",),
            {"/robots.txt": (200, "text/plain", b"User-agent: tts_service\nDisallow: /news/\n")},
            "error: robots.txt of {site} does not allow tts_service to fetch {site}/news/index.html",
        ),
        (
            ("{site}/news/index.html",),
            {"/robots.txt": (503, "text/plain", b"")},  # RFC 9309: the site cannot say now, so: nothing
            "error: robots.txt of {site} does not allow tts_service to fetch {site}/news/index.html",
        ),
        (
            ("{site}/", "--sitemap"),
            {"/sitemap.xml": (404, "text/html", b"")},
            "error: {site}/sitemap.xml answered HTTP 404",
        ),
        (
            ("{site}/", "--sitemap"),
            {"/sitemap.xml": (200, "text/html", b"<html>")},
            "error: {site}/sitemap.xml is not a sitemap",
        ),
        (
            ("{site}/", "--article", "#a["),
            {},
            "error: data-article is not a CSS selector this service reads: '#a['",
        ),
    ],
)
def test_what_stops_a_crawl_is_one_line(env, site: Site, args, replaced, message: str) -> None:
    site.replaced.update(replaced)
    closed = closed_port()
    result = crawl(env, *(a.format(site=site.origin, closed=closed) for a in args), "--delay", "0")
    assert result.exit_code == 1, result.output
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(message.format(site=site.origin, closed=closed)), result.stderr


@pytest.mark.parametrize("args", [("--limit", "0"), ("--delay", "-1")])
def test_bad_options_are_usage_errors(env, args: tuple[str, str]) -> None:
    assert crawl(env, "https://academy.example/news/", *args).exit_code == 2
