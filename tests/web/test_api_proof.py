"""GET /api/articles/{slug}/pronunciation: the editor token, 404, and the documented shape."""

from __future__ import annotations

import httpx
from helpers import AUTH, create, wait_ready

BODY = {"title": "读音", "slug": "du-yin", "text": "2019年，他在银行当行长。\n\n——"}


async def test_needs_the_editor_token_and_an_article(client: httpx.AsyncClient) -> None:
    await create(client, BODY)
    assert (await client.get("/api/articles/du-yin/pronunciation")).status_code == 401
    wrong = {"Authorization": "Bearer wrong-token-wrong-token"}
    assert (await client.get("/api/articles/du-yin/pronunciation", headers=wrong)).status_code == 401
    missing = await client.get("/api/articles/nope/pronunciation", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


async def test_shape(client: httpx.AsyncClient) -> None:
    await create(client, BODY)
    got = (await client.get("/api/articles/du-yin/pronunciation", headers=AUTH)).json()
    assert (got["slug"], got["revision"], got["engine"], got["flagged"]) == ("du-yin", 1, "espeak", 1)
    first, dash = got["sentences"]
    assert (first["index"], first["paragraph"], first["sentence"]) == (0, 0, 0)
    assert first["text"] == "2019年，他在银行当行长。" and first["spoken"] == "二零一九年，他在银行当行长。"
    assert first["flagged"] == 1
    dang = first["chars"][10]
    assert dang["char"] == "当" and dang["pinyin"] == "dāng" and dang["flagged"] is True
    assert dang["decision"]["how"] == "default" and dang["decision"]["options"][:1] == ["dāng"]
    assert first["chars"][0] == {"char": "2", "pinyin": None, "decision": None, "flagged": False}
    assert dash["text"] == "——" and dash["chars"][0]["pinyin"] is None
    await wait_ready(client, "du-yin")
    again = (await client.get("/api/articles/du-yin/pronunciation", headers=AUTH)).json()
    assert again["sentences"][0]["audio_url"].endswith(".mp3")
    assert (await client.get(again["sentences"][0]["audio_url"])).status_code == 200


async def test_documented_in_openapi(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    route = schema["paths"]["/api/articles/{slug}/pronunciation"]["get"]
    assert route["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PronunciationOut"
    )
    assert {"401", "404"} <= set(route["responses"])
