"""OpenAI's text-to-speech dialect, for the apps that speak it: ``POST /v1/audio/speech``, and errors in
OpenAI's shape (``{"error": {"message", "type", "param", "code"}}``) on every ``/v1`` path.

The official ``openai`` clients work against it unchanged (``OpenAI(base_url=".../v1", api_key=KEY)``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from tts_service.audio import formats
from tts_service.engines import ENGINE_NAMES, Prosody
from tts_service.errors import TTSError
from tts_service.speech import Piece, encoded
from tts_service.text import source
from tts_service.text.unicode import check_text
from tts_service.voices import resolve_voice
from tts_service.web.api_keys import Caller, charge, note_cache_hits
from tts_service.web.auth import AuthFirst
from tts_service.web.deps import PipelineDep

MAX_INPUT = 4096  # characters, as OpenAI's own limit
# OpenAI's model names take the default engine (TTS_ENGINE): one Mandarin voice quality, however asked.
MODELS: dict[str, str | None] = {"tts-1": None, "tts-1-hd": None, **{name: name for name in ENGINE_NAMES}}
ResponseFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]


class InvalidRequest(TTSError):
    """A request OpenAI would refuse with 400, naming the field at fault."""

    status_code = 400
    code = "invalid_request"

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        if code is not None:
            self.code = code


class ModelNotFound(TTSError):
    status_code = 404
    code = "model_not_found"


class SpeechIn(BaseModel):
    """OpenAI's speech request. ``instructions`` is accepted and ignored: it is never read out, nor injected
    into the text."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        description="tts-1 or tts-1-hd (the default engine), or an engine: local, edge, espeak"
    )
    input: str = Field(min_length=1, description=f"At most {MAX_INPUT} characters; SSML if it starts <speak>")
    voice: str = Field(description="A voice id (GET /v1/audio/voices) or an OpenAI voice name (alloy, nova…)")
    instructions: str | None = Field(default=None, description="Accepted for compatibility; not used.")
    response_format: ResponseFormat = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0, description="0.25-4.0; applied within 0.5-2.0.")
    stream_format: Literal["audio", "sse"] = "audio"


class ModelOut(BaseModel):
    """A model as OpenAI's ``/v1/models`` describes one."""

    id: str
    object: Literal["model"] = "model"
    created: int = Field(description="Unix time")
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIError(BaseModel):
    """An error in OpenAI's shape."""

    error: OpenAIErrorDetail


_ERROR_CODES = {400: "Invalid request", 401: "No valid key", 403: "Not allowed", 404: "No such thing"}
_ERROR_CODES |= {413: "Too large", 429: "Over a limit (Retry-After)", 503: "Busy or an engine down"}
OPENAI_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": OpenAIError, "description": text} for status, text in _ERROR_CODES.items()
}
# Each ``created`` is when this API first offered the model (OpenAI's field is a Unix time).
MODELS_CREATED = int(datetime(2026, 12, 2, tzinfo=UTC).timestamp())
OWNER = "tts_service"

router = APIRouter(prefix="/v1", route_class=AuthFirst, tags=["openai"], responses=OPENAI_ERRORS)
_TYPES = sorted({*formats.FORMATS.values(), "text/event-stream"})
_AUDIO: dict[int | str, dict[str, Any]] = {200: {"content": {t: {} for t in _TYPES}, "description": "Audio"}}


def speech_rate(speed: float) -> int:
    """OpenAI's speed (a factor) as the engines' rate in percent, held within what they can do (-50…+100)."""
    return max(-50, min(100, round((speed - 1) * 100)))


def _engine(model: str) -> str | None:
    if model not in MODELS:
        message = f"unknown model {model!r}; use one of {', '.join(MODELS)}"
        raise InvalidRequest(message, "model", "model_not_found")
    return MODELS[model]


