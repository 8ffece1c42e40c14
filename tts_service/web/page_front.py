"""The fast path for reader pages: a cached page answered before the framework runs.

A popular article's readers all ask for the same few pages (one per preference choice). Going through
routing, dependencies and the store for each costs far more than sending the bytes, so this plain ASGI
middleware, the outermost of the service's, answers a request whose page is fresh in the ``PageCache``
itself: no routing, no store, no thread. Everything else, and every miss, goes on to the app, whose page
handlers render and cache.

It answers exactly as the app would, byte for byte apart from Date and X-Request-ID: the same 200 or 304
(the cache keeps both answers' headers as the handlers build them), then what the middleware it bypasses
adds (X-Request-ID, then the security headers); and it counts and logs the request as they do
(``middleware.record_request``). ``tests/web/test_page_front.py`` compares the two answers.

What "fresh" means, and how long a change made by another process can take to show, is in
``tts_service.changes``.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from tts_service.logs import REQUEST_ID, request_id
from tts_service.metrics import Metrics
from tts_service.web.middleware import RAW_SECURITY_HEADERS, record_request
from tts_service.web.page_cache import PageCache, not_modified, request_key


class PageFront:
    """Answers GET and HEAD for pages fresh in ``cache``; passes everything else to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        cache: PageCache,
        metrics: Metrics,
        security: tuple[tuple[bytes, bytes], ...] = RAW_SECURITY_HEADERS,
    ) -> None:
        self.app, self.cache, self.metrics, self.security = app, cache, metrics, security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        host: bytes | None = None
        incoming_id = if_none_match = None  # the first of each, as Starlette's Headers.get reads them
        cookies: list[bytes] = []
        for name, value in scope["headers"]:
            if name == b"host":
                host = value if host is None else host
            elif name == b"cookie":
                cookies.append(value)
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1") if if_none_match is None else if_none_match
            elif name == b"x-request-id":
                incoming_id = value.decode("latin-1") if incoming_id is None else incoming_id
            elif name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
                await self.app(scope, receive, send)  # a body: the app's limits decide what happens to it
                return
        page = self.cache.fresh(request_key(scope, host, cookies))
        if page is None:
            await self.app(scope, receive, send)
            return
        rid = request_id(incoming_id)
        token = REQUEST_ID.set(rid)
        status, headers, body = 200, page.ok, page.body
        if if_none_match is not None and not_modified(page.etag, if_none_match):
            status, headers, body = 304, page.unchanged, b""
        try:
            tail = ((b"x-request-id", rid.encode("latin-1")), *self.security)
            await send({"type": "http.response.start", "status": status, "headers": [*headers, *tail]})
            await send({"type": "http.response.body", "body": body})
        finally:
            record_request(self.metrics, scope, page.route, status, time.perf_counter() - start)
            REQUEST_ID.reset(token)
