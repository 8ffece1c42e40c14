"""The paragraphs of an SSML document as its walk finds their text, pauses and spans (`ssml` walks).

Inside a paragraph a run of XML whitespace (space, tab, newline) is formatting, not text: it becomes one
space, or none between two wide characters (Han, CJK punctuation, full-width forms), since Chinese is written
without spaces. Outside ``<p>`` a blank line ends a paragraph, as in plain article text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tts_service.text.markup import Kind, Marked, Span
from tts_service.text.unicode import HAN

_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
_WORDS = re.compile(r"[^ \t\r\n]+")
_WIDE = re.compile(f"[{HAN}\u3000-\u303f\uff00-\uffef]")


def _joined(before: str, after: str) -> bool:
    """Whitespace between these characters is no space: Chinese has none between its characters."""
    return bool(_WIDE.match(before) and _WIDE.match(after))


def collapse(text: str) -> str:
    """``text`` with XML whitespace collapsed as in a paragraph: one space, none between wide characters."""
    out: list[str] = []
    for word in _WORDS.findall(text):
        out.append(word if not out or _joined(out[-1][-1], word[0]) else " " + word)
    return "".join(out)


@dataclass
class _Rate:
    """A ``<prosody rate>`` in force, and where its text starts in the paragraph being built."""

    value: int
    order: int
    start: int | None = None  # None until it shows a character in this paragraph


class Builder:
    """Paragraphs, as the walk through the document finds their text, pauses and spans."""

    def __init__(self) -> None:
        self.paragraphs: list[Marked] = []
        self.rates: list[_Rate] = []  # open <prosody>, outermost first
        self.order = 0  # document order, to sort spans that start together
        self.carried: list[tuple[int, int, Span]] = []  # pauses before the first paragraph's text
        self._reset()

    def _reset(self) -> None:
        self.text: list[str] = []
        self.length = 0
        self.last = ""  # the last character shown in this paragraph
        self.space = False  # whitespace since then: a space before the next word unless `_joined`
        self.spans: list[tuple[int, int, Span]] = []  # (start, order, span)

    def _next(self) -> int:
        self.order += 1
        return self.order

    def add_text(self, raw: str, split: bool) -> None:
        """Text of the document; with ``split`` (outside <p>), a blank line ends a paragraph."""
        for i, piece in enumerate(_BLANK_LINE.split(raw) if split else [raw]):
            if i:
                self.end_paragraph()
            self._words(piece)

    def separate(self) -> None:
        """A word boundary (around <s>): whitespace, if nothing else stands there."""
        self.space = True

    def _words(self, text: str) -> int | None:
        """Show ``text``, its whitespace collapsed; where its first character went (None: it had none)."""
        first = None
        at = 0
        for match in _WORDS.finditer(text):
            self.space = self.space or match.start() > at
            at = match.end()
            start = self._show(match[0])
            first = start if first is None else first
        self.space = self.space or at < len(text)
        return first

    def _show(self, word: str) -> int:
        if self.space and self.length and not _joined(self.last, word[0]):
            self.text.append(" ")
            self.length += 1
        self.space = False
        for rate in self.rates:
            rate.start = self.length if rate.start is None else rate.start
        self.text.append(word)
        self.length += len(word)
        self.last = word[-1]
        return self.length - len(word)

    def atom(self, content: str, kind: Kind, value: str) -> None:
        """Text shown as it is and said as ``value`` says (<say-as>, <sub>, <phoneme>)."""
        order = self._next()
        start = self._words(content)
        if start is not None:
            self.spans.append((start, order, Span(start, self.length, kind, value)))

    def pause(self, ms: int) -> None:
        """A <break> where the text has got to."""
        self.spans.append((self.length, self._next(), Span(self.length, self.length, Kind.BREAK, str(ms))))

    @property
    def rate(self) -> int:
        """The speed change in force."""
        return self.rates[-1].value if self.rates else 0

    def open_rate(self, value: int) -> None:
        """A <prosody rate> starts."""
        self.rates.append(_Rate(value, self._next()))

    def close_rate(self) -> None:
        """The innermost <prosody rate> ends."""
        self._close(self.rates.pop())

    def _close(self, rate: _Rate) -> None:
        if rate.start is not None:
            self.spans.append(
                (rate.start, rate.order, Span(rate.start, self.length, Kind.RATE, str(rate.value)))
            )
            rate.start = None

    def end_paragraph(self) -> None:
        """The paragraph so far is one; pauses without text go to the end of the one before (or, before
        the first, to the start of the next)."""
        for rate in self.rates:
            self._close(rate)  # it goes on in the next paragraph, from its first character
        if self.length:
            spans = sorted(self.carried + self.spans, key=lambda s: s[:2])
            self.paragraphs.append(Marked("".join(self.text), tuple(span for _, _, span in spans)))
            self.carried = []
        elif self.spans and self.paragraphs:
            last = self.paragraphs[-1]
            end = len(last.display)
            pauses = tuple(Span(end, end, span.kind, span.value) for _, _, span in sorted(self.spans))
            self.paragraphs[-1] = Marked(last.display, last.spans + pauses)
        else:
            self.carried += self.spans
        self._reset()

    def finish(self) -> list[Marked]:
        """Every paragraph, the last one ended."""
        self.end_paragraph()
        return self.paragraphs
