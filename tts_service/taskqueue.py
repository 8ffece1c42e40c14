"""The task queue of a deployment on several machines (TTS_REDIS_URL): Dramatiq on Redis.

Two queues. ``interactive`` carries audio a reader is waiting for: an article page or embed request with no
audio yet, a chunk a player asked for, ``POST /api/tts``. ``bulk`` carries pre-generation: publishing,
``pregen``, regenerating. Each message is one chunk, so several workers make one long article together.
Workers take ``interactive`` first: its actor has the higher priority, and each worker fetches each queue
on a thread of its own, so a reader's sentence never waits behind a bulk job's backlog.

Why Dramatiq: its Redis broker keeps every message a worker has taken in that worker's acknowledgement set
until the task ends, and a worker whose heartbeat stops has its messages put back on their queue. A worker
killed mid-chunk loses nothing; another one makes the chunk. This module only sends and describes: the
worker side is ``worker.py``.

Beside Dramatiq's own keys (``tts:queue:*``), the queue keeps a little state of its own in Redis: the
workers seen recently (``tts:workers``), task outcomes (``tts:tasks``), which worker is making which chunk
(``tts:making:<key>``, so that two tasks for one chunk, a bulk one and a reader's, make it once across the
cluster), and, for a minute, why a chunk a reader waits for could not be made (``tts:failed:<key>``).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage, Retries, TimeLimit
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tts_service.errors import Unavailable

INTERACTIVE, BULK = "interactive", "bulk"
QUEUES = (INTERACTIVE, BULK)
NAMESPACE = "tts:queue"
WORKERS_KEY, OUTCOMES_KEY = "tts:workers", "tts:tasks"
FAILED_TTL = 60  # seconds a chunk's failure stays readable by the readers waiting for it
SEEN_RECENTLY = 120.0  # a worker silent longer than this is no longer listed
TASK_TIME_LIMIT_MS = 10 * 60 * 1000  # a chunk that takes longer is stuck: stop it (Dramatiq's TimeLimit)
OUTAGE_RETRIES = (
    20  # a task that met a database or object-store outage is tried again, with backoff, so often
)
# Each worker runs maintenance (putting back the messages of dead workers) on about this share of its calls
# to Redis, out of a million. Dramatiq's default (1,000) leaves a dead worker's messages for minutes.
MAINTENANCE_CHANCE = 50_000


# Compare and set on a claim's token: only its holder extends or frees it.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_UNCLAIM = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class ChunkTask:
    """One message: make ``key`` from ``spoken`` (for job ``job``, or for a reader waiting: job None).
    ``key`` None: the job's chunks are all made; assemble it (sent when a job is dispatched again)."""

    job: int | None
    key: str | None
    spoken: str
    engine: str
    voice: str
    rate: int = 0
    pitch: int = 0
    volume: int = 0


Handler = Callable[[ChunkTask, str], Awaitable[str]]  # (task, queue) → outcome


def _retry_when(retries: int, exc: BaseException) -> bool:
    """Only an outage is worth trying again: the handler records every other failure on its job."""
    return isinstance(exc, Unavailable) and retries < OUTAGE_RETRIES


