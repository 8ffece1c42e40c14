"""What an editor proofreads in one piece of text: each display character's pinyin, how each polyphone's
reading was decided, its other readings, and which readings are flagged (the unsure ones).

Pure: it reads a piece through `pinyin.lexicon_tokens`, the path of ``tts-service pinyin --explain``, and
maps the spoken syllables back to the display characters. Only a display Han character that is itself
spoken gets a syllable: "2019年" is spoken 二零一九年, so only 年 has one, and the spoken form says the rest.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass

from pypinyin import Style, pinyin
from pypinyin.contrib.tone_convert import to_tone

from tts_service.errors import InvalidInput
from tts_service.text import lexicon, marks
from tts_service.text.markup import is_han
from tts_service.text.pinyin import Syllable, lexicon_tokens, words
from tts_service.text.polyphones import Decision
from tts_service.text.readings import syllable


@dataclass(frozen=True)
class CharReading:
    """One display character: its syllable if it is spoken as itself, and for a polyphone the decision."""

    index: int  # in the piece's display text
    char: str
    syllable: str | None  # tone3, 5 = neutral; None where the character has no syllable of its own
    decision: Decision | None = None
    options: tuple[str, ...] = ()  # a polyphone's readings (tone3), its own first

    @property
    def pinyin(self) -> str | None:
        """The syllable with tone marks, for display (neutral: no mark)."""
        return None if self.syllable is None else marked_tone(self.syllable)

    @property
    def flagged(self) -> bool:
        """A reading an editor should check: a default guess, or a rule or phrase that is not sure."""
        return self.decision is not None and not self.decision.sure


@dataclass(frozen=True)
class PieceReadings:
    """A piece of display text as it is read: its characters and, where it differs, its spoken form."""

    display: str
    spoken: str | None
    chars: tuple[CharReading, ...]

    @property
    def flagged(self) -> tuple[CharReading, ...]:
        return tuple(c for c in self.chars if c.flagged)

    @property
    def polyphones(self) -> tuple[CharReading, ...]:
        return tuple(c for c in self.chars if c.decision is not None)


def marked_tone(tone3: str) -> str:
    """``hang2`` → ``háng``; ``ma5`` → ``ma``; ``lv4`` → ``lǜ``."""
    return str(to_tone(tone3))


@functools.cache
def readings_of(char: str) -> tuple[str, ...]:
    """Every reading pypinyin knows for a character (heteronyms), tone3 with 5 for the neutral tone."""
    found = pinyin(char, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)[0]
    return tuple(dict.fromkeys(r for r in found if r[-1:].isdigit()))


def spoken_text(marked: str) -> str:
    """A marked spoken form (`planning.spoken_form(marked=True)`) as it is said: no marks of any kind."""
    start, end = lexicon.MARKS
    return marks.ANY_MARK.sub("", marked.replace(start, "").replace(end, ""))


def read(display: str, marked: str) -> PieceReadings:
    """A piece's readings, given its display text and its marked spoken form."""
    spoken_syllables = [t for t in lexicon_tokens(marked) if isinstance(t, Syllable) and is_han(t.text)]
    han = [i for i, c in enumerate(display) if is_han(c)]
    own: dict[int, Syllable] = {}
    matcher = difflib.SequenceMatcher(
        None, [display[i] for i in han], [s.text for s in spoken_syllables], autojunk=False
    )
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            own[han[block.a + k]] = spoken_syllables[block.b + k]
    chars = []
    for i, char in enumerate(display):
        said = own.get(i)
        if said is None:
            chars.append(CharReading(i, char, None))
            continue
        options: tuple[str, ...] = ()
        if said.decision is not None:
            options = (said.pinyin, *(r for r in readings_of(char) if r != said.pinyin))
        chars.append(CharReading(i, char, said.pinyin, said.decision, options))
    spoken = spoken_text(marked)
    differs = " ".join(display.split()) != spoken
    return PieceReadings(display, spoken if differs else None, tuple(chars))


def lexicon_entry(display: str, index: int, read_as: str) -> tuple[str, str]:
    """A lexicon entry that reads the Han character at ``index`` as ``read_as`` wherever its word is
    written: (written, spoken), the spoken form with the reading in braces after the character
    (``银行`` → ``银行{hang2}``). A word of one character takes its neighbour along (得走 → 得{dei3}走):
    a lone character everywhere would be too much. InvalidInput for a bad syllable or no Han character."""
    read_as = syllable(read_as)
    if not (0 <= index < len(display) and is_han(display[index])):
        raise InvalidInput(f"character {index} is not a Han character")
    start = 0
    for word in words(display):
        if start <= index < start + len(word):
            break
        start += len(word)
    end = start + len(word)
    if end - start < 2:
        if index + 1 < len(display) and is_han(display[index + 1]):
            end = index + 2
        elif index > 0 and is_han(display[index - 1]):
            start = index - 1
    written = display[start:end]
    at = index - start + 1
    return written, f"{written[:at]}{{{read_as}}}{written[at:]}"
