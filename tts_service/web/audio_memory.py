"""Hot audio files held in memory, bounded in bytes: serving one again costs no disk read and no thread trip.

Profiled before this existed (BENCHMARKS.md), a 58 kB chunk cost four trips to worker threads per request
(a ``stat``, then open, read and close), and those trips were the largest single part of the event loop's
time. Keys are content addresses, so bytes once read never go stale; but a file can still leave the disk
(``tts-service cache gc``, ``cache verify --quarantine``, both from another process) or be made again with
other bytes. Every request therefore still checks the file on disk, with one ``stat``, and memory answers
only while the file there is the one that was read.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from email.utils import formatdate

from tts_service.cache import AudioCache
from tts_service.errors import NotFound
from tts_service.flight import SingleFlight
from tts_service.lru import ByteLRU, deep_size

LARGEST_SHARE = 8  # a file over 1/8 of the memory is streamed from disk instead (the longest articles)


@dataclass(frozen=True)
class HeldFile:
    """A file's bytes as read, and which version of the file on disk they are."""

    path: str  # where it was read from (a string: a Path costs more to make than the stat to check it)
    data: bytes
    version: tuple[int, int, int, int]  # device, inode, size, modification time (ns): see ``version``
    last_modified: str  # its modification time as an HTTP date, as FileResponse sends it


def version(stat: os.stat_result) -> tuple[int, int, int, int]:
    """What changes when a file is replaced (``os.replace`` makes a new inode) or rewritten in place."""
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


class AudioMemory:
    """The most recently used audio files, up to ``max_bytes`` of them (bytes, keys and records counted)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.largest = max_bytes // LARGEST_SHARE
        self._held: ByteLRU[str, HeldFile] = ByteLRU(max_bytes, deep_size)
        self._reads: SingleFlight[HeldFile] = SingleFlight()

    @property
    def nbytes(self) -> int:
        """The bytes held now, never over ``max_bytes``."""
        return self._held.nbytes

    def __len__(self) -> int:
        return len(self._held)

    async def get(self, key: str, cache: AudioCache) -> HeldFile | os.stat_result:
        """The audio file under ``key`` from memory, read into it now if it is not there or no longer the
        file on disk; a file too large to hold, only its ``stat``, to stream from disk. NotFound when there
        is no such file.

        The ``stat`` runs here, on the event loop, not in a worker thread: the file's directory entry is in
        the kernel's cache once it has been served, and a ``stat`` there takes about a microsecond, where a
        trip to a worker thread and back costs the loop 30 to 120 (BENCHMARKS.md).
        """
        held = self._held.get(key)
        path = held.path if held is not None else str(cache.path(key))
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            self._held.discard(key)
            raise NotFound("no such audio") from None
        if held is not None and held.version == version(stat):
            return held
        if stat.st_size > self.largest:
            self._held.discard(key)
            return stat
        # One read however many readers ask at once (a popular article's first listeners).
        held = await self._reads.run(key, lambda: asyncio.to_thread(_read, path))
        return self._held.put(key, held)


def _read(path: str) -> HeldFile:
    """The file's bytes and version, both from the one open file (blocking)."""
    try:
        with open(path, "rb") as file:
            stat = os.fstat(file.fileno())
            data = file.read()
    except FileNotFoundError:  # removed since its stat
        raise NotFound("no such audio") from None
    return HeldFile(path, data, version(stat), formatdate(stat.st_mtime, usegmt=True))
