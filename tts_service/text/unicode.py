"""Unicode hygiene for submitted text: refuse what cannot be stored or shown, drop what cannot be said."""

from __future__ import annotations

import re
import unicodedata

# Han characters, as the body of a character class: CJK unified ideographs, extension A, compatibility.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# C0/C1 controls other than tab and line breaks, which editors' text legitimately has.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def check_text(value: str) -> str:
    """``value`` unchanged, or ValueError naming the problem (pydantic turns it into a 422)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if match := _SURROGATE.search(value):
        raise ValueError(f"contains a lone surrogate (U+{ord(match.group()):04X}): not valid Unicode text")
    if match := _CONTROL.search(value):
        raise ValueError(f"contains the control character U+{ord(match.group()):04X}")
    return value


def unspeakable_removed(text: str) -> str:
    """Text without format characters (bidi marks and overrides, zero-width spaces and joiners, soft
    hyphens, BOMs): invisible on the page, they only confuse engines."""
    if text.isascii():
        return text
    return "".join(c for c in text if unicodedata.category(c) != "Cf")
