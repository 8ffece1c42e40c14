"""Word timings: when each stretch of a chunk's spoken text sounds in the chunk's audio, and where that
stretch stands in the display text.

Engines report what they know (`Word`: text said, start and end in their audio): the local voice from the
acoustic model's predicted durations, edge from Microsoft's WordBoundary events. `utterance.say` places
those words in the chunk's spoken text (`Timing`), or spreads the syllables over the sound where an engine
reports none. A Timing is stored with the chunk's audio record (it belongs to the audio, so to the key);
`display_marks` maps it onto a planned chunk's display text for the page, the API and captions.

Times are seconds into the chunk's MP3 as it decodes and plays (`Synthesis.duration` counts the same way).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tts_service.text import alignment

# Bump when stored timings would come out differently for the same audio: older ones are then read as
# missing (spread by syllable until the chunk is made again, or `tts-service cache backfill-marks`).
VERSION = 1
Source = Literal["model", "boundaries", "proportional"]
SOURCES: tuple[Source, ...] = ("model", "boundaries", "proportional")
MIN_COVERAGE = 0.5  # words an engine reported must place at least this share of the text, or are not used
_SAYS = re.compile(r"[^\W_]")
ANCHOR_WINDOW = 1.0  # seconds: a clause break further than this from every heard silence is spread over
_CLAUSE_BREAK = re.compile(r"[，,、；;：:。.！!？?…]")


@dataclass(frozen=True, slots=True)
class Word:
    """What an engine said and when: seconds into the audio it returned, as decoded."""

    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Mark:
    """A stretch [start, end) of the chunk's spoken text, sounding from ``at`` to ``until`` seconds."""

    start: int
    end: int
    at: float
    until: float


@dataclass(frozen=True)
class Timing:
    """A chunk's marks in reading order, and where their times come from."""

    source: Source
    marks: tuple[Mark, ...]

    def to_json(self) -> str:
        """The stored form: versioned, times in whole milliseconds."""
        rows = [[m.start, m.end, round(m.at * 1000), round(m.until * 1000)] for m in self.marks]
        return json.dumps({"v": VERSION, "source": self.source, "marks": rows}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | None) -> Timing | None:
        """A stored timing; None if there is none, or it is of another version (or unreadable)."""
        if not raw:
            return None
        try:
            data = json.loads(raw)
            if data.get("v") != VERSION or data.get("source") not in SOURCES:
                return None
            marks = tuple(Mark(int(s), int(e), a / 1000, u / 1000) for s, e, a, u in data["marks"])
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return cls(data["source"], marks)


def moved(part: Timing, text: str, onto: str, skip: int, seconds: float) -> Timing:
    """``part`` (over ``text``) as marks over ``onto``, in which ``text``'s speakable characters come after
    ``skip`` others, and ``seconds`` later (a stretch of a chunk, made on its own and joined)."""
    ordinal = {position: n for n, position in enumerate(alignment.speakable(text))}
    target = alignment.speakable(onto)
    marks: list[Mark] = []
    for mark in part.marks:
        inside = [ordinal[p] + skip for p in range(mark.start, mark.end) if p in ordinal]
        inside = [n for n in inside if n < len(target)]
        if inside:
            first, last = target[inside[0]], target[inside[-1]]
            marks.append(Mark(first, last + 1, mark.at + seconds, mark.until + seconds))
    return Timing(part.source, tuple(marks))


def joined(source: Source, parts: Sequence[Timing]) -> Timing:
    """Parts' marks (already shifted into place) as one timing, said to come from ``source``."""
    return Timing(source, tuple(m for part in parts for m in part.marks))


def from_words(words: Sequence[Word], engine_text: str, text: str, source: Source) -> Timing | None:
    """An engine's words placed in ``text`` (the spoken text that ``engine_text``, what the engine was
    handed, was made from: both have the same speakable characters); None if too little of it is placed."""
    positions = alignment.speakable(text)
    marks: list[Mark] = []
    placed = 0
    for word, where in zip(words, alignment.locate([w.text for w in words], engine_text), strict=True):
        if where is None or where[0] >= len(positions):
            continue
        first, last = positions[where[0]], positions[min(where[1], len(positions)) - 1]
        at = max(word.start, marks[-1].until if marks else 0.0)
        marks.append(Mark(first, last + 1, at, max(at, word.end)))
        placed += where[1] - where[0]
    if not positions or placed < MIN_COVERAGE * len(positions):
        return None
    return Timing(source, tuple(marks))


def proportional(text: str, start: float, end: float, pauses: Sequence[tuple[float, float]] = ()) -> Timing:
    """Marks for ``text`` spread over [start, end) seconds by syllables (pauses at commas included): for an
    engine that reports no timings, or words that could not be placed.

    ``pauses`` are the silences heard in the audio, (start, end) in seconds, in order. Each clause break in
    the text (a comma, a full stop) takes the heard silence nearest to where the spread puts it, within
    ``ANCHOR_WINDOW``; the syllables between two such breaks are spread over the sound between them, so an
    error in one clause no longer carries into the next.
    """
    pieces = alignment.units(text)
    marks: list[Mark] = []
    begin, at = 0, start
    for last, resume, silence_start, silence_end in _anchors(text, pieces, start, end, pauses):
        marks += _spread(text, pieces[begin:last], at, silence_start)
        begin, at = resume, silence_end
    marks += _spread(text, pieces[begin:], at, end)
    return Timing("proportional", tuple(marks))


