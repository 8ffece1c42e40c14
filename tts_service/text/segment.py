"""Split article text into paragraphs, sentences and engine-sized chunks.

Everything here is lossless: joining the pieces gives back the input exactly, so the page can
highlight the text that is being read and audio can be mapped back to the words it says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["Chunk", "Sentence", "chunks", "paragraphs", "sentences"]

# Always end a sentence; a run of them ("……", "！？", "?!") stays together.
_STRONG_ENDS = frozenset("。！？；…⋯｡!?;")
# "." is only a terminator in the right context (see _dot_ends), so 3.14 and U.S.A stay whole.
_ENDS = _STRONG_ENDS | {"."}
# Closing quotes and brackets after a terminator belong to the sentence they close.
_CLOSERS = frozenset("”’」』）)】》〉〕〗〙〛］]｝}»›＂＇")
# ASCII quotes both open and close, so they need context (see _closes).
_ASCII_QUOTES = frozenset("\"'")
# Soft marks for cutting an over-long sentence: after these ("’" is left out: it is also an apostrophe) ...
_CUT_AFTER = frozenset("，、：,:—–-”」』）)】》〉〕〗〙〛］]")
# ... and before these, so an opening bracket or quote starts the next piece.
_CUT_BEFORE = frozenset("（(“「『【《〈〔[")
# Between two digits these are part of a number: 1,024  14:30  3.5  2019-2020  2020/01/17.
_NUMBER_JOINERS = frozenset(",.:-–/")
# Invisible characters that scraped lines often start with (a UTF-8 BOM, zero-width spaces).
_INVISIBLE = "\ufeff\u200b"
# A sentence so far made only of a list number ("1.", " 12.") is the start of a numbered item.
_LIST_NUMBER = re.compile(r"\s*[0-9]{1,3}\.")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a paragraph, with the whitespace that follows it."""

    text: str  # exact slice of the paragraph, including trailing whitespace
    start: int  # offset in the paragraph


@dataclass(frozen=True)
class Chunk:
    """One unit of synthesis: whole sentences, or one piece of an over-long sentence."""

    text: str  # exact concatenation of its pieces
    sentences: tuple[int, ...]  # indices (within the paragraph) of the sentences this chunk covers


def paragraphs(text: str) -> list[str]:
    """Non-empty lines of the text, stripped (each line is a paragraph; blank lines are dropped)."""
    # splitlines() already treats "\r\n" and a lone "\r" as one line break.
    stripped = (line.strip().strip(_INVISIBLE).strip() for line in text.splitlines())
    return [line for line in stripped if line]


def sentences(paragraph: str) -> list[Sentence]:
    """Split a paragraph into sentences; ''.join(s.text) == paragraph always."""
    found: list[Sentence] = []
    start = i = 0
    while i < len(paragraph):
        if paragraph[i] not in _ENDS:
            i += 1
            continue
        run_end = i
        while run_end < len(paragraph) and paragraph[run_end] in _ENDS:
            run_end += 1
        if _STRONG_ENDS.intersection(paragraph[i:run_end]) or _dot_ends(paragraph, run_end, start):
            run_end = _sentence_tail(paragraph, run_end, start)
            found.append(Sentence(paragraph[start:run_end], start))
            start = run_end
        i = run_end  # skip the whole run, so a long "....." is scanned once
    if start < len(paragraph):
        found.append(Sentence(paragraph[start:], start))
    return found


