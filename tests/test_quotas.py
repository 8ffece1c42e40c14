"""Embedding quotas (quotas.py) on a real SQLite store: per-site minute and daily limits, shared and kept."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterator

import pytest
from helpers import START, Clock
from sqlalchemy import event, text

from tts_service.article import ArticleDraft
from tts_service.config import Settings
from tts_service.errors import RateLimited, TooLarge
from tts_service.quotas import DAY, Quotas, new_chars
from tts_service.store import Store

SITE, OTHER = "https://news.example", "https://gov.example"


@pytest.fixture(params=["local", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store(settings.database)
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def quotas(clock: Clock) -> Quotas:
    return Quotas(revisions_per_minute=10, daily_chars=100, clock=clock)


async def charge(store: Store, quotas: Quotas, site: str = SITE, chars: int = 1) -> None:
    await store.write(functools.partial(quotas.charge, site=site, chars=chars))


async def rows(store: Store) -> list[tuple[str, float, int]]:
    return await store.read(
        lambda c: [tuple(r) for r in c.execute(text("SELECT site, at, chars FROM embed_usage ORDER BY at"))]
    )


@pytest.mark.parametrize(
    ("before", "after", "cost"),
    [
        (None, "第一句。第二句！\n\n第三句。", 12),  # a new page: all of it
        ("第一句。第二句！", "第一句。第二句！", 0),  # unchanged
        ("第一句。第二句！", "第一句。第二句改了！", 6),  # one sentence changed: that sentence
        ("第一句。第二句！", "第二句！", 0),  # a sentence removed
        ("第一句。第二句！", "第一句。\n\n第二句！", 0),  # paragraphs regrouped: the same sentences
        ("第一句。", "第一句。第一句。第一句。", 8),  # copies of a known sentence are new text
        ("第一句。", "  第一句。  ", 0),  # whitespace around is not text
    ],
)
def test_only_new_sentences_count(before: str | None, after: str, cost: int) -> None:
    assert new_chars(before, after) == cost


async def test_ten_revisions_a_minute_then_refused_with_the_wait(store: Store, quotas: Quotas, clock) -> None:
    for _ in range(10):
        clock.now += 2
        await charge(store, quotas)
    with pytest.raises(RateLimited) as refused:
        await charge(store, quotas)
    assert refused.value.headers == {"Retry-After": "42"}  # the first left at START + 2 + 60; now START + 20
    assert "TTS_EMBED_REVISIONS_PER_MINUTE" in refused.value.message and SITE in refused.value.message
    assert len(await rows(store)) == 10  # a refusal counts nothing
    await charge(store, quotas, site=OTHER)  # another site has its own quota
    clock.now = START + 2 + 60  # the first revision leaves the window: one slot
    await charge(store, quotas)
    with pytest.raises(RateLimited):
        await charge(store, quotas)


async def test_the_daily_quota_until_midnight_utc(store: Store, quotas: Quotas, clock) -> None:
    await charge(store, quotas, chars=60)
    await charge(store, quotas, chars=40)  # exactly the quota
    await charge(store, quotas, chars=0)  # a revision that only removes text costs no characters
    with pytest.raises(RateLimited) as refused:
        await charge(store, quotas, chars=1)
    midnight = (START // DAY + 1) * DAY
    assert refused.value.retry_after == midnight - START == 6_400
    assert "TTS_EMBED_DAILY_CHARS" in refused.value.message
    await charge(store, quotas, site=OTHER, chars=100)
    clock.now = midnight
    await charge(store, quotas, chars=100)
    with pytest.raises(TooLarge, match="more than the whole daily quota"):  # never fits: not a wait
        await charge(store, quotas, chars=101)


async def test_old_usage_is_pruned_at_use(store: Store, quotas: Quotas, clock) -> None:
    await charge(store, quotas, site=OTHER, chars=5)
    clock.now += DAY
    await charge(store, quotas, chars=7)
    assert await rows(store) == [(SITE, START + DAY, 7)]


async def test_concurrent_charges_never_pass_the_limit(store: Store, quotas: Quotas) -> None:
    results = await asyncio.gather(*(charge(store, quotas) for _ in range(30)), return_exceptions=True)
    assert sum(r is None for r in results) == 10
    assert all(isinstance(r, RateLimited) for r in results if r is not None)


async def test_two_processes_share_the_quota(settings: Settings, quotas: Quotas) -> None:
    """Two stores on one database (as two server processes have): the count is the database's."""
    first, second = Store(settings.database), Store(settings.database)
    for store in (first, second):  # slow every statement down, so the two writers' statements interleave
        event.listen(store.db._write_engine, "before_cursor_execute", lambda *_: time.sleep(0.001))
    try:
        calls = [charge(s, quotas) for s in (first, second) * 15]
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert sum(r is None for r in results) == 10
    finally:
        first.close()
        second.close()


async def test_a_restart_keeps_the_counts(settings: Settings, quotas: Quotas) -> None:
    store = Store(settings.database)
    for _ in range(10):
        await charge(store, quotas, chars=10)
    store.close()
    again = Store(settings.database)
    try:
        with pytest.raises(RateLimited):
            await charge(again, quotas)
        quotas.revisions_per_minute = 100
        with pytest.raises(RateLimited, match="100 characters"):
            await charge(again, quotas)
    finally:
        again.close()


async def test_a_refused_page_stores_nothing_and_an_unchanged_one_pays_nothing(
    store: Store, quotas: Quotas
) -> None:
    quotas.daily_chars = 10
    draft = ArticleDraft(title="页", text="八个字的一句话。", slug="page")
    await store.save_article(draft, if_changed=True, check=quotas.for_page(SITE, draft.text))
    again = await store.save_article(draft, if_changed=True, check=quotas.for_page(SITE, draft.text))
    assert again.revision == 1 and len(await rows(store)) == 1  # unchanged: no revision, no charge
    grown = draft.model_copy(update={"text": draft.text + "再三个。"})  # 4 new: 12 > 10
    with pytest.raises(RateLimited):
        await store.save_article(grown, if_changed=True, check=quotas.for_page(SITE, grown.text))
    assert (await store.get_article("page")).revision == 1 and await store.revision_count("page") == 1
