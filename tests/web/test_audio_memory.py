"""The audio memory: bounded in bytes whatever it is asked for, and never ahead of the files on disk."""

from __future__ import annotations

import gc
import os
import tracemalloc
from pathlib import Path

import pytest
from helpers import opened

from tts_service.cache import AudioCache
from tts_service.errors import NotFound
from tts_service.web.audio_memory import AudioMemory, HeldFile

MB = 1024 * 1024
FILE = 40_000  # bytes in each file; 26 fit in 1 MB, with their keys and records


def key(i: int) -> str:
    return f"{i:064x}"


@pytest.fixture
def cache(tmp_path: Path) -> AudioCache:
    """80 files of 40 kB each (3.2 MB), each of its own bytes."""
    cache = AudioCache(tmp_path / "audio_cache")
    for i in range(80):
        cache.write(key(i), bytes([i]) * FILE)
    return cache


async def test_filled_past_its_bound_it_holds_at_most_its_bytes(cache: AudioCache) -> None:
    memory = AudioMemory(MB)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(80):
            held = await memory.get(key(i), cache)
            assert isinstance(held, HeldFile) and held.data == bytes([i]) * FILE
        del held
        gc.collect()
        allocated = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert memory.nbytes <= MB
    assert memory.nbytes >= len(memory) * FILE  # the bytes themselves are counted, and more
    assert 20 <= len(memory) <= 26
    assert allocated <= 1.05 * MB  # what Python really still holds, counted by its allocator


async def test_the_least_recently_served_go_first(cache: AudioCache) -> None:
    memory = AudioMemory(MB)
    for i in range(20):
        await memory.get(key(i), cache)
    await memory.get(key(0), cache)  # served again: now the most recent
    with opened() as opens:
        for i in range(20, 30):  # ten more: 30 files do not fit
            await memory.get(key(i), cache)
        await memory.get(key(0), cache)  # still held
        await memory.get(key(1), cache)  # gone: read again
    assert opens == [str(cache.path(key(i))) for i in (*range(20, 30), 1)]


async def test_a_file_over_an_eighth_of_the_memory_is_not_held(cache: AudioCache) -> None:
    memory = AudioMemory(8 * FILE - 1)
    found = await memory.get(key(0), cache)
    assert isinstance(found, os.stat_result) and found.st_size == FILE
    assert len(memory) == 0 and memory.nbytes == 0


async def test_no_memory_holds_nothing(cache: AudioCache) -> None:
    memory = AudioMemory(0)
    assert isinstance(await memory.get(key(0), cache), os.stat_result)
    assert len(memory) == 0


async def test_a_file_gone_from_disk_is_gone_from_memory(cache: AudioCache) -> None:
    memory = AudioMemory(MB)
    await memory.get(key(0), cache)
    held = memory.nbytes
    cache.path(key(0)).unlink()
    with pytest.raises(NotFound):
        await memory.get(key(0), cache)
    assert len(memory) == 0 and memory.nbytes == 0 < held


async def test_a_file_made_again_is_read_again(cache: AudioCache) -> None:
    memory = AudioMemory(MB)
    await memory.get(key(0), cache)
    cache.write(key(0), b"new" * 100)  # a new file (a new inode) under the same name
    held = await memory.get(key(0), cache)
    assert isinstance(held, HeldFile) and held.data == b"new" * 100
    assert len(memory) == 1
