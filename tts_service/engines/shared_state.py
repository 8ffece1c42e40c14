"""A remote engine's concurrency bound and circuit breaker kept in Redis (TTS_REDIS_URL), so that they hold
for every process of a deployment, on any machine, not per process.

Keys (``prefix`` is ``tts:edge`` for the edge engine):

- ``<prefix>:slots``: a sorted set of lease tokens scored by when they expire. A process takes a slot by
  adding its token while fewer than the bound are unexpired; it renews the lease while its request runs and
  removes it when done. A process killed with -9 stops renewing, and its slot comes back when the lease
  expires (a little over the engine's own timeout).
- ``<prefix>:breaker``: a hash with ``failures`` (in a row), ``last_error``, ``opened_at`` and the half-open
  ``trial`` (its owner's token and ``trial_until``; a trial whose process died expires like a lease).

Every decision is one Lua script, atomic and on Redis's clock (TIME): the machines' clocks never enter into
it. Errors reach the caller as ``SharedStateDown``; ``RedisLink`` remembers the failure for a few seconds, so
that callers fall back to their per-process state without paying Redis's timeout on every call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

T = TypeVar("T")

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

# KEYS: slots. ARGV: limit, lease seconds, token. 1: the slot is taken; 0: all are held.
_ACQUIRE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
return 1
"""
)

# KEYS: slots, breaker. ARGV: lease seconds, token. 0: the lease was lost (it expired and was taken away).
# A lease still in the set was never counted as free (taking a slot removes the expired ones first), so
# renewing it late is safe. The half-open trial its holder runs is renewed with it.
_RENEW = (
    _NOW
    + """
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000))
if redis.call('HGET', KEYS[2], 'trial') == ARGV[2] then
  redis.call('HSET', KEYS[2], 'trial_until', tostring(now + tonumber(ARGV[1])))
end
return 1
"""
)

# KEYS: breaker. ARGV: cooldown, trial seconds, token.
# {0}: closed; {1}: this call is the half-open trial; {2, retry_in, failures, last error}: open;
# {3, 0, failures, last error}: half-open, and another call is the trial.
_ADMIT = (
    _NOW
    + """
local h = redis.call('HMGET', KEYS[1], 'opened_at', 'failures', 'last_error', 'trial', 'trial_until')
if not h[1] then return {0} end
local retry_in = tonumber(h[1]) + tonumber(ARGV[1]) - now
if retry_in > 0 then return {2, tostring(retry_in), h[2] or '0', h[3] or ''} end
if h[4] and tonumber(h[5] or '0') > now then return {3, '0', h[2] or '0', h[3] or ''} end
redis.call('HSET', KEYS[1], 'trial', ARGV[3], 'trial_until', tostring(now + tonumber(ARGV[2])))
return {1}
"""
)

# KEYS: breaker. ARGV: threshold, message, token. Counts a failure; opens the circuit at the threshold, or
# again when a trial fails (failures only go back to 0 on a success, so they are over the threshold then).
_FAILED = (
    _NOW
    + """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'last_error', ARGV[2])
if redis.call('HGET', KEYS[1], 'trial') == ARGV[3] then
  redis.call('HDEL', KEYS[1], 'trial', 'trial_until')
end
if failures >= tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'opened_at', tostring(now)) end
return failures
"""
)

# KEYS: breaker. ARGV: token. A trial that ended without an answer (cancelled) lets another call try.
_END_TRIAL = """
if redis.call('HGET', KEYS[1], 'trial') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'trial', 'trial_until')
end
return 0
"""

# KEYS: breaker. ARGV: cooldown. {failures, retry_in or false (closed)}.
_STATE = (
    _NOW
    + """
local h = redis.call('HMGET', KEYS[1], 'opened_at', 'failures')
if not h[1] then return {h[2] or '0', false} end
return {h[2] or '0', tostring(math.max(0, tonumber(h[1]) + tonumber(ARGV[1]) - now))}
"""
)


