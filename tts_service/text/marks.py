"""Marks in spoken text: a piece's spans (`markup.Span`) carried through the lexicon and normalisation to the
engine, inside the spoken text itself, so they are part of the cache key like every other sound change.

Each mark is private-use characters, which normalisation passes through and no engine ever sees:
``READING`` + payload + ``END`` after a Han character sets its syllable; ``BREAK`` + payload + ``END`` is
a pause in milliseconds; ``RATE`` + payload + ``END`` … ``RATE_END`` is a stretch at another speed. The
payload is ASCII shifted into the private-use area (``PAYLOAD``), so digits in it are never read as numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tts_service.text.markup import Kind, Span, is_han
from tts_service.text.readings import homophone

READING, END, BREAK, RATE, RATE_END = "\ue010", "\ue011", "\ue012", "\ue013", "\ue014"
PAYLOAD = 0xE100  # + ord(ASCII character)
MAX_BREAK_MS = 10_000
_PAYLOAD = "[\ue120-\ue17e]+"
_MARK = re.compile(f"([{READING}{BREAK}{RATE}])({_PAYLOAD}){END}|{RATE_END}")
_READING = re.compile(f"{READING}({_PAYLOAD}){END}")
RESERVED = re.compile("[\ue010-\ue17f]")  # the characters marks are made of
ANY_MARK = re.compile(f"[{READING}{BREAK}{RATE}]{_PAYLOAD}{END}|{RATE_END}")


def _hide(text: str) -> str:
    return "".join(chr(PAYLOAD + ord(c)) for c in text)


def _show(payload: str) -> str:
    return "".join(chr(ord(c) - PAYLOAD) for c in payload)


def marked(display: str, spans: tuple[Span, ...]) -> str:
    """``display`` with its spans written in: readings after their characters, spoken forms in place of
    their text, pauses and speed changes where they stand. Ready for the lexicon and normalisation.
    Speed changes and pauses nest around the rest; of two spoken forms or readings over one character, the
    first wins (SSML nests them)."""
    read: dict[int, str] = {}
    spoken: dict[int, Span] = {}
    before: dict[int, list[str]] = {}  # marks written before the character at an index (or at the end)
    for span in spans:
        if span.kind == Kind.READING:
            han = [i for i in range(span.start, span.end) if is_han(display[i])]
            read.update((i, s) for i, s in zip(han, span.value.split(), strict=False) if i not in read)
        elif span.kind == Kind.SPOKEN:
            spoken.setdefault(span.start, span)
        elif span.kind == Kind.BREAK:
            pause = min(int(span.value), MAX_BREAK_MS)
            before.setdefault(span.start, []).append(BREAK + _hide(str(pause)) + END)
        else:
            before.setdefault(span.start, []).append(RATE + _hide(span.value) + END)
            before.setdefault(span.end, []).insert(0, RATE_END)
    out: list[str] = []
    skip_to = 0
    for i, char in enumerate(display):
        out += before.get(i, ())
        if i < skip_to:
            continue
        if i in spoken:
            out.append(f" {spoken[i].value} " if spoken[i].value else "")
            skip_to = spoken[i].end
            continue
        if RESERVED.match(char):
            continue  # a mark typed into the text would be read as one: never
        out.append(char + (READING + _hide(read[i]) + END if i in read else ""))
    out += before.get(len(display), ())
    return "".join(out)


def readings(text: str) -> tuple[str, dict[int, str]]:
    """Spoken text without its reading marks, and the syllable each marked Han character takes, by the
    character's index among the Han characters of the text."""
    found: dict[int, str] = {}
    han = 0
    out: list[str] = []
    at = 0
    for match in _READING.finditer(text):
        before = text[at : match.start()]
        han += sum(is_han(c) for c in before)
        out.append(before)
        if han:  # written straight after its character (`marked`); normalisation leaves Han text alone
            found[han - 1] = _show(match[1])
        at = match.end()
    out.append(text[at:])
    return "".join(out), found


@dataclass(frozen=True)
class Part:
    """A stretch of a chunk's spoken text said at one speed, then a pause (milliseconds)."""

    text: str
    rate: int = 0
    pause_ms: int = 0


def parts(spoken: str) -> list[Part]:
    """The stretches of ``spoken`` between pauses and speed changes, each with something to say (a stretch
    of punctuation only goes with the one before); one Part when there are no such marks."""
    result: list[Part] = []
    rates, lead = [0], 0  # the speeds in force (nested), the last one now; a pause before anything is said
    for piece in _pieces(spoken):
        if isinstance(piece, str):
            if _SAYS.search(readings(piece)[0]) or not result:
                result.append(Part(piece, rates[-1]))
            else:
                last = result[-1]
                result[-1] = Part(last.text + piece, last.rate, last.pause_ms)
        elif piece[0] == BREAK:
            if result:
                last = result[-1]
                result[-1] = Part(last.text, last.rate, last.pause_ms + piece[1])
            else:
                lead += piece[1]
        elif piece[0] == RATE:
            rates.append(piece[1])
        elif len(rates) > 1:
            rates.pop()
    if lead:
        result.insert(0, Part("", 0, lead))
    return [p for p in result if p.text.strip() or p.pause_ms] or [Part(spoken)]


_SAYS = re.compile(r"\w")


def _pieces(spoken: str) -> list[str | tuple[str, int]]:
    """Text between marks, and (BREAK, ms), (RATE, percent) or (RATE_END, 0) for each pause or change."""
    pieces: list[str | tuple[str, int]] = []
    at = 0
    for match in _MARK.finditer(spoken):
        if match[1] == READING:
            continue  # readings stay in the text
        if spoken[at : match.start()]:
            pieces.append(spoken[at : match.start()])
        pieces.append((match[1], int(_show(match[2]))) if match[1] else (RATE_END, 0))
        at = match.end()
    if spoken[at:]:
        pieces.append(spoken[at:])
    return pieces


def plain(text: str) -> str:
    """Spoken text for an engine that takes plain text only: each marked reading becomes a character read
    that way (`readings.homophone`), and every mark goes."""
    bare, found = readings(text)
    if found:
        han = -1
        chars = []
        for c in bare:
            if is_han(c):
                han += 1
                c = homophone(c, found[han]) if han in found else c
            chars.append(c)
        bare = "".join(chars)
    return ANY_MARK.sub("", bare)
