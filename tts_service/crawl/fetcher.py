"""The crawl's one HTTP client, and a polite one: robots.txt obeyed, requests spaced, only HTML pages read.

Redirects are not followed here: a redirect's target is one more link for the crawler, so it passes through
the same scope and robots.txt checks as any other.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from importlib import metadata
from urllib.parse import urljoin

import httpx

from tts_service.crawl import robots
from tts_service.crawl.robots import Robots
from tts_service.errors import Disallowed, Unreachable
from tts_service.text.extract import decode
from tts_service.urls import site_of

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
MAX_PAGE_BYTES = 5 * 1024 * 1024  # larger "pages" are archives or data dumps, never articles
MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309: at least 500 KiB of robots.txt must be read
TIMEOUT = 30.0


def user_agent() -> str:
    """``tts_service/0.1.0 (…)``: robots.txt rules for ``tts_service`` apply to it; site logs can tell it."""
    try:
        version = metadata.version("tts_service")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version = "dev"
    return f"{robots.USER_AGENT}/{version} (read-aloud pre-generation; tts-service crawl)"


def client() -> httpx.AsyncClient:
    """The HTTP client a crawl runs with (proxies from the environment, as other tools use them)."""
    return httpx.AsyncClient(headers={"User-Agent": user_agent()}, timeout=TIMEOUT, follow_redirects=False)


@dataclass(frozen=True)
class Answer:
    """What fetching a page found: its text if it is an HTML page, a redirect's target, or why neither."""

    url: str
    html: str | None = None
    location: str | None = None
    note: str = ""


class Fetcher:
    """Fetches one site's pages, one at a time, at least ``delay`` seconds (or the site's Crawl-delay, if
    longer) after the previous answer ended, and never a URL the site's robots.txt forbids."""

    def __init__(self, http: httpx.AsyncClient, delay: float) -> None:
        self.http = http
        self.delay = delay
        self._robots: dict[str, Robots] = {}
        self._last: float | None = None  # when the previous answer ended (time.monotonic)

    async def _pace(self, site: str) -> None:
        delay = max(self.delay, self._robots[site].delay if site in self._robots else 0.0)
        if self._last is not None:
            await asyncio.sleep(max(0.0, self._last + delay - time.monotonic()))

    async def robots(self, url: str) -> Robots:
        """The rules of ``url``'s site, fetched once (redirects followed, as RFC 9309 asks); Unreachable if
        the site does not answer."""
        site = site_of(url)
        if site not in self._robots:
            await self._pace(site)
            try:
                async with self.http.stream("GET", f"{site}/robots.txt", follow_redirects=True) as answer:
                    text = (await _body(answer, MAX_ROBOTS_BYTES)).decode("utf-8", errors="replace")
            except httpx.HTTPError as exc:
                raise Unreachable(f"{site} did not answer: {_reason(exc)}") from None
            finally:
                self._last = time.monotonic()
            self._robots[site] = robots.from_answer(answer.status_code, text)
        return self._robots[site]

    async def check(self, url: str) -> None:
        """Disallowed if robots.txt forbids ``url`` to us."""
        if not (await self.robots(url)).allows(url):
            raise Disallowed(
                f"robots.txt of {site_of(url)} does not allow {robots.USER_AGENT} to fetch {url}"
            )

    async def page(self, url: str) -> Answer:
        """Fetch a page: its decoded text when the answer is an HTML page (the body is read only then), else
        a note. Disallowed if robots.txt forbids it."""
        await self.check(url)
        await self._pace(site_of(url))
        try:
            async with self.http.stream("GET", url) as response:
                return await _answer(url, response)
        except httpx.HTTPError as exc:
            return Answer(url, note=f"no answer: {_reason(exc)}")
        finally:
            self._last = time.monotonic()

    async def file(self, url: str, limit: int) -> bytes:
        """A file the crawl needs (a sitemap): its bytes, up to ``limit``; Unreachable if there is none."""
        await self.check(url)
        await self._pace(site_of(url))
        try:
            async with self.http.stream("GET", url, follow_redirects=True) as response:
                if response.status_code != 200:
                    raise Unreachable(f"{url} answered HTTP {response.status_code}")
                content = await _body(response, limit + 1)
        except httpx.HTTPError as exc:
            raise Unreachable(f"{url} did not answer: {_reason(exc)}") from None
        finally:
            self._last = time.monotonic()
        if len(content) > limit:
            raise Unreachable(f"{url} is larger than {limit // 2**20} MB")
        return content


async def _body(response: httpx.Response, limit: int) -> bytes:
    """The body's first ``limit`` bytes; the rest is never downloaded."""
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


async def _answer(url: str, response: httpx.Response) -> Answer:
    if response.is_redirect and "location" in response.headers:
        return Answer(url, location=urljoin(url, response.headers["location"]))
    if response.status_code != 200:
        return Answer(url, note=f"HTTP {response.status_code}")
    mime = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if mime not in HTML_TYPES:
        return Answer(url, note=f"not HTML ({mime or 'no content type'})")
    raw = await _body(response, MAX_PAGE_BYTES + 1)
    if len(raw) > MAX_PAGE_BYTES:
        return Answer(url, note=f"larger than {MAX_PAGE_BYTES // 2**20} MB")
    return Answer(url, html=decode(raw, response.charset_encoding))


def _reason(exc: httpx.HTTPError) -> str:
    return str(exc) or type(exc).__name__
