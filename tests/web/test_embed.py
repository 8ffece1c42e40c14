"""/api/embed: a host page's audio by its URL, for the sites in TTS_EMBED_ORIGINS only."""

from __future__ import annotations

import httpx
import pytest
from helpers import AUTH, wait_ready

from tts_service.config import Settings
from tts_service.urls import page_slug

SITE = "https://news.example"
PAGE = f"{SITE}/a/t20200117_1.html"
PARAGRAPHS = ["第一段第一句。第二句😀有表情！", "第二段只有一句。", "第三段。还有一句。"]
BODY = {"url": PAGE + "?from=timeline#top", "title": "会议召开", "paragraphs": PARAGRAPHS}
FROM_SITE = {"Origin": SITE}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"embed_origins": f"{SITE}, https://gov.example/"})


def utf16_slice(text: str, start: int, end: int) -> str:
    return text.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")


async def test_a_page_is_stored_under_its_url_and_mapped_back_to_its_text(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/embed", json=BODY, headers=FROM_SITE)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["slug"] == page_slug(PAGE) and page["paragraphs"] == PARAGRAPHS
    assert page["status"] in ("pending", "ready") and response.headers["access-control-allow-origin"] == SITE
    sentences = [(c["paragraph"], c["text"]) for c in page["chunks"]]
    assert sentences[:2] == [(0, "第一段第一句。"), (0, "第二句😀有表情！")]
    for chunk in page["chunks"]:  # offsets count UTF-16 code units, as the toolbar's JavaScript does
        assert utf16_slice(PARAGRAPHS[chunk["paragraph"]], *chunk["offsets"]) == chunk["text"]
    article = (await client.get(f"/api/articles/{page['slug']}")).json()
    assert article["source_url"] == PAGE and article["title"] == "会议召开"


async def test_only_changed_sentences_are_made_again(client: httpx.AsyncClient, espeak) -> None:
    slug = (await client.post("/api/embed", json=BODY, headers=FROM_SITE)).json()["slug"]
    await wait_ready(client, slug)
    made = len(espeak.calls)
    again = (await client.post("/api/embed", json=BODY, headers=FROM_SITE)).json()
    assert (again["revision"], again["status"], len(espeak.calls)) == (1, "ready", made)
    edited = {**BODY, "paragraphs": [PARAGRAPHS[0], "第二段改了一句。", PARAGRAPHS[2]]}
    assert (await client.post("/api/embed", json=edited, headers=FROM_SITE)).json()["revision"] == 2
    await wait_ready(client, slug)
    assert espeak.calls[made:] == ["第二段改了一句。"]


async def test_the_stored_page_is_read_back_by_its_url(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/embed", params={"url": PAGE})).status_code == 404
    await client.post("/api/embed", json=BODY, headers=FROM_SITE)
    found = await client.get("/api/embed", params={"url": PAGE + "#again"}, headers=FROM_SITE)
    assert found.status_code == 200 and found.json()["paragraphs"] == PARAGRAPHS


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "a request without an Origin header may not embed"),
        ({"Origin": "https://evil.example"}, "https://evil.example may not embed"),
        ({"Origin": "https://gov.example"}, "does not belong to https://gov.example"),  # another allowed site
    ],
)
async def test_other_sites_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, espeak, headers: dict, message: str
) -> None:
    response = await client.post("/api/embed", json=BODY, headers=headers)
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert message in response.json()["detail"]
    assert (await client.get("/api/articles")).json() == [] and espeak.calls == []


async def test_the_preflight_answers_allowed_sites_only(client: httpx.AsyncClient) -> None:
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = await client.options("/api/embed", headers={**ask, "Origin": SITE})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == SITE
    assert "POST" in allowed.headers["access-control-allow-methods"]
    refused = await client.options("/api/embed", headers={**ask, "Origin": "https://evil.example"})
    assert refused.status_code == 403 and "not in TTS_EMBED_ORIGINS" in refused.json()["detail"]
    assert "access-control-allow-origin" not in refused.headers


async def test_empty_paragraphs_go_and_an_empty_page_is_refused(client: httpx.AsyncClient) -> None:
    body = {**BODY, "paragraphs": ["  第一段。 ", "\u3000", "第二 \n 段。"]}
    page = (await client.post("/api/embed", json=body, headers=FROM_SITE)).json()
    assert page["paragraphs"] == ["第一段。", "第二 段。"]
    empty = await client.post("/api/embed", json={**BODY, "paragraphs": [" ", ""]}, headers=FROM_SITE)
    assert (empty.status_code, empty.json()["code"]) == (422, "invalid_input")


async def test_published_only_speaks_only_what_editors_published(
    app, client: httpx.AsyncClient, espeak
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"embed_mode": "published-only"})
    unknown = await client.post("/api/embed", json=BODY, headers=FROM_SITE)
    assert unknown.status_code == 404 and (await client.get("/api/articles")).json() == []
    published = {"title": "会议召开", "text": "编辑发布的文字。", "slug": "meeting", "url": PAGE}
    assert (await client.post("/api/articles", json=published, headers=AUTH)).status_code == 201
    page = (await client.post("/api/embed", json=BODY, headers=FROM_SITE)).json()
    assert (page["slug"], page["revision"], page["paragraphs"]) == ("meeting", 1, ["编辑发布的文字。"])
