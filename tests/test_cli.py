"""The tts-service command line, run in process against a temporary TTS_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import decode
from typer.testing import CliRunner

from tts_service.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TTS_HOME": str(tmp_path), "TTS_ENGINE": "espeak"}


def run(env: dict[str, str], *args: str):
    return runner.invoke(app, list(args), env=env)


def test_add_prints_the_slug_and_readding_makes_a_revision(env, tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# 新馆开放\n\n作者：记者\n\n欢迎大家。", encoding="utf-8")
    first = run(env, "add", str(doc))
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "xin-guan-kai-fang"
    assert run(env, "add", str(doc), "--slug", "xin-guan-kai-fang", "--title", "改名").exit_code == 0
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
    run(env, "add", str(doc), "--slug", "a")
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
        assert run(env, "add", str(doc), "--slug", "big").exit_code == 0
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
