"""Where the pieces of a chunk's spoken text stand: among its speakable characters, in the text an engine
was handed, and in the display text the page shows. Pure functions, for word timings (`timing`).

A *speakable* character is a letter, digit or Han character (never a mark from `text.marks`, which are
private-use characters, nor punctuation or space). Every form of one chunk's spoken text that an engine is
handed (`marks.plain` swaps a character for a homophone and drops marks) has the same speakable characters
in the same order, so their ordinals are the common ground.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence

from tts_service.text.markup import is_han

_SPEAKABLE = re.compile(r"[^\W_]")
_LATIN = re.compile(r"[A-Za-z]+|[0-9]+")
_VOWELS = re.compile(r"[aeiouy]+", re.IGNORECASE)
RESYNC = 12  # how far ahead `locate` looks for a word it lost
# Syllables a letter read alone takes (pinyin.LETTERS: W is dá bu liú); every other letter takes one.
_LETTER_SYLLABLES = {"F": 2, "H": 2, "L": 2, "M": 2, "R": 2, "S": 2, "W": 3, "X": 3}
# A pause after punctuation, in syllables' worth of time, for timings spread by syllable.
PAUSE_WEIGHT = {"，": 1.0, ",": 1.0, "、": 0.5, "；": 1.2, ";": 1.2, "：": 1.0, ":": 1.0}


def speakable(text: str) -> list[int]:
    """The indices of the speakable characters of ``text``."""
    return [m.start() for m in _SPEAKABLE.finditer(text)]


def _fold(char: str) -> str:
    """A character as compared: full-width forms as ASCII, letters in lower case."""
    folded = unicodedata.normalize("NFKC", char)
    return (folded if len(folded) == 1 else char).lower()


def locate(words: Sequence[str], text: str) -> list[tuple[int, int] | None]:
    """For each word an engine said, in order, the [start, end) ordinals of the speakable characters of
    ``text`` it covers; None for a word with nothing speakable or that cannot be placed.

    Words are taken in order: each covers as many speakable characters as it has, from where the last one
    ended. A word whose characters differ (a homophone the engine was handed, or a word the engine spelled
    its own way) still covers its count, unless it is found a little further on (the engine skipped
    something), which puts it there instead.
    """
    chars = [_fold(text[i]) for i in speakable(text)]
    placed: list[tuple[int, int] | None] = []
    at = 0
    for word in words:
        wanted = [_fold(c) for c in word if _SPEAKABLE.match(c)]
        if not wanted or at >= len(chars):
            placed.append(None)
            continue
        if chars[at : at + len(wanted)] != wanted:
            at = _resync(chars, wanted, at)
        end = min(at + len(wanted), len(chars))
        placed.append((at, end))
        at = end
    return placed


def _resync(chars: list[str], wanted: list[str], at: int) -> int:
    """Where ``wanted`` starts within RESYNC characters of ``at``, or ``at`` (a different spelling)."""
    for start in range(at + 1, min(len(chars), at + RESYNC + 1)):
        if chars[start : start + len(wanted)] == wanted:
            return start
    return at


def units(text: str) -> list[tuple[int, int, float]]:
    """The spoken units of ``text`` in order, as [start, end) indices and their weight in syllables: each Han
    character alone; a run of Latin letters (an acronym letter by letter, a word by its vowel groups) or of
    digits (one by one) as one unit; and each pause from a comma-like mark, weighted as the pause it makes
    (indices of a pause cover its punctuation)."""
    out: list[tuple[int, int, float]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if is_han(char):
            out.append((i, i + 1, 1.0))
            i += 1
            continue
        run = _LATIN.match(text, i)
        if run:
            out.append((i, run.end(), _syllables(run.group())))
            i = run.end()
            continue
        if char in PAUSE_WEIGHT:
            out.append((i, i + 1, PAUSE_WEIGHT[char]))
        i += 1
    return out


def _syllables(run: str) -> float:
    """How many syllables a run of letters or digits is read as."""
    if run.isdigit():
        return float(len(run))
    if run.isupper() or len(run) <= 2:
        return float(sum(_LETTER_SYLLABLES.get(c.upper(), 1) for c in run))
    return float(max(1, len(_VOWELS.findall(run))))


def owners(display: str, spoken: str) -> list[tuple[int, int] | None]:
    """For each character of ``spoken``, the [start, end) of ``display`` it says: one character for one
    where the two agree, and a whole stretch where the spoken form rewrote it (2019 → 二零一九, an acronym
    the lexicon expands); None where spoken text has no counterpart (a space, a mark)."""
    keep = [i for i, c in enumerate(spoken) if not _is_mark(c)]
    a = [_fold(c) for c in display]
    b = [_fold(spoken[i]) for i in keep]
    found: list[tuple[int, int] | None] = [None] * len(spoken)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        for k in range(b0, b1):
            if op == "equal":
                found[keep[k]] = (a0 + k - b0, a0 + k - b0 + 1)
            elif op == "replace" and not spoken[keep[k]].isspace():
                found[keep[k]] = (a0, a1)
    return found


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) == "Co"