def cancellable_client(url: str, timeout: float) -> Redis:
    """An asyncio Redis client that a cancellation always stops, for callers that bound each command
    themselves with ``asyncio.timeout`` (connecting is bounded by ``timeout`` here).

    It has no ``socket_timeout``: with one, redis-py bounds every write with ``asyncio.wait_for``, and on
    Python 3.11 ``wait_for`` drops a cancellation that arrives as the write completes (CPython gh-86296,
    fixed in 3.12). The command then runs on as if never cancelled: a task polling for an edge slot polled
    on forever after its caller gave up (CI: test_a_killed_process_slot_comes_back_when_its_lease_expires).
    ``asyncio.timeout`` keeps the cancellation (since 3.11.3). (None is said outright: redis-py 8 otherwise
    sets 5 s.)"""
    return Redis.from_url(url, socket_timeout=None, socket_connect_timeout=timeout)


async def answer(command: Awaitable[T], within: float) -> T:
    """A command of a ``cancellable_client``, bounded: its answer within ``within`` seconds, or redis's
    TimeoutError ("no answer in N s"), a RedisError like any other Redis failure."""
    try:
        async with asyncio.timeout(within):
            return await command
    except TimeoutError:
        raise RedisTimeoutError(f"no answer in {within:g} s") from None


class SharedStateDown(Exception):
    """Redis did not answer (or answered an error): use the per-process state for now."""


class RedisLink:
    """The deployment's Redis for one engine: a client per event loop (a redis.asyncio connection belongs to
    the loop that opened it), and a memory of the last failure, so that for ``rest`` seconds after one the
    callers go straight to their fallback instead of waiting out a timeout on every call."""

    def __init__(self, url: str, *, rest: float = 5.0, timeout: float = 2.0) -> None:
        self._url, self._rest, self._timeout = url, rest, timeout
        self._client: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down_until = 0.0

    def client(self) -> Redis:
        """The client for the running event loop (connecting at its first command, not here)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = cancellable_client(self._url, self._timeout)
            self._loop = loop
        return self._client

    def resting(self) -> bool:
        """True for a few seconds after Redis failed: callers use their per-process state meanwhile."""
        return time.monotonic() < self._down_until

    async def run(self, script: str, keys: list[str], args: list[Any], doing: str) -> Any:
        """Run a Lua script; SharedStateDown (after a warning) if Redis fails."""
        try:
            return await answer(self.client().eval(script, len(keys), *keys, *args), self._timeout)
        except RedisError as exc:
            self._down_until = time.monotonic() + self._rest
            message = "Redis unreachable while %s (%s); per-process limits for the next %g s"
            log.warning(message, doing, exc, self._rest)
            raise SharedStateDown(str(exc)) from exc

    async def aclose(self) -> None:
        """Close the client (its connections), if one was made."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


@dataclass
class Lease:
    """A slot held: its token, and the task that renews it while the request runs."""

    token: str
    renewer: asyncio.Task[None] | None = None


