"""``publish --watch``: the site follows the store, in process and as the real command in a subprocess."""

from __future__ import annotations

import asyncio
import functools
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import LiveServer, _cli

from tts_service.article import ArticleDraft
from tts_service.errors import TTSError
from tts_service.pipeline import Pipeline
from tts_service.publishing import Links, Published, publish
from tts_service.publishing.watch import changes, watch


async def until(predicate) -> None:
    """Poll until ``predicate()`` holds (the watcher works in its own task); fail after 30 s."""
    async with asyncio.timeout(30):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.02)


async def test_the_mark_changes_with_what_a_site_is_built_from(pipeline: Pipeline) -> None:
    store = pipeline.store
    marks = [await changes(store)]
    article = await pipeline.save(ArticleDraft(title="标题", text="第一句。", slug="a"))
    marks.append(await changes(store))
    await pipeline.generate(article)  # audio, a whole file, a finished job
    marks.append(await changes(store))
    await store.put_lexicon("标题", "标题")
    marks.append(await changes(store))
    await pipeline.save(ArticleDraft(title="标题", text="第二句。", slug="a"))
    marks.append(await changes(store))
    await pipeline.delete("a")
    marks.append(await changes(store))
    assert len(set(marks)) == len(marks)
    assert await changes(store) == marks[-1]  # and stays put while nothing happens


async def test_watch_publishes_an_article_when_its_audio_is_ready(pipeline: Pipeline, tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    results: list[Published] = []
    errors: list[TTSError] = []
    once = functools.partial(publish, pipeline, root, Links())
    task = asyncio.create_task(watch(pipeline.store, once, results.append, errors.append, interval=0.05))
    try:
        await until(lambda: len(results) == 1)  # the first pass, at once
        article = await pipeline.save(ArticleDraft(title="新文章", text="刚刚发布。", slug="news"))
        page = root / "articles" / "news.html"
        await until(lambda: len(results) == 2)  # the pass the new revision brought
        assert "音频还在生成中" in page.read_text(encoding="utf-8")
        passes = len(results)
        await asyncio.sleep(0.3)  # six polls with nothing new: no pass
        assert len(results) == passes
        await pipeline.generate(article)
        await until(lambda: (root / "articles" / "news.audio.json").exists())
        await until(lambda: "data-manifest" in page.read_text(encoding="utf-8"))
    finally:
        task.cancel()
    assert errors == []


async def test_a_failed_pass_is_reported_and_watching_goes_on(pipeline: Pipeline, tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("someone else's")
    results: list[Published] = []
    errors: list[TTSError] = []
    once = functools.partial(publish, pipeline, root, Links())
    task = asyncio.create_task(watch(pipeline.store, once, results.append, errors.append, interval=0.05))
    try:
        await until(lambda: len(errors) == 1)
        assert errors[0].code == "foreign_files" and results == []
        (root / "index.html").unlink()
        await pipeline.save(ArticleDraft(title="新文章", text="刚刚发布。", slug="news"))  # the next change
        await until(lambda: len(results) == 1)
    finally:
        task.cancel()


def _sigint_on() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.e2e
def test_the_watch_command_follows_pregen_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """The real command: a page appears when an article is added, its audio when another process (pregen)
    has made it; Ctrl-C ends it cleanly."""
    home, out = tmp_path / "home", tmp_path / "site"
    home.mkdir()
    tool = LiveServer(home, TTS_ENGINE="espeak")  # for its environment and its cli(); no server runs
    # The database is made before two processes open it: two processes migrating a new database at once
    # can both run the first migration (store.migrate reads the version outside its transaction).
    tool.cli("list")
    log = (tmp_path / "watch.log").open("wb")
    command = [_cli(), "publish", str(out), "--watch", "--interval", "0.1", "-v"]
    # As a terminal starts it: Ctrl-C on. (A suite run in the background, `make test &`, inherits SIGINT
    # ignored, and a process that starts with SIGINT ignored rightly keeps ignoring it.)
    watcher = subprocess.Popen(
        command, env=tool.env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_sigint_on
    )
    try:
        deadline = time.monotonic() + 60
        article = tmp_path / "a.md"
        article.write_text("# 新文章\n\n刚刚发布。\n\n第二段。", encoding="utf-8")
        tool.cli("add", str(article), "--slug", "news")
        while "data-manifest" not in _read(out / "articles" / "news.html"):
            assert time.monotonic() < deadline, (tmp_path / "watch.log").read_text()
            if "音频还在生成中" in _read(out / "articles" / "news.html"):
                tool.cli("pregen", "news")
            time.sleep(0.1)
        assert (out / "articles" / "news.audio.json").exists()
    finally:
        watcher.send_signal(signal.SIGINT)
        code = watcher.wait(timeout=30)
        log.close()
    output = (tmp_path / "watch.log").read_text()
    assert code == 0, output
    assert "written articles/news.audio.json" in output and "stopped" in output
    assert "Traceback" not in output


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
