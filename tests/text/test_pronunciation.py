"""Readings as an editor proofreads them: syllables mapped back to display characters, decisions, flags,
other readings; lexicon entries that carry a reading; inline readings set at one display character."""

from __future__ import annotations

import pytest

from tts_service.errors import InvalidInput
from tts_service.planning import NO_LEXICON, spoken_form
from tts_service.text import pronunciation, readings
from tts_service.text.lexicon import Lexicon, LexiconEntry
from tts_service.text.pinyin import Syllable, tokens
from tts_service.text.polyphones import How


def read(display: str, lexicon: Lexicon = NO_LEXICON) -> pronunciation.PieceReadings:
    marked = readings.parse(display)
    return pronunciation.read(marked.display, spoken_form(marked.display, lexicon, True, marked.spans))


def test_digits_are_read_as_spoken_and_only_their_own_characters_get_ruby() -> None:
    got = read("2019年，他在银行当行长。")
    assert got.spoken == "二零一九年，他在银行当行长。"
    by_char = [(c.char, c.pinyin) for c in got.chars]
    assert by_char[:5] == [("2", None), ("0", None), ("1", None), ("9", None), ("年", "nián")]
    assert by_char[8:12] == [("银", "yín"), ("行", "háng"), ("当", "dāng"), ("行", "háng")]
    assert len(got.chars) == len("2019年，他在银行当行长。")


def test_polyphones_carry_the_decision_the_explain_path_gives() -> None:
    got = read("他在银行当行长。")
    decided = {c.index: c for c in got.polyphones}
    assert decided[3].decision is not None and decided[3].decision.how == How.PHRASE
    assert decided[3].decision.why == "银行" and not decided[3].flagged
    assert decided[4].decision is not None and decided[4].decision.how == How.DEFAULT
    assert decided[4].flagged and got.flagged == (decided[4],)
    assert decided[4].options[0] == "dang1" and "dang4" in decided[4].options  # its own first, then others
    assert got.spoken is None  # said as written


def test_an_inline_reading_and_a_lexicon_reading_are_sure_and_say_so() -> None:
    inline = read("他当{dang4}作没看见。")
    assert [(c.pinyin, c.decision.how) for c in inline.polyphones if c.char == "当"] == [("dàng", How.INLINE)]
    lexicon = Lexicon.of({"当作": "当{dang4}作"})
    got = read("他当作没看见。", lexicon)
    assert [(c.pinyin, c.decision.how, c.flagged) for c in got.polyphones if c.char == "当"] == [
        ("dàng", How.LEXICON, False)
    ]


def test_a_lexicon_replacement_leaves_the_replaced_characters_without_ruby() -> None:
    got = read("请联系ANSO秘书处。", Lexicon.of({"ANSO": "安索"}))
    assert got.spoken == "请联系安索秘书处。"
    assert [c.pinyin for c in got.chars if c.char in "ANSO"] == [None] * 4
    assert [c.pinyin for c in got.chars if c.char == "秘"] == ["mì"]


@pytest.mark.parametrize(
    ("display", "index", "read_as", "entry"),
    [
        ("他在银行当行长。", 6, "hang2", ("行长", "行长{hang2}")),
        ("他在银行当行长。", 3, "xing2", ("银行", "银行{xing2}")),
        ("我得走了", 1, "dei3", ("得走", "得{dei3}走")),  # a one-character word takes a neighbour
        ("快走得", 2, "de5", ("走得", "走得{de5}")),
    ],
)
def test_lexicon_entry_for_everywhere(display: str, index: int, read_as: str, entry: tuple[str, str]) -> None:
    assert pronunciation.lexicon_entry(display, index, read_as) == entry
    LexiconEntry(written=entry[0], spoken=entry[1])  # valid as an entry


def test_lexicon_entry_refuses_bad_input() -> None:
    with pytest.raises(InvalidInput):
        pronunciation.lexicon_entry("他在银行", 2, "xyz9")
    with pytest.raises(InvalidInput):
        pronunciation.lexicon_entry("A在银行", 0, "hang2")


def test_a_lexicon_reading_reaches_every_engine() -> None:
    """The local voice takes the reading mark; others a character read that way (marks.plain)."""
    from tts_service.text import marks

    spoken = spoken_form("他当作没看见。", Lexicon.of({"当作": "当{dang4}作"}))
    assert [t.pinyin for t in tokens(spoken) if isinstance(t, Syllable)][1] == "dang4"
    assert "当" not in marks.plain(spoken)  # a homophone read dàng stands in for it


def test_lexicon_spoken_forms_with_bad_readings_are_refused() -> None:
    with pytest.raises(ValueError, match="not a pinyin syllable"):
        LexiconEntry(written="银行", spoken="银行{yin9 hang2}")
    assert LexiconEntry(written="集合", spoken="集合{a, b}").spoken == "集合{a, b}"  # not a reading: text


@pytest.mark.parametrize(
    ("source", "index", "read_as", "edited"),
    [
        ("他在银行工作", 3, "hang2", "他在银行{hang2}工作"),
        ("在银行{yin2 hang2}工作", 2, "xing2", "在银行{yin2 xing2}工作"),  # the reading already there
        ("行\\{háng}行", 7, "háng", "行\\{háng}行{hang2}"),  # display offsets past an escape
        ("第{1}条行长", 6, "hang2", "第{1}条行长{hang2}"),
    ],
)
def test_set_reading_edits_the_source_at_one_display_character(
    source: str, index: int, read_as: str, edited: str
) -> None:
    assert readings.set_reading(source, index, read_as) == edited
    assert readings.parse(edited).display == readings.parse(source).display


def test_set_reading_refuses_what_is_not_a_han_character() -> None:
    with pytest.raises(InvalidInput):
        readings.set_reading("第{1}条", 1, "hang2")
    with pytest.raises(InvalidInput):
        readings.set_reading("行", 0, "nope7")
