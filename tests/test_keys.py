"""API keys (keys.py) on a real store, SQLite and PostgreSQL: secrets never stored, revocation at once, and
the daily budget charged in SQL, exactly, by several processes at once."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator

import pytest
from helpers import START, Clock
from sqlalchemy import inspect, text

from tts_service.config import Settings
from tts_service.errors import Conflict, InvalidInput, NotFound, RateLimited, TooLarge, Unauthorized
from tts_service.keys import DAY, ApiKeys, looks_like_key
from tts_service.store import Store


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
def keys(store: Store, clock: Clock) -> ApiKeys:
    return ApiKeys(store, clock)


async def every_value(store: Store) -> list[str]:
    """Every value of every column of every row of every table, as text."""

    def read(conn) -> list[str]:
        values = []
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                values.extend(str(value) for value in row)
        return values

    return await store.read(read)


async def test_the_secret_is_shown_once_and_only_its_hash_is_stored(keys: ApiKeys, store: Store) -> None:
    key, secret = await keys.create("reader-app", rate_per_minute=60, chars_per_day=1000)
    assert looks_like_key(secret) and secret.startswith("tts_") and len(secret) == 47
    values = await every_value(store)
    assert not [v for v in values if secret in v or secret[8:] in v]  # not whole, nor its secret part
    assert hashlib.sha256(secret.encode()).hexdigest() in values
    listed = await keys.list()
    assert [(k.name, k.prefix, k.rate_per_minute, k.chars_per_day) for k in listed] == [
        ("reader-app", secret[:8], 60, 1000)
    ]
    assert key == listed[0]
    assert secret not in repr(key) and "hash" not in repr(key)


async def test_verify_knows_its_keys_and_refuses_revoked_ones_at_once(
    store: Store, settings: Settings
) -> None:
    """Two ApiKeys on two connections to one database, as two processes: revoked in one, refused by the
    other at its very next check (nothing is cached)."""
    other_store = Store(settings.database)
    try:
        here, there = ApiKeys(store), ApiKeys(other_store)
        key, secret = await here.create("app")
        assert await there.verify(secret) == key
        assert await there.verify(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
        assert await there.verify("tts_short") is None
        assert await there.verify("not-even-a-key") is None
        revoked = await here.revoke("app")
        assert revoked.revoked and revoked.revoked_at is not None
        assert await there.verify(secret) is None
        again = await there.revoke("app")  # revoking again changes nothing
        assert again.revoked_at == revoked.revoked_at
    finally:
        other_store.close()


async def test_names_are_unique_and_checked(keys: ApiKeys) -> None:
    await keys.create("app")
    with pytest.raises(Conflict, match="exists already"):
        await keys.create("app")
    await keys.revoke("app")
    with pytest.raises(Conflict):
        await keys.create("app")  # a revoked key keeps its name: its usage stays listed under it
    for name in ("", "has space", "x" * 65, "semi;colon"):
        with pytest.raises(InvalidInput):
            await keys.create(name)
    with pytest.raises(InvalidInput):
        await keys.create("zero", rate_per_minute=0)
    with pytest.raises(InvalidInput):
        await keys.create("negative", chars_per_day=-5)
    with pytest.raises(NotFound):
        await keys.revoke("nobody")
    assert [k.name for k in await keys.list()] == ["app"]


async def test_the_daily_budget_refuses_without_charging_and_starts_again_each_utc_day(
    keys: ApiKeys, clock: Clock
) -> None:
    key, _ = await keys.create("app", chars_per_day=100)
    await keys.charge(key, 60)
    await keys.charge(key, 40)  # exactly the budget
    with pytest.raises(RateLimited) as refused:
        await keys.charge(key, 1)
    assert refused.value.retry_after == 6_400  # the seconds to the next UTC day
    with pytest.raises(TooLarge):
        await keys.charge(key, 101)  # never fits: not worth waiting for
    (usage,) = await keys.list()
    assert (usage.requests, usage.chars, usage.chars_today) == (2, 100, 100)  # the refused ones: nothing
    clock.now = START - START % DAY + DAY + 1  # just after midnight
    await keys.charge(key, 70)
    (usage,) = await keys.list()
    assert (usage.requests, usage.chars, usage.chars_today) == (3, 170, 70)
    clock.now += DAY  # a day later, nothing charged yet: today's count reads 0
    assert (await keys.get("app")).chars_today == 0


async def test_an_unlimited_key_counts_usage_and_cache_hits(keys: ApiKeys) -> None:
    key, _ = await keys.create("app")
    for _ in range(3):
        await keys.charge(key, 1_000_000)
    await keys.note_cache_hits(key, 4)
    await keys.note_cache_hits(key, 0)
    usage = await keys.get("app")
    assert (usage.requests, usage.chars, usage.cache_hits) == (3, 3_000_000, 4)


async def test_a_revoked_key_is_not_charged(keys: ApiKeys) -> None:
    key, _ = await keys.create("app", chars_per_day=100)
    await keys.revoke("app")
    with pytest.raises(Unauthorized):
        await keys.charge(key, 1)
    assert (await keys.get("app")).requests == 0


async def test_concurrent_charges_from_two_processes_never_pass_the_budget(
    store: Store, settings: Settings, clock: Clock
) -> None:
    """Two stores on one database (as two web processes) charge 5 characters 40 times at once against a
    budget of 100: exactly 20 are accepted, and every one of them is counted."""
    other_store = Store(settings.database)
    try:
        here, there = ApiKeys(store, clock), ApiKeys(other_store, clock)
        key, _ = await here.create("app", chars_per_day=100)

        async def one(keys: ApiKeys) -> bool:
            try:
                await keys.charge(key, 5)
            except RateLimited:
                return False
            return True

        accepted = await asyncio.gather(*(one(here if n % 2 else there) for n in range(40)))
        assert sum(accepted) == 20
        usage = await here.get("app")
        assert (usage.requests, usage.chars, usage.chars_today) == (20, 100, 100)
    finally:
        other_store.close()
