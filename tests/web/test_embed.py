"""/api/embed: a host page's audio by its URL, for the sites in TTS_EMBED_ORIGINS only."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import xml.etree.ElementTree as ET

import httpx
import lxml.html
import pytest
from helpers import AUTH, wait_ready
from test_admin import sign_in

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


# Quotas: what a forged Origin can cost --------------------------------------------------------------


def page(number: int, site: str = SITE, text: str = "这一页的文字。") -> dict:
    return {"url": f"{site}/a/t{number}.html", "title": f"第{number}页", "paragraphs": [text]}


async def embed(client: httpx.AsyncClient, body: dict, site: str = SITE) -> httpx.Response:
    return await client.post("/api/embed", json=body, headers={"Origin": site})


async def stored(client: httpx.AsyncClient) -> int:
    return len((await client.get("/api/articles")).json())


class Clock:
    """Time as the quotas see it, moved by the test (no sleeps)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:  # 2023-11-14 22:13:20 UTC
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app) -> Clock:
    clock = Clock()
    app.state.pipeline.quotas.clock = clock
    return clock


async def test_the_eleventh_new_revision_in_a_minute_is_refused(client: httpx.AsyncClient, espeak) -> None:
    for number in range(10):
        slug = (await embed(client, page(number))).json()["slug"]
        await wait_ready(client, slug)
    made = len(espeak.calls)
    refused = await embed(client, page(10))
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert "TTS_EMBED_REVISIONS_PER_MINUTE" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["access-control-allow-origin"] == SITE  # the toolbar can read why, and when
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()
    assert await stored(client) == 10 and len(espeak.calls) == made  # nothing stored, nothing made
    edited = await embed(client, page(0, text="改过的文字。"))  # a changed page is a new revision too
    article = (await client.get(f"/api/articles/{page_slug(page(0)['url'])}")).json()
    assert edited.status_code == 429 and article["revision"] == 1


async def test_another_site_and_unchanged_pages_are_unaffected(client: httpx.AsyncClient) -> None:
    for number in range(10):
        assert (await embed(client, page(number))).status_code == 200
    assert (await embed(client, page(10))).status_code == 429
    for number in range(10):  # unchanged: no new revision, no cost
        again = await embed(client, page(number))
        assert (again.status_code, again.json()["revision"]) == (200, 1)
    gov = "https://gov.example"
    assert (await embed(client, page(1, site=gov), site=gov)).status_code == 200


async def test_after_the_window_the_site_may_post_again(client: httpx.AsyncClient, clock: Clock) -> None:
    for number in range(10):
        clock.now += 5  # one every 5 s: the first leaves the window at +65 s
        assert (await embed(client, page(number))).status_code == 200
    refused = await embed(client, page(10))
    assert refused.status_code == 429 and refused.headers["retry-after"] == "15"  # 5 + 60 - 50
    clock.now += 14
    assert (await embed(client, page(10))).status_code == 429
    clock.now += 1
    assert (await embed(client, page(10))).status_code == 200
    assert (await embed(client, page(11))).status_code == 429  # one slot freed, one taken


