"""Marked text: what a page shows (the display text) and, over spans of it, how those spans are said.

Inline readings (`readings`) and SSML (`ssml`) both parse into this, one paragraph at a time; planning cuts
the display text into chunks as before and turns the spans inside each chunk into its spoken form (`marks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from tts_service.text.unicode import HAN

HAN_CHAR = re.compile(f"[{HAN}]")


class Kind(StrEnum):
    """What a span sets."""

    READING = "reading"  # value: tone3 pinyin, one syllable per Han character of the span ("yin2 hang2")
    SPOKEN = "spoken"  # value: the text to say instead of the span's display text (<sub>, <say-as>)
    RATE = "rate"  # value: a speed change in percent, "-50" to "100" (<prosody rate>)
    BREAK = "break"  # value: a pause in milliseconds; start == end (<break>)


@dataclass(frozen=True)
class Span:
    """[start, end) of the display text, and what it sets there."""

    start: int
    end: int
    kind: Kind
    value: str


@dataclass(frozen=True)
class Marked:
    """One paragraph: its display text and its spans, in order of ``start``."""

    display: str
    spans: tuple[Span, ...] = ()

    def within(self, start: int, end: int) -> tuple[Span, ...]:
        """The spans over [start, end) of the display text (a piece of this paragraph), counted from
        ``start``. A break at the paragraph's very end goes with its last piece. A span that runs past the
        piece is cut: a reading keeps each character's syllable, a rate holds on both sides, and a spoken
        form is said once, with the piece it starts in (the rest of its display text is silent)."""
        inside = []
        for span in self.spans:
            if span.kind == Kind.BREAK:
                if start <= span.start < end or span.start == end == len(self.display):
                    inside.append(Span(span.start - start, span.start - start, span.kind, span.value))
                continue
            if span.end <= start or span.start >= end:
                continue
            lo, hi = max(span.start, start), min(span.end, end)
            value = span.value
            if span.kind == Kind.READING:
                value = _syllables_of(self.display, span, lo, hi)
            elif span.kind == Kind.SPOKEN and span.start < start:
                value = ""
            inside.append(Span(lo - start, hi - start, span.kind, value))
        return tuple(inside)


def is_han(char: str) -> bool:
    """A CJK ideograph: a character that takes one syllable of a reading."""
    return bool(HAN_CHAR.fullmatch(char))


def _syllables_of(display: str, span: Span, lo: int, hi: int) -> str:
    """The syllables of a reading span that belong to the Han characters in [lo, hi)."""
    syllables = span.value.split()
    before = sum(is_han(c) for c in display[span.start : lo])
    count = sum(is_han(c) for c in display[lo:hi])
    return " ".join(syllables[before : before + count])
