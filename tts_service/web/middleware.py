"""Middleware installed on every app: security headers, request ids and access log, CORS, body limits.

All of it is plain ASGI rather than ``BaseHTTPMiddleware``: headers are added to the response's first
message, so a streamed response (an article's audio, sentence by sentence) passes through untouched, and the
app runs in the request's own task, with its context (the request id).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import traceback

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tts_service.config import Settings
from tts_service.errors import Forbidden, RequestTimeout, TooLarge, TTSError
from tts_service.logs import ACCESS_LOGGER, REQUEST_ID, request_id
from tts_service.metrics import Metrics
from tts_service.web.content import wants_json

log = logging.getLogger(__name__)
access_log = logging.getLogger(ACCESS_LOGGER)


def _policy(**directives: str) -> str:
    return "; ".join(f"{name.replace('_', '-')} {value}" for name, value in directives.items())


# The pages load their one script and one stylesheet from /static and audio from /audio: nothing inline,
# nothing from elsewhere. img-src allows data: for browser-generated images (e.g. form control icons).
CSP = _policy(
    default_src="'self'",
    script_src="'self'",
    style_src="'self'",
    img_src="'self' data:",
    media_src="'self'",
    connect_src="'self'",
    font_src="'self'",
    object_src="'none'",
    base_uri="'self'",
    form_action="'self'",
    frame_ancestors="'none'",
)
# FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from a CDN and start them with an inline
# script: they get a policy that allows exactly that, and no other page does.
_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = _policy(
    default_src="'self'",
    script_src=f"'self' 'unsafe-inline' {_CDN}",
    style_src=f"'self' 'unsafe-inline' {_CDN} https://fonts.googleapis.com",
    img_src=f"'self' data: {_CDN} https://fastapi.tiangolo.com",
    font_src="'self' https://fonts.gstatic.com",
    connect_src="'self'",
    worker_src="'self' blob:",
    object_src="'none'",
    base_uri="'self'",
    form_action="'self'",
    frame_ancestors="'none'",
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}
# What SecurityHeaders adds to a response (other than /docs) that sets none of them, in its order, as sent.


def page_csp(media_origin: str | None) -> str:
    """The pages' policy: CSP, plus the audio's origin in media-src when the audio is elsewhere
    (``audio_urls.media_origin``)."""
    if media_origin is None:
        return CSP
    return CSP.replace("media-src 'self'", f"media-src 'self' {media_origin}")


def raw_security_headers(policy: str = CSP) -> tuple[tuple[bytes, bytes], ...]:
    """What SecurityHeaders adds to a response that sets none of them, in its order, as sent."""
    return tuple(
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in {"Content-Security-Policy": policy, **SECURITY_HEADERS}.items()
    )


RAW_SECURITY_HEADERS = raw_security_headers()
# No Cross-Origin-Resource-Policy: other sites' <audio> elements may play our audio files.
# README.md's nginx config repeats CSP, these headers and the CORS ones below for the audio it serves from
# disk; tests/test_nginx.py fails when the two part ways.

# What other origins may read (GET and HEAD only, never with credentials), when TTS_CORS_ORIGINS is set.
_CORS_PATHS = re.compile(r"/api/(?!embed$).*|/audio/.*|/articles/[^/]+/audio\.mp3|/feed\.xml")
_EMBED_PATH = "/api/embed"  # CORS of its own: the sites in TTS_EMBED_ORIGINS, by GET and POST
_CORS_METHODS = ("GET", "HEAD")
_CORS_EXPOSE = ("ETag", "Content-Range", "Accept-Ranges", "Content-Length", "Link", "X-Next-Cursor")
_APP_PATHS = re.compile(r"/v1/.*")  # the API for apps, called with an API key (``BearerCors``)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the service's middleware to ``app``; requests are counted into ``app.state.metrics``."""
    docs = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    # add_middleware wraps what is there: the last added is the outermost.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout)
    if settings.cors_origin_list:
        app.add_middleware(ReadOnlyCors, origins=settings.cors_origin_list)
        app.add_middleware(BearerCors, origins=settings.cors_origin_list)
    app.add_middleware(EmbedCors, origins=sorted(settings.embed_origin_list))
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    docs_paths = frozenset(path for path in docs if path is not None)
    app.add_middleware(SecurityHeaders, docs_paths=docs_paths, policy=app.state.page_policy)


