"""Dependency aliases for handlers: the services on app.state, and the editor check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tts_service.config import Settings
from tts_service.errors import Unauthorized
from tts_service.pipeline import Pipeline
from tts_service.store import Store


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _store(request: Request) -> Store:
    return request.app.state.store


def _pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


_bearer = HTTPBearer(auto_error=False, description="The editor token (TTS_EDITOR_TOKEN).")


def token_matches(settings: Settings, given: str) -> bool:
    """Whether ``given`` is the editor token (constant time); never when editor access is disabled."""
    if settings.editor_token is None:
        return False
    return hmac.compare_digest(given.encode(), settings.editor_token.get_secret_value().encode())


def is_editor(settings: Settings, credentials: HTTPAuthorizationCredentials | None) -> bool:
    """True when the request carries the editor token as a bearer token."""
    return credentials is not None and token_matches(settings, credentials.credentials)


def require_editor(
    settings: Annotated[Settings, Depends(_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if settings.editor_token is None:
        raise Unauthorized("editor access is disabled: set TTS_EDITOR_TOKEN")
    if not is_editor(settings, credentials):
        raise Unauthorized("missing or wrong editor token")


SettingsDep = Annotated[Settings, Depends(_settings)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
StoreDep = Annotated[Store, Depends(_store)]
PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
Editor = Depends(require_editor)
