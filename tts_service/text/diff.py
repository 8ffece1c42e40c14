"""What changed between two revisions' texts: paragraphs matched first, then characters within a changed one.

Chinese has no spaces between words, so a word diff would be a sentence diff; characters it is, inside the
paragraphs that changed (``difflib``, without its junk heuristic, which would skip common characters).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from tts_service.text import segment

Op = Literal["equal", "insert", "delete"]


@dataclass(frozen=True)
class Piece:
    op: Op
    text: str


@dataclass(frozen=True)
class ChangedParagraph:
    """One paragraph that differs: its number in the newer text (None when it was removed) and its pieces."""

    number: int | None
    pieces: tuple[Piece, ...]


def _chars(old: str, new: str) -> tuple[Piece, ...]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece("equal", old[i1:i2]))
            continue
        if i2 > i1:
            pieces.append(Piece("delete", old[i1:i2]))
        if j2 > j1:
            pieces.append(Piece("insert", new[j1:j2]))
    return tuple(pieces)


def _replaced(old: list[str], new: list[str], start: int) -> list[ChangedParagraph]:
    """Pair replaced paragraphs one to one (a character diff each); what is left over is removed or added."""
    changed = []
    for k in range(max(len(old), len(new))):
        before, after = (old[k] if k < len(old) else None), (new[k] if k < len(new) else None)
        if after is None:
            changed.append(ChangedParagraph(None, (Piece("delete", before or ""),)))
        elif before is None:
            changed.append(ChangedParagraph(start + k + 1, (Piece("insert", after),)))
        else:
            changed.append(ChangedParagraph(start + k + 1, _chars(before, after)))
    return changed


def text_diff(old: str, new: str) -> list[ChangedParagraph]:
    """The paragraphs of ``new`` that differ from ``old`` (numbered from 1), and those of ``old`` removed."""
    before, after = segment.paragraphs(old), segment.paragraphs(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    changed: list[ChangedParagraph] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            changed += _replaced(before[i1:i2], after[j1:j2], j1)
    return changed
