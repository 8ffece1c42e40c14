"""The proofreading page in process: sign-in and CSRF, flagged readings shown, both fixes (this occurrence:
an inline reading in a new revision; everywhere: a lexicon entry) change the pinyin, and only the affected
chunks are synthesised again (counted at the engine). Plain HTTP posts: no JavaScript involved."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from helpers import AUTH, CountingEngine, create, wait_ready
from test_admin import redirects_to_login, sign_in

TEXT = "他在银行当行长。\n\n今天天气很好。\n\n我们明天见。"
BODY = {"title": "校对测试", "slug": "proof", "text": TEXT}


async def pinyin_of(client: httpx.AsyncClient, slug: str, sentence: int) -> list[str | None]:
    got = (await client.get(f"/api/articles/{slug}/pronunciation", headers=AUTH)).json()
    return [c["pinyin"] for c in got["sentences"][sentence]["chars"]]


async def made(client: httpx.AsyncClient, espeak: CountingEngine) -> int:
    await wait_ready(client, "proof")
    return len(espeak.calls)


async def test_the_page_needs_a_session_and_its_forms_a_csrf_token(client: httpx.AsyncClient) -> None:
    assert (await create(client, BODY)).status_code == 201
    assert await redirects_to_login(client, "/admin/articles/proof/proof")
    form = {"piece": "0", "char": "4", "reading": "dang4", "scope": "here"}
    assert (await client.post("/admin/articles/proof/proof/fix", data=form)).status_code == 403
    csrf = await sign_in(client)
    assert (await client.post("/admin/articles/proof/proof/fix", data=form)).status_code == 403
    wrong = await client.post("/admin/articles/proof/proof/fix", data={**form, "csrf": csrf + "x"})
    assert wrong.status_code == 403
    assert (await client.get("/api/articles/proof")).json()["revision"] == 1  # nothing changed
    assert (await client.get("/admin/articles/nope/proof")).status_code == 404


async def test_flagged_readings_are_shown_in_words_with_ruby_and_audio(client: httpx.AsyncClient) -> None:
    await create(client, BODY)
    await wait_ready(client, "proof")
    await sign_in(client)
    listing = await client.get("/admin")
    assert (
        "1 处待校对" in listing.text and 'href="http://testserver/admin/articles/proof/proof"' in listing.text
    )
    page = await client.get("/admin/articles/proof/proof")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "1 处待校对" in page.text
    assert '<ruby class="flagged">当<rt>dāng</rt></ruby>' in page.text
    assert '<ruby class="polyphone">行<rt>háng</rt></ruby>' in page.text
    assert "默认猜测" in page.text and "⚠ 待校对" in page.text and "词典（银行）" in page.text
    assert len(re.findall(r'<audio controls preload="none" src="[^"]+\.mp3"', page.text)) == 3
    assert page.text.count('value="here"') == page.text.count('value="everywhere"') >= 4
    assert '<option value="dang4">dàng</option>' in page.text


async def test_fix_here_writes_an_inline_reading_and_remakes_one_chunk(
    client: httpx.AsyncClient, espeak: CountingEngine
) -> None:
    await create(client, BODY)
    before = await made(client, espeak)
    assert before == 3
    csrf = await sign_in(client)
    form = {"csrf": csrf, "piece": "0", "char": "4", "reading": "dang4", "scope": "here"}
    done = await client.post("/admin/articles/proof/proof/fix", data=form)
    assert done.status_code == 303
    assert done.headers["location"].endswith("/admin/articles/proof/proof?done=here&n=1")
    article = (await client.get("/api/articles/proof")).json()
    assert article["revision"] == 2 and article["text"].startswith("他在银行当{dang4}行长。")
    assert (await pinyin_of(client, "proof", 0))[4] == "dàng"
    assert await made(client, espeak) == before + 1  # only the changed sentence
    page = await client.get(done.headers["location"])
    assert "本文将重新合成 1 句。" in page.text and "0 处待校对" in page.text
    assert "标注" in page.text


async def test_fix_everywhere_adds_a_lexicon_entry_and_remakes_one_chunk(
    client: httpx.AsyncClient, espeak: CountingEngine
) -> None:
    await create(client, BODY)
    before = await made(client, espeak)
    csrf = await sign_in(client)
    form = {"csrf": csrf, "piece": "0", "char": "4", "reading": "dang4", "scope": "everywhere"}
    done = await client.post("/admin/articles/proof/proof/fix", data=form)
    assert done.headers["location"].endswith("?done=everywhere&n=1")
    lexicon = (await client.get("/api/lexicon", headers=AUTH)).json()
    assert lexicon == [{"written": "当行", "spoken": "当{dang4}行"}]  # 当 alone: with its neighbour
    assert (await client.get("/api/articles/proof")).json()["revision"] == 1  # the text is unchanged
    chars = (await client.get("/api/articles/proof/pronunciation", headers=AUTH)).json()["sentences"][0]
    assert chars["chars"][4]["pinyin"] == "dàng" and chars["chars"][4]["decision"]["how"] == "lexicon"
    assert await made(client, espeak) == before + 1


async def test_a_bad_reading_or_an_ssml_article_is_refused_with_a_message(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create(client, BODY)
    ssml = {"title": "S", "slug": "s", "format": "ssml", "text": "<speak><p>他当时在银行。</p></speak>"}
    assert (await create(client, ssml)).status_code == 201
    csrf = await sign_in(client)
    bad = {"csrf": csrf, "piece": "0", "char": "4", "reading": "dang9", "scope": "here"}
    refused = await client.post("/admin/articles/proof/proof/fix", data=bad)
    assert refused.headers["location"].endswith("?error=invalid")
    assert "读音无效" in (await client.get(refused.headers["location"])).text
    here = {**bad, "reading": "hang2", "char": "5"}
    refused = await client.post("/admin/articles/s/proof/fix", data=here)
    assert refused.headers["location"].endswith("?error=ssml")
    assert "phoneme" in (await client.get(refused.headers["location"])).text
    assert (await client.get("/api/articles/s")).json()["revision"] == 1
