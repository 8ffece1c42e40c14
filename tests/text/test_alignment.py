"""Placing an engine's words in spoken text, and spoken text in display text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts_service.planning import spoken_form
from tts_service.text import alignment, marks
from tts_service.text.markup import Kind, Span


def test_speakable_skips_punctuation_spaces_and_marks() -> None:
    text = marks.marked("行长，GDP 2", (Span(0, 1, Kind.READING, "hang2"),))
    assert [text[i] for i in alignment.speakable(text)] == list("行长GDP2")


@pytest.mark.parametrize(
    ("words", "text", "expected"),
    [
        (["中华", "人民"], "中华，人民。", [(0, 2), (2, 4)]),
        (["GDP", "增长"], "GDP增长", [(0, 3), (3, 5)]),
        (["ＡＢ", "你"], "ab你", [(0, 2), (2, 3)]),  # full width and case fold
        (["航长"], "行长", [(0, 2)]),  # a homophone the engine was handed: placed by count
        (["，", "你好"], "你好", [None, (0, 2)]),  # nothing speakable: no place
        (["世界"], "你好世界", [(2, 4)]),  # the engine skipped something: found further on
        (["你", "好", "多"], "你好", [(0, 1), (1, 2), None]),  # more words than text
    ],
)
def test_locate(words: list[str], text: str, expected: list[tuple[int, int] | None]) -> None:
    assert alignment.locate(words, text) == expected


def test_units_weigh_syllables_and_pauses() -> None:
    text = "我说，GDP和W3C。"
    assert alignment.units(text) == [
        (0, 1, 1.0),
        (1, 2, 1.0),
        (2, 3, 1.0),  # the comma's pause
        (3, 6, 3.0),
        (6, 7, 1.0),
        (7, 8, 3.0),  # W: dá bu liú
        (8, 9, 1.0),  # digits one by one
        (9, 10, 1.0),
    ]
    assert alignment.units("hello")[0][2] == 2.0  # a word by its vowel groups


def test_owners_map_rewritten_numbers_to_their_digits() -> None:
    display = "2019年，我们"
    spoken = spoken_form(display)
    assert spoken == "二零一九年，我们"
    owners = alignment.owners(display, spoken)
    assert owners[:4] == [(0, 4)] * 4
    assert owners[4] == (4, 5) and owners[6] == (6, 7)


def test_owners_skip_marks_and_spaces() -> None:
    display = "银行行长"
    spoken = marks.marked(display, (Span(1, 2, Kind.READING, "hang2"),))
    found = alignment.owners(display, spoken)
    assert [found[i] for i in alignment.speakable(spoken)] == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert all(o is None for i, o in enumerate(found) if i not in alignment.speakable(spoken))


@given(st.text(alphabet="你好世界中国人民一二三ab，。 12", min_size=1, max_size=40))
def test_owners_are_in_order_and_inside_the_display(display: str) -> None:
    spoken = spoken_form(display)
    spans = [o for o in alignment.owners(display, spoken) if o is not None]
    assert all(0 <= a < b <= len(display) for a, b in spans)
    assert [a for a, _ in spans] == sorted(a for a, _ in spans)
