"""Operations endpoints: /healthz for load balancers and monitors, /metrics for Prometheus."""

from __future__ import annotations

import asyncio
import inspect
import logging
import shutil
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from tts_service import __version__
from tts_service.cache import AudioStore
from tts_service.config import Settings
from tts_service.engines import ENGINE_NAMES, EngineRegistry
from tts_service.engines.shared_state import answer
from tts_service.errors import DatabaseDown, StorageError, SynthesisError, TTSError, Unauthorized, Unavailable
from tts_service.keys import ApiKeys
from tts_service.metrics import Metrics, api_key_metrics
from tts_service.taskqueue import TaskQueue, queue_metrics
from tts_service.web.auth import bearer, guard
from tts_service.web.deps import SettingsDep, StoreDep

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store"}
HEALTH_TIMEOUT = 5.0  # seconds a dependency (the database, the object store) has to answer /healthz
# Engines cheap to build (no I/O, no threads, no files written): health builds them to ask their state.
_CHEAP_TO_BUILD = frozenset({"edge"})


def _espeak_probe() -> dict[str, Any]:
    if shutil.which("espeak-ng") is None:
        return {"available": False, "reason": "espeak-ng is not installed"}
    return {"available": True}


def _local_probe() -> dict[str, Any]:
    """The voice's model files are installed (and LiteRT imports); the models themselves are not loaded."""
    try:
        from tts_service.engines.baker_model import asset_dir

        asset_dir()
    except ImportError as exc:
        return {"available": False, "reason": f"cannot import {exc.name}"}
    except SynthesisError as exc:
        return {"available": False, "reason": exc.message}
    return {"available": True}


def _edge_probe() -> dict[str, Any]:
    return {"available": True, "network": "not checked"}  # reaching Microsoft is a request of its own


_PROBES = {"espeak": _espeak_probe, "local": _local_probe, "edge": _edge_probe}


async def engine_health(registry: EngineRegistry, name: str) -> dict[str, Any]:
    """``{"available": bool, ...}`` for one engine, without loading models or synthesising anything.

    An engine with a ``health()`` method (the edge engine's circuit breaker) answers for itself; an open
    circuit means unavailable. Otherwise a probe checks what the engine needs: a binary, model files.
    Only engines already built (the default one, at start-up) or cheap to build are built.
    """
    engine = None
    if name == registry.default or name in _CHEAP_TO_BUILD:
        try:
            engine = registry.get(name)
        except TTSError as exc:
            return {"available": False, "reason": exc.message}
    health = getattr(engine, "health", None)
    if health is None:
        return await asyncio.to_thread(_PROBES[name])
    details = health()
    if inspect.isawaitable(details):
        details = await details
    available = bool(details.get("available", details.get("circuit") != "open"))
    return {**details, "available": available}


async def _database(request: Request) -> dict[str, Any]:
    """Whether the database answers a query within a few seconds (a hung server must not hang the check)."""
    store = request.app.state.store
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            await store.ping()
    except (SQLAlchemyError, Unavailable, TimeoutError) as exc:
        reasons = {TimeoutError: "no answer in time", DatabaseDown: "unreachable"}
        reason = reasons.get(type(exc), type(exc).__name__)  # the details (addresses) go to the log only
        log.warning("/healthz: the database: %s", getattr(exc, "message", exc))
        return {"available": False, "kind": store.dialect, "reason": reason}
    return {"available": True, "kind": store.dialect}


def _storage(settings: Settings) -> dict[str, Any]:
    """Free space where audio and the database are written. Low space is "degraded", not down: what is
    cached still plays; new audio will fail with "no space left" until space is freed."""
    # The nearest folder that exists: with PostgreSQL and S3, nothing may ever have made TTS_HOME.
    where = next(p for p in (settings.cache_dir, *settings.cache_dir.parents) if p.exists())
    usage = shutil.disk_usage(where)
    free_mb = usage.free // 1_000_000
    least = settings.min_free_mb
    return {"available": free_mb >= least, "free_mb": free_mb, "min_free_mb": least}


