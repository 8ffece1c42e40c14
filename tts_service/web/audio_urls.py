"""The one place the service says where an audio file is: here, or under TTS_AUDIO_BASE_URL.

Manifests (the API, the embedded toolbar's), pages, the feed and the stable ``audio.mp3`` redirect all ask
``audio_url``. With a base URL (a CDN, or the bucket's public endpoint), audio is ``{base}/{object key}``:
the object's key in the bucket (``prefix/ab/<key>.mp3``), or the file's path below ``audio_cache/`` for
the file store, whose operator serves that directory from the CDN's origin. Readers then never reach this
service, or its database, for audio.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import jinja2
from starlette.requests import Request

from tts_service.cache import AudioStore
from tts_service.config import Settings
from tts_service.services import open_audio_store


def media_origin(settings: Settings) -> str | None:
    """Where pages must let ``<audio>`` load from besides their own origin (CSP media-src): the origin of
    TTS_AUDIO_BASE_URL, or with TTS_AUDIO_REDIRECT=presigned, the object store's, where the 302 leads (a
    browser checks the policy again after a redirect). None when audio comes from this service only."""
    if settings.audio_base_url is not None:
        return _origin(settings.audio_base_url)
    if settings.audio_redirect != "presigned" or settings.s3_location is None:
        return None
    store = open_audio_store(settings)  # signing is local: no request is made
    try:
        signed = store.presigned_url("0" * 64, 60)
    finally:
        store.close()
    return _origin(signed) if signed else None


def _origin(url: str) -> str:
    split = urlsplit(url)
    return f"{split.scheme}://{split.netloc}"


def public_audio_url(base: str, store: AudioStore, key: str) -> str:
    """``{base}/{object key}``: where the audio of ``key`` is under TTS_AUDIO_BASE_URL."""
    return f"{base}/{store.object_key(key)}"


def audio_url(request: Request, key: str) -> str:
    """The absolute URL readers get the audio of ``key`` from."""
    state = request.app.state
    base: str | None = state.settings.audio_base_url
    if base is None:
        return str(request.url_for("audio_file", key=key))
    return public_audio_url(base, state.cache, key)


@jinja2.pass_context
def url_for(context: dict[str, Any], name: str, /, **params: Any) -> Any:
    """Starlette's ``url_for`` for templates, but audio files through ``audio_url``."""
    request: Request = context["request"]
    if name == "audio_file":
        return audio_url(request, params["key"])
    return request.url_for(name, **params)
