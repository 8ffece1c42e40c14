"""POST /api/tts: speak a short text now. Editors always; apps with an API key, within the key's limits;
anyone, rate-limited per client, when TTS_PUBLIC_TTS=1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema, field_validator

from tts_service.config import Settings
from tts_service.engines import Prosody, parse_rate
from tts_service.errors import Forbidden, InvalidInput, RateLimited, TooLarge, Unauthorized
from tts_service.gate import Gate
from tts_service.pipeline import Pipeline
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


async def _cached_chunks(pipeline: Pipeline, settings: Settings, body: SpeakIn) -> int:
    """How many of the text's chunks are cached already (recorded in the store): a key's cache hits. Refuses
    first what ``Pipeline.speak`` would refuse, so that a key is never charged for a refused request."""
    if len(body.text) > settings.tts_max_chars:
        raise TooLarge(
            f"text is {len(body.text)} characters; the limit for /api/tts is {settings.tts_max_chars}"
        )
    # The plan speak is about to make (it comes from the planner's memory then); a bad voice is refused here.
    plan = await pipeline.planner.plan_text(body.text, body.engine, body.voice, Prosody(rate=body.rate))
    if not plan.spoken:
        raise InvalidInput("nothing to say: the text has no words")
    records = await pipeline.store.audio_records(chunk.key for chunk in plan.spoken)
    return sum(1 for chunk in plan.spoken if chunk.key in records)


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
    hits = 0
    if caller.key is not None:  # its rate was checked with its token; its daily budget once it has a worker
        hits = await _cached_chunks(pipeline, settings, body)
    elif not caller.editor:
        limiter: RateLimiter | SharedRateLimiter = request.app.state.tts_limiter
        wait = await limiter.allow(request.client.host if request.client else "unknown")
        if wait:
            limit = settings.public_tts_per_minute
            raise RateLimited(f"at most {limit} requests a minute; try again in {wait:.0f} s", wait)
    gate: Gate = request.app.state.tts_gate

    async def work() -> tuple[bytes, float]:
        async with gate.enter():  # a bounded queue: a burst gets 503 now, not audio nobody waits for
            await charge(request, caller, len(body.text))  # here: a request refused above costs nothing
            return await pipeline.speak(body.text, body.engine, body.voice, Prosody(rate=body.rate))

    try:
        audio, seconds = await unless_disconnected(request, work())
    except ClientGone:
        return Response(status_code=CLIENT_GONE)  # nobody reads it; the access log records the 499
    await note_cache_hits(request, caller, hits)
    headers = {"X-Audio-Duration": f"{seconds:.3f}", "Cache-Control": "no-store"}
    return Response(audio, media_type="audio/mpeg", headers=headers)
