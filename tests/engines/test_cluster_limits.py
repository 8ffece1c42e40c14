"""TTS_REDIS_URL: the edge engine's concurrency bound and circuit breaker hold for the whole deployment.

Real processes (tests/edge_process.py, each with its own event loop, engine and Redis connections) and the
suite's real Redis; the real edge-tts client reaches the edge double, which counts the requests it is
answering at once, whoever sent them.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from edge_double import EdgeDouble, Fault
from helpers import free_port
from pydantic import SecretStr
from redis_server import RedisServer

from tts_service.config import Settings
from tts_service.engines import EDGE_LEASE_MARGIN, EngineRegistry, Prosody
from tts_service.engines import edge as edge_module
from tts_service.engines.edge import EdgeEngine
from tts_service.engines.resilience import CircuitOpen, ClusterResilient
from tts_service.engines.shared_state import RedisLink, SharedBreaker
from tts_service.errors import SynthesisError
from tts_service.web.ops import engine_health

VOICE = "zh-CN-XiaoxiaoNeural"
TESTS = Path(__file__).parents[1]


class Process:
    """A running tests/edge_process.py: started, told to go, read from."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def line(self) -> str:
        assert self.proc.stdout is not None
        return (await asyncio.wait_for(self.proc.stdout.readline(), 20)).decode().strip()

    async def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        await self.proc.stdin.drain()

    async def outcome(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(await self.line())
        return found


@pytest.fixture
def ca_file(edge_double: EdgeDouble, tmp_path: Path) -> Path:
    path = tmp_path / "edge-ca.pem"
    edge_double.ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
async def spawn(edge_double: EdgeDouble, ca_file: Path, redis_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Start processes of a pretend deployment, each ready (imports done) and waiting for ``go()``."""
    started: list[Process] = []
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])

    async def start(**config: Any) -> Process:
        config = {"redis": redis_url, "port": edge_double.port, "ca": str(ca_file), **config}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(TESTS / "edge_process.py"),
            json.dumps(config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        process = Process(proc)
        started.append(process)
        assert await process.line() == "ready"
        return process

    yield start
    for process in started:
        if process.proc.returncode is None:
            process.proc.kill()
        await process.proc.wait()


def cluster(double: EdgeDouble, url: str, **options: Any) -> ClusterResilient:
    """ClusterResilient(EdgeEngine) in this process, reaching the double: one more process, as far as the
    shared state goes (its own Redis connections, its own per-process fallback state)."""
    inner = EdgeEngine(timeout=5, connector_factory=double.connector_factory)
    return ClusterResilient(inner, url, **{"retries": 0, "lease": 10.0, **options})


async def until(probe: Callable[[], Awaitable[Any]], done: Callable[[Any], bool]) -> None:
    """Poll ``probe`` until ``done`` holds for what it returns (the state is in Redis or another task)."""
    deadline = time.monotonic() + 5
    while not done(await probe()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def engines(*made: ClusterResilient) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for engine in made:
            await engine.aclose()


async def test_the_bound_holds_across_processes(
    spawn: Callable[..., Any], edge_double: EdgeDouble, redis_url: str
) -> None:
    edge_double.delay = 0.3
    processes = await asyncio.gather(*(spawn(mode="hammer", concurrency=2, requests=6) for _ in range(3)))
    started = time.monotonic()
    for process in processes:
        await process.go()
    outcomes = [await process.outcome() for process in processes]
    elapsed = time.monotonic() - started

    assert outcomes == [{"ok": 6, "errors": []}] * 3
    assert len(edge_double.requests) == 18  # 18 asked at once, 6 by each process,
    assert edge_double.max_concurrent == 2  # 2 at a time reached Microsoft: the bound, met and held
    assert elapsed >= 9 * 0.3  # 18 requests of 0.3 s, two at a time
    assert redis.Redis.from_url(redis_url).zcard("tts:edge:slots") == 0  # every slot given back


async def test_without_redis_each_process_has_its_own_bound(
    spawn: Callable[..., Any], edge_double: EdgeDouble
) -> None:
    # The control for the test above: the same processes, their Redis unreachable (per-process fallback),
    # let the double see more than 2 at once, so its count can tell the bound from no bound.
    edge_double.delay = 0.3
    dead = f"redis://127.0.0.1:{free_port()}/0"
    processes = await asyncio.gather(
        *(spawn(mode="hammer", concurrency=2, requests=4, redis=dead) for _ in range(2))
    )
    for process in processes:
        await process.go()
    outcomes = [await process.outcome() for process in processes]

    assert outcomes == [{"ok": 4, "errors": []}] * 2
    assert 2 < edge_double.max_concurrent <= 4


async def test_a_killed_process_slot_comes_back_when_its_lease_expires(
    spawn: Callable[..., Any], edge_double: EdgeDouble, redis_url: str
) -> None:
    holder = await spawn(mode="hold", lease=1.0)
    await holder.go()
    assert "held" in await holder.outcome()
    engine = cluster(edge_double, redis_url, concurrency=1, lease=1.0)
    async with engines(engine):
        # Renewed while its process lives: still held well past its 1 s lease.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(engine.synthesize("你好", VOICE, Prosody()), 1.6)
        assert edge_double.attempts == []

        holder.proc.send_signal(signal.SIGKILL)
        await holder.proc.wait()
        killed = time.monotonic()
        result = await engine.synthesize("你好", VOICE, Prosody())
        waited = time.monotonic() - killed

    assert result.duration > 0 and len(edge_double.attempts) == 1
    # At most the lease (renewed up to a third of it before the kill) and a poll; slack for a busy machine.
    assert waited < 1.0 + 1.5


async def test_a_circuit_one_process_opens_is_open_for_all_then_one_trial_goes(
    spawn: Callable[..., Any], edge_double: EdgeDouble, redis_url: str, settings: Settings
) -> None:
    options = {"threshold": 2, "cooldown": 1.5, "concurrency": 4}
    opener = await spawn(mode="fail", **options)
    edge_double.fail_all(Fault.NO_AUDIO)
    await opener.go()
    outcome = await opener.outcome()
    assert outcome["failures"] == 2 and "after 2 failures in a row" in outcome["open"]
    assert len(edge_double.attempts) == 2

    others = [cluster(edge_double, redis_url, **options) for _ in range(3)]
    async with engines(*others):
        with pytest.raises(CircuitOpen, match=r"unavailable for another \d s, after 2 failures.*no audio"):
            await others[0].synthesize("你好", VOICE, Prosody())
        assert len(edge_double.attempts) == 2  # failed fast: the double never saw it
        registry = EngineRegistry(settings.model_copy(update={"engine": "edge"}), {"edge": others[0]})
        health = await engine_health(registry, "edge")  # what /healthz shows
        assert health["circuit"] == "open" and health["available"] is False
        assert health["scope"] == "cluster" and health["failures"] == 2

        edge_double.fail_all(None)
        edge_double.delay = 0.5  # the trial is still under way when the others ask
        await until(lambda: others[0].health(), lambda health: health["circuit"] == "half-open")
        results = await asyncio.gather(
            *(engine.synthesize("你好", VOICE, Prosody()) for engine in others), return_exceptions=True
        )

        assert len(edge_double.attempts) == 3  # exactly one trial reached the service
        refused = [r for r in results if isinstance(r, CircuitOpen)]
        assert len(refused) == 2 and all("trial request is under way" in r.message for r in refused)
        assert await others[1].health() == {
            "circuit": "closed",
            "failures": 0,
            "retry_in": None,
            "scope": "cluster",
        }


async def test_a_cancelled_trial_lets_another_call_try(edge_double: EdgeDouble, redis_url: str) -> None:
    first, second = (cluster(edge_double, redis_url, threshold=1, cooldown=0.2) for _ in range(2))
    async with engines(first, second):
        edge_double.fail_next(Fault.NO_AUDIO)
        with pytest.raises(SynthesisError):
            await first.synthesize("你好", VOICE, Prosody())
        await asyncio.sleep(0.25)
        edge_double.delay = 1.0
        trial = asyncio.create_task(first.synthesize("你好", VOICE, Prosody()))
        await until(lambda: asyncio.sleep(0), lambda _: len(edge_double.attempts) == 2)  # the trial is out
        with pytest.raises(CircuitOpen, match="trial request is under way"):
            await second.synthesize("你好", VOICE, Prosody())
        trial.cancel()
        with pytest.raises(asyncio.CancelledError):
            await trial
        edge_double.delay = 0.0
        await second.synthesize("你好", VOICE, Prosody())  # the trial now; it succeeds and closes

    assert len(edge_double.attempts) == 3
    assert redis.Redis.from_url(redis_url).zcard("tts:edge:slots") == 0


async def test_redis_unreachable_falls_back_to_the_process_bound_and_breaker(
    edge_double: EdgeDouble, caplog: pytest.LogCaptureFixture
) -> None:
    engine = cluster(edge_double, f"redis://127.0.0.1:{free_port()}/0", concurrency=2, threshold=2)
    edge_double.delay = 0.2
    async with engines(engine):
        with caplog.at_level(logging.WARNING):
            results = await asyncio.gather(
                *(engine.synthesize(f"第{n}句", VOICE, Prosody()) for n in range(5))
            )
        assert len(results) == 5 and edge_double.max_concurrent == 2
        assert any("Redis unreachable" in r.getMessage() for r in caplog.records)

        edge_double.fail_all(Fault.NO_AUDIO)
        for _ in range(2):
            with pytest.raises(SynthesisError, match="no audio"):
                await engine.synthesize("你好", VOICE, Prosody())
        with pytest.raises(CircuitOpen, match="for another 30 s"):
            await engine.synthesize("你好", VOICE, Prosody())
        health = await engine.health()
    assert health == {
        "circuit": "open",
        "failures": 2,
        "retry_in": pytest.approx(30, abs=1),
        "scope": "process",
    }
    assert len(edge_double.attempts) == 7


async def test_redis_going_away_mid_run_does_not_fail_synthesis(
    edge_double: EdgeDouble, tmp_path: Path
) -> None:
    server = RedisServer(tmp_path)
    engine = cluster(edge_double, server.url, concurrency=2)
    try:
        async with engines(engine):
            await engine.synthesize("你好", VOICE, Prosody())
            assert redis.Redis.from_url(server.url).exists("tts:edge:breaker") == 0  # closed: no state
            server.close()
            edge_double.delay = 0.2
            results = await asyncio.gather(
                *(engine.synthesize(f"第{n}句", VOICE, Prosody()) for n in range(4))
            )
            assert (await engine.health())["scope"] == "process"
    finally:
        if server.process.poll() is None:
            server.close()
    assert len(results) == 4 and edge_double.max_concurrent == 2


async def test_the_registry_shares_edge_limits_when_redis_is_configured(
    edge_double: EdgeDouble, settings: Settings, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    to_double = functools.partial(EdgeEngine, connector_factory=edge_double.connector_factory)
    monkeypatch.setattr(edge_module, "EdgeEngine", to_double)
    shared = {"redis_url": SecretStr(redis_url), "breaker_threshold": 1, "edge_retries": 0}
    tuned = settings.model_copy(update=shared)
    registry = EngineRegistry(tuned)
    engine = registry.get("edge")
    assert isinstance(engine, ClusterResilient) and isinstance(engine.inner, EdgeEngine)
    assert engine.slots.lease == tuned.edge_timeout + EDGE_LEASE_MARGIN
    assert (engine.slots.limit, engine.breaker.threshold) == (tuned.edge_concurrency, 1)

    edge_double.fail_next(Fault.FORBIDDEN)
    with pytest.raises(SynthesisError, match="HTTP 403"):
        await engine.synthesize("你好", VOICE, Prosody())
    stored = redis.Redis.from_url(redis_url).hgetall("tts:edge:breaker")
    assert stored[b"failures"] == b"1" and b"opened_at" in stored and b"HTTP 403" in stored[b"last_error"]
    assert (await engine_health(registry, "edge"))["available"] is False
    await registry.aclose()
    # Without TTS_REDIS_URL, nothing of this: the per-process Resilient, as before.
    assert not isinstance(EngineRegistry(settings).get("edge"), ClusterResilient)


async def test_a_trial_whose_process_died_expires(redis_url: str) -> None:
    # A process that took the half-open trial and was killed never ends it: it expires like a lease.
    link = RedisLink(redis_url)
    breaker = SharedBreaker(link, "tts:edge", threshold=1, cooldown=0.0, trial=0.3)
    try:
        await breaker.failed("earlier", "edge-tts: no audio received")
        assert (await breaker.admit("dead")).verdict == "trial"
        busy = await breaker.admit("alive")
        assert (busy.verdict, busy.failures, busy.last_error) == ("busy", 1, "edge-tts: no audio received")
        await asyncio.sleep(0.35)
        assert (await breaker.admit("alive")).verdict == "trial"
    finally:
        await link.aclose()
