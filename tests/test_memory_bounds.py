"""In-process caches stay under their bounds in bytes, measured by what the allocator really holds.

Each test fills a cache with far more than its bound and measures, with tracemalloc, what stays allocated
afterwards: a cache bounded by entry count (as these were) holds far more than its byte bound.
"""

from __future__ import annotations

import gc
import random
import sys
import tracemalloc
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pydantic_core
import pytest
from helpers import open_pipeline

from tts_service.config import Settings
from tts_service.text import lexicon, polyphones
from tts_service.text.lexicon import Lexicon
from tts_service.web.page_cache import CachedPage, PageCache
from tts_service.web.ratelimit import RateLimiter

MB = 1024 * 1024
# Han characters from the common block; random 4-character sentences give many short chunks per character.
_HAN = [chr(c) for c in range(0x4E00, 0x9FA5)]


def sentences(seed: int, chars: int, each: int = 4) -> str:
    """An article of ``chars`` characters of sentences of ``each`` characters, distinct for each seed."""
    rnd = random.Random(seed)
    parts, total = [], 0
    while total < chars:
        parts.append("".join(rnd.choices(_HAN, k=each)) + ("。\n" if rnd.random() < 0.05 else "。"))
        total += len(parts[-1])
    return "".join(parts)[:chars]


@contextmanager
def held_bytes() -> Iterator[Callable[[], int]]:
    """Python memory still allocated since entering, after a full collection (call the result to read it)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]

    def held() -> int:
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before

    try:
        yield held
    finally:
        tracemalloc.stop()


async def test_plans_of_many_long_articles_stay_under_the_plan_cache_bound(tmp_path: Path) -> None:
    """Each 30,000-character plan holds about 0.4 MB; twenty of them must not all stay in a 2 MB cache, even
    once the manifest API has written their text as JSON."""
    settings = Settings(home=tmp_path, engine="espeak", fallback_engine=None, plan_cache_mb=2)
    async with open_pipeline(settings) as pipeline:
        await pipeline.planner.plan_text(sentences(-1, 1000), None, None)  # warm: rules, threads, the store
        with held_bytes() as held:
            for seed in range(20):  # the text made here too: as the store's, it lives on only as the key
                plan = await pipeline.planner.plan_text(sentences(seed, 30_000, each=100), None, None)
                # As the manifest API does: its JSON encoder makes CPython keep a UTF-8 copy in each string.
                pydantic_core.to_json([chunk.text for chunk in plan.chunks])
            del plan
            retained = held()
        last = sentences(19, 30_000, each=100)  # the latest plan is still cached
        first, again = [await pipeline.planner.plan_text(last, None, None) for _ in range(2)]
        assert first.chunks is again.chunks
    assert retained < 2 * MB, f"{retained / MB:.2f} MB held by 20 plans"


async def test_cached_plans_share_one_copy_of_the_lexicon(tmp_path: Path) -> None:
    """Every plan is cached with the lexicon it was made with; read from the store on each request, each
    plan's would be a copy of its own (here about 0.4 MB each), outside the cache's byte count."""
    settings = Settings(home=tmp_path, engine="espeak", fallback_engine=None, plan_cache_mb=4)
    async with open_pipeline(settings) as pipeline:
        for i in range(2000):
            await pipeline.store.put_lexicon(f"词条{i:04d}", sentences(i, 20))
        await pipeline.planner.plan_text("热身。", None, None)
        texts = [sentences(1000 + seed, 50) for seed in range(30)]
        with held_bytes() as held:
            for text in texts:
                await pipeline.planner.plan_text(text, None, None)
            retained = held()
    assert retained < 1 * MB, f"{retained / MB:.1f} MB held by 30 plans of 50 characters"


def test_page_cache_counts_what_its_pages_hold() -> None:
    """An article page is cached with what it showed, the plan's chunks (about 2 MB at 100,000 characters)
    while its HTML is far smaller; the chunks stay alive as long as the page, so they count."""
    cache = PageCache(max_bytes=2 * MB)
    with held_bytes() as held:
        for i in range(40):
            chunks = tuple(f"第{i}篇第{j}句。" * 4 for j in range(4000))  # about 0.5 MB
            body = b"<!doctype html>" + bytes(2000)
            page = CachedPage.rendered(body, ("article.html", chunks), "/articles/{slug}", 0, True, None)
            cache.put(("http", b"reader.example", f"/articles/{i}"), page)
        retained = held()
    assert retained < 2.2 * MB, f"{retained / MB:.1f} MB held by a page cache of 2 MB"


def test_word_readings_stay_under_their_byte_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pinyin front end remembers each word's readings (about 400 bytes a word). With its bound at 1 MB
    here (16 MB in use, which takes a minute to fill under tracemalloc), 5,000 words must not all stay."""
    monkeypatch.setattr(polyphones.word_readings.cache, "max_bytes", MB)
    polyphones.word_readings.cache.clear()
    rnd = random.Random(7)
    words = list(dict.fromkeys("".join(rnd.choices(_HAN, k=3)) for _ in range(5_100)))[:5_000]
    polyphones.word_readings("热身")
    with held_bytes() as held:
        for word in words:
            polyphones.word_readings(word)
        retained = held()
    polyphones.word_readings.cache.clear()
    assert retained < 1.1 * MB, f"{retained / MB:.1f} MB held by the readings of {len(words)} words"


def test_compiled_lexicons_stay_under_their_byte_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each edit of the lexicon compiles a new pattern (here 0.3 MB each). Neither our cache (at 1 MB here)
    nor the re module's own (512 patterns) may keep ten of them."""
    monkeypatch.setattr(lexicon._compile.cache, "max_bytes", MB)
    alive = []
    for seed in range(10):
        rnd = random.Random(seed)
        entries = {"".join(rnd.choices(_HAN, k=30)): "好" for _ in range(1000)}
        pattern, _ = lexicon._compile(Lexicon.of(entries).entries)
        alive.append(weakref.ref(pattern))
        del pattern
    gc.collect()
    held = sum(sys.getsizeof(ref()) for ref in alive if ref() is not None)
    lexicon._compile.cache.clear()
    assert held < MB, f"{held / MB:.1f} MB of compiled lexicons alive"


def test_a_rate_limiter_stays_under_its_byte_bound() -> None:
    """A limiter remembers each client's calls in the window: with a high limit (an operator may set
    TTS_PUBLIC_TTS_PER_MINUTE=1000), ten thousand clients would hold over 300 MB."""
    now = [0.0]
    limiter = RateLimiter(1000, clock=lambda: now[0])
    with held_bytes() as held:
        for client in range(600):
            for _ in range(1000):
                now[0] += 1e-5  # all inside one window
                limiter.check(f"10.0.{client // 256}.{client % 256}")
        retained = held()
    assert retained < 16.5 * MB, f"{retained / MB:.1f} MB held by a rate limiter"