def route_path(scope: Scope) -> str:
    """The request path below the app's root path (what the routes match against)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class SecurityHeaders:
    """Adds the content security policy and the other security headers to every response."""

    def __init__(self, app: ASGIApp, docs_paths: frozenset[str] = frozenset(), policy: str = CSP) -> None:
        self.app = app
        self.docs_paths = docs_paths
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if route_path(scope) in self.docs_paths else self.policy

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", []))
                headers = MutableHeaders(scope=message)
                # setdefault: a handler that needs a different value for one response can still set it.
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestContext:
    """Gives each request an id (logged and returned as X-Request-ID), then logs and counts it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(Headers(scope=scope).get("x-request-id"))
        token = REQUEST_ID.set(rid)
        root_path = scope.get("root_path", "")
        start = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = list(message.get("headers", []))
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if status is None:
                # Answer here, so the 500 carries the request id and the security headers; the error
                # still goes on up, to the server's log (and to a test client).
                await _internal_error(scope)(scope, receive, send_with_id)
            raise
        finally:
            self._record(scope, root_path, status if status is not None else 500, time.perf_counter() - start)
            REQUEST_ID.reset(token)

    def _record(self, scope: Scope, root_path: str, status: int, seconds: float) -> None:
        record_request(self.metrics, scope, route_template(scope, root_path), status, seconds)


def record_request(metrics: Metrics, scope: Scope, route: str, status: int, seconds: float) -> None:
    """Count an answered request and write its access line (``page_front`` answers, and records, too)."""
    metrics.observe_request(scope["method"], route, status, seconds)
    if not access_log.isEnabledFor(logging.INFO):  # TTS_ACCESS_LOG=0
        return
    client = scope.get("client")
    access_log.info(
        "%s %s %s",
        scope["method"],
        scope["path"],
        status,
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "client": client[0] if client else None,
        },
    )


def route_template(scope: Scope, root_path: str) -> str:
    """The path template of what answered (``/api/articles/{slug}``), "unmatched" if nothing matched.

    Templates, never raw paths: a label value per article (or per scanner's guess) would grow the metrics
    without bound.
    """
    route = scope.get("route")  # set by the router for routes, but not for mounts
    if route is not None:
        template: str = getattr(route, "path_format", None) or route.path
        return template
    mounted: str = scope.get("root_path", "")  # a mount (the static files) extends the root path instead
    if mounted != root_path and mounted.startswith(root_path):
        return mounted[len(root_path) :] + "/{path}"
    return "unmatched"


def _internal_error(scope: Scope) -> Response:
    """A 500 that says nothing about the cause: JSON where the app's errors are JSON, else plain text."""
    if wants_json(route_path(scope), Headers(scope=scope).get("accept", "")):
        return JSONResponse(TTSError("internal error").body(), status_code=500)
    return PlainTextResponse("Internal Server Error", status_code=500)


class ReadOnlyCors:
    """CORS for what other sites may read: the API, audio and feed, by GET and HEAD, without credentials.

    A preflight for any other method, or for a header such as Authorization, is refused, so editor
    endpoints can never be called from another origin's scripts. Other paths get no CORS headers at all.
    """

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=_CORS_METHODS,
            allow_headers=("Range",),  # seeking in audio fetched by a script
            allow_credentials=False,
            expose_headers=_CORS_EXPOSE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in (*_CORS_METHODS, "OPTIONS")
            and _CORS_PATHS.fullmatch(route_path(scope))
        ):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class BearerCors:
    """CORS for the API for apps (``/v1/*``): the origins in TTS_CORS_ORIGINS may call it by GET and POST,
    with an ``Authorization`` header (the app's API key) and a JSON body, never with credentials (cookies).

    A key in a browser is the app's to protect: the service cannot tell its page from another, so this
    widens nothing a key does not already grant. A preflight from another origin is answered 403 with the
    reason and no CORS headers, so the browser refuses the call and its developer sees why.
    """

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.any_origin = "*" in origins
        self.origins = frozenset(o.rstrip("/").lower() for o in origins)
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=("GET", "POST"),
            allow_headers=("Authorization", "Content-Type"),
            allow_credentials=False,
            # What an app reads of the answer: the length of the audio, when to come back after a 429.
            expose_headers=("Retry-After", "Content-Length", "X-Audio-Duration", "X-Request-ID"),
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _APP_PATHS.fullmatch(route_path(scope)):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = (headers.get("origin") or "").rstrip("/").lower()
        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in headers
        if self.any_origin or origin in self.origins:
            await self.cors(scope, receive, send)
        elif preflight:
            detail = f"{origin or 'this page'} may not call this API: it is not in TTS_CORS_ORIGINS"
            await _refusal(Forbidden(detail), close=False)(scope, receive, send)
        else:  # no CORS header at all (Starlette would still add the exposed ones)
            await self.app(scope, receive, send)