@router.post("/audio/speech", response_class=Response, responses=_AUDIO)
async def create_speech(request: Request, body: SpeechIn, caller: Caller, pipeline: PipelineDep) -> Response:
    """Speak ``input``: audio sent sentence by sentence as it is made (chunked), or as server-sent events."""
    engine = pipeline.planner.resolve(_engine(body.model), None)[0].name
    voice = resolve_voice(engine, check_text(body.voice), request.app.state.voices)  # refreshed lists count
    if len(body.input) > MAX_INPUT:
        raise InvalidRequest(f"input is {len(body.input)} characters; the limit is {MAX_INPUT}", "input")
    text = check_text(body.input)
    prosody = Prosody(rate=speech_rate(body.speed))
    speech = await pipeline.speech(text, engine, voice, prosody, fmt=source.sniff(text), limit=MAX_INPUT)
    await charge(request, caller, len(text))
    await note_cache_hits(request, caller, speech.hits)
    pieces = speech.pieces()
    first = await anext(pieces)  # a failure before any audio is still an error status, not a cut stream
    audio = encoded(_after(first, pieces), body.response_format)
    # Unbuffered through nginx; X-Speed: the speed applied, within what the engines can do.
    headers = {
        "X-Accel-Buffering": "no",
        "Cache-Control": "no-store",
        "X-Speed": f"{1 + prosody.rate / 100:g}",
    }
    if body.stream_format == "sse":
        return StreamingResponse(_events(audio, len(text)), media_type="text/event-stream", headers=headers)
    return StreamingResponse(audio, media_type=formats.FORMATS[body.response_format], headers=headers)


def _model(model_id: str) -> ModelOut:
    return ModelOut(id=model_id, created=MODELS_CREATED, owned_by=OWNER)


@router.get("/models")
async def list_models(caller: Caller) -> ModelList:
    """The models ``/v1/audio/speech`` takes, in OpenAI's list shape."""
    return ModelList(data=[_model(model_id) for model_id in MODELS])


@router.get("/models/{model_id}")
async def get_model(model_id: str, caller: Caller) -> ModelOut:
    """One model; 404 (``model_not_found``) for an unknown one, without repeating its name back."""
    if model_id not in MODELS:
        raise ModelNotFound(f"no such model; the models are {', '.join(MODELS)}")
    return _model(model_id)


async def _after(first: Piece, rest: AsyncIterator[Piece]) -> AsyncIterator[Piece]:
    yield first
    async for piece in rest:
        yield piece


async def _events(audio: AsyncIterator[bytes], chars: int) -> AsyncIterator[bytes]:
    """OpenAI's speech events: ``speech.audio.delta`` with base64 audio, then ``speech.audio.done`` (usage
    counts the input's characters as its tokens)."""
    async for data in audio:
        if data:
            yield _event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode("ascii")})
    usage = {"input_tokens": chars, "output_tokens": 0, "total_tokens": chars}
    yield _event({"type": "speech.audio.done", "usage": usage})


def _event(data: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


# Errors -------------------------------------------------------------------------------------------------


def is_openai(request: Request) -> bool:
    """Whether a request is on OpenAI's paths, whose errors take OpenAI's shape."""
    return request.url.path == "/v1" or request.url.path.startswith("/v1/")


def _type(status: int) -> str:
    if status == 429:
        return "requests"
    return "server_error" if status >= 500 else "invalid_request_error"


_CODES = {401: "invalid_api_key", 429: "rate_limit_exceeded"}


def error_response(exc: TTSError) -> JSONResponse:
    """``exc`` in OpenAI's shape; a body that fails validation is a 400 there, as OpenAI answers it."""
    status = 400 if exc.status_code == 422 else exc.status_code
    param = getattr(exc, "param", None)
    code = _CODES.get(status, exc.code)
    body = {"error": {"message": exc.message, "type": _type(status), "param": param, "code": code}}
    return JSONResponse(body, status, headers=exc.headers)


def invalid_body(errors: list[dict[str, Any]]) -> JSONResponse:
    """A request body that does not validate, in OpenAI's shape: 400 naming the first field at fault."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = [str(part) for part in first["loc"] if part != "body"]
    message = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in errors)
    exc = InvalidRequest(message or "invalid request", ".".join(loc) or None)
    return error_response(exc)


def _field(loc: list[Any]) -> str:
    return ".".join(str(part) for part in loc if part != "body") or "body"
