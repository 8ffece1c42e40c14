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


def _require_editor(
    settings: Annotated[Settings, Depends(_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected = settings.editor_token.get_secret_value().encode() if settings.editor_token else None
    if expected is None:
        raise Unauthorized("editor access is disabled: set TTS_EDITOR_TOKEN")
    given = credentials.credentials.encode() if credentials else b""
    if not hmac.compare_digest(given, expected):
        raise Unauthorized("missing or wrong editor token")


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[Store, Depends(_store)]
PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
Editor = Depends(_require_editor)
