"""The voices and models apps can choose from: ``/api/voices``, and OpenAI's ``/v1/audio/voices`` and
``/v1/models`` shapes for apps written against OpenAI's speech API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from tts_service.engines import ENGINE_NAMES
from tts_service.voices import Voice, VoiceCatalog
from tts_service.web.api_keys import Caller
from tts_service.web.auth import AuthFirst
from tts_service.web.openai import OPENAI_ERRORS
from tts_service.web.schemas import ERRORS

router = APIRouter(route_class=AuthFirst)


def _catalog(request: Request) -> VoiceCatalog:
    catalog: VoiceCatalog = request.app.state.voices
    return catalog


CatalogDep = Annotated[VoiceCatalog, Depends(_catalog)]
EngineQuery = Annotated[
    str | None, Query(max_length=40, description=f"Only this engine's voices: {', '.join(ENGINE_NAMES)}.")
]


class VoiceOut(BaseModel):
    """One voice: ``id`` is what the API's ``voice`` takes (with the ``engine`` it belongs to)."""

    id: str
    name: str
    language: str = Field(description="Language and region (BCP 47): zh-CN, zh-HK, zh-TW")
    locale: str = Field(description="Microsoft's locale, with a dialect where there is one: zh-CN-liaoning")
    locale_name: str = Field(description="Chinese (Mainland), Chinese (Northeastern Mandarin)…")
    gender: Literal["female", "male"]
    engine: str
    offline: bool = Field(description="Works without internet access")
    default: bool = Field(description="The engine's voice when none is asked for")
    categories: list[str] = Field(description="Microsoft's content categories: News, Novel…")
    personalities: list[str] = Field(description="Microsoft's voice personalities: Warm, Lively…")

    @classmethod
    def of(cls, voice: Voice) -> VoiceOut:
        return cls.model_validate(voice, from_attributes=True)


class VoiceList(BaseModel):
    voices: list[VoiceOut]


_VOICE_ERRORS: dict[int | str, dict[str, Any]] = {422: ERRORS[422]}


def _voices(catalog: VoiceCatalog, engine: str | None) -> VoiceList:
    return VoiceList(voices=[VoiceOut.of(voice) for voice in catalog.voices(engine)])


# Plain functions, so FastAPI runs them in its thread pool: the first call reads the edge voice lists.
@router.get("/api/voices", responses=_VOICE_ERRORS)
def api_voices(catalog: CatalogDep, engine: EngineQuery = None) -> VoiceList:
    """Every engine's voices (422 for an unknown ``engine``)."""
    return _voices(catalog, engine)


@router.get("/v1/audio/voices", responses=OPENAI_ERRORS)
def openai_voices(catalog: CatalogDep, caller: Caller, engine: EngineQuery = None) -> VoiceList:
    """The same as ``/api/voices``, where apps written for OpenAI-compatible servers look for it."""
    return _voices(catalog, engine)