def _spread(text: str, pieces: Sequence[tuple[int, int, float]], start: float, end: float) -> list[Mark]:
    """``pieces`` (of ``alignment.units``) spread over [start, end) by weight; pauses take time, no mark."""
    total = sum(weight for *_, weight in pieces) or 1.0
    span = max(0.0, end - start)
    marks: list[Mark] = []
    at = start
    for first, last, weight in pieces:
        until = at + span * weight / total
        if _SAYS.search(text[first:last]):  # a pause takes its time but is no word
            marks.append(Mark(first, last, at, until))
        at = until
    return marks


def _anchors(
    text: str,
    pieces: Sequence[tuple[int, int, float]],
    start: float,
    end: float,
    pauses: Sequence[tuple[float, float]],
) -> list[tuple[int, int, float, float]]:
    """Where heard silences cut the spread: (index of the piece after the last said before the break,
    index of the first said after it, silence start, silence end), in order."""
    heard = [(a, b) for a, b in pauses if start < a and b < end]
    if not heard:
        return []
    plain = _spread(text, pieces, start, end)
    said = [k for k, (first, last, _) in enumerate(pieces) if _SAYS.search(text[first:last])]
    cuts: list[tuple[int, int, float, float]] = []
    free = 0  # heard silences before this one are taken or passed
    for j in range(len(said) - 1):
        before, after = pieces[said[j]], pieces[said[j + 1]]
        if not _CLAUSE_BREAK.search(text[before[1] : after[0]]):
            continue
        expected = (plain[j].until + plain[j + 1].at) / 2
        best = min(range(free, len(heard)), key=lambda i: abs(sum(heard[i]) / 2 - expected), default=None)
        if best is None or abs(sum(heard[best]) / 2 - expected) > ANCHOR_WINDOW:
            continue
        cuts.append((said[j] + 1, said[j + 1], *heard[best]))
        free = best + 1
    return cuts


@dataclass(frozen=True, slots=True)
class DisplayMark:
    """A stretch [start, end) of a chunk's display text (stripped), sounding from ``at`` to ``until``."""

    start: int
    end: int
    at: float
    until: float


def display_marks(display: str, spoken: str, timing: Timing) -> list[DisplayMark]:
    """``timing`` (over ``spoken``) as marks over ``display``: contiguous, in order, covering all of it.

    Each spoken stretch goes to the display text it says; stretches that say one piece of display text
    (二零一九 for 2019) become one mark. Display text that says nothing (punctuation, spaces) joins the mark
    before it, or the first mark.
    """
    owner = alignment.owners(display, spoken)
    spans: list[list[float]] = []  # [start, end, at, until], merged while they overlap
    for mark in timing.marks:
        found = [o for o in owner[mark.start : mark.end] if o is not None]
        if not found:
            continue
        lo, hi = min(o[0] for o in found), max(o[1] for o in found)
        if spans and lo < spans[-1][1]:
            last = spans[-1]
            last[1], last[3] = max(last[1], hi), max(last[3], mark.until)
        else:
            spans.append([lo, hi, mark.at, mark.until])
    if not spans:
        return []
    out: list[DisplayMark] = []
    for i, (left, _right, begins, until) in enumerate(spans):
        start = 0 if i == 0 else int(left)
        end = len(display) if i + 1 == len(spans) else int(spans[i + 1][0])
        at = max(begins, out[-1].until if out else 0.0)
        out.append(DisplayMark(start, end, at, max(at, until)))
    return out


@functools.lru_cache(maxsize=4096)  # a manifest is asked for often; its chunks' marks change rarely
def chunk_marks(
    display: str, spoken: str, stored: str | None, duration: float, lead: float
) -> tuple[Source, tuple[DisplayMark, ...]]:
    """A chunk's marks over its (stripped) display text, from its stored timing; where there is none (audio
    made before timings were kept, or of an older version), its syllables spread over its audio after the
    ``lead`` of silence every chunk file starts with."""
    timing = Timing.from_json(stored) or proportional(spoken, min(lead, duration), duration)
    return timing.source, tuple(display_marks(display, spoken, timing))


def manifest_marks(
    text: str,
    spoken: str,
    stored: str | None,
    duration: float,
    offset: int,
    whole_start: float | None,
    lead: float,
) -> tuple[Source, list[dict[str, Any]]]:
    """A chunk's marks as manifests give them (the API's and the static site's): ``offsets`` in UTF-16 in
    its paragraph (``offset``: where the chunk's stripped text starts there), ``start``/``end`` in its own
    file, ``article_start``/``article_end`` in the whole-article file (``whole_start``: where the chunk's
    sound starts there; None until that file exists)."""
    display = text.strip()
    source, marks = chunk_marks(display, spoken, stored, duration, lead)
    shift = None if whole_start is None else whole_start - lead
    rows = []
    for mark in marks:
        a = offset + _utf16(display[: mark.start])
        b = a + _utf16(display[mark.start : mark.end])
        rows.append(
            {
                "offsets": [a, b],
                "start": round(mark.at, 3),
                "end": round(mark.until, 3),
                "article_start": None if shift is None else round(shift + mark.at, 3),
                "article_end": None if shift is None else round(shift + mark.until, 3),
            }
        )
    return source, rows


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
