"""GET /embed.js: one script (the shared player core and the toolbar), cached for ever under its version."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from test_admin import sign_in

from tts_service import resources
from tts_service.web import toolbar

SITE = "https://news.example"


def test_the_bundle_holds_the_core_once_and_the_styles_as_strings() -> None:
    built = toolbar.build(resources.static_dir())
    text = built.body.decode()
    core = (resources.static_dir() / "player-core.js").read_text(encoding="utf-8")
    assert text.count(core) == 1 and text.count("class Player") == 1  # the reader page's own core, not a copy
    assert "::highlight(tts-sentence)" in text and "globalThis.ttsService.styles = " in text
    assert re.fullmatch("[0-9a-f]{16}", built.version)
    assert toolbar.build(resources.static_dir()) == built  # the version follows the content only


async def test_the_versioned_script_is_immutable(client: httpx.AsyncClient) -> None:
    plain = await client.get("/embed.js")
    assert plain.status_code == 200 and plain.headers["content-type"] == "text/javascript; charset=utf-8"
    assert plain.headers["cache-control"] == "no-cache"
    version = plain.headers["etag"].strip('"')
    versioned = await client.get("/embed.js", params={"v": version})
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert versioned.content == plain.content
    stale = await client.get("/embed.js", params={"v": "0123456789abcdef"})
    assert stale.headers["cache-control"] == "no-cache" and stale.content == plain.content  # today's script


async def test_revalidation_answers_304(client: httpx.AsyncClient) -> None:
    etag = (await client.get("/embed.js")).headers["etag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}'):
        again = await client.get("/embed.js", headers={"If-None-Match": sent})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    changed = await client.get("/embed.js", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200


async def test_the_editor_page_gives_the_line_to_embed(app: FastAPI, client: httpx.AsyncClient) -> None:
    app.state.settings = app.state.settings.model_copy(update={"embed_origins": SITE})
    await sign_in(client)
    page = (await client.get("/admin")).text
    version = (await client.get("/embed.js")).headers["etag"].strip('"')
    line = f'&lt;script src="http://testserver/embed.js?v={version}" data-article="#zoom"'
    assert line in page and f"<code>{SITE}</code>" in page
