"""Marks in spoken text: readings, pauses and speed changes survive the lexicon and normalisation, and come
apart again for the engines."""

from __future__ import annotations

from tts_service.planning import spoken_form
from tts_service.text import marks
from tts_service.text.lexicon import Lexicon
from tts_service.text.markup import Kind, Marked, Span


def _spoken(display: str, *spans: Span, lexicon: Lexicon | None = None) -> str:
    return spoken_form(display, lexicon or Lexicon(), spans=spans)


def test_readings_come_back_by_han_index_after_normalisation() -> None:
    spoken = _spoken("2019年行长说", Span(5, 6, Kind.READING, "hang2"), Span(6, 7, Kind.READING, "zhang3"))
    bare, found = marks.readings(spoken)
    assert bare == "二零一九年行长说"
    # 二零一九年 are five Han characters before 行
    assert found == {5: "hang2", 6: "zhang3"}


def test_a_spoken_form_replaces_its_text_and_is_normalised() -> None:
    spoken = _spoken("WHO在2020年说", Span(0, 3, Kind.SPOKEN, "世界卫生组织"))
    assert spoken == "世界卫生组织 在二零二零年说"


def test_pauses_and_speed_split_into_parts() -> None:
    spoken = _spoken(
        "先说这个，再慢慢说那个。",
        Span(4, 4, Kind.BREAK, "700"),
        Span(5, 11, Kind.RATE, "-30"),
        Span(0, 0, Kind.BREAK, "200"),
    )
    parts = marks.parts(spoken)
    assert parts == [
        marks.Part("", 0, 200),
        marks.Part("先说这个，", 0, 700),
        marks.Part("再慢慢说那个。", -30, 0),  # the full stop goes with the stretch before it
    ]


def test_nested_speeds_return_to_the_outer_one() -> None:
    spoken = _spoken("一二三四五六", Span(0, 6, Kind.RATE, "20"), Span(2, 4, Kind.RATE, "-20"))
    assert [(p.text, p.rate) for p in marks.parts(spoken)] == [("一二", 20), ("三四", -20), ("五六", 20)]


def test_text_without_marks_is_one_part() -> None:
    assert marks.parts("你好，世界。") == [marks.Part("你好，世界。")]


def test_plain_text_has_no_marks_and_renders_readings() -> None:
    spoken = _spoken("行业很长", Span(0, 1, Kind.READING, "hang2"), Span(3, 4, Kind.RATE, "10"))
    plain = marks.plain(spoken)
    assert not marks.ANY_MARK.search(plain) and all(ord(c) < 0xE000 or ord(c) > 0xF8FF for c in plain)
    assert plain[0] != "行" and plain[1:] == "业很长"


def test_a_span_cut_by_a_piece_keeps_each_character_its_syllable() -> None:
    paragraph = Marked("银行。行长。", (Span(0, 2, Kind.READING, "yin2 hang2"), Span(3, 5, Kind.SPOKEN, "x")))
    assert paragraph.within(1, 3) == (Span(0, 1, Kind.READING, "hang2"),)
    assert paragraph.within(3, 6) == (Span(0, 2, Kind.SPOKEN, "x"),)
    assert paragraph.within(4, 6) == (Span(0, 1, Kind.SPOKEN, ""),)  # said once, with the piece it starts in


def test_a_break_at_the_paragraph_end_goes_with_the_last_piece() -> None:
    paragraph = Marked("你好。", (Span(3, 3, Kind.BREAK, "500"),))
    assert paragraph.within(0, 3) == (Span(3, 3, Kind.BREAK, "500"),)


def test_digits_in_a_payload_are_never_read() -> None:
    spoken = _spoken("等3秒", Span(1, 1, Kind.BREAK, "3000"))
    assert marks.ANY_MARK.sub("", spoken) == "等三秒"
    assert marks.parts(spoken)[0].pause_ms == 3000


def test_marks_typed_into_the_text_are_dropped() -> None:
    typed = "行" + marks.READING + chr(marks.PAYLOAD + ord("x")) + marks.END + "业" + marks.BREAK
    spoken = _spoken(typed)
    assert spoken == "行业" and marks.parts(spoken) == [marks.Part("行业")]