class EmbedCors:
    """CORS for ``/api/embed``: the sites in TTS_EMBED_ORIGINS may GET and POST it (JSON, no credentials).

    A preflight from any other site gets the same 403 and message as the request itself would, not
    Starlette's bare 400, so a site's developer sees why in the browser's console.
    """

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=("GET", "POST"),
            allow_headers=("Content-Type",),
            allow_credentials=False,
            expose_headers=("Retry-After",),  # the toolbar reads when a site's quota frees up again
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_path(scope) != _EMBED_PATH:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = (headers.get("origin") or "").rstrip("/").lower()
        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in headers
        if preflight and origin not in self.origins:
            detail = f"{origin or 'this page'} may not embed this service: it is not in TTS_EMBED_ORIGINS"
            await _refusal(Forbidden(detail), close=False)(scope, receive, send)
            return
        await self.cors(scope, receive, send)


class _BodyRefused(Exception):
    """Raised to the app from ``receive`` once a body passes its size limit or its deadline."""


class BodyLimit:
    """Answers 413 to a request body larger than ``max_bytes``, declared or streamed, and 408 to a body
    that has not all arrived ``timeout`` seconds after the app first asked for it.

    A declared Content-Length over the limit is refused before the app runs. Otherwise the body is counted
    and timed as the app reads it; past a limit, reading fails, and whatever the app makes of that failure
    is replaced by the refusal. The rest of the body is never read, so the refusal closes the connection.

    The deadline is for the whole body, so a client cannot stretch it by sending a byte now and then
    (slowloris), and it bounds how long a half-received body is held in memory. It starts at the app's
    first read, because until then the client may be waiting on us: uvicorn stops reading a connection
    whose body nobody is reading (flow control), and sends ``100 Continue`` only then.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    def too_large(self) -> Response:
        detail = f"request body too large: the limit is {self.max_bytes} bytes"
        return _refusal(TooLarge(detail))

    def too_slow(self) -> Response:
        return _refusal(RequestTimeout(f"request body not received within {self.timeout:g} s"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self.too_large()(scope, receive, send)
            return
        body = _GuardedBody(self, receive, send)
        try:
            await self.app(scope, body.receive, body.send)
        except Exception:
            if body.refusal is None or body.started:
                raise
        body.release()
        if body.refusal is not None and not body.started:
            await body.refusal(scope, receive, send)


def _refusal(error: TTSError, *, close: bool = True) -> Response:
    """The service's error shape, from middleware; ``close`` when the request body was left unread."""
    headers = {"Connection": "close"} if close else {}
    return JSONResponse(error.body(), status_code=error.status_code, headers=headers)


class _GuardedBody:
    """One request's body as the app reads it, counted and timed; and the app's answer, held back once the
    body is refused."""

    def __init__(self, limit: BodyLimit, receive: Receive, send: Send) -> None:
        self.limit = limit
        self._receive, self._send = receive, send
        self.received = 0
        self.deadline: float | None = None
        self.complete = False
        self.refusal: Response | None = None
        self.error: _BodyRefused | None = None
        self.started = False

    async def receive(self) -> Message:
        if self.complete:
            # Past the body, the app waits only for a disconnect (a streamed response listens for one
            # for as long as it streams): no deadline.
            return await self._receive()
        self.deadline = self.deadline or asyncio.get_running_loop().time() + self.limit.timeout
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            why = f"request body not complete after {self.limit.timeout:g} s"
            raise self._refuse(self.limit.too_slow(), why) from None
        self.complete = message["type"] != "http.request" or not message.get("more_body", False)
        self.received += len(message.get("body", b""))
        if self.received > self.limit.max_bytes:
            raise self._refuse(self.limit.too_large(), f"request body passed {self.limit.max_bytes} bytes")
        return message

    def _refuse(self, refusal: Response, why: str) -> _BodyRefused:
        self.refusal, self.error = refusal, _BodyRefused(why)
        return self.error

    def release(self) -> None:
        """Free the part of a refused body that the app had read, now rather than at the next full garbage
        collection.

        FastAPI turns a failed body read into an HTTPException that it keeps in a local of the frame that
        raises it: a cycle (frame, exception, traceback, frame) holding every frame the failure passed
        through, with the chunks read so far. Only a full collection frees a cycle, and those are rare in a
        process whose models and dictionaries make a large, long-lived heap. Clearing the frames' locals
        breaks the cycle; the app has finished with them.
        """
        if self.error is not None:
            traceback.clear_frames(self.error.__traceback__)

    async def send(self, message: Message) -> None:
        if self.refusal is not None and not self.started:
            return  # the app's answer to the failed read (a 400, say): the refusal replaces it
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)