def chunks(paragraph: str, max_chars: int) -> list[Chunk]:
    """Group whole sentences into chunks of at most max_chars; split over-long sentences."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    result: list[Chunk] = []
    texts: list[str] = []
    indices: list[int] = []
    size = 0
    for index, sentence in enumerate(sentences(paragraph)):
        if size + len(sentence.text) <= max_chars:
            texts.append(sentence.text)
            indices.append(index)
            size += len(sentence.text)
            continue
        if texts:
            result.append(Chunk("".join(texts), tuple(indices)))
        texts, indices, size = [], [], 0
        if len(sentence.text) <= max_chars:
            texts, indices, size = [sentence.text], [index], len(sentence.text)
        else:
            # Pieces stand alone: packing a neighbour onto a piece would hide the sentence break.
            result.extend(Chunk(piece, (index,)) for piece in _pieces(sentence.text, max_chars))
    if texts:
        result.append(Chunk("".join(texts), tuple(indices)))
    return result


def _dot_ends(text: str, after: int, start: int) -> bool:
    """Whether a run of "." ending at `after` ends a sentence (not 5.2%, casweb@cashq.ac.cn, U.S.A)."""
    if after == len(text):
        return True
    if _LIST_NUMBER.fullmatch(text, start, after):
        return False  # "1. 第一条内容。": a numbered item's number belongs to its first sentence
    nxt = text[after]
    if nxt in _ASCII_QUOTES:
        return _closes(text, after, text.count(nxt, start, after) % 2 == 1)
    return nxt.isspace() or _is_cjk(nxt) or nxt in _CLOSERS


def _sentence_tail(text: str, end: int, start: int) -> int:
    """Extend a sentence end over closing quotes, further terminators ("。”。") and whitespace."""
    # Track which ASCII quotes are open as we go, so a long run of quotes is not recounted each time.
    opened = {quote: text.count(quote, start, end) % 2 == 1 for quote in _ASCII_QUOTES}
    while end < len(text):
        char = text[end]
        if char in _ASCII_QUOTES:
            if not _closes(text, end, opened[char]):
                break
            opened[char] = not opened[char]
        elif char not in _ENDS and char not in _CLOSERS:
            break
        end += 1
    while end < len(text) and text[end].isspace():
        end += 1
    return end


def _closes(text: str, at: int, opened: bool) -> bool:
    """Whether the ASCII quote at `at` closes the current sentence rather than opening the next one."""
    # A quote left open in this sentence closes; otherwise only a quote that is not followed by
    # a word can be closing (他说。"你好" opens the next sentence).
    return opened or at + 1 == len(text) or not text[at + 1].isalnum()


def _is_cjk(char: str) -> bool:
    """Whether a character is CJK script or CJK/fullwidth punctuation (not a fullwidth letter or digit)."""
    code = ord(char)
    if 0xFF00 <= code <= 0xFFEF:
        return not char.isalnum()
    return 0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3FFFF


def _pieces(text: str, max_chars: int) -> list[str]:
    """Cut an over-long sentence into pieces of at most max_chars."""
    pieces: list[str] = []
    content_end = len(text.rstrip())  # trailing whitespace should not count as a "piece"
    start = 0
    while len(text) - start > max_chars:
        end = _cut(text, start, max_chars, content_end)
        pieces.append(text[start:end])
        start = end
    pieces.append(text[start:])
    return pieces


def _cut(text: str, start: int, max_chars: int, content_end: int) -> int:
    """Where the piece starting at `start` should end; the caller guarantees more than max_chars remain."""
    limit = start + max_chars
    # Prefer pieces of at least a quarter of the limit on both sides of the cut; a one-character
    # piece reads badly, but a natural pause matters more, so a tiny piece at a soft mark still wins
    # over a cut in the middle of a phrase.
    least = max(1, max_chars // 4)
    roomy = range(min(limit, content_end - least), start + least - 1, -1)
    anywhere = range(limit, start, -1)
    tiers: Iterable[tuple[range, Callable[[str, int], bool]]] = (
        (roomy, _is_soft),
        (anywhere, _is_soft),
        (roomy, _is_safe),
        (anywhere, _is_safe),
        (anywhere, _outside_word),
    )
    for positions, acceptable in tiers:
        for cut in positions:
            if acceptable(text, cut):
                return cut
    return limit  # one giant word: nothing better than a hard cut


def _is_soft(text: str, cut: int) -> bool:
    """Whether cutting before text[cut] falls at a pause: after "，", ":", "—" or a space, or before "（"."""
    prev, nxt = text[cut - 1], text[cut]
    if prev == nxt and prev in "—–-":
        return False  # keep "——" together
    at_mark = prev in _CUT_AFTER or nxt in _CUT_BEFORE or (prev.isspace() and not nxt.isspace())
    return at_mark and _is_safe(text, cut)


def _is_safe(text: str, cut: int) -> bool:
    """Whether cutting before text[cut] keeps Latin words and numbers (1,024  14:30  3.5) whole."""
    return _outside_word(text, cut) and not _inside_number(text, cut)


def _outside_word(text: str, cut: int) -> bool:
    """Whether cutting before text[cut] is not inside a run of ASCII letters and digits."""
    return not (_is_word_char(text[cut - 1]) and _is_word_char(text[cut]))


def _inside_number(text: str, cut: int) -> bool:
    """Whether cutting before text[cut] would separate a digit from a joiner between two digits."""
    prev, nxt = text[cut - 1], text[cut]
    if prev in _NUMBER_JOINERS and cut >= 2 and _is_digit(text[cut - 2]) and _is_digit(nxt):
        return True
    return nxt in _NUMBER_JOINERS and cut + 1 < len(text) and _is_digit(prev) and _is_digit(text[cut + 1])


def _is_word_char(char: str) -> bool:
    """Whether a character is an ASCII letter or digit."""
    return char.isascii() and char.isalnum()


def _is_digit(char: str) -> bool:
    """Whether a character is an ASCII digit."""
    return "0" <= char <= "9"
