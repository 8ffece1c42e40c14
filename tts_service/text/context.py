"""Where a polyphone sits in its sentence, and the context rules that read it from there.

A sentence is a list of `Word`s (jieba's tagged words with their dictionary readings). A `Rule` looks at a
character's `Spot`: its own word and tag, the neighbouring words and tags, and the flat text of the clause
around it. The rule table itself is in `polyphone_rules`; `polyphones.resolve` applies it. Pure code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

from tts_service.text.unicode import HAN

BOUNDARY = "|"  # clause edges in the context text (punctuation, spaces, start and end)


@dataclass
class Word:
    """One segmented word: text, jieba POS tag, a reading per character, and for each character the
    dictionary phrase its reading came from ("" when it came from pypinyin's single-character default)."""

    text: str
    tag: str
    readings: list[str | None]
    phrases: tuple[str, ...]

    def fixed(self, offset: int) -> bool:
        """The reading at ``offset`` came from a dictionary phrase."""
        return bool(self.phrases[offset])


@dataclass(frozen=True)
class Spot:
    """Where a character sits: the sentence's words, its word and offset, and the flat context text."""

    words: Sequence[Word]
    index: int
    offset: int
    flat: str
    pos: int  # index of the character in `flat`

    def neighbour(self, step: int) -> Word | None:
        i = self.index + step
        while 0 <= i < len(self.words) and self.words[i].text.isspace():
            i += step
        return self.words[i] if 0 <= i < len(self.words) else None

    def clause(self, step: int) -> list[Word]:
        """The words after (step 1) or before (step -1) this one, up to the clause edge."""
        out, i = [], self.index + step
        while 0 <= i < len(self.words) and flat(self.words[i].text).strip(BOUNDARY):
            out.append(self.words[i])
            i += step
        return out


@dataclass(frozen=True)
class Rule:
    """Read `char` as `reading` when every given condition holds; the first matching rule wins.

    ``sure`` grades the decision: a rule that only says "otherwise" (a fallback after the specific rules)
    is a guess, and is marked ``sure=False`` so that editors see it.
    """

    char: str
    reading: str
    word: str = ""  # only inside this word (then it applies even to dictionary phrases)
    alone: bool = False  # the character is a word by itself
    tags: tuple[str, ...] = ()  # its own word's POS tag starts with one of these
    # The text just before ends with / just after starts with one of these ("|" = clause edge); the text
    # around the character, or around the word for a rule with `word`.
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    prev_tags: tuple[str, ...] = ()  # the previous word's POS tag starts with one of these
    next_tags: tuple[str, ...] = ()
    next_words: tuple[str, ...] = ()
    prev_words: tuple[str, ...] = ()
    test: Callable[[Spot], bool] | None = None
    sure: bool = True

    def matches(self, spot: Spot) -> bool:
        word = spot.words[spot.index]
        prev, nxt = spot.neighbour(-1), spot.neighbour(1)
        start, end = spot.pos, spot.pos + 1
        if self.word:
            start, end = spot.pos - spot.offset, spot.pos - spot.offset + len(word.text)
        return (
            (word.text == self.word if self.word else not word.fixed(spot.offset))
            and (not self.alone or word.text == self.char)
            and (not self.tags or word.tag.startswith(self.tags))
            and (not self.before or spot.flat.endswith(self.before, 0, start))
            and (not self.after or spot.flat.startswith(self.after, end))
            and (not self.prev_tags or (prev is not None and prev.tag.startswith(self.prev_tags)))
            and (not self.next_tags or (nxt is not None and nxt.tag.startswith(self.next_tags)))
            and (not self.next_words or (nxt is not None and nxt.text in self.next_words))
            and (not self.prev_words or (prev is not None and prev.text in self.prev_words))
            and (self.test is None or self.test(spot))
        )

    def describe(self) -> str:
        """The rule as one line for `pinyin --explain`: its reading and the conditions it checks."""
        parts = []
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in ("char", "reading", "sure") or not value:
                continue
            if field.name == "test":
                value = getattr(value, "__name__", "test").strip("_")
            elif isinstance(value, tuple):
                value = "/".join(value) if len(value) <= 6 else "/".join(value[:6]) + "/…"
            parts.append(f"{field.name}={value}" if value is not True else field.name)
        return f"{self.char}→{self.reading}" + (f" ({', '.join(parts)})" if parts else "")


_HAN_ONLY = re.compile(f"[{HAN}]+")


def flat(text: str) -> str:
    """Context text: punctuation and spaces become the clause boundary mark."""
    if _HAN_ONLY.fullmatch(text):  # most words: nothing to replace
        return text
    return "".join(BOUNDARY if c.isspace() or unicodedata.category(c)[0] in "PS" else c for c in text)
