"""Rendered reader pages in memory: found by what the request decides, kept fresh by what the store decides.

A page's HTML depends on two things:
- the request: the base of its absolute links (scheme, Host, server, root path), its path (the preference
  forms come back to it) and the reader's preferences (cookies). That is the key (``request_key``), which the
  page handlers and ``page_front`` compute from the same raw ASGI scope, so they always agree;
- the store: the article's revision, its chunks (text, lexicon, engine), its audio. A handler reads them and
  keeps what it read in the entry (``content``), with the store's generation at the time it began reading
  (``changes.Changes``). The entry is fresh while the generation has not moved.

``page_front`` serves fresh, settled entries without the framework, the store or a thread. The handlers
serve everything else, and re-render only when what they read differs from the entry's ``content``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import HTMLResponse, Response
from starlette.types import Scope

from tts_service.changes import Changes
from tts_service.lru import ByteLRU, deep_size
from tts_service.web import prefs

# The page varies with the preference cookies; browsers keep it but ask (If-None-Match) before reusing it.
PAGE_HEADERS = {"Cache-Control": "no-cache", "Vary": "Cookie"}
RawHeaders = tuple[tuple[bytes, bytes], ...]


def not_modified(etag: str, if_none_match: str) -> bool:
    """Whether a request with this If-None-Match already holds the page (weak comparison, or ``*``)."""
    return etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")} or (
        if_none_match.strip() == "*"
    )


def page_response(body: bytes, etag: str, if_none_match: str) -> Response:
    """The page with its ETag, or 304 if the reader already has it: how both paths answer."""
    headers = {"ETag": etag, **PAGE_HEADERS}
    if not_modified(etag, if_none_match):
        return Response(status_code=304, headers=headers)
    return HTMLResponse(body, headers=headers)


def request_key(scope: Scope, host: bytes | None, cookies: Iterable[bytes]) -> Hashable:
    """Everything a page takes from its request; ``host`` is the first Host header, ``cookies`` all the
    Cookie headers (as Starlette reads them). Finer than needed is safe: it only means more entries."""
    choice = prefs.chosen(cookies)
    root = scope.get("root_path", "")
    return (
        scope.get("scheme", "http"),
        host,
        scope.get("server"),
        root,
        scope.get("app_root_path", root),
        scope["path"],
        tuple(choice.values()),
    )


def scope_key(scope: Scope) -> Hashable:
    """``request_key`` of a whole scope (the handlers' way to it)."""
    headers = scope["headers"]
    host = next((value for name, value in headers if name == b"host"), None)
    return request_key(scope, host, (value for name, value in headers if name == b"cookie"))


@dataclass(frozen=True)
class CachedPage:
    """A rendered page, what it showed, and when it may be served without asking the store."""

    body: bytes
    etag: str  # strong: a hash of the bytes
    content: Hashable  # everything the template read from the store
    route: str  # the route's template, for metrics and the access line
    generation: int  # the store's generation when the handler began reading ``content``
    # Whether asking the store again could do more than read: False when a request for the page would start
    # work (missing audio with nobody making it, a whole-article file to build). Then every request asks.
    settled: bool
    job: asyncio.Task[Any] | None  # settled only while this task (this process's job) runs
    ok: RawHeaders  # the answers' own headers, as sent, computed once: 200 …
    unchanged: RawHeaders  # … and 304
    nbytes: int  # what body and content hold, measured once (content can hold 2 MB of chunks)

    @classmethod
    def rendered(
        cls,
        body: bytes,
        content: Hashable,
        route: str,
        generation: int,
        settled: bool,
        job: asyncio.Task[Any] | None,
    ) -> CachedPage:
        etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
        ok = tuple(page_response(body, etag, "").raw_headers)
        unchanged = tuple(page_response(body, etag, etag).raw_headers)
        nbytes = deep_size(body, content, ok, unchanged)
        return cls(body, etag, content, route, generation, settled, job, ok, unchanged, nbytes)

    def stamped(self, generation: int, settled: bool, job: asyncio.Task[Any] | None) -> CachedPage:
        """The same page, read again at ``generation`` and found unchanged."""
        return dataclasses.replace(self, generation=generation, settled=settled, job=job)


def _size(key: Hashable, page: CachedPage) -> int:
    return deep_size(key) + page.nbytes


class PageCache:
    """Rendered pages by request key, least recently used going first; bounded in bytes, keys included (an
    article page holds its plan's chunks, which can be larger than the page, and stay alive with it)."""

    def __init__(self, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._pages: ByteLRU[Hashable, CachedPage] = ByteLRU(max_bytes, _size)
        self.changes: Changes | None = None  # the store's; nothing is fresh until the app sets it

    def get(self, key: Hashable) -> CachedPage | None:
        """The entry under ``key``, fresh or not (a handler compares what it read with its content)."""
        return self._pages.get(key)

    def put(self, key: Hashable, page: CachedPage) -> CachedPage:
        return self._pages.put(key, page)

    def fresh(self, key: Hashable) -> CachedPage | None:
        """The entry under ``key`` if it may be served as it is: nothing changed since it was read, and
        reading again would do nothing more than read."""
        page = self._pages.get(key)
        if page is None or self.changes is None or page.generation != self.changes.generation:
            return None
        if not page.settled or (page.job is not None and page.job.done()):
            return None
        return page