async def _audio_store(cache: AudioStore) -> dict[str, Any]:
    """Whether new audio can be stored. Down is "degraded", not 503: audio already stored still plays
    (from the CDN, with TTS_AUDIO_BASE_URL), and jobs fail with the reason until it is back."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            await asyncio.to_thread(cache.probe)
    except (StorageError, TimeoutError) as exc:  # the reason names the bucket and endpoint: logged, not told
        log.warning("/healthz: the audio store: %s", getattr(exc, "message", "no answer in time"))
        return {"available": False}
    return {"available": True}


async def _redis(redis: Redis) -> dict[str, Any]:
    """Whether Redis answers. Down is "degraded": the shared limits let calls through until it is back."""
    try:
        await answer(redis.ping(), HEALTH_TIMEOUT)
    except RedisError as exc:
        log.warning("/healthz: Redis: %s", exc)
        return {"available": False}
    return {"available": True}


async def queue_status(queue: TaskQueue) -> dict[str, Any]:
    """The task queue (TTS_REDIS_URL): reachable, its backlog per queue, and the workers seen recently.
    No worker with work waiting is "degraded": cached audio plays, new audio waits for a worker."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            status = await asyncio.to_thread(queue.status)
    except (RedisError, TimeoutError) as exc:
        log.warning("/healthz: the task queue: %s", exc)
        return {"available": False}
    queues = status["queues"]
    backlog = sum(q["waiting"] + q["delayed"] for q in queues.values())
    workers = len(status["workers"])
    return {
        "available": workers > 0 or backlog == 0,
        "backlog": backlog,
        "queues": queues,
        "workers": workers,
    }


@router.get("/healthz", name="healthz")
async def healthz(request: Request) -> JSONResponse:
    """Liveness and what the service can do: 200 while the default engine and database work, else 503;
    "degraded" when anything else is wrong (another engine, free space under TTS_MIN_FREE_MB)."""
    registry: EngineRegistry = request.app.state.pipeline.engines
    engines = {name: await engine_health(registry, name) for name in ENGINE_NAMES}
    database = await _database(request)
    storage = await asyncio.to_thread(_storage, request.app.state.settings)
    audio_store = await _audio_store(request.app.state.cache)
    serving = database["available"] and engines[registry.default]["available"]
    everything = serving and storage["available"] and all(e["available"] for e in engines.values())
    redis = (
        None if request.app.state.redis is None else await _redis(request.app.state.redis)
    )  # TTS_REDIS_URL
    queue: TaskQueue | None = request.app.state.pipeline.queue
    tasks = None if queue is None else await queue_status(queue)
    everything = everything and audio_store["available"] and (redis is None or redis["available"])
    everything = everything and (tasks is None or tasks["available"])
    body = {
        "status": "ok" if everything else "degraded",
        "version": __version__,
        "engines": engines,
        "default_engine": registry.default,
        "database": database,
        "storage": storage,
        "audio_store": audio_store,
    }
    if redis is not None:
        body["redis"] = redis
    if tasks is not None:
        body["queue"] = tasks
    return JSONResponse(body, status_code=200 if serving else 503, headers=_NO_STORE)


@router.get("/metrics", name="metrics")
async def metrics(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    """Prometheus metrics, with TTS_METRICS_TOKEN or the editor token (or to anyone: TTS_METRICS_PUBLIC=1).

    Trust is never inferred from the peer address: behind a reverse proxy every request comes from loopback.
    """
    if not settings.metrics_public:
        keys = settings.metrics_keys
        if not keys:
            raise Unauthorized("/metrics is off: set TTS_METRICS_TOKEN (or TTS_METRICS_PUBLIC=1)")
        if not await guard(request).allows(request, bearer(request), keys):
            raise Unauthorized("missing or wrong metrics token")
    collected: Metrics = request.app.state.metrics
    collected.set_jobs(await store.job_counts())
    body = collected.render() + api_key_metrics(await ApiKeys(store).list())  # the store's, for all
    queue: TaskQueue | None = request.app.state.pipeline.queue
    if queue is not None:  # the whole cluster's queue, as Redis holds it; left out while Redis is down
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                body += queue_metrics(await asyncio.to_thread(queue.status))
        except (RedisError, TimeoutError) as exc:
            log.warning("/metrics: the task queue: %s", exc)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers=_NO_STORE)
