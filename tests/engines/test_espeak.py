"""The espeak engine, for real: espeak-ng's cmn voice, encoded to MP3."""

from __future__ import annotations

import asyncio
import gc
import os
import warnings
from pathlib import Path

import pytest
from helpers import decode, frame_formats, loudness_of

from tts_service.audio import mp3, onsets, pcm
from tts_service.engines import Prosody
from tts_service.engines.espeak import EspeakEngine, _punctuated
from tts_service.errors import InvalidInput


@pytest.fixture(scope="module")
def engine() -> EspeakEngine:
    return EspeakEngine()


async def test_speaks_mandarin_as_mp3(engine: EspeakEngine) -> None:
    text = "语音播报服务今天正式上线。"
    result = await engine.synthesize(text, "cmn", Prosody())
    seconds, rms = decode(result.audio)
    assert abs(seconds - result.duration) < 0.01
    assert 0.12 < seconds / len(text) < 0.6  # plausible time per Han character
    assert rms > 0.02  # not silence


async def test_output_is_the_common_chunk_format_at_target_loudness(engine: EspeakEngine) -> None:
    result = await engine.synthesize("语音播报服务今天正式上线，欢迎大家使用。", "cmn", Prosody())
    # espeak-ng speaks at 22,050 Hz; chunks come out resampled to 24 kHz mono, CBR 48 kbps.
    assert frame_formats(result.audio) == {(24000, 48, 1)}
    lufs, peak = loudness_of(result.audio)
    assert lufs == pytest.approx(-16.0, abs=1.0)
    assert peak <= -1.0  # as decoded: the encoder's overshoot on peaks is allowed for


@pytest.mark.parametrize(
    ("written", "handed"),
    [
        ("华诞,也是", "华诞，也是"),
        ("开馆了.欢迎!", "开馆了。欢迎！"),
        ("时间:十点;地点?", "时间：十点；地点？"),
        ("WTO,也是", "WTO，也是"),  # one side Han is enough
        ("3,000", "3,000"),  # between digits: a number, not a clause
        ("Hello, world. Bye!", "Hello, world. Bye!"),  # Latin: espeak-ng pauses there by itself
    ],
)
def test_ascii_clause_marks_next_to_han_are_handed_over_full_width(written: str, handed: str) -> None:
    assert _punctuated(written) == handed


@pytest.mark.parametrize("comma", [",", "，"])
async def test_a_comma_between_han_characters_is_a_pause(engine: EspeakEngine, comma: str) -> None:
    """espeak-ng itself reads "华诞,也是" without a break (the corpus article's commas are ASCII): heard in
    the audio, both commas leave a silence of at least 120 ms in the middle of the sentence."""
    result = await engine.synthesize(f"今天是开馆的日子{comma}欢迎大家来看书。", "cmn", Prosody())
    samples = pcm.from_int16(mp3.decode(result.audio))
    inside = [gap for gap in onsets.onsets(samples, mp3.SAMPLE_RATE) if gap[1] < result.duration - 0.3]
    assert len(inside) == 1, inside


async def test_volume_moves_the_loudness_target(engine: EspeakEngine) -> None:
    quiet = await engine.synthesize("语音播报服务今天正式上线。", "cmn", Prosody(volume=-50))
    assert loudness_of(quiet.audio)[0] == pytest.approx(-22.0, abs=1.0)  # half the amplitude: -6 LU


async def test_rate_changes_the_duration(engine: EspeakEngine) -> None:
    text = "慢一点读，或者快一点读。"
    normal = await engine.synthesize(text, "cmn", Prosody())
    fast = await engine.synthesize(text, "cmn", Prosody(rate=80))
    assert fast.duration < normal.duration * 0.8


async def test_leading_dash_is_text_not_an_option(engine: EspeakEngine) -> None:
    result = await engine.synthesize("-h 你好", "cmn", Prosody())
    assert result.duration > 0.3


async def test_unknown_voice(engine: EspeakEngine) -> None:
    with pytest.raises(InvalidInput, match="valid voices: cmn, cmn-latn-pinyin"):
        await engine.synthesize("你好", "en", Prosody())


def test_prosody_bounds() -> None:
    with pytest.raises(InvalidInput, match="rate"):
        Prosody(rate=500)


def test_version_names_the_release(engine: EspeakEngine) -> None:
    assert "eSpeak NG" in engine.version and "1." in engine.version
    assert engine.version.endswith(" r2")  # what the service does on top: audio that changes gets new keys


async def test_cancelling_at_any_moment_ends_and_leaves_no_process() -> None:
    """Cancelled while starting, writing or reading, by a failing sibling or directly: it always ends."""
    import random

    engine = EspeakEngine()

    async def fail() -> None:
        raise RuntimeError("a sibling chunk failed")

    rng = random.Random(7)
    for round_ in range(60):
        async with asyncio.timeout(10):  # a hang fails here instead of stalling
            if round_ % 2:
                with pytest.raises(ExceptionGroup):
                    async with asyncio.TaskGroup() as group:
                        group.create_task(engine.synthesize("你好，世界。", "cmn", Prosody()))
                        group.create_task(fail())
            else:
                task = asyncio.create_task(engine.synthesize("你好，世界。", "cmn", Prosody()))
                for _ in range(rng.randint(0, 10)):
                    await asyncio.sleep(0)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    assert _children_named("espeak-ng") == []


async def test_a_second_cancellation_while_stopping_still_kills_the_process() -> None:
    """Two cancellations in a row (a shutdown, and the last waiter of a shared synthesis leaving): the
    second must not cut short the clean-up of the first and leave espeak-ng running."""
    engine = EspeakEngine()
    for lead, gap in [(lead, gap) for lead in range(1, 7) for gap in range(1, 7)] * 2:
        async with asyncio.timeout(10):
            task = asyncio.create_task(engine.synthesize("你好，世界。", "cmn", Prosody()))
            for _ in range(lead):  # it runs: the process is being started, its pipes connected
                await asyncio.sleep(0)
            task.cancel()
            for _ in range(gap):  # it takes the first cancellation and is stopping the process
                await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0.5)  # a kill is reaped by the child watcher's thread
    assert _children_named("espeak-ng") == []


def test_a_cancelled_synthesis_closes_its_pipes() -> None:
    """Cancelled while espeak-ng writes its audio, and the loop ends right after (a shutdown): the process
    is killed and its pipes closed, not left for the garbage collector to find open ("unclosed transport",
    a ResourceWarning that fails some later test)."""
    engine = EspeakEngine()

    async def cancelled_after(delay: float) -> None:
        task = asyncio.create_task(engine.synthesize("这是一段很长的文字。" * 40, "cmn", Prosody()))
        await asyncio.sleep(delay)  # started: its stdout is being read
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    gc.collect()  # what earlier tests left is theirs: only this test's garbage is counted below
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for delay in (0.02, 0.05, 0.1, 0.15) * 2:
            asyncio.run(cancelled_after(delay))
        gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []


def _children_named(name: str) -> list[int]:
    """PIDs of this process's children called ``name`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" (", 1)
        except OSError:  # gone meanwhile
            continue
        comm, _, fields = rest.rpartition(") ")
        if comm == name and int(fields.split()[1]) == os.getpid():
            found.append(int(pid))
    return found
