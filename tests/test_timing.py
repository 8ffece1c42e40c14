"""Word timings: stored form, words placed in spoken text, syllables spread, marks over display text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts_service import timing
from tts_service.planning import spoken_form
from tts_service.text import alignment
from tts_service.timing import Mark, Timing, Word


def test_stored_form_round_trips_in_milliseconds() -> None:
    made = Timing("model", (Mark(0, 1, 0.1234, 0.2), Mark(1, 3, 0.25, 0.5)))
    raw = made.to_json()
    assert json.loads(raw) == {
        "v": timing.VERSION,
        "source": "model",
        "marks": [[0, 1, 123, 200], [1, 3, 250, 500]],
    }
    assert Timing.from_json(raw) == Timing("model", (Mark(0, 1, 0.123, 0.2), Mark(1, 3, 0.25, 0.5)))


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "not json",
        '{"v": 0, "source": "model", "marks": []}',  # an older version reads as none
        '{"v": 1, "source": "guess", "marks": []}',
        '{"v": 1, "source": "model", "marks": [[0, 1]]}',
        "[1, 2]",
    ],
)
def test_missing_old_or_broken_timings_read_as_none(raw: str | None) -> None:
    assert Timing.from_json(raw) is None


def test_words_are_placed_in_the_spoken_text() -> None:
    spoken = "中华人民，共和国。"
    words = [Word("中华", 0.1, 0.4), Word("人民", 0.4, 0.7), Word("共和国", 1.0, 1.6)]
    placed = timing.from_words(words, spoken, spoken, "boundaries")
    assert placed == Timing("boundaries", (Mark(0, 2, 0.1, 0.4), Mark(2, 4, 0.4, 0.7), Mark(5, 8, 1.0, 1.6)))


def test_words_covering_too_little_are_not_used() -> None:
    assert (
        timing.from_words([Word("中华", 0.1, 0.4)], "中华人民共和国", "中华人民共和国", "boundaries") is None
    )


def test_overlapping_word_times_are_made_monotonic() -> None:
    words = [Word("你好", 0.1, 0.5), Word("世界", 0.4, 0.8)]
    placed = timing.from_words(words, "你好世界", "你好世界", "boundaries")
    assert placed is not None and placed.marks[1].at == 0.5


def test_proportional_spreads_syllables_and_gives_pauses_time_but_no_mark() -> None:
    made = timing.proportional("你好，世界", 1.0, 3.0)  # 4 syllables and a comma's pause of 1
    assert made.source == "proportional"
    assert [(m.start, m.end) for m in made.marks] == [(0, 1), (1, 2), (3, 4), (4, 5)]
    assert [m.at for m in made.marks] == pytest.approx([1.0, 1.4, 2.2, 2.6])
    assert made.marks[-1].until == pytest.approx(3.0)


def test_proportional_lays_a_clause_break_on_the_silence_heard_there() -> None:
    """The spread puts the comma at 1.8-2.2 s; the audio's silence is at 1.5-1.8: the clause before it
    ends where the silence starts, the one after starts where speech starts again."""
    made = timing.proportional("你好，世界", 1.0, 3.0, [(1.5, 1.8)])
    assert [(m.start, m.end) for m in made.marks] == [(0, 1), (1, 2), (3, 4), (4, 5)]
    times = [t for m in made.marks for t in (m.at, m.until)]
    assert times == pytest.approx([1.0, 1.25, 1.25, 1.5, 1.8, 2.4, 2.4, 3.0])


def test_proportional_anchors_a_full_stop_and_skips_silences_that_fit_no_break() -> None:
    # Heard: a silence mid-clause (a stop consonant's gap, long enough to count) and one at the full stop.
    made = timing.proportional("开馆了。欢迎大家", 0.0, 7.0, [(1.0, 1.2), (2.9, 3.3)])
    assert [m.at for m in made.marks][3] == pytest.approx(3.3)  # 欢 starts when speech comes back
    assert made.marks[2].until == pytest.approx(2.9)
    assert made.marks[1].at == pytest.approx(2.9 / 3)  # 开馆了 spread evenly: the gap at 1.0 s moved nothing


def test_proportional_leaves_a_break_without_a_silence_near_it_to_the_spread() -> None:
    far = timing.proportional("你好，世界", 0.0, 10.0, [(8.5, 8.8)])  # the spread puts the comma near 4-6 s
    assert far == timing.proportional("你好，世界", 0.0, 10.0)
    outside = timing.proportional("你好，世界", 1.0, 3.0, [(0.2, 0.5)])  # before the sound starts
    assert outside == timing.proportional("你好，世界", 1.0, 3.0)


def test_moved_puts_a_stretch_into_its_chunk() -> None:
    part = Timing("model", (Mark(0, 1, 0.1, 0.2), Mark(1, 2, 0.2, 0.3)))
    onto = "先说。\ue012\ue131\ue130\ue130\ue011再说。"  # a pause mark between the stretches
    moved = timing.moved(part, "再说。", onto, 2, 5.0)
    assert [(m.start, m.end) for m in moved.marks] == [(8, 9), (9, 10)]
    assert onto[8:10] == "再说"
    assert moved.marks[0].at == pytest.approx(5.1)


def test_display_marks_join_a_rewritten_number_and_cover_everything() -> None:
    display = "2019年，我们"
    spoken = spoken_form(display)
    made = timing.proportional(spoken, 0.0, 7.0)
    marks = timing.display_marks(display, spoken, made)
    assert [display[m.start : m.end] for m in marks] == ["2019", "年，", "我", "们"]
    assert marks[0].until == pytest.approx(made.marks[3].until)


def test_chunk_marks_fall_back_to_spreading_over_the_audio() -> None:
    source, marks = timing.chunk_marks("你好", "你好", None, 1.0, 0.05)
    assert source == "proportional"
    assert marks[0].at == pytest.approx(0.05) and marks[-1].until == pytest.approx(1.0)
    stored = Timing("model", (Mark(0, 1, 0.1, 0.3), Mark(1, 2, 0.3, 0.6))).to_json()
    source, marks = timing.chunk_marks("你好", "你好", stored, 1.0, 0.05)
    assert source == "model" and [m.at for m in marks] == [0.1, 0.3]


CHUNK_TEXT = st.text(alphabet="你好世界中国人民一二三abAB，。、 12%", min_size=1, max_size=60)


@given(CHUNK_TEXT, st.floats(0.5, 20))
def test_marks_are_monotonic_cover_the_display_and_fit_the_audio(display: str, duration: float) -> None:
    display = display.strip()
    spoken = spoken_form(display)
    if not alignment.speakable(spoken):
        return
    _, marks = timing.chunk_marks(display, spoken, None, duration, 0.05)
    assert marks, (display, spoken)
    assert marks[0].start == 0 and marks[-1].end == len(display)
    assert all(a.end == b.start for a, b in zip(marks, marks[1:], strict=False))  # contiguous
    assert all(m.start < m.end for m in marks)
    assert all(a.until <= b.at + 1e-9 for a, b in zip(marks, marks[1:], strict=False))  # monotonic
    assert all(0 <= m.at <= m.until <= duration + 1e-9 for m in marks)


SILENCES = st.lists(st.tuples(st.floats(0, 20), st.floats(0.12, 1.0)), max_size=6)


@given(CHUNK_TEXT, st.floats(0.5, 20), SILENCES)
def test_anchored_spreads_stay_in_order_and_inside_the_sound(
    text: str, duration: float, silences: list[tuple[float, float]]
) -> None:
    """Whatever silences are heard (in order, not overlapping), the marks stay monotonic, each said
    stretch once, inside [start, end], and none lies inside a silence it was anchored to."""
    heard, at = [], 0.0
    for gap, length in sorted(silences):
        if gap >= at:
            heard.append((gap, gap + length))
            at = gap + length
    made = timing.proportional(text, 0.05, duration, heard)
    assert [(m.start, m.end) for m in made.marks] == [
        (m.start, m.end) for m in timing.proportional(text, 0.05, duration).marks
    ]
    assert all(a.until <= b.at + 1e-9 for a, b in zip(made.marks, made.marks[1:], strict=False))
    assert all(0.05 - 1e-9 <= m.at <= m.until <= max(duration, 0.05) + 1e-9 for m in made.marks)
