"""Retries, a circuit breaker and a concurrency bound around an engine that depends on a remote service."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tts_service.engines.base import Engine, Prosody, Synthesis
from tts_service.engines.shared_state import RedisLink, SharedBreaker, SharedSlots, SharedStateDown
from tts_service.errors import SynthesisError


class CircuitOpen(SynthesisError):
    """The engine failed too often in a row: calls fail at once, without reaching it, until a cooldown."""

    status_code = 503  # the engine is unavailable for now, not broken: worth trying again later
    code = "engine_unavailable"


def circuit_open(engine: str, retry_in: float, failures: int, last_error: str) -> CircuitOpen:
    """The error for a call the breaker stops: open for ``retry_in`` more seconds, or a trial under way."""
    wait = f"for another {retry_in:.0f} s" if retry_in > 0 else "while a trial request is under way"
    return CircuitOpen(
        f"engine {engine!r} is unavailable {wait}, after {failures} failures in a row (last: {last_error})"
    )


def breaker_health(failures: int, retry_in: float | None) -> dict[str, Any]:
    """/healthz's view of a breaker: closed (``retry_in`` None), open or half-open; failures in a row."""
    if retry_in is None:
        return {"circuit": "closed", "failures": failures, "retry_in": None}
    return {"circuit": "open" if retry_in > 0 else "half-open", "failures": failures, "retry_in": retry_in}


class _Retrying:
    """The retry loop and the inner engine's name, voices, warm() and close(); subclasses make attempts."""

    def __init__(
        self,
        inner: Engine,
        *,
        retries: int,
        backoff: float,
        backoff_cap: float,
        sleep: Callable[[float], Awaitable[Any]],
        uniform: Callable[[float, float], float],
    ) -> None:
        self.inner = inner
        self.name, self.version, self.voices = inner.name, inner.version, inner.voices
        self.default_voice, self.max_chunk_chars = inner.default_voice, inner.max_chunk_chars
        self._retries, self._backoff, self._backoff_cap = retries, backoff, backoff_cap
        self._sleep, self._uniform = sleep, uniform

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first): full jitter, capped."""
        return self._uniform(0, min(self._backoff_cap, self._backoff * 2**retry))

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        """Synthesize through the inner engine, retrying a SynthesisError up to ``retries`` times."""
        error: SynthesisError | None = None
        for attempt in range(self._retries + 1):
            if error is not None:
                await self._sleep(self.delay(attempt - 1))
            try:
                return await self._attempt(text, voice, prosody)
            except CircuitOpen:
                raise
            except SynthesisError as exc:
                error = exc
        assert error is not None  # the loop runs at least once, and only a failure leaves it
        attempts = f"{self._retries + 1} attempt{'s' if self._retries else ''}"
        raise SynthesisError(f"{error.message} (gave up after {attempts})") from error

    async def _attempt(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        raise NotImplementedError

    async def warm(self) -> None:
        """Warm the inner engine, if it has a way."""
        warm = getattr(self.inner, "warm", None)
        if warm is not None:
            await warm()

    def close(self) -> None:
        """Close the inner engine, if it holds anything."""
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


class Resilient(_Retrying):
    """An engine that wraps another, so that one flaky request is retried and a dead endpoint left alone.

    Only SynthesisError is retried: InvalidInput would fail the same way again. Delays grow exponentially up
    to a cap, with full jitter so that many callers failing together do not come back together. After
    ``threshold`` failed attempts in a row the circuit opens for ``cooldown`` seconds; then one trial call
    is let through (half-open), whose success closes it and whose failure opens it again. The bound and
    the breaker are this process's own (ClusterResilient shares them through Redis).
    """

    def __init__(
        self,
        inner: Engine,
        *,
        concurrency: int = 4,
        retries: int = 3,
        backoff: float = 0.5,
        backoff_cap: float = 8.0,
        threshold: int = 5,
        cooldown: float = 30.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        super().__init__(
            inner, retries=retries, backoff=backoff, backoff_cap=backoff_cap, sleep=sleep, uniform=uniform
        )
        # Bounds requests in flight, not calls: a call waiting out its backoff holds no slot.
        self._slots = asyncio.Semaphore(concurrency)
        self._threshold, self._cooldown = threshold, cooldown
        self._clock = clock
        self._failures = 0
        self._last_error = ""
        self._opened_at: float | None = None  # None: the circuit is closed
        self._trial = False  # a half-open trial call is under way

    async def _attempt(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        """One call to the inner engine, if the circuit lets it through, recording how it went."""
        async with self._slots:
            trial = self._admit()
            try:
                result = await self.inner.synthesize(text, voice, prosody)
            except SynthesisError as exc:
                self._failed(exc)
                raise
            finally:
                if trial:
                    self._trial = False
            self._failures, self._opened_at = 0, None
            return result

    def _admit(self) -> bool:
        """Raise CircuitOpen if no call may go through now; True if this call is the half-open trial."""
        if self._opened_at is None:
            return False
        retry_in = self._retry_in()
        if retry_in > 0 or self._trial:
            raise circuit_open(self.name, retry_in, self._failures, self._last_error)
        self._trial = True
        return True

    def _failed(self, exc: SynthesisError) -> None:
        self._failures += 1
        self._last_error = exc.message
        if self._trial or self._failures >= self._threshold:
            self._opened_at = self._clock()

    def _retry_in(self) -> float:
        assert self._opened_at is not None
        return max(0.0, self._opened_at + self._cooldown - self._clock())

    def health(self) -> dict[str, Any]:
        """The breaker's state for /healthz: closed, open or half-open; failures in a row; seconds to wait."""
        return breaker_health(self._failures, None if self._opened_at is None else self._retry_in())


