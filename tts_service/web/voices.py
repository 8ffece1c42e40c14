"""The voices and models apps can choose from: ``/api/voices``, and OpenAI's ``/v1/audio/voices`` and
``/v1/models`` shapes for apps written against OpenAI's speech API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tts_service.engines import ENGINE_NAMES
from tts_service.voices import Voice, VoiceCatalog
from tts_service.web.schemas import ERRORS

router = APIRouter()

# OpenAI's two speech models, then ours by engine name. Each ``created`` is when this API first offered
# the model (OpenAI's field is the model's creation time, as a Unix timestamp).
MODEL_IDS = ("tts-1", "tts-1-hd", *ENGINE_NAMES)
MODELS_CREATED = int(datetime(2026, 12, 2, tzinfo=UTC).timestamp())
OWNER = "tts_service"


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


_VOICE_ERRORS: dict[int | str, dict[str, Any]] = {422: ERRORS[422]}


def _voices(catalog: VoiceCatalog, engine: str | None) -> VoiceList:
    return VoiceList(voices=[VoiceOut.of(voice) for voice in catalog.voices(engine)])


# Plain functions, so FastAPI runs them in its thread pool: the first call reads the edge voice lists.
@router.get("/api/voices", responses=_VOICE_ERRORS)
def api_voices(catalog: CatalogDep, engine: EngineQuery = None) -> VoiceList:
    """Every engine's voices (422 for an unknown ``engine``)."""
    return _voices(catalog, engine)


@router.get("/v1/audio/voices", responses=_VOICE_ERRORS)
def openai_voices(catalog: CatalogDep, engine: EngineQuery = None) -> VoiceList:
    """The same as ``/api/voices``, where apps written for OpenAI-compatible servers look for it."""
    return _voices(catalog, engine)


def _model(model_id: str) -> ModelOut:
    return ModelOut(id=model_id, created=MODELS_CREATED, owned_by=OWNER)


@router.get("/v1/models")
async def list_models() -> ModelList:
    """The models ``/v1/audio/speech`` takes, in OpenAI's list shape."""
    return ModelList(data=[_model(model_id) for model_id in MODEL_IDS])


@router.get("/v1/models/{model_id}", response_model=ModelOut, responses={404: {"model": OpenAIError}})
async def get_model(model_id: str) -> ModelOut | JSONResponse:
    """One model; 404 in OpenAI's error shape (``code``: ``model_not_found``) for an unknown one."""
    if model_id in MODEL_IDS:
        return _model(model_id)
    message = f"No such model (the name is not repeated back); the models are {', '.join(MODEL_IDS)}"
    detail = OpenAIErrorDetail(
        message=message, type="invalid_request_error", param=None, code="model_not_found"
    )
    return JSONResponse(OpenAIError(error=detail).model_dump(), status_code=404)
