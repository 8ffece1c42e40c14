"""A generation number for what the store holds: it moves whenever anything a reader sees may have changed.

In-memory copies of what the store holds (the rendered reader pages) keep the generation they were made at,
and are fresh while it has not moved: checking costs an attribute read, with no query and no thread.

- This process's writes move it as soon as they commit (``Store.write``, in its writer thread).
- Other processes' writes (a `tts-service` command, another server worker) move it when ``follow`` notices
  them, which it checks every TTS_CHANGES_POLL seconds (0.5): what those processes write shows at most that
  long after it was committed. This is the only staleness there is.

It errs on the side of moving: every committed write moves it, also those no page shows (a job's heartbeat,
a session), since a copy made again is cheap and a stale one is wrong. In a distributed deployment (several
hosts, PostgreSQL or Redis), ``follow`` is the hook: it would move the generation on a notification (Redis
pub/sub, PostgreSQL LISTEN) instead of polling a version, and the copies would not change.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Changes:
    """The store's generation number; ``bump`` from any thread, read ``generation`` from anywhere."""

    def __init__(self) -> None:
        self.generation = 0
        self._lock = threading.Lock()  # the writer thread and the event loop both bump

    def bump(self) -> None:
        """Something may have changed: every copy made before now is stale."""
        with self._lock:
            self.generation += 1

    async def follow(self, probe: Callable[[], Awaitable[object]], interval: float) -> None:
        """Bump whenever ``probe``'s answer moves (another process wrote), looking every ``interval``
        seconds, until cancelled. A probe that fails bumps too: unable to tell, assume a change."""
        seen = await _answer(probe)
        while True:
            await asyncio.sleep(interval)
            now = await _answer(probe)
            if now is None or now != seen:
                self.bump()
            seen = now


async def _answer(probe: Callable[[], Awaitable[object]]) -> object | None:
    """What ``probe`` says; None (unknown), logged, if it fails."""
    try:
        return await probe()
    except Exception:
        log.exception("cannot tell whether the store changed; taking it as changed")
        return None
