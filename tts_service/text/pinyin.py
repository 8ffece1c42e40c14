"""Spoken text → syllables with tones: pypinyin on jieba words, polyphones from context, tone sandhi.

Pure functions; the segmenter's dictionary and the pinyin overrides load once per process, on first use.
Polyphone resolution (phrase overrides and context rules) lives in `polyphones`; sandhi for 一, 不 and 3+3
runs after it, on the lexical tones.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from tts_service.text import lexicon, marks, polyphones
from tts_service.text.polyphones import Decision
from tts_service.text.unicode import HAN

log = logging.getLogger(__name__)

# Letters as a Chinese reader says them aloud (A = ēi, W = dá bu liú …), as pinyin syllables.
LETTERS: dict[str, tuple[str, ...]] = {
    "A": ("ei1",), "B": ("bi4",), "C": ("xi1",), "D": ("di4",), "E": ("yi4",), "F": ("ai2", "fu5"),
    "G": ("ji4",), "H": ("ai2", "qi1"), "I": ("ai4",), "J": ("jie4",), "K": ("kai1",), "L": ("ai2", "le5"),
    "M": ("ai2", "mu5"), "N": ("en1",), "O": ("ou1",), "P": ("pi4",), "Q": ("qiu1",), "R": ("a4", "er5"),
    "S": ("ai2", "si5"), "T": ("ti4",), "U": ("you1",), "V": ("wei1",), "W": ("da2", "bu5", "liu5"),
    "X": ("ai2", "ke4", "si5"), "Y": ("wai4",), "Z": ("zei4",),
}  # fmt: skip
DIGITS = ("ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3")

# How strongly each punctuation mark breaks the flow: 1 = short pause, 2 = clause, 3 = sentence end.
BREAKS = {
    **dict.fromkeys("、“”‘’「」『』《》〈〉（）()\"'·—–-/", 1),
    **dict.fromkeys("，,：:；;", 2),
    **dict.fromkeys("。.！!？?…⋯", 3),
}
_HAN = re.compile(f"[{HAN}]")
_NUMERAL = set("零〇一二三四五六七八九十百千万亿两幺")


@dataclass(frozen=True)
class Syllable:
    """One spoken syllable: the text it reads, its pinyin with tone digit (5 = neutral), its word; for a
    polyphone, how its reading was decided and whether that is sure (`polyphones.Decision`)."""

    text: str
    pinyin: str
    word: int
    spelled: bool = False  # a letter or digit read out one by one: no 一 sandhi
    decision: Decision | None = None
    first: bool = True  # False for the second and later syllables of one character (W: dá bu liú)


@dataclass(frozen=True)
class Break:
    """A pause from punctuation, strength 1-3."""

    strength: int


Token = Syllable | Break


@functools.cache
def _jieba() -> Any:  # the jieba module, which has no type hints
    import jieba  # loads its dictionary lazily, once
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba


def words(text: str) -> list[str]:
    """Word segmentation (jieba); non-Han runs come back as their own pieces."""
    return [w for w in _jieba().cut(text, HMM=True) if w]


def tagged_words(text: str) -> list[tuple[str, str]]:
    """Dictionary words with part-of-speech tags (jieba.posseg without HMM: unknown runs stay single
    characters), the context for polyphone rules. Joined, the words give back the text."""
    return [(pair.word, pair.flag) for pair in _jieba().posseg.cut(text, HMM=False) if pair.word]


def lexical_tokens(text: str) -> list[Token]:
    """Syllables and breaks with their dictionary tones, polyphones resolved, before tone sandhi.

    Readings come from the tagged dictionary words; the words that syllables belong to (for sandhi and
    prosody) are jieba's usual segmentation, which also groups unknown names.
    """
    text = unicodedata.normalize("NFKC", text)  # full-width letters and digits become ASCII
    readings = [r for word in polyphones.resolve(tagged_words(text)) for r in word]  # one per character
    result: list[Token] = []
    start = 0
    for index, word in enumerate(words(text)):
        result.extend(_word_tokens(word, readings[start : start + len(word)], index))
        start += len(word)
    return result


def _word_tokens(word: str, readings: list[tuple[str | None, Decision | None]], index: int) -> list[Token]:
    """Tokens for one segmented word."""
    if not _HAN.search(word):
        return _other_tokens(word, index)
    tokens: list[Token] = []
    for char, (reading, decision) in zip(word, readings, strict=True):
        if reading is not None:
            tokens.append(Syllable(char, reading, index, decision=decision))
        else:
            tokens.extend(_other_tokens(char, index))
    return tokens


def _other_tokens(text: str, index: int) -> list[Token]:
    """Letters and digits spelled out; punctuation as breaks; anything else skipped with a warning."""
    tokens: list[Token] = []
    for char in text:
        upper = char.upper()
        if upper in LETTERS:
            syllables = LETTERS[upper]
            tokens.extend(
                Syllable(char, p, index, spelled=True, first=n == 0) for n, p in enumerate(syllables)
            )
        elif char.isdigit() and char.isascii():
            tokens.append(Syllable(char, DIGITS[int(char)], index, spelled=True))
        elif char in BREAKS:
            tokens.append(Break(BREAKS[char]))
        elif not char.isspace():
            log.warning("no reading for %r (U+%04X); skipped", char, ord(char))
    return tokens


def tokens(text: str) -> list[Token]:
    """Syllables and breaks for spoken text, tone sandhi applied; a reading the text sets (`marks`) is taken
    as written, after sandhi: the editor wrote what is to be heard."""
    text, readings = marks.readings(text)
    items = apply_sandhi(lexical_tokens(text))
    if readings:
        _set_readings(items, readings)
    return items


def _set_readings(items: list[Token], readings: dict[int, str]) -> None:
    """Give the n-th Han syllable the reading ``readings[n]``, where one is set."""
    han = [i for i, t in enumerate(items) if isinstance(t, Syllable) and _HAN.match(t.text)]
    for n, reading in readings.items():
        if n < len(han):
            s = items[han[n]]
            assert isinstance(s, Syllable)
            items[han[n]] = replace(s, pinyin=reading, decision=Decision(polyphones.How.INLINE, True))


def lexicon_tokens(marked: str) -> list[Token]:
    """`tokens()` of a spoken form made with the lexicon's spoken forms marked (`Lexicon.apply(marked=True)`):
    the same readings as for the unmarked text, and every Han syllable inside a mark says it came from the
    lexicon. If the marks changed how the text was normalised, nothing is claimed for the lexicon."""
    start, end = lexicon.MARKS
    text = marked.replace(start, "").replace(end, "")
    items = tokens(text)
    inside, han, depth = set(), 0, 0
    for char in marked:
        depth += (char == start) - (char == end)
        if _HAN.match(char):
            if depth:
                inside.add(han)
            han += 1
    syllables = [i for i, t in enumerate(items) if isinstance(t, Syllable) and _HAN.match(t.text)]
    if len(syllables) != han:  # not expected: every Han character has one syllable
        return items
    for n in inside:
        s = items[syllables[n]]
        assert isinstance(s, Syllable)
        items[syllables[n]] = replace(s, decision=Decision(polyphones.How.LEXICON, True))
    return items


def explain(items: list[Token]) -> list[str]:
    """One line per polyphone: the character, its spoken reading, sure or unsure, how it was decided and
    what decided it (the phrase, or the rule), tab-separated; for `tts-service pinyin --explain`."""
    lines = []
    for item in items:
        if isinstance(item, Syllable) and item.decision is not None:
            d = item.decision
            grade = "sure" if d.sure else "unsure"
            lines.append("\t".join(filter(None, (item.text, item.pinyin, grade, d.how.value, d.why))))
    return lines


def apply_sandhi(items: list[Token]) -> list[Token]:
    """Tone sandhi between neighbouring syllables of one phrase (breaks reset the context)."""
    out = list(items)
    for start, end in _phrases(out):
        phrase = [s for s in out[start:end] if isinstance(s, Syllable)]  # all of them: a phrase has no break
        _sandhi_yi_bu(phrase)
        _sandhi_third(phrase)
        out[start:end] = phrase
    return out


def _phrases(items: list[Token]) -> list[tuple[int, int]]:
    spans, start = [], 0
    for i, item in enumerate([*items, Break(3)]):
        if isinstance(item, Break):
            if i > start:
                spans.append((start, i))
            start = i + 1
    return spans


def _tone(s: Syllable) -> int:
    return int(s.pinyin[-1])


def _with_tone(s: Syllable, tone: int) -> Syllable:
    return replace(s, pinyin=s.pinyin[:-1] + str(tone))


def _sandhi_yi_bu(out: list[Syllable]) -> None:
    """一 and 不: second tone before a fourth tone, 一 fourth before others; neutral in A一A / A不A."""
    for i, s in enumerate(out):
        if s.spelled or s.text not in "一不" or s.pinyin[:-1] not in ("yi", "bu"):
            continue
        prev = out[i - 1] if i > 0 else None
        nxt = out[i + 1] if i + 1 < len(out) else None
        if nxt is None:
            continue  # 统一, 不: citation tone at the end of a phrase
        if (
            prev is not None
            and prev.text == nxt.text
            and s.text in "一不"
            and prev.word == nxt.word == s.word
        ):
            out[i] = _with_tone(s, 5)  # 看一看, 是不是
        elif s.text == "一" and (_is_numeric(prev) or _is_numeric(nxt) or (prev and prev.text == "第")):
            continue  # 第一, 一九九一, 十一: numbers keep yī
        elif _tone(nxt) == 4 or (_tone(nxt) == 5 and nxt.text == "个"):
            out[i] = _with_tone(s, 2)
        elif s.text == "一":
            out[i] = _with_tone(s, 4)


def _is_numeric(s: Syllable | None) -> bool:
    return s is not None and (s.text in _NUMERAL or s.text.isdigit())


def _sandhi_third(out: list[Syllable]) -> None:
    """3+3 → 2+3: first inside words (on the dictionary tones), then across word boundaries (on the result).

    So 展览馆 → zhan2 lan2 guan3 and 我很好 → wo3 hen2 hao3, the common readings.
    """
    original = [_tone(s) for s in out]
    for i in range(len(out) - 1):
        if out[i].word == out[i + 1].word and original[i] == 3 and original[i + 1] == 3:
            out[i] = _with_tone(out[i], 2)
    for i in range(len(out) - 2, -1, -1):
        if out[i].word != out[i + 1].word and _tone(out[i]) == 3 and _tone(out[i + 1]) == 3:
            out[i] = _with_tone(out[i], 2)
