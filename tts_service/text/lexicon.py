"""Pronunciation lexicon: editors' written → spoken substitutions, applied before normalisation.

A spoken form may set readings as article text does (`readings`): ``银行{yin2 hang2}``, or ``行{hang2}`` for
one character of the word. They become reading marks (`marks`): the local voice takes the pinyin, other
engines a character read that way (`marks.plain`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, Field, field_validator

from tts_service.errors import InvalidInput
from tts_service.lru import Args, cached, deep_size
from tts_service.text import marks, readings
from tts_service.text.unicode import check_text

# Private-use characters around a lexicon's spoken forms, when asked for: normalisation passes them through
# and `pinyin.lexicon_tokens` takes them out; no engine ever sees them.
MARKS = ("\ue000", "\ue001")


@dataclass(frozen=True)
class Lexicon:
    """An immutable set of entries; hashable, so plans can be cached per lexicon."""

    entries: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, entries: Mapping[str, str]) -> Lexicon:
        """The lexicon of ``entries``: the very object of the previous call if they are the same, so that
        every plan cached with it shares one copy (read from the store, each call's would be its own)."""
        global _latest
        lexicon = cls(tuple(sorted(entries.items())))
        if lexicon != _latest:
            _latest = lexicon
        return _latest

    def apply(self, text: str, marked: bool = False) -> str:
        """Replace every written form by its spoken form, longest match first, in one pass.

        ``marked`` puts each spoken form between `MARKS`, for `pinyin.lexicon_tokens`, which says where
        readings came from; marks already in the text are dropped first (they are silent anyway)."""
        start, end = MARKS if marked else ("", "")
        if marked:
            text = text.replace(start, "").replace(end, "")
        if not self.entries:
            return text
        pattern, table = _compile(self.entries)
        return pattern.sub(lambda m: start + table[m.group(0)] + end, text)


_latest = Lexicon()


class LexiconEntry(BaseModel):
    """One entry as editors submit it: a written form and how to say it."""

    written: str = Field(min_length=1, max_length=100)
    spoken: str = Field(min_length=1, max_length=200)

    @field_validator("written", "spoken")
    @classmethod
    def _one_line(cls, value: str) -> str:
        value = check_text(value).strip()
        if not value or any(c in value for c in "\r\n"):
            raise ValueError("must be non-empty text on one line")
        return value

    @field_validator("spoken")
    @classmethod
    def _readings(cls, value: str) -> str:
        """Readings in the spoken form must name syllables (`readings.parse`), as in article text."""
        try:
            readings.parse(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return value


def rendered(spoken: str) -> str:
    """A spoken form as the text it puts in: its readings as reading marks (an entry stored before readings
    were checked, whose braces do not parse, stays as written)."""
    if "{" not in spoken:
        return spoken
    try:
        marked = readings.parse(spoken)
    except InvalidInput:
        return spoken
    return marks.marked(marked.display, marked.spans)


def _edge(written: str, at_start: bool) -> str:
    """A Latin or digit edge must not sit inside a longer word: "AI" is not in "CHAIN"."""
    char = written[0] if at_start else written[-1]
    if char.isascii() and char.isalnum():
        return r"(?<![A-Za-z0-9])" if at_start else r"(?![A-Za-z0-9])"
    return ""


def _compiled_size(args: Args, compiled: tuple[re.Pattern[str], dict[str, str]]) -> int:
    return deep_size(args, compiled) + sys.getsizeof(compiled[0].pattern)  # the pattern's with its program


# A lexicon of 5,000 long entries compiles to about 3 MB, a typical one to well under 1 MB.
@cached(8 * 1024 * 1024, _compiled_size)
def _compile(entries: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    ordered = sorted((w for w, _ in entries), key=len, reverse=True)
    alternatives = (_edge(w, True) + re.escape(w) + _edge(w, False) for w in ordered)
    pattern = re.compile("|".join(alternatives))
    # The re module keeps its last 512 patterns too: each edit of the lexicon would leave one there.
    re.purge()
    return pattern, {written: rendered(spoken) for written, spoken in entries}
