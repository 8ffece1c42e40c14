"""The store, on SQLite and on PostgreSQL: migrations, revisions, deletion, audio records."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from helpers import fill_disk, mount_tmpfs, unmount
from postgres import PostgresServer
from sqlalchemy import Connection, text

from tts_service.article import ArticleDraft
from tts_service.config import Settings
from tts_service.database import head
from tts_service.errors import Conflict, NotFound, RateLimited, StorageFull
from tts_service.migrations.legacy import MIGRATIONS, _statements
from tts_service.schema import metadata
from tts_service.store import AudioRecord, Store


@pytest.fixture(params=["local", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store(settings.database)
    yield s
    s.close()


async def test_migrations_run_once_and_record_the_revision(store: Store) -> None:
    assert await store.read(lambda c: c.execute(text("SELECT version_num FROM alembic_version")).all()) == [
        (head(),)
    ]
    Store(store.db.url.render_as_string(hide_password=False)).close()  # again: a no-op, not "table exists"
    tables = await store.read(lambda c: c.execute(text("SELECT count(*) FROM articles")).scalar_one())
    assert tables == 0


def test_a_database_of_the_hand_written_migrations_is_brought_under_alembic(tmp_path: Path) -> None:
    """A SQLite file from before Alembic, at any of its eight versions, opens with its data."""
    for version in (4, len(MIGRATIONS)):
        path = tmp_path / f"v{version}.db"
        conn = sqlite3.connect(path, isolation_level=None)
        for number, script in enumerate(MIGRATIONS[:version], start=1):
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute(
            "INSERT INTO articles (slug, revision, created_at, updated_at) VALUES ('old', 1, 'a', 'a')"
        )
        conn.execute(
            "INSERT INTO revisions (article_id, revision, title, text, created_at)"
            " VALUES (1, 1, '旧', '旧文。', 'a')"
        )
        conn.close()
        store = Store(path)
        try:
            article = asyncio.run(store.get_article("old"))
            assert (article.title, article.url) == ("旧", None)  # url: a column of migration 6
        finally:
            store.close()
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head(),)]
        conn.close()


async def test_new_article_is_revision_one(store: Store) -> None:
    article = await store.save_article(
        ArticleDraft(title="标题", text="正文。", slug="a-1", byline="记者", date="2026-01-02")
    )
    assert (article.slug, article.revision, article.title, article.text) == ("a-1", 1, "标题", "正文。")
    assert (article.byline, article.date) == ("记者", "2026-01-02")
    assert article.created_at and article.updated_at


async def test_same_slug_makes_a_new_revision_and_keeps_the_old(store: Store) -> None:
    await store.save_article(ArticleDraft(title="一", text="第一版。", slug="same"))
    second = await store.save_article(ArticleDraft(title="二", text="第二版。", slug="same"))
    assert (second.revision, second.title, second.text) == (2, "二", "第二版。")
    assert [a.slug for a in await store.list_articles()] == ["same"]
    assert await store.revision_count("same") == 2


async def test_slug_from_title(store: Store) -> None:
    article = await store.save_article(ArticleDraft(title="国际合作", text="正文。"))
    assert article.slug == "guo-ji-he-zuo"


async def test_update_of_missing_article_stores_nothing(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.save_article(ArticleDraft(title="t", text="x", slug="nope"), must_exist=True)
    assert await store.list_articles() == []


async def test_delete_removes_article_and_revisions(store: Store) -> None:
    await store.save_article(ArticleDraft(title="t", text="x", slug="gone"))
    await store.save_article(ArticleDraft(title="t", text="y", slug="gone"))
    await store.delete_article("gone")
    with pytest.raises(NotFound):
        await store.get_article("gone")
    assert await store.revision_count("gone") == 0
    with pytest.raises(NotFound):
        await store.delete_article("gone")


async def test_list_is_newest_first(store: Store) -> None:
    for slug in ("one", "two", "three"):
        await store.save_article(ArticleDraft(title=slug, text="x", slug=slug))
    await store.save_article(ArticleDraft(title="one again", text="x", slug="one"))
    assert [a.slug for a in await store.list_articles()][0] == "one"


async def test_audio_records_in_batches(store: Store) -> None:
    keys = [f"{i:064x}" for i in range(1200)]
    for key in keys[::2]:
        await store.record_audio(AudioRecord(key, 100, 1.5, "ab" * 32), "espeak", "cmn")
    found = await store.audio_records(keys)
    assert set(found) == set(keys[::2])
    assert found[keys[0]].duration == 1.5 and found[keys[0]].size == 100


async def test_a_failed_write_is_rolled_back(store: Store) -> None:
    def bad(conn):
        conn.execute(
            text("INSERT INTO articles (slug, revision, created_at, updated_at) VALUES ('x', 1, 'n', 'n')")
        )
        raise RuntimeError("halfway")

    with pytest.raises(RuntimeError):
        await store.write(bad)
    assert await store.list_articles() == []


# Retention: old revisions and finished jobs do not pile up ------------------------------------------


async def add_jobs(store: Store, slug: str, revision: int, statuses: list[str]) -> None:
    sql = text(
        "INSERT INTO jobs (slug, revision, engine, voice, status, owner, heartbeat, created_at, updated_at)"
        " VALUES (:slug, :revision, 'espeak', 'cmn', :status, 'x:1:y', 0, '', '')"
    )
    rows = [{"slug": slug, "revision": revision, "status": s} for s in statuses]
    await store.write(lambda c: c.execute(sql, rows))


async def job_rows(store: Store) -> list[tuple]:
    sql = text("SELECT slug, revision, status FROM jobs ORDER BY id")
    return [tuple(row) for row in await store.read(lambda c: c.execute(sql).all())]


async def test_saving_keeps_the_newest_revisions_only(store: Store) -> None:
    for n in range(1, 11):
        article = await store.save_article(
            ArticleDraft(title=f"t{n}", text=f"第{n}版。", slug="a"), keep_revisions=3
        )
        await add_jobs(store, "a", n, ["done"])
    assert (article.revision, article.title) == (10, "t10")
    assert await store.revision_count("a") == 3
    sql = text("SELECT revision FROM revisions ORDER BY revision")
    assert [r[0] for r in await store.read(lambda c: c.execute(sql).all())] == [8, 9, 10]
    # Jobs of removed revisions went with them (the job of revision 10 was added after its save).
    assert await job_rows(store) == [("a", 8, "done"), ("a", 9, "done"), ("a", 10, "done")]
    assert (await store.get_article("a")).text == "第10版。"


async def test_prune_keeps_active_jobs_and_the_latest_of_each_revision(store: Store) -> None:
    for n in range(1, 6):
        await store.save_article(ArticleDraft(title="t", text=f"第{n}版。", slug="a"))
    await store.save_article(ArticleDraft(title="t", text="别的。", slug="b"))
    await add_jobs(store, "a", 5, ["failed", "failed", "done"])  # retries of the current revision
    await add_jobs(store, "a", 4, ["done", "running"])
    await add_jobs(store, "a", 1, ["done"])
    await add_jobs(store, "gone", 1, ["done"])  # an article deleted long ago
    assert await store.prune(2) == (3, 5)
    assert await store.revision_count("a") == 2 and await store.revision_count("b") == 1
    assert await job_rows(store) == [("a", 5, "done"), ("a", 4, "running")]
    assert await store.prune(0) == (0, 0)  # 0 keeps every revision


async def test_concurrent_saves_each_answer_with_their_own_revision(store: Store) -> None:
    import asyncio

    drafts = [ArticleDraft(title=f"标题{n}", text=f"第{n}份。", slug="same") for n in range(50)]
    saved = await asyncio.gather(*(store.save_article(d) for d in drafts))
    assert sorted(a.revision for a in saved) == list(range(1, 51))
    for draft, article in zip(drafts, saved, strict=True):
        assert (article.title, article.text) == (draft.title, draft.text)


@pytest.fixture
def small_home(tmp_path) -> Iterator[Path]:
    home = tmp_path / "small"
    if not mount_tmpfs(home, "1m"):
        pytest.skip("cannot mount a tmpfs here (not root)")
    yield home
    unmount(home)


async def test_a_full_disk_under_the_database_is_storage_full(small_home: Path) -> None:
    store = Store(small_home / "tts.db")
    try:
        fill_disk(small_home / "filler")
        with pytest.raises(StorageFull, match="no space left for the database"):
            await store.save_article(ArticleDraft(title="t", text="字" * 200_000, slug="big"))
        (small_home / "filler").unlink()
        article = await store.save_article(ArticleDraft(title="t", text="一句。", slug="small"))
        assert article.revision == 1  # the failed write was rolled back; the store works again
    finally:
        store.close()


async def test_an_article_keeps_its_page_url_and_is_found_by_it(store: Store) -> None:
    page = "https://news.example/a/t20200117_1.html"
    first = await store.save_article(ArticleDraft(title="标题", text="一句。", slug="p", url=page))
    assert first.url == page and (await store.article_by_url(page)).slug == "p"
    second = await store.save_article(ArticleDraft(title="标题", text="两句。", slug="p"))  # no url: kept
    assert (second.revision, second.url) == (2, page)
    with pytest.raises(NotFound):
        await store.article_by_url("https://news.example/other.html")


async def test_a_page_url_belongs_to_one_article(store: Store) -> None:
    page = "https://news.example/a.html"
    await store.save_article(ArticleDraft(title="标题", text="一句。", slug="one", url=page))
    with pytest.raises(Conflict, match="already the article 'one'"):
        await store.save_article(ArticleDraft(title="标题", text="一句。", slug="two", url=page))
    assert [a.slug for a in await store.list_articles()] == ["one"]  # nothing of "two" was stored


async def test_a_check_sees_the_current_revision_and_can_refuse_the_save(store: Store) -> None:
    seen: list[int | None] = []

    def check(conn: Connection, current) -> None:
        seen.append(current and current.revision)
        if len(seen) == 2:
            raise RateLimited("no more today", 60)

    draft = ArticleDraft(title="标题", text="一句。", slug="p")
    await store.save_article(draft, check=check)
    with pytest.raises(RateLimited):
        await store.save_article(draft.model_copy(update={"text": "两句。"}), check=check)
    assert seen == [None, 1] and await store.revision_count("p") == 1  # the refused revision left nothing


async def test_if_changed_writes_nothing_for_the_same_title_and_text(store: Store) -> None:
    draft = ArticleDraft(title="标题", text="一句。", slug="p")
    first = await store.save_article(draft, if_changed=True)
    again = await store.save_article(draft, if_changed=True, check=lambda conn, current: 1 / 0)  # not run
    assert again == first and await store.revision_count("p") == 1
    retitled = await store.save_article(draft.model_copy(update={"title": "新标题"}), if_changed=True)
    assert retitled.revision == 2


async def test_close_waits_for_reads_in_flight(tmp_path: Path) -> None:
    """As seen: a test's loop ended while a read still ran in its thread, and closing the store under it
    crashed the interpreter (a connection closed during a query). Close waits for reads; later ones fail."""
    store = Store(tmp_path / "tts.db")
    started = threading.Event()

    def slow(conn: Connection) -> int:
        started.set()
        time.sleep(0.3)  # the store is closed meanwhile
        return int(conn.execute(text("SELECT count(*) FROM articles")).scalar_one())

    reading = asyncio.create_task(store.read(slow))
    await asyncio.to_thread(started.wait)
    store.close()
    assert await reading == 0  # it ran to its end on an open connection
    with pytest.raises(RuntimeError, match="after shutdown"):
        await store.read(lambda conn: conn.execute(text("SELECT 1")).one())


# The editors' list: pages, search and revision history ----------------------------------------------


async def add_many(store: Store, count: int) -> None:
    for n in range(count):
        await store.save_article(ArticleDraft(title=f"通知{n:02d}", text=f"第{n}条。", slug=f"n-{n:02d}"))


async def test_pages_walk_the_whole_list_once_newest_first(store: Store) -> None:
    await add_many(store, 7)
    seen, cursor, pages = [], None, 0
    while True:
        page = await store.find_articles(limit=3, cursor=cursor)
        seen += [a.slug for a in page.articles]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert seen == [a.slug for a in await store.list_articles()] == [f"n-{n:02d}" for n in range(6, -1, -1)]


async def test_a_page_that_ends_the_list_has_no_cursor(store: Store) -> None:
    await add_many(store, 3)
    assert (await store.find_articles(limit=3)).next_cursor is None
    assert (await store.find_articles(limit=2)).next_cursor is not None


async def test_search_matches_title_slug_and_byline_literally(store: Store) -> None:
    await add_many(store, 3)
    await store.save_article(ArticleDraft(title="养老服务指南", text="正文。", slug="care", byline="民政局"))
    await store.save_article(ArticleDraft(title="100% 完成", text="正文。", slug="done"))
    titles = lambda page: [a.slug for a in page.articles]  # noqa: E731
    assert titles(await store.find_articles(limit=10, query="养老")) == ["care"]
    assert titles(await store.find_articles(limit=10, query="民政")) == ["care"]
    assert titles(await store.find_articles(limit=10, query="N-01")) == ["n-01"]  # slugs, any case
    assert titles(await store.find_articles(limit=10, query="%")) == ["done"]  # not a wildcard
    assert titles(await store.find_articles(limit=10, query="_")) == []
    assert titles(await store.find_articles(limit=10, query="不存在")) == []


async def test_search_pages_too(store: Store) -> None:
    await add_many(store, 5)
    first = await store.find_articles(limit=2, query="通知")
    second = await store.find_articles(limit=2, query="通知", cursor=first.next_cursor)
    assert [a.slug for a in first.articles + second.articles] == ["n-04", "n-03", "n-02", "n-01"]


@pytest.mark.parametrize("cursor", ["nonsense", "", "YWJj", "!!", "eyJ1IjogMX0"])
async def test_a_bad_cursor_is_invalid_input(store: Store, cursor: str) -> None:
    from tts_service.errors import InvalidInput

    with pytest.raises(InvalidInput):
        await store.find_articles(limit=2, cursor=cursor or "=")


async def test_the_list_walks_an_index_not_the_whole_table(tmp_path: Path) -> None:
    store = Store(tmp_path / "tts.db")  # SQLite's plan (PostgreSQL's planner takes a small table whole)
    await add_many(store, 3)
    page = await store.find_articles(limit=2)
    plan = await store.read(
        lambda c: c.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM articles WHERE (updated_at < ? OR (updated_at = ? AND id < ?))"
            " ORDER BY updated_at DESC, id DESC LIMIT 3",
            ("9", "9", 9),
        ).all()
    )
    store.close()
    assert page.next_cursor and any("articles_by_updated" in row[-1] for row in plan), plan
    assert not any("TEMP B-TREE" in row[-1] for row in plan), plan  # no sort of every row


async def test_revisions_newest_first_and_each_one_readable(store: Store) -> None:
    await store.save_article(ArticleDraft(title="一", text="第一版。", slug="r", byline="甲"))
    await store.save_article(ArticleDraft(title="二", text="第二版。", slug="r"))
    history = await store.revisions("r")
    assert [(h.revision, h.title) for h in history] == [(2, "二"), (1, "一")]
    assert history[0].created_at > history[1].created_at
    old = await store.get_revision("r", 1)
    assert (old.revision, old.title, old.text, old.byline) == (1, "一", "第一版。", "甲")
    with pytest.raises(NotFound):
        await store.get_revision("r", 3)
    with pytest.raises(NotFound):
        await store.revisions("nope")


def test_two_processes_opening_a_new_database_run_each_migration_once(tmp_path) -> None:
    """The second opener must read the schema version under the write lock: here another connection holds
    that lock while it builds the schema, and a Store opened meanwhile waits, then finds it built (before
    the fix it read version 0 first, then failed with "table articles already exists")."""
    path = tmp_path / "tts.db"
    other = sqlite3.connect(path, isolation_level=None, timeout=30)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN IMMEDIATE")
    opened: list[object] = []
    thread = threading.Thread(target=lambda: opened.append(_open_or_error(path)))
    thread.start()
    thread.join(0.5)  # the Store is now waiting for the lock (or, before the fix, has read version 0)
    for number, script in enumerate(MIGRATIONS, start=1):
        for statement in _statements(script):
            other.execute(statement)
        other.execute(f"PRAGMA user_version = {number}")
    other.execute("COMMIT")
    thread.join(30)
    assert len(opened) == 1 and isinstance(opened[0], Store), opened
    opened[0].close()
    other.close()


def _open_or_error(path: Path) -> object:
    try:
        return Store(path)
    except Exception as exc:  # noqa: BLE001  # the test shows whatever it was
        return exc


async def test_the_migrations_make_the_schema_the_code_declares(store: Store) -> None:
    """schema.py (what queries and readers assume) and the migrations (what databases get) never drift."""

    def differences(conn: Connection) -> list[object]:
        return compare_metadata(MigrationContext.configure(conn), metadata)

    assert await store.read(differences) == []


def test_processes_starting_together_on_a_new_postgres_database_migrate_once(
    postgres_server: PostgresServer,
) -> None:
    """Four processes open one new database at once: the advisory lock lets one migrate, the others wait
    and find the schema made (without it, they fail with "relation already exists")."""
    name = postgres_server.create_database()
    script = "import sys; from tts_service.store import Store; Store(sys.argv[1]).close(); print('ok')"
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", script, postgres_server.url(name)], stdout=subprocess.PIPE
            )
            for _ in range(4)
        ]
        outputs = [proc.communicate(timeout=60)[0] for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * 4 and outputs == [b"ok\n"] * 4
    finally:
        postgres_server.drop_database(name)


async def test_writes_stay_whole_after_a_vacuum(store: Store) -> None:
    """VACUUM runs outside a transaction; the connections it used must not stay that way."""
    await store.save_article(ArticleDraft(title="t", text="一句。", slug="kept"))
    await store.vacuum()
    for _ in range(10):  # through every connection the pool may hand out
        with pytest.raises(RuntimeError):
            await store.write(half_written)
    assert [a.slug for a in await store.list_articles()] == ["kept"]


def half_written(conn: Connection) -> None:
    conn.execute(
        text("INSERT INTO articles (slug, revision, created_at, updated_at) VALUES ('x', 1, 'n', 'n')")
    )
    raise RuntimeError("halfway")
