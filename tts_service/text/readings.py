"""Inline readings in article text: ``行{háng}`` or ``银行{yin2 hang2}`` sets how the characters just before
the braces are read, in that one place; the page shows only the characters.

The syntax: braces holding pinyin syllables (tone marks or tone digits 1-5; none, or 5, is the neutral
tone; ü as ü or v), straight after as many Han characters. Braces holding anything else are text. A
backslash before a brace, ``\\{``, writes the brace itself and never starts a reading. Braces after
anything but a Han character are text too.
"""

from __future__ import annotations

import functools
import re

from pypinyin.contrib.tone_convert import to_tone3

from tts_service.errors import InvalidInput
from tts_service.text.markup import Kind, Marked, Span, is_han

# Pinyin-like braces: Latin letters (with tone marks and ü), tone digits, spaces, apostrophes.
_BRACES = re.compile(r"(\\?)\{([a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüê0-9' ]{1,120})\}|\\\{")
_LETTER = re.compile(r"[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüê]")
MAX_SYLLABLES = 20


@functools.cache
def valid_syllables() -> frozenset[str]:
    """Every toned syllable (tone3, 5 = neutral, ü as v) that some character has in pypinyin's dictionary,
    with every syllable also allowed in the neutral tone."""
    from pypinyin.pinyin_dict import pinyin_dict

    found = {to_tone3(r, neutral_tone_with_five=True) for v in pinyin_dict.values() for r in v.split(",")}
    return frozenset(found | {s.rstrip("12345") + "5" for s in found})


def syllable(written: str) -> str:
    """One syllable as tone3 (``háng``, ``hang2`` → ``hang2``; ``ma`` → ``ma5``; ``lǜ``, ``lü4`` → ``lv4``);
    InvalidInput if it is no Mandarin syllable."""
    text = written.strip().lower().replace("ü", "v").replace("u:", "v")
    if text and text[-1] not in "12345":
        text = to_tone3(text, neutral_tone_with_five=True)  # tone marks; none at all is the neutral tone
        text = text if text[-1:] in tuple("12345") else text + "5"
    if text not in valid_syllables():
        raise InvalidInput(f"{written!r} is not a pinyin syllable (write hang2 or háng)")
    return text


def syllables(written: str) -> tuple[str, ...]:
    """Space-separated syllables (``yin2 hang2``), each as `syllable` reads it."""
    parts = written.replace("'", " ").split()
    if not 1 <= len(parts) <= MAX_SYLLABLES:
        raise InvalidInput(f"a reading has 1 to {MAX_SYLLABLES} syllables, got {len(parts)}: {written!r}")
    return tuple(syllable(p) for p in parts)


def parse(paragraph: str) -> Marked:
    """One paragraph of article text → its display text and reading spans; InvalidInput for a reading that
    names no syllable, or more syllables than Han characters stand before it."""
    return _scan(paragraph)[0]


# Where a reading's braces stand in the source: [start, end) of "{…}", with the span it gives.
_Braces = tuple[Span, int, int]


def _scan(paragraph: str) -> tuple[Marked, list[int], list[_Braces]]:
    """`parse`, with where each display character stands in the source and where each reading's braces do
    (for `set_reading`, which must edit the source at exactly one display character)."""
    display: list[str] = []
    spans: list[Span] = []
    where: list[int] = []  # the source index of each display character
    braces: list[_Braces] = []
    at, length = 0, 0  # where the source was consumed to; the display text's length so far
    for match in _BRACES.finditer(paragraph):
        before = paragraph[at : match.start()]
        display.append(before)
        where.extend(range(at, match.start()))
        length += len(before)
        at = match.end()
        if match[0] == "\\{" or match[1]:  # an escaped brace is text, without its backslash
            literal = match[0][1:]
            display.append(literal)
            where.extend(range(match.start() + 1, match.end()))
            length += len(literal)
            continue
        shown = "".join(display)
        if not _LETTER.search(match[2]) or not (shown and is_han(shown[-1])):
            display.append(match[0])  # {1}, A{b}: not a reading
            where.extend(range(match.start(), match.end()))
            length += len(match[0])
            continue
        spans.append(_reading(shown, match[0], syllables(match[2])))
        braces.append((spans[-1], match.start(), match.end()))
    display.append(paragraph[at:])
    where.extend(range(at, len(paragraph)))
    return Marked("".join(display), tuple(spans)), where, braces


def set_reading(paragraph: str, index: int, read: str) -> str:
    """The paragraph's source with the display character at ``index`` (a Han character) read ``read`` there:
    the syllable changed inside a reading that already covers it, else ``{read}`` written straight after
    it. InvalidInput if that character is not Han or ``read`` is no syllable."""
    marked, where, braces = _scan(paragraph)
    read = syllable(read)
    if not (0 <= index < len(marked.display) and is_han(marked.display[index])):
        raise InvalidInput(f"character {index} of the paragraph is not a Han character")
    for span, start, end in braces:
        if span.start <= index < span.end:
            han = [i for i in range(span.start, span.end) if is_han(marked.display[i])]
            said = span.value.split()
            said[han.index(index)] = read
            return f"{paragraph[:start]}{{{' '.join(said)}}}{paragraph[end:]}"
    after = where[index] + 1
    return f"{paragraph[:after]}{{{read}}}{paragraph[after:]}"


def _reading(shown: str, written: str, read: tuple[str, ...]) -> Span:
    """The span of the len(read) Han characters that end ``shown``."""
    start = len(shown)
    while start > 0 and len(shown) - start < len(read) and is_han(shown[start - 1]):
        start -= 1
    if len(shown) - start < len(read):
        has = len(shown) - start
        raise InvalidInput(
            f"the reading {written} gives {len(read)} syllable(s) but {has} Han character(s) stand before it;"
            " write \\{ for a brace that is text"
        )
    return Span(start, len(shown), Kind.READING, " ".join(read))


def strip(paragraph: str) -> str:
    """The display text of a paragraph: readings removed, escapes resolved."""
    return parse(paragraph).display


@functools.cache
def _homophones() -> dict[str, str]:
    """For each toned syllable, a common character that has that reading and no other, to say it through
    engines that take only plain text. The most frequent in jieba's dictionary wins."""
    from pypinyin.pinyin_dict import pinyin_dict

    frequency = _char_frequency()
    best: dict[str, tuple[int, str]] = {}
    for code, readings in pinyin_dict.items():
        if "," in readings:
            continue
        char, read = chr(code), to_tone3(readings, neutral_tone_with_five=True)
        score = frequency.get(char, 0)
        if score and score > best.get(read, (0, ""))[0]:
            best[read] = (score, char)
    return {read: char for read, (_, char) in best.items()}


def _char_frequency() -> dict[str, int]:
    """Single-character word frequencies from jieba's dictionary (no segmenter is loaded)."""
    import jieba

    frequency = {}
    with jieba.get_dict_file() as lines:  # the dictionary jieba ships, opened in binary
        for line in lines:
            word, count, *_ = line.decode("utf-8").split(" ")
            if len(word) == 1:
                frequency[word] = int(count)
    return frequency


def homophone(char: str, read: str) -> str:
    """``char`` as plain text that an engine reads as ``read``: itself if that is its only reading, else a
    common character read only so; itself if there is none (most neutral tones)."""
    from pypinyin.pinyin_dict import pinyin_dict

    own = pinyin_dict.get(ord(char), "")
    if "," not in own and own and to_tone3(own, neutral_tone_with_five=True) == read:
        return char
    return _homophones().get(read, char)
