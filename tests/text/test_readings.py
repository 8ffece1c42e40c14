"""Inline readings: 行{háng} in article text sets that one reading; the page shows only the characters."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypinyin.pinyin_dict import pinyin_dict

from tts_service.errors import InvalidInput
from tts_service.planning import spoken_form
from tts_service.text import readings
from tts_service.text.markup import Kind, Span
from tts_service.text.pinyin import Syllable, tokens


@pytest.mark.parametrize(
    ("written", "display", "spans"),
    [
        ("行{háng}业", "行业", [(0, 1, "hang2")]),
        ("行{hang2}业", "行业", [(0, 1, "hang2")]),
        ("在银行{yin2 hang2}工作", "在银行工作", [(1, 3, "yin2 hang2")]),
        ("银行{yín'háng}", "银行", [(0, 2, "yin2 hang2")]),
        ("绿{lǜ}和绿{lv4}和女{nü3}", "绿和绿和女", [(0, 1, "lv4"), (2, 3, "lv4"), (4, 5, "nv3")]),
        ("了{le}", "了", [(0, 1, "le5")]),
        # Not readings: an escape, braces after anything but a Han character, braces without letters.
        ("行\\{háng}", "行{háng}", []),
        ("A{b} x{y}", "A{b} x{y}", []),
        ("第{1}条 {注}", "第{1}条 {注}", []),
        ("集合{a, b}", "集合{a, b}", []),
    ],
)
def test_parse(written: str, display: str, spans: list[tuple[int, int, str]]) -> None:
    marked = readings.parse(written)
    assert marked.display == display
    assert marked.spans == tuple(Span(a, b, Kind.READING, v) for a, b, v in spans)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("行{hagn2}", "'hagn2' is not a pinyin syllable"),
        ("行{yin2 hang2}", "gives 2 syllable(s) but 1 Han character(s)"),
        ("行{hang6}", "is not a pinyin syllable"),
    ],
)
def test_bad_readings_are_refused_with_the_reason(written: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        readings.parse(written)


@given(st.text(alphabet=st.characters(blacklist_characters="{}\\", blacklist_categories=("Cs",))))
def test_text_without_braces_is_its_own_display(text: str) -> None:
    assert readings.parse(text).display == text
    assert readings.parse(text).spans == ()


def test_the_reading_reaches_the_syllables_and_only_there() -> None:
    marked = readings.parse("行{xing2}人在银行里，行{háng}业行情好。")
    spoken = spoken_form(marked.display, spans=marked.spans)
    said = [(t.text, t.pinyin) for t in tokens(spoken) if isinstance(t, Syllable)]
    hang = [p for c, p in said if c == "行"]
    assert hang == ["xing2", "hang2", "hang2", "hang2"]  # 行情 is the dictionary's: háng
    plain = [(t.text, t.pinyin) for t in tokens(spoken_form("行人")) if isinstance(t, Syllable)]
    assert plain == [("行", "xing2"), ("人", "ren2")]


@pytest.mark.parametrize(
    ("char", "read"), [("行", "hang2"), ("长", "zhang3"), ("重", "chong2"), ("乐", "yue4")]
)
def test_homophone_has_only_that_reading(char: str, read: str) -> None:
    plain = readings.homophone(char, read)
    assert plain != char  # a polyphone is replaced
    assert pinyin_dict[ord(plain)].count(",") == 0
    assert readings.syllable(pinyin_dict[ord(plain)]) == read


def test_homophone_keeps_a_character_that_reads_so() -> None:
    assert readings.homophone("银", "yin2") == "银"
