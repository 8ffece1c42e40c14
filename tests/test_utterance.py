"""A chunk's marks at synthesis: engines never see them; pauses and speed changes shape the audio."""

from __future__ import annotations

import pytest
from helpers import CountingEngine

from tts_service.engines import Prosody
from tts_service.engines.espeak import EspeakEngine
from tts_service.planning import spoken_form
from tts_service.text import marks
from tts_service.text.markup import Kind, Span
from tts_service.utterance import say, with_rate


@pytest.fixture
def engine() -> CountingEngine:
    return CountingEngine(EspeakEngine())


async def test_plain_text_is_one_call_unchanged(engine: CountingEngine) -> None:
    made = await say(engine, "你好，世界。", "cmn", Prosody())
    assert engine.calls == ["你好，世界。"]
    assert made.duration > 0.5


async def test_a_pause_is_silence_of_that_length(engine: CountingEngine) -> None:
    plain = await say(engine, spoken_form("先说这个。再说那个。"), "cmn", Prosody())
    paused = await say(
        engine, spoken_form("先说这个。再说那个。", spans=(Span(5, 5, Kind.BREAK, "1500"),)), "cmn", Prosody()
    )
    assert engine.calls[1:] == ["先说这个。", "再说那个。"]  # no mark reaches the engine
    assert 1.2 < paused.duration - plain.duration < 1.8


async def test_a_slower_stretch_takes_longer(engine: CountingEngine) -> None:
    text = "这是一个需要慢慢读的句子。"
    normal = await say(engine, spoken_form(text), "cmn", Prosody())
    slow = await say(
        engine, spoken_form(text, spans=(Span(0, len(text), Kind.RATE, "-50"),)), "cmn", Prosody()
    )
    assert slow.duration > normal.duration * 1.4


async def test_a_reading_reaches_a_plain_text_engine_as_a_character_read_so(engine: CountingEngine) -> None:
    await say(engine, spoken_form("行业", spans=(Span(0, 1, Kind.READING, "hang2"),)), "cmn", Prosody())
    (sent,) = engine.calls
    assert sent != "行业" and sent.endswith("业") and not marks.ANY_MARK.search(sent)


def test_speeds_compound_within_range() -> None:
    assert with_rate(Prosody(rate=20), 50).rate == 80
    assert with_rate(Prosody(rate=-40), -50).rate == -50
    assert with_rate(Prosody(rate=80), 50).rate == 100
