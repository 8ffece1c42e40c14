"""The service's parts, built and closed in one place: ``async with open_services(settings) as services``.

The app's lifespan, every CLI command and the tests use it, so what is opened is always closed, in the
reverse order: the pipeline (its jobs and syntheses stop), then the engines, then the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from tts_service.cache import AudioCache, AudioStore
from tts_service.config import Settings
from tts_service.engines import Engine, EngineRegistry
from tts_service.pipeline import Pipeline
from tts_service.store import Store
from tts_service.synthesis import Metrics
from tts_service.taskqueue import TaskQueue


@dataclass(frozen=True)
class Services:
    """Everything a process serves or works with, over one TTS_HOME."""

    settings: Settings
    store: Store
    cache: AudioStore
    engines: EngineRegistry
    pipeline: Pipeline


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    engines: Mapping[str, Engine] | None = None,
    metrics: Metrics | None = None,
    worker: bool = False,
) -> AsyncIterator[Services]:
    """Open the store, cache, engines and pipeline; close them all on the way out, whatever happened.
    ``engines`` replaces engines by name (tests count calls with it). With TTS_REDIS_URL, jobs and the
    chunks readers wait for go to the task queue's workers, unless this process is one (``worker``)."""
    async with AsyncExitStack() as stack:
        # A database still starting (or briefly down) is waited for, as long as a job waits out an outage.
        store = await asyncio.to_thread(Store, settings.database, connect_timeout=settings.outage_wait)
        stack.callback(store.close)
        registry = EngineRegistry(settings, dict(engines) if engines is not None else None)
        stack.push_async_callback(registry.aclose)
        cache = open_audio_store(settings)
        stack.callback(cache.close)
        queue = None
        if settings.redis_url is not None and not worker:
            queue = TaskQueue(settings.redis_url.get_secret_value(), lost_after=settings.worker_lost_after)
            stack.callback(queue.close)
        pipeline = Pipeline(settings, store, cache, registry, metrics, queue=queue)
        stack.push_async_callback(pipeline.aclose)
        yield Services(settings, store, cache, registry, pipeline)


def open_audio_store(settings: Settings) -> AudioStore:
    """The audio store TTS_AUDIO_STORE names: files under TTS_HOME (the default), or an S3 bucket."""
    location = settings.s3_location
    if location is None:
        return AudioCache(settings.cache_dir)
    try:  # boto3 is the optional extra "s3": a deployment on local files never needs it
        from tts_service.objects import S3AudioStore
    except ImportError as exc:
        wanted = f"TTS_AUDIO_STORE is {settings.audio_store}"
        raise RuntimeError(f"{wanted}, which needs boto3: pip install 'tts_service[s3]'") from exc
    bucket, prefix = location
    return S3AudioStore(
        bucket,
        prefix,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        path_style=settings.s3_path_style,
    )
