"""A per-client sliding-window rate limit, in memory (one process; enough for one small public endpoint)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    """At most ``limit`` calls per ``window`` seconds per client; remembers at most ``max_clients``."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.max_clients, self.clock = limit, window, max_clients, clock
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
