"""The service's parts, built and closed in one place: ``async with open_services(settings) as services``.

The app's lifespan, every CLI command and the tests use it, so what is opened is always closed, in the
reverse order: the pipeline (its jobs and syntheses stop), then the engines, then the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from tts_service.cache import AudioCache
from tts_service.config import Settings
from tts_service.engines import Engine, EngineRegistry
from tts_service.pipeline import Pipeline
from tts_service.store import Store
from tts_service.synthesis import Metrics


@dataclass(frozen=True)
class Services:
    """Everything a process serves or works with, over one TTS_HOME."""

    settings: Settings
    store: Store
    cache: AudioCache
    engines: EngineRegistry
    pipeline: Pipeline


@asynccontextmanager
async def open_services(
    settings: Settings, *, engines: Mapping[str, Engine] | None = None, metrics: Metrics | None = None
) -> AsyncIterator[Services]:
    """Open the store, cache, engines and pipeline; close them all on the way out, whatever happened.
    ``engines`` replaces engines by name (tests count calls with it)."""
    async with AsyncExitStack() as stack:
        store = await asyncio.to_thread(Store, settings.database)  # waits for a database still starting
        stack.callback(store.close)
        registry = EngineRegistry(settings, dict(engines) if engines is not None else None)
        stack.callback(registry.close)
        cache = AudioCache(settings.cache_dir)
        pipeline = Pipeline(settings, store, cache, registry, metrics)
        stack.push_async_callback(pipeline.aclose)
        yield Services(settings, store, cache, registry, pipeline)
