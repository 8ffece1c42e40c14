"""Resilient: retries with capped, jittered backoff, a circuit breaker and a concurrency bound."""

from __future__ import annotations

import asyncio
import functools
import random
from typing import Any

import pytest
from edge_double import FAULT_REASONS, EdgeDouble, Fault

from tts_service.config import Settings
from tts_service.engines import EngineRegistry, Prosody, Synthesis
from tts_service.engines import edge as edge_module
from tts_service.engines.edge import EdgeEngine
from tts_service.engines.resilience import CircuitOpen, Resilient
from tts_service.errors import InvalidInput, SynthesisError

VOICE = "zh-CN-XiaoxiaoNeural"


class Clock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """An instant ``asyncio.sleep`` that remembers what it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Scripted:
    """An engine that raises the given errors, one per call, then succeeds."""

    name, version, voices, default_voice, max_chunk_chars = "scripted", "1", ("v",), "v", 100

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return Synthesis(audio=b"mp3", duration=1.0)


def edge(double: EdgeDouble, timeout: float = 0.5, **options: Any) -> Resilient:
    """Resilient(EdgeEngine) reaching the double, with no real waiting between retries."""
    options = {"sleep": Sleeps(), "clock": Clock(), **options}
    return Resilient(EdgeEngine(timeout=timeout, connector_factory=double.connector_factory), **options)


def test_backoff_doubles_up_to_the_cap() -> None:
    bounds: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        bounds.append((low, high))
        return high

    engine = Resilient(Scripted(), backoff=0.5, backoff_cap=8.0, uniform=uniform)
    assert [engine.delay(retry) for retry in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert all(low == 0 for low, _ in bounds)  # full jitter: anywhere from no wait to the bound


def test_backoff_is_jittered_within_its_bound() -> None:
    engine = Resilient(Scripted(), backoff=0.5, backoff_cap=8.0, uniform=random.Random(7).uniform)
    delays = [engine.delay(3) for _ in range(200)]
    assert all(0 <= delay <= 4.0 for delay in delays)
    assert len(set(delays)) == 200 and min(delays) < 1.0 < 3.0 < max(delays)
    assert all(0 <= engine.delay(30) <= 8.0 for _ in range(50))  # no overflow far along


async def test_retries_sleep_the_jittered_delays_then_give_up() -> None:
    inner = Scripted(*(SynthesisError(f"failure {n}") for n in range(5)))
    sleeps = Sleeps()
    engine = Resilient(
        inner, retries=3, backoff=1.0, backoff_cap=3.0, sleep=sleeps, uniform=lambda a, b: b / 2
    )
    with pytest.raises(SynthesisError, match=r"^failure 3 \(gave up after 4 attempts\)$") as excinfo:
        await engine.synthesize("x", "v", Prosody())

    assert inner.calls == 4
    assert sleeps.waits == [0.5, 1.0, 1.5]  # half of 1, 2 and min(3, 4)
    assert str(excinfo.value.__cause__) == "failure 3"


async def test_success_after_retries_returns_the_audio() -> None:
    inner = Scripted(SynthesisError("once"), SynthesisError("twice"))
    sleeps = Sleeps()
    engine = Resilient(inner, retries=3, sleep=sleeps)
    result = await engine.synthesize("x", "v", Prosody())

    assert result == Synthesis(audio=b"mp3", duration=1.0)
    assert inner.calls == 3 and len(sleeps.waits) == 2
    assert engine.health()["failures"] == 0


async def test_no_retries_means_one_attempt() -> None:
    inner = Scripted(SynthesisError("down"))
    with pytest.raises(SynthesisError, match=r"^down \(gave up after 1 attempt\)$"):
        await Resilient(inner, retries=0, sleep=Sleeps()).synthesize("x", "v", Prosody())
    assert inner.calls == 1


async def test_invalid_input_is_not_retried_nor_counted(edge_double: EdgeDouble) -> None:
    engine = edge(edge_double, threshold=1)
    with pytest.raises(InvalidInput, match="unknown voice"):
        await engine.synthesize("你好", "en-US-AriaNeural", Prosody())

    assert edge_double.attempts == []
    assert engine.health() == {"circuit": "closed", "failures": 0, "retry_in": None}
    assert engine.inner.voices == engine.voices  # and it still works:
    await engine.synthesize("你好", VOICE, Prosody())
    assert edge_double.attempts == [None]


async def test_unexpected_errors_are_not_retried() -> None:
    inner = Scripted(ValueError("a bug"))
    with pytest.raises(ValueError, match="a bug"):
        await Resilient(inner, sleep=Sleeps()).synthesize("x", "v", Prosody())
    assert inner.calls == 1


async def test_breaker_opens_after_threshold_and_stops_calling(edge_double: EdgeDouble) -> None:
    clock = Clock()
    engine = edge(edge_double, retries=0, threshold=3, cooldown=30.0, clock=clock)
    edge_double.fail_all(Fault.NO_AUDIO)
    for _ in range(3):
        with pytest.raises(SynthesisError, match="no audio") as excinfo:
            await engine.synthesize("你好", VOICE, Prosody())
        assert not isinstance(excinfo.value, CircuitOpen)
    assert len(edge_double.attempts) == 3

    clock.now += 10
    for _ in range(5):
        with pytest.raises(
            CircuitOpen, match=r"'edge' is unavailable for another 20 s, after 3 failures"
        ) as opened:
            await engine.synthesize("你好", VOICE, Prosody())
    assert len(edge_double.attempts) == 3  # not one more request reached the service
    assert (opened.value.status_code, opened.value.code) == (503, "engine_unavailable")
    assert engine.health() == {"circuit": "open", "failures": 3, "retry_in": 20.0}


async def test_breaker_cuts_retries_short(edge_double: EdgeDouble) -> None:
    engine = edge(edge_double, retries=5, threshold=2)
    edge_double.fail_all(Fault.FORBIDDEN)
    with pytest.raises(CircuitOpen, match=r"unavailable for another 30 s.*\(last: .*HTTP 403\)"):
        await engine.synthesize("你好", VOICE, Prosody())

    assert edge_double.attempts == [Fault.FORBIDDEN] * 2


async def test_half_open_trial_success_closes_the_circuit(edge_double: EdgeDouble) -> None:
    clock = Clock()
    engine = edge(edge_double, retries=0, threshold=1, cooldown=30.0, clock=clock)
    edge_double.fail_next(Fault.THROTTLED)
    with pytest.raises(SynthesisError, match="HTTP 429"):
        await engine.synthesize("你好", VOICE, Prosody())
    clock.now += 29.5
    with pytest.raises(CircuitOpen):
        await engine.synthesize("你好", VOICE, Prosody())
    assert engine.health()["circuit"] == "open"

    clock.now += 0.5
    assert engine.health() == {"circuit": "half-open", "failures": 1, "retry_in": 0.0}
    result = await engine.synthesize("你好", VOICE, Prosody())

    assert result.duration == pytest.approx(0.4, abs=0.1)
    assert edge_double.attempts == [Fault.THROTTLED, None]
    assert engine.health() == {"circuit": "closed", "failures": 0, "retry_in": None}


async def test_half_open_trial_failure_reopens_the_circuit(edge_double: EdgeDouble) -> None:
    clock = Clock()
    engine = edge(edge_double, retries=3, threshold=2, cooldown=30.0, clock=clock)
    edge_double.fail_all(Fault.RESET)
    with pytest.raises(CircuitOpen):
        await engine.synthesize("你好", VOICE, Prosody())
    assert len(edge_double.attempts) == 2

    clock.now += 30
    # The trial fails, and reopens the circuit at once: its own retries are not let through.
    with pytest.raises(CircuitOpen, match=r"for another 30 s, after 3 failures .*connection lost"):
        await engine.synthesize("你好", VOICE, Prosody())
    assert len(edge_double.attempts) == 3
    assert engine.health() == {"circuit": "open", "failures": 3, "retry_in": 30.0}


async def test_only_one_trial_at_a_time(edge_double: EdgeDouble) -> None:
    clock = Clock()
    engine = edge(edge_double, timeout=5, retries=0, threshold=1, clock=clock)
    edge_double.fail_next(Fault.NO_AUDIO)
    with pytest.raises(SynthesisError):
        await engine.synthesize("你好", VOICE, Prosody())
    clock.now += 30
    trial = asyncio.create_task(engine.synthesize("你好", VOICE, Prosody()))
    await asyncio.sleep(0)  # the trial takes its slot and is admitted, then waits on the network

    assert engine.health()["circuit"] == "half-open"
    with pytest.raises(CircuitOpen, match="while a trial request is under way"):
        await engine.synthesize("你好", VOICE, Prosody())
    await trial
    assert len(edge_double.attempts) == 2
    assert engine.health()["circuit"] == "closed"


@pytest.mark.parametrize("concurrency", [4, 10])
async def test_concurrency_is_bounded(edge_double: EdgeDouble, concurrency: int) -> None:
    engine = edge(edge_double, timeout=5, concurrency=concurrency)
    edge_double.delay = 0.2
    texts = [f"第{n}句" for n in range(10)]
    results = await asyncio.gather(*(engine.synthesize(text, VOICE, Prosody()) for text in texts))

    assert len(results) == 10 and len(edge_double.attempts) == 10
    assert edge_double.max_concurrent == concurrency  # 10 shows the double would have seen them all


@pytest.mark.parametrize("fault", list(Fault), ids=lambda fault: fault.name)
async def test_one_fault_is_retried_to_success(edge_double: EdgeDouble, fault: Fault) -> None:
    sleeps = Sleeps()
    engine = edge(edge_double, retries=2, backoff=0.25, sleep=sleeps, uniform=lambda a, b: b)
    edge_double.fail_next(fault)
    result = await engine.synthesize("你好", VOICE, Prosody())

    assert result.duration == pytest.approx(0.4, abs=0.1)
    assert edge_double.attempts == [fault, None]
    assert sleeps.waits == [0.25]
    assert engine.health() == {"circuit": "closed", "failures": 0, "retry_in": None}


@pytest.mark.parametrize("fault", list(Fault), ids=lambda fault: fault.name)
async def test_persistent_fault_fails_with_its_reason(edge_double: EdgeDouble, fault: Fault) -> None:
    engine = edge(edge_double, retries=2, threshold=5)
    edge_double.fail_all(fault)
    with pytest.raises(
        SynthesisError, match=rf"^edge-tts: {FAULT_REASONS[fault]}.* \(gave up after 3 attempts\)$"
    ):
        await engine.synthesize("你好", VOICE, Prosody())

    assert edge_double.attempts == [fault] * 3
    assert engine.health() == {"circuit": "closed", "failures": 3, "retry_in": None}
    edge_double.fail_all(None)
    await engine.synthesize("你好", VOICE, Prosody())
    assert engine.health()["failures"] == 0


async def test_registry_wraps_edge_with_the_settings(
    edge_double: EdgeDouble, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The factory builds its EdgeEngine by name; this one reaches the double instead of Microsoft.
    to_double = functools.partial(EdgeEngine, connector_factory=edge_double.connector_factory)
    monkeypatch.setattr(edge_module, "EdgeEngine", to_double)
    tuned = settings.model_copy(
        update={"edge_retries": 1, "edge_backoff": 0.0, "breaker_threshold": 3, "edge_concurrency": 2}
    )
    engine = EngineRegistry(tuned).get("edge")
    assert isinstance(engine, Resilient) and isinstance(engine.inner, EdgeEngine)
    assert (engine.name, engine.version, engine.voices) == ("edge", EdgeEngine.version, EdgeEngine.voices)

    edge_double.fail_all(Fault.NO_AUDIO)
    with pytest.raises(SynthesisError, match=r"\(gave up after 2 attempts\)"):
        await engine.synthesize("你好", VOICE, Prosody())
    # The third failure in a row opens the circuit for the default 30 s, so the last retry never goes out.
    with pytest.raises(CircuitOpen, match="for another 30 s"):
        await engine.synthesize("你好", VOICE, Prosody())
    assert len(edge_double.attempts) == 3

    edge_double.fail_all(None)
    fresh = EngineRegistry(tuned).get("edge")
    edge_double.delay = 0.2
    await asyncio.gather(*(fresh.synthesize(f"第{n}句", VOICE, Prosody()) for n in range(5)))
    assert edge_double.max_concurrent == 2


async def test_warm_and_close_pass_through() -> None:
    class Warmable(Scripted):
        warmed = closed = False

        async def warm(self) -> None:
            self.warmed = True

        def close(self) -> None:
            self.closed = True

    inner = Warmable()
    engine = Resilient(inner)
    await engine.warm()
    engine.close()
    assert inner.warmed and inner.closed
    bare = Resilient(Scripted())  # an engine without them: nothing to do, nothing fails
    await bare.warm()
    bare.close()
    assert (bare.name, bare.version, bare.voices, bare.default_voice, bare.max_chunk_chars) == (
        "scripted",
        "1",
        ("v",),
        "v",
        100,
    )
