"""/api/voices, /v1/audio/voices and /v1/models, in process, with the real app over a temporary TTS_HOME."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from helpers import AUTH

from tts_service.config import Settings
from tts_service.voices import EDGE_LIST_FILE
from tts_service.web.openai import MODELS_CREATED


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An app calling with a credential: /v1 wants a key (or the editor token); /api/voices wants none."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as http:
        yield http


async def test_v1_wants_a_key_and_api_voices_does_not(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous:
        assert (await anonymous.get("/api/voices")).status_code == 200
        for path in ("/v1/models", "/v1/models/tts-1", "/v1/audio/voices"):
            refused = await anonymous.get(path)
            assert refused.status_code == 401, path
            assert refused.json()["error"]["code"] == "invalid_api_key"


VOICE_FIELDS = {
    *("id", "name", "language", "locale", "locale_name", "gender"),
    *("engine", "offline", "default", "categories", "personalities"),
}


@pytest.mark.parametrize("path", ["/api/voices", "/v1/audio/voices"])
async def test_every_engines_voices(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    voices = response.json()["voices"]
    assert [v["engine"] for v in voices] == ["local"] + ["espeak"] * 2 + ["edge"] * 14
    assert all(set(v) == VOICE_FIELDS for v in voices)
    assert voices[0] == {
        "id": "baker",
        "name": "Baker",
        "language": "zh-CN",
        "locale": "zh-CN",
        "locale_name": "Chinese (Mainland)",
        "gender": "female",
        "engine": "local",
        "offline": True,
        "default": True,
        "categories": [],
        "personalities": [],
    }
    yunyang = next(v for v in voices if v["id"] == "zh-CN-YunyangNeural")
    assert (yunyang["gender"], yunyang["offline"], yunyang["default"]) == ("male", False, False)
    assert (yunyang["categories"], yunyang["personalities"]) == (["News"], ["Professional", "Reliable"])
    assert [v["id"] for v in voices if v["default"]] == ["baker", "cmn", "zh-CN-XiaoxiaoNeural"]


async def test_both_paths_answer_alike_and_filter_by_engine(client: httpx.AsyncClient) -> None:
    for engine, count in (("local", 1), ("espeak", 2), ("edge", 14)):
        api = await client.get("/api/voices", params={"engine": engine})
        openai = await client.get("/v1/audio/voices", params={"engine": engine})
        assert api.json() == openai.json()
        assert {v["engine"] for v in api.json()["voices"]} == {engine}
        assert len(api.json()["voices"]) == count


async def test_an_unknown_engine_is_refused_naming_the_engines(client: httpx.AsyncClient) -> None:
    message = "unknown engine 'piper'; valid engines: local, espeak, edge"
    response = await client.get("/api/voices", params={"engine": "piper"})
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["message"]) == ("invalid_input", message)
    response = await client.get("/v1/audio/voices", params={"engine": "piper"})  # OpenAI's shape: a 400
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message


async def test_a_refreshed_list_in_home_is_offered(settings: Settings, client: httpx.AsyncClient) -> None:
    new = {"ShortName": "zh-CN-XiaochenNeural", "Gender": "Female", "Locale": "zh-CN"}
    (settings.home / EDGE_LIST_FILE).write_text(json.dumps({"voices": [new]}), encoding="utf-8")
    ids = [v["id"] for v in (await client.get("/api/voices?engine=edge")).json()["voices"]]
    assert len(ids) == 15 and "zh-CN-XiaochenNeural" in ids and "zh-TW-HsiaoYuNeural" in ids


async def test_models_in_openais_list_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/models")
    assert response.status_code == 200
    assert response.json() == {
        "object": "list",
        "data": [
            {"id": model, "object": "model", "created": MODELS_CREATED, "owned_by": "tts_service"}
            for model in ("tts-1", "tts-1-hd", "local", "espeak", "edge")
        ],
    }
    assert MODELS_CREATED == 1_796_169_600  # 2026-12-02 00:00 UTC: a whole number of seconds


async def test_one_model_and_an_unknown_one_in_openais_error_shape(client: httpx.AsyncClient) -> None:
    one = await client.get("/v1/models/tts-1-hd")
    assert one.status_code == 200
    assert one.json() == {
        "id": "tts-1-hd",
        "object": "model",
        "created": MODELS_CREATED,
        "owned_by": "tts_service",
    }
    unknown = await client.get("/v1/models/gpt-4o-mini-tts")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": {
            "message": "no such model; the models are tts-1, tts-1-hd, local, espeak, edge",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }


async def test_the_schema_documents_the_routes(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for path in ("/api/voices", "/v1/audio/voices"):
        ok = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/VoiceList"}
        assert "422" in paths[path]["get"]["responses"]
    listed = paths["/v1/models"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"$ref": "#/components/schemas/ModelList"}
    one = paths["/v1/models/{model_id}"]["get"]["responses"]
    assert one["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ModelOut"}
    assert one["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OpenAIError"}
    gender = app.openapi()["components"]["schemas"]["VoiceOut"]["properties"]["gender"]
    assert gender["enum"] == ["female", "male"]
