"""``tts-service migrate``: SQLite + files to PostgreSQL + S3 and back; resumable, checked, source kept."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from helpers import _cli, backend_env

from tts_service.article import ArticleDraft
from tts_service.cache import AudioStore
from tts_service.config import Settings
from tts_service.database import Database, NotMigrated
from tts_service.errors import NotFound
from tts_service.services import open_audio_store, open_services
from tts_service.states import AudioStatus
from tts_service.transfer import transfer

TEXT = "第一段说明。第二句话。\n\n第二段也有两句。最后一句。"


async def publish_with_audio(settings: Settings) -> None:
    """Two revisions of one article with its audio made, a second article, a lexicon entry."""
    async with open_services(settings) as services:
        pipeline = services.pipeline
        await pipeline.publish(ArticleDraft(title="初稿", text="旧的一句。", slug="notice"))
        article = await pipeline.publish(ArticleDraft(title="通知", text=TEXT, slug="notice"))
        await pipeline.generate(article)
        await pipeline.assembler.whole(article, await pipeline.planner.plan(article))
        await pipeline.publish(ArticleDraft(title="另一篇", text="没有音频的文章。", slug="other"))
        await services.store.put_lexicon("ANSO", "安索")


async def assert_serves_everything(settings: Settings) -> None:
    """What the deployment at ``settings`` must hold after a migration: both articles, every revision, the
    lexicon, and ready audio that starts no synthesis."""
    async with open_services(settings) as services:
        store, pipeline = services.store, services.pipeline
        assert [r.revision for r in await store.revisions("notice")] == [2, 1]
        assert (await store.get_article("other")).title == "另一篇"
        assert await store.lexicon() == {"ANSO": "安索"}
        article = await store.get_article("notice")
        audio = await pipeline.audio(article, start=False)
        assert audio.manifest.status == AudioStatus.READY and audio.whole is not None
        for key, record in [*audio.manifest.records.items(), (audio.whole.key, audio.whole)]:
            assert len(services.cache.read(key)) == record.size


def fingerprint(settings: Settings) -> str:
    """A hash of every file under TTS_HOME: the SQLite database and the audio files. (Not SQLite's -wal and
    -shm files: a reader of a WAL database, read-only too, makes them to coordinate with writers.)"""
    digest = hashlib.sha256()
    kept = [p for p in settings.home.rglob("*") if p.is_file() and not p.name.endswith(("-wal", "-shm"))]
    for path in sorted(kept):
        digest.update(str(path.relative_to(settings.home)).encode() + path.read_bytes())
    return digest.hexdigest()


def migrate(
    source: Settings, database: str, audio: str, s3: dict[str, object]
) -> subprocess.CompletedProcess[str]:
    """``tts-service migrate`` from the deployment at ``source``; the TTS_S3_* settings (endpoint, region,
    path style) of ``s3`` are in force, as an operator's environment would have them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}  # the AWS credentials with it
    env |= {k: v for k, v in backend_env(Settings(**s3)).items() if k.startswith("TTS_S3_")}
    env |= {"TTS_HOME": str(source.home), "TTS_ENGINE": "espeak", **backend_env(source)}
    command = [_cli(), "migrate", "--database", database, "--audio", audio]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.e2e
async def test_local_to_postgres_and_s3_and_back(
    tmp_path: Path, postgres_state: dict[str, object], s3_state: dict[str, object]
) -> None:
    local = Settings(home=tmp_path / "local", engine="espeak", fallback_engine=None)
    cloud = Settings(
        home=tmp_path / "cloud", engine="espeak", fallback_engine=None, **postgres_state, **s3_state
    )
    await publish_with_audio(local)
    before = fingerprint(local)

    there = migrate(local, str(postgres_state["database_url"]), str(s3_state["audio_store"]), s3_state)
    assert there.returncode == 0, there.stderr + there.stdout
    assert "checked:" in there.stdout and "revisions: 3 rows, 3 copied now" in there.stdout
    assert fingerprint(local) == before  # the source is never changed
    await assert_serves_everything(cloud)

    again = migrate(local, str(postgres_state["database_url"]), str(s3_state["audio_store"]), s3_state)
    assert (
        again.returncode == 0 and "revisions: 3 rows, 0 copied now" in again.stdout
    )  # resumable, idempotent
    assert "audio: 0 sent" in again.stdout

    back = tmp_path / "back"
    home_again = migrate(cloud, str(back / "tts.db"), str(back / "audio_cache"), s3_state)
    assert home_again.returncode == 0, home_again.stderr + home_again.stdout
    await assert_serves_everything(Settings(home=back, engine="espeak", fallback_engine=None))


class FailingAfter:
    """A real audio store that fails after ``n`` writes, as a connection lost mid-migration does."""

    def __init__(self, inner: AudioStore, n: int) -> None:
        self.inner, self.left = inner, n

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def write(self, key: str, audio: bytes) -> object:
        if self.left == 0:
            raise ConnectionError("connection lost")
        self.left -= 1
        return self.inner.write(key, audio)


async def test_an_interrupted_migration_carries_on_where_it_stopped(
    settings: Settings, postgres_state: dict[str, object], s3_state: dict[str, object]
) -> None:
    await publish_with_audio(settings)
    source = Database(settings.database, read_only=True)
    source_audio = open_audio_store(settings)
    target_settings = Settings(home=settings.home / "t", **postgres_state, **s3_state)
    target, target_audio = Database(target_settings.database), open_audio_store(target_settings)
    try:
        with pytest.raises(ConnectionError):
            await transfer(source, source_audio, target, FailingAfter(target_audio, 2))  # type: ignore[arg-type]
        assert await target.read(lambda c: c.exec_driver_sql("SELECT count(*) FROM audio").scalar_one()) == 0
        report = await transfer(source, source_audio, target, target_audio)
        assert report.problems == [] and report.audio_present == 2 and report.audio_sent > 0
    finally:
        for closing in (source, target, source_audio, target_audio):
            closing.close()


async def test_damaged_source_audio_is_left_behind_with_its_record(
    settings: Settings, postgres_state: dict[str, object], s3_state: dict[str, object]
) -> None:
    await publish_with_audio(settings)
    source_audio = open_audio_store(settings)
    source = Database(settings.database, read_only=True)
    keys = await source.read(
        lambda c: [k for (k,) in c.exec_driver_sql("SELECT key FROM audio ORDER BY key")]
    )
    damaged = settings.cache_dir / keys[0][:2] / f"{keys[0]}.mp3"
    damaged.write_bytes(damaged.read_bytes()[:-100])
    target_settings = Settings(home=settings.home / "t", **postgres_state, **s3_state)
    target, target_audio = Database(target_settings.database), open_audio_store(target_settings)
    try:
        report = await transfer(source, source_audio, target, target_audio)
        assert report.problems == [] and list(report.audio_bad) == [keys[0]]
        copied = await target.read(lambda c: {k for (k,) in c.exec_driver_sql("SELECT key FROM audio")})
        assert copied == set(keys[1:])  # no record without its whole object
        with pytest.raises(NotFound):
            target_audio.read(keys[0])
    finally:
        for closing in (source, target, source_audio, target_audio):
            closing.close()


def test_the_source_must_be_migrated_first(tmp_path: Path) -> None:
    """Read-only means read-only: an old database is not upgraded behind the operator's back."""
    Database(tmp_path / "tts.db").close()
    with sqlite3.connect(tmp_path / "tts.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    with pytest.raises(NotMigrated, match="db upgrade"):
        Database(tmp_path / "tts.db", read_only=True)
