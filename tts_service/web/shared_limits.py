"""A per-client sliding-window rate limit kept in Redis (TTS_REDIS_URL), so that every web process of a
deployment, on any machine, counts the same calls: the public ``POST /api/tts`` limit holds for the whole
cluster, not per process.

One sorted set per client (``tts:limit:<name>:<client>``), scored by call time; a Lua script removes the calls
that left the window, counts, and records the new call, atomically and on Redis's clock (the web machines'
clocks never enter into it). Each key expires a window after its last call, so idle clients cost nothing.
"""

from __future__ import annotations

import logging
import secrets

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tts_service.engines.shared_state import answer

log = logging.getLogger(__name__)

_SLIDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return '0'
"""


class SharedRateLimiter:
    """At most ``limit`` calls per ``window`` seconds per client, counted in Redis for every process.

    Redis unreachable: the call is allowed and a warning logged (the endpoint's own queue still bounds the
    work); /healthz reports Redis down."""

    def __init__(
        self, redis: Redis, name: str, limit: int, window: float = 60.0, timeout: float = 5.0
    ) -> None:
        self.redis, self.name, self.limit, self.window, self.timeout = redis, name, limit, window, timeout
        self._slide = redis.register_script(_SLIDE)

    async def allow(self, client: str) -> float:
        """Count a call by ``client``: 0 if allowed, else the seconds until it would be."""
        key = f"tts:limit:{self.name}:{client}"
        slide = self._slide(keys=[key], args=[self.limit, self.window, secrets.token_hex(8)])
        try:
            wait = await answer(slide, self.timeout)
        except RedisError as exc:
            log.warning("rate limit %s not checked (Redis: %s); allowing the call", self.name, exc)
            return 0.0
        return max(0.0, float(wait))
