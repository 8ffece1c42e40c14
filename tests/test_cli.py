"""The tts-service command line, run in process against a temporary TTS_HOME."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from helpers import decode
from typer.testing import CliRunner

from tts_service.article import Article
from tts_service.cli import app
from tts_service.store import Store

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TTS_HOME": str(tmp_path), "TTS_ENGINE": "espeak"}


def run(env: dict[str, str], *args: str):
    return runner.invoke(app, list(args), env=env)


def test_add_prints_the_slug_and_readding_with_replace_makes_a_revision(env, tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# 新馆开放\n\n作者：记者\n\n欢迎大家。", encoding="utf-8")
    first = run(env, "add", str(doc))
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "xin-guan-kai-fang"
    args = ("add", str(doc), "--slug", "xin-guan-kai-fang", "--title", "改名")
    assert run(env, *args, "--replace").exit_code == 0
    listed = run(env, "pregen", "xin-guan-kai-fang")
    assert listed.exit_code == 0, listed.output
    assert len(list((tmp_path / "audio_cache").rglob("*.mp3"))) == 2  # the sentence, and the whole article


def test_add_rejects_an_empty_file(env, tmp_path: Path) -> None:
    doc = tmp_path / "empty.txt"
    doc.write_text("\n\n", encoding="utf-8")
    result = run(env, "add", str(doc))
    assert result.exit_code == 1
    assert "empty" in result.output


def test_seed_adds_the_demo_once(env, tmp_path: Path) -> None:
    assert "added demo article: demo" in run(env, "seed").output
    assert "demo article present" in run(env, "seed").output


def test_pregen_all_with_progress(env, tmp_path: Path) -> None:
    run(env, "seed")
    result = run(env, "pregen", "--all")
    assert result.exit_code == 0, result.output
    assert "demo" in result.output and "100%" in result.output
    assert len(list((tmp_path / "audio_cache").rglob("*.mp3"))) > 10


def test_pregen_needs_slugs_or_all(env) -> None:
    assert run(env, "pregen").exit_code == 2
    missing = run(env, "pregen", "nope")
    assert missing.exit_code == 1 and "nope" in missing.output


def test_synth_writes_an_mp3(env, tmp_path: Path) -> None:
    out = tmp_path / "out.mp3"
    result = run(env, "synth", "你好，这是一次合成测试。", "-o", str(out), "--rate", "+20%")
    assert result.exit_code == 0, result.output
    seconds, rms = decode(out.read_bytes())
    assert 1.0 < seconds < 8 and rms > 0.02


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--engine", "nope"), "valid engines: local, espeak, edge"),
        (("--voice", "nobody"), "valid voices: cmn"),
    ],
)
def test_synth_rejects_unknown_engine_or_voice(env, tmp_path: Path, args, needle: str) -> None:
    result = run(env, "synth", "你好", "-o", str(tmp_path / "x.mp3"), *args)
    assert result.exit_code == 1
    assert needle in result.output
    assert not (tmp_path / "x.mp3").exists()


def test_lexicon_commands(env) -> None:
    assert run(env, "lexicon", "add", "ANSO", "安索").output.startswith("added: ANSO")
    assert run(env, "lexicon", "add", "ANSO", "安所").output.startswith("replaced: ANSO")
    run(env, "lexicon", "add", "重庆", "崇庆")
    assert run(env, "lexicon", "list").output == "ANSO\t安所\n重庆\t崇庆\n"
    assert run(env, "lexicon", "remove", "ANSO").exit_code == 0
    missing = run(env, "lexicon", "remove", "ANSO")
    assert missing.exit_code == 1 and "no lexicon entry" in missing.output
    assert run(env, "lexicon", "list").output == "重庆\t崇庆\n"
    assert run(env, "lexicon", "add", "", "x").exit_code == 1


def test_import_corpus_page(env, tmp_path: Path) -> None:
    from helpers import CORPUS

    result = run(env, "import", str(CORPUS), "--slug", "coop")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "coop"
    listed = run(env, "pregen", "coop")
    assert listed.exit_code == 0, listed.output


def test_import_rejects_a_page_with_no_article(env, tmp_path: Path) -> None:
    page = tmp_path / "nav.html"
    page.write_text("<html><body><nav><a href='/'>首页</a> <a href='/a'>新闻</a></nav></body>", "utf-8")
    result = run(env, "import", str(page))
    assert result.exit_code == 1 and "error:" in result.output


def test_normalize_and_pinyin_read_stdin_line_by_line(env) -> None:
    run(env, "lexicon", "add", "ANSO", "安索")
    lines = "近4000位外国人才\n\n邮编：100864\nANSO成立了\n"
    spoken = runner.invoke(app, ["normalize"], input=lines, env=env)
    assert spoken.exit_code == 0, spoken.output
    assert spoken.stdout == "近四千位外国人才\n\n邮编：幺零零八六四\n安索成立了\n"
    readings = runner.invoke(app, ["pinyin"], input="银行\n2个\n", env=env)
    assert readings.stdout == "yin2 hang2\nliang3 ge4\n"


def test_pinyin_explain_says_how_each_polyphone_was_read(env) -> None:
    result = runner.invoke(app, ["pinyin", "--explain"], input="他在银行扎了一下\n", env=env)
    assert result.exit_code == 0, result.output
    first, *explained = result.stdout.splitlines()
    assert first == "ta1 zai4 yin2 hang2 zha1 le5 yi2 xia4"
    assert "  行\thang2\tsure\tphrase\t银行" in explained
    assert "  扎\tzha1\tunsure\tdefault" in explained  # zhā or zā: a default guess is unsure
    assert "  了\tle5\tsure\tusual" in explained


def test_pinyin_explain_names_the_lexicon(env) -> None:
    run(env, "lexicon", "add", "行长", "航掌")  # an editor's fix, by sound-alike characters
    result = runner.invoke(app, ["pinyin", "--explain"], input="银行行长\n", env=env)
    assert result.stdout.splitlines() == [
        "yin2 hang2 hang2 zhang3",
        "  行\thang2\tsure\tphrase\t银行",
        "  航\thang2\tsure\tlexicon",
        "  掌\tzhang3\tsure\tlexicon",
    ]


def test_pregen_reports_each_job(env, tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# 标题\n\n第一句。第二句。", encoding="utf-8")
    run(env, "add", str(doc), "--slug", "a")
    result = run(env, "pregen", "a")
    assert result.exit_code == 0, result.output
    assert "job 1 a: done, 2/2 chunks" in result.output
    again = run(env, "pregen", "a")  # a new job that finds everything cached
    assert "job 2 a: done, 2/2 chunks" in again.output


def test_pregen_without_its_engine_exits_1_with_the_reason(env, tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# 标题\n\n第一句。", encoding="utf-8")
    run(env, "add", str(doc), "--slug", "a")
    failing = {**env, "PATH": str(tmp_path)}  # no espeak-ng on the PATH
    result = run(failing, "pregen", "a")
    assert result.exit_code == 1
    assert "error: espeak-ng is not installed" in result.output


def test_cache_verify_and_gc(env, tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# 标题\n\n不变的一句。会改的一句。", encoding="utf-8")
    run(env, "add", str(doc), "--slug", "a")
    run(env, "pregen", "a")
    verify = run(env, "cache", "verify")
    assert verify.exit_code == 0, verify.output
    assert "checked 3 files: 3 ok, 0 bad (0 quarantined), 0 without a recorded hash" in verify.output

    doc.write_text("# 标题\n\n不变的一句。改好的一句。", encoding="utf-8")
    run(env, "add", str(doc), "--slug", "a", "--replace")
    run(env, "pregen", "a")
    dry = run(env, "cache", "gc", "--dry-run", "--min-age", "0")
    assert dry.exit_code == 0 and "would remove 2 files" in dry.output, dry.output
    assert len(list((tmp_path / "audio_cache").rglob("*.mp3"))) == 5
    gc = run(env, "cache", "gc", "--min-age", "0")
    assert "removed 2 files" in gc.output
    assert len(list((tmp_path / "audio_cache").rglob("*.mp3"))) == 3

    victim = next((tmp_path / "audio_cache").rglob("*.mp3"))
    victim.write_bytes(victim.read_bytes()[:100])
    bad = run(env, "cache", "verify", "--quarantine")
    assert bad.exit_code == 1
    assert f"bad {victim.stem}: size 100 bytes" in bad.output and "(quarantined)" in bad.output
    assert run(env, "cache", "verify").exit_code == 0  # forgotten, so nothing bad is left on record


def test_prune_removes_old_revisions_and_shrinks_the_database(env, tmp_path: Path) -> None:
    doc = tmp_path / "big.md"
    for n in range(25):
        doc.write_text(f"# 大文章\n\n{'第' + str(n) + '版的正文很长。' * 4000}", encoding="utf-8")
        assert run(env, "add", str(doc), "--slug", "big", "--replace").exit_code == 0
    db = tmp_path / "tts.db"
    result = run(env, "prune", "--no-vacuum")
    assert result.exit_code == 0, result.output
    assert "removed 0 revisions" in result.stdout  # TTS_KEEP_REVISIONS (20) already applied at each save
    before = db.stat().st_size
    result = run(env, "prune", "--keep", "2")
    assert result.exit_code == 0, result.output
    assert "removed 18 revisions" in result.stdout
    assert db.stat().st_size < before / 3
    assert run(env, "prune", "--keep", "-1").exit_code == 2


def _stored(tmp_path: Path, slug: str) -> Article:
    """The article as the CLI stored it, read back from the real database."""
    store = Store(tmp_path / "tts.db")
    try:
        return asyncio.run(store.get_article(slug))
    finally:
        store.close()


GBK_ARTICLE = "# 市政府召开常务会议\n\n日期：2026年10月15日\n\n会议研究了冬季供暖工作。\n"


@pytest.mark.parametrize("codec", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_add_reads_gbk_and_utf8_files(env, tmp_path: Path, codec: str) -> None:
    doc = tmp_path / "gbk.txt"
    doc.write_bytes(GBK_ARTICLE.encode(codec))
    result = run(env, "add", str(doc), "--slug", "hui-yi")
    assert result.exit_code == 0, result.output
    article = _stored(tmp_path, "hui-yi")
    assert (article.title, article.date, article.text) == (
        "市政府召开常务会议",
        "2026-10-15",
        "会议研究了冬季供暖工作。",
    )


def test_add_with_an_explicit_encoding(env, tmp_path: Path) -> None:
    doc = tmp_path / "big5.txt"
    doc.write_bytes("# 市政府會議\n\n會議研究了供暖工作。\n".encode("big5"))
    result = run(env, "add", str(doc), "--slug", "big5", "--encoding", "big5")
    assert result.exit_code == 0, result.output
    assert _stored(tmp_path, "big5").text == "會議研究了供暖工作。"


@pytest.mark.parametrize(
    ("content", "args", "needle"),
    [
        (b"# \xe6\xa0\x87\n\n\xff\xfe\x80\x80 text\n", [], "neither UTF-8 nor GB18030"),
        (GBK_ARTICLE.encode("gbk"), ["--encoding", "utf-8"], "not valid utf-8"),
        (GBK_ARTICLE.encode("gbk"), ["--encoding", "no-such-codec"], "unknown encoding"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", [], "not a text file"),
    ],
)
def test_add_explains_a_file_it_cannot_read_in_one_line(
    env, tmp_path: Path, content: bytes, args: list[str], needle: str
) -> None:
    doc = tmp_path / "bad.txt"
    doc.write_bytes(content)
    result = run(env, "add", str(doc), *args)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], result.stderr


def test_add_markdown_reads_as_an_editor_wrote_it(env, tmp_path: Path) -> None:
    doc = tmp_path / "notice.md"
    doc.write_text(
        "# 关于开展消费维权活动的通知\n\n发布时间：2026/10/15\n\n"
        "详见[市政府网站](https://www.example.gov.cn/zwgk/2026/notice.html)。\n\n"
        "![活动现场照片](photo.jpg)\n\n"
        "1. 第一条内容。\n2. 第二条内容。\n",
        encoding="utf-8",
    )
    result = run(env, "add", str(doc), "--slug", "tong-zhi")
    assert result.exit_code == 0, result.output
    article = _stored(tmp_path, "tong-zhi")
    assert article.date == "2026-10-15"
    assert article.text == "详见市政府网站。\n\n1. 第一条内容。\n2. 第二条内容。"


# Issue 14 ------------------------------------------------------------------------------------------------


def test_add_of_an_existing_slug_needs_replace(env, tmp_path: Path) -> None:
    """As found: adding a second file with a slug in use replaced that article without a word."""
    first, second = tmp_path / "a.md", tmp_path / "b.md"
    first.write_text("# 第一篇\n\n原来的正文。", encoding="utf-8")
    second.write_text("# 第二篇\n\n别的正文。", encoding="utf-8")
    assert run(env, "add", str(first), "--slug", "news").exit_code == 0
    refused = run(env, "add", str(second), "--slug", "news")
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines() == [
        "error: an article with the slug 'news' exists already; add --replace to make this its next revision"
    ]
    imported = tmp_path / "page.html"
    imported.write_text(
        "<html><head><title>第三篇</title></head><body><article><h1>第三篇</h1>"
        "<p>导入的正文，足够长的一段文字，让提取器认出这是文章。</p></article></body></html>",
        encoding="utf-8",
    )
    assert run(env, "import", str(imported), "--slug", "news").exit_code == 1
    replaced = run(env, "add", str(second), "--slug", "news", "--replace")
    assert replaced.exit_code == 0 and replaced.stdout.strip() == "news"
    assert run(env, "import", str(imported), "--slug", "news", "--replace").exit_code == 0


def test_delete_asks_unless_yes(env, tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# 标题\n\n正文。", encoding="utf-8")
    run(env, "add", str(doc), "--slug", "a")
    kept = runner.invoke(app, ["delete", "a"], input="n\n", env=env)
    assert kept.exit_code == 1 and "Delete the article 'a'" in kept.output
    assert "kept" in kept.output
    assert run(env, "pregen", "a").exit_code == 0  # still there
    asked = runner.invoke(app, ["delete", "a"], input="y\n", env=env)
    assert asked.exit_code == 0 and "deleted: a" in asked.output
    assert run(env, "pregen", "a").exit_code == 1
    run(env, "add", str(doc), "--slug", "b")
    assert run(env, "delete", "b", "--yes").stdout == "deleted: b\n"
    missing = run(env, "delete", "b", "--yes")
    assert missing.exit_code == 1 and missing.stderr == "error: no article 'b'\n"


@pytest.mark.parametrize("command", [(), ("serve",), ("add",), ("synth",), ("cache", "gc"), ("delete",)])
def test_help_is_plain(env, command: tuple[str, ...]) -> None:
    """As found: "<str>", "<bool>" and "{file}" beside every option, and serve's defaults unsaid."""
    result = runner.invoke(app, [*command, "--help"], env={**env, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for clutter in ("<str>", "<bool>", "<int>", "<float>", "<file>", "<path>", "{file}", "{text}", "{"):
        assert clutter not in result.output, (clutter, result.output)


def test_serve_help_documents_host_and_port_defaults(env) -> None:
    result = runner.invoke(app, ["serve", "--help"], env={**env, "COLUMNS": "200"})
    lines = result.output.splitlines()
    host = next(line for line in lines if "--host" in line)
    port = next(line for line in lines if "--port" in line)
    assert "127.0.0.1" in host and "TTS_HOST" in host
    assert "8000" in port and "TTS_PORT" in port
    add = runner.invoke(app, ["add", "--help"], env={**env, "COLUMNS": "200"})
    assert "add [OPTIONS] FILE " in add.output  # click's convention: no braces, no lower case


def test_serve_refuses_fewer_than_one_web_process(env) -> None:
    result = run(env, "serve", "--workers", "0")
    assert result.exit_code == 2 and "--workers" in result.output


def test_cache_gc_refuses_a_negative_min_age(env) -> None:
    result = run(env, "cache", "gc", "--min-age", "-1")
    assert result.exit_code == 2 and "min-age" in result.output


def test_synth_into_a_missing_directory_fails_before_synthesis(env, tmp_path: Path) -> None:
    """As found: the whole text was synthesised, then a FileNotFoundError traceback."""
    out = tmp_path / "no" / "such" / "dir" / "out.mp3"
    result = run(env, "synth", "你好。", "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: the directory {out.parent} does not exist"]
    assert not (tmp_path / "tts.db").exists()  # nothing was opened, so nothing was synthesised


@pytest.mark.parametrize("rate", ["+20%", "20", "-10%", "-10"])
def test_synth_rate_takes_percentages_and_numbers(env, tmp_path: Path, rate: str) -> None:
    out = tmp_path / "out.mp3"
    result = run(env, "synth", "你好。", "-o", str(out), "--rate", rate)
    assert result.exit_code == 0, result.output


def test_synth_rejects_a_bad_rate(env, tmp_path: Path) -> None:
    result = run(env, "synth", "你好。", "-o", str(tmp_path / "out.mp3"), "--rate", "fast")
    assert result.exit_code == 2 and "rate" in result.output


def test_list_prints_articles_newest_first_and_as_json(env, tmp_path: Path) -> None:
    for slug, title in [("first", "第一篇"), ("second", "第二篇\t有制表符")]:
        doc = tmp_path / f"{slug}.txt"
        doc.write_text(f"{title}\n\n正文。", encoding="utf-8")
        assert run(env, "add", str(doc), "--slug", slug).exit_code == 0
    listed = run(env, "list")
    assert listed.exit_code == 0, listed.output
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [(line[0], line[1]) for line in lines] == [("second", "1"), ("first", "1")]
    assert lines[1][3] == "第一篇" and lines[1][2].endswith("Z") and lines[0][3] == "第二篇 有制表符"
    as_json = run(env, "list", "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert [a["slug"] for a in data] == ["second", "first"]
    assert data[1] | {"updated_at": "-"} == {
        "slug": "first",
        "title": "第一篇",
        "byline": None,
        "date": None,
        "revision": 1,
        "updated_at": "-",
        "url": None,
    }
    searched = run(env, "list", "--json", "--search", "第一")
    assert [a["slug"] for a in json.loads(searched.stdout)] == ["first"]
    assert run(env, "list", "--limit", "1").stdout.startswith("second\t")


def test_list_of_an_empty_store_prints_nothing(env) -> None:
    result = run(env, "list", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert run(env, "list").stdout == ""


# --- publish ---------------------------------------------------------------------------------------------


def test_publish_writes_a_site_then_nothing_and_says_so(env, tmp_path: Path) -> None:
    run(env, "seed")
    assert run(env, "pregen", "demo").exit_code == 0
    out = tmp_path / "site"
    first = run(env, "publish", str(out), "--base-url", "https://news.example/read", "-v")
    assert first.exit_code == 0, first.output
    assert "written articles/demo.html" in first.stdout and "written feed.xml" in first.stdout
    assert "11 written, 0 unchanged, 0 removed; 1 articles with audio" in first.stdout
    again = run(env, "publish", str(out), "--base-url", "https://news.example/read/", "-v")
    assert again.exit_code == 0 and "written" not in again.stdout.replace("0 written", "")
    assert "0 written, 11 unchanged, 0 removed" in again.stdout
    no_feed = run(env, "publish", str(out), "-v")  # no base URL: no feed, and no canonical links
    assert "removed feed.xml" in no_feed.stdout and "give --base-url" in no_feed.stderr


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("a-file", "exists and is not a directory"),
        ("missing/site", "does not exist"),
        (".", "TTS_HOME"),
        ("audio_cache/site", "audio cache"),
    ],
)
def test_publish_refuses_a_bad_output_directory(env, tmp_path: Path, target: str, needle: str) -> None:
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "audio_cache").mkdir()
    result = run(env, "publish", str(tmp_path / target))
    assert result.exit_code == 2 and needle in result.stderr, result.output
    assert not (tmp_path / "missing").exists() and not (tmp_path / "audio_cache" / "site").exists()


@pytest.mark.parametrize("option", ["--base-url", "--audio-base-url"])
@pytest.mark.parametrize("url", ["news.example/read", "ftp://news.example/", "https://news.example/?a=1"])
def test_publish_refuses_a_base_url_that_is_not_one(env, tmp_path: Path, option: str, url: str) -> None:
    result = run(env, "publish", str(tmp_path / "site"), option, url)
    assert result.exit_code == 2 and f"{option} must be an absolute http(s) URL" in result.stderr
    assert not (tmp_path / "site").exists()


def test_publish_never_replaces_files_it_did_not_write(env, tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("the CMS's own front page")
    result = run(env, "publish", str(out))
    assert result.exit_code == 1
    assert "did not write and would replace: index.html" in result.stderr
    assert (out / "index.html").read_text() == "the CMS's own front page"
