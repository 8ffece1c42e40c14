"""Polyphones read from context, and how each reading was decided.

pypinyin reads each tagged word through its phrase dictionary, to which `load()` adds (process-wide, once)
the light syllables and readings it gets wrong (`polyphone_rules.NEUTRAL_LAST`, `PHRASES`), also inside the
longer phrases that end in them (老朋友). `resolve()` then applies the context rules to the characters whose
reading did not come from a phrase: a character that is a word by itself, or one inside a word pypinyin
does not know as a phrase.

Every polyphone (a character with two or more distinct readings in use, `ambiguous`) gets a `Decision`: the
phrase dictionary, a context rule, the character's usual reading, or pypinyin's default guess, graded
``sure`` or not. A default guess is never sure; a phrase, a specific rule or a usual reading is; fallback
rules say so themselves. Editors see the unsure ones.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pypinyin import Style, lazy_pinyin, load_phrases_dict
from pypinyin.constants import PHRASES_DICT
from pypinyin.contrib.tone_convert import to_tone
from pypinyin.seg import mmseg

from tts_service.lru import Args, cached, deep_size
from tts_service.text.context import BOUNDARY, Rule, Spot, Word, flat
from tts_service.text.polyphone_rules import NEUTRAL_LAST, PHRASES, RULES

__all__ = ["NEUTRAL_LAST", "PHRASES", "RULES", "Decision", "How", "ambiguous", "load", "resolve"]

_BY_CHAR: dict[str, tuple[Rule, ...]] = {
    c: tuple(r for r in RULES if r.char == c) for c in {r.char for r in RULES}
}

# Polyphones whose other readings live in single-character use, so the phrase data does not show them.
SINGLE_USE = "地单落似会压作得了着结折系奔中几与强省模称假背兴更曲切划弹散尽恶卷铺转载校倒干济监号扎吐钻占挣"
# Tone sandhi, not a choice of reading, changes these; `pinyin.apply_sandhi` handles them.
SANDHI = "一不"
# Polyphones whose other readings occur as words by themselves (verbs, measure words: 得 děi, 种 zhòng, 还
# huán): pypinyin's single-character default for them is a guess. The other polyphones' other readings
# live in dictionary words (要求 yāo, 首都 dū, 给予 jǐ, 更新 gēng, 与会 yù), which the phrase dictionary would
# have found, so their default is their usual reading. (教 alone has its rule, jiāo; inside a word pypinyin
# does not know, 教室 教师 教授, it is jiào.)
FREE = "".join(
    (
        "得着还长行种数量背系中结折奔干转倒当为冲落空藏调处应相差",
        "划弹散卷铺扎吐钻占挣重率觉供露血地曾扇缝圈宿切曲尽称",
    )
)
# Of those, the ones whose other reading is a one-character word only (中 zhòng, 系 jì, 奔 bèn …): inside a
# longer word that pypinyin does not know and jieba tags as a noun, place, time or abbreviation (中方, 中小
# 企业), the default is their usual reading; in a verb or any other word (弹奏, 刮倒, 好得多) still a guess.
# (看 kān needs an object to watch over, which the rules name: 看孩子, 看大门; otherwise 看 is kàn.)
ALONE_ONLY = "得着还种数量背系中结折奔干转倒当为冲落空扎吐钻占挣觉供露血地曾散卷铺弹"


class How(StrEnum):
    """Where a polyphone's reading came from."""

    INLINE = "inline"  # the text itself sets it here: 行{háng}, or SSML's <phoneme>
    LEXICON = "lexicon"  # the editors' lexicon gave the text read here
    PHRASE = "phrase"  # pypinyin's phrase dictionary, with the project's overrides
    RULE = "rule"  # a context rule (`polyphone_rules.RULES`)
    USUAL = "usual"  # pypinyin's single-character default, where the other readings need a phrase
    DEFAULT = "default"  # pypinyin's single-character default where another reading is free: a guess


@dataclass(frozen=True, slots=True)
class Decision:
    """How one polyphone's reading was decided, how sure that is, and what decided it (phrase or rule)."""

    how: How
    sure: bool
    why: str = ""


@functools.cache
def load() -> None:
    """Add the overrides to pypinyin's phrase dictionary (process-wide, once)."""
    phrases = {w: " ".join(_plain(w)[:-1] + [_plain(w)[-1][:-1] + "5"]) for w in NEUTRAL_LAST}
    phrases.update(PHRASES)
    longest = max(map(len, phrases))
    for key in [k for k in PHRASES_DICT if k not in phrases]:  # longer ones ending in one: 好消息, 脑出血
        for n in range(2, min(len(key) - 1, longest) + 1):
            if key[-n:] in phrases:
                phrases[key] = " ".join(_plain(key)[:-n] + phrases[key[-n:]].split())
                break
    load_phrases_dict({w: [[to_tone(s)] for s in r.split()] for w, r in phrases.items()})