class SharedSlots:
    """At most ``limit`` leases held at once, counted in Redis for the whole deployment.

    Waiting is polling with short jittered sleeps (``poll`` seconds, lower and upper bound): with requests
    that last a second or more, a wait of tens of milliseconds costs little, and Redis answers thousands of
    these small scripts a second. It is not first-come first-served; the jitter keeps any caller from
    always losing."""

    def __init__(
        self, link: RedisLink, prefix: str, limit: int, lease: float, poll: tuple[float, float] = (0.01, 0.05)
    ) -> None:
        self.link, self.limit, self.lease, self.poll = link, limit, lease, poll
        self.key, self._breaker_key = f"{prefix}:slots", f"{prefix}:breaker"

    async def acquire(self) -> Lease:
        """Wait for a slot and take it; SharedStateDown if Redis fails meanwhile."""
        lease = Lease(secrets.token_hex(12))
        args = [self.limit, self.lease, lease.token]
        try:
            # Polled, not woken: the slots are freed in other processes, which no asyncio.Event reaches.
            while not await self.link.run(_ACQUIRE, [self.key], args, "taking an edge slot"):  # noqa: ASYNC110
                await asyncio.sleep(random.uniform(*self.poll))
        except asyncio.CancelledError:
            # Cancelled between Redis granting the slot and this process hearing it: give it back.
            await self._give_back(lease.token)
            raise
        lease.renewer = asyncio.create_task(self._renew(lease.token), name=f"lease:{lease.token}")
        return lease

    async def release(self, lease: Lease) -> None:
        """Give the slot back (if Redis fails, the lease expires by itself)."""
        if lease.renewer is not None:
            lease.renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lease.renewer
        await self._give_back(lease.token)

    async def _give_back(self, token: str) -> None:
        if self.link.resting():
            return  # Redis just failed: the lease expires by itself, and nobody waits for a timeout
        doing = f"giving an edge slot back (it expires by itself in {self.lease:g} s)"
        with contextlib.suppress(SharedStateDown):  # logged by the link
            await self.link.run("return redis.call('ZREM', KEYS[1], ARGV[1])", [self.key], [token], doing)

    async def _renew(self, token: str) -> None:
        """Push the lease's expiry back every third of its length, for as long as the request runs."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                keys = [self.key, self._breaker_key]
                kept = await self.link.run(_RENEW, keys, [self.lease, token], "renewing a lease")
            except SharedStateDown:
                continue
            if not kept:
                log.warning("edge slot lease %s expired before its request ended (a stalled process?)", token)
                return


Verdict = Literal["closed", "trial", "open", "busy"]


@dataclass(frozen=True)
class Admission:
    """What the shared breaker said to one call: ``closed`` or ``trial`` let it through."""

    verdict: Verdict
    retry_in: float = 0.0
    failures: int = 0
    last_error: str = ""


class SharedBreaker:
    """The circuit breaker's state in Redis: failures in a row, when it opened, the one half-open trial."""

    def __init__(self, link: RedisLink, prefix: str, threshold: int, cooldown: float, trial: float) -> None:
        self.link, self.threshold, self.cooldown, self.trial = link, threshold, cooldown, trial
        self.key = f"{prefix}:breaker"

    async def admit(self, token: str) -> Admission:
        """Whether a call may go through now; ``trial`` makes it the deployment's one half-open trial."""
        found = await self.link.run(_ADMIT, [self.key], [self.cooldown, self.trial, token], "checking")
        verdict: Verdict = ("closed", "trial", "open", "busy")[int(found[0])]
        if verdict in ("closed", "trial"):
            return Admission(verdict)
        return Admission(verdict, float(found[1]), int(found[2]), _text(found[3]))

    async def failed(self, token: str, message: str) -> None:
        """Count a failure (opening the circuit at the threshold); a Redis failure is only logged."""
        with contextlib.suppress(SharedStateDown):
            await self.link.run(_FAILED, [self.key], [self.threshold, message, token], "counting a failure")

    async def succeeded(self) -> None:
        """Close the circuit: no failures in a row, no trial."""
        with contextlib.suppress(SharedStateDown):
            await self.link.run("return redis.call('DEL', KEYS[1])", [self.key], [], "recording a success")

    async def end_trial(self, token: str) -> None:
        """Let another call be the trial, if ``token``'s was one and ended without an answer."""
        with contextlib.suppress(SharedStateDown):
            await self.link.run(_END_TRIAL, [self.key], [token], "ending a trial")

    async def state(self) -> tuple[int, float | None]:
        """(failures in a row, seconds until a trial may go: None while closed); SharedStateDown."""
        failures, retry_in = await self.link.run(_STATE, [self.key], [self.cooldown], "reading the breaker")
        return int(failures), None if retry_in is None else float(retry_in)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
