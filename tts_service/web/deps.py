"""Dependency aliases for handlers: the services on app.state, and the editor check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tts_service.config import MIN_TOKEN_CHARS, Settings
from tts_service.errors import Unauthorized
from tts_service.pipeline import Pipeline
from tts_service.store import Store
from tts_service.web.auth import bearer, guard, precheck


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


# Documents the scheme in the OpenAPI schema; the check itself reads the header (``auth.bearer``).
_bearer = HTTPBearer(auto_error=False, description="The editor token (TTS_EDITOR_TOKEN).")
EDITOR_OFF = f"editor access is off: set TTS_EDITOR_TOKEN (at least {MIN_TOKEN_CHARS} characters)"


async def is_editor(request: Request, settings: Settings) -> bool:
    """True when the request carries the editor token; a wrong token counts against its client (429)."""
    key = settings.editor_key
    return key is not None and await guard(request).allows(request, bearer(request), (key,))


async def _check_editor(request: Request) -> None:
    settings: Settings = request.app.state.settings
    if settings.editor_key is None:
        raise Unauthorized(EDITOR_OFF)
    if not await is_editor(request, settings):
        raise Unauthorized("missing or wrong editor token")


@precheck(_check_editor)
async def require_editor(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """The editor token, or 401 (429 after too many wrong ones); checked before the body is read."""
    await _check_editor(request)


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[Store, Depends(_store)]
PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
Editor = Depends(require_editor)
