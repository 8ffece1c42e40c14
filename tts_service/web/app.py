"""The app factory: ``create_app(settings)`` builds store, cache, engines and pipeline in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from tts_service import __version__
from tts_service.cache import AudioCache
from tts_service.config import REPO_ROOT, Settings
from tts_service.engines import Engine, EngineRegistry
from tts_service.errors import TTSError, Unauthorized
from tts_service.pipeline import Pipeline
from tts_service.store import Store
from tts_service.web import admin, api, audio, feed, middleware, pages

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
TEMPLATES_DIR = REPO_ROOT / "templates"


def create_app(settings: Settings | None = None, *, engines: dict[str, Engine] | None = None) -> FastAPI:
    """Build the ASGI app. ``engines`` replaces engines by name (tests use it to count calls)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.db_path)
        registry = EngineRegistry(settings, engines)
        # Fail at start-up, not on the first request, if the default engine is unusable; and load its models
        # and dictionaries now, so that the first reader's audio starts quickly.
        await registry.warm()
        app.state.settings = settings
        app.state.store = store
        app.state.cache = AudioCache(settings.cache_dir)
        app.state.pipeline = Pipeline(settings, store, app.state.cache, registry)
        try:
            yield
        finally:
            await app.state.pipeline.aclose()
            registry.close()
            store.close()

    app = FastAPI(title="tts_service", version=__version__, lifespan=lifespan)
    app.state.templates = Jinja2Templates(directory=TEMPLATES_DIR)
    app.state.page_cache = pages.PageCache()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(audio.router)
    app.include_router(feed.router)
    app.include_router(admin.router)
    middleware.install(app, settings)
    app.add_exception_handler(TTSError, _handle_error)
    return app


async def _handle_error(request: Request, exc: Exception) -> Response:
    """Map service errors to status codes: JSON for the API, a short page for readers."""
    assert isinstance(exc, TTSError)
    if exc.status_code >= 500:
        log.error("request %s failed: %s", request.url.path, exc.message)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
    if request.url.path.startswith(("/api/", "/audio/")):
        return JSONResponse({"detail": exc.message, "code": exc.code}, exc.status_code, headers=headers)
    return pages.error_page(request, exc)
