"""A per-client sliding-window rate limit, in memory (one process; with TTS_REDIS_URL, the public
``/api/tts`` limit is shared by every process instead: ``shared_limits``)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_BYTES = 16 * 1024 * 1024
# The most one client costs: its deque, name and order links, then a timestamp and a deque slot per call.
_CLIENT_BYTES, _CALL_BYTES = 1024, 34


class RateLimiter:
    """At most ``limit`` calls per ``window`` seconds per client; remembers at most ``max_clients``, fewer
    if they would take more than ``max_bytes`` with ``limit`` calls each."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        max_clients: int = 10_000,
        max_bytes: int = MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.max_clients = max(1, min(max_clients, max_bytes // (_CLIENT_BYTES + _CALL_BYTES * limit)))
        self._calls: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str) -> deque[float]:
        calls = self._calls.get(client) or deque()
        while calls and calls[0] <= self.clock() - self.window:
            calls.popleft()
        return calls

    def check(self, client: str) -> float:
        """Count a call by ``client``: 0 if allowed, else the seconds until it would be."""
        now = self.clock()
        calls = self._recent(client)
        self._calls.pop(client, None)
        self._calls[client] = calls  # most recently seen last
        while len(self._calls) > self.max_clients:
            self._calls.popitem(last=False)  # forget the longest-idle client
        if len(calls) >= self.limit:
            return calls[0] + self.window - now
        calls.append(now)
        return 0.0

    async def allow(self, client: str) -> float:
        """``check``, as the shared limiter (``shared_limits.SharedRateLimiter``) is called."""
        return self.check(client)
