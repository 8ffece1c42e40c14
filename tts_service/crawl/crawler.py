"""The walk over a site: breadth first from the start page, or the pages its sitemap lists, up to a limit."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from tts_service.crawl.fetcher import Answer, Fetcher
from tts_service.crawl.links import MAX_SITEMAP_BYTES, Scope, page_links, sitemap
from tts_service.errors import Disallowed, InvalidInput, Unreachable
from tts_service.urls import canonical_url, site_of

MAX_SITEMAP_FILES = 50  # a sitemap index and the sitemaps it names; more is a loop or a very large site


@dataclass(frozen=True)
class CrawlOptions:
    """What ``tts-service crawl`` was asked to do."""

    start: str
    sitemap: bool = False
    limit: int = 100  # pages fetched (robots.txt and sitemap files are not counted)
    delay: float = 1.0  # seconds between requests, at least; a longer Crawl-delay wins
    whole_site: bool = False  # else only pages under the start URL's directory
    keep_query: frozenset[str] = frozenset()  # TTS_EMBED_KEEP_QUERY: query parameters that name a page


@dataclass(frozen=True)
class Fetched:
    """An HTML page, under its canonical URL (the key it is stored under)."""

    url: str
    html: str


@dataclass(frozen=True)
class Skipped:
    """A URL the crawl came to but took no page from, and why."""

    url: str
    reason: str


async def crawl(fetcher: Fetcher, options: CrawlOptions) -> AsyncIterator[Fetched | Skipped]:
    """Every page in scope, in the order reached, up to ``options.limit`` fetched. InvalidInput, Unreachable
    or Disallowed (the whole crawl cannot start) before the first page."""
    scope = Scope.of(options.start, whole_site=options.whole_site, keep_query=options.keep_query)
    if options.sitemap:
        pages, problems = await _sitemap_pages(fetcher, options, scope)
        for problem in problems:
            yield problem
    else:
        start = scope.page(options.start)
        if start is None:
            raise InvalidInput(f"{options.start} is not a web page (for a sitemap, add --sitemap)")
        await fetcher.check(start)
        pages = [start]
    queue, seen, fetched = deque(pages), set(pages), 0
    while queue and fetched < options.limit:
        url = queue.popleft()
        try:
            answer = await fetcher.page(url)
        except Disallowed:
            yield Skipped(url, "robots.txt does not allow it")
            continue
        fetched += 1
        if answer.html is None:
            yield Skipped(url, f"redirects to {answer.location}" if answer.location else answer.note)
        else:
            yield Fetched(url, answer.html)
        for link in _next(answer, options.sitemap):
            if (target := scope.page(link)) is not None and target not in seen:
                seen.add(target)
                queue.append(target)


def _next(answer: Answer, from_sitemap: bool) -> list[str]:
    """Where a page leads: a redirect's target; else, unless the sitemap lists the pages, its links."""
    if answer.location is not None:
        return [answer.location]
    return page_links(answer.html, answer.url) if answer.html is not None and not from_sitemap else []


def _sitemap_url(start: str) -> str:
    """The start URL itself if it names a sitemap (``…/sitemap_news.xml``), else the site's /sitemap.xml."""
    path = urlsplit(start).path.lower()
    return canonical_url(start) if path.endswith((".xml", ".xml.gz")) else f"{site_of(start)}/sitemap.xml"


async def _sitemap_pages(
    fetcher: Fetcher, options: CrawlOptions, scope: Scope
) -> tuple[list[str], list[Skipped]]:
    """The pages in scope that the site's sitemap lists (through sitemap index files), in their order; read
    no further once ``limit`` are found. The first sitemap must be there (Unreachable); later ones that fail
    are reported and passed over."""
    first = _sitemap_url(options.start)
    files, seen_files, pages, problems = deque([first]), {first}, dict[str, None](), []
    for _ in range(MAX_SITEMAP_FILES):
        if not files or len(pages) >= options.limit:
            break
        url = files.popleft()
        try:
            found = sitemap(await fetcher.file(url, MAX_SITEMAP_BYTES), url)
        except (Unreachable, InvalidInput, Disallowed) as exc:
            if url == first:
                raise
            problems.append(Skipped(url, exc.message))
            continue
        files.extend(s for s in found.sitemaps if s not in seen_files)
        seen_files.update(found.sitemaps)
        pages.update(dict.fromkeys(p for p in map(scope.page, found.pages) if p is not None))
    return list(pages), problems
