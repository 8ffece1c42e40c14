"""POST /api/tts: speak a short text now. Editors always; apps with an API key, within the key's limits;
anyone, rate-limited per client, when TTS_PUBLIC_TTS=1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema, field_validator

from tts_service.engines import Prosody, parse_rate
from tts_service.errors import Forbidden, InvalidInput, RateLimited, Unauthorized
from tts_service.gate import Gate
from tts_service.snippet import whole
from tts_service.text import source
from tts_service.text.unicode import check_text
from tts_service.web.api_keys import ApiCaller, charge, identify, note_cache_hits
from tts_service.web.auth import AuthFirst, precheck
from tts_service.web.deps import PipelineDep, SettingsDep
from tts_service.web.disconnect import CLIENT_GONE, ClientGone, unless_disconnected
from tts_service.web.ratelimit import RateLimiter
from tts_service.web.schemas import ERRORS
from tts_service.web.shared_limits import SharedRateLimiter

router = APIRouter(prefix="/api", responses=ERRORS, route_class=AuthFirst)


def _rate(value: object) -> int:
    """``rate`` as the CLI reads it (``engines.parse_rate``); a ValueError, so that pydantic reports a 422."""
    try:
        return parse_rate(value)  # type: ignore[arg-type]  # parse_rate refuses other types itself
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


_RATE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": -50, "maximum": 100},
        {"type": "string", "pattern": r"^\s*[+-]?\d{1,4}\s*%?\s*$", "examples": ["+20%", "-10%"]},
    ],
    "default": 0,
}


class SpeakIn(BaseModel):
    text: str = Field(min_length=1, description="At most TTS_TTS_MAX_CHARS characters (413 beyond).")
    engine: str | None = None
    voice: str | None = None
    rate: Annotated[int, BeforeValidator(_rate), WithJsonSchema(_RATE_SCHEMA)] = Field(
        default=0,
        description='Speed change in percent, -50 to +100: "+20%" or "-10%" (as edge-tts and the CLI'
        " write it), or a number.",
    )

    @field_validator("text", "engine", "voice")
    @classmethod
    def _valid_unicode(cls, value: str | None) -> str | None:
        return value if value is None else check_text(value)


_AUDIO: dict[int | str, dict[str, Any]] = {200: {"content": {"audio/mpeg": {}}, "description": "The MP3"}}


async def _check_caller(request: Request) -> None:
    await _caller(request)


@precheck(_check_caller)
async def _caller(request: Request) -> ApiCaller:
    """An editor, a key holder, or the public (when open to it); otherwise 401, before the body is read."""
    caller = await identify(request)
    if caller is not None:
        return caller
    if not request.app.state.settings.public_tts:
        raise Unauthorized(
            "POST /api/tts needs an API key or the editor token (or TTS_PUBLIC_TTS=1 on the server)"
        )
    return ApiCaller(editor=False)


@router.post("/tts", response_class=Response, responses=_AUDIO)
async def tts(
    request: Request,
    body: SpeakIn,
    settings: SettingsDep,
    pipeline: PipelineDep,
    caller: Annotated[ApiCaller, Depends(_caller)],
) -> Response:
    """The MP3 of a short text, made now (cached per sentence)."""
    if not caller.editor and body.engine is not None and body.engine != pipeline.engines.default:
        # The public and apps get the default engine: their calls must not reach (and trip the circuit of)
        # an engine the operator did not choose for them.
        who = "requests with an API key" if caller.key is not None else "public requests"
        raise Forbidden(f"{who} use the default engine ({pipeline.engines.default})")
    # Planned first: whatever is refused (too long, nothing to say, a bad voice or SSML) costs a key nothing.
    prosody, fmt = Prosody(rate=body.rate), source.sniff(body.text)  # <speak>…: the SSML subset
    speech = await pipeline.speech(body.text, body.engine, body.voice, prosody, fmt=fmt)
    if caller.key is None and not caller.editor:  # a key's rate was checked with its token
        limiter: RateLimiter | SharedRateLimiter = request.app.state.tts_limiter
        wait = await limiter.allow(request.client.host if request.client else "unknown")
        if wait:
            limit = settings.public_tts_per_minute
            raise RateLimited(f"at most {limit} requests a minute; try again in {wait:.0f} s", wait)
    gate: Gate = request.app.state.tts_gate

    async def work() -> tuple[bytes, float]:
        async with gate.enter():  # a bounded queue: a burst gets 503 now, not audio nobody waits for
            await charge(request, caller, len(body.text))  # its daily budget, once it has a worker
            return await whole(speech)

    try:
        audio, seconds = await unless_disconnected(request, work())
    except ClientGone:
        return Response(status_code=CLIENT_GONE)  # nobody reads it; the access log records the 499
    await note_cache_hits(request, caller, speech.hits)
    headers = {"X-Audio-Duration": f"{seconds:.3f}", "Cache-Control": "no-store"}
    return Response(audio, media_type="audio/mpeg", headers=headers)