class TaskQueue:
    """The two queues on one Redis, for sending chunks (web processes, the CLI) and for taking them
    (``tts-service worker``, which sets ``handler``)."""

    def __init__(self, url: str, *, lost_after: float = 30.0) -> None:
        self.lost_after = lost_after
        middleware = [
            CurrentMessage(),
            TimeLimit(time_limit=TASK_TIME_LIMIT_MS),
            Retries(retry_when=_retry_when, min_backoff=500, max_backoff=30_000),
        ]
        self.broker = RedisBroker(  # type: ignore[no-untyped-call]  # dramatiq's broker is untyped
            url=url,
            namespace=NAMESPACE,
            middleware=middleware,
            heartbeat_timeout=int(lost_after * 1000),
            maintenance_chance=MAINTENANCE_CHANCE,
        )
        self.redis: redis.Redis = self.broker.client
        self.handler: Handler | None = None
        self._renew = self.redis.register_script(_RENEW)
        self._unclaim = self.redis.register_script(_UNCLAIM)
        self._actors = {
            name: dramatiq.actor(
                broker=self.broker,
                actor_name=f"chunk_{name}",
                queue_name=name,
                priority=priority,  # lower first: a worker holding both takes the interactive one
            )(self._runner(name))
            for name, priority in ((INTERACTIVE, 0), (BULK, 100))
        }

    def _runner(self, queue: str) -> Callable[..., Awaitable[None]]:
        async def run(**fields: Any) -> None:
            if self.handler is None:
                raise RuntimeError("this process sends tasks only; `tts-service worker` runs them")
            task = ChunkTask(**fields)
            outcome = "error"
            try:
                outcome = await self.handler(task, queue)
            finally:
                self.count(queue, outcome)

        run.__name__ = f"chunk_{queue}"
        return run

    # Sending ------------------------------------------------------------------------------------

    def send(self, tasks: Iterable[ChunkTask], *, interactive: bool) -> int:
        """Put tasks on ``interactive`` or ``bulk``; how many. Blocking (a Redis call each): call it in a
        thread. Unavailable if Redis cannot be reached."""
        actor = self._actors[INTERACTIVE if interactive else BULK]
        sent = 0
        try:
            for task in tasks:
                actor.send_with_options(kwargs=asdict(task))
                sent += 1
        except redis.RedisError as exc:
            raise Unavailable(f"the task queue (Redis) is unreachable: {exc}") from exc
        return sent

    def once(self, name: str, seconds: float) -> bool:
        """True the first time ``name`` is asked for within ``seconds`` (a flag in Redis), else False."""
        try:
            return bool(self.redis.set(f"tts:once:{name}", "1", nx=True, ex=max(1, int(seconds))))
        except redis.RedisError:
            return True  # doing it twice is harmless; not doing it is not

    # Making a chunk: one worker at a time, cluster-wide ------------------------------------------------

    def claim(self, key: str, seconds: float) -> str | None:
        """Claim the making of ``key`` for ``seconds`` (renew it while at it); a token, or None while
        another worker holds it. A worker killed mid-chunk holds it until it lapses."""
        token = secrets.token_hex(8)
        claimed = self.redis.set(f"tts:making:{key}", token, nx=True, px=int(seconds * 1000))
        return token if claimed else None

    def renew(self, key: str, token: str, seconds: float) -> bool:
        """Extend a claim still ours; False if it lapsed (and someone else may hold it now)."""
        return bool(self._renew(keys=[f"tts:making:{key}"], args=[token, int(seconds * 1000)]))

    def unclaim(self, key: str, token: str) -> None:
        """Give up a claim, if it is still ours."""
        self._unclaim(keys=[f"tts:making:{key}"], args=[token])

    # Chunks readers wait for ----------------------------------------------------------------------

    def fail(self, key: str, reason: str) -> None:
        """Tell the readers waiting for ``key`` that it could not be made."""
        self.redis.set(f"tts:failed:{key}", reason, ex=FAILED_TTL)

    def failure(self, key: str) -> str | None:
        """Why ``key`` could not be made, if a worker said so within the last minute."""
        value = self.redis.get(f"tts:failed:{key}")
        return None if value is None else value.decode() if isinstance(value, bytes) else str(value)

    def clear_failure(self, key: str) -> None:
        self.redis.delete(f"tts:failed:{key}")

    # Workers and their outcomes ---------------------------------------------------------------

    def count(self, queue: str, outcome: str) -> None:
        """Count one task's outcome (made, cached, skipped, failed, error) in Redis, for every process."""
        try:
            self.redis.hincrby(OUTCOMES_KEY, f"{queue}:{outcome}", 1)
        except redis.RedisError:
            pass  # a count lost to an outage is not worth failing the task for

    def beat(self, worker: dict[str, Any]) -> None:
        """A worker is alive: its entry in the list /admin shows, and Dramatiq's heartbeat, so its
        messages stay its own however long a chunk takes (Dramatiq beats only while fetching)."""
        now = time.time()
        pipe = self.redis.pipeline()
        pipe.hset(WORKERS_KEY, worker["id"], json.dumps({**worker, "seen": now}))
        pipe.zadd(f"{NAMESPACE}:__heartbeats__", {self.broker.broker_id: int(now * 1000)})
        pipe.execute()

    def forget(self, worker_id: str) -> None:
        """A worker stopped cleanly: off the list at once."""
        self.redis.hdel(WORKERS_KEY, worker_id)

    def status(self) -> dict[str, Any]:
        """Queue lengths, workers seen recently and task outcomes, for /healthz, /admin and /metrics.
        Blocking; raises redis.RedisError when Redis is down."""
        pipe = self.redis.pipeline()
        for name in QUEUES:
            pipe.llen(f"{NAMESPACE}:{name}")
            pipe.hlen(f"{NAMESPACE}:{name}.msgs")
            pipe.hlen(f"{NAMESPACE}:{name}.DQ.msgs")
        pipe.hgetall(WORKERS_KEY)
        pipe.hgetall(OUTCOMES_KEY)
        *lengths, workers, outcomes = pipe.execute()
        queues = {}
        for i, name in enumerate(QUEUES):
            waiting, stored, delayed = lengths[3 * i : 3 * i + 3]
            queues[name] = {"waiting": waiting, "taken": max(0, stored - waiting), "delayed": delayed}
        now, seen = time.time(), []
        for raw in workers.values():
            worker = json.loads(raw)
            if now - worker.get("seen", 0) <= SEEN_RECENTLY:
                seen.append({**worker, "ago": round(now - worker["seen"], 1)})
        counts = {k.decode(): int(v) for k, v in outcomes.items()}
        return {"queues": queues, "workers": sorted(seen, key=lambda w: w["id"]), "outcomes": counts}

    def close(self) -> None:
        self.broker.close()
        self.redis.close()


class _Snapshot(Collector):
    """Metrics from one reading of the queue's state in Redis (the whole cluster's, not this process's)."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.status = status

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "tts_queue_tasks",
            "Chunk tasks on the task queue: waiting, taken by a worker, or delayed before a retry.",
            labels=["queue", "state"],
        )
        for name, states in self.status["queues"].items():
            for state, count in states.items():
                depth.add_metric([name, state], count)
        yield depth
        workers = GaugeMetricFamily("tts_queue_workers", "Queue workers seen in the last two minutes.")
        workers.add_metric([], len(self.status["workers"]))
        yield workers
        outcomes = CounterMetricFamily(
            "tts_queue_task_outcomes",
            "Chunk tasks ended by every worker, by queue and outcome (made, cached, skipped, failed, error).",
            labels=["queue", "outcome"],
        )
        for label, count in sorted(self.status["outcomes"].items()):
            queue, _, outcome = label.partition(":")
            outcomes.add_metric([queue, outcome], count)
        yield outcomes


def queue_metrics(status: dict[str, Any]) -> bytes:
    """``status`` (``TaskQueue.status``) in Prometheus's text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(status))
    return generate_latest(registry)


def worker_identity(queues: Iterable[str], concurrency: int) -> dict[str, Any]:
    """How a worker names itself on the list: host, PID, queues, threads, start time."""
    host, pid = socket.gethostname(), os.getpid()
    return {
        "id": f"{host}:{pid}",
        "host": host,
        "pid": pid,
        "queues": list(queues),
        "concurrency": concurrency,
        "started": time.time(),
    }