class ClusterResilient(_Retrying):
    """Resilient, with the concurrency bound and the circuit breaker shared by every process of the
    deployment through Redis (shared_state): at most ``concurrency`` requests in flight to the service from
    the whole cluster, and a circuit one process opens is open for all, with one trial call for all.

    Redis unreachable: each attempt falls back to this process's own bound and breaker (a Resilient's, so
    exactly the behaviour without Redis), with a warning; synthesis never fails because Redis blinked.
    Leases last ``lease`` seconds (a little over the engine's timeout) and are renewed while a request runs,
    so a process killed mid-request holds its slot, or the half-open trial, no longer than that.
    """

    def __init__(
        self,
        inner: Engine,
        redis_url: str,
        *,
        concurrency: int = 4,
        retries: int = 3,
        backoff: float = 0.5,
        backoff_cap: float = 8.0,
        threshold: int = 5,
        cooldown: float = 30.0,
        lease: float = 35.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        super().__init__(
            inner, retries=retries, backoff=backoff, backoff_cap=backoff_cap, sleep=sleep, uniform=uniform
        )
        self.local = Resilient(inner, concurrency=concurrency, threshold=threshold, cooldown=cooldown)
        self.link = RedisLink(redis_url)
        prefix = f"tts:{inner.name}"
        self.slots = SharedSlots(self.link, prefix, concurrency, lease)
        self.breaker = SharedBreaker(self.link, prefix, threshold, cooldown, trial=lease)

    async def _attempt(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        """One call, bounded and admitted cluster-wide (by this process's bound and breaker if Redis is
        down)."""
        if not self.link.resting():
            try:
                return await self._shared_attempt(text, voice, prosody)
            except SharedStateDown:
                pass  # logged by the link; nothing was sent to the service
        return await self.local._attempt(text, voice, prosody)

    async def _shared_attempt(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        lease = await self.slots.acquire()
        try:
            admission = await self.breaker.admit(lease.token)
            if admission.verdict in ("open", "busy"):
                raise circuit_open(self.name, admission.retry_in, admission.failures, admission.last_error)
            return await self._call(text, voice, prosody, lease.token, admission.verdict == "trial")
        finally:
            await self.slots.release(lease)

    async def _call(self, text: str, voice: str, prosody: Prosody, token: str, trial: bool) -> Synthesis:
        """The inner engine's call, its outcome recorded in Redis (a Redis failure there is only logged:
        the audio is made, and a retry would call the service again)."""
        try:
            result = await self.inner.synthesize(text, voice, prosody)
        except SynthesisError as exc:
            await self.breaker.failed(token, exc.message)
            raise
        except BaseException:
            if trial:  # cancelled, or a bug: no answer either way, so another call may try
                await self.breaker.end_trial(token)
            raise
        await self.breaker.succeeded()
        return result

    async def health(self) -> dict[str, Any]:
        """The shared breaker's state for /healthz (this process's own while Redis is unreachable), with
        ``scope``: "cluster" or "process"."""
        if not self.link.resting():
            try:
                failures, retry_in = await self.breaker.state()
                return {**breaker_health(failures, retry_in), "scope": "cluster"}
            except SharedStateDown:
                pass
        return {**self.local.health(), "scope": "process"}

    async def aclose(self) -> None:
        """Close the Redis connections (close() closes the inner engine)."""
        await self.link.aclose()
