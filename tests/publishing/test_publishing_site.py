"""``tts-service publish``'s site, built from a real store and cache with espeak audio: what it holds, how
its files link, and what a second run, an edit and a deletion write."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tts_service.article import ArticleDraft
from tts_service.pipeline import Pipeline
from tts_service.publishing import Links, Published, publish
from tts_service.publishing.ledger import LEDGER
from tts_service.publishing.renderer import CHOICES, DEFAULTS

BASE = "https://news.example/read/"
NEWS = ArticleDraft(title="社区图书馆", text="今天开馆。欢迎大家！\n\n第二段只有一句。", slug="lib")
PARK = ArticleDraft(title="公园开放", text="公园今天开放。\n\n门票免费。", slug="park", byline="记者")


async def ready(pipeline: Pipeline, draft: ArticleDraft) -> None:
    """Store the draft (a new article or its next revision) and make its audio."""
    await pipeline.generate(await pipeline.save(draft))


async def run(pipeline: Pipeline, root: Path, links: Links | None = None) -> Published:
    return await publish(pipeline, root, links or Links(BASE))


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def whole_key(root: Path, slug: str) -> str:
    manifest = json.loads((root / f"articles/{slug}.audio.json").read_text(encoding="utf-8"))
    return manifest["url"].removeprefix("../audio/").removesuffix(".mp3")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    return site


@pytest.mark.parametrize("backend", ["local", "cloud"])  # the audio copied from files, or from objects
async def test_the_site_holds_every_file_and_every_link_resolves(pipeline: Pipeline, root: Path) -> None:
    await ready(pipeline, NEWS)
    await ready(pipeline, PARK)
    await pipeline.save(ArticleDraft(title="待生成", text="这篇的音频还没有做。", slug="later"))
    await pipeline.save(ArticleDraft(title="无字", text="——", slug="dash"))
    published = await run(pipeline, root)

    keys = {slug: whole_key(root, slug) for slug in ("lib", "park")}
    expected = {"index.html", "feed.xml", LEDGER, "articles/later.html", "articles/dash.html"}
    expected |= {f"static/{n}" for n in ("reader.css", "reader.js", "player-core.js", "local-prefs.js")}
    expected |= {"static/favicon.ico"}
    for slug, key in keys.items():
        expected |= {f"articles/{slug}.html", f"articles/{slug}.audio.json", f"articles/{slug}.vtt"}
        expected.add(f"audio/{key}.mp3")
        assert (root / f"audio/{key}.mp3").read_bytes() == pipeline.cache.read(key)
    assert files(root) == expected
    site = published.site
    assert (sorted(site.with_audio), site.without_audio, site.nothing_to_speak) == (
        ["lib", "park"],
        ["later"],
        ["dash"],
    )

    # Every link and source in every page is a published file (a static server has nothing else).
    for page in [p for p in files(root) if p.endswith(".html")]:
        html = (root / page).read_text(encoding="utf-8")
        for ref in re.findall(r'(?:href|src|data-manifest)="([^"]+)"', html):
            if ref.startswith(("https://", "#")):
                continue
            target = urlsplit(urljoin(f"http://site/{page}", ref)).path.removeprefix("/")
            assert target in files(root), f"{page}: {ref}"
    lib = json.loads((root / "articles/lib.audio.json").read_text(encoding="utf-8"))
    assert (
        urljoin("http://site/articles/lib.audio.json", lib["captions_url"]) == "http://site/articles/lib.vtt"
    )
    assert [c["text"] for c in lib["chunks"]] == ["今天开馆。", "欢迎大家！", "第二段只有一句。"]
    first = lib["chunks"][0]  # word marks as the API gives them, for the player's word highlight
    assert first["timing"] == "proportional" and len(first["marks"]) == 4
    assert first["marks"][0]["article_start"] >= first["start"] - 0.05
    assert first["marks"][-1]["offsets"][1] == first["offsets"][1]
    assert (root / "articles/lib.vtt").read_text(encoding="utf-8").startswith("WEBVTT\n\n1\n")


async def test_pages_without_ready_audio_have_no_player(pipeline: Pipeline, root: Path) -> None:
    await pipeline.save(ArticleDraft(title="待生成", text="这篇的音频还没有做。", slug="later"))
    await run(pipeline, root)
    html = (root / "articles/later.html").read_text(encoding="utf-8")
    assert "音频还在生成中" in html and 'class="player"' not in html and "<audio" not in html
    assert '<span class="chunk" data-chunk="0">这篇的音频还没有做。</span>' in html  # the text is all there
    assert "音频生成中<" in (root / "index.html").read_text(encoding="utf-8")  # no frozen percentage
    assert not (root / "articles/later.audio.json").exists()

    await pipeline.generate(await pipeline.store.get_article("later"))  # the audio is made: publish again
    report = (await run(pipeline, root)).report
    key = whole_key(root, "later")
    assert set(report.written) == {
        "articles/later.html",
        "articles/later.audio.json",
        "articles/later.vtt",
        f"audio/{key}.mp3",
        "index.html",  # its status
        "feed.xml",  # its first item
    }
    html = (root / "articles/later.html").read_text(encoding="utf-8")
    assert 'data-manifest="later.audio.json"' in html and "<audio controls" in html


async def test_a_second_run_writes_nothing(pipeline: Pipeline, root: Path) -> None:
    await ready(pipeline, NEWS)
    first = await run(pipeline, root)
    stamps = {p: (root / p).stat().st_mtime_ns for p in files(root)}
    second = await run(pipeline, root)
    assert second.report.written == () and second.report.removed == ()
    assert set(second.report.unchanged) == set(first.report.written)
    assert {p: (root / p).stat().st_mtime_ns for p in files(root)} == stamps


async def test_a_one_sentence_edit_rewrites_only_that_articles_files(pipeline: Pipeline, root: Path) -> None:
    await ready(pipeline, NEWS)
    await ready(pipeline, PARK)
    await run(pipeline, root)
    old_key = whole_key(root, "park")
    await ready(pipeline, PARK.model_copy(update={"text": "公园今天开放。\n\n门票全部免费。"}))
    report = (await run(pipeline, root)).report
    new_key = whole_key(root, "park")
    park = {"articles/park.html", "articles/park.audio.json", "articles/park.vtt", f"audio/{new_key}.mp3"}
    # The feed names the revision; the index is unchanged (park was already the most recently updated).
    assert set(report.written) == park | {"feed.xml"}
    assert report.removed == (f"audio/{old_key}.mp3",)
    assert "门票全部免费。" in (root / "articles/park.html").read_text(encoding="utf-8")
    assert not (root / f"audio/{old_key}.mp3").exists()


async def test_a_deleted_articles_files_are_removed(pipeline: Pipeline, root: Path) -> None:
    await ready(pipeline, NEWS)
    await ready(pipeline, PARK)
    await run(pipeline, root)
    key = whole_key(root, "lib")
    (root / "articles" / "notes.txt").write_text("an editor's own file")  # not ours: stays
    await pipeline.delete("lib")
    report = (await run(pipeline, root)).report
    gone = {"articles/lib.html", "articles/lib.audio.json", "articles/lib.vtt", f"audio/{key}.mp3"}
    assert set(report.removed) == gone
    assert set(report.written) == {"index.html", "feed.xml"}
    assert not any((root / p).exists() for p in gone)
    assert (root / "articles" / "notes.txt").read_text() == "an editor's own file"


async def test_the_feed_and_canonical_links_are_absolute(pipeline: Pipeline, root: Path) -> None:
    await ready(pipeline, PARK)
    await run(pipeline, root)
    key = whole_key(root, "park")
    channel = ET.fromstring((root / "feed.xml").read_bytes()).find("channel")
    assert channel.findtext("link") == BASE
    item = channel.find("item")
    assert item.findtext("link") == BASE + "articles/park.html"
    enclosure = item.find("enclosure")
    assert enclosure.get("url") == f"{BASE}audio/{key}.mp3"
    assert int(enclosure.get("length")) == (root / f"audio/{key}.mp3").stat().st_size
    html = (root / "articles/park.html").read_text(encoding="utf-8")
    assert f'<link rel="canonical" href="{BASE}articles/park.html">' in html
    assert f'href="{BASE}feed.xml"' in html


async def test_without_a_base_url_there_is_no_feed(pipeline: Pipeline, root: Path) -> None:
    await ready(pipeline, PARK)
    published = await run(pipeline, root, Links())
    assert not published.site.feed and not (root / "feed.xml").exists()
    html = (root / "articles/park.html").read_text(encoding="utf-8")
    assert "canonical" not in html and "https://" not in html


async def test_audio_kept_elsewhere_is_linked_not_copied(pipeline: Pipeline, root: Path) -> None:
    await ready(pipeline, PARK)
    cdn = "https://cdn.example/tts-audio/"
    await run(pipeline, root, Links(BASE, cdn))
    assert not (root / "audio").exists()
    manifest = json.loads((root / "articles/park.audio.json").read_text(encoding="utf-8"))
    key = manifest["url"].removeprefix(cdn).removesuffix(".mp3")
    assert manifest["url"] == f"{cdn}{key}.mp3" and pipeline.cache.exists(key)
    assert all(
        c["url"].startswith(cdn) and pipeline.cache.exists(c["url"][len(cdn) : -4])
        for c in manifest["chunks"]
    )
    html = (root / "articles/park.html").read_text(encoding="utf-8")
    assert f'src="{cdn}{key}.mp3"' in html  # the native player, without JavaScript
    assert f"media-src &#39;self&#39; {cdn};" in html  # the page's policy lets it play
    enclosure = ET.fromstring((root / "feed.xml").read_bytes()).find("channel/item/enclosure")
    assert enclosure.get("url") == f"{cdn}{key}.mp3"


async def test_the_manifest_has_the_apis_shape(app: FastAPI, client: httpx.AsyncClient, root: Path) -> None:
    """Apps and the player read the static manifest as they read the API's: the same fields, the same
    timeline; URLs relative to the file, and chunk files not carried (null)."""
    pipeline: Pipeline = app.state.pipeline
    await ready(pipeline, NEWS)
    await run(pipeline, root)
    static = json.loads((root / "articles/lib.audio.json").read_text(encoding="utf-8"))
    api = (await client.get("/api/articles/lib/audio")).json()
    assert set(static) == set(api) - {"job"}
    for field in ("slug", "revision", "engine", "voice", "status", "progress", "duration"):
        assert static[field] == api[field], field
    assert api["url"].endswith(static["url"].removeprefix(".."))
    for mine, theirs in zip(static["chunks"], api["chunks"], strict=True):
        assert set(mine) == set(theirs) and mine["url"] is None
        assert {k: v for k, v in mine.items() if k != "url"} == {
            k: v for k, v in theirs.items() if k != "url"
        }


async def test_the_article_body_is_the_servers(app: FastAPI, client: httpx.AsyncClient, root: Path) -> None:
    """The static page's text, sentence spans and player come from the server's own templates."""
    pipeline: Pipeline = app.state.pipeline
    await ready(pipeline, NEWS.model_copy(update={"text": "第一句<b>粗</b>。“引号”——破折号……\n\n第二段。"}))
    await run(pipeline, root)

    def body(html: str) -> str:
        return re.search(r'<div class="article-body".*?</div>', html, re.S).group(0)

    def controls(html: str) -> str:
        return re.search(r'<div class="player-controls".*?</div>', html, re.S).group(0)

    server = (await client.get("/articles/lib")).text
    static = (root / "articles/lib.html").read_text(encoding="utf-8")
    assert body(static) == body(server) and "&lt;b&gt;" in body(static)
    assert controls(static) == controls(server)


def test_the_choices_are_the_servers() -> None:
    from tts_service.web.pages import PREFS

    assert CHOICES == {name: labels for name, (_, labels, _) in PREFS.items()}
    assert DEFAULTS == {name: default for name, (_, _, default) in PREFS.items()}
