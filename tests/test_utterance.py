"""A chunk's marks at synthesis: engines never see them; pauses and speed changes shape the audio."""

from __future__ import annotations

import pytest
from helpers import CountingEngine

from tts_service.audio import mp3, onsets, pcm
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


async def test_an_engine_without_timings_gets_syllables_spread_over_its_sound(engine: CountingEngine) -> None:
    made = await say(engine, "你好，世界。", "cmn", Prosody())
    assert made.timing is not None and made.timing.source == "proportional"
    assert [(m.start, m.end) for m in made.timing.marks] == [(0, 1), (1, 2), (3, 4), (4, 5)]
    first, last = made.timing.marks[0], made.timing.marks[-1]
    assert 0.04 < first.at < 0.3  # the sound starts after the codec's delay, not at 0
    assert last.until <= made.duration


@pytest.mark.parametrize("comma", [",", "，"])
async def test_spread_marks_resume_where_speech_does_after_commas(engine: CountingEngine, comma: str) -> None:
    """Spread, not reported: still, each clause starts where its sound starts again (within 40 ms, the
    bound the model's own timings meet), because the comma is laid on the silence heard in the audio."""
    text = f"今天开馆{comma}欢迎大家来看书{comma}也欢迎大家带孩子来。"
    made = await say(engine, text, "cmn", Prosody())
    assert made.timing is not None and made.timing.source == "proportional"
    samples = pcm.from_int16(mp3.decode(made.audio))
    heard = [resumes for _, resumes in onsets.onsets(samples, mp3.SAMPLE_RATE)]
    after = [m.at for m in made.timing.marks if text[m.start - 1] == comma]
    assert len(after) == 2 and len(heard) >= 2
    assert all(min(abs(t - h) for h in heard) <= 0.04 for t in after), (after, heard)


async def test_marks_after_a_pause_move_by_the_pause(engine: CountingEngine) -> None:
    text = "先说这个。再说那个。"
    plain = await say(engine, spoken_form(text), "cmn", Prosody())
    spoken = spoken_form(text, spans=(Span(5, 5, Kind.BREAK, "1500"),))
    paused = await say(engine, spoken, "cmn", Prosody())
    assert paused.timing is not None and plain.timing is not None
    assert [spoken[m.start : m.end] for m in paused.timing.marks] == list("先说这个再说那个")
    before, after = paused.timing.marks[3], paused.timing.marks[4]
    assert 1.4 < after.at - before.until < 2.0  # the pause, and the stretches' own edges
    assert paused.timing.marks[0].at == pytest.approx(plain.timing.marks[0].at, abs=0.05)
    assert paused.timing.marks[-1].until <= paused.duration
