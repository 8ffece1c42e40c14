"""Synthesis: make a chunk's audio and cache it, once however many ask (single flight), a few at a time.

Usable on its own: it needs a store (for the audio records), the cache and the engines, and nothing of the
web app or the job scheduler.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from tts_service.cache import AudioStore
from tts_service.engines import Engine, EngineRegistry, Prosody, Synthesis
from tts_service.flight import SingleFlight
from tts_service.planning import Plan, SpokenChunk
from tts_service.store import AudioRecord, Store
from tts_service.utterance import Rendered, finish, render, say

RETIME_TOLERANCE = 0.001  # seconds: a chunk made again this close to its stored length sounds the same


class Metrics(Protocol):
    """What synthesis reports to (``tts_service.metrics.Metrics``); optional."""

    def observe_synthesis(self, engine: str, seconds: float) -> None: ...
    def cache(self, hit: bool) -> None: ...


class Synthesizer:
    """Makes sure chunks are cached: at most ``slots`` engine calls at once, one per key however many wait."""

    def __init__(
        self,
        store: Store,
        cache: AudioStore,
        engines: EngineRegistry,
        slots: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.store, self.cache, self.engines, self.metrics = store, cache, engines, metrics
        self._slots = asyncio.Semaphore(slots)
        self._flights: SingleFlight[AudioRecord] = SingleFlight()

    async def cached(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` are cached: recorded and their file present (counted as cache hits or misses)."""
        keys = list(keys)
        records = await self.store.audio_records(keys)
        present = await asyncio.to_thread(lambda: {k for k in records if self.cache.exists(k)})
        if self.metrics:
            for key in keys:
                self.metrics.cache(key in present)
        return present

    async def stored(self, key: str) -> AudioRecord | None:
        """The record of ``key`` if it is cached (recorded and its file or object present), else None."""
        record = (await self.store.audio_records([key])).get(key)
        if record is not None and await asyncio.to_thread(self.cache.exists, key):
            return record
        return None

    async def ensure(self, plan: Plan, chunk: SpokenChunk) -> AudioRecord:
        """Make sure a planned chunk is cached (synthesised now if it is not)."""
        engine = self.engines.get(plan.engine)
        return await self.synthesize(engine, plan.voice, plan.prosody, chunk.spoken, chunk.key)

    async def chunk_audio(self, plan: Plan, chunk: SpokenChunk) -> bytes:
        """One chunk's MP3, synthesised now if it is not cached yet (sharing any synthesis in flight)."""
        if not await self.cached([chunk.key]):
            await self.ensure(plan, chunk)
        return await asyncio.to_thread(self.cache.read, chunk.key)

    async def synthesize(
        self, engine: Engine, voice: str, prosody: Prosody, spoken: str, key: str
    ) -> AudioRecord:
        """Make sure ``key`` is cached. Concurrent callers for the same key share one synthesis, which is
        stopped if every caller leaves (a reader who closed the connection, a cancelled job)."""
        once = functools.partial(self._synthesize_once, engine, voice, prosody, spoken, key)
        return await self._flights.run(key, once)

    async def _synthesize_once(
        self, engine: Engine, voice: str, prosody: Prosody, spoken: str, key: str
    ) -> AudioRecord:
        # The caller saw the key missing, but another synthesis of it may have finished since (its in-flight
        # entry gone): look again now that this one holds the key, or the same audio would be made twice.
        done = await self.stored(key)
        if done is not None:
            return done
        async with self._slots:
            started = time.perf_counter()
            rendered = await render(engine, spoken, voice, prosody)  # marks in it: pauses, speed, readings
            # Audio the engine made is kept even if everyone stops waiting now: timing and storing it
            # take milliseconds, and making it again would take the engine's time. Nothing awaits between
            # the engine's return and this task, so no cancellation can fall in between.
            keeping = asyncio.ensure_future(self._finish(key, rendered, engine.name, voice))
            if self.metrics:
                self.metrics.observe_synthesis(engine.name, time.perf_counter() - started)
        try:
            return await asyncio.shield(keeping)
        except asyncio.CancelledError:
            await keeping
            raise

    async def _finish(self, key: str, rendered: Rendered, engine: str, voice: str) -> AudioRecord:
        result = await finish(rendered)
        marks = result.timing.to_json() if result.timing else None
        return await self._keep(key, result, marks, engine, voice)

    async def _keep(
        self, key: str, result: Synthesis, marks: str | None, engine: str, voice: str
    ) -> AudioRecord:
        stored = await asyncio.to_thread(self.cache.write, key, result.audio)
        # Recorded only once the whole file or object is in place (renamed, or the PUT answered): a record
        # always means complete audio. A failed write raises before this, so no record is made. The word
        # timing is recorded with it: it belongs to this very audio.
        record = AudioRecord(key, stored.size, result.duration, stored.sha256, marks)
        await self.store.record_audio(record, engine, voice)
        return record

    async def retime(self, plan: Plan, chunk: SpokenChunk, recorded: AudioRecord) -> bool:
        """Make a cached chunk again for its word timing (`tts-service cache backfill-marks`), and record
        the timing; True if the audio came out as long as the stored one, which then stays (its URL is
        cached for a year, so its bytes must not change); False if not, and the new audio replaced it."""
        engine = self.engines.get(plan.engine)
        async with self._slots:
            result = await say(engine, chunk.spoken, plan.voice, plan.prosody)
        marks = result.timing.to_json() if result.timing else None
        if abs(result.duration - recorded.duration) <= RETIME_TOLERANCE:
            await self.store.record_audio(replace(recorded, marks=marks), engine.name, plan.voice)
            return True
        await self._keep(chunk.key, result, marks, engine.name, plan.voice)
        return False

    def tasks(self) -> list[asyncio.Task[AudioRecord]]:
        """The syntheses in flight, and those still winding down."""
        return self._flights.tasks()

    def cancel(self) -> list[asyncio.Task[AudioRecord]]:
        """Cancel the syntheses in flight (at shutdown); their tasks, to await."""
        tasks = self.tasks()  # those winding down too, to await their clean-up
        for task in tasks:
            if not task.cancelling():  # a synthesis already stopping is left to finish its clean-up
                task.cancel()
        return tasks

    async def aclose(self, grace: float) -> set[asyncio.Task[AudioRecord]]:
        """Cancel the syntheses in flight and wait up to ``grace`` seconds; those that did not stop."""
        tasks = self.cancel()
        return (await asyncio.wait(tasks, timeout=grace))[1] if tasks else set()
