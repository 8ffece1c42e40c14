"""Spoken text → syllables with tones, sandhi included."""

from __future__ import annotations

import logging

import pytest

from tts_service.text.pinyin import Break, Syllable, tokens


def readings(text: str) -> str:
    return " ".join(t.pinyin if isinstance(t, Syllable) else f"|{t.strength}" for t in tokens(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 一: yí before a fourth tone, yì before others, yī in numbers and ordinals, neutral in A一A.
        ("一个", "yi2 ge4"),
        ("一定", "yi2 ding4"),
        ("一天", "yi4 tian1"),
        ("一年", "yi4 nian2"),
        ("一起", "yi4 qi3"),
        ("第一", "di4 yi1"),
        ("统一", "tong3 yi1"),
        ("一九九一年", "yi1 jiu2 jiu3 yi1 nian2"),
        ("看一看", "kan4 yi5 kan4"),
        # 不: bú before a fourth tone, bù otherwise, neutral in A不A.
        ("不对", "bu2 dui4"),
        ("不好", "bu4 hao3"),
        ("不同", "bu4 tong2"),
        ("是不是", "shi4 bu5 shi4"),
        # 3 + 3: inside a word on dictionary tones, then across words.
        ("你好", "ni2 hao3"),
        ("老鼠", "lao2 shu3"),
        ("展览馆", "zhan2 lan2 guan3"),
        ("我很好", "wo3 hen2 hao3"),
        # Neutral tones come from the phrase dictionary.
        ("好了", "hao3 le5"),
        ("我的", "wo3 de5"),
        ("桌子", "zhuo1 zi5"),
        # Phrase dictionary for polyphones.
        ("银行", "yin2 hang2"),
        # Breaks at punctuation.
        ("你好，世界。", "ni2 hao3 |2 shi4 jie4 |3"),
    ],
)
def test_readings(text: str, expected: str) -> None:
    assert readings(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ANSO", "ei1 en1 ai2 si5 ou1"),
        ("CKDu", "xi1 kai1 di4 you1"),
        ("4000", "si4 ling2 ling2 ling2"),
        ("ＡＩ１", "ei1 ai4 yi1"),  # full-width letters and digits
    ],
)
def test_letters_and_digits_are_spelled_out(text: str, expected: str) -> None:
    syllables = tokens(text)
    assert " ".join(s.pinyin for s in syllables) == expected
    assert all(isinstance(s, Syllable) and s.spelled for s in syllables)


def test_unknown_characters_are_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        result = tokens("Ω好😀")
    assert [t.pinyin for t in result if isinstance(t, Syllable)] == ["hao3"]
    assert "U+03A9" in caplog.text and "U+1F600" in caplog.text


def test_words_are_numbered() -> None:
    result = [t for t in tokens("银行开门") if isinstance(t, Syllable)]
    assert [t.word for t in result] == [0, 0, 1, 1]
    assert not any(isinstance(t, Break) for t in result)
