"""The store's generation number: moved by this process's writes at once, by other processes' writes when
``Changes.follow`` looks next."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from tts_service.article import ArticleDraft
from tts_service.changes import Changes
from tts_service.config import Settings
from tts_service.errors import NotFound
from tts_service.store import Store

# Another process writing to the same database file, as `tts-service lexicon add` would.
WRITER = """
import asyncio, sys
from pathlib import Path
from tts_service.store import Store
where = sys.argv[1]
store = Store(where if "://" in where else Path(where))
asyncio.run(store.put_lexicon("ANSO", "安索"))
store.close()
"""


@pytest.fixture(params=["local", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(settings: Settings):
    opened = Store(settings.database)
    yield opened
    opened.close()


def write_elsewhere(location: Path | str) -> None:
    subprocess.run([sys.executable, "-c", WRITER, str(location)], check=True, capture_output=True)


async def test_a_write_moves_the_generation_once_committed(store: Store) -> None:
    before = store.changes.generation
    await store.save_article(ArticleDraft(title="标题", text="正文。", slug="a"))
    assert store.changes.generation > before
    seen = []

    def spy(conn):  # inside the transaction: not committed yet, so not moved yet
        seen.append(store.changes.generation)

    now = store.changes.generation
    await store.write(spy)
    assert seen == [now] and store.changes.generation > now


async def test_reads_and_refused_writes_do_not_move_it(store: Store) -> None:
    await store.save_article(ArticleDraft(title="标题", text="正文。", slug="a"))
    before = store.changes.generation
    await store.get_article("a")
    await store.lexicon()
    with pytest.raises(NotFound):
        await store.remove_lexicon("nothing")  # rolled back: nothing changed
    assert store.changes.generation == before


async def test_data_version_moves_with_another_process_write(store: Store) -> None:
    first = await store.data_version()
    assert await store.data_version() == first
    write_elsewhere(store.location)
    assert await store.data_version() != first


async def test_follow_sees_another_process_write(store: Store) -> None:
    """The cross-process path: nothing in this process wrote, yet the generation moves."""
    follower = asyncio.create_task(store.changes.follow(store.data_version, interval=0.05))
    try:
        await asyncio.sleep(0.2)  # a few quiet looks first: they must not move it
        quiet = store.changes.generation
        assert quiet == 0
        write_elsewhere(store.location)
        async with asyncio.timeout(10):
            while store.changes.generation == quiet:  # noqa: ASYNC110 (polling is what is tested)
                await asyncio.sleep(0.05)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)


async def test_a_probe_that_fails_counts_as_a_change(caplog: pytest.LogCaptureFixture) -> None:
    changes = Changes()
    answers: list[object] = [1, 1, RuntimeError("database is gone")]  # then 1 for ever
    calls = 0

    async def probe() -> object:
        nonlocal calls
        calls += 1
        answer = answers[calls - 1] if calls <= len(answers) else 1
        if isinstance(answer, Exception):
            raise answer
        return answer

    follower = asyncio.create_task(changes.follow(probe, interval=0.01))
    async with asyncio.timeout(10):
        while calls < 6:  # noqa: ASYNC110 (polling is what is tested)
            await asyncio.sleep(0.01)
    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
    # 1 → 1: no change; → failure: changed (unknown); → 1: changed (from unknown); 1 → 1 …: no change.
    assert changes.generation == 2
    assert "cannot tell whether the store changed" in caplog.text
