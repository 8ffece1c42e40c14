"""Syllables → the acoustic model's symbols (Baker style) → ids.

Symbols: ``sil`` at both ends, an initial (``^`` for none) and a toned final per syllable, and prosody
marks between syllables: ``#0`` inside a word, ``#1`` between words, ``#2``/``#3`` at punctuation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from pypinyin.contrib.tone_convert import to_finals, to_initials

from tts_service.text.pinyin import Break, Token

log = logging.getLogger(__name__)
_MARK_FOR_BREAK = {1: "#2", 2: "#3", 3: "#3"}
# Syllables with no initial+final split in the training data: read as the nearest ones that have one.
_FALLBACK = {"n": "en", "ng": "en", "m": "mu", "hm": "hen", "hng": "heng", "r": "er", "ê": "ei", "yo": "you"}


def split_syllable(pinyin: str, table: Mapping[str, Sequence[str]]) -> tuple[str, str] | None:
    """``zhong1`` → (``zh``, ``ong1``), using the model's own table; None if it cannot be read."""
    base, tone = pinyin[:-1], pinyin[-1]
    base = base if base in table else _FALLBACK.get(base, base)
    if base in table:
        initial, final = table[base]
        return initial, final + tone
    initial, final = to_initials(base, strict=True), to_finals(base, strict=True)
    if initial and final:
        return initial, final + tone
    return None


def symbols(tokens: Sequence[Token], table: Mapping[str, Sequence[str]]) -> list[str]:
    """The symbol sequence for one model input."""
    return [symbol for symbol, _ in owned_symbols(tokens, table)]


def owned_symbols(
    tokens: Sequence[Token], table: Mapping[str, Sequence[str]]
) -> list[tuple[str, int | None]]:
    """The symbol sequence for one model input, each with the index in ``tokens`` of the syllable it says
    (None for silence and prosody marks): what the model's durations per symbol are timed against."""
    out: list[tuple[str, int | None]] = [("sil", None)]
    pending: str | None = None  # the mark to put before the next syllable
    last_word: int | None = None
    for index, token in enumerate(tokens):
        if isinstance(token, Break):
            mark = _MARK_FOR_BREAK[token.strength]
            pending = mark if pending is None or mark > pending else pending
            continue
        parts = split_syllable(token.pinyin, table)
        if parts is None:
            log.warning("no symbols for syllable %r; skipped", token.pinyin)
            continue
        if len(out) > 1:
            out.append((pending or ("#0" if token.word == last_word else "#1"), None))
        out.extend((part, index) for part in parts)
        pending, last_word = None, token.word
    out.append(("sil", None))
    return out


def ids(symbol_list: Sequence[str], symbol_to_id: Mapping[str, int]) -> list[int]:
    """Ids for symbols, ending with ``eos``; unknown symbols are skipped with a warning."""
    return [i for i, _ in owned_ids([(s, None) for s in symbol_list], symbol_to_id)]


def owned_ids(
    owned: Sequence[tuple[str, int | None]], symbol_to_id: Mapping[str, int]
) -> list[tuple[int, int | None]]:
    """`ids` of `owned_symbols`, each still with its syllable's index (``eos`` has none)."""
    result: list[tuple[int, int | None]] = []
    for symbol, owner in owned:
        if symbol in symbol_to_id:
            result.append((symbol_to_id[symbol], owner))
        else:
            log.warning("symbol %r is not in the model's table; skipped", symbol)
    result.append((symbol_to_id["eos"], None))
    return result
