"""The byte-bounded LRU cache: evicts by bytes, keeps recency, never keeps what alone breaks the bound."""

from __future__ import annotations

import gc
import sys
import tracemalloc
from dataclasses import dataclass

from tts_service.lru import ENTRY_OVERHEAD, ByteLRU, cached, deep_size


def sized(bound: int) -> ByteLRU[object, int]:
    """A cache whose values are the sizes they count, in all (the per-entry overhead included)."""
    return ByteLRU(bound, lambda key, value: value - ENTRY_OVERHEAD)


def test_evicts_the_least_recently_used_by_bytes() -> None:
    lru = sized(100)
    lru.put("a", 40)
    lru.put("b", 40)
    assert lru.nbytes == 80
    lru.put("c", 40)  # 120 > 100: "a" goes
    assert "a" not in lru and "b" in lru and "c" in lru
    assert lru.nbytes == 80


def test_a_get_makes_an_entry_recent() -> None:
    lru = sized(100)
    lru.put("a", 40)
    lru.put("b", 40)
    assert lru.get("a") == 40
    lru.put("c", 40)  # "b" is now the least recently used
    assert "b" not in lru and "a" in lru and "c" in lru


def test_many_small_entries_make_room_for_one_large() -> None:
    lru = sized(100)
    for i in range(10):
        lru.put(i, 10)
    lru.put(99, 95)
    assert list(lru._entries) == [99] and lru.nbytes == 95


def test_an_entry_larger_than_the_bound_is_not_kept() -> None:
    lru = sized(100)
    lru.put("small", 10)
    assert lru.put("huge", 101) == 101  # still handed back to the caller
    assert "huge" not in lru and lru.get("small") == 10  # and nothing was evicted for it
    assert lru.nbytes == 10


def test_a_discarded_entry_gives_its_bytes_back() -> None:
    lru = sized(100)
    lru.put("a", 60)
    lru.put("b", 30)
    lru.discard("a")
    lru.discard("never there")
    assert "a" not in lru and lru.get("b") == 30 and lru.nbytes == 30


def test_replacing_a_key_counts_its_new_size_only() -> None:
    lru = sized(100)
    lru.put("a", 60)
    lru.put("a", 30)
    assert lru.nbytes == 30 and len(lru) == 1
    lru.put("a", 200)  # too large now: the old value must not linger either
    assert "a" not in lru and lru.nbytes == 0


def test_every_entry_is_charged_the_maps_own_overhead() -> None:
    lru: ByteLRU[int, bytes] = ByteLRU(10 * ENTRY_OVERHEAD, lambda key, value: 0)
    for i in range(100):
        lru.put(i, b"")
    assert len(lru) == 10


def test_get_of_a_missing_key_gives_the_default() -> None:
    lru = sized(100)
    assert lru.get("nope") is None
    assert lru.get("nope", 0) == 0


def test_cached_calls_once_per_arguments_and_caches_none() -> None:
    calls = []

    @cached(1000, lambda args, result: 10)
    def f(x: int) -> int | None:
        calls.append(x)
        return None if x == 0 else x * 2

    assert [f(1), f(1), f(0), f(0), f(2)] == [2, 2, None, None, 4]
    assert calls == [1, 0, 2]
    assert len(f.cache) == 3


@dataclass(frozen=True)
class Record:
    number: int
    name: str
    parts: tuple[str, ...]


def test_deep_size_is_close_to_what_the_allocator_holds() -> None:
    """The size functions are only as good as this estimate, so check it against tracemalloc."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        records = tuple(Record(i, f"名字{i}" * 5, (f"片段{i}", "固定")) for i in range(20_000))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    estimate = deep_size(records)
    assert 0.8 * held < estimate < 1.25 * held, (estimate, held)


def test_deep_size_counts_shared_objects_once() -> None:
    shared = "共享" * 1000
    assert deep_size((shared, shared)) == sys.getsizeof((shared, shared)) + sys.getsizeof(shared)
