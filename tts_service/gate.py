"""Admission with a bounded queue: so many at work, so many more waiting, each for a bounded time.

A burst beyond what the workers can finish is refused at once with ``Busy`` (503 and ``Retry-After``)
instead of queueing work nobody will wait for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tts_service.errors import Busy


class Gate:
    """At most ``running`` callers inside, ``waiting`` more queued, each queued at most ``wait`` seconds."""

    def __init__(self, running: int, waiting: int, wait: float) -> None:
        self.running, self.waiting, self.wait = running, waiting, wait
        self._slots = asyncio.Semaphore(running)
        self._queued = 0

    @property
    def queued(self) -> int:
        return self._queued

    @asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        """Hold a slot for the body of the ``async with``; Busy if the queue is full or the wait too long."""
        if self._slots.locked() and self._queued >= self.waiting:
            raise Busy(f"busy: {self.running} at work and {self._queued} waiting; try again soon", self.wait)
        self._queued += 1
        try:
            async with asyncio.timeout(self.wait):
                await self._slots.acquire()
        except TimeoutError:
            message = f"busy: no worker was free within {self.wait:g} s; try again soon"
            raise Busy(message, self.wait) from None
        finally:
            self._queued -= 1
        try:
            yield
        finally:
            self._slots.release()