async def test_the_daily_character_quota(app, client: httpx.AsyncClient, clock: Clock, espeak) -> None:
    app.state.pipeline.quotas.daily_chars = 30
    first = page(1, text="一二三四五六七八九十。" * 2)  # 22 characters
    assert (await embed(client, first)).status_code == 200
    # Only what is new counts: a sentence added to the page costs its 5 characters (27 of 30).
    grown = {**first, "paragraphs": [first["paragraphs"][0] + "新的一句。"]}
    assert (await embed(client, grown)).json()["revision"] == 2
    await wait_ready(client, page_slug(first["url"]))
    made, before = len(espeak.calls), await stored(client)
    clock.now += 3600
    refused = await embed(client, page(2, text="第二页。"))  # 4 more: 31 > 30
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert "TTS_EMBED_DAILY_CHARS" in refused.json()["detail"]
    midnight = (clock.now // 86400 + 1) * 86400
    assert int(refused.headers["retry-after"]) == round(midnight - clock.now)
    assert (await stored(client), len(espeak.calls)) == (before, made)
    assert (await embed(client, page(3, text="好。"))).status_code == 200  # 2 more fit (29)
    clock.now = midnight
    assert (await embed(client, page(2, text="第二页。"))).status_code == 200  # a new UTC day
    too_big = await embed(client, page(4, text="字" * 31))  # more than a whole day's quota: never fits
    assert (too_big.status_code, too_big.json()["code"]) == (413, "too_large")


async def test_concurrent_posts_never_pass_the_limit(client: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(*(embed(client, page(number)) for number in range(30)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 10 + [429] * 20 and await stored(client) == 10


async def test_many_readers_of_one_edited_page_make_one_revision(client: httpx.AsyncClient) -> None:
    assert (await embed(client, page(1))).status_code == 200
    edited = page(1, text="编辑改过了。")
    answers = await asyncio.gather(*(embed(client, edited) for _ in range(30)))
    assert {(a.status_code, a.json()["revision"]) for a in answers} == {(200, 2)}
    for number in range(2, 10):  # that edit cost one of the ten
        assert (await embed(client, page(number))).status_code == 200
    assert (await embed(client, page(10))).status_code == 429


async def test_the_schema_documents_every_refusal(client: httpx.AsyncClient) -> None:
    operations = (await client.get("/openapi.json")).json()["paths"]["/api/embed"]
    answers = operations["post"]["responses"]
    for code, words in {
        "403": "TTS_EMBED_ORIGINS",
        "404": "published-only",
        "409": "another article",
        "413": "TTS_MAX_ARTICLE_CHARS",
        "422": "URL",
        "429": "TTS_EMBED_REVISIONS_PER_MINUTE",
    }.items():
        assert words in answers[code]["description"], code
        assert answers[code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }
    assert answers["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert "No page is stored" in operations["get"]["responses"]["404"]["description"]


# Host text is only ever text ------------------------------------------------------------------------

HOSTILE_TITLE = "<script>alert(1)</script> & \"引号\" '单引号' ]]> &amp; <img src=x onerror=alert(1)>"
HOSTILE = [
    "第一段<script>alert(1)</script>有脚本。",
    "<img src=x onerror=alert(1)>图片说明。",
    "CDATA 的结尾 ]]> 和 &amp; 与 \"双引号\" 'single'。",
    '--> 箭头 <b onclick="alert(1)">粗体</b> 结束。',
]
ESCAPED = [  # how each must look in our HTML (Jinja's escaping: quotes as numeric references)
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&lt;img src=x onerror=alert(1)&gt;",
    "]]&gt;",
    "&amp;amp;",
    "&#34;引号&#34; &#39;单引号&#39;",
]


def inert(html: str) -> lxml.html.HtmlElement:
    """The parsed page, after checking that nothing in it is live but our own: no element from host text,
    scripts only from our static files, no event-handler attributes."""
    doc = lxml.html.document_fromstring(html)
    assert not doc.xpath("//img | //b | //iframe | //object | //embed"), "host markup became elements"
    for script in doc.xpath("//script"):
        assert script.get("src", "").startswith("http://testserver/static/") and not script.text
    assert not doc.xpath("//@*[starts-with(name(), 'on')]"), "an event handler attribute"
    return doc


async def test_host_text_is_shown_as_text_everywhere(client: httpx.AsyncClient) -> None:
    body = {"url": PAGE, "title": HOSTILE_TITLE, "paragraphs": HOSTILE}
    posted = await client.post("/api/embed", json=body, headers=FROM_SITE)
    assert posted.status_code == 200 and posted.json()["paragraphs"] == HOSTILE  # JSON keeps it as data
    slug = posted.json()["slug"]
    manifest = await wait_ready(client, slug)
    assert manifest["status"] == "ready"

    # The reader page: title, heading and every paragraph as text.
    reader = await client.get(f"/articles/{slug}")
    assert all(escaped in reader.text for escaped in ESCAPED), reader.text
    doc = inert(reader.text)
    assert doc.findtext(".//title") == f"{HOSTILE_TITLE} · tts_service"
    assert doc.xpath("string(//h1)") == HOSTILE_TITLE
    assert [p.text_content() for p in doc.xpath("//div[@class='article-body']/p")] == HOSTILE

    # The article list.
    index = await client.get("/")
    assert ESCAPED[0] in index.text and ESCAPED[4] in index.text
    assert inert(index.text).xpath("string(//a[@class='article-link'])") == HOSTILE_TITLE

    # The editor's pages, signed in: the list (with the title in attributes too) and the delete page.
    await sign_in(client)
    admin = await client.get("/admin")
    assert ESCAPED[0] in admin.text
    doc = inert(admin.text)
    assert doc.xpath("string(//tbody/tr/th/a)") == HOSTILE_TITLE
    labels = doc.xpath("//tbody//@aria-label")
    actions = ("编辑", "修订记录", "重新生成", "删除")
    proof = f"校对读音：{HOSTILE_TITLE}（无待校对）"  # the proofreading link says its count too
    assert labels == [proof] + [f"{action}：{HOSTILE_TITLE}" for action in actions]
    confirm = await client.get(f"/admin/articles/{slug}/delete")
    assert f"《{HOSTILE_TITLE}》" in inert(confirm.text).xpath("string(//main//p)")

    # The feed: well-formed XML whose item title is the title, as text.
    feed = await client.get("/feed.xml")
    assert "]]>" not in feed.text and ESCAPED[0] in feed.text
    assert ET.fromstring(feed.content).findtext("channel/item/title") == HOSTILE_TITLE

    # Captions: cue text escaped, so no "<" and no "-->" but the timings'.
    vtt = (await client.get(f"/api/articles/{slug}/captions.vtt")).text
    cues = [line for line in vtt.splitlines() if "-->" in line]
    assert "<" not in vtt and all(re.fullmatch(r"[\d:.]+ --> [\d:.]+", cue) for cue in cues)
    assert ESCAPED[0] in vtt and '--&gt; 箭头 &lt;b onclick="alert(1)"&gt;粗体&lt;/b&gt;' in vtt

    # The JSON APIs: the same strings, as data, never served as HTML.
    for path in ("/api/articles", f"/api/articles/{slug}", f"/api/articles/{slug}/audio"):
        answer = await client.get(path)
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert (await client.get("/api/articles")).json()[0]["title"] == HOSTILE_TITLE
    assert (await client.get(f"/api/articles/{slug}")).json()["text"] == "\n\n".join(HOSTILE)
    chunks = (await client.get(f"/api/articles/{slug}/audio")).json()["chunks"]
    assert any("<script>alert(1)</script>" in c["text"] for c in chunks)
    assert all(utf16_slice(HOSTILE[c["paragraph"]], *c["offsets"]) == c["text"] for c in chunks)
    assert (await client.get("/api/embed", params={"url": PAGE})).json()["paragraphs"] == HOSTILE

    # Error pages: what a request carries is shown as text too.
    missing = await client.get("/articles/<script>alert(1)</script>")
    assert missing.status_code == 404 and ESCAPED[0] in missing.text
    inert(missing.text)


async def test_a_changed_page_keeps_the_byline_and_date_the_crawl_found(
    app, client: httpx.AsyncClient
) -> None:
    pipeline = app.state.pipeline
    crawled, _ = await pipeline.save_page(
        PAGE, "会议召开", PARAGRAPHS, byline="记者 林", date=dt.date(2020, 1, 17)
    )
    edited = {**BODY, "paragraphs": [*PARAGRAPHS, "新加的一段。"]}
    page = (await client.post("/api/embed", json=edited, headers=FROM_SITE)).json()
    article = (await client.get(f"/api/articles/{page['slug']}")).json()
    assert (page["revision"], article["byline"], article["date"]) == (2, "记者 林", "2020-01-17")
