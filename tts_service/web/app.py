"""The app factory: ``create_app(settings)`` builds store, cache, engines and pipeline in the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from redis.asyncio import Redis
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from tts_service import __version__, resources
from tts_service.config import Settings
from tts_service.engines import Engine
from tts_service.engines.shared_state import cancellable_client
from tts_service.errors import Busy, InvalidInput, TTSError
from tts_service.gate import Gate
from tts_service.metrics import Metrics
from tts_service.services import open_services
from tts_service.sessions import SessionStore
from tts_service.states import AudioStatus
from tts_service.voices import VoiceCatalog
from tts_service.web import (
    admin,
    api,
    audio,
    audio_urls,
    embed,
    feed,
    middleware,
    openai,
    ops,
    pages,
    speak,
    toolbar,
    voices,
)
from tts_service.web.api_keys import KeyLimits
from tts_service.web.audio_memory import AudioMemory
from tts_service.web.auth import FAILURES_PER_MINUTE, TokenGuard
from tts_service.web.content import wants_json
from tts_service.web.page_cache import PageCache
from tts_service.web.page_front import PageFront
from tts_service.web.ratelimit import RateLimiter
from tts_service.web.session import token_fingerprint
from tts_service.web.shared_limits import SharedRateLimiter

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, engines: dict[str, Engine] | None = None) -> FastAPI:
    """Build the ASGI app. ``engines`` replaces engines by name (tests use it to count calls)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for warning in settings.token_warnings():
            log.warning(warning)
        async with open_services(settings, engines=engines, metrics=app.state.metrics) as services:
            # Fail at start-up, not on the first request, if the default engine is unusable; and load its
            # models and dictionaries now, so that the first reader's audio starts quickly. With the task
            # queue the workers synthesise: the web process builds the engine (to plan) but loads no voice.
            if services.pipeline.queue is None:
                await services.engines.warm()
            else:
                services.engines.get()
            app.state.settings = settings
            app.state.store = services.store
            app.state.cache = services.cache
            app.state.pipeline = services.pipeline
            app.state.sessions = SessionStore(services.store)
            await app.state.sessions.prune(token_fingerprint(settings))  # those of an old token, or expired
            await services.pipeline.resume()  # jobs a killed process left half done
            # Cached pages are fresh while the store's generation stands; other processes' writes move it
            # when the watcher sees them (tts_service/changes.py).
            app.state.page_cache.changes = services.store.changes
            watch = services.store.changes.follow(services.store.data_version, settings.changes_poll)
            watcher = asyncio.create_task(watch, name="store-changes")
            try:
                yield
            finally:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
                if app.state.redis is not None:
                    await app.state.redis.aclose()

    app = _App(title="tts_service", version=__version__, lifespan=lifespan)
    # The package's templates when installed, the top-level templates/ in a checkout.
    app.state.templates = Jinja2Templates(directory=resources.templates_dir())
    app.state.templates.env.globals["AudioStatus"] = AudioStatus  # templates compare states by name
    app.state.templates.env.globals["url_for"] = audio_urls.url_for  # audio under TTS_AUDIO_BASE_URL
    # Pages allow audio from where it is (media-src: TTS_AUDIO_BASE_URL, or the store's presigned URLs),
    # those from memory too.
    app.state.page_policy = middleware.page_csp(audio_urls.media_origin(settings))
    app.state.page_security = middleware.raw_security_headers(app.state.page_policy)
    app.state.page_cache = PageCache()
    app.state.audio_memory = AudioMemory(settings.audio_memory_mb << 20)
    app.state.redis = _redis(settings)
    app.state.tts_limiter = (
        RateLimiter(settings.public_tts_per_minute)
        if app.state.redis is None
        else SharedRateLimiter(app.state.redis, "tts", settings.public_tts_per_minute)
    )
    app.state.key_limits = KeyLimits(app.state.redis)  # each API key's requests per minute
    app.state.tts_gate = Gate(settings.synthesis_slots, settings.tts_queue, settings.tts_queue_seconds)
    # Wrong tokens, wherever they are tried; counted in Redis for the whole deployment when it has one.
    app.state.token_guard = TokenGuard(
        None if app.state.redis is None else SharedRateLimiter(app.state.redis, "tokens", FAILURES_PER_MINUTE)
    )
    app.state.metrics = Metrics()
    app.state.voices = VoiceCatalog(settings.home)  # read when first asked for, as the edge engine reads it
    app.mount("/static", StaticFiles(directory=resources.static_dir()), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(speak.router)
    app.include_router(openai.router)
    app.include_router(embed.router)
    app.include_router(toolbar.router)
    app.include_router(audio.router)
    app.include_router(feed.router)
    app.include_router(admin.router)
    app.include_router(ops.router)
    app.include_router(voices.router)
    audio.install_hot_path(app)  # first: every middleware below wraps it
    middleware.install(app, settings)
    app.add_exception_handler(TTSError, _handle_error)
    app.add_exception_handler(RequestValidationError, _handle_invalid)
    app.add_exception_handler(HTTPException, _handle_http)
    return app


def _redis(settings: Settings) -> Redis | None:
    """The deployment's Redis (TTS_REDIS_URL), or None: it connects at its first use, not here."""
    if settings.redis_url is None or not settings.redis_url.get_secret_value().strip():
        return None
    return cancellable_client(settings.redis_url.get_secret_value(), 5.0)


class _App(FastAPI):
    """FastAPI with ``PageFront`` outside all of its layers, even the error and telemetry ones it puts
    outside the app's own middleware: a page fresh in the cache is answered before anything else runs.
    (The front handles no error of its own making: it answers from memory, or passes the request on.)"""

    def build_middleware_stack(self) -> ASGIApp:
        state = self.state
        return PageFront(
            super().build_middleware_stack(), state.page_cache, state.metrics, state.page_security
        )


async def _handle_invalid(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 shape (``detail``: a list of errors) plus our ``code`` and one readable ``message``.

    The submitted value is never echoed back: it may be hostile, or (a lone surrogate) not even encodable.
    """
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    if openai.is_openai(request):
        return openai.invalid_body(errors)
    message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    if wants_json(request.url.path, request.headers.get("accept", "")):
        body = {"detail": errors, "code": "invalid_input", "message": message}
        return JSONResponse(body, status_code=422)
    return pages.error_page(request, InvalidInput(message))


# Starlette's own errors (no route, wrong method, a body that cannot be parsed) in the service's shape.
_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}


class _HTTPError(TTSError):
    def __init__(self, exc: HTTPException, request: Request) -> None:
        super().__init__(_http_message(exc, request))
        self.status_code = exc.status_code
        self.code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        self._headers = dict(exc.headers or {})

    @property
    def headers(self) -> dict[str, str]:
        return self._headers


def _http_message(exc: HTTPException, request: Request) -> str:
    """Starlette's "Not Found" and "Method Not Allowed", saying what was asked (and what is allowed)."""
    path = request.url.path
    if exc.status_code == 404 and exc.detail == "Not Found":
        return f"nothing at {path}"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow")
        return f"{request.method} is not allowed on {path}" + (f"; allowed: {allowed}" if allowed else "")
    return str(exc.detail)


async def _handle_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return await _handle_error(request, _HTTPError(exc, request))


async def _handle_error(request: Request, exc: Exception) -> Response:
    """Map service errors to status codes: JSON for the API, a short page for readers."""
    assert isinstance(exc, TTSError)
    if exc.status_code >= 500:  # a full queue is the design working, not a fault to alert on
        level = logging.INFO if isinstance(exc, Busy) else logging.ERROR
        log.log(level, "request %s failed: %s", request.url.path, exc.message)
    if openai.is_openai(request):
        return openai.error_response(exc)
    if wants_json(request.url.path, request.headers.get("accept", "")):
        return JSONResponse(exc.body(), exc.status_code, headers=exc.headers)
    return pages.error_page(request, exc)