@functools.cache
def _ambiguous_set() -> frozenset[str]:
    """Characters read two or more distinct ways across pypinyin's phrases, each at least 3 times and 2% of
    the time, with `SINGLE_USE`. A light syllable is not a reading of its own where a full tone of the same
    syllable exists (子 zǐ / zi is one reading; 了 liǎo / le are two)."""
    seen: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for word, readings in PHRASES_DICT.items():
        for char, options in zip(word, readings, strict=False):
            seen[char][options[0]] += 1
    found = set(SINGLE_USE)
    for char, counts in seen.items():
        toned = {_toneless(r): r for r, _ in counts.most_common() if _toneless(r) != r}
        full = Counter[str]()
        for reading, n in counts.items():
            full[toned.get(reading, reading)] += n
        top = full.most_common(2)
        if len(top) == 2 and top[1][1] >= 3 and top[1][1] >= 0.02 * (top[0][1] + top[1][1]):
            found.add(char)
    return frozenset(found - set(SANDHI))


_TONE_MARKS = dict.fromkeys(map(ord, "\u0304\u0301\u030c\u0300"))


def _toneless(reading: str) -> str:
    """The syllable without its tone mark (ü kept): zhǎng → zhang."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", reading).translate(_TONE_MARKS))


def ambiguous(char: str) -> bool:
    """A polyphone: a character with two or more distinct readings in use."""
    return char in _ambiguous_set()


def _plain(text: str) -> list[str]:
    """pypinyin's readings, one per character; "?" where there is none (a string: pypinyin restyles it)."""
    # pypinyin's stubs say the errors callback returns a string; its docs and code take a list, one reading
    # per character, which is what keeps this list as long as the text.
    return lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, errors=_unknown)  # type: ignore[arg-type]


def _unknown(chars: str) -> list[str]:
    return ["?"] * len(chars)


WordReadings = tuple[tuple[str | None, ...], tuple[str, ...]]


def _readings_size(args: Args, readings: WordReadings) -> int:
    return deep_size(args, readings)


# About 650 bytes a word with the cache's own bookkeeping: some 25,000 distinct words.
@cached(16 * 1024 * 1024, _readings_size)
def word_readings(word: str) -> WordReadings:
    """Dictionary readings of one word (None where there is no Han reading), and for each character the
    dictionary phrase its reading came from ("" for a single-character default)."""
    load()
    readings: list[str | None] = []
    phrases: list[str] = []
    for piece in [word] if word in PHRASES_DICT else mmseg.seg.cut(word):
        got = _plain(piece)
        readings.extend(r if r[-1:].isdigit() else None for r in got)
        phrases.extend([piece if len(piece) > 1 and piece in PHRASES_DICT else ""] * len(piece))
    return tuple(readings), tuple(phrases)


def resolve(tagged: Sequence[tuple[str, str]]) -> list[list[tuple[str | None, Decision | None]]]:
    """Each word's readings, polyphones resolved from context, given (word, POS tag) pairs; with each
    reading, how it was decided (None for characters that are not polyphones, or have no Han reading)."""
    words = []
    for text, tag in tagged:
        readings, phrases = word_readings(text)
        words.append(Word(text, tag, list(readings), phrases))
    context = BOUNDARY + "".join(flat(w.text) for w in words) + BOUNDARY
    out: list[list[tuple[str | None, Decision | None]]] = []
    pos = 1
    for index, word in enumerate(words):
        decided: list[tuple[str | None, Decision | None]] = []
        for offset, char in enumerate(word.text):
            reading = word.readings[offset]
            if reading is not None and (char in _BY_CHAR or ambiguous(char)):
                decided.append(_decide(Spot(words, index, offset, context, pos), char))
            else:
                decided.append((reading, None))
            pos += 1
        out.append(decided)
    return out


@functools.cache  # one per rule of the table
def _ruled(rule: Rule) -> Decision:
    return Decision(How.RULE, rule.sure, rule.describe())


def _decide(spot: Spot, char: str) -> tuple[str | None, Decision | None]:
    """One character's reading and, for a polyphone, the decision behind it."""
    word = spot.words[spot.index]
    reading = word.readings[spot.offset]
    rules = _BY_CHAR.get(char)
    if reading is None:
        return None, None
    rule = next((r for r in rules if r.matches(spot)), None) if rules else None
    if rule is not None:
        word.readings[spot.offset] = rule.reading  # later rules see it: 数了数
        return rule.reading, _ruled(rule)
    if not ambiguous(char):
        return reading, None
    if word.fixed(spot.offset):
        # A phrase cut out of a word pypinyin does not know, beside single characters, may be a wrong cut
        # (排长|队, 林|下种|植); cut into phrases only (地球|科学), it is not.
        phrase = word.phrases[spot.offset]
        rough = char in FREE and phrase != word.text and "" in word.phrases
        return reading, Decision(How.PHRASE, not rough, phrase)
    nominal = word.tag.startswith(("n", "j", "s", "f", "t", "b"))
    if char in FREE and not (char in ALONE_ONLY and len(word.text) > 1 and nominal):
        return reading, Decision(How.DEFAULT, False)
    return reading, Decision(How.USUAL, True)
