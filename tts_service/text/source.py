"""Article text as editors write it → paragraphs of marked text (`markup.Marked`): plain text with inline
readings (``行{háng}``, `readings`), or SSML (`ssml`) when the article or request says so."""

from __future__ import annotations

from typing import Literal

from tts_service.text import readings, segment, ssml
from tts_service.text.markup import Marked

Format = Literal["text", "ssml"]
FORMATS: tuple[Format, ...] = ("text", "ssml")


def sniff(text: str) -> Format:
    """How a request's input is written: SSML when it starts with ``<speak>`` (after an XML declaration),
    else plain text (where inline readings work too)."""
    return "ssml" if ssml.is_ssml(text) else "text"


def paragraphs(source: str, fmt: Format = "text") -> list[Marked]:
    """The paragraphs of ``source``, each with its display text and spans; InvalidInput (or InvalidSSML)
    for markup that cannot be read."""
    if fmt == "ssml":
        return [p for p in ssml.parse(source) if p.display.strip()]
    return [readings.parse(p) for p in segment.paragraphs(source)]


def display(source: str, fmt: Format = "text") -> list[str]:
    """The paragraphs as a page shows them: no markup, no readings."""
    return [p.display for p in paragraphs(source, fmt)]
